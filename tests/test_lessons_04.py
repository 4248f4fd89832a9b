"""Lesson 04: each exercise's Check, driven with wrong and right answers, and the claims
its demonstration cells make (the answer keys live here, not in the notebook)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l04() -> dict[str, Any]:
    return run_lesson("04")


def test_04_hooks_two_or_three(l04: dict[str, Any]) -> None:
    assert list(l04["paths"].values()) == [["PREROUTING", "FORWARD", "POSTROUTING"],
                                           ["PREROUTING", "INPUT"], ["OUTPUT", "POSTROUTING"]]


def test_04_loopback_publish_by_release(l04: dict[str, Any]) -> None:
    assert l04["loopback_published"] == {"27": "answered", "28.0.0": "dropped"}


def test_04_dnat_rule(l04: dict[str, Any]) -> None:
    drive(l04["ex1"], ["nat:PREROUTING:1", "nat:DOCKER:1"], "NAT docker 2", must_not_say=["DOCKER:2"])
    unreadable(l04["ex1"], "DOCKER:2")
    unreadable(l04["ex1"], "the DNAT one")


def test_04_masquerade(l04: dict[str, Any]) -> None:
    drive(l04["ex2"], ["172.17.0.2", "192.168.56.38"], "10.0.2.15/24", must_not_say=["10.0.2.15"])
    unreadable(l04["ex2"], "the host")


def test_04_input(l04: dict[str, Any]) -> None:
    drive(l04["ex4"], ["yes"], "no")


def test_04_docker_user_build(l04: dict[str, Any]) -> None:
    ex3 = l04["ex3"]
    drive(ex3, ["-d 192.168.56.38/32 -p tcp -m tcp --dport 80 -j DROP",   # pre-DNAT: never matches
                "-p tcp -m tcp --dport 80 -j DROP",                       # also web's outbound HTTP...
                "-p tcp --sport 80 -j DROP"],                             # ...and its replies
          "iptables -I DOCKER-USER -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j DROP",
          must_not_say=["172.17.0.2/32"])
    assert ex3.submit("-A DOCKER-USER -p tcp -m conntrack --ctorigdst 192.168.56.38 --ctorigdstport 80 -j DROP")
    assert ex3.submit("-I FORWARD -d 172.17.0.2/32 -j DROP") is False
    unreadable(ex3, "-p tcp --dport eighty -j DROP")
    unreadable(ex3, "-m recent --set -j DROP")   # not modelled: not judged as "never matched"
    unreadable(ex3, "-d 172.17.0.2")


def test_04_loopback_guard_build(l04: dict[str, Any]) -> None:
    ex5 = l04["ex5"]
    drive(ex5, ["-p tcp --dport 80 -j DROP",          # the crafted packet still passes
                "-d 127.0.0.1/32 -j DROP",            # also the host's own request (on lo)
                "-i enp0s8 -j DROP"],                 # the LAN loses the host altogether
          "-A PREROUTING -d 127.0.0.1/32 ! -i lo -j DROP", must_not_say=["! -i lo"])
    assert ex5.submit("iptables -t raw -I PREROUTING -d 127.0.0.0/8 ! -i lo -j DROP") is True
    unreadable(ex5, "-t nat -A PREROUTING -j DROP")
