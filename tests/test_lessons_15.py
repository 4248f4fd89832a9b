"""Lesson 15 (recap and capstone): the article map, each exercise's Check driven with wrong
and right answers, and the capstone grader (``netlab.drills.capstone``, ``netlab.scenarios.lan``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netlab.drills import capstone
from netlab.scenarios import ScenarioError, docker_host
from netlab.scenarios.lan import with_lan_clients
from tests._lessons import drive, run_lesson, sim_mode, unreadable  # noqa: F401 - sim_mode: autouse

NET = "docker network create shop\ndocker run -d --name web --network shop -p 8080:80 nginx\n"
RIGHT = NET + ("iptables -I DOCKER-USER -i enp0s8 ! -s 192.168.56.1 -m conntrack --ctorigdst 192.168.56.38 "
               "--ctorigdstport 8080 -j DROP")


@pytest.fixture(scope="module")
def l15() -> dict[str, Any]:
    return run_lesson("15")


def test_15_article_map(l15: dict[str, Any]) -> None:
    hops = {line: l15["hop"](journey, test) for line, _lesson, journey, test in l15["ARTICLE"]}
    assert all("(not in this journey)" not in h for h in hops.values()), hops
    dnat = next(h for line, h in hops.items() if "-j DNAT" in line)
    assert "by nat:DOCKER:2" in dnat and "host:PREROUTING" in dnat
    assert "10.0.2.15" in next(h for line, h in hops.items() if "MASQUERADE" in line)


def test_15_ex1_interface(l15: dict[str, Any]) -> None:
    drive(l15["ex1"], ["enp0s8", "eth0"], "docker0", must_not_say=["docker0"])
    unreadable(l15["ex1"], "the bridge one")


def test_15_ex2_ex3(l15: dict[str, Any]) -> None:
    drive(l15["ex2"], ["conntrack -L", "ss -ltnp"], "conntrack -E")
    drive(l15["ex3"], ["nginx", "dockerd"], "docker-proxy", must_not_say=["docker-proxy"])


def test_15_capstone_check(l15: dict[str, Any], tmp_path: Path) -> None:
    ex4 = l15["ex4"]
    unreadable(ex4, "capstone.pcapng")          # the template: no docker run line yet
    proof = l15["prove"](RIGHT, tmp_path / "proof.pcapng")
    assert proof["client"].ok and not proof["client2"].ok
    l15["CAPSTONE"] = NET + "iptables -I DOCKER-USER ! -s 192.168.56.1 -p tcp --dport 8080 -j DROP"  # pre-DNAT port
    assert ex4.submit(str(tmp_path / "proof.pcapng")) is False and "still gets the page" in ex4.message
    l15["CAPSTONE"] = NET + "iptables -I DOCKER-USER -p tcp --dport 80 ! -s 192.168.56.1 -j DROP"     # web's own HTTP
    assert ex4.submit(str(tmp_path / "proof.pcapng")) is False and "lost the internet" in ex4.message
    l15["CAPSTONE"] = RIGHT
    assert ex4.submit(str(tmp_path / "missing.pcapng")) is False and "save the proof" in ex4.message
    (tmp_path / "junk.pcapng").write_bytes(b"not a capture at all")
    assert ex4.submit(str(tmp_path / "junk.pcapng")) is False and "does not load" in ex4.message
    assert ex4.submit(str(tmp_path / "proof.pcapng")) is True, ex4.message
    assert "--ctorigdst" not in "".join(ex4.hints[:-1])


def test_capstone_grade_and_build(tmp_path: Path) -> None:
    path = tmp_path / "p.pcapng"
    s = capstone.build(RIGHT)
    assert {"lan", "client2"} <= set(s.nodes) and s.node("web").network.startswith("br-")
    from netlab.mode import connect

    with connect("sim", scenario=s, quiet=True) as net:
        net.probe("http", src="client", dst="192.168.56.38", dport=8080).capture.to_pcapng(path)
    v = capstone.grade(RIGHT, path, mode="sim")
    assert v.solved and [ok for _what, ok, _seen in v.results] == [True] * 6, v.results
    # docker0 instead of a user network; no rule at all; another allowed address
    assert "docker0" in capstone.grade(RIGHT.replace(" --network shop", ""), path, mode="sim").message
    assert not capstone.grade(NET, path, mode="sim").solved
    other = NET + ("iptables -I DOCKER-USER -i enp0s8 ! -s 192.168.56.7 -m conntrack --ctorigdstport 8080 "
                   "--ctorigdst 192.168.56.38 -j DROP")
    assert capstone.grade(other, path, allowed="192.168.56.7", other="192.168.56.1", mode="sim").solved
    assert not capstone.grade(RIGHT, path, allowed="192.168.56.7", other="192.168.56.1", mode="sim").solved
    # a capture without the published port
    with connect("sim", scenario=s, quiet=True) as net:
        net.probe("ping", src="client", dst="192.168.56.38").capture.to_pcapng(tmp_path / "ping.pcapng")
    assert "no packet to or from port 8080" in capstone.grade(RIGHT, tmp_path / "ping.pcapng", mode="sim").message


@pytest.mark.parametrize(("commands", "says"), [
    ("", "no commands"),
    ("docker network create bridge\ndocker run --name web -p 8080:80 nginx", "a new name"),
    ("docker run --name web --network shop -p 8080:80 nginx", "network shop not found"),
    ("docker run -d --network shop -p 8080:80 nginx", "--name"),
    ("docker run --name web -p 80800:80 nginx", "80800"),
    ("docker network create -d overlay shop\ndocker run --name web --network shop nginx", "bridge driver"),
    ("docker volume create x\ndocker run --name web nginx", "network create and run"),
    (NET + "iptables -I NOPE -j DROP", "NOPE"),
])
def test_capstone_bad_commands(commands: str, says: str) -> None:
    with pytest.raises(capstone.FixError, match=says):
        capstone.build(commands)


def test_with_lan_clients() -> None:
    s = with_lan_clients(docker_host("28"), {"client2": "192.168.56.2", "laptop": "192.168.56.50"})
    assert s.peer("host", "enp0s8") == ("lan", "p0") and s.peer("laptop", "eth0") == ("lan", "p3")
    from netlab.mode import connect

    with connect("sim", scenario=s, quiet=True) as net:
        assert net.probe("ping", src="laptop", dst="client2").ok
        assert net.probe("http", src="192.168.56.50", dst="192.168.56.38", dport=80).ok
    for bad in ({"client": "192.168.56.3"}, {"x2": "192.168.56.38"}, {"x2": "10.0.0.1"}, {"Bad Name": "192.168.56.4"}, {}):
        with pytest.raises(ScenarioError):
            with_lan_clients(docker_host("28"), bad)
    with pytest.raises(ScenarioError, match="standard LAN"):
        with_lan_clients(s, {"x3": "192.168.56.9"})
