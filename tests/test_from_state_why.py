"""from_state (pastes/snapshot -> Scenario) and why() (one-paragraph answers)."""

from __future__ import annotations

import pytest

import netlab as nl
from netlab.cli import main
from netlab.scenarios import Container, docker_host, from_state, seed_host
from netlab.scenarios.seed import seed_state, seed_texts


def _renamed(sig: list[tuple], old: str, new: str) -> list[tuple]:
    return [tuple(x.replace(old, new) if isinstance(x, str) else x for x in t) for t in sig]


@pytest.mark.parametrize("src,dst,port", [("client", "192.168.56.38", 80),
                                          ("internet", "10.0.2.15", 80),
                                          ("client", "192.168.56.38", 8080),
                                          ("host", "172.17.0.2", 80)])
def test_from_seed_state_journeys_equal_seed_host(src: str, dst: str, port: int) -> None:
    built = from_state(seed_state())
    name = next(n for n, node in built.nodes.items() if node.role == "container")
    a = nl.connect(mode="sim", scenario=built, quiet=True).probe("http", src=src, dst=dst, dport=port)
    b = nl.connect(mode="sim", scenario=seed_host(), quiet=True).probe("http", src=src, dst=dst, dport=port)
    assert a.outcome == b.outcome
    assert _renamed(a.signature(), name, "web") == b.signature()


def test_guesses_are_listed_in_notes() -> None:
    built = from_state(seed_state())
    assert any("container name unknown: called ctr-172-17-0-2" in n for n in built.notes)
    assert any("ip_forward" in n for n in built.notes)
    again = nl.scenarios.Scenario.from_json(built.to_json())
    assert again.notes == built.notes


def test_snapshot_json_feeds_the_same_path() -> None:
    state = nl.HostState.from_json(seed_state().to_json())
    built = from_state(state)
    j = nl.connect(mode="sim", scenario=built, quiet=True).probe("tcp", src="client",
                                                                 dst="192.168.56.38", dport=80)
    assert j.outcome == "answered"


def test_docker_inspect_names_the_container_and_its_ports() -> None:
    inspect = """[{"Name": "/shop", "Config": {"Image": "nginx:1.27"},
      "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"},
                                               {"HostIp": "::", "HostPort": "80"}]},
        "Networks": {"bridge": {"IPAddress": "172.17.0.2", "IPPrefixLen": 16,
                                "Gateway": "172.17.0.1", "MacAddress": "02:42:ac:11:00:02"}}}}]"""
    built = from_state(seed_state(), docker=inspect)
    assert "shop" in built.nodes and built.nodes["shop"].image == "nginx:1.27"
    assert [str(p) for p in built.nodes["shop"].ports] == ["80:80/tcp"]
    assert not any("container name unknown" in n for n in built.notes)


def test_one_nic_host_gets_a_client_beside_the_gateway() -> None:
    texts = ["""$ ip addr
1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000
    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
    inet 127.0.0.1/8 scope host lo
2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UP group default qlen 1000
    link/ether 52:54:00:aa:bb:cc brd ff:ff:ff:ff:ff:ff
    inet 192.168.1.20/24 brd 192.168.1.255 scope global eth0
3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default
    link/ether 02:42:5e:11:22:33 brd ff:ff:ff:ff:ff:ff
    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0
""", """$ ip route
default via 192.168.1.1 dev eth0 proto dhcp metric 100
172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1
192.168.1.0/24 dev eth0 proto kernel scope link src 192.168.1.20 metric 100
""", seed_texts()["iptables-save.txt"]]
    built = from_state(nl.parse_host(*texts))
    assert built.nodes["gateway"].interface("lan0").ips == ["192.168.1.1"]
    assert any("veth" in n and "no host veth" in n for n in built.notes)
    j = nl.connect(mode="sim", scenario=built, quiet=True).probe("tcp", src="client",
                                                                 dst="192.168.1.20", dport=80)
    assert j.outcome == "answered", j.summary()


def test_why_names_the_missing_listener_and_forwarding() -> None:
    answer = nl.why(seed_host(), src="client", dst="192.168.56.38", dport=81)
    assert answer.stopped and "nothing listens on tcp port 81" in answer.text
    sc = seed_host()
    sc.host.sysctls["net.ipv4.ip_forward"] = "0"
    answer = nl.why(sc, src="client", dst="192.168.56.38", dport=80)
    assert "ip_forward" in answer.text and "DNAT 192.168.56.38:80" in answer.text
    ok = nl.why(seed_host(), src="client", dst="192.168.56.38", dport=80)
    assert not ok.stopped and "got through" in ok.text


def test_why_names_the_rule_that_dropped() -> None:
    sc = seed_host()
    sc.host.iptables = sc.host.iptables.replace(":INPUT ACCEPT", ":INPUT ACCEPT").replace(
        "-A FORWARD -j DOCKER-USER", "-A FORWARD -p tcp --dport 80 -j DROP\n-A FORWARD -j DOCKER-USER")
    answer = nl.why(sc, src="client", dst="192.168.56.38", dport=80)
    assert "FORWARD" in answer.text and "-j DROP" in answer.text, answer.text


def test_why_bound_to_loopback() -> None:
    sc = docker_host(version="27", containers=[Container("web", ports=["80:80"])])
    sc.host.services.append(nl.scenarios.Service("tcp", 5432, "tcp", bind="127.0.0.1"))
    answer = nl.why(sc, src="client", dst=sc.host.interface("enp0s8").ips[0], dport=5432)
    assert "127.0.0.1" in answer.text, answer.text


def test_why_cli(tmp_path, capsys) -> None:
    files = []
    for name, text in seed_texts().items():
        f = tmp_path / name
        f.write_text(text, encoding="utf-8")
        files.append(str(f))
    assert main(["why", "client", "192.168.56.38:81", "--paste", *files]) == 1
    assert "nothing listens" in capsys.readouterr().out
    snap = tmp_path / "snap.json"
    snap.write_text(seed_state().to_json(), encoding="utf-8")
    assert main(["why", "client", "192.168.56.38:80", "--state", str(snap)]) == 0
    assert "got through" in capsys.readouterr().out
    assert main(["why", "client", "192.168.56.38", "--state", str(snap)]) == 2
