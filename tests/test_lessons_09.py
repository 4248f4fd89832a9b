"""Lesson 09 (user-defined networks and embedded DNS): each exercise's Check, driven with
wrong and right answers, and the claims its demonstration cells make (the answer keys live
here, not in the notebook)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l09() -> dict[str, Any]:
    return run_lesson("09")


def test_09_isolation_chain(l09: dict[str, Any]) -> None:
    drive(l09["ex1"], ["DOCKER-ISOLATION-STAGE-1", "the FORWARD policy", "nothing: cache answers"],
          "DOCKER-ISOLATION-STAGE-2", must_not_say=["STAGE-2:"])


def test_09_docker29_table(l09: dict[str, Any]) -> None:
    drive(l09["ex2"], ["filter", "none: it is answered"], "raw", must_not_say=["raw PREROUTING"])


def test_09_resolver_port(l09: dict[str, Any]) -> None:
    web = l09["net"].scenario.node("web")
    udp = next(s.port for s in web.services if s.kind == "dns" and s.proto == "udp")
    tcp = next(s.port for s in web.services if s.kind == "dns" and s.proto == "tcp")
    assert udp == 60369  # the seed-0 draw the lesson's text and this key rely on
    drive(l09["ex3"], ["53", str(tcp)], " 60369 ", must_not_say=["60369"])
    unreadable(l09["ex3"], "the high one")


def test_09_alias_address(l09: dict[str, Any]) -> None:
    drive(l09["ex4"], ["172.18.0.2", "172.19.0.2"], "172.18.0.3", must_not_say=["172.18.0.3"])
    unreadable(l09["ex4"], "db")


def test_09_network_to_join(l09: dict[str, Any]) -> None:
    ex5 = l09["ex5"]
    drive(ex5, ["bridge", "other"], "mynet", must_not_say=["mynet"])
    unreadable(ex5, "frontend")


def test_09_cells_show_what_the_text_says(l09: dict[str, Any]) -> None:
    net = l09["net"]
    mynet = next(n for n in net.scenario.docker.networks if n.name == "mynet")
    assert mynet.subnet == "172.18.0.0/16" and mynet.gateway == "172.18.0.1"
    assert mynet.bridge.startswith("br-") and len(mynet.bridge) == 15
    j = net.probe("dns", src="web", dst="127.0.0.11", name="db")
    assert j.result["answer"] == "172.18.0.3" and j.result["rcode"] == "NOERROR"
    assert [e.hook for e in j.nat_rewrites] == ["OUTPUT", "POSTROUTING"]
    assert net.probe("dns", src="web", dst="127.0.0.11", name="cache").result["rcode"] == "NXDOMAIN"
    legacy = net.probe("dns", src="legacy", dst="127.0.0.11", name="db", timeout=0.5)
    assert legacy.outcome == "rejected" and legacy.result["answer"] is None
    assert not l09["isolation"]("29.0.0") and len(l09["isolation"]("27")) == 9
    ss = l09["listeners"](net, "web")
    assert "127.0.0.11:60369" in ss and ":53 " not in ss


def test_09_capture_is_real_dns(l09: dict[str, Any]) -> None:
    pytest.importorskip("scapy")
    from scapy.all import rdpcap
    from scapy.layers.dns import DNS

    packets = rdpcap(str(l09["pcap"]))
    answer = next(p for p in packets if p.haslayer(DNS))
    assert answer[DNS].qr == 1 and answer[DNS].an[0].rdata == "172.18.0.3"
