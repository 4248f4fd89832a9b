"""What the kernel shows during one lab probe, captured as evidence a journey is rebuilt from.

:func:`capture_evidence` (root) sends the probe and records: every packet on every
interface of every namespace, ``iptables-save -c`` before and after, ``conntrack -L``
after, the bridges' learnt FDB entries before and after, ``ip_forward`` per node, the
interfaces' MACs and what the prober heard.  :class:`Evidence` saves to JSON and loads
back, so :func:`netlab.lab.journey.rebuild` turns it into the same Journey on any
machine, without root (``tests/data/lab-evidence/`` holds recorded runs).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from netlab.errors import LabError
from netlab.lab import probes
from netlab.lab.capture import Record, Sniffer
from netlab.probe import ProbeRequest
from netlab.scenarios.topology import Scenario

if TYPE_CHECKING:  # pragma: no cover
    from netlab.lab.lab import Lab

FORMAT = 1


@dataclass
class Evidence:
    """One probe's evidence (see the module docstring); JSON with :meth:`to_json`."""

    scenario: Scenario
    request: ProbeRequest
    prefix: str
    start: float
    records: list[Record]
    result: probes.ProbeResult
    counters_before: dict[str, str] = field(default_factory=dict)  # node -> iptables-save -c
    counters_after: dict[str, str] = field(default_factory=dict)
    conntrack: dict[str, str] = field(default_factory=dict)  # node -> conntrack -L, after
    fdb_before: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)  # (mac, port, bridge)
    fdb_after: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    forwarding: dict[str, bool] = field(default_factory=dict)  # node -> net.ipv4.ip_forward
    mac_owner: dict[str, str] = field(default_factory=dict)
    capture_drops: int = 0
    ct_next_id: dict[str, int] = field(default_factory=dict)  # conntrack entries numbered so far

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        req = dataclasses.asdict(self.request)
        req["payload"] = self.request.payload.hex() if self.request.payload is not None else None
        return {
            "format": FORMAT, "scenario": self.scenario.to_dict(), "request": req, "prefix": self.prefix,
            "start": self.start, "result": dataclasses.asdict(self.result),
            "records": [[r.time_ns, r.node, r.netns, r.iface, r.direction, r.data.hex(), r.stamp_ns]
                        for r in self.records],
            "counters_before": self.counters_before, "counters_after": self.counters_after,
            "conntrack": self.conntrack,
            "fdb_before": {n: [list(x) for x in v] for n, v in self.fdb_before.items()},
            "fdb_after": {n: [list(x) for x in v] for n, v in self.fdb_after.items()},
            "forwarding": self.forwarding, "mac_owner": self.mac_owner,
            "capture_drops": self.capture_drops, "ct_next_id": self.ct_next_id,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise LabError(f"not netlab lab evidence (format {FORMAT}); save one with Evidence.save()")
        req = dict(d["request"])
        req["payload"] = bytes.fromhex(req["payload"]) if req.get("payload") is not None else None
        return cls(
            scenario=Scenario.from_dict(d["scenario"]), request=ProbeRequest(**req), prefix=d["prefix"],
            start=d["start"], result=probes.ProbeResult(**d["result"]),
            records=[Record(t, node, ns, iface, direction, bytes.fromhex(data), stamp)
                     for t, node, ns, iface, direction, data, stamp in d["records"]],
            counters_before=d["counters_before"], counters_after=d["counters_after"],
            conntrack=d["conntrack"],
            fdb_before={n: [tuple(x) for x in v] for n, v in d["fdb_before"].items()},
            fdb_after={n: [tuple(x) for x in v] for n, v in d["fdb_after"].items()},
            forwarding=d["forwarding"], mac_owner=d["mac_owner"], capture_drops=d["capture_drops"],
            ct_next_id=d["ct_next_id"])

    @classmethod
    def from_json(cls, text: str) -> Evidence:
        try:
            return cls.from_dict(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise LabError(f"cannot read this lab evidence: {exc}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> Evidence:
        return cls.from_json(Path(path).read_text())


# ---------------------------------------------------------------- capture (root)
def capture_evidence(lab: Lab, request: ProbeRequest, *, max_hops: int = 8, settle: float = 0.05,
                     promisc: bool | None = None) -> Evidence:
    """Send ``request`` for real in ``lab`` and record what the kernel shows."""
    sc = lab.scenario
    src_node = sc.node(request.src_node)
    firewalled = {n.name: lab.netns[n.name] for n in sc.nodes.values()
                  if (n.iptables or "").strip() or (n.nftables or "").strip()}
    nft_nodes = {n.name for n in sc.nodes.values() if (n.nftables or "").strip()}
    bridged = {n.name: lab.netns[n.name] for n in sc.nodes.values()
               if any(i.kind == "bridge" for i in n.interfaces)}
    ct_next_id = dict(getattr(lab, "_ct_next_id", None) or {})
    before = {n: _save(s, n in nft_nodes) for n, s in firewalled.items()}
    fdb_before = {n: sorted(_fdb(s)) for n, s in bridged.items()}
    sniffer = Sniffer(lab.netns, promisc=lab.capture_promisc if promisc is None else promisc).start()
    t0 = time.time()
    try:
        res = probes.promptly(lambda: probes.send(lab.netns[src_node.name], src_node, request, max_hops))
    finally:
        records = sniffer.stop(settle)
    res.started, res.ended = t0, time.time()
    return Evidence(
        scenario=sc, request=request, prefix=lab.prefix, start=t0, records=records, result=res,
        counters_before=before, counters_after={n: _save(s, n in nft_nodes) for n, s in firewalled.items()},
        conntrack={n: _conntrack(s) for n, s in firewalled.items()},
        fdb_before=fdb_before, fdb_after={n: sorted(_fdb(s)) for n, s in bridged.items()},
        forwarding={n: _forwarding(s) for n, s in lab.netns.items()}, mac_owner=lab.mac_owners(),
        capture_drops=sniffer.drops, ct_next_id=ct_next_id)


def _save(netns: str, nft: bool = False) -> str:
    """``iptables-save -c``; for a node with nftables rules also ``nft list ruleset`` (whose
    rules show their ``counter packets N``), after a ``# ---- nft list ruleset ----`` line."""
    r = subprocess.run(["ip", "netns", "exec", netns, "iptables-save", "-c"], capture_output=True,
                       text=True, timeout=10)
    out = r.stdout if r.returncode == 0 else ""
    if nft:
        n = subprocess.run(["ip", "netns", "exec", netns, "nft", "list", "ruleset"], capture_output=True,
                           text=True, timeout=10)
        if n.returncode == 0:
            from netlab.lab.counters import NFT_MARK

            out += f"{NFT_MARK}\n{n.stdout}"
    return out


def _conntrack(netns: str) -> str:
    r = subprocess.run(["ip", "netns", "exec", netns, "conntrack", "-L"], capture_output=True, text=True,
                       timeout=10)
    return r.stdout


def _fdb(netns: str) -> set[tuple[str, str, str]]:
    """The dynamic (learnt) bridge FDB entries of ``netns``: (mac, port, bridge)."""
    r = subprocess.run(["bridge", "-n", netns, "-j", "fdb", "show"], capture_output=True, text=True, timeout=10)
    try:
        rows = json.loads(r.stdout or "[]")
    except ValueError:
        return set()
    return {(e["mac"], e["ifname"], e.get("master", "")) for e in rows
            if e.get("state") != "permanent" and "master" in e and "self" not in e.get("flags", [])}


def _forwarding(netns: str) -> bool:
    """``net.ipv4.ip_forward`` as the namespace's kernel has it now."""
    from netlab.lab.netns import read_proc_in

    path = "/proc/sys/net/ipv4/ip_forward"
    return read_proc_in(netns, [path])[path].strip() == "1"
