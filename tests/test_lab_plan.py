"""The lab's plan: validated names, every command inside a lab namespace (no root needed)."""

from __future__ import annotations

import copy

import pytest

from netlab.errors import LabError
from netlab.lab import names
from netlab.lab.handmade import article_host
from netlab.lab.plan import make_plan
from netlab.scenarios.topology import Interface, RouteSpec


@pytest.fixture
def scenario():
    return article_host()


def test_prefix_and_netns_names():
    p = names.new_prefix()
    assert names.PREFIX_RE.match(p)
    assert names.netns_name(p, "web") == f"{p}-web"
    assert names.is_lab_netns(f"{p}-web")
    assert not names.is_lab_netns("nlp2deva")  # somebody else's namespace
    assert not names.is_lab_netns("docker")
    with pytest.raises(LabError, match="6 hex"):
        names.check_prefix("nlXYZ")
    with pytest.raises(LabError):
        names.check_node("web; rm -rf /")


@pytest.mark.parametrize("bad", ["", "a" * 16, "eth0 up", "-rf", "name", "a/b", "..", "eth\n0"])
def test_bad_interface_names_are_refused(bad):
    with pytest.raises(LabError):
        names.check_ifname(bad)


def test_addresses_are_checked():
    assert names.check_cidr("172.17.0.1/16") == "172.17.0.1/16"
    for bad in ("172.17.0.1", "300.1.1.1/8", "fe80::1/64", "1.2.3.4/33"):
        with pytest.raises(LabError):
            names.check_cidr(bad)
    with pytest.raises(LabError, match="multicast"):
        names.check_mac("01:00:5e:00:00:01")
    with pytest.raises(LabError):
        names.check_route_dst("10.0.0.1/8")
    with pytest.raises(LabError, match="net"):
        names.check_sysctl("kernel.core_pattern", "|/bin/sh")


def test_every_command_stays_inside_lab_namespaces(scenario):
    plan = make_plan(scenario, "nl123abc")
    for cmd in plan.commands:
        argv = cmd.argv
        assert argv[0] == "ip"
        if argv[1] == "-batch":  # only namespace creation runs outside a lab namespace
            assert all(line.startswith("netns add nl123abc-") for line in cmd.stdin.splitlines())
        elif argv[1] == "-n":
            assert names.is_lab_netns(argv[2])
        else:
            assert argv[1:3] == ["netns", "exec"] and names.is_lab_netns(argv[3])


def test_veths_are_created_directly_in_their_namespaces(scenario):
    plan = make_plan(scenario, "nl123abc")
    links = plan.stages[1].commands[0]
    assert links.argv == ["ip", "-n", "nl123abc-host", "-batch", "-"]
    veths = [line for line in links.stdin.splitlines() if "type veth" in line]
    assert len(veths) == len(scenario.wires)
    for line in veths:
        # every peer is placed in its own namespace at creation, never in the root one
        assert "peer name" in line and " netns nl123abc-" in line.split(" peer ")[1]
    gw = [line for line in veths if "eth1" in line][0]
    assert gw.startswith("link add name eth1 address 52:54:00:cb:00:01 netns nl123abc-gateway type veth")


def test_plan_is_a_runnable_script(scenario):
    text = make_plan(scenario, "nl123abc").script()
    assert text.startswith("#!/bin/sh") and "set -e" in text
    assert "ip netns exec nl123abc-host iptables-restore <<'EOF'" in text
    assert "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:80" in text
    down = make_plan(scenario, "nl123abc").script(teardown=True)
    assert "netns del nl123abc-web" in down


def test_batched_stages(scenario):
    plan = make_plan(scenario, "nl123abc")
    names_ = [s.name for s in plan.stages]
    assert names_[0] == "namespaces" and names_[1] == "links"
    assert len(plan.stages[0].commands) == 1  # all namespaces in one ip -batch
    iptables = [c for c in plan.commands if "iptables-restore" in c.argv]
    assert {c.argv[3] for c in iptables} == {"nl123abc-host", "nl123abc-gateway"}


def test_hostile_scenarios_are_refused(scenario):
    s = copy.deepcopy(scenario)
    s.node("web").interfaces.append(Interface("eth0 netns 1"))
    with pytest.raises(LabError, match="interface name"):
        make_plan(s, "nl123abc")
    s = copy.deepcopy(scenario)
    s.node("web").routes.append(RouteSpec("default", "eth9", via="172.17.0.1"))
    with pytest.raises(LabError, match="eth9"):
        make_plan(s, "nl123abc")
    s = copy.deepcopy(scenario)
    s.node("host").iptables = "rm -rf /"
    with pytest.raises(LabError, match="iptables-save"):
        make_plan(s, "nl123abc")
    s = copy.deepcopy(scenario)
    s.node("web").interfaces[0].addresses.append("172.17.0.99")
    with pytest.raises(LabError, match="prefix length"):
        make_plan(s, "nl123abc")


def test_catalogue_scenarios_plan(scenario):
    from netlab.scenarios import catalogue, seed_host

    for name in catalogue.names():
        kw = {"n": 3} if name == "many-containers" else {}
        make_plan(catalogue.build(name, **kw), "nl123abc")
    plan = make_plan(seed_host(), "nl123abc")
    assert "nl123abc-web" in plan.netns.values()


def test_cli_dry_run_prints_the_plan(capsys):
    from netlab.cli import main

    assert main(["lab", "plan", "--prefix", "nl0a0b0c"]) == 0
    out = capsys.readouterr().out
    assert "ip -batch - <<'EOF'\nnetns add nl0a0b0c-host" in out
    assert main(["lab", "up", "--dry-run", "--prefix", "nl0a0b0c"]) == 0
    assert "iptables-restore" in capsys.readouterr().out


def test_without_root_the_lab_says_so(monkeypatch):
    import os

    from netlab.lab import Lab

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match="root.*sim"):
        Lab(article_host()).up()


def test_ipsets_are_made_in_their_namespace_before_the_rules():
    from netlab.scenarios import docker_host

    sc = docker_host("28.0.0")
    plan = make_plan(sc, "nl0b0c0d")
    stage_of = {i: [c for c in s.commands] for i, s in enumerate(plan.stages)}
    ipset = [(i, c) for i, cs in stage_of.items() for c in cs if "ipset" in c.argv]
    rules = [(i, c) for i, cs in stage_of.items() for c in cs if "iptables-restore" in c.argv]
    assert len(ipset) == 1 and ipset[0][1].argv == ["ip", "netns", "exec", "nl0b0c0d-host", "ipset", "restore"]
    assert ipset[0][1].stdin == "create docker-ext-bridges-v4 hash:net family inet\n" \
                                "add docker-ext-bridges-v4 172.17.0.0/16\n"
    assert all(ipset[0][0] < i for i, _ in rules)  # an earlier stage: iptables-restore finds the set
    assert "ipset" not in " ".join(a for c in make_plan(docker_host("27"), "nl0b0c0d").commands for a in c.argv)


@pytest.mark.parametrize(("name", "member"), [("bad name", "172.17.0.0/16"), ("-x", "172.17.0.0/16"),
                                              ("ok", "172.17.0.1/16"), ("ok", "fe80::/64"), ("ok", "; rm")])
def test_hostile_ipsets_are_refused(name, member):
    from netlab.scenarios import docker_host

    sc = docker_host("28.0.0")
    sc.host.ipsets = {name: [member]}
    with pytest.raises(LabError):
        make_plan(sc, "nl0b0c0d")
