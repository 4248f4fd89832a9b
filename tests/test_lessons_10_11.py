"""Lessons 10 (the packet journey) and 11 (annotating captures): each exercise's Check, driven with wrong and right answers
(the answer keys live here, not in the notebooks)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l10() -> dict[str, Any]:
    return run_lesson("10")


@pytest.fixture(scope="module")
def l11() -> dict[str, Any]:
    return run_lesson("11")


def test_10_first_rewritten(l10: dict[str, Any]) -> None:
    drive(l10["ex1"], ["enp0s8", "web:eth0"], "host:docker0", must_not_say=["docker0"])
    unreadable(l10["ex1"], "the bridge!")


def test_10_reply_address(l10: dict[str, Any]) -> None:
    drive(l10["ex2"], ["172.17.0.2:80", "10.0.2.15:80"], "192.168.56.38.80", must_not_say=["192.168.56.38:80"])
    assert l10["ex2"].submit("192.168.56.38 port 80") is True
    unreadable(l10["ex2"], "192.168.56.38")


def test_10_forward_rule(l10: dict[str, Any]) -> None:
    drive(l10["ex3"], ["filter:FORWARD:4", "filter:FORWARD:1", "filter:FORWARD:6"], "filter:DOCKER:1",
          must_not_say=["DOCKER:1"])
    unreadable(l10["ex3"], "DOCKER 1")


def test_10_build_journey_without_dnat(l10: dict[str, Any]) -> None:
    ex4 = l10["ex4"]
    drive(ex4, ["client -> 192.168.56.38", "host -> 192.168.56.38", "client -> 172.17.0.2"], "host -> 127.0.0.1",
          must_not_say=["127.0.0.1"])
    assert ex4.submit("host -> 172.17.0.2") is True
    unreadable(ex4, "nobody -> x")
    unreadable(ex4, "client")


def _dnat_packet(l11: dict[str, Any]) -> int:
    cap, j = l11["cap"], l11["j"]
    nat = next(e for e in j.steps if e.kind == "nat" and e.after and e.after.startswith("172.17.0.2"))
    after = next(e for e in j.steps if e.kind == "seen" and e.seq > nat.seq and e.packet_id == nat.packet_id)
    return cap.match_journey(j)[after.seq]


def test_11_dnat_packet_tagged(l11: dict[str, Any]) -> None:
    n = _dnat_packet(l11)
    drive(l11["ex1"], [str(l11["first_syn"]), "9999"], f"#{n}", must_not_say=[f"packet {n} "])
    assert l11["cap"].numbers("tag == dnat") == [n]
    assert "dnat" not in l11["cap"].annotations[l11["first_syn"]].tags
    unreadable(l11["ex1"], "the second one")


def test_11_rule(l11: dict[str, Any]) -> None:
    drive(l11["ex2"], ["nat:PREROUTING:1", "filter:DOCKER:1"], "nat docker 2", must_not_say=["DOCKER:2"])


def test_11_hops(l11: dict[str, Any]) -> None:
    drive(l11["ex3"], ["4", "6"], "5", must_not_say=["5"])


def test_11_link(l11: dict[str, Any]) -> None:
    cap, j = l11["cap"], l11["j"]
    client_sa = j.first_seen(node="client", direction="in", flags="SA")
    docker0_sa = cap.match_journey(j)[j.first_seen(iface="docker0", flags="SA", packet_id=client_sa.packet_id).seq]
    client_n = cap.match_journey(j)[client_sa.seq]
    drive(l11["ex4"], [str(client_n), "1"], str(docker0_sa), must_not_say=[f"packet {docker0_sa} "])
    assert docker0_sa in cap.annotations[client_n].links


def test_11_build_filter(l11: dict[str, Any]) -> None:
    drive(l11["ex5"], ["netns == web", "iface == eth0 and ip.src == 192.168.56.1"],
          "netns == web and iface == eth0 and ip.src == 192.168.56.1 and tcp")
    unreadable(l11["ex5"], "ip.source == 1")


def test_11_workdir_survives_run_all(l11: dict[str, Any]) -> None:
    """The annotator saves next to the exported file after Run All (the folder is removed at exit)."""
    from pathlib import Path

    assert Path(l11["workdir"]).is_dir()
    again = l11["again"]
    again.annotate(1, comment="after Run All")
    assert Path(again.sidecar).exists()


def test_10_build_user_accept(l10: dict[str, Any]) -> None:
    drive(l10["ex5"], ["-d 192.168.56.38 -p tcp --dport 80 -j ACCEPT",   # pre-DNAT: never matches
                       "-j ACCEPT",                                      # opens unpublished access too
                       "-p tcp --dport 80 -j DROP"],
          "-A DOCKER-USER -s 192.168.56.1 -d 172.17.0.2 -p tcp --dport 80 -j ACCEPT",
          must_not_say=["-d 172.17.0.2"])
    unreadable(l10["ex5"], "-s 192.168.56.1")


def test_11_build_container_address_filter(l11: dict[str, Any]) -> None:
    drive(l11["ex6"], ["ip.addr == 172.17.0.2", "netns == host and ip.dst == 172.17.0.2"],
          "netns == host and ip.addr == 172.17.0.2")
    unreadable(l11["ex6"], "ip.source == 1")
