"""Reading a learner's fix as the commands they would type on the host."""

from __future__ import annotations

import pytest

import netlab.drills as drills
from netlab.drills.fixes import (
    FixError,
    IptablesOp,
    LinkOp,
    ListenOp,
    PortOp,
    RestoreOp,
    RouteOp,
    SysctlOp,
    parse_fix,
)


@pytest.mark.parametrize("text, kind", [
    ("iptables -I DOCKER-USER -s 192.168.56.1 -j ACCEPT", IptablesOp),
    ("sudo iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE", IptablesOp),
    ("-P FORWARD DROP", IptablesOp),
    ("net.ipv4.ip_forward=1", SysctlOp),
    ("sysctl -w net.ipv4.ip_forward=1", SysctlOp),
    ("sysctl net.ipv4.ip_forward = 1", SysctlOp),
    ("echo 1 > /proc/sys/net/ipv4/ip_forward", SysctlOp),
    ("echo 1 | sudo tee /proc/sys/net/ipv4/ip_forward", SysctlOp),
    ("docker run -d --name web -p 8080:80 nginx", PortOp),
    ("docker run -d -p 0.0.0.0:80:80 nginx", PortOp),
    ("docker exec web ip route add default via 172.17.0.1", RouteOp),
    ("web: ip r a default via 172.17.0.1 dev eth0", RouteOp),
    ("ip link set dev veth1 up", LinkOp),
    ("ip link set veth1 master docker0", LinkOp),
    ("brctl addif docker0 veth1", LinkOp),
    ("listen 0.0.0.0:80;", ListenOp),
    ("*filter\n:FORWARD DROP [0:0]\nCOMMIT", RestoreOp),
])
def test_forms_accepted(text: str, kind: type) -> None:
    ops = parse_fix(text)
    assert len(ops) == 1 and isinstance(ops[0], kind)


def test_node_prefixes() -> None:
    assert parse_fix("docker exec -it shop ip route del default")[0].node == "shop"
    assert parse_fix("ip netns exec client ip route add 10.0.0.0/8 via 192.168.56.38")[0].node == "client"
    assert parse_fix("root@web:/# ip route add default via 172.17.0.1")[0].node == "web"
    assert parse_fix("iptables -P FORWARD DROP")[0].node == "host"


@pytest.mark.parametrize("text, message", [
    ("please open the port", "iptables \\[-t TABLE\\]"),
    ("iptables -L -n", "only lists"),
    ("iptables -t nothing -A X -j ACCEPT", "no table"),
    ("iptables -I DOCKER-USER -s 999.1.1.1 -j ACCEPT", "refuse"),
    ("sysctl -w net.ipv4.ip_forward=yes", "takes 0 or 1"),
    ("sysctl -w kernel.panic=1", "not a sysctl"),
    ("docker run -d nginx", "no -p"),
    ("docker run -p 70000:80 nginx", "65535"),
    ("ip route add default via nowhere", "not an IPv4"),
    ("curl http://192.168.56.38/", "changes nothing"),
    ("", "empty"),
])
def test_unknown_or_bad_forms_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(FixError, match=message):
        parse_fix(text)


def test_host_refusals_in_the_kernel_s_words() -> None:
    d = drills.load("ip_forward_off", 0)
    with pytest.raises(FixError, match="No chain/target/match"):
        d.apply("iptables -I NO-SUCH-CHAIN -j ACCEPT")
    with pytest.raises(FixError, match="Bad rule"):
        d.apply("iptables -D DOCKER-USER -s 10.9.9.9 -j DROP")
    with pytest.raises(FixError, match="File exists"):
        d.apply("ip route add default via 10.0.2.2")
    with pytest.raises(FixError, match="Cannot find device"):
        d.apply("ip link set nosuch0 up")
    with pytest.raises(FixError, match="no container or node"):
        d.apply("docker exec ghost ip route del default")
    with pytest.raises(FixError, match="Bad built-in chain"):
        d.apply("iptables -P DOCKER-USER DROP")
    assert d.fixes == []


def test_delete_matches_rules_written_differently() -> None:
    d = drills.load("masquerade_missing", 0)
    d.apply(d.solution())
    sol = d.solution().replace("-A POSTROUTING", "-D POSTROUTING")
    d.apply(sol.replace("-s 172.17.0.0/16", "--source 172.17.0.0/16"))
    assert not d.check().solved


def test_insert_position_and_iptables_restore_text() -> None:
    d = drills.load("docker_user_drop", 0)
    d.apply("iptables -I DOCKER-USER 1 -s 192.168.56.1/32 -p tcp --dport 80 -j ACCEPT")
    rules = d.net.state("host").ruleset().tables["filter"].chains["DOCKER-USER"].rules
    assert "ACCEPT" in rules[0].save_line()
    d = drills.load("forward_accept", 0)
    text = d.scenario.host.iptables.replace(":FORWARD ACCEPT", ":FORWARD DROP")
    filt = text[text.index("*filter"):]
    d.apply(filt)
    assert d.check().solved


def test_sysctl_of_a_missing_interface_and_forwarding_alias() -> None:
    d = drills.load("ip_forward_off", 0)
    with pytest.raises(FixError, match="cannot stat"):
        d.apply("sysctl -w net.ipv4.conf.eth9.route_localnet=1")
    d.apply("sysctl -w net.ipv4.conf.all.forwarding=1")
    assert d.scenario.host.sysctls["net.ipv4.ip_forward"] == "1"


def test_link_down_is_simulated() -> None:
    d = drills.load("veth_down", 0)  # even seed: the host-side veth is down
    veth = d.solution().split()[3]
    links = {link.name: link for link in d.net.state("host").links}
    assert links[veth].state == "DOWN"
    ctr = {link.name: link for link in d.net.state(d.container).links}
    assert "NO-CARRIER" in ctr["eth0"].flags
    d.apply(d.solution())
    assert {link.name: link for link in d.net.state("host").links}[veth].state == "UP"


def test_modprobe_changes_nothing_and_says_so() -> None:
    d = drills.load("brnf_off_icc", 0)
    assert "changes nothing" in d.apply("modprobe br_netfilter")
    assert not d.check().solved
