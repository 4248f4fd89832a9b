"""What kind of interface is this?  Shared by the text and JSON parsers.

``ip -d`` names the kernel driver (``veth``, ``bridge``, ``vxlan``...).  Without
``-d`` the kind is read off what Docker hosts show: ``lo``, ``@ifN`` peers with a
``link-netnsid`` (veth), names such as ``docker0``/``br-…`` (bridge) and
``enp0s3``/``eth0`` (a NIC).
"""

from __future__ import annotations

import re

from netlab.model import Link

_PHYSICAL = re.compile(r"^(?:en|eth|wl|ww|ib|em|p\d+p)\w*$")
_BRIDGE = re.compile(r"^(?:docker\d+|br-[0-9a-f]+|br\d+|virbr\d+|bridge\d*|cni\d+|cbr\d+|lxcbr\d+|lxdbr\d+|docker_gwbridge)$")
_VLAN = re.compile(r"^\S+\.\d+$")
DRIVER_KIND = {"veth": "veth", "bridge": "bridge"}


def infer_kind(link: Link, *, has_at: bool = False, parent_is_peer: bool = True) -> str:
    """The coarse kind (loopback / physical / bridge / veth / other) of ``link``."""
    if link.link_type == "loopback" or link.name == "lo":
        return "loopback"
    if link.driver:
        return DRIVER_KIND.get(link.driver, "other")
    if has_at and parent_is_peer and link.link_type in (None, "ether") \
            and not _VLAN.match(link.name):
        return "veth"
    if link.name.startswith("veth"):
        return "veth"
    if _BRIDGE.match(link.name):
        return "bridge"
    if link.link_type in (None, "ether") and _PHYSICAL.match(link.name):
        return "physical"
    return "other"


_ID = re.compile(r"^if([0-9]{1,10})$")


def set_peer(link: Link, at: str | None, netnsid: int | None, netns_name: str | None) -> str | None:
    """Record the peer ``ip`` printed after ``@`` (``if5``, or a name in this namespace).

    Returns the peer's name when ``ip`` gave a name (``v2@v2p``): its ifindex is
    filled in by :func:`resolve_named_peers` once every link has been read.
    """
    if netnsid is not None:
        link.peer_netnsid = netnsid
    if netns_name is not None:
        link.peer_netns = netns_name
    if not at or at == "NONE":
        return None
    m = _ID.match(at)
    if m:
        link.peer_ifindex = int(m.group(1))
        return None
    return at


def resolve_named_peers(links: list[Link], named: dict[str, str]) -> None:
    """Turn ``v2@v2p`` (peer named, same namespace) into the peer's ifindex.

    ``named`` maps a link's name to the name after its ``@``.
    """
    by_name = {link.name: link for link in links}
    for link in links:
        peer_name = named.get(link.name)
        if peer_name is None:
            continue
        if link.kind != "veth":
            link.peer_netnsid = link.peer_netns = None
            continue
        peer = by_name.get(peer_name)
        if peer is not None and link.driver is None and named.get(peer_name) != link.name:
            # `macvlan0@enp0s3`, `vxlan0@eth0`: the name after @ is a lower device that
            # does not point back, so this is not one end of a veth pair
            link.kind = "other"
            link.peer_netnsid = link.peer_netns = link.peer_ifindex = None
            continue
        if peer is not None and peer.ifindex is not None:
            link.peer_ifindex = peer.ifindex
