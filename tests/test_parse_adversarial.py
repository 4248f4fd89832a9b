"""Issue 10: every paste parser is linear on adversarial shapes, and only the documented
error (ParseError) escapes them — searched with hypothesis, plus each input the
adversarial pass found."""

from __future__ import annotations

import gc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import netlab
from netlab import HostState, ParseError
from netlab.netfilter.limits import MAX_CHAINS, MAX_RULES, MAX_TABLES
from netlab.netfilter.ruleset import Ruleset
from netlab.parse import parse_iptables_text
from netlab.parse.clean import clean_lines
from tests._adversarial import SHAPES
from tests.test_parse_properties import PARSERS, _cpu_times

ENTRY_POINTS = {**PARSERS, "netlab.parse_iptables": netlab.parse_iptables, "clean_lines": clean_lines}


def _quiet(fn, text: str) -> None:
    try:
        fn(text)
    except ParseError:
        pass


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_adversarial_shapes_parse_in_linear_time(shape):
    """5x the text costs about 5x the CPU time (quadratic would be 25x) in every entry point."""
    make = SHAPES[shape]
    small, large = make(10_000), make(50_000)
    slow = []
    gc.collect()  # once: the entry points' garbage is small
    for name, fn in ENTRY_POINTS.items():
        def run(text, fn=fn):
            _quiet(fn, text)
        run(small)
        t_small, t_large = _cpu_times(run, [small, large], rounds=2, collect=False)
        if t_large > 12 * max(t_small, 2e-3):
            slow.append((name, round(t_small, 4), round(t_large, 4)))
    assert not slow, (shape, slow)


_H = "*filter\n:INPUT ACCEPT [0:0]\n"
REFUSED = {
    "wrapped counters": "*filter\n:INPUT ACCEPT\n[0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n",
    "counters alone": "*filter\n[0:0]\nCOMMIT\n",
    "superscript rule number": _H + "-I INPUT ² -j ACCEPT\nCOMMIT\n",
    "arabic-indic rule number": _H + "-I INPUT ٣ -j ACCEPT\nCOMMIT\n",
    "superscript -c": _H + "-A INPUT -c ² 0 -j ACCEPT\nCOMMIT\n",
    "huge rule number": _H + "-I INPUT 99999999999999999999 -j ACCEPT\nCOMMIT\n",
    "rule number 0": _H + "-I INPUT 0 -j ACCEPT\nCOMMIT\n",
    "rule number past the end": _H + "-I INPUT 3 -j ACCEPT\nCOMMIT\n",
    "-S rule number 0": "-P INPUT ACCEPT\n-I INPUT 0 -j ACCEPT\n",
    "unicode chain counters": "*filter\n:INPUT ACCEPT [٣:0]\nCOMMIT\n",
    "u64 overflow counters": "*filter\n:INPUT ACCEPT [18446744073709551616:0]\nCOMMIT\n",
}


@pytest.mark.parametrize("case", sorted(REFUSED))
@pytest.mark.parametrize("fn", [netlab.parse_iptables, netlab.parse_host], ids=["parse_iptables", "parse_host"])
def test_listed_inputs_are_refused_with_a_parse_error(case, fn):
    with pytest.raises(ParseError) as exc:
        fn(REFUSED[case])
    assert str(exc.value)


def test_lone_quote_on_a_prompt_line_is_read():
    rs = netlab.parse_iptables('$ iptables -S "INPUT\n-P INPUT ACCEPT\n-A INPUT -j DROP\n')
    assert [r.index for r in rs.tables["filter"].chains["INPUT"].rules] == [1]


def test_inserts_keep_iptables_order():
    rs = netlab.parse_iptables(_H + "-A INPUT -s 192.0.2.1 -j DROP\n-I INPUT -s 192.0.2.2 -j DROP\n"
                               "-I INPUT 2 -s 192.0.2.3 -j DROP\n-I INPUT 4 -s 192.0.2.4 -j DROP\n"
                               "-I INPUT -s 192.0.2.5 -j DROP\nCOMMIT\n")
    rules = rs.tables["filter"].chains["INPUT"].rules
    assert [r.tokens[1] for r in rules] == ["192.0.2.5", "192.0.2.2", "192.0.2.3", "192.0.2.1", "192.0.2.4"]
    assert [r.index for r in rules] == [1, 2, 3, 4, 5]


def test_legacy_tables_warning_is_kept():
    rs = netlab.parse_iptables("# Warning: iptables-legacy tables present, use iptables-legacy-save to see "
                               "them\n" + _H + "COMMIT\n")
    assert any("iptables-legacy" in w and "trace may miss" in w for w in rs.warnings)


def test_empty_rules_trace_is_uncertain():
    tr = netlab.parse_iptables("").trace(netlab.Packet(src="192.0.2.1", dst="198.51.100.2", proto="tcp",
                                                       dport=80), hook="INPUT")
    assert tr.uncertain and any("no rules" in n for n in tr.notes)


def test_json_integers_past_64_bits_are_refused_at_parse_time():
    for big in ("9223372036854775808", "9" * 5000):
        with pytest.raises(ParseError, match="64 bits"):
            netlab.parse_ip_json('[{"ifindex": 1, "ifname": "eth0", "mtu": ' + big + "}]")


# -- hypothesis: search each defect class ------------------------------------------------
UNICODE_DIGITS = st.sampled_from(["²", "³", "¹", "٣", "۵", "߁", "१", "০", "๓", "０", "𝟘", "①"])
HUGE = st.sampled_from(["0", "-1", "2147483648", "4294967296", "18446744073709551616",
                        "99999999999999999999", "9" * 400, "0x1ffffffff", "1e9"])
CONTROL = st.sampled_from(["\x00", "\x07", "\x1b[31m", "\x1b]0;t\x07", "\x1c", "\x85", "\u2028", "\ufeff",
                           "\u200b", "\r", "\t", "\v", "\\", '"', "'", "[", "]", "(", ")", "#", "$", "@"])
NUMBERISH = st.one_of(UNICODE_DIGITS, HUGE, st.integers(-5, 70000).map(str))
WORD = st.one_of(st.sampled_from(["-A", "-I", "-P", "-N", "-c", "-m", "-j", "-p", "-s", "-d", "--dport",
                                  "--mark", "--comment", "INPUT", "FORWARD", "DOCKER", "ACCEPT", "DROP",
                                  "tcp", "udp", "mark", "comment", "multiport", "conntrack", "--ctstate",
                                  "10.0.0.1/32", "[0:0]", "*filter", "COMMIT", ":INPUT", "-t", "nat"]),
                 NUMBERISH, CONTROL, st.text(max_size=4))
LINE = st.lists(WORD, min_size=1, max_size=12).map(" ".join)
PREFIX = st.sampled_from(["", "$ iptables -S ", "root@h:~# iptables-save ", "# ", "[0:0] ", "-I INPUT ",
                          "-A INPUT ", ":INPUT ACCEPT ", "# -- iptables -S -t nat --"])


@st.composite
def rule_pastes(draw: st.DrawFn) -> str:
    lines = draw(st.lists(st.tuples(PREFIX, LINE).map("".join), max_size=8))
    nest = draw(st.integers(0, 400))
    if draw(st.booleans()):
        lines.append("-A INPUT -m comment --comment " + '"\\"' * nest)
    head = draw(st.sampled_from(["", "*filter\n:INPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n", "*nat\n"]))
    return head + "\n".join(lines) + draw(st.sampled_from(["", "\nCOMMIT\n"]))


def _only_parse_error(fn, text):
    try:
        result = fn(text)
    except ParseError as exc:
        assert str(exc)
        return None
    return result


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_pastes())
def test_parse_iptables_only_raises_parse_error(text):
    rs = _only_parse_error(netlab.parse_iptables, text)
    if isinstance(rs, Ruleset):
        rs.to_iptables_save()
        for hook in ("INPUT", "FORWARD"):
            tr = rs.trace(netlab.Packet(src="192.0.2.1", dst="198.51.100.2", proto="tcp", dport=80), hook=hook)
            assert tr.verdict


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_pastes(), st.sampled_from(sorted(PARSERS)))
def test_every_paste_parser_only_raises_parse_error(text, name):
    result = _only_parse_error(PARSERS[name], text)
    if result is not None:
        assert isinstance(result, HostState)
        HostState.from_json(result.to_json())


JSON_VALUE = st.recursive(
    st.one_of(st.sampled_from(["null", "true", "false", "1.5e308", "-0"]), NUMBERISH.map(lambda s: s if s.lstrip("-").isascii() and
                                                      s.lstrip("-").isdigit() else f'"{s}"'),
              st.text(max_size=5).map(lambda s: '"' + s.replace("\\", "").replace('"', "") + '"')),
    lambda inner: st.one_of(st.lists(inner, max_size=3).map(lambda xs: "[" + ",".join(xs) + "]"),
                            st.dictionaries(st.sampled_from(['"ifname"', '"mtu"', '"addr_info"', '"ifindex"',
                                                             '"local"', '"prefixlen"', '"Name"']),
                                            inner, max_size=4)
                            .map(lambda d: "{" + ",".join(f"{k}:{v}" for k, v in d.items()) + "}")),
    max_leaves=20)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON_VALUE, st.integers(0, 3000))
def test_json_parsers_only_raise_parse_error(body, depth):
    for text in (body, "[" * depth + body + "]" * depth):
        for fn in (netlab.parse_ip_json, netlab.parse_docker_network_inspect, netlab.parse_host):
            result = _only_parse_error(fn, text)
            if result is not None:
                HostState.from_json(result.to_json())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(CONTROL, UNICODE_DIGITS, HUGE, st.sampled_from(list('{}[]":,0123456789')),
                         st.sampled_from(['"namespaces"', '"links"', '"addresses"', '"version"', '"routes"',
                                          '"mtu"', '"ifindex"', '{"namespaces": {"": {"links": ['])),
                max_size=40).map("".join))
def test_from_json_only_raises_documented_errors(text):
    from netlab.errors import SnapshotError
    for t in (text, "[" * 5000 + text, '{"namespaces": ' + "9" * 5000 + "}"):
        try:
            HostState.from_json(t)
        except SnapshotError:
            pass


def test_conntrack_marks_past_32_bits_are_refused_at_parse_time():
    line = ("tcp      6 431999 ESTABLISHED src=172.17.0.2 dst=192.0.2.1 sport=40000 dport=80 "
            "src=192.0.2.1 dst=172.17.0.2 sport=80 dport=40000 [ASSURED] mark={} use=1")
    assert netlab.parse_conntrack(line.format("4294967295")).conntrack_entries[0].mark == 2**32 - 1
    for mark in ("4294967296", "0x100000000", "9" * 5000):
        with pytest.raises(ParseError):
            netlab.parse_conntrack(line.format(mark))


@pytest.mark.parametrize("text", ["(" * 300 + "tcp" + ")" * 300, "not " * 3000 + "tcp", "!" * 5000 + "tcp",
                                  "(" * 100_000])
def test_deeply_nested_display_filters_raise_filter_error(text):
    from netlab.capture.filters import compile_filter
    from netlab.errors import FilterError

    with pytest.raises(FilterError):
        compile_filter(text)


# ---------------------------------------------------------------- quotes on rule lines

QUOTED_RULE = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment {} -j ACCEPT\nCOMMIT\n"


@pytest.mark.parametrize("word", ['"abc', "'abc", '"a b \\"', '"it\'s', "abc\"def"])
def test_an_unclosed_quote_on_a_rule_line_is_refused(word):
    with pytest.raises(ParseError, match="never closed"):
        netlab.parse_iptables(QUOTED_RULE.format(word))


@pytest.mark.parametrize("word,comment", [('"it\'s"', "it's"), ('"a \\"b\\""', 'a "b"'),
                                          ("'x y'", "x y"), ('"(("', "((")])
def test_closed_quotes_are_read(word, comment):
    rule = netlab.parse_iptables(QUOTED_RULE.format(word)).tables["filter"].chains["INPUT"].rules[0]
    assert rule.tokens[rule.tokens.index("--comment") + 1] == comment


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \"'\\", max_size=30))
def test_quotes_on_a_rule_line_are_read_whole_or_refused(word):
    """Property: a rule whose quotes shlex cannot close is refused; one it can is read as shlex reads it."""
    import shlex

    text = QUOTED_RULE.format(word)
    try:
        shlex.split(text.splitlines()[2])
        closes = True
    except ValueError:
        closes = False
    try:
        netlab.parse_iptables(text)
    except ParseError as exc:
        if closes:
            assert "never closed" not in str(exc)
        return
    assert closes, f"{word!r} has an unclosed quote but was read silently"


# ---------------------------------------------------------------- values

def test_brief_point_to_point_peer():
    st_ = netlab.parse_ip_addr("tun0             UNKNOWN        10.8.0.1 peer 10.8.0.2/32 fe80::1/64\n")
    v4 = [a for a in st_.addrs if a.family == 4]
    assert [(a.address, a.prefixlen, a.peer) for a in v4] == [("10.8.0.1", 32, "10.8.0.2")]
    full = netlab.parse_ip_addr("5: tun0: <POINTOPOINT,UP,LOWER_UP> mtu 1500 qdisc fq state UNKNOWN\n"
                                "    link/none \n    inet 10.8.0.1 peer 10.8.0.2/32 scope global tun0\n")
    assert [(a.address, a.peer) for a in full.addrs] == [(v4[0].address, v4[0].peer)]


@pytest.mark.parametrize("parse", [netlab.parse_ip_addr, netlab.parse_ip_link])
def test_brief_at_if_peers_are_in_another_namespace(parse):
    text = ("lo               UNKNOWN        127.0.0.1/8\n"
            "eth0@if7         UP             172.17.0.2/16\n"
            "if7x             UP             10.0.0.1/24\n") if parse is netlab.parse_ip_addr else (
        "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\n"
        "eth0@if7         UP             02:42:ac:11:00:02 <BROADCAST,MULTICAST,UP,LOWER_UP>\n")
    state = parse(text)
    eth0 = next(link for link in state.links if link.name == "eth0")
    assert eth0.kind == "veth" and eth0.peer_ifindex == 7
    assert eth0.peer == (None, 7) and state.peer_namespace(eth0) is None
    assert state.peer_of(eth0) is None


def test_conntrack_o_id_is_the_entry_id():
    tcp = ("tcp      6 431999 ESTABLISHED src=172.17.0.2 dst=192.0.2.1 sport=40000 dport=80 "
           "src=192.0.2.1 dst=172.17.0.2 sport=80 dport=40000 [ASSURED] mark=0 use=1 id=3512345678")
    e = netlab.parse_conntrack(tcp).conntrack_entries[0]
    assert e.id == 3512345678 and e.reply.icmp_id is None
    icmp = ("icmp     1 29 src=172.17.0.2 dst=192.0.2.1 type=8 code=0 id=35 src=192.0.2.1 "
            "dst=172.17.0.2 type=0 code=0 id=35 mark=0 use=1 id=77")
    e = netlab.parse_conntrack(icmp).conntrack_entries[0]
    assert (e.orig.icmp_id, e.reply.icmp_id, e.id) == (35, 35, 77)
    with pytest.raises(ParseError):
        netlab.parse_conntrack(tcp.replace("id=3512345678", "id=4294967296"))


EVENTS = """\
    [NEW] tcp      6 120 SYN_SENT src=172.17.0.2 dst=192.0.2.1 sport=40000 dport=80 [UNREPLIED] src=192.0.2.1 dst=172.17.0.2 sport=80 dport=40000
 [UPDATE] tcp      6 60 SYN_RECV src=172.17.0.2 dst=192.0.2.1 sport=40000 dport=80 src=192.0.2.1 dst=172.17.0.2 sport=80 dport=40000
 [UPDATE] tcp      6 432000 ESTABLISHED src=172.17.0.2 dst=192.0.2.1 sport=40000 dport=80 src=192.0.2.1 dst=172.17.0.2 sport=80 dport=40000 [ASSURED]
[DESTROY] tcp      6 src=172.17.0.2 dst=192.0.2.1 sport=40000 dport=80 src=192.0.2.1 dst=172.17.0.2 sport=80 dport=40000 [ASSURED]
"""


@pytest.mark.parametrize("parse", [netlab.parse_conntrack, netlab.parse_host])
def test_conntrack_events_are_recognised(parse):
    entries = parse(EVENTS).conntrack_entries
    assert [(e.event, e.state) for e in entries] == [("NEW", "SYN_SENT"), ("UPDATE", "SYN_RECV"),
                                                     ("UPDATE", "ESTABLISHED"), ("DESTROY", None)]
    stamped = "[1712345678.123456]\t" + EVENTS.splitlines()[0].strip() + "\n"
    e = parse(stamped).conntrack_entries[0]
    assert (e.event, e.time) == ("NEW", 1712345678.123456)
    with pytest.raises(ParseError):
        netlab.parse_conntrack(EVENTS.replace("[NEW]", "[NOPE]"))


CT_WORD = st.sampled_from(["src=172.17.0.2", "dst=192.0.2.1", "sport=40000", "dport=80", "src=192.0.2.1",
                           "dst=172.17.0.2", "type=8", "code=0", "id=35", "id=4294967296", "id=" + "9" * 30,
                           "mark=0", "use=1", "[ASSURED]", "[UNREPLIED]", "zone=1", "id=-1", "id=٣"])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["", "[NEW] ", " [UPDATE] ", "[DESTROY] ", "[1712345678.5] [NEW] ", "[X] ", "[] ",
                        "[99999999999999999999.1] [NEW] "]),
       st.sampled_from(["tcp      6 120 SYN_SENT", "icmp     1 29", "udp      17 30"]),
       st.lists(CT_WORD, max_size=14))
def test_conntrack_lines_only_raise_parse_error(prefix, head, words):
    """Property: events, ids and tuples in any order are read with their meaning, or refused."""
    from netlab.parse.conntrack import EVENTS

    text = prefix + head + " " + " ".join(words)
    state = _only_parse_error(netlab.parse_conntrack, text)
    if state is not None:
        for e in state.conntrack_entries:
            assert e.event in (None, *EVENTS)
            assert e.id is None or 0 <= e.id < 2**32
            assert e.orig.src and e.reply.src


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["10.8.0.1", "peer", "10.8.0.2/32", "fe80::1/64", "fe80::2", "<UP>",
                                 "02:42:ac:11:00:02", "x", "10.8.0.1/24"]), max_size=8),
       st.sampled_from(["tun0", "eth0@if7", "v1@v2", "lo"]))
def test_brief_lines_only_raise_parse_error(words, name):
    """Property: a `peer` is read with the address before it (that is this end), or refused."""
    state = _only_parse_error(netlab.parse_ip_addr, f"{name}  UNKNOWN  " + " ".join(words) + "\n")
    if state is not None:
        for a in state.addrs:
            # (the same address may be written twice: `10.8.0.1 peer 10.8.0.1/24`)
            written = [w.split("/", 1)[0] for w in words]
            assert a.peer is None or a.peer != a.address or written.count(a.address) > 1


OVER_LIMIT = {
    "rules": lambda: _H + "-A INPUT -j ACCEPT\n" * (MAX_RULES + 1) + "COMMIT\n",
    "inserted rules": lambda: _H + "-I INPUT -j ACCEPT\n" * (MAX_RULES + 1) + "COMMIT\n",
    "counted rules": lambda: _H + "[0:0] -A INPUT -j ACCEPT\n" * (MAX_RULES + 1) + "COMMIT\n",
    "chains": lambda: "*filter\n" + "".join(f":C{i} - [0:0]\n" for i in range(MAX_CHAINS + 1)) + "COMMIT\n",
    "tables": lambda: "*filter\nCOMMIT\n" * (MAX_TABLES + 1),
}


@pytest.mark.parametrize("case", sorted(OVER_LIMIT))
@pytest.mark.parametrize("fn", [netlab.parse_iptables, netlab.parse_host, parse_iptables_text],
                         ids=["parse_iptables", "parse_host", "parse_iptables_text"])
def test_a_paste_over_the_documented_limits_is_refused_saying_what_to_do(case, fn):
    with pytest.raises(ParseError) as exc:
        fn(OVER_LIMIT[case]())
    assert "more than netlab reads" in str(exc.value) and "kube-proxy" in str(exc.value)
    assert "paste only the tables or chains" in (exc.value.hint or "")


def test_a_paste_at_the_limits_is_read():
    text = _H + "".join(f":C{i} - [0:0]\n" for i in range(MAX_CHAINS - 1)) \
        + "-A INPUT -j ACCEPT\n" * MAX_RULES + "COMMIT\n"
    rs = netlab.parse_iptables(text)
    assert {"INPUT", f"C{MAX_CHAINS - 2}"} <= set(rs.tables["filter"].chains)
    assert len(rs.tables["filter"].chains["INPUT"].rules) == MAX_RULES
