"""Live snapshot on the real kernel: namespaces made here (unique prefix), read back, joined.

Layout (all inside namespaces this test creates; the machine's own namespace is untouched):

    {p}h: bridge br0 10.77.0.1/24, ports ve1 and ve2, ip_forward=1, one iptables rule
    {p}c1: eth0 10.77.0.2/24 (peer of ve1)
    {p}c2: eth0 10.77.0.3/24 (peer of ve2)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import needs

import netlab
from netlab import SnapshotError
from netlab.snapshot import validate_netns


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def ns_exec(ns: str, *argv: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["ip", "netns", "exec", ns, *argv], check=True, capture_output=True,
                          timeout=10)


def remove_namespaces(prefix: str) -> None:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10)
    for line in listed.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(prefix):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)


@pytest.fixture
def lab(unique_prefix):
    p = unique_prefix
    host, c1, c2 = f"{p}h", f"{p}c1", f"{p}c2"
    try:
        for ns in (host, c1, c2):
            ip("netns", "add", ns)
        ip("-n", host, "link", "add", "br0", "type", "bridge")
        ip("-n", host, "addr", "add", "10.77.0.1/24", "dev", "br0")
        ip("-n", host, "link", "set", "br0", "up")
        for i, ns in ((1, c1), (2, c2)):
            ip("-n", host, "link", "add", f"ve{i}", "type", "veth", "peer", "name", "eth0",
               "netns", ns)
            ip("-n", host, "link", "set", f"ve{i}", "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"10.77.0.{i + 1}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
        ns_exec(host, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ns_exec(host, "iptables", "-A", "INPUT", "-p", "udp", "-m", "conntrack", "--ctstate",
                "NEW", "-j", "ACCEPT")
        yield host, c1, c2
    finally:
        remove_namespaces(p)


def _state_of(ns: str) -> str:
    out = []
    for args in (["-j", "-d", "link"], ["-j", "addr"], ["-j", "route", "show", "table", "all"]):
        text = subprocess.run(["ip", "-n", ns, *args], capture_output=True, text=True,
                              timeout=10).stdout
        out.append(json.dumps(_without_timers(json.loads(text)), sort_keys=True))
    rules = subprocess.run(["ip", "netns", "exec", ns, "iptables-save"], capture_output=True,
                           text=True, timeout=10).stdout
    out.append("\n".join(line for line in rules.splitlines() if not line.startswith("#")))
    return "\n".join(out)


def _without_timers(value):
    """The JSON minus what ticks by itself (bridge timers, statistics)."""
    if isinstance(value, dict):
        return {k: _without_timers(v) for k, v in value.items()
                if not k.endswith("_timer") and k != "stats64"}
    if isinstance(value, list):
        return [_without_timers(v) for v in value]
    return value


def _check_joined(state, host, c1, c2):
    g = state.graph()
    for i, ns in ((1, c1), (2, c2)):
        edge = g.edges[("if", host, f"ve{i}"), ("if", ns, "eth0")]
        assert edge["relation"] == "veth-peer"
        assert g.edges[("if", host, f"ve{i}"), ("if", host, "br0")]["relation"] == "enslaved"
        assert state.peer_of(state.link("eth0", ns)).name == f"ve{i}"
    assert not [n for n, d in g.nodes(data=True) if d.get("placeholder")]


def test_snapshot_each_namespace_and_merge(lab):
    host, c1, c2 = lab
    # a datagram from c1 to the bridge gives the host's conntrack table an entry
    ns_exec(c1, sys.executable, "-c",
            "import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            "s.sendto(b'x', ('10.77.0.1', 9))")
    before = {ns: _state_of(ns) for ns in lab}
    parts = [netlab.snapshot(netns=ns) for ns in (host, c1, c2)]
    state = parts[0]
    for part in parts[1:]:
        state.merge(part)
    _check_joined(state, host, c1, c2)
    br0 = state.link("br0", host)
    assert br0.kind == "bridge" and br0.driver == "bridge"
    assert [a.cidr for a in state.addresses_of("br0", host, family=4)] == ["10.77.0.1/24"]
    # ports are "forwarding", or still "learning"/"listening" right after creation
    assert {(p.netns, p.bridge, p.port) for p in state.ports} == {
        (host, "br0", "ve1"), (host, "br0", "ve2")}
    assert all(p.state in ("forwarding", "learning", "listening") for p in state.ports)
    route = next(r for r in state.route_list if r.netns == c1 and r.dst == "10.77.0.0/24")
    assert route.dev == "eth0" and route.src == "10.77.0.2"
    assert state.sysctl("net.ipv4.ip_forward", host) == "1"
    assert state.sysctl("net.ipv4.ip_forward", c1) == "0"  # read inside c1, not here
    assert "--ctstate NEW" in state.firewall[host]
    assert any(e.proto == "udp" and e.orig.src == "10.77.0.2" and e.orig.dport == 9
               for e in state.conntrack_entries if e.netns == host)
    assert state.source == "snapshot"
    # read-only: nothing it looked at changed
    assert {ns: _state_of(ns) for ns in lab} == before
    # and the JSON snapshot holds it all
    assert netlab.HostState.from_json(state.to_json()) == state


def test_snapshot_several_at_once(lab):
    host, c1, c2 = lab
    state = netlab.snapshot([host, c1, c2])
    _check_joined(state, host, c1, c2)
    assert {ns.name for ns in state.namespaces} == {host, c1, c2}
    assert all(link.netns in lab for link in state.links)


def test_netns_names_are_validated(lab):
    for bad in ("../etc", "-n", "a b", "", "x" * 300, "a/b"):
        with pytest.raises(SnapshotError):
            validate_netns(bad)
    with pytest.raises(SnapshotError, match="no network namespace"):
        netlab.snapshot(netns=lab[0] + "-missing")


def test_without_root_it_returns_what_it_can_with_notes(lab, tmp_path):
    if not os.path.exists("/usr/bin/setpriv"):
        pytest.skip("needs setpriv (util-linux) to drop root")
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c"]
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    probe = subprocess.run([*drop, "import netlab.snapshot"], capture_output=True, text=True,
                           timeout=60, cwd=str(tmp_path), env=env)
    if probe.returncode != 0:
        pytest.skip("the unprivileged user 'nobody' cannot run this checkout's Python here "
                    f"(folder permissions): {probe.stderr.strip().splitlines()[-1:]}")
    script = ("import json, netlab; s = netlab.snapshot(); "
              "print(json.dumps({'links': len(s.links), 'notes': s.notes}))")
    result = subprocess.run([*drop, script], capture_output=True, text=True, timeout=60,
                            cwd=str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["links"] >= 1  # links and routes are readable by anyone
    joined = " ".join(data["notes"])
    assert "iptables rules not read" in joined and "conntrack table not read" in joined
    assert "root" in joined
    # a named namespace needs root: a clear error, not a half-empty state
    script = f"import netlab; netlab.snapshot(netns={lab[0]!r})"
    result = subprocess.run([*drop, script], capture_output=True, text=True, timeout=60,
                            cwd=str(tmp_path), env=env)
    assert result.returncode != 0 and "needs root" in result.stderr


def _text(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, check=True,
                          timeout=10).stdout


@needs("brctl")
def test_text_parsers_agree_with_the_snapshot_on_real_output(lab):
    """What this kernel's iproute2 prints as text reads the same as its JSON."""
    host, c1, _ = lab
    snap = netlab.snapshot(host)
    for argv in (["ip", "-n", host, "addr"], ["ip", "-n", host, "-d", "addr"],
                 ["ip", "-n", host, "-s", "-s", "link"], ["ip", "-n", host, "-color=always", "addr"],
                 ["ip", "-n", host, "-d", "link"]):
        state = netlab.parse_ip_addr(_text(*argv), netns=host)
        for link in snap.links:
            mine = state.link(link.name, host)
            assert mine is not None, (argv, link.name)
            assert (mine.ifindex, mine.kind, mine.mac, mine.master, mine.peer_ifindex) == (
                link.ifindex, link.kind, link.mac, link.master, link.peer_ifindex), (argv, link)
        if "addr" in argv:
            assert {a.cidr for a in state.addrs} == {a.cidr for a in snap.addrs}, argv
    routes = netlab.parse_ip_route(_text("ip", "-n", host, "route", "show", "table", "all"),
                                   netns=host)
    key = lambda r: (r.table, r.type, r.dst, r.dev, r.src, r.family)  # noqa: E731
    assert sorted(map(key, routes.route_list)) == sorted(map(key, snap.route_list))
    brief = netlab.parse_ip_addr(_text("ip", "-n", host, "-br", "addr"), netns=host)
    assert {a.cidr for a in brief.addrs} == {a.cidr for a in snap.addrs}
    ports = netlab.parse_bridge_link(_text("bridge", "-n", host, "-d", "link"), netns=host)
    assert {(p.bridge, p.port, p.hairpin) for p in ports.ports} == {
        (p.bridge, p.port, p.hairpin) for p in snap.ports}
    fdb = netlab.parse_bridge_fdb(_text("bridge", "-n", host, "fdb", "show"), netns=host)
    fkey = lambda e: (e.mac, e.dev, e.bridge, e.vlan, e.state)  # noqa: E731
    # learnt entries come and go between two reads (IPv6 ND, multicast as links come up):
    # compare the ones the kernel holds for good
    fixed = lambda entries: sorted(fkey(e) for e in entries if e.state in ("permanent", "static"))  # noqa: E731
    assert fixed(fdb.fdb) == fixed(snap.fdb) and fixed(snap.fdb)
    brctl = netlab.parse_brctl_show(_text("ip", "netns", "exec", host, "brctl", "show"),
                                    netns=host)
    assert {p.port for p in brctl.ports} == {"ve1", "ve2"}
    assert brctl.link("br0", host).mac == snap.link("br0", host).mac
    rules = netlab.parse_host(iptables=_text("ip", "netns", "exec", host, "iptables-save"))
    assert "--ctstate NEW" in rules.firewall[""]
    ctl = netlab.parse_sysctl(_text("ip", "netns", "exec", host, "sysctl", "net.ipv4.ip_forward"))
    assert ctl.sysctl("net.ipv4.ip_forward") == snap.sysctl("net.ipv4.ip_forward", host) == "1"
    other = netlab.parse_ip_addr(_text("ip", "-n", c1, "addr"), netns=c1)
    joined = snap.merge(other)
    assert joined.peer_of(joined.link("ve1", host)).name == "eth0"
