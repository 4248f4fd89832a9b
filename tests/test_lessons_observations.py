"""The article's observations lessons 01 and 03 explain (issue 13): brd, scope, the EUI-64
fe80 addresses, mtu/qdisc, STP, docker0 DOWN without a port (the simulator now says so, as
the kernel does), and a route's src."""

from __future__ import annotations

from typing import Any

import pytest

import netlab as nl
from tests._lessons import run_lesson, sim_mode  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l01() -> dict[str, Any]:
    return run_lesson("01")


@pytest.fixture(scope="module")
def l03() -> dict[str, Any]:
    return run_lesson("03")


@pytest.mark.parametrize(("mac", "fe80"), [
    ("02:42:68:de:b6:2a", "fe80::42:68ff:fede:b62a"),       # the article's docker0
    ("22:35:bb:aa:3d:15", "fe80::2035:bbff:feaa:3d15"),     # its veth
    ("00:1b:21:3a:4f:10", "fe80::21b:21ff:fe3a:4f10"),      # a vendor MAC: the U/L bit set
])
def test_01_eui64(l01: dict[str, Any], mac: str, fe80: str) -> None:
    assert str(l01["eui64_link_local"](mac)) == fe80


def test_01_docker0_down_without_a_port(l01: dict[str, Any]) -> None:
    assert l01["bridge_up"] == {"no container": "DOWN", "web running": "UP"}


def test_sim_bridge_carrier_follows_its_ports() -> None:
    with nl.connect(mode="sim", scenario=nl.docker_host("28", containers=[]), quiet=True) as net:
        docker0 = next(link for link in net.state("host").links if link.name == "docker0")
        lo = next(link for link in net.state("host").links if link.name == "lo")
    assert docker0.flags == ["NO-CARRIER", "BROADCAST", "MULTICAST", "UP"] and docker0.state == "DOWN"
    assert docker0.qdisc == "noqueue" and lo.flags == ["LOOPBACK", "UP", "LOWER_UP"]
    with nl.connect(mode="sim", scenario=nl.docker_host("28"), quiet=True) as net:
        docker0 = next(link for link in net.state("host").links if link.name == "docker0")
    assert docker0.flags == ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"] and docker0.state == "UP"


def test_03_route_src(l03: dict[str, Any]) -> None:
    assert l03["own_sources"] == {"172.17.0.2": "172.17.0.1", "192.168.56.1": "192.168.56.38"}
    assert l03["forwarded"].frame.src == "192.168.56.1"
