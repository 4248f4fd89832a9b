"""``seed_host()``: the article's Docker host, read from what the article printed.

The 2018 article shows four command outputs from one VirtualBox VM running one
nginx container published with ``-p 80:80``: ``ip addr show`` (docker0 and the
veth, the rest elided with ``...``), ``ip route``, ``brctl show`` and
``iptables-save``.  Those outputs ship with netlab (``data/seed-2018/``) and are
read through the layer-2 parsers, so lesson 1 can show that the simulated host
*is* the pasted one.  What the article does not print is filled in the way Docker
18.x makes it: the container ``web`` (172.17.0.2, MAC 02:42:ac:11:00:02, routes via
172.17.0.1, nginx on port 80), the docker-proxy for port 80, the VM's NIC MACs and
the network outside the VM (client, gateway, internet).
"""

from __future__ import annotations

import ipaddress
import re
from importlib import resources
from typing import TYPE_CHECKING

from netlab.parse import parse_host
from netlab.scenarios.docker import host_sysctls, sort_routes
from netlab.scenarios.errors import ScenarioError
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
from netlab.scenarios.world import HOST_LAN, HOST_WAN, add_world, connected, loopback

if TYPE_CHECKING:  # pragma: no cover
    from netlab.model import HostState

SEED_FILES = ("ip-addr-show.txt", "ip-route.txt", "brctl-show.txt", "iptables-save.txt")
_DNAT = re.compile(
    r"^-A DOCKER (?:-d (?P<hip>[\d.]+)/32 )?(?:! -i (?P<br>\S+) )?-p (?P<proto>tcp|udp) "
    r"-m (?:tcp|udp) --dport (?P<hport>\d+) -j DNAT --to-destination (?P<ip>[\d.]+):(?P<port>\d+)$"
)


def seed_texts() -> dict[str, str]:
    """The article's four outputs, exactly as printed (``...`` lines, no-break spaces)."""
    base = resources.files("netlab.scenarios").joinpath("data", "seed-2018")
    return {name: base.joinpath(name).read_text(encoding="utf-8") for name in SEED_FILES}


def seed_state() -> HostState:
    """The article's host as the parsers read it (one :class:`HostState`)."""
    texts = seed_texts()
    return parse_host(*(texts[name] for name in SEED_FILES))


def _route_spec(r: object) -> RouteSpec:
    return RouteSpec(
        dst=r.dst,  # type: ignore[attr-defined]
        dev=r.dev,  # type: ignore[attr-defined]
        via=r.gateway,  # type: ignore[attr-defined]
        src=r.src,  # type: ignore[attr-defined]
        metric=r.metric,  # type: ignore[attr-defined]
        scope=r.scope,  # type: ignore[attr-defined]
        proto=r.protocol,  # type: ignore[attr-defined]
    )


def seed_host(seed: int = 0) -> Scenario:
    """The article's host: enp0s3 10.0.2.15/24 (gateway 10.0.2.2), enp0s8
    192.168.56.38/24, docker0 172.17.0.1/16 and one container ``web`` (172.17.0.2)
    serving HTTP on port 80, published as port 80 on the host (Docker 18.x rules)."""
    state = seed_state()
    firewall = state.firewall.get("", "")
    if not firewall.strip():
        raise ScenarioError("the article's iptables-save was not read (no firewall in the parsed state)")

    routes = [_route_spec(r) for r in state.route_list
              if r.family == 4 and r.netns == "" and r.table == "main" and r.type == "unicast"]
    # Interface addresses: what `ip addr` printed, plus the NICs it elided, whose
    # addresses the connected routes name (`10.0.2.0/24 dev enp0s3 ... src 10.0.2.15`).
    addresses: dict[str, list[str]] = {}
    for a in state.addrs:
        if a.family == 4 and a.netns == "":
            addresses.setdefault(a.ifname, []).append(a.cidr)
    for r in routes:
        if r.proto == "kernel" and r.src and r.dst != "default":
            cidr = f"{r.src}/{ipaddress.IPv4Network(r.dst).prefixlen}"
            if cidr not in addresses.setdefault(r.dev, []):
                addresses[r.dev].append(cidr)

    bridges = [link for link in state.links if link.kind == "bridge" and link.netns == ""]
    docker0 = next((b for b in bridges if b.name == "docker0"), None)
    if docker0 is None or not addresses.get("docker0"):
        raise ScenarioError("the article's outputs did not yield docker0 and its address")
    ports_of = {p.port: p.bridge for p in state.ports if p.netns == ""}
    veths = [link for link in state.links
             if link.netns == "" and (link.master == "docker0" or ports_of.get(link.name) == "docker0")]
    if len(veths) != 1:
        raise ScenarioError(f"expected one veth on docker0 in the article, found {[v.name for v in veths]}")
    veth = veths[0]

    # The container: its address and port from the DNAT rule the article printed.
    dnat = [m for m in (_DNAT.match(line.strip()) for line in firewall.splitlines()) if m]
    if not dnat:
        raise ScenarioError("no DNAT rule in the article's iptables-save to find the container from")
    web_ip = dnat[0]["ip"]
    publish = [PortMapping(int(m["hport"]), int(m["port"]), m["proto"], m["hip"] or "0.0.0.0")
               for m in dnat if m["ip"] == web_ip]
    gateway_cidr = addresses["docker0"][0]
    net = ipaddress.IPv4Interface(gateway_cidr).network
    web_cidr = f"{web_ip}/{net.prefixlen}"

    draws = Draws(seed, "world")
    wan_mac, lan_mac = draws.oui_mac("08:00:27"), draws.oui_mac("08:00:27")
    host = Node(
        name="host",
        role="host",
        interfaces=[
            loopback(),
            Interface(HOST_WAN[0], mac=wan_mac, addresses=addresses.get(HOST_WAN[0], [])),
            Interface(HOST_LAN[0], mac=lan_mac, addresses=addresses.get(HOST_LAN[0], [])),
            Interface("docker0", kind="bridge", mac=docker0.mac, addresses=addresses["docker0"]),
            Interface(veth.name, mac=veth.mac, master="docker0"),
        ],
        routes=sort_routes(routes),
        iptables=firewall,
        services=[Service(pm.proto, pm.host_port, "docker-proxy", bind=pm.host_ip,
                          target=f"{web_ip}:{pm.container_port}") for pm in publish],
        label="Docker host (the article's VM)",
    )
    network = BridgeNetwork("bridge", "docker0", str(net), gateway_cidr.split("/")[0])
    host.sysctls = host_sysctls([network], ip_forward=True, userland_proxy=True)
    scenario = Scenario(
        name="seed-2018",
        description="The article's host (2018): Docker 18.x, nginx in `web` published with -p 80:80",
        seed=seed,
        docker=DockerProfile(version="27", userland_proxy=True, icc=True, ip_forward_was_on=False,
                             networks=[network],
                             extra={"requested": "article", "releases": "18.03.1 – 27.5.1",
                                    "ip_forward": True, "source": "seed-2018 outputs via netlab.parse"}),
    )
    scenario.add(host)
    scenario.add(Node(
        name="web",
        role="container",
        interfaces=[loopback(), Interface("eth0", mac=ip_mac(web_ip), addresses=[web_cidr])],
        routes=[RouteSpec("default", "eth0", via=str(ipaddress.IPv4Interface(gateway_cidr).ip)),
                connected("eth0", web_cidr)],
        services=[Service(pm.proto, pm.container_port, "http" if pm.proto == "tcp" else "udp-echo")
                  for pm in publish],
        image="nginx",
        network="docker0",
        ports=publish,
        label="web (nginx)",
    ))
    scenario.wire(("host", veth.name), ("web", "eth0"))
    add_world(scenario, draws)
    return scenario
