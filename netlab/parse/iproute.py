"""``ip addr`` / ``ip link`` / ``ip route`` text output → :class:`HostState`.

Reads what iproute2 has printed over the years: the old double-spaced
``ip route`` (``dev enp0s3  proto kernel  scope link``), ``@ifN`` veth peers with
``link-netnsid N`` or ``link-netns NAME``, ``-d`` detail lines (the driver and
bridge-port state), ``-s`` statistics, ``altname`` lines and the ``-br`` brief
form.  Lesson 1 reads the seed article's ``ip addr show`` with it.
"""

from __future__ import annotations

import ipaddress
import re

from netlab.model import Address, BridgePort, HostState, Link, Route
from netlab.numbers import to_int
from netlab.parse._errors import empty_error, parse_error
from netlab.parse._links import infer_kind, resolve_named_peers, set_peer
from netlab.parse.clean import Cleaned, clean_lines

_HEADER = re.compile(r"^\s*([0-9]{1,10}):\s+([^\s:@]+)(?:@([^\s:]+))?:\s+<([^>]*)>(.*)$")
_IFNAME = re.compile(r"^[^\s/:][^\s/]{0,30}$")
_ONELINE_ADDR = re.compile(r"^\s*([0-9]{1,10}):\s+([^\s:@]+)(?:@(\S+))?\s+(inet6?\s.*)$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2})+$")
_HEADER_KEYS = {"mtu", "qdisc", "master", "state", "mode", "group", "qlen", "link-netnsid", "netns"}
# first word of an `ip -d link` detail line that names the driver
_DRIVERS = frozenset(
    "veth bridge vlan vxlan macvlan macvtap ipvlan ipvtap dummy bond team ifb tun tap gre gretap "
    "ip6gre ip6gretap ipip sit ip6tnl vti vti6 wireguard geneve vrf nlmon netkit bareudp xfrm "
    "erspan ip6erspan hsr batadv can vcan veth_pair amt gtp".split()
)
_ADDR_FLAGS = frozenset(
    "secondary primary dynamic noprefixroute tentative deprecated dadfailed home nodad "
    "mngtmpaddr optimistic permanent temporary stable-privacy autojoin".split()
)
_SCOPES = frozenset("global link host site nowhere universe".split())


_NUM = re.compile(r"^-?[0-9]{1,18}$")


def _int(value: str | None) -> int | None:
    """A decimal number, or None (never raises: pastes hold anything)."""
    return to_int(value)


class _AddrReader:
    """Reads `ip addr` / `ip link` line by line (one pass, linear in the paste)."""

    def __init__(self, command: str, cleaned: Cleaned, netns: str) -> None:
        self.command = command
        self.cleaned = cleaned
        self.netns = netns
        self.state = HostState(source="paste")
        self.link: Link | None = None
        self.peer_names: dict[str, str] = {}
        self.at: dict[str, bool] = {}
        self.stats_next = False
        self.skipped: list[int] = []
        self.by_name: dict[str, Link] = {}

    def fail(self, lineno: int, line: str, message: str) -> Exception:
        return parse_error(self.command, message, self.cleaned, lineno, line)

    def read(self) -> HostState:
        for lineno, line in self.cleaned.lines:
            self.line(lineno, line)
        if not self.state.links:
            if self.skipped:
                lineno = self.skipped[0]
                line = dict(self.cleaned.lines)[lineno]
                raise self.fail(lineno, line, "no interface header line (`2: eth0: <...> mtu ...`) "
                                "in this paste")
            raise empty_error(self.command, self.cleaned)
        if self.skipped:
            self.state.notes.append(
                f"{self.command}: {len(self.skipped)} line(s) before the first interface were "
                f"skipped (from line {self.skipped[0]}): the paste starts inside an interface")
        self.finish()
        return self.state

    def line(self, lineno: int, line: str) -> None:
        m = _HEADER.match(line)
        if m:
            self.header(lineno, line, m)
            return
        m = _ONELINE_ADDR.match(line)
        if m:  # `ip -o addr`: "2: eth0    inet 10.0.2.15/24 ... eth0"
            self.oneline_addr(lineno, line, m)
            return
        words = line.split()
        first = words[0]
        if self.stats_next:
            self.stats_next = False
            if all(_int(w) is not None for w in words):
                return
        if first in ("RX:", "TX:", "RX", "TX"):
            self.stats_next = True
            return
        if self.link is None:
            if line[:1] == " " or first.startswith(("link/", "inet", "valid_lft")):
                self.skipped.append(lineno)
                return
            raise self.fail(lineno, line, "expected an interface header such as "
                            "`2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ...`")
        if first.startswith("link/"):
            self.link_line(lineno, line, words)
        elif first in ("inet", "inet6"):
            self.addr_line(lineno, line, words)
        elif first in ("valid_lft", "altname", "prop", "vf", "alias"):
            if first == "alias" and len(words) > 1:
                self.link.alias = line.split("alias", 1)[1].strip()
        elif first == "bridge_slave":
            self.bridge_slave(words)
        elif first in _DRIVERS and self.link.driver is None:
            self.link.driver = first
        elif line[:1] != " ":
            raise self.fail(lineno, line, "this line is neither an interface header nor an "
                            "indented line belonging to one")
        # any other indented line is a detail newer iproute2 prints (tolerated)

    def header(self, lineno: int, line: str, m: re.Match[str]) -> None:
        index, name, at, flags, rest = m.groups()
        link = Link(name=name, ifindex=int(index), netns=self.netns,
                    flags=[f for f in flags.split(",") if f])
        words = rest.split()
        i = 0
        while i < len(words):
            key = words[i]
            value = words[i + 1] if i + 1 < len(words) else None
            if key in _HEADER_KEYS and value is not None:
                if key == "mtu":
                    link.mtu = _int(value)
                elif key == "qdisc":
                    link.qdisc = value
                elif key == "master":
                    link.master = value
                elif key == "state":
                    link.state = value
                i += 2
            else:
                i += 1
        if link.mtu is None and "mtu" in words:
            raise self.fail(lineno, line, "the mtu is not a number")
        if link.state in ("forwarding", "blocking", "disabled", "listening", "learning") \
                and "qdisc" not in words:
            raise self.fail(lineno, line, f"`state {link.state}` is a bridge port's STP state: "
                            "this line is `bridge link` output, not an interface")
        self.state.links.append(link)
        self.by_name[name] = link
        self.link = link
        self.at[name] = at is not None and at != "NONE"
        if at is not None:
            peer_name = set_peer(link, at, None, None)
            if peer_name:
                self.peer_names[name] = peer_name

    def oneline_addr(self, lineno: int, line: str, m: re.Match[str]) -> None:
        index, name, at, rest = m.groups()
        link = self.by_name.get(name)
        if link is None:
            link = Link(name=name, ifindex=int(index), netns=self.netns)
            self.state.links.append(link)
            self.by_name[name] = link
            self.at[name] = at is not None and at != "NONE"
            if at is not None:
                peer_name = set_peer(link, at, None, None)
                if peer_name:
                    self.peer_names[name] = peer_name
        self.link = link
        self.stats_next = False
        self.addr_line(lineno, line, rest.split())

    def link_line(self, lineno: int, line: str, words: list[str]) -> None:
        assert self.link is not None
        link = self.link
        link.link_type = words[0].split("/", 1)[1] or None
        i = 1
        if len(words) > 1 and words[1] not in ("brd", "link-netnsid", "link-netns", "permaddr"):
            if link.link_type in ("ether", "loopback", "ieee802.11") and not _MAC.match(words[1]):
                raise self.fail(lineno, line, f"{words[1]!r} is not a MAC address")
            link.mac = words[1].lower() if _MAC.match(words[1]) else words[1]
            i = 2
        while i < len(words):
            key = words[i]
            value = words[i + 1] if i + 1 < len(words) else None
            if key == "link-netnsid" and value is not None:
                nsid = _int(value)
                if nsid is None:
                    raise self.fail(lineno, line, "link-netnsid must be a number")
                link.peer_netnsid = nsid
                i += 2
            elif key == "link-netns" and value is not None:
                link.peer_netns = value
                i += 2
            elif key in ("brd", "permaddr") and value is not None:
                i += 2
            else:
                # `ip -d` puts promiscuity, minmtu... here; a driver may follow on the same line
                i += 1

    def addr_line(self, lineno: int, line: str, words: list[str]) -> None:
        assert self.link is not None
        family = 6 if words[0] == "inet6" else 4
        if len(words) < 2:
            raise self.fail(lineno, line, f"`{words[0]}` without an address")
        local, _, plen = words[1].partition("/")
        peer = None
        try:
            ip = ipaddress.ip_address(local)
        except ValueError:
            raise self.fail(lineno, line, f"{words[1]!r} is not an IP address") from None
        if ip.version != family:
            raise self.fail(lineno, line, f"{local} is not an IPv{family} address")
        if family == 4:
            self.follow_label(lineno, words)
        addr = Address(ifname=self.link.name, address=str(ip), prefixlen=0, family=family,
                       netns=self.netns)
        i = 2
        label = None
        while i < len(words):
            key = words[i]
            value = words[i + 1] if i + 1 < len(words) else None
            if key == "peer" and value is not None:
                peer, _, peer_plen = value.partition("/")
                addr.peer = peer
                plen = plen or peer_plen
                i += 2
            elif key == "brd" and value is not None:
                addr.broadcast = value
                i += 2
            elif key == "scope" and value is not None:
                addr.scope = value
                i += 2
            elif key == "metric" and value is not None:
                i += 2
            elif key in _ADDR_FLAGS:
                addr.flags.append(key)
                i += 1
            elif key == self.link.name or key.startswith(self.link.name + ":"):
                label = key
                i += 1
            else:
                i += 1
        if plen:
            prefixlen = _int(plen)
            if prefixlen is None or not 0 <= prefixlen <= (32 if family == 4 else 128):
                raise self.fail(lineno, line, f"prefix length {plen!r} is out of range")
            addr.prefixlen = prefixlen
        else:
            addr.prefixlen = 32 if family == 4 else 128
        addr.label = label if family == 4 else None
        self.state.addrs.append(addr)

    def follow_label(self, lineno: int, words: list[str]) -> None:
        """An ``inet`` line ends with its label, which starts with the interface's name: when
        it names another interface, the lines since an elided header are that one's."""
        assert self.link is not None
        last = words[-1]
        if len(words) < 3 or words[-2] in ("brd", "scope", "peer", "metric") \
                or last in _ADDR_FLAGS or last in _SCOPES or not _IFNAME.match(last):
            return
        name = self.link.name
        if last == name or last.startswith(name + ":"):
            return
        owner = last.split(":", 1)[0]
        link = self.by_name.get(owner)
        if link is None:
            link = Link(name=owner, netns=self.netns)
            self.state.links.append(link)
            self.by_name[owner] = link
        self.state.notes.append(f"{self.command}: line {lineno} is an address of {owner} (its "
                                f"label says so), not of {name}: the lines between were elided")
        self.link = link

    def bridge_slave(self, words: list[str]) -> None:
        assert self.link is not None
        port = BridgePort(bridge=self.link.master or "", port=self.link.name,
                          ifindex=self.link.ifindex, netns=self.netns)
        pairs = dict(zip(words[1::2], words[2::2], strict=False))
        port.state = pairs.get("state")
        port.priority = _int(pairs.get("priority", "x"))
        port.cost = _int(pairs.get("cost", "x"))
        if "hairpin" in pairs:
            port.hairpin = pairs["hairpin"] == "on"
        if port.bridge:
            self.state.ports.append(port)

    def finish(self) -> None:
        for link in self.state.links:
            link.kind = infer_kind(link, has_at=self.at.get(link.name, False),
                                   parent_is_peer=True)
            if link.kind != "veth":
                link.peer_ifindex = link.peer_netnsid = None
                link.peer_netns = None
            elif link.peer_ifindex is not None and link.name not in self.peer_names:
                link.peer_elsewhere = True  # `@ifN`: ip prints a number only for another netns
        resolve_named_peers(self.state.links, self.peer_names)
        mark_bridge_masters(self.state.links)
        self.state.namespace(self.netns)
        self.state.normalise()


def mark_bridge_masters(links: list[Link]) -> None:
    """A link others name as ``master`` is a bridge (unless its slaves say SLAVE: a bond)."""
    by_name = {(link.netns, link.name): link for link in links}
    for link in links:
        if not link.master:
            continue
        master = by_name.get((link.netns, link.master))
        if master is not None and master.kind == "other" and master.driver is None \
                and "SLAVE" not in link.flags:
            master.kind = "bridge"


_BRIEF = re.compile(r"^([^\s@]+)(?:@(\S+))?\s+([A-Z]+)\s*(.*)$")
_OPER = frozenset("UP DOWN UNKNOWN LOWERLAYERDOWN DORMANT NOTPRESENT TESTING".split())


def _brief_scope(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """``ip -br`` prints no scope: the kernel's own choice for such an address."""
    if ip.is_loopback:
        return "host"
    return "link" if ip.is_link_local else "global"


def _parse_brief(command: str, cleaned: Cleaned, netns: str) -> HostState:
    """``ip -br addr`` / ``ip -br link``: one line per interface."""
    state = HostState(source="paste")
    peers: dict[str, str] = {}
    for lineno, line in cleaned.lines:
        m = _BRIEF.match(line)
        if not m or m.group(3) not in _OPER:
            raise parse_error(command, "expected `NAME STATE ADDRESSES...` (ip -br)", cleaned,
                              lineno, line)
        name, at, oper, rest = m.groups()
        link = Link(name=name, state=oper, netns=netns)
        words = rest.split()
        for k, word in enumerate(words):
            local = None
            if k and words[k - 1] == "peer":
                continue  # read with the local address before it
            if k + 1 < len(words) and words[k + 1] == "peer":
                # point-to-point: `10.8.0.1 peer 10.8.0.2/32` — 10.8.0.1 is this end
                if k + 2 >= len(words):
                    raise parse_error(command, f"`{word} peer` names no peer address", cleaned,
                                      lineno, line)
                local, word = word, words[k + 2]
            if word.startswith("<") and word.endswith(">"):
                link.flags = [f for f in word[1:-1].split(",") if f]
            elif _MAC.match(word) and local is None:
                link.mac = word.lower()
            elif "/" in word or local is not None:
                try:
                    iface = ipaddress.ip_interface(word)
                    ip = ipaddress.ip_address(local) if local is not None else iface.ip
                except ValueError:
                    raise parse_error(command, f"{word!r} is not an address/prefix", cleaned,
                                      lineno, line) from None
                if ip.version != iface.version:
                    raise parse_error(command, f"{local} and its peer {word} are not of one family",
                                      cleaned, lineno, line)
                state.addrs.append(Address(name, str(ip), iface.network.prefixlen,
                                           family=ip.version, netns=netns, scope=_brief_scope(ip),
                                           peer=str(iface.ip) if local is not None else None))
        if at:
            peer = set_peer(link, at, None, None)
            if peer:
                peers[name] = peer
        link.kind = infer_kind(link, has_at=at is not None)
        if link.kind != "veth":
            link.peer_ifindex = None
        # `@if7` (not a name): ip found no such ifindex here, so the peer is elsewhere
        link.peer_elsewhere = link.peer_ifindex is not None
        state.links.append(link)
    if not state.links:
        raise empty_error(command, cleaned)
    resolve_named_peers(state.links, peers)
    state.namespace(netns)
    return state


def _read_addr(command: str, text: str | bytes, netns: str) -> HostState:
    cleaned = clean_lines(text)
    state = None
    for _, line in cleaned.lines[:3]:
        if _HEADER.match(line):
            break
        m = _BRIEF.match(line)
        if m and m.group(3) in _OPER:
            state = _parse_brief(command, cleaned, netns)
        break
    if state is None:
        state = _AddrReader(command, cleaned, netns).read()
    state.hostname = cleaned.hostname()
    return state


def parse_ip_addr(text: str | bytes, netns: str = "") -> HostState:
    """Read ``ip addr show`` (old or new iproute2, also ``-d``, ``-s``, ``-br``) into a HostState.

    Lesson 1: interfaces, their MACs, addresses, masters and veth peers.
    """
    return _read_addr("ip addr show", text, netns)


def parse_ip_link(text: str | bytes, netns: str = "") -> HostState:
    """Read ``ip link show`` (also ``ip -d link``, ``-br``) into a HostState."""
    return _read_addr("ip link show", text, netns)


# ----------------------------------------------------------------- routes
_ROUTE_TYPES = frozenset(
    "unicast local broadcast multicast throw unreachable prohibit blackhole nat anycast".split())
_ROUTE_KEYS_1 = frozenset(
    "dev proto protocol scope src metric table tos dsfield realm realms mtu advmss rtt rttvar "
    "reordering window cwnd initcwnd initrwnd ssthresh hoplimit expires pref from uid nhid "
    "weight features quickack congctl fastopen_no_cookie error users age ttl-propagate "
    "rto_min pref".split())
_ROUTE_FLAGS = frozenset("onlink linkdown dead pervasive offload trap rt_offload rt_trap "
                         "notify cloned offload_failed".split())


# route types the kernel (and `ip route add`) put in table local unless told otherwise
LOCAL_TABLE_TYPES = frozenset(("local", "broadcast", "anycast", "nat"))


def _route_dst(token: str, rtype: str) -> tuple[str, int] | None:
    if token == "default":
        return "default", 0
    try:
        net = ipaddress.ip_network(token, strict=False)
    except ValueError:
        return None
    if net.prefixlen == 0 and "/" in token:
        return "default", net.version
    return str(net), net.version


def _route_fields(route: Route | dict, words: list[str], start: int) -> str | None:
    """Fill a route (or one nexthop) from key/value words; return an error or None."""
    i = start
    n = len(words)
    while i < n:
        key = words[i]
        value = words[i + 1] if i + 1 < n else None
        if key == "via":
            if value in ("inet", "inet6") and i + 2 < n:
                value = words[i + 2]
                i += 1
            if value is None:
                return "`via` without a gateway"
            try:
                ipaddress.ip_address(value)
            except ValueError:
                return f"gateway {value!r} is not an IP address"
            _set(route, "gateway", value)
            i += 2
        elif key in _ROUTE_FLAGS:
            _flags(route).append(key)
            i += 1
        elif key == "lock":
            i += 1
        elif key in _ROUTE_KEYS_1:
            if value is None:
                return f"`{key}` without a value"
            if key in ("proto", "protocol"):
                _set(route, "protocol", value)
            elif key == "metric":
                metric = _int(value)
                if metric is None:
                    return f"metric {value!r} is not a number"
                _set(route, "metric", metric)
            elif key in ("dev", "scope", "table", "weight"):
                _set(route, key, _int(value) if key == "weight" else value)
            elif key == "src":
                _set(route, "src", value)
            i += 2
        elif key == "encap":
            i = n  # lightweight-tunnel encapsulation: its own grammar, not needed here
        else:
            i += 1  # an attribute a newer iproute2 added
    return None


def _set(route: Route | dict, key: str, value: object) -> None:
    if isinstance(route, dict):
        route[key] = value
    else:
        setattr(route, key, value)


def _flags(route: Route | dict) -> list[str]:
    if isinstance(route, dict):
        return route.setdefault("flags", [])
    return route.flags


def parse_ip_route(text: str | bytes, netns: str = "") -> HostState:
    """Read ``ip route`` (old double-spaced or new, any table, IPv4 or IPv6) into a HostState.

    Lesson 2: which way a packet leaves — longest prefix, gateway, source address.
    """
    command = "ip route"
    cleaned = clean_lines(text)
    state = HostState(source="paste")
    last: Route | None = None
    for lineno, line in cleaned.lines:
        words = line.split()
        if words[0] == "nexthop":
            if last is None:
                raise parse_error(command, "a `nexthop` line with no route before it", cleaned,
                                  lineno, line)
            hop: dict = {}
            err = _route_fields(hop, words, 1)
            if err:
                raise parse_error(command, err, cleaned, lineno, line)
            last.nexthops.append(hop)
            continue
        if words[0] == "cache" or (line[:1] == " " and last is not None):
            continue  # `ip route get` cache line / continuation detail
        rtype = "unicast"
        i = 0
        if words[0] in _ROUTE_TYPES:
            rtype = words[0]
            i = 1
            if len(words) < 2:
                raise parse_error(command, f"`{rtype}` without a destination", cleaned, lineno, line)
        dst = _route_dst(words[i], rtype)
        if dst is None:
            raise parse_error(command, f"{words[i]!r} is not a route destination (expected "
                              "`default` or an address/prefix)", cleaned, lineno, line)
        route = Route(dst=dst[0], type=rtype, netns=netns)
        err = _route_fields(route, words, i + 1)
        if err:
            raise parse_error(command, err, cleaned, lineno, line)
        if rtype in LOCAL_TABLE_TYPES and "table" not in words:
            route.table = "local"  # where the kernel keeps them (`ip route show table local`)
        family = dst[1]
        for addr in (route.gateway, route.src):
            if not family and addr:
                family = 6 if ":" in addr else 4
        route.family = family or 4
        if route.dst == "default" and (":" in words[i] or (not dst[1] and "pref" in words)):
            route.family = 6  # `pref medium`: iproute2 prints a route preference only for IPv6
        state.route_list.append(route)
        last = route
    if not state.route_list:
        raise empty_error(command, cleaned)
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state
