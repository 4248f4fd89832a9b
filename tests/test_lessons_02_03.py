"""Lessons 02 and 03: each exercise's Check, driven with wrong and right answers
(the answer keys live here, not in the notebooks)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l02() -> dict[str, Any]:
    return run_lesson("02")


@pytest.fixture(scope="module")
def l03() -> dict[str, Any]:
    return run_lesson("03")


def test_02_peer(l02: dict[str, Any]) -> None:
    drive(l02["ex1"], ["docker0", "eth0", "vethxyz"], "host:vethca38e86@if5", must_not_say=["vethca38e86"])
    unreadable(l02["ex1"], "the veth!")


def test_02_article_peer(l02: dict[str, Any]) -> None:
    drive(l02["ex2"], ["6", "4"], "if5", must_not_say=["5"])
    unreadable(l02["ex2"], "five")


def test_02_same_frames(l02: dict[str, Any]) -> None:
    drive(l02["ex3"], ["the TTL", "the MAC addresses"], "nothing: the bytes are identical",
          must_not_say=["identical"])


def test_02_find_host_veth_runs_the_learners_function(l02: dict[str, Any]) -> None:
    ex4 = l02["ex4"]
    assert ex4.submit("find_host_veth") is False  # the stub returns None
    l02["find_host_veth"] = lambda net, c: "eth0"
    assert ex4.submit("find_host_veth") is False and "eth0" in ex4.message
    l02["find_host_veth"] = lambda net, c: [][0]
    assert ex4.submit("find_host_veth") is False and "IndexError" in ex4.message

    def by_name_guess(net: Any, container: str) -> str:  # right on the lesson's host only
        return "vethca38e86"

    l02["find_host_veth"] = by_name_guess
    assert ex4.submit("find_host_veth") is False

    def by_index(net: Any, container: str) -> str:
        eth0 = next(link for link in net.state(container).links if link.name == "eth0")
        return next(link.name for link in net.state("host").links if link.ifindex == eth0.peer_ifindex)

    l02["find_host_veth"] = by_index
    assert ex4.submit("find_host_veth") is True


def test_03_exit_iface(l03: dict[str, Any]) -> None:
    drive(l03["ex1"], ["enp0s3", "vethca38e86"], "docker0", must_not_say=["docker0"])


def test_03_prefix(l03: dict[str, Any]) -> None:
    drive(l03["ex2"], ["172.17.0.0/16", "10.0.2.0/24"], "0.0.0.0/0", must_not_say=["default"])
    assert l03["ex2"].submit("Default") is True
    unreadable(l03["ex2"], "the default one")


def test_03_forward(l03: dict[str, Any]) -> None:
    drive(l03["ex3"], ["yes"], "no")


def test_03_build_route(l03: dict[str, Any]) -> None:
    ex4 = l03["ex4"]
    drive(ex4, ["ip route add 172.17.0.0/16 via 10.0.2.15",     # off-link gateway: refused
                "ip route add 172.17.0.0/16 via 192.168.56.38 dev eth9",
                "ip route add 172.18.0.0/16 via 192.168.56.38"],  # the wrong network
          "ip route add 172.17.0.0/16 via 192.168.56.38", must_not_say=["172.17.0.0/16 via"])
    assert ex4.submit("172.17.0.2/32 via 192.168.56.38 dev eth0") is True
    unreadable(ex4, "ip route add 172.17.0.0/16")


def test_03_demos(l03: dict[str, Any]) -> None:
    assert l03["bridged"].ok and not l03["needs_routing"].ok          # ip_forward=0: bridging still works
    assert "unreachable" in l03["direct"].reason.lower()        # ENETUNREACH


def test_02_container_of_runs_the_learners_function(l02: dict[str, Any]) -> None:
    ex5 = l02["ex5"]
    assert ex5.submit("container_of") is False  # the stub returns None
    l02["container_of"] = lambda net, veth: "web"
    assert ex5.submit("container_of") is False and "'web'" in ex5.message

    def by_peer(net: Any, veth: str) -> str:
        host = net.state("host")
        return host.peer_namespace(next(link for link in host.links if link.name == veth))

    l02["container_of"] = by_peer
    assert ex5.submit("container_of") is True


def test_03_build_sysctl(l03: dict[str, Any]) -> None:
    drive(l03["ex5"], ["net.ipv4.conf.all.rp_filter=1", "sysctl -w net.bridge.bridge-nf-call-iptables=0"],
          "sudo sysctl -w net.ipv4.ip_forward=1", must_not_say=["ip_forward=1"])
    assert l03["ex5"].submit("sysctl -w net.ipv4.conf.all.forwarding=1") is True  # the same switch
    unreadable(l03["ex5"], "sysctl -w vm.swappiness=10")
    unreadable(l03["ex5"], "ip_forward on")
