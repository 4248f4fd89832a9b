"""parse_nft and NftRuleset.trace: Docker 29's captured nft tables, iptables-nft listings,
JSON, every expression the issue names, the coexistence of tables at one hook, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DOCKER_RULES, FIXTURES

from netlab.errors import ParseError
from netlab.netfilter import NftRuleset, Trace, parse_nft
from netlab.netfilter.trace import Step

NFT = FIXTURES / "nft"
NFT_FIXTURES = sorted(DOCKER_RULES.glob("docker29*.nft-*.txt"))
PORTMAP = DOCKER_RULES / "docker29.0.0__usernet-portmap.nft-list-table.txt"
LAN = {"in_iface": "eth0", "local_addrs": ["192.168.56.38"]}
HOST = "192.168.56.38"


def syn(src: str, dst: str, dport: int, sport: int = 40000, proto: str = "tcp") -> dict:
    return {"proto": proto, "src": src, "dst": dst, "sport": sport, "dport": dport}


@pytest.mark.parametrize("path", NFT_FIXTURES, ids=lambda p: p.name)
def test_every_docker29_fixture_parses_fully_and_round_trips(path: Path) -> None:
    rs = parse_nft(path.read_text())
    assert rs.tables and all(t.name == "docker-bridges" for t in rs.tables)
    assert not [r.position for r in rs.rules if r.uncertain]
    again = parse_nft(rs.to_nft())
    assert [t.normalised() for t in again.tables] == [t.normalised() for t in rs.tables]


def test_structure_of_a_docker29_table() -> None:
    rs = parse_nft(PORTMAP.read_text())
    t = rs.table("ip docker-bridges")
    fwd = t.chains["filter-FORWARD"]
    assert (fwd.type, fwd.hook, fwd.priority, fwd.policy) == ("filter", "forward", 0, "accept")
    assert t.chains["raw-PREROUTING"].priority == -300
    assert t.chains["nat-POSTROUTING"].priority == 100
    assert not t.chains["nat-prerouting-and-output"].is_base
    m = t.sets["filter-forward-in-jumps"]
    assert m.kind == "map" and m.key_types == ("ifname",) and m.data_type == "verdict"
    assert [str(v) for v in m.values] == ["jump filter-forward-in__docker0", "jump filter-forward-in__bridge1"]
    assert [c.name for c in rs.chains_at("prerouting")] == ["raw-PREROUTING", "nat-PREROUTING"]
    assert rs.rule("docker-bridges:nat-prerouting-and-output:1").comment == "DNAT"


def test_port_forward_from_the_lan_is_dnat_by_the_nft_rule() -> None:
    rs = parse_nft(PORTMAP.read_text())
    tr = rs.trace(syn("192.168.56.1", HOST, 8080), hook="prerouting", **LAN)
    assert isinstance(tr, Trace) and all(isinstance(s, Step) for s in tr.step_list)
    assert tr.verdict == "ACCEPT" and not tr.uncertain
    assert tr.nat is not None and tr.nat.kind == "DNAT" and tr.nat.after == ("192.0.2.2", 80)
    assert tr.nat.rule == "docker-bridges:nat-prerouting-and-output:1"
    assert tr.packet_after.dst == "192.0.2.2" and tr.packet_after.dport == 80
    fwd = rs.trace(tr.packet_after, hook="forward", in_iface="eth0", out_iface="bridge1")
    assert fwd.verdict == "ACCEPT"
    assert fwd.decisive.position == "docker-bridges:filter-forward-in__bridge1:3"
    # an unpublished port of the same container is dropped
    other = rs.trace(syn("192.168.56.1", "192.0.2.2", 22), hook="forward", in_iface="eth0", out_iface="bridge1")
    assert other.verdict == "DROP" and other.decisive.rule_text.endswith('comment "UNPUBLISHED PORT DROP"')
    # replies of the connection are accepted by ct state
    back = rs.trace(syn("192.0.2.2", "192.168.56.1", 40000, 80), hook="forward", in_iface="bridge1",
                    out_iface="eth0", ct_state="ESTABLISHED")
    assert back.verdict == "ACCEPT" and back.decisive.position == "docker-bridges:filter-forward-out__bridge1:1"


def test_direct_access_and_masquerade_and_host_output() -> None:
    rs = parse_nft(PORTMAP.read_text())
    direct = rs.trace(syn("192.168.56.1", "192.0.2.2", 80), hook="prerouting", **LAN)
    assert direct.verdict == "DROP" and direct.decisive.position == "docker-bridges:raw-PREROUTING:1"
    out = rs.trace(syn("192.0.2.2", "198.51.100.7", 443), hook="postrouting", in_iface="bridge1",
                   out_iface="eth0", iface_addrs={"eth0": ["192.168.56.38/24"]})
    assert out.nat.kind == "MASQUERADE" and out.nat.after[0] == HOST
    assert out.packet_after.src == HOST
    # from the host itself: the output hook's nat chain, but 127.0.0.1 is excluded there
    host = rs.trace(syn(HOST, HOST, 8080), hook="output", out_iface="lo", local_addrs=[HOST])
    assert host.nat.after == ("192.0.2.2", 80)
    lo = rs.trace(syn("127.0.0.1", "127.0.0.1", 8080), hook="output", out_iface="lo", local_addrs=[HOST])
    assert lo.nat is None


def test_nat_chains_only_see_new_connections() -> None:
    rs = parse_nft(PORTMAP.read_text())
    tr = rs.trace(syn("192.168.56.1", HOST, 8080), hook="prerouting", ct_state="ESTABLISHED", **LAN)
    assert tr.nat is None and any("only see the first packet" in n for n in tr.notes)


def test_ipv6_table_and_127_0_0_1_fixture() -> None:
    ip6 = DOCKER_RULES / ("docker29.0.0__unit-bridge-driver__nat_icc_masq_proxy-on_publish-0.0.0.0-8080.nft-ip6.txt")
    rs = parse_nft(ip6.read_text())
    tr = rs.trace(syn("2001:db8::9", "2001:db8::1", 8080), hook="prerouting", in_iface="eth0",
                  local_addrs=["2001:db8::1"])
    assert tr.nat.after == ("fd49:efd7:54aa::1", 80)
    # an IPv4 packet meets no ip6 chain
    assert rs.trace(syn("192.0.2.9", "192.0.2.1", 8080), hook="prerouting").step_list == []
    lo = parse_nft((DOCKER_RULES / "docker29.0.0__usernet-portmap-lo.nft-list-table.txt").read_text())
    remote = lo.trace(syn("192.168.56.1", "127.0.0.1", 8080), hook="prerouting", **LAN)
    assert remote.verdict == "DROP" and "DROP REMOTE LOOPBACK" in remote.decisive.rule_text
    local = lo.trace(syn("127.0.0.1", "127.0.0.1", 8080), hook="output", out_iface="lo")
    assert local.nat is None  # proxy on: nat-OUTPUT skips 127.0.0.0/8, docker-proxy answers


COEXIST = """
table ip first {
    chain forwarding { type filter hook forward priority -10; policy accept;
        ip daddr 10.0.0.5 accept
    }
}
table ip second {
    chain forwarding { type filter hook forward priority 10; policy drop;
        tcp dport 22 accept
    }
}
table inet third {
    chain forwarding { type filter hook forward priority 0; policy accept;
        ip saddr 10.9.9.9 drop
    }
}
"""


def test_accept_in_one_table_does_not_stop_another_but_drop_does() -> None:
    rs = parse_nft(COEXIST)
    assert [c.table for c in rs.chains_at("forward")] == ["first", "third", "second"]
    tr = rs.trace(syn("10.1.1.1", "10.0.0.5", 80), hook="forward")
    assert tr.verdict == "DROP"  # first accepts, second's policy drops
    assert tr.decisive.position == "second:forwarding:policy" and tr.tables_run == ["first", "third", "second"]
    ok = rs.trace(syn("10.1.1.1", "10.0.0.5", 22), hook="forward")
    assert ok.verdict == "ACCEPT" and ok.decisive.position == "second:forwarding:1"
    gone = rs.trace(syn("10.9.9.9", "10.0.0.5", 22), hook="forward")
    assert gone.verdict == "DROP" and gone.tables_run == ["first", "third"]


def test_iptables_nft_listing_with_xt_compat_is_read() -> None:
    rs = parse_nft((NFT / "iptables-nft__docker28.2.2-portmap-extras.nft-list-ruleset.txt").read_text())
    assert {t.key for t in rs.tables} == {"ip raw", "ip filter", "ip nat", "ip mangle"}
    fwd = rs.table("ip filter").chains["FORWARD"]
    assert fwd.policy == "drop" and fwd.rules[0].text.startswith("counter packets 0 bytes 0 jump DOCKER-USER")
    tr = rs.trace(syn("192.168.56.1", HOST, 8080), hook="prerouting", **LAN)
    assert tr.nat.after == ("172.17.0.2", 80) and tr.nat.rule.startswith("nat:DOCKER:")
    # the xt match netlab cannot read makes the INPUT trace uncertain, never silently wrong
    inp = rs.trace(syn("192.168.56.1", HOST, 22), hook="input", in_iface="eth0", local_addrs=[HOST])
    assert inp.uncertain and any("xt match recent" in n for n in inp.notes)
    rej = rs.trace(syn("192.168.56.1", HOST, 443), hook="input", in_iface="eth0", seed=3)
    assert rej.verdict in ("REJECT", "ACCEPT")
    mark = rs.trace(syn("192.168.56.1", HOST, 8080), hook="prerouting", in_iface="eth0",
                    iface_addrs={"eth0": [f"{HOST}/24"]})
    assert mark.mark == 0x4000
    # raw runs before conntrack: notrack there makes the packet untracked, so nat is skipped
    assert mark.ct_state_after == "UNTRACKED" and mark.nat is None


def test_json_reads_like_the_text() -> None:
    for name, text_path in (("docker29.0.0__usernet-portmap.nft-list-table.nft-j.json", PORTMAP),):
        path = NFT / name
        if not path.exists():
            pytest.skip(f"{path.name} is captured by tests/lab/test_nft_check.py")
        js, tx = parse_nft(path.read_text()), parse_nft(text_path.read_text())
        assert js.source == "json"
        assert [t.normalised() for t in js.tables] == [t.normalised() for t in tx.tables]
    rs = parse_nft((NFT / "iptables-nft__docker28.2.2-portmap-extras.nft-j-list-ruleset.json").read_text())
    assert any(r.uncertain for r in rs.rules)  # JSON shows iptables-nft's matches as xt: kept, uncertain


KUBE = """
table ip kube-proxy {
    set cluster-ips { type ipv4_addr; elements = { 10.96.0.10, 10.96.0.1 } }
    map service-ips {
        type ipv4_addr . inet_proto . inet_service : verdict
        elements = { 10.96.0.10 . tcp . 53 : goto service-dns,
                     10.96.0.1 . tcp . 443 : goto service-api }
    }
    map eps { type ipv4_addr . inet_service : ipv4_addr . inet_service
        elements = { 10.96.0.10 . 53 : 10.244.1.5 . 5353 } }
    chain nat-prerouting { type nat hook prerouting priority dstnat; policy accept;
        jump services
    }
    chain services {
        ip daddr . meta l4proto . th dport vmap @service-ips
        ip daddr @cluster-ips reject with icmp host-unreachable
    }
    chain service-dns {
        numgen random mod 2 vmap { 0 : goto ep-a, 1 : goto ep-b }
    }
    chain ep-a { meta mark set mark or 0x4000 meta l4proto tcp dnat to ip daddr . th dport map @eps; }
    chain ep-b { ct mark set 0x1 meta l4proto tcp dnat to 10.244.2.6:5353; }
    chain service-api { meta l4proto tcp dnat to 10.0.0.1:6443; }
}
"""


@pytest.mark.parametrize("seed", range(6))
def test_sets_verdict_maps_numgen_and_dnat_maps(seed: int) -> None:
    rs = parse_nft(KUBE)
    tr = rs.trace(syn("10.244.0.9", "10.96.0.10", 53), hook="prerouting", in_iface="cni0", seed=seed)
    assert tr.nat.after in (("10.244.1.5", 5353), ("10.244.2.6", 5353))
    if tr.nat.after[0] == "10.244.1.5":
        assert tr.mark == 0x4000
    else:
        assert tr.ctmark == 1
    api = rs.trace(syn("10.244.0.9", "10.96.0.1", 443), hook="prerouting", in_iface="cni0")
    assert api.nat.after == ("10.0.0.1", 6443)
    none = rs.trace(syn("10.244.0.9", "10.96.0.1", 80), hook="prerouting", in_iface="cni0")
    assert none.verdict == "REJECT" and "host unreachable" in none.reply


EXPRESSIONS = """
table inet t {
    set allowed { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.1-192.0.2.9 } }
    chain incoming { type filter hook input priority filter; policy drop;
        ct state invalid drop
        ct state established,related accept
        iifname "lo" accept
        meta l4proto icmp accept
        ip saddr @allowed tcp dport { 22, 80-90 } counter accept
        tcp dport 25 reject with tcp reset
        udp dport 53 ct status dnat accept
        tcp flags syn / fin,syn,rst,ack tcp dport 8443 log prefix "syn: " accept
        oifname "eth*" meta mark 0x1 drop
        ip6 daddr ::1 accept
        limit rate 10/second accept
    }
}
"""


@pytest.mark.parametrize("pkt,kw,verdict,pos", [
    (syn("10.1.2.3", HOST, 22), {}, "ACCEPT", "t:incoming:5"),
    (syn("10.1.2.3", HOST, 85), {}, "ACCEPT", "t:incoming:5"),
    (syn("192.0.2.5", HOST, 22), {}, "ACCEPT", "t:incoming:5"),
    (syn("192.0.2.10", HOST, 22), {}, "DROP", "t:incoming:policy"),
    (syn("198.51.100.1", HOST, 25), {}, "REJECT", "t:incoming:6"),
    (syn("198.51.100.1", HOST, 53, proto="udp"), {}, "DROP", "t:incoming:policy"),
    (syn("198.51.100.1", HOST, 53, proto="udp"), {"ct_state": "ESTABLISHED"}, "ACCEPT", "t:incoming:2"),
    ({"proto": "icmp", "src": "198.51.100.1", "dst": HOST, "icmp_type": 8}, {}, "ACCEPT", "t:incoming:4"),
    (syn("198.51.100.1", HOST, 8443), {}, "ACCEPT", "t:incoming:8"),
    (syn("198.51.100.1", HOST, 9, ), {"in_iface": "lo"}, "ACCEPT", "t:incoming:3"),
    (syn("198.51.100.1", HOST, 9), {"ct_state": "INVALID"}, "DROP", "t:incoming:1"),
])
def test_expressions(pkt: dict, kw: dict, verdict: str, pos: str) -> None:
    rs = parse_nft(EXPRESSIONS)
    tr = rs.trace({**pkt, "tcp_flags": "S"} if pkt["proto"] == "tcp" else pkt, hook="input",
                  **{"in_iface": "eth0", **kw})
    assert (tr.verdict, tr.decisive.position) == (verdict, pos)


def test_unknown_statement_makes_the_trace_uncertain() -> None:
    rs = parse_nft(EXPRESSIONS)
    tr = rs.trace(syn("198.51.100.1", HOST, 9), hook="input", in_iface="eth0")
    assert tr.uncertain and any("limit rate" in n for n in tr.notes)
    assert tr.verdict == "DROP"


def test_jump_goto_return_and_policy() -> None:
    rs = parse_nft("""
table ip f {
    chain input { type filter hook input priority 0; policy drop;
        jump a
        tcp dport 1 goto b
        tcp dport 2 accept
    }
    chain a { tcp dport 2 return
        tcp dport 3 accept }
    chain b { tcp dport 1 return }
}""")
    assert rs.trace(syn("1.1.1.1", "2.2.2.2", 2), hook="input").decisive.position == "f:input:3"
    assert rs.trace(syn("1.1.1.1", "2.2.2.2", 3), hook="input").decisive.position == "f:a:2"
    # goto then return goes back to the caller of input, i.e. the base chain ends: policy
    gone = rs.trace(syn("1.1.1.1", "2.2.2.2", 1), hook="input")
    assert gone.verdict == "DROP" and gone.decisive.position == "f:input:policy"


@pytest.mark.parametrize("text,lineno,words", [
    ("table ip t {\n  chain c {\n    ip daddr 10.0.0.300 accept\n  }\n}\n", 3, "not an IPv4 address"),
    ("table ip t {\n  chain c {\n    jump nowhere\n  }\n}\n", 3, "does not have"),
    ("table ip t {\n  chain c {\n    oifname vmap @nomap\n  }\n}\n", 3, "names no set"),
    ("table ip t {\n  chain c {\n    type filter hook sideways priority 0;\n  }\n}\n", 3, "unknown hook"),
    ("table ip t {\n  chain c {\n    accept\n", 3, "cut off"),
    ("table foo t {\n}\n", 1, "unknown table family"),
    ("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n", 1, "parse_iptables"),
    ("add rule ip t c accept\n", 1, "nft list ruleset"),
    ("table ip t {\n  chain c {\n    type filter hook input priority bogus;\n  }\n}\n", 3, "priority"),
])
def test_bad_input_raises_parse_error_with_line_and_hint(text: str, lineno: int, words: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_nft(text)
    assert err.value.lineno == lineno
    assert words in str(err.value)
    assert err.value.hint


def test_bad_json_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        parse_nft('{"nftables": [ {"table": ')
    with pytest.raises(ParseError):
        parse_nft('{"nftables": 5}')


def test_repr_and_str() -> None:
    rs = parse_nft(PORTMAP.read_text())
    assert isinstance(rs, NftRuleset) and "docker-bridges" in repr(rs)
    assert str(rs).startswith("table ip docker-bridges {")


def test_kube_proxy_nftables_mode_rules_trace_to_an_endpoint() -> None:
    from netlab.netfilter.kube import kube_proxy_nft_rules, service_vip

    rs = parse_nft(kube_proxy_nft_rules(services=30))
    tr = rs.trace(syn("192.168.1.5", service_vip(7), 80), hook="prerouting", in_iface="eth0", seed=2)
    assert tr.nat is not None and tr.nat.kind == "DNAT" and tr.nat.after[1] == 8080
    assert tr.mark == 0x4000 and not tr.uncertain
    post = rs.trace(tr.packet_after, hook="postrouting", out_iface="cni0", iface_addrs={"cni0": ["10.244.0.1/16"]})
    assert post.nat.kind == "MASQUERADE" and post.mark == 0  # the mark is cleared as masquerading does


def test_listing_details_timeouts_ct_state_vmap_flag_masks_and_ingress_devices() -> None:
    rs = parse_nft("""table inet f {
  set bl { type ipv4_addr; flags dynamic,timeout; timeout 1h
           elements = { 10.0.0.1 timeout 1h expires 59m58s, 10.0.0.2 expires 3s } }
  chain input { type filter hook input priority filter; policy drop;
    ct state vmap { established : accept, related : accept, invalid : drop }
    tcp flags & (fin | syn | rst | ack) == syn tcp dport 22 accept
    ip saddr @bl drop
  }
}
table netdev n { chain ing { type filter hook ingress device "eth0" priority -500; policy accept;
    ip saddr 1.2.3.4 drop } }
""")
    tcp = {"proto": "tcp", "dst": "10.9.9.9", "dport": 22}
    assert rs.trace({**tcp, "src": "10.0.0.7", "tcp_flags": "S"}, hook="input").decisive.position == "f:input:2"
    assert rs.trace({**tcp, "src": "10.0.0.7", "tcp_flags": "SA"}, hook="input").verdict == "DROP"
    assert rs.trace({**tcp, "src": "10.0.0.2", "tcp_flags": "SA"}, hook="input").decisive.position == "f:input:3"
    est = rs.trace({**tcp, "src": "10.0.0.2"}, hook="input", ct_state="ESTABLISHED")
    assert est.decisive.position == "f:input:1"
    assert rs.trace({**tcp, "src": "1.2.3.4"}, hook="ingress", in_iface="eth0").verdict == "DROP"
    assert rs.trace({**tcp, "src": "1.2.3.4"}, hook="ingress", in_iface="eth1").verdict == "ACCEPT"
