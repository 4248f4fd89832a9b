"""The evaluation context: one packet's fields as numbers, plus what the host knows.

Built once per trace, read by every compiled match (``matches.py``) and changed
by targets (``targets.py``): a DNAT rewrites ``dst``/``dport`` here, a MARK sets
``mark``, a raw-table NOTRACK turns ``ct_state`` into UNTRACKED.
"""

from __future__ import annotations

import ipaddress
import random
import socket
from typing import Any

from netlab.netfilter.packet import PROTO_NUMBER, Packet
from netlab.numbers import is_decimal

TCP_FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}
LOOPBACK_NET, LOOPBACK_MASK = 0x7F000000, 0xFF000000


def ip_to_int(text: str) -> int:
    """An IPv4 (or IPv6) address as an int."""
    try:
        return int.from_bytes(socket.inet_aton(text), "big") if "." in text and ":" not in text \
            else int(ipaddress.ip_address(text))
    except OSError:
        return int(ipaddress.ip_address(text))


def int_to_ip(value: int) -> str:
    return socket.inet_ntoa(value.to_bytes(4, "big"))


def flags_to_bits(flags: str | None) -> int:
    bits = 0
    for ch in flags or "":
        bits |= TCP_FLAG_BITS.get(ch, 0)
    return bits


def parse_iface_addrs(iface_addrs: dict | None) -> dict[str, list[tuple[int, int]]]:
    """``{"enp0s8": ["192.168.56.38/24"]}`` -> ``{"enp0s8": [(addr, prefixlen)]}``."""
    out: dict[str, list[tuple[int, int]]] = {}
    for iface, addrs in (iface_addrs or {}).items():
        if isinstance(addrs, str):
            addrs = [addrs]
        lst = []
        for a in addrs:
            a = str(a)
            if ":" in a:
                continue  # IPv6 addresses play no part in IPv4 rules
            ip, _, plen = a.partition("/")
            lst.append((ip_to_int(ip.strip()), int(plen) if plen else 32))
        out[iface] = lst
    return out


def ct_field(conntrack: Any, *names: str) -> Any:
    """A field of a conntrack description (dict or object), trying several spellings."""
    if conntrack is None:
        return None
    for name in names:
        if isinstance(conntrack, dict):
            if name in conntrack:
                return conntrack[name]
        elif hasattr(conntrack, name):
            return getattr(conntrack, name)
    # a parsed `conntrack -L` entry (netlab.model.ConntrackEntry): orig/reply tuples
    for name in names:
        side, _, part = name.partition("_")
        if side in ("orig", "repl") and part in ("src", "dst", "sport", "dport"):
            tup = ct_field(conntrack, "orig") if side == "orig" else ct_field(conntrack, "reply", "repl")
            if tup is not None and not isinstance(tup, (str, int, tuple, list)):
                value = ct_field(tup, part)
                if value is not None:
                    return value
    return None


def _normalise_ipsets(ipsets: Any) -> dict | None:
    """``{name: members}`` with a lone member string taken as one member."""
    if ipsets is None:
        return None
    if not isinstance(ipsets, dict):
        from netlab.errors import NetlabError

        raise NetlabError("ipsets= takes a dict {set name: [members]}, e.g. "
                          "{'allowed': ['192.168.56.0/24']}")
    return {name: ([members] if isinstance(members, str) else list(members or ()))
            for name, members in ipsets.items()}


class Context:
    """Mutable per-trace state read by matches and written by targets."""

    def __init__(self, packet: Packet, *, hook: str, in_iface: str | None, out_iface: str | None,
                 local_addrs: Any, ct_state: str, ipsets: dict | None, seed: int,
                 iface_addrs: dict | None, conntrack: Any, next_hop: str | None) -> None:
        self.packet = packet
        self.hook = hook
        self.family = 6 if ":" in packet.src else 4
        self.src = ip_to_int(packet.src)
        self.dst = ip_to_int(packet.dst)
        self.proto = packet.proto
        self.proto_num = PROTO_NUMBER.get(packet.proto, int(packet.proto) if is_decimal(packet.proto) else -1)
        self.sport = packet.sport
        self.dport = packet.dport
        self.flags = flags_to_bits(packet.tcp_flags) if packet.proto == "tcp" else None
        self.icmp_type = packet.icmp_type
        self.icmp_code = packet.icmp_code
        self.mark = int(packet.mark or 0)
        self.ctmark = int(packet.ctmark or 0)
        self.length = packet.length
        self.fragment = packet.fragment
        self.pkttype = packet.pkttype
        self.physdev_in = packet.physdev_in
        self.physdev_out = packet.physdev_out
        self.in_iface = in_iface or ""
        self.out_iface = out_iface or ""
        self.ct_state = (ct_state or "NEW").upper()
        self.conntrack = conntrack
        self.ipsets = _normalise_ipsets(ipsets)
        self.seed = seed
        self._rng: random.Random | None = None
        self.iface_addrs = parse_iface_addrs(iface_addrs)
        self.iface_addrs_given = iface_addrs is not None
        local: set[int] = set()
        if isinstance(local_addrs, str):  # "192.168.56.38" or "a, b"
            local_addrs = local_addrs.replace(",", " ").split()
        for a in local_addrs or ():
            a = str(a).split("/")[0]
            if ":" not in a:
                local.add(ip_to_int(a))
        for lst in self.iface_addrs.values():
            local.update(ip for ip, _ in lst)
        self.local = local
        self.local_given = bool(local)
        self.next_hop = ip_to_int(next_hop) if next_hop else None
        self.notes: list[str] = []
        self.uncertain = False
        # the original direction of the connection, for --ctorig* when no conntrack is given
        # the original direction of the connection: from the packet when an earlier
        # hook's trace NATed it (Trace.packet_after), else the packet as it is now
        self.orig_known = packet.orig is not None
        if packet.orig is not None:
            o = packet.orig
            self.orig = (ip_to_int(o[0]), ip_to_int(o[1]), o[2], o[3])
        else:
            self.orig = (self.src, self.dst, self.sport, self.dport)
        # NAT done to this connection (for --ctstate DNAT/SNAT): earlier hooks, then this trace
        self.nat_states: set[str] = set(packet.ct_nat.split(",")) - {""} if packet.ct_nat else set()
        self.nat_known = bool(packet.ct_nat) or packet.orig is not None

    @property
    def rng(self) -> random.Random:
        """The random source of ``-m statistic``, seeded by the trace's ``seed``."""
        if self._rng is None:
            self._rng = random.Random(self.seed)
        return self._rng

    def note(self, text: str, uncertain: bool = False) -> None:
        if text not in self.notes:
            self.notes.append(text)
        if uncertain:
            self.uncertain = True

    def is_local(self, addr: int) -> bool:
        return (addr & LOOPBACK_MASK) == LOOPBACK_NET or addr in self.local

    def broadcasts(self, iface: str | None = None) -> set[int]:
        """Directed broadcast addresses of the host's subnets (of one interface)."""
        out = set()
        items = [self.iface_addrs.get(iface, [])] if iface else list(self.iface_addrs.values())
        for lst in items:
            for ip, plen in lst:
                if plen < 31:
                    host = (1 << (32 - plen)) - 1
                    out.add(ip | host)
        return out

    def addr_type(self, addr: int, iface: str | None = None) -> str:
        """The kernel's address type (LOCAL, BROADCAST, MULTICAST, UNICAST).

        ``iface`` limits LOCAL/BROADCAST to that interface's addresses, like
        ``--limit-iface-in``/``--limit-iface-out``."""
        if addr >> 24 == 0 or addr == 0xFFFFFFFF:
            return "BROADCAST"
        if (addr >> 28) == 0xE:
            return "MULTICAST"
        if addr == 0x7FFFFFFF:  # lo's broadcast route beats its local 127.0.0.0/8
            return "BROADCAST"
        if iface is not None:
            if iface == "lo":
                return "LOCAL" if (addr & LOOPBACK_MASK) == LOOPBACK_NET else "UNICAST"
            if any(ip == addr for ip, _ in self.iface_addrs.get(iface, [])):
                return "LOCAL"
            if addr in self.broadcasts(iface):
                return "BROADCAST"
            return "UNICAST"
        if self.is_local(addr):
            return "LOCAL"
        if addr in self.broadcasts():
            return "BROADCAST"
        return "UNICAST"
