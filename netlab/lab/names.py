"""Names and addresses a lab hands to ``ip`` and ``iptables``, checked first.

Every namespace a lab makes is called ``nl<6 hex>-<node>``: the per-lab prefix
lets ``netlab lab down --all`` find every leftover namespace after a crash and
touch nothing else.  Every name or address that reaches a command goes through
one of the ``check_*`` functions below, so a scenario can never smuggle an
option or a shell word into an argument list.
"""

from __future__ import annotations

import ipaddress
import secrets

from netlab.errors import LabError
from netlab.scenarios.names import (  # one set of rules for the sim and the lab
    IFNAME_RE,
    IP_KEYWORDS,
    IPSET_RE,
    MAC_RE,
    NETNS_RE,
    NODE_RE,
    PREFIX_RE,
    SYSCTL_KEY_RE,
    SYSCTL_VALUE_RE,
    NameRefused,
    check_ifname,
    check_ipset,
    check_mac,
    check_node,
    check_prefix,
    check_sysctl,
)

__all__ = ["IFNAME_RE", "IPSET_RE", "IP_KEYWORDS", "MAC_RE", "NETNS_RE", "NODE_RE", "PREFIX_RE",
           "SYSCTL_KEY_RE", "SYSCTL_VALUE_RE", "NameRefused", "check_cidr", "check_ifname", "check_int",
           "check_ip", "check_ipset", "check_mac", "check_net", "check_node", "check_prefix",
           "check_route_dst", "check_sysctl", "check_word", "is_lab_netns", "netns_name", "new_prefix",
           "prefix_of"]


def new_prefix() -> str:
    """A fresh lab prefix: ``nl`` and six random hex digits."""
    return "nl" + secrets.token_hex(3)


def netns_name(prefix: str, node: str) -> str:
    """The namespace of ``node`` in the lab ``prefix``: ``nl1a2b3c-web``."""
    return f"{check_prefix(prefix)}-{check_node(node)}"


def is_lab_netns(name: str) -> bool:
    """True for a namespace a netlab lab made (and ``down --all`` may remove)."""
    return isinstance(name, str) and NETNS_RE.fullmatch(name) is not None


def prefix_of(netns: str) -> str | None:
    m = NETNS_RE.fullmatch(netns) if isinstance(netns, str) else None
    return m.group(1) if m else None


def check_cidr(text: str) -> str:
    """An interface address ``172.17.0.1/16`` (IPv4 only)."""
    try:
        iface = ipaddress.IPv4Interface(text)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise LabError(f"address {text!r} is not an IPv4 address with a prefix length, "
                       "like 172.17.0.1/16") from None
    if "/" not in str(text):
        raise LabError(f"address {text!r} needs a prefix length, like {text}/24")
    return str(iface)


def check_ip(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except (ipaddress.AddressValueError, ValueError):
        raise LabError(f"{text!r} is not an IPv4 address") from None


def check_net(text: str) -> str:
    """An ipset ``hash:net`` member: an IPv4 address or prefix (``172.17.0.0/16``)."""
    try:
        return str(ipaddress.IPv4Network(text, strict=True))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        raise LabError(f"ipset member {text!r} is not an IPv4 address or prefix like 172.17.0.0/16 "
                       "(host bits must be zero)") from None


def check_route_dst(text: str) -> str:
    if text == "default":
        return text
    try:
        return str(ipaddress.IPv4Network(text, strict=True))
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError):
        raise LabError(f"route destination {text!r} is neither 'default' nor an IPv4 prefix "
                       "like 10.0.0.0/8 (host bits must be zero)") from None


def check_int(value: int, what: str, lo: int, hi: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise LabError(f"{what} {value!r} must be an integer between {lo} and {hi}")
    return str(value)


def check_word(value: str, what: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise LabError(f"{what} {value!r} must be one of {', '.join(allowed)}")
    return value
