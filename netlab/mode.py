"""``netlab.connect``: one call that gives a lesson its backend — the real kernel
in namespaces (``lab``) where this machine allows it, the simulator (``sim``)
everywhere else — and says which in one line.  ``banner`` is the badge each
notebook shows so a learner knows whether what they see was simulated.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from typing import Any

import netlab.lab
import netlab.sim
from netlab.errors import NetlabError
from netlab.probe import Backend
from netlab.scenarios import Scenario, seed_host
from netlab.scenarios.catalogue import scenario_by_name

MODES = ("auto", "sim", "lab")
_last_mode: dict[str, Any] = {"mode": None, "why": None}


def lab_possible() -> str | None:
    """None when namespaces can be made here, else why not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not root (the lab needs CAP_NET_ADMIN to make network namespaces)"
    for tool in ("ip", "iptables-restore"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed"
    name = f"nlprobe-{uuid.uuid4().hex[:6]}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        err = getattr(exc, "stderr", b"") or b""
        return f"`ip netns add` failed here ({err.decode(errors='replace').strip() or exc})"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    return None


def connect(mode: str = "auto", scenario: Scenario | str | None = None, *, quiet: bool = False) -> Backend:
    """A backend for ``scenario`` (default: the article's host, ``seed_host()``;
    a string names a catalogue scenario, ``"two-bridges"``, or ``"docker28"``).

    ``mode="sim"``: the simulator; ``"lab"``: the real kernel in namespaces (root);
    ``"auto"``: the lab where possible, else the simulator.  The environment
    variable ``NETLAB_MODE`` overrides ``"auto"``.  Prints one line saying which
    backend runs and why.
    """
    if isinstance(mode, str):
        mode = mode.strip().lower()
    if mode not in MODES:
        raise NetlabError(f"mode must be one of {', '.join(MODES)}, not {mode!r} "
                          "(e.g. netlab.connect(mode='sim'))")
    why = f"mode={mode!r} asked for"
    if mode == "auto":
        env = os.environ.get("NETLAB_MODE", "").strip().lower()
        if env:
            if env not in ("sim", "lab"):
                raise NetlabError(f"NETLAB_MODE must be 'sim' or 'lab', not {env!r}")
            mode, why = env, f"NETLAB_MODE={env}"
    scenario = _scenario(scenario)
    if mode == "auto":
        reason = lab_possible()
        if reason is None:
            net, fallback = _try_lab(scenario)
            if net is not None:
                return _announce(net, "root and network namespaces are available", quiet)
            return _announce(_sim(scenario), f"the lab could not be built ({fallback})", quiet)
        return _announce(_sim(scenario), f"no lab here: {reason}", quiet)
    if mode == "lab":
        return _announce(netlab.lab.Lab(scenario).up(), why, quiet)
    return _announce(_sim(scenario), why, quiet)


def _scenario(scenario: object) -> Scenario:
    """The scenario to run: the article's host by default, a catalogue name
    (``"two-bridges"``, ``"docker28"``) or a :class:`~netlab.scenarios.Scenario`."""

    if scenario is None:
        return seed_host()
    if isinstance(scenario, str):
        return scenario_by_name(scenario)
    if not isinstance(scenario, Scenario):
        raise NetlabError(f"scenario must be a netlab Scenario or a catalogue name, not "
                          f"{type(scenario).__name__}; build one with netlab.scenarios.seed_host() "
                          "or docker_host(...), or name one from netlab.scenarios.catalogue.names()")
    return scenario


def _sim(scenario: Scenario) -> Backend:
    return netlab.sim.SimNet(scenario)


def _try_lab(scenario: Scenario) -> tuple[Backend | None, str | None]:
    try:
        return netlab.lab.Lab(scenario).up(), None
    except Exception as exc:  # noqa: BLE001 - any failure means: simulate instead
        return None, f"{type(exc).__name__}: {exc}"


def _announce(net: Backend, why: str, quiet: bool) -> Backend:
    _last_mode.update(mode=net.mode, why=why)
    if not quiet:
        what = ("lab — real network namespaces on this kernel" if net.mode == "lab"
                else "sim — a simulated Linux network stack")
        print(f"netlab: {what} ({why}); scenario {net.scenario.name!r}")
    return net


_BADGE = ('<span style="display:inline-block;padding:2px 8px;border-radius:4px;'
          'font:12px sans-serif;color:#fff;background:{bg}" title="{title}">{text}</span>')


class Banner(str):
    """The badge as HTML (a ``str``), shown as a badge in a notebook."""

    def _repr_html_(self) -> str:
        return str(self)


def banner(net: Any = None) -> Banner:
    """A small HTML badge: "this was simulated" or "this ran on the real kernel"."""
    mode = getattr(net, "mode", None) or _last_mode["mode"] or "sim"
    why = _last_mode["why"] if net is None or mode == _last_mode["mode"] else None
    if mode == "lab":
        text, bg = "this ran on the real kernel", "#2e7d32"
    elif mode == "host":
        text, bg = "read from this machine", "#1565c0"
    else:
        text, bg = "this was simulated", "#6a1b9a"
    title = f"netlab mode: {mode}" + (f" ({why})" if why else "")
    return Banner(_BADGE.format(bg=bg, title=title.replace('"', "'"), text=text))
