"""What a matching rule does: verdicts, jumps, NAT rewrites, marks, logging.

``compile_target(rule)`` returns a function of the trace context giving an
:class:`Action`.  NAT targets rewrite the context (so later tables see the new
addresses) and describe the change as a :class:`NatRewrite`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netlab.netfilter.context import Context, int_to_ip, ip_to_int
from netlab.netfilter.ruleset import Rule, Target

#: targets that end the walk with a verdict for the packet
VERDICTS = frozenset({"ACCEPT", "DROP", "REJECT", "QUEUE", "NFQUEUE"})
#: targets that do something and let the walk go on to the next rule
CONTINUING = frozenset({"LOG", "NFLOG", "ULOG", "TRACE", "MARK", "CONNMARK", "NOTRACK", "CT", "TCPMSS"})
NAT_TARGETS = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT"})

REJECT_REPLIES = {
    "icmp-net-unreachable": (3, 0, "ICMP network unreachable"),
    "net-unreach": (3, 0, "ICMP network unreachable"),
    "icmp-host-unreachable": (3, 1, "ICMP host unreachable"),
    "host-unreach": (3, 1, "ICMP host unreachable"),
    "icmp-proto-unreachable": (3, 2, "ICMP protocol unreachable"),
    "proto-unreach": (3, 2, "ICMP protocol unreachable"),
    "icmp-port-unreachable": (3, 3, "ICMP port unreachable"),
    "port-unreach": (3, 3, "ICMP port unreachable"),
    "icmp-net-prohibited": (3, 9, "ICMP network prohibited"),
    "net-prohib": (3, 9, "ICMP network prohibited"),
    "icmp-host-prohibited": (3, 10, "ICMP host prohibited"),
    "host-prohib": (3, 10, "ICMP host prohibited"),
    "icmp-admin-prohibited": (3, 13, "ICMP administratively prohibited"),
    "admin-prohib": (3, 13, "ICMP administratively prohibited"),
    "tcp-reset": (None, None, "TCP RST"),
    "tcp-rst": (None, None, "TCP RST"),
}


@dataclass
class NatRewrite:
    """One NAT translation: ``kind`` DNAT/SNAT/MASQUERADE/REDIRECT, the
    (address, port) ``before`` and ``after``, the ``rule`` position that did it."""

    kind: str
    before: tuple[str, int | None]
    after: tuple[str | None, int | None]
    rule: str
    note: str = ""
    random: bool = False

    @property
    def field(self) -> str:
        """``"destination"`` for DNAT/REDIRECT, ``"source"`` for SNAT/MASQUERADE."""
        return "destination" if self.kind in ("DNAT", "REDIRECT") else "source"

    def __str__(self) -> str:
        def fmt(addr: str | None, port: int | None) -> str:
            a = addr if addr is not None else "?"
            return f"{a}:{port}" if port is not None else a

        s = f"{self.kind} {self.field} {fmt(*self.before)} -> {fmt(*self.after)} ({self.rule})"
        return s + (f"; {self.note}" if self.note else "")


@dataclass
class Action:
    """What a target did: ``kind`` is verdict/jump/goto/return/continue/nat/unsupported."""

    kind: str
    verdict: str | None = None
    chain: str | None = None
    note: str = ""
    nat: NatRewrite | None = None
    reply: str | None = None


TargetFn = Callable[[Context], Action]


def _port_range(text: str) -> tuple[int, int]:
    a, _, b = text.partition("-")
    return int(a), int(b or a)


def _split_nat_spec(spec: str) -> tuple[str | None, str | None, str | None]:
    """``"1.2.3.4-1.2.3.9:80-90"`` -> ("1.2.3.4", "1.2.3.9", "80-90")."""
    if spec.startswith("["):  # IPv6 [addr]:port
        addr, _, rest = spec[1:].partition("]")
        return addr, None, rest[1:] if rest.startswith(":") else None
    addr, _, ports = spec.partition(":")
    lo, _, hi = addr.partition("-")
    return lo or None, hi or None, ports or None


def _choose_port(current: int | None, ports: str | None) -> tuple[int | None, str]:
    if not ports or current is None:
        return current, ""
    lo, hi = _port_range(ports)
    if lo <= current <= hi:
        return current, ""
    if lo == hi:
        return lo, ""
    return lo, f"port picked by the kernel from {lo}-{hi} (shown: {lo})"


def _nat_to(rule: Rule, t: Target, kind: str, opt_name: str) -> TargetFn:
    opt = t.option(opt_name)
    spec = opt.value if opt and opt.value else ""
    lo, hi, ports = _split_nat_spec(spec)
    rnd = t.option("--random") is not None or t.option("--random-fully") is not None
    persistent = t.option("--persistent") is not None
    position = rule.position
    dest = kind == "DNAT"

    def fn(ctx: Context) -> Action:
        addr_field, port_field = ("dst", "dport") if dest else ("src", "sport")
        old_addr, old_port = getattr(ctx, addr_field), getattr(ctx, port_field)
        notes = []
        new_addr = ip_to_int(lo) if lo else old_addr
        if hi and hi != lo:
            notes.append(f"address picked by the kernel from {lo}-{hi} (shown: {lo})")
        new_port, pnote = _choose_port(old_port, ports) if ctx.proto in ("tcp", "udp", "sctp") \
            else (old_port, "")
        if pnote:
            notes.append(pnote)
        if rnd:
            notes.append("--random: port chosen at random by the kernel")
        if persistent:
            notes.append("--persistent: same address for a client each time")
        setattr(ctx, addr_field, new_addr)
        setattr(ctx, port_field, new_port)
        rw = NatRewrite(kind, (int_to_ip(old_addr), old_port), (int_to_ip(new_addr), new_port),
                        position, "; ".join(notes), rnd)
        return Action("nat", "ACCEPT", note=str(rw), nat=rw)

    return fn


def _masquerade(rule: Rule, t: Target) -> TargetFn:
    ports = o.value if (o := t.option("--to-ports")) else None
    rnd = t.option("--random") is not None or t.option("--random-fully") is not None
    position = rule.position

    def fn(ctx: Context) -> Action:
        old_addr, old_port = ctx.src, ctx.sport
        notes = []
        addrs = ctx.iface_addrs.get(ctx.out_iface) if ctx.out_iface else None
        new_addr: int | None = None
        if addrs:
            hop = ctx.next_hop if ctx.next_hop is not None else ctx.dst
            same = [ip for ip, plen in addrs
                    if plen and (ip >> (32 - plen)) == (hop >> (32 - plen))]
            new_addr = same[0] if same else addrs[0][0]
            notes.append(f"the address of out-interface {ctx.out_iface}")
        else:
            notes.append(f"the address of out-interface {ctx.out_iface or '?'} "
                         "(unknown here: pass iface_addrs={iface: [addresses]})")
            ctx.note(f"{position}: MASQUERADE's new source is the address of {ctx.out_iface or 'the out-interface'}"
                     ", which this trace was not given (iface_addrs=)")
        new_port, pnote = _choose_port(old_port, ports) if ctx.proto in ("tcp", "udp") else (old_port, "")
        if pnote:
            notes.append(pnote)
        if rnd:
            notes.append("--random: port chosen at random by the kernel")
        if new_addr is not None:
            ctx.src = new_addr
        ctx.sport = new_port
        rw = NatRewrite("MASQUERADE", (int_to_ip(old_addr), old_port),
                        (int_to_ip(new_addr) if new_addr is not None else None, new_port),
                        position, "; ".join(notes), rnd)
        return Action("nat", "ACCEPT", note=str(rw), nat=rw)

    return fn


def _redirect(rule: Rule, t: Target) -> TargetFn:
    ports = o.value if (o := t.option("--to-ports")) else None
    rnd = t.option("--random") is not None
    position = rule.position

    def fn(ctx: Context) -> Action:
        old_addr, old_port = ctx.dst, ctx.dport
        notes = []
        if ctx.hook == "OUTPUT" or not ctx.in_iface:
            new_addr: int | None = ip_to_int("127.0.0.1")
        else:
            addrs = ctx.iface_addrs.get(ctx.in_iface)
            new_addr = addrs[0][0] if addrs else None
            notes.append(f"the primary address of in-interface {ctx.in_iface}"
                         + ("" if addrs else " (unknown: pass iface_addrs=)"))
        new_port = old_port
        if ports and ctx.proto in ("tcp", "udp"):
            lo, hi = _port_range(ports)
            new_port = lo
            if hi != lo:
                notes.append(f"port picked from {lo}-{hi} (shown: {lo})")
        if new_addr is not None:
            ctx.dst = new_addr
        ctx.dport = new_port
        rw = NatRewrite("REDIRECT", (int_to_ip(old_addr), old_port),
                        (int_to_ip(new_addr) if new_addr is not None else None, new_port),
                        position, "; ".join(notes), rnd)
        return Action("nat", "ACCEPT", note=str(rw), nat=rw)

    return fn


def _reject(rule: Rule, t: Target) -> TargetFn:
    with_ = o.value if (o := t.option("--reject-with")) else "icmp-port-unreachable"

    def fn(ctx: Context) -> Action:
        itype, icode, name = REJECT_REPLIES.get(with_ or "", (None, None, with_ or "?"))
        src, dst = int_to_ip(ctx.src), int_to_ip(ctx.dst)
        if name == "TCP RST":
            if ctx.proto != "tcp":
                reply = "none: tcp-reset only answers TCP packets (the packet is just dropped)"
            elif ctx.flags is not None and ctx.flags & 0x04:
                reply = "none: the kernel never answers a RST with a RST (the packet is just dropped)"
            else:
                reply = f"TCP RST from {dst}:{ctx.dport} to {src}:{ctx.sport}"
        elif ctx.proto == "icmp" and ctx.icmp_type not in (0, 8, 13, 14, 15, 16, 17, 18, None):
            reply = "none: no ICMP error is sent about an ICMP error (the packet is just dropped)"
        elif ctx.family == 4 and ctx.addr_type(ctx.dst) in ("BROADCAST", "MULTICAST"):
            reply = "none: no ICMP error answers a broadcast or multicast packet (it is just dropped)"
        else:
            reply = f"{name} (type {itype} code {icode}) to {src}"
        return Action("verdict", "REJECT", note=f"reply: {reply}", reply=reply)

    return fn


def _mark(rule: Rule, t: Target, field: str) -> TargetFn:
    ops = [(o.name, o.value or "0") for o in t.options]
    label = "packet mark" if field == "mark" else "connection mark"

    def fn(ctx: Context) -> Action:
        notes = []
        for name, value in ops:
            v, _, m = value.partition("/")
            val, mask = int(v, 0), (int(m, 0) if m else 0xFFFFFFFF)
            cur = getattr(ctx, field)
            if name == "--set-xmark":
                cur = (cur & ~mask & 0xFFFFFFFF) ^ val
            elif name == "--set-mark":
                cur = (cur & ~mask & 0xFFFFFFFF) | val
            elif name == "--and-mark":
                cur &= val
            elif name == "--or-mark":
                cur |= val
            elif name == "--xor-mark":
                cur ^= val
            else:
                continue
            setattr(ctx, field, cur)
            notes.append(f"{label} := {cur:#x}")
        return Action("continue", note="; ".join(notes) or f"{t.name}")

    return fn


def _connmark(rule: Rule, t: Target) -> TargetFn:
    if t.option("--save-mark") or t.option("--restore-mark"):
        def opt_int(name: str) -> int:
            o = t.option(name) or t.option("--mask")
            return int(o.value, 0) if o and o.value else 0xFFFFFFFF

        nfmask, ctmask = opt_int("--nfmask"), opt_int("--ctmask")
        save = t.option("--save-mark") is not None

        def fn(ctx: Context) -> Action:
            if save:
                ctx.ctmark = (ctx.ctmark & ~ctmask & 0xFFFFFFFF) ^ (ctx.mark & nfmask)
                return Action("continue", note=f"connection mark := {ctx.ctmark:#x} (saved from packet mark)")
            ctx.mark = (ctx.mark & ~nfmask & 0xFFFFFFFF) ^ (ctx.ctmark & ctmask)
            return Action("continue", note=f"packet mark := {ctx.mark:#x} (restored from connection mark)")

        return fn
    return _mark(rule, t, "ctmark")


def _notrack(rule: Rule, t: Target) -> TargetFn:
    def fn(ctx: Context) -> Action:
        if t.name == "CT" and not t.option("--notrack"):
            opts = " ".join(f"{o.name} {' '.join(o.values)}".strip() for o in t.options)
            return Action("continue", note=f"CT {opts}: conntrack setting noted (no effect on the path)")
        ctx.ct_state = "UNTRACKED"
        return Action("continue", note="connection tracking switched off: state is now UNTRACKED, "
                      "and the nat table will not see this packet")

    return fn


def _log(rule: Rule, t: Target) -> TargetFn:
    prefix = t.option("--log-prefix") or t.option("--nflog-prefix") or t.option("--ulog-prefix")
    text = f"{t.name}: logged" + (f" with prefix {prefix.value!r}" if prefix else "")
    if t.name == "TRACE":
        text = "TRACE: the kernel would log every rule this packet meets (what netlab shows here)"
    elif t.name == "TCPMSS":
        text = "TCPMSS: the MSS option of a SYN is clamped; the path is unchanged"

    def fn(ctx: Context) -> Action:
        return Action("continue", note=text)

    return fn


def _queue(rule: Rule, t: Target) -> TargetFn:
    bypass = t.option("--queue-bypass") is not None

    def fn(ctx: Context) -> Action:
        ctx.note(f"{rule.position}: {t.name} hands the packet to a userspace program, which decides "
                 "its fate" + (" (accepted if none listens: --queue-bypass)" if bypass else ""),
                 uncertain=True)
        return Action("verdict", "QUEUE", note="queued to userspace")

    return fn


def _ipv4_only(fn: TargetFn, name: str) -> TargetFn:
    def wrapped(ctx: Context) -> Action:
        if ctx.family != 4:
            return Action("unsupported", note=f"unsupported: {name} of IPv6 packets is not modelled")
        return fn(ctx)

    return wrapped


def compile_target(rule: Rule, chains: dict | None = None) -> TargetFn:
    """The function that carries out a rule's target."""
    fn = _compile_target(rule, chains)
    name = rule.target_name
    return _ipv4_only(fn, name) if name in NAT_TARGETS or name == "REJECT" else fn


def _compile_target(rule: Rule, chains: dict | None = None) -> TargetFn:
    t = rule.target
    if t is None:
        return lambda ctx: Action("continue", note="no target: counters only")
    name = t.name
    if chains is not None and name in chains:
        kind = "goto" if t.goto else "jump"
        return lambda ctx: Action(kind, chain=name)
    if name in ("ACCEPT", "DROP"):
        return lambda ctx: Action("verdict", name)
    if name == "RETURN":
        return lambda ctx: Action("return")
    if name == "REJECT":
        return _reject(rule, t)
    if name == "DNAT":
        return _nat_to(rule, t, "DNAT", "--to-destination")
    if name == "SNAT":
        return _nat_to(rule, t, "SNAT", "--to-source")
    if name == "MASQUERADE":
        return _masquerade(rule, t)
    if name == "REDIRECT":
        return _redirect(rule, t)
    if name == "MARK":
        return _mark(rule, t, "mark")
    if name == "CONNMARK":
        return _connmark(rule, t)
    if name in ("NOTRACK", "CT"):
        return _notrack(rule, t)
    if name in ("LOG", "NFLOG", "ULOG", "TRACE", "TCPMSS"):
        return _log(rule, t)
    if name in ("QUEUE", "NFQUEUE"):
        return _queue(rule, t)
    if chains is not None and (name.isupper() is False or "-" in name):
        return lambda ctx: Action("unsupported", note=f"jump to chain {name}, which does not exist "
                                  "in this table (iptables-restore would refuse this rule)")
    return lambda ctx: Action("unsupported", note=f"unsupported target {name}: its effect is not "
                              "modelled; the walk goes on as if it let the packet continue")
