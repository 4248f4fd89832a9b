"""nftables in the lab: rule sets as ``nft -f`` input that this machine's nft accepts, and
``nft -c`` checks run inside a throwaway lab namespace (never the root namespace).

nftables before 1.0.7 (Debian 12 ships 1.0.6) knows the priority name ``dstnat`` only
at the prerouting hook and ``srcnat`` only at postrouting; newer nft, and Docker 29,
write ``type nat hook output priority dstnat``.  :func:`loadable` spells such a
priority as the number it stands for (-100 / 100): the same chain, readable by both.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from netlab.errors import LabError
from netlab.lab import names

_NAMED = {"dstnat": ("prerouting", -100), "srcnat": ("postrouting", 100)}
_HEADER = re.compile(r"(hook\s+(\w+)(?:\s+device\s+\S+)?\s+priority\s+)(dstnat|srcnat)\b(\s*[+-]\s*\d+)?")
TIMEOUT = 60


def loadable(text: str) -> str:
    """``text`` with ``dstnat``/``srcnat`` outside their home hook written as numbers."""
    def fix(m: re.Match) -> str:
        home, value = _NAMED[m.group(3)]
        if m.group(2) == home:
            return m.group(0)
        if m.group(4):
            value += int(m.group(4).replace(" ", ""))
        return f"{m.group(1)}{value}"

    return _HEADER.sub(fix, text)


def nft_command(netns: str, *args: str) -> list[str]:
    """``ip netns exec <lab netns> nft <args>`` (refuses a namespace that is not the lab's)."""
    if not names.is_lab_netns(netns):
        raise LabError(f"{netns!r} is not a lab namespace; refusing to run nft in it")
    return ["ip", "netns", "exec", netns, "nft", *args]


def nft_check(text: str, prefix: str | None = None) -> tuple[bool, str]:
    """Does this machine's ``nft -c -f`` accept ``text``?  Runs in a fresh namespace
    ``<prefix>-nftcheck`` that is deleted afterwards; returns (accepted, nft's message)."""
    if shutil.which("nft") is None:
        raise LabError("nft is not installed (apt-get install nftables)")
    prefix = names.check_prefix(prefix) if prefix else names.new_prefix()
    ns = names.netns_name(prefix, "nftcheck")
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=TIMEOUT)
    try:
        p = subprocess.run(nft_command(ns, "-c", "-f", "-"), input=text.encode(), capture_output=True,
                           timeout=TIMEOUT)
        return p.returncode == 0, p.stderr.decode(errors="replace")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=TIMEOUT)


def nft_list(netns: str, json: bool = False) -> str:
    """``nft list ruleset`` (or ``-j``) of a lab namespace."""
    p = subprocess.run(nft_command(netns, *(["-j"] if json else []), "list", "ruleset"), capture_output=True,
                       timeout=TIMEOUT)
    if p.returncode != 0:
        raise LabError(f"nft list ruleset in {netns} failed: {p.stderr.decode(errors='replace').strip()}")
    return p.stdout.decode()
