"""``brctl show``, ``bridge link`` and ``bridge fdb`` text output → :class:`HostState`.

Lesson 1 shows that a container's veth is a *port* of docker0 (``brctl show``,
whose ports after the first sit alone on continuation lines), and lesson 3 how
the bridge learns which MAC lives behind which port (``bridge fdb``).
"""

from __future__ import annotations

import re

from netlab.model import Bridge, BridgePort, FdbEntry, HostState, Link
from netlab.parse._errors import empty_error, parse_error
from netlab.parse._links import infer_kind
from netlab.parse._num import to_int
from netlab.parse.clean import clean_lines

_BRIDGE_ID = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{12}$")
_NAME = re.compile(r"^[^\s/:]{1,15}$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$")
_PORT_STATES = frozenset("disabled listening learning forwarding blocking".split())


def parse_brctl_show(text: str | bytes, netns: str = "") -> HostState:
    """Read ``brctl show``: each bridge, its id, STP, and every port (continuation lines too)."""
    command = "brctl show"
    cleaned = clean_lines(text)
    state = HostState(source="paste")
    current: Bridge | None = None
    for lineno, line in cleaned.lines:
        words = line.split()
        if words[:2] == ["bridge", "name"]:
            continue
        if len(words) >= 3 and _BRIDGE_ID.match(words[1]) and words[2] in ("yes", "no"):
            name = words[0]
            if not _NAME.match(name):
                raise parse_error(command, f"{name!r} is not an interface name", cleaned, lineno,
                                  line)
            current = Bridge(name=name, bridge_id=words[1].lower(), stp=words[2] == "yes",
                             netns=netns)
            state.bridges.append(current)
            state.links.append(Link(name=name, kind="bridge", netns=netns,
                                    mac=_mac_from_id(words[1])))
            ports = words[3:]
        elif len(words) == 1 and current is not None and _NAME.match(words[0]):
            ports = words
        elif len(words) >= 2 and _BRIDGE_ID.match(words[1]):
            raise parse_error(command, f"STP column must be `yes` or `no`, not {words[2:3]}",
                              cleaned, lineno, line)
        else:
            raise parse_error(command, "expected `BRIDGE  8000.xxxxxxxxxxxx  no  PORT` or a "
                              "port name alone on a continuation line", cleaned, lineno, line)
        for port in ports:
            if not _NAME.match(port):
                raise parse_error(command, f"{port!r} is not an interface name", cleaned,
                                  lineno, line)
            state.ports.append(BridgePort(bridge=current.name, port=port, netns=netns))
    if not state.bridges:
        raise empty_error(command, cleaned)
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state.normalise()


def _mac_from_id(bridge_id: str) -> str | None:
    """The bridge's MAC is the low 48 bits of its id: 8000.024268deb62a → 02:42:68:de:b6:2a.
    ``8000.000000000000`` (a bridge with no port yet, on kernels before 3.14 / brctl of
    old bridges) says the MAC is not known, not that it is all zeros: None."""
    hexmac = bridge_id.split(".", 1)[1].lower()
    if not hexmac.strip("0"):
        return None
    return ":".join(hexmac[i:i + 2] for i in range(0, 12, 2))


# first words of `bridge -d link` detail lines (a chat may have eaten their indent)
_DETAIL_KEYS = frozenset("hairpin guard root_block fastleave learning flood mcast_flood "
                         "bcast_flood mcast_router mcast_to_unicast neigh_suppress vlan_tunnel "
                         "isolated locked proxy_arp proxy_arp_wifi".split())
_LINK_HEADER = re.compile(
    r"^\s*([0-9]{1,10}):\s+([^\s:@]+)(?:@(\S+?))?(?:\s+state\s+(\w+))?\s*(?:@\S*)?\s*:\s*(?:<([^>]*)>)?(.*)$")


def parse_bridge_link(text: str | bytes, netns: str = "") -> HostState:
    """Read ``bridge link`` (old ``6: veth1 state UP : <...>`` and new ``6: veth1@if5: <...>``).

    Each line is a bridge port with its master, STP state, priority and cost.
    """
    command = "bridge link"
    cleaned = clean_lines(text)
    state = HostState(source="paste")
    last: BridgePort | None = None
    for lineno, line in cleaned.lines:
        m = _LINK_HEADER.match(line)
        if not m:
            if last is not None and (line[:1] == " " or line.split()[0] in _DETAIL_KEYS):
                _port_details(last, line.split())  # `bridge -d link` detail line
                continue
            raise parse_error(command, "expected `N: PORT: <FLAGS> mtu N master BRIDGE state "
                              "forwarding ...`", cleaned, lineno, line)
        index, name, at, oper, flags, rest = m.groups()
        words = rest.split()
        pairs = dict(zip(words[::2], words[1::2], strict=False))
        master = pairs.get("master")
        if master is None:
            raise parse_error(command, "the port names no `master` bridge", cleaned, lineno, line)
        link = Link(name=name, ifindex=int(index), netns=netns, master=master,
                    flags=[f for f in (flags or "").split(",") if f], state=oper)
        link.mtu = to_int(pairs.get("mtu"))
        # `bridge link` prints no link-netnsid, so an `@ifN` here cannot say
        # where the peer lives: the peer is left to `ip link`
        link.kind = infer_kind(link, has_at=bool(at) and at != master)
        state.links.append(link)
        port = BridgePort(bridge=master, port=name, ifindex=int(index), netns=netns)
        port_state = pairs.get("state")
        if port_state is not None and port_state not in _PORT_STATES:
            raise parse_error(command, f"unknown port state {port_state!r}", cleaned, lineno, line)
        port.state = port_state
        _port_details(port, words)
        state.ports.append(port)
        last = port
    if not state.ports:
        raise empty_error(command, cleaned)
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state.normalise()


def _port_details(port: BridgePort, words: list[str]) -> None:
    for key, value in zip(words, words[1:], strict=False):
        if key == "priority" and to_int(value) is not None:
            port.priority = to_int(value)
        elif key == "cost" and to_int(value) is not None:
            port.cost = to_int(value)
        elif key == "hairpin" and value in ("on", "off"):
            port.hairpin = value == "on"


_FDB_FLAGS = frozenset("self master router use extern_learn offload sticky local".split())
_FDB_STATES = frozenset("permanent static dynamic noarp stale reachable".split())
_FDB_KEYS = frozenset("dst port vni via src_vni nhid".split())


def parse_bridge_fdb(text: str | bytes, netns: str = "") -> HostState:
    """Read ``bridge fdb show``: which MAC the bridge has learnt (or was told) behind which port."""
    command = "bridge fdb"
    cleaned = clean_lines(text)
    state = HostState(source="paste")
    for lineno, line in cleaned.lines:
        words = line.split()
        if not _MAC.match(words[0]) or len(words) < 3 or words[1] != "dev":
            raise parse_error(command, "expected `MAC dev PORT [vlan N] [master BRIDGE] [flags]`",
                              cleaned, lineno, line)
        entry = FdbEntry(mac=words[0].lower(), dev=words[2], netns=netns)
        i = 3
        while i < len(words):
            key = words[i]
            value = words[i + 1] if i + 1 < len(words) else None
            if key == "vlan" and value is not None:
                entry.vlan = to_int(value)
                if entry.vlan is None:
                    raise parse_error(command, f"vlan {value!r} is not a number", cleaned,
                                      lineno, line)
                i += 2
            elif key == "master" and value is not None:
                entry.bridge = value
                i += 2
            elif key in _FDB_KEYS and value is not None:
                i += 2
            elif key in _FDB_FLAGS:
                entry.flags.append(key)
                i += 1
            elif key in _FDB_STATES:
                entry.state = key
                i += 1
            else:
                i += 1
        state.fdb.append(entry)
    if not state.fdb:
        raise empty_error(command, cleaned)
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state
