"""ip -j / bridge -j JSON, and docker network inspect."""

from __future__ import annotations

import json

import pytest

import netlab
from netlab import ParseError
from tests._pastes import paste


def test_ip_j_d_addr_real_capture():
    state = netlab.parse_ip_json(paste("ip-j-d-addr.json"))
    assert state.link("br0").driver == "bridge" and state.link("br0").kind == "bridge"
    v1 = state.link("v1")
    assert v1.kind == "veth" and v1.master == "br0"
    assert (v1.peer_ifindex, v1.peer_netnsid) == (2, 0)
    # same-namespace pair: JSON names the peer ("link": "v2p") instead of giving its index
    assert state.peer_of(state.link("v2")).name == "v2p"
    port = next(p for p in state.ports if p.port == "v1")
    assert (port.bridge, port.state, port.hairpin) == ("br0", "forwarding", False)
    assert [a.cidr for a in state.addresses_of("br0", family=4)] == ["10.9.0.1/24"]


def test_ip_j_route_all_tables():
    state = netlab.parse_ip_json(paste("ip-j-route-all.json"))
    local = [r for r in state.route_list if r.type == "local" and r.family == 4]
    assert local[0].dst == "10.9.0.1/32" and local[0].table == "local"
    main = [r for r in state.route_list if r.table == "main" and r.family == 4]
    assert main[0].dst == "10.9.0.0/24" and main[0].src == "10.9.0.1"


def test_netns_list_id_bridge_link_and_fdb():
    ids = netlab.parse_ip_json(paste("ip-j-netns-list-id.json"))
    assert ids.namespace("").ids == {0: "nlp2devb"}
    ports = netlab.parse_ip_json(paste("bridge-j-link.json"))
    assert [(p.port, p.bridge, p.state, p.cost) for p in ports.ports] == [
        ("v1", "br0", "forwarding", 2)]
    fdb = netlab.parse_ip_json(paste("bridge-j-fdb.json"))
    assert any(e.dev == "v1" and e.bridge == "br0" and e.state is None for e in fdb.fdb)
    assert any(e.state == "permanent" and "self" in e.flags for e in fdb.fdb)


def test_old_iproute2_json_with_empty_objects():
    state = netlab.parse_ip_json(paste("ip-j-addr-iproute2-4.14.json"))
    veth = state.link("vethca38e86")
    assert (veth.kind, veth.peer_ifindex, veth.peer_netnsid) == ("veth", 5, 0)
    assert state.link("docker0").kind == "bridge"  # it is veth's master


def test_json_and_text_agree_on_the_same_host():
    from_json = netlab.parse_ip_json(paste("ip-j-d-addr.json"))
    text = netlab.parse_ip_link(paste("ip-d-link.txt"))
    for name in ("br0", "v1", "v2", "v2p"):
        a, b = from_json.link(name), text.link(name)
        assert (a.kind, a.ifindex, a.mac, a.master, a.peer_ifindex) == (
            b.kind, b.ifindex, b.mac, b.master, b.peer_ifindex)


@pytest.mark.parametrize("text, words", [
    ('[{"ifname": "eth0", "mtu": "big"}]', "should be a number"),
    ('{"ifname": "eth0"}', "JSON list"),
    ('[{"foo": 1}]', "not ip link"),
    ('[{"ifname": "eth0"},\n {"ifname": ]', "invalid JSON"),
    ('[{"dst": "10.0.0.300/24"}]', "not a route destination"),
])
def test_json_errors(text, words):
    with pytest.raises(ParseError, match=words):
        netlab.parse_ip_json(text)


def test_json_error_names_the_line():
    with pytest.raises(ParseError) as err:
        netlab.parse_ip_json('[\n  {"ifname": "eth0"},\n  {"ifname": oops}\n]')
    assert err.value.lineno == 3 and "oops" in err.value.line


def test_docker_network_inspect():
    state = netlab.parse_docker_network_inspect(paste("docker-network-inspect-bridge.json"))
    assert [n["Name"] for n in state.docker_networks] == ["bridge", "appnet"]
    assert state.link("docker0").kind == "bridge"
    assert state.link("br-5d2f0c3e1a9b").kind == "bridge"  # br- + the id's first 12
    assert [a.cidr for a in state.addresses_of("docker0")] == ["172.17.0.1/16"]
    route = next(r for r in state.route_list if r.dev == "docker0")
    assert (route.dst, route.src) == ("172.17.0.0/16", "172.17.0.1")
    assert any(ns.name == "web" for ns in state.namespaces)
    # the raw objects survive the JSON round trip
    assert netlab.HostState.from_json(state.to_json()).docker_networks == state.docker_networks


def test_docker_inspect_of_a_container_gets_a_hint():
    text = json.dumps([{"Id": "abc", "Name": "/web", "NetworkSettings": {"Networks": {}}}])
    with pytest.raises(ParseError) as err:
        netlab.parse_docker_network_inspect(text)
    assert "docker network inspect" in str(err.value)
    assert "docker inspect" in (err.value.hint or "")
