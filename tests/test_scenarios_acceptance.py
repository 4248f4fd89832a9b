"""Issue 4's Scenarios promises, on combinations the other tests do not build.

Three containers on two user networks plus docker0, UDP and several ports per
container, ``127.0.0.1`` bindings with the userland proxy off, ICC off and an
``--internal`` network; names, addresses, MACs per version and seed, sysctls,
and the rules loaded into a real kernel namespace and saved back unchanged.
"""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess

import pytest

from netlab.netfilter import parse_iptables
from netlab.scenarios import Container, Scenario, ScenarioError, docker_host, seed_host

VERSIONS = ["27", "28.0.0", "28.0.1", "28.2.0", "28.2.2", "29"]
VETH = re.compile(r"^veth[0-9a-f]{7}$")
BRIDGE = re.compile(r"^br-[0-9a-f]{12}$")


def mixed(version: str, *, proxy: bool = True, icc: bool = True, seed: int = 0) -> Scenario:
    return docker_host(
        version,
        [Container("api", ports=["8443:443", "5353:53/udp"], network="front"),
         Container("db", image="postgres", network="back"),
         Container("cache", image="redis", ports=["127.0.0.1:6380:6379"], network="back"),
         Container("web", ports=["8081:80", "127.0.0.1:9090:9090"]),
         Container("vault", image="redis", network="secret")],
        networks=["front", "back", {"name": "secret", "internal": True, "icc": False}],
        userland_proxy=proxy, icc=icc, seed=seed)


def veths(s: Scenario) -> list[str]:
    return [i.name for i in s.host.interfaces if i.name.startswith("veth")]


@pytest.mark.parametrize("version", VERSIONS)
def test_names_addresses_and_wiring(version: str) -> None:
    s = mixed(version)
    nets = {n.name: n for n in s.docker.networks}
    assert nets["bridge"].bridge == "docker0" and nets["bridge"].subnet == "172.17.0.0/16"
    for name in ("front", "back", "secret"):
        assert BRIDGE.match(nets[name].bridge), nets[name].bridge
    assert len({n.bridge for n in nets.values()}) == 4
    subnets = [ipaddress.IPv4Network(n.subnet) for n in nets.values()]
    assert not any(a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1:])
    host_if = {i.name: i for i in s.host.interfaces}
    for net in nets.values():
        gw = ipaddress.IPv4Network(net.subnet).network_address + 1
        assert net.gateway == str(gw)
        assert host_if[net.bridge].kind == "bridge"
        assert host_if[net.bridge].addresses == [f"{gw}/{ipaddress.IPv4Network(net.subnet).prefixlen}"]
    names = veths(s)
    assert len(names) == 5 and len(set(names)) == 5 and all(VETH.match(v) for v in names)
    # each container: eth0 on its bridge through a veth, addresses .2 upwards per network
    expected_host = {"api": 2, "db": 2, "cache": 3, "web": 2, "vault": 2}
    for c in s.containers:
        eth0 = c.interface("eth0")
        iface = ipaddress.IPv4Interface(eth0.addresses[0])
        net = next(n for n in nets.values() if n.bridge == c.network)
        assert iface.network == ipaddress.IPv4Network(net.subnet)
        assert int(iface.ip) - int(iface.network.network_address) == expected_host[c.name]
        far = s.peer(c.name, "eth0")
        assert far is not None and far[0] == "host" and VETH.match(far[1])
        assert host_if[far[1]].master == c.network
        default = [r for r in c.routes if r.dst == "default"]
        if c.name == "vault":
            assert default == []  # --internal: no way out
        else:
            assert default[0].via == net.gateway and default[0].dev == "eth0"
    assert s.node("api").network == nets["front"].bridge and s.node("web").network == "docker0"


def test_macs_before_28_are_02_42_and_the_address() -> None:
    s = mixed("27")
    for c in s.containers:
        ip = ipaddress.IPv4Interface(c.interface("eth0").addresses[0]).ip
        want = "02:42:" + ":".join(f"{b:02x}" for b in ip.packed)
        assert c.interface("eth0").mac == want
    assert s.node("web").interface("eth0").mac == "02:42:ac:11:00:02"
    assert mixed("27", seed=9).node("db").interface("eth0").mac == s.node("db").interface("eth0").mac


@pytest.mark.parametrize("version", ["28.0.0", "28.2.2", "29"])
def test_macs_from_28_are_random_local_unicast_and_seeded(version: str) -> None:
    a, b, c = mixed(version, seed=1), mixed(version, seed=1), mixed(version, seed=2)
    macs = [n.interface("eth0").mac for n in a.containers]
    assert macs == [n.interface("eth0").mac for n in b.containers]
    assert macs != [n.interface("eth0").mac for n in c.containers]
    for mac in macs:
        first = int(mac.split(":")[0], 16)
        assert re.fullmatch(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", mac)
        assert first & 0x02 and not first & 0x01, mac  # locally administered, unicast
        assert not mac.startswith("02:42:ac:")
    assert len(set(macs)) == len(macs)
    everything = [i.mac for n in a.nodes.values() for i in n.interfaces if i.kind != "loopback"]
    assert len(everything) == len(set(everything))


def test_same_seed_same_host_other_seed_other_names() -> None:
    assert mixed("29", seed=5) == mixed("29", seed=5)
    assert veths(mixed("29", seed=5)) != veths(mixed("29", seed=6))
    assert Scenario.from_json(mixed("28", seed=5).to_json()) == mixed("28", seed=5)


@pytest.mark.parametrize("version", VERSIONS)
def test_sysctls_proxy_and_hairpin(version: str) -> None:
    on, off = mixed(version), mixed(version, proxy=False)
    for s in (on, off):
        assert s.host.sysctls["net.ipv4.ip_forward"] == "1"
        assert s.host.sysctls["net.bridge.bridge-nf-call-iptables"] == "1"
    bridges = [n.bridge for n in off.docker.networks]
    for br in bridges:
        assert off.host.sysctls[f"net.ipv4.conf.{br}.route_localnet"] == "1"
        assert f"net.ipv4.conf.{br}.route_localnet" not in on.host.sysctls
    assert all(i.hairpin for i in off.host.interfaces if i.name.startswith("veth"))
    assert not any(i.hairpin for i in on.host.interfaces if i.name.startswith("veth"))
    proxies = sorted((x.proto, x.bind, x.port, x.target) for x in on.host.services if x.kind == "docker-proxy")
    api, cache, web = (on.node(n).ip for n in ("api", "cache", "web"))
    assert proxies == sorted([("tcp", "0.0.0.0", 8443, f"{api}:443"), ("udp", "0.0.0.0", 5353, f"{api}:53"),
                              ("tcp", "127.0.0.1", 6380, f"{cache}:6379"), ("tcp", "0.0.0.0", 8081, f"{web}:80"),
                              ("tcp", "127.0.0.1", 9090, f"{web}:9090")])
    assert not [x for x in off.host.services if x.kind == "docker-proxy"]
    # every published port has a listener in its container
    assert ("udp", 53) in {(x.proto, x.port) for x in on.node("api").services}
    assert ("tcp", 443) in {(x.proto, x.port) for x in on.node("api").services}
    assert ("tcp", 5432) in {(x.proto, x.port) for x in on.node("db").services}


@pytest.mark.parametrize("version", VERSIONS)
def test_rules_name_the_generated_bridges_and_ports(version: str) -> None:
    s = mixed(version, proxy=False, icc=False)
    rs = parse_iptables(s.host.iptables)
    nets = {n.name: n for n in s.docker.networks}
    front, back, secret = nets["front"].bridge, nets["back"].bridge, nets["secret"].bridge
    api, cache, web = (s.node(n).ip for n in ("api", "cache", "web"))
    dnat = [r.text for r in rs.tables["nat"].chains["DOCKER"].rules if r.target_name == "DNAT"]
    assert any("-p udp -m udp --dport 5353" in t and f"{api}:53" in t for t in dnat)
    assert any("-d 127.0.0.1/32" in t and "--dport 6380" in t and f"{cache}:6379" in t for t in dnat)
    assert any("-d 127.0.0.1/32" in t and "--dport 9090" in t and f"{web}:9090" in t for t in dnat)
    assert len(dnat) == 5
    # hairpin mode: no "! -i <bridge>" on the DNATs, and OUTPUT also catches 127.0.0.1
    assert not any("! -i" in t for t in dnat)
    assert [r.text for r in rs.tables["nat"].chains["OUTPUT"].rules] == \
        ["-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER"]
    post = " ".join(r.text for r in rs.tables["nat"].chains["POSTROUTING"].rules)
    assert f"-s {nets['back'].subnet} ! -o {back} -j MASQUERADE" in post
    assert nets["secret"].subnet not in post  # --internal: never masqueraded
    icc_drops = {r.tokens for r in rs.tables["filter"].rules}
    assert ("-i", secret, "-o", secret, "-j", "DROP") in icc_drops  # internal network without ICC
    assert ("-i", "docker0", "-o", "docker0", "-j", "DROP") in icc_drops  # dockerd --icc=false
    assert ("-i", front, "-o", front, "-j", "DROP") not in icc_drops  # user networks keep their ICC
    assert "--dport 5353" not in " ".join(r.text for r in rs.tables["filter"].rules)
    if version != "27":
        raw = [r.text for r in rs.tables["raw"].chains["PREROUTING"].rules]
        assert any(f"-d 127.0.0.1/32 ! -i lo -p tcp -m tcp --dport {p} -j DROP" in t
                   for t in raw for p in (6380,))
        assert not any(s.node("vault").ip in t for t in raw)  # internal: no raw rule


@pytest.mark.parametrize("version", VERSIONS)
def test_forward_policy_follows_ip_forward_was_on(version: str) -> None:
    assert ":FORWARD DROP" in mixed(version).host.iptables
    on = docker_host(version, [Container("w")], ip_forward_was_on=True)
    assert ":FORWARD ACCEPT" in on.host.iptables


@pytest.mark.parametrize("kwargs,words", [
    ({"containers": [Container("a", network="nowhere")]}, "nowhere"),
    ({"containers": [Container("a", ports=["80:80"]), Container("b", ports=["80:80"])]}, "already"),
    ({"containers": [Container("a", ports=["eighty"])]}, "port mapping"),
    ({"containers": [Container("a", ports=["80:80/sctp"])]}, "tcp or udp"),
    ({"containers": [Container("a"), Container("a")]}, "already used"),
    ({"version": "17.06"}, "18.03.1"),
    ({"version": "thirty"}, "not a Docker version"),
    ({"networks": [{"name": "x", "subnet": "172.17.0.0/24"}]}, "overlaps"),
    ({"containers": [Container("a", ip="172.17.0.9")]}, "--ip"),
])
def test_bad_requests_get_a_scenario_error(kwargs: dict, words: str) -> None:
    kw = {"version": "29", **kwargs}
    with pytest.raises(ScenarioError, match=words):
        docker_host(**kw)


def test_the_seed_host_against_the_issue() -> None:
    s = seed_host()
    host = s.host
    assert host.interface("enp0s3").addresses == ["10.0.2.15/24"]
    assert host.interface("enp0s8").addresses == ["192.168.56.38/24"]
    assert host.interface("docker0").addresses == ["172.17.0.1/16"]
    default = [r for r in host.routes if r.dst == "default"]
    assert default and default[0].via == "10.0.2.2" and default[0].dev == "enp0s3"
    web = s.containers[0]
    assert web.interface("eth0").addresses == ["172.17.0.2/16"]
    assert (80, 80) in [(p.host_port, p.container_port) for p in web.ports]
    assert ("tcp", 80) in {(x.proto, x.port) for x in web.services}
    far = s.peer(web.name, "eth0")
    assert far is not None and far[0] == "host" and host.interface(far[1]).master == "docker0"
    assert s.node("client").ip == "192.168.56.1" and s.node("gateway").ip == "10.0.2.2"
    assert ipaddress.IPv4Address(s.node("internet").ip) in ipaddress.IPv4Network("203.0.113.0/24")


# ------------------------------------------------------------ the real kernel
def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), input=stdin, capture_output=True, text=True, timeout=30)


def _blocks(text: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("*"):
            current = blocks.setdefault(line[1:], [])
        elif line and not line.startswith("#"):
            current.append(line)
    return blocks


@pytest.mark.lab
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("proxy,icc", [(True, False), (False, True)])
def test_rules_load_into_a_kernel_namespace_and_save_back_equal(version: str, proxy: bool, icc: bool,
                                                                 unique_prefix: str) -> None:
    for tool in ("iptables-restore", "iptables-save", "ipset"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    s = mixed(version, proxy=proxy, icc=icc)
    ns = f"{unique_prefix}sc"
    assert _run("ip", "netns", "add", ns).returncode == 0
    try:
        for name in s.host.ipsets:
            assert _run("ip", "netns", "exec", ns, "ipset", "create", name, "hash:net").returncode == 0
            for member in s.host.ipsets[name]:
                assert _run("ip", "netns", "exec", ns, "ipset", "add", name, member).returncode == 0
        res = _run("ip", "netns", "exec", ns, "iptables-restore", stdin=s.host.iptables)
        assert res.returncode == 0, res.stderr
        saved = _run("ip", "netns", "exec", ns, "iptables-save").stdout
    finally:
        _run("ip", "netns", "del", ns)
    assert _blocks(saved) == _blocks(s.host.iptables)


# ------------------------------------------------- several ports on one container
@pytest.mark.parametrize("version", VERSIONS)
def test_bindings_programmed_in_dockers_order_without_duplicates(version: str) -> None:
    s = docker_host(version, [Container("multi", ports=["9000:9000/udp", "8443:443", "127.0.0.1:8080:80",
                                                      "8081:80", "22"])])
    multi = s.node("multi")
    assert [str(p) for p in multi.ports] == ["9000:9000/udp", "8443:443/tcp", "127.0.0.1:8080:80/tcp",
                                             "8081:80/tcp", "32768:22/tcp"]
    rs = parse_iptables(s.host.iptables)
    dnat = [r.tokens[r.tokens.index("--dport") + 1] for r in rs.tables["nat"].chains["DOCKER"].rules
            if r.target_name == "DNAT"]
    # moby sorts bindings: exact host ports by container port (80, 80, 443, 9000), the automatic one last
    assert dnat == ["8080", "8081", "8443", "9000", "32768"]
    accepts = [r.text for r in rs.tables["filter"].chains["DOCKER"].rules if r.target_name == "ACCEPT"]
    assert len(accepts) == len(set(accepts)) == 4  # port 80 opened once (iptables -C before -I)
    if version != "27":  # inserted at the top one by one: the last binding comes first
        assert [a.split("--dport ")[1].split()[0] for a in accepts] == ["22", "9000", "443", "80"]


def test_image_references_and_port_spellings() -> None:
    s = docker_host("29", [Container("a", image="docker.io/library/nginx:1.27-alpine", ports=["8080:80/TCP"]),
                           Container("b", image="registry.local:5000/redis:7@sha256:0123", ports=["6379"])])
    assert [(x.proto, x.port) for x in s.node("a").services] == [("tcp", 80)]
    assert [(x.proto, x.port) for x in s.node("b").services] == [("tcp", 6379)]
    assert [str(p) for p in s.node("a").ports] == ["8080:80/tcp"]
    assert [str(p) for p in s.node("b").ports] == ["32768:6379/tcp"]


@pytest.mark.lab
@pytest.mark.parametrize("version", ["27", "28", "29"])
def test_every_catalogue_scenario_loads_into_a_kernel_namespace(version: str, unique_prefix: str) -> None:
    """Each ready-made scenario's rules: iptables-restore in one throwaway namespace per
    scenario, iptables-save back, the same rules per table."""
    from netlab.scenarios import catalogue

    for tool in ("iptables-restore", "iptables-save", "ipset"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool}")
    for k, name in enumerate(catalogue.names()):
        s = catalogue.build(name, version=version)
        ns = f"{unique_prefix}c{k}"
        assert _run("ip", "netns", "add", ns).returncode == 0
        try:
            for setname in s.host.ipsets:
                assert _run("ip", "netns", "exec", ns, "ipset", "create", setname, "hash:net").returncode == 0
            res = _run("ip", "netns", "exec", ns, "iptables-restore", stdin=s.host.iptables)
            assert res.returncode == 0, (name, res.stderr)
            saved = _run("ip", "netns", "exec", ns, "iptables-save").stdout
        finally:
            _run("ip", "netns", "del", ns)
        assert _blocks(saved) == _blocks(s.host.iptables), name


def test_containers_by_name_or_dict() -> None:
    s = docker_host("28", ["web", {"name": "db", "image": "redis", "ports": ["6379:6379"], "network": "back"}],
                    networks=["back"])
    assert s.node("web").ip == "172.17.0.2" and s.node("web").image == "nginx"
    assert s.node("db").ip == "172.18.0.2" and [str(p) for p in s.node("db").ports] == ["6379:6379/tcp"]
    with pytest.raises(ScenarioError, match="fields are"):
        docker_host("28", [{"name": "x", "colour": "red"}])
    with pytest.raises(ScenarioError, match="not a Container"):
        docker_host("28", [5])
