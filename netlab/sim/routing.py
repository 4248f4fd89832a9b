"""Routing as the kernel does it: the local table first, then the main table by
longest prefix and lowest metric, and the source address a new packet gets.

Lesson 3 asks "which way does a packet go"; :meth:`RoutingTable.lookup` answers it
and returns the route in ``ip route`` form, so the journey can show the line that
matched.
"""

from __future__ import annotations

import functools
import socket
import struct
from dataclasses import dataclass

_UNPACK = struct.Struct("!I").unpack


@functools.lru_cache(maxsize=65536)
def ip_int(ip: str) -> int:
    """Dotted quad → 32-bit integer."""
    return _UNPACK(socket.inet_aton(ip))[0]


def int_ip(value: int) -> str:
    return socket.inet_ntoa(struct.pack("!I", value))


def mask_of(plen: int) -> int:
    return (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF if plen else 0


def in_subnet(ip: str, net: int, plen: int) -> bool:
    return (ip_int(ip) & mask_of(plen)) == net


@dataclass
class Route:
    """One route.  ``type`` is ``unicast``, ``local`` or ``broadcast``; ``table``
    ``main`` or ``local`` (the table the kernel fills itself for each address)."""

    net: int
    plen: int
    dev: str
    via: str | None = None
    src: str | None = None
    metric: int = 0
    scope: str = "link"
    proto: str | None = None
    type: str = "unicast"
    table: str = "main"

    @property
    def dst(self) -> str:
        if self.plen == 0 and self.type == "unicast":
            return "default"
        if self.plen == 32:
            return int_ip(self.net)
        return f"{int_ip(self.net)}/{self.plen}"

    def matches(self, dst: int) -> bool:
        return (dst & mask_of(self.plen)) == self.net

    def text(self) -> str:
        """The route as ``ip route show [table local]`` prints it."""
        parts = [] if self.type == "unicast" else [self.type]
        parts.append(self.dst)
        if self.via:
            parts += ["via", self.via]
        parts += ["dev", self.dev]
        if self.table == "local":
            parts += ["table", "local"]
        if self.proto:
            parts += ["proto", self.proto]
        if self.scope != "global" and not self.via:
            parts += ["scope", self.scope]
        if self.src:
            parts += ["src", self.src]
        if self.metric:
            parts += ["metric", str(self.metric)]
        return " ".join(parts)


class RoutingTable:
    """The ``local`` and ``main`` tables of one namespace (policy rules 0 and 32766)."""

    def __init__(self) -> None:
        self.local: list[Route] = []
        self.main: list[Route] = []
        self._cache: dict[str, Route | None] = {}

    def add(self, route: Route) -> None:
        (self.local if route.table == "local" else self.main).append(route)
        self._cache.clear()

    def add_address(self, ip: str, plen: int, dev: str, add_prefix_route: bool = True) -> None:
        """What the kernel adds when an address is configured: a ``local`` route,
        ``broadcast`` routes and (unless the prefix is /32) the prefix route."""
        a = ip_int(ip)
        m = mask_of(plen)
        net = a & m
        if dev == "lo" and ip.startswith("127."):
            self.add(Route(net, plen, "lo", src=ip, scope="host", proto="kernel",
                           type="local", table="local"))
        self.add(Route(a, 32, dev, src=ip, scope="host", proto="kernel", type="local",
                       table="local"))
        if plen < 31:
            bcast = net | (~m & 0xFFFFFFFF)
            self.add(Route(bcast, 32, dev, src=ip, scope="link", proto="kernel",
                           type="broadcast", table="local"))
        if add_prefix_route and plen < 32 and dev != "lo" and not any(
            r.net == net and r.plen == plen and r.dev == dev for r in self.main
        ):
            self.add(Route(net, plen, dev, src=ip, scope="link", proto="kernel"))

    def lookup(self, dst: str) -> Route | None:
        """The route the kernel picks for ``dst`` (None: no route: ENETUNREACH)."""
        try:
            return self._cache[dst]
        except KeyError:
            pass
        d = ip_int(dst)
        best: Route | None = None
        for r in self.local:
            if r.matches(d) and (best is None or r.plen > best.plen):
                best = r
        if best is None:
            for r in self.main:
                if r.matches(d) and (
                    best is None or r.plen > best.plen
                    or (r.plen == best.plen and r.metric < best.metric)
                ):
                    best = r
        self._cache[dst] = best
        return best

    def routes(self, table: str = "main") -> list[Route]:
        return list(self.local if table == "local" else self.main)


def select_source(route: Route, dst: str, addrs: dict[str, list[tuple[str, int]]]) -> str | None:
    """Source address selection (``inet_select_addr``): the route's ``src``, else an
    address of the outgoing device on the same subnet as the next hop, else the
    device's first address, else any global address of the namespace."""
    if route.src:
        return route.src
    hop = route.via or dst
    on_dev = addrs.get(route.dev, [])
    for ip, plen in on_dev:
        if in_subnet(hop, ip_int(ip) & mask_of(plen), plen):
            return ip
    if on_dev:
        return on_dev[0][0]
    for dev, lst in addrs.items():
        for ip, _plen in lst:
            if dev != "lo" and not ip.startswith("127."):
                return ip
    return None
