"""``Journey.first_seen`` and the short / detailed ``Journey.summary`` (issue 12)."""

from __future__ import annotations

import pytest

from netlab.journey import SHORT_LINES, NotSeenError
from netlab.scenarios import Container, Service, docker_host
from netlab.sim import SimNet


def yard(version: str = "28") -> SimNet:
    """shop (8000→80) and tools on docker0, worker and queue on the user network ``jobs``."""
    return SimNet(docker_host(version, [
        Container("shop", ports=["8000:80"]),
        Container("tools", image="alpine"),
        Container("worker", image="alpine", network="jobs"),
        Container("queue", image="alpine", network="jobs", services=[Service("udp", 9000, "udp-echo")]),
    ], networks=["jobs"], seed=5))


PROBES = [
    ("http", "client", "host", 8000),
    ("ping", "tools", "203.0.113.10", None),
    ("udp", "worker", "queue", 9000),
    ("tcp", "client", "host", 8001),       # nothing listens: RST
    ("traceroute", "tools", "203.0.113.10", None),
    ("arping", "tools", "shop", None),
    ("ping", "tools", "172.17.0.99", None),  # nobody: ARP unanswered
]


@pytest.fixture(scope="module", params=["27", "28", "29"])
def journeys(request):
    net = yard(request.param)
    return [net.probe(k, src=s, dst=d, **({"dport": p} if p else {})) for k, s, d, p in PROBES]


def _by_hand(j, node, iface, direction, **want):
    for e in j.steps:
        if e.kind == "seen" and e.node == node and e.iface == iface and e.direction == direction \
                and all(getattr(e.frame, k) == v for k, v in want.items()):
            return e
    return None


def test_first_seen_is_the_first_matching_sighting_everywhere(journeys):
    checked = 0
    for j in journeys:
        places = {(e.node, e.iface, e.direction) for e in j.seen()}
        for node, iface, direction in places:
            for want in ({}, {"proto": "tcp"}, {"proto": "arp"}, {"flags": "S"}, {"icmp_type": 8},
                         {"proto": "udp", "dport": 9000}):
                expect = _by_hand(j, node, iface, direction, **want)
                if expect is None:
                    with pytest.raises(NotSeenError):
                        j.first_seen(node=node, iface=iface, direction=direction, **want)
                else:
                    got = j.first_seen(node=node, iface=iface, direction=direction, **want)
                    assert got is expect
                    checked += 1
    assert checked > 50


def test_first_seen_reads_like_the_frame_and_accepts_sets_and_functions(journeys):
    j = journeys[0]  # client → host:8000, DNATed to shop
    syn = j.first_seen(node="shop", direction="in", flags="S")
    assert syn.kind == "seen" and syn.node == "shop"
    assert syn.dst == syn.frame.dst and syn.dport == 80 and syn.ttl == syn.frame.ttl
    assert syn.seq == j.steps.index(syn) + 1  # the event's number, not the TCP sequence
    assert j.first_seen(node="shop", flags={"SA", "S"}) is syn
    answer = j.first_seen(node="client", direction="in", flags=lambda f: f is not None and "A" in f)
    assert answer.src != syn.dst  # un-DNATed on the way back
    assert j.first_seen(packet_id=syn.packet_id) is j.seen()[[e.packet_id for e in j.seen()].index(syn.packet_id)]
    with pytest.raises(AttributeError):
        _ = syn.no_such_field


def test_first_seen_says_what_was_seen_when_nothing_matches(journeys):
    j = journeys[0]
    with pytest.raises(NotSeenError) as err:
        j.first_seen(node="client", iface="eth0", direction="out", flags="R")
    text = str(err.value)
    assert "flags='R'" in text and "client:eth0" in text
    out = j.seen("client", "eth0", "out")
    assert all(f"#{e.seq} " in text for e in out[:10])
    assert isinstance(err.value, LookupError)
    with pytest.raises(NotSeenError) as err:
        j.first_seen(node="queue")  # the probe never went there
    assert "Nothing at all was seen there" in str(err.value) and "client:eth0 out" in str(err.value)


def test_first_seen_refuses_unknown_fields_and_directions(journeys):
    j = journeys[0]
    with pytest.raises(ValueError, match="colour"):
        j.first_seen(node="client", colour="red")
    with pytest.raises(ValueError, match="'in', 'out'"):
        j.first_seen(node="client", direction="inbound")


def test_short_summary_is_a_hop_table_of_the_packet_and_its_answer(journeys):
    for j in journeys:
        lines = j.summary().splitlines()
        assert 1 <= len(lines) <= SHORT_LINES, j.summary()
        assert lines[0] == j.headline() and lines[0].startswith(j.probe["kind"])
        assert str(j) == j.summary()
    http = journeys[0].summary().splitlines()
    assert http[1].split()[:3] == ["hop", "where", "packet"]
    rows = http[2:]
    syn = [e for e in journeys[0].seen() if e.packet_id == journeys[0].steps[0].packet_id]
    assert [r.split()[1] for r in rows[:len(syn)]] == [f"{e.node}:{e.iface}" for e in syn]
    dnat = next(e for e in journeys[0].steps if e.kind == "nat" and e.rule)
    assert any(f"DNAT {dnat.rule}" in r for r in rows)  # the rule that changed it, where it changed
    assert any("answer" in r for r in rows) and "delivered in client" in rows[-1]
    assert not any("ARP" in r for r in rows)  # the probe's packets, not the neighbour traffic


def test_short_summary_of_a_packet_that_never_left_names_the_reason():
    net = yard("29")
    j = net.probe("tcp", src="client", dst="172.17.0.2", dport=80, timeout=1.0)
    assert j.outcome == "dropped"
    lines = j.summary().splitlines()
    assert len(lines) == 2 and j.reason in lines[1]


def test_detail_is_every_hop_of_every_packet(journeys):
    for j in journeys:
        long = j.summary(detail=True).splitlines()
        assert long[0] == j.headline()
        assert len([line for line in long if " seen " in line]) == len(j.seen())
    assert len(journeys[0].summary(detail=True).splitlines()) > SHORT_LINES
