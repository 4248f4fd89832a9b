"""Acceptance tests for the simulator's probes and what they return (issue 4):
traceroute, ping, arping, names and addresses, sport/ttl/count, a neighbour that
does not answer ARP, ARP cache reuse, FDB ageing, conntrack port clashes, the
Journey and Capture API (with the real tshark), determinism, bad input and
``netlab.connect`` as a new user meets it."""

from __future__ import annotations

import dataclasses
import itertools
import os
import subprocess

import pytest
from conftest import needs

import netlab
from netlab import mode
from netlab.errors import NetlabError
from netlab.scenarios import Container, Service, docker_host
from netlab.sim import ProbeError, SimNet

VERSIONS = ("27", "28", "29")


def yard(version: str = "28", seed: int = 3, **kw) -> SimNet:
    """shop (8000→80) and tools on docker0, worker and queue on the user network ``jobs``."""
    return SimNet(docker_host(version, [
        Container("shop", ports=["8000:80"]),
        Container("tools", image="alpine"),
        Container("worker", image="alpine", network="jobs"),
        Container("queue", image="alpine", network="jobs", services=[Service("udp", 9000, "udp-echo")]),
    ], networks=["jobs"], seed=seed, **kw))


def out_of(j, node, proto, direction="out", iface="eth0"):
    return [e for e in j.seen(node, iface) if e.direction == direction and e.frame.proto == proto]


# ---------------------------------------------------------------- traceroute, ping, arping
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("src,first", [("tools", "172.17.0.1"), ("worker", "172.18.0.1")])
def test_traceroute_from_a_container_lists_bridge_gateway_and_target(version, src, first):
    j = yard(version).probe("traceroute", src=src, dst="203.0.113.10")
    assert j.outcome == "answered", j.summary()
    assert j.probe["hops"] == [first, "10.0.2.2", "203.0.113.10"]
    sent = out_of(j, src, "udp")
    assert [e.frame.ttl for e in sent] == [1, 2, 3]
    answers = out_of(j, src, "icmp", direction="in")
    assert [(e.frame.src, e.frame.icmp_type, e.frame.icmp_code) for e in answers] == \
        [(first, 11, 0), ("10.0.2.2", 11, 0), ("203.0.113.10", 3, 3)]
    # the target's port unreachable comes back through MASQUERADE: it quotes the host's address
    last = [e for e in j.seen("host", "enp0s3") if e.direction == "in" and e.frame.proto == "icmp"][-1]
    assert last.frame.dst == "10.0.2.15" and last.frame.quoted.src == "10.0.2.15"
    assert answers[-1].frame.quoted.src == sent[-1].frame.src  # de-NATed inside the error too


@pytest.mark.parametrize("ttl,outcome,by", [(1, "rejected", "172.17.0.1"), (2, "rejected", "10.0.2.2"),
                                            (3, "answered", None)])
def test_ping_with_a_ttl_stops_at_that_hop(ttl, outcome, by):
    j = yard().probe("ping", src="tools", dst="internet", ttl=ttl)
    assert j.outcome == outcome
    assert out_of(j, "tools", "icmp")[0].frame.ttl == ttl
    if by:
        assert j.reason == f"ICMP time exceeded in transit from {by}"


def test_ping_count_sends_one_a_second_and_every_reply_comes_back():
    j = yard().probe("ping", src="tools", dst="203.0.113.10", count=4)
    assert j.outcome == "answered"
    assert [r.icmp_seq for r in j.replies] == [1, 2, 3, 4]
    times = [e.time for e in out_of(j, "tools", "icmp")]
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [1.0, 1.0, 1.0]
    # all four are one conntrack flow: MASQUERADE chose the source once
    assert len([e for e in j.nat_rewrites if e.rule]) == 1


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("src", ["tools", "worker"])
def test_ping_to_the_bridge_gateway_is_answered_by_the_host(version, src):
    gw = "172.17.0.1" if src == "tools" else "172.18.0.1"
    j = yard(version).probe("ping", src=src, dst=gw, count=2)
    assert j.outcome == "answered" and len(j.replies) == 2
    assert all(r.src == gw for r in j.replies)
    assert [e.node for e in j.of_kind("deliver") if "echo request" in e.detail] == ["host", "host"]
    assert not j.seen("host", "enp0s3")


def test_arping_a_container_from_another_gets_its_mac_through_the_bridge():
    net = yard()
    mac = next(i.mac for i in net.scenario.node("shop").interfaces if i.name == "eth0")
    j = net.probe("arping", src="tools", dst="shop", count=2)
    assert j.outcome == "answered"
    assert [r.arp_sender_mac for r in j.replies] == [mac, mac]
    assert all(r.arp_op == 2 for r in j.replies)
    # only ARP on the wire, and the host's bridge passed it (no routing, no iptables verdict)
    assert {e.frame.proto for e in j.seen()} == {"arp"}
    assert not j.of_kind("route")


def test_arping_a_silent_address_is_not_answered():
    j = yard().probe("arping", src="tools", dst="172.17.0.200", timeout=1.0)
    assert not j.ok and j.replies == []
    asks = [e for e in j.seen("tools", "eth0") if e.direction == "out"]
    assert asks and all(e.frame.arp_target_ip == "172.17.0.200" for e in asks)


def test_probes_by_node_name_and_by_address_take_the_same_path():
    by_name = yard().probe("http", src="client", dst="host", dport=8000)
    by_ip = yard().probe("http", src="192.168.56.1", dst="192.168.56.38", dport=8000)
    assert by_name.probe["dst_ip"] == "192.168.56.38" and by_name.probe["src_ip"] == "192.168.56.1"
    assert by_name.signature() == by_ip.signature()
    # a container by name is its address on the bridge
    j = yard().probe("ping", src="172.17.0.3", dst="shop")
    assert (j.probe["src_ip"], j.probe["dst_ip"]) == ("172.17.0.3", "172.17.0.2")
    # the host by name, from a container, is the address on the container's own bridge
    j = yard().probe("ping", src="worker", dst="host")
    assert j.probe["dst_ip"] == "172.18.0.1" and j.outcome == "answered"


def test_sport_and_ttl_of_a_tcp_probe_are_those_on_the_wire():
    j = yard().probe("tcp", src="client", dst="host", dport=8000, sport=41234, ttl=9)
    assert j.outcome == "answered"
    hops = [(e.node, e.iface, e.frame.sport, e.frame.ttl) for e in j.seen()
            if e.frame.proto == "tcp" and e.frame.flags == "S"]
    assert hops[0] == ("client", "eth0", 41234, 9)
    assert hops[-1] == ("shop", "eth0", 41234, 8)


# ---------------------------------------------------------------- neighbours, bridges, conntrack
@pytest.mark.parametrize("kind,dport", [("ping", None), ("tcp", 80), ("udp", 53)])
def test_unknown_address_on_a_connected_subnet_is_host_unreachable_after_three_arp_requests(kind, dport):
    j = yard().probe(kind, src="tools", dst="172.17.0.99", dport=dport, timeout=5.0)
    asks = [e for e in j.seen("tools", "eth0") if e.frame.proto == "arp" and e.direction == "out"]
    assert [round(e.time) for e in asks] == [0, 1, 2]  # retrans_time 1 s, mcast_solicit 3
    assert all(e.frame.dst_mac == "ff:ff:ff:ff:ff:ff" for e in asks)
    # no IP packet ever leaves: it waited in the neighbour queue and was dropped
    assert not [e for e in j.seen("tools", "eth0") if e.frame.proto != "arp"]
    # the kernel tells the sender through lo: "Destination Host Unreachable" / EHOSTUNREACH
    err = [e for e in j.seen("tools", "lo") if e.frame.proto == "icmp"]
    assert [(e.frame.src, e.frame.dst, e.frame.icmp_type, e.frame.icmp_code) for e in err] == \
        [("172.17.0.3", "172.17.0.3", 3, 1)]
    assert 3.0 <= err[0].time < 3.1
    assert j.outcome == "rejected" and j.reason == "ICMP host unreachable from 172.17.0.3"
    assert any("neighbour FAILED" in e.detail for e in j.of_kind("drop"))


def test_forwarded_packet_to_a_silent_neighbour_gets_host_unreachable_from_the_router():
    """The host routes the client's packet onto docker0; nobody owns the address, so
    after its own three ARP requests the host answers the client."""
    sc = docker_host("27", [Container("shop", ports=["8000:80"])], ip_forward_was_on=True, seed=3)
    sc.node("client").routes.append(netlab.scenarios.RouteSpec("172.17.0.0/16", "eth0", via="192.168.56.38"))
    j = SimNet(sc).probe("ping", src="client", dst="172.17.0.77", timeout=5.0)
    asks = [e for e in j.seen("host", "docker0") if e.frame.proto == "arp"]
    assert len(asks) == 3
    err = [e for e in j.seen("client", "eth0") if e.direction == "in" and e.frame.proto == "icmp"]
    assert [(e.frame.src, e.frame.icmp_type, e.frame.icmp_code) for e in err] == [("192.168.56.38", 3, 1)]
    assert j.outcome == "rejected" and "host unreachable" in j.reason


def test_second_probe_reuses_the_arp_cache():
    net = yard()
    first = net.probe("udp", src="worker", dst="queue", dport=9000)
    assert [e for e in first.seen() if e.frame.proto == "arp"]
    second = net.probe("udp", src="worker", dst="queue", dport=9000)
    assert second.outcome == "answered"
    assert not [e for e in second.seen() if e.frame.proto == "arp"]
    assert not [e for e in second.of_kind("arp") if "request" in e.detail]


def test_fdb_entries_age_out_after_300_seconds_and_unknown_unicast_floods_again():
    net = SimNet(docker_host("29", [Container(n, image="alpine", network="lab") for n in ("a", "b", "c")],
                             networks=["lab"], seed=21), capture_promisc=False)
    assert net.probe("ping", src="a", dst="b").ok
    net.advance(290)
    j = net.probe("ping", src="a", dst="b")
    assert j.ok and not j.seen("c")  # still known (and refreshed): only b's port
    assert not [e for e in j.of_kind("fdb") if "flood" in e.detail]
    net.advance(301)
    j = net.probe("ping", src="a", dst="b")
    assert j.ok
    # the ARP caches are still STALE (no broadcast), but the bridge forgot b's MAC: the
    # unicast echo request is flooded, so the bystander c sees a frame not meant for it
    flood = [e for e in j.of_kind("fdb") if "unknown: flood" in e.detail]
    assert flood
    seen_by_c = [e.frame for e in j.seen("c", "eth0")]
    assert [(f.proto, f.icmp_type, f.dst) for f in seen_by_c] == [("icmp", 8, "172.18.0.3")]
    assert not [e for e in j.seen() if e.frame.proto == "arp" and e.frame.dst_mac == "ff:ff:ff:ff:ff:ff"]
    # the reply taught the bridge again: the next echo is not flooded
    j = net.probe("ping", src="a", dst="b")
    assert not j.seen("c")


@pytest.mark.parametrize("proto,dport", [("udp", 7), ("tcp", 80)])
def test_masquerade_gives_the_second_container_another_port_on_a_clash(proto, dport):
    net = SimNet(docker_host("28", [Container(n, image="alpine") for n in ("a", "b", "c")], seed=1))
    outside, inside = [], []
    for src in ("a", "b", "c"):
        j = net.probe(proto, src=src, dst="203.0.113.10", dport=dport, sport=45000)
        assert j.outcome == "answered", j.summary()
        out = [e for e in j.seen("host", "enp0s3") if e.direction == "out" and e.frame.proto == proto][0]
        back = [e for e in j.seen(src, "eth0") if e.direction == "in" and e.frame.proto == proto][0]
        outside.append((out.frame.src, out.frame.sport))
        inside.append(back.frame.dport)
    assert outside[0] == ("10.0.2.15", 45000)  # the first keeps its port
    assert len(set(outside)) == 3 and all(ip == "10.0.2.15" for ip, _ in outside)
    assert all(1024 <= port <= 65535 for _, port in outside)
    assert inside == [45000, 45000, 45000]  # each reply de-NATed to its own container's port


# ---------------------------------------------------------------- Journey and Capture
CAPTURE_COLUMNS = ["time", "namespace", "interface", "src_mac", "dst_mac", "src", "dst", "protocol",
                   "sport", "dport", "flags", "ttl", "length", "summary", "comment"]
EVENT_COLUMNS = {"seq", "time", "kind", "node", "iface", "direction", "hook", "src", "dst", "proto",
                 "sport", "dport", "flags", "ttl", "rule", "verdict", "route", "before", "after",
                 "reason", "detail"}


def test_events_dataframe_and_summary_one_line_a_hop():
    j = yard("29").probe("http", src="client", dst="host", dport=8000)
    df = j.events
    assert EVENT_COLUMNS <= set(df.columns)
    assert len(df) == len(j.steps) and list(df["seq"]) == list(range(1, len(j.steps) + 1))
    assert set(df["kind"]) >= {"seen", "route", "netfilter", "nat", "conntrack", "fdb", "arp", "deliver"}
    lines = j.summary(detail=True).splitlines()
    assert lines[0] == "http client → host: answered"
    hop_lines = [line for line in lines[1:] if " seen " in line]
    assert len(hop_lines) == len(j.seen())  # one line per hop ...
    for e, line in zip(j.seen(), hop_lines, strict=True):  # ... in order, naming where it was seen
        assert f"{e.node}:{e.iface}" in line and e.frame.summary() in line
    assert any("DNAT 192.168.56.38:8000 → 172.17.0.2:80" in line for line in lines)


def test_capture_dataframe_has_the_issue_columns_one_row_per_packet_seen():
    j = yard("27").probe("ping", src="tools", dst="203.0.113.10")
    df = j.capture.df
    assert list(df.columns[:len(CAPTURE_COLUMNS)]) == CAPTURE_COLUMNS
    assert len(df) == len(j.seen())
    assert list(df.index) == list(range(1, len(df) + 1))
    for (_, row), e in zip(df.iterrows(), j.seen(), strict=True):
        assert (row["namespace"], row["interface"]) == (e.node, e.iface)
        assert row["src_mac"] == e.frame.src_mac and row["dst_mac"] == e.frame.dst_mac
        assert row["summary"] == e.frame.summary()
        assert row["comment"].startswith(f"packet {e.packet_id} hop ")
    out = df[(df.namespace == "host") & (df.interface == "enp0s3") & (df.protocol == "icmp")]
    assert list(out["src"])[0] == "10.0.2.15" and int(list(out["ttl"])[0]) == 63
    assert (df["length"] > 0).all() and (df["time"].diff().dropna() >= 0).all()


@needs("tshark")
def test_pcapng_comments_name_hop_hook_and_rule_for_tshark(tmp_path):
    j = yard("28").probe("http", src="client", dst="192.168.56.38", dport=8000)
    path = tmp_path / "shop.pcapng"
    j.capture.to_pcapng(str(path))
    run = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.interface_name",
                          "-e", "frame.comment", "-e", "ip.dst", "-e", "tcp.dstport"],
                         capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split("\t") for line in run.stdout.splitlines() if line.strip()]
    assert len(rows) == len(j.seen())
    assert {r[0] for r in rows} == {f"{e.node}/{e.iface}" for e in j.seen()}
    assert all(r[1].startswith("packet ") and " hop " in r[1] for r in rows)
    dnatted = [r for r in rows if r[0] == "host/docker0" and r[2] == "172.17.0.2" and r[3] == "80"]
    assert dnatted and "PREROUTING DNAT 192.168.56.38:8000→172.17.0.2:80 nat:DOCKER:" in dnatted[0][1]
    assert "FORWARD ACCEPT filter:DOCKER:" in dnatted[0][1]


# ---------------------------------------------------------------- determinism
def _flat(journeys):
    return [[(e.kind, e.node, e.iface, e.detail, e.time, e.rule,
              dataclasses.astuple(e.frame) if e.frame is not None else None) for e in j.steps]
            for j in journeys]


def _session(seed):
    net = yard("29", seed=seed)
    return net, [net.probe("http", src="client", dst="host", dport=8000),
                 net.probe("ping", src="tools", dst="203.0.113.10"),
                 net.probe("tcp", src="worker", dst="internet", dport=443)]


def test_same_seed_same_journeys_number_for_number():
    _, a = _session(11)
    _, b = _session(11)
    assert _flat(a) == _flat(b)
    assert a[0].capture.df.equals(b[0].capture.df)


def test_another_seed_changes_ports_macs_and_sequence_numbers_not_the_path():
    net_a, a = _session(11)
    net_b, b = _session(12)
    mac = {n.scenario.seed: next(i.mac for i in n.scenario.node("shop").interfaces if i.name == "eth0")
           for n in (net_a, net_b)}
    assert mac[11] != mac[12]
    first = [next(e.frame for e in j[0].seen("client", "eth0") if e.frame.flags == "S") for j in (a, b)]
    assert first[0].sport != first[1].sport and first[0].seq != first[1].seq
    for ja, jb in zip(a, b, strict=True):
        assert ja.outcome == jb.outcome
        assert [(e.kind, e.node) for e in ja.steps] == [(e.kind, e.node) for e in jb.steps]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,says", [
    (dict(kind="ping", src="nobody", dst="host"), "neither a node"),
    (dict(kind="ping", src="client", dst="shopp"), "neither a node"),
    (dict(kind="ping", src="client", dst="192.168.56.300"), "nor an IPv4 address"),
    (dict(kind="ping", src="10.9.9.9", dst="host"), "no node of scenario"),
    (dict(kind="curl", src="client", dst="host"), "use one of ping, arping, tcp, http, udp, traceroute"),
    (dict(kind="tcp", src="client", dst="host"), "needs dport="),
    (dict(kind="tcp", src="client", dst="host", dport=0), "dport must be a port number"),
    (dict(kind="udp", src="client", dst="host", dport=65536), "dport must be a port number"),
    (dict(kind="http", src="client", dst="host", dport="eighty"), "dport must be a port number"),
    (dict(kind="tcp", src="client", dst="host", dport=80, sport=-5), "sport must be a port number"),
    (dict(kind="ping", src="client", dst="host", ttl=0), "ttl must be"),
    (dict(kind="ping", src="client", dst="host", count=1000), "count must be"),
    (dict(kind="ping", src="client", dst="host", timeout=-1), "timeout must be"),
    (dict(kind="arping", src="tools", dst="172.17.0.3"), "own address"),
    (dict(kind="ping", src="tools", dst="172.17.255.255"), "is a broadcast address"),
    (dict(kind="udp", src="client", dst="255.255.255.255", dport=67), "is a broadcast address"),
    (dict(kind="ping", src="tools", dst="224.0.0.1"), "is multicast"),
    (dict(kind="tcp", src="tools", dst="0.0.0.0", dport=80), "unspecified"),
    (dict(kind="http", src="client", dst="::1"), "nor an IPv4 address"),
])
def test_bad_probe_input_is_a_clear_netlab_error(kwargs, says):
    net = yard()
    kind = kwargs.pop("kind")
    with pytest.raises(ProbeError, match=says) as info:
        net.probe(kind, **kwargs)
    assert isinstance(info.value, NetlabError)
    # a refused probe leaves the simulator usable, with nothing half-sent in it
    assert net.probe("http", src="client", dst="host", dport=8000).outcome == "answered"


def test_error_names_the_nodes_there_are():
    with pytest.raises(ProbeError) as info:
        yard().probe("ping", src="client", dst="webserver")
    for name in ("client", "host", "shop", "tools", "worker", "queue"):
        assert name in str(info.value)


# ---------------------------------------------------------------- netlab.connect as a new user
def test_connect_sim_prints_one_mode_line_naming_the_scenario(capsys):
    net = netlab.connect(mode="sim", scenario=docker_host("29", [Container("shop", ports=["8000:80"])]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("netlab: sim")
    assert "docker-29" in lines[0] and "mode='sim'" in lines[0]
    assert net.probe("http", src="client", dst="host", dport=8000).ok


@pytest.mark.parametrize("env", ["sim", "SIM", " sim "])
def test_netlab_mode_sim_is_honoured(monkeypatch, capsys, env):
    monkeypatch.setenv("NETLAB_MODE", env)
    monkeypatch.setattr(mode, "lab_possible", lambda: pytest.fail("NETLAB_MODE=sim must not try the lab"))
    assert netlab.connect().mode == "sim"
    assert "NETLAB_MODE=sim" in capsys.readouterr().out


def test_netlab_mode_lab_is_honoured(monkeypatch, capsys):
    built = []

    class FakeLab:
        mode = "lab"

        def __init__(self, scenario):
            self.scenario = scenario

        def up(self):
            built.append(self.scenario.name)
            return self

    import netlab.lab

    monkeypatch.setenv("NETLAB_MODE", "lab")
    monkeypatch.setattr(netlab.lab, "Lab", FakeLab)
    net = netlab.connect()
    assert net.mode == "lab" and built == ["seed-2018"]
    out = capsys.readouterr().out
    assert "lab — real network namespaces" in out and "NETLAB_MODE=lab" in out


@pytest.mark.parametrize("bad", ["simulator", "", "cloud", None])
def test_bad_mode_is_a_clear_error(bad):
    with pytest.raises(NetlabError, match="mode must be one of auto, sim, lab"):
        netlab.connect(mode=bad)


def test_bad_netlab_mode_variable_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("NETLAB_MODE", "kernel")
    with pytest.raises(NetlabError, match="NETLAB_MODE must be 'sim' or 'lab'"):
        netlab.connect()


def test_not_root_auto_falls_back_to_sim_and_says_why(monkeypatch, capsys):
    monkeypatch.delenv("NETLAB_MODE", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    net = netlab.connect("auto")
    assert net.mode == "sim"
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert "sim" in out and "no lab here: not root" in out


def test_not_root_lab_asked_for_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(NetlabError, match="mode='sim'"):
        netlab.connect("lab")


def test_connect_takes_a_catalogue_name_and_refuses_anything_else(capsys):
    assert netlab.connect("sim", "two-bridges", quiet=True).scenario.name.startswith("two-bridges")
    with pytest.raises(NetlabError, match="unknown scenario 'nowhere'"):
        netlab.connect("sim", "nowhere")
    with pytest.raises(NetlabError, match="scenario must be a netlab Scenario"):
        netlab.connect("sim", 42)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("version", VERSIONS)
def test_the_same_probe_with_the_same_sport_twice_opens_a_new_connection(version):
    """The server closed first and holds the four-tuple in TIME_WAIT; conntrack holds it
    in TIME_WAIT too.  A new SYN reopens both: the kernel kills the old conntrack entry,
    so the SYN is NEW again and is DNATed again, and the server answers SYN-ACK."""
    net = yard(version)
    first = net.probe("http", src="client", dst="host", dport=8000, sport=40000)
    second = net.probe("http", src="client", dst="host", dport=8000, sport=40000)
    assert first.outcome == second.outcome == "answered", second.summary()
    assert [e.rule for e in second.nat_rewrites if e.rule] == [e.rule for e in first.nat_rewrites if e.rule]
    syn_fwd = [e for e in second.of_kind("netfilter") if e.hook == "FORWARD" and e.frame.flags == "S"]
    assert "ctstate NEW" in syn_fwd[0].detail
    flags = [e.frame.flags for e in second.seen("shop", "eth0") if e.direction == "out"
             and e.frame.proto == "tcp"]
    assert flags[0] == "SA"


def test_traceroute_without_a_route_stops_before_any_hop():
    j = yard().probe("traceroute", src="client", dst="shop")  # the LAN has no route to 172.17/16
    assert j.outcome == "dropped" and j.reason == "network is unreachable (no route: ENETUNREACH)"
    assert j.probe["hops"] == [] and not j.seen()
    # within one bridge the target is the first hop
    assert yard().probe("traceroute", src="tools", dst="shop").probe["hops"] == ["172.17.0.2"]


def test_signature_places_each_flooded_arp_copy_after_the_port_that_sent_it():
    """The kernel may stamp a namespace's copy of a flooded ARP request before or after
    the bridge reaches its next port; the signature puts it right after its own port."""
    import copy

    from netlab.scenarios import catalogue

    j = SimNet(catalogue.build("two-containers")).probe("ping", src="app", dst="web")
    steps = j.steps
    req = [k for k, e in enumerate(steps) if e.kind == "seen" and e.frame.proto == "arp"
           and e.frame.arp_op == 1 and e.node == "web"]
    assert req, j.summary()
    late = copy.copy(j)
    moved = list(steps)
    e = moved.pop(req[0])
    after = next(k for k, x in enumerate(moved) if x.kind == "seen" and x.node == "web"
                 and x.direction == "out")  # only the causal limit: before web's own reply
    moved.insert(after, e)
    late.steps = moved
    assert [x.seq for x in late.steps] != [x.seq for x in j.steps]
    assert late.signature() == j.signature()
    # but a copy is never placed before its port sent it
    sig = j.signature()
    port = next(k for k, s in enumerate(sig) if s[:4] == ("seen", "host", net_port(j, "web"), "out")
                and s[4] == "arp")
    assert sig[port + 1][:4] == ("seen", "web", "eth0", "in")


def net_port(j, node):
    """The host-side veth of ``node``'s eth0."""
    return j.scenario.peer(node, "eth0")[1]


_RUN = """
import dataclasses, hashlib
from netlab.scenarios import Container, docker_host
from netlab.sim import SimNet
net = SimNet(docker_host("29", [Container("shop", ports=["8000:80"]), Container("tools", image="alpine"),
                                Container("worker", image="alpine", network="jobs")], networks=["jobs"], seed=7))
rows = []
for kind, src, dst, dport in (("http", "client", "192.168.56.38", 8000), ("traceroute", "worker", "internet", None),
                              ("udp", "tools", "203.0.113.10", 7), ("ping", "tools", "shop", None)):
    j = net.probe(kind, src=src, dst=dst, dport=dport)
    rows.append(repr([(e.kind, e.node, e.iface, e.detail, e.time,
                       dataclasses.astuple(e.frame) if e.frame else None) for e in j.steps]))
print(hashlib.sha256("\\n".join(rows).encode()).hexdigest())
"""


def test_same_seed_same_journeys_in_another_process():
    """Nothing depends on Python's per-process hash seed: a lesson shows the same
    ports, sequence numbers and MACs every time it is run."""
    import sys

    digests = set()
    for hashseed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        run = subprocess.run([sys.executable, "-c", _RUN], capture_output=True, text=True,
                             timeout=120, env=env, check=True)
        digests.add(run.stdout.strip())
    assert len(digests) == 1 and len(next(iter(digests))) == 64


def test_unanswered_syns_are_resent_one_second_apart_then_with_backoff():
    """Linux 6.5+ (``net.ipv4.tcp_syn_linear_timeouts=4``): four resends one RTO apart,
    then the RTO doubles."""
    from netlab.scenarios import catalogue

    j = SimNet(catalogue.build("docker-user-drop", version="29")).probe(
        "tcp", src="client", dst="192.168.56.38", dport=80, timeout=8.0)
    times = [e.time for e in j.seen("client", "eth0") if e.frame.proto == "tcp"]
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [1.0, 1.0, 1.0, 1.0, 1.0, 2.0]
    assert j.outcome == "dropped" and last_drop_rule(j) == "filter:DOCKER-USER:1"


def last_drop_rule(j):
    return j.of_kind("drop")[-1].rule


@pytest.mark.parametrize("version", VERSIONS)
def test_ping_the_hosts_default_gateway_from_a_container(version):
    j = yard(version).probe("ping", src="worker", dst="gateway", count=2)
    assert j.outcome == "answered" and j.probe["dst_ip"] == "10.0.2.2"
    assert [r.src for r in j.replies] == ["10.0.2.2", "10.0.2.2"]
    out = [e.frame for e in j.seen("host", "enp0s3") if e.frame.proto == "icmp" and e.direction == "out"]
    assert {(f.src, f.ttl) for f in out} == {("10.0.2.15", 63)}  # MASQUERADE, one hop
    assert [e.node for e in j.of_kind("deliver") if "echo request" in e.detail] == ["gateway", "gateway"]
