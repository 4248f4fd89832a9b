"""Is a rule's text valid iptables syntax?  The checks ``iptables-restore`` makes.

Two kinds of trouble are kept apart.  Text ``iptables-restore`` itself refuses
(an address like ``300.1.1.1``, a prefix ``/33``, a port ``99999`` or
``eighty``, ``-j`` without a target, two ``-j``, an option no loaded module
knows, counters that are not numbers) is not a rule at all: :func:`rule_error`
says what is wrong in words and the parser raises :class:`netlab.ParseError`.
Valid text using a match or target netlab does not model (``-m recent``,
``-j TPROXY``, ``-m owner``) passes here; the trace shows it as unsupported.

Options of modules netlab does not know are not judged (their arity is
unknown); every option of a module it knows is.  The common words (a dotted
address, a port number) are checked with one precompiled regex each, so a
Kubernetes-sized rule set stays fast to read.
"""

from __future__ import annotations

import functools
import re
import socket
from collections.abc import Callable, Sequence

from netlab.netfilter.modules import ADDR_TYPES, CT_STATES, MATCHES, SERVICES, TARGETS, TCP_FLAGS
from netlab.numbers import c_number, is_decimal

#: options every rule may have, with the name iptables uses in "multiple -X flags"
_BUILTIN = {
    "-s": "-s", "--source": "-s", "--src": "-s",
    "-d": "-d", "--destination": "-d", "--dst": "-d",
    "-p": "-p", "--protocol": "-p", "--proto": "-p",
    "-i": "-i", "--in-interface": "-i",
    "-o": "-o", "--out-interface": "-o",
    "-f": "-f", "--fragment": "-f",
    "-j": "-j", "--jump": "-j", "-g": "-j", "--goto": "-j",
    "-m": "-m", "--match": "-m",
    "-c": "-c", "--set-counters": "-c",
}

_PORT1 = ("--sport", "--source-port", "--dport", "--destination-port")
#: options (with how many values each takes) of the match modules netlab knows (modules.MATCHES)
MATCH_OPTIONS: dict[str, dict[str, int]] = {m.name: m.options for m in MATCHES.values()}
#: options of the targets netlab knows (a user chain takes none)
TARGET_OPTIONS: dict[str, dict[str, int]] = {t.name: t.options for t in TARGETS.values() if t.options_known}
#: matches and targets a trace evaluates (netlab.netfilter.matches.COMPILERS, targets.py)
MODELLED_MATCHES = frozenset(m.name for m in MATCHES.values() if m.compiler)
MODELLED_TARGETS = frozenset(t.name for t in TARGETS.values() if t.modelled)
#: the option a match module or target cannot go without
REQUIRED = {**{m.name: m.required for m in MATCHES.values() if m.required},
            **{"-j " + t.name: t.required for t in TARGETS.values() if t.required}}
#: match modules that need a ``-p`` protocol, and which
_NEEDS_PROTO = {m.name: m.needs_proto for m in MATCHES.values() if m.needs_proto}
#: target extensions iptables ships (a -j NAME that is none of these must be a chain)
TARGET_EXTENSIONS = frozenset({
    "ACCEPT", "DROP", "RETURN", "QUEUE", "AUDIT", "CHECKSUM", "CLASSIFY", "CLUSTERIP", "CONNMARK",
    "CONNSECMARK", "CT", "DNAT", "DSCP", "ECN", "HMARK", "IDLETIMER", "LED", "LOG", "MARK",
    "MASQUERADE", "NETMAP", "NFLOG", "NFQUEUE", "NOTRACK", "RATEEST", "REDIRECT", "REJECT",
    "SECMARK", "SET", "SNAT", "SYNPROXY", "TCPMSS", "TCPOPTSTRIP", "TEE", "TOS", "TPROXY", "TRACE",
    "TTL", "ULOG", "DNPT", "SNPT", "HL",
    # xtables-addons, which some hosts add
    "ACCOUNT", "CHAOS", "DELUDE", "DHCPMAC", "DNETMAP", "ECHO", "IPMARK", "LOGMARK", "PROTO",
    "SYSRQ", "TARPIT",
})
#: the protocol whose module ``-p`` loads for an option no ``-m`` module knows
_PROTO_MODULE = {"tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp", "1": "icmp"}
_PORT_OPTIONS = frozenset({*_PORT1, "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport",
                           "--ctrepldstport"})
_MULTIPORT = frozenset({"--sports", "--source-ports", "--dports", "--destination-ports", "--ports"})
_ADDR_OPTIONS = frozenset({"--ctorigsrc", "--ctorigdst", "--ctreplsrc", "--ctrepldst"})

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4_NET = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}(?:/(?:3[0-2]|[12]?\d))?")
_PORT = re.compile(r"(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3}|0)")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._+-]*")
_NUMERIC = re.compile(r"[\d.]+")
_MODULE_NAME = re.compile(r"[a-z][a-z0-9_]*")

#: how the reason for an IPv6 address in an IPv4 rule begins (the parser then tries IPv6)
V6_IN_V4 = "an IPv6 address in an iptables rule"


_NO_NAMES = " (iptables-save and iptables -S print addresses, never host names)"


def _ipv4_error(text: str, what: str) -> str | None:
    """Why ``text`` is no IPv4 address/network iptables reads, or None."""
    if _IPV4_NET.fullmatch(text):
        return None
    addr, slash, plen = text.partition("/")
    if is_decimal(addr[:1]) and addr.isascii():
        try:
            socket.inet_aton(addr)  # what iptables accepts: 10.1, 010.0.0.1, 0x0a.0.0.1 …
        except (OSError, ValueError):
            return f"{what} {addr!r} is not an IPv4 address (each of the four numbers is 0-255)"
    elif ":" in addr:
        return f"{V6_IN_V4} ({what} {addr}); iptables rules hold IPv4 addresses (ip6tables rules IPv6 ones)"
    else:
        return f"{what} {addr!r} is not an IPv4 address{_NO_NAMES if _NAME.fullmatch(addr) else ''}"
    if slash:
        bits = c_number(plen)
        if bits is not None:
            if bits > 32:
                return f"prefix length {plen} is longer than 32"
        elif is_decimal(plen):  # 08, 09: not octal
            return f"prefix length {plen} has a leading zero, which iptables reads as octal; write /{int(plen)}"
        elif _NUMERIC.fullmatch(plen):
            try:
                socket.inet_aton(plen)
            except OSError:
                return f"mask {plen!r} is not a dotted mask like 255.255.0.0"
        else:
            return f"prefix length {plen!r} is not a number from 0 to 32"
    return None


def _ipv6_error(text: str, what: str) -> str | None:
    import ipaddress

    addr, slash, plen = text.partition("/")
    if ":" not in addr:
        return f"{what} {addr!r} is not an IPv6 address{_NO_NAMES if _NAME.fullmatch(addr) else ''}"
    if ":" in addr:
        try:
            ipaddress.IPv6Address(addr)
        except ValueError:
            return f"{what} {addr!r} is not an IPv6 address"
    if slash and not (is_decimal(plen) and int(plen) <= 128):
        return (f"prefix length {plen} is longer than 128" if is_decimal(plen)
                else f"prefix length {plen!r} is not a number from 0 to 128")
    return None


def _addr_error(value: str, what: str, family: int) -> str | None:
    check = _ipv4_error if family == 4 else _ipv6_error
    for part in value.split(","):
        if not part:
            return f"{what} {value!r} has an empty item in its list"
        err = check(part, what)
        if err:
            return err
    return None


def port_value(text: str, proto: str = "tcp") -> int | None:
    """The port ``text`` names (a number 0-65535 or a service name), or None."""
    if _PORT.fullmatch(text):
        return int(text)
    return SERVICES.get(text)


def _port_error(text: str, what: str, proto: str, ranges: bool = True) -> str | None:
    if _PORT.fullmatch(text):
        return None
    parts = text.split(":") if ranges else [text]
    if len(parts) > 2:
        return f"{what} {text!r} is not a port or a range like 1024:65535"
    nums: list[int | None] = []
    for p in parts:
        if p == "" and len(parts) == 2:
            nums.append(None)
            continue
        v = port_value(p, proto)
        if v is None:
            if is_decimal(p):
                if p.startswith("0") and int(p) <= 65535:
                    return f"{what} {p} has a leading zero, which iptables refuses; write {int(p)}"
                return f"{what} {p} is out of range (ports are 0-65535)"
            return (f"{what} {p!r} is neither a port number (0-65535) nor a service name "
                    f"(netlab knows {', '.join(list(SERVICES)[:6])} …: netlab.netfilter.modules.SERVICES)")
        nums.append(v)
    if len(nums) == 2 and None not in nums and nums[0] > nums[1]:  # type: ignore[operator]
        return f"{what} range {text} runs backwards ({nums[0]} > {nums[1]}); write low:high"
    return None


def _multiport_error(text: str, what: str, proto: str) -> str | None:
    count = 0
    for item in text.split(","):
        if not item:
            return f"{what} {text!r} has an empty item in its list"
        err = _port_error(item, what, proto)
        if err:
            return err
        count += 2 if ":" in item else 1
    if count > 15:
        return f"{what} lists {count} ports (a range counts as two); multiport takes at most 15"
    return None


def _nat_error(value: str, what: str) -> str | None:
    """``1.2.3.4``, ``1.2.3.4-1.2.3.9``, ``1.2.3.4:80``, ``:80-90``."""
    addr, _, ports = value.partition(":")
    for a in addr.split("-") if addr else ():
        # dotted quads written plainly; a bare number (80 is 0.0.0.80) as iptables also takes
        if not (_IPV4_NET.fullmatch(a) and "/" not in a) and not (is_decimal(a)
                                                                  and int(a) <= 0xFFFFFFFF):
            return f"{what} {a!r} is not an IPv4 address"
    for p in ports.split("-") if ports else ():
        if not _PORT.fullmatch(p):
            return f"{what} port {p!r} is not a port number (0-65535)"
    if not addr and not ports:
        return f"{what} is empty"
    return None


_OWNED: dict[tuple[str, int], dict[str, tuple[int, int]]] = {}


def _owned(name: str, table: dict[str, int], k: int) -> dict[str, tuple[int, int]]:
    """``table``'s options as {option: (arity, k)}: module number ``k`` of the rule owns them."""
    d = _OWNED.get((name, k))
    if d is None:
        d = _OWNED[(name, k)] = {o: (a, k) for o, a in table.items()}
    return d


def rule_error(words: Sequence[str], start: int = 2, family: int = 4,
               unmodelled: set[str] | None = None) -> tuple[str | None, str | None]:
    """Check the words of a rule from ``start`` on (after ``-A CHAIN``).

    Returns ``(error, target)``: the first thing ``iptables-restore`` would
    refuse, in words (None when the text is valid), and the ``-j``/``-g``
    target named (None when there is none).  Matches and targets netlab does
    not model (``-m recent``, ``-j TPROXY``) are added to ``unmodelled``."""
    seen: set[str] = set()
    # the options the modules so far take: {option: (arity, which module)}; ``lenient``
    # once a module netlab does not know is loaded (its options are not judged);
    # ``once`` holds (module, option) given, as each option is allowed once per match
    known: dict[str, tuple[int, int]] = {}
    modules = 0
    lenient = False
    once: set[tuple[int, str]] = set()
    required: list[tuple[int, str]] = []  # (module number, name) of modules with a must-have option
    proto = ""
    target: str | None = None
    n = len(words)
    i = start
    while i < n:
        tok = words[i]
        if tok == "!":
            i += 1
            if i < n:
                after = words[i]
                if after == "!":
                    return "multiple consecutive ! not allowed", target
                if _BUILTIN.get(after) in ("-m", "-j", "-c"):
                    return f"! cannot stand before {after} (it negates a condition)", target
            continue
        canon = _BUILTIN.get(tok)
        if canon is not None:
            if canon == "-f":
                if "-f" in seen:
                    return "multiple -f flags not allowed", target
                seen.add("-f")
                i += 1
                continue
            if canon == "-c":
                if i + 2 >= n:
                    return f"{tok} needs two numbers: packets and bytes", target
                if not is_decimal(words[i + 1]):
                    return f"{tok} packet counter {words[i + 1]!r} is not a number", target
                if not is_decimal(words[i + 2]):
                    return f"{tok} byte counter {words[i + 2]!r} is not a number", target
                i += 3
                continue
            if i + 1 >= n:
                return f"option {tok} needs a value" if canon != "-j" else f"{tok} needs a target", target
            value = words[i + 1]
            if value == "!" and canon != "-j":
                nxt = words[i + 2] if i + 2 < n else "-"
                if canon in ("-i", "-o") and nxt[:1] == "-":
                    i += 2  # `-i ! -o x`: iptables reads "!" as the interface's name
                    continue
                return _old_negation(tok), target
            i += 2
            if canon == "-m":
                table = MATCH_OPTIONS.get(value)
                if table is None:
                    if _MODULE_NAME.fullmatch(value) is None:
                        return f"no match module is called {value!r} (module names are like tcp, conntrack)", target
                    lenient = True
                    if unmodelled is not None and value not in MODELLED_MATCHES:
                        unmodelled.add(f"-m {value}")
                else:
                    known.update(_owned(value, table, modules))
                    if value in REQUIRED:
                        required.append((modules, value))
                    if value in _NEEDS_PROTO:
                        required.append((-1, value))
                modules += 1
                continue
            if canon in seen:
                return f"multiple {canon} flags not allowed", target
            seen.add(canon)
            if canon == "-j":
                if value.startswith("-") or value == "!":
                    return f"{tok} needs a target, got {value!r}", target
                target = value
                table = TARGET_OPTIONS.get(value)
                if table is not None:
                    known.update(_owned("-j " + value, table, modules))
                    if "-j " + value in REQUIRED:
                        required.append((modules, "-j " + value))
                elif value in TARGET_EXTENSIONS:
                    lenient = True
                    if unmodelled is not None and value not in MODELLED_TARGETS:
                        unmodelled.add(f"-j {value}")
                modules += 1
            elif canon == "-s" or canon == "-d":
                if family != 4 or _IPV4_NET.fullmatch(value) is None:
                    err = _addr_error(value, "source" if canon == "-s" else "destination", family)
                    if err:
                        return err, target
            elif canon == "-p":
                proto = value.lower()
                err = _proto_error(proto)
                if err:
                    return err, target
            elif (canon == "-i" or canon == "-o") and (len(value) > 15 or not value):
                if not value:
                    return f"{tok} needs an interface name (it is empty)", target
                return (f"interface name {value!r} is {len(value)} characters long; Linux allows at "
                        "most 15 (IFNAMSIZ)"), target
            continue
        if tok[:1] != "-" or len(tok) < 2:
            return f"unexpected word {tok!r} (not an option, nor the value of one)", target
        # an option of a module: find who knows it
        hit = known.get(tok)
        if hit is None and proto in _PROTO_MODULE and target is None:
            name = _PROTO_MODULE[proto]
            table = MATCH_OPTIONS[name]
            if tok in table:  # -p tcp loads the tcp module for an option no other takes
                known.update(_owned(name, table, modules))
                modules += 1
                hit = known[tok]
        if hit is None:
            if lenient:  # a module netlab does not know may own it: skip its values unjudged
                i += 1
                while i < n and words[i][:1] != "-" and words[i] != "!":
                    i += 1
                continue
            where = f" nor -j {target}" if target else ""
            need = " (ports need -p tcp or -p udp first)" if tok in _PORT1 else ""
            return (f"unknown option {tok}: no rule option, and no -m module of this rule{where}, "
                    f"takes it{need}"), target
        arity, owner = hit
        key = (owner, _SAME.get(tok, tok))
        if key in once:
            return f"only one {tok} allowed in one -m match (use a second -m, or multiport)", target
        once.add(key)
        j = i + 1
        if j < n and words[j] == "!" and arity:
            return _old_negation(tok), target
        if j + arity > n:
            return f"option {tok} needs {'a value' if arity == 1 else f'{arity} values'}", target
        if arity == 1:
            check = _CHECKS.get(tok)
            if check is not None:
                err = check(words[j], tok, proto, family)
                if err:
                    return err, target
        elif arity == 2 and tok == "--tcp-flags":
            err = (_names_error(words[j], _TCP_FLAGS, "TCP flag", prefix=False)
                   or _names_error(words[j + 1], _TCP_FLAGS, "TCP flag", prefix=False))
            if err:
                return err, target
        i = j + arity
    for k, module in required:
        if k < 0:
            if proto not in _NEEDS_PROTO[module]:
                return (f"-m {module} needs -p {' or -p '.join(p for p in _NEEDS_PROTO[module] if not is_decimal(p))}"
                        + (f" (the rule has -p {proto})" if proto else "")), target
        elif (k, REQUIRED[module]) not in once:
            what = module if module.startswith("-j") else f"-m {module}"
            return f"{what} needs {REQUIRED[module]}", target
    return None, target


def _proto_error(proto: str) -> str | None:
    """Why ``-p proto`` names no protocol (a name from /etc/protocols or 0-255), or None."""
    if proto in _PROTOCOLS or (is_decimal(proto) and int(proto) <= 255):
        return None
    try:
        socket.getprotobyname(proto)
        return None
    except (OSError, ValueError):
        return f"unknown protocol {proto!r} (a name such as tcp, udp, icmp, or a number 0-255)"


def _old_negation(option: str) -> str:
    return (f"`{option} !` is the old way to negate, which iptables 1.8 refuses; write `! {option} …` "
            "(the ! before the option)")


_CT_STATES = CT_STATES
_ADDR_TYPES = ADDR_TYPES
_TCP_FLAGS = frozenset(TCP_FLAGS)
_MARK = re.compile(r"(?:0[xX][0-9a-fA-F]+|\d+)(?:/(?:0[xX][0-9a-fA-F]+|\d+))?")


_PROTOCOLS = frozenset({"all", "tcp", "udp", "icmp", "udplite", "sctp", "dccp", "gre", "esp", "ah",
                        "ipv6-icmp", "icmpv6", "mh", "igmp", "ipip", "ipv6", "ospf", "vrrp", "pim"})


def _reject_error(value: str) -> str | None:
    if _abbreviates(value, _reject_names()):
        return None
    return f"unknown reject type {value!r} (such as icmp-port-unreachable or tcp-reset)"


_REJECT6 = frozenset({"icmp6-no-route", "no-route", "icmp6-adm-prohibited", "adm-prohibited",
                      "icmp6-addr-unreachable", "addr-unreach", "icmp6-port-unreachable",
                      "icmp6-policy-fail", "icmp6-reject-route"})


def _abbreviates(word: str, known: frozenset[str]) -> bool:
    """Is ``word`` a name of ``known`` or its start, in any case (as iptables reads
    address types, connection states, ICMP types and reject types)?"""
    w = word.upper()
    return bool(w) and (w in known or any(k.startswith(w) for k in known))


def _names_error(value: str, known: frozenset[str], what: str, prefix: bool = True) -> str | None:
    """The first item of a comma list that names none of ``known`` (TCP flags must be
    whole names; other lists may abbreviate, as iptables allows)."""
    for v in value.split(","):
        if not (_abbreviates(v, known) if prefix else v.upper() in known):
            return f"unknown {what} {v!r} (known: {', '.join(sorted(known))})"
    return None


def _icmp_error(value: str) -> str | None:
    from netlab.netfilter.matches import ICMP_TYPES

    if value in ICMP_TYPES or _abbreviates(value, _icmp_names()):
        return None
    t, slash, c = value.partition("/")
    if is_decimal(t) and int(t) <= 255 and (not slash or (is_decimal(c) and int(c) <= 255)):
        return None
    return f"unknown ICMP type {value!r} (a name such as echo-request, or TYPE/CODE numbers)"


@functools.cache
def _icmp_names() -> frozenset[str]:
    from netlab.netfilter.matches import ICMP_TYPES

    return frozenset(k.upper() for k in ICMP_TYPES)


@functools.cache
def _reject_names() -> frozenset[str]:
    from netlab.netfilter.targets import REJECT_REPLIES

    return frozenset(k.upper() for k in (*REJECT_REPLIES, *_REJECT6))


def _mark_error(value: str) -> str | None:
    if _MARK.fullmatch(value) and all(int(v, 0) <= 0xFFFFFFFF for v in value.split("/")):
        return None
    return f"mark {value!r} is not VALUE or VALUE/MASK (32-bit numbers, such as 0x4000/0x4000)"


def _probability_error(value: str) -> str | None:
    try:
        p = float(value)
    except ValueError:
        p = -1.0
    return None if 0.0 <= p <= 1.0 else f"probability {value!r} is not a number from 0 to 1"


#: checks of one option's value (option name -> function of the value)
_VALUE_CHECKS = {
    "--ctstate": lambda v: _names_error(v, _CT_STATES, "connection state"),
    "--state": lambda v: _names_error(v, _CT_STATES, "connection state"),
    "--src-type": lambda v: _names_error(v, _ADDR_TYPES, "address type"),
    "--dst-type": lambda v: _names_error(v, _ADDR_TYPES, "address type"),
    "--icmp-type": _icmp_error,
    "--mark": _mark_error, "--set-xmark": _mark_error, "--set-mark": _mark_error,
    "--probability": _probability_error,
    "--reject-with": _reject_error,
}
def _value_only(check: Callable[[str], str | None]) -> Callable[[str, str, str, int], str | None]:
    return lambda v, o, p, f: check(v)


#: every option whose value is checked: name -> function(value, option, protocol, family)
_CHECKS: dict[str, Callable[[str, str, str, int], str | None]] = {
    **{o: lambda v, o, p, f: None if _PORT.fullmatch(v) else _port_error(v, "port", p)
       for o in _PORT_OPTIONS},
    **{o: lambda v, o, p, f: _multiport_error(v, "port", p) for o in _MULTIPORT},
    **{o: lambda v, o, p, f: _addr_error(v, "address", f) for o in _ADDR_OPTIONS},
    "--to-destination": lambda v, o, p, f: _nat_error(v, o) if f == 4 else None,
    "--to-source": lambda v, o, p, f: _nat_error(v, o) if f == 4 else None,
    "--to-ports": lambda v, o, p, f: _port_error(v.replace("-", ":", 1), "port", p),
    **{o: _value_only(c) for o, c in _VALUE_CHECKS.items()},
}
#: long and short spellings of one option (iptables allows each once per match)
_SAME = {"--source-port": "--sport", "--destination-port": "--dport", "--source-ports": "--sports",
         "--destination-ports": "--dports"}


def policy_error(policy: str) -> str | None:
    """Why ``policy`` cannot be a built-in chain's policy, or None."""
    if policy in ("ACCEPT", "DROP"):
        return None
    return f"bad policy {policy!r}: a built-in chain's policy is ACCEPT or DROP"


__all__ = ["V6_IN_V4", "rule_error", "check_rule", "c_number", "policy_error", "port_value", "MATCH_OPTIONS", "TARGET_OPTIONS",
           "TARGET_EXTENSIONS", "SERVICES"]



# ---------------------------------------------------------------- the fast path
# Rules of a big rule set repeat a few shapes (kube-proxy writes 52,000 rules from a
# dozen templates).  A rule made only of (option, value) pairs, with no `!` and no
# module netlab does not know, is judged once per shape by `rule_error`; later rules
# of that shape only have their values checked (an address, a port) and the words
# that fix the shape (-m NAME, -p PROTO, -j TARGET) compared.
_Plan = tuple[tuple[tuple[int, str], ...], tuple[tuple[int, Callable[..., "str | None"], str], ...],
              int, str | None, str]
_PLANS: dict[tuple[int, int, tuple[str, ...]], list[_Plan]] = {}  # shape -> up to 8 plans


def _iface_check(value: str, option: str, proto: str, family: int) -> str | None:
    return None if 0 < len(value) <= 15 else "bad interface name"


def _addr_check(value: str, option: str, proto: str, family: int) -> str | None:
    if family == 4 and _IPV4_NET.fullmatch(value):
        return None
    return _addr_error(value, "address", family)


def _plan(words: Sequence[str], start: int, family: int) -> _Plan | None:
    """The shape of a valid rule of (option, value) pairs, or None when it has another."""
    fixed: list[tuple[int, str]] = []
    checks: list[tuple[int, Callable[..., str | None], str]] = []
    tables: list[dict[str, int]] = []
    target_at, target, proto = -1, None, ""
    for k in range(start, len(words), 2):
        opt, value = words[k], words[k + 1]
        canon = _BUILTIN.get(opt)
        if canon == "-m":
            if value not in MATCH_OPTIONS:
                return None
            tables.append(MATCH_OPTIONS[value])
            fixed.append((k + 1, value))
        elif canon == "-p":
            proto = value.lower()
            if proto in _PROTO_MODULE:
                tables.append(MATCH_OPTIONS[_PROTO_MODULE[proto]])
            fixed.append((k + 1, value))
        elif canon == "-j":
            if value in TARGET_OPTIONS:
                tables.append(TARGET_OPTIONS[value])
                fixed.append((k + 1, value))
                target = value
            elif value in TARGET_EXTENSIONS:
                return None  # options not judged: their values' first letters matter
            else:
                target_at = k + 1  # a chain: any name of that kind will do
        elif canon == "-s" or canon == "-d":
            checks.append((k + 1, _addr_check, opt))
        elif canon == "-i" or canon == "-o":
            checks.append((k + 1, _iface_check, opt))
        elif canon is not None:  # -f, -c: not pairs
            return None
        else:
            arities = {t[opt] for t in tables if opt in t}
            if arities != {1}:
                return None
            check = _CHECKS.get(opt)
            if check is not None:
                checks.append((k + 1, check, opt))
    return tuple(fixed), tuple(checks), target_at, target, proto


def check_rule(words: Sequence[str], start: int = 2, family: int = 4,
               unmodelled: set[str] | None = None) -> tuple[str | None, str | None]:
    """:func:`rule_error`, answered from the rule's shape when one like it was judged."""
    if (len(words) - start) & 1 or "!" in words:
        return rule_error(words, start, family, unmodelled)
    key = (family, start, tuple(words[start::2]))
    plans = _PLANS.get(key)
    if plans:
        for fixed, checks, target_at, target, proto in plans:
            for k, v in fixed:
                if words[k] != v:
                    break
            else:
                for k, fn, opt in checks:
                    if fn(words[k], opt, proto, family) is not None:
                        return rule_error(words, start, family, unmodelled)  # (for its words)
                if target_at < 0:
                    return None, target
                name = words[target_at]
                if name[:1] != "-" and name not in TARGET_EXTENSIONS and name not in TARGET_OPTIONS:
                    return None, name
                break
    err, target = rule_error(words, start, family, unmodelled)
    if err is None and (plans is None or len(plans) < 8) and len(_PLANS) < 4096:
        plan = _plan(words, start, family)
        if plan is not None:
            _PLANS.setdefault(key, []).append(plan)
    return err, target
