"""`netlab snapshot --netns` and `netlab show` as a new user runs them, on namespaces made
here (unique prefix, removed also on failure): two bridges (one empty), two containers,
a down link whose routes are `linkdown`, conntrack entries, and the errors a user meets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import netlab
from netlab import HostState

NETLAB = str(Path(sys.executable).with_name("netlab"))


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120, env=env)


def remove_namespaces(prefix: str) -> None:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=20)
    for line in out.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(prefix):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=20)


@pytest.fixture
def docker_like(unique_prefix):
    p = unique_prefix
    host, web, db = f"{p}host", f"{p}web", f"{p}db"
    bridge = "br-0a1b2c3d4e5f"
    try:
        for ns in (host, web, db):
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", host, "link", "add", bridge, "type", "bridge")
        ip("-n", host, "link", "add", "docker0", "type", "bridge")  # no container on it
        ip("-n", host, "addr", "add", "172.30.0.1/16", "dev", bridge)
        ip("-n", host, "addr", "add", "172.31.0.1/16", "dev", "docker0")
        ip("-n", host, "link", "set", bridge, "up")
        ip("-n", host, "link", "set", "docker0", "up")
        for i, ns in ((1, web), (2, db)):
            ip("-n", host, "link", "add", f"veth{i}aaaaaa", "type", "veth", "peer", "name",
               "eth0", "netns", ns)
            ip("-n", host, "link", "set", f"veth{i}aaaaaa", "master", bridge, "up")
            ip("-n", ns, "addr", "add", f"172.30.0.{i + 1}/16", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "route", "add", "default", "via", "172.30.0.1")
        # a veth pair inside the host namespace, one end down: its routes are `linkdown`
        ip("-n", host, "link", "add", "spare0", "type", "veth", "peer", "name", "spare1")
        ip("-n", host, "addr", "add", "192.0.2.1/24", "dev", "spare0")
        ip("-n", host, "link", "set", "spare0", "up")
        # conntrack only tracks in a namespace whose rules use it
        subprocess.run(["ip", "netns", "exec", web, "iptables", "-A", "OUTPUT", "-m", "conntrack",
                        "--ctstate", "NEW", "-j", "ACCEPT"], check=True, capture_output=True,
                       timeout=20)
        send = ("import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                "s.sendto(b'hello', ('172.30.0.3', 9))")  # one datagram, nobody answers
        subprocess.run(["ip", "netns", "exec", web, sys.executable, "-c", send],
                       check=True, capture_output=True, timeout=20)
        yield host, web, db
    finally:
        remove_namespaces(p)


def _kernel_view(ns: str) -> tuple[str, ...]:
    """What a snapshot must leave as it found (no timers, no counters)."""
    rules = run("ip", "netns", "exec", ns, "iptables-save").stdout
    return (run("ip", "-n", ns, "-br", "link").stdout, run("ip", "-n", ns, "-br", "addr").stdout,
            run("ip", "-n", ns, "route", "show", "table", "all").stdout,
            run("ip", "netns", "exec", ns, "sysctl", "net.ipv4.ip_forward").stdout,
            "\n".join(x for x in rules.splitlines() if not x.startswith("#")))


def test_snapshot_and_show_on_the_command_line(docker_like, tmp_path):
    host, web, db = docker_like
    before = [_kernel_view(ns) for ns in docker_like]
    out = tmp_path / "snap.json"
    result = run(NETLAB, "snapshot", "--netns", host, "--netns", web, "--netns", db,
                 "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stderr
    assert [_kernel_view(ns) for ns in docker_like] == before  # read-only

    state = HostState.load(str(out))
    assert HostState.from_json(state.to_json()) == state
    assert state.source == "snapshot"
    br = state.link("br-0a1b2c3d4e5f", host)
    assert (br.kind, br.driver, br.state) == ("bridge", "bridge", "UP")
    assert [a.cidr for a in state.addresses_of("br-0a1b2c3d4e5f", host, family=4)] == [
        "172.30.0.1/16"]
    ports = state.bridge_ports
    assert sorted(ports[ports.bridge == "br-0a1b2c3d4e5f"].port) == ["veth1aaaaaa", "veth2aaaaaa"]
    assert ports[ports.bridge == "docker0"].empty
    assert set(ports.state) == {"forwarding"} or set(ports.state) <= {"forwarding", "learning",
                                                                       "listening"}
    for veth, ns in (("veth1aaaaaa", web), ("veth2aaaaaa", db)):
        link = state.link(veth, host)
        peer = state.peer_of(link)
        assert (peer.name, peer.netns) == ("eth0", ns)
        assert state.peer_of(peer) is link
    spare0, spare1 = state.link("spare0", host), state.link("spare1", host)
    assert state.peer_of(spare0) is spare1 and spare0.state == "LOWERLAYERDOWN"
    linkdown = [r for r in state.route_list if r.netns == host and r.dev == "spare0"
                and r.table == "main" and r.family == 4]
    assert linkdown and all("linkdown" in r.flags for r in linkdown)
    local = [r for r in state.route_list if r.netns == host and r.table == "local"
             and r.type == "broadcast" and r.dev == "br-0a1b2c3d4e5f"]
    assert local and local[0].dst == "172.30.255.255/32"
    default = [r for r in state.route_list if r.netns == web and r.dst == "default"]
    assert default[0].gateway == "172.30.0.1" and default[0].dev == "eth0"
    assert state.sysctl("net.ipv4.ip_forward", host) in ("0", "1")
    sent = [e for e in state.conntrack_entries if e.netns == web and e.proto == "udp"]
    assert sent and (sent[0].orig.dst, sent[0].orig.dport) == ("172.30.0.3", 9)
    assert "UNREPLIED" in sent[0].status
    assert state.conntrack.query("netns == @web").dport.tolist() == [9]
    assert "*filter" in state.firewall[web]

    g = state.graph()
    peers = {frozenset((a, b)) for a, b, r in g.edges(data="relation") if r == "veth-peer"}
    assert frozenset({("if", host, "veth1aaaaaa"), ("if", web, "eth0")}) in peers
    assert frozenset({("if", host, "veth2aaaaaa"), ("if", db, "eth0")}) in peers
    assert g.edges[("if", host, "veth1aaaaaa"), ("if", host, "br-0a1b2c3d4e5f")]["relation"] \
        == "enslaved"

    shown = run(NETLAB, "show", str(out))
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    assert "Interfaces (" in text and "Routes (" in text and "Bridge ports (2)" in text
    assert f"veth1aaaaaa in {host}" in text and "eth0 (ifindex" in text and f"in {web}" in text
    assert "172.30.0.1/16" in text and "br-0a1b2c3d4e5f" in text


def test_snapshot_to_stdout_is_json(docker_like):
    host = docker_like[0]
    result = run(NETLAB, "snapshot", "--netns", host)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"] >= 1
    assert {link["name"] for link in data["links"]} >= {"br-0a1b2c3d4e5f", "docker0", "spare0"}


def test_user_errors_are_one_clear_line(docker_like, tmp_path):
    host = docker_like[0]
    for bad in ("../etc", "a b", "x;rm -rf /", ""):
        result = run(NETLAB, "snapshot", "--netns", bad)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr and "namespace" in result.stderr
    result = run(NETLAB, "snapshot", "--netns", host + "-gone")
    assert result.returncode == 1 and "no network namespace" in result.stderr
    assert "ip netns list" in result.stderr
    result = run(NETLAB, "snapshot", "--netns", host, "-o", str(tmp_path / "no" / "such" / "x"))
    # a bad -o is a bad argument (exit 2), refused before anything is read
    assert result.returncode == 2 and "does not exist" in result.stderr and "mkdir -p" in result.stderr
    assert "Traceback" not in result.stderr
    result = run(NETLAB, "show", str(tmp_path / "missing.json"))
    assert result.returncode == 1 and "cannot read" in result.stderr


def test_missing_tools_are_listed_with_the_package(docker_like, tmp_path):
    host = docker_like[0]
    only_ip = tmp_path / "bin"
    only_ip.mkdir()
    (only_ip / "ip").symlink_to(shutil.which("ip"))
    env = {**os.environ, "PATH": str(only_ip)}
    script = (f"import json, netlab; s = netlab.snapshot({host!r}); "
              "print(json.dumps({'links': len(s.links), 'notes': s.notes}))")
    result = run(sys.executable, "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["links"] >= 6  # what `ip` reads is still there
    notes = " ".join(data["notes"])
    assert "`bridge` is not installed (apt-get install iproute2)" in notes
    assert "`iptables-save` is not installed (apt-get install iptables)" in notes
    assert "`conntrack` is not installed (apt-get install conntrack)" in notes


def test_snapshot_of_one_namespace_names_the_peers_namespaces(docker_like):
    host, web, db = docker_like
    state = netlab.snapshot(host)
    ids = state.namespace(host).ids
    assert set(ids.values()) >= {web, db}  # `ip netns list-id` names them
    view = state.interfaces.set_index("name")
    assert view.loc["veth1aaaaaa", "peer"] == f"if{state.link('veth1aaaaaa', host).peer_ifindex}@{web}"


def test_a_namespace_may_be_named_by_its_run_netns_path(docker_like):
    host, web, _ = docker_like
    state = netlab.snapshot(f"/run/netns/{web}")
    assert {link.netns for link in state.links} == {web}
    assert state.link("eth0", web).mac
    with pytest.raises(netlab.errors.SnapshotError):
        netlab.snapshot("/run/netns/../etc")
