"""What a benchmark needs (root, a tool, a Python package) and why it skips without it.

``NETLAB_BENCH_MISSING=root,ipset,nft,tshark`` makes those count as absent, so the
runner's skip paths can be checked on any machine (``python -m benchmarks --check``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil

_INSTALL = {"ip": "iproute2", "iptables-restore": "iptables", "ipset": "ipset", "nft": "nftables",
            "tshark": "tshark"}


class Skip(Exception):  # noqa: N818 - a benchmark raises it to say why it did not run
    """Raised by a benchmark (or a part of one) that cannot run here; the message says why."""


def faked_missing() -> set[str]:
    """Names that ``NETLAB_BENCH_MISSING`` says to treat as absent."""
    return {w.strip() for w in os.environ.get("NETLAB_BENCH_MISSING", "").split(",") if w.strip()}


def is_root() -> bool:
    """True when this process may make network namespaces (and root is not faked absent)."""
    return "root" not in faked_missing() and hasattr(os, "geteuid") and os.geteuid() == 0


def have_tool(name: str) -> bool:
    """True when the command ``name`` is on PATH (and not faked absent)."""
    return name not in faked_missing() and shutil.which(name) is not None


def missing(*needs: str) -> str | None:
    """Why a benchmark needing ``needs`` cannot run here, or None.

    Each need is ``"root"``, a command (``"ipset"``) or ``"py:module"``.
    """
    why = []
    for need in needs:
        if need == "root":
            if not is_root():
                why.append("needs root (network namespaces)")
        elif need.startswith("py:"):
            mod = need[3:]
            if mod in faked_missing() or importlib.util.find_spec(mod) is None:
                why.append(f"Python package {mod!r} not installed (pip install {mod})")
        elif not have_tool(need):
            why.append(f"`{need}` not installed (apt-get install {_INSTALL.get(need, need)})")
    return "; ".join(why) or None


def require(*needs: str) -> None:
    """Raise :class:`Skip` saying why, when any of ``needs`` is missing."""
    why = missing(*needs)
    if why:
        raise Skip(why)
