"""``docker_host(...)``: a Docker host as a given Docker version builds it.

What ``dockerd`` and ``docker run`` do to a host, as data: the ``docker0`` bridge
(172.17.0.1/16) and one ``br-<12 hex>`` bridge per user-defined network, for each
container a network namespace with ``eth0`` joined by a veth pair to a
``veth<7 hex>`` port on the bridge, addresses from ``.2`` up, MACs the way that
version makes them, the sysctls Docker turns on, a ``docker-proxy`` per published
port (or hairpin mode with ``--userland-proxy=false``) and the exact iptables rules
(:mod:`netlab.scenarios.docker_rules`).  Lessons 2–6 and the differential suite
build their hosts here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from netlab.scenarios import embedded_dns
from netlab.scenarios.docker_nft import docker_nft_rules
from netlab.scenarios.docker_rules import Endpoint, docker_rules
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.profiles import VersionProfile, resolve_version
from netlab.scenarios.seeded import Draws, ip_mac
from netlab.scenarios.topology import (
    BridgeNetwork,
    DockerProfile,
    Interface,
    Node,
    PortMapping,
    RouteSpec,
    Scenario,
    Service,
)
from netlab.scenarios.world import add_world, connected, host_node, loopback

DEFAULT_BRIDGE = BridgeNetwork("bridge", "docker0", "172.17.0.0/16", "172.17.0.1")
# Docker's default address pool: 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/20 …
_POOL = [f"172.{n}.0.0/16" for n in range(17, 32)] + [f"192.168.{n}.0/20" for n in range(0, 256, 16)]

# What an image listens on when nobody says otherwise (its EXPOSE).
IMAGE_SERVICES: dict[str, list[tuple[str, int, str]]] = {
    "nginx": [("tcp", 80, "http")],
    "httpd": [("tcp", 80, "http")],
    "caddy": [("tcp", 80, "http")],
    "redis": [("tcp", 6379, "tcp")],
    "postgres": [("tcp", 5432, "tcp")],
    "mysql": [("tcp", 3306, "tcp")],
}

_PORT = re.compile(
    r"^(?:(?P<ip>\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?P<host>\d*):)?(?P<ctr>\d+)(?:/(?P<proto>[a-z]+))?$"
)


@dataclass
class Container:
    """What ``docker run`` was told: ``Container("web", ports=["80:80"])`` is
    ``docker run --name web -p 80:80 nginx``.

    ``ports`` takes ``-p`` strings (``"80:80"``, ``"127.0.0.1:8080:80/tcp"``,
    ``"53:53/udp"``, ``"80"`` for a host port Docker picks) or :class:`PortMapping`.
    ``network`` is a Docker network name (``"bridge"`` is docker0) or a bridge name.
    ``services`` replaces what the image listens on (nginx: HTTP on 80); published
    ports always get a listener (HTTP for tcp, UDP echo for udp).
    """

    name: str
    image: str = "nginx"
    ports: Sequence[str | PortMapping] = field(default_factory=list)
    network: str = "bridge"
    services: list[Service] | None = None
    ip: str | None = None  # --ip; default: the next free address from .2
    mac: str | None = None  # --mac-address; default: as the Docker version makes it
    aliases: Sequence[str] = ()  # --network-alias: more names the embedded DNS answers


def parse_port(spec: str | PortMapping, next_host_port: int = 32768) -> PortMapping:
    """A ``-p`` argument as a :class:`PortMapping` (``"8080:80"`` → host 8080, container 80)."""
    if isinstance(spec, PortMapping):
        pm = PortMapping(spec.host_port, spec.container_port, spec.proto.lower(), spec.host_ip or "0.0.0.0")
    else:
        m = _PORT.match(str(spec).strip().lower())
        if not m:
            raise ScenarioError(
                f"cannot read port mapping {spec!r}; write it as docker run -p does: '80:80', "
                "'8080:80/tcp', '127.0.0.1:8080:80' or '53:53/udp' (ranges are not supported)"
            )
        ctr = int(m["ctr"])
        host = int(m["host"]) if m["host"] else next_host_port
        pm = PortMapping(host, ctr, m["proto"] or "tcp", m["ip"] or "0.0.0.0")
    if pm.proto not in ("tcp", "udp"):
        raise ScenarioError(f"port mapping {spec!r}: protocol must be tcp or udp, not {pm.proto!r}")
    for port in (pm.host_port, pm.container_port):
        if not 1 <= port <= 65535:
            raise ScenarioError(f"port mapping {spec!r}: port {port} is not between 1 and 65535")
    try:
        ipaddress.IPv4Address(pm.host_ip)
    except ValueError:
        raise ScenarioError(f"port mapping {spec!r}: {pm.host_ip!r} is not an IPv4 address") from None
    return pm


_PROTO_RANK = {"tcp": 0, "udp": 1, "sctp": 2}


def _binding_order(pm: PortMapping, auto: bool) -> tuple[int, int, int, int, int]:
    """moby's ``cmpPortBinding``: exact host port before a range (an automatic host
    port is a range), then container port, protocol (tcp < udp), host port, host IP."""
    return (int(auto), pm.container_port, _PROTO_RANK.get(pm.proto, 3), 0 if auto else pm.host_port,
            int(ipaddress.IPv4Address(pm.host_ip or "0.0.0.0")))


def _auto_host_port(spec: str | PortMapping) -> bool:
    """``-p 80`` or ``-p 127.0.0.1::80``: Docker picks the host port (from 32768 up)."""
    if isinstance(spec, PortMapping):
        return False
    m = _PORT.match(str(spec).strip().lower())
    return bool(m) and not (m["host"] if m else "")


# ------------------------------------------------------------ networks
def _networks(
    default_bridge: bool, icc: bool, networks: Iterable[str | dict[str, Any] | BridgeNetwork] | None,
    draws: Draws,
) -> list[BridgeNetwork]:
    """docker0 (unless ``default_bridge=False``), then the user networks in creation order."""
    wanted: list[BridgeNetwork | dict[str, Any]] = []
    for item in networks or []:
        if isinstance(item, str):
            wanted.append({"name": item})
        elif isinstance(item, BridgeNetwork | dict):
            wanted.append(item)
        else:
            raise ScenarioError(
                f"networks: {item!r} is neither a name, a dict nor a BridgeNetwork"
            )
    default = BridgeNetwork(**{**vars(DEFAULT_BRIDGE), "icc": icc})
    result: list[BridgeNetwork] = [default] if default_bridge else []
    for item in wanted:
        d = dict(vars(item)) if isinstance(item, BridgeNetwork) else dict(item)
        if d.get("name") in ("bridge", "docker0") or d.get("bridge") == "docker0":
            if not default_bridge:
                raise ScenarioError("default_bridge=False (dockerd --bridge=none) leaves no docker0 to configure")
            result[0] = BridgeNetwork(**{**vars(default), **d, "name": "bridge", "bridge": "docker0"})
            continue
        if "name" not in d:
            raise ScenarioError(f"network {d!r} has no name")
        d.setdefault("bridge", "")
        d.setdefault("subnet", "")
        d.setdefault("gateway", "")
        try:
            result.append(BridgeNetwork(**d))
        except TypeError as exc:
            raise ScenarioError(f"network {d['name']!r}: {exc}") from None
    used = {_subnet(n) for n in result if n.subnet}
    names: set[str] = set()
    for net in result:
        if net.name in names:
            raise ScenarioError(f"two networks are named {net.name!r}")
        names.add(net.name)
        if not net.bridge:
            net.bridge = "br-" + draws.network_id()[:12]
        if not net.subnet:
            free = next((p for p in _POOL if not any(ipaddress.IPv4Network(p).overlaps(u) for u in used)), None)
            if free is None:
                raise ScenarioError("Docker's default address pools are used up; give networks a subnet")
            net.subnet = free
            used.add(ipaddress.IPv4Network(free))
        subnet = _subnet(net)
        net.subnet = str(subnet)
        clash = next((o for o in result if o is not net and o.subnet and o.name in names
                      and _subnet(o).overlaps(subnet)), None)
        if clash is not None:
            raise ScenarioError(
                f"network {net.name!r}: {subnet} overlaps {clash.name!r} ({clash.subnet}); Docker "
                "refuses overlapping subnets — give it another one"
            )
        if not net.gateway:
            net.gateway = str(subnet.network_address + 1)
        if ipaddress.IPv4Address(net.gateway) not in subnet:
            raise ScenarioError(f"network {net.name!r}: gateway {net.gateway} is outside {net.subnet}")
        if len(net.bridge) > 15 or not re.fullmatch(r"[A-Za-z0-9_.-]+", net.bridge):
            raise ScenarioError(f"network {net.name!r}: {net.bridge!r} is not a valid interface name")
    return result


def _subnet(net: BridgeNetwork) -> ipaddress.IPv4Network:
    try:
        return ipaddress.IPv4Network(net.subnet, strict=False)
    except ValueError:
        raise ScenarioError(
            f"network {net.name!r}: {net.subnet!r} is not an IPv4 prefix such as '172.18.0.0/16'"
        ) from None


def _find_network(nets: list[BridgeNetwork], name: str, container: str) -> BridgeNetwork:
    for net in nets:
        if name in (net.name, net.bridge):
            return net
    raise ScenarioError(
        f"container {container!r} is on network {name!r}, which this host does not have; "
        f"networks are {', '.join(n.name for n in nets) or 'none'} — add it with networks=[...]"
    )


class _Ipam:
    """Docker's IPAM for one subnet: the gateway first, then .2, .3, … in order."""

    def __init__(self, net: BridgeNetwork) -> None:
        self.subnet = ipaddress.IPv4Network(net.subnet)
        self.taken = {ipaddress.IPv4Address(net.gateway)}
        self.next = self.subnet.network_address + 1

    def take(self, ip: str | None, container: str) -> str:
        if ip is not None:
            try:
                addr = ipaddress.IPv4Address(ip)
            except ValueError:
                raise ScenarioError(f"container {container!r}: {ip!r} is not an IPv4 address") from None
            if addr not in self.subnet or addr in (self.subnet.network_address,
                                                   self.subnet.broadcast_address):
                raise ScenarioError(f"container {container!r}: {ip} is not a host address of {self.subnet}")
            if addr in self.taken:
                raise ScenarioError(f"container {container!r}: {ip} is already in use on {self.subnet}")
            self.taken.add(addr)
            return ip
        while self.next in self.taken:
            self.next += 1
        if self.next >= self.subnet.broadcast_address:
            raise ScenarioError(f"no free address left in {self.subnet}")
        self.taken.add(self.next)
        return str(self.next)


def _claim(published: dict[tuple[str, int], dict[str, str]], pm: PortMapping, container: str) -> None:
    """Refuse a host port two containers publish, as Docker does ("port is already allocated").

    ``published`` maps (protocol, host port) to {host address: container}."""
    taken = published.setdefault((pm.proto, pm.host_port), {})
    for ip, owner in taken.items():
        if "0.0.0.0" in (ip, pm.host_ip) or ip == pm.host_ip:
            raise ScenarioError(
                f"container {container!r}: {pm.host_ip}:{pm.host_port}/{pm.proto} is already "
                f"published by {owner!r} (Docker: port is already allocated); pick another host port"
            )
    taken[pm.host_ip] = container


def _image_name(image: str) -> str:
    """``docker.io/library/nginx:1.27@sha256:…`` -> ``nginx`` (what IMAGE_SERVICES is keyed by)."""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()


def _services(c: Container, ports: list[PortMapping]) -> list[Service]:
    if c.services is not None:
        services = list(c.services)
    else:
        services = [Service(p, n, k) for p, n, k in IMAGE_SERVICES.get(_image_name(c.image), [])]
    have = {(s.proto, s.port) for s in services}
    for pm in ports:
        if (pm.proto, pm.container_port) not in have:
            kind = "http" if pm.proto == "tcp" else "udp-echo"
            services.append(Service(pm.proto, pm.container_port, kind))
            have.add((pm.proto, pm.container_port))
    return services


def _aliases(c: Container, net: BridgeNetwork) -> list[str]:
    """``--network-alias`` names, checked (Docker refuses them on the default bridge)."""
    names = [c.aliases] if isinstance(c.aliases, str) else list(c.aliases)
    if names and net.bridge == "docker0":
        raise ScenarioError(f"container {c.name!r}: network-scoped aliases are only supported for "
                            "user-defined networks (Docker says so too); put it on a network from networks=[...]")
    for a in names:
        if not isinstance(a, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", a):
            raise ScenarioError(f"container {c.name!r}: alias {a!r}: use letters, digits, '_', '.', '-'")
    return names


def _as_container(c: object) -> Container:
    """A Container, or a name (``"web"``) or dict (``{"name": "web", "ports": ["80:80"]}``) for one."""
    if isinstance(c, Container):
        return c
    if isinstance(c, str):
        return Container(c)
    if isinstance(c, dict):
        try:
            return Container(**c)
        except TypeError as exc:
            raise ScenarioError(f"containers: {c!r}: {exc}; the fields are name, image, ports, network, "
                                "services, ip, mac, aliases") from None
    raise ScenarioError(f"containers: {c!r} is not a Container(...), a name or a dict")


# ---------------------------------------------------------------- builder
def docker_host(
    version: str | VersionProfile = "27",
    containers: Sequence[Container | str | dict[str, Any]] | None = None,
    userland_proxy: bool = True,
    icc: bool = True,
    networks: Iterable[str | dict[str, Any] | BridgeNetwork] | None = None,
    ip_forward_was_on: bool = False,
    seed: int = 0,
    *,
    ip_forward: bool = True,
    default_bridge: bool = True,
    firewall_backend: str = "iptables",
    name: str | None = None,
    description: str = "",
) -> Scenario:
    """Build the host a ``version`` Docker daemon leaves after starting these
    ``containers`` (in order) on these ``networks`` (created in order, after docker0).

    - ``containers=None`` runs the article's one container: ``web`` (nginx, ``-p 80:80``).
    - ``networks``: names (``"mynet"`` → ``br-<12 hex>`` on the next free 172.x/16), dicts
      or :class:`BridgeNetwork` (``bridge="bridge1", subnet="192.0.2.0/24", internal=True,
      icc=False, gateway_mode="routed"``); an entry named ``"bridge"`` reconfigures docker0.
    - ``icc``: dockerd ``--icc`` (docker0 only; user networks have their own ``icc``).
    - ``userland_proxy=False``: hairpin mode — no docker-proxy, hairpin on the bridge
      ports, ``route_localnet`` on the bridges and the rules that version writes for it.
    - ``ip_forward_was_on``: True when forwarding was already on before dockerd started,
      so dockerd left the FORWARD policy ACCEPT (otherwise it sets DROP).
    - ``ip_forward=False``: somebody switched forwarding off afterwards (a lesson's fault).
    - ``default_bridge=False``: dockerd ``--bridge=none`` (no docker0).
    - ``firewall_backend="nftables"``: dockerd ``--firewall-backend=nftables`` (Docker 29+):
      the host gets ``table ip docker-bridges`` in ``host.nftables``
      (:mod:`netlab.scenarios.docker_nft`) and no iptables rules.
    """
    profile = resolve_version(version)
    if firewall_backend not in ("iptables", "nftables"):
        raise ScenarioError(f"firewall_backend {firewall_backend!r}: use iptables or nftables")
    if firewall_backend == "nftables" and int(profile.name.split(".")[0]) < 29:
        raise ScenarioError(f"Docker {version} has no nftables backend: --firewall-backend=nftables "
                            "arrived in Docker 29.0.0; use version='29'")
    if containers is None:
        containers = [Container("web", ports=["80:80"])]
    draws = Draws(seed, "docker")
    dns_draws = Draws(seed, "embedded-dns")  # its own stream: the other draws stay as they were
    host_draws = Draws(seed, "world")
    nets = _networks(default_bridge, icc, networks, draws)
    scenario = Scenario(
        name=name or f"docker-{profile.name}",
        description=description or (
            f"Docker {profile.releases} host, {len(containers)} container(s), "
            f"userland-proxy {'on' if userland_proxy else 'off'}"
        ),
        seed=seed,
        docker=DockerProfile(
            version=profile.name,
            userland_proxy=userland_proxy,
            icc=icc,
            ip_forward_was_on=ip_forward_was_on,
            networks=nets,
            extra={"requested": str(version), "releases": profile.releases, "ip_forward": ip_forward,
                   "firewall_backend": firewall_backend},
        ),
    )
    host = scenario.add(host_node(host_draws))
    for net in nets:
        host.interfaces.append(Interface(
            net.bridge, kind="bridge",
            mac=draws.docker_mac() if profile.ip_mac else draws.random_mac(),
            addresses=[f"{net.gateway}/{ipaddress.IPv4Network(net.subnet).prefixlen}"],
        ))
        host.routes.append(connected(net.bridge, f"{net.gateway}/{ipaddress.IPv4Network(net.subnet).prefixlen}"))

    ipams = {net.bridge: _Ipam(net) for net in nets}
    endpoints: list[Endpoint] = []
    next_port = 32768
    published: dict[tuple[str, int], dict[str, str]] = {}
    names: set[str] = {"host", "client", "gateway", "internet"}
    for c in containers:
        c = _as_container(c)
        if c.name in names:
            raise ScenarioError(f"container name {c.name!r} is already used; pick another")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", c.name):
            raise ScenarioError(f"container name {c.name!r}: use letters, digits, '_', '.', '-'")
        names.add(c.name)
        net = _find_network(nets, c.network, c.name)
        specs = list([c.ports] if isinstance(c.ports, str | PortMapping) else c.ports)
        parsed = [(parse_port(spec), _auto_host_port(spec))
                  for spec in specs]
        # dockerd sorts a container's bindings (sortAndNormPBs) before it allocates
        # host ports and programs rules: exact host ports first, then by container
        # port, protocol, host port and host address
        bound: dict[int, PortMapping] = {}
        for k in sorted(range(len(parsed)), key=lambda k: _binding_order(*parsed[k])):
            pm, auto = parsed[k]
            if auto:
                pm = PortMapping(next_port, pm.container_port, pm.proto, pm.host_ip)
                next_port += 1
            _claim(published, pm, c.name)
            bound[k] = pm
        ports = [bound[k] for k in range(len(parsed))]  # as given, for docker port / the data
        rule_order = [bound[k] for k in sorted(bound, key=lambda k: _binding_order(*parsed[k]))]
        if c.ip is not None and net.bridge == "docker0":
            raise ScenarioError(
                f"container {c.name!r}: Docker accepts --ip on user-defined networks only, not on "
                "the default bridge; put it on a network from networks=[...]"
            )
        ip = ipams[net.bridge].take(c.ip, c.name)
        prefix = ipaddress.IPv4Network(net.subnet).prefixlen
        veth = draws.veth_name()
        mac = c.mac or (ip_mac(ip) if profile.ip_mac else draws.random_mac())
        host.interfaces.append(Interface(veth, mac=draws.random_mac(), master=net.bridge,
                                         hairpin=not userland_proxy))
        routes = [connected("eth0", f"{ip}/{prefix}")]
        if not net.internal:
            routes.insert(0, RouteSpec("default", "eth0", via=net.gateway))
        node = scenario.add(Node(
            name=c.name,
            role="container",
            interfaces=[loopback(), Interface("eth0", mac=mac, addresses=[f"{ip}/{prefix}"])],
            routes=routes,
            services=_services(c, ports),
            image=c.image,
            network=net.bridge,
            ports=ports,
            label=f"{c.name} ({c.image})",
            aliases=_aliases(c, net),
        ))
        if net.bridge != "docker0":  # user-defined networks only: Docker's embedded DNS
            udp_port, tcp_port = dns_draws.ephemeral_port(), dns_draws.ephemeral_port()
            node.services += embedded_dns.resolver_services(udp_port, tcp_port)
            if firewall_backend == "nftables":
                node.nftables = embedded_dns.nftables_rules(udp_port, tcp_port)
            else:
                node.iptables = embedded_dns.iptables_rules(udp_port, tcp_port)
        scenario.wire(("host", veth), (c.name, "eth0"))
        endpoints.append(Endpoint(net.bridge, ip, rule_order))
        if userland_proxy and not net.internal and net.gateway_mode != "routed":
            for pm in ports:
                host.services.append(Service(pm.proto, pm.host_port, "docker-proxy", bind=pm.host_ip,
                                             target=f"{ip}:{pm.container_port}"))

    if firewall_backend == "nftables":
        # --firewall-backend=nftables: table ip docker-bridges, no iptables rule at all
        host.nftables = docker_nft_rules(nets, endpoints, userland_proxy=userland_proxy)
        host.iptables = ""
    else:
        rules = docker_rules(profile, nets, endpoints, userland_proxy=userland_proxy,
                             ip_forward_was_on=ip_forward_was_on)
        host.iptables = rules.to_iptables_save()
        host.ipsets = rules.ipsets
    host.sysctls = host_sysctls(nets, ip_forward=ip_forward, userland_proxy=userland_proxy,
                                family=profile.family)
    host.routes = sort_routes(host.routes)
    add_world(scenario, host_draws)
    return scenario


def host_sysctls(nets: Iterable[BridgeNetwork], *, ip_forward: bool, userland_proxy: bool,
                 family: int = 27) -> dict[str, str]:
    """The sysctls a Docker host runs with: forwarding on, ``bridge-nf-call-iptables``
    as that Docker leaves it (:func:`br_netfilter_on`) and, in hairpin mode,
    ``route_localnet`` on each bridge (so 127.0.0.1:port DNAT to a container is
    routable; the kernel ORs it with ``all``)."""
    nets = list(nets)
    br_nf = "1" if br_netfilter_on(nets, userland_proxy=userland_proxy, family=family) else "0"
    sysctls = {
        "net.ipv4.ip_forward": "1" if ip_forward else "0",
        "net.bridge.bridge-nf-call-iptables": br_nf,
        "net.bridge.bridge-nf-call-ip6tables": br_nf,
        "net.ipv4.conf.all.route_localnet": "0",
    }
    if not userland_proxy:
        for net in nets:
            sysctls[f"net.ipv4.conf.{net.bridge}.route_localnet"] = "1"
    return sysctls


def br_netfilter_on(nets: Iterable[BridgeNetwork], *, userland_proxy: bool, family: int) -> bool:
    """Do bridged IPv4 frames meet iptables on this host (``bridge-nf-call-iptables=1``)?

    From libnetwork's bridge driver (lesson 8): v17.06 to v27.2.x ran ``modprobe -va
    bridge br_netfilter`` in the driver's ``configure`` whenever iptables (27.x: or
    ip6tables) was enabled, so the module's default, 1, applied on every host; v27.3.0
    (commit 5c499fc, "Only enable bridge netfiltering when needed") loads it only for an
    ``icc=false`` network (``setupBridgeNetFiltering``); v27.4.0 (commit 0f8fc31), v28.x
    and docker-v29.0.0 also with ``--userland-proxy=false`` (``enableBrNfCallIptables :=
    !config.EnableICC || !d.config.EnableUserlandProxy``).  The pre-28 profile models the
    article's host (18.09: 1); the 28/29 profiles leave it 0 with the defaults (on a real
    host the key is absent until something loads the module).
    """
    if family < 28:
        return True
    return not userland_proxy or any(not n.icc for n in nets)


def sort_routes(routes: list[RouteSpec]) -> list[RouteSpec]:
    """Routes in the order ``ip route`` lists the main table: default first, then by prefix."""
    def key(r: RouteSpec) -> tuple[int, int, int]:
        if r.dst == "default":
            return (0, 0, 0)
        n = ipaddress.IPv4Network(r.dst, strict=False)
        return (1, int(n.network_address), n.prefixlen)

    return sorted(routes, key=key)
