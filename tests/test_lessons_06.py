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


def test_06_isolation_two_stages(l06: dict[str, Any]) -> None:
    n = l06["isolation_rules"]
    assert [n(k) for k in (1, 2, 3)] == [4, 6, 8]          # 2 per network + the two RETURNs
    assert l06["t"].decisive.position.startswith("filter:DOCKER-ISOLATION-STAGE-2:")
    assert l06["out"].verdict == "ACCEPT"
    returns = [s.position for s in l06["out"].step_list if s.kind == "rule" and s.matched and s.target == "RETURN"]
    assert "filter:DOCKER-ISOLATION-STAGE-2:4" in returns


def test_06_isolation_rule(l06: dict[str, Any]) -> None:
    ex3 = l06["ex3"]
    back_bridge = l06["back"].network
    rules = l06["TWO_RULES"].tables["filter"].chains["DOCKER-ISOLATION-STAGE-2"].rules
    drop = next(r.position for r in rules if f"-o {back_bridge} " in r.text + " ")
    stage1 = next(r.position for r in l06["TWO_RULES"].tables["filter"].chains["DOCKER-ISOLATION-STAGE-1"].rules
                  if f"-i {l06['front'].network} " in r.text)
    drive(ex3, [stage1, "filter:FORWARD:2", "filter:DOCKER-ISOLATION-STAGE-2:3"], drop.replace(":", " "),
          must_not_say=[drop])
    unreadable(ex3, "STAGE-2")


def test_06_docker29_table(l06: dict[str, Any]) -> None:
    drive(l06["ex4"], ["filter", "nat"], "raw", must_not_say=["raw:"])
