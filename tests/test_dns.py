"""Docker's embedded DNS: the wire codec (checked against scapy's parser), the lab's copy of
the resolver's answer, the scenario data (rules and listeners on user networks only) and
the dns probe's checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netlab import dns
from netlab.probe import ProbeError, ProbeRequest
from netlab.scenarios import Container, Scenario, catalogue, docker_host
from netlab.scenarios.errors import ScenarioError
from netlab.sim import SimNet

RECORDS = {"db": "172.18.0.3", "db.mynet": "172.18.0.3", "web": "172.18.0.2"}


def _servers():
    path = Path(dns.__file__).parent / "lab" / "servers.py"
    spec = importlib.util.spec_from_file_location("netlab_lab_servers", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_query_and_answer_are_real_dns():
    scapy_dns = pytest.importorskip("scapy.layers.dns")
    q = scapy_dns.DNS(dns.query("db", 0x1234))
    assert q.id == 0x1234 and q.rd == 1 and q.qr == 0 and q.qd[0].qname == b"db." and q.qd[0].qtype == 1
    a = scapy_dns.DNS(dns.answer(dns.query("DB", 7), RECORDS))
    assert a.qr == 1 and a.ra == 1 and a.rcode == 0 and a.an[0].rdata == "172.18.0.3" and a.an[0].ttl == 600
    assert scapy_dns.DNS(dns.answer(dns.query("cache", 8), RECORDS)).rcode == 3
    assert scapy_dns.DNS(dns.answer(dns.query("example.com", 9), RECORDS)).rcode == 2


def test_parse_reads_scapys_answer_with_compression():
    scapy_dns = pytest.importorskip("scapy.layers.dns")
    built = scapy_dns.DNS(id=5, qr=1, ra=1, qd=scapy_dns.DNSQR(qname="db."),
                          an=scapy_dns.DNSRR(rrname="db.", type="A", rdata="172.18.0.3", ttl=600))
    msg = dns.parse(bytes(built))
    assert (msg.ident, msg.response, msg.rcode, msg.name, msg.answers, msg.ttl) == (
        5, True, "NOERROR", "db", ["172.18.0.3"], 600)


def test_known_name_aaaa_is_nodata_and_answers_ignore_responses():
    msg = dns.parse(dns.answer(dns.query("db", 1, qtype=dns.TYPE_AAAA), RECORDS))
    assert msg.rcode == "NOERROR" and msg.answers == []
    assert dns.answer(dns.answer(dns.query("db", 1), RECORDS), RECORDS) is None  # a response: no reply
    assert dns.answer(b"\x00" * 5, RECORDS) is None


@pytest.mark.parametrize("bad", ["", "a..b", "x" * 64, "bad name", "é", 5, "a." * 130])
def test_bad_names_are_refused(bad):
    with pytest.raises(dns.DnsError):
        dns.check_name(bad)


_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_", min_size=1, max_size=20)


@given(name=st.lists(_label, min_size=1, max_size=4).map(".".join), ident=st.integers(0, 65535),
       known=st.booleans())
def test_the_labs_resolver_answers_the_same_bytes(name, ident, known):
    records = {name.lower(): "10.1.2.3"} if known else dict(RECORDS)
    q = dns.query(name, ident)
    assert _servers().dns_answer(q, records) == dns.answer(q, records)


def test_user_network_containers_get_the_resolver_and_docker0_ones_do_not():
    sc = catalogue.build("user-network-dns")
    web, legacy = sc.node("web"), sc.node("legacy")
    ports = {s.proto: s.port for s in web.services if s.kind == "dns"}
    assert set(ports) == {"udp", "tcp"} and ports["udp"] != ports["tcp"]
    assert all(32768 <= p <= 60999 for p in ports.values())
    assert f"-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination " \
           f"127.0.0.11:{ports['udp']}" in web.iptables
    assert f"--sport {ports['tcp']} -j SNAT --to-source :53" in web.iptables
    assert web.iptables.index("-p tcp -m tcp --dport 53") < web.iptables.index("-p udp -m udp --dport 53")
    assert legacy.iptables == "" and not [s for s in legacy.services if s.kind == "dns"]
    assert Scenario.from_json(sc.to_json()).node("db").aliases == ["database"]
    nft = catalogue.build("user-network-dns", version="29", firewall_backend="nftables").node("web")
    assert "table ip docker-dns" in nft.nftables and nft.iptables == ""


def test_the_resolver_draws_leave_the_other_draws_alone():
    a = docker_host("27", [Container("web", network="n1")], networks=["n1"])
    b = docker_host("27", [Container("web", network="n1", aliases=["www"])], networks=["n1"])
    assert a.host.interfaces == b.host.interfaces and a.node("web").interfaces == b.node("web").interfaces


def test_aliases_need_a_user_network():
    with pytest.raises(ScenarioError, match="user-defined networks"):
        docker_host("27", [Container("web", aliases=["www"])])
    with pytest.raises(ScenarioError, match="alias"):
        docker_host("27", [Container("web", network="n1", aliases=["bad name"])], networks=["n1"])


def test_dns_probe_requests_are_checked():
    sc = catalogue.build("user-network-dns")
    req = ProbeRequest.build(sc, "dns", "web", "127.0.0.11", name="db.")
    assert (req.name, req.dport, req.dst_node) == ("db", 53, None)
    with pytest.raises(ProbeError, match="needs name="):
        ProbeRequest.build(sc, "dns", "web", "127.0.0.11")
    with pytest.raises(ProbeError, match="name= is for dns"):
        ProbeRequest.build(sc, "udp", "web", "127.0.0.11", name="db")
    with pytest.raises(ProbeError, match="label"):
        ProbeRequest.build(sc, "dns", "web", "127.0.0.11", name="a b")


def test_sim_lookups_by_network():
    net = SimNet(catalogue.build("user-network-dns"))
    got = {n: net.probe("dns", src="db", dst="127.0.0.11", name=n).result["answer"]
           for n in ("web", "WEB.mynet", "db", "cache", "legacy")}
    assert got == {"web": "172.18.0.2", "WEB.mynet": "172.18.0.2", "db": "172.18.0.3", "cache": None,
                   "legacy": None}
    j = net.probe("dns", src="cache", dst="127.0.0.11", name="cache")
    assert j.result["answer"] == "172.19.0.2"
    j = net.probe("dns", src="web", dst="127.0.0.11", name="db", dport=5353, timeout=0.5)
    assert j.outcome == "rejected" and j.result["rcode"] is None  # no DNAT for port 5353: nothing there


def test_tcp_port_53_reaches_the_resolvers_tcp_listener():
    net = SimNet(catalogue.build("user-network-dns"))
    j = net.probe("tcp", src="web", dst="127.0.0.11", dport=53)
    assert j.ok and any(e.kind == "nat" and e.rule == "nat:DOCKER_OUTPUT:1" for e in j.steps)
