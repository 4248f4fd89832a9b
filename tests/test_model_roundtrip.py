"""JSON round trip of generated HostStates: ``from_json(to_json(s)) == s`` for any state."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.errors import SnapshotError
from netlab.model import (
    SCHEMA_VERSION,
    Address,
    Bridge,
    BridgePort,
    ConntrackEntry,
    ConntrackTuple,
    FdbEntry,
    HostState,
    Link,
    Namespace,
    Route,
)

text = st.text(max_size=12)  # any unicode, including "" and surrogates-free controls
maybe_text = st.none() | text
small = st.integers(min_value=0, max_value=2**32)
maybe_int = st.none() | small
netns = st.sampled_from(["", "web", "db", "ns-é", "x y"])
flags = st.lists(text, max_size=3)
json_scalar = st.none() | st.booleans() | st.integers(-2**53, 2**53) | text
json_value = st.recursive(json_scalar, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(text, inner, max_size=3), max_leaves=8)

links = st.builds(
    Link, name=text, ifindex=maybe_int, kind=st.sampled_from(
        ["loopback", "physical", "bridge", "veth", "other"]),
    mac=maybe_text, mtu=maybe_int, flags=flags, state=maybe_text, master=maybe_text,
    netns=netns, peer_ifindex=maybe_int, peer_netnsid=maybe_int, peer_netns=maybe_text,
    link_type=maybe_text, qdisc=maybe_text, alias=maybe_text, driver=maybe_text)
addrs = st.builds(
    Address, ifname=text, address=text, prefixlen=st.integers(0, 128),
    family=st.sampled_from([4, 6]), scope=text, broadcast=maybe_text, label=maybe_text,
    netns=netns, peer=maybe_text, flags=flags)
hops = st.lists(st.fixed_dictionaries({}, optional={
    "gateway": text, "dev": text, "weight": small, "flags": flags}), max_size=2)
routes = st.builds(
    Route, dst=text, dev=maybe_text, gateway=maybe_text, table=text, type=text,
    protocol=maybe_text, scope=maybe_text, src=maybe_text, metric=maybe_int,
    family=st.sampled_from([4, 6]), flags=flags, netns=netns, nexthops=hops)
tuples = st.builds(ConntrackTuple, src=text, dst=text, sport=maybe_int, dport=maybe_int,
                   icmp_type=maybe_int, icmp_code=maybe_int, icmp_id=maybe_int)
entries = st.builds(
    ConntrackEntry, proto=text, orig=tuples, reply=tuples, state=maybe_text,
    timeout=maybe_int, status=flags, mark=maybe_int, zone=maybe_int, use=maybe_int,
    netns=netns)
namespaces = st.builds(Namespace, name=netns, ids=st.dictionaries(
    st.integers(-1, 2**31), text, max_size=3), hostname=maybe_text)
states = st.builds(
    HostState,
    namespaces=st.lists(namespaces, max_size=3),
    links=st.lists(links, max_size=4),
    addrs=st.lists(addrs, max_size=4),
    route_list=st.lists(routes, max_size=4),
    bridges=st.lists(st.builds(Bridge, name=text, bridge_id=maybe_text,
                               stp=st.none() | st.booleans(), netns=netns), max_size=2),
    ports=st.lists(st.builds(BridgePort, bridge=text, port=text, state=maybe_text,
                             ifindex=maybe_int, hairpin=st.none() | st.booleans(),
                             cost=maybe_int, priority=maybe_int, netns=netns), max_size=3),
    fdb=st.lists(st.builds(FdbEntry, mac=text, dev=text, bridge=maybe_text, vlan=maybe_int,
                           flags=flags, state=maybe_text, netns=netns), max_size=3),
    sysctls=st.dictionaries(netns, st.dictionaries(text, text, max_size=3), max_size=2),
    firewall=st.dictionaries(netns, text, max_size=2),
    nftables=st.dictionaries(netns, text, max_size=2),
    conntrack_entries=st.lists(entries, max_size=3),
    docker_networks=st.lists(st.dictionaries(text, json_value, max_size=3), max_size=2),
    hostname=maybe_text, source=st.sampled_from(["paste", "snapshot", "scenario"]),
    notes=st.lists(text, max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(states)
def test_any_host_state_survives_json(state: HostState) -> None:
    again = HostState.from_json(state.to_json())
    assert again == state
    # and a second trip gives the very same text (nothing drifts)
    assert again.to_json() == state.to_json()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(state=states)
def test_compact_json_and_file_round_trip(state: HostState, tmp_path_factory) -> None:
    assert HostState.from_json(state.to_json(indent=None)) == state
    path = tmp_path_factory.mktemp("snap") / "state.json"
    state.save(str(path))
    assert HostState.load(str(path)) == state


def test_schema_version_is_written_and_checked() -> None:
    data = json.loads(HostState().to_json())
    assert data["schema_version"] == SCHEMA_VERSION
    data["schema_version"] = SCHEMA_VERSION + 1
    with pytest.raises(SnapshotError, match="schema version"):
        HostState.from_json(json.dumps(data))
    del data["schema_version"]
    with pytest.raises(SnapshotError, match="schema version"):
        HostState.from_json(json.dumps(data))


@pytest.mark.parametrize("bad", ["[]", "1", '"x"', "null", '{"schema_version": 1}',
                                 '{"schema_version": 1, "links": [{"nom": "eth0"}]}'])
def test_json_that_is_not_a_snapshot_is_a_snapshot_error(bad: str) -> None:
    with pytest.raises(SnapshotError):
        HostState.from_json(bad)
