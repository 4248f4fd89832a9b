"""ip addr / ip link / ip route text, old and new iproute2."""

from __future__ import annotations

import pytest

import netlab
from netlab import ParseError
from tests._pastes import paste


def test_seed_ip_addr_with_nbsp_and_elisions(seed_dir):
    state = netlab.parse_ip_addr((seed_dir / "ip-addr-show.txt").read_text(encoding="utf-8"))
    docker0 = state.link("docker0")
    assert docker0.kind == "bridge" and docker0.mac == "02:42:68:de:b6:2a"
    assert docker0.ifindex == 4 and docker0.mtu == 1500 and docker0.state == "UP"
    assert [a.cidr for a in state.addresses_of("docker0", family=4)] == ["172.17.0.1/16"]
    assert state.addresses_of("docker0", family=4)[0].broadcast == "172.17.255.255"
    veth = state.link("vethca38e86")
    assert veth.kind == "veth" and veth.master == "docker0"
    assert (veth.peer_ifindex, veth.peer_netnsid) == (5, 0)
    assert veth.mac == "22:35:bb:aa:3d:15"  # the line indented with U+00A0
    assert [a.cidr for a in state.addresses_of("vethca38e86")] == ["fe80::2035:bbff:feaa:3d15/64"]


def test_old_iproute2_3_10():
    state = netlab.parse_ip_addr(paste("ip-addr-old-3.10.txt"))
    assert [link.name for link in state.links] == ["lo", "eth0", "docker0"]
    assert state.link("lo").kind == "loopback"
    assert state.link("eth0").kind == "physical"
    assert state.link("docker0").kind == "bridge"
    assert state.link("docker0").state == "DOWN"
    eth0 = state.addresses_of("eth0", family=4)
    assert [(a.cidr, a.label) for a in eth0] == [("10.0.2.15/24", "eth0"),
                                                   ("10.0.2.99/24", "eth0:1")]
    assert "dynamic" in eth0[0].flags and "secondary" in eth0[1].flags
    assert state.addresses_of("lo", family=6)[0].scope == "host"


def test_new_iproute2_6_1():
    state = netlab.parse_ip_addr(paste("ip-addr-new-6.1.txt"))
    assert state.link("enp0s3").kind == "physical"
    assert state.addresses_of("enp0s3", family=4)[0].cidr == "10.0.2.15/24"  # `metric 100` skipped
    v1 = state.link("veth3f2a1b0")
    assert (v1.peer_ifindex, v1.peer_netnsid, v1.master) == (6, 0, "docker0")
    v2 = state.link("vethb7c0d11")
    assert (v2.peer_ifindex, v2.peer_netnsid) == (8, 1)
    tunl = state.link("tunl0")
    assert tunl.kind == "other" and tunl.peer_ifindex is None and tunl.link_type == "ipip"
    wg = state.addresses_of("wg0")[0]
    assert (wg.address, wg.prefixlen, wg.peer) == ("10.8.0.1", 32, "10.8.0.2")
    assert {p.port for p in state.ports} == {"veth3f2a1b0", "vethb7c0d11"}


def test_container_side_with_prompt_gives_hostname():
    state = netlab.parse_ip_addr(paste("ip-addr-container.txt"))
    eth0 = state.link("eth0")
    assert eth0.kind == "veth" and (eth0.peer_ifindex, eth0.peer_netnsid) == (7, 0)
    assert state.hostname == "3f1c2a9b7d10"


def test_ip_d_link_driver_bridge_slave_and_same_namespace_peers():
    state = netlab.parse_ip_link(paste("ip-d-link.txt"))
    assert state.link("br0").driver == "bridge" and state.link("br0").kind == "bridge"
    assert state.link("dummy0").driver == "dummy" and state.link("dummy0").kind == "other"
    v1 = state.link("v1")
    assert v1.driver == "veth" and v1.peer_netns == "nlp2devb" and v1.peer_ifindex == 2
    port = next(p for p in state.ports if p.port == "v1")
    assert (port.bridge, port.state, port.cost, port.priority, port.hairpin) == (
        "br0", "forwarding", 2, 32, False)
    # `v2@v2p`: the peer is named, in the same namespace
    assert state.link("v2").peer_ifindex == 4 and state.link("v2p").peer_ifindex == 5
    assert state.peer_of(state.link("v2")).name == "v2p"


def test_statistics_lines_are_skipped():
    state = netlab.parse_ip_link(paste("ip-s-link.txt"))
    assert [link.name for link in state.links] == ["enp0s3"]
    assert state.link("enp0s3").mac == "08:00:27:8a:5c:3e"


def test_brief_form():
    state = netlab.parse_ip_addr(
        "lo               UNKNOWN        127.0.0.1/8 ::1/128 \n"
        "enp0s3           UP             10.0.2.15/24 fe80::a00:27ff:fe8a:5c3e/64 \n"
        "docker0          DOWN           172.17.0.1/16 \n"
        "veth3f2a1b0@if6  UP             fe80::984e:1cff:fe22:7d01/64 \n")
    assert state.link("lo").kind == "loopback"
    assert state.link("veth3f2a1b0").peer_ifindex == 6
    assert [a.cidr for a in state.addresses_of("enp0s3")] == ["10.0.2.15/24",
                                                               "fe80::a00:27ff:fe8a:5c3e/64"]


def test_seed_route_old_double_spaced(seed_dir):
    state = netlab.parse_ip_route((seed_dir / "ip-route.txt").read_text(encoding="utf-8"))
    routes = {r.dst: r for r in state.route_list}
    assert routes["default"].gateway == "10.0.2.2" and routes["default"].dev == "enp0s3"
    assert routes["default"].protocol == "static" and routes["default"].metric == 100
    docker = routes["172.17.0.0/16"]
    assert (docker.dev, docker.src, docker.scope, docker.protocol) == (
        "docker0", "172.17.0.1", "link", "kernel")
    assert docker.metric is None


def test_new_route_types_flags_and_host_routes():
    state = netlab.parse_ip_route(paste("ip-route-new.txt"))
    routes = {r.dst: r for r in state.route_list}
    assert routes["10.0.2.2/32"].protocol == "dhcp"
    assert "linkdown" in routes["172.17.0.0/16"].flags
    assert routes["10.99.0.0/16"].type == "blackhole"
    assert routes["198.51.100.0/24"].type == "unreachable" and routes["198.51.100.0/24"].metric == 10


def test_route_table_all_with_ipv6():
    state = netlab.parse_ip_route(paste("ip-route-table-all.txt"))
    local = [r for r in state.route_list if r.table == "local"]
    assert {(r.type, r.dst) for r in local} == {
        ("local", "10.0.2.15/32"), ("broadcast", "10.0.2.255/32"), ("local", "127.0.0.0/8"),
        ("multicast", "ff00::/8")}
    v6_default = [r for r in state.route_list if r.dst == "default" and r.family == 6]
    assert v6_default[0].gateway == "fe80::2" and v6_default[0].protocol == "ra"
    assert next(r for r in state.route_list if r.dst == "::1/128").family == 6


def test_multipath_nexthops():
    state = netlab.parse_ip_route(paste("ip-route-multipath.txt"))
    default = state.route_list[0]
    assert default.dst == "default" and default.metric == 1024
    assert default.nexthops == [
        {"gateway": "10.0.0.1", "dev": "eth0", "weight": 1},
        {"gateway": "10.0.1.1", "dev": "eth1", "weight": 2},
    ]
    assert len(state.route_list) == 2


@pytest.mark.parametrize("text, lineno, words", [
    ("default via 10.0.2.2 dev enp0s3\nbogus line here\n", 2, "not a route destination"),
    ("default via 10.0.2.999 dev enp0s3\n", 1, "gateway"),
    ("10.0.0.0/24 dev eth0 metric lots\n", 1, "metric"),
])
def test_route_errors_name_line(text, lineno, words):
    with pytest.raises(ParseError) as err:
        netlab.parse_ip_route(text)
    assert err.value.lineno == lineno and err.value.command == "ip route"
    assert words in str(err.value)
    assert err.value.line == text.splitlines()[lineno - 1]


def test_addr_error_names_line_and_hint_for_ifconfig():
    text = ("enp0s3: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500\n"
            "        inet 10.0.2.15  netmask 255.255.255.0  broadcast 10.0.2.255\n")
    with pytest.raises(ParseError) as err:
        netlab.parse_ip_addr(text)
    assert err.value.lineno == 1 and err.value.command == "ip addr show"
    assert "ifconfig" in err.value.hint and "ip addr" in err.value.hint


def test_addr_bad_address_and_bad_mac():
    with pytest.raises(ParseError, match="not an IP address") as err:
        netlab.parse_ip_addr("2: eth0: <UP> mtu 1500\n    inet 10.0.0.300/24 scope global eth0\n")
    assert err.value.lineno == 2
    assert err.value.hint is None  # it *is* ip addr output: no "you pasted X" hint
    with pytest.raises(ParseError, match="not a MAC"):
        netlab.parse_ip_addr("2: eth0: <UP> mtu 1500\n    link/ether zz:zz brd ff:ff:ff:ff:ff:ff\n")


def test_paste_starting_inside_an_interface_is_noted():
    state = netlab.parse_ip_addr(
        "    inet 10.0.0.1/24 scope global eth9\n       valid_lft forever preferred_lft forever\n"
        "3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n")
    assert [link.name for link in state.links] == ["docker0"]
    assert any("before the first interface" in n for n in state.notes)


def test_empty_paste_is_an_error():
    with pytest.raises(ParseError, match="no output"):
        netlab.parse_ip_addr("$ ip addr\n...\n\n")
