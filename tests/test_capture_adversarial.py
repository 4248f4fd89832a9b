"""Captures under adversarial input (issue 10): only CaptureError (and CaptureWarning)
escapes load_capture, frame(n), packet(n), the table, filters and rewriting, whatever
the file holds; and the pcapng details of issue 17 (direction, section options, several
comments, if_tsoffset, long annotations)."""

from __future__ import annotations

import json
import os
import struct
import tempfile
import warnings

import pytest
from _capture_records import port_forward_records
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.capture import Capture, load_capture
from netlab.capture.annotations import COLOUR_PREFIX, Annotation
from netlab.capture.pcapng import (
    CONTINUED,
    LINKTYPE_ETHERNET,
    Interface,
    read_capture_bytes,
    write_pcap,
    write_pcapng,
)
from netlab.errors import CaptureError, FilterError
from netlab.packet import Frame


def _journey() -> Capture:
    recs = port_forward_records()
    # the enp0s8 copy of a client packet is received there; the docker0 copy is sent on it
    out = [(*r, f"hop {k}", "in" if (k % 2 == 0) == (r[2] == "enp0s8") else "out")
           for k, r in enumerate(recs)]
    return Capture.from_records(out)


def _write(tmp, name: str, blob: bytes) -> str:
    path = os.path.join(tmp, name)
    with open(path, "wb") as fh:
        fh.write(blob)
    return path


def _load_quiet(path: str) -> Capture:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_capture(path)


# ---------------------------------------------------------------- the reported inputs

def test_links_comment_of_5000_digits_is_free_text(tmp_path):
    cap = Capture.from_records([(*r, "links: " + "9" * 5000) for r in port_forward_records()[:2]])
    path = _write(tmp_path, "l.pcapng", cap.to_pcapng_bytes())
    back = _load_quiet(path)
    assert back.annotations[1].links == []
    assert back.annotations[1].comment == "links: " + "9" * 5000
    assert Annotation.from_comments(back.annotations[2].to_comments()) == back.annotations[2]


def test_deeply_nested_colour_rule_comment_is_ignored(tmp_path):
    cap = Capture.from_records(port_forward_records()[:1])
    raw = cap._raw
    blob = write_pcapng(raw.interfaces, [(0, 0, cap.raw_bytes(1), len(cap.raw_bytes(1)), None)],
                        [COLOUR_PREFIX + "[" * 30000 + "]" * 30000])
    back = _load_quiet(_write(tmp_path, "c.pcapng", blob))
    assert back.colour_rules == [] and len(back) == 1


def test_deeply_nested_sidecar_is_refused_not_a_recursion_error(tmp_path):
    path = str(tmp_path / "s.pcapng")
    cap = Capture.from_records(port_forward_records())
    cap.to_pcapng(path)
    cap.annotate(1, "mine")
    side = path + ".netlab.json"
    text = open(side).read()
    with open(side, "w") as fh:
        fh.write(text[:-1] + ',"x":' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.warns(UserWarning, match="cannot read the annotations file"):
        back = load_capture(path)
    assert back.sidecar != side  # its notes go beside the damaged sidecar, which is kept
    back.annotate(2, "kept")
    assert json.load(open(back.sidecar))["annotations"]["2"]["comment"] == "kept"


def _nested_icmp_errors(depth: int) -> bytes:
    inner = Frame(src_mac="02:00:00:00:00:01", dst_mac="02:00:00:00:00:02", proto="icmp",
                  src="172.17.0.2", dst="192.0.2.1", icmp_type=8, icmp_id=1, icmp_seq=1).to_bytes()[14:]
    for _ in range(depth):
        body = struct.pack("!BBHI", 3, 1, 0, 0) + inner
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 0, 0, 64, 1, 0,
                          bytes([192, 0, 2, 1]), bytes([172, 17, 0, 2]))
        inner = hdr + body
    return bytes.fromhex("020000000002020000000001") + b"\x08\x00" + inner


@pytest.mark.parametrize("depth", [1, 2, 50, 2000])
def test_frame_of_nested_icmp_errors(depth):
    cap = Capture.from_records([(0, "host", "eth0", _nested_icmp_errors(depth))])
    f = cap.frame(1)
    assert f.proto == "icmp" and f.icmp_type == 3
    levels = 0
    q = f.quoted
    while q is not None:
        levels, q = levels + 1, q.quoted
    assert levels == min(depth, 4)  # a real error quotes one packet; crafted ones stop at 4
    assert cap.df.iloc[0]["protocol"] == "icmp"
    pytest.importorskip("scapy")
    assert cap.packet(1) is not None


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x01\x02", bytes(11)])
def test_packet_shorter_than_its_first_header_is_raw_bytes(data):
    pytest.importorskip("scapy")
    cap = Capture.from_records([(0, "host", "eth0", data)])
    with pytest.warns(UserWarning, match="shown as raw bytes"):
        pkt = cap.packet(1)
    assert bytes(pkt) == data
    assert cap.frame(1).proto == "other"


@pytest.mark.parametrize("size", [65535, 65536, 70000, 200_001])
def test_annotation_over_65535_bytes_survives_pcapng(tmp_path, size):
    text = "é" * (size // 2) + "x" * (size % 2)  # ``size`` bytes of UTF-8
    assert len(text.encode()) == size
    cap = Capture.from_records(port_forward_records())
    cap.annotate(1, text, tags=["long"])
    blob = cap.to_pcapng_bytes()
    raw = read_capture_bytes(blob)
    assert raw.comments[1][0] == text and raw.comments[1][1] == "tags: long"
    back = _load_quiet(_write(tmp_path, "b.pcapng", blob))
    assert back.annotations[1].comment == text and back.annotations[1].tags == ["long"]


def test_long_comment_is_split_into_pieces_wireshark_reads(tmp_path):
    shutil = pytest.importorskip("shutil")
    cap = Capture.from_records(port_forward_records())
    cap.annotate(1, "a" * 70000)
    path = _write(tmp_path, "w.pcapng", cap.to_pcapng_bytes())
    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed (apt-get install tshark)")
    import subprocess

    out = subprocess.run(["tshark", "-r", path, "-Y", "frame.number == 1", "-T", "fields",
                          "-e", "frame.comment"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    pieces = out.stdout.strip().split(",")
    assert len(pieces) == 2 and pieces[1].startswith(CONTINUED)
    assert len(pieces[0]) + len(pieces[1]) - len(CONTINUED) == 70000


# ---------------------------------------------------------------- issue 17: pcapng details

def test_direction_is_written_as_epb_flags_and_read_back(tmp_path):
    cap = _journey()
    blob = cap.to_pcapng_bytes()
    raw = read_capture_bytes(blob)
    assert raw.flags is not None
    assert (raw.flags & 3).tolist() == cap.directions().tolist()
    assert set(cap.directions().tolist()) == {1, 2}
    back = _load_quiet(_write(tmp_path, "d.pcapng", blob))
    assert back.directions().tolist() == cap.directions().tolist()


def test_sim_journey_knows_each_packet_direction():
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.seed_host())
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    d = j.capture.directions().tolist()
    ways = [s.direction for s in j.steps if s.kind == "seen"]
    assert d and d == [1 if w == "in" else 2 for w in ways]
    assert set(d) == {1, 2}
    assert (read_capture_bytes(j.capture.to_pcapng_bytes()).flags & 3).tolist() == d


def test_section_says_os_and_versioned_netlab():
    import netlab

    blob = Capture.from_records(port_forward_records()).to_pcapng_bytes()
    assert f"netlab {netlab.__version__}".encode() in blob[:200]
    opts = _shb_options(blob)
    assert 3 in opts and opts[4] == f"netlab {netlab.__version__}".encode()


def _shb_options(blob: bytes) -> dict[int, bytes]:
    blen = struct.unpack_from("<I", blob, 4)[0]
    pos, end, out = 24, blen - 4, {}
    while pos + 4 <= end:
        code, length = struct.unpack_from("<HH", blob, pos)
        if code == 0:
            break
        out.setdefault(code, blob[pos + 4:pos + 4 + length])
        pos += 4 + ((length + 3) & ~3)
    return out


def _foreign_pcapng() -> bytes:
    """A pcapng as another tool writes it: its own section comment and options, two comments
    on packet 1, an interface with if_tsoffset 100 s and microsecond resolution."""
    def opt(code, value):
        return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)

    def block(btype, body):
        return struct.pack("<II", btype, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
                + opt(1, b"captured at the workshop") + opt(2, b"x86_64 box") + opt(3, b"Linux 6.1")
                + opt(4, b"Dumpcap (Wireshark) 4.0.17") + opt(2988, b"\x00\x00\x7f\x00kept")
                + opt(19372, b"\x00\x00\x7f\x00not copied") + opt(0, b""))
    idb = block(1, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, 262144) + opt(2, b"eth0")
                + opt(9, b"\x06") + opt(14, struct.pack("<q", 100)) + opt(0, b""))
    pkt = port_forward_records()[0][3].to_bytes()
    us = 1_500_000  # 1.5 s in microseconds
    epb = block(6, struct.pack("<IIIII", 0, us >> 32, us & 0xFFFFFFFF, len(pkt), len(pkt)) + pkt
                + b"\0" * (-len(pkt) % 4) + opt(1, b"first note") + opt(1, b"second note")
                + opt(2, struct.pack("<I", 1)) + opt(0, b""))
    return shb + idb + epb


def test_rewrite_keeps_other_tools_section_and_several_comments(tmp_path):
    cap = _load_quiet(_write(tmp_path, "f.pcapng", _foreign_pcapng()))
    assert cap.annotations[1].comment == "first note\nsecond note"
    assert cap.directions().tolist() == [1]
    blob = cap.to_pcapng_bytes()
    raw = read_capture_bytes(blob)
    assert raw.comments[1] == ["first note", "second note"]  # several stay several
    assert raw.section_comments == ["captured at the workshop"]
    opts = _shb_options(blob)
    assert opts[2] == b"x86_64 box" and opts[2988] == b"\x00\x00\x7f\x00kept"
    assert 19372 not in opts  # a custom option marked "not to be copied"
    assert opts[4].startswith(b"netlab ")
    assert raw.flags is not None and raw.flags.tolist() == [1]
    # a changed comment is one comment again; the sidecar keeps the pieces meanwhile
    cap.annotate(1, tags=["t"])
    assert read_capture_bytes(cap.to_pcapng_bytes()).comments[1][:2] == ["first note", "second note"]
    again = _load_quiet(cap.path)
    assert again.annotations[1].to_comments()[:2] == ["first note", "second note"]
    cap.annotate(1, "one")
    assert read_capture_bytes(cap.to_pcapng_bytes()).comments[1] == ["one", "tags: t"]


def test_if_tsoffset_is_honoured(tmp_path):
    cap = _load_quiet(_write(tmp_path, "t.pcapng", _foreign_pcapng()))
    assert cap.times_ns.tolist() == [101_500_000_000]
    # written back in absolute nanoseconds (no offset), the time is the same
    assert read_capture_bytes(cap.to_pcapng_bytes()).times_ns.tolist() == [101_500_000_000]


def test_per_hop_files_hold_each_interface_once(tmp_path):
    cap = _journey()
    cap.annotate(1, "the SYN")
    paths = cap.to_pcapng(tmp_path / "j.pcapng", per_hop_files=True)
    assert sorted(os.path.basename(p) for p in paths) == ["j.host_docker0.pcapng", "j.host_enp0s8.pcapng"]
    total = 0
    for p in paths:
        raw = read_capture_bytes(open(p, "rb").read())
        assert len(raw.interfaces) == 1
        name = raw.interfaces[0].name
        want = [k for k in range(1, len(cap) + 1) if cap._raw.interfaces[int(cap._raw.ifaces[k - 1])].name == name]
        assert len(raw.offsets) == len(want)
        total += len(want)
        if 1 in want:
            assert raw.comments[1][0] == "the SYN"
    assert total == len(cap)
    assert cap.path is None  # exports: the capture's notes stay where they were


# ---------------------------------------------------------------- property tests

def _bases() -> list[bytes]:
    cap = _journey()
    cap.annotate(2, "a note", tags=["x"], links=[3])
    cap.colour("tcp.flags.syn == 1", "red")
    frames = [r[3].to_bytes() for r in port_forward_records()]
    return [cap.to_pcapng_bytes(), _foreign_pcapng(),
            write_pcap(LINKTYPE_ETHERNET, [(k * 1000, f) for k, f in enumerate(frames)]),
            write_pcap(LINKTYPE_ETHERNET, [(0, _nested_icmp_errors(3))], nanoseconds=True)]


_BASES = _bases()


@st.composite
def damaged_captures(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(_BASES)))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[at] = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80]))
        elif op == "cut":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[at:at + draw(st.integers(1, 16))]
    return bytes(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_captures())
def test_load_capture_on_damaged_files_raises_only_capture_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = _write(tmp, "x.pcapng", data)
        try:
            cap = _load_quiet(path)
        except CaptureError:
            return
        n = len(cap)
        cap.df  # noqa: B018 - decoding every packet must not raise
        for k in {1, n // 2 + 1, n} if n else ():
            cap.frame(k)
            cap.raw_bytes(k)
        cap.numbers("tcp or icmp or arp")
        cap.numbers('frame.interface_name == "host/docker0" or not ip.ttl < 64')
        again = read_capture_bytes(cap.to_pcapng_bytes())
        assert len(again.offsets) == n


@settings(max_examples=60, deadline=None)
@given(damaged_captures())
def test_packet_dissection_of_damaged_files_never_raises(data):
    pytest.importorskip("scapy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cap = Capture(read_capture_bytes(data))
        except CaptureError:
            return
        for k in range(1, min(len(cap), 3) + 1):
            cap.packet(k)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=40) | st.sampled_from(
    ["links: 1, 2", "links: " + "9" * 30, "tags: a, b", "hop: x | hook: y", "comment: z",
     CONTINUED + "more", "netlab colour rules: [[", "links: ,", ""]), max_size=5))
def test_any_comments_read_back_to_the_same_annotation(texts):
    a = Annotation.from_comments(texts)
    b = Annotation.from_comments(a.to_comments())
    assert (a.comment, a.tags, a.hop, a.hook, a.rule, a.links) == (b.comment, b.tags, b.hop, b.hook,
                                                                   b.rule, b.links)


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_characters="\0", blacklist_categories=("Cs",)),
               max_size=5).map(lambda u: u * 30000),
       st.integers(0, 3))
def test_long_texts_split_and_join_exactly(text, extra):
    text = text + "é" * extra
    iface = Interface("ns", "eth0")
    blob = write_pcapng([iface], [(0, 0, b"\0" * 14, 14, [text, "tags: t"] if text else None)],
                        [text] if text else [])
    raw = read_capture_bytes(blob)
    if text:
        assert raw.comments[1] == [text, "tags: t"] and raw.section_comments == [text]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_frame_from_any_bytes_never_raises(data):
    f = Frame.from_bytes(data)
    assert f.proto in ("tcp", "udp", "icmp", "arp", "other")


@pytest.mark.parametrize("text", ['comment contains "' + "(" * 300 + '"',
                                  'frame.interface_name == "((((" or tcp',
                                  'comment contains ")))(((("'])
def test_parentheses_inside_quotes_are_not_nesting(text):
    from netlab.capture.filters import compile_filter

    compile_filter(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='()!" tcpandornot\\=.1', max_size=400))
def test_any_filter_text_raises_only_filter_error(text):
    cap = _journey()
    try:
        cap.numbers(text)
    except FilterError:
        pass


def test_a_lone_surrogate_is_refused_at_annotate_and_written_visibly_if_it_gets_in(tmp_path):
    """UTF-8 cannot hold half a UTF-16 pair: annotate says so (nothing is written on the packet);
    one that reaches the writer another way is written as its escape, not a crash."""
    from netlab.capture import Capture, CaptureError

    cap = Capture.from_records([(0.0, "ns", "eth0", b"\0" * 14)])
    with pytest.raises(CaptureError, match="half of a UTF-16 pair"):
        cap.annotate(1, comment="ok \udc80 not")
    with pytest.raises(CaptureError, match="half of a UTF-16 pair"):
        cap.annotate(1, tags=["\ud800"])
    assert 1 not in cap.annotations or not cap.annotations[1].comment
    blob = write_pcapng([Interface("ns", "eth0")], [(0, 0, b"\0" * 14, 14, ["a\udc80b"])], [])
    assert read_capture_bytes(blob).comments[1] == ["a\\udc80b"]
