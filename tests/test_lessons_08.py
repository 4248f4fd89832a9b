"""Lesson 08 (br_netfilter): each exercise's Check, driven with wrong and right answers,
and the claims its demonstration cells make (the answer keys live here)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l08() -> dict[str, Any]:
    return run_lesson("08")


def test_08_bridged_traffic_meets_iptables_only_with_brnf(l08: dict[str, Any]) -> None:
    assert l08["runs"]["1"] == ("answered", ["filter:FORWARD:6"])
    assert l08["runs"]["0"] == ("answered", [])


def test_08_physdev_rule_matches_bridged_only(l08: dict[str, Any]) -> None:
    import netlab as nl
    guarded, web, db = l08["guarded"], l08["WEB_PORT"], l08["DB_PORT"]
    bridged = guarded.trace(nl.Packet("tcp", "172.17.0.2", "172.17.0.3", sport=1, dport=5432,
                                      physdev_in=web, physdev_out=db), hook="FORWARD", in_iface="docker0",
                            out_iface="docker0")
    assert bridged.decisive.position == "filter:DOCKER-USER:1"


def test_08_icc_and_hairpin_need_brnf(l08: dict[str, Any]) -> None:
    assert l08["icc"] == {"1": "dropped", "0": "answered"}
    assert l08["hairpin"] == {"1": True, "0": False}


def test_08_no_netfilter_prediction(l08: dict[str, Any]) -> None:
    drive(l08["ex1"], ["FORWARD, like a routed packet", "PREROUTING and POSTROUTING only"], "none",
          must_not_say=["none"])


def test_08_icc_prediction(l08: dict[str, Any]) -> None:
    drive(l08["ex2"], ["no"], "yes")


def test_08_bridge_rule_build(l08: dict[str, Any]) -> None:
    ex3, web, db = l08["ex3"], l08["WEB_PORT"], l08["DB_PORT"]
    drive(ex3, ["-d 192.168.56.38 -p tcp --dport 5432 -j DROP",   # never seen: the bridged SYN is to db
                "-d 172.17.0.3/32 -j DROP",                        # app loses db too
                "-s 172.17.0.2/32 -j DROP"],                       # web loses the internet
          "iptables -I DOCKER-USER -s 172.17.0.2/32 -d 172.17.0.3/32 -j DROP",
          must_not_say=["-s 172.17.0.2/32 -d 172.17.0.3/32"])
    assert ex3.submit(f"-A DOCKER-USER -m physdev --physdev-in {web} --physdev-out {db} -j DROP") is True
    assert ex3.submit("-A FORWARD -s 172.17.0.2 -d 172.17.0.3 -j DROP") is False
    unreadable(ex3, "-s 172.17.0.2")
    unreadable(ex3, "-d 172.17.0.300 -j DROP")


def test_08_daemon_option(l08: dict[str, Any]) -> None:
    ex4 = l08["ex4"]
    drive(ex4, ["--icc=true", "--iptables=true"], "--icc=false", must_not_say=["--icc=false", "userland-proxy=false"])
    assert ex4.submit('"userland-proxy": false') is True
    assert ex4.submit("dockerd --userland-proxy=false") is True
    unreadable(ex4, "--bridge-nf=1")
    unreadable(ex4, "icc")
