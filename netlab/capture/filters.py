"""A small Wireshark-style display-filter language, evaluated on all packets at once.

What learners type in lesson 11 and the annotator: ``ip.src == 172.17.0.2``,
``ip.addr == 172.17.0.0/16``, ``tcp.port == 80``, ``tcp.flags.syn == 1``,
``icmp``, ``arp``, ``iface == docker0``, ``netns == web``,
``comment contains "DNAT"``, ``tag == dnat``, ``frame.number <= 10``, combined
with ``and`` / ``or`` / ``not`` and parentheses.  A filter compiles once into a
tree; evaluating it is a handful of numpy comparisons over the whole capture,
so a filter on 200,000 packets answers in milliseconds.  Anything it does not
understand raises :class:`~netlab.errors.FilterError` saying what and where.
Unlike Wireshark's, ``contains`` ignores case (learners search their own notes).
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netlab.capture.fast import (
    P_ARP,
    P_ICMP,
    P_ICMPV6,
    P_IGMP,
    P_IP,
    P_IPV6,
    P_TCP,
    P_UDP,
    PROTOCOLS,
)
from netlab.errors import FilterError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from netlab.capture.core import Capture

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>"(?:[^"\\]|\\.)*")
    | (?P<op>==|!=|>=|<=|&&|\|\||[()<>!])
    | (?P<word>[A-Za-z0-9_.:/\-]+)
    )""", re.X)
WORD_OPS = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=",
            "contains": "contains"}
COMPARE = {"==", "!=", ">", "<", ">=", "<=", "contains"}

# protocol words that stand alone
PROTO_WORDS = {"tcp": (P_TCP,), "udp": (P_UDP,), "icmp": (P_ICMP,), "arp": (P_ARP,),
               "icmpv6": (P_ICMPV6,), "igmp": (P_IGMP,),
               "ip": (P_IP, P_TCP, P_UDP, P_ICMP, P_IGMP), "ipv6": (P_IPV6, P_ICMPV6)}
TCP_FLAG_FIELDS = {"fin": 0x01, "syn": 0x02, "reset": 0x04, "rst": 0x04, "push": 0x08,
                   "psh": 0x08, "ack": 0x10, "urg": 0x20, "ece": 0x40, "cwr": 0x80}

# field -> (kind, description); kinds: ip, port, int, str, mac, flag
FIELDS: dict[str, tuple[str, str]] = {
    "ip.src": ("ip", "IPv4 source"), "ip.dst": ("ip", "IPv4 destination"),
    "ip.addr": ("ip", "IPv4 source or destination"),
    "ipv6.src": ("str", "IPv6 source"), "ipv6.dst": ("str", "IPv6 destination"),
    "ipv6.addr": ("str", "IPv6 source or destination"),
    "ip.ttl": ("int", "IPv4 TTL"), "ip.id": ("int", "IPv4 identification"),
    "ip.proto": ("int", "IP protocol number"),
    "ip.flags.mf": ("int", "IPv4 more-fragments flag (0 or 1)"),
    "ip.flags.df": ("int", "IPv4 don't-fragment flag (0 or 1)"),
    "ip.frag_offset": ("int", "IPv4 fragment offset in bytes"),
    "vlan.id": ("int", "802.1Q VLAN id (outer or inner tag)"),
    "tcp.port": ("int", "TCP source or destination port"), "tcp.srcport": ("int", "TCP source port"),
    "tcp.dstport": ("int", "TCP destination port"),
    "udp.port": ("int", "UDP source or destination port"), "udp.srcport": ("int", "UDP source port"),
    "udp.dstport": ("int", "UDP destination port"),
    "tcp.seq": ("int", "TCP sequence number (absolute)"), "tcp.ack": ("int", "TCP ack number"),
    "tcp.flags": ("int", "TCP flag byte"), "tcp.window_size": ("int", "TCP window"),
    "tcp.len": ("int", "TCP payload length"), "udp.length": ("int", "UDP payload length"),
    **{f"tcp.flags.{k}": ("int", f"TCP {k.upper()} flag (0 or 1)") for k in TCP_FLAG_FIELDS},
    "icmp.type": ("int", "ICMP type"), "icmp.code": ("int", "ICMP code"),
    "arp.opcode": ("int", "ARP opcode (1 request, 2 reply)"),
    "arp.src.proto_ipv4": ("ip", "ARP sender address"), "arp.dst.proto_ipv4": ("ip", "ARP target address"),
    "eth.src": ("mac", "Ethernet source"), "eth.dst": ("mac", "Ethernet destination"),
    "eth.addr": ("mac", "Ethernet source or destination"),
    "frame.number": ("int", "packet number"), "frame.len": ("int", "length on the wire"),
    "frame.packet_flags_direction": ("int", "direction on its interface (1 inbound, 2 outbound)"),
    "iface": ("str", "interface the packet was seen on"), "netns": ("str", "network namespace"),
    "frame.interface_name": ("str", "the interface's name as written in pcapng (\"ns/iface\")"),
    "comment": ("str", "the packet's comment"), "tag": ("str", "one of the packet's tags"),
    "hop": ("str", "hop written by annotate_from"), "hook": ("str", "netfilter hook(s)"),
    "rule": ("str", "iptables rule(s) that acted"),
}
# words learners bring from Wireshark that name what netlab does not decode, and what to type
APP_HINTS = {"http": "tcp.port == 80", "https": "tcp.port == 443", "tls": "tcp.port == 443",
             "ssl": "tcp.port == 443", "dns": "udp.port == 53", "ssh": "tcp.port == 22",
             "dhcp": "udp.port == 67 or udp.port == 68", "bootp": "udp.port == 67",
             "ntp": "udp.port == 123", "quic": "udp.port == 443", "smtp": "tcp.port == 25",
             "mdns": "udp.port == 5353", "http2": "tcp.port == 443"}
PORT_NAMES = {"http": 80, "https": 443, "ssh": 22, "dns": 53, "domain": 53, "ntp": 123,
              "smtp": 25, "ftp": 21, "telnet": 23, "mysql": 3306, "postgresql": 5432,
              "redis": 6379, "http-alt": 8080, "dhcp": 67, "bootps": 67, "bootpc": 68}
SUPPORTED = ("netlab's display filters support: protocols (tcp, udp, icmp, arp, ip, ipv6, vlan); "
             "comparisons field == value, !=, <, >, <=, >= (ip.src, ip.addr, tcp.port, "
             "tcp.flags.syn, iface, netns, …); `contains` on text fields (comment, tag, iface, "
             "hop, hook, rule); and, or, not (&&, ||, !) and parentheses")
ALIASES = {"interface": "iface", "namespace": "netns",
           "frame.comment": "comment", "pkt_comment": "comment", "tags": "tag",
           "ip.src_host": "ip.src", "ip.dst_host": "ip.dst"}


@dataclass
class Node:
    op: str  # "and", "or", "not", "cmp", "exists", "true"
    args: tuple[Any, ...] = ()


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            bad = text[pos:].strip()[:20]
            pos += len(text[pos:]) - len(text[pos:].lstrip())  # at the character, not a space
            if bad.startswith("=") and not bad.startswith("=="):
                raise FilterError(f"a single = at character {pos + 1} is not a comparison: write "
                                  "== (for example `ip.src == 172.17.0.2`)")
            if bad.startswith(("{", "[")):
                raise FilterError(f"sets like {bad!r} (character {pos + 1}) are not supported: "
                                  "write `tcp.port == 80 or tcp.port == 443`. " + SUPPORTED)
            if bad.startswith("~"):
                raise FilterError("`~` (matches, a regular expression) is not supported: use "
                                  "`contains` on text fields. " + SUPPORTED)
            raise FilterError(f"cannot read the filter at character {pos + 1}: {bad!r} — use "
                              "fields like ip.src, operators ==, !=, and/or/not, and quote text "
                              'with "double quotes"')
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "word" and value.lower() in ("in", "matches"):
            raise FilterError(f"`{value}` (character {m.start(kind) + 1}) is not supported: "
                              + ("write `tcp.port == 80 or tcp.port == 443`. " if value.lower() == "in"
                                 else "use `contains` on text fields. ") + SUPPORTED)
        if kind == "word" and value.lower() in ("and", "or", "not"):
            kind, value = "op", value.lower()
        elif kind == "word" and value.lower() in WORD_OPS:
            kind, value = "op", WORD_OPS[value.lower()]
        elif kind == "op":
            value = {"&&": "and", "||": "or", "!": "not"}.get(value, value)
        out.append((kind, value, m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str, int]:
        tok = self.peek()
        if tok is None:
            raise FilterError(f"the filter {self.text!r} ends too early — something is missing "
                              "after the last word")
        self.i += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            return Node("true")
        node = self.or_()
        if (tok := self.peek()) is not None:
            raise FilterError(f"unexpected {tok[1]!r} at character {tok[2]} — join conditions "
                              "with and / or, e.g. `tcp.port == 80 and ip.src == 172.17.0.2`")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while (tok := self.peek()) and tok[:2] == ("op", "or"):
            self.i += 1
            node = Node("or", (node, self.and_()))
        return node

    def and_(self) -> Node:
        node = self.not_()
        while (tok := self.peek()) and tok[:2] == ("op", "and"):
            self.i += 1
            node = Node("and", (node, self.not_()))
        return node

    def not_(self) -> Node:
        tok = self.peek()
        if tok and tok[:2] == ("op", "not"):
            self.i += 1
            return Node("not", (self.not_(),))
        return self.primary()

    def primary(self) -> Node:
        kind, value, where = self.take()
        if (kind, value) == ("op", "("):
            node = self.or_()
            close = self.peek()
            if close is None or close[:2] != ("op", ")"):
                raise FilterError(f"a parenthesis opened at character {where} is never closed")
            self.i += 1
            return node
        if kind != "word":
            raise FilterError(f"expected a field or protocol at character {where}, found {value!r}")
        name = ALIASES.get(value.lower(), value.lower())
        nxt = self.peek()
        if nxt and nxt[0] == "op" and nxt[1] in COMPARE:
            if nxt[1] == "contains" and name not in FIELDS:
                raise FilterError(
                    f"`{value} contains …` (character {where}) searches packet bytes, which "
                    "netlab's filters do not; `contains` works on text fields: comment, tag, "
                    "iface, netns, hop, hook, rule (e.g. `comment contains \"DNAT\"`). "
                    "To find a payload, use follow_stream or the summary column. " + SUPPORTED)
            self.i += 1
            vkind, raw_value, vwhere = self.take()
            if vkind == "op":
                raise FilterError(f"expected a value after {nxt[1]!r} at character {vwhere}, "
                                  f"found {raw_value!r}")
            if vkind == "str":
                raw_value = re.sub(r"\\(.)", r"\1", raw_value[1:-1])
            return Node("cmp", (_field(name, where), nxt[1], _value(name, nxt[1], raw_value)))
        if name in PROTO_WORDS:
            return Node("proto", (name,))
        if name == "vlan":
            return Node("exists", ("vlan.id",))
        if name in APP_HINTS:
            raise FilterError(f"netlab does not decode {value!r} (character {where}): filter on "
                              f"its port instead, e.g. `{APP_HINTS[name]}`. " + SUPPORTED)
        if name in FIELDS:
            return Node("exists", (name,))
        raise _unknown(value, where)


def _unknown(word: str, where: int) -> FilterError:
    known = sorted({*FIELDS, *PROTO_WORDS, *ALIASES})
    close = difflib.get_close_matches(word.lower(), known, n=3)
    hint = f" — did you mean {' or '.join(close)}?" if close else ""
    if word.lower().startswith(("tcp.analysis", "_ws.expert", "expert")):
        hint = (" — Wireshark's analysis flags are tags here: run capture.expert(), then filter "
                "`tag == retransmission` (or dup-ack, zero-window, rst, icmp-unreachable).")
    return FilterError(f"netlab does not know the filter word {word!r} (character {where}){hint} "
                       f"Known: protocols {', '.join(sorted([*PROTO_WORDS, 'vlan']))}; fields "
                       f"{', '.join(sorted(FIELDS))}.")


def _field(name: str, where: int) -> str:
    if name not in FIELDS:
        raise _unknown(name, where)
    return name


def _value(name: str, op: str, raw: str) -> Any:
    kind = FIELDS[name][0]
    if op == "contains":
        if kind != "str":
            raise FilterError(f"`contains` works on text fields (comment, tag, iface, rule…), "
                              f"not on {name}")
        return raw
    if kind == "ip":
        try:
            net = ipaddress.IPv4Network(raw, strict=False)
        except ValueError:
            raise FilterError(f"{raw!r} is not an IPv4 address or network (for {name}); write "
                              "it like 172.17.0.2 or 172.17.0.0/16") from None
        if op not in ("==", "!="):
            raise FilterError(f"compare addresses with == or != (got {op!r} for {name})")
        return (int(net.network_address), int(net.netmask))
    if kind == "mac":
        if not re.fullmatch(r"[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}", raw):
            raise FilterError(f"{raw!r} is not a MAC address (for {name}); write it like "
                              "02:42:ac:11:00:02")
        return int(raw.replace("-", "").replace(":", ""), 16)
    if kind == "int":
        try:
            value = int(raw, 0)
        except ValueError:
            if name.startswith(("tcp.flags.", "ip.flags.")) and raw.lower() in ("true", "false"):
                return int(raw.lower() == "true")
            if "port" in name and raw.lower() in PORT_NAMES:
                raise FilterError(f"{name} compares with a port number, not a service name: "
                                  f"write `{name} == {PORT_NAMES[raw.lower()]}` for {raw}") from None
            raise FilterError(f"{name} compares with a number, not {raw!r}") from None
        return value
    if op not in ("==", "!="):
        raise FilterError(f"compare {name} with ==, != or contains (got {op!r})")
    return raw


@functools.lru_cache(maxsize=256)
def compile_filter(text: str) -> Node:
    """Parse ``text`` into a filter tree (raises :class:`FilterError` if it cannot)."""
    if not isinstance(text, str):
        raise FilterError(f"a filter is text, not {type(text).__name__}")
    parser = _Parser(text)  # tokens first: a "(" inside a quoted string is not nesting
    depth = deepest = 0
    for kind, value, _ in parser.toks:
        if kind == "op" and value == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif kind == "op" and value == ")":
            depth -= 1
    if deepest > _MAX_DEPTH:
        raise FilterError(f"parentheses nested {deepest} deep: netlab reads at most {_MAX_DEPTH}")
    try:
        return parser.parse()
    except RecursionError:
        raise FilterError(f"the filter is nested too deeply (keep it under {_MAX_DEPTH} levels of "
                          "parentheses and `not`)") from None


_MAX_DEPTH = 64


def evaluate(filter_: str | Node, capture: Capture) -> np.ndarray:
    """Boolean mask over the capture's packets (position 0 = packet 1)."""
    node = compile_filter(filter_) if isinstance(filter_, str) else filter_
    try:
        return _eval(node, capture)
    except RecursionError:
        raise FilterError("the filter is nested too deeply to evaluate") from None


def _eval(node: Node, cap: Capture) -> np.ndarray:
    import numpy as np

    c = cap._cols
    n = c.n
    if node.op == "true":
        return np.ones(n, dtype=bool)
    if node.op == "and":
        return _eval(node.args[0], cap) & _eval(node.args[1], cap)
    if node.op == "or":
        return _eval(node.args[0], cap) | _eval(node.args[1], cap)
    if node.op == "not":
        return ~_eval(node.args[0], cap)
    if node.op == "proto":
        return np.isin(c.proto, PROTO_WORDS[node.args[0]])
    if node.op == "exists":
        return _present(node.args[0], cap)
    name, op, value = node.args
    kind = FIELDS[name][0]
    if kind == "str":
        return _text_compare(name, op, value, cap)
    present = _present(name, cap)
    arrays = _arrays(name, cap)
    hit = np.zeros(n, dtype=bool)
    for arr in arrays:
        if kind == "ip":
            net, mask = value
            eq = (arr >= 0) & ((arr & mask) == net)
        else:
            eq = arr == value
            if op in (">", "<", ">=", "<="):
                eq = {">": arr > value, "<": arr < value, ">=": arr >= value,
                      "<=": arr <= value}[op]
        hit |= eq
    if op == "!=":
        return present & ~hit
    return present & hit


def _present(name: str, cap: Capture) -> np.ndarray:
    import numpy as np

    c = cap._cols
    if name.startswith("tcp."):
        return c.proto == P_TCP
    if name.startswith("udp."):
        return c.proto == P_UDP
    if name.startswith("icmp."):
        return c.proto == P_ICMP
    if name.startswith("arp."):
        return c.proto == P_ARP
    if name.startswith("ip."):
        return c.v4src >= 0
    if name.startswith("ipv6."):
        return c.v6
    if name.startswith("eth."):
        return (c.src_mac >= 0) | (c.dst_mac >= 0)
    if name == "vlan.id":
        return c.vlan_outer >= 0
    if name == "frame.packet_flags_direction":  # as tshark: only where the direction is known
        return cap.directions() > 0
    if kind_is_annotation(name):
        return _text_compare(name, "exists", "", cap)
    return np.ones(c.n, dtype=bool)


def kind_is_annotation(name: str) -> bool:
    return name in ("comment", "tag", "hop", "hook", "rule")


def _arrays(name: str, cap: Capture) -> list[np.ndarray]:
    import numpy as np

    c = cap._cols
    if name.startswith("tcp.flags."):
        return [np.where(c.flags >= 0, (c.flags & TCP_FLAG_FIELDS[name.split(".")[2]]) > 0, -1)]
    if name.startswith("ip.f"):
        frag = c.ip_frag
        value = {"ip.flags.mf": (frag >> 13) & 1, "ip.flags.df": (frag >> 14) & 1,
                 "ip.frag_offset": (frag & 0x1FFF) * 8}[name]
        return [np.where(frag >= 0, value, -1)]
    table = {
        "vlan.id": [c.vlan_outer, c.vlan_inner],
        "ip.src": [c.v4src], "ip.dst": [c.v4dst], "ip.addr": [c.v4src, c.v4dst],
        "ip.ttl": [c.ttl], "ip.id": [c.ip_id], "ip.proto": [c.ipproto],
        "tcp.port": [c.sport, c.dport], "tcp.srcport": [c.sport], "tcp.dstport": [c.dport],
        "udp.port": [c.sport, c.dport], "udp.srcport": [c.sport], "udp.dstport": [c.dport],
        "tcp.seq": [c.seq], "tcp.ack": [c.ack], "tcp.flags": [c.flags],
        "tcp.window_size": [c.window], "tcp.len": [c.payload_len], "udp.length": [c.payload_len],
        "icmp.type": [c.icmp_type], "icmp.code": [c.icmp_code], "arp.opcode": [c.arp_op],
        "arp.src.proto_ipv4": [c.arp_spa], "arp.dst.proto_ipv4": [c.arp_tpa],
        "eth.src": [c.src_mac], "eth.dst": [c.dst_mac], "eth.addr": [c.src_mac, c.dst_mac],
        "frame.number": [np.arange(1, c.n + 1)], "frame.len": [cap._raw.origlens],
        "frame.packet_flags_direction": [cap.directions().astype(np.int64)],
    }
    return table[name]


def _text_compare(name: str, op: str, value: str, cap: Capture) -> np.ndarray:
    import numpy as np

    n = cap._cols.n
    if name in ("iface", "netns", "frame.interface_name"):
        # frame.interface_name is the if_name netlab writes (and tshark reads): "ns/iface"
        names = [(i.name if name == "iface" else i.namespace if name == "netns"
                  else f"{i.namespace}/{i.name}" if i.namespace else i.name)
                 for i in cap._raw.interfaces]
        if op == "contains":
            ok = [value in s for s in names]
        else:
            ok = [s == value for s in names]
        hit = np.asarray(ok, dtype=bool)[cap._raw.ifaces] if names else np.zeros(n, dtype=bool)
        return ~hit if op == "!=" else hit
    if name in ("ipv6.src", "ipv6.dst", "ipv6.addr"):
        try:
            want = str(ipaddress.IPv6Address(value))
        except ValueError:
            raise FilterError(f"{value!r} is not an IPv6 address (for {name})") from None
        df_cols = {"ipv6.src": ["src"], "ipv6.dst": ["dst"], "ipv6.addr": ["src", "dst"]}[name]
        hit = np.zeros(n, dtype=bool)
        for col in df_cols:
            cat = cap._address_categorical(col)
            codes = np.asarray(cat.codes)
            idx = [i for i, s in enumerate(cat.categories) if s == want]
            hit |= np.isin(codes, idx) & cap._cols.v6
        return (cap._cols.v6 & ~hit) if op == "!=" else hit
    # annotation fields: only annotated packets can match
    hit = np.zeros(n, dtype=bool)
    present = np.zeros(n, dtype=bool)
    for number, ann in cap.annotations.items():
        if name == "tag":
            values = ann.tags
        else:
            v = getattr(ann, name)
            values = [v] if v else []
        if not values:
            continue
        present[number - 1] = True
        if op == "contains":
            low = value.lower()
            match = any(low in v.lower() for v in values)
        else:
            match = value in values
        hit[number - 1] = match
    if op == "exists":
        return present
    if op == "!=":
        return ~hit
    return hit


def protocol_name(code: int) -> str:
    return PROTOCOLS[code]
