"""The simulator on Docker's rule sets: what each version's rules imply for the
same probes (issue 4), and the drills (ip_forward off, DOCKER-USER, 127.0.0.1)."""

from __future__ import annotations

import pytest

from netlab.scenarios import RouteSpec, catalogue
from netlab.sim import SimNet


def build(name: str, version: str = "27", **kw) -> SimNet:
    return SimNet(catalogue.build(name, version=version, **kw))


def drops(j):
    return [e for e in j.of_kind("drop")]


@pytest.mark.parametrize("version,dnat,accept", [
    ("27", "nat:DOCKER:2", "filter:DOCKER:1"),
    ("28", "nat:DOCKER:2", "filter:DOCKER:1"),
    ("29", "nat:DOCKER:1", "filter:DOCKER:1"),
])
def test_published_port_from_the_lan_per_version(version, dnat, accept):
    net = build("article", version)
    j = net.probe("http", src="client", dst="host", dport=80)
    assert j.outcome == "answered", j.summary()
    assert [e.rule for e in j.nat_rewrites if e.rule] == [dnat]
    syn_forward = next(e for e in j.of_kind("netfilter")
                       if e.hook == "FORWARD" and e.frame.flags == "S")
    assert syn_forward.rule == accept


@pytest.mark.parametrize("version", ["28", "29"])
def test_docker_forward_chain_carries_the_return_traffic(version):
    net = build("article", version)
    j = net.probe("http", src="client", dst="host", dport=80)
    sa = next(e for e in j.of_kind("netfilter") if e.hook == "FORWARD" and e.frame.flags == "SA")
    # replies leave docker0 through DOCKER-FORWARD's "-i docker0 -j ACCEPT" ...
    assert sa.rule == "filter:DOCKER-FORWARD:4"
    # ... and later packets to the container are accepted by DOCKER-CT (RELATED,ESTABLISHED)
    later = [e.rule for e in j.of_kind("netfilter") if e.hook == "FORWARD"
             and e.frame.dst == "172.17.0.2" and e.frame.flags != "S"]
    assert later and set(later) == {"filter:DOCKER-CT:1"}
    chains = {step.chain for e in j.of_kind("netfilter") if e.trace is not None
              for step in e.trace.step_list}
    assert "DOCKER-FORWARD" in chains


@pytest.mark.parametrize("version,outcome,rule", [
    ("27", "answered", None),  # before 28 a LAN host with a route could reach the container directly
    ("28", "dropped", "raw:PREROUTING:1"),
    ("29", "dropped", "raw:PREROUTING:1"),
])
def test_direct_access_to_the_container_address(version, outcome, rule):
    sc = catalogue.build("article", version=version)
    sc.node("client").routes.append(RouteSpec("172.17.0.0/16", "eth0", via="192.168.56.38"))
    j = SimNet(sc).probe("http", src="client", dst="172.17.0.2", dport=80)
    assert j.outcome == outcome, j.summary()
    if rule:
        assert drops(j)[-1].rule == rule and drops(j)[-1].hook == "PREROUTING"
        # dropped in raw, before conntrack: nothing reached docker0
        assert not j.seen("host", "docker0")
        assert not [e for e in j.of_kind("conntrack")]


def test_direct_access_to_an_unpublished_port_is_dropped_by_the_forward_policy():
    sc = catalogue.build("article", version="27")
    sc.node("client").routes.append(RouteSpec("172.17.0.0/16", "eth0", via="192.168.56.38"))
    j = SimNet(sc).probe("ping", src="client", dst="172.17.0.2")
    assert j.outcome == "dropped"
    assert drops(j)[-1].rule == "filter:FORWARD:policy"


@pytest.mark.parametrize("version", ["27", "28", "29"])
def test_containers_on_docker0_talk_through_the_bridge_without_routing(version):
    net = build("two-containers", version)
    j = net.probe("ping", src="app", dst="web")
    assert j.outcome == "answered", j.summary()
    host_routes = [e for e in j.of_kind("route") if e.node == "host"]
    assert host_routes == []  # the host never routed: the bridge switched the frames
    echo = [e for e in j.seen() if e.frame.proto == "icmp" and e.frame.icmp_type == 8]
    assert {e.frame.ttl for e in echo} == {64}  # no hop decremented the TTL
    ports = {e.iface for e in echo if e.node == "host" and e.iface.startswith("veth")}
    assert len(ports) == 2  # in by one veth, out by the other
    fwd = [e for e in j.of_kind("netfilter") if e.hook == "FORWARD"]
    if version == "27":
        # br_netfilter on (the pre-28 profile): the bridged frame met FORWARD with in=out=docker0
        assert fwd and "in=docker0 out=docker0" in fwd[0].detail
    else:
        # Docker 28/29 with icc and the userland proxy on do not load br_netfilter
        # (setupIPv4BridgeNetFiltering): the bridge switches without iptables
        assert fwd == []


def test_without_br_netfilter_bridged_frames_skip_iptables():
    sc = catalogue.build("icc-off", version="27")
    j = SimNet(sc).probe("ping", src="web", dst="app")
    assert j.outcome == "dropped" and drops(j)[-1].rule == "filter:FORWARD:6"
    sc = catalogue.build("icc-off", version="27")
    sc.host.sysctls["net.bridge.bridge-nf-call-iptables"] = "0"
    j = SimNet(sc).probe("ping", src="web", dst="app")
    assert j.outcome == "answered", j.summary()
    assert not [e for e in j.of_kind("netfilter") if e.node == "host"]


def test_ip_forward_off_drops_after_dnat():
    net = build("ip-forward-off")
    j = net.probe("http", src="client", dst="host", dport=80)
    assert j.outcome == "dropped"
    assert "ip_forward" in j.reason
    # DNAT still happened, for the SYN and for its retransmission (the first one's
    # conntrack entry was never confirmed, so the second is NEW again)
    assert [e.rule for e in j.nat_rewrites if e.rule] == ["nat:DOCKER:2", "nat:DOCKER:2"]
    assert not j.seen("host", "docker0")


def test_docker_user_drop_rule_stops_the_published_port():
    net = build("docker-user-drop")
    j = net.probe("http", src="client", dst="host", dport=80)
    assert j.outcome == "dropped"
    last = drops(j)[-1]
    assert last.rule == "filter:DOCKER-USER:1" and last.hook == "FORWARD"
    # DOCKER-USER sees the packet after DNAT: its destination is the container already
    assert last.frame.dst == "172.17.0.2"


@pytest.mark.parametrize("version", ["27", "28", "29"])
def test_port_published_on_localhost_is_not_reachable_from_the_lan(version):
    net = build("published-on-localhost", version)
    j = net.probe("http", src="client", dst="host", dport=8080)
    assert not j.ok, j.summary()
    assert not [e for e in j.seen("web") if e.frame.proto == "tcp"]


def test_port_published_on_localhost_is_reachable_from_the_host():
    net = build("published-on-localhost")
    j = net.probe("http", src="host", dst="127.0.0.1", dport=8080)
    assert j.outcome == "answered", j.summary()
    assert [e for e in j.seen("web", "eth0") if e.frame.proto == "tcp"]


def test_hairpin_with_userland_proxy_off_stays_on_the_bridge():
    net = build("hairpin")
    j = net.probe("http", src="web", dst="10.0.2.15", dport=80)
    assert j.outcome == "answered", j.summary()
    syn = [e for e in j.seen() if e.frame.proto == "tcp" and e.frame.flags == "S"]
    port = syn[1].iface
    back = [e for e in syn if e.iface == port and e.direction == "out"]
    assert back, "the SYN must leave by the port it came in on (hairpin)"
    assert back[0].frame.src == "172.17.0.1" and back[0].frame.ttl == 64  # MASQUERADEd, not routed
    rules = [e.rule for e in j.nat_rewrites if e.rule]
    assert rules[0].startswith("nat:DOCKER") and rules[1].startswith("nat:POSTROUTING")


def test_hairpin_without_hairpin_mode_is_dropped_by_the_bridge():
    sc = catalogue.build("hairpin")
    for i in sc.host.interfaces:
        i.hairpin = False
    j = SimNet(sc).probe("tcp", src="web", dst="10.0.2.15", dport=80)
    assert not j.ok
    assert any(e.reason == "bridge: no hairpin" for e in drops(j))


def test_two_user_bridges_are_isolated():
    net = build("two-bridges")
    j = net.probe("ping", src="web", dst="db")
    assert j.outcome == "dropped", j.summary()
    assert "DOCKER-ISOLATION-STAGE-2" in drops(j)[-1].rule


def test_internal_network_has_no_way_out():
    net = build("internal-network")
    j = net.probe("ping", src="db", dst="203.0.113.10")
    assert j.outcome == "dropped" and j.reason == "network is unreachable (no route: ENETUNREACH)"
    assert not j.seen()


def test_ping_to_the_gateway_is_answered_by_the_host():
    net = build("article")
    j = net.probe("ping", src="web", dst="172.17.0.1")
    assert j.outcome == "answered"
    assert any(e.node == "host" and e.kind == "deliver" for e in j.steps)


def test_localhost_publish_with_proxy_off_needs_route_localnet():
    from netlab.scenarios import Container, docker_host

    sc = docker_host("27", [Container("web", ports=["127.0.0.1:8080:80"])], userland_proxy=False)
    j = SimNet(sc).probe("http", src="host", dst="127.0.0.1", dport=8080)
    assert j.outcome == "answered", j.summary()
    masq = [e for e in j.nat_rewrites if e.rule and e.hook == "POSTROUTING"]
    assert masq and masq[0].after.startswith("172.17.0.1:")  # -o docker0 --src-type LOCAL
    sc.host.sysctls["net.ipv4.conf.docker0.route_localnet"] = "0"
    j = SimNet(sc).probe("http", src="host", dst="127.0.0.1", dport=8080)
    assert j.outcome == "dropped" and "route_localnet=0" in j.reason


@pytest.mark.parametrize("version,chain", [("27", "DOCKER-ISOLATION-STAGE-2"),
                                           ("28", "raw:PREROUTING"), ("29", "raw:PREROUTING")])
def test_two_user_bridges_are_isolated_per_version(version, chain):
    j = build("two-bridges", version).probe("ping", src="web", dst="db")
    assert j.outcome == "dropped" and chain in drops(j)[-1].rule


def test_a_dropped_syn_is_retransmitted_after_one_second():
    j = build("docker-user-drop").probe("tcp", src="client", dst="host", dport=80, timeout=2.0)
    syns = [e for e in j.seen("client", "eth0") if e.frame.proto == "tcp"]
    assert [e.frame.flags for e in syns] == ["S", "S"]
    assert syns[0].frame.seq == syns[1].frame.seq
    assert 0.99 <= syns[1].time - syns[0].time < 1.01


def test_a_promiscuous_capture_duplicates_bridged_dnat_hairpin_frames():
    """Under tcpdump (promiscuous docker0) the kernel also routes the bridge's local copy
    of a frame br_netfilter DNATed: the container gets a second, TTL-decremented copy.
    Without promiscuous capture there is no duplicate."""
    quiet = SimNet(catalogue.build("hairpin"), capture_promisc=False)
    j = quiet.probe("http", src="web", dst="10.0.2.15", dport=80)
    assert j.outcome == "answered"
    syn_in = [e for e in j.seen("web", "eth0") if e.direction == "in" and e.frame.flags == "S"]
    assert [e.frame.ttl for e in syn_in] == [64]
    loud = SimNet(catalogue.build("hairpin"), capture_promisc=True)
    j = loud.probe("http", src="web", dst="10.0.2.15", dport=80)
    assert j.outcome == "answered"
    syn_in = [e for e in j.seen("web", "eth0") if e.direction == "in" and e.frame.flags == "S"]
    assert [e.frame.ttl for e in syn_in] == [64, 63]
    # the duplicate still has the container's own address as source: dropped as martian
    assert syn_in[1].frame.src == "172.17.0.2"
    assert any("martian source" in (e.reason or "") for e in j.of_kind("drop") if e.node == "web")
