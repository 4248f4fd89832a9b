"""Property tests: any packet through any rule set ends in a verdict, never loops,
and the destination index of long chains never changes an answer."""

from __future__ import annotations

import pytest
from conftest import DOCKER_RULES, SEED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.netfilter import parse_iptables
from netlab.netfilter import trace as trace_mod
from netlab.netfilter.kube import kube_proxy_rules, service_vip
from netlab.netfilter.trace import trace as run_trace

VERDICTS = {"ACCEPT", "DROP", "REJECT", "QUEUE"}

CYCLIC = """*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:A - [0:0]
:B - [0:0]
:C - [0:0]
-A INPUT -p tcp -j A
-A INPUT -p udp -g B
-A A -s 10.0.0.0/8 -j B
-A A -p tcp -m tcp --dport 22 -j REJECT --reject-with tcp-reset
-A B -j C
-A B -m statistic --mode random --probability 0.5 -j RETURN
-A C -d 10.0.0.0/8 -j A
-A C -g B
-A C -j DROP
-A FORWARD -m set --match-set s1 src -j ACCEPT
-A FORWARD -m recent --name x --rcheck -j DROP
COMMIT
"""

RULESETS = {
    "cyclic": parse_iptables(CYCLIC),
    "seed": parse_iptables((SEED / "iptables-save.txt").read_text()),
    "docker29": parse_iptables((DOCKER_RULES / "docker29.0.0__usernet-portmap.iptables-S.txt").read_text()),
    "docker28.0": parse_iptables((DOCKER_RULES / "docker28.0.0__usernet-portmap.iptables-S.txt").read_text()),
}

addresses = st.sampled_from(["10.0.0.1", "10.1.2.3", "172.17.0.2", "192.0.2.2", "192.168.56.38",
                             "127.0.0.1", "255.255.255.255", "224.0.0.1", "203.0.113.10"]) | \
    st.ip_addresses(v=4).map(str)
ifaces = st.sampled_from([None, "eth0", "docker0", "bridge1", "lo", "veth0a1b"])
packets = st.fixed_dictionaries({
    "proto": st.sampled_from(["tcp", "udp", "icmp", "47"]),
    "src": addresses, "dst": addresses,
    "sport": st.integers(0, 65535), "dport": st.sampled_from([22, 53, 80, 8080]) | st.integers(0, 65535),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(RULESETS)), packet=packets,
       hook=st.sampled_from(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]),
       in_iface=ifaces, out_iface=ifaces, seed=st.integers(0, 1000),
       ct_state=st.sampled_from(["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"]))
def test_always_a_verdict(name: str, packet: dict, hook: str, in_iface: str | None,
                          out_iface: str | None, seed: int, ct_state: str) -> None:
    if packet["proto"] not in ("tcp", "udp"):
        packet = {**packet, "sport": None, "dport": None}
    t = RULESETS[name].trace(packet, hook=hook, in_iface=in_iface, out_iface=out_iface, seed=seed,
                             ct_state=ct_state, local_addrs=["192.168.56.38"], max_steps=10_000)
    assert t.verdict in VERDICTS
    assert len(t.step_list) <= 10_100
    assert str(t)  # always printable
    if t.verdict != "ACCEPT":
        assert t.decisive is not None and t.decisive.target in (t.verdict, "DROP", "REJECT", "QUEUE")


def test_cycle_packet_terminates() -> None:
    t = RULESETS["cyclic"].trace({"proto": "tcp", "src": "10.0.0.1", "dst": "10.0.0.2", "dport": 80},
                                 hook="INPUT", seed=1)
    assert t.uncertain and any("jump cycle" in s.note for s in t.step_list)
    assert t.verdict in VERDICTS


@pytest.fixture(scope="module")
def kube():  # noqa: ANN201
    return parse_iptables(kube_proxy_rules(services=300))


@settings(max_examples=150, deadline=None)
@given(i=st.integers(0, 310), port=st.sampled_from([80, 9090, 53, 443]),
       proto=st.sampled_from(["tcp", "udp"]), seed=st.integers(0, 50),
       src=st.sampled_from(["192.168.1.5", "10.244.0.7"]))
def test_index_never_changes_the_answer(kube, i: int, port: int, proto: str, seed: int,  # noqa: ANN001
                                        src: str) -> None:
    pkt = {"proto": proto, "src": src, "dst": service_vip(i), "sport": 40000, "dport": port}
    kw = {"hook": "PREROUTING", "in_iface": "eth0", "local_addrs": ["192.168.1.10"], "seed": seed}
    fast = run_trace(kube, pkt, **kw)
    old = trace_mod.INDEX_MIN_RULES
    trace_mod.INDEX_MIN_RULES = 10**9  # walk every rule
    try:
        kube._cache.clear()
        slow = run_trace(kube, pkt, **kw)
    finally:
        trace_mod.INDEX_MIN_RULES = old
        kube._cache.clear()
    assert (fast.verdict, fast.nat, fast.mark) == (slow.verdict, slow.nat, slow.mark)
    assert fast.positions == slow.positions
    skipped = [s for s in fast.step_list if s.kind == "skipped"]
    assert sum(_span(s.position) for s in skipped) + len(fast.step_list) - len(skipped) == len(slow.step_list)


def _span(position: str) -> int:
    lo, hi = position.rsplit(":", 1)[1].split("-")
    return int(hi) - int(lo) + 1


@pytest.fixture(scope="module")
def docker_many():
    """Docker 27's rules for 120 published containers, plus rules the index must keep:
    a negated port, a port range and a port without ``-p`` do not go in a port group."""
    from netlab.scenarios import catalogue

    text = catalogue.build("many-containers", n=120).host.iptables
    extra = ("-A DOCKER -p tcp -m tcp ! --dport 8005 -s 203.0.113.9/32 -j RETURN\n"
             "-A DOCKER -p udp -m udp --dport 8000:8010 -j RETURN\n"
             "-A DOCKER -p tcp -m tcp --dport 8007 -j RETURN\n")
    nat = text.index("COMMIT", text.index("*nat"))
    return parse_iptables(text[:nat] + extra + text[nat:])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(port=st.sampled_from([8000, 8005, 8007, 8009, 8064, 8119, 8120, 22, 80]),
       proto=st.sampled_from(["tcp", "udp", "icmp"]),
       src=st.sampled_from(["192.168.56.1", "203.0.113.9", "172.17.0.5"]),
       hook=st.sampled_from(["PREROUTING", "OUTPUT"]))
def test_port_index_never_changes_the_answer(docker_many, port: int, proto: str, src: str,  # noqa: ANN001
                                             hook: str) -> None:
    """Docker's DNAT rules are grouped by protocol and port: walking every rule gives the
    same verdict, NAT and rule positions, and the skipped steps account for the rest."""
    pkt = {"proto": proto, "src": src, "dst": "192.168.56.38"}
    if proto != "icmp":
        pkt |= {"sport": 40000, "dport": port}
    kw = {"hook": hook, "in_iface": "enp0s8" if hook == "PREROUTING" else None,
          "local_addrs": ["192.168.56.38"], "seed": 1}
    docker_many._cache.clear()
    fast = run_trace(docker_many, pkt, **kw)
    old = trace_mod.INDEX_MIN_RULES
    trace_mod.INDEX_MIN_RULES = 10**9  # walk every rule
    try:
        docker_many._cache.clear()
        slow = run_trace(docker_many, pkt, **kw)
    finally:
        trace_mod.INDEX_MIN_RULES = old
        docker_many._cache.clear()
    assert (fast.verdict, fast.nat, fast.mark) == (slow.verdict, slow.nat, slow.mark)
    assert fast.positions == slow.positions
    skipped = [s for s in fast.step_list if s.kind == "skipped"]
    assert sum(_span(s.position) for s in skipped) + len(fast.step_list) - len(skipped) == len(slow.step_list)
    if hook == "PREROUTING" and proto == "tcp" and port in (8064, 8119, 8120, 22, 80):
        # deep in (or past the end of) the DOCKER chain: walked by its index
        assert skipped and all("destination port than tcp port" in s.reason for s in skipped)
        assert len(fast.step_list) < len(slow.step_list) / 4
