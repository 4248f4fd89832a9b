"""Rule conditions, compiled once into small functions that say why they failed.

``compile_matches(rule)`` turns a rule's conditions into a list of predicates.
Each predicate takes the trace :class:`~netlab.netfilter.context.Context` and
returns ``None`` when the packet passes, or the reason it does not in words a
learner can read: ``"in-interface is docker0, rule needs not docker0"``.  A
condition netlab cannot evaluate returns an :class:`Unsupported` reason, which
makes the trace uncertain instead of silently guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from netlab.netfilter.context import TCP_FLAG_BITS, Context, int_to_ip, ip_to_int
from netlab.netfilter.modules import ADDR_TYPES, CT_STATES, MATCHES, SERVICES, TCP_FLAGS
from netlab.netfilter.packet import PROTO_NUMBER
from netlab.netfilter.ruleset import Match, Option, Rule
from netlab.numbers import c_number, is_decimal, to_int

Predicate = Callable[[Context], "str | None"]


class Unsupported(str):
    """A reason saying netlab cannot evaluate this condition."""


class MatchSyntaxError(ValueError):
    """A match option netlab understands the name of but not the value."""


# ---------------------------------------------------------------- helpers
def parse_net(text: str) -> tuple[int, int, int]:
    """``"172.17.0.0/16"`` -> (family, network int, mask int)."""
    addr, _, plen = text.partition("/")
    if ":" in addr:
        net = ipaddress.ip_network(text, strict=False)
        return 6, int(net.network_address), int(net.netmask)
    if addr.count(".") != 3:  # iptables reads 10.1 as 10.1.0.0 where inet_aton says 10.0.0.1
        raise MatchSyntaxError(f"address {addr!r} is not written a.b.c.d (netlab does not read short forms)")
    ip = ip_to_int(addr)
    if not plen:
        mask = 0xFFFFFFFF
    elif "." in plen:
        mask = ip_to_int(plen)
    else:
        p = c_number(plen)  # as iptables reads it: /010 is /8, /0x10 is /16
        if p is None or p > 32:
            raise MatchSyntaxError(f"prefix length {plen!r} is not a number from 0 to 32")
        mask = (0xFFFFFFFF << (32 - p)) & 0xFFFFFFFF if p else 0
    return 4, ip & mask, mask


def addr_text(value: int, family: int) -> str:
    return int_to_ip(value) if family == 4 else str(ipaddress.ip_address(value))


def iface_matches(name: str, pattern: str) -> bool:
    """iptables interface names: ``veth+`` matches every name starting ``veth``."""
    if pattern.endswith("+"):
        return name.startswith(pattern[:-1])
    return name == pattern


def port_number(text: str) -> int:
    """A port: ASCII decimal or a name of :data:`netlab.netfilter.modules.SERVICES`."""
    n = to_int(text)
    if n is not None and 0 <= n <= 65535:
        return n
    if text in SERVICES:
        return SERVICES[text]
    raise MatchSyntaxError(f"unknown port {text!r}")


def port_range(text: str) -> tuple[int, int]:
    """``"80"`` -> (80, 80); ``"1024:65535"``, ``":90"``, ``"1024:"`` ranges."""
    if ":" in text:
        lo, _, hi = text.partition(":")
        return (port_number(lo) if lo else 0, port_number(hi) if hi else 65535)
    if "-" in text and not text.startswith("-"):
        lo, _, hi = text.partition("-")
        return port_number(lo), port_number(hi)
    p = port_number(text)
    return p, p


def _need(neg: bool, text: str | None) -> str | None:
    return f"not {text}" if neg else text


def _ip_pred(field: str, label: str, opt: Option) -> Predicate:
    nets = [parse_net(v) for v in opt.value.split(",")] if opt.value else []
    neg = opt.negated
    shown = opt.value

    def pred(ctx: Context) -> str | None:
        addr = getattr(ctx, field)
        hit = any(fam == ctx.family and (addr & mask) == net for fam, net, mask in nets)
        if hit != neg:
            return None
        return f"{label} is {addr_text(addr, ctx.family)}, rule needs {_need(neg, shown)}"

    if len(nets) == 1 and nets[0][0] == 4:  # the common case, without the loop
        _, net0, mask0 = nets[0]

        def pred1(ctx: Context) -> str | None:
            addr = getattr(ctx, field)
            if (ctx.family == 4 and (addr & mask0) == net0) != neg:
                return None
            return f"{label} is {addr_text(addr, ctx.family)}, rule needs {_need(neg, shown)}"

        return pred1
    return pred


def _iface_pred(field: str, label: str, opt: Option) -> Predicate:
    pattern = opt.value or ""
    neg = opt.negated

    def pred(ctx: Context) -> str | None:
        name = getattr(ctx, field)
        if iface_matches(name, pattern) != neg:
            return None
        have = f"{label} is {name}" if name else f"no {label} at {ctx.hook}"
        return f"{have}, rule needs {_need(neg, pattern)}"

    return pred


def _proto_pred(opt: Option) -> Predicate:
    want = (opt.value or "all").lower()
    neg = opt.negated
    if want in ("all", "0"):
        num = 0
    elif is_decimal(want):
        num = int(want)
    else:
        num = PROTO_NUMBER.get(want, -2)
        if num == -2:
            raise MatchSyntaxError(f"unknown protocol {want!r}")

    def pred(ctx: Context) -> str | None:
        hit = num == 0 or ctx.proto_num == num
        if hit != neg:
            return None
        return f"protocol is {ctx.proto}, rule needs {_need(neg, want)}"

    return pred


def _frag_pred(opt: Option) -> Predicate:
    neg = opt.negated

    def pred(ctx: Context) -> str | None:
        if bool(ctx.fragment) != neg:
            return None
        return "packet is not a later fragment, rule needs -f" if not neg else \
            "packet is a later fragment, rule needs ! -f"

    return pred


def _compile_builtin(m: Match) -> list[Predicate]:
    opt = m.options[0]
    if opt.name == "-s":
        return [_ip_pred("src", "source", opt)]
    if opt.name == "-d":
        return [_ip_pred("dst", "destination", opt)]
    if opt.name == "-i":
        return [_iface_pred("in_iface", "in-interface", opt)]
    if opt.name == "-o":
        return [_iface_pred("out_iface", "out-interface", opt)]
    if opt.name == "-p":
        return [_proto_pred(opt)]
    return [_frag_pred(opt)]


# ---------------------------------------------------------------- tcp / udp / icmp
def _port_pred(field: str, label: str, opt: Option) -> Predicate:
    lo, hi = port_range(opt.value or "")
    neg = opt.negated
    shown = str(lo) if lo == hi else f"{lo}:{hi}"

    def pred(ctx: Context) -> str | None:
        port = getattr(ctx, field)
        hit = port is not None and lo <= port <= hi
        if hit != neg:
            return None
        have = f"{label} is {port}" if port is not None else f"packet has no {label}"
        return f"{have}, rule needs {_need(neg, shown)}"

    return pred


FLAG_NAMES = TCP_FLAGS


def _flags(text: str) -> int:
    bits = 0
    for name in text.upper().split(","):
        if name not in FLAG_NAMES:
            raise MatchSyntaxError(f"unknown TCP flag {name!r}")
        bits |= FLAG_NAMES[name]
    return bits


def _flag_text(bits: int) -> str:
    names = [n for n, b in FLAG_NAMES.items() if b and n != "ALL" and bits & b]
    return ",".join(names) or "none"


def _tcp_flags_pred(mask: int, comp: int, neg: bool, shown: str) -> Predicate:
    def pred(ctx: Context) -> str | None:
        if ctx.flags is None:
            return f"packet is not TCP, rule needs {shown}"
        hit = (ctx.flags & mask) == comp
        if hit != neg:
            return None
        letters = "".join(ch for ch, b in TCP_FLAG_BITS.items() if ctx.flags & b) or "none"
        return f"TCP flags are {letters}, rule needs {_need(neg, shown)}"

    return pred


def _compile_l4(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        n = opt.name
        if n in ("--dport", "--destination-port"):
            preds.append(_port_pred("dport", "destination port", opt))
        elif n in ("--sport", "--source-port"):
            preds.append(_port_pred("sport", "source port", opt))
        elif n == "--tcp-flags" and m.module == "tcp":
            mask, comp = _flags(opt.values[0]), _flags(opt.values[1])
            shown = f"{_flag_text(comp)} set of {_flag_text(mask)}"
            preds.append(_tcp_flags_pred(mask, comp, opt.negated, shown))
        elif n == "--syn" and m.module == "tcp":
            preds.append(_tcp_flags_pred(0x17, 0x02, opt.negated, "SYN set and FIN,RST,ACK clear (--syn)"))
        else:
            preds.append(_unsupported(f"-m {m.module} {n}"))
    return preds


ICMP_TYPES: dict[str, tuple[int, int | None]] = {
    "any": (-1, None), "echo-reply": (0, None), "pong": (0, None),
    "destination-unreachable": (3, None), "network-unreachable": (3, 0),
    "host-unreachable": (3, 1), "protocol-unreachable": (3, 2), "port-unreachable": (3, 3),
    "fragmentation-needed": (3, 4), "source-route-failed": (3, 5),
    "network-unknown": (3, 6), "host-unknown": (3, 7), "network-prohibited": (3, 9),
    "host-prohibited": (3, 10), "TOS-network-unreachable": (3, 11),
    "TOS-host-unreachable": (3, 12), "communication-prohibited": (3, 13),
    "host-precedence-violation": (3, 14), "precedence-cutoff": (3, 15),
    "source-quench": (4, None), "redirect": (5, None), "network-redirect": (5, 0),
    "host-redirect": (5, 1), "TOS-network-redirect": (5, 2), "TOS-host-redirect": (5, 3),
    "echo-request": (8, None), "ping": (8, None), "router-advertisement": (9, None),
    "router-solicitation": (10, None), "time-exceeded": (11, None), "ttl-exceeded": (11, None),
    "ttl-zero-during-transit": (11, 0), "ttl-zero-during-reassembly": (11, 1),
    "parameter-problem": (12, None), "ip-header-bad": (12, 0), "required-option-missing": (12, 1),
    "timestamp-request": (13, None), "timestamp-reply": (14, None),
    "address-mask-request": (17, None), "address-mask-reply": (18, None),
}


def _compile_icmp(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        if opt.name != "--icmp-type":
            preds.append(_unsupported(f"-m icmp {opt.name}"))
            continue
        text = opt.value or "any"
        if text in ICMP_TYPES:
            itype, icode = ICMP_TYPES[text]
        else:
            t, _, c = text.partition("/")
            if not is_decimal(t):
                raise MatchSyntaxError(f"unknown ICMP type {text!r}")
            itype, icode = int(t), (int(c) if c else None)
        neg = opt.negated

        def pred(ctx: Context, itype: int = itype, icode: int | None = icode, text: str = text,
                 neg: bool = neg) -> str | None:
            if ctx.proto != "icmp":
                return f"packet is {ctx.proto}, rule needs ICMP {text}"
            hit = itype == -1 or (ctx.icmp_type == itype and (icode is None or ctx.icmp_code == icode))
            if hit != neg:
                return None
            return f"ICMP type is {ctx.icmp_type}/{ctx.icmp_code or 0}, rule needs {_need(neg, text)}"

        preds.append(pred)
    return preds


def _compile_multiport(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        n = opt.name
        which = {"--dports": ("dport",), "--destination-ports": ("dport",), "--sports": ("sport",),
                 "--source-ports": ("sport",), "--ports": ("sport", "dport")}.get(n)
        if which is None:
            preds.append(_unsupported(f"-m multiport {n}"))
            continue
        ranges = [port_range(p) for p in (opt.value or "").split(",") if p]
        neg = opt.negated
        label = "/".join("source port" if w == "sport" else "destination port" for w in which)

        def pred(ctx: Context, which: tuple[str, ...] = which, ranges=ranges, neg: bool = neg,  # noqa: ANN001
                 label: str = label, shown: str = opt.value or "") -> str | None:
            ports = [getattr(ctx, w) for w in which]
            hit = any(p is not None and lo <= p <= hi for p in ports for lo, hi in ranges)
            if hit != neg:
                return None
            have = "/".join(str(p) for p in ports)
            return f"{label} is {have}, rule needs {_need(neg, 'one of ' + shown)}"

        preds.append(pred)
    return preds


# ---------------------------------------------------------------- addrtype


def _compile_addrtype(m: Match) -> list[Predicate]:
    limit_in = m.option("--limit-iface-in") is not None
    limit_out = m.option("--limit-iface-out") is not None
    preds: list[Predicate] = []
    for opt in m.options:
        if opt.name in ("--limit-iface-in", "--limit-iface-out"):
            continue
        if opt.name not in ("--src-type", "--dst-type"):
            preds.append(_unsupported(f"-m addrtype {opt.name}"))
            continue
        types = frozenset(t.upper() for t in (opt.value or "").split(","))
        bad = types - ADDR_TYPES
        if bad:
            raise MatchSyntaxError(f"unknown address type(s) {sorted(bad)}")
        field = "src" if opt.name == "--src-type" else "dst"
        label = "source" if field == "src" else "destination"
        neg = opt.negated
        shown = ",".join(sorted(types))

        def pred(ctx: Context, field: str = field, types=types, neg: bool = neg,  # noqa: ANN001
                 label: str = label, shown: str = shown) -> str | None:
            addr = getattr(ctx, field)
            if ctx.family != 4:
                return Unsupported("addrtype on IPv6 packets is not modelled")
            iface = None
            where = ""
            if limit_in:
                iface, where = ctx.in_iface, f" on {ctx.in_iface or 'no interface'}"
            elif limit_out:
                iface, where = ctx.out_iface, f" on {ctx.out_iface or 'no interface'}"
            if iface is not None and not ctx.iface_addrs_given and iface != "lo":
                ctx.note("addrtype --limit-iface-* needs each interface's addresses (iface_addrs=); "
                         "used all local addresses instead", uncertain=True)
                iface = None
            kind = ctx.addr_type(addr, iface)
            if "LOCAL" in types and not ctx.local_given and kind != "LOCAL":
                ctx.note("no local addresses given (local_addrs= or iface_addrs=): addrtype LOCAL "
                         "only knew 127.0.0.0/8", uncertain=True)
            if "BROADCAST" in types and not ctx.iface_addrs_given and kind != "BROADCAST":
                ctx.note("no interface addresses with prefixes given (iface_addrs=): addrtype "
                         "BROADCAST only knew 255.255.255.255 and 0.0.0.0/8", uncertain=True)
            hit = kind in types
            if hit != neg:
                return None
            return f"{label} {addr_text(addr, ctx.family)} is {kind}{where}, rule needs {_need(neg, shown)}"

        preds.append(pred)
    return preds


# ---------------------------------------------------------------- conntrack / state


def _ct_states(ctx: Context) -> set[str]:
    from netlab.netfilter.context import ct_field

    states = {ctx.ct_state}
    if ctx.conntrack is not None:
        status = ct_field(ctx.conntrack, "status", "ctstatus") or ()
        if isinstance(status, str):
            status = status.replace(",", " ").split()
        status = {s.upper() for s in status}
        for kind in ("dnat", "snat"):  # a parsed conntrack -L entry says it by its tuples
            if ct_field(ctx.conntrack, kind) is True:
                status.add(kind.upper())
        if "SNAT" in status or "SRC_NAT" in status:
            states.add("SNAT")
        if "DNAT" in status or "DST_NAT" in status:
            states.add("DNAT")
    return states


def _state_pred(opt: Option, what: str) -> Predicate:
    want = frozenset(s.upper() for s in (opt.value or "").split(","))
    bad = want - CT_STATES
    if bad:
        raise MatchSyntaxError(f"unknown connection state(s) {sorted(bad)}")
    neg = opt.negated
    shown = opt.value or ""

    asks_nat = bool(want & {"SNAT", "DNAT"})

    def pred(ctx: Context) -> str | None:
        states = _ct_states(ctx) if ctx.conntrack is not None else {ctx.ct_state}
        if asks_nat:
            states |= ctx.nat_states
            if ctx.conntrack is None and not ctx.nat_known and not ctx.nat_states and (
                    ctx.ct_state != "NEW" or ctx.hook not in ("PREROUTING", "OUTPUT")):
                ctx.note("--ctstate SNAT/DNAT needs conntrack= (with its status) once NAT may "
                         "already have happened; assumed not NATed", uncertain=True)
        hit = bool(states & want)
        if hit != neg:
            return None
        have = ",".join(sorted(states)) if len(states) > 1 else ctx.ct_state
        return f"{what} is {have}, rule needs {_need(neg, shown)}"

    return pred


_CT_ADDR = {"--ctorigsrc": ("orig_src", 0, "original source"),
            "--ctorigdst": ("orig_dst", 1, "original destination"),
            "--ctreplsrc": ("repl_src", None, "reply source"),
            "--ctrepldst": ("repl_dst", None, "reply destination")}
_CT_PORT = {"--ctorigsrcport": ("orig_sport", 2, "original source port"),
            "--ctorigdstport": ("orig_dport", 3, "original destination port"),
            "--ctreplsrcport": ("repl_sport", None, "reply source port"),
            "--ctrepldstport": ("repl_dport", None, "reply destination port")}


def _ct_value(ctx: Context, key: str, orig_index: int | None, label: str) -> int | None:
    from netlab.netfilter.context import ct_field

    raw = ct_field(ctx.conntrack, key, key.replace("repl_", "reply_"), key.replace("_", ""),
                   "ct" + key.replace("_", ""))
    if raw is not None:
        return ip_to_int(str(raw)) if key.endswith(("src", "dst")) else int(raw)
    if orig_index is not None:
        if orig_index >= 2 and ctx.proto not in ("tcp", "udp", "udplite", "sctp", "dccp"):
            return None  # a connection without ports (ICMP...): NAT cannot have given it one
        if ctx.hook not in ("PREROUTING", "OUTPUT") and not ctx.orig_known:
            ctx.note(f"{label} taken from the packet as traced; pass conntrack= for a packet "
                     "NAT may already have changed", uncertain=True)
        return ctx.orig[orig_index]
    ctx.note(f"{label} needs conntrack= (reply tuple)", uncertain=True)
    return None


def _compile_conntrack(m: Match) -> list[Predicate]:
    from netlab.netfilter.context import ct_field

    preds: list[Predicate] = []
    for opt in m.options:
        n = opt.name
        neg = opt.negated
        if n in ("--ctstate", "--state"):
            preds.append(_state_pred(opt, "connection state"))
        elif n in _CT_ADDR:
            key, idx, label = _CT_ADDR[n]
            nets = [parse_net(v) for v in (opt.value or "").split(",")]

            def pred(ctx: Context, key=key, idx=idx, label=label, nets=nets, neg=neg,  # noqa: ANN001
                     shown=opt.value) -> str | None:
                val = _ct_value(ctx, key, idx, label)
                hit = val is not None and any((val & mask) == net for _, net, mask in nets)
                if hit != neg:
                    return None
                have = addr_text(val, ctx.family) if val is not None else "unknown"
                return f"{label} is {have}, rule needs {_need(neg, shown)}"

            preds.append(pred)
        elif n in _CT_PORT:
            key, idx, label = _CT_PORT[n]
            lo, hi = port_range(opt.value or "")

            def pred_port(ctx: Context, key=key, idx=idx, label=label, lo=lo, hi=hi, neg=neg,  # noqa: ANN001
                     shown=opt.value) -> str | None:
                val = _ct_value(ctx, key, idx, label)
                hit = val is not None and lo <= val <= hi
                if hit != neg:
                    return None
                return f"{label} is {val}, rule needs {_need(neg, shown)}"

            preds.append(pred_port)
        elif n == "--ctdir":
            want = (opt.value or "").upper()

            def pred_dir(ctx: Context, want=want, neg=neg) -> str | None:  # noqa: ANN001
                d = ct_field(ctx.conntrack, "direction", "dir", "ctdir")
                if d:
                    d = str(d).upper()
                    d = "REPLY" if d.startswith("REPL") else "ORIGINAL" if d.startswith("ORIG") else d
                else:
                    d = "ORIGINAL"  # the first packet of a connection goes the original way
                    if ctx.ct_state not in ("NEW", "UNTRACKED", "INVALID"):
                        ctx.note(f"--ctdir: a {ctx.ct_state} packet may be a reply; assumed ORIGINAL "
                                 "(pass conntrack={'direction': 'REPLY'} for a reply)", uncertain=True)
                if (d == want) != neg:
                    return None
                return f"packet travels in the {d} direction, rule needs {_need(neg, want)}"

            preds.append(pred_dir)
        elif n == "--ctproto":
            preds.append(_proto_pred(Option("-p", opt.values, neg)))
        elif n == "--ctstatus":
            wanted = {s.upper() for s in (opt.value or "").split(",")}

            def pred_status(ctx: Context, want=wanted, neg=neg, shown=opt.value) -> str | None:  # noqa: ANN001
                status = ct_field(ctx.conntrack, "status", "ctstatus")
                if status is None:
                    ctx.note("--ctstatus needs conntrack= with a status", uncertain=True)
                    status = ()
                if isinstance(status, str):
                    status = status.replace(",", " ").split()
                hit = bool({s.upper() for s in status} & want)
                if hit != neg:
                    return None
                return f"connection status is {','.join(status) or 'unknown'}, rule needs {_need(neg, shown)}"

            preds.append(pred_status)
        else:
            preds.append(_unsupported(f"-m conntrack {n}"))
    return preds


def _compile_state(m: Match) -> list[Predicate]:
    return [_state_pred(o, "connection state") if o.name == "--state" else _unsupported(f"-m state {o.name}")
            for o in m.options]


# ---------------------------------------------------------------- marks
def _mark_value(text: str) -> tuple[int, int]:
    v, _, mask = text.partition("/")
    return int(v, 0), (int(mask, 0) if mask else 0xFFFFFFFF)


def _compile_mark(m: Match, field: str) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        if opt.name != "--mark":
            preds.append(_unsupported(f"-m {m.module} {opt.name}"))
            continue
        value, mask = _mark_value(opt.value or "0")
        neg = opt.negated
        label = "packet mark" if field == "mark" else "connection mark"

        def pred(ctx: Context, value=value, mask=mask, neg=neg, label=label,  # noqa: ANN001
                 shown=opt.value) -> str | None:
            have = getattr(ctx, field)
            if ((have & mask) == value) != neg:
                return None
            return f"{label} is {have:#x}, rule needs {_need(neg, shown)}"

        preds.append(pred)
    return preds


# ---------------------------------------------------------------- ipset
def _member_matches(members, parts_of_packet: list[tuple[int, str, int | None]]) -> bool:  # noqa: ANN001
    """Is the packet in an ipset given as members (``"10.0.0.0/8"``, ``"10.0.0.1,tcp:80"``
    or tuples)?  ``parts_of_packet`` holds, per set dimension, (address, proto, port)."""
    for member in members:
        parts = member if isinstance(member, (tuple, list)) else str(member).split(",")
        if len(parts) != len(parts_of_packet):
            continue
        ok = True
        for part, (addr, proto, port) in zip(parts, parts_of_packet, strict=True):
            part = str(part).strip()
            if "." in part or part.count(":") > 1:  # an address or network
                try:
                    _, net, mask = parse_net(part)
                except (ValueError, OSError):
                    ok = False
                    break
                if (addr & mask) != net:
                    ok = False
                    break
            else:  # a port, maybe with its protocol: "tcp:80" or "80"
                p, _, num = part.rpartition(":")
                if (p and p != proto) or not is_decimal(num) or port is None or int(num) != port:
                    ok = False
                    break
        if ok:
            return True
    return False


def _compile_set(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        if opt.name in ("--return-nomatch", "--no-update-counters", "--no-update-subcounters",
                        "--update-counters", "--update-subcounters"):
            continue
        if opt.name not in ("--match-set", "--set"):
            preds.append(_unsupported(f"-m set {opt.name}"))
            continue
        name, dirs = opt.values[0], opt.values[1].split(",")
        neg = opt.negated

        def pred(ctx: Context, name=name, dirs=dirs, neg=neg) -> str | None:  # noqa: ANN001
            sets = ctx.ipsets or {}
            if name not in sets:
                ctx.note(f"ipset {name!r} unknown: pass ipsets={{'{name}': [...members]}}; "
                         "assumed the packet is not in it", uncertain=True)
                members = ()
            else:
                members = sets[name]
            key = [(ctx.src, ctx.proto, ctx.sport) if d == "src" else (ctx.dst, ctx.proto, ctx.dport)
                   for d in dirs]
            hit = _member_matches(members, key)
            if hit != neg:
                return None
            what = "/".join(("source" if d == "src" else "destination") for d in dirs)
            isin = "is" if hit else "is not"
            return f"{what} {isin} in ipset {name}, rule needs {'not ' if neg else ''}membership"

        preds.append(pred)
    return preds


# ---------------------------------------------------------------- others
def _compile_iprange(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        field = {"--src-range": "src", "--dst-range": "dst"}.get(opt.name)
        if field is None:
            preds.append(_unsupported(f"-m iprange {opt.name}"))
            continue
        a, _, b = (opt.value or "").partition("-")
        lo, hi = ip_to_int(a), ip_to_int(b or a)
        label = "source" if field == "src" else "destination"

        def pred(ctx: Context, field=field, lo=lo, hi=hi, neg=opt.negated, label=label,  # noqa: ANN001
                 shown=opt.value) -> str | None:
            v = getattr(ctx, field)
            if (lo <= v <= hi) != neg:
                return None
            return f"{label} is {addr_text(v, ctx.family)}, rule needs {_need(neg, 'in ' + shown)}"

        preds.append(pred)
    return preds


def _compile_statistic(m: Match) -> list[Predicate]:
    mode = ((o.value if (o := m.option("--mode")) else "random") or "random")
    neg = any(o.negated for o in m.options)
    if mode == "random":
        p_opt = m.option("--probability")
        prob = float(p_opt.value) if p_opt and p_opt.value else 1.0

        def pred(ctx: Context) -> str | None:
            draw = ctx.rng.random()
            hit = draw < prob
            if hit != neg:
                return None
            return (f"random draw {draw:.3f} (seed {ctx.seed}) is not below probability {prob:g}"
                    if not neg else f"random draw {draw:.3f} (seed {ctx.seed}) is below probability {prob:g}")

        return [pred]
    if mode == "nth":
        every = int(o_every.value or 1) if (o_every := m.option("--every")) else 1
        packet = int(o_packet.value or 0) if (o_packet := m.option("--packet")) else 0

        def pred_nth(ctx: Context) -> str | None:
            hit = (ctx.seed % every) == packet
            if hit != neg:
                return None
            return f"packet number {ctx.seed % every} of every {every} (from seed {ctx.seed}), rule needs {packet}"

        return [pred_nth]
    return [_unsupported(f"-m statistic --mode {mode}")]


def _compile_physdev(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        n, neg = opt.name, opt.negated
        if n in ("--physdev-in", "--physdev-out"):
            field = "physdev_in" if n == "--physdev-in" else "physdev_out"
            pattern = opt.value or ""

            def pred(ctx: Context, field=field, pattern=pattern, neg=neg, n=n) -> str | None:  # noqa: ANN001
                name = getattr(ctx, field)
                hit = name is not None and iface_matches(name, pattern)
                if hit != neg:
                    return None
                have = f"bridge port is {name}" if name else "packet is not bridged"
                return f"{have}, rule needs {n} {_need(neg, pattern)}"

            preds.append(pred)
        elif n in ("--physdev-is-in", "--physdev-is-out", "--physdev-is-bridged"):
            def pred_is(ctx: Context, n=n, neg=neg) -> str | None:  # noqa: ANN001
                if n == "--physdev-is-in":
                    hit = ctx.physdev_in is not None
                elif n == "--physdev-is-out":
                    hit = ctx.physdev_out is not None
                else:
                    hit = ctx.physdev_in is not None and ctx.physdev_out is not None
                if hit != neg:
                    return None
                return f"packet {'is' if hit else 'is not'} bridged that way, rule needs {'! ' if neg else ''}{n}"

            preds.append(pred_is)
        else:
            preds.append(_unsupported(f"-m physdev {n}"))
    return preds


def _compile_limit(m: Match) -> list[Predicate]:
    shown = " ".join(f"{o.name} {' '.join(o.values)}".strip() for o in m.options)

    def pred(ctx: Context) -> str | None:
        ctx.note(f"-m limit {shown}: rate limits are not modelled; assumed under the limit")
        return None

    return [pred]


def _compile_pkttype(m: Match) -> list[Predicate]:
    preds: list[Predicate] = []
    for opt in m.options:
        if opt.name != "--pkt-type":
            preds.append(_unsupported(f"-m pkttype {opt.name}"))
            continue
        want = (opt.value or "").lower()

        def pred(ctx: Context, want=want, neg=opt.negated) -> str | None:  # noqa: ANN001
            kind = ctx.pkttype
            if kind is None:
                t = ctx.addr_type(ctx.dst) if ctx.family == 4 else "UNICAST"
                kind = {"BROADCAST": "broadcast", "MULTICAST": "multicast"}.get(t, "unicast")
            if (kind == want) != neg:
                return None
            return f"link-layer packet type is {kind}, rule needs {_need(neg, want)}"

        preds.append(pred)
    return preds


def _compile_length(m: Match) -> list[Predicate]:
    opt = m.option("--length")
    if opt is None:
        return [_unsupported("-m length")]
    lo, hi = port_range(opt.value or "0")

    def pred(ctx: Context) -> str | None:
        if ctx.length is None:
            return Unsupported("packet length unknown (give Packet(length=...))")
        if (lo <= ctx.length <= hi) != opt.negated:
            return None
        return f"length is {ctx.length}, rule needs {_need(opt.negated, opt.value or '')}"

    return [pred]


def _unsupported(what: str) -> Predicate:
    reason = Unsupported(f"unsupported: {what} is not modelled by netlab")

    def pred(ctx: Context) -> str | None:
        return reason

    return pred


def _compile_comment(m: Match) -> list[Predicate]:
    return []


def _compile_plain_mark(m: Match) -> list[Predicate]:
    return _compile_mark(m, "mark")


def _compile_connmark(m: Match) -> list[Predicate]:
    return _compile_mark(m, "ctmark")


#: each modelled module's compiler, from the registry (netlab.netfilter.modules.MATCHES)
COMPILERS: dict[str, Callable[[Match], list[Predicate]]] = {
    m.name: globals()[m.compiler] for m in MATCHES.values() if m.compiler}


def compile_match(m: Match) -> list[Predicate]:
    """The predicates of one match (built-in condition or ``-m`` module)."""
    if not m.module:
        return _compile_builtin(m)
    fn = COMPILERS.get(m.module)
    if fn is None:
        return [_unsupported(f"match -m {m.module}")]
    try:
        return fn(m)
    except (MatchSyntaxError, ValueError, IndexError, OSError) as exc:
        return [_unsupported(f"-m {m.module} ({exc})")]


# the order ip_packet_match() checks the built-in conditions in
_KERNEL_ORDER = {"-s": 0, "-d": 1, "-i": 2, "-o": 3, "-p": 4, "-f": 5}


def compile_matches(rule: Rule) -> list[Predicate]:
    """All predicates of a rule, in the order the kernel checks them."""
    preds: list[Predicate] = []
    builtin = sorted((m for m in rule.matches if not m.module),
                     key=lambda m: _KERNEL_ORDER.get(m.options[0].name, 9))
    for m in builtin + [m for m in rule.matches if m.module]:
        try:
            preds.extend(compile_match(m))
        except (MatchSyntaxError, ValueError, IndexError, OSError) as exc:
            preds.append(_unsupported(f"{m.module or m.options[0].name} ({exc})"))
    return preds


def check(rule: Rule, ctx: Context) -> tuple[bool, str]:
    """(matched, reason in words) for one rule — handy in notebooks and tests."""
    for pred in compile_matches(rule):
        reason = pred(ctx)
        if reason is not None:
            return False, reason
    return True, "all conditions hold"
