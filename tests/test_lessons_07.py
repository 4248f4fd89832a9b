"""Lesson 07 (hairpin and the userland proxy): each exercise's Check, driven with wrong
and right answers, and the claims its demonstration cells make (the answer keys live here)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l07() -> dict[str, Any]:
    return run_lesson("07")


def test_07_proxy_listens_and_hairpins(l07: dict[str, Any]) -> None:
    assert "0.0.0.0:8080" in l07["ss_ltnp"](l07["net"]) and "docker-proxy" in l07["ss_ltnp"](l07["net"])
    own = l07["own"]
    assert own.ok and not [e for e in own.nat_rewrites if e.rule]       # docker-proxy, no NAT rule
    assert own.first_seen(node="web", iface="eth0", direction="in", flags="S").frame.src == "172.17.0.1"
    assert l07["pre"].nat is None and "nat:DOCKER:1" in l07["pre"].positions


def test_07_proxy_off_rules_and_hairpin(l07: dict[str, Any]) -> None:
    added = set(l07["off_rules"]) - set(l07["on_rules"])
    assert any("--src-type LOCAL -j MASQUERADE" in line for line in added)
    assert not any("-i docker0 -j RETURN" in line for line in l07["off_rules"])
    assert l07["PROXY_OFF"].host.sysctls["net.ipv4.conf.docker0.route_localnet"] == "1"
    hp = l07["hp"]
    assert [e.rule for e in hp.nat_rewrites if e.rule] == ["nat:DOCKER:1", "nat:POSTROUTING:3"]
    assert hp.first_seen(node="web", iface="eth0", direction="in", flags="S").frame.src == "172.17.0.1"


def test_07_without_masquerade(l07: dict[str, Any]) -> None:
    assert not l07["fail"].ok and l07["via_app"].ok
    back = l07["fail"].first_seen(node="web", iface="eth0", direction="in", flags="S").frame
    assert (back.src, back.dst, back.dport) == ("172.17.0.2", "172.17.0.2", 80)


def test_07_hairpin_source(l07: dict[str, Any]) -> None:
    drive(l07["ex1"], ["172.17.0.2", "192.168.56.38"], "inet 172.17.0.1/16", must_not_say=["172.17.0.1"])
    unreadable(l07["ex1"], "docker-proxy")


def test_07_no_masquerade_prediction(l07: dict[str, Any]) -> None:
    drive(l07["ex2"], ["yes"], "no")


def test_07_route_localnet(l07: dict[str, Any]) -> None:
    ex3 = l07["ex3"]
    drive(ex3, ["net.ipv4.ip_forward", "net.ipv4.conf.all.route_localnet"],
          "sudo sysctl -w net.ipv4.conf.docker0.route_localnet=0", must_not_say=["docker0.route_localnet"])
    assert ex3.submit("/proc/sys/net/ipv4/conf/docker0/route_localnet") is True
    assert ex3.submit("net.bridge.bridge-nf-call-iptables") is False
    unreadable(ex3, "route localnet")


def test_07_hairpin_rule_build(l07: dict[str, Any]) -> None:
    ex4 = l07["ex4"]
    drive(ex4, ["-o docker0 -j MASQUERADE",               # hides the LAN client too
                "-s 172.17.0.0/16 -j MASQUERADE",          # hides app's direct connection
                "-p tcp --dport 80 -j ACCEPT"],             # rewrites nothing
          "iptables -t nat -A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j MASQUERADE",
          must_not_say=["-s 172.17.0.2/32 -d 172.17.0.2/32"])
    assert ex4.submit("-A POSTROUTING -s 172.17.0.2 -d 172.17.0.2 -j SNAT --to-source 172.17.0.1") is True
    assert ex4.submit("-A PREROUTING -s 172.17.0.2 -j MASQUERADE") is False
    unreadable(ex4, "-j SNAT")
    unreadable(ex4, "-t filter -A POSTROUTING -j MASQUERADE")
    unreadable(ex4, "masquerade it")
