"""Docker's embedded DNS server, as data: what a container on a user-defined network gets.

``docker run --network mynet`` starts a resolver for the container inside dockerd,
listening in the container's namespace on 127.0.0.11 at two random high ports (one UDP,
one TCP), writes ``nameserver 127.0.0.11`` into its ``/etc/resolv.conf`` and loads these
nat rules *in the container's namespace* (moby v28.5.2 ``libnetwork/resolver_unix.go``,
``setupIptablesNAT``; the same in v27.5.1 and docker-v29.0.0
``daemon/libnetwork/resolver_unix.go``)::

    -I DOCKER_OUTPUT -d 127.0.0.11 -p udp --dport 53 -j DNAT --to-destination 127.0.0.11:<udp>
    -I DOCKER_POSTROUTING -s 127.0.0.11 -p udp --sport <udp> -j SNAT --to-source :53
    (the same two for tcp), after -I OUTPUT -d 127.0.0.11 -j DOCKER_OUTPUT and
    -I POSTROUTING -d 127.0.0.11 -j DOCKER_POSTROUTING

Each ``-I`` inserts at the top, so ``iptables-save`` lists tcp before udp.  With
``--firewall-backend=nftables`` (29+) the same four rules are ``table ip docker-dns``
(``setupNftablesNAT``).  Containers on the default bridge get none of this: they copy the
host's ``resolv.conf``, and nothing listens on 127.0.0.11 there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.dns import RESOLVER_IP

if TYPE_CHECKING:  # pragma: no cover
    from netlab.scenarios.topology import Node, Scenario, Service


def iptables_rules(udp_port: int, tcp_port: int) -> str:
    """The container's ``iptables-save -t nat`` once Docker's resolver is set up."""
    r = f"{RESOLVER_IP}/32"
    return "\n".join([
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]", ":DOCKER_OUTPUT - [0:0]", ":DOCKER_POSTROUTING - [0:0]",
        f"-A OUTPUT -d {r} -j DOCKER_OUTPUT",
        f"-A POSTROUTING -d {r} -j DOCKER_POSTROUTING",
        f"-A DOCKER_OUTPUT -d {r} -p tcp -m tcp --dport 53 -j DNAT --to-destination {RESOLVER_IP}:{tcp_port}",
        f"-A DOCKER_OUTPUT -d {r} -p udp -m udp --dport 53 -j DNAT --to-destination {RESOLVER_IP}:{udp_port}",
        f"-A DOCKER_POSTROUTING -s {r} -p tcp -m tcp --sport {tcp_port} -j SNAT --to-source :53",
        f"-A DOCKER_POSTROUTING -s {r} -p udp -m udp --sport {udp_port} -j SNAT --to-source :53",
        "COMMIT", "",
    ])


def nftables_rules(udp_port: int, tcp_port: int) -> str:
    """``table ip docker-dns`` (Docker 29 ``--firewall-backend=nftables``, setupNftablesNAT)."""
    return "\n".join([
        "table ip docker-dns {",
        "\tchain dns-dnat {",
        "\t\ttype nat hook output priority dstnat; policy accept;",
        f"\t\tip daddr {RESOLVER_IP} udp dport 53 counter packets 0 bytes 0 dnat to {RESOLVER_IP}:{udp_port}",
        f"\t\tip daddr {RESOLVER_IP} tcp dport 53 counter packets 0 bytes 0 dnat to {RESOLVER_IP}:{tcp_port}",
        "\t}",
        "",
        "\tchain dns-snat {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        f"\t\tip saddr {RESOLVER_IP} udp sport {udp_port} counter packets 0 bytes 0 snat to :53",
        f"\t\tip saddr {RESOLVER_IP} tcp sport {tcp_port} counter packets 0 bytes 0 snat to :53",
        "\t}",
        "}", "",
    ])


def resolver_services(udp_port: int, tcp_port: int) -> list[Service]:
    """The resolver's two listening sockets in the container's namespace."""
    from netlab.scenarios.topology import Service

    return [Service("udp", udp_port, "dns", bind=RESOLVER_IP), Service("tcp", tcp_port, "dns", bind=RESOLVER_IP)]


def network_name(scenario: Scenario, bridge: str | None) -> str | None:
    """The Docker network name of a bridge (``br-0123…`` → ``mynet``)."""
    for net in (scenario.docker.networks if scenario.docker else []):
        if net.bridge == bridge:
            return net.name
    return None


def network_records(scenario: Scenario) -> dict[str | None, dict[str, str]]:
    """For every bridge, the names its containers' embedded resolvers answer (one pass over
    the scenario: :func:`records` of each container is its bridge's entry)."""
    names = {net.bridge: net.name for net in (scenario.docker.networks if scenario.docker else [])}
    out: dict[str | None, dict[str, str]] = {}
    for other in scenario.nodes.values():
        if other.role != "container" or other.ip is None:
            continue
        table = out.setdefault(other.network, {})
        net_name = names.get(other.network or "")
        for n in [other.name, *getattr(other, "aliases", [])]:
            table.setdefault(n.lower(), other.ip)
            if net_name:
                table.setdefault(f"{n}.{net_name}".lower(), other.ip)
    return out


def records(scenario: Scenario, node: Node) -> dict[str, str]:
    """The names ``node``'s embedded resolver answers, lower-case, each with its address:
    every container on the same network by ``name``, ``name.network`` and each alias
    (libnetwork ``Sandbox.ResolveName``)."""
    return dict(network_records(scenario).get(node.network, {}))
