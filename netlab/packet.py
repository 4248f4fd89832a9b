"""Packet headers as plain data, built to and read from wire bytes without scapy.

:class:`Frame` is the one packet record shared by the simulator (which rewrites
headers hop by hop), the capture reader (which must read 200,000 packets fast)
and the lab (which decodes what tcpdump saw).  ``Frame.from_bytes`` and
``Frame.to_bytes`` handle Ethernet, ARP, IPv4, TCP, UDP and ICMP — what the
lessons' packets are made of — with correct checksums, so Wireshark and scapy
agree with what we wrote.  Full dissection stays with scapy (:meth:`Frame.scapy`),
imported only when a learner opens a packet.
"""

from __future__ import annotations

import dataclasses
import socket
import struct
from dataclasses import dataclass

ETH_IPV4 = 0x0800
ETH_ARP = 0x0806
ETH_IPV6 = 0x86DD
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
MAX_QUOTED = 4  # ICMP errors quoting ICMP errors: how many levels Frame reads
PROTO_NAMES = {PROTO_ICMP: "icmp", PROTO_TCP: "tcp", PROTO_UDP: "udp"}
PROTO_NUMBERS = {v: k for k, v in PROTO_NAMES.items()}

TCP_FLAG_BITS = (("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08), ("A", 0x10),
                 ("U", 0x20), ("E", 0x40), ("C", 0x80))
ICMP_NAMES = {0: "echo-reply", 3: "destination-unreachable", 8: "echo-request",
              11: "time-exceeded", 5: "redirect"}

_ip2b = socket.inet_aton
_b2ip = socket.inet_ntoa


def mac_to_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def bytes_to_mac(b: bytes) -> str:
    return b.hex(":")


def flags_to_int(flags: str) -> int:
    value = 0
    for letter, bit in TCP_FLAG_BITS:
        if letter in flags:
            value |= bit
    return value


def int_to_flags(value: int) -> str:
    return "".join(letter for letter, bit in TCP_FLAG_BITS if value & bit)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass
class Frame:
    """One Ethernet frame's headers.  ``proto`` is ``"tcp"``, ``"udp"``, ``"icmp"``,
    ``"arp"`` or ``"other"``; fields that do not apply are None."""

    src_mac: str = "00:00:00:00:00:00"
    dst_mac: str = "ff:ff:ff:ff:ff:ff"
    ethertype: int = ETH_IPV4
    proto: str = "other"
    # IPv4
    src: str | None = None
    dst: str | None = None
    ttl: int | None = None
    ip_id: int | None = None
    tos: int = 0
    df: bool = True
    # TCP / UDP
    sport: int | None = None
    dport: int | None = None
    seq: int | None = None
    ack: int | None = None
    flags: str | None = None  # "S", "SA", "A", "PA", "FA", "R", "RA"
    window: int | None = None
    # ICMP
    icmp_type: int | None = None
    icmp_code: int | None = None
    icmp_id: int | None = None
    icmp_seq: int | None = None
    # ARP
    arp_op: int | None = None  # 1 who-has, 2 is-at
    arp_sender_mac: str | None = None
    arp_sender_ip: str | None = None
    arp_target_mac: str | None = None
    arp_target_ip: str | None = None
    payload: bytes = b""
    # an ICMP error quotes the packet it answers (its IP header + 8 bytes)
    quoted: Frame | None = None

    # ---------------------------------------------------------------- helpers
    def copy(self, **changes: object) -> Frame:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def length(self) -> int:
        return len(self.to_bytes())

    def summary(self) -> str:
        """One line, in the spirit of tcpdump's."""
        if self.proto == "arp":
            if self.arp_op == 1:
                return f"ARP who-has {self.arp_target_ip} tell {self.arp_sender_ip}"
            return f"ARP {self.arp_sender_ip} is-at {self.arp_sender_mac}"
        if self.proto == "tcp":
            text = f"TCP {self.src}:{self.sport} > {self.dst}:{self.dport} [{self.flags}]"
            if self.payload:
                first = self.payload.split(b"\r\n", 1)[0][:40].decode("latin-1")
                text += f" {first}"
            return text
        if self.proto == "udp":
            return f"UDP {self.src}:{self.sport} > {self.dst}:{self.dport} len={len(self.payload)}"
        if self.proto == "icmp":
            name = ICMP_NAMES.get(self.icmp_type or 0, f"type {self.icmp_type}")
            extra = f" id={self.icmp_id} seq={self.icmp_seq}" if self.icmp_type in (0, 8) else ""
            if self.icmp_type == 3:
                extra = f" code {self.icmp_code}"
            return f"ICMP {self.src} > {self.dst} {name}{extra}"
        return f"ethertype 0x{self.ethertype:04x}"

    # ---------------------------------------------------------------- encode
    def to_bytes(self) -> bytes:
        eth = mac_to_bytes(self.dst_mac) + mac_to_bytes(self.src_mac)
        if self.proto == "arp":
            body = struct.pack(
                "!HHBBH6s4s6s4s", 1, ETH_IPV4, 6, 4, self.arp_op or 1,
                mac_to_bytes(self.arp_sender_mac or self.src_mac), _ip2b(self.arp_sender_ip or "0.0.0.0"),
                mac_to_bytes(self.arp_target_mac or "00:00:00:00:00:00"),
                _ip2b(self.arp_target_ip or "0.0.0.0"),
            )
            return eth + struct.pack("!H", ETH_ARP) + body
        if self.ethertype != ETH_IPV4 or self.src is None or self.dst is None:
            return eth + struct.pack("!H", self.ethertype) + self.payload
        return eth + struct.pack("!H", ETH_IPV4) + self.ip_bytes()

    def ip_bytes(self) -> bytes:
        """The IPv4 packet (header and payload), checksums filled in."""
        src, dst = _ip2b(self.src or "0.0.0.0"), _ip2b(self.dst or "0.0.0.0")
        number = PROTO_NUMBERS.get(self.proto, 0)
        l4 = self._l4_bytes(src, dst, number)
        total = 20 + len(l4)
        header = struct.pack("!BBHHHBBH4s4s", 0x45, self.tos, total, self.ip_id or 0,
                             0x4000 if self.df else 0, self.ttl if self.ttl is not None else 64,
                             number, 0, src, dst)
        header = header[:10] + struct.pack("!H", checksum(header)) + header[12:]
        return header + l4

    def _l4_bytes(self, src: bytes, dst: bytes, number: int) -> bytes:
        if self.proto == "tcp":
            hdr = struct.pack("!HHIIBBHHH", self.sport or 0, self.dport or 0, self.seq or 0,
                              self.ack or 0, 5 << 4, flags_to_int(self.flags or ""),
                              self.window if self.window is not None else 64240, 0, 0)
            seg = hdr + self.payload
            pseudo = src + dst + struct.pack("!BBH", 0, number, len(seg))
            csum = checksum(pseudo + seg)
            return seg[:16] + struct.pack("!H", csum) + seg[18:]
        if self.proto == "udp":
            length = 8 + len(self.payload)
            seg = struct.pack("!HHHH", self.sport or 0, self.dport or 0, length, 0) + self.payload
            pseudo = src + dst + struct.pack("!BBH", 0, number, length)
            csum = checksum(pseudo + seg) or 0xFFFF
            return seg[:6] + struct.pack("!H", csum) + seg[8:]
        if self.proto == "icmp":
            if self.icmp_type in (0, 8):
                rest = struct.pack("!HH", self.icmp_id or 0, self.icmp_seq or 0)
                body = self.payload
            else:
                rest = b"\0\0\0\0"
                body = self.quoted.ip_bytes()[:28] if self.quoted is not None else self.payload
            msg = struct.pack("!BBH", self.icmp_type or 0, self.icmp_code or 0, 0) + rest + body
            return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]
        return self.payload

    # ---------------------------------------------------------------- decode
    @classmethod
    def from_bytes(cls, data: bytes) -> Frame:
        """Read the headers of an Ethernet frame (never raises on short input:
        what cannot be read stays None and ``proto`` says ``"other"``)."""
        f = cls()
        if len(data) < 14:
            f.payload = data
            return f
        f.dst_mac = bytes_to_mac(data[0:6])
        f.src_mac = bytes_to_mac(data[6:12])
        (f.ethertype,) = struct.unpack_from("!H", data, 12)
        off = 14
        if f.ethertype == 0x8100 and len(data) >= 18:
            (f.ethertype,) = struct.unpack_from("!H", data, 16)
            off = 18
        if f.ethertype == ETH_ARP and len(data) >= off + 28:
            f.proto = "arp"
            (_, _, _, _, f.arp_op, smac, sip, tmac, tip) = struct.unpack_from(
                "!HHBBH6s4s6s4s", data, off)
            f.arp_sender_mac, f.arp_sender_ip = bytes_to_mac(smac), _b2ip(sip)
            f.arp_target_mac, f.arp_target_ip = bytes_to_mac(tmac), _b2ip(tip)
            return f
        if f.ethertype == ETH_IPV4:
            f.read_ip(data[off:])
        else:
            f.payload = data[off:]
        return f

    def read_ip(self, data: bytes, _depth: int = 0) -> None:
        """Read an IPv4 packet's headers; an ICMP error's quoted packet is read too, at most
        ``MAX_QUOTED`` levels deep (the kernel never quotes an ICMP error in another, RFC
        1122 3.2.2; a crafted packet nesting thousands is kept as payload)."""
        if len(data) < 20 or data[0] >> 4 != 4:
            self.payload = data
            return
        ihl = (data[0] & 0x0F) * 4
        (self.tos, total, self.ip_id, frag, self.ttl, number) = struct.unpack_from("!xBHHHBB", data, 0)
        self.df = bool(frag & 0x4000)
        self.src, self.dst = _b2ip(data[12:16]), _b2ip(data[16:20])
        body = data[ihl:total] if total >= ihl else data[ihl:]
        self.proto = PROTO_NAMES.get(number, "other")
        if self.proto == "tcp" and len(body) >= 20:
            (self.sport, self.dport, self.seq, self.ack, off, fl, self.window) = struct.unpack_from(
                "!HHIIBBH", body, 0)
            self.flags = int_to_flags(fl)
            self.payload = body[(off >> 4) * 4:]
        elif self.proto == "udp" and len(body) >= 8:
            self.sport, self.dport = struct.unpack_from("!HH", body, 0)
            self.payload = body[8:]
        elif self.proto == "icmp" and len(body) >= 8:
            self.icmp_type, self.icmp_code = body[0], body[1]
            if self.icmp_type in (0, 8):
                self.icmp_id, self.icmp_seq = struct.unpack_from("!HH", body, 4)
                self.payload = body[8:]
            elif len(body) >= 28 and _depth < MAX_QUOTED:
                inner = Frame(ethertype=ETH_IPV4)
                inner.read_ip(body[8:], _depth + 1)
                self.quoted = inner
            else:
                self.payload = body[8:]
        else:
            if self.proto in ("tcp", "udp", "icmp"):
                self.proto = "other"
            self.payload = body

    def scapy(self):  # noqa: ANN201 - scapy is imported lazily
        """The frame as a scapy packet (for full dissection in a lesson)."""
        from netlab.extras import need

        need("scapy.layers.l2", "Frame.scapy()")
        from scapy.layers.l2 import Ether

        return Ether(self.to_bytes())
