"""The simulator on the article's host (seed_host): the journeys issue 4 names."""

from __future__ import annotations

import pytest

from netlab.scenarios import seed_host
from netlab.sim import ProbeError, SimNet


@pytest.fixture
def net() -> SimNet:
    return SimNet(seed_host())


def first_seen(j, node, iface, direction, **match):
    for e in j.seen(node, iface):
        f = e.frame
        if e.direction == direction and all(getattr(f, k) == v for k, v in match.items()):
            return e
    raise AssertionError(f"nothing {direction} on {node}:{iface} matching {match}:\n{j.summary()}")


def test_http_get_from_lan_is_dnated_to_the_container(net):
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    assert j.outcome == "answered", j.summary()
    syn = dict(proto="tcp", flags="S")
    on_nic = first_seen(j, "host", "enp0s8", "in", **syn)
    assert (on_nic.frame.src, on_nic.frame.dst, on_nic.frame.dport) == ("192.168.56.1", "192.168.56.38", 80)
    sport = on_nic.frame.sport
    for node, iface, direction in (("host", "docker0", "out"), ("host", "vethca38e86", "out"),
                                   ("web", "eth0", "in")):
        e = first_seen(j, node, iface, direction, **syn)
        assert (e.frame.src, e.frame.sport) == ("192.168.56.1", sport)  # source unchanged
        assert (e.frame.dst, e.frame.dport) == ("172.17.0.2", 80)
        assert e.frame.ttl == on_nic.frame.ttl - 1
    sa_in = first_seen(j, "web", "eth0", "out", proto="tcp", flags="SA")
    assert (sa_in.frame.src, sa_in.frame.sport) == ("172.17.0.2", 80)
    sa_out = first_seen(j, "host", "enp0s8", "out", proto="tcp", flags="SA")
    assert (sa_out.frame.src, sa_out.frame.sport, sa_out.frame.dport) == ("192.168.56.38", 80, sport)
    dnat = [e for e in j.nat_rewrites if e.rule]
    assert dnat[0].rule == "nat:DOCKER:2" and dnat[0].hook == "PREROUTING"
    assert dnat[0].before == "192.168.56.38:80" and dnat[0].after == "172.17.0.2:80"
    accept = [e for e in j.of_kind("netfilter") if e.hook == "FORWARD" and e.frame.flags == "S"]
    assert accept[0].rule == "filter:DOCKER:1" and accept[0].verdict == "ACCEPT"
    # the response reaches the client with the published address as source
    resp = [e for e in j.seen("client", "eth0") if e.direction == "in" and e.frame.payload]
    assert resp and resp[0].frame.payload.startswith(b"HTTP/1.0 200")
    assert resp[0].frame.src == "192.168.56.38"
    # only the first packet met the nat table
    assert [e.rule for e in j.of_kind("nat") if e.rule] == ["nat:DOCKER:2"]


def test_http_journey_order_enp0s8_then_docker0_then_veth_then_eth0(net):
    j = net.probe("http", src="client", dst="host", dport=80)
    syn_hops = [(e.node, e.iface, e.direction) for e in j.seen()
                if e.frame.proto == "tcp" and e.frame.flags == "S"]
    assert syn_hops == [("client", "eth0", "out"), ("host", "enp0s8", "in"),
                        ("host", "docker0", "out"), ("host", "vethca38e86", "out"),
                        ("web", "eth0", "in")]


def test_ping_from_container_is_masqueraded_and_the_reply_de_natted(net):
    j = net.probe("ping", src="web", dst="203.0.113.10")
    assert j.outcome == "answered", j.summary()
    out = first_seen(j, "host", "enp0s3", "out", proto="icmp", icmp_type=8)
    assert out.frame.src == "10.0.2.15"
    masq = [e for e in j.nat_rewrites if e.rule]
    assert masq[0].verdict == "MASQUERADE" and masq[0].rule == "nat:POSTROUTING:1"
    back_in = first_seen(j, "host", "enp0s3", "in", proto="icmp", icmp_type=0)
    assert back_in.frame.dst == "10.0.2.15"
    back = first_seen(j, "web", "eth0", "in", proto="icmp", icmp_type=0)
    assert back.frame.dst == "172.17.0.2" and back.frame.src == "203.0.113.10"
    denat = [e for e in j.nat_rewrites if e.hook == "PREROUTING" and e.frame.icmp_type == 0]
    assert denat and denat[0].after == "172.17.0.2"


def test_unpublished_port_on_the_host_gets_rst(net):
    j = net.probe("tcp", src="client", dst="192.168.56.38", dport=8080)
    assert j.outcome == "rejected", j.summary()
    rst = first_seen(j, "host", "enp0s8", "out", proto="tcp")
    assert rst.frame.flags == "RA" and rst.frame.sport == 8080
    assert any("nothing listens on tcp port 8080" in (e.reason or "") for e in j.of_kind("drop"))
    # nothing was forwarded to the container
    assert not [e for e in j.seen("web") if e.frame.proto == "tcp"]


def test_first_packet_triggers_arp_and_the_second_probe_does_not(net):
    j1 = net.probe("ping", src="client", dst="host")
    arp = [e for e in j1.seen() if e.frame.proto == "arp"]
    assert [(e.node, e.iface, e.direction, e.frame.arp_op) for e in arp] == [
        ("client", "eth0", "out", 1), ("host", "enp0s8", "in", 1),
        ("host", "enp0s8", "out", 2), ("client", "eth0", "in", 2)]
    assert arp[0].frame.dst_mac == "ff:ff:ff:ff:ff:ff"
    # the echo request waited for the ARP reply
    first_icmp = next(i for i, e in enumerate(j1.seen()) if e.frame.proto == "icmp")
    assert first_icmp > 3
    j2 = net.probe("ping", src="client", dst="host")
    assert j2.outcome == "answered"
    assert not [e for e in j2.seen() if e.frame.proto == "arp"]


def test_container_arp_reply_teaches_the_bridge_its_mac(net):
    j = net.probe("http", src="client", dst="host", dport=80)
    learnt = [e for e in j.of_kind("fdb") if "learnt" in e.detail]
    assert learnt and learnt[0].iface == "vethca38e86"
    assert "02:42:ac:11:00:02" in learnt[0].detail


def test_same_seed_same_journey_and_signature():
    a = SimNet(seed_host()).probe("http", src="client", dst="host", dport=80)
    b = SimNet(seed_host()).probe("http", src="client", dst="host", dport=80)
    assert [(e.kind, e.node, e.iface, e.detail, e.time) for e in a.steps] == \
        [(e.kind, e.node, e.iface, e.detail, e.time) for e in b.steps]
    assert a.signature() == b.signature()
    sc = seed_host()
    sc.seed = 7
    c = SimNet(sc).probe("http", src="client", dst="host", dport=80)
    ports = {e.frame.sport for e in a.seen("client") if e.direction == "out" and e.frame.proto == "tcp"}
    ports_c = {e.frame.sport for e in c.seen("client") if e.direction == "out" and e.frame.proto == "tcp"}
    assert ports != ports_c  # another seed, another ephemeral port ...
    assert a.signature() == c.signature()  # ... which the normalisation takes out


def test_signature_names_mac_owners_and_ephemeral_roles(net):
    j = net.probe("http", src="client", dst="host", dport=80)
    sig = j.signature()
    syn = next(s for s in sig if s[0] == "seen" and s[4] == "tcp" and s[-1] == "S")
    assert syn[5:7] == ("client:eth0", "host:enp0s8")
    assert syn[8] == "eph1" and syn[10] == 80 and syn[11] == 64
    assert sig[-1] == ("outcome", "answered")


def test_capture_has_one_row_per_packet_seen(net):
    j = net.probe("http", src="client", dst="host", dport=80)
    assert j.capture is not None
    assert len(j.capture) == len(j.seen())
    df = j.capture.df
    assert set(df["interface"]) >= {"enp0s8", "docker0", "vethca38e86", "eth0"}
    row = df[(df["interface"] == "docker0") & (df["flags"] == "S")].iloc[0]
    assert row["dst"] == "172.17.0.2" and "nat:DOCKER:2" in row["comment"]


def test_traceroute_from_container_lists_each_router(net):
    j = net.probe("traceroute", src="web", dst="203.0.113.10")
    assert j.outcome == "answered", j.summary()
    assert j.probe["hops"] == ["172.17.0.1", "10.0.2.2", "203.0.113.10"]
    te = [e for e in j.seen("web", "eth0") if e.direction == "in" and e.frame.proto == "icmp"]
    assert [e.frame.icmp_type for e in te] == [11, 11, 3]
    # the gateway's error quoted the masqueraded probe; conntrack translated it back
    assert te[1].frame.dst == "172.17.0.2" and te[1].frame.quoted.src == "172.17.0.2"
    dports = [e.frame.dport for e in j.seen("web", "eth0") if e.direction == "out"
              and e.frame.proto == "udp"]
    assert dports == [33434, 33435, 33436]


def test_host_itself_reaches_the_published_port_via_nat_output(net):
    j = net.probe("http", src="host", dst="192.168.56.38", dport=80)
    assert j.outcome == "answered", j.summary()
    dnat = [e for e in j.nat_rewrites if e.rule]
    assert dnat[0].hook == "OUTPUT" and dnat[0].rule == "nat:DOCKER:2"


def test_host_to_loopback_goes_through_docker_proxy(net):
    j = net.probe("http", src="host", dst="127.0.0.1", dport=80)
    assert j.outcome == "answered", j.summary()
    assert any("docker-proxy" in e.detail for e in j.of_kind("deliver"))
    proxied = first_seen(j, "web", "eth0", "in", proto="tcp", flags="S")
    assert proxied.frame.src == "172.17.0.1"  # a new connection from the proxy
    assert not [e for e in j.nat_rewrites if e.rule]


def test_bad_probe_arguments_raise_clear_errors(net):
    with pytest.raises(ProbeError, match="unknown probe kind"):
        net.probe("smoke", src="client", dst="host")
    with pytest.raises(ProbeError, match="neither a node"):
        net.probe("ping", src="nobody", dst="host")
    with pytest.raises(ProbeError, match="owns"):
        net.probe("ping", src="8.8.8.8", dst="host")


def test_state_reports_conntrack_fdb_and_routes(net):
    net.probe("http", src="client", dst="host", dport=80)
    st = net.state("host")
    assert any(e.dnat and e.orig.dport == 80 for e in st.conntrack_entries)
    assert any(f.mac == "02:42:ac:11:00:02" and f.dev == "vethca38e86" for f in st.fdb)
    assert any(r.dst == "172.17.0.0/16" and r.dev == "docker0" for r in st.route_list)
    assert any(r.type == "local" and r.dst == "172.17.0.1" for r in st.route_list)
