"""Header fields of every packet at once, with numpy over the file's bytes.

scapy dissects one packet at a time (about 2,000 a second); a lesson's table
only needs the headers, which sit at offsets we can compute for all packets
together: the link layer says where IP starts, IP's header length says where
TCP/UDP starts.  Each field is then one fancy-indexing gather over the whole
capture.  Bytes past a packet's captured length are never trusted: every field
has a validity mask, and what a packet does not hold stays missing.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from netlab.capture.pcapng import (
    LINKTYPE_ETHERNET,
    LINKTYPE_IPV4,
    LINKTYPE_IPV6,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    LINKTYPE_NULL,
    LINKTYPE_RAW,
    SUPPORTED_LINKTYPES,
    RawCapture,
    gather,
    linktype_name,
)
from netlab.packet import ICMP_NAMES, int_to_flags

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

# protocol codes of the ``proto`` column, and their names in ``capture.df``
PROTOCOLS = ("other", "arp", "ip", "tcp", "udp", "icmp", "ipv6", "icmpv6", "igmp")
P_OTHER, P_ARP, P_IP, P_TCP, P_UDP, P_ICMP, P_IPV6, P_ICMPV6, P_IGMP = range(len(PROTOCOLS))
ETHERTYPE_NAMES = {0x88CC: "LLDP", 0x8035: "RARP", 0x88A8: "802.1ad", 0x8863: "PPPoE discovery",
                   0x8864: "PPPoE session", 0x888E: "EAPOL", 0x0842: "Wake-on-LAN"}
ICMPV6_NAMES = {1: "destination-unreachable", 3: "time-exceeded", 128: "echo-request",
                129: "echo-reply", 133: "router-solicitation", 134: "router-advertisement",
                135: "neighbor-solicitation", 136: "neighbor-advertisement"}
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)  # 802.1Q, 802.1ad (QinQ) and the old QinQ tag
IP_PROTO_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 2: "IGMP", 47: "GRE", 50: "ESP", 58: "ICMPv6"}
UNREACHABLE = {0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable",
               3: "port unreachable", 4: "fragmentation needed", 9: "network prohibited",
               10: "host prohibited", 13: "administratively prohibited"}
PAD = 96  # zero bytes appended so a gather past the last packet stays inside the buffer


@dataclass
class Columns:
    """Per-packet header fields as numpy arrays (missing = -1 unless noted)."""

    n: int
    proto: np.ndarray  # int8 code into PROTOCOLS
    ethertype: np.ndarray  # int32
    src_mac: np.ndarray  # int64 (48-bit value), -1 missing
    dst_mac: np.ndarray
    v4src: np.ndarray  # int64 IPv4 address, -1 missing
    v4dst: np.ndarray
    v6: np.ndarray  # bool: src6/dst6 hold an IPv6 address
    src6: np.ndarray | None  # (n, 16) uint8 for IPv6 packets only (rows where v6)
    dst6: np.ndarray | None
    ipproto: np.ndarray  # IP protocol / IPv6 next header, -1 missing
    ttl: np.ndarray
    ip_id: np.ndarray
    sport: np.ndarray
    dport: np.ndarray
    seq: np.ndarray
    ack: np.ndarray
    flags: np.ndarray  # TCP flag byte, -1 missing
    window: np.ndarray
    icmp_type: np.ndarray
    icmp_code: np.ndarray
    icmp_id: np.ndarray
    icmp_seq: np.ndarray
    arp_op: np.ndarray
    arp_spa: np.ndarray  # ARP sender / target protocol address (IPv4), -1 missing
    arp_tpa: np.ndarray
    arp_sha: np.ndarray
    payload_off: np.ndarray  # absolute offset of the L4 payload in the data, -1 missing
    payload_len: np.ndarray  # bytes of L4 payload by the IP header (on the wire); 0 if none
    payload_cap: np.ndarray  # of those, the bytes in the capture (fewer if snaplen cut it)
    l3_off: np.ndarray  # absolute offset of the network layer, -1 missing
    ifindex: np.ndarray  # SLL2 interface index, -1 missing
    outgoing: np.ndarray  # bool: SLL/SLL2 packet type "outgoing"
    linktype: np.ndarray  # link type of each packet's interface
    vlan_outer: np.ndarray  # outer 802.1Q / 802.1ad VLAN id, -1 untagged
    vlan_inner: np.ndarray  # inner VLAN id (QinQ), -1 none
    ip_frag: np.ndarray  # IPv4 flags + fragment offset field (16 bits), -1 missing
    q_src: np.ndarray  # an ICMP error's quoted IPv4 packet: source, -1 missing
    q_dst: np.ndarray
    q_proto: np.ndarray
    q_ipid: np.ndarray
    q_sport: np.ndarray
    q_dport: np.ndarray


def decode(raw: RawCapture) -> Columns:
    """Decode every packet's headers of ``raw`` into :class:`Columns`."""
    import numpy as np

    n = len(raw.offsets)
    buf = np.frombuffer(raw.data + b"\0" * PAD, dtype=np.uint8)
    off = raw.offsets
    end = off + raw.caplens
    i64 = np.int64

    i32 = np.int32

    def u8(pos: np.ndarray) -> np.ndarray:
        return buf[pos].astype(i32)

    def u16(pos: np.ndarray) -> np.ndarray:
        hi = buf[pos].astype(i32)
        hi <<= 8
        hi |= buf[pos + 1]
        return hi

    def u32(pos: np.ndarray) -> np.ndarray:
        hi = u16(pos).astype(i64)
        hi <<= 16
        hi |= u16(pos + 2)
        return hi

    def u48(pos: np.ndarray) -> np.ndarray:
        hi = u16(pos).astype(i64)
        hi <<= 32
        hi |= u32(pos + 2)
        return hi

    def full() -> np.ndarray:
        return np.full(n, -1, dtype=i64)

    # one gather per header (``gather``: the first ``width`` bytes at each offset), whose
    # big-endian fields are then read column by column: far fewer random reads than a
    # gather per field
    def b8(b: np.ndarray, j: int) -> np.ndarray:
        return b[:, j].astype(i32)

    def b16(b: np.ndarray, j: int) -> np.ndarray:
        v = b[:, j].astype(i32)
        v <<= 8
        v |= b[:, j + 1]
        return v

    def b32(b: np.ndarray, j: int) -> np.ndarray:
        v = b16(b, j).astype(i64)
        v <<= 16
        v |= b16(b, j + 2)
        return v

    def b48(b: np.ndarray, j: int) -> np.ndarray:
        v = b16(b, j).astype(i64)
        v <<= 32
        v |= b32(b, j + 2)
        return v

    linktypes = np.array([i.linktype for i in raw.interfaces] or [LINKTYPE_ETHERNET], dtype=i64)
    lt = linktypes[raw.ifaces] if n else np.zeros(0, dtype=i64)
    caplen = raw.caplens
    ethertype = np.full(n, -1, dtype=i64)
    l3 = full()
    src_mac, dst_mac, ifindex = full(), full(), full()
    outgoing = np.zeros(n, dtype=bool)
    vlan_outer, vlan_inner = full(), full()

    m = (lt == LINKTYPE_ETHERNET) & (caplen >= 14)
    if m.any():
        o = off[m]
        eth = gather(buf, o, 14)
        et = b16(eth, 12)
        hdr = np.full(len(o), 14, dtype=i64)
        idx_m = np.flatnonzero(m)
        for store in (vlan_outer, vlan_inner):  # up to two tags (802.1Q, 802.1ad QinQ)
            tagged = np.isin(et, VLAN_TPIDS) & (caplen[m] >= hdr + 4)
            if not tagged.any():
                break
            store[idx_m[tagged]] = u16(o[tagged] + hdr[tagged]) & 0x0FFF
            et = np.where(tagged, u16(o + hdr + 2), et)
            hdr = np.where(tagged, hdr + 4, hdr)
        ethertype[m] = et
        l3[m] = o + hdr
        dst_mac[m] = b48(eth, 0)
        src_mac[m] = b48(eth, 6)
        del eth
    m = (lt == LINKTYPE_LINUX_SLL) & (caplen >= 16)
    if m.any():
        o = off[m]
        ethertype[m] = u16(o + 14)
        l3[m] = o + 16
        src_mac[m] = np.where(u16(o + 4) == 6, u48(o + 6), -1)
        outgoing[m] = u16(o) == 4
    m = (lt == LINKTYPE_LINUX_SLL2) & (caplen >= 20)
    if m.any():
        o = off[m]
        ethertype[m] = u16(o)
        ifindex[m] = u32(o + 4)
        src_mac[m] = np.where(u8(o + 11) == 6, u48(o + 12), -1)
        outgoing[m] = u8(o + 10) == 4
        l3[m] = o + 20
    m = ((lt == LINKTYPE_RAW) | (lt == LINKTYPE_IPV4) | (lt == LINKTYPE_IPV6)) & (caplen >= 1)
    if m.any():
        o = off[m]
        version = u8(o) >> 4
        ethertype[m] = np.where(version == 4, 0x0800, np.where(version == 6, 0x86DD, -1))
        l3[m] = o
    m = (lt == LINKTYPE_NULL) & (caplen >= 4)
    if m.any():
        o = off[m]
        fam_le = u8(o) | (u8(o + 1) << 8) | (u8(o + 2) << 16) | (u8(o + 3) << 24)
        fam = np.where(fam_le > 0xFFFF, u32(o), fam_le)
        ethertype[m] = np.where(fam == 2, 0x0800,
                                np.where(np.isin(fam, (10, 24, 28, 30)), 0x86DD, -1))
        l3[m] = o + 4

    l3len = np.where(l3 >= 0, end - l3, -1)
    proto = np.full(n, P_OTHER, dtype=np.int8)
    v4src, v4dst, ipproto, ttl, ip_id, ip_frag = full(), full(), full(), full(), full(), full()
    l4 = full()
    l4end = full()
    l4wire = full()  # where the L4 data ends by the IP header (past the capture if snaplen cut it)

    # IPv4
    m = (ethertype == 0x0800) & (l3len >= 20)
    if m.any():
        o = l3[m]
        hd = gather(buf, o, 20)
        first = b8(hd, 0)
        ihl = (first & 0x0F) * 4
        ok = ((first >> 4) == 4) & (ihl >= 20) & (l3len[m] >= ihl)
        idx = np.flatnonzero(m)[ok]
        if not ok.all():
            hd = hd[ok]
        o, ihl = o[ok], ihl[ok]
        total = b16(hd, 2)
        frag = b16(hd, 6)
        proto[idx] = P_IP
        ip_id[idx] = b16(hd, 4)
        ip_frag[idx] = frag
        ttl[idx] = b8(hd, 8)
        ipproto[idx] = b8(hd, 9)
        v4src[idx] = b32(hd, 12)
        v4dst[idx] = b32(hd, 16)
        del hd
        first_fragment = (frag & 0x1FFF) == 0
        l4[idx] = np.where(first_fragment, o + ihl, -1)
        l4end[idx] = np.where(total >= ihl, np.minimum(end[idx], o + total), end[idx])
        l4wire[idx] = np.where(total >= ihl, o + total, end[idx])
        proto[idx[ipproto[idx] == 2]] = P_IGMP
    # IPv6 (fixed header; extension headers leave the next header as it is)
    v6 = (ethertype == 0x86DD) & (l3len >= 40)
    src6 = dst6 = None
    if v6.any():
        o = l3[v6]
        ok = (u8(o) >> 4) == 6
        v6[np.flatnonzero(v6)[~ok]] = False
        idx = np.flatnonzero(v6)
        o = o[ok]
        proto[idx] = P_IPV6
        ipproto[idx] = u8(o + 6)
        ttl[idx] = u8(o + 7)
        plen = u16(o + 4)
        l4[idx] = o + 40
        l4end[idx] = np.minimum(end[idx], o + 40 + plen)
        l4wire[idx] = np.where(plen > 0, o + 40 + plen, end[idx])
        src6 = gather(buf, o + 8, 16)
        dst6 = gather(buf, o + 24, 16)
    # ARP (Ethernet / IPv4)
    arp_op, arp_spa, arp_tpa, arp_sha = full(), full(), full(), full()
    m = (ethertype == 0x0806) & (l3len >= 28)
    if m.any():
        hd = gather(buf, l3[m], 28)
        proto[m] = P_ARP
        arp_op[m] = b16(hd, 6)
        arp_sha[m] = b48(hd, 8)
        arp_spa[m] = b32(hd, 14)
        arp_tpa[m] = b32(hd, 24)

    l4len = np.where(l4 >= 0, l4end - l4, -1)
    sport, dport, seq, ack, flags, window = full(), full(), full(), full(), full(), full()
    icmp_type, icmp_code, icmp_id, icmp_seq = full(), full(), full(), full()
    payload_off = full()
    payload_len = np.zeros(n, dtype=i64)
    payload_cap = np.zeros(n, dtype=i64)
    ip = (proto == P_IP) | (proto == P_IPV6)
    m = ip & (ipproto == 6) & (l4len >= 20)
    if m.any():
        o = l4[m]
        hd = gather(buf, o, 16)
        proto[m] = P_TCP
        sport[m], dport[m] = b16(hd, 0), b16(hd, 2)
        seq[m], ack[m] = b32(hd, 4), b32(hd, 8)
        doff = (b8(hd, 12) >> 4) * 4
        flags[m] = b8(hd, 13)
        window[m] = b16(hd, 14)
        del hd
        start = o + doff
        payload_off[m] = start
        payload_cap[m] = np.maximum(l4end[m] - start, 0)
        payload_len[m] = np.maximum(l4wire[m] - start, payload_cap[m])
    m = ip & (ipproto == 17) & (l4len >= 8)
    if m.any():
        o = l4[m]
        hd = gather(buf, o, 4)
        proto[m] = P_UDP
        sport[m], dport[m] = b16(hd, 0), b16(hd, 2)
        payload_off[m] = o + 8
        payload_cap[m] = np.maximum(l4end[m] - o - 8, 0)
        payload_len[m] = np.maximum(l4wire[m] - o - 8, payload_cap[m])
    m = ip & (((ipproto == 1) & (proto == P_IP)) | ((ipproto == 58) & (proto == P_IPV6))) & (l4len >= 4)
    if m.any():
        o = l4[m]
        proto[m] = np.where(ipproto[m] == 1, P_ICMP, P_ICMPV6)
        icmp_type[m], icmp_code[m] = u8(o), u8(o + 1)
        echo = np.isin(icmp_type[m], (0, 8, 128, 129)) & (l4len[m] >= 8)
        idx = np.flatnonzero(m)[echo]
        icmp_id[idx], icmp_seq[idx] = u16(o[echo] + 4), u16(o[echo] + 6)
        payload_off[m] = o + 8
        payload_cap[m] = np.maximum(l4len[m] - 8, 0)
        payload_len[m] = np.maximum(l4wire[m] - o - 8, payload_cap[m])
    # an ICMP error quotes the IP header (and 8 bytes) of the packet it is about
    q_src, q_dst, q_proto, q_sport, q_dport, q_ipid = full(), full(), full(), full(), full(), full()
    m = (proto == P_ICMP) & np.isin(icmp_type, (3, 4, 5, 11, 12)) & (l4len >= 28)
    if m.any():
        o = l4[m] + 8
        first = u8(o)
        qihl = (first & 0x0F) * 4
        ok = ((first >> 4) == 4) & (qihl >= 20) & (l4len[m] >= 8 + qihl)
        idx = np.flatnonzero(m)[ok]
        o, qihl = o[ok], qihl[ok]
        q_proto[idx] = u8(o + 9)
        q_ipid[idx] = u16(o + 4)
        q_src[idx] = u32(o + 12)
        q_dst[idx] = u32(o + 16)
        ports = np.isin(q_proto[idx], (6, 17)) & (l4len[idx] >= 8 + qihl + 4)
        q_sport[idx[ports]] = u16(o[ports] + qihl[ports])
        q_dport[idx[ports]] = u16(o[ports] + qihl[ports] + 2)
    return Columns(n=n, proto=proto, ethertype=ethertype, src_mac=src_mac, dst_mac=dst_mac,
                   v4src=v4src, v4dst=v4dst, v6=v6, src6=src6, dst6=dst6, ipproto=ipproto,
                   ttl=ttl, ip_id=ip_id, sport=sport, dport=dport, seq=seq, ack=ack, flags=flags,
                   window=window, icmp_type=icmp_type, icmp_code=icmp_code, icmp_id=icmp_id,
                   icmp_seq=icmp_seq, arp_op=arp_op, arp_spa=arp_spa, arp_tpa=arp_tpa,
                   arp_sha=arp_sha, payload_off=payload_off, payload_len=payload_len,
                   payload_cap=payload_cap, l3_off=l3,
                   ifindex=ifindex, outgoing=outgoing, linktype=lt, vlan_outer=vlan_outer,
                   vlan_inner=vlan_inner, ip_frag=ip_frag, q_src=q_src, q_dst=q_dst,
                   q_proto=q_proto, q_ipid=q_ipid, q_sport=q_sport, q_dport=q_dport)


# ---------------------------------------------------------------------------- strings

def ipv4_text(values: np.ndarray) -> list[str]:
    """Dotted-quad text of IPv4 addresses held as integers."""
    packed = values.astype(">u4").tobytes()
    return [socket.inet_ntoa(packed[i:i + 4]) for i in range(0, len(packed), 4)]


def mac_text(values: np.ndarray) -> list[str]:
    """``aa:bb:cc:dd:ee:ff`` text of MAC addresses held as 48-bit integers."""
    return [int(v).to_bytes(6, "big").hex(":") for v in values]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` of an integer array (sorted distinct
    values, and each value's index among them), by hashing: about 4x faster than a sort."""
    import numpy as np
    import pandas as pd

    codes, uniq = pd.factorize(np.asarray(values, dtype=np.int64), sort=True)
    return np.asarray(uniq, dtype=np.int64), codes.astype(np.int64, copy=False)


def categorical(values: np.ndarray, fmt) -> object:  # noqa: ANN001 - fmt: ndarray -> list[str]
    """A pandas Categorical of ``values`` formatted once per distinct value (-1 = missing)."""
    import numpy as np
    import pandas as pd

    present = values >= 0
    uniq, inverse = unique_inverse(values[present])
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[present] = inverse
    return pd.Categorical.from_codes(codes, categories=pd.Index(fmt(uniq), dtype=object))


def address_columns(cols: Columns) -> tuple[object, object]:
    """``src`` / ``dst`` as Categoricals of IPv4 and IPv6 text."""
    import numpy as np
    import pandas as pd

    out = []
    for v4, v6b in ((cols.v4src, cols.src6), (cols.v4dst, cols.dst6)):
        present = v4 >= 0
        u4, inv4 = unique_inverse(v4[present])
        cats = ipv4_text(u4)
        codes = np.full(cols.n, -1, dtype=np.int64)
        codes[present] = inv4
        if v6b is not None and len(v6b):
            rows = np.ascontiguousarray(v6b).view(np.dtype((np.void, 16))).ravel()
            u6, inv6 = np.unique(rows, return_inverse=True)
            cats6 = [socket.inet_ntop(socket.AF_INET6, bytes(u)) for u in u6]
            codes[np.flatnonzero(cols.v6)] = inv6.ravel() + len(cats)
            cats = cats + cats6
        out.append(pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=object)))
    return out[0], out[1]


def _hp(host: Any, port: Any) -> str:
    """``host:port``, with an IPv6 address in brackets as Wireshark writes it."""
    return f"[{host}]:{port}" if host is not None and ":" in str(host) else f"{host}:{port}"


def flag_text(values: np.ndarray) -> list[str]:
    return [int_to_flags(int(v)) for v in values]


def _payload_lines(cols: Columns, data: bytes, idx: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """For packets ``idx``: the id of the first text line of their payload (an HTTP request or
    status line) in the returned list; -1 no payload, -2 a binary payload."""
    import numpy as np

    ids = np.full(len(idx), -1, dtype=np.int64)
    has = np.flatnonzero(cols.payload_cap[idx] > 0)
    lines: list[str] = []
    if not len(has):
        return ids, lines
    rows = idx[has]
    width = 44
    buf = np.frombuffer(data + b"\0" * (width + 8), dtype=np.uint8)
    block = gather(buf, cols.payload_off[rows], width)
    block[np.arange(width)[None, :] >= cols.payload_cap[rows][:, None]] = 0
    uniq, inverse = np.unique(np.ascontiguousarray(block).view(np.dtype((np.void, width))).ravel(),
                              return_inverse=True)
    codes = []
    for u in uniq:
        head = bytes(u).rstrip(b"\0")
        line = head.split(b"\r\n", 1)[0].split(b"\n", 1)[0][:40]
        if len(line) >= 4 and all(32 <= c < 127 for c in line[:4]):
            codes.append(len(lines))
            lines.append(line.decode("latin-1"))
        else:
            codes.append(-2)
    ids[has] = np.asarray(codes, dtype=np.int64)[inverse.ravel()]
    return ids, lines


def _group(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by several integer key columns (values >= -1): (first row of each group,
    group of each row).  Columns are folded into one mixed-radix code; a ``np.unique``
    compacts it only when the next column would overflow 62 bits."""
    import numpy as np

    code = np.zeros(len(keys[0]), dtype=np.int64)
    size = 1
    for k in keys:
        k = k.astype(np.int64) + 1  # -1 (missing) becomes 0
        radix = int(k.max()) + 1 if len(k) else 1
        if size * radix >= 2**62:
            _, code = np.unique(code, return_inverse=True)
            code = code.ravel().astype(np.int64)
            size = int(code.max()) + 1 if len(code) else 1
            if size * radix >= 2**62:  # a column with huge values: compact it too
                _, k = np.unique(k, return_inverse=True)
                k = k.ravel().astype(np.int64)
                radix = int(k.max()) + 1 if len(k) else 1
        code = code * radix + k
        size *= radix
    _, inverse = unique_inverse(code)
    first = np.empty(int(inverse.max()) + 1 if len(inverse) else 0, dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # the last write wins: the first row
    return first, inverse


def summaries(cols: Columns, data: bytes, src: Any, dst: Any) -> np.ndarray:
    """One line per packet, in the spirit of tcpdump's (``src``/``dst``: Categoricals).

    Packets with the same fields share a line, so each distinct line is formatted once."""
    import numpy as np

    out = np.empty(cols.n, dtype=object)
    src_codes, dst_codes = np.asarray(src.codes), np.asarray(dst.codes)
    src_cats = [*src.categories, None]  # code -1 -> None
    dst_cats = [*dst.categories, None]
    P = cols.proto
    sp, dp, fl = cols.sport, cols.dport, cols.flags
    ftext = [int_to_flags(i) for i in range(256)]

    def fill(code: int | tuple[int, ...], keys: list[np.ndarray], fmt: Any) -> None:
        idx = np.flatnonzero(np.isin(P, code))
        if not len(idx):
            return
        first, inverse = _group(*(k[idx] for k in keys))
        text = [fmt(i) for i in idx[first].tolist()]
        out[idx] = np.asarray(text, dtype=object)[inverse]

    def ends(i: int) -> tuple[Any, Any]:
        return src_cats[src_codes[i]], dst_cats[dst_codes[i]]

    line_id = np.full(cols.n, -1, dtype=np.int64)
    tcp = np.flatnonzero(P == P_TCP)
    ids, lines = _payload_lines(cols, data, tcp)
    line_id[tcp] = ids
    binary_len = np.where(line_id == -2, cols.payload_len, 0)

    def tcp_line(i: int) -> str:
        a, b = ends(i)
        text = f"TCP {_hp(a, sp[i])} > {_hp(b, dp[i])} [{ftext[fl[i]]}]"
        if line_id[i] >= 0:
            return f"{text} {lines[line_id[i]]}"
        return f"{text} len={cols.payload_len[i]}" if line_id[i] == -2 else text

    fill(P_TCP, [src_codes, sp, dst_codes, dp, fl, line_id, binary_len], tcp_line)

    def udp_line(i: int) -> str:
        a, b = ends(i)
        more = " (first fragment, more follow)" if cols.ip_frag[i] >= 0 and cols.ip_frag[i] & 0x2000 \
            else ""
        return f"UDP {_hp(a, sp[i])} > {_hp(b, dp[i])} len={cols.payload_len[i]}{more}"

    fill(P_UDP, [src_codes, sp, dst_codes, dp, cols.payload_len, cols.ip_frag & 0x2000], udp_line)

    def icmp_line(i: int) -> str:
        a, b = ends(i)
        t = int(cols.icmp_type[i])
        if P[i] == P_ICMP:
            name = ICMP_NAMES.get(t, f"type {t}")
            code = int(cols.icmp_code[i])
            extra = (f" id={cols.icmp_id[i]} seq={cols.icmp_seq[i]}" if t in (0, 8)
                     and cols.icmp_id[i] >= 0 else
                     f" code {code} ({UNREACHABLE.get(code, 'unreachable')})" if t == 3 else "")
            if cols.q_src[i] >= 0:  # an error: say which packet it is about
                qs, qd = ipv4_text(np.array([cols.q_src[i], cols.q_dst[i]]))
                qp = int(cols.q_proto[i])
                qname = IP_PROTO_NAMES.get(qp, f"proto {qp}")
                if cols.q_sport[i] >= 0:
                    qs, qd = f"{qs}:{cols.q_sport[i]}", f"{qd}:{cols.q_dport[i]}"
                extra += f" for {qname} {qs} > {qd}"
            return f"ICMP {a} > {b} {name}{extra}"
        name = ICMPV6_NAMES.get(t, f"type {t}")
        return f"ICMPv6 {a} > {b} {name}"

    fill((P_ICMP, P_ICMPV6), [P, src_codes, dst_codes, cols.icmp_type, cols.icmp_code,
                              cols.icmp_id, cols.icmp_seq, cols.q_src, cols.q_dst, cols.q_proto,
                              cols.q_sport, cols.q_dport], icmp_line)

    def arp_line(i: int) -> str:
        s, t = ipv4_text(cols.arp_spa[i:i + 1])[0], ipv4_text(cols.arp_tpa[i:i + 1])[0]
        op = int(cols.arp_op[i])
        if op == 1:
            return f"ARP who-has {t} tell {s}"
        if op == 2:
            return f"ARP {s} is-at {mac_text(cols.arp_sha[i:i + 1])[0]}"
        return f"ARP op {op} {s} > {t}"

    fill(P_ARP, [cols.arp_op, cols.arp_spa, cols.arp_tpa, cols.arp_sha], arp_line)

    def ip_line(i: int) -> str:
        a, b = ends(i)
        label = {P_IP: "IPv4", P_IPV6: "IPv6", P_IGMP: "IGMP"}[int(P[i])]
        frag = int(cols.ip_frag[i])
        if frag >= 0 and frag & 0x3FFF:  # a fragment (ports are in the first one only)
            qp = int(cols.ipproto[i])
            more = ", more follow" if frag & 0x2000 else ", last"
            return (f"{label} {a} > {b} fragment of {IP_PROTO_NAMES.get(qp, f'proto {qp}')}, "
                    f"offset {(frag & 0x1FFF) * 8}, id {cols.ip_id[i]}{more}")
        return f"{label} {a} > {b} proto {cols.ipproto[i]}"

    fill((P_IP, P_IPV6, P_IGMP), [P, src_codes, dst_codes, cols.ipproto, cols.ip_frag, cols.ip_id],
         ip_line)

    def other_line(i: int) -> str:
        et = int(cols.ethertype[i])
        lt = int(cols.linktype[i])
        if lt not in SUPPORTED_LINKTYPES:
            return f"not decoded: link type {lt} ({linktype_name(lt)})"
        return (f"{ETHERTYPE_NAMES[et]}" if et in ETHERTYPE_NAMES
                else f"ethertype 0x{et:04x}" if et >= 0 else "unreadable frame (too short)")

    fill(P_OTHER, [cols.ethertype, cols.linktype], other_line)
    return out
