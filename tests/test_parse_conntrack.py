"""conntrack -L (and /proc/net/nf_conntrack) lines; sysctl lines."""

from __future__ import annotations

import pytest

import netlab
from netlab import ParseError
from tests._pastes import paste


def test_conntrack_L_tcp_udp_icmp_status():
    state = netlab.parse_conntrack(paste("conntrack-L.txt"))
    entries = state.conntrack_entries
    assert len(entries) == 5
    web = entries[0]
    assert (web.proto, web.state, web.timeout, web.status) == ("tcp", "ESTABLISHED", 431999,
                                                               ["ASSURED"])
    assert (web.orig.src, web.orig.dst, web.orig.sport, web.orig.dport) == (
        "192.168.56.1", "192.168.56.38", 51234, 80)
    assert web.reply.src == "172.17.0.2"
    assert web.dnat and not web.snat  # -p 80:80: DNAT to the container
    syn = entries[1]
    assert syn.status == ["UNREPLIED"] and syn.state == "SYN_SENT" and syn.snat
    udp = entries[2]
    assert udp.proto == "udp" and udp.state is None and udp.timeout == 29 and udp.snat
    assert entries[3].zone == 3
    icmp = entries[4]
    assert (icmp.orig.icmp_type, icmp.orig.icmp_code, icmp.orig.icmp_id) == (8, 0, 27)
    assert icmp.reply.icmp_type == 0 and icmp.snat and not icmp.dnat


def test_proc_nf_conntrack_prefix_and_hex_mark():
    state = netlab.parse_conntrack(paste("nf_conntrack.txt"))
    assert [e.proto for e in state.conntrack_entries] == ["tcp", "udp"]
    assert state.conntrack_entries[1].mark == 0x10


def test_conntrack_event_lines():
    state = netlab.parse_conntrack(
        "    [NEW] tcp      6 120 SYN_SENT src=172.17.0.2 dst=203.0.113.10 sport=40000 "
        "dport=80 [UNREPLIED] src=203.0.113.10 dst=10.0.2.15 sport=80 dport=40000\n")
    assert state.conntrack_entries[0].state == "SYN_SENT"


def test_conntrack_view():
    df = netlab.parse_conntrack(paste("conntrack-L.txt")).conntrack
    assert list(df["dnat"]) == [True, False, False, False, False]
    assert df.loc[0, "status"] == "ASSURED"


def test_empty_table_summary_only():
    state = netlab.parse_conntrack("conntrack v1.4.7 (conntrack-tools): 0 flow entries have been "
                                   "shown.\n")
    assert state.conntrack_entries == []


@pytest.mark.parametrize("line, words", [
    ("tcp 6 10 ESTABLISHED src=1.2.3.4 dst=5.6.7.8 sport=1 dport=2", "original and a reply"),
    ("tcp 6 10 ESTABLISHED src=1.2.3.4 dst=5.6.7.888 sport=1 dport=2 src=5.6.7.8 dst=1.2.3.4",
     "does not appear to be"),
    ("tcp 6 10 src=1.2.3.4 dst=5.6.7.8 sport=x dport=2 src=5.6.7.8 dst=1.2.3.4", "not a number"),
    ("Chain INPUT (policy ACCEPT)", "PROTO NUMBER"),
])
def test_conntrack_errors(line, words):
    with pytest.raises(ParseError, match=words) as err:
        netlab.parse_conntrack(line)
    assert err.value.lineno == 1 and err.value.command == "conntrack -L"


def test_sysctl_forms():
    state = netlab.parse_sysctl(
        "net.ipv4.ip_forward = 1\n"
        "net.bridge.bridge-nf-call-iptables=1\n"
        "/proc/sys/net/ipv4/conf/docker0/rp_filter:2\n"
        "/proc/sys/net/ipv4/conf/eth0.100/rp_filter:1\n"
        "net.ipv4.ip_local_port_range = 32768\t60999\n")
    assert state.sysctl("net.ipv4.ip_forward") == "1"
    assert state.sysctl("net.bridge.bridge-nf-call-iptables") == "1"
    assert state.sysctl("net.ipv4.conf.docker0.rp_filter") == "2"
    assert state.sysctl("net.ipv4.conf.eth0/100.rp_filter") == "1"  # as `sysctl` names it
    assert state.sysctl("net.ipv4.ip_local_port_range") == "32768 60999"


def test_sysctl_missing_bridge_key_is_a_note():
    state = netlab.parse_sysctl(
        "net.ipv4.ip_forward = 1\n"
        "sysctl: cannot stat /proc/sys/net/bridge/bridge-nf-call-iptables: No such file or "
        "directory\n")
    assert any("br_netfilter" in n for n in state.notes)


def test_sysctl_errors():
    with pytest.raises(ParseError) as err:
        netlab.parse_sysctl("net.ipv4.ip_forward = 1\nforwarding is on\n")
    assert err.value.lineno == 2 and err.value.command == "sysctl"
