"""The probe contract on the simulator (tests/_probe_contract.py; the lab half is
tests/lab/test_probe_contract_lab.py)."""

from __future__ import annotations

import inspect

import pytest

from netlab.errors import NetlabError
from netlab.lab import Lab
from netlab.probe import KINDS, LAB_LIMITS, Backend, ProbeError, ProbeRequest
from netlab.sim import SimNet
from tests._probe_contract import REQUESTS, every_kind, outcome, scenario


@pytest.fixture(scope="module")
def sims():
    return {name: SimNet(scenario(name)) for name in dict.fromkeys(r.scenario for r in REQUESTS)}


@pytest.mark.parametrize("req", REQUESTS, ids=[r.id for r in REQUESTS])
def test_sim_outcome(sims, req):
    got = outcome(sims[req.scenario], req)
    if req.error:
        assert got[:2] == ("error", req.error), got
        assert req.says in got[2]
    else:
        assert got[0] == "journey", got
        assert got[1][-1] == ("outcome", "answered"), got


def test_both_backends_share_one_probe_signature():
    assert SimNet.probe is Lab.probe
    params = inspect.signature(SimNet.probe).parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())  # no **options swallowing typos
    assert list(params) == ["self", "kind", "src", "dst", "dport", "sport", "count", "timeout", "payload", "ttl",
                            "name"]


def test_both_backends_are_the_protocol():
    assert isinstance(SimNet(scenario()), Backend)
    assert isinstance(Lab(scenario()), Backend)  # not built: nothing happens until up()


def test_lab_limits_say_they_are_the_labs():
    for kwargs in ({"count": 50}, {"timeout": 30}):
        with pytest.raises(ProbeError, match=r"lab's limit \(a real probe takes real time\)") as info:
            ProbeRequest.build(scenario(), "ping", "client", "host", limits=LAB_LIMITS, **kwargs)
        assert isinstance(info.value, NetlabError) and "mode='sim'" in str(info.value)
    ProbeRequest.build(scenario(), "ping", "client", "host", count=50)  # the simulator's own bounds


def test_request_is_resolved_through_the_scenario():
    req = ProbeRequest.build(scenario(), "http", "client", "host", payload=None)
    assert (req.src_node, req.src_ip, req.dst_node, req.dst_ip, req.dport) == (
        "client", None, "host", "192.168.56.38", 80)
    req = ProbeRequest.build(scenario(), "udp", "172.17.0.2", "internet", payload="é", sport="4000")
    assert (req.src_node, req.src_ip, req.payload, req.sport, req.dport) == ("web", "172.17.0.2",
                                                                            "é".encode(), 4000, 7)
    assert req.deadline == req.timeout


def test_every_kind_has_a_row_and_runs_on_the_sim():
    kinds = every_kind()
    assert [k["kind"] for _s, k in kinds] == list(KINDS)
    for name, kwargs in kinds:
        kwargs = dict(kwargs)
        kind = kwargs.pop("kind")
        j = SimNet(scenario(name)).probe(kind, **kwargs)
        assert j.probe.kind == kind and j.outcome in ("answered", "rejected"), (kind, j.outcome)


def test_dns_probe_gives_the_answer_and_the_redirect():
    net = SimNet(scenario("user-network-dns"))
    j = net.probe("dns", src="web", dst="127.0.0.11", name="db")
    assert j.ok and j.result["answer"] == net.scenario.node("db").ip and j.result["rcode"] == "NOERROR"
    assert j.probe.name == "db" and j.probe.dport == 53
    dnat = [e for e in j.nat_rewrites if e.hook == "OUTPUT"]
    assert dnat and dnat[0].rule == "nat:DOCKER_OUTPUT:2"
    j = net.probe("dns", src="web", dst="127.0.0.11", name="cache")
    assert j.ok and j.result["rcode"] == "NXDOMAIN" and j.result["answer"] is None


def test_journey_probe_is_a_typed_record_with_both_source_ports():
    net = SimNet(scenario())
    j = net.probe("tcp", src="client", dst="host", dport=80)
    assert j.probe.sport is None and 32768 <= j.probe.actual_sport <= 60999
    j = net.probe("tcp", src="client", dst="host", dport=80, sport=40001)
    assert j.probe.sport == j.probe.actual_sport == 40001
    assert j.probe["dst_ip"] == j.probe.dst_ip == "192.168.56.38" and j.probe.get("hops") is None
    with pytest.raises(KeyError):
        j.probe["nonsense"] = 1
