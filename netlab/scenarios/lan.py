"""More than one machine on the host's LAN (lesson 15's capstone).

The standard scenario wires the LAN client straight to the host's ``enp0s8``.
:func:`with_lan_clients` puts a switch in between — a node ``lan`` holding a Linux
bridge ``br0`` — and plugs more clients into it, each a namespace with one ``eth0``
on 192.168.56.0/24, so "allow only one LAN address" can be tried from two machines.
"""

from __future__ import annotations

import ipaddress
import re

from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.topology import Interface, Node, RouteSpec, Scenario

LAN = ipaddress.ip_network("192.168.56.0/24")
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,11}$")


def _mac(n: int) -> str:
    return f"0a:00:27:00:01:{n:02x}"  # locally administered, like VirtualBox's host-only ones


def with_lan_clients(scenario: Scenario, clients: dict[str, str]) -> Scenario:
    """A copy of ``scenario`` with a switch ``lan`` between the host's ``enp0s8`` and
    ``client``, and one more LAN machine per ``{name: address}`` plugged into it."""
    s = Scenario.from_dict(scenario.to_dict())
    if "client" not in s.nodes or s.peer("host", "enp0s8") != ("client", "eth0"):
        raise ScenarioError("with_lan_clients needs the standard LAN: the host's enp0s8 wired to client's eth0")
    if not clients:
        raise ScenarioError("give at least one more LAN client, e.g. {'client2': '192.168.56.2'}")
    used = {ip for n in s.nodes.values() for ip in n.ips()}
    for name, ip in clients.items():
        if not _NAME.fullmatch(name) or name in s.nodes or name == "lan":
            raise ScenarioError(f"{name!r} cannot name a new LAN client: use lower-case letters, digits "
                                f"and '-', up to 12, not one of {sorted(s.nodes)}")
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            raise ScenarioError(f"{ip!r} is not an IPv4 address on {LAN}") from None
        if addr not in LAN or addr in (LAN.network_address, LAN.broadcast_address) or ip in used:
            raise ScenarioError(f"{ip} is not a free host address of {LAN} (taken: {sorted(used & {ip}) or 'none'})")
        used.add(ip)
    s.wires = [w for w in s.wires if {w.a, w.b} != {("host", "enp0s8"), ("client", "eth0")}]
    ports = ["p0", "p1", *(f"p{i + 2}" for i in range(len(clients)))]
    s.add(Node("lan", "switch", label="LAN switch", interfaces=[
        Interface("lo", kind="loopback", addresses=["127.0.0.1/8"]), Interface("br0", kind="bridge"),
        *(Interface(p, mac=_mac(0x80 + i), master="br0") for i, p in enumerate(ports))]))
    s.wire(("host", "enp0s8"), ("lan", "p0"))
    s.wire(("client", "eth0"), ("lan", "p1"))
    for i, (name, ip) in enumerate(clients.items()):
        s.add(Node(name, "client", label=f"LAN client {ip}", interfaces=[
            Interface("lo", kind="loopback", addresses=["127.0.0.1/8"]),
            Interface("eth0", mac=_mac(i + 2), addresses=[f"{ip}/24"])],
            routes=[RouteSpec(str(LAN), "eth0", scope="link", proto="kernel", src=ip)]))
        s.wire((name, "eth0"), ("lan", ports[i + 2]))
    return s
