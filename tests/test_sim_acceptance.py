"""Acceptance tests for the simulator (issue 4, "The simulator" and "What it must get
right"), written from the issue's text with other hosts, containers, ports and probes
than its examples: several containers on docker0 and on user networks, UDP and several
published ports, 127.0.0.1 publishing, hairpin, ICC off, --internal, ip_forward off,
DOCKER-USER, REJECT, ARP failure, FDB ageing, conntrack clashes, br_netfilter off,
the Journey API, determinism and bad input."""

from __future__ import annotations

import pytest

from netlab.scenarios import Container, Service, docker_host
from netlab.scenarios.catalogue import insert_rule
from netlab.sim import SimNet

VERSIONS = ("27", "28", "29")


def shop(version: str, seed: int = 3, **kw) -> SimNet:
    """A host with a shop on docker0 (two TCP ports and a UDP port published), a
    bystander on docker0 and two containers on a user network ``jobs``."""
    containers = [
        Container("shop", ports=["8000:80", "8443:443", "5353:53/udp"],
                  services=[Service("tcp", 80, "http"), Service("tcp", 443, "http"),
                            Service("udp", 53, "udp-echo")]),
        Container("tools", image="alpine"),
        Container("worker", image="alpine", network="jobs"),
        Container("queue", image="alpine", network="jobs", services=[Service("udp", 9000, "udp-echo"),
                                                                     Service("tcp", 6000, "tcp")]),
    ]
    return SimNet(docker_host(version, containers, networks=["jobs"], seed=seed, **kw))


def syns(j, node=None, iface=None):
    return [e for e in j.seen(node, iface) if e.frame.proto == "tcp" and e.frame.flags == "S"]


def last_drop(j):
    return j.of_kind("drop")[-1]


# ---------------------------------------------------------------- published ports
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("dport,cport", [(8000, 80), (8443, 443)])
def test_several_published_tcp_ports_reach_their_container_port(version, dport, cport):
    net = shop(version)
    j = net.probe("http", src="client", dst="host", dport=dport)
    assert j.outcome == "answered", j.summary()
    dnat = [e for e in j.nat_rewrites if e.rule]
    assert dnat and dnat[0].hook == "PREROUTING" and dnat[0].rule.startswith("nat:DOCKER:")
    assert (dnat[0].before, dnat[0].after) == (f"192.168.56.38:{dport}", f"172.17.0.2:{cport}")
    inside = syns(j, "shop", "eth0")
    assert [(e.frame.src, e.frame.dst, e.frame.dport, e.frame.ttl) for e in inside] == \
        [("192.168.56.1", "172.17.0.2", cport, 63)]
    # the answer leaves the LAN NIC from the published address and port
    sa = [e for e in j.seen("host", "enp0s8") if e.direction == "out" and e.frame.flags == "SA"]
    assert (sa[0].frame.src, sa[0].frame.sport) == ("192.168.56.38", dport)
    # the bystander on docker0 never sees the TCP conversation (the bridge knows the MAC)
    assert not [e for e in j.seen("tools") if e.frame.proto == "tcp"]


@pytest.mark.parametrize("version", VERSIONS)
def test_udp_published_port_is_dnatted_and_the_echo_de_natted(version):
    net = shop(version)
    j = net.probe("udp", src="client", dst="192.168.56.38", dport=5353, payload=b"query")
    assert j.outcome == "answered", j.summary()
    inside = [e for e in j.seen("shop", "eth0") if e.frame.proto == "udp" and e.direction == "in"]
    assert (inside[0].frame.dst, inside[0].frame.dport, inside[0].frame.payload) == ("172.17.0.2", 53, b"query")
    back = [e for e in j.seen("client", "eth0") if e.frame.proto == "udp" and e.direction == "in"]
    assert (back[0].frame.src, back[0].frame.sport) == ("192.168.56.38", 5353)
    assert j.replies and j.replies[0].payload == b"query"
    assert any(e.before == "192.168.56.38:5353" and e.after == "172.17.0.2:53" for e in j.nat_rewrites)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_port_nobody_published_over_udp_gets_icmp_port_unreachable_from_the_host(version):
    j = shop(version).probe("udp", src="client", dst="host", dport=5354)
    assert j.outcome == "rejected"
    assert j.reason == "ICMP port unreachable from 192.168.56.38"
    icmp = [e for e in j.seen("client", "eth0") if e.frame.proto == "icmp"]
    assert [(e.frame.icmp_type, e.frame.icmp_code) for e in icmp] == [(3, 3)]
    assert icmp[0].frame.quoted.dport == 5354


def test_closed_udp_port_in_a_container_answers_icmp_port_unreachable():
    j = shop("28").probe("udp", src="worker", dst="queue", dport=9001)
    assert j.outcome == "rejected" and "port unreachable" in j.reason
    err = [e for e in j.seen("worker", "eth0") if e.frame.proto == "icmp" and e.direction == "in"]
    assert err[0].frame.src == "172.18.0.3" and err[0].frame.quoted.dport == 9001
    # and the open one echoes
    j = shop("28").probe("udp", src="worker", dst="172.18.0.3", dport=9000)
    assert j.outcome == "answered"


@pytest.mark.parametrize("version", VERSIONS)
def test_closed_tcp_port_on_the_host_gets_rst(version):
    j = shop(version).probe("tcp", src="client", dst="host", dport=8080)
    assert j.outcome == "rejected" and "RST" in j.reason
    rst = [e for e in j.seen("client", "eth0") if e.direction == "in" and e.frame.proto == "tcp"]
    assert [e.frame.flags for e in rst] == ["RA"]


# ---------------------------------------------------------------- 127.0.0.1 publishing
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("proxy", [True, False])
def test_port_published_on_127_0_0_1_fails_from_the_client(version, proxy):
    sc = docker_host(version, [Container("admin", ports=["127.0.0.1:9090:80"]), Container("web", ports=["80:80"])],
                     userland_proxy=proxy, seed=8)
    j = SimNet(sc).probe("http", src="client", dst="192.168.56.38", dport=9090)
    assert not j.ok
    assert not [e for e in j.seen("admin") if e.frame.proto == "tcp"]
    assert not [e for e in j.nat_rewrites if e.rule]


@pytest.mark.parametrize("version", VERSIONS)
def test_127_0_0_1_publish_from_the_host_goes_through_docker_proxy(version):
    sc = docker_host(version, [Container("admin", ports=["127.0.0.1:9090:80"]), Container("web", ports=["80:80"])],
                     seed=8)
    j = SimNet(sc).probe("http", src="host", dst="127.0.0.1", dport=9090)
    assert j.outcome == "answered", j.summary()
    assert not [e for e in j.nat_rewrites if e.rule]  # no DNAT: a program relays
    assert any("docker-proxy accepted" in e.detail for e in j.of_kind("deliver"))
    # two connections: 127.0.0.1 → 127.0.0.1:9090 on lo, then 172.17.0.1 → 172.17.0.2:80
    front = syns(j, "host", "lo")
    back = syns(j, "admin", "eth0")
    assert [(e.frame.src, e.frame.dst, e.frame.dport) for e in front] == [("127.0.0.1", "127.0.0.1", 9090)]
    assert [(e.frame.src, e.frame.dst, e.frame.dport) for e in back] == [("172.17.0.1", "172.17.0.2", 80)]
    assert front[0].frame.sport != back[0].frame.sport
    body = [e for e in j.seen("host", "lo") if e.frame.payload.startswith(b"HTTP/1.0 200")]
    assert body


@pytest.mark.parametrize("version", VERSIONS)
def test_127_0_0_1_publish_from_the_host_without_proxy_is_dnat_in_output(version):
    sc = docker_host(version, [Container("admin", ports=["127.0.0.1:9090:80"])], userland_proxy=False, seed=8)
    assert sc.host.sysctls.get("net.ipv4.conf.docker0.route_localnet") == "1"
    j = SimNet(sc).probe("http", src="host", dst="127.0.0.1", dport=9090)
    assert j.outcome == "answered", j.summary()
    dnat = [e for e in j.nat_rewrites if e.rule and e.hook == "OUTPUT"]
    assert dnat and (dnat[0].before, dnat[0].after) == ("127.0.0.1:9090", "172.17.0.2:80")
    masq = [e for e in j.nat_rewrites if e.rule and e.hook == "POSTROUTING"]
    assert masq and masq[0].after.startswith("172.17.0.1:")
    inside = syns(j, "admin", "eth0")
    assert inside[0].frame.src == "172.17.0.1" and inside[0].frame.dst == "172.17.0.2"
    assert not [e for e in j.of_kind("deliver") if "docker-proxy" in e.detail]


@pytest.mark.parametrize("version", VERSIONS)
def test_udp_127_0_0_1_publish_is_relayed_by_docker_proxy(version):
    sc = docker_host(version, [Container("dns", ports=["127.0.0.1:5300:53/udp"])], seed=2)
    j = SimNet(sc).probe("udp", src="host", dst="127.0.0.1", dport=5300, payload=b"q?")
    assert j.outcome == "answered", j.summary()
    inside = [e for e in j.seen("dns", "eth0") if e.frame.proto == "udp"]
    assert [(e.direction, e.frame.src, e.frame.dst, e.frame.dport) for e in inside][:1] == \
        [("in", "172.17.0.1", "172.17.0.2", 53)]
    lo = [e for e in j.seen("host", "lo") if e.frame.proto == "udp"]
    assert [(e.frame.src, e.frame.sport) for e in lo][-1] == ("127.0.0.1", 5300)
    assert j.replies[0].payload == b"q?"


# ---------------------------------------------------------------- hairpin
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("via", ["192.168.56.38", "10.0.2.15"])
def test_hairpin_to_own_published_port_with_userland_proxy_off(version, via):
    sc = docker_host(version, [Container("shop", ports=["9000:8080"], services=[Service("tcp", 8080, "http")]),
                               Container("tools", image="alpine")], userland_proxy=False, seed=17)
    j = SimNet(sc, capture_promisc=False).probe("http", src="shop", dst=via, dport=9000)
    assert j.outcome == "answered", j.summary()
    out = syns(j, "shop", "eth0")[0]
    back = [e for e in syns(j, "shop", "eth0") if e.direction == "in"]
    assert (out.frame.dst, out.frame.dport) == (via, 9000)
    # DNAT to itself, MASQUERADE to the bridge address so the answer comes back through the host
    assert [(e.frame.src, e.frame.dst, e.frame.dport, e.frame.ttl) for e in back] == \
        [("172.17.0.1", "172.17.0.2", 8080, 64)]
    hooks = [(e.hook, e.rule.split(":")[0]) for e in j.nat_rewrites if e.rule]
    assert hooks == [("PREROUTING", "nat"), ("POSTROUTING", "nat")]
    # it never left the host
    assert not j.seen("client") and not j.seen("gateway")


# ---------------------------------------------------------------- containers to containers
@pytest.mark.parametrize("version", VERSIONS)
def test_containers_on_a_user_network_talk_through_its_bridge(version):
    net = shop(version)
    j = net.probe("udp", src="worker", dst="queue", dport=9000)
    assert j.outcome == "answered", j.summary()
    host_ifaces = {e.iface for e in j.seen("host")}
    assert host_ifaces and all(i.startswith(("veth", "br-")) for i in host_ifaces)
    assert not [e for e in j.of_kind("route") if e.node == "host"]
    assert {e.frame.ttl for e in j.seen() if e.frame.proto == "udp"} == {64}


@pytest.mark.parametrize("version,rule", [("27", "DOCKER-ISOLATION"), ("28", "raw:PREROUTING"),
                                          ("29", "raw:PREROUTING")])
def test_user_network_cannot_reach_docker0(version, rule):
    j = shop(version).probe("ping", src="worker", dst="shop", timeout=0.5)
    assert j.outcome == "dropped" and rule in last_drop(j).rule


@pytest.mark.parametrize("version", VERSIONS)
def test_icc_off_drops_container_to_container_on_docker0_and_on_a_user_network(version):
    sc = docker_host(version, [Container("a", image="alpine", services=[Service("tcp", 5000, "http")]),
                               Container("b", image="alpine"),
                               Container("c", image="alpine", network="n1", services=[Service("tcp", 5000, "http")]),
                               Container("d", image="alpine", network="n1")],
                     icc=False, networks=[{"name": "n1", "icc": False}], seed=5)
    net = SimNet(sc)
    for src, dst, bridge in (("b", "a", "docker0"), ("d", "c", "br-")):
        j = net.probe("tcp", src=src, dst=dst, dport=5000, timeout=0.5)
        assert j.outcome == "dropped", j.summary()
        d = last_drop(j)
        assert d.hook == "FORWARD" and d.rule.startswith("filter:")
        assert f"-i {bridge}" in d.detail and "-j DROP" in d.detail
        assert not [e for e in j.seen(dst) if e.frame.proto == "tcp"]
    # the gateway address (the host itself) is not another container: RST as usual
    j = net.probe("tcp", src="b", dst="172.17.0.1", dport=5000)
    assert j.outcome == "rejected"


@pytest.mark.parametrize("version", VERSIONS)
def test_br_netfilter_off_bridged_traffic_skips_iptables_even_with_icc_off(version):
    sc = docker_host(version, [Container("a", image="alpine", services=[Service("tcp", 5000, "http")]),
                               Container("b", image="alpine")], icc=False, seed=5)
    sc.host.sysctls["net.bridge.bridge-nf-call-iptables"] = "0"
    j = SimNet(sc).probe("http", src="b", dst="a", dport=5000)
    assert j.outcome == "answered", j.summary()
    assert not [e for e in j.of_kind("netfilter") if e.node == "host"]
    assert not [e for e in j.of_kind("conntrack") if e.node == "host"]
    # routed traffic still meets iptables: the container still gets out through MASQUERADE
    j = SimNet(sc).probe("ping", src="b", dst="203.0.113.10")
    assert j.outcome == "answered"
    assert [e for e in j.nat_rewrites if e.rule and e.rule.startswith("nat:POSTROUTING")]


# ---------------------------------------------------------------- internal networks
@pytest.mark.parametrize("version", VERSIONS)
def test_internal_network_has_no_egress(version):
    sc = docker_host(version, [Container("a", image="alpine", network="priv"),
                               Container("b", image="alpine", network="priv", services=[Service("tcp", 80, "http")]),
                               Container("w", ports=["80:80"])],
                     networks=[{"name": "priv", "internal": True}], seed=2)
    assert not [r for r in sc.node("a").routes if r.dst in ("default", "0.0.0.0/0")]
    net = SimNet(sc)
    for kind, dport in (("ping", None), ("tcp", 443), ("udp", 53)):
        j = net.probe(kind, src="a", dst="203.0.113.10", dport=dport, timeout=0.5)
        # no default route in the container: the send fails at once, nothing is on the wire
        assert j.outcome == "dropped" and j.reason == "network is unreachable (no route: ENETUNREACH)", j.summary()
        assert not j.seen()
    # inside the network all is well
    assert net.probe("http", src="a", dst="b", dport=80).outcome == "answered"
    # from docker0 into the internal network: Docker's isolation drops it
    j = net.probe("ping", src="w", dst="b", timeout=0.5)
    assert j.outcome == "dropped" and j.seen("host") and not j.seen("b")


# ---------------------------------------------------------------- ip_forward, DOCKER-USER, REJECT
@pytest.mark.parametrize("version", VERSIONS)
def test_ip_forward_off_stops_routed_traffic_but_not_bridged_or_local(version):
    sc = docker_host(version, [Container("shop", ports=["8088:80"]), Container("tools", image="alpine")],
                     ip_forward=False, seed=13)
    net = SimNet(sc)
    for kind, src, dst, dport in (("http", "client", "host", 8088), ("ping", "tools", "203.0.113.10", None),
                                  ("http", "gateway", "10.0.2.15", 8088)):
        j = net.probe(kind, src=src, dst=dst, dport=dport, timeout=1.5)
        assert j.outcome == "dropped" and "ip_forward" in j.reason, j.summary()
        # the kernel drops silently: no ICMP error goes back
        assert not [e for e in j.seen() if e.frame.proto == "icmp" and e.frame.icmp_type == 3]
    assert net.probe("ping", src="tools", dst="shop").outcome == "answered"  # bridged
    assert net.probe("http", src="host", dst="172.17.0.2", dport=80).outcome == "answered"  # local
    assert net.probe("ping", src="tools", dst="172.17.0.1").outcome == "answered"


@pytest.mark.parametrize("version", VERSIONS)
def test_docker_user_drop_only_for_the_source_it_names(version):
    sc = docker_host(version, [Container("shop", ports=["8088:80"]), Container("tools", image="alpine")], seed=13)
    sc.host.iptables = insert_rule(sc.host.iptables, "filter", "DOCKER-USER",
                                   "-s 172.17.0.3/32 -d 203.0.113.0/24 -j DROP")
    net = SimNet(sc)
    j = net.probe("ping", src="tools", dst="203.0.113.10", timeout=0.5)
    assert j.outcome == "dropped"
    assert last_drop(j).rule == "filter:DOCKER-USER:1" and last_drop(j).hook == "FORWARD"
    assert not j.seen("host", "enp0s3")
    assert net.probe("ping", src="shop", dst="203.0.113.10").outcome == "answered"
    assert net.probe("http", src="client", dst="host", dport=8088).outcome == "answered"


@pytest.mark.parametrize("version", VERSIONS)
def test_reject_rules_answer_with_rst_or_icmp(version):
    sc = docker_host(version, [Container("api", ports=["8000:8000"], services=[Service("tcp", 8000, "http")]),
                               Container("dns", ports=["53:53/udp"])], seed=9)
    host = sc.host
    host.iptables = insert_rule(host.iptables, "filter", "DOCKER-USER",
                                "-s 192.168.56.1/32 -p tcp -m tcp --dport 8000 -j REJECT --reject-with tcp-reset")
    host.iptables = insert_rule(host.iptables, "filter", "DOCKER-USER",
                                "-p udp -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable")
    host.iptables = insert_rule(host.iptables, "filter", "INPUT",
                                "-p tcp -m tcp --dport 22 -j REJECT --reject-with icmp-host-prohibited")
    net = SimNet(sc)
    j = net.probe("tcp", src="client", dst="host", dport=8000)
    assert j.outcome == "rejected" and "RST" in j.reason
    assert last_drop(j).rule == "filter:DOCKER-USER:2" and last_drop(j).hook == "FORWARD"
    rst = [e for e in j.seen("client", "eth0") if e.direction == "in" and e.frame.proto == "tcp"]
    # the RST is sent as the container would have answered, then de-NATed to the published address
    assert [(e.frame.src, e.frame.sport, e.frame.flags) for e in rst] == [("192.168.56.38", 8000, "RA")]
    assert not j.seen("api")
    j = net.probe("udp", src="client", dst="host", dport=53)
    assert j.outcome == "rejected" and j.reason == "ICMP port unreachable from 192.168.56.38"
    assert last_drop(j).rule == "filter:DOCKER-USER:1"
    j = net.probe("tcp", src="client", dst="192.168.56.38", dport=22)
    assert j.outcome == "rejected" and j.reason == "ICMP host prohibited from 192.168.56.38"
    icmp = [e for e in j.seen("client", "eth0") if e.frame.proto == "icmp"]
    assert [(e.frame.icmp_type, e.frame.icmp_code) for e in icmp] == [(3, 10)]
    # the gateway is not 192.168.56.1: its connection to the same port is answered
    assert net.probe("tcp", src="gateway", dst="10.0.2.15", dport=8000).outcome == "answered"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("proxy", [True, False])
def test_ports_published_from_a_user_network(version, proxy):
    sc = docker_host(version, [
        Container("api", ports=["8080:80", "9999:9999/udp"], network="front",
                  services=[Service("tcp", 80, "http"), Service("udp", 9999, "udp-echo")]),
        Container("db", image="redis", network="back", services=[Service("tcp", 6379, "tcp")]),
    ], networks=["front", "back"], userland_proxy=proxy, seed=4)
    net = SimNet(sc)
    bridge = next(i.name for i in sc.host.interfaces if i.kind == "bridge" and i.name.startswith("br-")
                  and any(a.startswith("172.18.") for a in i.addresses))
    j = net.probe("http", src="client", dst="host", dport=8080)
    assert j.outcome == "answered", j.summary()
    assert syns(j, "host", bridge) and not j.seen("host", "docker0")
    assert net.probe("udp", src="client", dst="host", dport=9999).outcome == "answered"
    j = net.probe("http", src="host", dst="127.0.0.1", dport=8080)
    assert j.outcome == "answered"
    assert any("docker-proxy" in e.detail for e in j.of_kind("deliver")) == proxy
    assert net.probe("udp", src="host", dst="127.0.0.1", dport=9999).outcome == "answered"
    assert net.probe("http", src="api", dst="10.0.2.15", dport=8080).outcome == "answered"
    # the two user networks are isolated from each other, but both get out
    assert net.probe("tcp", src="api", dst="db", dport=6379, timeout=0.5).outcome == "dropped"
    assert net.probe("ping", src="db", dst="203.0.113.10").outcome == "answered"


def test_longest_prefix_then_metric_decide_the_way_out_and_masquerade_follows_it():
    from netlab.scenarios import RouteSpec

    sc = docker_host("27", [Container("tools", image="alpine")], seed=2)
    sc.host.routes.append(RouteSpec("203.0.113.10/32", "enp0s8", via="192.168.56.1"))
    sc.host.routes.append(RouteSpec("203.0.113.0/24", "enp0s3", via="10.0.2.2", metric=50))
    net = SimNet(sc)
    j = net.probe("ping", src="tools", dst="203.0.113.10", timeout=1.0)
    routed = [e.route for e in j.of_kind("route") if e.node == "host"]
    assert routed and routed[0].startswith("203.0.113.10 via 192.168.56.1 dev enp0s8")
    out = [e for e in j.seen("host", "enp0s8") if e.frame.proto == "icmp"]
    # MASQUERADE takes the address of the interface the route chose, TTL one less
    assert [(e.frame.src, e.frame.ttl) for e in out] == [("192.168.56.38", 63)]
    assert not j.seen("host", "enp0s3")
    # the LAN client is no router: it drops the packet without a word
    assert j.outcome == "dropped" and "ip_forward is off" in j.reason and last_drop(j).node == "client"
    j = net.probe("ping", src="tools", dst="203.0.113.11", timeout=0.5)
    assert [e.route for e in j.of_kind("route") if e.node == "host"][0] == \
        "203.0.113.0/24 via 10.0.2.2 dev enp0s3 metric 50"


@pytest.mark.parametrize("version,rule", [("27", "filter:FORWARD:3"), ("28", "filter:DOCKER-CT:1"),
                                          ("29", "filter:DOCKER-CT:1")])
def test_icmp_error_from_the_internet_is_related_and_de_natted_inside_too(version, rule):
    j = SimNet(docker_host(version, [Container("tools", image="alpine")], seed=2)).probe(
        "udp", src="tools", dst="203.0.113.10", dport=9)
    assert j.outcome == "rejected" and j.reason == "ICMP port unreachable from 203.0.113.10"
    fwd = [e for e in j.of_kind("netfilter") if e.hook == "FORWARD" and e.frame.proto == "icmp"]
    assert "ctstate RELATED" in fwd[0].detail and fwd[0].rule == rule
    outside = [e for e in j.seen("host", "enp0s3") if e.frame.proto == "icmp"][0].frame
    inside = [e for e in j.seen("tools", "eth0") if e.frame.proto == "icmp"][0].frame
    assert (outside.dst, outside.quoted.src) == ("10.0.2.15", "10.0.2.15")
    assert (inside.dst, inside.quoted.src) == ("172.17.0.2", "172.17.0.2")
    assert inside.quoted.sport == outside.quoted.sport
    assert any("[UNREPLIED]" in c for c in j.conntrack_entries)


@pytest.mark.parametrize("version", VERSIONS)
def test_ttl_expiring_at_the_host_after_dnat_quotes_the_address_the_client_used(version):
    """The host DNATs the SYN, then finds its TTL spent: the time-exceeded error belongs
    to the (unconfirmed) connection, so its quoted packet is put back to
    192.168.56.38:8000 and the client's connect() fails at once (EHOSTUNREACH)."""
    net = SimNet(docker_host(version, [Container("shop", ports=["8000:80"])], seed=2))
    j = net.probe("tcp", src="client", dst="192.168.56.38", dport=8000, ttl=1, timeout=1.0)
    err = [e.frame for e in j.seen("client", "eth0") if e.frame.proto == "icmp"]
    assert [(f.src, f.icmp_type, f.quoted.dst, f.quoted.dport) for f in err] == \
        [("192.168.56.38", 11, "192.168.56.38", 8000)]
    assert j.outcome == "rejected" and j.reason == "ICMP time exceeded in transit from 192.168.56.38"
    assert not j.seen("shop")
