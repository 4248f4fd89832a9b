"""Layer 6 — a topology as plain data, apart from the code that realises it.

A :class:`Scenario` is a set of :class:`Node` s (the Docker host, its
containers, a LAN client, a gateway, "the internet"), each with interfaces,
routes, sysctls, an iptables ruleset and services, plus the :class:`Wire` s
(veth pairs) that join an interface of one node to an interface of another.
The ``sim`` backend simulates it; the ``lab`` backend builds it in network
namespaces.  Nothing here does I/O.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

ROLES = ("host", "container", "client", "gateway", "internet")


@dataclass
class Interface:
    """An interface of a node.  ``kind`` is ``"veth"`` (one end of a wire),
    ``"bridge"`` (a Linux bridge inside the node) or ``"loopback"``.
    ``master`` names the bridge (in the same node) it is enslaved to."""

    name: str
    kind: str = "veth"
    mac: str | None = None
    addresses: list[str] = field(default_factory=list)  # CIDR, e.g. "172.17.0.1/16"
    mtu: int = 1500
    master: str | None = None
    hairpin: bool = False  # bridge port option (Docker sets it with userland-proxy off)

    @property
    def ips(self) -> list[str]:
        return [a.split("/")[0] for a in self.addresses]


@dataclass
class RouteSpec:
    """A route in a node's main table; ``dst`` is ``"default"`` or a CIDR prefix."""

    dst: str
    dev: str
    via: str | None = None
    src: str | None = None
    metric: int | None = None
    scope: str | None = None  # None: "link" without via, "global" with via
    proto: str | None = None  # "kernel" for the prefix routes addresses create

    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network("0.0.0.0/0" if self.dst == "default" else self.dst, strict=False)


@dataclass
class Service:
    """A program listening in a node: ``kind`` is ``"http"`` (answers GET with a
    short page), ``"tcp"`` (accepts and closes), ``"udp-echo"``, ``"docker-proxy"``
    (userland proxy: forwards ``port`` on ``bind`` to ``target``) or ``"dns"`` (Docker's
    embedded resolver on 127.0.0.11, :mod:`netlab.scenarios.embedded_dns`)."""

    proto: str
    port: int
    kind: str = "http"
    bind: str = "0.0.0.0"
    target: str | None = None  # "172.17.0.2:80" for docker-proxy


@dataclass
class PortMapping:
    """``-p [host_ip:]host_port:container_port[/proto]``."""

    host_port: int
    container_port: int
    proto: str = "tcp"
    host_ip: str = "0.0.0.0"

    def __str__(self) -> str:
        ip = "" if self.host_ip in ("0.0.0.0", "") else f"{self.host_ip}:"
        return f"{ip}{self.host_port}:{self.container_port}/{self.proto}"


@dataclass
class Node:
    """One network namespace of the scenario."""

    name: str
    role: str
    interfaces: list[Interface] = field(default_factory=list)
    routes: list[RouteSpec] = field(default_factory=list)
    sysctls: dict[str, str] = field(default_factory=dict)
    iptables: str = ""  # iptables-save text ("" = no rules, all policies ACCEPT)
    nftables: str = ""  # `nft list ruleset` text, loaded with nft -f ("" = no nft tables)
    services: list[Service] = field(default_factory=list)
    # containers only
    image: str | None = None
    network: str | None = None  # the host bridge it is plugged into ("docker0", "br-…")
    ports: list[PortMapping] = field(default_factory=list)
    label: str | None = None  # what a diagram writes under the box
    aliases: list[str] = field(default_factory=list)  # --network-alias (Docker's embedded DNS answers them)
    # ipsets the node's iptables rules match (``-m set --match-set NAME``):
    # name -> members (Docker 28.0.0 keeps its bridges' subnets in docker-ext-bridges-v4)
    ipsets: dict[str, list[str]] = field(default_factory=dict)

    def interface(self, name: str) -> Interface:
        for i in self.interfaces:
            if i.name == name:
                return i
        raise KeyError(f"{self.name} has no interface {name!r}")

    def ips(self) -> list[str]:
        return [ip for i in self.interfaces for ip in i.ips]

    @property
    def ip(self) -> str | None:
        """The node's first non-loopback IPv4 address (what a probe to it targets)."""
        for i in self.interfaces:
            if i.kind != "loopback" and i.ips:
                return i.ips[0]
        return None


@dataclass
class Wire:
    """A veth pair: ``a`` and ``b`` are ``(node, interface)``."""

    a: tuple[str, str]
    b: tuple[str, str]


@dataclass
class BridgeNetwork:
    """A Docker network of the bridge driver, as ``docker network inspect`` would describe it."""

    name: str  # Docker's name: "bridge", "mynet"
    bridge: str  # the Linux bridge: "docker0", "br-0123456789ab"
    subnet: str
    gateway: str
    internal: bool = False
    icc: bool = True
    # com.docker.network.bridge.gateway_mode_ipv4: "nat", "nat-unprotected" or "routed" (28+)
    gateway_mode: str = "nat"
    masquerade: bool = True  # com.docker.network.bridge.enable_ip_masquerade
    host_ipv4: str | None = None  # com.docker.network.host_ipv4: SNAT to this address
    host_ipv6: str | None = None  # com.docker.network.host_ipv6 (the nft ip6 table's SNAT)


@dataclass
class DockerProfile:
    """Which Docker wrote the host's rules, and with which daemon options."""

    version: str = "27"
    userland_proxy: bool = True
    icc: bool = True
    ip_forward_was_on: bool = False  # True: Docker left FORWARD policy ACCEPT
    networks: list[BridgeNetwork] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scenario:
    """A whole topology; feed it to ``netlab.connect(mode=..., scenario=...)``."""

    name: str
    nodes: dict[str, Node] = field(default_factory=dict)
    wires: list[Wire] = field(default_factory=list)
    docker: DockerProfile | None = None
    description: str = ""
    seed: int = 0
    notes: list[str] = field(default_factory=list)  # what from_state guessed (not in the pastes)

    # ------------------------------------------------------------ lookups
    @property
    def host(self) -> Node:
        for n in self.nodes.values():
            if n.role == "host":
                return n
        raise KeyError("scenario has no node with role 'host'")

    @property
    def containers(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.role == "container"]

    def node(self, name: str) -> Node:
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(
                f"no node {name!r} in scenario {self.name!r}; nodes are {sorted(self.nodes)}"
            ) from None

    def add(self, node: Node) -> Node:
        self.nodes[node.name] = node
        return node

    def wire(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        self.wires.append(Wire(a, b))

    def peer(self, node: str, ifname: str) -> tuple[str, str] | None:
        """The far end of the wire plugged into ``node``'s ``ifname``."""
        for w in self.wires:
            if w.a == (node, ifname):
                return w.b
            if w.b == (node, ifname):
                return w.a
        return None

    def node_of_ip(self, ip: str) -> Node | None:
        for n in self.nodes.values():
            if ip in n.ips():
                return n
        return None

    def resolve(self, name_or_ip: str) -> tuple[Node | None, str]:
        """``"client"`` → (client node, its address); ``"172.17.0.2"`` → (owner or None, ip)."""
        if name_or_ip in self.nodes:
            node = self.nodes[name_or_ip]
            if node.ip is None:
                raise ValueError(f"node {name_or_ip!r} has no IPv4 address")
            return node, node.ip
        try:
            ipaddress.IPv4Address(name_or_ip)
        except ValueError:
            raise ValueError(
                f"{name_or_ip!r} is neither a node of scenario {self.name!r} "
                f"({', '.join(sorted(self.nodes))}) nor an IPv4 address"
            ) from None
        return self.node_of_ip(name_or_ip), name_or_ip

    def address_for(self, dst: str, src: str | None) -> str:
        """The address a probe from node ``src`` sends to when aimed at node ``dst``.

        A node with several addresses (the host: 10.0.2.15 on enp0s3, 192.168.56.38
        on enp0s8) is reached on the one in a subnet the source is attached to, as
        a learner on that LAN would type it; otherwise its first address.
        """
        node = self.node(dst)
        cidrs = [a for i in node.interfaces if i.kind != "loopback" for a in i.addresses]
        if not cidrs:
            raise ValueError(f"node {dst!r} has no IPv4 address")
        if src in self.nodes:
            mine = [ipaddress.ip_interface(a).network for i in self.nodes[src].interfaces
                    if i.kind != "loopback" for a in i.addresses]
            for cidr in cidrs:
                ip = ipaddress.ip_interface(cidr).ip
                if any(ip in net for net in mine):
                    return str(ip)
        return cidrs[0].split("/")[0]

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Scenario:
        """The scenario :meth:`to_json` wrote (``Scenario.from_json(s.to_json()) == s``)."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        nodes = {}
        for name, n in d["nodes"].items():
            nodes[name] = Node(
                **{
                    **n,
                    "interfaces": [Interface(**i) for i in n["interfaces"]],
                    "routes": [RouteSpec(**r) for r in n["routes"]],
                    "services": [Service(**s) for s in n["services"]],
                    "ports": [PortMapping(**p) for p in n["ports"]],
                }
            )
        docker = None
        if d.get("docker"):
            dd = d["docker"]
            docker = DockerProfile(**{**dd, "networks": [BridgeNetwork(**b) for b in dd["networks"]]})
        return cls(
            name=d["name"],
            nodes=nodes,
            wires=[Wire(tuple(w["a"]), tuple(w["b"])) for w in d["wires"]],
            docker=docker,
            description=d.get("description", ""),
            seed=d.get("seed", 0),
            notes=list(d.get("notes", [])),
        )
