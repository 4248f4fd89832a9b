"""Lesson 06 (filter and isolation): each exercise's Check, driven with wrong and right
answers, and the claims its demonstration cells make (the answer keys live here)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l06() -> dict[str, Any]:
    return run_lesson("06")


def test_06_input(l06: dict[str, Any]) -> None:
    drive(l06["ex1"], ["yes"], "no")


def test_06_docker_user_build(l06: dict[str, Any]) -> None:
    ex2 = l06["ex2"]
    drive(ex2, ["-d 192.168.56.38/32 -p tcp -m tcp --dport 80 -j DROP",   # pre-DNAT: never matches
                "-p tcp -m tcp --dport 80 -j DROP",                       # also web's outbound HTTP...
                "-p tcp --sport 80 -j DROP"],                             # ...and its replies
          "iptables -I DOCKER-USER -d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j DROP",
          must_not_say=["172.17.0.2/32"])
    assert ex2.submit("-A DOCKER-USER -p tcp -m conntrack --ctorigdst 192.168.56.38 --ctorigdstport 80 -j DROP")
    assert ex2.submit("-I FORWARD -d 172.17.0.2/32 -j DROP") is False
    unreadable(ex2, "-p tcp --dport eighty -j DROP")
    unreadable(ex2, "-m recent --set -j DROP")   # not modelled: not judged as "never matched"
    unreadable(ex2, "-d 172.17.0.2")
