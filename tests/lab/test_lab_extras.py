"""The lab from the CLI and netlab.connect, its pcapng, FDB learning, and a promiscuous bridge."""

from __future__ import annotations

import re
import subprocess

import pytest
from conftest import needs

import netlab
from netlab.cli import main
from netlab.lab import Lab, build
from netlab.scenarios import catalogue


def test_cli_up_and_down_by_prefix(capsys):
    assert main(["lab", "up", "--scenario", "article@28", "--prefix", "nl00c1a0"]) == 0
    try:
        out = capsys.readouterr().out
        assert "lab nl00c1a0 is up" in out
        assert "nl00c1a0-host" in build.list_netns()
        state = build.state_path("nl00c1a0")
        assert state.exists()
    finally:
        assert main(["lab", "down", "--prefix", "nl00c1a0"]) == 0
    assert not [n for n in build.list_netns() if n.startswith("nl00c1a0-")]
    assert not build.state_path("nl00c1a0").exists()
    assert main(["lab", "down", "--prefix", "nl00c1a0"]) == 1  # nothing left to remove: a clear error


def test_connect_lab_mode_gives_a_lab():
    net = netlab.connect(mode="lab", scenario=catalogue.build("article"), quiet=True)
    try:
        assert net.mode == "lab"
        j = net.probe("ping", src="client", dst="192.168.56.38")
        assert j.ok and j.mode == "lab"
        assert {link.name for link in net.state("web").links} >= {"eth0"}
    finally:
        net.close()
    assert not net.is_up


@needs("tshark")
def test_capture_is_one_pcapng_with_every_interface(tmp_path):
    with Lab(catalogue.build("article")) as lab:
        j = lab.probe("http", src="client", dst="192.168.56.38")
    path = tmp_path / "journey.pcapng"
    j.capture.to_pcapng(path)
    out = subprocess.run(["tshark", "-r", str(path), "-T", "fields", "-e", "frame.interface_name",
                          "-e", "ip.dst", "-e", "tcp.dstport", "-e", "frame.protocols"],
                         capture_output=True, text=True, check=True).stdout
    everything = [line.split("\t") for line in out.splitlines()]
    # the capture keeps whatever crossed the interfaces; the journey, the probe's IPv4 and ARP
    # (the kernel's own housekeeping, e.g. an IPv6 or IGMP report as an interface comes up, is
    # in the file but in no journey)
    probe = re.compile(r"^eth:ethertype:(arp|ip:(tcp|udp|icmp))(:|$)")
    rows = [r[:3] for r in everything if probe.match(r[3])]
    assert len(rows) == len(j.seen()), [r for r in everything if not probe.match(r[3])]
    ifaces = {r[0] for r in rows}
    for node, iface in (("client", "eth0"), ("host", "enp0s8"), ("host", "docker0"), ("web", "eth0")):
        assert any(i.endswith(f"{node}/{iface}") or i == f"{lab.netns[node]}/{iface}" for i in ifaces), ifaces
    assert ["172.17.0.2", "80"] in [r[1:] for r in rows]


def test_bridge_learns_macs_on_the_first_packet():
    with Lab(catalogue.build("two-containers")) as lab:
        first = lab.probe("ping", src="app", dst="web")
        again = lab.probe("ping", src="app", dst="web")
    learnt = {(e.iface, e.frame.src_mac) for e in first.of_kind("fdb")}
    macs = {v: k for k, v in first.probe["mac_owner"].items()}
    assert (first.seen("app", "eth0")[0].frame.src_mac == macs["app:eth0"])
    assert any(mac == macs["app:eth0"] for _, mac in learnt)
    assert any(mac == macs["web:eth0"] for _, mac in learnt)
    assert again.of_kind("fdb") == []  # already known: nothing new to learn
    assert [e.frame.proto for e in again.seen("app", "eth0")] == ["icmp", "icmp"]  # ARP cached


def test_tcpdump_like_promiscuous_bridge_changes_the_hairpin():
    """With the bridge promiscuous (as tcpdump leaves it), br_netfilter hands the copy of a
    DNATed hairpin frame to the host as PACKET_HOST: it is routed too, and the container
    gets the SYN twice (TTL 64 bridged, TTL 63 routed).  Without promiscuous mode, once."""
    probe = {"kind": "tcp", "src": "app", "dst": "192.168.56.38", "dport": 80}
    with Lab(catalogue.build("hairpin"), capture_promisc=False) as lab:
        quiet = lab.probe(**probe)
        lab.capture_promisc = True
        loud = lab.probe(**probe)
    syns = [e.frame.ttl for e in quiet.seen("web", "eth0") if e.frame.flags == "S"]
    assert syns == [64]
    syns = [e.frame.ttl for e in loud.seen("web", "eth0") if e.frame.flags == "S"]
    assert sorted(syns) == [63, 64]


def test_a_failed_build_says_why_and_leaves_nothing():
    from netlab.errors import LabError

    sc = catalogue.build("article")
    sc.host.iptables = sc.host.iptables.replace("-j MASQUERADE", "-j NO-SUCH-TARGET", 1)
    lab = Lab(sc)
    with pytest.raises(LabError, match="iptables-restore") as info:
        lab.up()
    assert "down --all" in str(info.value)
    assert not [n for n in build.list_netns() if n.startswith(lab.prefix)]
    assert not build.state_path(lab.prefix).exists()
