"""Per-rule packet counters (``iptables-save -c``): which rules a probe's packets hit.

The lab reads (``netlab.lab.evidence``) every rule's counter in a namespace before and after a probe; a
rule whose counter grew matched packets of the probe.  Positions use the same
``table:chain:index`` form as the netfilter layer (``nat:DOCKER:2``), and a
chain's policy is ``filter:FORWARD:policy``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netlab.errors import LabError, ParseError
from netlab.netfilter import Rule, parse_iptables

TERMINAL = ("ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT", "RETURN")
_COUNTS = re.compile(r"^\[\d+:\d+\]\s+")


@dataclass
class Counter:
    position: str  # "nat:DOCKER:2" or "filter:FORWARD:policy"
    table: str
    chain: str
    target: str | None  # ACCEPT / DROP / DNAT / a chain name; the policy for a policy row
    text: str  # the rule as iptables-save prints it ("-A DOCKER ...") or ":FORWARD DROP"
    packets: int
    rule: Rule | None = None  # the rule as the netfilter engine reads it (None for a policy)


def parse_counters(text: str) -> dict[str, Counter]:
    """``iptables-save -c`` text (read by :func:`netlab.netfilter.parse_iptables`) ->
    position -> Counter, in the order iptables-save lists them."""
    try:
        rs = parse_iptables(text)
    except ParseError as exc:
        raise LabError(f"could not read the kernel's iptables-save -c output: {exc}") from None
    out: dict[str, Counter] = {}
    for table in rs.tables.values():
        for chain in table.chains.values():
            if chain.policy and chain.policy != "-" and chain.counters is not None:
                pos = f"{table.name}:{chain.name}:policy"
                out[pos] = Counter(pos, table.name, chain.name, chain.policy, f":{chain.name} {chain.policy}",
                                   chain.counters[0])
        for chain in table.chains.values():
            for r in chain.rules:
                out[r.position] = Counter(r.position, table.name, chain.name, r.target_name,
                                          _COUNTS.sub("", r.text), (r.counters or (0, 0))[0], r)
    return out


def grown(before: dict[str, Counter], after: dict[str, Counter]) -> list[tuple[Counter, int]]:
    """Rules (and policies) whose packet counter grew, with by how much, in table order."""
    out = []
    for pos, c in after.items():
        d = c.packets - (before[pos].packets if pos in before else 0)
        if d > 0:
            out.append((c, d))
    return out
