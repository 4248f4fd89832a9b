"""Per-rule packet counters (``iptables-save -c``): which rules a probe's packets hit.

The lab reads every rule's counter in a namespace before and after a probe; a
rule whose counter grew matched packets of the probe.  Positions use the same
``table:chain:index`` form as the netfilter layer (``nat:DOCKER:2``), and a
chain's policy is ``filter:FORWARD:policy``.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

_RULE = re.compile(r"^\[(\d+):(\d+)\] -A (\S+) (.*)$")
_POLICY = re.compile(r"^:(\S+) (\S+) \[(\d+):(\d+)\]")
TERMINAL = ("ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "RETURN")


@dataclass
class Counter:
    position: str  # "nat:DOCKER:2" or "filter:FORWARD:policy"
    table: str
    chain: str
    target: str | None  # ACCEPT / DROP / DNAT / a chain name; the policy for a policy row
    text: str  # the rule as iptables-save prints it ("-A DOCKER ...") or ":FORWARD DROP"
    packets: int


def parse_counters(text: str) -> dict[str, Counter]:
    """``iptables-save -c`` text -> position -> Counter."""
    out: dict[str, Counter] = {}
    table = ""
    index: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("*"):
            table, index = line[1:].strip(), {}
            continue
        m = _POLICY.match(line)
        if m:
            chain, policy = m.group(1), m.group(2)
            if policy != "-":
                out[f"{table}:{chain}:policy"] = Counter(f"{table}:{chain}:policy", table, chain, policy,
                                                         f":{chain} {policy}", int(m.group(3)))
            continue
        m = _RULE.match(line)
        if m:
            chain = m.group(3)
            index[chain] = index.get(chain, 0) + 1
            pos = f"{table}:{chain}:{index[chain]}"
            rest = m.group(4)
            t = re.search(r"(?:^|\s)-[jg] (\S+)", rest)
            out[pos] = Counter(pos, table, chain, t.group(1) if t else None, f"-A {chain} {rest}",
                               int(m.group(1)))
    return out


def read_counters(netns: str) -> dict[str, Counter]:
    r = subprocess.run(["ip", "netns", "exec", netns, "iptables-save", "-c"], capture_output=True,
                       text=True, timeout=10)
    return parse_counters(r.stdout) if r.returncode == 0 else {}


def grown(before: dict[str, Counter], after: dict[str, Counter]) -> list[tuple[Counter, int]]:
    """Rules (and policies) whose packet counter grew, with by how much, in table order."""
    out = []
    for pos, c in after.items():
        d = c.packets - (before[pos].packets if pos in before else 0)
        if d > 0:
            out.append((c, d))
    return out
