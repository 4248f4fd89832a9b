"""Read ``nft list ruleset`` / ``nft list table`` text (and ``nft -j`` JSON) into an NftRuleset.

The text is scanned into statements (a newline or ``;`` ends one; braces of an
anonymous set or an ``elements = { … }`` list keep it open), grouped by their
``table``/``chain``/``set``/``map`` blocks, and each rule is read into match,
vmap and statement items (:mod:`netlab.netfilter.nft_ruleset`).  Words netlab
does not model are kept as :class:`Unknown` items.  Broken structure, bad
values, jumps to missing chains and references to missing sets raise
:class:`netlab.errors.ParseError` with the line number and a hint.
"""

from __future__ import annotations

import re
from typing import Any, cast

from netlab.errors import ParseError
from netlab.netfilter.nft_ruleset import (
    BRIDGE_PRIO,
    FAMILIES,
    HOOKS,
    STD_PRIO,
    Effect,
    Match,
    Nat,
    NftChain,
    NftRule,
    NftRuleset,
    NftSet,
    NftTable,
    Selector,
    SetStmt,
    Unknown,
    Verdict,
    VMap,
)
from netlab.netfilter.nft_values import FLAG_TYPES, Interval, parse_atom

COMMAND = "nft list ruleset"
_TOK = re.compile(r'"(?:[^"\\]|\\.)*"|[{}(),]|[^\s{}(),"]+')
_BLOCK = {
    "top": re.compile(r"^table(\s+[a-z0-9]+)?\s+\S+$"),
    "table": re.compile(r"^(chain|set|map|flowtable|counter|quota|limit|secmark|synproxy|"
                        r"ct\s+(helper|timeout|expectation))\s+\S+$"),
}

META_KEYS = {
    "iifname": "ifname", "oifname": "ifname", "iif": "ifname", "oif": "ifname", "mark": "mark",
    "l4proto": "inet_proto", "protocol": "ether_type", "nfproto": "nf_proto", "pkttype": "pkt_type",
    "iiftype": "iface_type", "oiftype": "iface_type", "skuid": "integer", "skgid": "integer",
    "length": "integer", "priority": "integer", "random": "integer", "cpu": "integer",
    "iifgroup": "integer", "oifgroup": "integer", "cgroup": "integer", "ibrname": "ifname",
    "obrname": "ifname", "ibriport": "ifname", "obriport": "ifname", "iifkind": "string",
    "oifkind": "string", "nftrace": "integer", "secpath": "integer", "rtclassid": "integer",
    "time": "integer", "day": "integer", "hour": "string", "secmark": "integer", "broute": "integer",
}
#: meta keys nft prints without the ``meta`` word
UNQUALIFIED = frozenset({"iifname", "oifname", "iif", "oif", "mark", "iiftype", "oiftype", "skuid",
                         "skgid", "iifgroup", "oifgroup", "cgroup", "rtclassid", "ibrname", "obrname",
                         "ibriport", "obriport", "pkttype", "cpu"})
META_EVAL = frozenset({"iifname", "oifname", "iif", "oif", "mark", "l4proto", "protocol", "nfproto",
                       "pkttype", "random"})
_PORTS = {"dport": "inet_service", "sport": "inet_service"}
PAYLOAD = {
    "ip": {"saddr": "ipv4_addr", "daddr": "ipv4_addr", "protocol": "inet_proto", "ttl": "integer",
           "length": "integer", "dscp": "integer", "id": "integer", "version": "integer",
           "hdrlength": "integer", "frag-off": "integer", "checksum": "integer", "ecn": "integer"},
    "ip6": {"saddr": "ipv6_addr", "daddr": "ipv6_addr", "nexthdr": "inet_proto", "hoplimit": "integer",
            "length": "integer", "flowlabel": "integer", "dscp": "integer", "version": "integer",
            "ecn": "integer"},
    "tcp": {**_PORTS, "flags": "tcp_flag", "sequence": "integer", "ackseq": "integer",
            "window": "integer", "checksum": "integer", "urgptr": "integer", "doff": "integer"},
    "udp": {**_PORTS, "length": "integer", "checksum": "integer"},
    "udplite": {**_PORTS, "checksum": "integer"},
    "sctp": {**_PORTS, "vtag": "integer", "checksum": "integer"},
    "dccp": {**_PORTS, "type": "integer"},
    "th": dict(_PORTS),
    "icmp": {"type": "icmp_type", "code": "integer", "id": "integer", "sequence": "integer",
             "mtu": "integer", "gateway": "ipv4_addr", "checksum": "integer"},
    "icmpv6": {"type": "icmpv6_type", "code": "integer", "id": "integer", "sequence": "integer",
               "mtu": "integer", "checksum": "integer", "max-delay": "integer"},
    "ether": {"saddr": "ether_addr", "daddr": "ether_addr", "type": "ether_type"},
    "vlan": {"id": "integer", "pcp": "integer", "cfi": "integer", "type": "ether_type"},
    "arp": {"operation": "integer", "htype": "integer", "ptype": "ether_type", "saddr": "string",
            "daddr": "string"},
}
PAYLOAD_EVAL = {("ip", "saddr"), ("ip", "daddr"), ("ip", "protocol"), ("ip6", "saddr"), ("ip6", "daddr"),
                ("ip6", "nexthdr"), ("tcp", "flags"), ("icmp", "type"), ("icmp", "code"),
                ("icmpv6", "type"), ("icmpv6", "code")} | {
                    (p, f) for p in ("tcp", "udp", "udplite", "sctp", "dccp", "th") for f in ("dport", "sport")}
CT_KEYS = {"state": "ct_state", "status": "ct_status", "mark": "mark", "direction": "ct_dir",
           "zone": "integer", "expiration": "integer", "helper": "string", "l3proto": "nf_proto",
           "protocol": "inet_proto", "label": "integer", "id": "integer", "bytes": "integer",
           "packets": "integer", "avgpkt": "integer", "secmark": "integer"}
CT_DIR_KEYS = {"saddr": "ipv4_addr", "daddr": "ipv4_addr", "proto-src": "inet_service",
               "proto-dst": "inet_service", "protocol": "inet_proto", "l3proto": "nf_proto"}
CT_EVAL = frozenset({"ct state", "ct status", "ct mark", "ct direction", "ct original saddr",
                     "ct original daddr", "ct original proto-dst", "ct original proto-src",
                     "ct original ip saddr", "ct original ip daddr", "ct original ip6 saddr",
                     "ct original ip6 daddr"})
FIB_FLAGS = frozenset({"saddr", "daddr", "mark", "iif", "oif"})
FIB_RESULTS = {"type": "fib_addrtype", "oif": "ifname", "oifname": "ifname"}
OPS = {"==": "==", "eq": "==", "!=": "!=", "ne": "!=", "<": "<", "lt": "<", ">": ">", "gt": ">",
       "<=": "<=", "le": "<=", ">=": ">=", "ge": ">="}
BITOPS = {"&": "and", "and": "and", "|": "or", "or": "or", "^": "xor", "xor": "xor"}
VERDICT_WORDS = frozenset({"accept", "drop", "continue", "return", "jump", "goto", "reject", "queue"})
STMT_WORDS = VERDICT_WORDS | {"counter", "log", "comment", "dnat", "snat", "masquerade", "redirect",
                              "notrack", "limit", "quota", "xt", "synproxy", "tproxy", "fwd", "dup",
                              "flow", "set", "add", "update", "delete", "nftrace", "meter", "ct",
                              "meta", "numgen", "fib", "jhash", "symhash", "socket", "osf", "rt",
                              "exthdr", "ipsec", "tcpopt", "ip6", "ip", "udp"} | set(PAYLOAD) | set(UNQUALIFIED)
_UNKNOWN_MATCH_WORDS = frozenset({"limit", "quota", "xt", "meter", "socket", "osf", "rt", "exthdr",
                                  "ipsec", "jhash", "symhash", "tcp option", "hbh", "rt0", "frag", "dst",
                                  "mh", "srh", "vlan", "ether", "arp"})


class _Err(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


# ----------------------------------------------------------------- statements
_SCAN = re.compile(r'"(?:[^"\\\n]|\\.)*"|"|#[^\n]*|[{};\n}]')


def _statements(text: str) -> list[tuple[int, str, str, int | None]]:
    """Scan the text into (lineno, kind, text, handle): kind open/close/stmt."""
    out: list[tuple[int, str, str, int | None]] = []
    stack: list[str] = []
    buf: list[str] = []
    empty = True  # nothing but blanks in buf yet
    depth = 0
    start = 1
    lineno = 1
    handle: int | None = None
    pos = 0

    def emit() -> None:
        nonlocal handle, empty
        st = "".join(buf).strip()
        buf.clear()
        empty = True
        if st:
            out.append((start, "stmt", st, handle))
        handle = None

    def add(piece: str) -> None:
        nonlocal empty, start
        if empty and piece.strip():
            empty = False
            start = lineno
        buf.append(piece)

    for m in _SCAN.finditer(text):
        if m.start() > pos:
            add(text[pos:m.start()])
        pos = m.end()
        tok = m.group()
        ch = tok[0]
        if ch == '"':
            if len(tok) == 1:
                raise ParseError("a quoted string is not closed on this line", command=COMMAND,
                                 lineno=lineno, line=_line(text, lineno),
                                 hint="close it with a double quote, as nft prints comments: comment \"…\"")
            add(tok)
        elif ch == "#":
            hm = re.match(r"#\s*handle\s+(\d+)", tok)
            if hm:
                handle = int(hm.group(1))
            elif not empty and depth == 0 and stack and stack[-1] == "chain":
                add(" " + tok)  # old nft printed what it could not translate as "# xt_…": kept, unknown
        elif ch == "\n" or ch == ";":
            if depth == 0:
                emit()
            else:
                buf.append(" ")
            if ch == "\n":
                lineno += 1
        elif ch == "{":
            head = "".join(buf).strip() if depth == 0 else ""
            ctx = stack[-1] if stack else "top"
            if depth == 0 and ctx in _BLOCK and _BLOCK[ctx].match(head):
                kind = head.split()[0]
                stack.append(kind if kind in ("table", "chain", "set", "map") else "object")
                out.append((start if head else lineno, "open", head, None))
                buf.clear()
                empty = True
                handle = None
            else:
                depth += 1
                add("{")
        else:  # "}"
            if depth > 0:
                depth -= 1
                buf.append("}")
                continue
            emit()
            if not stack:
                raise ParseError("a closing brace without an opening one", command=COMMAND, lineno=lineno,
                                 line=_line(text, lineno), hint="a '}' too many, or the start of the "
                                 "listing was not pasted (it begins with 'table <family> <name> {')")
            stack.pop()
            out.append((lineno, "close", "}", None))
    if pos < len(text):
        add(text[pos:])
    emit()
    if depth or stack:
        lines = text.splitlines()
        last = max((k + 1 for k, ln in enumerate(lines) if ln.strip()), default=1)
        raise ParseError(f"the text ends inside a {'brace' if depth else stack[-1]} block", command=COMMAND,
                         lineno=last, line=_line(text, last),
                         hint="the paste seems cut off: copy the whole listing, up to its last '}'")
    return out


def _line(text: str, lineno: int) -> str:
    lines = text.splitlines()
    return lines[lineno - 1] if 0 < lineno <= len(lines) else ""


# ----------------------------------------------------------------- rules
class _Rule:
    """Reads one rule's tokens into items."""

    def __init__(self, text: str, family: str) -> None:
        self.text = text
        found = list(_TOK.finditer(text))
        self.toks = [m.group(0) for m in found]
        self.spans = [m.span() for m in found]
        self.i = 0
        self.family = family

    def src(self, start: int) -> str:
        """The rule's own text of tokens ``start`` up to the cursor."""
        if self.i <= start:
            return ""
        return self.text[self.spans[start][0]:self.spans[self.i - 1][1]]

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def take(self) -> str:
        if self.i >= len(self.toks):
            raise _Err("the rule ends too early", "a match needs a value, e.g. 'tcp dport 80'")
        t = self.toks[self.i]
        self.i += 1
        return t

    def items(self) -> tuple[list[Any], str | None]:
        items: list[Any] = []
        comment = None
        while self.peek() is not None:
            t = self.peek()
            if t == "comment":
                self.take()
                c = self.take()
                comment = c[1:-1] if c.startswith('"') else c
                items.append(Effect("comment", f"comment {c}"))
                continue
            items.append(self.item())
        return items, comment

    # .. one item
    def item(self) -> Any:
        start = self.i
        t = self.take()
        if t in ("accept", "drop", "continue", "return"):
            return Verdict(t)
        if t in ("jump", "goto"):
            name = self.take()
            return Verdict(t, name.strip('"'))
        if t == "reject":
            with_ = None
            if self.peek() == "with":
                self.take()
                fam = self.take()
                if self.peek() == "type":
                    self.take()
                code = self.take()
                with_ = f"{fam} {code}"
            return Verdict("reject", reject_with=with_)
        if t == "queue":
            while self.peek() in ("num", "flags", "to", "bypass", "fanout", ","):
                w = self.take()
                if w in ("num", "flags", "to"):
                    self.take()
            return Verdict("queue")
        if t == "counter":
            if self.peek() == "packets":
                self.i += 4
            elif self.peek() == "name":
                self.i += 2
            return Effect("counter", "counter")
        if t == "log":
            while self.peek() in ("prefix", "level", "group", "snaplen", "queue-threshold", "flags"):
                w = self.take()
                self.take()
                if w == "flags":
                    while self.peek() == ",":
                        self.i += 2
            return Effect("log", self.src(start))
        if t == "notrack":
            return Effect("notrack", "notrack")
        if t in ("dnat", "snat"):
            return self.nat(t.upper(), start)
        if t in ("masquerade", "redirect"):
            return self.masq(t.upper(), start)
        if t == "xt":
            kind = self.take() if self.peek() in ("match", "target") else "match"
            name = self.take() if self.peek() is not None else "?"
            return Unknown(f"xt {kind} {name}", as_match=kind == "match")
        if t in _UNKNOWN_MATCH_WORDS or t in ("synproxy", "tproxy", "fwd", "dup", "flow", "set", "add",
                                               "update", "delete", "nftrace", "ct", "meta", "mark",
                                               "numgen", "fib") or t in PAYLOAD or t in UNQUALIFIED:
            self.i = start
            return self.selector_item(start)
        self.i = start
        return self.unknown(start, as_match=True)

    def unknown(self, start: int, as_match: bool) -> Unknown:
        """Swallow words up to the next one netlab knows."""
        self.i = max(self.i, start + 1)
        depth = 0
        while self.peek() is not None:
            t = self.peek()
            if t in ("{", "("):
                depth += 1
            elif t in ("}", ")"):
                depth -= 1
            elif depth <= 0 and t in STMT_WORDS | {"comment"} and self.i > start:
                prev = self.toks[self.i - 1]
                if prev not in ("set", "."):
                    break
            self.i += 1
        return Unknown(self.src(start), as_match=as_match)

    def selector(self) -> Selector | None:
        """One selector at the cursor (``ip daddr``, ``ct state``, ``fib daddr type``…)."""
        start = self.i
        t = self.take()
        if t == "meta" or t in UNQUALIFIED:
            key = self.take() if t == "meta" else t
            vt = META_KEYS.get(key)
            if vt is None:
                self.i = start
                return None
            return Selector(f"meta {key}", vt, self.src(start), supported=key in META_EVAL)
        if t in PAYLOAD:
            fields = PAYLOAD[t]
            f = self.peek()
            if f not in fields:
                self.i = start
                return None
            self.take()
            return Selector(f"{t} {f}", fields[f], f"{t} {f}", supported=(t, f) in PAYLOAD_EVAL)
        if t == "ct":
            k = self.take()
            if k in ("original", "reply"):
                k2 = self.take()
                if k2 in ("ip", "ip6"):
                    k3 = self.take()
                    key = f"ct {k} {k2} {k3}"
                    vt = ("ipv6_addr" if k2 == "ip6" else "ipv4_addr") if k3 in ("saddr", "daddr") else "integer"
                else:
                    key = f"ct {k} {k2}"
                    vt = CT_DIR_KEYS.get(k2, "integer")
                    if k2 in ("saddr", "daddr") and self.family == "ip6":
                        vt = "ipv6_addr"
            elif k in CT_KEYS:
                key, vt = f"ct {k}", CT_KEYS[k]
            else:
                self.i = start
                return None
            return Selector(key, vt, self.src(start), supported=key in CT_EVAL)
        if t == "fib":
            flags = []
            while self.peek() in FIB_FLAGS:
                flags.append(self.take())
                if self.peek() == "." and self.peek(1) in FIB_FLAGS:
                    self.take()
            res = self.take() if self.peek() in FIB_RESULTS else None
            if not flags or res is None:
                raise _Err("a fib expression needs its keys and its result, e.g. 'fib daddr type local'")
            return Selector(f"fib {res}", FIB_RESULTS[res], self.src(start),
                            args=tuple(flags), supported=res == "type")
        if t == "numgen":
            mode = self.take()
            if self.take() != "mod":
                raise _Err("numgen needs 'mod N', e.g. 'numgen random mod 2'")
            mod = int(self.take(), 0)
            off = 0
            if self.peek() == "offset":
                self.take()
                off = int(self.take(), 0)
            if mod <= 0:
                raise _Err("numgen mod must be at least 1")
            return Selector("numgen", "integer", self.src(start), args=(mode, mod, off))
        self.i = start
        return None

    def concat(self) -> tuple[Selector, ...] | None:
        first = self.selector()
        if first is None:
            return None
        sels = [first]
        while self.peek() == ".":
            self.take()
            s = self.selector()
            if s is None:
                raise _Err("a concatenation needs a selector after '.', e.g. 'ip daddr . tcp dport'")
            sels.append(s)
        return tuple(sels)

    def int_value(self, vtype: str) -> int:
        if self.peek() == "(":
            self.take()
            v = 0
            while self.peek() not in (")", None):
                w = self.take()
                for part in w.split("|"):
                    if part and part != ",":
                        v |= cast(Interval, parse_atom(vtype, part))[0]
            self.take()
            return v
        # a number, a symbol or an index of a numeric type: an Interval (not a string)
        return cast(Interval, parse_atom(vtype if vtype != "ifname" else "integer", self.take()))[0]

    def selector_item(self, start: int) -> Any:
        sels = self.concat()
        if sels is None:
            return self.unknown(start, as_match=self.toks[start] not in ("synproxy", "tproxy", "fwd", "dup",
                                                                         "set", "add", "update", "delete",
                                                                         "nftrace", "flow"))
        if len(sels) == 1 and self.peek() == "set":  # meta mark set …, ct mark set …
            self.take()
            return self.set_stmt(sels[0], start)
        sel = sels[-1]
        if self.peek() in BITOPS and len(sels) == 1:
            op = BITOPS[self.take()]
            sel.bitop = (op, self.int_value(sel.vtype))
        if self.peek() == "vmap":
            self.take()
            return self.vmap(sels, start)
        op = ""
        if self.peek() in OPS:
            op = OPS[self.take()]
        vtypes = tuple(s.vtype if s.bitop is None or s.vtype in FLAG_TYPES else "integer" for s in sels)
        if self.peek() == "{":
            elems = self.set_elems(vtypes)
            return Match(sels, op or "==", "set", elems, None, self.src(start))
        if self.peek() is not None and self.peek().startswith("@"):  # type: ignore[union-attr]
            ref = self.take()[1:]
            return Match(sels, op or "==", "ref", [], ref, self.src(start))
        if len(sels) == 1 and sel.vtype in FLAG_TYPES and sel.bitop is None:
            v = self.int_value(sel.vtype)
            while self.peek() in (",", "|"):
                self.take()
                v |= self.int_value(sel.vtype)
            mask = None
            if self.peek() == "/":
                self.take()
                mask = self.int_value(sel.vtype)
                while self.peek() == ",":
                    self.take()
                    mask |= self.int_value(sel.vtype)
            return Match(sels, op, "flags", [((v, v),)], None, self.src(start), mask=mask)
        elems = [self.element(vtypes)]
        while self.peek() == "," and len(sels) == 1:
            self.take()
            elems.append(self.element(vtypes))
        kind = "value" if len(elems) == 1 else "set"
        return Match(sels, op or "==", kind, elems, None, self.src(start))

    def element(self, vtypes: tuple[str, ...]) -> tuple:
        atoms = []
        for k, vt in enumerate(vtypes):
            if k:
                if self.take() != ".":
                    raise _Err(f"this value needs {len(vtypes)} parts joined by ' . '")
            w = self.take()
            if w in ("{", "}", ",", "(", ")"):
                raise _Err(f"a value was expected here, not {w!r}")
            if self.peek() == "-" and self.peek(1) is not None:  # '10.0.0.1 - 10.0.0.9'
                self.take()
                w = f"{w}-{self.take()}"
            try:
                atoms.append(parse_atom(vt, w))
            except ValueError as exc:
                raise _Err(str(exc)) from None
        return tuple(atoms)

    def set_elems(self, vtypes: tuple[str, ...], data: tuple[str, ...] | None = None,
                  verdicts: bool = False) -> Any:
        """``{ a, b, … }`` (with ``: value`` for maps); returns elems or (elems, values)."""
        if self.take() != "{":
            raise _Err("a set was expected here: { … }")
        elems: list[tuple] = []
        values: list[Any] = []
        while True:
            if self.peek() == "}":
                self.take()
                break
            elems.append(self.element(vtypes))
            if verdicts or data is not None:
                if self.take() != ":":
                    raise _Err("each map element needs ' : ' and its value, e.g. \"eth0\" : accept")
                if verdicts:
                    values.append(self.verdict())
                else:
                    values.append(self.element(data))  # type: ignore[arg-type]
            while self.peek() in ("timeout", "expires", "comment", "counter"):  # element options
                w = self.take()
                if w == "counter" and self.peek() == "packets":
                    self.i += 4
                elif w != "counter":
                    self.take()
            t = self.take()
            if t == "}":
                break
            if t != ",":
                raise _Err(f"set elements are separated by ',', not {t!r}")
        return (elems, values) if (verdicts or data is not None) else elems

    def verdict(self) -> Verdict:
        t = self.take()
        if t in ("jump", "goto"):
            return Verdict(t, self.take().strip('"'))
        if t in ("accept", "drop", "continue", "return", "reject", "queue"):
            return Verdict(t)
        raise _Err(f"{t!r} is not a verdict; use accept, drop, jump <chain> or goto <chain>")

    def vmap(self, sels: tuple[Selector, ...], start: int) -> VMap:
        vtypes = tuple(s.vtype for s in sels)
        if self.peek() is not None and self.peek().startswith("@"):  # type: ignore[union-attr]
            ref = self.take()[1:]
            return VMap(sels, "ref", [], [], ref, self.src(start))
        elems, verdicts = self.set_elems(vtypes, verdicts=True)
        return VMap(sels, "set", elems, verdicts, None, self.src(start))

    def set_stmt(self, sel: Selector, start: int) -> Any:
        if sel.key not in ("meta mark", "ct mark"):
            return self.unknown(start, as_match=False)
        target = "mark" if sel.key == "meta mark" else "ctmark"
        t = self.peek()
        source, op, value = "value", None, 0
        if t in ("mark", "meta", "ct"):
            src = self.selector()
            if src is None or src.key not in ("meta mark", "ct mark"):
                self.i = start
                return self.unknown(start, as_match=False)
            source = "mark" if src.key == "meta mark" else "ctmark"
            if self.peek() in BITOPS:
                op = BITOPS[self.take()]
                value = self.int_value("mark")
        else:
            value = self.int_value("mark")
        return SetStmt(target, source, op, value, self.src(start))

    def nat(self, kind: str, start: int) -> Any:
        v6 = self.family == "ip6"
        if self.peek() in ("ip", "ip6"):
            v6 = self.take() == "ip6"
        if self.peek() == "to":
            self.take()
        t = self.peek()
        if t is None:
            raise _Err(f"{kind.lower()} needs an address: '{kind.lower()} to 10.0.0.2:80'")
        save = self.i
        sels = None
        if t in ("ip", "ip6", "tcp", "udp", "th", "meta", "ct", "iifname", "oifname", "mark", "numgen"):
            sels = self.concat()
        if sels is not None and self.peek() == "map":
            self.take()
            return self.nat_map(kind, sels, v6, start)
        self.i = save
        spec = self.take()
        addr, port = _nat_spec(spec, v6)
        flags = self.nat_flags()
        return Nat(kind, addr, port, v6, flags, self.src(start))

    def nat_map(self, kind: str, sels: tuple[Selector, ...], v6: bool, start: int) -> Nat:
        data = ("ipv6_addr" if v6 else "ipv4_addr", "inet_service")
        n = Nat(kind, None, None, v6, (), "", map_sels=sels)
        if self.peek() is not None and self.peek().startswith("@"):  # type: ignore[union-attr]
            n.map_ref = self.take()[1:]
        else:
            # anonymous map: values are addr or addr . port
            save = self.i
            try:
                n.map_elems, n.map_values = self.set_elems(tuple(s.vtype for s in sels), data=data)
                n.map_types = data
            except _Err:
                self.i = save
                n.map_elems, n.map_values = self.set_elems(tuple(s.vtype for s in sels), data=data[:1])
                n.map_types = data[:1]
        n.flags = self.nat_flags()
        n.text = self.src(start)
        return n

    def nat_flags(self) -> tuple[str, ...]:
        flags = []
        while self.peek() in ("random", "fully-random", "persistent", "prefix", ","):
            w = self.take()
            if w != ",":
                flags.append(w)
        return tuple(flags)

    def masq(self, kind: str, start: int) -> Nat:
        port = None
        if self.peek() == "to":
            self.take()
            w = self.take()
            if kind == "REDIRECT" and not w.startswith(":") and self.peek() == ":":
                pass
            w = w.lstrip(":")
            try:
                a = parse_atom("inet_service", w)
            except ValueError as exc:
                raise _Err(str(exc)) from None
            port = a
        flags = self.nat_flags()
        return Nat(kind, None, port, self.family == "ip6", flags,  # type: ignore[arg-type]
                   self.src(start))


def _nat_spec(spec: str, v6: bool) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """``10.0.0.2:80``, ``[fd00::1]:80``, ``10.0.0.2-10.0.0.9:80-90``, ``:80`` -> intervals."""
    addr_text, port_text = spec, None
    if spec.startswith("["):
        addr_text, _, rest = spec[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else None
    elif not v6 or spec.count(":") == 1:
        if ":" in spec and not v6:
            addr_text, _, port_text = spec.partition(":")
    try:
        addr = parse_atom("ipv6_addr" if v6 else "ipv4_addr", addr_text) if addr_text else None
        port = parse_atom("inet_service", port_text) if port_text else None
    except ValueError as exc:
        raise _Err(str(exc), "NAT targets look like 'dnat to 10.0.0.2:80' or 'dnat to [fd00::2]:80'") from None
    return addr, port  # type: ignore[return-value]


# ----------------------------------------------------------------- blocks
def _priority(text: str, family: str, hook: str) -> int:
    names = BRIDGE_PRIO if family == "bridge" else STD_PRIO
    m = re.fullmatch(r"\s*(-?\d+)\s*|\s*([a-z]+)\s*(?:([+-])\s*(\d+))?\s*", text)
    if not m:
        raise _Err(f"priority {text!r} not understood",
                   f"write a number or one of {', '.join(names)} (optionally + or - a number)")
    if m.group(1):
        return int(m.group(1))
    name = m.group(2)
    if name not in names:
        raise _Err(f"unknown priority name {name!r} for family {family}", f"use one of {', '.join(names)}")
    v = names[name]
    if m.group(3):
        v += int(m.group(4)) * (1 if m.group(3) == "+" else -1)
    return v


def _chain_header(chain: NftChain, stmt: str) -> bool:
    words = stmt.split()
    if words[0] == "type":
        m = re.fullmatch(r'type\s+(\S+)\s+hook\s+(\S+)(?:\s+device\s+("[^"]*"|\S+))?\s+priority\s+(.+)', stmt)
        if not m:
            raise _Err("a base chain header reads 'type <filter|nat|route> hook <hook> priority <p>'",
                       "e.g. type filter hook forward priority filter; policy accept;")
        chain.type, chain.hook, chain.device = m.group(1), m.group(2), m.group(3)
        if chain.type not in ("filter", "nat", "route"):
            raise _Err(f"unknown chain type {chain.type!r}", "use filter, nat or route")
        if chain.hook not in HOOKS:
            raise _Err(f"unknown hook {chain.hook!r}", f"use one of {', '.join(HOOKS)}")
        chain.priority_text = " ".join(m.group(4).split())
        chain.priority = _priority(chain.priority_text, chain.family, chain.hook)
        return True
    if words[0] == "policy":
        if len(words) != 2 or words[1] not in ("accept", "drop"):
            raise _Err("a chain policy is 'policy accept' or 'policy drop'")
        chain.policy = words[1]
        return True
    if words[0] == "devices" or words[0] == "device":
        return True
    return False


def _set_decl(s: NftSet, stmt: str) -> None:
    words = stmt.split(None, 1)
    head, rest = words[0], (words[1] if len(words) > 1 else "")
    if head == "type":
        key, _, data = rest.partition(" : ")
        if not _ and ":" in rest:
            key, _, data = rest.partition(":")
        s.key_types = tuple(p.strip() for p in key.split(" . "))
        if s.kind == "map":
            if not data.strip():
                raise _Err("a map's type needs ' : <value type>', e.g. type ifname : verdict")
            s.data_type = data.strip()
            s.data_types = tuple(p.strip() for p in s.data_type.split(" . "))
    elif head == "typeof":
        s.typeof = rest
        key, _, data = rest.partition(" : ")
        toks = _Rule(key, "ip")
        sels = toks.concat()
        if sels is None:
            raise _Err(f"cannot read the typeof expression {key!r}")
        s.key_types = tuple(x.vtype for x in sels)
        if s.kind == "map":
            if data.strip() == "verdict":
                s.data_type, s.data_types = "verdict", ("verdict",)
            else:
                ds = _Rule(data, "ip").concat()
                s.data_types = tuple(x.vtype for x in ds) if ds else ("integer",)
                s.data_type = " . ".join(s.data_types)
    elif head == "flags":
        s.flags = [f.strip() for f in rest.split(",") if f.strip()]
    elif head == "elements":
        body = rest.lstrip("= ").strip()
        r = _Rule(body, "ip")
        if s.kind == "map":
            if s.data_type == "verdict":
                s.elems, s.values = r.set_elems(s.key_types, verdicts=True)
            else:
                s.elems, s.values = r.set_elems(s.key_types, data=s.data_types)
        else:
            s.elems = r.set_elems(s.key_types)
    else:
        s.extra.append(stmt)


def parse_nft(text: str | bytes) -> NftRuleset:
    """Read ``nft list ruleset`` / ``nft list table`` text, or ``nft -j list ruleset`` JSON.

    Returns an :class:`NftRuleset`; raises :class:`ParseError` (line number and hint)
    when the text is not such a listing."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise ParseError(f"parse_nft takes the text of `nft list ruleset`, not {type(text).__name__}",
                         command=COMMAND, hint="pass the listing as a string")
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        from netlab.netfilter.nft_json import parse_nft_json

        return parse_nft_json(text)
    return _parse_text(text)


def _hint_for(line: str) -> str:
    s = line.strip()
    if s.startswith(("*filter", "*nat", "*raw", "*mangle", ":", "-A ", "-P ", "-N ", "COMMIT")):
        return "this looks like iptables output: read it with netlab.netfilter.parse_iptables"
    if s.startswith(("add ", "insert ", "create ", "delete ", "flush ", "include", "define")):
        return ("netlab reads the listing `nft list ruleset` prints (table blocks), not nft commands: "
                "load them with nft -f, then paste `sudo nft list ruleset`")
    return "paste the output of `sudo nft list ruleset` (it starts with 'table <family> <name> {')"


def _parse_text(text: str) -> NftRuleset:
    stmts = _statements(text)
    rs = NftRuleset(source="text")
    table: NftTable | None = None
    chain: NftChain | None = None
    cset: NftSet | None = None
    obj: list[str] | None = None
    obj_depth = 0
    pending: list[tuple[NftRule, int]] = []
    for lineno, kind, s, handle in stmts:
        try:
            if obj is not None:  # a flowtable/counter/… block kept verbatim
                if kind == "open":
                    obj_depth += 1
                    obj.append("\t" * obj_depth + s + " {")
                elif kind == "close":
                    obj.append("\t" * obj_depth + "}")
                    obj_depth -= 1
                    if obj_depth == 0:
                        assert table is not None
                        table.objects.append("\n".join(obj))
                        obj = None
                else:
                    obj.append("\t" * (obj_depth + 1) + s)
                continue
            if kind == "open":
                words = s.split()
                if words[0] == "table":
                    fam, name = (words[1], words[2]) if len(words) == 3 else ("ip", words[1])
                    if fam not in FAMILIES:
                        raise _Err(f"unknown table family {fam!r}", f"families are {', '.join(FAMILIES)}")
                    table = NftTable(fam, name, lineno=lineno)
                    rs.tables.append(table)
                elif words[0] == "chain":
                    assert table is not None
                    if words[1] in table.chains:
                        raise _Err(f"chain {words[1]!r} is listed twice in table {table.key}")
                    chain = NftChain(words[1], table.name, table.family, lineno=lineno)
                    table.chains[chain.name] = chain
                elif words[0] in ("set", "map"):
                    assert table is not None
                    cset = NftSet(words[1], words[0], ("integer",), lineno=lineno)
                    table.sets[cset.name] = cset
                else:
                    obj, obj_depth = ["\t" + s + " {"], 1
                continue
            if kind == "close":
                if cset is not None:
                    cset = None
                elif chain is not None:
                    chain = None
                else:
                    table = None
                continue
            # a statement
            if table is None:
                if s in ("flush ruleset",):
                    continue
                raise _Err(f"{s.split()[0]!r} outside a table block", _hint_for(s))
            if cset is not None:
                _set_decl(cset, s)
                continue
            if chain is None:
                w = s.split(None, 1)
                if w[0] == "flags":
                    table.flags = [f.strip() for f in (w[1] if len(w) > 1 else "").split(",")]
                elif w[0] == "comment":
                    table.comment = w[1].strip('"') if len(w) > 1 else ""
                else:
                    raise _Err(f"{w[0]!r} is not something a table holds",
                               "a table holds chain, set and map blocks (and flags/comment lines)")
                continue
            if not chain.rules and _chain_header(chain, s):
                continue
            if s.startswith("comment ") and not chain.rules and not _TOK.findall(s)[2:]:
                chain.comment = s.split(None, 1)[1].strip('"')
                continue
            items, comment = _Rule(s, table.family).items()
            rule = NftRule(" ".join(s.split()) if '"' not in s else s, items, table.name, chain.name,
                           len(chain.rules) + 1, handle, lineno, comment)
            chain.rules.append(rule)
            pending.append((rule, lineno))
        except _Err as exc:
            raise ParseError(str(exc), command=COMMAND, lineno=lineno, line=_line(text, lineno),
                             hint=exc.hint or _hint_for(_line(text, lineno))) from None
        except ValueError as exc:
            raise ParseError(str(exc), command=COMMAND, lineno=lineno, line=_line(text, lineno),
                             hint=_hint_for(_line(text, lineno))) from None
    if not rs.tables:
        first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        if first:
            raise ParseError("no 'table' block found", command=COMMAND, lineno=1 + text.splitlines().index(first),
                             line=first, hint=_hint_for(first))
    check(rs, {id(r): ln for r, ln in pending}, text)
    for t in rs.tables:  # the lookups of named sets and maps, built once (a trace only reads them)
        for st in t.sets.values():
            st.lookup  # noqa: B018
    from netlab.netfilter.nft_trace import _bases

    _bases(rs)
    return rs


def check(rs: NftRuleset, lines: dict[int, int] | None = None, text: str = "") -> None:
    """Jumps name chains of the same table, ``@refs`` name its sets; base chains need a
    type and hook that fit the family.  Raises ParseError."""
    lines = lines or {}
    for t in rs.tables:
        for st in t.sets.values():
            for v in st.values:
                if isinstance(v, Verdict) and v.chain is not None and v.chain not in t.chains:
                    raise ParseError(f"map {st.name!r} jumps to chain {v.chain!r}, which table {t.key} does not "
                                     "have", command=COMMAND, lineno=st.lineno or None,
                                     line=_line(text, st.lineno) if text and st.lineno else None,
                                     hint="nft refuses such a map: define the chain in the same table")
        for c in t.chains.values():
            if c.is_base and c.type == "nat" and t.family in ("netdev", "arp"):
                raise ParseError(f"family {t.family} has no nat chains", command=COMMAND, lineno=c.lineno,
                                 line=_line(text, c.lineno) if text else None, hint="use an ip, ip6 or inet table")
            for r in c.rules:
                for it in r.items:
                    bad = None
                    for ref in _refs(it):
                        if ref not in t.sets:
                            bad = (f"@{ref} names no set or map of table {t.key}",
                                   "declare it in the table: set NAME { type …; elements = { … } }")
                    for v in _verdicts(it):
                        if v.chain is not None and v.chain not in t.chains:
                            bad = (f"{v.kind} to chain {v.chain!r}, which table {t.key} does not have",
                                   "nft refuses such a rule: define the chain in the same table")
                        elif v.chain is not None and t.chains[v.chain].is_base:
                            bad = (f"{v.kind} to base chain {v.chain!r}",
                                   "nft refuses jumps to base chains: jump to a regular chain")
                    if bad:
                        ln = lines.get(id(r), r.lineno)
                        raise ParseError(bad[0], command=COMMAND, lineno=ln or None,
                                         line=(_line(text, ln) if text and ln else r.text), hint=bad[1])


def _refs(it: Any) -> list[str]:
    if isinstance(it, (Match, VMap)) and it.ref:
        return [it.ref]
    if isinstance(it, Nat) and it.map_ref:
        return [it.map_ref]
    return []


def _verdicts(it: Any) -> list[Verdict]:
    if isinstance(it, Verdict):
        return [it]
    if isinstance(it, VMap):
        return list(it.verdicts)
    return []


__all__ = ["parse_nft", "NftRuleset", "SetStmt", "check"]
