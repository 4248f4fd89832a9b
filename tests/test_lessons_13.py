"""Lesson 13 (your own host): the sample pastes, the lesson's claims, each exercise's Check
driven with wrong and right answers (the answer keys live here, not in the notebook)."""

from __future__ import annotations

import json
from typing import Any

import pytest

import netlab as nl
from netlab.scenarios import ScenarioError, from_state
from netlab.scenarios.samples import (
    DOCKER_VERSION,
    SAMPLES,
    render_pastes,
    sample_paste,
    sample_scenario,
)
from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse


@pytest.fixture(scope="module")
def l13() -> dict[str, Any]:
    return run_lesson("13")


# ---------------------------------------------------------------- the samples
@pytest.mark.parametrize("name", SAMPLES)
def test_samples_are_realistic_pastes_that_rebuild_their_host(name: str) -> None:
    text = sample_paste(name)
    assert text == render_pastes(sample_scenario(name), hostname=text.split("@", 1)[1].split(":", 1)[0])
    for cmd in ("ip addr", "ip route", "sudo iptables-save", "sysctl ", "docker inspect "):
        assert f":~$ {cmd}" in text, cmd
    state = nl.parse_host(text)
    assert not state.notes  # every part read
    original, built = sample_scenario(name), from_state(state)
    assert {c.name for c in built.containers} == {c.name for c in original.containers}
    assert sorted(str(p) for c in built.containers for p in c.ports) == \
        sorted(str(p) for c in original.containers for p in c.ports)
    assert built.docker.userland_proxy == original.docker.userland_proxy
    assert built.docker.version.split(".")[0] == original.docker.version.split(".")[0]  # from the rules
    with nl.connect(mode="sim", scenario=built, quiet=True) as a, \
            nl.connect(mode="sim", scenario=original, quiet=True) as b:
        for c in original.containers:
            for p in c.ports:
                ja = a.probe("tcp", src="client", dst="192.168.56.38", dport=p.host_port)
                jb = b.probe("tcp", src="client", dst="192.168.56.38", dport=p.host_port)
                assert ja.outcome == jb.outcome, (name, p)


def test_the_three_samples_are_the_hosts_the_issue_names() -> None:
    assert DOCKER_VERSION == {"docker27-user-network": "27.3.1", "docker28-two-ports": "28.2.2",
                              "docker29-proxy-off": "29.0.1"}
    s27, s28, s29 = (sample_scenario(n) for n in SAMPLES)
    assert len(s27.docker.networks) == 2  # docker0 and a user network
    assert sorted(p.host_port for c in s28.containers for p in c.ports) == [80, 443]
    assert s29.docker.userland_proxy is False and s29.docker.version.startswith("29")
    assert "DOCKER-FORWARD" in s28.host.iptables and "DOCKER-ISOLATION" not in s29.host.iptables
    with pytest.raises(ScenarioError, match="docker27-user-network"):
        sample_paste("docker30")


def test_rendered_inspect_is_docker_inspect() -> None:
    text = sample_paste("docker27-user-network")
    body = text.split("docker inspect web api db\n", 1)[1]
    objs = json.loads(body)
    assert [o["Name"] for o in objs] == ["/web", "/api", "/db"]
    api = objs[1]["NetworkSettings"]
    assert api["Ports"]["5000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": "5000"}]
    assert set(api["Networks"]) == {"shop"}


# ---------------------------------------------------------------- the lesson's claims
def test_13_reads_the_sample_when_nothing_is_pasted(l13: dict[str, Any]) -> None:
    assert l13["MY_PASTE"].strip() == "" and l13["MY_SNAPSHOT"] is None
    assert {c.name for c in l13["state"].containers} == {"web", "api", "db"}
    assert l13["results"] == {("web", 8080): "answered", ("api", 5000): "rejected"}
    assert l13["port"] == 5000 and "127.0.0.1" in str(l13["answer"])
    assert l13["lan_ip"] == "192.168.56.38"
    assert "127.0.0.1 only" in str(l13["lan_5000"])
    assert l13["https_seen"] == {"article": "rejected", "28.2 sample": "answered"}


def test_13_read_host_takes_a_paste_or_a_snapshot(l13: dict[str, Any], tmp_path) -> None:
    read_host = l13["read_host"]
    pasted = read_host(sample_paste("docker28-two-ports"))
    assert [c.name for c in pasted.containers] == ["proxy"]
    snap = tmp_path / "host.json"
    snap.write_text(pasted.to_json(), encoding="utf-8")
    again = read_host("", str(snap))
    assert again == pasted
    built = from_state(again)
    assert l13["lan_address"](built) == "192.168.56.38"
    assert l13["profile"](built)["published"] == "80:80/tcp, 443:443/tcp"


def test_13_draws_the_pasted_host(l13: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    fig = nl.draw_topology(l13["pasted"])
    names = {c.name for c in fig.netlab_layout.model.containers}
    assert names == {"web", "api", "db"}
    boxes = {c.name: c for c in nl.draw_topology(l13["state"]).netlab_layout.model.containers}
    assert set(boxes) == {"web", "api", "db"} and all(b.known and b.veth for b in boxes.values())
    assert boxes["api"].ports == ["127.0.0.1:5000:5000/tcp"] and boxes["web"].bridge == "docker0"


# ---------------------------------------------------------------- the exercises
def test_13_ex1_loopback_published(l13: dict[str, Any]) -> None:
    drive(l13["ex1"], ["it is answered by api", "nothing comes back (dropped)"],
          "the host answers with a TCP reset (connection refused)", must_not_say=["reset"])


def test_13_ex2_dnat_target(l13: dict[str, Any]) -> None:
    ex2 = l13["ex2"]
    drive(ex2, ["172.18.0.2:5000", "172.17.0.2:8080", "172.17.0.3:80"], "172.17.0.2:80",
          must_not_say=["172.17.0.2:80"])
    assert ex2.submit(" 172.17.0.2 : 80 ")
    unreadable(ex2, "web")
    unreadable(ex2, "172.17.0.2")
    unreadable(ex2, "0.2:80")  # a piece of the address is not an address


def test_13_ex3_nat_rule(l13: dict[str, Any]) -> None:
    ex3 = l13["ex3"]
    drive(ex3, ["nat:DOCKER:2", "filter:DOCKER:1"], "nat:DOCKER:1", must_not_say=["DOCKER:1"])
    assert ex3.submit("nat DOCKER 1")
    unreadable(ex3, "the first one")


def test_13_ex4_https(l13: dict[str, Any]) -> None:
    drive(l13["ex4"], ["both", "only the article's host", "neither"], "only the Docker 28.2 sample")
