"""parse_host: several pastes, auto-detected or by keyword, merged; the seed article's host."""

from __future__ import annotations

import pytest

import netlab
from netlab import ParseError
from tests._pastes import paste

SEED_FILES = ("ip-addr-show.txt", "ip-route.txt", "brctl-show.txt", "iptables-save.txt")


def _seed(seed_dir):
    return [(seed_dir / name).read_text(encoding="utf-8") for name in SEED_FILES]


def _check_seed_host(state):
    docker0 = state.link("docker0")
    assert docker0.kind == "bridge" and docker0.mac == "02:42:68:de:b6:2a"
    assert "172.17.0.1/16" in [a.cidr for a in state.addresses_of("docker0")]
    veth = state.link("vethca38e86")
    assert veth.master == "docker0"
    assert (veth.peer_ifindex, veth.peer_netnsid) == (5, 0)
    assert [(p.bridge, p.port) for p in state.ports] == [("docker0", "vethca38e86")]
    assert state.bridges[0].bridge_id == "8000.024268deb62a"
    route = next(r for r in state.route_list if r.dst == "172.17.0.0/16")
    assert (route.dev, route.src) == ("docker0", "172.17.0.1")
    default = next(r for r in state.route_list if r.dst == "default")
    assert (default.gateway, default.dev) == ("10.0.2.2", "enp0s3")
    docker_chain = state.ruleset().tables["nat"].chains["DOCKER"]
    dnat = [r for r in docker_chain.rules if "-j DNAT" in r.text]
    assert len(dnat) == 1 and "--to-destination 172.17.0.2:80" in dnat[0].text


def test_seed_outputs_auto_detected(seed_dir):
    _check_seed_host(netlab.parse_host(*_seed(seed_dir)))


def test_seed_outputs_by_keyword(seed_dir):
    addr, route, brctl, rules = _seed(seed_dir)
    state = netlab.parse_host(ip_addr=addr, ip_route=route, brctl=brctl, iptables=rules)
    _check_seed_host(state)
    assert state.source == "paste"


def test_seed_outputs_in_one_paste_with_prompts(seed_dir):
    addr, route, brctl, rules = _seed(seed_dir)
    text = (f"vagrant@docker-host:~$ ip addr show\n{addr}"
            f"vagrant@docker-host:~$ ip route\n{route}"
            f"vagrant@docker-host:~$ brctl show\n{brctl}"
            f"vagrant@docker-host:~$ sudo iptables-save\n{rules}")
    state = netlab.parse_host(text)
    _check_seed_host(state)
    assert state.hostname == "docker-host"


def test_graph_of_seed_host(seed_dir):
    g = netlab.parse_host(*_seed(seed_dir)).graph()
    assert g.edges[("if", "", "vethca38e86"), ("if", "", "docker0")]["relation"] == "enslaved"
    placeholder = ("if", "netnsid 0", "if5")
    assert g.edges[("if", "", "vethca38e86"), placeholder]["relation"] == "veth-peer"
    assert g.nodes[placeholder]["placeholder"] is True


def test_host_and_container_pastes_join_once_netnsid_is_named():
    host = netlab.parse_ip_addr(paste("ip-addr-new-6.1.txt"))
    container = netlab.parse_ip_addr(
        "6: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
        "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
        "    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0\n", netns="web")
    state = host.merge(container)
    # host's veth3f2a1b0 (ifindex 7) points at ifindex 6 in its netnsid 0, and web's eth0
    # (ifindex 6) points back at ifindex 7: so netnsid 0 is "web", and web's 0 is the host
    assert state.namespace("").ids[0] == "web"
    assert state.namespace("web").ids[0] == ""
    assert state.peer_of(state.link("veth3f2a1b0")).name == "eth0"
    assert state.peer_of(state.link("eth0", "web")).name == "veth3f2a1b0"


def test_pastes_merge_without_duplicates(seed_dir):
    addr, _, brctl, _ = _seed(seed_dir)
    state = netlab.parse_host(addr, brctl, addr)
    assert len(state.links) == 2 and len(state.ports) == 1 and len(state.bridges) == 1
    assert len(state.addrs) == 3


def test_cat_proc_sys_and_sysctl_by_prompt():
    state = netlab.parse_host("$ cat /proc/sys/net/ipv4/ip_forward\n1\n"
                              "$ sysctl net.bridge.bridge-nf-call-iptables\n"
                              "net.bridge.bridge-nf-call-iptables = 0\n")
    assert state.sysctl("net.ipv4.ip_forward") == "1"
    assert state.sysctl("net.bridge.bridge-nf-call-iptables") == "0"


def test_errors_of_parse_host():
    with pytest.raises(ParseError, match="cannot tell which command") as err:
        netlab.parse_host("good morning\n")
    assert err.value.lineno == 1 and "ip addr" in err.value.hint
    with pytest.raises(ParseError, match="unknown keyword"):
        netlab.parse_host(ipaddr="x")
    with pytest.raises(ParseError) as err:
        netlab.parse_host("$ route -n\nKernel IP routing table\n")
    assert "ip route" in err.value.hint
    # a line number in the second command of a paste is the paste's own line number
    with pytest.raises(ParseError) as err:
        netlab.parse_host("$ ip route\nnot a route either\n$ ip route\nnot a route\n")
    assert err.value.lineno == 2 and err.value.line == "not a route either"
    with pytest.raises(ParseError) as err:
        netlab.parse_host("\n\n\n$ ip route\nnot a route\n")
    assert err.value.lineno == 5 and err.value.line == "not a route"
    # issue 14: a mixed paste keeps what it can read; the rest is a note with its lines
    state = netlab.parse_host("$ ip route\ndefault via 10.0.2.2 dev enp0s3\n$ ip route\nnot a route\n")
    assert [r.gateway for r in state.route_list] == ["10.0.2.2"]
    assert any(n.startswith("lines 3-4 (`ip route`) not read") and "line 4" in n for n in state.notes)


def test_commands_run_in_a_namespace_tag_what_they_print(seed_dir):
    addr = (seed_dir / "ip-addr-show.txt").read_text(encoding="utf-8")
    text = (f"$ ip addr\n{addr}"
            "$ sudo docker exec -it web ip addr\n"
            "5: eth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n"
            "    link/ether 02:42:ac:11:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
            "    inet 172.17.0.2/16 brd 172.17.255.255 scope global eth0\n"
            "$ sudo ip netns exec web ip route\n"
            "default via 172.17.0.1 dev eth0\n"
            "$ ip -n web -j netns list-id\n"
            "[]\n")
    state = netlab.parse_host(text)
    eth0 = state.link("eth0", "web")
    assert eth0 is not None and state.link("eth0") is None
    assert state.route_list[0].netns == "web" and state.route_list[0].gateway == "172.17.0.1"
    # the host's veth (ifindex 6) and web's eth0 (ifindex 5) point at each other
    assert state.peer_of(state.link("vethca38e86")).name == "eth0"
    assert state.namespace("").ids[0] == "web"
    g = state.graph()
    assert g.edges[("if", "", "vethca38e86"), ("if", "web", "eth0")]["relation"] == "veth-peer"


def test_parse_command():
    from netlab.parse.detect import parse_command

    assert parse_command("sudo ip netns exec ns1 iptables-save") == ("iptables-save", "ns1")
    assert parse_command("ip -n ns2 -j route") == ("ip -j route", "ns2")
    assert parse_command("docker exec -u root web ip a") == ("ip addr", "web")
    assert parse_command("nsenter --net=/run/netns/ns3 conntrack -L") == ("conntrack -L", "ns3")
    assert parse_command("ip route") == ("ip route", None)
