"""netfilter owns its facts: one registry of match modules and targets, one service
table, one integer parser; the simulator's verdict cache keys on what the rules read."""

from __future__ import annotations

import pytest

from netlab.netfilter import (
    Packet,
    PacketError,
    matches,
    modules,
    parse_iptables,
    ruleset,
    validate,
)
from netlab.probe import ProbeError
from netlab.scenarios import catalogue
from netlab.sim import SimNet


def test_every_table_derives_from_the_registry():
    assert validate.MATCH_OPTIONS == {m.name: m.options for m in modules.MATCHES.values()}
    assert validate.MODELLED_MATCHES == set(matches.COMPILERS) == {
        m.name for m in modules.MATCHES.values() if m.compiler}
    for m in modules.MATCHES.values():
        for option, arity in m.options.items():
            if arity == 0:
                assert option in ruleset.ZERO_ARG_OPTIONS
            if arity == 2:
                assert option in ruleset.TWO_ARG_OPTIONS
        assert m.reads <= modules.FIELDS


def test_service_names_come_from_netlabs_table_not_this_machine():
    ok = parse_iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport https -j ACCEPT\nCOMMIT\n")
    assert ok.rules[0].text.endswith("-j ACCEPT")
    # "echo" is in most /etc/services files; netlab's answer must not depend on the machine
    with pytest.raises(Exception, match="service name"):
        parse_iptables("*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport echo -j ACCEPT\nCOMMIT\n")


@pytest.mark.parametrize("kwargs", [{"proto": "¹"}, {"proto": "tcp", "dport": "²"}, {"proto": "tcp", "mark": "٣"},
                                    {"proto": "tcp", "length": "²"}, {"proto": "icmp", "icmp_type": "٨"}])
def test_unicode_digits_are_a_clear_error(kwargs):
    with pytest.raises(PacketError):
        Packet(src="192.0.2.1", dst="192.0.2.2", **kwargs)


def test_probe_ports_are_ascii_decimal():
    net = SimNet(catalogue.build("article"))
    with pytest.raises(ProbeError, match="dport must be a port number"):
        net.probe("http", src="client", dst="host", dport="²")
    assert net.probe("http", src="client", dst="host", dport=" 80 ").ok


def _big_pings_dropped():
    sc = catalogue.build("article")
    sc.host.iptables = catalogue.insert_rule(sc.host.iptables, "filter", "INPUT",
                                             "-p icmp -m length --length 200:65535 -j DROP")
    return sc


@pytest.mark.parametrize("order", [(None, 300, None, 300), (300, None, 300, None)])
def test_verdict_cache_keys_on_length(order):
    """The kernel drops only the big ping, whatever came before it."""
    net = SimNet(_big_pings_dropped())
    got = [net.probe("ping", src="client", dst="host", payload=bytes(n) if n else None, timeout=0.5).outcome
           for n in order]
    assert got == ["dropped" if n else "answered" for n in order]


def test_the_rules_say_what_they_read():
    rs = parse_iptables(_big_pings_dropped().host.iptables)
    assert "length" in rs.reads() and "ct_state" in rs.reads()
    assert "length" not in parse_iptables(catalogue.build("article").host.iptables).reads()
