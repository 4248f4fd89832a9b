"""Walk a packet through a hook's tables rule by rule: the :class:`Trace`.

The evaluator follows jumps, gotos, RETURN and chain policies as the kernel
does, records one :class:`Step` per rule it looked at (with the first failed
condition in words), applies NAT and marks as it goes, detects jump cycles,
and never guesses silently: anything it cannot model makes ``uncertain`` true.

Rules are compiled to predicate functions once per rule and cached; big
chains (such as kube-proxy's KUBE-SERVICES) get an index by destination
address, so only the rules that could match are evaluated — the skipped ones
are summed up in one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netlab.errors import NetlabError
from netlab.netfilter.context import Context, int_to_ip, ip_to_int
from netlab.netfilter.hooks import hook_tables
from netlab.netfilter.matches import Unsupported, compile_matches
from netlab.netfilter.packet import PROTO_NUMBER, Packet
from netlab.netfilter.ruleset import ALWAYS_ONE_ARG, TWO_ARG_OPTIONS, Chain, Rule, Ruleset, Table
from netlab.netfilter.targets import Action, NatRewrite, compile_target
from netlab.numbers import is_decimal

INDEX_MIN_RULES = 48  # chains at least this long get a destination index


@dataclass(slots=True)
class Step:
    """One rule (or policy / return / summary) the packet met.

    ``kind`` is ``"rule"``, ``"policy"``, ``"return"`` (end of a user chain),
    ``"skipped"`` (rules an index ruled out) or ``"note"``."""

    table: str
    chain: str
    index: int | None
    position: str
    rule_text: str
    matched: bool
    reason: str
    target: str | None
    kind: str = "rule"
    depth: int = 0
    note: str = ""
    unsupported: bool = False

    def __str__(self) -> str:
        return _step_line(self)


@dataclass
class Trace:
    """Where a packet went through one hook, and why.

    ``verdict`` ACCEPT/DROP/REJECT/QUEUE; ``uncertain`` true when something
    could not be modelled; ``nat`` the :class:`NatRewrite` if any; ``decisive``
    the step that decided; ``step_list`` every step; ``steps`` as a DataFrame.
    """

    packet: Packet
    hook: str
    in_iface: str | None
    out_iface: str | None
    ct_state: str
    verdict: str = "ACCEPT"
    uncertain: bool = False
    nat: NatRewrite | None = None
    decisive: Step | None = None
    step_list: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tables_run: list[str] = field(default_factory=list)
    packet_after: Packet | None = None
    reply: str | None = None
    mark: int = 0
    ctmark: int = 0
    ct_state_after: str = "NEW"
    #: nftables: every base chain at this hook, in run order, as (table, chain, priority,
    #: chain type) — iptables tables among them as (table, HOOK, priority, "iptables")
    chains: list[tuple[str, str, int, str]] = field(default_factory=list)
    ruleset: Any = field(default=None, repr=False)  # nftables: the NftRuleset traced

    @property
    def steps(self) -> Any:
        """The steps as a pandas DataFrame (one row per rule looked at)."""
        import pandas as pd

        cols = ["table", "chain", "index", "position", "rule_text", "matched", "reason", "target",
                "kind", "depth", "note", "unsupported"]
        return pd.DataFrame([[getattr(s, c) for c in cols] for s in self.step_list], columns=cols)

    @property
    def matched_steps(self) -> list[Step]:
        return [s for s in self.step_list if s.matched and s.kind == "rule"]

    @property
    def positions(self) -> list[str]:
        """Positions of the rules that matched, in order (handy in tests)."""
        return [s.position for s in self.matched_steps]

    def __str__(self) -> str:
        ifaces = []
        if self.in_iface:
            ifaces.append(f"in {self.in_iface}")
        if self.out_iface:
            ifaces.append(f"out {self.out_iface}")
        head = f"{self.packet.summary()}  hook {self.hook}"
        head += ("  " + " ".join(ifaces) if ifaces else "") + f"  state {self.ct_state}"
        lines = [head]
        cur = None
        for s in self.step_list:
            where = (s.table, s.chain, s.depth)
            if s.kind in ("rule", "policy", "skipped") and where != cur:
                lines.append(f"{'  ' * s.depth}  [{s.table} {s.chain}]")
                cur = where
            lines.append(_step_line(s))
            if s.kind == "return":
                cur = None
        v = f"verdict: {self.verdict}"
        if self.decisive is not None:
            v += f"  (decided by {self.decisive.position})"
        if self.uncertain:
            v += "  UNCERTAIN"
        lines.append(v)
        if self.nat is not None:
            lines.append(f"NAT: {self.nat}")
        if self.reply:
            lines.append(f"reply: {self.reply}")
        if self.packet_after is not None and self.packet_after != self.packet:
            lines.append(f"packet now: {self.packet_after.summary()}")
        for n in self.notes:
            lines.append(f"note: {n}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # IPython
        p.text(str(self))


def _step_line(s: Step) -> str:
    pad = "  " * s.depth + "    "
    if s.kind == "rule":
        mark = "✓" if s.matched else ("?" if s.unsupported else "✗")
        line = f"{pad}{s.index:>3} {mark} {s.rule_text}"
        if s.matched:
            return line + (f"\n{pad}      -> {s.note}" if s.note else "")
        return line + f"\n{pad}      {s.reason}"
    if s.kind == "policy":
        return f"{pad}  policy {s.target}: {s.reason}"
    return f"{pad}  ({s.reason})"


# ---------------------------------------------------------------- compiling
class _Compiled:
    __slots__ = ("preds", "target", "target_name")

    def __init__(self, rule: Rule, chains: dict[str, Chain]) -> None:
        self.preds = compile_matches(rule)
        self.target = compile_target(rule, chains)
        self.target_name = rule.target_name


def _compiled(rule: Rule, table: Table) -> _Compiled:
    c = rule._compiled
    if c is None:
        try:
            c = _Compiled(rule, table.chains)
        except Exception as exc:  # a rule netlab cannot decode: say so, do not guess
            c = _Compiled.__new__(_Compiled)
            reason = Unsupported(f"unsupported: netlab cannot read this rule ({exc})")
            c.preds = [lambda ctx: reason]
            c.target = lambda ctx: Action("continue")
            c.target_name = None
        rule._compiled = c
    return c


def _exact_dst(tokens: tuple[str, ...]) -> int | None:
    """The single IPv4 address a rule's ``-d`` demands, read straight from its
    words (the same reading :func:`decode_rule` gives), or None."""
    if "-d" in tokens:
        k = tokens.index("-d")
    elif "--destination" in tokens:
        k = tokens.index("--destination")
    elif "--dst" in tokens:
        k = tokens.index("--dst")
    else:
        return None
    if k < 0 or k + 1 >= len(tokens):
        return None
    before = tokens[k - 1] if k else ""
    if before == "!" or before in ALWAYS_ONE_ARG or before in TWO_ARG_OPTIONS or (
            k >= 2 and tokens[k - 2] in TWO_ARG_OPTIONS):
        return None
    value = tokens[k + 1]
    if value == "!" or "," in value or ":" in value:
        return None
    addr, _, plen = value.partition("/")
    if plen not in ("", "32", "255.255.255.255"):
        return None
    try:
        return ip_to_int(addr)
    except (ValueError, OSError):
        return None


PORT_PROTOCOLS = frozenset({"tcp", "udp", "sctp", "udplite", "dccp"})  # have --dport


def _exact_dport(rule: Rule) -> tuple[int, int] | None:
    """(protocol number, port) when ``rule`` needs ``-p P --dport N`` (one port, neither
    negated) — Docker's DNAT rules for published ports (``-A DOCKER ! -i docker0 -p tcp -m
    tcp --dport 8080 -j DNAT ...``) — or None."""
    try:
        matches = rule.spec.matches
    except Exception:  # noqa: BLE001 - an unreadable rule is walked (and reported) as usual
        return None
    proto = port = None
    for m in matches:
        for opt in m.options:
            if m.module == "" and opt.name == "-p":
                value = (opt.value or "").lower()
                if opt.negated or value not in PORT_PROTOCOLS:
                    return None
                proto = PROTO_NUMBER.get(value)
            elif opt.name in ("--dport", "--destination-port") and m.module in PORT_PROTOCOLS:
                if opt.negated or port is not None or not is_decimal(opt.value or ""):
                    return None
                port = int(opt.value or "")
    if proto is None or port is None:
        return None
    return proto, port


class _Index:
    """Rules of a long chain grouped by the exact destination they need, or (for rules
    without one) by the exact protocol and destination port: a rule in another group
    than the packet's cannot match it, so the walk skips it (and says so)."""

    __slots__ = ("by_dst", "by_dport", "general", "count", "dst_before")

    def __init__(self, chain: Chain) -> None:
        self.by_dst: dict[int, list[int]] = {}
        self.by_dport: dict[tuple[int, int], list[int]] = {}
        self.general: list[int] = []
        self.count = len(chain.rules)
        self.dst_before = [0]  # how many of the first k rules are in a destination group
        for i, rule in enumerate(chain.rules):
            key = _exact_dst(rule.tokens)
            if key is not None:
                self.by_dst.setdefault(key, []).append(i)
            else:
                pkey = _exact_dport(rule)
                if pkey is None:
                    self.general.append(i)
                else:
                    self.by_dport.setdefault(pkey, []).append(i)
            self.dst_before.append(self.dst_before[-1] + (key is not None))

    def candidates(self, dst: int, proto: int = -1, dport: int | None = None) -> list[int]:
        hit = self.by_dst.get(dst)
        phit = self.by_dport.get((proto, dport)) if dport is not None and self.by_dport else None
        if not hit and not phit:
            return self.general
        return sorted((hit or []) + (phit or []) + self.general)

    def why_skipped(self, lo: int, hi: int, ctx: Context) -> str:
        """Why rules ``lo`` to ``hi - 1`` (0-based) cannot match the packet of ``ctx``."""
        by_dst = self.dst_before[hi] - self.dst_before[lo]
        dest = f"another destination than {int_to_ip(ctx.dst)}"
        here = f"{ctx.proto} port {ctx.dport}" if ctx.dport is not None else f"{ctx.proto}"
        port = f"another protocol or destination port than {here}"
        if by_dst == hi - lo:
            return f"each needs {dest}"
        if not by_dst:
            return f"each needs {port}"
        return f"each needs {dest} or {port}"


def _index(ruleset: Ruleset, chain: Chain) -> _Index | None:
    if len(chain.rules) < INDEX_MIN_RULES:
        return None
    key = ("index", chain.table, chain.name)
    idx = ruleset._cache.get(key)
    if idx is None or idx.count != len(chain.rules):
        idx = ruleset._cache[key] = _Index(chain)
    if not idx.by_dst and not idx.by_dport:
        return None
    return idx


def prepare(ruleset: Ruleset) -> None:
    """Build the destination index of every long chain (parse_iptables calls this)."""
    for table in ruleset.tables.values():
        for chain in table.chains.values():
            if len(chain.rules) >= INDEX_MIN_RULES:
                _index(ruleset, chain)


# ---------------------------------------------------------------- walking
class _Frame:
    __slots__ = ("chain", "order", "pos", "path_len")

    def __init__(self, chain: Chain, order: list[int] | None, pos: int, path_len: int) -> None:
        self.chain = chain
        self.order = order
        self.pos = pos
        self.path_len = path_len


def _run_table(ruleset: Ruleset, table: Table, hook: str, ctx: Context, steps: list[Step],
               budget: list[int]) -> tuple[str, Step | None, NatRewrite | None, str | None]:
    """Walk one table's ``hook`` chain; returns (verdict, deciding step, nat, reply)."""
    start = table.chains.get(hook)
    if start is None:
        return "ACCEPT", None, None, None
    tname = table.name
    stack: list[_Frame] = []
    path: list[str] = [start.name]

    def enter(chain: Chain) -> tuple[list[int] | None, int]:
        idx = _index(ruleset, chain)
        return (idx.candidates(ctx.dst, ctx.proto_num, ctx.dport) if idx is not None else None), 0

    chain = start
    order, pos = enter(chain)
    depth = 0
    while True:
        rules = chain.rules
        n = len(order) if order is not None else len(rules)
        if pos < n:
            if budget[0] <= 0:
                ctx.note(f"gave up after {len(steps)} steps; the policy of {tname} {hook} is "
                         "shown as the verdict", uncertain=True)
                pol = start.policy or "ACCEPT"
                st = Step(tname, hook, None, f"{tname}:{hook}:policy", f"-P {hook} {pol}", True,
                          "step limit reached", pol, kind="policy")
                steps.append(st)
                return pol, st, None, None
            budget[0] -= 1
            if order is not None:
                i = order[pos]
                prev = order[pos - 1] + 1 if pos else 0
                if i > prev:
                    idx = _index(ruleset, chain)  # the chain's (cached) index: say why
                    why = idx.why_skipped(prev, i, ctx) if idx is not None else ""
                    steps.append(Step(tname, chain.name, None, f"{tname}:{chain.name}:{prev + 1}-{i}",
                                      "", False, f"rules {prev + 1}-{i} skipped: {why}", None,
                                      kind="skipped", depth=depth))
            else:
                i = pos
            pos += 1
            rule = rules[i]
            comp = _compiled(rule, table)
            reason = None
            try:
                for pred in comp.preds:
                    reason = pred(ctx)
                    if reason is not None:
                        break
            except Exception as exc:  # a value netlab cannot evaluate: say so, never guess
                reason = Unsupported(f"unsupported: cannot evaluate this rule here ({exc})")
            if reason is not None:
                unsupported = type(reason) is Unsupported
                if unsupported:
                    ctx.note(f"{rule.position}: {reason}; treated as not matching", uncertain=True)
                steps.append(Step(tname, chain.name, i + 1, f"{tname}:{chain.name}:{i + 1}", rule.text,
                                  False, str(reason), comp.target_name, depth=depth,
                                  unsupported=unsupported))
                continue
            try:
                action = comp.target(ctx)
            except Exception as exc:  # noqa: BLE001 - reported in the trace, never hidden
                action = Action("unsupported", note=f"unsupported: cannot carry out {comp.target_name} "
                                f"here ({exc}); the walk goes on as if it let the packet continue")
            step = Step(tname, chain.name, i + 1, f"{tname}:{chain.name}:{i + 1}", rule.text, True,
                        "all conditions hold", comp.target_name, depth=depth)
            steps.append(step)
            if rule.lost:  # read from `iptables -L`: the listing did not show all of this rule
                ctx.note(f"{rule.position}: read from `iptables -L`, which does not show all of "
                         f"this rule ({'; '.join(rule.lost)}): the verdict is uncertain "
                         "(paste `iptables-save` to be sure)", uncertain=True)
            kind = action.kind
            if kind == "continue":
                step.note = action.note or f"{comp.target_name}: go on with the next rule"
                continue
            if kind in ("jump", "goto"):
                target = table.chains[action.chain]  # type: ignore[index]
                if target.name in path:
                    loop = " -> ".join([*path[path.index(target.name):], target.name])
                    step.note = (f"jump cycle {loop}: the kernel refuses to load such rules; "
                                 "netlab skips this jump")
                    ctx.note(f"{rule.position}: {step.note}", uncertain=True)
                    continue
                step.note = f"{kind} to {target.name}"
                if kind == "jump":
                    stack.append(_Frame(chain, order, pos, len(path)))
                    depth += 1
                path.append(target.name)
                chain = target
                order, pos = enter(chain)
                continue
            if kind == "return":
                if stack:
                    fr = stack.pop()
                    step.note = f"RETURN to {fr.chain.name}"
                    chain, order, pos = fr.chain, fr.order, fr.pos
                    del path[fr.path_len:]
                    depth -= 1
                    continue
                pol = start.policy or "ACCEPT"
                step.note = f"RETURN from built-in chain {start.name}: its policy decides"
                pst = Step(tname, start.name, None, f"{tname}:{start.name}:policy", f"-P {start.name} {pol}",
                           True, f"RETURN in built-in chain {start.name}, so its policy applies", pol,
                           kind="policy")
                steps.append(pst)
                return pol, pst, None, None
            if kind == "nat":
                step.note = action.note
                if action.nat is not None:
                    ctx.nat_states.add("DNAT" if action.nat.field == "destination" else "SNAT")
                return "ACCEPT", step, action.nat, None
            if kind == "verdict":
                step.note = action.note or f"{action.verdict}: the {tname} table's decision"
                if action.verdict == "ACCEPT":
                    step.note = action.note or (f"ACCEPT: done with the {tname} table"
                                                + (" (later tables still run)" if tname != "nat" else ""))
                return action.verdict or "ACCEPT", step, None, action.reply
            # unsupported target
            step.unsupported = True
            step.note = action.note
            ctx.note(f"{rule.position}: {action.note}", uncertain=True)
            continue
        # end of this chain
        if order is not None:
            last = order[-1] + 1 if order else 0
            if last < len(rules):  # the rules after the last candidate: ruled out too
                idx = _index(ruleset, chain)
                why = idx.why_skipped(last, len(rules), ctx) if idx is not None else ""
                steps.append(Step(tname, chain.name, None, f"{tname}:{chain.name}:{last + 1}-{len(rules)}",
                                  "", False, f"rules {last + 1}-{len(rules)} skipped: {why}", None,
                                  kind="skipped", depth=depth))
        if stack:
            fr = stack.pop()
            steps.append(Step(tname, chain.name, None, f"{tname}:{chain.name}:end", "", False,
                              f"end of {chain.name}, back to {fr.chain.name}", None, kind="return",
                              depth=depth))
            chain, order, pos = fr.chain, fr.order, fr.pos
            del path[fr.path_len:]
            depth -= 1
            continue
        pol = start.policy or "ACCEPT"
        st = Step(tname, start.name, None, f"{tname}:{start.name}:policy", f"-P {start.name} {pol}", True,
                  f"no rule decided: the policy of {start.name} applies", pol, kind="policy")
        steps.append(st)
        return pol, st, None, None


def trace(ruleset: Ruleset, packet: Any, hook: str = "PREROUTING", in_iface: str | None = None,
          out_iface: str | None = None, local_addrs: Any = (), ct_state: str = "NEW",
          tables: Any = None, ipsets: dict | None = None, seed: int = 0,
          iface_addrs: dict | None = None, conntrack: Any = None, next_hop: str | None = None,
          max_steps: int = 100_000) -> Trace:
    """Walk ``packet`` through the tables ``hook`` runs, in the kernel's order.

    ``packet``: a :class:`Packet`, a dict such as ``{"proto": "tcp", "src": ...,
    "dst": ..., "dport": 80}``, a :class:`netlab.packet.Frame` or a scapy packet.
    ``local_addrs``: the host's own addresses (for ``addrtype LOCAL``);
    ``iface_addrs``: ``{iface: ["addr/prefix", ...]}`` (MASQUERADE, REDIRECT,
    ``--limit-iface-*``, broadcast addresses); ``ct_state``: NEW, ESTABLISHED,
    RELATED, INVALID or UNTRACKED (the nat table only sees NEW connections);
    ``tables``: only run these tables; ``ipsets``: ``{name: [members]}``;
    ``seed``: chooses ``-m statistic`` outcomes; ``conntrack``: dict/object with
    ``orig_dst``, ``orig_dport``, ``direction``, ``status``… for ``--ctorig*``
    and ``--ctdir``; ``next_hop``: the gateway, for MASQUERADE's address choice.
    """
    pkt = Packet.coerce(packet)
    if getattr(ruleset, "family", 4) == 6 and ":" not in pkt.src:
        raise NetlabError(
            f"these are IPv6 (ip6tables) rules and {pkt.src} → {pkt.dst} is an IPv4 packet: IPv4 packets "
            "go through the iptables rules, not ip6tables'; trace it through `iptables-save`'s rules "
            "(state.ruleset(), not state.ruleset6()) — netlab does not trace IPv6 yet")
    hook = hook.upper()
    order = hook_tables(hook)
    if tables is not None:
        wanted = [tables] if isinstance(tables, str) else list(tables)
        bad = [t for t in wanted if t not in ("raw", "mangle", "nat", "filter", "security")]
        if bad:
            raise NetlabError(f"unknown table(s) {bad}; use raw, mangle, nat, filter, security")
        order = tuple(t for t in order if t in wanted)
    state = (ct_state or "NEW").upper()
    if state not in ("NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"):
        raise NetlabError(f"unknown ct_state {ct_state!r}; use NEW, ESTABLISHED, RELATED, INVALID "
                          "or UNTRACKED")
    ctx = Context(pkt, hook=hook, in_iface=in_iface, out_iface=out_iface, local_addrs=local_addrs,
                  ct_state=state, ipsets=ipsets, seed=seed, iface_addrs=iface_addrs,
                  conntrack=conntrack, next_hop=next_hop)
    tr = Trace(packet=pkt, hook=hook, in_iface=in_iface, out_iface=out_iface, ct_state=state)
    steps = tr.step_list
    budget = [max_steps]
    verdict = "ACCEPT"
    decisions: dict[str, Step | None] = {}
    for tname in order:
        table = ruleset.tables.get(tname)
        if table is None:
            continue
        if tname == "nat" and ctx.ct_state != "NEW":
            ctx.note(f"nat table skipped: only the first packet of a connection (state NEW) "
                     f"goes through nat, this one is {ctx.ct_state}")
            continue
        tr.tables_run.append(tname)
        v, decider, nat, reply = _run_table(ruleset, table, hook, ctx, steps, budget)
        decisions[tname] = decider
        if nat is not None:
            tr.nat = nat
        if v != "ACCEPT":
            verdict = v
            tr.decisive = decider
            tr.reply = reply
            break
    if verdict == "ACCEPT" and decisions:
        tr.decisive = decisions.get("filter") or next(
            (d for d in reversed(list(decisions.values())) if d is not None), None)
    if not ruleset.tables:
        ctx.note("there are no rules: the rule set is empty (an empty paste or file), so ACCEPT is only "
                 "what a host without any iptables rules would do; paste `iptables-save` to trace the "
                 "real rules", uncertain=True)
    tr.verdict = verdict
    tr.uncertain = ctx.uncertain
    tr.notes = ctx.notes
    tr.mark, tr.ctmark, tr.ct_state_after = ctx.mark, ctx.ctmark, ctx.ct_state
    if ctx.family == 4:
        changes: dict[str, Any] = {}
        if ctx.nat_states:  # conntrack remembers the original tuple and the NAT done
            o = ctx.orig
            changes["orig"] = (int_to_ip(o[0]), int_to_ip(o[1]), o[2], o[3])
            changes["ct_nat"] = ",".join(sorted(ctx.nat_states))
        tr.packet_after = pkt._rewritten(src=int_to_ip(ctx.src), dst=int_to_ip(ctx.dst), sport=ctx.sport,
                                         dport=ctx.dport, mark=ctx.mark, ctmark=ctx.ctmark, **changes)
    else:
        tr.packet_after = pkt
    return tr


__all__ = ["Step", "Trace", "NatRewrite", "trace"]
