"""The packet a trace follows: just the header fields netfilter rules look at.

Build one from keywords (``Packet("tcp", "192.168.56.1", "192.168.56.38",
dport=80, tcp_flags="S")``), from a plain dict, from a scapy packet or from a
:class:`netlab.packet.Frame`.
"""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any

from netlab.errors import NetlabError

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
        except OSError:
            pass
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        raise PacketError(f"{what} {value!r} is not an IP address (write it like 192.168.56.1)") from None


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

    def __post_init__(self) -> None:
        p = self.proto
        if isinstance(p, int):
            p = PROTO_BY_NUMBER.get(p, str(p))
        p = str(p).lower()
        if p.isdigit():
            p = PROTO_BY_NUMBER.get(int(p), p)
        elif p not in PROTO_NUMBER:
            raise PacketError(f"unknown protocol {self.proto!r}; use tcp, udp, icmp or a number")
        self.proto = p
        self.src = _check_ip(self.src, "source")
        self.dst = _check_ip(self.dst, "destination")
        for name in ("sport", "dport"):
            v = getattr(self, name)
            if v is not None:
                v = int(v)
                if not 0 <= v <= 65535:
                    raise PacketError(f"{name} {v} is not a port number (0-65535)")
                setattr(self, name, v)
        if self.proto == "tcp" and self.tcp_flags is None:
            self.tcp_flags = "S"
        if self.proto == "icmp" and self.icmp_type is None:
            self.icmp_type, self.icmp_code = 8, 0
        if self.tcp_flags is not None:
            self.tcp_flags = str(self.tcp_flags).upper()

    @property
    def proto_number(self) -> int:
        return PROTO_NUMBER.get(self.proto, int(self.proto) if self.proto.isdigit() else -1)

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
    def coerce(cls, packet: Any) -> Packet:
        """Any packet description -> Packet (Packet, dict, Frame or scapy packet)."""
        if isinstance(packet, Packet):
            return packet
        if isinstance(packet, dict):
            data = dict(packet)
            if "flags" in data and "tcp_flags" not in data:
                data["tcp_flags"] = data.pop("flags")
            if "protocol" in data and "proto" not in data:
                data["proto"] = data.pop("protocol")
            names = {f.name for f in dataclasses.fields(cls)}
            unknown = set(data) - names
            if unknown:
                raise PacketError(f"unknown packet field(s) {sorted(unknown)}; known: {sorted(names)}")
            return cls(**data)
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
                mac = pkt[Ether].dst.lower()
                if mac == "ff:ff:ff:ff:ff:ff":
                    kw["pkttype"] = "broadcast"
                elif int(mac.split(":")[0], 16) & 1:
                    kw["pkttype"] = "multicast"
        except ImportError:  # pragma: no cover
            pass
        return cls(**kw)
