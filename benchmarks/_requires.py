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


def best_in_netns(argv: list[str], *, stdin_path=None, runs: int = 3,  # noqa: ANN001
                  timeout: float = 300) -> tuple[float | None, str]:
    """Best wall time of ``argv`` run ``runs`` times in a throwaway lab-prefixed namespace
    (never the root one), or (None, why it could not run)."""
    import subprocess
    import time

    from netlab.lab import names

    if not is_root():
        return None, "needs root (network namespace)"
    missing = [t for t in ("ip", argv[0]) if not have_tool(t)]
    if missing:
        return None, f"{' and '.join(missing)} not installed (apt-get install " \
            f"{' '.join(_INSTALL.get(t, t) for t in missing)})"
    ns = names.netns_name(names.new_prefix(), "bench")
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot create a network namespace: {exc}"
    try:
        best = None
        for _ in range(runs):
            with open(stdin_path, "rb") if stdin_path else open(os.devnull, "rb") as fh:
                t0 = time.perf_counter()
                proc = subprocess.run(["ip", "netns", "exec", ns, *argv], stdin=fh,
                                      capture_output=True, timeout=timeout)
                dt = time.perf_counter() - t0
            if proc.returncode:
                return None, f"{' '.join(argv)} failed: {proc.stderr.decode()[:200]}"
            best = dt if best is None else min(best, dt)
        return best, f"{' '.join(argv[:2])} (best of {runs}, in a throwaway lab netns)"
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
