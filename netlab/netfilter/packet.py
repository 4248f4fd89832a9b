"""The packet a trace follows: just the header fields netfilter rules look at.

Build one from keywords (``Packet("tcp", "192.168.56.1", "192.168.56.38",
dport=80, tcp_flags="S")``), from a plain dict, from a scapy packet or from a
:class:`netlab.packet.Frame`.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from netlab.errors import NetlabError
from netlab.numbers import c_number, is_decimal, whole_number

PROTO_BY_NUMBER = {0: "all", 1: "icmp", 2: "igmp", 4: "ipip", 6: "tcp", 17: "udp", 41: "ipv6",
                   47: "gre", 50: "esp", 51: "ah", 58: "icmpv6", 132: "sctp", 136: "udplite"}
PROTO_NUMBER = {v: k for k, v in PROTO_BY_NUMBER.items()}
PROTO_NUMBER.update({"ipv6-icmp": 58, "icmp6": 58})


class PacketError(NetlabError, ValueError):
    """A packet description netlab cannot use (bad address, unknown protocol…)."""


def _check_ip(value: Any, what: str) -> str:
    if type(value) is str:
        try:
            socket.inet_pton(socket.AF_INET, value)  # the strict dotted-quad fast path
            return value
        except (OSError, ValueError):  # (ValueError: a NUL in the text)
            pass
    text = str(value).strip()
    if text.endswith(("/32", "/128")):  # a host written as a prefix (as iptables -S prints it)
        text = text.rsplit("/", 1)[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise PacketError(f"{what} {value!r} is not an IP address (write it like 192.168.56.1)") from None

#: flag strings already written the canonical way (the tracer's fast path)
_CANONICAL_FLAGS = frozenset({"S", "SA", "A", "PA", "FA", "FPA", "R", "RA", "F", "P", ""})
#: TCP flags by name, in the order tcpdump/scapy print their letters
TCP_FLAG_NAMES = {"FIN": "F", "SYN": "S", "RST": "R", "RESET": "R", "PSH": "P", "PUSH": "P",
                  "ACK": "A", "URG": "U", "ECE": "E", "CWR": "C"}
_FLAG_ORDER = "FSRPAUEC"


def tcp_flag_letters(flags: Any) -> str:
    """TCP flags in any spelling -> tcpdump letters in a fixed order (``"SA"``).

    Takes letters (``"SA"``, ``"S."``), names (``"SYN,ACK"``, ``"syn|ack"``,
    ``["SYN", "ACK"]``), the flag bits as an int (``0x12``) or a scapy flag value."""
    if flags is None:
        return ""
    if isinstance(flags, int) and not isinstance(flags, bool):
        if not 0 <= flags <= 0xFF:
            raise PacketError(f"TCP flags {flags:#x} do not fit in 8 bits")
        return "".join(ch for k, ch in enumerate(_FLAG_ORDER) if flags >> k & 1)
    if isinstance(flags, (list, tuple, set, frozenset)):
        words = [str(w) for w in flags]
    else:
        text = str(flags).strip()
        words = [w for w in re.split(r"[\s,|+/]+", text) if w]
    letters: set[str] = set()
    for w in words:
        up = w.upper()
        if up in TCP_FLAG_NAMES:
            letters.add(TCP_FLAG_NAMES[up])
        elif up in ("NONE", "NULL", ""):
            continue
        elif all(ch in _FLAG_ORDER or ch == "." for ch in up):
            letters.update("A" if ch == "." else ch for ch in up)
        else:
            raise PacketError(f"TCP flags {flags!r} not understood; write letters as tcpdump does "
                              "(S, SA, PA, FA, R) or names (SYN,ACK)")
    return "".join(ch for ch in _FLAG_ORDER if ch in letters)


def _port(value: Any, name: str) -> int:
    """A port given as int, numeric text or a service name (``"https"``)."""
    if isinstance(value, bool):
        raise PacketError(f"{name} {value!r} is not a port number (0-65535)")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        port = value
    else:
        text = str(value).strip()
        if is_decimal(text):
            port = int(text)
        else:
            from netlab.netfilter.matches import MatchSyntaxError, port_number

            try:
                port = port_number(text.lower())
            except MatchSyntaxError:
                raise PacketError(f"{name} {value!r} is not a port number or service name "
                                  "(write 443 or 'https')") from None
    if not 0 <= port <= 65535:
        raise PacketError(f"{name} {port} is not a port number (0-65535)")
    return port


def _icmp_type(value: Any) -> tuple[int, int | None]:
    """An ICMP type given as a number, ``"8"``, ``"3/3"`` or a name (``"echo-request"``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value, None
    text = str(value).strip()
    t, _, c = text.partition("/")
    if is_decimal(t) and (not c or is_decimal(c)):
        return int(t), (int(c) if c else None)
    from netlab.netfilter.matches import ICMP_TYPES

    key = text.lower().replace("_", "-").replace(" ", "-")
    found = next((v for k, v in ICMP_TYPES.items() if k.lower() == key), None)
    if found is None or found[0] < 0:
        raise PacketError(f"ICMP type {value!r} not understood; give a number (8) or a name "
                          "such as echo-request, echo-reply, port-unreachable")
    itype, icode = found
    return itype, icode


#: what learners call the packet's fields -> the Packet field
FIELD_ALIASES = {
    "proto": "proto", "protocol": "proto", "l4proto": "proto", "ip_proto": "proto", "ipproto": "proto",
    "src": "src", "source": "src", "src_ip": "src", "srcip": "src", "saddr": "src", "src_addr": "src",
    "source_ip": "src", "source_address": "src", "sip": "src", "ip_src": "src",
    "dst": "dst", "dest": "dst", "destination": "dst", "dst_ip": "dst", "dstip": "dst", "daddr": "dst",
    "dst_addr": "dst", "destination_ip": "dst", "destination_address": "dst", "dip": "dst",
    "ip_dst": "dst",
    "sport": "sport", "src_port": "sport", "srcport": "sport", "source_port": "sport",
    "dport": "dport", "dst_port": "dport", "dstport": "dport", "destination_port": "dport",
    "dest_port": "dport", "port": "dport",
    "tcp_flags": "tcp_flags", "flags": "tcp_flags", "tcpflags": "tcp_flags",
    "icmp_type": "icmp_type", "icmptype": "icmp_type", "type": "icmp_type",
    "icmp_code": "icmp_code", "icmpcode": "icmp_code", "code": "icmp_code",
    "mark": "mark", "fwmark": "mark", "nfmark": "mark", "ctmark": "ctmark", "connmark": "ctmark",
    "length": "length", "len": "length", "pkttype": "pkttype", "pkt_type": "pkttype",
    "physdev_in": "physdev_in", "physdev_out": "physdev_out", "fragment": "fragment", "ttl": "ttl",
    "orig": "orig", "ct_nat": "ct_nat",
}


@dataclass
class Packet:
    """What netfilter sees of a packet.

    ``proto`` is ``"tcp"``, ``"udp"``, ``"icmp"`` or another name/number;
    ``tcp_flags`` letters as tcpdump writes them (``"S"``, ``"SA"``, ``"A"``);
    ``pkttype`` is the link-layer class (``"unicast"``, ``"broadcast"``,
    ``"multicast"``; None = worked out from the destination address);
    ``physdev_in``/``physdev_out`` are bridge ports when the packet is bridged.
    """

    proto: str = "tcp"
    src: str = "0.0.0.0"
    dst: str = "0.0.0.0"
    sport: int | None = None
    dport: int | None = None
    tcp_flags: str | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    mark: int = 0
    ctmark: int = 0
    length: int | None = None
    pkttype: str | None = None
    physdev_in: str | None = None
    physdev_out: str | None = None
    fragment: bool = False
    ttl: int = 64
    #: the connection's original tuple and NAT done to it (conntrack's view), set on
    #: ``trace.packet_after`` when NAT rewrote the packet, so the next hook's trace
    #: answers ``--ctorigdst``/``--ctstate DNAT`` as the kernel would
    orig: tuple[str, str, int | None, int | None] | None = None
    ct_nat: str = ""

    def __post_init__(self) -> None:
        p = self.proto
        if isinstance(p, int):
            p = PROTO_BY_NUMBER.get(p, str(p))
        p = str(p).strip().lower()
        if is_decimal(p):
            p = PROTO_BY_NUMBER.get(int(p), p)
        elif p not in PROTO_NUMBER:
            raise PacketError(f"unknown protocol {self.proto!r}; use tcp, udp, icmp or a number")
        self.proto = p
        self.src = _check_ip(self.src, "source")
        self.dst = _check_ip(self.dst, "destination")
        if (":" in self.src) != (":" in self.dst):
            v6, v4 = (self.src, self.dst) if ":" in self.src else (self.dst, self.src)
            raise PacketError(f"source {self.src} and destination {self.dst} are not the same IP "
                              f"version ({v6} is IPv6, {v4} is IPv4); a packet has two IPv4 or two "
                              "IPv6 addresses")
        for name in ("sport", "dport"):
            v = getattr(self, name)
            if v is not None and type(v) is not int:
                setattr(self, name, _port(v, name))
            elif v is not None and not 0 <= v <= 65535:
                raise PacketError(f"{name} {v} is not a port number (0-65535)")
        for name in ("length", "ttl"):
            v = getattr(self, name)
            if v is not None and type(v) is not int:
                n = whole_number(v)
                if n is None:
                    raise PacketError(f"{name} {v!r} is not a number")
                setattr(self, name, n)
        for name in ("mark", "ctmark"):
            v = getattr(self, name)
            if type(v) is not int:
                n = 0 if v is None else c_number(str(v).strip())
                if n is None:
                    raise PacketError(f"{name} {v!r} is not a number (write 0x1 or 1)")
                setattr(self, name, n)
        if self.pkttype is not None:
            self.pkttype = str(self.pkttype).lower()
            if self.pkttype not in ("unicast", "broadcast", "multicast", "host", "otherhost"):
                raise PacketError(f"pkttype {self.pkttype!r}: use unicast, broadcast or multicast")
            if self.pkttype in ("host", "otherhost"):
                self.pkttype = "unicast"
        if self.proto == "tcp":
            f = self.tcp_flags
            if f is None:
                self.tcp_flags = "S"
            elif type(f) is not str or f not in _CANONICAL_FLAGS:
                self.tcp_flags = tcp_flag_letters(f)
        if self.proto == "icmp":
            if self.icmp_type is None:
                self.icmp_type, self.icmp_code = 8, (0 if self.icmp_code is None else self.icmp_code)
            elif type(self.icmp_type) is not int:
                self.icmp_type, code = _icmp_type(self.icmp_type)
                if self.icmp_code is None:
                    self.icmp_code = code
            if self.icmp_code is not None and type(self.icmp_code) is not int:
                code = whole_number(self.icmp_code)
                if code is None:
                    raise PacketError(f"ICMP code {self.icmp_code!r} is not a number")
                self.icmp_code = code

    @property
    def proto_number(self) -> int:
        return PROTO_NUMBER.get(self.proto, int(self.proto) if is_decimal(self.proto) else -1)

    def copy(self, **changes: Any) -> Packet:
        return dataclasses.replace(self, **changes)

    def _rewritten(self, **fields: Any) -> Packet:
        """A copy with already-valid fields changed (no re-validation; for the tracer)."""
        new = copy.copy(self)
        new.__dict__.update(fields)
        return new

    def summary(self) -> str:
        """One line in tcpdump's spirit: ``TCP 192.168.56.1:40000 > 192.168.56.38:80 [S]``."""
        if self.proto in ("tcp", "udp"):
            src, dst = (f"[{self.src}]", f"[{self.dst}]") if ":" in self.src else (self.src, self.dst)
            s = f"{self.proto.upper()} {src}:{self.sport if self.sport is not None else '*'}"
            s += f" > {dst}:{self.dport if self.dport is not None else '*'}"
            if self.proto == "tcp":
                s += f" [{self.tcp_flags}]"
            return s
        if self.proto == "icmp":
            return f"ICMP {self.src} > {self.dst} type {self.icmp_type} code {self.icmp_code or 0}"
        return f"{self.proto.upper()} {self.src} > {self.dst}"

    def __str__(self) -> str:
        return self.summary()

    # ------------------------------------------------------------ builders
    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Packet:
        """From a plain description such as ``{"proto": "tcp", "src": ..., "dst": ...,
        "dport": 443}``; common spellings (``protocol``, ``source``, ``dst_port``,
        ``flags``, ``type``...) are understood, and ports may be text."""
        fields: dict[str, Any] = {}
        unknown = []
        for key, value in data.items():
            k = str(key).strip().lower().replace("-", "_").replace(" ", "_")
            name = FIELD_ALIASES.get(k)
            if name is None:
                unknown.append(key)
                continue
            if name in fields and fields[name] != value:
                raise PacketError(f"the packet gives {name} twice ({fields[name]!r} and {value!r})")
            fields[name] = value
        if unknown:
            raise PacketError(f"unknown packet field(s) {sorted(map(str, unknown))}; use proto, src, dst, "
                              "sport, dport, tcp_flags, icmp_type, icmp_code, mark, ...")
        if "proto" not in fields:
            if "icmp_type" in fields:
                fields["proto"] = "icmp"
        elif fields.get("proto") is None:
            fields["proto"] = "all"
        return cls(**fields)

    @classmethod
    def coerce(cls, packet: Any) -> Packet:
        """Any packet description -> Packet (Packet, dict, Frame or scapy packet)."""
        if isinstance(packet, Packet):
            return packet
        if isinstance(packet, Mapping):
            return cls.from_dict(packet)
        from netlab.packet import Frame

        if isinstance(packet, Frame):
            return cls.from_frame(packet)
        if hasattr(packet, "haslayer"):
            return cls.from_scapy(packet)
        raise PacketError(f"cannot use a {type(packet).__name__} as a packet; give a netlab Packet, "
                          "a dict like {'proto': 'tcp', 'src': ..., 'dst': ..., 'dport': 80}, "
                          "a Frame or a scapy packet")

    @classmethod
    def from_frame(cls, frame: Any) -> Packet:
        """From a :class:`netlab.packet.Frame` (an IPv4 frame)."""
        if frame.src is None or frame.dst is None or frame.proto == "arp":
            raise PacketError("only IPv4 frames pass through iptables (this one is "
                              f"{frame.proto}); ARP is handled by arptables/ebtables")
        proto = frame.proto if frame.proto in ("tcp", "udp", "icmp") else "all"
        pkttype = None
        if frame.dst_mac == "ff:ff:ff:ff:ff:ff":
            pkttype = "broadcast"
        elif int(frame.dst_mac.split(":")[0], 16) & 1:
            pkttype = "multicast"
        # the IPv4 total length (what -m length sees), without encoding the frame
        payload = len(frame.payload or b"")
        if proto == "tcp":
            length = 40 + payload
        elif proto == "udp":
            length = 28 + payload
        elif proto == "icmp":
            length = 28 + (28 if frame.quoted is not None and frame.icmp_type not in (0, 8) else payload)
        else:
            length = 20 + payload
        return cls(proto=proto, src=frame.src, dst=frame.dst, sport=frame.sport, dport=frame.dport,
                   tcp_flags=frame.flags if proto == "tcp" else None,
                   icmp_type=frame.icmp_type, icmp_code=frame.icmp_code, length=length,
                   pkttype=pkttype, ttl=frame.ttl if frame.ttl is not None else 64)

    @classmethod
    def from_scapy(cls, pkt: Any) -> Packet:
        """From a scapy packet with an IP layer."""
        from netlab.extras import need

        need("scapy.layers.inet", "Packet.from_scapy")
        from scapy.layers.inet import ICMP, IP, TCP, UDP

        if not pkt.haslayer(IP):
            raise PacketError("the scapy packet has no IPv4 layer; iptables only sees IPv4 packets")
        ip = pkt[IP]
        kw: dict[str, Any] = {"src": ip.src, "dst": ip.dst, "length": int(ip.len) if ip.len else len(ip),
                              "ttl": ip.ttl, "fragment": bool(ip.frag)}
        if pkt.haslayer(TCP):
            t = pkt[TCP]
            kw.update(proto="tcp", sport=t.sport, dport=t.dport, tcp_flags=str(t.flags))
        elif pkt.haslayer(UDP):
            u = pkt[UDP]
            kw.update(proto="udp", sport=u.sport, dport=u.dport)
        elif pkt.haslayer(ICMP):
            i = pkt[ICMP]
            kw.update(proto="icmp", icmp_type=int(i.type), icmp_code=int(i.code))
        else:
            kw["proto"] = PROTO_BY_NUMBER.get(int(ip.proto), str(int(ip.proto)))
        try:
            from scapy.layers.l2 import Ether

            if pkt.haslayer(Ether):
                # the raw field: reading ``.dst`` of an unset Ether would make scapy
                # resolve it (an ARP request from this machine)
                mac = str(pkt[Ether].getfieldval("dst") or "").lower()
                if not mac or mac.count(":") != 5:
                    pass  # unknown link-layer destination: worked out from the address
                elif mac == "ff:ff:ff:ff:ff:ff":
                    kw["pkttype"] = "broadcast"
                elif int(mac.split(":")[0], 16) & 1:
                    kw["pkttype"] = "multicast"
        except ImportError:  # pragma: no cover
            pass
        return cls(**kw)
