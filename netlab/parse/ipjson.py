"""``ip -j`` / ``bridge -j`` JSON → :class:`HostState`.

The JSON iproute2 prints (``ip -j -d link``, ``ip -j addr``, ``ip -j route show
table all``, ``ip -j netns list-id``, ``bridge -j link``, ``bridge -j fdb``) says
everything the text does without the guesswork: the driver (``linkinfo``), the
bridge-port state (``info_slave_data``), the veth peer's ifindex and netnsid.
The live snapshot (:mod:`netlab.snapshot`) reads the machine with these too.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netlab.model import Address, BridgePort, FdbEntry, HostState, Link, Route
from netlab.parse._errors import parse_error
from netlab.parse._links import infer_kind, resolve_named_peers
from netlab.parse.docker import load_json
from netlab.parse.iproute import LOCAL_TABLE_TYPES, mark_bridge_masters

_FAMILY = {"inet": 4, "inet6": 6}
_ADDR_FLAGS = ("secondary", "dynamic", "noprefixroute", "tentative", "deprecated", "dadfailed",
               "home", "nodad", "mngtmpaddr", "optimistic", "permanent", "temporary",
               "stable-privacy", "autojoin")


class JsonShapeError(ValueError):
    """A JSON item is not shaped as iproute2 prints it."""


def _str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise JsonShapeError(f"{key!r} should be a string, not {value!r}")
    return value


def _num(obj: dict[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise JsonShapeError(f"{key!r} should be a number, not {value!r}")
    return value


def _strlist(obj: dict[str, Any], key: str) -> list[str]:
    value = obj.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JsonShapeError(f"{key!r} should be a list of strings")
    return list(value)


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key) or {}
    if not isinstance(value, dict):
        raise JsonShapeError(f"{key!r} should be an object")
    return value


def _on_off(value: object) -> bool | None:
    """iproute2 prints a port flag as true/false, or (some versions) "on"/"off"."""
    if isinstance(value, bool):
        return value
    return {"on": True, "off": False}.get(value) if isinstance(value, str) else None


def add_links(state: HostState, items: list[dict[str, Any]], netns: str = "",
              trusted: bool = False) -> None:
    """Add the links (and, for ``ip -j addr``, the addresses) of ``ip -j [-d] link|addr``."""
    new: list[Link] = []
    peer_names: dict[str, str] = {}
    for obj in items:
        name = _str(obj, "ifname")
        if not name:
            raise JsonShapeError("a link without an ifname")
        info = _dict(obj, "linkinfo")
        link = Link(
            name=name, ifindex=_num(obj, "ifindex"), mac=_str(obj, "address"),
            mtu=_num(obj, "mtu"), flags=_strlist(obj, "flags"), state=_str(obj, "operstate"),
            master=_str(obj, "master"), netns=netns, link_type=_str(obj, "link_type"),
            qdisc=_str(obj, "qdisc"), alias=_str(obj, "ifalias"), driver=_str(info, "info_kind"),
        )
        nsid = _num(obj, "link_netnsid")
        peer_index = _num(obj, "link_index")
        peer_name = _str(obj, "link")
        link.kind = infer_kind(link, has_at=peer_index is not None or peer_name is not None)
        if link.kind == "veth":
            link.peer_netnsid = nsid
            link.peer_ifindex = peer_index
            if peer_index is None and peer_name:
                peer_names[name] = peer_name
        new.append(link)
        slave_kind = _str(info, "info_slave_kind")
        if slave_kind == "bridge" and link.master:
            data = _dict(info, "info_slave_data")
            hairpin = data.get("hairpin")
            state.ports.append(BridgePort(
                bridge=link.master, port=name, state=_str(data, "state"), ifindex=link.ifindex,
                hairpin=_on_off(hairpin),
                cost=_num(data, "cost"), priority=_num(data, "priority"), netns=netns))
        addr_info = obj.get("addr_info")
        if addr_info is not None:
            if not isinstance(addr_info, list):
                raise JsonShapeError("'addr_info' should be a list")
            for a in addr_info:
                if not isinstance(a, dict):
                    raise JsonShapeError("an addr_info item should be an object")
                _add_address(state, name, a, netns, trusted)
    resolve_named_peers(new, peer_names)
    state.links.extend(new)
    mark_bridge_masters(state.links)


def _add_address(state: HostState, ifname: str, a: dict[str, Any], netns: str,
                 trusted: bool = False) -> None:
    named = _str(a, "family")
    family = _FAMILY.get(named or "")
    local = _str(a, "local")
    if local is None or (named is not None and family is None):
        return  # e.g. family "link" or "mpls": not an IP address
    scope = a.get("scope")
    if not trusted or family is None:
        # a paste: check and normalise (the kernel's own output is canonical);
        # `ip -j -br addr` gives no family and no scope
        try:
            ip = ipaddress.ip_address(local)
        except ValueError:
            raise JsonShapeError(f"{local!r} is not an IP address") from None
        local, family = str(ip), ip.version
        if scope is None:
            scope = "host" if ip.is_loopback else "link" if ip.is_link_local else "global"
    prefixlen = _num(a, "prefixlen")
    if prefixlen is None:
        prefixlen = 32 if family == 4 else 128
    if not 0 <= prefixlen <= (32 if family == 4 else 128):
        raise JsonShapeError(f"prefix length {prefixlen} is out of range")
    state.addrs.append(Address(
        ifname=ifname, address=local, prefixlen=prefixlen, family=family,
        scope=str(scope if scope is not None else "global"), broadcast=_str(a, "broadcast"),
        label=_str(a, "label"), netns=netns, peer=_str(a, "address"),
        flags=[f for f in _ADDR_FLAGS if a.get(f) is True]))


def add_routes(state: HostState, items: list[dict[str, Any]], netns: str = "",
               trusted: bool = False) -> None:
    """Add the routes of ``ip -j route [show table all]``."""
    for obj in items:
        dst = _str(obj, "dst")
        if dst is None:
            raise JsonShapeError("a route without a dst")
        gateway = _str(obj, "gateway")
        via = obj.get("via")
        if gateway is None and isinstance(via, dict):
            gateway = _str(via, "host")
        family = 0
        if trusted and dst != "default":
            # the kernel prints canonical prefixes; a host route has no /32 or /128
            family = 6 if ":" in dst else 4
            if "/" not in dst:
                dst = f"{dst}/{32 if family == 4 else 128}"
        elif dst != "default":
            try:
                net = ipaddress.ip_network(dst, strict=False)
            except ValueError:
                raise JsonShapeError(f"{dst!r} is not a route destination") from None
            dst, family = str(net), net.version
        for addr in (gateway, _str(obj, "prefsrc")):
            if not family and addr:
                family = 6 if ":" in addr else 4
        if not family and "pref" in obj:
            family = 6  # a route preference exists only for IPv6 routes
        rtype = _str(obj, "type") or "unicast"
        table = obj.get("table", "local" if rtype in LOCAL_TABLE_TYPES else "main")
        route = Route(
            dst=dst, dev=_str(obj, "dev"), gateway=gateway, table=str(table),
            type=rtype, protocol=_str(obj, "protocol"),
            scope=_str(obj, "scope"), src=_str(obj, "prefsrc"), metric=_num(obj, "metric"),
            family=family or 4, flags=_strlist(obj, "flags"), netns=netns)
        hops = obj.get("nexthops") or []
        if not isinstance(hops, list):
            raise JsonShapeError("'nexthops' should be a list")
        for hop in hops:
            if isinstance(hop, dict):
                route.nexthops.append({k: v for k, v in hop.items()
                                       if k in ("gateway", "dev", "weight", "flags")})
        state.route_list.append(route)


def add_netns_ids(state: HostState, items: list[dict[str, Any]], netns: str = "",
                  trusted: bool = False) -> None:
    """``ip -j netns list-id``: the netnsids this namespace uses, with names where known."""
    ns = state.namespace(netns)
    for obj in items:
        nsid = _num(obj, "nsid")
        if nsid is None:
            nsid = _num(obj, "id")
        name = _str(obj, "name")
        if nsid is not None and nsid >= 0 and name:
            ns.ids[nsid] = name


def add_bridge_links(state: HostState, items: list[dict[str, Any]], netns: str = "",
                     trusted: bool = False) -> None:
    """``bridge -j [-d] link``: bridge ports with their STP state, priority, cost, hairpin."""
    for obj in items:
        name, master = _str(obj, "ifname"), _str(obj, "master")
        if not name or not master:
            raise JsonShapeError("a bridge port without ifname and master")
        hairpin = obj.get("hairpin")
        state.ports.append(BridgePort(
            bridge=master, port=name, state=_str(obj, "state"), ifindex=_num(obj, "ifindex"),
            hairpin=_on_off(hairpin), cost=_num(obj, "cost"),
            priority=_num(obj, "priority"), netns=netns))


def add_fdb(state: HostState, items: list[dict[str, Any]], netns: str = "",
            trusted: bool = False) -> None:
    """``bridge -j fdb``: the MAC addresses each bridge port leads to."""
    for obj in items:
        mac, dev = _str(obj, "mac"), _str(obj, "ifname")
        if not mac or not dev:
            raise JsonShapeError("an fdb entry without mac and ifname")
        state.fdb.append(FdbEntry(mac=mac.lower(), dev=dev, bridge=_str(obj, "master"),
                                  vlan=_num(obj, "vlan"), flags=_strlist(obj, "flags"),
                                  state=_str(obj, "state") or None, netns=netns))


def json_kind(items: list[dict[str, Any]]) -> str | None:
    """Which iproute2 JSON this is: link, addr, route, netns, bridge-link, fdb."""
    for obj in items:
        if "addr_info" in obj:
            return "addr"
        if "nsid" in obj or ("id" in obj and "name" in obj and len(obj) <= 2):
            return "netns"
        if "mac" in obj and "ifname" in obj:
            return "fdb"
        if "ifname" in obj and "operstate" not in obj and "master" in obj and "state" in obj:
            return "bridge-link"
        if "ifname" in obj:
            return "link"
        if "lladdr" in obj or ("dst" in obj and isinstance(obj.get("state"), list)):
            raise JsonShapeError("this is the neighbour table (`ip -j neigh`), which netlab "
                                 "does not read; paste `ip -j route` for routes")
        if "dst" in obj:
            return "route"
        return None
    return None


_ADDERS = {"addr": add_links, "link": add_links, "route": add_routes, "netns": add_netns_ids,
           "bridge-link": add_bridge_links, "fdb": add_fdb}


def state_from_json(data: Any, netns: str = "", kind: str | None = None,
                    trusted: bool = False) -> HostState:
    """Build a HostState from already-decoded iproute2 JSON (raises JsonShapeError).

    ``trusted`` (the live snapshot) skips re-checking the addresses the kernel printed.
    """
    if not isinstance(data, list):
        raise JsonShapeError("iproute2 prints a JSON list ([...])")
    # iproute2 4.x printed `{}` for links without addresses; skip them
    items = [obj for obj in data if obj != {}]
    if not all(isinstance(obj, dict) for obj in items):
        raise JsonShapeError("every item of the list should be an object")
    state = HostState(source="paste")
    kind = kind or json_kind(items)
    if items and kind is None:
        raise JsonShapeError("these objects are not ip link/addr/route, netns or bridge JSON")
    if kind is not None:
        _ADDERS[kind](state, items, netns, trusted)
    state.namespace(netns)
    return state.normalise()


def parse_ip_json(text: str | bytes, netns: str = "") -> HostState:
    """Read ``ip -j addr|link|route``, ``ip -j netns list-id`` or ``bridge -j link|fdb`` output."""
    command = "ip -j"
    data, cleaned = load_json(command, text)
    first = cleaned.lines[0] if cleaned.lines else (None, None)
    try:
        state = state_from_json(data, netns)
    except JsonShapeError as exc:
        raise parse_error(command, str(exc), cleaned, *first) from None
    if data == []:
        state.notes.append(f"{command}: the paste is an empty JSON list (nothing to read)")
    state.hostname = cleaned.hostname()
    return state
