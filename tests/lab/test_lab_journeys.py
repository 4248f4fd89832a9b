"""The lab on the real kernel: the article's host built in namespaces, probed, captured."""

from __future__ import annotations

import subprocess

import pytest

from netlab.lab import Lab, build
from netlab.probe import ProbeError
from netlab.scenarios import catalogue, seed_host


@pytest.fixture(scope="module")
def lab():
    lab = Lab(seed_host())
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


def _hops(j, pid=None):
    return [(e.node, e.iface, e.direction) for e in j.seen() if e.frame.proto != "arp"
            and (pid is None or e.packet_id == pid)]


def test_http_through_the_port_forward(lab):
    j = lab.probe("http", src="client", dst="192.168.56.38", dport=80)
    assert j.outcome == "answered" and j.mode == "lab"
    syn = [e for e in j.seen() if e.frame.flags == "S"]
    assert [(e.node, e.iface, e.direction) for e in syn] == [
        ("client", "eth0", "out"), ("host", "enp0s8", "in"), ("host", "docker0", "out"),
        ("host", lab.scenario.node("host").interfaces[-1].name if False else syn[3].iface, "out"),
        ("web", "eth0", "in")]
    assert syn[3].iface.startswith("veth")
    assert (syn[1].frame.dst, syn[1].frame.dport) == ("192.168.56.38", 80)
    for e in syn[2:]:
        assert (e.frame.dst, e.frame.dport) == ("172.17.0.2", 80)
        assert e.frame.src == "192.168.56.1" and e.frame.ttl == syn[1].frame.ttl - 1
    synack = [e for e in j.seen() if e.frame.flags == "SA"]
    assert (synack[0].frame.src, synack[0].frame.sport) == ("172.17.0.2", 80)
    out = [e for e in synack if e.iface == "enp0s8"][0]
    assert (out.frame.src, out.frame.sport) == ("192.168.56.38", 80)
    assert "nat:DOCKER:2" in j.rules() and "filter:DOCKER:1" in j.rules()
    dnat = j.nat_rewrites[0]
    assert (dnat.before, dnat.after, dnat.rule) == ("192.168.56.38:80", "172.17.0.2:80", "nat:DOCKER:2")
    assert any(e.kind == "deliver" and e.node == "web" for e in j.steps)
    # the capture has every hop, and nothing was lost
    assert j.capture is not None and len(j.capture) == len(j.seen())
    assert "capture_drops" not in j.probe
    assert [e.seq for e in j.steps] == list(range(1, len(j.steps) + 1))


def test_container_to_internet_is_masqueraded(lab):
    j = lab.probe("ping", src="web", dst="203.0.113.10")
    assert j.outcome == "answered"
    req = [e for e in j.seen() if e.frame.proto == "icmp" and e.frame.icmp_type == 8]
    leaving = [e for e in req if e.node == "host" and e.iface == "enp0s3"][0]
    assert leaving.frame.src == "10.0.2.15"
    masq = [e for e in j.nat_rewrites if e.node == "host"]
    assert masq[0].rule and masq[0].rule.startswith("nat:POSTROUTING")
    assert masq[0].before.startswith("172.17.0.2") and masq[0].after.startswith("10.0.2.15")
    reply_in = [e for e in j.seen("web", "eth0") if e.frame.proto == "icmp" and e.frame.icmp_type == 0]
    assert reply_in and reply_in[0].frame.dst == "172.17.0.2"


def test_unpublished_host_port_is_refused(lab):
    j = lab.probe("tcp", src="client", dst="192.168.56.38", dport=8080)
    assert j.outcome == "rejected"
    assert [e.frame.flags for e in j.seen("client", "eth0") if e.frame.proto == "tcp"] == ["S", "RA"]
    assert any(e.kind == "drop" and e.reason == "no listener" for e in j.steps)


def test_udp_echo_and_traceroute(lab):
    j = lab.probe("traceroute", src="web", dst="203.0.113.10")
    assert j.outcome == "answered"
    assert j.probe["hops"] == ["172.17.0.1", "10.0.2.2", "203.0.113.10"]
    assert [e.reason for e in j.steps if e.kind == "drop"][:2] == ["TTL exceeded", "TTL exceeded"]


def test_arping_and_ping_gateway(lab):
    j = lab.probe("arping", src="web", dst="172.17.0.1")
    assert j.outcome == "answered"
    assert [(e.node, e.iface, e.direction) for e in j.seen()][:3] == [
        ("web", "eth0", "out"), ("host", j.seen()[1].iface, "in"), ("host", "docker0", "in")]
    j = lab.probe("ping", src="web", dst="172.17.0.1")
    assert j.outcome == "answered"


def test_bounded_probes_and_bad_input(lab):
    with pytest.raises(ProbeError, match="count"):
        lab.probe("ping", src="web", dst="172.17.0.1", count=1000)
    with pytest.raises(ProbeError, match="lab's limit"):
        lab.probe("ping", src="web", dst="172.17.0.1", count=50)
    with pytest.raises(ProbeError, match="timeout"):
        lab.probe("ping", src="web", dst="172.17.0.1", timeout=3600)
    with pytest.raises(ProbeError, match="kind"):
        lab.probe("nmap", src="web", dst="172.17.0.1")
    with pytest.raises(ProbeError, match="neither a node"):
        lab.probe("ping", src="web", dst="nowhere")


def test_timeout_is_bounded_and_dropped_has_a_reason():
    with Lab(catalogue.build("docker-user-drop")) as lab:
        j = lab.probe("tcp", src="client", dst="192.168.56.38", dport=80, timeout=0.5)
        assert j.outcome == "dropped"
        drop = [e for e in j.steps if e.kind == "drop"][0]
        assert drop.node == "host" and drop.rule == "filter:DOCKER-USER:1"


def test_snapshot_of_a_lab_namespace(lab):
    state = lab.snapshot("host")
    names = {link.name for link in state.links}
    assert {"docker0", "enp0s3", "enp0s8"} <= names
    assert all(link.netns == lab.netns["host"] for link in state.links)
    assert lab.state("web").links


def test_services_are_processes_of_the_lab(lab):
    assert lab._run is not None and lab._run.pids
    pid = lab._run.pids[0]
    out = subprocess.run(["ip", "netns", "pids", lab.netns["host"]], capture_output=True, text=True).stdout
    assert str(pid) in out.split()


def test_context_manager_removes_everything():
    with Lab(catalogue.build("two-containers")) as lab:
        ns = list(lab.netns.values())
        assert set(ns) <= set(build.list_netns())
        pids = list(lab._run.pids)
    assert not set(ns) & set(build.list_netns())
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            import os

            os.kill(pid, 0)
