"""Lesson 05 (nat and conntrack): each exercise's Check, driven with wrong and right answers, and the claims
its demonstration cells make (the answer keys live here, not in the notebook)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l05() -> dict[str, Any]:
    return run_lesson("05")


def test_05_hooks_two_or_three(l05: dict[str, Any]) -> None:
    assert list(l05["paths"].values()) == [["PREROUTING", "FORWARD", "POSTROUTING"],
                                           ["PREROUTING", "INPUT"], ["OUTPUT", "POSTROUTING"]]


def test_05_loopback_publish_by_release(l05: dict[str, Any]) -> None:
    assert l05["loopback_published"] == {"27": "answered", "28.0.0": "dropped"}


def test_05_dnat_rule(l05: dict[str, Any]) -> None:
    drive(l05["ex1"], ["nat:PREROUTING:1", "nat:DOCKER:1"], "NAT docker 2", must_not_say=["DOCKER:2"])
    unreadable(l05["ex1"], "DOCKER:2")
    unreadable(l05["ex1"], "the DNAT one")


def test_05_masquerade(l05: dict[str, Any]) -> None:
    drive(l05["ex2"], ["172.17.0.2", "192.168.56.38"], "10.0.2.15/24", must_not_say=["10.0.2.15"])
    unreadable(l05["ex2"], "the host")


def test_05_loopback_guard_build(l05: dict[str, Any]) -> None:
    ex3 = l05["ex3"]
    drive(ex3, ["-p tcp --dport 80 -j DROP",          # the crafted packet still passes
                "-d 127.0.0.1/32 -j DROP",            # also the host's own request (on lo)
                "-i enp0s8 -j DROP"],                 # the LAN loses the host altogether
          "-A PREROUTING -d 127.0.0.1/32 ! -i lo -j DROP", must_not_say=["! -i lo"])
    assert ex3.submit("iptables -t raw -I PREROUTING -d 127.0.0.0/8 ! -i lo -j DROP") is True
    unreadable(ex3, "-t nat -A PREROUTING -j DROP")


def test_05_dnat_count(l05: dict[str, Any]) -> None:
    drive(l05["ex4"], ["5", "0"], "1 packet", must_not_say=["One"])
    unreadable(l05["ex4"], "all of them")
