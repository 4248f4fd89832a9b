"""Reading pcap / pcapng files and writing pcapng, in pure Python (no scapy).

The reader walks the file's records once and keeps, per packet, only where its
bytes start, how many were captured, its timestamp and its interface — the
bytes themselves stay in the one ``bytes`` object read from disk, so 200,000
packets cost a few numpy arrays.  Damage (a truncated file, a corrupt length)
stops the walk: the packets before it are kept and :class:`RawCapture.problem`
says at which byte and packet reading stopped.

The writer produces what Wireshark and tshark open: a Section Header Block,
one Interface Description Block per (namespace, interface) with ``if_name``
``"ns/iface"``, and an Enhanced Packet Block per packet whose ``opt_comment``
options carry the annotations (lesson 11 exports these).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.errors import CaptureError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

# link types netlab decodes (LINKTYPE_* numbers from tcpdump.org/linktypes.html)
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276
SUPPORTED_LINKTYPES = {
    LINKTYPE_NULL: "NULL (BSD loopback)",
    LINKTYPE_ETHERNET: "ETHERNET",
    LINKTYPE_RAW: "RAW (raw IP)",
    LINKTYPE_LINUX_SLL: "LINUX_SLL (Linux cooked capture, tcpdump -i any)",
    LINKTYPE_IPV4: "IPV4 (raw IPv4)",
    LINKTYPE_IPV6: "IPV6 (raw IPv6)",
    LINKTYPE_LINUX_SLL2: "LINUX_SLL2 (Linux cooked capture v2, tcpdump -i any)",
}
# names of link types netlab does not decode, so an error can say what the file holds
LINKTYPE_NAMES = {
    **SUPPORTED_LINKTYPES,
    3: "AX25", 6: "IEEE802_5 (Token Ring)", 8: "SLIP", 9: "PPP", 10: "FDDI",
    50: "PPP_HDLC", 51: "PPP_ETHER (PPPoE)", 104: "C_HDLC (Cisco HDLC)",
    105: "IEEE802_11 (Wi-Fi)", 107: "FRELAY", 108: "LOOP (OpenBSD loopback)",
    119: "IEEE802_11_PRISM", 127: "IEEE802_11_RADIOTAP (Wi-Fi with radiotap)",
    143: "DOCSIS", 147: "USER0", 187: "BLUETOOTH_HCI_H4", 189: "USB_LINUX",
    192: "PPI", 195: "IEEE802_15_4_WITHFCS", 197: "ERF", 201: "BLUETOOTH_HCI_H4_WITH_PHDR",
    220: "USB_LINUX_MMAPPED", 227: "CAN_SOCKETCAN",
    239: "NFLOG (Linux netfilter log)", 249: "USBPCAP", 253: "NETLINK",
    263: "BLUETOOTH_LE_LL", 267: "BLUETOOTH_LE_LL_WITH_PHDR", 272: "DISPLAYPORT_AUX",
    281: "DSA_TAG_BRCM", 288: "IEEE802_15_4_TAP",
}

MAX_PACKET = 262144  # Wireshark's largest "standard" packet; anything bigger is corruption

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1_000), b"\xa1\xb2\xc3\xd4": (">", 1_000),
    b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1),
}  # magic -> (byte order, nanoseconds per fraction unit)
PCAPNG_SHB = 0x0A0D0D0A
BYTE_ORDER_MAGIC = 0x1A2B3C4D
MAX_OPTION = 65535  # an option's length is 16 bits
# a text longer than one option is written as several; the pieces after the first start
# with this, and the reader joins them back (Wireshark shows each piece)
CONTINUED = "netlab-continued: "
EPB_INBOUND, EPB_OUTBOUND = 1, 2  # epb_flags bits 0-1 (pcapng spec, section 4.3.1)
# SHB options netlab writes itself; 19372/19373 are custom options "not to be copied"
_SHB_OWN = {0, 1, 3, 4, 19372, 19373}


def linktype_name(linktype: int) -> str:
    return LINKTYPE_NAMES.get(linktype, f"unknown link type {linktype}")


@dataclass
class Interface:
    """One capture interface: where packets were seen and how their link layer looks."""

    namespace: str
    name: str
    linktype: int = LINKTYPE_ETHERNET
    description: str = ""
    snaplen: int = MAX_PACKET
    ts_ns: float = 1_000.0  # nanoseconds per timestamp unit (pcapng if_tsresol)


@dataclass
class RawCapture:
    """The packets of a file, not yet decoded: offsets into ``data`` and per-packet metadata."""

    data: bytes
    offsets: np.ndarray  # int64, where each packet's bytes start in ``data``
    caplens: np.ndarray  # int64, bytes captured
    origlens: np.ndarray  # int64, bytes on the wire
    times_ns: np.ndarray  # int64, nanoseconds since the epoch
    ifaces: np.ndarray  # int32, index into ``interfaces``
    interfaces: list[Interface]
    comments: dict[int, list[str]] = field(default_factory=dict)  # packet number -> comments
    section_comments: list[str] = field(default_factory=list)
    problem: CaptureError | None = None
    kind: str = "pcap"
    # pcapng epb_flags per packet (bits 0-1: 1 inbound, 2 outbound; 0 unknown), or None
    flags: np.ndarray | None = None
    # the first section's options netlab does not write itself (shb_hardware, custom
    # options other tools put there), kept on rewrite as (code, value)
    section_options: list[tuple[int, bytes]] = field(default_factory=list)


def _not_a_capture(data: bytes, source: str) -> CaptureError:
    head = data[:16]
    what = "it is empty" if not data else f"it starts with {head[:8].hex(' ')}"
    hint = ""
    if head.startswith(b"\x1f\x8b"):
        hint = " It is gzip-compressed: gunzip it first."
    elif head[:4] in (b"PK\x03\x04",):
        hint = " It is a zip archive: unpack it first."
    elif head and all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        hint = (" It looks like text — perhaps tcpdump's printed output rather than a file "
                "written with `tcpdump -w file.pcap`.")
    return CaptureError(
        f"{source} is not a pcap or pcapng capture ({what}).{hint} Write captures with "
        "`tcpdump -i IFACE -w file.pcap` or save from Wireshark as pcap/pcapng.", offset=0)


def read_capture_bytes(data: bytes, source: str = "this file") -> RawCapture:
    """Read pcap or pcapng ``data``; raises :class:`CaptureError` only if nothing is readable."""
    if len(data) >= 4 and data[:4] in PCAP_MAGICS:
        return _read_pcap(data, source)
    if len(data) >= 4 and struct.unpack_from("<I", data, 0)[0] == PCAPNG_SHB:
        return _read_pcapng(data, source)
    raise _not_a_capture(data, source)


def _check_linktype(linktype: int, source: str, offset: int) -> None:
    if linktype not in SUPPORTED_LINKTYPES:
        raise CaptureError(
            f"{source} uses link type {linktype} ({linktype_name(linktype)}), which netlab does "
            "not decode. netlab reads Ethernet, Linux cooked (tcpdump -i any), raw IP and BSD "
            "loopback captures; capture on an Ethernet-like interface, or open this one in "
            "Wireshark.", offset=offset)


def gather(buf: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """The ``width`` bytes of ``buf`` at each of ``starts``, one row each: rows of a
    sliding-window view picked by index (no index array per byte, so several times faster
    than ``buf[starts[:, None] + arange(width)]``)."""
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    if not len(starts):
        return np.zeros((0, width), dtype=buf.dtype)
    return sliding_window_view(buf, width)[np.asarray(starts, dtype=np.int64)]


def _finish(data: bytes, offs: list[int], caps: list[int], origs: list[int],
            times: list[int], ifs: list[int] | None, interfaces: list[Interface],
            comments: dict[int, list[str]], problem: CaptureError | None, kind: str,
            section_comments: list[str] | None = None) -> RawCapture:
    import numpy as np

    n = len(offs)
    return RawCapture(
        data=data, offsets=np.asarray(offs, dtype=np.int64), caplens=np.asarray(caps, dtype=np.int64),
        origlens=np.asarray(origs, dtype=np.int64), times_ns=np.asarray(times, dtype=np.int64),
        ifaces=np.zeros(n, dtype=np.int32) if ifs is None else np.asarray(ifs, dtype=np.int32),
        interfaces=interfaces, comments=comments, problem=problem, kind=kind,
        section_comments=section_comments or [])


def _read_pcap(data: bytes, source: str) -> RawCapture:
    order, unit_ns = PCAP_MAGICS[data[:4]]
    if len(data) < 24:
        raise CaptureError(f"{source} is a pcap file cut off inside its 24-byte header "
                           f"({len(data)} bytes); nothing to read.", offset=len(data), packet=0)
    _, _, _, _, snaplen, network = struct.unpack_from(order + "HHiIII", data, 4)
    linktype = network & 0x0FFFFFFF
    _check_linktype(linktype, source, 20)
    iface = Interface("", "", linktype, snaplen=snaplen, ts_ns=unit_ns)
    import numpy as np

    starts: list[int] = []
    add = starts.append
    caplen_at = struct.Struct(order + "I").unpack_from
    pos, end = 24, len(data)
    problem = None
    # the walk is sequential (each record says where the next starts): keep it minimal and
    # read the record headers afterwards, for all packets at once
    last = end - 16  # the last byte a record header can start at
    while pos <= last:
        caplen = caplen_at(data, pos + 8)[0]
        if caplen > MAX_PACKET:
            problem = CaptureError(
                f"{source} is damaged at byte {pos}: packet {len(starts) + 1} claims {caplen} "
                f"captured bytes (more than {MAX_PACKET}); read the {len(starts)} packets before "
                "it.", offset=pos, packet=len(starts) + 1)
            break
        add(pos)
        pos += 16 + caplen
    else:
        if pos > end:  # the last packet runs past the end of the file
            pos = starts.pop()
            problem = CaptureError(
                f"{source} ends inside packet {len(starts) + 1}, which starts at byte {pos} and "
                f"needs {caplen_at(data, pos + 8)[0]} bytes but only {end - pos - 16} remain (the "
                f"file is truncated); read the {len(starts)} packets before it.",
                offset=pos, packet=len(starts) + 1)
        elif pos < end:
            problem = CaptureError(
                f"{source} ends inside the record header of packet {len(starts) + 1} at byte "
                f"{pos} (the file is truncated); read the {len(starts)} packets before it.",
                offset=pos, packet=len(starts) + 1)
    at = np.asarray(starts, dtype=np.int64)
    dt = np.dtype(order + "u4")
    headers = gather(np.frombuffer(data, dtype=np.uint8), at, 16)
    fields = np.ascontiguousarray(headers).view(dt).astype(np.int64).reshape(-1, 4)
    raw = RawCapture(
        data=data, offsets=at + 16, caplens=fields[:, 2].copy(), origlens=fields[:, 3].copy(),
        times_ns=fields[:, 0] * 1_000_000_000 + fields[:, 1] * unit_ns,
        ifaces=np.zeros(len(at), dtype=np.int32), interfaces=[iface], problem=problem, kind="pcap")
    return raw


def _options(data: bytes, pos: int, end: int, order: str) -> list[tuple[int, bytes]]:
    """The (code, value) options between ``pos`` and ``end`` (stops quietly at garbage)."""
    out = []
    unpack = struct.Struct(order + "HH").unpack_from
    while pos + 4 <= end:
        code, length = unpack(data, pos)
        if code == 0:
            break
        if pos + 4 + length > end:
            break
        out.append((code, data[pos + 4:pos + 4 + length]))
        pos += 4 + ((length + 3) & ~3)
    return out


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace").rstrip("\0")


def _joined(texts: list[str]) -> list[str]:
    """Comments as written, with a long text's :data:`CONTINUED` pieces joined back."""
    out: list[str] = []
    for t in texts:
        if t.startswith(CONTINUED) and out:
            out[-1] += t[len(CONTINUED):]
        else:
            out.append(t)
    return out


def _read_pcapng(data: bytes, source: str) -> RawCapture:
    offs: list[int] = []
    caps: list[int] = []
    origs: list[int] = []
    times: list[int] = []
    ifs: list[int] = []
    interfaces: list[Interface] = []
    section_ifaces: list[int] = []  # interface ids of this section -> global index
    ticks_per_second: list[int] = []  # per global interface (if_tsresol)
    comments: dict[int, list[str]] = {}
    section_comments: list[str] = []
    section_options: list[tuple[int, bytes]] | None = None
    flags: dict[int, int] = {}
    tsoffset_ns: list[int] = []  # per global interface (if_tsoffset, in ns)
    order = "<"
    pos, end = 0, len(data)
    problem = None
    hdr = struct.Struct("<II").unpack_from
    epb = struct.Struct("<IIIII").unpack_from

    def damaged(what: str) -> CaptureError:
        return CaptureError(
            f"{source} is damaged at byte {pos}: {what}; read the {len(offs)} packets before it.",
            offset=pos, packet=len(offs) + 1)

    while pos < end:
        if pos + 12 > end:
            problem = damaged("the file ends inside a block header (truncated)")
            break
        btype = struct.unpack_from(order + "I", data, pos)[0]
        if btype == PCAPNG_SHB:
            magic = struct.unpack_from("<I", data, pos + 8)[0]
            if magic == BYTE_ORDER_MAGIC:
                order = "<"
            elif magic == 0x4D3C2B1A:
                order = ">"
            else:
                if pos == 0:
                    raise _not_a_capture(data, source)
                problem = damaged("a section header with a bad byte-order magic")
                break
            hdr = struct.Struct(order + "II").unpack_from
            epb = struct.Struct(order + "IIIII").unpack_from
            section_ifaces = []
        btype, blen = hdr(data, pos)
        if blen < 12 or blen % 4 or pos + blen > end:
            why = ("the file ends inside a block (truncated)" if pos + blen > end and blen >= 12
                   and blen % 4 == 0 else f"a block claims a length of {blen} bytes")
            if pos == 0:
                raise CaptureError(f"{source} starts like pcapng but its first block is "
                                   f"unreadable ({why}).", offset=0, packet=0)
            problem = damaged(why)
            break
        body, bend = pos + 8, pos + blen - 4
        if btype == PCAPNG_SHB:
            first = section_options is None
            section_options = section_options or []
            texts = []
            for code, value in _options(data, body + 16, bend, order):
                if code == 1:
                    texts.append(_text(value))
                elif first and code not in _SHB_OWN:
                    section_options.append((code, value))
            section_comments.extend(_joined(texts))
        elif btype == 1:  # Interface Description Block
            if bend - body < 8:
                problem = damaged("an interface block too short to read")
                break
            linktype, _, snaplen = struct.unpack_from(order + "HHI", data, body)
            # an interface netlab cannot decode is kept (its packets keep their numbers);
            # the file is refused only if it holds nothing else (see the end)
            name, desc, per_second, offset = "", "", 1_000_000, 0
            for code, value in _options(data, body + 8, bend, order):
                if code == 2:
                    name = _text(value)
                elif code == 3:
                    desc = _text(value)
                elif code == 9 and value:
                    v = value[0]
                    per_second = 2 ** (v & 0x7F) if v & 0x80 else 10 ** min(v, 30)
                elif code == 14 and len(value) >= 8:  # if_tsoffset: seconds added to every time
                    offset = struct.unpack_from(order + "q", value, 0)[0] * 1_000_000_000
            tsoffset_ns.append(offset)
            ts_ns = 1e9 / per_second
            ticks_per_second.append(per_second)
            ns, _, ifname = name.rpartition("/")
            section_ifaces.append(len(interfaces))
            interfaces.append(Interface(ns, ifname, linktype, desc, snaplen, ts_ns))
        elif btype in (6, 2, 3):  # enhanced, obsolete, simple packet block
            if btype == 3:
                if bend - body < 4:
                    problem = damaged("a packet block too short to read")
                    break
                iid, hi, lo = 0, 0, 0
                origlen = struct.unpack_from(order + "I", data, body)[0]
                caplen = min(origlen, bend - body - 4)
                start = body + 4
            else:
                if bend - body < 20:
                    problem = damaged("a packet block too short to read")
                    break
                if btype == 6:
                    iid, hi, lo, caplen, origlen = epb(data, body)
                else:
                    iid, _, hi, lo, caplen, origlen = struct.unpack_from(order + "HHIIII", data, body)
                start = body + 20
            if iid >= len(section_ifaces):
                problem = damaged(f"packet {len(offs) + 1} names interface {iid}, which the file "
                                  "never described")
                break
            if caplen > MAX_PACKET or start + caplen > bend:
                problem = damaged(f"packet {len(offs) + 1} claims {caplen} captured bytes, more "
                                  "than its block holds")
                break
            gi = section_ifaces[iid]
            offs.append(start)
            caps.append(caplen)
            origs.append(origlen)
            # integer arithmetic: a float loses the last digits of a nanosecond timestamp
            t_ns = ((hi << 32) | lo) * 1_000_000_000 // ticks_per_second[gi] + tsoffset_ns[gi]
            times.append(min(max(t_ns, -(2**63)), 2**63 - 1))
            ifs.append(gi)
            opt_start = start + ((caplen + 3) & ~3)
            if btype != 3 and opt_start + 4 <= bend:
                texts = []
                for c, val in _options(data, opt_start, bend, order):
                    if c == 1:
                        texts.append(_text(val))
                    elif c == 2 and len(val) >= 4:  # epb_flags
                        flags[len(offs)] = struct.unpack_from(order + "I", val, 0)[0]
                if texts:
                    comments[len(offs)] = _joined(texts)
        # other blocks (statistics, name resolution, secrets, custom) are skipped
        pos += blen
    used = {interfaces[i].linktype for i in set(ifs)}
    if used and not used & set(SUPPORTED_LINKTYPES):
        _check_linktype(min(used), source, 0)
    raw = _finish(data, offs, caps, origs, times, ifs, interfaces, comments, problem, "pcapng",
                  section_comments)
    raw.section_options = section_options or []
    if flags:
        import numpy as np

        raw.flags = np.zeros(len(offs), dtype=np.uint32)
        raw.flags[np.fromiter(flags, dtype=np.int64) - 1] = np.fromiter(flags.values(), dtype=np.uint32)
    return raw


# ---------------------------------------------------------------------------- writing

def _opt(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _text_opts(code: int, texts: list[str]) -> bytes:
    """Text options; one longer than an option holds (65,535 bytes) is split at character
    boundaries into pieces the reader joins back (see :data:`CONTINUED`)."""
    out = []
    for text in texts:  # (annotate refuses lone surrogates; one from a hand-edited sidecar is
        raw = text.encode("utf-8", "backslashreplace")  # written visibly as \\udXXX)
        if len(raw) <= MAX_OPTION:
            out.append(_opt(code, raw))
            continue
        head = b""
        while raw:
            room = MAX_OPTION - len(head)
            cut = min(room, len(raw))
            while cut < len(raw) and cut > 0 and (raw[cut] & 0xC0) == 0x80:
                cut -= 1  # never inside a UTF-8 character
            out.append(_opt(code, head + raw[:cut]))
            raw, head = raw[cut:], CONTINUED.encode()
    return b"".join(out)


def _shb_os() -> str:
    import platform

    return f"{platform.system()} {platform.release()}".strip() or "unknown"


def _block(btype: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", btype, length) + body + struct.pack("<I", length)


def write_pcapng(interfaces: list[Interface], packets: list[tuple],
                 section_comments: list[str] | None = None,
                 section_options: list[tuple[int, bytes]] | None = None) -> bytes:
    """pcapng bytes: ``packets`` are (interface index, time in ns, bytes, original length,
    comments[, epb_flags]).  Timestamps are written in nanoseconds (``if_tsresol`` 9); the
    section says which OS and netlab version wrote it (``shb_os``, ``shb_userappl``) and
    keeps ``section_options`` (other tools' options read from the file this came from)."""
    from netlab.version import __version__

    out = []
    shb_opts = _text_opts(1, list(section_comments or []))
    shb_opts += b"".join(_opt(c, v) for c, v in section_options or [] if c not in _SHB_OWN
                         and len(v) <= MAX_OPTION)
    shb_opts += _opt(3, _shb_os().encode("utf-8")[:MAX_OPTION])
    shb_opts += _opt(4, f"netlab {__version__}".encode())
    shb_opts += _opt(0, b"")
    out.append(_block(PCAPNG_SHB, struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1) + shb_opts))
    for iface in interfaces:
        name = f"{iface.namespace}/{iface.name}" if iface.namespace else iface.name
        opts = b""
        if name:
            opts += _opt(2, name.encode("utf-8"))
        desc = iface.description or (f"{iface.name} in network namespace {iface.namespace}"
                                     if iface.namespace else "")
        if desc:
            opts += _opt(3, desc.encode("utf-8"))
        opts += _opt(9, b"\x09") + _opt(0, b"")
        out.append(_block(1, struct.pack("<HHI", iface.linktype, 0, iface.snaplen or 0) + opts))
    pack_epb = struct.Struct("<IIIII").pack
    for iid, t_ns, raw, origlen, texts, *rest in packets:
        opts = _text_opts(1, texts) if texts else b""
        if rest and rest[0]:
            opts += _opt(2, struct.pack("<I", rest[0] & 0xFFFFFFFF))
        if opts:
            opts += _opt(0, b"")
        t_ns = max(t_ns, 0)  # pcapng timestamps are unsigned
        body = (pack_epb(iid, (t_ns >> 32) & 0xFFFFFFFF, t_ns & 0xFFFFFFFF, len(raw),
                         max(origlen, len(raw)))
                + raw + b"\0" * (-len(raw) % 4) + opts)
        out.append(_block(6, body))
    return b"".join(out)


def write_pcap(linktype: int, packets: list[tuple[int, bytes]], nanoseconds: bool = False) -> bytes:
    """Classic pcap bytes (little-endian) for (time in ns, bytes) packets — used by tests,
    the benchmark and the lesson's sample capture."""
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, MAX_PACKET, linktype)]
    pack = struct.Struct("<IIII").pack
    for t_ns, raw in packets:
        sec, rest = divmod(t_ns, 1_000_000_000)
        frac = rest if nanoseconds else rest // 1000
        out.append(pack(sec, frac, len(raw), len(raw)))
        out.append(raw)
    return b"".join(out)
