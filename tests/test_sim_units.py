"""The simulator's parts on their own: routing, bridge, conntrack/NAT, neighbours."""

from __future__ import annotations

import random

from netlab.packet import Frame
from netlab.scenarios import catalogue, seed_host
from netlab.sim import SimNet
from netlab.sim.bridge import Bridge
from netlab.sim.conntrack import Conntrack
from netlab.sim.routing import Route, RoutingTable, ip_int, select_source


def table() -> RoutingTable:
    t = RoutingTable()
    t.add(Route(0, 0, "enp0s3", via="10.0.2.2", metric=100, scope="global", proto="static"))
    t.add(Route(0, 0, "enp0s8", via="192.168.56.254", metric=600, scope="global"))
    t.add_address("10.0.2.15", 24, "enp0s3")
    t.add_address("172.17.0.1", 16, "docker0")
    t.add_address("127.0.0.1", 8, "lo")
    t.add(Route(ip_int("172.17.5.0"), 24, "enp0s8", via="192.168.56.7", scope="global"))
    return t


def test_longest_prefix_then_lowest_metric():
    t = table()
    assert t.lookup("172.17.0.9").dev == "docker0"
    assert t.lookup("172.17.5.9").dev == "enp0s8"  # /24 beats /16
    assert t.lookup("8.8.8.8").via == "10.0.2.2"  # metric 100 beats 600
    assert t.lookup("8.8.8.8").text() == "default via 10.0.2.2 dev enp0s3 proto static metric 100"


def test_local_table_wins_for_own_addresses_and_loopback():
    t = table()
    r = t.lookup("172.17.0.1")
    assert (r.type, r.table) == ("local", "local")
    assert t.lookup("127.9.9.9").type == "local"  # all of 127/8 is local
    assert t.lookup("172.17.255.255").type == "broadcast"
    assert "table local" in r.text()


def test_source_selection():
    t = table()
    addrs = {"enp0s3": [("10.0.2.15", 24)], "docker0": [("172.17.0.1", 16)],
             "enp0s8": [("192.168.56.38", 24)]}
    assert select_source(t.lookup("8.8.8.8"), "8.8.8.8", addrs) == "10.0.2.15"
    assert select_source(t.lookup("172.17.0.3"), "172.17.0.3", addrs) == "172.17.0.1"


def test_bridge_learns_floods_and_ages():
    br = Bridge("docker0", "02:42:00:00:00:01")
    br.set_own_mac()
    for p in ("vethA", "vethB", "vethC"):
        br.add_port(p, None)
    assert br.learn("02:42:ac:11:00:02", "vethA", 0.0) == "learnt"
    assert br.learn("02:42:ac:11:00:02", "vethA", 1.0) is None
    assert br.learn("02:42:ac:11:00:02", "vethB", 2.0) == "moved"
    assert br.learn("ff:ff:ff:ff:ff:ff", "vethC", 2.0) is None  # never learn group MACs
    assert br.lookup("02:42:ac:11:00:02", 100.0).port == "vethB"
    assert br.lookup("02:42:ac:11:00:02", 303.0) is None  # aged out after 300 s
    assert br.flood_ports("vethA") == ["vethC", "vethB"]  # newest port first, as the kernel
    br.hairpin.add("vethA")
    assert br.flood_ports("vethA") == ["vethC", "vethB", "vethA"]
    assert br.lookup("02:42:00:00:00:01", 1e9).local


def test_masquerade_picks_another_port_on_a_clash():
    ct = Conntrack(random.Random(0))
    ms = []
    for src in ("172.17.0.2", "172.17.0.3"):
        f = Frame(proto="tcp", src=src, dst="203.0.113.10", sport=40000, dport=80, flags="S")
        m = ct.lookup(f, 0.0)
        assert m.new and m.state == "NEW"
        before, after = ct.set_nat(m, "MASQUERADE", "10.0.2.15", None)
        assert ct.confirm(m, 0.0)
        ms.append((before, after))
    assert ms[0] == ("172.17.0.2:40000", "10.0.2.15:40000")  # the port is kept when free
    assert ms[1][0] == "172.17.0.3:40000"
    ip, port = ms[1][1].split(":")
    assert ip == "10.0.2.15" and int(port) != 40000 and int(port) >= 1024


def test_reply_is_established_and_de_natted():
    ct = Conntrack(random.Random(0))
    f = Frame(proto="tcp", src="192.168.56.1", dst="192.168.56.38", sport=50000, dport=80, flags="S")
    m = ct.lookup(f, 0.0)
    ct.set_nat(m, "DNAT", "172.17.0.2", 80)
    assert Conntrack.manip(m, f, "dst") == ("192.168.56.38:80", "172.17.0.2:80")
    ct.confirm(m, 0.0)
    reply = Frame(proto="tcp", src="172.17.0.2", dst="192.168.56.1", sport=80, dport=50000, flags="SA")
    r = ct.lookup(reply, 0.0)
    assert (r.state, r.direction, r.new) == ("ESTABLISHED", 1, False)
    assert Conntrack.manip(r, reply, "src") == ("172.17.0.2:80", "192.168.56.38:80")
    ct.update(r, reply, 0.0)
    again = ct.lookup(f.copy(src="192.168.56.1", dst="192.168.56.38", flags="A"), 0.0)
    assert again.state == "ESTABLISHED" and again.direction == 0
    assert "SEEN_REPLY" in m.entry.status


def test_masquerade_clash_in_the_simulator():
    net = SimNet(catalogue.build("two-containers"))
    a = net.probe("tcp", src="web", dst="203.0.113.10", dport=80, sport=40000)
    b = net.probe("tcp", src="app", dst="203.0.113.10", dport=80, sport=40000)
    assert a.ok and b.ok, b.summary()
    out_a = next(e for e in a.seen("host", "enp0s3") if e.frame.flags == "S")
    out_b = next(e for e in b.seen("host", "enp0s3") if e.frame.flags == "S")
    assert out_a.frame.sport == 40000 and out_b.frame.sport != 40000
    assert out_a.frame.src == out_b.frame.src == "10.0.2.15"


def test_unknown_unicast_is_flooded_after_the_fdb_entry_ages():
    net = SimNet(catalogue.build("two-containers"))
    assert net.probe("ping", src="web", dst="app").ok
    j = net.probe("ping", src="web", dst="app")
    assert not [e for e in j.of_kind("fdb") if "unknown" in e.detail]
    net.advance(301)  # FDB entries age out after 300 s; the ARP caches keep their STALE entries
    j = net.probe("ping", src="web", dst="app")
    assert j.ok
    assert [e for e in j.of_kind("fdb") if "unknown: flood" in e.detail]
    assert [e for e in j.of_kind("fdb") if "learnt" in e.detail]
    assert not [e for e in j.seen() if e.frame.proto == "arp" and e.frame.arp_op == 1
                and e.frame.dst_mac == "ff:ff:ff:ff:ff:ff"]


def test_stale_neighbour_is_probed_with_unicast_arp_after_five_seconds():
    net = SimNet(seed_host())
    assert net.probe("ping", src="client", dst="host").ok
    net.advance(60)
    j = net.probe("ping", src="client", dst="host", count=7, timeout=2.0)
    probes = [e for e in j.seen("client", "eth0") if e.frame.proto == "arp" and e.direction == "out"]
    assert probes and probes[0].frame.dst_mac == "08:00:27:b3:56:07"  # unicast, to the cached MAC
    assert 5.0 <= probes[0].time < 6.0


def test_arping_gets_the_owner_mac():
    net = SimNet(seed_host())
    j = net.probe("arping", src="client", dst="192.168.56.38")
    assert j.outcome == "answered"
    assert j.replies[0].arp_sender_mac == "08:00:27:b3:56:07"


def test_udp_to_a_closed_port_gets_icmp_port_unreachable():
    net = SimNet(seed_host())
    j = net.probe("udp", src="client", dst="192.168.56.38", dport=9999)
    assert j.outcome == "rejected"
    icmp = next(e for e in j.seen("client", "eth0") if e.frame.proto == "icmp")
    assert (icmp.frame.icmp_type, icmp.frame.icmp_code) == (3, 3)
    assert icmp.frame.quoted.dport == 9999


def test_udp_echo_through_masquerade():
    net = SimNet(seed_host())
    j = net.probe("udp", src="web", dst="203.0.113.10", dport=7, payload="hello")
    assert j.outcome == "answered"
    assert j.replies[0].payload == b"hello" and j.replies[0].dst == "172.17.0.2"


def test_reject_with_tcp_reset_is_de_natted_to_the_published_address():
    sc = seed_host()
    sc.host.iptables = catalogue.insert_rule(
        sc.host.iptables, "filter", "DOCKER-USER",
        "-i enp0s8 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset")
    j = SimNet(sc).probe("tcp", src="client", dst="host", dport=80)
    assert j.outcome == "rejected"
    rst = next(e for e in j.seen("client", "eth0") if e.direction == "in" and e.frame.proto == "tcp")
    assert rst.frame.flags == "RA" and rst.frame.src == "192.168.56.38" and rst.frame.sport == 80


def test_no_route_from_the_client_to_the_container_network():
    j = SimNet(seed_host()).probe("ping", src="client", dst="172.17.0.2")
    assert j.outcome == "dropped" and j.reason == "network is unreachable (no route: ENETUNREACH)"
    assert not j.seen()


def test_state_numbers_interfaces_like_the_article():
    net = SimNet(seed_host())
    host = {link.name: link for link in net.state("host").links}
    web = {link.name: link for link in net.state("web").links}
    veth = host["vethca38e86"]
    # as `ip addr` printed it: "6: vethca38e86@if5: ... master docker0 ... link-netnsid 0"
    assert (veth.ifindex, veth.peer_ifindex, veth.peer_netnsid, veth.master) == (6, 5, 0, "docker0")
    assert (web["eth0"].ifindex, web["eth0"].peer_ifindex) == (5, 6)
    assert host["docker0"].ifindex == 4 and host["enp0s3"].kind == "physical"
    assert net.state("host").namespaces[0].ids == {0: "web"}


def test_random_probes_raise_only_probe_errors():
    from netlab.sim import ProbeError

    rng = random.Random(11)
    for name in ("two-containers", "hairpin", "published-on-localhost", "two-bridges"):
        sc = catalogue.build(name, version=rng.choice(["27", "28", "29"]))
        net = SimNet(sc, capture_promisc=rng.random() < 0.5)
        targets = list(sc.nodes) + [ip for n in sc.nodes.values() for ip in n.ips()] + ["8.8.8.8"]
        for _ in range(12):
            kind = rng.choice(["ping", "arping", "tcp", "http", "udp", "traceroute"])
            try:
                j = net.probe(kind, src=rng.choice(list(sc.nodes)), dst=rng.choice(targets),
                              dport=rng.choice([None, 80, 8080, 7]), ttl=rng.choice([None, 1, 64]))
            except ProbeError:
                continue
            assert j.outcome in ("answered", "rejected", "dropped", "timeout")
            assert j.signature()[-1] == ("outcome", j.outcome)


def test_traceroute_source_port_inside_the_probe_range_is_still_ephemeral() -> None:
    """A kernel may pick a source port such as 33519, inside 33434...: it is still a role."""
    from netlab.journey import Event, Journey
    from netlab.packet import Frame

    def journey(sport: int) -> Journey:
        f = Frame(proto="udp", src="172.17.0.2", dst="203.0.113.10", sport=sport, dport=33434, ttl=1)
        return Journey(probe={"kind": "traceroute"},
                       steps=[Event(1, "seen", "web", "udp", iface="eth0", direction="out", frame=f)])

    assert journey(33519).signature() == journey(40000).signature()
