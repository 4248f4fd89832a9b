"""Docker 29's nftables tables as netlab generates them == as moby's tests captured them.

Every ``*.nft-list-table.txt`` / ``*.nft-ip.txt`` / ``*.nft-ip6.txt`` fixture in
tests/data/docker-rules/ names its scenario (the same names as the iptables fixtures,
so ``scenario_for`` of test_scenarios_rules gives the networks and endpoints); the
generated ``table ip|ip6 docker-bridges`` must equal it, chain by chain, rule by rule and
in order (counters and layout normalised, map elements compared as sets)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import DOCKER_RULES
from test_scenarios_rules import scenario_for

from netlab.netfilter import parse_nft
from netlab.scenarios import Container, docker_host
from netlab.scenarios.docker_nft import docker_nft_rules
from netlab.scenarios.docker_rules import Endpoint
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.topology import BridgeNetwork, PortMapping

NFT_FIXTURES = sorted(DOCKER_RULES.glob("docker29*.nft-*.txt"))
NOT_EXPRESSIBLE = {
    "unit-bridge-driver__routed_icc_masq_proxy-on_publish-0.0.0.0-8080": (
        "a bridge-driver unit test that hands a routed network a host port; a daemon never does "
        "(usernet-portmap-routed, which the builder reproduces, is the daemon's routed case)"),
}
V6_SUBNET, V6_EP = "fd49:efd7:54aa::/64", "fd49:efd7:54aa::1"


def _scenario(path: Path) -> tuple[str, dict]:
    stem, _, kind = path.name.partition(".nft-")
    name = stem.split("__", 1)[1]
    spec = scenario_for(path.with_name(stem + ".iptables-S.txt"))
    family = "ip6" if kind.startswith("ip6") else "ip"
    if family == "ip6":  # the unit tests' IPv6 side of br-dummy
        spec["networks"] = [dataclasses.replace(n, subnet=V6_SUBNET, gateway="fd49:efd7:54aa::",
                                                host_ipv6="fd34:d0d4:672f::123" if n.host_ipv4 else None)
                            for n in spec["networks"]]
        spec["endpoints"] = [Endpoint(e.bridge, V6_EP, [PortMapping(p.host_port, p.container_port, p.proto,
                                                                    "::1" if p.host_ip == "127.0.0.1" else "::")
                                                        for p in e.ports]) for e in spec["endpoints"]]
    return name, {"family": family, **spec}


def _normal(text: str) -> list:
    return [t.normalised() for t in parse_nft(text).tables]


@pytest.mark.parametrize("path", NFT_FIXTURES, ids=lambda p: p.name)
def test_generated_nft_tables_equal_fixture(path: Path) -> None:
    name, spec = _scenario(path)
    if name in NOT_EXPRESSIBLE:
        pytest.skip(f"not expressible: {NOT_EXPRESSIBLE[name]}")
    got = docker_nft_rules(spec["networks"], spec["endpoints"], userland_proxy=spec["userland_proxy"],
                           family=spec["family"])
    want = _normal(path.read_text())
    mine = _normal(got)
    assert mine == want, f"{path.name}\n--- generated\n{got}"


def test_all_nft_fixtures_are_covered() -> None:
    assert len(NFT_FIXTURES) >= 30
    assert sum(1 for p in NFT_FIXTURES if _scenario(p)[0] in NOT_EXPRESSIBLE) == 2  # ip and ip6


def test_a_difference_is_caught() -> None:
    path = DOCKER_RULES / "docker29.0.0__usernet-portmap.nft-list-table.txt"
    _, spec = _scenario(path)
    swapped = dataclasses.replace(spec["networks"][1], icc=False)
    got = docker_nft_rules([spec["networks"][0], swapped], spec["endpoints"])
    assert _normal(got) != _normal(path.read_text())


DAEMON_CASES = {
    "docker29.0.0__usernet-portmap.nft-list-table.txt":
        dict(networks=[BridgeNetwork("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1")],
             containers=[Container("c1", ports=["8080:80"], network="bridge1")]),
    "docker29.0.0__usernet-portmap-lo.nft-list-table.txt":
        dict(networks=[BridgeNetwork("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1")],
             containers=[Container("c1", ports=["127.0.0.1:8080:80"], network="bridge1")]),
    "docker29.0.0__usernet-portmap-noproxy.nft-list-table.txt":
        dict(userland_proxy=False, networks=[BridgeNetwork("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1")],
             containers=[Container("c1", ports=["8080:80"], network="bridge1")]),
    "docker29.0.0__usernet-portmap-noicc.nft-list-table.txt":
        dict(networks=[BridgeNetwork("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1", icc=False)],
             containers=[Container("c1", ports=["8080:80"], network="bridge1")]),
    "docker29.0.0__usernet-internal.nft-list-table.txt":
        dict(networks=[dict(name="bridgeICC", bridge="bridgeICC", subnet="192.0.2.0/24", internal=True),
                       dict(name="bridgeNoICC", bridge="bridgeNoICC", subnet="198.51.100.0/24",
                            internal=True, icc=False)],
             containers=[Container("a", network="bridgeICC"), Container("b", network="bridgeNoICC")]),
    "docker29.0.0__new-daemon.nft-list-table.txt": dict(containers=[]),
}


@pytest.mark.parametrize("rel", sorted(DAEMON_CASES))
def test_docker_host_29_nftables_programs_the_fixture_tables(rel: str) -> None:
    sc = docker_host(version="29", firewall_backend="nftables", ip_forward_was_on=True, **DAEMON_CASES[rel])
    assert sc.host.iptables == ""  # the nftables backend writes no iptables rule
    assert _normal(sc.host.nftables) == _normal((DOCKER_RULES / rel).read_text())


def test_the_default_bridge_with_a_published_port() -> None:
    sc = docker_host(version="29", firewall_backend="nftables", containers=[Container("web", ports=["80:80"])])
    rs = parse_nft(sc.host.nftables)
    web = sc.nodes["web"].interface("eth0").ips[0]
    tr = rs.trace({"proto": "tcp", "src": "192.168.56.1", "dst": "192.168.56.38", "dport": 80, "sport": 4000},
                  hook="prerouting", in_iface="eth0", local_addrs=sc.host.ips())
    assert tr.nat is not None and tr.nat.after == (web, 80)
    assert tr.nat.rule == "docker-bridges:nat-prerouting-and-output:1"


def test_nftables_backend_needs_docker_29() -> None:
    with pytest.raises(ScenarioError, match="29"):
        docker_host(version="28", firewall_backend="nftables")
    with pytest.raises(ScenarioError, match="iptables or nftables"):
        docker_host(version="29", firewall_backend="pf")
