"""HostState: lossless JSON, pandas views, the graph (veth peers, placeholders, namespaces)."""

from __future__ import annotations

import json

import pytest

import netlab
from netlab import HostState, SnapshotError
from netlab.model import (
    Address,
    BridgePort,
    ConntrackEntry,
    ConntrackTuple,
    FdbEntry,
    Link,
    Namespace,
    Route,
)
from tests._pastes import paste


def _rich_state() -> HostState:
    state = HostState(source="snapshot", hostname="docker-host")
    state.namespaces = [Namespace("", {0: "web", 3: "db"}, "docker-host"), Namespace("web", {0: ""}),
                        Namespace("db")]
    state.links = [
        Link("docker0", 4, "bridge", "02:42:68:de:b6:2a", 1500, ["UP"], "UP", driver="bridge"),
        Link("vethca38e86", 6, "veth", "22:35:bb:aa:3d:15", 1500, ["UP"], "UP", "docker0",
             peer_ifindex=5, peer_netnsid=0, driver="veth"),
        Link("eth0", 5, "veth", "02:42:ac:11:00:02", 1500, netns="web", peer_ifindex=6,
             peer_netnsid=0),
    ]
    state.addrs = [Address("docker0", "172.17.0.1", 16, broadcast="172.17.255.255",
                           label="docker0"),
                   Address("eth0", "172.17.0.2", 16, netns="web", flags=["secondary"]),
                   Address("wg0", "10.8.0.1", 32, peer="10.8.0.2")]
    state.route_list = [
        Route("default", "enp0s3", "10.0.2.2", protocol="static", metric=100),
        Route("172.17.0.0/16", "docker0", src="172.17.0.1", scope="link", protocol="kernel"),
        Route("default", protocol="static", metric=1024,
              nexthops=[{"gateway": "10.0.0.1", "dev": "eth0", "weight": 1}]),
        Route("fe80::/64", "docker0", family=6, metric=256),
    ]
    state.ports = [BridgePort("docker0", "vethca38e86", "forwarding", 6, False, 2, 32)]
    state.fdb = [FdbEntry("02:42:ac:11:00:02", "vethca38e86", "docker0", 1, ["master"])]
    state.sysctls = {"": {"net.ipv4.ip_forward": "1"}, "web": {"net.ipv4.ip_forward": "0"}}
    state.firewall = {"": "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n"}
    state.nftables = {"": '{"nftables": []}'}
    state.conntrack_entries = [ConntrackEntry(
        "tcp", ConntrackTuple("192.168.56.1", "192.168.56.38", 51234, 80),
        ConntrackTuple("172.17.0.2", "192.168.56.1", 80, 51234), "ESTABLISHED", 431999,
        ["ASSURED"], 0, None, 1),
        ConntrackEntry("icmp", ConntrackTuple("172.17.0.2", "203.0.113.10", icmp_type=8,
                                              icmp_code=0, icmp_id=27),
                       ConntrackTuple("203.0.113.10", "10.0.2.15", icmp_type=0, icmp_code=0,
                                      icmp_id=27), timeout=29, zone=3)]
    state.docker_networks = [{"Name": "bridge", "IPAM": {"Config": [{"Subnet": "172.17.0.0/16"}]}}]
    state.notes = ["conntrack table not read: needs root"]
    return state.normalise()


def test_json_round_trip_is_lossless():
    state = _rich_state()
    again = HostState.from_json(state.to_json())
    assert again == state
    assert again.namespace("").ids == {0: "web", 3: "db"}  # int keys survive JSON
    assert again.conntrack_entries[1].orig.icmp_type == 8
    assert again.to_json() == state.to_json()
    assert json.loads(state.to_json())["schema_version"] == netlab.model.SCHEMA_VERSION


def test_json_round_trip_of_parsed_seed(seed_dir):
    state = netlab.parse_host(*(p.read_text(encoding="utf-8") for p in sorted(seed_dir.iterdir())))
    assert HostState.from_json(state.to_json()) == state


def test_save_and_load(tmp_path):
    path = tmp_path / "snap.json"
    state = _rich_state()
    state.save(str(path))
    assert HostState.load(str(path)) == state


def test_bad_snapshots_are_clear_errors():
    with pytest.raises(SnapshotError, match="invalid JSON"):
        HostState.from_json("{not json")
    data = json.loads(_rich_state().to_json())
    data["schema_version"] = 999
    with pytest.raises(SnapshotError, match="schema version"):
        HostState.from_json(json.dumps(data))


def test_pandas_views():
    state = _rich_state()
    interfaces = state.interfaces
    row = interfaces.set_index("name").loc["vethca38e86"]
    assert row["kind"] == "veth" and row["master"] == "docker0" and row["peer"] == "eth0@web"
    assert set(state.addresses["address"]) == {"172.17.0.1", "172.17.0.2", "10.8.0.1"}
    assert list(state.routes["dst"])[:2] == ["default", "172.17.0.0/16"]
    assert list(state.bridge_ports["port"]) == ["vethca38e86"]
    ct = state.conntrack
    assert list(ct["dnat"]) == [True, False] and list(ct["snat"]) == [False, True]


def test_graph_placeholder_peer_from_text():
    state = netlab.parse_ip_addr(paste("ip-addr-new-6.1.txt"))
    g = state.graph()
    a = ("if", "", "veth3f2a1b0")
    assert g.edges[a, ("if", "netnsid 0", "if6")]["relation"] == "veth-peer"
    assert g.edges[("if", "", "vethb7c0d11"), ("if", "netnsid 1", "if8")]["relation"] == "veth-peer"
    assert g.nodes[("netns", "netnsid 0")]["placeholder"] is True
    assert g.edges[a, ("if", "", "docker0")]["relation"] == "enslaved"
    assert g.nodes[("if", "", "docker0")]["type"] == "bridge"


def test_graph_two_namespaces_joined():
    g = _rich_state().graph()
    assert g.edges[("if", "", "vethca38e86"), ("if", "web", "eth0")]["relation"] == "veth-peer"
    assert g.edges[("if", "web", "eth0"), ("netns", "web")]["relation"] == "in-namespace"
    assert not any(data.get("placeholder") for _, data in g.nodes(data=True))


def test_netnsid_resolved_from_both_ends():
    host = netlab.parse_ip_addr(paste("ip-addr-new-6.1.txt"))
    web = netlab.parse_ip_addr(paste("ip-addr-container.txt"), netns="web")
    state = host.merge(web)
    assert state.namespace("").ids == {0: "web"}  # netnsid 1 stays unknown: no second container
    assert state.peer_of(state.link("veth3f2a1b0")).name == "eth0"
    assert state.peer_of(state.link("vethb7c0d11")) is None
    pairs = {(a.name, b.name if b else None) for a, b, _ in state.veth_pairs()}
    assert ("veth3f2a1b0", "eth0") in pairs or ("eth0", "veth3f2a1b0") in pairs


def test_merge_fills_fields_instead_of_duplicating():
    ports = netlab.parse_brctl_show("docker0 8000.024268deb62a no vethca38e86\n")
    links = netlab.parse_bridge_link(
        "6: vethca38e86 state UP : <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master docker0 "
        "state forwarding priority 32 cost 2\n")
    state = ports.merge(links)
    assert len(state.ports) == 1
    port = state.ports[0]
    assert (port.state, port.cost, port.ifindex) == ("forwarding", 2, 6)


def test_parsers_and_snapshot_do_not_import_heavy_libraries():
    import subprocess
    import sys

    code = ("import sys, netlab.parse, netlab.snapshot, netlab.snapshot_cli; "
            "heavy = [m for m in ('pandas', 'scapy', 'matplotlib', 'networkx') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
