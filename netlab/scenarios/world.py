"""The network around the Docker host: a LAN client, the default gateway and "the internet".

The article's host is a VirtualBox VM with two NICs: ``enp0s3`` on VirtualBox's
NAT network (10.0.2.15/24, gateway 10.0.2.2) and ``enp0s8`` on a host-only
network (192.168.56.38/24) where the laptop is 192.168.56.1.  netlab keeps those
addresses and puts "the internet" behind the gateway at a documentation address
(203.0.113.10), so a lesson can follow a packet out and back.
"""

from __future__ import annotations

import ipaddress

from netlab.scenarios.seeded import Draws
from netlab.scenarios.topology import Interface, Node, RouteSpec, Scenario, Service

HOST_WAN = ("enp0s3", "10.0.2.15", 24)
HOST_LAN = ("enp0s8", "192.168.56.38", 24)
GATEWAY_LAN = "10.0.2.2"
GATEWAY_WAN = "203.0.113.1"
INTERNET_IP = "203.0.113.10"
CLIENT_IP = "192.168.56.1"
VIRTUALBOX_OUI = "08:00:27"
VIRTUALBOX_NAT_GATEWAY_MAC = "52:54:00:12:35:02"  # what VirtualBox's NAT router answers ARP with
VIRTUALBOX_HOSTONLY_MAC = "0a:00:27:00:00:00"  # vboxnet0 on the laptop side


def loopback() -> Interface:
    return Interface("lo", kind="loopback", mac="00:00:00:00:00:00", addresses=["127.0.0.1/8"],
                     mtu=65536)


def connected(ifname: str, cidr: str, *, metric: int | None = None) -> RouteSpec:
    """The prefix route an address adds (``proto kernel scope link src …``)."""
    iface = ipaddress.IPv4Interface(cidr)
    return RouteSpec(str(iface.network), ifname, src=str(iface.ip), metric=metric, scope="link",
                     proto="kernel")


def host_node(draws: Draws) -> Node:
    """The Docker host with its two NICs and the routes the article's ``ip route`` shows."""
    wan, lan = HOST_WAN, HOST_LAN
    return Node(
        name="host",
        role="host",
        interfaces=[
            loopback(),
            Interface(wan[0], mac=draws.oui_mac(VIRTUALBOX_OUI), addresses=[f"{wan[1]}/{wan[2]}"]),
            Interface(lan[0], mac=draws.oui_mac(VIRTUALBOX_OUI), addresses=[f"{lan[1]}/{lan[2]}"]),
        ],
        routes=[
            RouteSpec("default", wan[0], via=GATEWAY_LAN, metric=100, proto="static"),
            connected(wan[0], f"{wan[1]}/{wan[2]}", metric=100),
            connected(lan[0], f"{lan[1]}/{lan[2]}", metric=100),
        ],
        label="Docker host",
    )


def add_world(scenario: Scenario, draws: Draws) -> None:
    """Add ``client``, ``gateway`` and ``internet`` and wire them to the host's NICs."""
    scenario.add(Node(
        name="client",
        role="client",
        interfaces=[loopback(), Interface("eth0", mac=VIRTUALBOX_HOSTONLY_MAC,
                                          addresses=[f"{CLIENT_IP}/24"])],
        routes=[connected("eth0", f"{CLIENT_IP}/24")],
        label="LAN client (host-only network)",
    ))
    scenario.add(Node(
        name="gateway",
        role="gateway",
        interfaces=[
            loopback(),
            Interface("eth0", mac=VIRTUALBOX_NAT_GATEWAY_MAC, addresses=[f"{GATEWAY_LAN}/24"]),
            Interface("eth1", mac=draws.random_mac(), addresses=[f"{GATEWAY_WAN}/24"]),
        ],
        routes=[connected("eth0", f"{GATEWAY_LAN}/24"), connected("eth1", f"{GATEWAY_WAN}/24")],
        sysctls={"net.ipv4.ip_forward": "1"},
        label="default gateway",
    ))
    scenario.add(Node(
        name="internet",
        role="internet",
        interfaces=[loopback(), Interface("eth0", mac=draws.random_mac(),
                                          addresses=[f"{INTERNET_IP}/24"])],
        routes=[RouteSpec("default", "eth0", via=GATEWAY_WAN),
                connected("eth0", f"{INTERNET_IP}/24")],
        services=[Service("tcp", 80, "http"), Service("udp", 7, "udp-echo")],
        label="the internet (203.0.113.10)",
    ))
    scenario.wire(("host", HOST_WAN[0]), ("gateway", "eth0"))
    scenario.wire(("host", HOST_LAN[0]), ("client", "eth0"))
    scenario.wire(("gateway", "eth1"), ("internet", "eth0"))
