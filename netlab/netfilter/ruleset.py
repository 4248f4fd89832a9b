"""The iptables rule set as objects: tables, chains, rules, matches and targets.

A :class:`Rule` keeps the line it was read from (``Rule.text``) and its place
(``Rule.position`` such as ``"nat:DOCKER:2"``), so a trace can point a learner at
the exact line of ``iptables-save`` that acted on a packet.  Matches and the
target are decoded from the rule's words on first use, so reading a
Kubernetes-sized rule set stays fast.  Notebooks 05–07 use these objects.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netlab.errors import ParseError
from netlab.netfilter.hooks import HOOK_TABLES
from netlab.netfilter.modules import ALWAYS_ONE_ARG, options_with, reads_of
from netlab.numbers import is_decimal

if TYPE_CHECKING:
    from netlab.netfilter.packet import Packet
    from netlab.netfilter.trace import Trace

#: tables in the order iptables-save prints them, each with its built-in chains
BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "security": ("INPUT", "FORWARD", "OUTPUT"),
}
TABLE_ORDER = ("raw", "mangle", "nat", "filter", "security")

# option words -> canonical short form, for the conditions every rule can have
BUILTIN_OPTIONS: dict[str, str] = {
    "-s": "-s", "--source": "-s", "--src": "-s",
    "-d": "-d", "--destination": "-d", "--dst": "-d",
    "-p": "-p", "--protocol": "-p", "--proto": "-p",
    "-i": "-i", "--in-interface": "-i",
    "-o": "-o", "--out-interface": "-o",
    "-f": "-f", "--fragment": "-f",
}
# options of match/target modules that take no value / two values (netlab.netfilter.modules)
ZERO_ARG_OPTIONS = options_with(0)
TWO_ARG_OPTIONS = options_with(2)
PROTO_MODULES = frozenset({"tcp", "udp", "icmp", "udplite", "sctp", "dccp", "icmp6", "ipv6-icmp"})


@dataclass(slots=True)
class Option:
    """One option of a match or target: ``! --dport 80`` is
    ``Option("--dport", ("80",), negated=True)``."""

    name: str
    values: tuple[str, ...] = ()
    negated: bool = False

    @property
    def value(self) -> str | None:
        return self.values[0] if self.values else None


@dataclass(slots=True)
class Match:
    """A condition of a rule.  ``module`` is ``""`` for the built-in ones
    (``-s -d -p -i -o -f``, one option each) and the ``-m`` name otherwise."""

    module: str
    options: list[Option] = field(default_factory=list)
    implicit: bool = False  # ``-p tcp --dport 80`` without ``-m tcp``

    def option(self, name: str) -> Option | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None


@dataclass(slots=True)
class Target:
    """What a rule does when it matches: ``-j NAME`` (or ``-g NAME`` with goto)."""

    name: str
    options: list[Option] = field(default_factory=list)
    goto: bool = False

    def option(self, name: str) -> Option | None:
        for opt in self.options:
            if opt.name == name:
                return opt
        return None


@dataclass(slots=True)
class RuleSpec:
    """The decoded words of a rule."""

    matches: list[Match]
    target: Target | None


def decode_rule(tokens: tuple[str, ...] | list[str], *, lineno: int | None = None, line: str | None = None) -> RuleSpec:
    """Split a rule's words (after ``-A CHAIN``) into matches and a target."""
    matches: list[Match] = []
    target: Target | None = None
    current: Match | Target | None = None
    proto: str | None = None
    negate = False
    i, n = 0, len(tokens)

    def fail(msg: str) -> ParseError:
        return ParseError(msg, command="iptables-save", lineno=lineno, line=line,
                          hint="check the rule is complete (copy the whole line)")

    while i < n:
        tok = tokens[i]
        if tok == "!":
            negate = True
            i += 1
            continue
        canon = BUILTIN_OPTIONS.get(tok)
        if canon is not None:
            if canon == "-f":
                matches.append(Match("", [Option("-f", (), negate)]))
                i += 1
            else:
                if i + 1 >= n:
                    raise fail(f"option {tok} needs a value")
                value = tokens[i + 1]
                i += 2
                if value == "!":  # old style: -s ! 10.0.0.1
                    if i >= n:
                        raise fail(f"option {tok} needs a value")
                    negate, value = True, tokens[i]
                    i += 1
                matches.append(Match("", [Option(canon, (value,), negate)]))
                if canon == "-p":
                    proto = value.lower()
            negate = False
            current = None
            continue
        if tok in ("-m", "--match"):
            if i + 1 >= n:
                raise fail("-m needs a module name")
            current = Match(tokens[i + 1])
            matches.append(current)
            i += 2
            continue
        if tok in ("-j", "--jump", "-g", "--goto"):
            if i + 1 >= n:
                raise fail(f"{tok} needs a target")
            target = Target(tokens[i + 1], goto=tok in ("-g", "--goto"))
            current = target
            i += 2
            continue
        if tok in ("-c", "--set-counters"):
            i += 3
            continue
        if tok.startswith("-") and len(tok) > 1:
            if current is None:
                if proto in PROTO_MODULES:
                    current = Match(proto, implicit=True)
                    matches.append(current)
                else:
                    raise fail(f"option {tok} is not part of a -m module or -j target")
            if tok in ZERO_ARG_OPTIONS and not (tok == "--set" and current.__class__ is Match
                                                and current.module == "set"):
                values: tuple[str, ...] = ()
                i += 1
            elif tok in TWO_ARG_OPTIONS or tok == "--set":
                values = tuple(tokens[i + 1:i + 3])
                if len(values) < 2:
                    raise fail(f"option {tok} needs two values")
                i += 3
            elif tok in ALWAYS_ONE_ARG:
                if i + 1 >= n:
                    raise fail(f"option {tok} needs a value")
                values = (tokens[i + 1],)
                i += 2
            else:
                j = i + 1
                if j < n and tokens[j] == "!":  # old style: --dport ! 80
                    negate = True
                    j += 1
                if j < n and not (tokens[j].startswith("-") and len(tokens[j]) > 1
                                  and not is_decimal(tokens[j][1])) and tokens[j] != "!":
                    values = (tokens[j],)
                    j += 1
                else:
                    values = ()
                i = j
            current.options.append(Option(tok, values, negate))
            negate = False
            continue
        raise fail(f"unexpected word {tok!r}")
    return RuleSpec(matches, target)


def quote_word(word: str, force: bool = False) -> str:
    """Quote a word the way iptables-save does, when it needs it."""
    if force or not word or any(c in word for c in ' \t"\'\\'):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def render_words(tokens: tuple[str, ...] | list[str]) -> str:
    out = []
    prev = ""
    for tok in tokens:
        out.append(quote_word(tok, force=prev == "--comment"))
        prev = tok
    return " ".join(out)


_SPECS: dict[tuple[str, ...], RuleSpec] = {}


class Rule:
    """One ``-A CHAIN ...`` line.  ``text`` is the line as read; ``tokens`` its
    words after the chain name; ``position`` is ``"table:CHAIN:index"``."""

    __slots__ = ("table", "chain", "index", "text", "tokens", "counters", "lineno",
                 "_spec", "_compiled", "lost", "hidden")

    def __init__(self, table: str, chain: str, index: int, tokens: tuple[str, ...], text: str,
                 counters: tuple[int, int] | None = None, lineno: int | None = None) -> None:
        self.table = table
        self.chain = chain
        self.index = index
        self.tokens = tuple(tokens)
        self.text = text
        self.counters = counters
        self.lineno = lineno
        self._spec: RuleSpec | None = None
        self._compiled: Any = None
        #: read from ``iptables -L``: what the listing could not tell (a trace matching this
        #: rule is uncertain) and what it hid but netlab restored (``# netlab-lost:`` /
        #: ``# netlab-hidden:`` lines before the rule; see netlab.parse.iptables_list)
        self.lost: tuple[str, ...] = ()
        self.hidden: tuple[str, ...] = ()

    @property
    def position(self) -> str:
        return f"{self.table}:{self.chain}:{self.index}"

    @property
    def spec(self) -> RuleSpec:
        if self._spec is None:
            # rules with the same words share one decoded spec (read-only): a paste of many
            # repeated lines costs one spec, not one per line (issue 10)
            spec = _SPECS.get(self.tokens)
            if spec is None:
                spec = decode_rule(self.tokens, lineno=self.lineno, line=self.text)
                if len(_SPECS) >= 4096:
                    _SPECS.clear()
                _SPECS[self.tokens] = spec
            self._spec = spec
        return self._spec

    @property
    def matches(self) -> list[Match]:
        return self.spec.matches

    @property
    def target(self) -> Target | None:
        return self.spec.target

    @property
    def target_name(self) -> str | None:
        t = self.spec.target
        return t.name if t else None

    @property
    def goto(self) -> bool:
        t = self.spec.target
        return bool(t and t.goto)

    def builtin(self, name: str) -> Option | None:
        """The ``-s``/``-d``/``-p``/``-i``/``-o`` condition, if the rule has one."""
        for m in self.spec.matches:
            if not m.module and m.options[0].name == name:
                return m.options[0]
        return None

    def save_line(self) -> str:
        """The rule as ``iptables-save`` prints it."""
        body = render_words(self.tokens)
        return f"-A {self.chain} {body}" if body else f"-A {self.chain}"

    def __repr__(self) -> str:
        return f"<Rule {self.position}: {self.save_line()}>"


@dataclass(slots=True)
class Chain:
    """A chain: built-in ones have a ``policy`` (ACCEPT/DROP), user chains None."""

    name: str
    table: str
    policy: str | None = None
    counters: tuple[int, int] | None = None
    rules: list[Rule] = field(default_factory=list)
    # while parsing: ``-I CHAIN 1`` rules not yet put in place, and the list slots middle
    # inserts moved (netlab.netfilter.parser._insert); __slots__: a paste of a million
    # chains costs a million small objects, not a million dicts (issue 10)
    _front: list[Rule] | None = field(default=None, repr=False, compare=False)
    _moved: int = field(default=0, repr=False, compare=False)

    @property
    def builtin(self) -> bool:
        return self.name in BUILTIN_CHAINS.get(self.table, ())

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)


@dataclass
class Table:
    """One table (raw, mangle, nat, filter, security) and its chains, in order."""

    name: str
    chains: dict[str, Chain] = field(default_factory=dict)

    def chain(self, name: str) -> Chain:
        """The chain called ``name``, created (as a user chain) if missing."""
        ch = self.chains.get(name)
        if ch is None:
            policy = "ACCEPT" if name in BUILTIN_CHAINS.get(self.name, ()) else None
            ch = self.chains[name] = Chain(name, self.name, policy)
        return ch

    @property
    def rules(self) -> list[Rule]:
        return [r for ch in self.chains.values() for r in ch.rules]


class Ruleset:
    """A whole firewall: ``tables[name].chains[name].rules[i]``.

    ``trace(packet, hook=...)`` walks a packet through it; ``to_iptables_save()``
    prints it back in the form ``iptables-restore`` reads.
    """

    def __init__(self, tables: dict[str, Table] | None = None) -> None:
        self.tables: dict[str, Table] = tables or {}
        self.warnings: list[str] = []
        self.family = 4  # 6: ip6tables rules (kept and shown; IPv4 packets are not traced through them)
        self._cache: dict[str | tuple[str, ...], Any] = {}

    # ------------------------------------------------------------ access
    def table(self, name: str) -> Table:
        t = self.tables.get(name)
        if t is None:
            t = self.tables[name] = Table(name)
            for ch in BUILTIN_CHAINS.get(name, ()):
                t.chain(ch)
        return t

    def rule(self, position: str) -> Rule:
        """The rule at ``"table:CHAIN:index"``."""
        try:
            table, chain, index = position.rsplit(":", 2)
            return self.tables[table].chains[chain].rules[int(index) - 1]
        except (KeyError, ValueError, IndexError):
            raise KeyError(f"no rule at {position!r}") from None

    @property
    def rules(self) -> list[Rule]:
        return [r for t in self.tables.values() for r in t.rules]

    def active_hooks(self) -> frozenset[str]:
        """The hooks where some table holds a rule or a non-ACCEPT policy (the others
        cannot change a packet, so the simulator skips them)."""
        out = set()
        for hook, names in HOOK_TABLES.items():
            for name in names:
                ch = self.tables[name].chains.get(hook) if name in self.tables else None
                if ch is not None and (ch.rules or (ch.policy or "ACCEPT") != "ACCEPT"):
                    out.add(hook)
        return frozenset(out)

    def reads(self) -> frozenset[str]:
        """The packet fields (``netlab.netfilter.modules.FIELDS``) some rule here reads: what a
        verdict cache must key on."""
        return reads_of({m.module for r in self.rules for m in r.matches if m.module})

    def __len__(self) -> int:
        return sum(len(ch.rules) for t in self.tables.values() for ch in t.chains.values())

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}: {sum(len(c.rules) for c in t.chains.values())} rules"
                          for n, t in self.tables.items())
        return f"<Ruleset {parts}>"

    # ------------------------------------------------------------ printing
    def _ordered_tables(self) -> list[Table]:
        names = [n for n in TABLE_ORDER if n in self.tables]
        names += [n for n in self.tables if n not in TABLE_ORDER]
        return [self.tables[n] for n in names]

    @staticmethod
    def _ordered_chains(table: Table) -> list[Chain]:
        builtin = [table.chains[n] for n in BUILTIN_CHAINS.get(table.name, ()) if n in table.chains]
        user = sorted((c for c in table.chains.values() if not c.builtin), key=lambda c: c.name)
        return builtin + user

    def to_iptables_save(self) -> str:
        """The rule set as ``iptables-save`` prints it (``iptables-restore`` reads it)."""
        out: list[str] = []
        for table in self._ordered_tables():
            out.append(f"*{table.name}")
            chains = self._ordered_chains(table)
            for ch in chains:
                p, b = ch.counters or (0, 0)
                policy = (ch.policy or "ACCEPT") if ch.builtin else "-"
                out.append(f":{ch.name} {policy} [{p}:{b}]")
            for ch in table.chains.values():
                out.extend(r.save_line() for r in ch.rules)
            out.append("COMMIT")
        return "\n".join(out) + "\n"

    def to_iptables_S(self, table: str | None = None, counters: bool = False) -> str:
        """The rule set as ``iptables -S`` prints it (one table, or all with markers);
        ``counters=True`` adds policy counters as ``iptables -S -v`` does."""
        out: list[str] = []
        tables = [self.tables[table]] if table else self._ordered_tables()
        for t in tables:
            if table is None:
                out.append(f"# ---- iptables -S -t {t.name} ----")
            chains = self._ordered_chains(t)
            for ch in chains:
                if ch.builtin:
                    extra = f" -c {ch.counters[0]} {ch.counters[1]}" if counters and ch.counters else ""
                    out.append(f"-P {ch.name} {ch.policy or 'ACCEPT'}{extra}")
            for ch in chains:
                if not ch.builtin:
                    out.append(f"-N {ch.name}")
            for ch in t.chains.values():
                out.extend(r.save_line() for r in ch.rules)
        return "\n".join(out) + "\n"

    # ------------------------------------------------------------ tracing
    def trace(self, packet: Packet | dict | Any, hook: str = "PREROUTING", in_iface: str | None = None,
              out_iface: str | None = None, local_addrs: Any = (), ct_state: str = "NEW",
              tables: Any = None, ipsets: dict | None = None, seed: int = 0,
              iface_addrs: dict | None = None, conntrack: Any = None,
              next_hop: str | None = None, max_steps: int = 100_000) -> Trace:
        """Walk ``packet`` through the tables ``hook`` runs, rule by rule.

        See :func:`netlab.netfilter.trace.trace` for the arguments."""
        from netlab.netfilter.trace import trace as _trace

        return _trace(self, packet, hook=hook, in_iface=in_iface, out_iface=out_iface,
                      local_addrs=local_addrs, ct_state=ct_state, tables=tables, ipsets=ipsets,
                      seed=seed, iface_addrs=iface_addrs, conntrack=conntrack, next_hop=next_hop,
                      max_steps=max_steps)
