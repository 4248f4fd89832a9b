"""Lessons 00 and 01: each exercise's Check, driven with wrong and right answers
(the answer keys live here, not in the notebooks)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l00() -> dict[str, Any]:
    return run_lesson("00")


@pytest.fixture(scope="module")
def l01() -> dict[str, Any]:
    return run_lesson("01")


def test_00_prediction_starts_unanswered_and_reveals_only_after(l00: dict[str, Any]) -> None:
    assert l00["prediction"] is None
    assert "prediction first" in l00["reveal"](None)
    assert "your prediction was right" in l00["reveal"](False)
    assert "not what happened" in l00["reveal"](True)
    assert "unreachable" in l00["reveal"](False)  # ENETUNREACH, not "no route to host"


def test_00_hop_table_is_short(l00: dict[str, Any]) -> None:
    assert len(l00["journey"].summary().splitlines()) <= 12


def test_00_publish(l00: dict[str, Any]) -> None:
    drive(l00["ex2"], ["80:8080", "8080:8080", "9000:80"], "-p 8080:80", must_not_say=["8080:80"])
    unreadable(l00["ex2"], "port eighty")


def test_00_three_rules(l00: dict[str, Any]) -> None:
    assert l00["refused"].outcome == "dropped" and "policy" in l00["refused"].reason


def test_01_gateway(l01: dict[str, Any]) -> None:
    drive(l01["ex1"], ["172.17.0.2", "10.0.2.2"], "172.17.0.1/16", must_not_say=["172.17.0.1"])
    drive(l01["ex1"], ["192.168.56.38"], " Via 172.17.0.1 ", must_not_say=["172.17.0.1"])
    unreadable(l01["ex1"], "the gateway")


def test_01_learnt_port(l01: dict[str, Any]) -> None:
    drive(l01["ex2"], ["docker0", "eth0"], "vethca38e86", must_not_say=["vethca38e86"])


def test_01_ttl(l01: dict[str, Any]) -> None:
    drive(l01["ex3"], ["63", "0"], "TTL 64", must_not_say=["64"])
    unreadable(l01["ex3"], "sixty-four")


def test_01_build_isolation(l01: dict[str, Any]) -> None:
    ex4 = l01["ex4"]
    drive(ex4, ["-d 192.168.56.38 -j DROP",        # pre-DNAT address: matches nothing here
                "-i docker0 -j DROP",              # also web's replies to the LAN
                "-s 172.17.0.2 -j DROP"],          # and web's internet traffic
          "sudo iptables -I DOCKER-USER -i docker0 -o docker0 -j DROP")
    assert ex4.submit("-A DOCKER-USER -d 172.17.0.3/32 -p icmp -j DROP") is True
    assert ex4.submit("-I FORWARD -i docker0 -o docker0 -j DROP") is False  # not DOCKER-USER
    unreadable(ex4, "-d 172.17.0.3")                # no target
    unreadable(ex4, "-d 172.17.0.3 -j DORP")        # iptables would refuse it


def test_01_br_netfilter_demo(l01: dict[str, Any]) -> None:
    assert l01["locally_administered"]("22:35:bb:aa:3d:15")
    assert not l01["locally_administered"]("08:00:27:1f:2e:3d")


def test_01_build_mac(l01: dict[str, Any]) -> None:
    drive(l01["ex5"], ["03:00:00:00:00:01", "00:11:22:33:44:55", "08:00:27:00:00:01"], "02:00:00:00:00:07")
    assert l01["ex5"].submit("22-35-BB-00-00-01") is True
    unreadable(l01["ex5"], "zz")
