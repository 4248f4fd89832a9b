"""Netfilter hooks in the kernel's order, evaluated with the engine of layer 3.

Each hook runs its tables by priority (PREROUTING: raw, mangle, nat; INPUT:
mangle, filter, security, nat; FORWARD: mangle, filter, security; OUTPUT: raw,
mangle, nat, filter, security; POSTROUTING: mangle, nat).  The ``nat`` table is
only consulted for the first packet of a connection — later packets are
translated by conntrack alone (lesson 5).  A hook whose tables hold no rule and
only ACCEPT policies is skipped, as it cannot change anything.

A namespace with nftables rules (``node.nftables``, e.g. Docker 29's
``--firewall-backend=nftables``) is run by the nft engine: every base chain of the
hook, all tables, by priority (:mod:`netlab.netfilter.nft_trace`); its iptables
tables, if it has any too, take their places among them (raw -300, mangle -150,
nat -100/100, filter 0, security 50).  Both engines return the same Trace, so
everything below reads one interface.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from netlab.netfilter import HOOK_TABLES, Packet, RuleEngine, parse_iptables
from netlab.packet import Frame

_REJECT_WITH = re.compile(r"--reject-with\s+(\S+)")
_NFT_REJECT = re.compile(r"\breject with ((?:icmpx?|icmpv6|tcp)(?: type)? \S+)")


def _reject_name(spec: str) -> str:
    """An nft ``reject with icmp port-unreachable`` / ``tcp reset`` as iptables' --reject-with name."""
    if not spec.startswith(("icmp", "tcp")) or "-" in spec.split()[0]:
        return spec
    words = spec.split()
    if words[0] == "tcp":
        return "tcp-reset"
    code = words[-1]
    return code if code.startswith("icmp") else f"icmp-{code}"


@dataclass
class HookResult:
    """What one hook decided: the verdict, the decisive rule, a NAT decision."""

    hook: str
    verdict: str
    trace: Any
    rule: str | None = None  # "filter:DOCKER:1" (or "filter:FORWARD:policy")
    rule_text: str | None = None
    nat_kind: str | None = None
    nat_ip: str | None = None
    nat_port: int | None = None
    nat_rule: str | None = None
    nat_rule_text: str | None = None
    uncertain: bool = False
    reject_with: str | None = None


class Hooks:
    """The rules of one namespace, ready to be run hook by hook.

    Every call the simulator makes into netfilter goes through here, to one
    :class:`netlab.netfilter.RuleEngine` (``trace``, ``active_hooks``, ``reads``, ``rule``):
    iptables' ``Ruleset`` by default; another engine (nftables) can be handed in as ``engine``.
    """

    def __init__(self, iptables_text: str, seed: int = 0,
                 ipsets: dict[str, list[str]] | None = None, nftables_text: str = "", *,
                 engine: RuleEngine | None = None) -> None:
        self.text = iptables_text or ""
        self.nft: Any = None
        self.seed = seed
        # ipsets the rules match with ``-m set`` (Docker 28.0.0's docker-ext-bridges-v4)
        self.ipsets = {name: list(members) for name, members in (ipsets or {}).items()}
        self.ruleset: RuleEngine | None = engine
        if engine is None and self.text.strip():
            self.ruleset = parse_iptables(self.text)
        self.active: set[str] = set(self.ruleset.active_hooks()) if self.ruleset is not None else set()
        self.tracks = self.ruleset is not None and bool(getattr(self.ruleset, "tables", True))
        self._cache: dict[tuple, HookResult] = {}
        self._ct_fields = _depends_on_conntrack(self.text)
        if (nftables_text or "").strip():
            from netlab.netfilter import parse_nft

            self.nft = parse_nft(nftables_text)
            for t in self.nft.tables:
                for ch in t.base_chains():
                    if ch.rules or (ch.policy or "accept") != "accept":
                        self.active.add(ch.hook.upper())
            self.tracks = True
            self._ct_fields = self._ct_fields or any(
                w in nftables_text for w in ("ct status", "ct mark", "ct original", "ct direction"))
        # what else of a packet the rules read (-m length, -m pkttype ...): the cache keys on it too
        # (nft rules: every field, until the nft engine says what its rules read)
        reads = self.ruleset.reads() if self.ruleset is not None else frozenset()
        self._extra = tuple(name for name in _FRAME_KEYS if name in reads or self.nft is not None)

    @property
    def needs_ct(self) -> bool:
        """Do the rules read conntrack fields beyond the state?"""
        return self._ct_fields

    def has(self, hook: str) -> bool:
        return hook in self.active

    def run(self, hook: str, f: Frame, *, in_iface: str | None, out_iface: str | None,
            ct_state: str, new_conn: bool, local_addrs: tuple[str, ...],
            iface_addrs: dict[str, list[str]], physdev_in: str | None = None,
            physdev_out: str | None = None, conntrack: Any = None) -> HookResult:
        """Run ``hook``'s tables on ``f`` (nat only when ``new_conn``)."""
        tables = HOOK_TABLES[hook]
        if not new_conn:
            tables = tuple(t for t in tables if t != "nat")
        q = f.quoted
        key = (hook, f.proto, f.src, f.dst, f.sport, f.dport, f.flags, f.icmp_type, f.icmp_code,
               in_iface, out_iface, physdev_in, physdev_out, ct_state, tables,
               (q.proto, q.src, q.dst, q.sport, q.dport) if q is not None else None,
               *(_FRAME_KEYS[name](f) for name in self._extra))
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        packet = self._packet(f, physdev_in, physdev_out)
        kwargs: dict[str, Any] = {
            "hook": hook, "in_iface": in_iface, "out_iface": out_iface,
            "local_addrs": local_addrs, "ct_state": ct_state, "tables": list(tables),
            "iface_addrs": iface_addrs, "seed": self.seed,
        }
        if self.ipsets:
            kwargs["ipsets"] = self.ipsets
        if conntrack is not None:
            kwargs["conntrack"] = conntrack
        if self.nft is not None:
            kwargs.pop("tables")
            kwargs.pop("ipsets", None)
            tr = self.nft.trace(packet, nat=new_conn, iptables=self.ruleset, ipsets=self.ipsets or None, **kwargs)
        else:
            assert self.ruleset is not None  # no nft: the iptables engine parsed in __init__
            tr = self.ruleset.trace(packet, **kwargs)
        res = HookResult(hook, str(tr.verdict or "ACCEPT").upper(), tr,
                         uncertain=bool(getattr(tr, "uncertain", False)))
        dec = getattr(tr, "decisive", None)
        if dec is not None:
            res.rule = getattr(dec, "position", None)
            if res.rule and res.rule.endswith(":policy") and res.verdict == "ACCEPT":
                res.rule = None  # an ACCEPT policy decided nothing worth naming
            res.rule_text = getattr(dec, "rule_text", None)
            if res.verdict == "REJECT" and res.rule_text:
                m = _REJECT_WITH.search(res.rule_text) or _NFT_REJECT.search(res.rule_text)
                res.reject_with = _reject_name(m.group(1)) if m else "icmp-port-unreachable"
        nat = getattr(tr, "nat", None)
        if nat is not None and new_conn:
            res.nat_kind = str(getattr(nat, "kind", "")).upper() or None
            after = getattr(nat, "after", None)
            if after:
                res.nat_ip, res.nat_port = after[0], after[1]
            res.nat_rule = getattr(nat, "position", None) or getattr(nat, "rule", None)
            if res.nat_rule is not None and not isinstance(res.nat_rule, str):
                res.nat_rule = getattr(res.nat_rule, "position", str(res.nat_rule))
            res.nat_rule_text = getattr(nat, "rule_text", None)
            if res.nat_rule_text is None and res.nat_rule:
                for rs in (r for r in (self.nft, self.ruleset) if r is not None):
                    try:
                        res.nat_rule_text = rs.rule(res.nat_rule).text
                        break
                    except Exception:  # noqa: BLE001 - the text is only decoration
                        res.nat_rule_text = None
        if conntrack is None or not self._ct_fields:
            if len(self._cache) > 20000:  # bounded: a long session must not grow without end
                self._cache.clear()
            self._cache[key] = res
        return res

    def _packet(self, f: Frame, physdev_in: str | None, physdev_out: str | None) -> Packet:
        p = Packet.from_frame(f)
        p.physdev_in, p.physdev_out = physdev_in, physdev_out
        return p


#: how each packet field a rule may read (netlab.netfilter.modules.FIELDS) shows in a Frame,
#: beyond the addresses, ports, flags and ICMP type every cache key has
_FRAME_KEYS: dict[str, Any] = {
    "length": lambda f: (len(f.payload or b""), f.quoted is None),  # Packet.from_frame's length
    "ttl": lambda f: f.ttl,
    "tos": lambda f: getattr(f, "tos", None),
    "pkttype": lambda f: f.dst_mac,
    "payload": lambda f: bytes(f.payload or b""),
}


def _depends_on_conntrack(text: str) -> bool:
    """Rules reading conntrack fields beyond the state (ctorigdst, ...) cannot be cached."""
    return "--ctorig" in text or "--ctrepl" in text or "--ctstatus" in text or "connmark" in text
