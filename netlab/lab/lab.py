"""``Lab``: a scenario built for real in network namespaces.

The Docker host is itself a namespace, so building, probing and tearing down a
lab never changes the machine's own interfaces, routes or firewall.  Used by
``netlab.connect(mode="lab")`` and by the lessons' "this was real" cells.
"""

from __future__ import annotations

import shutil
import time
import weakref
from typing import TYPE_CHECKING

from netlab.errors import LabError
from netlab.lab import build, names
from netlab.lab.plan import Plan, make_plan
from netlab.probe import LAB_LIMITS, Prober, ProbeRequest

if TYPE_CHECKING:  # pragma: no cover
    from netlab.journey import Journey
    from netlab.model import HostState
    from netlab.scenarios.topology import Scenario


# the commands a lab runs, and the Debian/Ubuntu package each comes in
TOOLS = {"ip": "iproute2", "bridge": "iproute2", "iptables-restore": "iptables", "iptables-save": "iptables",
         "sysctl": "procps", "conntrack": "conntrack"}
SIM_INSTEAD = "or use netlab.connect(mode='sim') to simulate the same scenario (no root or tools needed)"


def lab_unavailable_reason(scenario: Scenario | None = None) -> str | None:
    """Why a lab cannot be built here, and what to do about it (None when it can)."""
    import os

    if os.geteuid() != 0:
        return ("the lab needs root (CAP_NET_ADMIN) to create network namespaces: run Python or "
                "Jupyter as root with sudo (e.g. `sudo .venv/bin/jupyter lab --allow-root`), " + SIM_INSTEAD)
    tools = dict(TOOLS)
    if scenario is not None and any(n.ipsets for n in scenario.nodes.values()):
        tools["ipset"] = "ipset"  # Docker 28.0.0's rules match an ipset
    if scenario is not None and any((n.nftables or "").strip() for n in scenario.nodes.values()):
        tools["nft"] = "nftables"  # Docker 29's --firewall-backend=nftables
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        packages = sorted({tools[t] for t in missing})
        return (f"the lab needs {', '.join(f'`{t}`' for t in missing)}, not found on PATH: install "
                f"{'it' if len(packages) == 1 else 'them'} with `sudo apt-get install {' '.join(packages)}`, "
                + SIM_INSTEAD)
    return None


class ToolsMissing(LabError):
    """This machine cannot build a lab: no root, or a program it runs is not installed
    (the message names the package)."""


class Lab(Prober):
    """A scenario in namespaces ``nl<6 hex>-<node>``.

    ``Lab(scenario).up()`` builds it, ``.probe(...)`` sends real packets and
    returns the same :class:`~netlab.journey.Journey` as the simulator,
    ``.down()`` removes everything (also on leaving a ``with`` block).
    """

    mode = "lab"
    limits = LAB_LIMITS  # a real probe takes real time

    def __init__(self, scenario: Scenario | None = None, prefix: str | None = None, *,
                 capture_promisc: bool = True, inprocess: bool = True) -> None:
        if scenario is None:
            from netlab.scenarios import seed_host

            scenario = seed_host()
        from netlab.scenarios.names import check_scenario

        self.scenario = check_scenario(scenario)  # the same names the simulator accepts
        self.prefix = names.check_prefix(prefix) if prefix else names.new_prefix()
        self._plan: Plan | None = None
        self._run: build.Running | None = None
        self._finalizer: weakref.finalize | None = None
        self.build_seconds: float | None = None
        self._probe_count = 0
        self._macs: dict[str, str] | None = None
        # capture as tcpdump does (interfaces promiscuous while a probe runs), or not
        self.capture_promisc = capture_promisc
        # apply per-namespace address/route batches through rtnetlink ourselves (False: ip)
        self.inprocess = inprocess

    # ------------------------------------------------------------ build
    def plan(self) -> Plan:
        """The exact commands ``up()`` runs (``str(lab.plan())`` is a shell script)."""
        if self._plan is None:
            self._plan = make_plan(self.scenario, self.prefix, inprocess=self.inprocess)
        return self._plan

    @property
    def netns(self) -> dict[str, str]:
        """node name -> namespace name."""
        return self.plan().netns

    @property
    def is_up(self) -> bool:
        return self._run is not None

    def up(self, *, progress: build.ProgressFn | None = None) -> Lab:
        """Build the lab (``progress(done, total, stage)`` hears how far it is)."""
        if self._run is not None:
            return self
        reason = lab_unavailable_reason(self.scenario)
        if reason:
            raise ToolsMissing(reason)
        t0 = time.perf_counter()
        self._run = build.up(self.plan(), progress=progress)
        self.build_seconds = time.perf_counter() - t0
        # a lesson leaves its lab up for its widgets and exercises (Run All, then
        # everything still answers); the namespaces go when the kernel stops
        self._finalizer = weakref.finalize(self, _down_at_exit, self._run)
        return self

    def down(self) -> None:
        if self._run is not None:
            run, self._run = self._run, None
            self._macs = None
            if self._finalizer is not None:
                self._finalizer.detach()
            build.down(run)

    close = down

    def detach(self) -> None:
        """Leave the lab up after this process ends (``netlab lab up``): forget its process
        handles and do not remove it at exit; ``netlab lab down --prefix`` removes it."""
        run, self._run = self._run, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if run is not None:
            for proc in run.procs:
                for f in (proc.stdout, proc.stderr):
                    if f:
                        f.close()

    def __enter__(self) -> Lab:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    def __del__(self) -> None:  # a forgotten lab does not outlive its Python
        try:
            self.down()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        state = "up" if self.is_up else "down"
        return f"<Lab {self.prefix} {self.scenario.name!r} ({len(self.scenario.nodes)} namespaces, {state})>"

    # ------------------------------------------------------------ look
    def _ns(self, node: str) -> str:
        if node not in self.scenario.nodes:
            raise LabError(f"no node {node!r} in this lab; nodes are {sorted(self.scenario.nodes)}")
        if not self.is_up:
            raise LabError("the lab is not up: call lab.up() (or use `with Lab(...) as lab:`)")
        return self.netns[node]

    def mac_owners(self) -> dict[str, str]:
        """MAC address -> ``"node:iface"`` for every interface of the lab, read from the kernel."""
        if self._macs is None:
            from netlab.lab.netns import macs_in

            owners: dict[str, str] = {}
            for node in self.scenario.nodes.values():
                wanted = [i.name for i in node.interfaces if i.kind != "loopback"]
                for ifname, mac in macs_in(self._ns(node.name), wanted).items():
                    owners[mac] = f"{node.name}:{ifname}"
            self._macs = owners
        return dict(self._macs)

    def snapshot(self, node: str = "host") -> HostState:
        """The node's links, addresses, routes, rules and conntrack as a HostState."""
        from netlab.snapshot import snapshot

        return snapshot(netns=self._ns(node))

    state = snapshot

    def run_probe(self, request: ProbeRequest) -> Journey:
        """Send a checked probe for real and rebuild its journey from captures on every
        interface, the rule counters and conntrack (see ``netlab.lab.journey``)."""
        from netlab.lab.journey import run_probe

        if not self.is_up:
            raise LabError("the lab is not up: call lab.up() before probing")
        self._probe_count += 1
        return run_probe(self, request)


def _down_at_exit(run: build.Running) -> None:
    """Remove a lab nobody closed when Python exits (a notebook kernel stopping)."""
    try:
        build.down(run)
    except Exception:  # noqa: BLE001 - interpreter shutdown: best effort
        pass
