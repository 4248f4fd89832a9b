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

NFT_MARK = "# ---- nft list ruleset ----"
_NFT_COUNT = re.compile(r"\bcounter packets (\d+) bytes \d+")
_IPT_TABLES = ("filter", "nat", "raw", "mangle", "security")
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
    nat_to: str | None = None  # an nft DNAT rule's ``dnat to`` address[:port] (no iptables Rule)


def parse_counters(text: str) -> dict[str, Counter]:
    """``iptables-save -c`` text (read by :func:`netlab.netfilter.parse_iptables`) ->
    position -> Counter, in the order iptables-save lists them; an ``nft list ruleset``
    after :data:`NFT_MARK` adds its rules' counters (:func:`parse_nft_counters`)."""
    text, _, nft_text = text.partition(NFT_MARK)
    out = _parse_iptables_counters(text) if text.strip() else {}
    if nft_text.strip():
        out.update(parse_nft_counters(nft_text, skip_iptables=bool(out)))
    return out


def _parse_iptables_counters(text: str) -> dict[str, Counter]:
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


def parse_nft_counters(text: str, skip_iptables: bool = False) -> dict[str, Counter]:
    """``nft list ruleset`` -> position (``docker-bridges:raw-PREROUTING:1``) -> Counter, for
    every rule with a ``counter`` statement (nft has no policy counters).  ``table`` is the
    iptables table the rule plays the part of — ``nat`` for rules reached from a nat chain,
    ``raw`` for a filter chain before conntrack, else ``filter`` — and a base chain's rules
    have its hook as ``chain``, so the journey reader treats both kinds alike."""
    from netlab.netfilter import parse_nft
    from netlab.netfilter.nft_ruleset import Nat, Verdict, VMap

    try:
        rs = parse_nft(text)
    except ParseError as exc:
        raise LabError(f"could not read the kernel's nft list ruleset output: {exc}") from None
    out: dict[str, Counter] = {}
    for t in rs.tables:
        if skip_iptables and t.family in ("ip", "ip6") and t.name in _IPT_TABLES:
            continue  # iptables-nft's own tables: already read from iptables-save -c
        role: dict[str, tuple[str, str]] = {}
        for base in t.base_chains():
            kind = "nat" if base.type == "nat" else ("raw" if (base.priority or 0) <= -300 else "filter")
            todo = [base.name]
            while todo:
                name = todo.pop()
                if name in role:
                    continue
                role[name] = (kind, (base.hook or "").upper() if name == base.name else name)
                for r in t.chains[name].rules:
                    for it in r.items:
                        vs = [it] if isinstance(it, Verdict) else (list(it.verdicts) if isinstance(it, VMap) else [])
                        if isinstance(it, VMap) and it.ref:
                            vs = [v for v in t.sets[it.ref].values if isinstance(v, Verdict)]
                        todo += [v.chain for v in vs if v.chain]
        for chain in t.chains.values():
            kind, cname = role.get(chain.name, ("filter", chain.name))
            for r in chain.rules:
                m = _NFT_COUNT.search(r.text)
                if m is None:
                    continue
                target, nat_to = None, None
                for it in r.items:
                    if isinstance(it, Verdict):
                        target = it.chain if it.chain else it.kind.upper()
                    elif isinstance(it, Nat):
                        target = it.kind
                        if it.addr is not None:
                            from netlab.netfilter.nft_values import fmt_atom

                            ip = fmt_atom("ipv6_addr" if it.v6 else "ipv4_addr", (it.addr[0], it.addr[0]))
                            nat_to = ip + (f":{it.port[0]}" if it.port else "")
                out[r.position] = Counter(r.position, kind, cname, target, _NFT_COUNT.sub("counter", r.text),
                                          int(m.group(1)), None, nat_to)
    return out
