"""SimNet.send_frame: a hand-made frame from a LAN machine, as scapy's sendp sends it
(moby issue 45610: 127.0.0.1-published ports reached through the host's MAC on Docker <= 27)."""

from __future__ import annotations

import pytest

import netlab as nl
from netlab.packet import Frame
from netlab.probe import ProbeError


def _host(version: str, ports: str = "127.0.0.1:8080:80") -> tuple[object, Frame]:
    s = nl.docker_host(version, containers=[nl.scenarios.Container("web", ports=[ports])])
    net = nl.connect(mode="sim", scenario=s, quiet=True)
    client_mac = next(i.mac for i in s.node("client").interfaces if i.name == "eth0")
    host_mac = next(i.mac for i in s.host.interfaces if i.name == "enp0s8")
    syn = Frame(src_mac=client_mac, dst_mac=host_mac, proto="tcp", src="192.168.56.1", dst="127.0.0.1",
                ttl=64, sport=40000, dport=8080, seq=1, flags="S", window=64240, ip_id=7)
    return net, syn


def test_loopback_published_port_reached_from_the_lan_before_28() -> None:
    net, syn = _host("27")
    j = net.send_frame("client", "eth0", syn)
    assert j.outcome == "answered"
    dnat = j.nat_rewrites[0]
    assert dnat.rule == "nat:DOCKER:2" and "172.17.0.2:80" in dnat.detail
    assert j.first_seen(node="web", iface="eth0", flags="S").frame.dst == "172.17.0.2"
    back = j.first_seen(node="client", direction="in", flags="SA").frame
    assert (back.src, back.sport) == ("127.0.0.1", 8080)


@pytest.mark.parametrize("version", ["28.0.0", "28.2.0", "29"])
def test_28_drops_it_in_raw(version: str) -> None:
    net, syn = _host(version)
    j = net.send_frame("client", "eth0", syn)
    assert j.outcome == "dropped" and "raw:PREROUTING" in j.reason
    assert not j.seen(node="web")


def test_an_ordinary_port_answers_and_a_wrong_mac_goes_nowhere() -> None:
    net, syn = _host("27", ports="80:80")
    to_host = Frame(**{**syn.__dict__, "dst": "192.168.56.38", "dport": 80})
    assert net.send_frame("client", "eth0", to_host).outcome == "answered"
    lost = Frame(**{**syn.__dict__, "dst_mac": "02:00:00:00:00:99"})
    j = net.send_frame("client", "eth0", lost)
    assert j.outcome == "timeout" and not j.seen(node="web")


def test_bad_requests_say_what_to_do() -> None:
    net, syn = _host("27")
    with pytest.raises(ProbeError, match="no interface"):
        net.send_frame("client", "eth7", syn)
    with pytest.raises(ProbeError, match="src_mac and dst_mac"):
        net.send_frame("client", "eth0", Frame(**{**syn.__dict__, "dst_mac": None}))
    with pytest.raises(ProbeError, match="IPv4"):
        net.send_frame("client", "eth0", Frame(**{**syn.__dict__, "proto": "arp"}))
