"""Walk a packet through nftables base chains: every table's chains at one hook, by priority.

What the kernel does, as netlab models it:

* Each base chain registers its own hook entry; at a hook they run lowest
  priority first.  nat chains are different: they all sit in the NAT core's one
  slot (-100 at prerouting/output, 100 at input/postrouting, nf_nat_ipv4_ops)
  and run there in the order of their own priorities.
* ``accept`` ends only the chain's own walk: the next base chain at the same
  hook — in the same or another table, nft or iptables-nft — still sees the
  packet.  ``drop`` (and ``reject``, ``queue``) ends it for good.
* nat chains see only a connection's first packet (state NEW), and once one of
  them has set up a NAT binding the later nat chains at that hook are skipped.
* Chains before conntrack (priority < -200) see no connection: ``ct state`` is
  ``invalid`` there (``untracked`` after ``notrack``).

:func:`trace` returns the same :class:`~netlab.netfilter.trace.Trace` as the
iptables engine; positions are ``table:chain:rule number``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netlab.errors import NetlabError
from netlab.netfilter.context import Context, ct_field
from netlab.netfilter.matches import Unsupported
from netlab.netfilter.nft_ruleset import (
    CONNTRACK_PRIO,
    NAT_SLOT,
    Lookup,
    Match,
    Nat,
    NftChain,
    NftRule,
    NftRuleset,
    NftTable,
    Unknown,
    Verdict,
    VMap,
)
from netlab.netfilter.nft_values import (
    CT_STATE_BITS,
    CT_STATE_OF,
    CT_STATUS_BITS,
    FIB_TYPES,
    atom_contains,
    fmt_atom,
)
from netlab.netfilter.packet import Packet
from netlab.netfilter.targets import REJECT_REPLIES, NatRewrite
from netlab.netfilter.trace import Step, Trace

_HOOK_NAMES = {"PREROUTING": "prerouting", "INPUT": "input", "FORWARD": "forward", "OUTPUT": "output",
               "POSTROUTING": "postrouting", "INGRESS": "ingress", "EGRESS": "egress"}
_PORT_PROTOS = {"tcp": ("tcp",), "udp": ("udp",), "udplite": ("udplite",), "sctp": ("sctp",),
                "dccp": ("dccp",), "th": ("tcp", "udp", "udplite", "sctp", "dccp")}
_ADDR_TYPE = {"LOCAL": FIB_TYPES["local"], "BROADCAST": FIB_TYPES["broadcast"],
              "MULTICAST": FIB_TYPES["multicast"], "UNICAST": FIB_TYPES["unicast"]}
_CT_NAMES = {v: k for k, v in CT_STATE_BITS.items()}
_DST_NAT_HOOKS = ("prerouting", "output")


class _Miss(Exception):
    """A field the packet does not have (``tcp dport`` of a UDP packet): no match."""


def _ip(v: int, v6: bool) -> str:
    return str(ipaddress.IPv6Address(v) if v6 else ipaddress.IPv4Address(v))


# ----------------------------------------------------------------- order
def _family_ok(table: NftTable, fam: int | None) -> bool:
    if table.family == "inet":
        return True
    if table.family == "ip":
        return fam in (None, 4)
    if table.family == "ip6":
        return fam in (None, 6)
    return False


def _ordered(rs: NftRuleset, h: str, family: int | None, iptables: Any = None) -> list[tuple[str, Any]]:
    """("nft", chain) and ("ipt", iptables table) entries at hook ``h`` in kernel order."""
    out: list[tuple[tuple[int, int, int], str, Any]] = []
    n = 0
    for t, c in _bases(rs):
        if not _family_ok(t, family) and not (h == "ingress" and t.family == "netdev"):
            continue
        if c.hook == h:
            prio = c.priority or 0
            key = (NAT_SLOT.get(h, prio), prio, n) if c.type == "nat" else (prio, 0, n)
            out.append((key, "nft", c))
            n += 1
    if iptables is not None and family in (None, 4):
        from netlab.netfilter.hooks import HOOK_TABLES

        for tname in HOOK_TABLES.get(h.upper(), ()):
            table = iptables.tables.get(tname)
            if table is None or h.upper() not in table.chains:
                continue
            prio = _ipt_prio(tname, h)
            key = (NAT_SLOT.get(h, prio), prio, n) if tname == "nat" else (prio, 0, n)
            out.append((key, "ipt", table))
            n += 1
    return [(kind, obj) for _, kind, obj in sorted(out, key=lambda x: x[0])]


def _bases(rs: NftRuleset) -> list[tuple[NftTable, NftChain]]:
    """Every base chain with its table, in listing order (kept while the chain count holds)."""
    size = sum(len(t.chains) for t in rs.tables)
    hit = rs._cache.get("bases")
    if hit is None or hit[0] != size:
        hit = rs._cache["bases"] = (size, [(t, c) for t in rs.tables for c in t.chains.values() if c.is_base])
    return hit[1]


def _ipt_prio(table: str, h: str) -> int:
    from netlab.netfilter.hooks import PRIORITY

    return PRIORITY["nat-dst" if h in _DST_NAT_HOOKS else "nat-src"] if table == "nat" else PRIORITY[table]


def hook_chains(rs: NftRuleset, hook: str, family: int | None = None) -> list[NftChain]:
    """The base chains at ``hook`` for a packet of ``family`` (4, 6 or None: all),
    in the order the kernel runs them."""
    h = _HOOK_NAMES.get(hook.upper(), hook.lower())
    return [c for kind, c in _ordered(rs, h, family) if kind == "nft"]


# ----------------------------------------------------------------- context
class _Ctx(Context):
    """The iptables engine's context plus what nft rules read (IPv6 locals, ct visibility)."""

    def __init__(self, pkt: Packet, **kw: Any) -> None:
        super().__init__(pkt, **kw)
        self.v6 = self.family == 6
        self.local6: set[int] = {1}
        for a in (kw.get("local_addrs") or ()) if not isinstance(kw.get("local_addrs"), str) else \
                kw["local_addrs"].replace(",", " ").split():
            a = str(a).split("/")[0]
            if ":" in a:
                self.local6.add(int(ipaddress.IPv6Address(a)))
        for addrs in (kw.get("iface_addrs") or {}).values():
            for a in [addrs] if isinstance(addrs, str) else addrs:
                a = str(a).split("/")[0]
                if ":" in a:
                    self.local6.add(int(ipaddress.IPv6Address(a)))
        self.ct_seen = True
        self.notracked = self.ct_state == "UNTRACKED"
        self.table: NftTable | None = None


# ----------------------------------------------------------------- values
def _getter(sel: Any) -> Any:
    """A function ctx -> the selector's value (int or str); raises _Miss when absent."""
    key = sel.key
    if key in ("meta iifname", "meta iif"):
        return lambda c: c.in_iface
    if key in ("meta oifname", "meta oif"):
        return lambda c: c.out_iface
    if key == "meta mark":
        return lambda c: c.mark
    if key == "meta l4proto":
        return lambda c: c.proto_num
    if key == "meta nfproto":
        return lambda c: 10 if c.v6 else 2
    if key == "meta protocol":
        return lambda c: 0x86DD if c.v6 else 0x0800
    if key == "meta pkttype":
        def pkttype(c: _Ctx) -> int:
            p = (c.pkttype or "").lower()
            if p:
                return {"host": 0, "unicast": 0, "broadcast": 1, "multicast": 2}.get(p, 3)
            if c.v6:
                return 2 if c.dst >> 120 == 0xFF else 0
            t = c.addr_type(c.dst)
            return 1 if t == "BROADCAST" else 2 if t == "MULTICAST" else 0
        return pkttype
    if key == "meta random":
        def rnd(c: _Ctx) -> int:
            c.note("meta random: the trace's seed= picks the random number", uncertain=False)
            return c.rng.getrandbits(32)
        return rnd
    if key == "numgen":
        mode, mod, off = sel.args

        def numgen(c: _Ctx) -> int:
            c.note(f"numgen {mode}: the trace's seed= picks the number (the kernel's varies)")
            return c.rng.randrange(mod) + off
        return numgen
    proto, _, field = key.partition(" ")
    if proto in ("ip", "ip6"):
        want6 = proto == "ip6"

        def fam_check(c: _Ctx) -> None:
            if c.v6 != want6:
                raise _Miss(f"not an {'IPv6' if want6 else 'IPv4'} packet")
        def saddr(c: _Ctx) -> Any:
            fam_check(c)
            return c.src

        def daddr(c: _Ctx) -> Any:
            fam_check(c)
            return c.dst

        def protocol(c: _Ctx) -> Any:
            fam_check(c)
            return c.proto_num
        if field == "saddr":
            return saddr
        if field == "daddr":
            return daddr
        return protocol
    if proto in _PORT_PROTOS and field in ("dport", "sport"):
        protos = _PORT_PROTOS[proto]
        attr = field

        def port(c: _Ctx) -> int:
            if c.proto not in protos:
                raise _Miss(f"not a {'/'.join(p.upper() for p in protos)} packet ({c.proto})")
            v = getattr(c, attr)
            if v is None:
                raise _Miss(f"the packet has no {attr}")
            return v
        return port
    if key == "tcp flags":
        def flags(c: _Ctx) -> int:
            if c.proto != "tcp":
                raise _Miss(f"not a TCP packet ({c.proto})")
            if c.flags is None:
                raise _Miss("the packet's TCP flags are not given (tcp_flags=)")
            return c.flags
        return flags
    if proto in ("icmp", "icmpv6"):
        names = ("icmp",) if proto == "icmp" else ("icmpv6", "ipv6-icmp", "icmp6")

        def icmp(c: _Ctx) -> int:
            if c.proto not in names:
                raise _Miss(f"not an {proto.upper()} packet ({c.proto})")
            v = c.icmp_type if field == "type" else c.icmp_code
            if v is None:
                raise _Miss(f"the packet's {proto} {field} is not given")
            return v
        return icmp
    if key == "ct state":
        def state(c: _Ctx) -> int:
            if not c.ct_seen:
                return CT_STATE_BITS["untracked"] if c.notracked else CT_STATE_BITS["invalid"]
            return CT_STATE_OF.get(c.ct_state, 1)
        return state
    if key == "ct status":
        def status(c: _Ctx) -> int:
            if not c.ct_seen or c.ct_state in ("INVALID", "UNTRACKED"):
                raise _Miss("the packet has no connection (no ct status)")
            given = ct_field(c.conntrack, "status")
            if given is not None:
                if isinstance(given, int):
                    return given
                bits = 0
                for w in str(given).replace("|", ",").replace(" ", ",").split(","):
                    bits |= CT_STATUS_BITS.get(w.strip().lower().replace("_", "-"), 0)
                return bits
            bits = 0 if c.ct_state == "NEW" else CT_STATUS_BITS["confirmed"] | CT_STATUS_BITS["seen-reply"]
            if "DNAT" in c.nat_states:
                bits |= CT_STATUS_BITS["dnat"]
            if "SNAT" in c.nat_states:
                bits |= CT_STATUS_BITS["snat"]
            if c.ct_state != "NEW" and not c.nat_known:
                c.note("ct status: whether this connection was NATed is not known here "
                       "(pass conntrack= or the packet_after of an earlier trace)", uncertain=True)
            return bits
        return status
    if key == "ct mark":
        return lambda c: c.ctmark
    if key == "ct direction":
        def direction(c: _Ctx) -> int:
            d = ct_field(c.conntrack, "direction", "dir")
            if d is None:
                return 0
            return 1 if str(d).lower() in ("reply", "1") else 0
        return direction
    if key.startswith("ct original"):
        part = key.split()[-1]
        idx = {"saddr": 0, "daddr": 1, "proto-src": 2, "proto-dst": 3}[part]
        return lambda c: c.orig[idx]
    if key == "fib type":
        fib_flags = sel.args

        def fib(c: _Ctx) -> int:
            addr = c.dst if "daddr" in fib_flags else c.src
            iface = c.in_iface if "iif" in fib_flags else (c.out_iface if "oif" in fib_flags else None)
            if c.v6:
                if addr in c.local6 and (iface is None or addr == 1 or not c.iface_addrs_given or iface != "lo"):
                    return FIB_TYPES["local"]
                return FIB_TYPES["multicast"] if addr >> 120 == 0xFF else FIB_TYPES["unicast"]
            if not c.local_given:
                c.note("no local addresses given (local_addrs= or iface_addrs=): fib … type local only "
                       "knows 127.0.0.0/8")
            return _ADDR_TYPE[c.addr_type(addr, iface)]
        return fib
    return None


def _bit(v: int, bitop: tuple[str, int] | None) -> int:
    if bitop is None or not isinstance(v, int):
        return v
    op, x = bitop
    return v & x if op == "and" else v | x if op == "or" else v ^ x


def _show(vtype: str, v: Any, v6: bool) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if vtype == "ipv4_addr" and v6:
        return _ip(v, True)
    if vtype in ("ipv4_addr", "ipv6_addr"):
        return _ip(v, vtype == "ipv6_addr")
    if vtype == "ct_state":
        return _CT_NAMES.get(v, str(v))
    return fmt_atom(vtype, (v, v))


def _values(sels: tuple, getters: list, c: _Ctx) -> tuple:
    return tuple(_bit(g(c), s.bitop) for s, g in zip(sels, getters, strict=True))


def _compile_match(m: Match) -> Any:
    getters = [_getter(s) for s in m.sels]
    if any(g is None or not s.supported for g, s in zip(getters, m.sels, strict=True)):
        reason = Unsupported(f"unsupported: netlab does not model '{m.text}'")
        return lambda c: reason
    sels, op, kind = m.sels, m.op, m.kind
    label = " . ".join(s.text for s in sels)
    vt = [s.vtype for s in sels]

    def shown(vals: tuple, c: _Ctx) -> str:
        return " . ".join(_show(t, v, c.v6) for t, v in zip(vt, vals, strict=True))

    if kind == "flags":
        want = m.elems[0][0][0]
        mask = m.mask

        def flags(c: _Ctx) -> Any:
            try:
                v = _values(sels, getters, c)[0]
            except _Miss as exc:
                return f"{label}: {exc}"
            if mask is not None:
                ok = (v & mask) == want
            elif op == "==":
                ok = v == want
            else:
                ok = (v & want) != 0
            if op == "!=":
                ok = not ok
            return None if ok else f"{label} is {shown((v,), c)}, not {m.text[len(label):].strip()}"
        return flags
    if kind in ("set", "ref"):
        lookup = Lookup(m.elems) if kind == "set" else None
        ref = m.ref

        def inset(c: _Ctx) -> Any:
            try:
                vals = _values(sels, getters, c)
            except _Miss as exc:
                return f"{label}: {exc}"
            if lookup is not None:
                lk = lookup
            else:  # a named set (@ref) of the table being run
                assert c.table is not None and ref is not None
                lk = c.table.sets[ref].lookup
            found = lk.find(vals) is not None
            if found == (op == "=="):
                return None
            where = f"@{ref}" if ref else "the set"
            return f"{label} is {shown(vals, c)}: {'not in' if op == '==' else 'in'} {where}"
        return inset
    atoms = m.elems[0]

    def value(c: _Ctx) -> Any:
        try:
            vals = _values(sels, getters, c)
        except _Miss as exc:
            return f"{label}: {exc}"
        if op in ("==", "!="):
            ok = all(atom_contains(a, v) for a, v in zip(atoms, vals, strict=True))
            if op == "!=":
                ok = not ok
        else:
            v, lo = vals[0], atoms[0]
            bound = lo if isinstance(lo, str) else lo[0]
            ok = {"<": v < bound, ">": v > bound, "<=": v <= bound, ">=": v >= bound}[op]
        if ok:
            return None
        return f"{label} is {shown(vals, c)}, not {m.text[len(label):].strip()}"
    return value


# ----------------------------------------------------------------- actions
def _reply(v: Verdict, c: _Ctx) -> str:
    w = (v.reject_with or "").split()
    code = w[-1] if w else "port-unreachable"
    src, dst = _ip(c.src, c.v6), _ip(c.dst, c.v6)
    if w[:1] == ["tcp"] or code == "reset":
        if c.proto != "tcp":
            return "none: tcp reset only answers TCP packets (the packet is just dropped)"
        return f"TCP RST from {dst}:{c.dport} to {src}:{c.sport}"
    if c.v6 or (w[:1] == ["icmpv6"]):
        return f"ICMPv6 {code} to {src}"
    itype, icode, name = REJECT_REPLIES.get(f"icmp-{code}", REJECT_REPLIES.get(code, (3, None, code)))
    return f"{name} (type {itype} code {icode}) to {src}"


def _nat(n: Nat, rule: NftRule, c: _Ctx, chain: NftChain) -> tuple[NatRewrite | None, str | None]:
    """Carry out a NAT statement; returns (rewrite, reason it could not)."""
    v6 = c.v6
    ports = c.proto in ("tcp", "udp", "sctp", "udplite", "dccp")
    notes: list[str] = []
    kind = n.kind
    if kind in ("DNAT", "SNAT"):
        addr, port = n.addr, n.port
        if n.map_sels:
            getters = [_getter(s) for s in n.map_sels]
            if any(g is None for g in getters):
                c.note(f"{rule.position}: netlab cannot look up '{n.text}'", uncertain=True)
                return None, "unsupported map key"
            try:
                vals = _values(n.map_sels, getters, c)
            except _Miss as exc:
                return None, str(exc)
            if n.map_ref:
                s = c.table.sets[n.map_ref]  # type: ignore[union-attr]
                i, values = s.lookup.find(vals), s.values
            else:
                lk = n._lookup = n._lookup or Lookup(n.map_elems)
                i, values = lk.find(vals), n.map_values
            if i is None:
                return None, f"{' . '.join(str(v) for v in vals)} is not in the map (no NAT, rule does not match)"
            data = values[i]
            addr = data[0] if data else None
            port = data[1] if len(data) > 1 else None
        dest = kind == "DNAT"
        old_a, old_p = (c.dst, c.dport) if dest else (c.src, c.sport)
        new_a = addr[0] if addr else old_a
        if addr and addr[0] != addr[1]:
            notes.append(f"address picked by the kernel from {fmt_atom('ipv6_addr' if v6 else 'ipv4_addr', addr)} "
                         f"(shown: {_ip(addr[0], v6)})")
        new_p = old_p
        if port and ports:
            if port[0] <= (old_p or -1) <= port[1]:
                new_p = old_p
            else:
                new_p = port[0]
                if port[0] != port[1]:
                    notes.append(f"port picked by the kernel from {port[0]}-{port[1]} (shown: {port[0]})")
        if dest:
            c.dst, c.dport = new_a, new_p
        else:
            c.src, c.sport = new_a, new_p
    elif kind == "MASQUERADE":
        old_a, old_p = c.src, c.sport
        new_a = None
        addrs = c.iface_addrs.get(c.out_iface) if c.out_iface and not v6 else None
        if addrs:
            hop = c.next_hop if c.next_hop is not None else c.dst
            same = [ip for ip, plen in addrs if plen and (ip >> (32 - plen)) == (hop >> (32 - plen))]
            new_a = same[0] if same else addrs[0][0]
            notes.append(f"the address of out-interface {c.out_iface}")
        else:
            notes.append(f"the address of out-interface {c.out_iface or '?'} (unknown here: pass iface_addrs=)")
            c.note(f"{rule.position}: masquerade's new source is the address of {c.out_iface or 'the out-interface'}"
                   ", which this trace was not given (iface_addrs=)")
        new_p = old_p
        if n.port and ports:
            new_p = old_p if n.port[0] <= (old_p or -1) <= n.port[1] else n.port[0]
        if new_a is not None:
            c.src = new_a
        c.sport = new_p
    else:  # REDIRECT
        old_a, old_p = c.dst, c.dport
        if c.hook == "OUTPUT" or not c.in_iface:
            new_a = 1 if v6 else 0x7F000001
        else:
            addrs = c.iface_addrs.get(c.in_iface) if not v6 else None
            new_a = addrs[0][0] if addrs else None
            notes.append(f"the primary address of in-interface {c.in_iface}" + ("" if addrs else
                                                                                  " (unknown: pass iface_addrs=)"))
        new_p = n.port[0] if n.port and ports else old_p
        if new_a is not None:
            c.dst = new_a
        c.dport = new_p
    if any(f in n.flags for f in ("random", "fully-random")):
        notes.append("random: port chosen at random by the kernel")
    if "persistent" in n.flags:
        notes.append("persistent: same address for a client each time")
    rw = NatRewrite(kind, (_ip(old_a, v6), old_p), (_ip(new_a, v6) if new_a is not None else None, new_p),
                    rule.position, "; ".join(notes), any(f in n.flags for f in ("random", "fully-random")))
    c.nat_states.add("DNAT" if rw.field == "destination" else "SNAT")
    return rw, None


def _target_text(rule: NftRule) -> str | None:
    for it in reversed(rule.items):
        if isinstance(it, Verdict):
            return str(it)
        if isinstance(it, (Nat, VMap)):
            return it.text
        if isinstance(it, Unknown) and not it.as_match:
            return it.text
    return None


def _compiled(rule: NftRule) -> list:
    comp = rule._compiled
    if comp is None:
        comp = []
        for it in rule.items:
            if isinstance(it, Match):
                comp.append(("match", _compile_match(it), it))
            elif isinstance(it, VMap):
                comp.append(("vmap", [_getter(s) for s in it.sels], it))
            else:
                comp.append((type(it).__name__.lower(), None, it))
        rule._compiled = comp
    return comp


# ----------------------------------------------------------------- walking
class _Outcome:
    __slots__ = ("verdict", "step", "nat", "reply")

    def __init__(self, verdict: str, step: Step | None, nat: NatRewrite | None = None,
                 reply: str | None = None) -> None:
        self.verdict, self.step, self.nat, self.reply = verdict, step, nat, reply


def _run_chain(table: NftTable, start: NftChain, c: _Ctx, steps: list[Step], budget: list[int]) -> _Outcome:
    """Walk one base chain (and what it jumps to); the chain's verdict."""
    tname = table.name
    stack: list[tuple[NftChain, int, int]] = []  # (chain, next rule index, path length)
    path = [start.name]
    chain, i, depth = start, 0, 0
    policy = (start.policy or "accept").upper()

    def policy_step(reason: str) -> _Outcome:
        st = Step(tname, start.name, None, f"{tname}:{start.name}:policy", f"policy {policy.lower()}", True,
                  reason, policy, kind="policy")
        steps.append(st)
        return _Outcome(policy, st)

    while True:
        if i >= len(chain.rules):
            if stack:
                caller, i, plen = stack.pop()
                steps.append(Step(tname, chain.name, None, f"{tname}:{chain.name}:end", "", False,
                                  f"end of {chain.name}, back to {caller.name}", None, kind="return", depth=depth))
                chain = caller
                del path[plen:]
                depth -= 1
                continue
            return policy_step(f"no rule decided: the policy of {start.name} applies")
        if budget[0] <= 0:
            c.note(f"gave up after {len(steps)} steps; the policy of {tname} {start.name} is shown", uncertain=True)
            return policy_step("step limit reached")
        budget[0] -= 1
        rule = chain.rules[i]
        i += 1
        step = Step(tname, chain.name, rule.index, rule.position, rule.text, False, "", _target_text(rule),
                    depth=depth)
        notes: list[str] = []
        action: Verdict | None = None
        nat: NatRewrite | None = None
        failed: str | None = None
        unsupported = False
        try:
            for kind, fn, it in _compiled(rule):
                if kind == "match":
                    r = fn(c)
                    if r is not None:
                        failed, unsupported = str(r), type(r) is Unsupported
                        break
                elif kind == "verdict":
                    action = it
                    break
                elif kind == "vmap":
                    if any(g is None for g in fn):
                        failed, unsupported = f"unsupported: netlab does not model '{it.text}'", True
                        break
                    try:
                        vals = _values(it.sels, fn, c)
                    except _Miss as exc:
                        failed = f"{it.text}: {exc}"
                        break
                    if it.ref:
                        s = table.sets[it.ref]
                        k, verdicts = s.lookup.find(vals), s.values
                    else:
                        it._lookup = it._lookup or Lookup(it.elems)
                        k, verdicts = it._lookup.find(vals), it.verdicts
                    shown = " . ".join(_show(s.vtype, v, c.v6) for s, v in zip(it.sels, vals, strict=True))
                    if k is None:
                        failed = f"{' . '.join(s.text for s in it.sels)} is {shown}: not in " + (
                            f"@{it.ref}" if it.ref else "the map")
                        break
                    action = verdicts[k]
                    notes.append(f"{shown} -> {action}")
                    break
                elif kind == "nat":
                    if chain.type is not None and start.type != "nat":
                        c.note(f"{rule.position}: a NAT statement outside a nat chain (nft refuses it)",
                               uncertain=True)
                    nat, why = _nat(it, rule, c, start)
                    if nat is None:
                        failed = why
                        break
                    break
                elif kind == "setstmt":
                    cur = c.mark if it.source == "mark" else c.ctmark if it.source == "ctmark" else it.value
                    if it.source != "value" and it.op:
                        cur = _bit(cur, (it.op, it.value))
                    cur &= 0xFFFFFFFF
                    if it.target == "mark":
                        c.mark = cur
                    else:
                        c.ctmark = cur
                    notes.append(f"{'packet' if it.target == 'mark' else 'connection'} mark := {cur:#x}")
                elif kind == "effect":
                    if it.kind == "notrack":
                        c.notracked = True
                        c.ct_state = "UNTRACKED"
                        notes.append("notrack: conntrack will not track this packet")
                    elif it.kind == "log":
                        notes.append(f"logged ({it.text})")
                elif kind == "unknown":
                    if it.as_match:
                        failed, unsupported = f"unsupported: netlab does not model '{it.text}'", True
                        break
                    c.note(f"{rule.position}: netlab does not model '{it.text}'; the walk goes on as if it "
                           "let the packet continue", uncertain=True)
                    notes.append(f"'{it.text}' not modelled")
        except Exception as exc:  # noqa: BLE001 - a value netlab cannot evaluate: say so, never guess
            failed, unsupported = f"unsupported: cannot evaluate this rule here ({exc})", True
        if failed is not None:
            step.reason, step.unsupported = failed, unsupported
            if unsupported:
                c.note(f"{rule.position}: {failed}; treated as not matching", uncertain=True)
            steps.append(step)
            continue
        step.matched, step.reason = True, "all conditions hold"
        steps.append(step)
        if nat is not None:
            step.note = "; ".join([*notes, str(nat)])
            return _Outcome("ACCEPT", step, nat)
        if action is None:
            step.note = "; ".join(notes) or "go on with the next rule"
            continue
        verb = action.kind
        if verb in ("jump", "goto"):
            target = table.chains[action.chain]  # type: ignore[index]
            if target.name in path:
                loop = " -> ".join([*path[path.index(target.name):], target.name])
                step.note = f"jump cycle {loop}: the kernel refuses to load such rules; netlab skips this jump"
                c.note(f"{rule.position}: {step.note}", uncertain=True)
                continue
            step.note = "; ".join([*notes, f"{verb} to {target.name}"]) if not notes else "; ".join(notes)
            if verb == "jump":
                stack.append((chain, i, len(path)))
                depth += 1
            path.append(target.name)
            chain, i = target, 0
            continue
        if verb == "continue":
            step.note = "; ".join([*notes, "continue: the next rule"])
            continue
        if verb == "return":
            if stack:
                caller, i, plen = stack.pop()
                step.note = "; ".join([*notes, f"return to {caller.name}"])
                chain = caller
                del path[plen:]
                depth -= 1
                continue
            step.note = "; ".join([*notes, f"return from base chain {start.name}: its policy decides"])
            return policy_step(f"return in base chain {start.name}, so its policy applies")
        if verb == "accept":
            step.note = "; ".join([*notes, f"accept: done with {tname} {start.name} (later base chains "
                                          "at this hook still run)"])
            return _Outcome("ACCEPT", step)
        if verb == "drop":
            step.note = "; ".join([*notes, "drop: the packet is gone (no later chain sees it)"])
            return _Outcome("DROP", step)
        if verb == "reject":
            reply = _reply(action, c)
            step.note = "; ".join([*notes, f"reply: {reply}"])
            return _Outcome("REJECT", step, reply=reply)
        step.note = "; ".join([*notes, "queue: handed to a user-space program"])
        return _Outcome("QUEUE", step)


def trace(rs: NftRuleset, packet: Any, hook: str = "prerouting", in_iface: str | None = None,
          out_iface: str | None = None, local_addrs: Any = (), ct_state: str = "NEW", tables: Any = None,
          seed: int = 0, iface_addrs: dict | None = None, conntrack: Any = None, next_hop: str | None = None,
          nat: bool = True, max_steps: int = 100_000, iptables: Any = None, ipsets: dict | None = None,
          **_ignored: Any) -> Trace:
    """Walk ``packet`` through every base chain at ``hook``, across all tables, by priority.

    Arguments as :meth:`netlab.netfilter.Ruleset.trace`; ``tables`` limits the walk
    to tables named ``"docker-bridges"`` or ``"ip nat"``; ``nat=False`` skips nat
    chains (a packet of a known connection); ``iptables``: an iptables :class:`Ruleset`
    of the same host (iptables-legacy), whose tables run at their fixed priorities
    among the nft chains."""
    pkt = Packet.coerce(packet)
    h = _HOOK_NAMES.get(str(hook).upper(), str(hook).lower())
    if h not in _HOOK_NAMES.values():
        raise NetlabError(f"unknown hook {hook!r}; use prerouting, input, forward, output or postrouting")
    state = (ct_state or "NEW").upper()
    if state not in CT_STATE_OF:
        raise NetlabError(f"unknown ct_state {ct_state!r}; use NEW, ESTABLISHED, RELATED, INVALID or UNTRACKED")
    wanted = None
    if tables is not None:
        wanted = {tables} if isinstance(tables, str) else set(tables)
    ctx = _Ctx(pkt, hook=h.upper(), in_iface=in_iface, out_iface=out_iface, local_addrs=local_addrs,
               ct_state=state, ipsets=ipsets, seed=seed, iface_addrs=iface_addrs, conntrack=conntrack,
               next_hop=next_hop)
    tr = Trace(packet=pkt, hook=h.upper(), in_iface=in_iface, out_iface=out_iface, ct_state=state, ruleset=rs)
    steps = tr.step_list
    budget = [max_steps]
    verdict = "ACCEPT"
    decisions: list[tuple[NftChain, Step | None]] = []
    bound: set[str] = set()
    size = sum(len(t.chains) for t in rs.tables)
    key = ("order", h, ctx.family, id(iptables), size)
    cached = rs._cache.get(key)
    if cached is None:  # the hook's chains in order, and each chain's table: once per rule set
        cached = rs._cache[key] = (_ordered(rs, h, ctx.family, iptables),
                                   {id(c): t for t, c in _bases(rs)})
    ordered, tables_of = cached
    tr.chains = [(obj.table, obj.name, obj.priority or 0, obj.type or "filter") if kind == "nft"
                 else (obj.name, h.upper(), _ipt_prio(obj.name, h), "iptables") for kind, obj in ordered]
    for kind, chain in ordered:
        if kind == "ipt":
            from netlab.netfilter.trace import _run_table

            tname = chain.name
            if wanted is not None and tname not in wanted and f"iptables {tname}" not in wanted:
                continue
            if tname == "nat":
                manip = "DNAT" if h in _DST_NAT_HOOKS else "SNAT"
                if not nat or ctx.ct_state != "NEW" or manip in bound:
                    ctx.note("iptables nat table skipped: only a connection's first packet is NATed, once")
                    continue
            if tname not in tr.tables_run:
                tr.tables_run.append(tname)
            v, decider, nat_rw, reply = _run_table(iptables, chain, h.upper(), ctx, steps, budget)
            decisions.append((NftChain(h.upper(), tname, type="nat" if tname == "nat" else "filter"), decider))
            if nat_rw is not None:
                tr.nat = nat_rw
                bound.add("DNAT" if nat_rw.field == "destination" else "SNAT")
            if v != "ACCEPT":
                verdict, tr.decisive, tr.reply = v, decider, reply
                break
            continue
        table = tables_of[id(chain)]
        if wanted is not None and table.name not in wanted and table.key not in wanted:
            continue
        if chain.device and chain.device.strip('"') != (in_iface if h == "ingress" else out_iface):
            continue  # an ingress/egress chain sees only its own device
        if chain.type == "nat":
            manip = "DNAT" if h in _DST_NAT_HOOKS else "SNAT"
            if not nat or ctx.ct_state != "NEW":
                ctx.note(f"{table.key} {chain.name} skipped: nat chains only see the first packet of a "
                         f"connection (state NEW){'' if nat else ' and this one belongs to a known connection'}")
                continue
            if manip in bound:
                ctx.note(f"{table.key} {chain.name} skipped: an earlier nat chain at this hook already set "
                         "up the connection's NAT")
                continue
        ctx.ct_seen = not (h in ("prerouting", "output") and (chain.priority or 0) < CONNTRACK_PRIO)
        ctx.table = table
        if table.name not in tr.tables_run:
            tr.tables_run.append(table.name)
        out = _run_chain(table, chain, ctx, steps, budget)
        decisions.append((chain, out.step))
        if out.nat is not None:
            tr.nat = out.nat
            bound.add("DNAT" if out.nat.field == "destination" else "SNAT")
        elif chain.type == "nat" and out.verdict == "ACCEPT":
            pass
        if out.verdict != "ACCEPT":
            verdict = out.verdict
            tr.decisive = out.step
            tr.reply = out.reply
            break
    if verdict == "ACCEPT" and decisions:
        rule_decided = [s for ch, s in decisions if s is not None and s.kind == "rule" and ch.type != "nat"]
        tr.decisive = rule_decided[-1] if rule_decided else next(
            (s for _, s in reversed(decisions) if s is not None), None)
    tr.verdict = verdict
    tr.uncertain = ctx.uncertain
    tr.notes = ctx.notes
    tr.mark, tr.ctmark, tr.ct_state_after = ctx.mark, ctx.ctmark, ctx.ct_state
    changes: dict[str, Any] = {}
    if ctx.nat_states:
        o = ctx.orig
        changes["orig"] = (_ip(o[0], ctx.v6), _ip(o[1], ctx.v6), o[2], o[3])
        changes["ct_nat"] = ",".join(sorted(ctx.nat_states))
    tr.packet_after = pkt._rewritten(src=_ip(ctx.src, ctx.v6), dst=_ip(ctx.dst, ctx.v6), sport=ctx.sport,
                                     dport=ctx.dport, mark=ctx.mark, ctmark=ctx.ctmark, **changes)
    return tr


__all__ = ["trace", "hook_chains"]
