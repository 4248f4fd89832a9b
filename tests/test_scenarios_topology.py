"""docker_host() builds what Docker builds: names, addresses, MACs, wiring, services, sysctls."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import uuid

import pytest

from netlab.errors import NetlabError
from netlab.scenarios import (
    Container,
    PortMapping,
    Scenario,
    ScenarioError,
    Service,
    catalogue,
    docker_host,
    parse_port,
    resolve_version,
)

VERSIONS = ("27", "28.0.0", "28.0.1", "28.2.0", "28.2.2", "29")


def _three(version: str = "27", seed: int = 0, **kw: object) -> Scenario:
    return docker_host(version, [Container("web", ports=["80:80"]), Container("app", image="alpine"),
                                 Container("api", ports=["8080:8000"])], seed=seed, **kw)  # type: ignore[arg-type]


def _veths(s: Scenario) -> list[str]:
    return [i.name for i in s.host.interfaces if i.kind == "veth" and i.master]


# ----------------------------------------------------------------- versions
@pytest.mark.parametrize("given, profile", [
    ("27", "27"), ("article", "27"), ("18", "27"), ("18.09", "27"), ("18.03.1", "27"),
    ("20.10.17", "27"), ("24", "27"), ("27.5.1", "27"), ("v26.1.4", "27"),
    ("28", "28.2.2"), ("28.0.0", "28.0.0"), ("28.0.1", "28.0.1"), ("28.1.1", "28.0.1"),
    ("28.2.0", "28.2.0"), ("28.2.1", "28.2.0"), ("28.2.2", "28.2.2"), ("28.5.2", "28.2.2"),
    ("29", "29.0.0"), ("29.0.0", "29.0.0"), ("29.7.2", "29.0.0"), (29, "29.0.0"),
])
def test_versions_map_to_profiles(given: str, profile: str) -> None:
    assert resolve_version(given).name == profile


@pytest.mark.parametrize("bad", ["17.06", "1.13", "30.0.0", "latest", "", "28.x"])
def test_unknown_versions_are_refused_clearly(bad: str) -> None:
    with pytest.raises(ScenarioError, match="version|Docker"):
        resolve_version(bad)
    assert issubclass(ScenarioError, NetlabError)


# ------------------------------------------------------------------ naming
@pytest.mark.parametrize("version", VERSIONS)
def test_veth_names_are_veth_plus_7_hex_unique_and_seeded(version: str) -> None:
    s = docker_host(version, [Container(f"c{i}") for i in range(30)])
    names = _veths(s)
    assert len(names) == 30 == len(set(names))
    assert all(re.fullmatch(r"veth[0-9a-f]{7}", n) for n in names)
    assert _veths(docker_host(version, [Container(f"c{i}") for i in range(30)])) == names
    assert _veths(docker_host(version, [Container(f"c{i}") for i in range(30)], seed=1)) != names
    # each veth is a wire from the host to that container's eth0, enslaved to its bridge
    for i, veth in enumerate(names):
        assert s.peer("host", veth) == (f"c{i}", "eth0")
        assert s.host.interface(veth).master == "docker0"


def test_user_network_bridges_are_br_plus_12_hex() -> None:
    s = docker_host("29", [Container("a", network="one"), Container("b", network="two")],
                    networks=["one", "two"])
    bridges = [i.name for i in s.host.interfaces if i.kind == "bridge"]
    assert bridges[0] == "docker0"
    assert all(re.fullmatch(r"br-[0-9a-f]{12}", b) for b in bridges[1:]) and len(set(bridges)) == 3
    assert [n.subnet for n in s.docker.networks] == ["172.17.0.0/16", "172.18.0.0/16", "172.19.0.0/16"]
    assert s.node("a").network == bridges[1] and s.node("b").ip == "172.19.0.2"


# ------------------------------------------------------------ addressing
def test_addresses_from_2_upwards_per_network_in_start_order() -> None:
    s = docker_host("27", [Container("a"), Container("b", network="n"), Container("c", network="n", ip="172.18.0.3"),
                           Container("d", network="n"), Container("e")], networks=["n"])
    assert [s.node(x).ip for x in "abcde"] == ["172.17.0.2", "172.18.0.2", "172.18.0.3",
                                                "172.18.0.4", "172.17.0.3"]
    for x in "abcde":
        eth0 = s.node(x).interface("eth0")
        net = ipaddress.IPv4Interface(eth0.addresses[0]).network
        assert net.prefixlen == 16
        assert s.node(x).routes[0].dst == "default" and s.node(x).routes[0].via == str(net.network_address + 1)


# ------------------------------------------------------------------- MACs
def test_container_macs_before_28_are_02_42_and_the_ip() -> None:
    s = _three("27")
    assert s.node("web").interface("eth0").mac == "02:42:ac:11:00:02"
    assert s.node("app").interface("eth0").mac == "02:42:ac:11:00:03"
    assert s.node("api").interface("eth0").mac == "02:42:ac:11:00:04"
    assert s.host.interface("docker0").mac.startswith("02:42:")


@pytest.mark.parametrize("version", ["28.0.0", "28", "29"])
def test_container_macs_from_28_are_random_local_unicast_and_seeded(version: str) -> None:
    s = _three(version)
    macs = [s.node(n).interface("eth0").mac for n in ("web", "app", "api")]
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert first & 0x02 and not first & 0x01, mac  # locally administered, unicast
        assert not mac.startswith("02:42:ac:11")
    assert len(set(macs)) == 3
    assert [_three(version).node(n).interface("eth0").mac for n in ("web", "app", "api")] == macs
    assert [_three(version, seed=7).node(n).interface("eth0").mac for n in ("web", "app", "api")] != macs


def test_every_mac_in_a_scenario_is_unique() -> None:
    s = docker_host("29", [Container(f"c{i}", network="n" if i % 2 else "bridge") for i in range(20)],
                    networks=["n"])
    macs = [i.mac for n in s.nodes.values() for i in n.interfaces if i.kind != "loopback"]
    assert len(macs) == len(set(macs))


# ------------------------------------------------------------- the world
def test_host_nics_routes_and_the_world_around_it() -> None:
    s = docker_host("27")
    host = s.host
    assert host.interface("enp0s3").addresses == ["10.0.2.15/24"]
    assert host.interface("enp0s8").addresses == ["192.168.56.38/24"]
    assert host.interface("docker0").addresses == ["172.17.0.1/16"]
    assert [(r.dst, r.dev, r.via, r.src, r.metric, r.proto) for r in host.routes] == [
        ("default", "enp0s3", "10.0.2.2", None, 100, "static"),
        ("10.0.2.0/24", "enp0s3", None, "10.0.2.15", 100, "kernel"),
        ("172.17.0.0/16", "docker0", None, "172.17.0.1", None, "kernel"),
        ("192.168.56.0/24", "enp0s8", None, "192.168.56.38", 100, "kernel"),
    ]
    assert s.peer("host", "enp0s3") == ("gateway", "eth0")
    assert s.peer("host", "enp0s8") == ("client", "eth0")
    assert s.peer("gateway", "eth1") == ("internet", "eth0")
    assert s.node("gateway").ip == "10.0.2.2" and s.node("gateway").sysctls["net.ipv4.ip_forward"] == "1"
    assert s.node("internet").ip == "203.0.113.10"
    assert [(r.dst, r.via) for r in s.node("internet").routes][0] == ("default", "203.0.113.1")
    assert [r.dst for r in s.node("client").routes] == ["192.168.56.0/24"]  # host-only LAN
    assert s.node("web").services == [Service("tcp", 80, "http")]
    assert s.resolve("client")[1] == "192.168.56.1" and s.resolve("web")[1] == "172.17.0.2"
    roles = sorted(n.role for n in s.nodes.values())
    assert roles == ["client", "container", "gateway", "host", "internet"]


def test_userland_proxy_on_runs_docker_proxy_off_sets_hairpin_and_route_localnet() -> None:
    on = docker_host("27", [Container("web", ports=["80:80", "127.0.0.1:8080:80", "53:53/udp"])])
    assert [(s.proto, s.port, s.kind, s.bind, s.target) for s in on.host.services] == [
        ("tcp", 80, "docker-proxy", "0.0.0.0", "172.17.0.2:80"),
        ("tcp", 8080, "docker-proxy", "127.0.0.1", "172.17.0.2:80"),
        ("udp", 53, "docker-proxy", "0.0.0.0", "172.17.0.2:53"),
    ]
    assert [(s.proto, s.port, s.kind) for s in on.node("web").services] == [
        ("tcp", 80, "http"), ("udp", 53, "udp-echo")]
    assert not any(i.hairpin for i in on.host.interfaces)
    assert "net.ipv4.conf.docker0.route_localnet" not in on.host.sysctls

    off = docker_host("27", [Container("web", ports=["80:80"])], userland_proxy=False)
    assert off.host.services == []
    assert [i.hairpin for i in off.host.interfaces if i.master] == [True]
    assert off.host.sysctls["net.ipv4.conf.docker0.route_localnet"] == "1"
    for s in (on, off):
        assert s.host.sysctls["net.ipv4.ip_forward"] == "1"
        assert s.host.sysctls["net.bridge.bridge-nf-call-iptables"] == "1"


def test_ip_forward_off_and_forward_policy() -> None:
    s = docker_host("28", ip_forward=False)
    assert s.host.sysctls["net.ipv4.ip_forward"] == "0"
    assert ":FORWARD DROP [0:0]" in s.host.iptables
    assert ":FORWARD ACCEPT [0:0]" in docker_host("28", ip_forward_was_on=True).host.iptables


def test_internal_and_routed_networks() -> None:
    s = docker_host("29", [Container("db", image="redis", network="back", ports=["6379:6379"]),
                           Container("r", network="rt", ports=["8080:80"])],
                    networks=[{"name": "back", "internal": True}, {"name": "rt", "gateway_mode": "routed"}])
    assert [r.dst for r in s.node("db").routes] == ["172.18.0.0/16"]  # no default route
    assert s.host.services == []  # nothing is published from an internal or a routed network
    assert "DNAT" not in s.host.iptables
    assert "-A DOCKER -o " + s.node("r").network + " -p icmp -j ACCEPT" in s.host.iptables


def test_28_0_0_keeps_the_ext_bridges_ipset() -> None:
    s = docker_host("28.0.0", networks=["n", {"name": "i", "internal": True}])
    assert s.host.ipsets == {"docker-ext-bridges-v4": ["172.17.0.0/16", "172.18.0.0/16"]}
    assert docker_host("28.0.1").host.ipsets == {}


def test_json_round_trip() -> None:
    for s in (_three("27"), _three("29", userland_proxy=False),
              docker_host("28.0.0", networks=[{"name": "x", "subnet": "10.9.0.0/24"}])):
        again = Scenario.from_json(s.to_json())
        assert again == s
        assert again.to_json() == s.to_json()


def test_one_hundred_containers() -> None:
    s = catalogue.many_containers(100, version="29")
    assert len(s.containers) == 100
    ips = [c.ip for c in s.containers]
    assert len(set(ips)) == 100 and ips[-1] == "172.17.0.101"
    assert s.host.iptables.count("-j DNAT") == 100
    assert s.host.iptables.count("! -i docker0 -j DROP") == 100  # raw: one per container (28.2+)


# ----------------------------------------------------------------- ports
@pytest.mark.parametrize("spec, expected", [
    ("80:80", PortMapping(80, 80, "tcp", "0.0.0.0")),
    ("8080:80/tcp", PortMapping(8080, 80, "tcp", "0.0.0.0")),
    ("127.0.0.1:8080:80/tcp", PortMapping(8080, 80, "tcp", "127.0.0.1")),
    ("53:53/udp", PortMapping(53, 53, "udp", "0.0.0.0")),
    ("80", PortMapping(32768, 80, "tcp", "0.0.0.0")),
    ("127.0.0.1::80", PortMapping(32768, 80, "tcp", "127.0.0.1")),
])
def test_parse_port(spec: str, expected: PortMapping) -> None:
    assert parse_port(spec) == expected


def test_docker_picks_host_ports_from_32768() -> None:
    s = docker_host("27", [Container("a", ports=["80"]), Container("b", ports=["80", "443"])])
    assert [(p.host_port, p.container_port) for c in s.containers for p in c.ports] == [
        (32768, 80), (32769, 80), (32770, 443)]


@pytest.mark.parametrize("kwargs, match", [
    (dict(containers=[Container("web", ports=["80:80:80"])]), "port mapping"),
    (dict(containers=[Container("web", ports=["70000:80"])]), "between 1 and 65535"),
    (dict(containers=[Container("web", ports=["80:80/sctp"])]), "tcp or udp"),
    (dict(containers=[Container("web", network="nope")]), "does not have"),
    (dict(containers=[Container("web", ip="172.17.0.9")]), "user-defined networks only"),
    (dict(networks=["n"], containers=[Container("web", network="n", ip="10.0.0.5")]), "not a host address"),
    (dict(networks=["n"], containers=[Container("a", network="n", ip="172.18.0.9"),
                                      Container("b", network="n", ip="172.18.0.9")]), "already in use"),
    (dict(containers=[Container("a", ports=["80:80"]), Container("b", ports=["80:8080"])]), "already"),
    (dict(containers=[Container("a"), Container("a")]), "already used"),
    (dict(containers=[Container("client")]), "already used"),
    (dict(networks=[{"name": "x", "subnet": "nonsense"}]), "IPv4 prefix"),
    (dict(networks=[{"name": "x", "subnet": "172.17.5.0/24"}]), "overlaps 'bridge'"),
    (dict(networks=["x", "x"]), "two networks"),
    (dict(default_bridge=False), "does not have"),
    (dict(version="27", networks=[{"name": "x", "gateway_mode": "routed"}]), "from Docker 28"),
    (dict(version="29", networks=[{"name": "x", "gateway_mode": "bridged"}]), "gateway_mode"),
])
def test_bad_input_gets_a_clear_error(kwargs: dict, match: str) -> None:
    with pytest.raises(ScenarioError, match=match):
        docker_host(**kwargs)


def test_one_port_string_is_one_mapping() -> None:
    s = docker_host("27", [Container("web", ports="8080:80")])  # type: ignore[arg-type]
    assert [str(p) for p in s.node("web").ports] == ["8080:80/tcp"]


def test_same_host_port_on_different_addresses_is_fine() -> None:
    s = docker_host("27", [Container("a", ports=["127.0.0.1:80:80"]), Container("b", ports=["10.0.2.15:80:80"])])
    assert "-A DOCKER -d 10.0.2.15/32 ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT" in s.host.iptables


# ------------------------------------------------------------- catalogue
@pytest.mark.parametrize("name", catalogue.names())
@pytest.mark.parametrize("version", catalogue.VERSIONS)
def test_catalogue_builds_every_scenario(name: str, version: str) -> None:
    kw = {"n": 3} if name == "many-containers" else {}
    s = catalogue.build(name, version=version, **kw)
    assert s.host.iptables.startswith("*") and s.containers
    assert Scenario.from_json(s.to_json()) == s


def test_docker_user_drop_is_the_first_rule_of_docker_user() -> None:
    for version in catalogue.VERSIONS:
        lines = catalogue.docker_user_drop(version).host.iptables.splitlines()
        user = [line for line in lines if line.startswith("-A DOCKER-USER ")]
        assert user[0] == "-A DOCKER-USER -i enp0s8 -p tcp -m tcp --dport 80 -j DROP"
    with pytest.raises(ScenarioError, match="no scenario"):
        catalogue.build("nope")


# ------------------------------------------------- the kernel takes the rules
def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=30)


@pytest.mark.lab
@pytest.mark.parametrize("version", VERSIONS)
def test_kernel_loads_the_rules_and_saves_them_back_identically(version: str) -> None:
    """iptables-restore in a throwaway namespace, then iptables-save: the same text back
    (so the rules are valid and written in iptables' own canonical form)."""
    for tool in ("iptables-restore", "iptables-save", "ipset"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    s = docker_host(version, [Container("web", ports=["80:80", "127.0.0.1:5353:53/udp"]),
                              Container("db", image="redis", network="back"),
                              Container("x", network="int")],
                    networks=["back", {"name": "int", "internal": True, "icc": False}], userland_proxy=False)
    ns = f"nlsc{uuid.uuid4().hex[:6]}"
    assert _run("ip", "netns", "add", ns).returncode == 0
    try:
        for name in s.host.ipsets:
            assert _run("ip", "netns", "exec", ns, "ipset", "create", name, "hash:net").returncode == 0
        r = _run("ip", "netns", "exec", ns, "iptables-restore", stdin=s.host.iptables)
        assert r.returncode == 0, r.stderr
        saved = _run("ip", "netns", "exec", ns, "iptables-save").stdout
    finally:
        _run("ip", "netns", "del", ns)
    assert _blocks(saved) == _blocks(s.host.iptables)
    assert set(_blocks(saved)) == ({"nat", "filter"} if version == "27" else {"raw", "nat", "filter"})


def _blocks(text: str) -> dict[str, list[str]]:
    """iptables-save text per table (tables may come in any order)."""
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("*"):
            current = blocks.setdefault(line[1:], [])
        elif line and not line.startswith("#"):
            current.append(line)
    return blocks


# ---------------------------------------------------------------- properties
def _property_cases():  # noqa: ANN202 - a hypothesis strategy
    from hypothesis import strategies as st

    net = st.sampled_from(["bridge", "a", "b", "i"])
    port = st.tuples(st.integers(1, 3), st.sampled_from(["tcp", "udp"]), st.booleans())
    container = st.tuples(net, st.lists(port, max_size=2))
    return st.tuples(st.sampled_from(VERSIONS), st.lists(container, max_size=12), st.booleans(),
                     st.integers(0, 5))


def test_invariants_hold_for_any_mix_of_containers() -> None:
    from hypothesis import given, settings

    @settings(max_examples=60, deadline=None)
    @given(_property_cases())
    def check(case: tuple) -> None:
        version, specs, proxy, seed = case
        containers, host_port = [], 1000
        for i, (net, ports) in enumerate(specs):
            mapped = []
            for container_port, proto, localhost in ports:
                host_port += 1
                mapped.append(f"{'127.0.0.1:' if localhost else ''}{host_port}:{container_port}/{proto}")
            containers.append(Container(f"c{i}", network=net, ports=mapped))
        s = docker_host(version, containers, userland_proxy=proxy, seed=seed,
                        networks=["a", "b", {"name": "i", "internal": True}])
        assert len(s.containers) == len(specs)
        ips = [c.ip for c in s.containers]
        assert len(ips) == len(set(ips))
        veths = _veths(s)
        assert len(veths) == len(set(veths)) == len(specs)
        assert sorted(s.peer("host", v)[0] for v in veths) == sorted(c.name for c in s.containers)
        internal = s.docker.networks[3]
        assert internal.name == "i" and internal.internal
        published = [p for c in s.containers if c.network != internal.bridge for p in c.ports]
        assert s.host.iptables.count("-j DNAT") == len(published)
        assert len(s.host.services) == (len(published) if proxy else 0)
        for c in s.containers:
            first = c.interface("eth0").addresses[0]
            assert ipaddress.IPv4Interface(first).ip.packed[-1] >= 2
        assert Scenario.from_json(s.to_json()) == s
        assert docker_host(version, containers, userland_proxy=proxy, seed=seed,
                           networks=["a", "b", {"name": "i", "internal": True}]) == s

    check()


@pytest.mark.parametrize("version", ["28.0.0", "28.0.1", "28.2.0", "28", "29"])
def test_docker_28_29_leave_br_netfilter_off_unless_they_need_it(version: str) -> None:
    """dockerd (v28.0.0, docker-v29.0.0: setupIPv4BridgeNetFiltering) sets
    bridge-nf-call-iptables only for icc=false or --userland-proxy=false."""
    key = "net.bridge.bridge-nf-call-iptables"
    assert docker_host(version).host.sysctls[key] == "0"
    assert docker_host(version, userland_proxy=False).host.sysctls[key] == "1"
    assert docker_host(version, icc=False).host.sysctls[key] == "1"
    assert docker_host(version, networks=[{"name": "quiet", "icc": False}]).host.sysctls[key] == "1"
    assert docker_host("27").host.sysctls[key] == "1"


def test_same_bridge_traffic_meets_forward_only_with_br_netfilter() -> None:
    from netlab.sim import SimNet

    two = [Container("web", ports=["80:80"]), Container("db")]
    for version, hooks_expected in (("27", True), ("29", False)):
        j = SimNet(docker_host(version, two)).probe("ping", src="web", dst="db")
        assert j.ok
        forward = [e for e in j.steps if e.kind == "netfilter" and e.hook == "FORWARD"]
        assert bool(forward) is hooks_expected, (version, [e.detail for e in forward])
