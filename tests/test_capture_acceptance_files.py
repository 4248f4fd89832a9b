"""Acceptance tests for issue 7's file promises, with other packets than the examples:
scapy-written pcap/pcapng with VLAN tags, IPv6, fragments, TCP options and ICMP errors
quoting TCP (checked field by field against the real tshark); damage at every byte of a
small pcap and pcapng; files that are not captures; link types reported by name."""

from __future__ import annotations

import struct
import subprocess
import warnings

import pytest
from conftest import needs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.capture import Capture, CaptureError, CaptureWarning, load_capture
from netlab.capture.pcapng import write_pcap, write_pcapng

needs_tshark = needs("tshark")


def _scapy_packets() -> list:
    from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
    from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
    from scapy.layers.l2 import Dot1AD, Dot1Q, Ether
    from scapy.packet import Raw

    a, b = "02:42:0a:01:00:05", "02:42:0a:01:00:06"
    pk = [
        Ether(src=a, dst=b) / Dot1Q(vlan=10) / IP(src="10.1.0.5", dst="10.1.0.6", id=7, ttl=61)
        / TCP(sport=5555, dport=80, flags="S", seq=100, window=29200,
              options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
                       ("WScale", 7)]),
        Ether(src=b, dst=a) / IPv6(src="fd00::2", dst="fd00::3", hlim=63)
        / TCP(sport=80, dport=5555, flags="SA", seq=9, ack=101),
        Ether(src=a, dst=b) / IPv6(src="fd00::2", dst="fd00::3") / ICMPv6EchoRequest(id=3, seq=4),
    ]
    frags = fragment(IP(src="10.1.0.5", dst="203.0.113.9", id=999) / UDP(sport=1234, dport=53)
                     / Raw(b"x" * 2500), fragsize=1000)
    pk += [Ether(src=a, dst=b) / f for f in frags]
    inner = IP(src="10.1.0.5", dst="203.0.113.9", id=5) / TCP(sport=4444, dport=443, flags="S",
                                                               seq=42)
    pk.append(Ether(src=b, dst=a) / IP(src="10.1.0.1", dst="10.1.0.5", id=66)
              / ICMP(type=3, code=1) / bytes(inner)[:28])
    pk.append(Ether(src=b, dst=a) / Dot1AD(vlan=100) / Dot1Q(vlan=30)
              / IP(src="10.9.9.9", dst="10.9.9.8") / UDP(sport=1111, dport=2222) / b"qq")
    pk.append(Ether(src=a, dst=b) / Dot1Q(vlan=10) / Dot1Q(vlan=20)
              / IP(src="10.9.9.8", dst="10.9.9.9") / UDP(sport=2222, dport=1111) / b"rr")
    for i, p in enumerate(pk):
        p.time = 1_700_000_000 + i / 1000
    return pk


def _tshark_fields(path: str, fields: list[str]) -> list[list[str]]:
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


@needs_tshark
@pytest.mark.parametrize("writer", ["wrpcap", "wrpcapng"])
def test_scapy_files_decode_as_tshark_does(tmp_path, writer: str) -> None:
    import scapy.utils

    path = str(tmp_path / f"mix.{writer[2:]}")
    getattr(scapy.utils, writer)(path, _scapy_packets())
    cap = load_capture(path)
    df = cap.df
    truth = _tshark_fields(path, ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport",
                                  "tcp.dstport", "udp.srcport", "udp.dstport", "ip.ttl",
                                  "ipv6.hlim", "ip.id", "frame.len", "eth.src", "vlan.id"])
    assert len(truth) == len(cap) == 9
    for n, row in enumerate(truth, start=1):
        src = row[0] or row[2]
        dst = row[1] or row[3]
        assert (str(df.loc[n, "src"]), str(df.loc[n, "dst"])) == (src, dst), n
        sport = row[4] or row[6]
        # (tshark also reads an ICMP error's quote, and leaves a first fragment's ports unread
        # where tcpdump and netlab show them)
        if df.loc[n, "protocol"] in ("tcp", "udp") and sport:
            assert str(df.loc[n, "sport"]) == sport and str(df.loc[n, "dport"]) == (row[5] or row[7])
        assert str(df.loc[n, "ttl"]) == (row[8] or row[9])
        if row[10]:
            assert df.loc[n, "ip_id"] == int(row[10], 16)
        assert df.loc[n, "length"] == int(row[11]) and df.loc[n, "src_mac"] == row[12]
    # what a learner reads in the summary column
    s = df.summary
    assert s[1] == "TCP 10.1.0.5:5555 > 10.1.0.6:80 [S]" and df.loc[1, "window"] == 29200
    assert s[2] == "TCP [fd00::2]:80 > [fd00::3]:5555 [SA]"
    assert "fragment" in s[5] and "offset 1000" in s[5] and "UDP" in s[5]
    assert "host unreachable" in s[7] and "TCP 10.1.0.5:4444 > 203.0.113.9:443" in s[7]
    assert s[8] == "UDP 10.9.9.9:1111 > 10.9.9.8:2222 len=2"  # 802.1ad + 802.1Q (QinQ)
    assert s[9] == "UDP 10.9.9.8:2222 > 10.9.9.9:1111 len=2"
    # the filters learners type, on these packets
    assert cap.numbers("vlan") == [1, 8, 9]
    assert cap.numbers("vlan.id == 20") == [9] and cap.numbers("vlan.id == 100") == [8]
    assert cap.numbers("ipv6.addr == fd00::3 and tcp") == [2]
    assert cap.numbers("ip.addr == 10.9.9.0/24 and udp") == [8, 9]
    assert cap.numbers("ip.flags.mf == 1") == [4, 5]
    assert cap.numbers("ip.frag_offset > 0") == [5, 6]
    assert cap.numbers("icmp.type == 3 and ip.dst == 10.1.0.5") == [7]
    # the layers view of the packets the table summarises
    assert cap.packet(1)["TCP"].options[0] == ("MSS", 1460)
    assert cap.packet(8)["Dot1Q"].vlan == 30


@needs_tshark
def test_big_endian_pcap_from_a_real_little_endian_one(tmp_path) -> None:
    """The same packets, written by scapy, then byte-swapped header by header."""
    import scapy.utils

    little = tmp_path / "le.pcap"
    scapy.utils.wrpcap(str(little), _scapy_packets())
    data = little.read_bytes()
    out = bytearray(b"\xa1\xb2\xc3\xd4" + struct.pack(">HHiIII", *struct.unpack_from("<HHiIII", data, 4)))
    pos = 24
    while pos < len(data):
        sec, usec, caplen, orig = struct.unpack_from("<IIII", data, pos)
        out += struct.pack(">IIII", sec, usec, caplen, orig) + data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
    big = tmp_path / "be.pcap"
    big.write_bytes(bytes(out))
    le, be = load_capture(little), load_capture(big)
    cols = ["time", "src", "dst", "sport", "dport", "flags", "length", "summary"]
    assert le.df[cols].equals(be.df[cols])
    assert _tshark_fields(str(big), ["frame.time_epoch"]) == _tshark_fields(str(little),
                                                                            ["frame.time_epoch"])


# ---------------------------------------------------------------------------- damage

def _small_pcap() -> tuple[bytes, list[int]]:
    from scapy.layers.inet import ICMP, IP, UDP
    from scapy.layers.l2 import Ether

    frames = [bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                    / IP(src="198.51.100.7", dst="198.51.100.8", id=k) / UDP(sport=5000 + k, dport=7)
                    / (b"p" * k)) for k in range(4)]
    frames.append(bytes(Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01")
                        / IP(src="198.51.100.8", dst="198.51.100.7") / ICMP()))
    data = write_pcap(1, [(k * 1_000_000, f) for k, f in enumerate(frames)], nanoseconds=True)
    starts, pos = [], 24
    for f in frames:
        starts.append(pos)
        pos += 16 + len(f)
    return data, starts


def test_pcap_cut_at_every_byte(tmp_path) -> None:
    data, starts = _small_pcap()
    full = load_capture(_write(tmp_path, "full.pcap", data))
    assert len(full) == 5 and full.problem is None
    for cut in range(len(data)):
        path = _write(tmp_path, "cut.pcap", data[:cut])
        if cut < 24:
            with pytest.raises(CaptureError) as err:
                load_capture(path)
            msg = str(err.value)
            assert ("not a pcap" in msg) if cut < 4 else ("24-byte header" in msg and f"{cut} bytes" in msg)
            continue
        whole = sum(1 for s in starts if s + 16 + _len(data, s) <= cut)
        if cut in (*starts, len(data)):  # a clean cut between packets: nothing is damaged
            cap = load_capture(path)
            assert len(cap) == whole and cap.problem is None
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cap = load_capture(path)
        assert len(cap) == whole, cut
        assert cap.df.sport.dropna().tolist() == [5000 + k for k in range(min(whole, 4))]
        p = cap.problem
        assert p is not None and p.packet == whole + 1 and p.offset == starts[whole], cut
        assert f"byte {starts[whole]}" in str(p) and f"packet {whole + 1}" in str(p)
        assert any(issubclass(w.category, CaptureWarning) for w in caught)
        with pytest.raises(CaptureError, match=f"packet {whole + 1}"):
            load_capture(path, strict=True)


def _len(data: bytes, start: int) -> int:
    return struct.unpack_from("<I", data, start + 8)[0]


def _write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_pcapng_cut_at_every_byte(tmp_path) -> None:
    data, _ = _small_pcap()
    cap = load_capture(_write(tmp_path, "src.pcap", data))
    cap.rename_interfaces({"": "eth0"}, namespace="web")
    cap.annotate(2, comment="second", tags=["udp"])
    blob = cap.to_pcapng_bytes()
    blocks, pos = [], 0  # (start, type) of every block
    while pos < len(blob):
        btype, blen = struct.unpack_from("<II", blob, pos)
        blocks.append((pos, btype, blen))
        pos += blen
    packet_blocks = [(s, ln) for s, t, ln in blocks if t == 6]
    first_packet = packet_blocks[0][0]
    for cut in range(len(blob)):
        path = _write(tmp_path, "cut.pcapng", blob[:cut])
        whole = sum(1 for s, ln in packet_blocks if s + ln <= cut)
        if cut < first_packet:
            # nothing but headers: either refused outright, or an empty capture saying where
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = load_capture(path)
            except CaptureError as exc:
                assert exc.offset is not None
                continue
            assert len(got) == 0
            continue
        if cut in [s for s, _ in packet_blocks] or cut == len(blob):
            got = load_capture(path)
            assert len(got) == whole and got.problem is None
            continue
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            got = load_capture(path)
        assert len(got) == whole, cut
        start = packet_blocks[whole][0]
        assert got.problem.packet == whole + 1 and got.problem.offset == start, cut
        assert f"byte {start}" in str(got.problem)
        if whole >= 2:
            assert got.annotations[2].comment == "second" and got.annotations[2].tags == ["udp"]


def test_files_that_are_not_captures(tmp_path) -> None:
    cases = {
        "notes.txt": (b"tcpdump: listening on docker0, link-type EN10MB\n", "printed output"),
        "capture.zip": (b"PK\x03\x04" + b"\0" * 40, "zip"),
        "c.pcapng.gz": (b"\x1f\x8b\x08\x00" + b"\0" * 40, "gunzip"),
        "random.bin": (bytes(range(7, 200)), "not a pcap or pcapng"),
        "three.pcap": (b"\xd4\xc3", "not a pcap or pcapng"),
    }
    for name, (data, hint) in cases.items():
        with pytest.raises(CaptureError, match=hint):
            load_capture(_write(tmp_path, name, data))
    with pytest.raises(CaptureError, match="folder"):
        load_capture(tmp_path)


@pytest.mark.parametrize("linktype, name", [(127, "IEEE802_11_RADIOTAP"), (9, "PPP"),
                                            (239, "NFLOG"), (189, "USB_LINUX")])
def test_unknown_link_types_are_named_in_pcap_and_pcapng(tmp_path, linktype: int, name: str) -> None:
    from netlab.capture.pcapng import Interface

    with pytest.raises(CaptureError, match=rf"link type {linktype} \({name}") as err:
        load_capture(_write(tmp_path, "x.pcap", write_pcap(linktype, [(0, b"\1" * 40)])))
    assert "Ethernet" in str(err.value)  # says what netlab does read
    blob = write_pcapng([Interface("", "wlan0mon", linktype)], [(0, 0, b"\1" * 40, 40, [])])
    with pytest.raises(CaptureError, match=rf"link type {linktype} \({name}"):
        load_capture(_write(tmp_path, "x.pcapng", blob))


def test_raw_ipv6_link_type_is_read(tmp_path) -> None:
    from scapy.layers.inet import UDP
    from scapy.layers.inet6 import IPv6

    pkt = bytes(IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5353, dport=5353) / b"hi")
    cap = load_capture(_write(tmp_path, "v6.pcap", write_pcap(229, [(0, pkt)])))
    assert cap.df.loc[1, "src"] == "2001:db8::1" and cap.df.loc[1, "dport"] == 5353


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1,
                      max_size=8),
       which=st.sampled_from(["wrpcap", "wrpcapng"]))
def test_byte_flips_in_scapy_files_raise_only_netlab_errors(flips, which) -> None:
    data = bytearray(_scapy_blob(which))
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    from netlab.capture.pcapng import read_capture_bytes

    try:
        raw = read_capture_bytes(bytes(data), "fuzz")
    except CaptureError:
        return
    cap = Capture(raw)
    assert len(cap.df) == len(cap)
    cap.mask("vlan or ip.flags.mf == 1 or tcp.flags.syn == 1 or ipv6")
    cap.expert(tag=False)
    cap.propose_links()
    for n in range(1, len(cap) + 1):
        cap.frame(n)
        if cap.df.protocol[n] in ("tcp", "udp"):
            cap.follow_stream(n)


_BLOBS: dict[str, bytes] = {}


def _scapy_blob(which: str) -> bytes:
    if which not in _BLOBS:
        import os
        import tempfile

        import scapy.utils

        fd, path = tempfile.mkstemp(suffix=".cap")
        os.close(fd)
        try:
            getattr(scapy.utils, which)(path, _scapy_packets())
            with open(path, "rb") as fh:
                _BLOBS[which] = fh.read()
        finally:
            os.unlink(path)
    return _BLOBS[which]


def test_expert_keeps_ipv6_conversations_apart(tmp_path) -> None:
    """Two IPv6 connections with the same ports are two flows, not a retransmission; an
    ICMPv6 destination unreachable is flagged like ICMP's."""
    from scapy.layers.inet import TCP
    from scapy.layers.inet6 import ICMPv6DestUnreach, IPv6
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap

    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pk = [e / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=1000, dport=80, flags="S", seq=5),
          e / IPv6(src="fd00::3", dst="fd00::4") / TCP(sport=1000, dport=80, flags="S", seq=5),
          e / IPv6(src="fd00::2", dst="fd00::1") / TCP(sport=80, dport=1000, flags="SA", seq=9, ack=6),
          e / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=1000, dport=80, flags="PA", seq=6,
                                                      ack=10) / b"hello",
          e / IPv6(src="fd00::1", dst="fd00::2") / TCP(sport=1000, dport=80, flags="PA", seq=6,
                                                      ack=10) / b"hello",
          e / IPv6(src="fd00::9", dst="fd00::1") / ICMPv6DestUnreach(code=4)
          / IPv6(src="fd00::1", dst="fd00::5")]
    for k, p in enumerate(pk):  # a quick handshake; the resend comes a second later
        p.time = 100 + k / 10_000 + (1 if k >= 4 else 0)
    path = str(tmp_path / "v6.pcap")
    wrpcap(path, pk)
    cap = load_capture(path)
    found = cap.expert()
    assert set(zip(found.number, found.tag, strict=True)) == {(5, "retransmission"),
                                                              (6, "icmp-unreachable")}
    assert "port unreachable" in found.message.iloc[-1]
    s = cap.follow_stream(5)
    assert s.client == ("fd00::1", 1000) and s.client_data == b"hello" and s.numbers == [1, 3, 4, 5]


@needs_tshark
def test_concatenated_pcapng_sections(tmp_path) -> None:
    """Two pcapng files joined with `cat`: Wireshark reads both sections; so does netlab,
    with each section's interfaces and comments in place."""
    from _capture_records import port_forward_records

    a = Capture.from_records(port_forward_records()[:4])
    a.annotate(2, comment="in the first section", tags=["a"])
    b = Capture.from_records(port_forward_records(41000)[:3])
    b.annotate(1, comment="in the second section")
    path = _write(tmp_path, "two.pcapng", a.to_pcapng_bytes() + b.to_pcapng_bytes())
    cap = load_capture(path)
    truth = _tshark_fields(path, ["frame.interface_name", "frame.comment", "tcp.srcport"])
    assert len(cap) == len(truth) == 7
    assert cap.df.interface.tolist() == [r[0].split("/")[1] for r in truth]
    assert {n: a.comment for n, a in cap.annotations.items()} == {
        2: "in the first section", 5: "in the second section"}
    assert truth[1][1].startswith("in the first section") and cap.annotations[2].tags == ["a"]
    assert cap.numbers("tcp.srcport == 41000") == [5, 6]


def test_snaplen_cut_packets(tmp_path) -> None:
    """`tcpdump -s 80`: packets cut short keep their length on the wire; the stream says
    which bytes were not captured and goes on in order after them."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.l2 import Ether

    e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    body = [b"GET /big HTTP/1.1\r\n" + b"x" * 181, b"y" * 30]
    pk = [e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="S", seq=99),
          e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="PA", seq=100)
          / body[0],
          e / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80, flags="PA", seq=300)
          / body[1]]
    frames = [bytes(p) for p in pk]
    data = bytearray(write_pcap(1, [(k * 1000, f[:80]) for k, f in enumerate(frames)]))
    pos = 24
    for f in frames:  # original lengths, as tcpdump -s records them
        struct.pack_into("<I", data, pos + 12, len(f))
        pos += 16 + min(len(f), 80)
    cap = load_capture(_write(tmp_path, "snap.pcap", bytes(data)))
    df = cap.df
    assert df.length.tolist() == [len(f) for f in frames]
    assert df.payload_len.tolist() == [0, 200, 30]
    assert df.summary[2].endswith("GET /big HTTP/1.1")
    assert cap.numbers("tcp.len > 100") == [2]
    s = cap.follow_stream(3)
    assert s.client_data == frames[1][54:80] + frames[2][54:80]
    assert s.segments.loc[2, "note"] == "only 26 of 200 bytes captured (snaplen)"
    # in order (the missing bytes were accounted for), and itself cut
    assert s.segments.loc[3, "note"] == "only 26 of 30 bytes captured (snaplen)"
    assert cap.expert(tag=False).empty
