"""Lesson 12 (Docker then and now): each exercise's Check, driven with wrong and right
answers, the claims its demonstration cells make, and ``netlab.scenarios.releases``."""

from __future__ import annotations

from typing import Any

import pytest

from netlab.scenarios import ScenarioError, docker_host
from netlab.scenarios.releases import RELEASES, release_steps, rule_diff
from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l12() -> dict[str, Any]:
    return run_lesson("12")


# ---------------------------------------------------------------- the helper
def test_release_steps_name_each_change() -> None:
    steps = {f"{d.old}->{d.new}": d for d in release_steps()}
    assert list(steps) == [f"{a}->{b}" for a, b in zip(RELEASES, RELEASES[1:], strict=False)]
    first = steps["18.09->28.0.0"]
    assert ("+", "filter", "DOCKER", "-A DOCKER ! -i docker0 -o docker0 -j DROP") in {
        (c.sign, c.table, c.chain, c.rule) for c in first.changes}
    assert "raw:PREROUTING" in first.chains_added
    assert any("docker-ext-bridges-v4" in c.rule for c in first.added)
    assert any("MASQUERADE" in c.rule and "-d 172.17.0.2/32" in c.rule for c in first.removed)
    assert {"filter:DOCKER-FORWARD", "filter:DOCKER-CT", "filter:DOCKER-BRIDGE"} == set(
        steps["28.0.0->28.0.1"].chains_added)
    per_port, per_container = steps["28.0.1->28.2.0"].removed, steps["28.0.1->28.2.0"].added
    assert [c.rule for c in per_port] == ["-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -p tcp -m tcp --dport 80 -j DROP"]
    assert [c.rule for c in per_container] == ["-A PREROUTING -d 172.17.0.2/32 ! -i docker0 -j DROP"]
    assert [str(c) for c in steps["28.2.0->28.2.2"].changes] == ["- filter -A DOCKER-USER -j RETURN"]
    last = steps["28.2.2->29.0.0"]
    assert set(last.chains_removed) == {"filter:DOCKER-ISOLATION-STAGE-1", "filter:DOCKER-ISOLATION-STAGE-2"}
    assert "filter:DOCKER-INTERNAL" in last.chains_added
    assert ("-", "nat", "-A DOCKER -i docker0 -j RETURN") in {(c.sign, c.table, c.rule) for c in last.changes}
    assert "(the same rules)" in str(rule_diff("28.2.2", "28.5.1"))
    assert not rule_diff("28.2.2", "28.5.1")


def test_rule_diff_takes_pastes_options_and_order() -> None:
    # the same host options on both sides: a user network's bridge shows up in both
    d = rule_diff("27", "28.0.0", networks=["shop"])
    assert any("br-" in c.rule for c in d.changes)
    # a paste and a policy change
    a = "*filter\n:FORWARD DROP [0:0]\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j A\n-A FORWARD -j B\nCOMMIT\n"
    b = "*filter\n:FORWARD ACCEPT [0:0]\n:A - [0:0]\n:B - [0:0]\n-A FORWARD -j B\n-A FORWARD -j A\nCOMMIT\n"
    d = rule_diff(a, b)
    assert d.old == d.new == "paste"
    assert ("~", ":FORWARD DROP -> ACCEPT") in {(c.sign, c.rule) for c in d.changes}
    assert [c.sign for c in d.changes if c.sign != "~"].count("+") == 1  # a moved rule: one - and one +
    assert list(d.df.columns) == ["sign", "table", "chain", "rule"]
    # a scenario on either side
    assert not rule_diff(docker_host("29"), "29.0.0")


def test_rule_diff_bad_input() -> None:
    with pytest.raises(ScenarioError, match="not a Docker version"):
        rule_diff("28.two", "29")
    with pytest.raises(ScenarioError, match="not int"):
        rule_diff(28, "29")  # type: ignore[arg-type]
    with pytest.raises(ScenarioError, match="at least two"):
        release_steps(["29"])


# ---------------------------------------------------------------- the lesson's claims
def test_12_claims(l12: dict[str, Any]) -> None:
    d = l12["direct"]
    assert d["18.09", "ACCEPT", 22] == "rejected" and d["18.09", "DROP", 22] == "dropped"
    assert d["18.09", "DROP", 80] == "answered"
    assert all(d["28.0.0", policy, port] == "dropped" for policy in ("DROP", "ACCEPT") for port in (80, 22))
    assert l12["loopback_frame"] == {"18.09": "answered", "28.0.0": "dropped"}
    assert l12["ping_direct"] == {"28.0.1": "filter:DOCKER:2", "28.2.0": "raw:PREROUTING:1"}
    assert l12["appended"] == {"28.2.0": "answered", "28.2.2": "dropped"}
    c = l12["cross"]
    assert (c["28.2.2", True], c["28.2.2", False]) == ("proxy", "dropped")
    assert (c["29.0.0", True], c["29.0.0", False]) == ("dnat", "dnat")
    assert l12["nft_host"].host.iptables == "" and "table ip docker-bridges" in l12["nft_host"].host.nftables
    assert l12["straight"].outcome == "dropped" and l12["published"].ok


# ---------------------------------------------------------------- the exercises
def test_12_ex1_direct_unpublished(l12: dict[str, Any]) -> None:
    ex1 = l12["ex1"]
    wrong, right = "nothing: the host drops it", "the container answers with a RST (the SYN reached it)"
    drive(ex1, [wrong], right, must_not_say=["RST"])


def test_12_ex2_ping_drop(l12: dict[str, Any]) -> None:
    ex2 = l12["ex2"]
    drive(ex2, ["raw:PREROUTING:1", "filter:FORWARD:policy"], "filter DOCKER 2", must_not_say=["DOCKER:2"])
    assert "per published port" in ex2.shown_hints[0]
    unreadable(ex2, "the default rule")
    unreadable(ex2, "DOCKER:2")


def test_12_ex3_both_releases(l12: dict[str, Any]) -> None:
    ex3 = l12["ex3"]
    drive(ex3, ["iptables -A DOCKER-USER -s 192.168.56.1 -j DROP",      # lands after RETURN on 28.2.0
                "iptables -I DOCKER-USER -j DROP",                        # also cuts web off
                "iptables -I DOCKER-USER -d 192.168.56.38 -s 192.168.56.1 -j DROP"],   # pre-DNAT address
          "iptables -I DOCKER-USER -s 192.168.56.1 -j DROP", must_not_say=["-I DOCKER-USER -s 192.168.56.1"])
    assert ex3.submit("-I DOCKER-USER -i enp0s8 -s 192.168.56.1 -p tcp -m conntrack --ctorigdstport 80 -j DROP")
    assert ex3.submit("iptables -I FORWARD -s 192.168.56.1 -j DROP")   # FORWARD first: also right
    unreadable(ex3, "iptables -I NOSUCHCHAIN -j DROP")
    unreadable(ex3, "iptables -L DOCKER-USER")


def test_12_ex4_cross_network(l12: dict[str, Any]) -> None:
    drive(l12["ex4"], ["docker-proxy on the host answers (no NAT rule)", "it is dropped between the two networks"],
          "a DNAT rule sends it straight to web")


def test_12_ex5_nft_chain(l12: dict[str, Any]) -> None:
    ex5 = l12["ex5"]
    drive(ex5, ["filter-forward-in__docker0"], "raw-PREROUTING", must_not_say=["raw-PREROUTING"])
    assert ex5.submit("docker-bridges:raw-PREROUTING")
    unreadable(ex5, "the raw one")


def test_12_one_probe_six_releases(l12: dict[str, Any]) -> None:
    h = l12["headline"]
    assert list(h) == list(RELEASES)
    assert h["18.09"] == ("answered", None)
    assert all(h[v] == ("dropped", "raw:PREROUTING:1") for v in RELEASES[1:])
