"""The names a scenario may use, checked the same way for the simulator and the lab.

A node becomes the network namespace ``nl<6 hex>-<node>``, an interface a kernel
link, an ipset a set in that namespace: every such name reaches an ``ip``,
``ipset`` or ``sysctl`` argument in the lab, so each must be *entirely* of the
allowed characters (``re.fullmatch``: ``"x\\n"`` is refused, where ``re.match``
with ``$`` would accept it).  ``check_scenario`` runs when a :class:`SimNet` or a
:class:`~netlab.lab.Lab` is made, so both backends give the same answer (the
same :class:`NameRefused`, the same message) for the same scenario.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from netlab.errors import LabError
from netlab.numbers import is_decimal, port
from netlab.scenarios.errors import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from netlab.scenarios.topology import Scenario

# a node: what ``docker compose`` names containers (``app-web-1``) fits; at most a DNS
# label's 63 characters, so ``nl1a2b3c-<node>`` stays far below a file name's 255
NODE = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}"
PREFIX_RE = re.compile(r"nl[0-9a-f]{6}")
NODE_RE = re.compile(NODE)
NETNS_RE = re.compile(rf"(nl[0-9a-f]{{6}})-({NODE})")
# the kernel's dev_valid_name (IFNAMSIZ - 1 = 15 characters) narrowed to what `ip` reads as a name
IFNAME_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}")
MAC_RE = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
IPSET_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,30}")  # IPSET_MAXNAMELEN 32 with its NUL
SYSCTL_KEY_RE = re.compile(r"[a-z0-9_]+(\.[A-Za-z0-9_@-]+)+")
SYSCTL_VALUE_RE = re.compile(r"[A-Za-z0-9 _.:\-]{0,64}")
# words ``ip link`` would read as a keyword where an interface name is expected
IP_KEYWORDS = {"dev", "name", "type", "address", "netns", "peer", "master", "up", "down", "help"}


class NameRefused(ScenarioError, LabError):
    """A name no namespace, link, ipset or sysctl may have; the message says which rule."""


def _ok(pattern: re.Pattern[str], value: object) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def check_prefix(prefix: str) -> str:
    if not _ok(PREFIX_RE, prefix):
        raise NameRefused(
            f"lab prefix {prefix!r} is not of the form 'nl' + 6 hex digits (e.g. 'nl1a2b3c'); "
            "leave prefix=None to get a fresh one")
    return prefix


def check_node(name: str) -> str:
    if not _ok(NODE_RE, name):
        shown = name if not isinstance(name, str) or len(name) <= 80 else name[:70] + "…"
        raise NameRefused(
            f"node name {shown!r} cannot name a namespace: use 1-63 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (like app-web-1)")
    return name


def check_ifname(name: str) -> str:
    if not _ok(IFNAME_RE, name) or name in (".", "..") or name in IP_KEYWORDS:
        raise NameRefused(
            f"interface name {name!r} is not one the kernel accepts: 1-15 characters, letters, "
            "digits, '_', '.', '-' (and not an `ip` keyword)")
    return name


def check_mac(mac: str) -> str:
    m = mac.lower() if isinstance(mac, str) else mac
    if not _ok(MAC_RE, m):
        raise NameRefused(f"MAC address {mac!r} is not six hex pairs joined by ':'")
    if int(m[:2], 16) & 1:
        raise NameRefused(f"MAC address {mac!r} is a multicast address; an interface needs a unicast one")
    return m


def check_ipset(name: str) -> str:
    """An ipset name (``docker-ext-bridges-v4``): at most 31 characters, no spaces."""
    if not _ok(IPSET_RE, name):
        raise NameRefused(f"ipset name {name!r} is not one ipset accepts: 1-31 letters, digits, "
                          "'_', '.', ':' or '-', starting with a letter, digit or '_'")
    return name


def check_sysctl(key: str, value: str) -> tuple[str, str]:
    """A sysctl ``net.ipv4.ip_forward`` = ``1`` (dots or slashes; only ``net.*``)."""
    k = key.replace("/", ".") if isinstance(key, str) else key
    if not _ok(SYSCTL_KEY_RE, k) or not k.startswith("net.") or ".." in k:
        raise NameRefused(f"sysctl {key!r}: a lab sets only per-namespace net.* sysctls, "
                          "like net.ipv4.ip_forward")
    v = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not _ok(SYSCTL_VALUE_RE, v):
        raise NameRefused(f"sysctl {k} value {value!r} has characters a sysctl value never needs")
    return k, v


def _port(value: object, what: str) -> int:
    n = port(value)
    if n is None:
        raise NameRefused(f"{what} {value!r} is not a port number 1-65535")
    return n


def check_service(node: str, svc: Any) -> dict[str, Any]:
    """A node's ``Service`` as the lab's server process reads it (the simulator starts the
    same one): protocol, kind, port, bind address and, for docker-proxy, ``ip:port``."""
    where = f"service on {node}:{getattr(svc, 'port', '?')}"
    if svc.proto not in ("tcp", "udp"):
        raise NameRefused(f"{where}: protocol {svc.proto!r} must be tcp or udp")
    if svc.kind not in ("http", "tcp", "udp-echo", "docker-proxy", "dns"):
        raise NameRefused(f"{where}: kind {svc.kind!r} must be http, tcp, udp-echo, docker-proxy or dns")
    spec: dict[str, Any] = {"proto": svc.proto, "kind": svc.kind, "port": _port(svc.port, f"{where}: port"),
                            "bind": _ipv4(svc.bind or "0.0.0.0", f"{where}: bind address")}
    if svc.kind == "docker-proxy":
        target = svc.target
        ip, sep, port = target.rpartition(":") if isinstance(target, str) else ("", "", "")
        if not sep:
            raise NameRefused(f"{where}: docker-proxy needs target 'ip:port' like 172.17.0.2:80, "
                              f"not {target!r}")
        if not (is_decimal(port)):
            raise NameRefused(f"{where}: docker-proxy target {target!r} needs a port number "
                              "(like 172.17.0.2:80), not a service name")
        spec["target"] = [_ipv4(ip, f"{where}: docker-proxy target"), _port(port, f"{where}: target port")]
    return spec


def _ipv4(text: object, what: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except (ValueError, TypeError):
        raise NameRefused(f"{what} {text!r} is not an IPv4 address") from None


def check_scenario(scenario: Scenario) -> Scenario:
    """Every node, interface, MAC, ipset, sysctl and service of ``scenario``, checked (or
    :class:`NameRefused`): what both backends run before they build anything."""
    for key, node in scenario.nodes.items():
        check_node(key)
        if node.name != key:
            raise NameRefused(f"node {key!r} is filed under another name ({node.name!r}); "
                              "add nodes with scenario.add(node)")
        for iface in node.interfaces:
            check_ifname(iface.name)
            if iface.mac is not None:
                check_mac(iface.mac)
            if iface.master is not None:
                check_ifname(iface.master)
        for route in node.routes:
            check_ifname(route.dev)
        for set_name in node.ipsets:
            check_ipset(set_name)
        for k, v in node.sysctls.items():
            check_sysctl(k, v)
        for svc in node.services:
            check_service(key, svc)
    for wire in scenario.wires:
        for end in (wire.a, wire.b):
            if not (isinstance(end, tuple | list) and len(end) == 2):
                raise NameRefused(f"wire end {end!r} is not (node, interface)")
            check_node(end[0])
            check_ifname(end[1])
    return scenario
