"""The differential catalogue: scenario + probe cases run on ``sim`` and on the real kernel.

Each :class:`Case` names a scenario of ``netlab.scenarios.catalogue`` (or a
callable building one), the Docker versions where its journey can differ, and
one probe.  ``tests/lab/test_differential.py`` runs every case in both backends
and compares ``journey.signature()``; :func:`side_by_side` is the diff it shows
when they disagree.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ALL = ("27", "28", "29")
# 28.0.0 matched its bridges through the ipset docker-ext-bridges-v4 (made before iptables-restore)


@dataclass(frozen=True)
class Case:
    """One scenario and one probe; ``versions`` are the Docker profiles it runs on."""

    id: str
    scenario: str
    probe: dict[str, Any]
    versions: tuple[str, ...] = ALL
    what: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    # two programs act at once (a prober and the userland proxy): the kernel fixes the order of
    # each connection's packets, the scheduler the interleaving of the connections
    concurrent: bool = False

    def build(self, version: str):  # noqa: ANN201 - a Scenario
        from netlab.scenarios import catalogue

        if self.scenario in BUILDERS:
            return BUILDERS[self.scenario](version)
        return catalogue.build(self.scenario, version=version, **self.kwargs)


def _udp_published(version: str):  # noqa: ANN202 - a Scenario
    """``dns`` answering UDP on 53, published as 5353/udp on every address and on 127.0.0.1."""
    from netlab.scenarios import Container, docker_host

    return docker_host(version, [Container("dns", image="alpine", ports=["5353:53/udp", "127.0.0.1:5354:53/udp"])],
                       name=f"udp-published-{version}")


def _lan_routes_to_containers(version: str):  # noqa: ANN202 - a Scenario
    """The article's host, with a LAN client that routes 172.17.0.0/16 via the host."""
    from netlab.scenarios import catalogue
    from netlab.scenarios.topology import RouteSpec

    sc = catalogue.build("article", version=version)
    sc.node("client").routes.append(RouteSpec("172.17.0.0/16", "eth0", via="192.168.56.38"))
    sc.name += "-lan-route"
    return sc


def _big_pings_dropped(version: str):  # noqa: ANN202 - a Scenario
    """The article's host with ``-I INPUT -p icmp -m length --length 200:65535 -j DROP``."""
    from netlab.scenarios import catalogue

    sc = catalogue.build("article", version=version)
    sc.host.iptables = catalogue.insert_rule(sc.host.iptables, "filter", "INPUT",
                                             "-p icmp -m length --length 200:65535 -j DROP")
    return sc


def _nft(name: str) -> Callable[[str], Any]:
    """The catalogue scenario ``name`` on Docker 29 with ``--firewall-backend=nftables``: the
    same containers and networks, Docker's ``table ip docker-bridges`` instead of iptables."""
    from netlab.scenarios import catalogue
    from netlab.scenarios.docker import docker_host

    def build(version: str):  # noqa: ANN202 - a Scenario
        base = catalogue.build(name, version=version) if name in catalogue.CATALOGUE else BUILDERS[name](version)
        if not base.docker or not base.docker.version.startswith("29"):
            raise ValueError(f"the nftables backend exists from Docker 29 only, not {version}")
        return _rebuilt_nft(base, docker_host)

    return build


def _rebuilt_nft(base: Any, docker_host: Any) -> Any:
    """``base`` built again by ``docker_host`` with the nftables backend (same seed, same order)."""
    from netlab.scenarios.docker import Container

    d = base.docker
    containers = [Container(n.name, image=n.image or "nginx", ports=list(n.ports),
                            network=next((net.name for net in d.networks if net.bridge == n.network), "bridge"),
                            services=[s for s in n.services if s.kind != "dns"],  # docker_host adds its own
                            aliases=list(n.aliases))
                  for n in base.nodes.values() if n.role == "container"]
    nets = [net for net in d.networks if net.bridge != "docker0"]
    sc = docker_host("29", containers, userland_proxy=d.userland_proxy, icc=d.icc, networks=nets,
                     ip_forward_was_on=d.ip_forward_was_on, firewall_backend="nftables",
                     name=f"{base.name}-nftables")
    for node in base.nodes.values():  # extra routes a builder added (the LAN route to containers)
        if node.role != "container" and node.name in sc.nodes:
            for r in node.routes:
                if r not in sc.nodes[node.name].routes:
                    sc.nodes[node.name].routes.append(r)
    return sc


BUILDERS: dict[str, Callable[[str], Any]] = {"udp-published": _udp_published,
                                             "lan-route": _lan_routes_to_containers,
                                             "big-pings-dropped": _big_pings_dropped}
for _name in ("article", "two-bridges", "published-on-localhost", "lan-route", "hairpin", "user-network-dns"):
    BUILDERS[f"{_name}-nftables"] = _nft(_name)
NFT = ("29",)


def _nft_admin_drop(version: str):  # noqa: ANN202 - a Scenario
    """The nftables article host with an administrator's table dropping forwarded traffic
    (lesson 6's DOCKER-USER DROP on Docker 29's nftables backend)."""
    from netlab.scenarios.catalogue import with_admin_drop

    return with_admin_drop(BUILDERS["article-nftables"](version))


BUILDERS["article-nftables-admin-drop"] = _nft_admin_drop


CASES: list[Case] = [
    Case("port-forward-from-lan", "article",
         {"kind": "http", "src": "client", "dst": "192.168.56.38", "dport": 80}, versions=(*ALL, "28.0.0"),
         what="the article's -p 80:80 reached from the LAN (DNAT in PREROUTING, FORWARD accept)"),
    Case("port-forward-from-host", "article",
         {"kind": "http", "src": "host", "dst": "192.168.56.38", "dport": 80},
         what="the same port from the host itself (DNAT in nat OUTPUT)"),
    Case("container-to-internet", "article",
         {"kind": "ping", "src": "web", "dst": "203.0.113.10"},
         what="MASQUERADE on the way out, de-NAT of the reply"),
    Case("container-to-internet-udp", "article",
         {"kind": "udp", "src": "web", "dst": "203.0.113.10", "dport": 7}, versions=("27",),
         what="a UDP datagram out through MASQUERADE and its echo back"),
    Case("container-to-container", "two-containers",
         {"kind": "tcp", "src": "app", "dst": "web", "dport": 80},
         what="two containers on docker0 talk through the bridge, no routing"),
    Case("two-bridges-isolated", "two-bridges",
         {"kind": "ping", "src": "web", "dst": "db", "timeout": 0.5}, versions=(*ALL, "28.0.0"),
         what="user-defined networks front and back are isolated from each other"),
    Case("localhost-publish-from-lan", "published-on-localhost",
         {"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 8080, "timeout": 0.5},
         what="-p 127.0.0.1:8080:80 is not reachable from outside"),
    Case("localhost-publish-from-host", "published-on-localhost",
         {"kind": "http", "src": "host", "dst": "127.0.0.1", "dport": 8080},
         what="-p 127.0.0.1:8080:80 from the host itself, through docker-proxy", concurrent=True),
    Case("udp-publish-from-lan", "udp-published",
         {"kind": "udp", "src": "client", "dst": "192.168.56.38", "dport": 5353},
         what="-p 5353:53/udp: a datagram DNATed in, its answer de-NATed out"),
    Case("udp-publish-through-proxy", "udp-published",
         {"kind": "udp", "src": "host", "dst": "127.0.0.1", "dport": 5354}, versions=("27",),
         what="-p 127.0.0.1:5354:53/udp from the host: docker-proxy relays the datagram"),
    Case("hairpin-no-proxy", "hairpin",
         {"kind": "http", "src": "app", "dst": "192.168.56.38", "dport": 80},
         what="a container reaches a published port through the host address, userland proxy off"),
    Case("hairpin-own-port", "hairpin",
         {"kind": "http", "src": "web", "dst": "192.168.56.38", "dport": 80},
         what="a container reaches its own published port (hairpin on the bridge port)"),
    Case("unpublished-port", "unpublished-port",
         {"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 8080, "timeout": 0.5},
         what="a port the container listens on but nobody published"),
    Case("direct-to-container-ip", "lan-route",
         {"kind": "tcp", "src": "client", "dst": "172.17.0.2", "dport": 80, "timeout": 0.5},
         what="a LAN host routing to the container's own address: allowed up to 27, dropped in "
              "raw PREROUTING from 28"),
    Case("ip-forward-off", "ip-forward-off",
         {"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 80, "timeout": 0.5},
         what="net.ipv4.ip_forward=0: DNAT happens, forwarding does not"),
    Case("docker-user-drop", "docker-user-drop",
         {"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 80, "timeout": 0.5},
         what="an administrator's DROP in DOCKER-USER"),
    Case("internal-network", "internal-network",
         {"kind": "ping", "src": "db", "dst": "203.0.113.10", "timeout": 0.5},
         what="--internal: no way out"),
    Case("icc-off", "icc-off",
         {"kind": "tcp", "src": "app", "dst": "web", "dport": 80, "timeout": 0.5},
         what="--icc=false: containers on docker0 cannot reach each other"),
    Case("ping-gateway", "article",
         {"kind": "ping", "src": "web", "dst": "172.17.0.1"}, versions=("27",),
         what="a container pings its gateway, the docker0 address"),
    Case("traceroute-to-internet", "article",
         {"kind": "traceroute", "src": "web", "dst": "203.0.113.10"}, versions=("27",),
         what="TTL exceeded from docker0's address, the gateway, then port unreachable"),
    Case("ttl-expires-at-gateway", "article",
         {"kind": "ping", "src": "web", "dst": "203.0.113.10", "ttl": 2}, versions=("27",),
         what="TTL 2: the gateway answers time-exceeded, de-NATed back as RELATED"),
    Case("udp-closed-port-outside", "article",
         {"kind": "udp", "src": "web", "dst": "203.0.113.10", "dport": 9, "timeout": 0.5}, versions=("27",),
         what="a closed UDP port on the internet: ICMP port unreachable through both NATs"),
    Case("arp-and-fdb-first-packet", "two-containers",
         {"kind": "ping", "src": "app", "dst": "web"}, versions=("27",),
         what="the first packet: ARP broadcast flooded by the bridge, FDB learnt from the reply"),
    Case("arping-gateway", "article",
         {"kind": "arping", "src": "web", "dst": "172.17.0.1"}, versions=("27",),
         what="an ARP request and its reply, alone"),
    # Docker 29 with --firewall-backend=nftables: table ip docker-bridges loaded with nft -f
    Case("nft-port-forward-from-lan", "article-nftables",
         {"kind": "http", "src": "client", "dst": "192.168.56.38", "dport": 80}, versions=NFT,
         what="nftables backend: DNAT in nat-prerouting-and-output, accept in filter-forward-in__docker0"),
    Case("nft-port-forward-from-host", "article-nftables",
         {"kind": "http", "src": "host", "dst": "192.168.56.38", "dport": 80}, versions=NFT,
         what="nftables backend: the host reaches its published port (nat-OUTPUT's jump)"),
    Case("nft-masquerade-out", "article-nftables",
         {"kind": "ping", "src": "web", "dst": "203.0.113.10"}, versions=NFT,
         what="nftables backend: masquerade in nat-postrouting-out__docker0, reply de-NATed"),
    Case("nft-two-bridges-isolated", "two-bridges-nftables",
         {"kind": "ping", "src": "web", "dst": "db", "timeout": 0.5}, versions=NFT,
         what="nftables backend: UNPUBLISHED PORT DROP isolates the two user networks"),
    Case("nft-direct-to-container-ip", "lan-route-nftables",
         {"kind": "tcp", "src": "client", "dst": "172.17.0.2", "dport": 80, "timeout": 0.5}, versions=NFT,
         what="nftables backend: DROP DIRECT ACCESS in raw-PREROUTING"),
    Case("nft-localhost-publish-from-lan", "published-on-localhost-nftables",
         {"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 8080, "timeout": 0.5}, versions=NFT,
         what="nftables backend: -p 127.0.0.1:8080:80 is not reachable from the LAN"),
    Case("nft-localhost-publish-from-host", "published-on-localhost-nftables",
         {"kind": "http", "src": "host", "dst": "127.0.0.1", "dport": 8080}, versions=NFT,
         what="nftables backend: -p 127.0.0.1:8080:80 from the host, through docker-proxy", concurrent=True),
    Case("nft-admin-table-drop", "article-nftables-admin-drop",
         {"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 80, "timeout": 0.5}, versions=NFT,
         what="nftables backend: another table's forward chain drops; Docker's accept does not save it"),
    Case("nft-hairpin-no-proxy", "hairpin-nftables",
         {"kind": "http", "src": "app", "dst": "192.168.56.38", "dport": 80}, versions=NFT,
         what="nftables backend, userland proxy off: hairpin DNAT and MASQUERADE FROM HOST"),
    # Docker's embedded DNS: nat OUTPUT in the container's own namespace sends 127.0.0.11:53 to
    # the resolver's port; conntrack gives the answer its :53 back (journey.result compared too)
    Case("dns-same-network", "user-network-dns", {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "db"},
         what="embedded DNS answers a container on the same user network"),
    Case("dns-other-network", "user-network-dns",
         {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "cache"}, versions=("27",),
         what="a container on another network: NXDOMAIN"),
    Case("dns-alias", "user-network-dns",
         {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "database"}, versions=("27",),
         what="--network-alias answered like the name"),
    Case("dns-default-bridge", "user-network-dns",
         {"kind": "dns", "src": "legacy", "dst": "127.0.0.11", "name": "db", "timeout": 0.5}, versions=("27",),
         what="docker0 has no embedded DNS: nothing listens on 127.0.0.11 (port unreachable)"),
    Case("nft-dns-same-network", "user-network-dns-nftables",
         {"kind": "dns", "src": "web", "dst": "127.0.0.11", "name": "db"}, versions=NFT,
         what="nftables backend: table ip docker-dns in the container does the redirect"),
]


@dataclass(frozen=True)
class Sequence:
    """Several probes in a row on one network: what one probe leaves behind (ARP and FDB
    entries, conntrack entries, the simulator's cached verdicts) must change the next ones
    as the kernel's state does."""

    id: str
    scenario: str
    probes: tuple[dict[str, Any], ...]
    version: str = "27"
    what: str = ""

    def build(self):  # noqa: ANN201 - a Scenario
        return Case(self.id, self.scenario, {}).build(self.version)


_BIG = bytes(range(256)) + bytes(44)  # 300 bytes: a 328-byte IPv4 packet
SEQUENCES: list[Sequence] = [
    Sequence("length-small-then-big", "big-pings-dropped",
             ({"kind": "ping", "src": "client", "dst": "host", "timeout": 0.5},
              {"kind": "ping", "src": "client", "dst": "host", "payload": _BIG, "timeout": 0.5},
              {"kind": "ping", "src": "client", "dst": "host", "timeout": 0.5}),
             what="-m length drops only the big ping, whichever comes first"),
    Sequence("length-big-then-small", "big-pings-dropped",
             ({"kind": "ping", "src": "client", "dst": "host", "payload": _BIG, "timeout": 0.5},
              {"kind": "ping", "src": "client", "dst": "host", "timeout": 0.5},
              {"kind": "ping", "src": "client", "dst": "host", "payload": _BIG, "timeout": 0.5})),
    Sequence("port-forward-twice-then-ping", "article",
             ({"kind": "http", "src": "client", "dst": "192.168.56.38", "dport": 80},
              {"kind": "http", "src": "client", "dst": "192.168.56.38", "dport": 80},
              {"kind": "ping", "src": "client", "dst": "192.168.56.38"}),
             what="ARP cached after the first probe; each connection NATed by the rule once"),
    Sequence("masquerade-ping-twice", "article",
             ({"kind": "ping", "src": "web", "dst": "203.0.113.10"},
              {"kind": "ping", "src": "web", "dst": "203.0.113.10"},
              {"kind": "udp", "src": "web", "dst": "203.0.113.10", "dport": 7}),
             what="the second ping meets learnt FDB and ARP entries on the way out"),
    Sequence("closed-then-open", "two-containers",
             ({"kind": "tcp", "src": "app", "dst": "web", "dport": 81, "timeout": 0.5},
              {"kind": "http", "src": "app", "dst": "web", "dport": 80},
              {"kind": "ping", "src": "web", "dst": "app"}),
             what="a refused connect, then a served one, then the other way round"),
]


def cases() -> list[tuple[Case, str]]:
    """Every (case, version) pair the differential suite runs."""
    return [(c, v) for c in CASES for v in c.versions]


def by_connection(signature: list[tuple]) -> dict[tuple, list[tuple]]:
    """A signature split into one ordered list per connection (the ephemeral-port roles an
    item mentions), ARP on its own, and the outcome.  Used for :attr:`Case.concurrent` cases,
    where only each connection's own order is the kernel's to decide."""
    flows: dict[tuple, list[tuple]] = {}
    for item in signature:
        roles = tuple(sorted({str(x) for x in item if str(x).startswith("eph")} |
                             {w.split(":")[-1] for x in item if isinstance(x, str) and ":eph" in x
                              for w in [x]}))
        if item[0] == "outcome":
            key: tuple = ("outcome",)
        elif "arp" in item:
            key = ("arp",)
        else:
            key = roles or ("other",)
        flows.setdefault(key, []).append(item)
    return flows


def settle_bystanders(signature: list[tuple], scenario) -> list[tuple]:  # noqa: ANN001 - a Scenario
    """Each bystander's copy of a broadcast ARP request placed right after the bridge port sent it.

    A bridge floods a request to every port; the copy that reaches a namespace that is not
    asked (the target address is not its own) ends there.  When that namespace's kernel gets
    to it, relative to what other namespaces do meanwhile, depends on how the kernel schedules
    its receive queues (backlog or veth NAPI), not on anything the packet does — so both
    journeys put it at the one place causality fixes: just after the port that sent it.
    Nothing else moves; every packet still has to be seen at the same interfaces.
    """
    own = {name: set(node.ips()) for name, node in scenario.nodes.items()}
    out = list(signature)
    for item in list(out):
        if not (item[0] == "seen" and item[3] == "in" and item[4] == "arp" and item[6] == "broadcast"
                and item[7] == 1 and item[9] not in own.get(item[1], ())):
            continue
        peer = scenario.peer(item[1], item[2])
        if peer is None:
            continue
        i = out.index(item)
        sent = (*peer, "out", *item[4:])
        j = max((k for k in range(i) if out[k][:1] == ("seen",) and out[k][1:] == sent), default=None)
        if j is None:
            continue
        out.pop(i)
        out.insert(j + 1, item)
    return out


def nat_attribution(journey) -> list[tuple]:  # noqa: ANN001 - a Journey
    """Who did each NAT rewrite, as a sorted list: (node, hook, NAT kind, by (rule position or
    "conntrack"), rewritten side, conntrack state and direction).

    The signature compares what each rewrite did; this compares who the journey says did it —
    the ``nat`` table rule for a connection's first packet, conntrack for every later one.
    Addresses and entry numbers are left out (the signature has the addresses).  A RELATED
    rewrite of a node's own answer that no wire saw before it is left out, as in the signature."""
    out = []
    seen_ids: set = set()
    for e in journey.steps:
        if e.kind == "seen" and e.packet_id is not None:
            seen_ids.add(e.packet_id)
        if e.kind != "nat":
            continue
        if e.packet_id is not None and e.packet_id not in seen_ids and e.related:
            continue
        out.append((e.node, e.hook or "", e.nat_kind or "", e.nat_by or "", e.nat_side or "",
                    e.ct_state or "", e.ct_direction or ""))
    return sorted(out)


def packet_order(journey) -> list[tuple]:  # noqa: ANN001 - a Journey
    """The probe's packets in the order of their numbers (``packet_id``: the order they were
    made — a packet waiting for ARP before the request it caused), each by where it was first
    seen: (node, iface, direction, proto, TCP flags or ARP op)."""
    first: dict[int, tuple] = {}
    for e in journey.seen():
        if e.packet_id is not None and e.packet_id not in first:
            f = e.frame
            first[e.packet_id] = (e.node, e.iface, e.direction, f.proto, f.flags if f.proto == "tcp" else
                                  (f.arp_op if f.proto == "arp" else f.icmp_type))
    return [first[k] for k in sorted(first)]


def without_lone_fin_acks(journey):  # noqa: ANN001, ANN201 - a Journey
    """``journey`` without the bare ACKs a node sent for a FIN just before sending its own FIN
    on the same connection.

    Whether the kernel acknowledges a peer's FIN alone, or folds the ACK into its own FIN,
    depends on how soon the application closes (a delayed ACK timer against a busy CPU),
    not on anything the rules or routes decide: the one piece of kernel timing the
    sim-vs-kernel comparison lays aside, on both sides alike."""
    import dataclasses

    sent: dict[int, tuple] = {}  # packet id -> (node, sport, dport, flags, payload) where first sent
    for e in journey.steps:
        f = e.frame
        if (e.kind == "seen" and e.packet_id is not None and e.packet_id not in sent
                and f is not None and f.proto == "tcp" and e.direction == "out"):
            sent[e.packet_id] = (e.node, f.sport, f.dport, f.flags or "", bool(f.payload))
    order = sorted(sent)
    lone = set()
    for k, pid in enumerate(order):
        node, sport, dport, flags, data = sent[pid]
        if flags != "A" or data:
            continue
        if not any(sent[q][1:3] == (dport, sport) and "F" in sent[q][3] for q in order[:k]):
            continue  # not the ACK of the peer's FIN
        nxt = next((q for q in order[k + 1:] if sent[q][:3] == (node, sport, dport)), None)
        if nxt is not None and "F" in sent[nxt][3]:
            lone.add(pid)
    if not lone:
        return journey
    return dataclasses.replace(journey, steps=[e for e in journey.steps if e.packet_id not in lone])


def _fmt(item: tuple) -> str:
    return " ".join("-" if x is None else str(x) for x in item)


def side_by_side(sim: list[tuple], lab: list[tuple], width: int = 78) -> str:
    """Two signatures next to each other; ``|`` marks rows that differ, ``<``/``>`` rows
    only one side has."""
    a, b = [_fmt(x) for x in sim], [_fmt(x) for x in lab]
    out = [f"{'sim':<{width}}   lab", f"{'-' * width}   {'-' * width}"]
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        left, right = a[i1:i2], b[j1:j2]
        for k in range(max(len(left), len(right))):
            x = left[k] if k < len(left) else ""
            y = right[k] if k < len(right) else ""
            mark = " " if op == "equal" else ("|" if x and y else ("<" if x else ">"))
            out.append(f"{x[:width]:<{width}} {mark} {y[:width]}")
    return "\n".join(out)


Runner = Callable[..., Any]
