"""The value types of nftables and how their literals read: the words after ``ip daddr``.

Every value becomes something the evaluator compares fast: addresses, ports,
protocols, marks and flags an inclusive ``(lo, hi)`` interval of ints; interface
names a string (a trailing ``*`` is a wildcard).  ``parse_value(type, word)``
raises :class:`ValueError` with a hint; the parser turns it into a ParseError.
"""

from __future__ import annotations

import ipaddress
import re
import socket

from netlab.numbers import c_number, is_decimal, to_int

#: ``ct state`` bits (include/uapi/linux/netfilter/nf_conntrack_common.h)
CT_STATE_BITS = {"invalid": 1, "established": 2, "related": 4, "new": 8, "untracked": 64}
CT_STATE_OF = {"INVALID": 1, "ESTABLISHED": 2, "RELATED": 4, "NEW": 8, "UNTRACKED": 64}
#: ``ct status`` bits (IPS_*)
CT_STATUS_BITS = {"expected": 1, "seen-reply": 2, "assured": 4, "confirmed": 8, "snat": 16,
                  "dnat": 32, "dying": 512}
#: what ``fib ... type`` answers (RTN_* route types)
FIB_TYPES = {"unspec": 0, "unicast": 1, "local": 2, "broadcast": 3, "anycast": 4, "multicast": 5,
             "blackhole": 6, "unreachable": 7, "prohibit": 8}
PROTOS = {"icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17, "ipv6": 41, "gre": 47,
          "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "sctp": 132, "udplite": 136,
          "dccp": 33, "comp": 108}
NFPROTO = {"ipv4": 2, "ipv6": 10}
ETHER_TYPES = {"ip": 0x0800, "ip6": 0x86DD, "arp": 0x0806, "vlan": 0x8100}
PKT_TYPES = {"host": 0, "unicast": 0, "broadcast": 1, "multicast": 2, "other": 3}
TCP_FLAGS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10, "urg": 0x20,
             "ecn": 0x40, "cwr": 0x80}
CT_DIR = {"original": 0, "reply": 1}
ICMP_TYPES = {"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5,
              "echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
              "time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13,
              "timestamp-reply": 14, "info-request": 15, "info-reply": 16,
              "address-mask-request": 17, "address-mask-reply": 18}
ICMPV6_TYPES = {"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
                "parameter-problem": 4, "echo-request": 128, "echo-reply": 129,
                "mld-listener-query": 130, "mld-listener-report": 131, "mld-listener-done": 132,
                "nd-router-solicit": 133, "nd-router-advert": 134, "nd-neighbor-solicit": 135,
                "nd-neighbor-advert": 136, "nd-redirect": 137, "mld2-listener-report": 143}
#: service names nft prints for ports (the common part of /etc/services)
SERVICES = {"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53,
            "bootps": 67, "bootpc": 68, "tftp": 69, "http": 80, "www": 80, "kerberos": 88,
            "pop3": 110, "sunrpc": 111, "ntp": 123, "imap": 143, "imap2": 143, "snmp": 161,
            "ldap": 389, "https": 443, "microsoft-ds": 445, "submission": 587, "ldaps": 636,
            "imaps": 993, "pop3s": 995, "mysql": 3306, "postgresql": 5432, "http-alt": 8080,
            "webcache": 8080, "isakmp": 500, "syslog": 514, "rsync": 873, "openvpn": 1194,
            "redis": 6379, "domain-s": 853}

Interval = tuple[int, int]
Atom = Interval | str

_SYMBOLS: dict[str, dict[str, int]] = {
    "ct_state": CT_STATE_BITS, "ct_status": CT_STATUS_BITS, "fib_addrtype": FIB_TYPES,
    "inet_proto": PROTOS, "nf_proto": NFPROTO, "ether_type": ETHER_TYPES, "pkt_type": PKT_TYPES,
    "tcp_flag": TCP_FLAGS, "ct_dir": CT_DIR, "icmp_type": ICMP_TYPES, "icmpv6_type": ICMPV6_TYPES,
    "inet_service": SERVICES, "iface_type": {"ether": 1, "loopback": 772, "ppp": 512},
}
#: flag types: several values may be OR-ed (``ct state established,related``)
FLAG_TYPES = frozenset({"ct_state", "ct_status", "tcp_flag"})
#: how many bits each type has (for masks)
WIDTH = {"ipv4_addr": 32, "ipv6_addr": 128, "inet_service": 16, "inet_proto": 8, "mark": 32,
         "ct_state": 32, "ct_status": 32, "tcp_flag": 8, "integer": 32, "fib_addrtype": 32}


def _int(word: str) -> int:
    """A number as nft writes it (decimal, 0x hex), ASCII only (``netlab.numbers``)."""
    n = c_number(word) if word[:2] in ("0x", "0X") else to_int(word)
    if n is None:
        raise ValueError(f"{word!r} is not a number")
    return n


def _service(word: str) -> int:
    if is_decimal(word):
        return int(word)
    if word in SERVICES:
        return SERVICES[word]
    try:
        return socket.getservbyname(word)
    except OSError:
        raise ValueError(f"{word!r} is not a port number or service name") from None


_DOTTED = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(\d{1,2}))?$")


def _addr(word: str, v6: bool) -> Interval:
    """An address, prefix or ``a-b`` range as an inclusive interval."""
    if not v6:
        m = _DOTTED.match(word)
        if m:
            parts = [int(x) for x in m.groups()[:4]]
            plen = int(m.group(5)) if m.group(5) is not None else 32
            if max(parts) <= 255 and plen <= 32:
                v = (parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]
                host = (1 << (32 - plen)) - 1
                return v & ~host, (v & ~host) | host
    return _addr_slow(word, v6)


def _addr_slow(word: str, v6: bool) -> Interval:
    cls = ipaddress.IPv6Network if v6 else ipaddress.IPv4Network
    acls = ipaddress.IPv6Address if v6 else ipaddress.IPv4Address
    what = "an IPv6" if v6 else "an IPv4"
    try:
        if "/" in word:
            net = cls(word, strict=False)
            return int(net.network_address), int(net.broadcast_address)
        if "-" in word:
            a, _, b = word.partition("-")
            lo, hi = int(acls(a)), int(acls(b))
            if lo > hi:
                raise ValueError
            return lo, hi
        v = int(acls(word.strip("[]")))
        return v, v
    except ValueError:
        raise ValueError(f"{word!r} is not {what} address, prefix or range "
                         f"(write it like {'fd00::1 or fd00::/64' if v6 else '10.0.0.1 or 10.0.0.0/8'})"
                         ) from None


def parse_atom(vtype: str, word: str) -> Atom:
    """One literal of ``vtype`` (``"ipv4_addr"``, ``"inet_service"``, ``"ifname"``…)."""
    if vtype in ("ifname", "iface_index", "string"):
        if word.startswith('"') and word.endswith('"') and len(word) >= 2:
            word = word[1:-1]
        return word
    if word.startswith('"') and word.endswith('"'):
        word = word[1:-1]
    if vtype == "ipv4_addr":
        return _addr(word, False)
    if vtype == "ipv6_addr":
        return _addr(word, True)
    table = _SYMBOLS.get(vtype)
    parse_one = _service if vtype == "inet_service" else _int

    def one(w: str) -> int:
        if table is not None and w in table:
            return table[w]
        try:
            return parse_one(w)
        except ValueError:
            known = f"; known names: {', '.join(sorted(table)[:12])}" if table else ""
            raise ValueError(f"{w!r} is not a valid {vtype} value{known}") from None

    if "-" in word and not word.startswith("-") and word not in (table or {}):
        a, _, b = word.partition("-")
        lo, hi = one(a), one(b)
        if lo > hi:
            raise ValueError(f"range {word!r} runs backwards; write the lower end first")
        return lo, hi
    v = one(word)
    return v, v


def fmt_atom(vtype: str, atom: Atom) -> str:
    """An atom printed back the way nft writes it."""
    if isinstance(atom, str):
        return f'"{atom}"'
    lo, hi = atom
    if vtype in ("ipv4_addr", "ipv6_addr"):
        v6 = vtype == "ipv6_addr"
        a = ipaddress.IPv6Address(lo) if v6 else ipaddress.IPv4Address(lo)
        if lo == hi:
            return str(a)
        size = hi - lo + 1
        if size & (size - 1) == 0 and lo % size == 0:
            return f"{a}/{(128 if v6 else 32) - size.bit_length() + 1}"
        b = ipaddress.IPv6Address(hi) if v6 else ipaddress.IPv4Address(hi)
        return f"{a}-{b}"
    names = _SYMBOLS.get(vtype)
    if names and vtype != "inet_service":
        rev = {v: k for k, v in names.items()}
        if lo == hi and lo in rev:
            return rev[lo]
    if vtype == "mark":
        return f"{lo:#010x}" if lo == hi else f"{lo:#010x}-{hi:#010x}"
    return str(lo) if lo == hi else f"{lo}-{hi}"


def atom_contains(atom: Atom, value: int | str) -> bool:
    """Does a value fall in the atom (interval, name, or ``name*`` wildcard)?"""
    if isinstance(atom, str):
        if not isinstance(value, str):
            return False
        if atom.endswith("*") and not atom.endswith("\\*"):
            return value.startswith(atom[:-1])
        return value == atom
    return isinstance(value, int) and atom[0] <= value <= atom[1]
