"""`iptables -L` (issue 14): read into the same Ruleset, what it hides/loses said per rule,
traced with the verdict uncertain where a matched rule lost information."""

from __future__ import annotations

from pathlib import Path

import pytest

import netlab
from netlab.errors import ParseError
from netlab.netfilter import parse_iptables
from netlab.parse.iptables_list import parse_iptables_list

RULES = Path(__file__).parent / "data" / "docker-rules"

FILTER_V = """\
Chain INPUT (policy ACCEPT 1234K packets, 2G bytes)
num   pkts bytes target     prot opt in     out     source               destination

Chain FORWARD (policy DROP 0 packets, 0 bytes)
num   pkts bytes target     prot opt in     out     source               destination
1     120K  150M DOCKER-USER  all  --  *      *       0.0.0.0/0            0.0.0.0/0
2     60000 80000K ACCEPT     all  --  *      docker0  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
3       12   720 DOCKER     all  --  *      docker0  0.0.0.0/0            0.0.0.0/0
4     5000  300K ACCEPT     all  --  docker0 !docker0  0.0.0.0/0            0.0.0.0/0
5        0     0 ACCEPT     all  --  docker0 docker0  0.0.0.0/0            0.0.0.0/0

Chain OUTPUT (policy ACCEPT 900K packets, 1G bytes)
num   pkts bytes target     prot opt in     out     source               destination

Chain DOCKER (1 references)
num   pkts bytes target     prot opt in     out     source               destination
1        4   240 ACCEPT     tcp  --  !docker0 docker0  0.0.0.0/0            172.17.0.2           tcp dpt:80

Chain DOCKER-USER (1 references)
num   pkts bytes target     prot opt in     out     source               destination
1     120K  150M RETURN     all  --  *      *       0.0.0.0/0            0.0.0.0/0
"""

FILTER_NO_V = """\
$ sudo iptables -L -n
Chain INPUT (policy ACCEPT)
target     prot opt source               destination

Chain FORWARD (policy DROP)
target     prot opt source               destination
ACCEPT     all  --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED
DOCKER     all  --  0.0.0.0/0            0.0.0.0/0
ACCEPT     all  --  0.0.0.0/0            0.0.0.0/0

Chain OUTPUT (policy ACCEPT)
target     prot opt source               destination

Chain DOCKER (1 references)
target     prot opt source               destination
ACCEPT     tcp  --  0.0.0.0/0            172.17.0.2           tcp dpt:80
"""

NAT_X = """\
root@host:~# iptables -t nat -L -n -v -x
Chain PREROUTING (policy ACCEPT 5123 packets, 301234 bytes)
 pkts bytes target     prot opt in     out     source               destination
  812 48720 DOCKER     all  --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 77 packets, 5400 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DOCKER     all  --  *      *       0.0.0.0/0           !127.0.0.0/8          ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT 90 packets, 6000 bytes)
 pkts bytes target     prot opt in     out     source               destination
   31  1860 MASQUERADE  all  --  *      !docker0  172.17.0.0/16        0.0.0.0/0
    0     0 MASQUERADE  tcp  --  *      *       172.17.0.2           172.17.0.2           tcp dpt:80

Chain DOCKER (2 references)
 pkts bytes target     prot opt in     out     source               destination
    0     0 RETURN     all  --  docker0 *       0.0.0.0/0            0.0.0.0/0
   20  1200 DNAT       tcp  --  !docker0 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:172.17.0.2:80
"""


def test_real_docker_listings_read_back_to_the_same_rules_as_their_iptables_S():
    """Moby's own generated docs (tests/data/docker-rules): each `iptables -vL` of a host
    gives exactly the rules of the `iptables -S` of the same host."""
    pairs = sorted(RULES.glob("*.iptables-vL.txt"))
    assert len(pairs) >= 40
    for listing in pairs:
        got = parse_iptables_list(listing.read_text()).ruleset()
        want = parse_iptables(listing.with_name(listing.name.replace("-vL", "-S")).read_text())
        for tname, table in want.tables.items():
            for cname, chain in table.chains.items():
                mine = got.tables[tname].chains[cname]
                assert [r.save_line() for r in mine.rules] == [r.save_line() for r in chain.rules], \
                    (listing.name, tname, cname)
                assert mine.policy == chain.policy


def test_verbose_listing_is_exact_and_says_what_it_hid():
    state = netlab.parse_host(FILTER_V)
    rs = state.ruleset()
    fwd = [r.save_line() for r in rs.tables["filter"].chains["FORWARD"].rules]
    assert fwd[1] == "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
    assert fwd[3] == "-A FORWARD -i docker0 ! -o docker0 -j ACCEPT"
    rule = rs.tables["filter"].chains["DOCKER"].rules[0]
    assert rule.save_line() == ("-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp "
                                "--dport 80 -j ACCEPT")
    assert any("-m tcp" in h for h in rule.hidden) and not rule.lost
    # K/M/G counters: 1000-based (iptables xtables_print_num), said to be rounded
    first = rs.tables["filter"].chains["FORWARD"].rules[0]
    assert first.counters == (120_000, 150_000_000)
    assert any("rounded" in h for h in first.hidden)
    assert rs.tables["filter"].chains["INPUT"].counters == (1_234_000, 2_000_000_000)
    assert rs.tables["filter"].chains["FORWARD"].policy == "DROP"


def test_verbose_listing_traces_with_a_certain_verdict():
    rs = netlab.parse_host(FILTER_V).ruleset()
    t = rs.trace({"proto": "tcp", "src": "192.0.2.9", "dst": "172.17.0.2", "dport": 80},
                 hook="FORWARD", in_iface="eth0", out_iface="docker0")
    assert t.verdict == "ACCEPT" and not t.uncertain


def test_listing_without_v_loses_interfaces_and_a_matched_rule_makes_the_verdict_uncertain():
    state = netlab.parse_host(FILTER_NO_V)
    rs = state.ruleset()
    rule = rs.tables["filter"].chains["FORWARD"].rules[2]
    assert rule.save_line() == "-A FORWARD -j ACCEPT"
    assert any("-v" in lost for lost in rule.lost)
    assert any("netlab-lost" in n or "lost information" in n for n in state.notes)
    t = rs.trace({"proto": "tcp", "src": "172.17.0.2", "dst": "192.0.2.9", "dport": 443},
                 hook="FORWARD", in_iface="docker0", out_iface="eth0")
    assert t.verdict == "ACCEPT" and t.uncertain
    assert any("iptables -L" in n for n in t.notes)


def test_nat_table_from_the_prompt_with_exact_counters_dnat_and_masquerade():
    rs = netlab.parse_host(NAT_X).ruleset()
    nat = rs.tables["nat"]
    assert [r.save_line() for r in nat.chains["DOCKER"].rules] == [
        "-A DOCKER -i docker0 -j RETURN",
        "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80"]
    assert nat.chains["OUTPUT"].rules[0].save_line() == (
        "-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER")
    assert nat.chains["POSTROUTING"].rules[0].save_line() == (
        "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
    assert nat.chains["PREROUTING"].counters == (5123, 301234)
    assert not any("rounded" in h for r in rs.rules for h in r.hidden)  # -x: exact
    t = rs.trace({"proto": "tcp", "src": "192.0.2.9", "dst": "10.0.2.15", "dport": 8080},
                 hook="PREROUTING", in_iface="eth0", local_addrs=["10.0.2.15"])
    assert any(s.target == "DNAT" and s.matched for s in t.step_list) and not t.uncertain


def test_table_guessed_from_chains_when_no_prompt_says_it():
    text = NAT_X.split("\n", 1)[1]
    state = parse_iptables_list(text)
    assert "*nat" in state.firewall[""]
    assert any("-t nat" in n for n in state.notes)


def test_messy_paste_crlf_trailing_spaces_wrapped_line_and_missing_header():
    text = ("Chain FORWARD (policy DROP 0 packets, 0 bytes)   \r\n"
            "    0     0 ACCEPT     all  --  *      docker0  0.0.0.0/0            0.0.0.0/0   \r\n"
            "           ctstate RELATED,ESTABLISHED\r\n"
            "    0     0 ACCEPT     tcp  --  eth0   *       0.0.0.0/0            0.0.0.0/0   \r\n"
            "  multiport dports 80,443 /* web traffic */\r\n")
    rs = parse_iptables_list(text).ruleset()
    lines = [r.save_line() for r in rs.tables["filter"].chains["FORWARD"].rules]
    assert lines == [
        "-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
        '-A FORWARD -i eth0 -p tcp -m multiport --dports 80,443 -m comment --comment "web traffic" '
        "-j ACCEPT"]
    assert any("wrapped" in h for h in rs.tables["filter"].chains["FORWARD"].rules[0].hidden)


def test_without_n_names_are_read_where_known_and_lost_where_not():
    text = ("$ sudo iptables -L\nChain INPUT (policy DROP)\n"
            "target     prot opt source               destination\n"
            "ACCEPT     tcp  --  anywhere             anywhere             tcp dpt:ssh\n"
            "ACCEPT     tcp  --  office.example.com   anywhere             tcp dpt:https\n"
            "ACCEPT     icmp --  anywhere             anywhere             icmp echo-request\n"
            "REJECT     all  --  anywhere             anywhere             reject-with icmp-host-prohibited\n")
    rs = netlab.parse_host(text).ruleset()
    rules = rs.tables["filter"].chains["INPUT"].rules
    assert rules[0].save_line() == "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"
    assert rules[1].save_line() == "-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT"
    assert any("office.example.com" in lost for lost in rules[1].lost)
    assert rules[2].save_line() == "-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"
    assert rules[3].save_line() == "-A INPUT -j REJECT --reject-with icmp-host-prohibited"
    t = rs.trace({"proto": "tcp", "src": "198.51.100.7", "dst": "10.0.0.5", "dport": 443},
                 hook="INPUT", in_iface="eth0", local_addrs=["10.0.0.5"])
    assert t.verdict == "ACCEPT" and t.uncertain  # the rule that took it lost its source


def test_a_rule_that_did_not_match_leaves_the_verdict_certain():
    """Lost conditions only narrow a rule: one that did not match without them cannot
    have matched with them."""
    text = ("Chain INPUT (policy DROP 0 packets, 0 bytes)\n"
            " pkts bytes target     prot opt in     out     source               destination\n"
            "    0     0 ACCEPT     tcp  --  *      *       0.0.0.0/0            0.0.0.0/0    "
            "        tcp dpt:22 recent: SET name: DEFAULT side: source mask: 255.255.255.255\n")
    rs = parse_iptables_list(text).ruleset()
    assert rs.rules[0].lost
    t = rs.trace({"proto": "tcp", "src": "198.51.100.7", "dst": "10.0.0.5", "dport": 80},
                 hook="INPUT", in_iface="eth0", local_addrs=["10.0.0.5"])
    assert t.verdict == "DROP" and not t.uncertain


def test_rules_with_no_target_line_numbers_log_mark_and_goto():
    text = ("Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)\n"
            "num   pkts bytes target     prot opt in     out     source               destination\n"
            "1        0     0            all  --  *      *       0.0.0.0/0            10.9.9.9\n"
            "2        0     0 LOG        udp  --  *      eth0    0.0.0.0/0            0.0.0.0/0"
            "            udp dpt:53 LOG flags 0 level 4 prefix \"DNS out: \"\n"
            "3        0     0 MARK       all  --  *      *       0.0.0.0/0            0.0.0.0/0"
            "            mark match ! 0x1/0xff MARK or 0x4000\n"
            "4        0     0 MINE       all  --  *      *       0.0.0.0/0            0.0.0.0/0"
            "            [goto]\n\nChain MINE (1 references)\n"
            "num   pkts bytes target     prot opt in     out     source               destination\n")
    state = parse_iptables_list(text)
    assert any("`mangle`" in n for n in state.notes)  # MARK: the mangle table's target
    rules = state.ruleset().tables["mangle"].chains["OUTPUT"].rules
    assert [r.save_line() for r in rules] == [
        "-A OUTPUT -d 10.9.9.9/32",
        '-A OUTPUT -o eth0 -p udp -m udp --dport 53 -j LOG --log-prefix "DNS out: "',
        "-A OUTPUT -m mark ! --mark 0x1/0xff -j MARK --or-mark 0x4000",
        "-A OUTPUT -g MINE"]


@pytest.mark.parametrize("text", [
    "target     prot opt source               destination\nACCEPT all -- 0.0.0.0/0 0.0.0.0/0\n",
    "Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination\n"
    "this is not a rule\n",
    "Chain INPUT (policy ACCEPT)\nACCEPT     tcp  --  0.0.0.0/0   0.0.0.0/0   tcp dpt:99999\n",
    "Chain INPUT (polic ACCEPT)\n",
])
def test_bad_listings_raise_parse_error_with_a_line(text):
    with pytest.raises(ParseError) as info:
        parse_iptables_list(text)
    assert info.value.lineno is not None and info.value.command == "iptables -L"


def test_listing_survives_the_snapshot_json_and_from_state():
    state = netlab.parse_host(FILTER_NO_V)
    again = netlab.HostState.from_json(state.to_json())
    rule = again.ruleset().tables["filter"].chains["FORWARD"].rules[2]
    assert rule.lost



def test_iptables_keyword_takes_a_listing_too():
    state = netlab.parse_host(iptables=FILTER_V, iptables_list=NAT_X)
    rs = state.ruleset()
    assert rs.tables["filter"].chains["DOCKER"].rules and rs.tables["nat"].chains["DOCKER"].rules


def test_ufw_chains_in_lower_case_are_targets_not_protocols():
    text = ("$ sudo iptables -L -n -v\n"
            "Chain INPUT (policy DROP 1520 packets, 91200 bytes)\n"
            " pkts bytes target     prot opt in     out     source               destination\n"
            " 512K  980M ufw-before-logging-input  all  --  *      *       0.0.0.0/0            0.0.0.0/0\n"
            " 512K  980M ufw-before-input  all  --  *      *       0.0.0.0/0            0.0.0.0/0\n"
            "\nChain ufw-before-input (1 references)\n"
            " pkts bytes target     prot opt in     out     source               destination\n"
            " 1200 90000 ACCEPT     all  --  lo     *       0.0.0.0/0            0.0.0.0/0\n"
            "    0     0 ufw-logging-deny  all  --  *      *       0.0.0.0/0            0.0.0.0/0"
            "            ctstate INVALID\n"
            "    0     0 ACCEPT     udp  --  *      *       0.0.0.0/0            224.0.0.251          udp dpt:5353\n"
            "\nChain ufw-before-logging-input (1 references)\n"
            " pkts bytes target     prot opt in     out     source               destination\n"
            "\nChain ufw-logging-deny (1 references)\n"
            " pkts bytes target     prot opt in     out     source               destination\n"
            "    0     0 LOG        all  --  *      *       0.0.0.0/0            0.0.0.0/0"
            '            limit: avg 3/min burst 10 LOG flags 0 level 4 prefix "[UFW BLOCK] "\n')
    rs = netlab.parse_host(text).ruleset()
    f = rs.tables["filter"]
    assert [r.save_line() for r in f.chains["INPUT"].rules] == [
        "-A INPUT -j ufw-before-logging-input", "-A INPUT -j ufw-before-input"]
    assert f.chains["ufw-before-input"].rules[1].save_line() == (
        "-A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny")
    assert f.chains["ufw-logging-deny"].rules[0].save_line() == (
        '-A ufw-logging-deny -m limit --limit 3/min --limit-burst 10 -j LOG --log-prefix "[UFW BLOCK] "')
    t = rs.trace({"proto": "tcp", "src": "198.51.100.7", "dst": "10.0.0.5", "dport": 8080},
                 hook="INPUT", in_iface="eth0", local_addrs=["10.0.0.5"])
    assert t.verdict == "DROP" and not t.uncertain


def test_mac_match_with_and_without_the_space_old_iptables_left_out():
    text = ("Chain INPUT (policy ACCEPT)\ntarget     prot opt source               destination\n"
            "DROP       all  --  0.0.0.0/0            0.0.0.0/0            MAC 02:42:AC:11:00:02\n"
            "DROP       all  --  0.0.0.0/0            0.0.0.0/0            MAC02:42:AC:11:00:03\n")
    rules = parse_iptables_list(text).ruleset().tables["filter"].chains["INPUT"].rules
    assert [r.save_line() for r in rules] == [
        "-A INPUT -m mac --mac-source 02:42:AC:11:00:02 -j DROP",
        "-A INPUT -m mac --mac-source 02:42:AC:11:00:03 -j DROP"]


def test_wildcard_and_overlong_interfaces():
    text = ("Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\n"
            " pkts bytes target     prot opt in     out     source               destination\n"
            "    0     0 ACCEPT     all  --  docker+ *       0.0.0.0/0            0.0.0.0/0\n"
            "    0     0 DROP       all  --  br-3f2a1b4c5d6e7f8 *   0.0.0.0/0            0.0.0.0/0\n")
    rules = parse_iptables_list(text).ruleset().rules
    assert rules[0].save_line() == "-A FORWARD -i docker+ -j ACCEPT"
    assert any("wildcard" in h for h in rules[0].hidden) and not rules[0].lost
    assert rules[1].save_line() == "-A FORWARD -j DROP" and any("15" in x for x in rules[1].lost)
