"""Expert info, follow_stream, link proposals across DNAT, annotate_from a journey, draw_flow."""

from __future__ import annotations

import pytest
from _capture_records import (
    GET,
    RESPONSE,
    _tcp,
    arp_frame,
    ping_frames,
    port_forward_records,
    unwrapped,
)

from netlab.capture import Capture, CaptureError, follow_stream
from netlab.journey import Event, Journey

C, H, W = "192.168.56.1", "192.168.56.38", "172.17.0.2"


def test_expert_flags_what_wireshark_would() -> None:
    syn = _tcp(C, H, 40000, 80, 100, 0, "S", 1)
    recs = [
        (0.0, "host", "enp0s8", syn),
        (0.0001, "host", "docker0", syn.copy(dst=W, ttl=63)),  # another hop: not a retransmission
        (1.0, "host", "enp0s8", syn.copy(ip_id=2)),  # 3: SYN sent again
        (1.1, "host", "enp0s8", _tcp(C, H, 40000, 80, 101, 900, "PA", 3, payload=b"0123456789")),
        (1.3, "host", "enp0s8", _tcp(C, H, 40000, 80, 101, 900, "PA", 4, payload=b"0123456789")),  # 5
        (1.4, "host", "enp0s8", _tcp(H, C, 80, 40000, 900, 111, "A", 5, window=1000)),
        (1.5, "host", "enp0s8", _tcp(H, C, 80, 40000, 900, 111, "A", 6, window=1000)),  # 7 dup
        (1.6, "host", "enp0s8", _tcp(H, C, 80, 40000, 900, 111, "A", 7, window=1000)),  # 8 dup
        (1.7, "host", "enp0s8", _tcp(H, C, 80, 40000, 900, 111, "A", 8, window=0)),  # 9 zero win
        (1.8, "host", "enp0s8", _tcp(H, C, 80, 40000, 900, 0, "R", 9, window=0)),  # 10 RST
    ]
    recs += [(2.0 + k, "web", "eth0", f) for k, f in enumerate(ping_frames())]  # 12 unreachable
    cap = Capture.from_records(recs)
    found = cap.expert()
    assert set(zip(found.number, found.tag, strict=True)) == {
        (3, "retransmission"), (5, "retransmission"), (7, "dup-ack"), (8, "dup-ack"),
        (9, "zero-window"), (10, "rst"), (12, "icmp-unreachable")}
    assert "port unreachable" in found[found.tag == "icmp-unreachable"].message.iloc[0]
    assert cap.annotations[7].tags == ["dup-ack"]
    assert cap.numbers("tag == retransmission") == [3, 5]


def test_follow_stream_reassembles_both_directions() -> None:
    recs = port_forward_records()
    cap = Capture.from_records(recs)
    s = follow_stream(cap, 8)  # a packet on docker0: the conversation as docker0 saw it
    assert s.protocol == "tcp" and s.interface == "host/docker0"
    assert s.client == (C, 40000) and s.server == (W, 80)
    assert s.client_data == GET and s.server_data == RESPONSE
    assert s.text == (GET + RESPONSE).decode()
    assert s.numbers == [2, 3, 6, 8, 9, 11, 14, 15]
    assert s.segments.loc[2, "seq"] == 0 and s.segments.loc[8, "seq"] == 1
    assert s.segments.loc[9, "ack"] == 1 + len(GET)
    on_lan = follow_stream(cap, 1)
    assert on_lan.server == (H, 80) and on_lan.client_data == GET
    with pytest.raises(CaptureError, match="not TCP or UDP"):
        follow_stream(Capture.from_records([(0, "web", "eth0", ping_frames()[0])]), 1)


def test_follow_stream_out_of_order_and_retransmitted() -> None:
    part = [b"GET /a", b" HTTP/1.1\r\n", b"\r\n"]
    seq = 1001
    segs = []
    for p in part:
        segs.append((seq, p))
        seq += len(p)
    order = [segs[0], segs[2], segs[1], segs[1]]  # third arrives before second; second twice
    recs = [(0.0, "h", "eth0", _tcp(C, H, 40000, 80, 1000, 0, "S", 1))]
    recs += [(0.1 + k / 10, "h", "eth0", _tcp(C, H, 40000, 80, s, 1, "PA", 2 + k, payload=p))
             for k, (s, p) in enumerate(order)]
    cap = Capture.from_records(recs)
    s = follow_stream(cap, 2)
    assert s.client_data == b"".join(part)
    assert s.segments.loc[3, "note"].startswith("out of order")
    assert s.segments.loc[5, "note"] == "retransmission"


def test_link_proposals_across_dnat() -> None:
    cap = Capture.from_records(port_forward_records())
    props = cap.propose_links()
    pairs = set(zip(props.a, props.b, props.nat, strict=True))
    # every packet pairs with its copy on the other side of the NAT
    assert pairs == {(1, 2, "dst"), (3, 4, "src"), (5, 6, "dst"), (7, 8, "dst"), (9, 10, "src"),
                     (11, 12, "src"), (13, 14, "dst"), (15, 16, "src")}
    reason = props[props.a == 1].reason.iloc[0]
    assert "IP ID 0x1111" in reason and "seq 1000" in reason
    assert "192.168.56.38:80 rewritten to 172.17.0.2:80" in reason
    assert cap.accept_links() == 8
    assert cap.annotations[2].links == [1] and cap.annotations[1].links == [2]


def test_link_proposals_need_a_consistent_tuple() -> None:
    a = _tcp(C, H, 40000, 80, 1000, 0, "S", 7)
    same_ids_other_flow = a.copy(src="10.9.9.9", dst="10.8.8.8", sport=1234)  # both ends differ
    retransmit = a.copy()
    cap = Capture.from_records([(0, "host", "enp0s8", a), (0.1, "host", "docker0", same_ids_other_flow),
                                (0.2, "host", "enp0s8", retransmit)])
    assert len(cap.propose_links()) == 0


def _journey_of(cap_records: list[tuple]) -> Journey:
    """A journey like the simulator's for the first two packets (SYN and SYN-ACK)."""
    syn_lan, syn_dock, sa_dock, sa_lan = (r[3] for r in cap_records[:4])
    steps = [
        Event(1, "seen", "host", "SYN arrives", iface="enp0s8", direction="in", frame=syn_lan, packet_id=1),
        Event(2, "netfilter", "host", "PREROUTING", hook="PREROUTING", rule="nat:DOCKER:2",
              verdict="ACCEPT", packet_id=1),
        Event(3, "nat", "host", "DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2",
              hook="PREROUTING", rule="nat:DOCKER:2", before="192.168.56.38:80",
              after="172.17.0.2:80", packet_id=1),
        Event(4, "netfilter", "host", "FORWARD", hook="FORWARD", rule="filter:DOCKER:1",
              verdict="ACCEPT", packet_id=1),
        Event(5, "seen", "host", "SYN leaves", iface="docker0", direction="out", frame=syn_dock,
              packet_id=1),
        Event(6, "deliver", "web", "SYN to listening port 80: answer SYN-ACK", packet_id=1),
        Event(7, "seen", "host", "SYN-ACK", iface="docker0", direction="in", frame=sa_dock, packet_id=2),
        Event(8, "netfilter", "host", "FORWARD", hook="FORWARD", rule="filter:FORWARD:5",
              verdict="ACCEPT", packet_id=2),
        Event(9, "seen", "host", "SYN-ACK out", iface="enp0s8", direction="out", frame=sa_lan,
              packet_id=2),
    ]
    return Journey(probe={"kind": "tcp", "src": "client", "dst": H}, steps=steps, outcome="answered")


def test_annotate_from_hand_built_journey() -> None:
    recs = port_forward_records()
    cap = Capture.from_records(recs)
    cap.annotate(4, comment="my own note")
    matches = cap.annotate_from(_journey_of(recs))
    assert matches == {1: 1, 5: 2, 7: 3, 9: 4}
    a1, a2 = cap.annotations[1], cap.annotations[2]
    assert a1.hop == "1 host:enp0s8 in" and not a1.hook
    assert a2.hop == "2 host:docker0 out"
    assert a2.hook == "PREROUTING, FORWARD" and a2.rule == "nat:DOCKER:2, filter:DOCKER:1"
    assert "DNAT 192.168.56.38:80 → 172.17.0.2:80" in a2.comment
    assert "then SYN to listening port 80" in a2.comment
    assert cap.annotations[4].comment == "my own note"  # a learner's comment is kept
    assert cap.annotations[4].rule == "filter:FORWARD:5"
    assert cap.numbers('rule contains "nat:DOCKER:2"') == [2]


def test_annotate_from_the_simulator() -> None:
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.seed_host())
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    cap = j.capture
    matches = cap.annotate_from(j)
    seen = [e for e in j.steps if e.kind == "seen" and e.frame is not None]
    assert len(matches) == len(seen) == len(cap)
    # the packet where the destination changed: first hop after the DNAT event
    dnat = next(e for e in j.steps if e.kind == "nat" and e.rule == "nat:DOCKER:2")
    after = next(e for e in seen if e.seq > dnat.seq and e.packet_id == dnat.packet_id)
    n = matches[after.seq]
    assert cap.df.loc[n, "dst"] == "172.17.0.2"
    assert "nat:DOCKER:2" in cap.annotations[n].rule
    assert "PREROUTING" in cap.annotations[n].hook
    props = cap.propose_links()
    assert ((props.a < n) & (props.b == n) & (props.nat == "dst")).any()


def test_draw_flow_figure(tmp_path) -> None:
    from matplotlib.figure import Figure

    from netlab.viz.flow import draw_flow, flow_packets

    cap = Capture.from_records(port_forward_records())
    assert flow_packets(cap, 1) == [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12],
                                    [13, 14], [15, 16]]
    fig = draw_flow(cap, 1)
    assert isinstance(fig, Figure)
    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    assert any("NAT: dst 192.168.56.38:80→172.17.0.2:80" in t for t in texts)
    assert any("NAT: src 172.17.0.2:80→192.168.56.38:80" in t for t in texts)
    assert "host/enp0s8" in texts and "host/docker0" in texts
    fig.savefig(tmp_path / "flow.png")
    assert (tmp_path / "flow.png").stat().st_size > 10_000
    with pytest.raises(CaptureError, match="not TCP, UDP or ICMP"):
        recs = port_forward_records()
        recs.insert(0, (0.0, "host", "docker0", arp_frame()))
        draw_flow(Capture.from_records(recs), 1)


def test_draw_flow_default_picks_first_conversation() -> None:
    from netlab.viz.flow import draw_flow

    recs = [(0, "web", "eth0", f) for f in ping_frames()[:1]] + port_forward_records()
    fig = draw_flow(Capture.from_records(recs))
    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    assert any("ping request" in t for t in texts)


def test_lesson_sample_capture_from_tcpdump_any(tmp_path) -> None:
    """The sample shipped with lesson 11 reads like `tcpdump -i any` on the article's host."""
    import shutil
    from pathlib import Path

    from netlab.capture import load_capture

    shipped = Path(__file__).resolve().parents[1] / "notebooks" / "data" / "11_docker_host_any.pcap"
    sample = shutil.copy(shipped, tmp_path)  # its sidecar (expert's tags) goes to tmp_path
    names = {2: "enp0s3", 3: "enp0s8", 4: "docker0", 6: "veth3c5a2f1"}
    cap = load_capture(sample, interface_names=names)
    assert len(cap) == 45 and set(cap.df.interface) == set(names.values())
    found = cap.expert()
    # the response sent again (once per interface it crossed), and the RST from port 8080
    assert set(zip(found.number, found.tag, strict=True)) == {
        (29, "retransmission"), (30, "retransmission"), (31, "retransmission"), (45, "rst")}
    links = cap.propose_links()
    masq = links[(links.a == 6) & (links.b == 7)]
    assert masq.nat.tolist() == ["src"] and "172.17.0.2:51234 rewritten to 10.0.2.15:51234" in \
        masq.reason.iloc[0]
    dns = follow_stream(cap, 7)
    assert dns.protocol == "udp" and dns.server == ("10.0.2.3", 53)
    assert b"\x07example\x03com" in dns.client_data and len(dns.server_data) == 45
    web = follow_stream(cap, 21)
    assert web.client_data.startswith(b"GET / HTTP/1.1") and b"Welcome to nginx" in web.server_data
    assert web.segments.loc[30, "note"] == "retransmission"
    assert not (shipped.parent / (shipped.name + ".netlab.json")).exists()


def test_draw_flow_shows_tags(tmp_path) -> None:
    from netlab.viz.flow import draw_flow

    cap = Capture.from_records(port_forward_records())
    cap.annotate(2, tags=["dnat"])
    cap.expert()
    fig = draw_flow(cap, 1)
    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    assert "dnat" in texts
    fig.savefig(tmp_path / "flow-tags.png")
