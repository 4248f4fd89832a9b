"""Names and addresses a lab hands to ``ip`` and ``iptables``, checked first.

Every namespace a lab makes is called ``nl<6 hex>-<node>``: the per-lab prefix
lets ``netlab lab down --all`` find every leftover namespace after a crash and
touch nothing else.  Every name or address that reaches a command goes through
one of the ``check_*`` functions below, so a scenario can never smuggle an
option or a shell word into an argument list.
"""

from __future__ import annotations

import ipaddress
import re
import secrets

from netlab.errors import LabError

PREFIX_RE = re.compile(r"^nl[0-9a-f]{6}$")
NETNS_RE = re.compile(r"^(nl[0-9a-f]{6})-([A-Za-z0-9][A-Za-z0-9_.]{0,31})$")
NODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.]{0,31}$")
IFNAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$")
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
IPSET_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,30}$")
SYSCTL_KEY_RE = re.compile(r"^[a-z0-9_]+(\.[A-Za-z0-9_@-]+)+$")
SYSCTL_VALUE_RE = re.compile(r"^[A-Za-z0-9 _.:\-]{0,64}$")
# words ``ip link`` would read as a keyword where an interface name is expected
_IP_KEYWORDS = {"dev", "name", "type", "address", "netns", "peer", "master", "up", "down", "help"}


def new_prefix() -> str:
    """A fresh lab prefix: ``nl`` and six random hex digits."""
    return "nl" + secrets.token_hex(3)


def check_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not PREFIX_RE.match(prefix):
        raise LabError(
            f"lab prefix {prefix!r} is not of the form 'nl' + 6 hex digits (e.g. 'nl1a2b3c'); "
            "leave prefix=None to get a fresh one"
        )
    return prefix


def check_node(name: str) -> str:
    if not isinstance(name, str) or not NODE_RE.match(name):
        raise LabError(
            f"node name {name!r} cannot name a namespace: use 1-32 letters, digits, '_' or '.', "
            "starting with a letter or digit"
        )
    return name


def netns_name(prefix: str, node: str) -> str:
    """The namespace of ``node`` in the lab ``prefix``: ``nl1a2b3c-web``."""
    return f"{check_prefix(prefix)}-{check_node(node)}"


def is_lab_netns(name: str) -> bool:
    """True for a namespace a netlab lab made (and ``down --all`` may remove)."""
    return bool(NETNS_RE.match(name))


def prefix_of(netns: str) -> str | None:
    m = NETNS_RE.match(netns)
    return m.group(1) if m else None


def check_ifname(name: str) -> str:
    if (not isinstance(name, str) or not IFNAME_RE.match(name) or name in (".", "..")
            or name in _IP_KEYWORDS):
        raise LabError(
            f"interface name {name!r} is not one the kernel accepts: 1-15 characters, letters, "
            "digits, '_', '.', '-' (and not an `ip` keyword)"
        )
    return name


def check_mac(mac: str) -> str:
    m = mac.lower() if isinstance(mac, str) else mac
    if not isinstance(m, str) or not MAC_RE.match(m):
        raise LabError(f"MAC address {mac!r} is not six hex pairs joined by ':'")
    if int(m[:2], 16) & 1:
        raise LabError(f"MAC address {mac!r} is a multicast address; an interface needs a unicast one")
    return m


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


def check_ipset(name: str) -> str:
    """An ipset name (``docker-ext-bridges-v4``): at most 31 characters, no spaces."""
    if not isinstance(name, str) or not IPSET_RE.match(name):
        raise LabError(f"ipset name {name!r} is not one ipset accepts: 1-31 letters, digits, "
                       "'_', '.', ':' or '-', starting with a letter, digit or '_'")
    return name


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


def check_sysctl(key: str, value: str) -> tuple[str, str]:
    """A sysctl ``net.ipv4.ip_forward`` = ``1`` (dots or slashes; only ``net.*``)."""
    k = str(key).replace("/", ".")
    v = str(value)
    if not SYSCTL_KEY_RE.match(k) or not k.startswith("net.") or ".." in k:
        raise LabError(f"sysctl {key!r}: a lab sets only per-namespace net.* sysctls, "
                       "like net.ipv4.ip_forward")
    if not SYSCTL_VALUE_RE.match(v):
        raise LabError(f"sysctl {key} value {value!r} has characters a sysctl value never needs")
    return k, v
