"""Reading and writing capture files: pcap (both byte orders, µs/ns), pcapng, link types,
damage, and what Wireshark's tshark sees in what we write."""

from __future__ import annotations

import struct
import subprocess
import warnings

import pytest
from _capture_records import arp_frame, ping_frames, port_forward_records
from conftest import needs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.capture import Capture, CaptureError, CaptureWarning, load_capture
from netlab.capture.pcapng import write_pcap
from netlab.packet import Frame

FIELDS = ["src_mac", "dst_mac", "src", "dst", "protocol", "sport", "dport", "flags", "ttl", "length"]


def _cap() -> Capture:
    recs = port_forward_records()
    recs.append((2.0, "host", "docker0", arp_frame()))
    recs += [(2.1 + k / 10, "web", "eth0", f) for k, f in enumerate(ping_frames())]
    return Capture.from_records(recs)


def test_df_columns_and_numbering() -> None:
    cap = _cap()
    df = cap.df
    assert list(df.index[:3]) == [1, 2, 3] and df.index.name == "number"
    for col in ("time", "namespace", "interface", "src_mac", "dst_mac", "src", "dst", "protocol",
                "sport", "dport", "flags", "ttl", "length", "summary", "comment", "tags",
                "ip_id", "seq", "ack"):
        assert col in df.columns
    first, second = df.loc[1], df.loc[2]
    assert (first.interface, first.dst, first.dport, first["flags"]) == ("enp0s8", "192.168.56.38", 80, "S")
    assert (second.interface, second.dst, second.ttl) == ("docker0", "172.17.0.2", 63)
    assert first.ip_id == second.ip_id == 0x1111 and first.seq == second.seq == 1000
    arp = df[df.protocol == "arp"].iloc[0]
    assert arp.summary == "ARP who-has 172.17.0.2 tell 172.17.0.1"
    icmp = df[df.protocol == "icmp"]
    assert icmp.summary.tolist() == ["ICMP 172.17.0.2 > 203.0.113.10 echo-request id=9 seq=1",
                                     "ICMP 172.17.0.1 > 172.17.0.2 destination-unreachable code 3 (port unreachable)"
                                     " for ICMP 172.17.0.2 > 203.0.113.10"]
    assert "GET / HTTP/1.1" in df.loc[7].summary
    assert cap.frame(2) == Frame.from_bytes(cap.raw_bytes(2))
    assert cap.packet(2)["IP"].dst == "172.17.0.2"


def test_pcapng_round_trip_keeps_annotations(tmp_path) -> None:
    cap = _cap()
    cap.annotate(1, comment="arrives on enp0s8 for the host's address", tags=["syn", "before-dnat"])
    cap.annotate(2, comment="after DNAT: now for 172.17.0.2\nsecond line", tags="dnat")
    cap.annotate(3, hop="1 host:docker0 in", hook="PREROUTING", rule="nat:DOCKER:2")
    cap.link(1, 2)
    cap.colour("tcp.flags.syn == 1", "#c8f7c5")
    path = cap.to_pcapng(tmp_path / "annotated.pcapng")
    (tmp_path / "annotated.pcapng.netlab.json").unlink()  # only what is inside the pcapng
    again = load_capture(path)
    assert len(again) == len(cap)
    assert again.annotations == cap.annotations
    assert again.colour_rules == cap.colour_rules
    assert again.df.loc[2, "tags"] == ("dnat",)
    assert [(i.namespace, i.name) for i in again.interfaces] == \
        [(i.namespace, i.name) for i in cap.interfaces]
    for col in FIELDS + ["interface", "namespace", "summary"]:
        assert again.df[col].astype(object).tolist() == cap.df[col].astype(object).tolist(), col
    assert (again.df.time - cap.df.time).abs().max() < 1e-9


@needs("tshark")  # Wireshark must read our pcapng
def test_tshark_shows_comments_and_interfaces(tmp_path) -> None:
    cap = _cap()
    cap.annotate(2, comment="DNAT happened before this hop", tags=["dnat"])
    path = cap.to_pcapng(tmp_path / "t.pcapng")
    out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.number",
                          "-e", "frame.interface_name", "-e", "frame.comment", "-e", "ip.dst"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert len(rows) == len(cap)
    assert rows[1][1] == "host/docker0" and rows[0][1] == "host/enp0s8"
    assert "DNAT happened before this hop" in rows[1][2] and "tags: dnat" in rows[1][2]
    assert rows[1][3] == "172.17.0.2"
    assert rows[0][2] == ""


@needs("editcap")
def test_reads_pcapng_written_by_wireshark_tools(tmp_path) -> None:
    cap = _cap()
    cap.annotate(4, comment="hello from netlab")
    src = cap.to_pcapng(tmp_path / "ours.pcapng")
    dst = tmp_path / "theirs.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", "-a", "5:added by editcap", src, str(dst)],
                   capture_output=True, timeout=60, check=True)
    theirs = load_capture(dst)
    assert len(theirs) == len(cap)
    assert theirs.annotations[4].comment == "hello from netlab"
    assert "added by editcap" in theirs.annotations[5].comment
    assert theirs.df.dst.astype(object).tolist() == cap.df.dst.astype(object).tolist()


@pytest.mark.parametrize("nano", [False, True])
def test_scapy_wrpcap_loads_with_same_fields(tmp_path, nano: bool) -> None:
    from scapy.utils import rdpcap, wrpcap

    cap = _cap()
    pkts = [cap.packet(n) for n in range(1, len(cap) + 1)]
    for k, p in enumerate(pkts):
        p.time = 1_700_000_000 + k * 0.001 + 0.000000123
    path = tmp_path / "scapy.pcap"
    wrpcap(str(path), pkts, nano=nano)
    ours = load_capture(path)
    assert len(ours) == len(cap)
    for col in FIELDS + ["summary"]:
        assert ours.df[col].astype(object).tolist() == cap.df[col].astype(object).tolist(), col
    theirs = rdpcap(str(path))
    for n, p in enumerate(theirs, start=1):
        assert int(ours.times_ns[n - 1]) == int(p.time * 10**9)
        assert abs(ours.df.time[n] - float(p.time)) < 1e-6


def _write_big_endian_pcap(packets: list[bytes], linktype: int = 1) -> bytes:
    out = [struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)]
    for k, raw in enumerate(packets):
        out.append(struct.pack(">IIII", 1000 + k, 250, len(raw), len(raw)) + raw)
    return b"".join(out)


def test_big_endian_pcap(tmp_path) -> None:
    frames = [r[3] for r in port_forward_records()]
    path = tmp_path / "be.pcap"
    path.write_bytes(_write_big_endian_pcap([f.to_bytes() for f in frames]))
    cap = load_capture(path, interface="enp0s8", namespace="host")
    assert len(cap) == len(frames)
    assert cap.df.time[2] == pytest.approx(1001.000250)
    assert cap.df.interface[1] == "enp0s8" and cap.df.namespace[1] == "host"
    assert [cap.frame(n) for n in range(1, len(frames) + 1)] == \
        [Frame.from_bytes(f.to_bytes()) for f in frames]


def _sll(frame: Frame, outgoing: bool = False) -> bytes:
    raw = frame.to_bytes()
    mac = bytes.fromhex(frame.src_mac.replace(":", ""))
    return struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, mac + b"\0\0",
                       int.from_bytes(raw[12:14], "big")) + raw[14:]


def _sll2(frame: Frame, ifindex: int) -> bytes:
    raw = frame.to_bytes()
    mac = bytes.fromhex(frame.src_mac.replace(":", ""))
    return struct.pack("!HHIHBB8s", int.from_bytes(raw[12:14], "big"), 0, ifindex, 1, 0, 6,
                       mac + b"\0\0") + raw[14:]


def test_linux_cooked_any_captures(tmp_path) -> None:
    recs = port_forward_records()
    ifindex = {"enp0s8": 3, "docker0": 5}
    sll2 = tmp_path / "any2.pcap"
    sll2.write_bytes(write_pcap(276, [(int(t * 1e9), _sll2(f, ifindex[i])) for t, _, i, f in recs]))
    cap = load_capture(sll2)
    assert sorted(cap.df.interface.unique()) == ["if3", "if5"]
    named = load_capture(sll2, interface_names={3: "enp0s8", 5: "docker0"})
    assert named.df.interface.astype(object).tolist() == [r[2] for r in recs]
    assert named.df.src_mac.tolist()[:2] == [recs[0][3].src_mac, recs[1][3].src_mac]
    assert named.df.dst_mac.isna().all()  # cooked captures do not record it
    assert named.numbers("iface == docker0 and tcp.flags.syn == 1") == [2, 3]
    f = named.frame(2)
    assert (f.src, f.dst, f.dport, f.flags) == ("192.168.56.1", "172.17.0.2", 80, "S")
    assert named.packet(2).haslayer("TCP")
    sll = tmp_path / "any.pcap"
    sll.write_bytes(write_pcap(113, [(int(t * 1e9), _sll(f)) for t, _, _, f in recs]))
    one = load_capture(sll)
    assert one.df.dst.astype(object).tolist() == named.df.dst.astype(object).tolist()
    raw_ip = tmp_path / "raw.pcap"
    raw_ip.write_bytes(write_pcap(101, [(int(t * 1e9), f.ip_bytes()) for t, _, _, f in recs]))
    r = load_capture(raw_ip)
    assert r.df.seq.tolist() == named.df.seq.tolist()
    assert r.df.src_mac.isna().all()


def test_unknown_link_type_is_named(tmp_path) -> None:
    path = tmp_path / "wifi.pcap"
    path.write_bytes(write_pcap(105, [(0, b"\x08\x00" + b"\0" * 30)]))
    with pytest.raises(CaptureError, match=r"105 \(IEEE802_11"):
        load_capture(path)
    path.write_bytes(write_pcap(4242, [(0, b"\0" * 30)]))
    with pytest.raises(CaptureError, match="unknown link type 4242"):
        load_capture(path)


def test_not_a_capture(tmp_path) -> None:
    text = tmp_path / "out.txt"
    text.write_text("12:00:01.123 IP 192.168.56.1.40000 > 192.168.56.38.80: Flags [S]\n")
    with pytest.raises(CaptureError, match="not a pcap or pcapng.*printed output"):
        load_capture(text)
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    with pytest.raises(CaptureError, match="empty"):
        load_capture(empty)
    gz = tmp_path / "c.pcap.gz"
    gz.write_bytes(b"\x1f\x8b\x08\x00" + b"\0" * 20)
    with pytest.raises(CaptureError, match="gunzip"):
        load_capture(gz)
    with pytest.raises(CaptureError, match="no capture file"):
        load_capture(tmp_path / "missing.pcap")


def _sample_pcap() -> tuple[bytes, list[int]]:
    frames = [r[3].to_bytes() for r in port_forward_records()]
    data = write_pcap(1, [(k * 1000, f) for k, f in enumerate(frames)])
    starts, pos = [], 24
    for f in frames:
        starts.append(pos)
        pos += 16 + len(f)
    return data, starts


def test_truncated_pcap_keeps_packets_before_damage(tmp_path) -> None:
    data, starts = _sample_pcap()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:starts[5] + 30])  # inside packet 6
    with pytest.warns(CaptureWarning, match="packet 6"):
        cap = load_capture(path)
    assert len(cap) == 5
    assert cap.problem.packet == 6 and cap.problem.offset == starts[5]
    assert f"byte {starts[5]}" in str(cap.problem)
    with pytest.raises(CaptureError, match="packet 6"):
        load_capture(path, strict=True)
    path.write_bytes(data[:starts[3] + 7])  # inside a record header
    with pytest.warns(CaptureWarning, match="record header of packet 4"):
        assert len(load_capture(path)) == 3


def test_corrupt_length_stops_at_the_damage(tmp_path) -> None:
    data, starts = _sample_pcap()
    bad = bytearray(data)
    struct.pack_into("<I", bad, starts[4] + 8, 0x7FFFFFF0)  # packet 5 claims 2 GB
    path = tmp_path / "bad.pcap"
    path.write_bytes(bytes(bad))
    with pytest.warns(CaptureWarning):
        cap = load_capture(path)
    assert len(cap) == 4 and cap.problem.packet == 5 and cap.problem.offset == starts[4]


def test_truncated_pcapng(tmp_path) -> None:
    cap = _cap()
    blob = cap.to_pcapng_bytes()
    path = tmp_path / "cut.pcapng"
    path.write_bytes(blob[:len(blob) - 10])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = load_capture(path)
    assert len(again) == len(cap) - 1
    assert any("damaged at byte" in str(w.message) for w in caught)
    assert again.problem.packet == len(cap)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1,
                      max_size=6),
       cut=st.integers(0, 10**6), kind=st.sampled_from(["pcap", "pcapng"]))
def test_random_damage_only_ever_raises_capture_error(flips, cut, kind) -> None:
    if kind == "pcap":
        data = bytearray(_sample_pcap()[0])
    else:
        data = bytearray(_cap().to_pcapng_bytes())
    for pos, xor in flips:
        data[pos % len(data)] ^= xor
    data = bytes(data[: max(1, cut % (len(data) + 1))])
    from netlab.capture.core import Capture as C
    from netlab.capture.pcapng import read_capture_bytes

    try:
        raw = read_capture_bytes(data, "fuzz")
    except CaptureError:
        return
    cap = C(raw)
    df = cap.df
    assert len(df) == len(cap)
    for n in range(1, min(len(cap), 4) + 1):
        cap.frame(n)
        cap.raw_bytes(n)
    cap.mask("tcp.port == 80 or arp")
    cap.expert(tag=False)
    cap.propose_links()
    again = C(read_capture_bytes(cap.to_pcapng_bytes(), "rewritten"))
    assert len(again) == len(cap)


def test_pcapng_interface_netlab_cannot_decode_keeps_numbering(tmp_path) -> None:
    from netlab.capture.pcapng import Interface, write_pcapng

    eth = port_forward_records()[0][3].to_bytes()
    blob = write_pcapng([Interface("", "enp0s8", 1), Interface("", "usbmon0", 189)],
                        [(0, 1000, eth, len(eth), []), (1, 2000, b"\x01" * 48, 48, []),
                         (0, 3000, eth, len(eth), [])])
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(blob)
    cap = load_capture(path)
    assert len(cap) == 3 and cap.df.protocol.tolist() == ["tcp", "other", "tcp"]
    assert cap.df.summary[2] == "not decoded: link type 189 (USB_LINUX)"
    only_usb = write_pcapng([Interface("", "usbmon0", 189)], [(0, 1000, b"\x01" * 48, 48, [])])
    path.write_bytes(only_usb)
    with pytest.raises(CaptureError, match=r"link type 189 \(USB_LINUX\)"):
        load_capture(path)


def test_naming_a_pcaps_interfaces_afterwards(tmp_path) -> None:
    path = tmp_path / "plain.pcap"
    path.write_bytes(write_pcap(1, [(0, r[3].to_bytes()) for r in port_forward_records()[:2]]))
    cap = load_capture(path)
    assert cap.df.interface.tolist() == ["", ""] and cap.numbers("iface == docker0") == []
    cap.rename_interfaces({"": "docker0"}, namespace="host")
    assert cap.df.interface.tolist() == ["docker0", "docker0"]
    assert cap.numbers("iface == docker0 and netns == host") == [1, 2]
