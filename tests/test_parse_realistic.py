"""Acceptance tests written from the issue's text, with other hosts and pastes than the
article's: an Ubuntu Docker host with user-defined networks, several containers, and
output captured from this kernel's iproute2 (``real-*`` files in tests/data/pastes).
"""

from __future__ import annotations

import pytest
from _pastes import paste

import netlab
from netlab import ParseError
from netlab.parse import (
    parse_brctl_show,
    parse_bridge_fdb,
    parse_bridge_link,
    parse_conntrack,
    parse_docker_network_inspect,
    parse_ip_addr,
    parse_ip_json,
    parse_ip_link,
    parse_ip_route,
    parse_iptables_text,
    parse_sysctl,
)

UBUNTU_HOST = """\
user@docker-host:~$ ip addr
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
    inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever
2: ens160: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP group default qlen 1000
    link/ether 00:50:56:a3:1f:9c brd ff:ff:ff:ff:ff:ff
    altname enp3s0
    inet 192.168.10.25/24 metric 100 brd 192.168.10.255 scope global dynamic ens160
       valid_lft 85312sec preferred_lft 85312sec
    inet6 fe80::250:56ff:fea3:1f9c/64 scope link \n       valid_lft forever preferred_lft forever
3: docker0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \n    link/ether 02:42:9a:1c:4e:07 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
       valid_lft forever preferred_lft forever
4: br-5f1c2a7b9d3e: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \n    link/ether 02:42:c1:0d:77:5a brd ff:ff:ff:ff:ff:ff
    inet 172.18.0.1/16 brd 172.18.255.255 scope global br-5f1c2a7b9d3e
       valid_lft forever preferred_lft forever
    inet6 fe80::42:c1ff:fe0d:775a/64 scope link \n       valid_lft forever preferred_lft forever
5: br-a0b1c2d3e4f5: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \n    link/ether 02:42:3e:88:19:b4 brd ff:ff:ff:ff:ff:ff
    inet 172.19.0.1/16 brd 172.19.255.255 scope global br-a0b1c2d3e4f5
       valid_lft forever preferred_lft forever
7: veth1a2b3c4@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br-5f1c2a7b9d3e state UP group default \n    link/ether 86:2f:aa:10:4c:e1 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet6 fe80::842f:aaff:fe10:4ce1/64 scope link \n       valid_lft forever preferred_lft forever
9: vethd4e5f60@if8: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br-5f1c2a7b9d3e state UP group default \n    link/ether 5e:71:02:bd:9a:33 brd ff:ff:ff:ff:ff:ff link-netnsid 1
    inet6 fe80::5c71:2ff:febd:9a33/64 scope link \n       valid_lft forever preferred_lft forever
11: veth77ab001@if10: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master br-5f1c2a7b9d3e state UP group default \n    link/ether d2:0e:4b:61:f7:08 brd ff:ff:ff:ff:ff:ff link-netnsid 2
    inet6 fe80::d00e:4bff:fe61:f708/64 scope link \n       valid_lft forever preferred_lft forever
"""

CONTAINERS = """\
root@docker-host:~# docker exec shop-web-1 ip addr
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
6: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \n    link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0
       valid_lft forever preferred_lft forever
root@docker-host:~# docker exec shop-db-1 ip addr
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
8: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \n    link/ether 02:42:ac:12:00:03 brd ff:ff:ff:ff:ff:ff link-netnsid 0
    inet 172.18.0.3/16 brd 172.18.255.255 scope global eth0
       valid_lft forever preferred_lft forever
"""


# ------------------------------------------------------------------ ip addr
def test_ubuntu_docker_host_ip_addr():
    state = parse_ip_addr(UBUNTU_HOST)
    assert state.hostname == "docker-host"
    kinds = {link.name: link.kind for link in state.links}
    assert kinds == {"lo": "loopback", "ens160": "physical", "docker0": "bridge",
                     "br-5f1c2a7b9d3e": "bridge", "br-a0b1c2d3e4f5": "bridge",
                     "veth1a2b3c4": "veth", "vethd4e5f60": "veth", "veth77ab001": "veth"}
    ens = state.link("ens160")
    assert (ens.ifindex, ens.mac, ens.mtu, ens.state) == (2, "00:50:56:a3:1f:9c", 1500, "UP")
    assert state.link("docker0").state == "DOWN" and "NO-CARRIER" in state.link("docker0").flags
    (dhcp,) = state.addresses_of("ens160", family=4)
    assert (dhcp.cidr, dhcp.broadcast, dhcp.scope) == ("192.168.10.25/24", "192.168.10.255",
                                                       "global")
    assert "dynamic" in dhcp.flags
    (v6,) = state.addresses_of("ens160", family=6)
    assert (v6.address, v6.prefixlen, v6.scope) == ("fe80::250:56ff:fea3:1f9c", 64, "link")
    for name, peer, nsid in (("veth1a2b3c4", 6, 0), ("vethd4e5f60", 8, 1), ("veth77ab001", 10, 2)):
        link = state.link(name)
        assert (link.master, link.peer_ifindex, link.peer_netnsid) == ("br-5f1c2a7b9d3e", peer, nsid)
    ports = state.bridge_ports
    assert sorted(ports[ports.bridge == "br-5f1c2a7b9d3e"].port) == [
        "veth1a2b3c4", "veth77ab001", "vethd4e5f60"]
    assert ports[ports.bridge == "br-a0b1c2d3e4f5"].empty  # a network with no container yet
    assert {b.name for b in state.bridges} >= {"docker0", "br-5f1c2a7b9d3e", "br-a0b1c2d3e4f5"}


def test_host_and_two_containers_join_across_namespaces():
    state = netlab.parse_host(UBUNTU_HOST, CONTAINERS)
    host = state.namespace("")
    assert host.ids[0] == "shop-web-1" and host.ids[1] == "shop-db-1"
    assert 2 not in host.ids  # that container's paste is missing: stays a netnsid
    web_eth0 = state.link("eth0", "shop-web-1")
    assert state.peer_of(state.link("veth1a2b3c4")) is web_eth0
    assert state.peer_of(web_eth0) is state.link("veth1a2b3c4")
    assert state.peer_of(state.link("eth0", "shop-db-1")).name == "vethd4e5f60"
    g = state.graph()
    peers = {frozenset((a, b)) for a, b, r in g.edges(data="relation") if r == "veth-peer"}
    assert frozenset({("if", "", "veth1a2b3c4"), ("if", "shop-web-1", "eth0")}) in peers
    assert frozenset({("if", "", "vethd4e5f60"), ("if", "shop-db-1", "eth0")}) in peers
    # the third veth's peer is not in any paste: a placeholder, "ifindex 10 in netnsid 2"
    assert frozenset({("if", "", "veth77ab001"), ("if", "netnsid 2", "if10")}) in peers
    assert g.nodes[("if", "netnsid 2", "if10")]["placeholder"] is True
    assert g.edges[("if", "", "veth1a2b3c4"), ("if", "", "br-5f1c2a7b9d3e")]["relation"] == \
        "enslaved"
    assert g.edges[("if", "shop-web-1", "eth0"), ("netns", "shop-web-1")]["relation"] == \
        "in-namespace"
    assert g.nodes[("if", "", "br-5f1c2a7b9d3e")]["type"] == "bridge"
    view = state.interfaces.set_index(["netns", "name"])
    assert view.loc[("", "veth1a2b3c4"), "peer"] == "eth0@shop-web-1"
    assert view.loc[("shop-web-1", "eth0"), "peer"] == "veth1a2b3c4@host"
    assert view.loc[("", "veth77ab001"), "peer"] == "if10@netnsid 2"
    assert view.loc[("shop-db-1", "eth0"), "addresses"] == "172.18.0.3/16"


def test_real_ip_addr_and_colour_give_the_same_state():
    plain = parse_ip_addr(paste("real-ip-addr-ns.txt"))
    colour = netlab.parse_host(paste("real-ip-c-addr-ns.txt"))
    assert "\x1b[" in paste("real-ip-c-addr-ns.txt")
    assert plain.links == colour.links and plain.addrs == colour.addrs
    # `link-netns NAME` (ip -n): the peer's namespace is named, not numbered
    veth = plain.link("vethaaa1111")
    assert (veth.peer_ifindex, veth.peer_netns, veth.peer_netnsid) == (2, "h2t-c1", None)
    assert plain.interfaces.set_index("name").loc["vethaaa1111", "peer"] == "if2@h2t-c1"
    # a pair inside one namespace, named by name (vethccc@vethccc-p)
    a, b = plain.link("vethccc"), plain.link("vethccc-p")
    assert plain.peer_of(a) is b and plain.peer_of(b) is a
    assert a.state == "LOWERLAYERDOWN" and b.state == "DOWN"


def test_real_ip_d_link_details():
    state = parse_ip_link(paste("real-ip-d-link-ns.txt"))
    drivers = {link.name: link.driver for link in state.links}
    assert drivers["br0"] == "bridge" and drivers["vethaaa1111"] == "veth"
    assert drivers["ens3"] == "veth"  # named like a NIC, but -d says what it is
    assert state.link("ens3").kind == "veth"
    ports = {p.port: p for p in state.ports}
    assert ports["vethbbb2222"].hairpin is True and ports["vethaaa1111"].hairpin is False
    assert (ports["vethccc"].bridge, ports["vethccc"].state) == ("br0", "disabled")
    assert (ports["vethaaa1111"].state, ports["vethaaa1111"].priority,
            ports["vethaaa1111"].cost) == ("forwarding", 32, 2)
    assert not state.addrs


def test_brief_addr_in_colour():
    state = netlab.parse_host(paste("real-ip-c-br-addr-ns.txt"))
    assert state.link("br-0123456789ab").state == "UP"
    lo = {a.address: a.scope for a in state.addresses_of("lo")}
    assert lo == {"127.0.0.1": "host", "::1": "host"}
    assert [a.cidr for a in state.addresses_of("ens3")][:2] == ["198.51.100.5/24",
                                                                "2001:db8::1/64"]


# ------------------------------------------------------------------ ip route
UBUNTU_ROUTES = """\
ubuntu@ip-172-31-5-10:~$ ip route
default via 172.31.0.1 dev eth0 proto dhcp src 172.31.5.10 metric 100 \n172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown \n172.18.0.0/16 dev br-5f1c2a7b9d3e proto kernel scope link src 172.18.0.1 \n172.31.0.0/20 dev eth0 proto kernel scope link src 172.31.5.10 metric 100 \n172.31.0.2 dev eth0 proto dhcp scope link src 172.31.5.10 metric 100 \n203.0.113.0/24 via 172.31.0.9 dev eth0 proto static onlink \nblackhole 10.99.0.0/16 proto static \nunreachable 10.98.0.0/16 \nubuntu@ip-172-31-5-10:~$ ip -6 route show table all
::1 dev lo proto kernel metric 256 pref medium
default via fe80::1 dev eth0 proto ra metric 100 expires 1794sec mtu 9001 hoplimit 255 pref medium
local ::1 dev lo table local proto kernel metric 0 pref medium
multicast ff00::/8 dev eth0 table local proto kernel metric 256 pref medium
unreachable default dev lo table unspec proto kernel metric 4294967295 error -101 pref medium
"""


def test_ubuntu_routes():
    state = netlab.parse_host(UBUNTU_ROUTES)
    assert state.hostname == "ip-172-31-5-10"
    r = {(x.family, x.table, x.type, x.dst): x for x in state.route_list}
    default = r[(4, "main", "unicast", "default")]
    assert (default.gateway, default.dev, default.protocol, default.src, default.metric) == (
        "172.31.0.1", "eth0", "dhcp", "172.31.5.10", 100)
    docker0 = r[(4, "main", "unicast", "172.17.0.0/16")]
    assert docker0.flags == ["linkdown"] and docker0.scope == "link"
    assert r[(4, "main", "unicast", "172.31.0.2/32")].protocol == "dhcp"
    onlink = r[(4, "main", "unicast", "203.0.113.0/24")]
    assert (onlink.gateway, onlink.flags, onlink.protocol) == ("172.31.0.9", ["onlink"], "static")
    assert r[(4, "main", "blackhole", "10.99.0.0/16")].dev is None
    assert (4, "main", "unreachable", "10.98.0.0/16") in r
    v6 = r[(6, "main", "unicast", "default")]
    assert (v6.gateway, v6.protocol, v6.metric) == ("fe80::1", "ra", 100)
    assert r[(6, "local", "local", "::1/128")].dev == "lo"
    assert r[(6, "local", "multicast", "ff00::/8")].dev == "eth0"
    # "unreachable default ... pref medium" is IPv6's catch-all, not an IPv4 default
    assert r[(6, "unspec", "unreachable", "default")].metric == 4294967295
    assert (4, "unspec", "unreachable", "default") not in r
    frame = state.routes
    main4 = frame[(frame.table == "main") & (frame.family == 4)]
    assert main4.set_index("dst").loc["default", "metric"] == 100


def test_real_route_table_all_with_local_and_broadcast():
    state = parse_ip_route(paste("real-ip-route-table-all-ns.txt"))
    r = {(x.table, x.type, x.dst, x.dev): x for x in state.route_list}
    bcast = r[("local", "broadcast", "172.20.255.255/32", "br-0123456789ab")]
    assert (bcast.src, bcast.scope, bcast.protocol) == ("172.20.0.1", "link", "kernel")
    assert r[("local", "local", "127.0.0.0/8", "lo")].scope == "host"
    assert r[("main", "unicast", "10.9.0.0/24", "vethccc")].flags == ["linkdown"]
    assert r[("main", "unicast", "203.0.113.0/24", "ens3")].flags == ["onlink"]
    expiring = r[("main", "unicast", "2001:db8:1::/64", "ens3")]
    assert (expiring.gateway, expiring.metric, expiring.family) == ("2001:db8::99", 1024, 6)
    assert r[("main", "unicast", "default", "ens3")].protocol == "static"


def test_text_and_json_routes_agree_on_real_output():
    text = parse_ip_route(paste("real-ip-route-table-all-ns.txt")).route_list
    json_ = parse_ip_json(paste("real-ip-j-route-all-ns.json")).route_list

    def key(r):
        return (r.table, r.type, r.dst, r.dev, r.gateway, r.src, r.protocol, r.scope, r.metric,
                r.family, sorted(r.flags))
    assert sorted(map(key, text), key=str) == sorted(map(key, json_), key=str)


def test_text_and_json_links_agree_on_real_output():
    text = parse_ip_addr(paste("real-ip-addr-ns.txt"))
    json_ = parse_ip_json(paste("real-ip-j-d-addr-ns.json"))
    pretty = parse_ip_json(paste("real-ip-j-p-d-link-ns.json"))
    assert "\n  " in paste("real-ip-j-p-d-link-ns.json")  # -p: pretty-printed
    for state in (json_, pretty):
        for link in text.links:
            other = state.link(link.name)
            assert (other.ifindex, other.kind, other.mac, other.mtu, other.state, other.master) \
                == (link.ifindex, link.kind, link.mac, link.mtu, link.state, link.master)
    assert {(a.ifname, a.cidr, a.scope) for a in text.addrs} == {
        (a.ifname, a.cidr, a.scope) for a in json_.addrs}
    # JSON numbers the peer's namespace (link_netnsid); the text under `ip -n` names it
    assert json_.link("vethaaa1111").peer_netnsid is not None
    assert json_.link("vethaaa1111").peer_ifindex == 2
    assert {p.port: p.hairpin for p in pretty.ports} == {
        "vethaaa1111": False, "vethbbb2222": True, "vethccc": False}


# -------------------------------------------------------------- brctl / bridge
BRCTL = """\
$ brctl show
bridge name\tbridge id\t\tSTP enabled\tinterfaces
br-5f1c2a7b9d3e\t\t8000.0242c10d775a\tno\t\tveth1a2b3c4
\t\t\t\t\t\t\tveth77ab001
\t\t\t\t\t\t\tvethd4e5f60
br-a0b1c2d3e4f5\t\t8000.02423e8819b4\tno\t\t
docker0\t\t8000.02429a1c4e07\tno\t\t
lxcbr0\t\t8000.00163e000000\tyes\t\tvethXYZ01
"""


def test_brctl_several_bridges_continuations_and_empty_ones():
    state = parse_brctl_show(BRCTL)
    bridges = {b.name: b for b in state.bridges}
    assert set(bridges) == {"br-5f1c2a7b9d3e", "br-a0b1c2d3e4f5", "docker0", "lxcbr0"}
    assert bridges["lxcbr0"].stp is True and bridges["docker0"].stp is False
    assert bridges["br-5f1c2a7b9d3e"].bridge_id == "8000.0242c10d775a"
    assert state.link("br-5f1c2a7b9d3e").mac == "02:42:c1:0d:77:5a"
    ports = state.bridge_ports
    assert sorted(ports[ports.bridge == "br-5f1c2a7b9d3e"].port) == [
        "veth1a2b3c4", "veth77ab001", "vethd4e5f60"]
    assert list(ports[ports.bridge == "lxcbr0"].port) == ["vethXYZ01"]
    assert ports[ports.bridge.isin(["docker0", "br-a0b1c2d3e4f5"])].empty
    assert state.link("veth77ab001").master == "br-5f1c2a7b9d3e"
    assert all(state.link(n).kind == "bridge" for n in bridges)


def test_real_brctl_matches_real_ip_link():
    brctl = parse_brctl_show(paste("real-brctl-show-ns.txt"))
    link = parse_ip_link(paste("real-ip-d-link-ns.txt"))
    assert {(p.bridge, p.port) for p in brctl.ports} == {(p.bridge, p.port) for p in link.ports}
    assert brctl.link("br0").mac == link.link("br0").mac


FDB = """\
$ bridge fdb show
33:33:00:00:00:01 dev ens160 self permanent
01:00:5e:00:00:01 dev ens160 self permanent
02:42:ac:12:00:02 dev veth1a2b3c4 master br-5f1c2a7b9d3e \n86:2f:aa:10:4c:e1 dev veth1a2b3c4 vlan 1 master br-5f1c2a7b9d3e permanent
86:2f:aa:10:4c:e1 dev veth1a2b3c4 master br-5f1c2a7b9d3e permanent
02:42:AC:12:00:03 dev vethd4e5f60 vlan 1 master br-5f1c2a7b9d3e \n02:42:9a:1c:4e:07 dev docker0 master docker0 permanent
00:00:00:00:00:00 dev vxlan100 dst 198.51.100.7 self permanent
"""


def test_bridge_fdb_learnt_permanent_self_and_vlan():
    state = parse_bridge_fdb(FDB)
    fdb = state.fdb_table
    learnt = fdb[(fdb.mac == "02:42:ac:12:00:02")].iloc[0]
    assert (learnt.dev, learnt.bridge) == ("veth1a2b3c4", "br-5f1c2a7b9d3e")
    assert learnt.state is None or learnt.state != learnt.state  # None / NaN: learnt
    assert list(fdb[fdb.mac == "02:42:ac:12:00:03"].vlan) == [1]  # and lower-cased
    own = [e for e in state.fdb if e.mac == "86:2f:aa:10:4c:e1"]
    assert sorted((e.vlan or 0, e.state) for e in own) == [(0, "permanent"), (1, "permanent")]
    selfs = [e for e in state.fdb if "self" in e.flags]
    assert {e.dev for e in selfs} == {"ens160", "vxlan100"}
    assert all(e.state == "permanent" and e.bridge is None for e in selfs)
    assert [e for e in state.fdb if e.dev == "docker0"][0].bridge == "docker0"


def test_real_bridge_fdb_and_link():
    fdb = parse_bridge_fdb(paste("real-bridge-fdb-ns.txt"))
    mine = [e for e in fdb.fdb if e.dev == "vethaaa1111" and e.bridge]
    assert {e.state for e in mine} == {"permanent", None}
    link = parse_bridge_link(paste("real-bridge-d-link-ns.txt"))
    ports = {p.port: p for p in link.ports}
    assert ports["vethbbb2222"].hairpin is True and ports["vethaaa1111"].hairpin is False
    assert ports["vethccc"].state == "disabled" and ports["vethccc"].bridge == "br0"
    assert link.link("vethaaa1111").master == "br-0123456789ab"


def test_bridge_link_old_and_new_forms_with_hairpin():
    text = (
        "7: veth1a2b3c4 state UP @(null): <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master "
        "br-5f1c2a7b9d3e state forwarding priority 32 cost 2 \n"
        "13: vethXYZ01@if12: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 master lxcbr0 state "
        "disabled priority 32 cost 100 \n"
        "    hairpin on guard off root_block off fastleave off learning on flood on \n"
    )
    state = netlab.parse_host(text)
    ports = {p.port: p for p in state.ports}
    assert (ports["veth1a2b3c4"].bridge, ports["veth1a2b3c4"].state) == (
        "br-5f1c2a7b9d3e", "forwarding")
    assert (ports["vethXYZ01"].cost, ports["vethXYZ01"].hairpin) == (100, True)
    assert ports["veth1a2b3c4"].hairpin is None  # not printed: unknown
    assert state.link("veth1a2b3c4").state == "UP"


# ----------------------------------------------------------------- conntrack
CONNTRACK = """\
$ sudo conntrack -L
tcp      6 431999 ESTABLISHED src=192.168.10.25 dst=192.168.10.40 sport=22 dport=52144 src=192.168.10.40 dst=192.168.10.25 sport=52144 dport=22 [ASSURED] mark=0 use=1
tcp      6 117 TIME_WAIT src=203.0.113.7 dst=192.168.10.25 sport=40512 dport=8080 src=172.18.0.2 dst=203.0.113.7 sport=80 dport=40512 [ASSURED] mark=0 zone=0 use=1
tcp      6 58 SYN_SENT src=172.18.0.3 dst=198.51.100.20 sport=44820 dport=443 [UNREPLIED] src=198.51.100.20 dst=192.168.10.25 sport=443 dport=44820 mark=0 use=1
udp      17 28 src=172.18.0.2 dst=192.0.2.53 sport=51820 dport=53 src=192.0.2.53 dst=192.168.10.25 sport=53 dport=51820 mark=0 use=1
udp      17 178 src=172.18.0.3 dst=192.0.2.53 sport=33000 dport=53 src=192.0.2.53 dst=192.168.10.25 sport=53 dport=33000 [ASSURED] mark=0x10 zone=3 use=2
icmp     1 29 src=172.18.0.2 dst=198.51.100.1 type=8 code=0 id=17 src=198.51.100.1 dst=192.168.10.25 type=0 code=0 id=17 mark=0 use=1
tcp      6 86389 CLOSE_WAIT src=127.0.0.1 dst=127.0.0.1 sport=38862 dport=631 src=127.0.0.1 dst=127.0.0.1 sport=631 dport=38862 [ASSURED] mark=0 secctx=system_u:object_r:unlabeled_t:s0 use=1
conntrack v1.4.6 (conntrack-tools): 7 flow entries have been shown.
"""


def test_conntrack_states_flags_and_nat():
    state = parse_conntrack(CONNTRACK)
    assert len(state.conntrack_entries) == 7
    ct = state.conntrack
    assert list(ct.proto) == ["tcp", "tcp", "tcp", "udp", "udp", "icmp", "tcp"]
    published = ct.iloc[1]
    assert (published.state, published.dport, published.reply_src, published.reply_sport) == (
        "TIME_WAIT", 8080, "172.18.0.2", 80)
    assert published.dnat and not published.snat and published.zone == 0
    syn = state.conntrack_entries[2]
    assert syn.status == ["UNREPLIED"] and syn.state == "SYN_SENT" and syn.snat and not syn.dnat
    dns = state.conntrack_entries[4]
    assert (dns.mark, dns.zone, dns.use, dns.timeout, dns.status) == (16, 3, 2, 178, ["ASSURED"])
    assert dns.state is None
    ping = state.conntrack_entries[5]
    assert (ping.orig.icmp_type, ping.orig.icmp_id, ping.reply.icmp_type) == (8, 17, 0)
    assert ct.iloc[5].icmp_type == 8
    assert not state.conntrack_entries[0].dnat and not state.conntrack_entries[0].snat
    assert not state.conntrack_entries[6].dnat
    assert str(ct.dport.dtype) == "Int64"  # 8080, not 8080.0


def test_empty_conntrack_table_is_not_an_error():
    text = "conntrack v1.4.8 (conntrack-tools): 0 flow entries have been shown.\n"
    assert parse_conntrack(text).conntrack_entries == []
    assert netlab.parse_host("# conntrack -L\n" + text).conntrack_entries == []


# -------------------------------------------------------------------- docker
DOCKER_USER_NET = """[
    {
        "Name": "shop_backend",
        "Id": "5f1c2a7b9d3e8c0f4a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef",
        "Created": "2024-05-02T09:14:21.558431907Z",
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null,
                 "Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}]},
        "Internal": false,
        "Containers": {
            "0a1b2c3d4e5f": {"Name": "shop-web-1", "EndpointID": "11aa",
                             "MacAddress": "02:42:ac:12:00:02",
                             "IPv4Address": "172.18.0.2/16", "IPv6Address": ""},
            "9f8e7d6c5b4a": {"Name": "shop-db-1", "EndpointID": "99aa",
                             "MacAddress": "02:42:ac:12:00:03",
                             "IPv4Address": "172.18.0.3/16", "IPv6Address": ""},
            "123456789abc": {"Name": "shop-cache-1", "EndpointID": "abab",
                             "MacAddress": "02:42:ac:12:00:04",
                             "IPv4Address": "172.18.0.4/16", "IPv6Address": ""}
        },
        "Options": {},
        "Labels": {"com.docker.compose.network": "backend", "com.docker.compose.project": "shop"}
    }
]"""

DOCKER_DEFAULT_BRIDGE = """[
    {
        "Name": "bridge",
        "Id": "e2b1f0a0c8d94f3b8a1c0e9d7f6b5a4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a",
        "Scope": "local",
        "Driver": "bridge",
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": null,
                 "Config": [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]},
        "Internal": false,
        "Containers": {
            "aa11": {"Name": "nginx", "EndpointID": "e1", "MacAddress": "02:42:ac:11:00:02",
                     "IPv4Address": "172.17.0.2/16", "IPv6Address": ""}
        },
        "Options": {
            "com.docker.network.bridge.default_bridge": "true",
            "com.docker.network.bridge.enable_icc": "true",
            "com.docker.network.bridge.enable_ip_masquerade": "true",
            "com.docker.network.bridge.host_binding_ipv4": "0.0.0.0",
            "com.docker.network.bridge.name": "docker0",
            "com.docker.network.driver.mtu": "1500"
        },
        "Labels": {}
    }
]"""


def test_docker_user_network_with_three_containers():
    state = parse_docker_network_inspect(DOCKER_USER_NET)
    assert state.docker_networks[0]["Name"] == "shop_backend"
    br = state.link("br-5f1c2a7b9d3e")  # br-<first 12 hex of the network id>
    assert br.kind == "bridge"
    assert [a.cidr for a in state.addresses_of("br-5f1c2a7b9d3e")] == ["172.18.0.1/16"]
    assert {ns.name for ns in state.namespaces} >= {"shop-web-1", "shop-db-1", "shop-cache-1"}
    for ns, ip, mac in (("shop-web-1", "172.18.0.2", "02:42:ac:12:00:02"),
                        ("shop-cache-1", "172.18.0.4", "02:42:ac:12:00:04")):
        eth0 = state.link("eth0", ns)
        assert (eth0.kind, eth0.mac) == ("veth", mac)
        assert [a.cidr for a in state.addresses_of("eth0", ns)] == [f"{ip}/16"]
    routes = state.routes
    assert list(routes[routes.netns == ""].dev) == ["br-5f1c2a7b9d3e"]


def test_docker_default_bridge_joins_the_kernel_view():
    state = netlab.parse_host(DOCKER_DEFAULT_BRIDGE, UBUNTU_HOST)
    docker0 = state.link("docker0")
    assert docker0.kind == "bridge" and docker0.mac == "02:42:9a:1c:4e:07"
    assert [a.cidr for a in state.addresses_of("docker0", family=4)] == ["172.17.0.1/16"]
    assert len([lk for lk in state.links if lk.name == "docker0"]) == 1
    assert state.link("eth0", "nginx").mac == "02:42:ac:11:00:02"


def test_docker_inspect_and_docker_exec_merge_without_duplicates():
    state = netlab.parse_host(DOCKER_USER_NET, UBUNTU_HOST, CONTAINERS)
    web = [lk for lk in state.links if lk.netns == "shop-web-1" and lk.name == "eth0"]
    assert len(web) == 1 and web[0].ifindex == 6 and web[0].mac == "02:42:ac:12:00:02"
    assert len(state.addresses_of("eth0", "shop-web-1", family=4)) == 1
    assert state.peer_of(web[0]).name == "veth1a2b3c4"


# -------------------------------------------------------------------- sysctl
SYSCTL = """\
vagrant@box:~$ sudo sysctl -a 2>&1 | grep -E 'forward|bridge-nf|route_localnet|rp_filter|denied'
net.bridge.bridge-nf-call-arptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
net.bridge.bridge-nf-call-iptables = 1
net.ipv4.conf.all.forwarding = 1
net.ipv4.conf.all.route_localnet = 0
net.ipv4.conf.all.rp_filter = 2
net.ipv4.conf.br-5f1c2a7b9d3e.rp_filter = 2
net.ipv4.conf.default.rp_filter = 2
net.ipv4.ip_forward = 1
net.ipv4.ip_local_port_range = 32768\t60999
sysctl: permission denied on key 'fs.protected_regular', ignoring
sysctl: permission denied on key "kernel.unprivileged_userns_apparmor_policy"
"""


def test_sysctl_subset_with_permission_complaints():
    state = netlab.parse_host(SYSCTL)
    assert state.sysctl("net.ipv4.ip_forward") == "1"
    assert state.sysctl("net.bridge.bridge-nf-call-iptables") == "1"
    assert state.sysctl("net.ipv4.conf.all.rp_filter") == "2"
    assert state.sysctl("net.ipv4.conf.br-5f1c2a7b9d3e.rp_filter") == "2"
    assert state.sysctl("net.ipv4.ip_local_port_range") == "32768 60999"
    assert any("fs.protected_regular" in n and "sudo" in n for n in state.notes)
    assert state.hostname == "box"


def test_sysctl_missing_bridge_keys_say_br_netfilter():
    state = parse_sysctl("sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: "
                         "No such file or directory\nnet.ipv4.ip_forward = 0\n")
    assert state.sysctl("net.ipv4.ip_forward") == "0"
    assert any("br_netfilter" in n for n in state.notes)


# ------------------------------------------------------------- paste noise
def _noisy(text: str) -> str:
    """What a chat or web page does to a paste: CRLF, nbsp, tabs, an elision, colour."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if i % 4 == 1:
            line = line.replace("    ", "\t", 1)
        elif i % 4 == 2:
            line = line.replace(" ", "\u00a0", 2)
        out.append(line)
    out.insert(11, "...")  # in the middle of ens160's block
    out.insert(20, "    [...]")
    out[3] = "\x1b[35m" + out[3] + "\x1b[0m"
    return "\r\n".join(out) + "\r\n"


def test_noisy_paste_reads_like_the_clean_one():
    clean = parse_ip_addr(UBUNTU_HOST)
    noisy = netlab.parse_host(_noisy(UBUNTU_HOST))
    assert noisy.links == clean.links
    assert noisy.addrs == clean.addrs


@pytest.mark.parametrize("prompt", ["$ ", "root@host:~# ", "user@host:~$ ", "[root@centos ~]# ",
                                    "(venv) user@laptop:~/lab$ ", "➜  ~ "])
def test_prompts_name_the_command(prompt):
    text = prompt + "ip route\n" + "default via 10.0.2.2 dev enp0s3 proto dhcp metric 100\n"
    state = netlab.parse_host(text)
    assert state.route_list[0].gateway == "10.0.2.2"
    assert netlab.parse.detect(text) == "ip route"


def test_one_paste_many_commands_with_prompts():
    text = (UBUNTU_HOST + UBUNTU_ROUTES.split("ubuntu@ip-172-31-5-10:~$ ip -6")[0]
            + BRCTL + FDB + CONNTRACK + "root@docker-host:~# sysctl net.ipv4.ip_forward\n"
            "net.ipv4.ip_forward = 1\nroot@docker-host:~# ")
    state = netlab.parse_host(text)
    assert len(state.links) >= 8 and len(state.conntrack_entries) == 7
    assert state.sysctl("net.ipv4.ip_forward") == "1"
    assert {e.mac for e in state.fdb} >= {"02:42:ac:12:00:02"}
    assert state.link("vethXYZ01").master == "lxcbr0"


# ------------------------------------------------------------- parse errors
IPTABLES_L = """Chain INPUT (policy ACCEPT)
target     prot opt source               destination

Chain FORWARD (policy DROP)
target     prot opt source               destination
DOCKER-USER  all  --  anywhere             anywhere
"""
IPTABLES_VL = """Chain PREROUTING (policy ACCEPT 1234 packets, 98765 bytes)
 pkts bytes target     prot opt in     out     source               destination
   12   720 DOCKER     all  --  any    any     anywhere             anywhere             ADDRTYPE match dst-type LOCAL
"""
IFCONFIG = """docker0: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1500
        inet 172.17.0.1  netmask 255.255.0.0  broadcast 172.17.255.255
        ether 02:42:9a:1c:4e:07  txqueuelen 0  (Ethernet)
"""
IFCONFIG_OLD = """eth0      Link encap:Ethernet  HWaddr 08:00:27:4a:11:22
          inet addr:10.0.2.15  Bcast:10.0.2.255  Mask:255.255.255.0
"""
SHOWMACS = """port no\tmac addr\t\tis local?\tageing timer
  1\t02:42:ac:11:00:02\tno\t\t   2.51
"""
NETSTAT_RN = """Kernel IP routing table
Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface
0.0.0.0         10.0.2.2        0.0.0.0         UG        0 0          0 enp0s3
"""
ROUTE_N = """Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         10.0.2.2        0.0.0.0         UG    100    0        0 enp0s3
"""


@pytest.mark.parametrize(("parser", "command", "text", "got"), [
    (parse_iptables_text, "iptables-save", IPTABLES_L, "iptables -L"),
    (parse_iptables_text, "iptables-save", IPTABLES_VL, "iptables -L"),
    (parse_ip_addr, "ip addr", IFCONFIG, "ifconfig"),
    (parse_ip_addr, "ip addr", IFCONFIG_OLD, "ifconfig"),
    (parse_ip_addr, "ip addr", UBUNTU_ROUTES.split("\n", 1)[1], "ip route"),
    (parse_ip_route, "ip route", ROUTE_N, "route -n"),
    (parse_ip_route, "ip route", NETSTAT_RN, "route -n"),
    (parse_ip_route, "ip route", UBUNTU_HOST.split("\n", 1)[1], "ip addr"),
    (parse_bridge_fdb, "bridge fdb", SHOWMACS, "brctl showmacs"),
    (parse_brctl_show, "brctl show", FDB.split("\n", 1)[1], "bridge fdb"),
    (parse_conntrack, "conntrack -L", ROUTE_N, "route -n"),
    (parse_sysctl, "sysctl", CONNTRACK.split("\n", 1)[1], "conntrack -L"),
])
def test_wrong_paste_names_expected_command_line_and_what_it_is(parser, command, text, got):
    with pytest.raises(ParseError) as info:
        parser(text)
    err = info.value
    assert err.command.startswith(command)
    assert err.lineno == 1 and err.line.split() == text.splitlines()[0].split()
    assert f"`{command}" in str(err) and "line 1" in str(err)
    assert err.hint and f"`{got}`" in err.hint


@pytest.mark.parametrize(("text", "expected", "advice"), [
    (SHOWMACS, "bridge fdb", "bridge fdb show"),
])
def test_parse_host_says_what_to_paste_instead(text, expected, advice):
    with pytest.raises(ParseError) as info:
        netlab.parse_host(text)
    assert info.value.command == expected
    assert advice in info.value.hint
    assert info.value.lineno in (1, 2)


def test_parse_host_reads_the_listings_it_used_to_refuse():
    """issue 14: iptables -L, ifconfig, route -n and netstat -rn are read (each says, in a
    note or per rule, what it cannot show)."""
    assert netlab.parse_host(IPTABLES_L).ruleset().tables["filter"].chains["FORWARD"].policy == "DROP"
    assert netlab.parse_host(IPTABLES_VL).ruleset().tables["nat"].chains["PREROUTING"].rules
    assert {a.cidr for a in netlab.parse_host(IFCONFIG).addrs} == {"172.17.0.1/16"}
    assert {a.cidr for a in netlab.parse_host(IFCONFIG_OLD).addrs} == {"10.0.2.15/24"}
    for text in (ROUTE_N, "$ netstat -rn\n" + NETSTAT_RN):
        assert [(r.dst, r.gateway) for r in netlab.parse_host(text).route_list] == [
            ("default", "10.0.2.2")]


def test_error_line_numbers_count_prompts_and_elisions():
    text = "$ ip route\n...\ndefault via 10.0.2.2 dev enp0s3\n\n10.0.0.0/8 via banana dev x\n"
    with pytest.raises(ParseError) as info:
        netlab.parse_host(text)
    assert info.value.lineno == 5 and info.value.line == "10.0.0.0/8 via banana dev x"
    assert "banana" in info.value.reason


def test_bad_line_in_the_middle_of_ip_addr():
    lines = UBUNTU_HOST.splitlines()
    lines[14] = "    inet 172.17.0.300/16 brd 172.17.255.255 scope global docker0"
    with pytest.raises(ParseError) as info:
        parse_ip_addr("\n".join(lines))
    assert info.value.lineno == 15 and "172.17.0.300" in info.value.line


# ------------------------------------------------------------------ iptables
IPTABLES_S_TWO_TABLES = """\
root@docker-host:~# iptables -S
-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -o br-5f1c2a7b9d3e -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o br-5f1c2a7b9d3e -j DOCKER
-A DOCKER -d 172.18.0.2/32 ! -i br-5f1c2a7b9d3e -o br-5f1c2a7b9d3e -p tcp -m tcp --dport 80 -j ACCEPT
-A DOCKER-USER -j RETURN
root@docker-host:~# iptables -t nat -S
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.18.0.0/16 ! -o br-5f1c2a7b9d3e -j MASQUERADE
-A DOCKER -i br-5f1c2a7b9d3e -j RETURN
-A DOCKER ! -i br-5f1c2a7b9d3e -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80
"""


def test_iptables_s_of_two_tables_keeps_each_rule_in_its_table():
    state = netlab.parse_host(IPTABLES_S_TWO_TABLES)
    rules = state.ruleset()
    assert len(rules.tables["filter"].chains["DOCKER"].rules) == 1
    assert len(rules.tables["filter"].chains["FORWARD"].rules) == 3
    assert rules.tables["filter"].chains["FORWARD"].policy == "DROP"
    nat_docker = rules.tables["nat"].chains["DOCKER"].rules
    assert len(nat_docker) == 2 and "--to-destination 172.18.0.2:80" in nat_docker[1].text


def test_ip6tables_paste_is_kept_out_with_a_note():
    state = netlab.parse_host("$ sudo ip6tables -S\n-P INPUT ACCEPT\n"
                              "-A INPUT -s 2001:db8::/32 -j DROP\n")
    assert not state.firewall.get("")
    assert any("IPv6" in n for n in state.notes)


def test_macvlan_at_its_lower_device_is_not_a_veth():
    text = (
        "2: enp0s3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP mode "
        "DEFAULT group default qlen 1000\n    link/ether 08:00:27:4a:11:22 brd ff:ff:ff:ff:ff:ff\n"
        "5: macvl0@enp0s3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP "
        "mode DEFAULT group default qlen 1000\n    link/ether 5a:11:22:33:44:55 brd "
        "ff:ff:ff:ff:ff:ff\n"
        "6: v1@v2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode "
        "DEFAULT group default qlen 1000\n    link/ether 5a:11:22:33:44:56 brd ff:ff:ff:ff:ff:ff\n"
        "7: v2@v1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode "
        "DEFAULT group default qlen 1000\n    link/ether 5a:11:22:33:44:57 brd ff:ff:ff:ff:ff:ff\n")
    state = parse_ip_link(text)
    assert state.link("macvl0").kind == "other" and state.link("macvl0").peer_ifindex is None
    assert state.peer_of(state.link("v1")) is state.link("v2")
    assert [(a.name, b and b.name) for a, b, _ in state.veth_pairs()] == [("v1", "v2")]


def test_error_on_a_huge_one_line_json_paste_stays_readable():
    items = ",".join(f'{{"ifindex": {i}, "ifname": "veth{i}", "mtu": "x"}}' for i in range(2000))
    with pytest.raises(ParseError) as info:
        parse_ip_json("[" + items + "]")
    assert info.value.lineno == 1 and len(info.value.line) > 10000  # kept whole
    assert len(str(info.value)) < 1000  # but the message shows its start


def test_same_tuples_in_two_conntrack_zones_are_two_connections():
    line = ("udp      17 28 src=10.0.0.2 dst=10.0.0.1 sport=5000 dport=53 src=10.0.0.1 "
            "dst=10.0.0.2 sport=53 dport=5000 mark=0 zone={} use=1\n")
    state = netlab.parse_host(line.format(1) + line.format(2) + line.format(1))
    assert sorted(e.zone for e in state.conntrack_entries) == [1, 2]


def test_link_peer_as_namespace_or_netnsid_and_ifindex():
    state = netlab.parse_host(UBUNTU_HOST)
    assert state.link("vethd4e5f60").peer == (1, 8)
    assert state.link("ens160").peer is None
    named = parse_ip_addr(paste("real-ip-addr-ns.txt"))
    assert named.link("vethaaa1111").peer == ("h2t-c1", 2)
    assert named.link("vethccc").peer == ("", 6)  # its pair lives beside it


def test_unresolved_netnsids_of_different_namespaces_stay_apart_in_the_graph():
    # the host's netnsid 2 and the container's netnsid 0 are different namespaces
    state = netlab.parse_host(UBUNTU_HOST, CONTAINERS.split("root@docker-host:~# docker exec "
                                                            "shop-db-1")[0])
    other = (
        "$ docker exec lonely ip addr\n"
        "12: eth0@if13: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
        "    link/ether 02:42:ac:13:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 2\n")
    state = state.merge(netlab.parse_host(other))
    g = state.graph()
    host_side = next(b for a, b, r in g.edges(("if", "", "veth77ab001"), data="relation")
                     if r == "veth-peer")
    lonely_side = next(b for a, b, r in g.edges(("if", "lonely", "eth0"), data="relation")
                       if r == "veth-peer")
    assert host_side == ("if", "netnsid 2", "if10")
    assert lonely_side == ("if", "lonely: netnsid 2", "if13")


@pytest.mark.parametrize(("text", "netns", "expected"), [
    ("$ sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables\n1\n0\n", "",
     {"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "0"}),
    ("root@h:~# ip netns exec web cat /proc/sys/net/ipv4/ip_forward\n0\n", "web",
     {"net.ipv4.ip_forward": "0"}),
    ("$ sudo sysctl -n net/ipv4/conf/all/rp_filter\n2\n", "", {"net.ipv4.conf.all.rp_filter": "2"}),
])
def test_bare_values_whose_keys_are_in_the_command(text, netns, expected):
    assert netlab.parse_host(text).sysctls[netns] == expected


def test_bare_values_must_match_the_keys():
    with pytest.raises(ParseError) as info:
        netlab.parse_host("$ sysctl -n net.ipv4.ip_forward\n1\n0\n")
    assert info.value.lineno == 3 and "one per key" in str(info.value)


@pytest.mark.parametrize(("name", "parser"), [
    ("real-ip-addr-ns.txt", parse_ip_addr), ("real-ip-d-link-ns.txt", parse_ip_link),
    ("real-brctl-show-ns.txt", parse_brctl_show), ("real-bridge-d-link-ns.txt", parse_bridge_link),
    ("real-ip-route-table-all-ns.txt", parse_ip_route), ("real-bridge-fdb-ns.txt", parse_bridge_fdb),
])
def test_indentation_lost_or_squeezed_reads_the_same(name, parser):
    import re

    text = paste(name)
    want = parser(text)
    for mangled in ("\n".join(line.strip() for line in text.splitlines()),
                    "\n".join(re.sub(r"\s+", " ", line) for line in text.splitlines())):
        got = parser(mangled)
        assert (got.links, got.addrs, got.ports, got.route_list, got.fdb) == (
            want.links, want.addrs, want.ports, want.route_list, want.fdb)


def test_ip_netns_list_names_the_netnsids():
    listing = "$ ip netns list\nshop-cache-1 (id: 2)\nshop-db-1 (id: 1)\nshop-web-1 (id: 0)\n"
    state = netlab.parse_host(UBUNTU_HOST, listing)
    assert state.namespace("").ids == {0: "shop-web-1", 1: "shop-db-1", 2: "shop-cache-1"}
    assert state.interfaces.set_index("name").loc["veth77ab001", "peer"] == "if10@shop-cache-1"
    ids = netlab.parse_host("$ ip netns list-id\nnsid 0 (iproute2 netns name: web)\nnsid 1\n")
    assert ids.namespace("").ids == {0: "web"}


def test_json_pastes_of_several_namespaces_join():
    text = ("$ ip -n h2t-host -j -d addr\n" + paste("real-ip-j-d-addr-ns.json") + "\n"
            "$ ip -n h2t-host -j netns list-id\n"
            '[{"nsid":0,"name":"h2t-c1"},{"nsid":1,"name":"h2t-c2"},{"nsid":2,"name":"h2t-gw"}]\n'
            "$ ip netns exec h2t-c1 ip -j -p link\n"
            '[ {\n    "ifindex": 2,\n    "link_index": 4,\n    "ifname": "eth0",\n'
            '    "flags": [ "BROADCAST","MULTICAST","UP","LOWER_UP" ],\n    "mtu": 1500,\n'
            '    "operstate": "UP",\n    "link_type": "ether",\n'
            '    "address": "62:4b:c1:b6:32:83",\n    "link_netnsid": 0\n} ]\n')
    state = netlab.parse_host(text)
    host = state.link("vethaaa1111", "h2t-host")
    assert state.peer_of(host) is state.link("eth0", "h2t-c1")
    assert state.peer_of(state.link("eth0", "h2t-c1")) is host
    assert state.namespace("h2t-c1").ids == {0: "h2t-host"}


def test_a_paste_may_be_lines_or_a_file_but_nothing_else():
    import io

    lines = ["default via 10.0.2.2 dev enp0s3 proto dhcp metric 100\n",
             "10.0.2.0/24 dev enp0s3 proto kernel scope link src 10.0.2.15\n"]
    assert len(parse_ip_route(lines).route_list) == 2
    assert len(parse_ip_route(io.StringIO("".join(lines))).route_list) == 2
    for bad in (None, 5, {"a": 1}, [1, 2]):
        with pytest.raises(ParseError, match="must be text"):
            parse_ip_route(bad)


def test_veth_ends_must_name_each_other():
    text = (
        "3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
        "    link/ether 02:42:9a:1c:4e:07 brd ff:ff:ff:ff:ff:ff\n"
        "7: veth2222222@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master "
        "docker0 state UP\n    link/ether 86:2f:aa:10:4c:e2 brd ff:ff:ff:ff:ff:ff\n"
        "6: veth3333333@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master "
        "docker0 state UP\n    link/ether 86:2f:aa:10:4c:e3 brd ff:ff:ff:ff:ff:ff\n")
    state = parse_ip_addr(text)  # no link-netnsid: the peers' namespaces are not known
    assert state.peer_of(state.link("veth2222222")) is None
    g = state.graph()
    assert not g.has_edge(("if", "", "veth2222222"), ("if", "", "veth3333333"))


def test_empty_json_listing_and_host_network_containers():
    assert netlab.parse_host("$ ip -j route show table 100\n[]\n").route_list == []
    host_net = ('[{"Name": "host", "Id": "9e1f", "Driver": "host", "IPAM": {"Config": []}, '
                '"Containers": {"ab": {"Name": "node-exporter", "MacAddress": "", '
                '"IPv4Address": "", "IPv6Address": ""}}}]')
    state = parse_docker_network_inspect(host_net)
    assert "node-exporter" not in {ns.name for ns in state.namespaces}  # it shares the host's
    assert state.links == []


def test_oneline_ip_o_addr_and_link():
    full = parse_ip_addr(paste("real-ip-addr-ns.txt"))
    oneline = netlab.parse_host(paste("real-ip-o-addr-ns.txt"))
    assert "\\" in paste("real-ip-o-addr-ns.txt")
    assert sorted((a.ifname, a.cidr, a.scope) for a in oneline.addrs) == sorted(
        (a.ifname, a.cidr, a.scope) for a in full.addrs)
    links = netlab.parse_host(paste("real-ip-o-link-ns.txt"))
    assert [(lk.name, lk.mac, lk.peer, lk.master) for lk in links.links] == [
        (lk.name, lk.mac, lk.peer, lk.master) for lk in full.links]


ELIDED_HEADER = """\
$ ip addr
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
2: enp0s3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 08:00:27:4a:11:22 brd ff:ff:ff:ff:ff:ff
    ...
    inet 10.0.2.15/24 brd 10.0.2.255 scope global dynamic enp0s3
       valid_lft 86000sec preferred_lft 86000sec
...
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
       valid_lft forever preferred_lft forever
    inet6 fe80::42:9aff:fe1c:4e07/64 scope link
5: veth1a2b3c4@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP
    link/ether 86:2f:aa:10:4c:e1 brd ff:ff:ff:ff:ff:ff link-netnsid 0
"""


def test_an_address_after_an_elided_header_goes_to_the_interface_its_label_names():
    state = netlab.parse_host(ELIDED_HEADER)
    assert [a.cidr for a in state.addresses_of("enp0s3")] == ["10.0.2.15/24"]
    assert [a.cidr for a in state.addresses_of("docker0")] == [
        "172.17.0.1/16", "fe80::42:9aff:fe1c:4e07/64"]
    assert state.link("docker0").kind == "bridge"
    assert any("docker0" in n and "elided" in n for n in state.notes)


def test_a_table_named_in_the_prompt_and_local_routes_land_in_their_table():
    text = ("$ ip route show table local\n"
            "local 10.9.0.1 dev vethccc proto kernel scope host src 10.9.0.1\n"
            "broadcast 10.9.0.255 dev vethccc proto kernel scope link src 10.9.0.1 linkdown\n"
            "$ ip route show table 100\n10.50.0.0/16 dev ens3 scope link\n"
            "$ ip -j route show table 254\n"
            '[{"dst":"default","gateway":"198.51.100.1","dev":"ens3","protocol":"static",'
            '"flags":[]}]\n')
    state = netlab.parse_host(text)
    tables = {(r.dst, r.table) for r in state.route_list}
    assert tables == {("10.9.0.1/32", "local"), ("10.9.0.255/32", "local"),
                      ("10.50.0.0/16", "100"), ("default", "main")}
    # without a prompt, a `local` route is still in table local (where the kernel keeps it)
    bare = parse_ip_route("local 172.20.0.1 dev br-0123456789ab proto kernel scope host "
                          "src 172.20.0.1\n")
    assert bare.route_list[0].table == "local"


def test_ip_route_get_is_not_a_routing_table():
    with pytest.raises(ParseError) as info:
        netlab.parse_host("$ ip route get 203.0.113.9\n203.0.113.9 via 198.51.100.9 dev ens3 "
                          "src 198.51.100.5 uid 0 \n    cache \n")
    assert info.value.command == "ip route" and "ip route get" in info.value.hint


def test_ipv6_catch_all_in_json_is_ipv6():
    text = ('[{"type":"unreachable","dst":"default","dev":"lo","table":"unspec",'
            '"protocol":"kernel","metric":4294967295,"flags":[],"error":-101,"pref":"medium"}]')
    (route,) = parse_ip_json(text).route_list
    assert (route.family, route.type, route.table) == (6, "unreachable", "unspec")


@pytest.mark.parametrize("name", sorted(p.name for p in __import__("_pastes").PASTES.iterdir()
                                         if p.is_file()))  # (own-host/: lesson 13's hosts)
def test_every_sample_paste_round_trips_and_merges_idempotently(name):
    from netlab import HostState

    text = paste(name)
    once = netlab.parse_host(text)
    twice = netlab.parse_host(text, text)
    for attr in ("links", "addrs", "route_list", "ports", "fdb", "conntrack_entries", "sysctls",
                 "bridges", "namespaces", "firewall"):
        assert getattr(twice, attr) == getattr(once, attr), attr
    assert HostState.from_json(once.to_json()) == once


def test_nsenter_by_pid_tags_that_namespace():
    text = ("root@docker-host:~# nsenter -t 4242 -n ip addr\n"
            "6: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
            "    link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
            "root@docker-host:~# nsenter -t 1 -n ip route\n"
            "default via 192.168.10.1 dev ens160\n")
    state = netlab.parse_host(text)
    assert state.link("eth0", "pid 4242") is not None
    assert state.route_list[0].netns == ""  # pid 1 lives in the host's namespace


def test_bridge_link_output_is_not_taken_for_ip_link():
    with pytest.raises(ParseError) as info:
        parse_ip_link(paste("real-bridge-d-link-ns.txt"))
    assert info.value.lineno == 1 and "`bridge link`" in info.value.hint


ALPINE_SESSION = """\
$ ip addr
3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether 02:42:9a:1c:4e:07 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
46: veth9f3e2a1@if45: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP group default
    link/ether 9a:3e:11:22:33:44 brd ff:ff:ff:ff:ff:ff link-netnsid 1
$ docker exec web ip addr
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
       valid_lft forever preferred_lft forever
45: eth0@if46: <BROADCAST,MULTICAST,UP,LOWER_UP,M-DOWN> mtu 1500 qdisc noqueue state UP \n    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0
       valid_lft forever preferred_lft forever
"""


def test_alpine_busybox_ip_without_netnsid_still_joins_its_host_veth():
    state = netlab.parse_host(ALPINE_SESSION)  # BusyBox `ip` prints no link-netnsid
    host, eth0 = state.link("veth9f3e2a1"), state.link("eth0", "web")
    assert state.peer_of(host) is eth0 and state.peer_of(eth0) is host
    assert state.namespace("").ids == {1: "web"}
    view = state.interfaces.set_index(["netns", "name"])
    assert view.loc[("web", "eth0"), "peer"] == "veth9f3e2a1@host"
    g = state.graph()
    assert g.edges[("if", "", "veth9f3e2a1"), ("if", "web", "eth0")]["relation"] == "veth-peer"
    assert len([e for e in g.edges(data="relation") if e[2] == "veth-peer"]) == 1


@pytest.mark.parametrize("marker", ["...", "… (5 more interfaces)", "[... output truncated ...]",
                                    "(output omitted)", "-- snip --", "    [snip]", "8<-----"])
def test_elision_markers_people_write(marker):
    lines = UBUNTU_HOST.splitlines()
    lines.insert(12, marker)
    state = netlab.parse_host("\n".join(lines))
    assert state.links == parse_ip_addr(UBUNTU_HOST).links


def test_bridge_json_link_hairpin_on_off_strings():
    text = ('$ bridge -j -d link\n[{"ifindex":5,"ifname":"veth1","flags":["UP"],"mtu":1500,'
            '"master":"br0","state":"forwarding","priority":32,"cost":2,"hairpin":"on"},'
            '{"ifindex":7,"ifname":"veth2","flags":["UP"],"mtu":1500,"master":"br0",'
            '"state":"blocking","priority":32,"cost":4,"hairpin":false}]\n')
    ports = {p.port: p for p in netlab.parse_host(text).ports}
    assert (ports["veth1"].hairpin, ports["veth2"].hairpin) == (True, False)
    assert (ports["veth2"].state, ports["veth2"].cost) == ("blocking", 4)


def test_a_prompt_naming_the_right_command_over_the_wrong_output_still_gets_a_hint():
    with pytest.raises(ParseError) as info:
        netlab.parse_host("$ sudo iptables -t nat -S\nChain PREROUTING (policy ACCEPT)\n"
                          "target     prot opt source               destination\n")
    assert info.value.lineno == 2 and "`iptables -L`" in info.value.hint


def test_commands_wrapped_in_sh_c_are_recognised():
    text = ('root@docker-host:~# docker exec -it shop-web-1 sh -c "ip route"\n'
            "default via 172.18.0.1 dev eth0\n"
            "172.18.0.0/16 dev eth0 proto kernel scope link src 172.18.0.2\n")
    state = netlab.parse_host(text)
    assert {r.netns for r in state.route_list} == {"shop-web-1"}
    assert state.route_list[0].gateway == "172.18.0.1"


def test_the_neighbour_table_is_not_read_as_routes():
    neigh = ('[{"dst":"10.0.2.2","dev":"enp0s3","lladdr":"52:54:00:12:35:02","state":'
             '["REACHABLE"]},{"dst":"10.0.2.3","dev":"enp0s3","state":["FAILED"]}]')
    for text in (neigh, "$ ip -j neigh\n" + neigh):
        with pytest.raises(ParseError) as info:
            netlab.parse_host(text)
        assert "neighbour" in info.value.hint
    with pytest.raises(ParseError, match="neighbour"):
        parse_ip_json(neigh)


def test_brief_json_addresses_have_no_family_or_scope_but_are_read():
    text = ('$ ip -j -br addr\n[{"ifname":"lo","operstate":"UNKNOWN","addr_info":[{"local":'
            '"127.0.0.1","prefixlen":8},{"local":"::1","prefixlen":128}]},{"ifname":"eth0",'
            '"operstate":"UP","addr_info":[{"local":"192.0.2.2","prefixlen":24},'
            '{"local":"fe80::fc:ff:fe00:1","prefixlen":64}]}]\n')
    state = netlab.parse_host(text)
    assert [(a.ifname, a.cidr, a.family, a.scope) for a in state.addrs] == [
        ("lo", "127.0.0.1/8", 4, "host"), ("lo", "::1/128", 6, "host"),
        ("eth0", "192.0.2.2/24", 4, "global"), ("eth0", "fe80::fc:ff:fe00:1/64", 6, "link")]
    assert state.link("eth0").state == "UP"
