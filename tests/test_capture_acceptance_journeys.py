"""Acceptance tests for issue 7 on real simulator journeys (other probes than the examples):
annotate_from on http, ping through MASQUERADE, udp and traceroute; expert() on RSTs and
ICMP errors; follow_stream from the middle of a stream and on the NATed hop; link
proposals across DNAT and MASQUERADE (accepted, then changed); draw_flow for each;
annotate → pcapng → tshark → load_capture."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from _capture_records import no_text_overlaps, unwrapped
from conftest import needs

import netlab as nl
from netlab.capture import Capture, load_capture

PROBES = {
    "http": dict(kind="http", src="client", dst="192.168.56.38", dport=80),
    "ping": dict(kind="ping", src="web", dst="203.0.113.10"),
    "udp": dict(kind="udp", src="web", dst="203.0.113.10"),
    "traceroute": dict(kind="traceroute", src="web", dst="203.0.113.10"),
    "closed": dict(kind="tcp", src="client", dst="192.168.56.38", dport=8080),
}
_JOURNEYS: dict[str, object] = {}


def journey(name: str):  # noqa: ANN201
    if name not in _JOURNEYS:
        net = nl.connect(mode="sim", scenario=nl.seed_host())
        spec = dict(PROBES[name])
        _JOURNEYS[name] = net.probe(spec.pop("kind"), **spec)
    return _JOURNEYS[name]


def fresh(name: str) -> tuple[object, Capture]:
    """The journey and a copy of its capture with no annotations."""
    j = journey(name)
    return j, Capture.from_records([(t, ns, i, b) for t, ns, i, b, *_ in _records(j.capture)])


def _records(cap: Capture) -> list[tuple]:
    return [(float(cap.times_ns[n - 1]) / 1e9, cap.interfaces[int(cap._raw.ifaces[n - 1])].namespace,
             cap.interfaces[int(cap._raw.ifaces[n - 1])].name, cap.raw_bytes(n))
            for n in range(1, len(cap) + 1)]


def _seen(j) -> list:  # noqa: ANN001
    return [e for e in j.steps if e.kind == "seen" and e.frame is not None]


@pytest.mark.parametrize("name", list(PROBES))
def test_annotate_from_writes_hop_hook_rule_on_every_packet(name: str) -> None:
    j, cap = fresh(name)
    matches = cap.annotate_from(j)
    seen = _seen(j)
    assert len(matches) == len(seen) == len(cap)
    assert sorted(matches.values()) == list(range(1, len(cap) + 1))  # each packet once
    by_seq = {e.seq: e for e in seen}
    df = cap.df
    for seq, n in matches.items():
        e = by_seq[seq]
        # the packet matched is the one seen there: same place, same addresses
        assert (df.loc[n, "namespace"], df.loc[n, "interface"]) == (e.node, e.iface)
        if e.frame.src:
            assert (df.loc[n, "src"], df.loc[n, "dst"]) == (e.frame.src, e.frame.dst)
        a = cap.annotations[n]
        assert a.hop and a.hop.split()[1] == f"{e.node}:{e.iface}"
        assert a.comment.startswith("hop ")
    # every rule written on a packet is one the journey's netfilter or NAT events name
    named = {e.rule for e in j.steps if e.rule}
    for a in cap.annotations.values():
        for rule in filter(None, (a.rule or "").split(", ")):
            assert rule in named


def test_masquerade_and_its_reply_are_where_the_journey_says() -> None:
    j, cap = fresh("ping")
    matches = cap.annotate_from(j)
    nats = [e for e in j.steps if e.kind == "nat"]
    assert nats, "the ping from the container must be MASQUERADEd"
    for nat in nats:
        after = next(e for e in _seen(j) if e.seq > nat.seq and e.packet_id == nat.packet_id)
        n = matches[after.seq]
        row = cap.df.loc[n]
        if row.src == "10.0.2.15":  # the request, after MASQUERADE
            assert row.interface == "enp0s3" and row.dst == "203.0.113.10"
            assert nat.rule in cap.annotations[n].rule
            assert "POSTROUTING" in cap.annotations[n].hook
        else:  # the reply, de-NATed back to the container
            assert row.dst == "172.17.0.2" and row.src == "203.0.113.10"
    # the request after MASQUERADE, found by a filter on what annotate_from wrote
    masq = cap.numbers('ip.src == 10.0.2.15 and icmp.type == 8 and iface == enp0s3')
    assert len(masq) == 1 and cap.numbers('rule contains "POSTROUTING"') == masq


def test_expert_flags_rst_and_icmp_errors_on_journeys() -> None:
    _, closed = fresh("closed")
    found = closed.expert()
    rst = closed.numbers("tcp.flags.reset == 1")
    assert rst and set(found[found.tag == "rst"].number) == set(rst)
    assert not (found.tag == "retransmission").any()  # the same packet at two hops is not one
    _, tr = fresh("traceroute")
    tr_found = tr.expert()
    unreachable = tr.numbers("icmp.type == 3")
    assert set(tr_found[tr_found.tag == "icmp-unreachable"].number) == set(unreachable)
    # time-exceeded is not "unreachable"
    assert not set(tr.numbers("icmp.type == 11")) & set(tr_found.number)
    assert set(tr.numbers("tag == icmp-unreachable")) == set(unreachable)


def test_follow_stream_from_the_middle_and_on_the_nated_hop() -> None:
    j, cap = fresh("http")
    get = cap.numbers('tcp.len > 0 and tcp.dstport == 80')
    lan = [n for n in get if cap.df.loc[n, "interface"] == "enp0s8"]
    veth = [n for n in get if str(cap.df.loc[n, "interface"]).startswith("veth")]
    assert lan and veth
    inside = cap.follow_stream(veth[0])  # the GET as the container's bridge port saw it
    outside = cap.follow_stream(lan[0])  # the same conversation before DNAT
    assert inside.server == ("172.17.0.2", 80) and outside.server == ("192.168.56.38", 80)
    assert inside.client == outside.client and inside.client[0] == "192.168.56.1"
    assert inside.client_data == outside.client_data
    assert inside.client_data.startswith(b"GET / HTTP/1.")
    assert inside.server_data == outside.server_data and inside.server_data.startswith(b"HTTP/1.")
    assert inside.text == (inside.client_data + inside.server_data).decode()
    # a packet in the middle (the server's last ACK / FIN) gives the same conversation
    last = inside.numbers[-1]
    again = cap.follow_stream(last)
    assert again.numbers == inside.numbers and again.client_data == inside.client_data
    seg = inside.segments
    assert list(seg.index) == inside.numbers
    assert set(seg.direction) == {">", "<"}
    assert seg.iloc[0]["flags"] == "S" and seg.iloc[0]["seq"] == 0
    assert seg["len"].sum() == len(inside.client_data) + len(inside.server_data)
    assert "(client red, server blue)" in inside._repr_html_()


def test_follow_udp_stream_both_sides_of_masquerade() -> None:
    _, cap = fresh("udp")
    inside = cap.numbers("udp and iface == eth0 and netns == web")[0]
    outside = cap.numbers("udp and iface == enp0s3")[0]
    a, b = cap.follow_stream(inside), cap.follow_stream(outside)
    assert a.protocol == b.protocol == "udp"
    assert a.client[0] == "172.17.0.2" and b.client[0] == "10.0.2.15"
    assert a.client_data == b.client_data and len(a.client_data) > 0
    assert a.server_data == b.server_data == a.client_data  # an echo
    assert list(a.segments.direction) == [">", "<"]


def test_link_proposals_across_dnat_and_masquerade_accept_and_change() -> None:
    _, http = fresh("http")
    props = http.propose_links()
    df = http.df
    syn_lan = http.numbers("tcp.flags.syn == 1 and tcp.flags.ack == 0 and iface == enp0s8")[0]
    syn_bridge = http.numbers("tcp.flags.syn == 1 and tcp.flags.ack == 0 and iface == docker0")[0]
    row = props[(props.a == syn_lan) & (props.b == syn_bridge)]
    assert row.nat.tolist() == ["dst"]
    assert "192.168.56.38:80 rewritten to 172.17.0.2:80" in row.reason.iloc[0]
    # every proposal links packets on two interfaces whose IP IDs agree
    assert (df.loc[props.a, "interface"].to_numpy() != df.loc[props.b, "interface"].to_numpy()).all()
    assert (df.loc[props.a, "ip_id"].to_numpy() == df.loc[props.b, "ip_id"].to_numpy()).all()
    _, ping = fresh("ping")
    pp = ping.propose_links()
    req_bridge = ping.numbers("icmp.type == 8 and iface == docker0")[0]
    req_out = ping.numbers("icmp.type == 8 and iface == enp0s3")[0]
    masq = pp[(pp.a == req_bridge) & (pp.b == req_out)]
    assert masq.nat.tolist() == ["src"] and "172.17.0.2 rewritten to 10.0.2.15" in masq.reason.iloc[0]
    # accept them all, then change one: the learner's word wins
    assert ping.accept_links() == len(pp)
    assert req_out in ping.annotations[req_bridge].links
    ping.unlink(req_bridge, req_out)
    other = ping.numbers("icmp.type == 8 and iface == enp0s3")[0]
    reply = ping.numbers("icmp.type == 0 and iface == docker0")[0]
    ping.link(reply, other)
    assert other not in ping.annotations[req_bridge].links
    assert reply in ping.annotations[other].links and other in ping.annotations[reply].links


@pytest.mark.parametrize("name", ["http", "ping", "udp", "traceroute"])
def test_draw_flow_on_journeys(tmp_path, name: str) -> None:
    from netlab.viz.flow import draw_flow, flow_packets

    j, cap = fresh(name)
    cap.annotate_from(j)
    cap.expert()
    # traceroute: the first probe that left the host (TTL 2 dies at the gateway)
    first = cap.numbers("udp and iface == enp0s3" if name == "traceroute" else "tcp or udp or icmp")[0]
    groups = flow_packets(cap, first)
    fig = draw_flow(cap, first)
    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    # one column per interface the conversation crossed, each named once
    crossed = {cap.interface_names()[int(cap._raw.ifaces[n - 1])] for g in groups for n in g}
    for iface in crossed:
        assert texts.count(iface) == 1, iface
    nat_notes = [t for t in texts if t.startswith("NAT: ")]
    if name == "traceroute":  # the ICMP error is part of the flow, and the probe dies
        assert "dropped" in texts and any(t.startswith("time exceeded from 10.0.2.2") for t in texts)
        errors = set(cap.numbers("icmp.type == 11"))
        assert errors & {n for g in groups for n in g}
    if name == "http":
        assert any("dst 192.168.56.38:80→172.17.0.2:80" in t for t in nat_notes)
        assert any("src 172.17.0.2:80→192.168.56.38:80" in t for t in nat_notes)
    else:  # from the container to the internet: MASQUERADE, and the reply's de-NAT
        assert any("src 172.17.0.2" in t and "10.0.2.15" in t for t in nat_notes)
        assert any("dst 10.0.2.15" in t and "172.17.0.2" in t for t in nat_notes)
    out = tmp_path / f"flow-{name}.png"
    fig.savefig(out, dpi=80)
    no_text_overlaps(fig)
    import os

    if os.environ.get("NETLAB_KEEP_FLOWS"):
        shutil.copy(out, os.environ["NETLAB_KEEP_FLOWS"])


@needs("tshark")
def test_annotations_round_trip_through_tshark(tmp_path) -> None:
    j, cap = fresh("ping")
    cap.annotate_from(j)
    cap.expert()
    req = cap.numbers("icmp.type == 8 and iface == enp0s3")[0]
    cap.annotate(req, comment="MASQUERADE: now from 10.0.2.15 — «ça marche»",
                 tags=["masq", "after-nat"])
    cap.colour("icmp", "#ffe0b2")
    path = tmp_path / "ping.pcapng"
    cap.to_pcapng(path)
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.number",
                          "-e", "frame.comment"], capture_output=True, text=True, timeout=60,
                         check=True).stdout.splitlines()
    comments = {int(line.split("\t")[0]): line.split("\t", 1)[1] for line in out}
    assert len(comments) == len(cap)
    assert "MASQUERADE: now from 10.0.2.15 — «ça marche»" in comments[req]
    assert "tags: masq, after-nat" in comments[req]
    assert f"hop: {cap.annotations[req].hop}" in comments[req]
    for n, a in cap.annotations.items():
        assert a.hop in comments[n]
    again = load_capture(path)
    assert again.annotations == cap.annotations
    assert again.colour_rules == [("icmp", "#ffe0b2")]
    assert again.df[["src", "dst", "interface", "namespace", "summary"]].equals(
        cap.df[["src", "dst", "interface", "namespace", "summary"]])


def _truth(df, expr: str):  # noqa: ANN001, ANN202 - the same question asked of pandas
    ports = (df.sport == 80) | (df.dport == 80)
    tcp = df.protocol == "tcp"
    table = {
        "ip.src == 172.17.0.2 and tcp.port == 80": (df.src == "172.17.0.2") & tcp & ports,
        "not arp": df.protocol != "arp",
        "tcp.flags.syn == 1 and tcp.flags.ack == 0": tcp & (df["flags"] == "S"),
        "iface == docker0 or iface == enp0s8": df.interface.isin(["docker0", "enp0s8"]),
        "udp": df.protocol == "udp",
        "icmp": df.protocol == "icmp",
        "ip.addr == 10.0.2.15": (df.src == "10.0.2.15") | (df.dst == "10.0.2.15"),
        "(iface == enp0s3 or iface == docker0) and not icmp": df.interface.isin(["enp0s3", "docker0"])
        & (df.protocol != "icmp"),
        "ip.dst != 172.17.0.2 and ip": df.dst.notna() & (df.dst != "172.17.0.2")
        & df.protocol.isin(["tcp", "udp", "icmp", "ip"]),
        "!(tcp.port == 80) && tcp": tcp & ~ports,
        "ip.addr == 172.17.0.0/16": df.src.astype(str).str.startswith("172.17.")
        | df.dst.astype(str).str.startswith("172.17."),
        "netns == web and ip.ttl < 64": (df.namespace == "web") & (df.ttl < 64).fillna(False),
    }
    return df.index[table[expr].astype("boolean").fillna(False).to_numpy(bool)].tolist()


@pytest.mark.parametrize("name", ["http", "ping", "udp"])
@pytest.mark.parametrize("expr", [
    "ip.src == 172.17.0.2 and tcp.port == 80", "not arp",
    "tcp.flags.syn == 1 and tcp.flags.ack == 0", "iface == docker0 or iface == enp0s8", "udp",
    "icmp", "ip.addr == 10.0.2.15", "(iface == enp0s3 or iface == docker0) and not icmp",
    "ip.dst != 172.17.0.2 and ip", "!(tcp.port == 80) && tcp", "ip.addr == 172.17.0.0/16",
    "netns == web and ip.ttl < 64"])
def test_learner_filters_agree_with_pandas(name: str, expr: str) -> None:
    _, cap = fresh(name)
    assert cap.numbers(expr) == _truth(cap.df, expr)


def test_draw_flow_says_when_it_shows_only_the_first_packets() -> None:
    from netlab.viz.flow import draw_flow

    _, cap = fresh("http")
    fig = draw_flow(cap, cap.numbers("tcp")[0], max_packets=4)
    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    assert any("the first 4 of 10 packets" in t for t in texts)
    no_text_overlaps(fig)


def test_annotate_from_a_dropped_packet_names_the_rule_that_dropped_it() -> None:
    from netlab.scenarios import RouteSpec, catalogue
    from netlab.sim import SimNet

    sc = catalogue.build("article", version="28")
    sc.node("client").routes.append(RouteSpec("172.17.0.0/16", "eth0", via="192.168.56.38"))
    j = SimNet(sc).probe("http", src="client", dst="172.17.0.2", dport=80)
    drop = [e for e in j.steps if e.kind == "drop"][-1]
    cap = j.capture
    matches = cap.annotate_from(j)
    last_seen = [e for e in _seen(j) if e.packet_id == drop.packet_id and e.seq < drop.seq][-1]
    n = matches[last_seen.seq]
    assert cap.df.loc[n, "interface"] == "enp0s8"
    assert drop.rule in cap.annotations[n].rule  # raw:PREROUTING:1
    dropped = {e.packet_id for e in j.steps if e.kind == "drop" and e.rule == drop.rule}
    assert len(dropped) == 2  # the SYN, and the SYN sent again a second later
    assert cap.numbers(f'rule contains "{drop.rule}"') == sorted(
        matches[e.seq] for e in _seen(j) if e.packet_id in dropped and e.iface == "enp0s8")
    assert cap.numbers("iface == docker0") == []  # dropped in raw: nothing reached docker0


def test_expert_finds_the_sims_retransmitted_syn_on_each_interface() -> None:
    from netlab.scenarios import catalogue
    from netlab.sim import SimNet

    j = SimNet(catalogue.build("docker-user-drop")).probe("tcp", src="client", dst="host",
                                                          dport=80, timeout=2.0)
    cap = j.capture
    found = cap.expert()
    syns = cap.numbers("tcp.flags.syn == 1")
    retx = found[found.tag == "retransmission"].number.tolist()
    # the second SYN on every interface that saw it, a second after the first
    by_if: dict[str, list[int]] = {}
    for n in syns:
        by_if.setdefault(cap.interface_names()[int(cap._raw.ifaces[n - 1])], []).append(n)
    assert sorted(retx) == sorted(ns[1] for ns in by_if.values() if len(ns) > 1)
    assert retx


def test_annotate_from_after_export_and_reload(tmp_path) -> None:
    j, _ = fresh("ping")
    cap = Capture.from_records(_records(j.capture))
    path = cap.to_pcapng(tmp_path / "ping.pcapng")
    again = load_capture(path)
    matches = again.annotate_from(j)
    assert len(matches) == len(again) == len(_seen(j))
    assert all(again.annotations[n].hop for n in range(1, len(again) + 1))


def test_draw_flow_with_long_interface_names() -> None:
    """A lab capture names interfaces with their namespace ("nl5f9a60-host/vethca38e86"):
    the column titles must not run into each other."""
    from netlab.viz.flow import draw_flow

    _, cap = fresh("http")
    long = Capture.from_records([(t, f"lab-a1b2c3d4-dockerhost-{ns}", name, data)
                                 for t, ns, name, data in _records(cap)])
    fig = draw_flow(long, long.numbers("tcp")[0])
    no_text_overlaps(fig)


def test_draw_flow_of_a_hairpin_crosses_the_veth_twice() -> None:
    """A container reaching its own published port (userland proxy off): the SYN goes out
    of the veth, is DNATed and MASQUERADEd on the bridge, and comes back in by the same veth."""
    from netlab.scenarios import catalogue
    from netlab.sim import SimNet
    from netlab.viz.flow import draw_flow

    j = SimNet(catalogue.build("hairpin"), capture_promisc=False).probe(
        "http", src="web", dst="10.0.2.15", dport=80)
    cap = j.capture
    fig = draw_flow(cap, cap.numbers("tcp")[0])
    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda a: a.__class__.__name__ == "Text")]
    veth = next(t for t in texts if t.startswith("host/veth") and "(" not in t)
    assert f"{veth} (2)" in texts and "web/eth0 (2)" in texts  # the way back, its own column
    assert "NAT: dst 10.0.2.15:80→172.17.0.2:80" in texts
    assert any(t.startswith("NAT: src 172.17.0.2:") and "→172.17.0.1:" in t for t in texts)
    no_text_overlaps(fig)
