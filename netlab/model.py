"""Layer 1 — the host's network as plain data (no I/O).

A :class:`HostState` is what every lesson asks questions of: which namespaces,
interfaces (and which veth is whose peer), addresses, routes, bridge ports and
FDB entries, the sysctls that change forwarding, the netfilter rules and the
conntrack table.  It is filled by the parsers (pasted text, lesson 1–3), by the
live snapshot (``netlab.snapshot``) or by a scenario, and it round-trips through
JSON without loss.

Everything that lives in a namespace carries ``netns``: ``""`` is the namespace
the text or snapshot was taken in (the "host"), anything else is a named one.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import networkx as nx
    import pandas as pd

    from netlab.netfilter import Ruleset

SCHEMA_VERSION = 1

LINK_KINDS = ("loopback", "physical", "bridge", "veth", "other")
SYSCTLS_THAT_MATTER = (
    "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
    "net.bridge.bridge-nf-call-ip6tables",
    "net.ipv4.conf.all.route_localnet",
    "net.ipv4.conf.all.rp_filter",
    "net.ipv4.conf.default.rp_filter",
)


@dataclass
class Namespace:
    """A network namespace: its own interfaces, routes and firewall.

    ``ids`` maps the netnsid numbers *this* namespace uses for its peers
    (what ``link-netnsid N`` refers to) to namespace names, where known.
    """

    name: str = ""
    ids: dict[int, str] = field(default_factory=dict)
    hostname: str | None = None


@dataclass
class Link:
    """One interface, as ``ip -d link`` shows it."""

    name: str
    ifindex: int | None = None
    kind: str = "other"  # loopback / physical / bridge / veth / other
    mac: str | None = None
    mtu: int | None = None
    flags: list[str] = field(default_factory=list)
    state: str | None = None  # operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN
    master: str | None = None
    netns: str = ""
    # veth peer: ifindex of the other end and where it lives (a netnsid as seen
    # from this namespace, or a resolved namespace name).  ``peer_netnsid`` is
    # None when the peer lives in the same namespace.
    peer_ifindex: int | None = None
    peer_netnsid: int | None = None
    peer_netns: str | None = None
    link_type: str | None = None  # "ether", "loopback", "none", ...
    qdisc: str | None = None
    alias: str | None = None
    # the kernel's own name for the link type, as ``ip -d link`` prints it
    # ("veth", "bridge", "vxlan", "dummy", ...); None when the paste had no -d
    driver: str | None = None
    # the peer is in another namespace the text does not name: ``ip`` prints ``@ifN``
    # only for a peer it cannot find here, and ``ip -br`` (or BusyBox) omits link-netnsid
    peer_elsewhere: bool = False

    @property
    def is_up(self) -> bool:
        return "UP" in self.flags or self.state == "UP"

    @property
    def peer(self) -> tuple[str | int | None, int] | None:
        """A veth's peer as the text gives it: (namespace name, or netnsid when only the
        number is known, ifindex) — ``vethca38e86@if5 ... link-netnsid 0`` is ``(0, 5)``.
        None when there is no known peer; a peer in the same namespace gives this one's name;
        ``(None, ifindex)`` when it is in another namespace the text does not name (``ip -br``)."""
        if self.peer_ifindex is None:
            return None
        if self.peer_netns is not None:
            return (self.peer_netns, self.peer_ifindex)
        if self.peer_netnsid is not None:
            return (self.peer_netnsid, self.peer_ifindex)
        if self.peer_elsewhere:
            return (None, self.peer_ifindex)
        return (self.netns, self.peer_ifindex)


@dataclass
class Address:
    """An address on an interface (``inet``/``inet6`` lines of ``ip addr``)."""

    ifname: str
    address: str
    prefixlen: int
    family: int = 4
    scope: str = "global"
    broadcast: str | None = None
    label: str | None = None
    netns: str = ""
    peer: str | None = None  # point-to-point peer (``inet A peer B/32``)
    flags: list[str] = field(default_factory=list)  # secondary, dynamic, noprefixroute, ...

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_interface(self.cidr).network


@dataclass
class Route:
    """One route; ``dst`` is ``"default"`` or a prefix in CIDR form."""

    dst: str
    dev: str | None = None
    gateway: str | None = None
    table: str = "main"
    type: str = "unicast"
    protocol: str | None = None
    scope: str | None = None
    src: str | None = None
    metric: int | None = None
    family: int = 4
    flags: list[str] = field(default_factory=list)
    netns: str = ""
    # multipath routes: one dict per ``nexthop`` (gateway, dev, weight, flags)
    nexthops: list[dict[str, Any]] = field(default_factory=list)

    @property
    def prefix(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        if self.dst == "default":
            return ipaddress.ip_network("0.0.0.0/0" if self.family == 4 else "::/0")
        return ipaddress.ip_network(self.dst, strict=False)


@dataclass
class BridgePort:
    """An interface enslaved to a bridge (``brctl show`` / ``bridge link``)."""

    bridge: str
    port: str
    state: str | None = None  # forwarding, blocking, disabled, ...
    ifindex: int | None = None
    hairpin: bool | None = None
    cost: int | None = None
    priority: int | None = None
    netns: str = ""


@dataclass
class FdbEntry:
    """A forwarding-database entry: where a bridge has learnt (or was told) a MAC lives."""

    mac: str
    dev: str
    bridge: str | None = None
    vlan: int | None = None
    flags: list[str] = field(default_factory=list)  # self, master, extern_learn, ...
    state: str | None = None  # permanent, static, (None = learnt / reachable)
    netns: str = ""


@dataclass
class Bridge:
    """A bridge's own settings (``brctl show`` columns)."""

    name: str
    bridge_id: str | None = None
    stp: bool | None = None
    netns: str = ""


@dataclass
class ConntrackTuple:
    src: str
    dst: str
    sport: int | None = None
    dport: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None
    icmp_id: int | None = None


@dataclass
class ConntrackEntry:
    """One connection the kernel tracks: the original and the reply direction.

    When the reply tuple is not the original one turned round, NAT happened:
    that is how lesson 5 reads DNAT and MASQUERADE off ``conntrack -L``.
    """

    proto: str
    orig: ConntrackTuple
    reply: ConntrackTuple
    state: str | None = None  # TCP state: SYN_SENT, ESTABLISHED, TIME_WAIT, ...
    timeout: int | None = None
    status: list[str] = field(default_factory=list)  # ASSURED, UNREPLIED, ...
    mark: int | None = None
    zone: int | None = None
    use: int | None = None
    netns: str = ""
    id: int | None = None  # the kernel's id for the entry (``conntrack -L -o id``)
    event: str | None = None  # ``conntrack -E``: "NEW", "UPDATE" or "DESTROY"
    time: float | None = None  # ``conntrack -E -o timestamp``: seconds since the epoch

    @property
    def dnat(self) -> bool:
        return self.reply.src != self.orig.dst or (
            self.reply.sport is not None and self.reply.sport != self.orig.dport
        )

    @property
    def snat(self) -> bool:
        return self.reply.dst != self.orig.src or (
            self.reply.dport is not None and self.reply.dport != self.orig.sport
        )


@dataclass
class ContainerNetwork:
    """One network a container is attached to (``docker inspect``'s
    ``NetworkSettings.Networks[NAME]``)."""

    network: str
    ip: str | None = None
    prefixlen: int | None = None
    mac: str | None = None
    gateway: str | None = None
    ipv6: str | None = None
    aliases: list[str] = field(default_factory=list)
    network_id: str | None = None


@dataclass
class PublishedPort:
    """One ``-p`` binding (``NetworkSettings.Ports["80/tcp"]``): ``host_port`` is None when
    the port is only exposed, not published."""

    container_port: int
    proto: str = "tcp"
    host_ip: str | None = None
    host_port: int | None = None


@dataclass
class DockerContainer:
    """A container as ``docker inspect CONTAINER`` describes it: its name, its network
    mode, each network it joined (IP, MAC, gateway, aliases) and its published ports."""

    name: str
    id: str | None = None
    image: str | None = None
    network_mode: str | None = None  # HostConfig.NetworkMode: bridge, host, none, NAME, container:ID
    networks: list[ContainerNetwork] = field(default_factory=list)
    ports: list[PublishedPort] = field(default_factory=list)
    pid: int | None = None
    running: bool | None = None


@dataclass
class Listener:
    """A listening socket (``ss -tlnp`` / ``netstat -tlnp``): who holds ``address:port``.

    ``address`` is what the socket is bound to: ``0.0.0.0`` / ``::`` (every address),
    ``127.0.0.1`` (only the host itself: the classic "works on the host, not from a
    container" answer), or one address; ``process`` is ``docker-proxy`` for Docker's
    userland proxy."""

    proto: str  # tcp / udp / sctp
    address: str
    port: int
    family: int = 4
    process: str | None = None
    pid: int | None = None
    fd: int | None = None
    state: str | None = None  # LISTEN (tcp), UNCONN (udp)
    iface: str | None = None  # ``127.0.0.53%lo``: bound to one interface
    netns: str = ""

    def accepts(self, dst: str) -> bool:
        """Whether a packet to ``dst`` reaches this socket (a wildcard takes every address
        of its family; ``::`` takes IPv4 too, as Linux's dual-stack sockets do)."""
        if self.address in ("0.0.0.0", "*"):
            return ":" not in dst or self.address == "*"
        if self.address == "::":
            return True
        return self.address == dst


@dataclass
class HostState:
    """Everything netlab knows about one machine's networking (one or more namespaces).

    Build one with ``netlab.parse_host(...)``, ``netlab.snapshot()`` or a scenario;
    ask it questions with the pandas views and :meth:`graph`.
    """

    namespaces: list[Namespace] = field(default_factory=lambda: [Namespace("")])
    links: list[Link] = field(default_factory=list)
    addrs: list[Address] = field(default_factory=list)
    route_list: list[Route] = field(default_factory=list)
    bridges: list[Bridge] = field(default_factory=list)
    ports: list[BridgePort] = field(default_factory=list)
    fdb: list[FdbEntry] = field(default_factory=list)
    sysctls: dict[str, dict[str, str]] = field(default_factory=dict)  # netns -> key -> value
    firewall: dict[str, str] = field(default_factory=dict)  # netns -> iptables-save text
    nftables: dict[str, str] = field(default_factory=dict)  # netns -> nft list ruleset (text or -j)
    # netns -> ip6tables-save text: kept and shown, not traced (IPv6 is not traced yet)
    firewall6: dict[str, str] = field(default_factory=dict)
    containers: list[DockerContainer] = field(default_factory=list)  # from `docker inspect CONTAINER`
    conntrack_entries: list[ConntrackEntry] = field(default_factory=list)
    docker_networks: list[dict[str, Any]] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)  # ss -tlnp / netstat -tlnp
    hostname: str | None = None
    source: str = "paste"  # paste / snapshot / scenario
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    # ------------------------------------------------------------------ lookups
    def namespace(self, name: str = "") -> Namespace:
        for ns in self.namespaces:
            if ns.name == name:
                return ns
        ns = Namespace(name)
        self.namespaces.append(ns)
        return ns

    def link(self, name: str, netns: str = "") -> Link | None:
        for link in self.links:
            if link.name == name and link.netns == netns:
                return link
        return None

    def link_by_index(self, ifindex: int, netns: str = "") -> Link | None:
        for link in self.links:
            if link.ifindex == ifindex and link.netns == netns:
                return link
        return None

    def addresses_of(self, ifname: str, netns: str = "", family: int | None = None) -> list[Address]:
        return [
            a
            for a in self.addrs
            if a.ifname == ifname and a.netns == netns and (family is None or a.family == family)
        ]

    def local_addresses(self, netns: str = "", family: int | None = 4) -> list[str]:
        """Every address the namespace owns (what ``addrtype --dst-type LOCAL`` matches)."""
        return [
            a.address
            for a in self.addrs
            if a.netns == netns and (family is None or a.family == family)
        ]

    def sysctl(self, key: str, netns: str = "", default: str | None = None) -> str | None:
        return self.sysctls.get(netns, {}).get(key, default)

    def peer_of(self, link: Link, _by_index: dict[int, list[Link]] | None = None
                ) -> Link | None:
        """The other end of a veth, if the state holds it (both ends must name each other)."""
        if link.peer_ifindex is None:
            return None
        peer_ns = self.peer_namespace(link, _by_index)
        if peer_ns is not None:
            if _by_index is None:
                peer = self.link_by_index(link.peer_ifindex, peer_ns)
            else:
                peer = next((o for o in _by_index.get(link.peer_ifindex, [])
                             if o.netns == peer_ns), None)
            # `veth2@if6` is not joined to an ifindex 6 whose own peer is someone else
            if peer is not None and peer is not link and self._names_back(peer, link):
                return peer
        if link.peer_netnsid is None and link.peer_netns is None and link.ifindex is not None:
            # `eth0@if46` without link-netnsid (BusyBox `ip` in Alpine containers, `ip -br`,
            # old kernels): the peer is in some other namespace; one veth there that names
            # this one back is it
            candidates = (self.links if _by_index is None
                          else _by_index.get(link.peer_ifindex, []))
            found = [o for o in candidates
                     if o.netns != link.netns and o.ifindex == link.peer_ifindex
                     and o.kind == "veth" and o.peer_ifindex == link.ifindex
                     and self._may_point_to(o, link.netns)]
            if len(found) == 1:
                return found[0]
        return None

    def _links_by_index(self) -> dict[int, list[Link]]:
        """Links by ifindex (for views that look up many peers at once)."""
        index: dict[int, list[Link]] = {}
        for link in self.links:
            if link.ifindex is not None:
                index.setdefault(link.ifindex, []).append(link)
        return index

    def _cidrs_by_link(self) -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = {}
        for a in self.addrs:
            out.setdefault((a.netns, a.ifname), []).append(a.cidr)
        return out

    @staticmethod
    def _names_back(peer: Link, link: Link) -> bool:
        return peer.peer_ifindex is None or link.ifindex is None \
            or peer.peer_ifindex == link.ifindex

    def _may_point_to(self, other: Link, netns: str) -> bool:
        """Could ``other``'s peer live in ``netns``?  (Unknown or unresolved counts as yes.)"""
        if other.peer_netns is None and other.peer_netnsid is None:
            return True
        where = self.peer_namespace(other)
        return where is None or where == netns

    def peer_namespace(self, link: Link, _by_index: dict[int, list[Link]] | None = None
                       ) -> str | None:
        """Name of the namespace holding a veth's peer (None when unknown).

        ``eth0@if6`` with no ``link-netnsid`` (BusyBox ``ip``, ``ip -br``) names its peer by
        number because ``ip`` found no interface 6 in this namespace: the peer is in
        another one, not known which (None)."""
        if link.peer_netns is not None:
            return link.peer_netns
        if link.peer_netnsid is None:
            if link.peer_elsewhere:
                return None
            if link.peer_ifindex is not None and link.kind == "veth":
                candidates = (self.links if _by_index is None
                              else _by_index.get(link.peer_ifindex, []))
                if not any(o.ifindex == link.peer_ifindex and o.netns == link.netns and o is not link
                           for o in candidates):
                    return None
            return link.netns
        return self.namespace(link.netns).ids.get(link.peer_netnsid)

    def ruleset(self, netns: str = "") -> Ruleset:
        """The namespace's iptables rules, parsed (layer 3; imported on first use)."""
        from netlab.netfilter import parse_iptables

        text = self.firewall.get(netns, "")
        if not text.strip() and self.firewall6.get(netns, "").strip():
            # only ip6tables rules were pasted: an IPv4 trace through them is refused, not
            # answered ACCEPT by an empty rule set
            rs = self.ruleset6(netns)
            rs.warnings.append("only IPv6 (ip6tables) rules were pasted for this namespace: paste "
                               "`sudo iptables-save` for the IPv4 rules")
            return rs
        return parse_iptables(text)

    def ruleset6(self, netns: str = "") -> Ruleset:
        """The namespace's ip6tables rules (``family`` 6): shown, not traced — tracing an
        IPv4 packet through them is refused."""
        from netlab.netfilter import parse_iptables

        rs = parse_iptables(self.firewall6.get(netns, ""))
        rs.family = 6
        return rs

    def container(self, name: str) -> DockerContainer | None:
        """The container ``docker inspect`` named ``name`` (a leading ``/`` is ignored)."""
        name = name.lstrip("/")
        return next((c for c in self.containers if c.name == name), None)

    # -------------------------------------------------------------- merging
    def merge(self, other: HostState) -> HostState:
        """Add what ``other`` knows (used when several pastes describe one host)."""
        by_name = {ns.name: ns for ns in self.namespaces}
        for space in other.namespaces:
            mine = by_name.get(space.name)
            if mine is None:
                mine = by_name[space.name] = Namespace(space.name)
                self.namespaces.append(mine)
            for nsid, name in space.ids.items():
                mine.ids.setdefault(nsid, name)
            mine.hostname = mine.hostname or space.hostname
        known = {(link.netns, link.name): link for link in self.links}
        for link in other.links:
            mine_link = known.get((link.netns, link.name))
            if mine_link is not None:
                self._update_link(mine_link, link)
            else:
                self.links.append(link)
                known[(link.netns, link.name)] = link
        for attr in ("addrs", "route_list", "bridges", "ports", "fdb", "conntrack_entries",
                     "listeners"):
            mine_list = getattr(self, attr)
            key_of = _MERGE_KEYS.get(attr)
            if key_of is None:
                for item in getattr(other, attr):
                    if item not in mine_list:
                        mine_list.append(item)
                continue
            # the same fact from two pastes (brctl and ip -d link, say): one item,
            # with the fields either paste knew
            index = {key_of(item): item for item in mine_list}
            for item in getattr(other, attr):
                known_item = index.get(key_of(item))
                if known_item is None:
                    mine_list.append(item)
                    index[key_of(item)] = item
                else:
                    _fill_missing(known_item, item)
        for ns, values in other.sysctls.items():
            self.sysctls.setdefault(ns, {}).update(values)
        for ns, text in other.firewall.items():
            mine_text = self.firewall.get(ns)
            if mine_text is None or not mine_text.strip():
                self.firewall[ns] = text
            elif text.strip() and text.strip() not in mine_text:
                self.firewall[ns] = mine_text.rstrip("\n") + "\n" + text
        self.nftables.update(other.nftables)
        for ns, text in other.firewall6.items():
            mine_text = self.firewall6.get(ns, "")
            if text.strip() and text.strip() not in mine_text:
                self.firewall6[ns] = (mine_text.rstrip("\n") + "\n" if mine_text.strip() else "") + text
        have_ctrs = {c.name: i for i, c in enumerate(self.containers)}
        for ctr in other.containers:
            if ctr.name in have_ctrs:
                self.containers[have_ctrs[ctr.name]] = ctr  # the later inspect is the newer
            else:
                have_ctrs[ctr.name] = len(self.containers)
                self.containers.append(ctr)
        self.docker_networks.extend(other.docker_networks)
        self.hostname = self.hostname or other.hostname
        seen_notes = set(self.notes)
        for note in other.notes:
            if note not in seen_notes:
                self.notes.append(note)
                seen_notes.add(note)
        self._sync_bridge_masters()
        self.resolve_netnsids()
        return self

    def resolve_netnsids(self) -> HostState:
        """Name the namespaces behind netnsids that two veth ends reveal.

        A veth whose peer is "ifindex 2 in netnsid 0" and a veth in namespace B
        with ifindex 2 whose own peer points back (its peer ifindex is ours)
        are the two ends of one pair: so netnsid 0, as seen from our namespace,
        is B.  Only a unique match is recorded; known ids are never changed.
        """
        namespaces = {ns.name: ns for ns in self.namespaces}

        def ns_of(name: str) -> Namespace:
            if name not in namespaces:
                namespaces[name] = self.namespace(name)
            return namespaces[name]

        by_index: dict[int, list[Link]] = {}
        for link in self.links:
            if link.kind == "veth" and link.ifindex is not None:
                by_index.setdefault(link.ifindex, []).append(link)
        for link in self.links:
            if (link.kind != "veth" or link.peer_netnsid is None or link.peer_netns is not None
                    or link.peer_ifindex is None):
                continue
            ns = ns_of(link.netns)
            if link.peer_netnsid in ns.ids:
                continue
            matches = [
                other for other in by_index.get(link.peer_ifindex, [])
                if other.netns != link.netns and other.peer_ifindex == link.ifindex
                and (
                    (other.peer_netnsid is not None
                     and ns_of(other.netns).ids.get(other.peer_netnsid, link.netns) == link.netns)
                    # the other end's text gave no netnsid (BusyBox ip, ip -br): unknown
                    or (other.peer_netnsid is None and other.peer_netns is None)
                )
            ]
            if len({m.netns for m in matches}) == 1:
                ns.ids[link.peer_netnsid] = matches[0].netns
        return self

    @staticmethod
    def _update_link(mine: Link, new: Link) -> None:
        for f in dataclasses.fields(Link):
            value = getattr(new, f.name)
            default = f.default if f.default is not dataclasses.MISSING else None
            if f.default_factory is not dataclasses.MISSING:
                default = f.default_factory()
            if value not in (None, default) and getattr(mine, f.name) in (None, default):
                setattr(mine, f.name, value)

    def _sync_bridge_masters(self) -> None:
        """Bridge ports and link masters describe one fact; make both say it."""
        links = {(link.netns, link.name): link for link in self.links}
        for port in self.ports:
            link = links.get((port.netns, port.port))
            if link is None:
                link = Link(port.port, netns=port.netns, ifindex=port.ifindex)
                link.kind = "veth" if port.port.startswith("veth") else "other"
                self.links.append(link)
                links[(port.netns, port.port)] = link
            link.master = link.master or port.bridge
            br = links.get((port.netns, port.bridge))
            if br is None:
                br = Link(port.bridge, kind="bridge", netns=port.netns)
                self.links.append(br)
                links[(port.netns, port.bridge)] = br
            elif br.kind == "other":
                br.kind = "bridge"
        ported = {(p.netns, p.port) for p in self.ports}
        for link in list(self.links):
            if link.master and (link.netns, link.name) not in ported:
                master = links.get((link.netns, link.master))
                if master is not None and master.kind == "bridge":
                    self.ports.append(BridgePort(link.master, link.name, netns=link.netns,
                                                 ifindex=link.ifindex))
                    ported.add((link.netns, link.name))
        have = {(b.netns, b.name) for b in self.bridges}
        for bridge_link in self.links:
            if bridge_link.kind == "bridge" and (bridge_link.netns, bridge_link.name) not in have:
                self.bridges.append(Bridge(bridge_link.name, netns=bridge_link.netns))
                have.add((bridge_link.netns, bridge_link.name))

    def normalise(self) -> HostState:
        """Fill facts one part implies about another (bridge ports ↔ masters)."""
        self._sync_bridge_masters()
        return self

    # ---------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["schema_version"] = SCHEMA_VERSION
        # JSON object keys are strings: keep netnsid maps as lists of pairs.
        for ns in data["namespaces"]:
            ns["ids"] = [[k, v] for k, v in ns["ids"].items()]
        return data

    def to_json(self, indent: int | None = 1) -> str:
        """Serialise losslessly (``HostState.from_json(s.to_json()) == s``)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HostState:
        from netlab.errors import SnapshotError

        if not isinstance(data, dict):
            raise SnapshotError(f"not a netlab snapshot (a JSON {type(data).__name__}, not an "
                                "object with schema_version); `netlab snapshot -o FILE` "
                                "writes one")
        try:
            return cls._from_dict(data)
        except SnapshotError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SnapshotError(
                f"not a netlab snapshot, or a damaged one ({type(exc).__name__}: {exc}); "
                "re-take it with `netlab snapshot -o FILE`") from None

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> HostState:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            from netlab.errors import SnapshotError

            raise SnapshotError(
                f"snapshot has schema version {version!r}, this netlab reads version "
                f"{SCHEMA_VERSION}; re-take it with `netlab snapshot` from this netlab"
            )

        def tup(d: dict[str, Any]) -> ConntrackTuple:
            return ConntrackTuple(**d)

        return cls(
            namespaces=[
                Namespace(n["name"], {int(k): v for k, v in n["ids"]}, n.get("hostname"))
                for n in data["namespaces"]
            ],
            links=[Link(**d) for d in data["links"]],
            addrs=[Address(**d) for d in data["addrs"]],
            route_list=[Route(**d) for d in data["route_list"]],
            bridges=[Bridge(**d) for d in data["bridges"]],
            ports=[BridgePort(**d) for d in data["ports"]],
            fdb=[FdbEntry(**d) for d in data["fdb"]],
            sysctls={k: dict(v) for k, v in data["sysctls"].items()},
            firewall=dict(data["firewall"]),
            nftables=dict(data.get("nftables", {})),
            firewall6=dict(data.get("firewall6", {})),
            containers=[DockerContainer(**{**c, "networks": [ContainerNetwork(**n) for n in c.get("networks", [])],
                                     "ports": [PublishedPort(**p) for p in c.get("ports", [])]})
                        for c in data.get("containers", [])],
            conntrack_entries=[
                ConntrackEntry(**{**d, "orig": tup(d["orig"]), "reply": tup(d["reply"])})
                for d in data["conntrack_entries"]
            ],
            docker_networks=list(data.get("docker_networks", [])),
            listeners=[Listener(**d) for d in data.get("listeners", [])],
            hostname=data.get("hostname"),
            source=data.get("source", "paste"),
            notes=list(data.get("notes", [])),
        )

    @classmethod
    def from_json(cls, text: str) -> HostState:
        from netlab.errors import SnapshotError

        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotError(f"not a netlab snapshot (invalid JSON: {exc})") from exc
        except RecursionError:
            raise SnapshotError("not a netlab snapshot (the JSON is nested too deeply)") from None
        except ValueError as exc:  # e.g. an integer of more than 4300 digits
            raise SnapshotError(f"not a netlab snapshot ({exc})") from None
        return cls.from_dict(data)

    def save(self, path: str) -> None:
        """Write the snapshot atomically (write a temporary file, then rename)."""
        from netlab.atomic import atomic_write_text

        atomic_write_text(path, self.to_json())

    @classmethod
    def load(cls, path: str) -> HostState:
        with open(path, encoding="utf-8") as fh:
            return cls.from_json(fh.read())

    # --------------------------------------------------------- pandas views
    @property
    def interfaces(self) -> pd.DataFrame:
        """One row per interface: name, kind, MAC, MTU, state, master, veth peer."""
        import pandas as pd

        rows = []
        by_index = self._links_by_index()
        cidrs = self._cidrs_by_link()
        for link in self.links:
            peer = self.peer_of(link, by_index)
            rows.append(
                {
                    "netns": link.netns,
                    "ifindex": link.ifindex,
                    "name": link.name,
                    "kind": link.kind,
                    "mac": link.mac,
                    "mtu": link.mtu,
                    "state": link.state,
                    "master": link.master,
                    "peer": (
                        f"{peer.name}@{peer.netns or 'host'}"
                        if peer
                        else _peer_ref(link, self.peer_namespace(link))
                    ),
                    "addresses": ", ".join(cidrs.get((link.netns, link.name), [])),
                }
            )
        frame = pd.DataFrame(rows, columns=["netns", "ifindex", "name", "kind", "mac", "mtu",
                                            "state", "master", "peer", "addresses"])
        return _int_columns(frame, ["ifindex", "mtu"])

    @property
    def addresses(self) -> pd.DataFrame:
        return _frame(self.addrs, Address)

    @property
    def routes(self) -> pd.DataFrame:
        return _frame(self.route_list, Route)

    @property
    def sockets(self) -> pd.DataFrame:
        """The listening sockets (``ss -tlnp``), one row each."""
        return _frame(self.listeners, Listener)

    @property
    def bridge_ports(self) -> pd.DataFrame:
        return _frame(self.ports, BridgePort)

    @property
    def fdb_table(self) -> pd.DataFrame:
        return _frame(self.fdb, FdbEntry)

    @property
    def conntrack(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for e in self.conntrack_entries:
            rows.append(
                {
                    "netns": e.netns, "proto": e.proto, "state": e.state,
                    "src": e.orig.src, "dst": e.orig.dst, "sport": e.orig.sport,
                    "dport": e.orig.dport, "reply_src": e.reply.src, "reply_dst": e.reply.dst,
                    "reply_sport": e.reply.sport, "reply_dport": e.reply.dport,
                    "dnat": e.dnat, "snat": e.snat, "status": ",".join(e.status),
                    "timeout": e.timeout, "mark": e.mark, "zone": e.zone, "use": e.use,
                    "icmp_type": e.orig.icmp_type, "icmp_code": e.orig.icmp_code,
                    "icmp_id": e.orig.icmp_id,
                }
            )
        frame = pd.DataFrame(rows, columns=["netns", "proto", "state", "src", "dst", "sport",
                                            "dport", "reply_src", "reply_dst", "reply_sport",
                                            "reply_dport", "dnat", "snat", "status", "timeout",
                                            "mark", "zone", "use", "icmp_type", "icmp_code",
                                            "icmp_id"])
        return _int_columns(frame, ["sport", "dport", "reply_sport", "reply_dport", "timeout",
                                    "mark", "zone", "use", "icmp_type", "icmp_code", "icmp_id"])

    def veth_pairs(self) -> list[tuple[Link, Link | None, str | None]]:
        """Each veth with its peer (None if the peer is outside what we know)."""
        pairs, seen = [], set()
        by_index = self._links_by_index()
        for link in self.links:
            if link.kind != "veth" or (link.netns, link.name) in seen:
                continue
            peer = self.peer_of(link, by_index)
            seen.add((link.netns, link.name))
            if peer is not None:
                seen.add((peer.netns, peer.name))
            pairs.append((link, peer, peer.netns if peer is not None
                          else self.peer_namespace(link, by_index)))
        return pairs

    # ---------------------------------------------------------------- graph
    def graph(self) -> nx.Graph:
        """Namespaces, interfaces and bridges as a networkx graph.

        Nodes: ``("netns", name)``, ``("if", netns, name)``.  Edges carry
        ``relation``: ``"in-namespace"``, ``"enslaved"`` (port → bridge) or
        ``"veth-peer"``.  A veth whose peer lives in a namespace the text does
        not show gets a placeholder peer node (``("if", "netnsid 0", "if5")``; from a
        named namespace's veth, ``("if", "web: netnsid 0", "if7")``).
        """
        import networkx as nx

        g = nx.Graph()
        by_index = self._links_by_index()
        cidrs = self._cidrs_by_link()
        for ns in self.namespaces:
            g.add_node(("netns", ns.name), type="netns", name=ns.name or "host")
        for link in self.links:
            node = ("if", link.netns, link.name)
            g.add_node(node, type="bridge" if link.kind == "bridge" else "interface",
                       name=link.name, kind=link.kind, netns=link.netns, mac=link.mac,
                       ifindex=link.ifindex,
                       addresses=list(cidrs.get((link.netns, link.name), [])))
            if ("netns", link.netns) not in g:
                g.add_node(("netns", link.netns), type="netns", name=link.netns or "host")
            g.add_edge(node, ("netns", link.netns), relation="in-namespace")
        for link in self.links:
            node = ("if", link.netns, link.name)
            if link.master:
                master = ("if", link.netns, link.master)
                if master not in g:
                    g.add_node(master, type="bridge", name=link.master, kind="bridge",
                               netns=link.netns)
                    g.add_edge(master, ("netns", link.netns), relation="in-namespace")
                g.add_edge(node, master, relation="enslaved")
            if link.kind == "veth" and link.peer_ifindex is not None:
                peer = self.peer_of(link, by_index)
                if peer is not None:
                    g.add_edge(node, ("if", peer.netns, peer.name), relation="veth-peer")
                else:
                    where = self.peer_namespace(link, by_index)
                    if where is None and link.peer_netnsid is None:
                        where = f"{link.netns + ': ' if link.netns else ''}another namespace"
                    if where is None:
                        # netnsids are per namespace: web's "netnsid 0" is not the host's
                        where = f"netnsid {link.peer_netnsid}"
                        if link.netns:
                            where = f"{link.netns}: {where}"
                    pnode = ("if", where, f"if{link.peer_ifindex}")
                    if pnode not in g:
                        g.add_node(pnode, type="interface", name=f"if{link.peer_ifindex}",
                                   kind="veth", netns=where, ifindex=link.peer_ifindex,
                                   placeholder=True)
                        if ("netns", where) not in g:
                            g.add_node(("netns", where), type="netns", name=where,
                                       placeholder=True)
                        g.add_edge(pnode, ("netns", where), relation="in-namespace")
                    g.add_edge(node, pnode, relation="veth-peer")
        return g


_MERGE_KEYS: dict[str, Any] = {
    "addrs": lambda a: (a.netns, a.ifname, a.address, a.prefixlen),
    "route_list": lambda r: (r.netns, r.family, r.table, r.type, r.dst, r.metric, r.dev,
                             r.gateway),
    "bridges": lambda b: (b.netns, b.name),
    "listeners": lambda s: (s.netns, s.proto, s.family, s.address, s.port, s.iface),
    "ports": lambda p: (p.netns, p.port),
    "fdb": lambda f: (f.netns, f.mac, f.dev, f.vlan, f.bridge),
    # one connection seen in two pastes (timeouts differ): one entry
    # (zones keep apart connections whose tuples are the same)
    # (conntrack -E events of one connection stay apart: each is a moment of its life)
    "conntrack_entries": lambda e: (e.netns, e.zone or 0, e.proto, dataclasses.astuple(e.orig),
                                    dataclasses.astuple(e.reply), e.event, e.time,
                                    e.state if e.event else None),
}


def _fill_missing(mine: Any, new: Any) -> None:
    """Copy into ``mine`` each field it lacks (None or empty) that ``new`` has."""
    for f in dataclasses.fields(mine):
        value = getattr(new, f.name)
        if value in (None, "", []) or getattr(mine, f.name) not in (None, "", []):
            continue
        setattr(mine, f.name, value)


def _peer_ref(link: Link, where: str | None = None) -> str | None:
    """``if5@web`` / ``if5@netnsid 0``: a veth peer the state does not hold."""
    if link.peer_ifindex is None:
        return None
    if where is not None and where != link.netns:
        return f"if{link.peer_ifindex}@{where or 'host'}"
    if link.peer_netnsid is not None and where is None:
        return f"if{link.peer_ifindex}@netnsid {link.peer_netnsid}"
    if link.peer_elsewhere and where is None:
        return f"if{link.peer_ifindex}@another namespace"
    return f"if{link.peer_ifindex}"


def _int_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Whole-number columns as pandas' nullable Int64 (100, not 100.0; <NA> when unknown)."""
    for col in columns:
        frame[col] = frame[col].astype("Int64")
    return frame


def _frame(items: list[Any], cls: type) -> pd.DataFrame:
    import pandas as pd

    fields = dataclasses.fields(cls)
    cols = [f.name for f in fields]
    frame = pd.DataFrame([dataclasses.asdict(i) for i in items], columns=cols)
    return _int_columns(frame, [f.name for f in fields
                                if str(f.type).replace(" ", "") in ("int", "int|None")])
