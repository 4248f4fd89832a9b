"""An nftables rule set as data: tables by family, base and regular chains, sets, maps, rules.

``parse_nft(text)`` (:mod:`netlab.netfilter.nft_parser`) builds an :class:`NftRuleset`;
``ruleset.trace(packet, hook=...)`` walks every base chain of that hook, across all
tables, in priority order (:mod:`netlab.netfilter.nft_trace`), and returns the same
:class:`~netlab.netfilter.trace.Trace` the iptables engine returns.  ``str(ruleset)``
/ ``ruleset.to_nft()`` prints it back as ``nft -f`` input.

A rule keeps its text and its parsed items: matches (``ip daddr 10.0.0.1``),
verdict-map lookups (``oifname vmap @jumps``) and statements (``counter``,
``dnat to``…).  Anything netlab does not model is kept as an :class:`Unknown` item;
a trace that meets it says ``uncertain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netlab.errors import NetlabError
from netlab.netfilter.nft_values import Atom, atom_contains, fmt_atom
from netlab.numbers import is_decimal

FAMILIES = ("ip", "ip6", "inet", "bridge", "netdev", "arp")
HOOKS = ("prerouting", "input", "forward", "output", "postrouting", "ingress", "egress")
#: nft's standard priority names, per family (``nft(8)``, "STANDARD PRIORITY NAMES")
STD_PRIO = {"raw": -300, "mangle": -150, "dstnat": -100, "filter": 0, "security": 50, "srcnat": 100}
BRIDGE_PRIO = {"dstnat": -300, "filter": -200, "out": 100, "srcnat": 300}
#: where the kernel's NAT core hooks in (nf_nat_ipv4_ops): nat chains run in its slot
NAT_SLOT = {"prerouting": -100, "output": -100, "input": 100, "postrouting": 100}
CONNTRACK_PRIO = -200  # NF_IP_PRI_CONNTRACK: chains before it see no connection yet


@dataclass(eq=False)
class Selector:
    """What a match reads from the packet: ``key`` such as ``"ip daddr"`` or
    ``"fib daddr type"``, its value type, and an optional bit operation
    (``mark and 0x4000``)."""

    key: str
    vtype: str
    text: str
    args: tuple = ()
    supported: bool = True
    bitop: tuple[str, int] | None = None


@dataclass(eq=False)
class Verdict:
    """``accept``, ``drop``, ``reject``, ``queue``, ``continue``, ``return``, ``jump X``, ``goto X``."""

    kind: str
    chain: str | None = None
    reject_with: str | None = None

    def __str__(self) -> str:
        if self.chain:
            return f"{self.kind} {self.chain}"
        if self.kind == "reject" and self.reject_with:
            return f"reject with {self.reject_with}"
        return self.kind


class Lookup:
    """Elements of a set or map, found fast: exact keys in a dict, the rest scanned."""

    __slots__ = ("exact", "ranges")

    def __init__(self, elems: list[tuple[Atom, ...]]) -> None:
        self.exact: dict[tuple, int] = {}
        self.ranges: list[tuple[tuple[Atom, ...], int]] = []
        for i, key in enumerate(elems):
            if all((isinstance(a, str) and not a.endswith("*")) or (not isinstance(a, str) and a[0] == a[1])
                   for a in key):
                k = tuple(a if isinstance(a, str) else a[0] for a in key)
                self.exact.setdefault(k, i)
            else:
                self.ranges.append((key, i))

    def find(self, values: tuple) -> int | None:
        hit = self.exact.get(values)
        if hit is not None:
            return hit
        for key, i in self.ranges:
            if len(key) == len(values) and all(atom_contains(a, v) for a, v in zip(key, values, strict=True)):
                return i
        return None


@dataclass(eq=False)
class NftSet:
    """A named set or map: ``key_types`` (one per concatenated part), ``data_type`` for
    maps (``"verdict"``, ``"ipv4_addr . inet_service"``), elements and their values."""

    name: str
    kind: str  # "set" or "map"
    key_types: tuple[str, ...]
    data_type: str | None = None
    data_types: tuple[str, ...] = ()
    flags: list[str] = field(default_factory=list)
    elems: list[tuple[Atom, ...]] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # other declaration lines, printed back verbatim
    typeof: str | None = None
    lineno: int = 0
    _lookup: Lookup | None = None

    @property
    def lookup(self) -> Lookup:
        if self._lookup is None:
            self._lookup = Lookup(self.elems)
        return self._lookup

    def element_texts(self) -> list[str]:
        out = []
        for i, key in enumerate(self.elems):
            k = " . ".join(fmt_atom(t, a) for t, a in zip(self.key_types, key, strict=False))
            if self.kind == "map":
                v = self.values[i]
                if isinstance(v, Verdict):
                    k += f" : {v}"
                else:
                    k += " : " + " . ".join(fmt_atom(t, a) for t, a in zip(self.data_types, v, strict=False))
            out.append(k)
        return out

    def to_nft(self, indent: str = "\t") -> str:
        lines = [f"{indent}{self.kind} {self.name} {{"]
        if self.typeof:
            lines.append(f"{indent}\ttypeof {self.typeof}")
        else:
            t = " . ".join(self.key_types)
            if self.kind == "map":
                t += f" : {self.data_type}"
            lines.append(f"{indent}\ttype {t}")
        if self.flags:
            lines.append(f"{indent}\tflags {','.join(self.flags)}")
        for x in self.extra:
            lines.append(f"{indent}\t{x}")
        if self.elems:
            lines.append(f"{indent}\telements = {{ " + f",\n{indent}\t\t     ".join(self.element_texts()) + " }")
        lines.append(f"{indent}}}")
        return "\n".join(lines)


@dataclass(eq=False)
class Match:
    """``sels op rhs``: a value, an anonymous set (``elems``) or a named set (``ref``)."""

    sels: tuple[Selector, ...]
    op: str
    kind: str  # "value", "set", "ref"
    elems: list[tuple[Atom, ...]]
    ref: str | None
    text: str
    mask: int | None = None  # tcp flags syn / fin,syn,rst,ack
    _lookup: Lookup | None = None


@dataclass(eq=False)
class VMap:
    """``sels vmap { key : verdict, … }`` or ``sels vmap @name``."""

    sels: tuple[Selector, ...]
    kind: str  # "set" or "ref"
    elems: list[tuple[Atom, ...]]
    verdicts: list[Verdict]
    ref: str | None
    text: str
    _lookup: Lookup | None = None


@dataclass(eq=False)
class Nat:
    """``dnat to 10.0.0.2:80``, ``snat to …``, ``masquerade``, ``redirect to :8080``, or a
    map form ``dnat to ip daddr . tcp dport map @m``."""

    kind: str  # DNAT, SNAT, MASQUERADE, REDIRECT
    addr: tuple[int, int] | None
    port: tuple[int, int] | None
    v6: bool
    flags: tuple[str, ...]
    text: str
    map_sels: tuple[Selector, ...] = ()
    map_ref: str | None = None
    map_elems: list[tuple[Atom, ...]] = field(default_factory=list)
    map_values: list[tuple] = field(default_factory=list)
    map_types: tuple[str, ...] = ()
    _lookup: Lookup | None = None


@dataclass(eq=False)
class SetStmt:
    """``meta mark set …`` / ``ct mark set …``: ``target`` mark|ctmark, from a ``value``
    or another mark with an optional ``and``/``or``/``xor``."""

    target: str
    source: str  # "value", "mark", "ctmark"
    op: str | None
    value: int
    text: str


@dataclass(eq=False)
class Effect:
    """A statement with no effect on the verdict: counter, log, comment, notrack."""

    kind: str
    text: str


@dataclass(eq=False)
class Unknown:
    """Words netlab does not model, kept as they were; a trace that meets them is uncertain."""

    text: str
    as_match: bool = True


@dataclass(eq=False)
class NftRule:
    """One rule: its text (as listed), its parsed items, its handle and line."""

    text: str
    items: list[Any]
    table: str = ""
    chain: str = ""
    index: int = 0
    handle: int | None = None
    lineno: int = 0
    comment: str | None = None
    _compiled: Any = None

    @property
    def position(self) -> str:
        """``docker-bridges:nat-prerouting-and-output:1`` (table:chain:number)."""
        return f"{self.table}:{self.chain}:{self.index}"

    @property
    def uncertain(self) -> bool:
        """Does the rule hold words netlab does not model?"""
        return any(isinstance(i, Unknown) or (isinstance(i, (Match, VMap))
                   and not all(s.supported for s in i.sels)) for i in self.items)

    def __str__(self) -> str:
        return self.text


@dataclass(eq=False)
class NftChain:
    """A chain; a base chain has ``type``, ``hook``, ``priority`` (and a ``policy``)."""

    name: str
    table: str = ""
    family: str = "ip"
    type: str | None = None
    hook: str | None = None
    priority: int | None = None
    priority_text: str | None = None
    policy: str | None = None
    device: str | None = None
    rules: list[NftRule] = field(default_factory=list)
    comment: str | None = None
    lineno: int = 0

    @property
    def is_base(self) -> bool:
        return self.hook is not None

    def header(self) -> str | None:
        """``type filter hook forward priority filter; policy accept;`` (None for a regular chain)."""
        if not self.is_base:
            return None
        dev = f" device {self.device}" if self.device else ""
        h = f"type {self.type} hook {self.hook}{dev} priority {self.priority_text}; "
        if self.policy:
            h += f"policy {self.policy}; "
        return h.rstrip()

    def to_nft(self, indent: str = "\t", numeric_priority: bool = False) -> str:
        lines = [f"{indent}chain {self.name} {{"]
        if self.is_base:
            head = self.header() or ""
            if numeric_priority:
                head = head.replace(f"priority {self.priority_text};", f"priority {self.priority};")
            lines.append(f"{indent}\t{head}")
        if self.comment is not None:
            lines.append(f'{indent}\tcomment "{self.comment}"')
        lines += [f"{indent}\t{r.text}" for r in self.rules]
        lines.append(f"{indent}}}")
        return "\n".join(lines)


@dataclass(eq=False)
class NftTable:
    """``table <family> <name>``: its sets/maps and chains, in listing order."""

    family: str
    name: str
    chains: dict[str, NftChain] = field(default_factory=dict)
    sets: dict[str, NftSet] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)  # flowtables, counters…: kept verbatim
    comment: str | None = None
    lineno: int = 0

    @property
    def key(self) -> str:
        return f"{self.family} {self.name}"

    def base_chains(self) -> list[NftChain]:
        return [c for c in self.chains.values() if c.is_base]

    def to_nft(self, numeric_priority: bool = False) -> str:
        lines = [f"table {self.family} {self.name} {{"]
        if self.flags:
            lines.append(f"\tflags {','.join(self.flags)}")
        if self.comment is not None:
            lines.append(f'\tcomment "{self.comment}"')
        blocks = [s.to_nft() for s in self.sets.values()] + list(self.objects)
        blocks += [c.to_nft(numeric_priority=numeric_priority) for c in self.chains.values()]
        lines.append("\n\n".join(blocks))
        lines.append("}")
        return "\n".join(x for x in lines if x)

    def normalised(self) -> dict[str, Any]:
        """The table with counters and layout taken out, for comparing two listings."""
        return {
            "sets": [(s.kind, s.name, s.key_types, s.data_type, sorted(s.flags), sorted(s.element_texts()))
                     for s in self.sets.values()],
            # priorities as numbers: nft prints "filter - 10", JSON -10, nft 1.0.6 "-100" for dstnat
            "chains": [(c.name, (c.type, c.hook, c.device, c.priority, c.policy or "accept") if c.is_base else None,
                        [normalise_rule(r.text) for r in c.rules]) for c in self.chains.values()],
        }


def normalise_rule(text: str) -> str:
    """A rule's text without counter values and extra spaces."""
    import re

    text = re.sub(r"\bcounter packets \d+ bytes \d+", "counter", text)
    text = re.sub(r"\s*# handle \d+$", "", text)
    return " ".join(text.split())


class NftRuleset:
    """Every table of an ``nft list ruleset``; trace packets with :meth:`trace`."""

    def __init__(self, tables: list[NftTable] | None = None, source: str = "text") -> None:
        self.tables: list[NftTable] = list(tables or [])
        self.source = source
        self._cache: dict[Any, Any] = {}

    def table(self, name: str, family: str | None = None) -> NftTable:
        """The table called ``name`` (``"docker-bridges"`` or ``"ip6 docker-bridges"``)."""
        if " " in name and family is None:
            family, name = name.split(None, 1)
        for t in self.tables:
            if t.name == name and (family is None or t.family == family):
                return t
        have = ", ".join(t.key for t in self.tables) or "none"
        raise NetlabError(f"no table {name!r} here (tables: {have})")

    def chains_at(self, hook: str, family: int | None = None) -> list[NftChain]:
        """Base chains at ``hook`` in the order the kernel runs them (see :mod:`nft_trace`)."""
        from netlab.netfilter.nft_trace import hook_chains

        return hook_chains(self, hook, family)

    def rule(self, position: str) -> NftRule:
        """The rule at ``table:chain:number``."""
        tname, _, rest = position.partition(":")
        cname, _, num = rest.rpartition(":")
        for t in self.tables:
            if t.name == tname and cname in t.chains and is_decimal(num):
                rules = t.chains[cname].rules
                k = int(num)
                if 1 <= k <= len(rules):
                    return rules[k - 1]
        raise NetlabError(f"no rule at {position!r}; positions look like docker-bridges:filter-FORWARD:1")

    @property
    def rules(self) -> list[NftRule]:
        return [r for t in self.tables for c in t.chains.values() for r in c.rules]

    def trace(self, packet: Any, hook: str = "prerouting", in_iface: str | None = None,
              out_iface: str | None = None, local_addrs: Any = (), ct_state: str = "NEW",
              **kwargs: Any) -> Any:
        """Walk ``packet`` through every base chain of ``hook`` (all tables, by priority).

        Same arguments and the same :class:`~netlab.netfilter.trace.Trace` as the
        iptables engine's ``Ruleset.trace``; ``tables=`` limits the walk to the named
        tables (``"docker-bridges"`` or ``"ip nat"``)."""
        from netlab.netfilter.nft_trace import trace

        return trace(self, packet, hook=hook, in_iface=in_iface, out_iface=out_iface,
                     local_addrs=local_addrs, ct_state=ct_state, **kwargs)

    def to_nft(self, numeric_priority: bool = False) -> str:
        """The rule set as ``nft -f`` input (``numeric_priority``: ``priority -100``, for old nft)."""
        return "\n".join(t.to_nft(numeric_priority) for t in self.tables) + "\n"

    def __str__(self) -> str:
        return self.to_nft()

    def __repr__(self) -> str:
        n = sum(len(c.rules) for t in self.tables for c in t.chains.values())
        return f"<NftRuleset {len(self.tables)} tables ({', '.join(t.key for t in self.tables)}), {n} rules>"
