"""``ifconfig`` (net-tools, Linux) → interfaces and addresses.

Both forms net-tools has printed: the old one (net-tools 1.60, BusyBox)::

    eth0      Link encap:Ethernet  HWaddr 08:00:27:4a:11:22
              inet addr:10.0.2.15  Bcast:10.0.2.255  Mask:255.255.255.0
              UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1

and the new one (net-tools 2.x, ``lib/interface.c`` ``ife_print_long``)::

    docker0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
            inet 172.17.0.1  netmask 255.255.0.0  broadcast 172.17.255.255
            ether 02:42:9a:1c:4e:07  txqueuelen 0  (Ethernet)

ifconfig shows neither veth peers nor bridge masters nor link kinds: the kind is
guessed from the name (``veth…``, ``docker0``, ``br-…``), as ``ip addr`` readers do.
An alias (``eth0:1``) is an address of ``eth0`` labelled ``eth0:1``.
"""

from __future__ import annotations

import ipaddress
import re

from netlab.model import Address, HostState, Link
from netlab.numbers import is_decimal
from netlab.parse._errors import empty_error, parse_error
from netlab.parse._links import infer_kind
from netlab.parse.clean import Cleaned, clean_lines

COMMAND = "ifconfig"
_NEW_HEAD = re.compile(r"^([^\s:]+(?::[\w.-]+)?): flags=(\d{1,10})<([\w,]*)>(?:\s+mtu (\d{1,7}))?")
_OLD_HEAD = re.compile(r"^([^\s:]+(?::[\w.-]+)?)\s+Link encap:(\S+(?: \S+)?)(?:\s+HWaddr (\S+))?")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5}$")
_FLAG_WORDS = frozenset("UP BROADCAST RUNNING MULTICAST LOOPBACK POINTOPOINT NOARP PROMISC "
                        "ALLMULTI MASTER SLAVE DYNAMIC NOTRAILERS LOWER_UP DORMANT ECHO".split())


def _mask_len(mask: str) -> int | None:
    try:
        if mask.lower().startswith("0x"):  # BSD style, in case
            mask = str(ipaddress.IPv4Address(int(mask, 16)))
        return ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
    except ValueError:
        return None


def _v4(word: str) -> bool:
    try:
        ipaddress.IPv4Address(word)
    except ValueError:
        return False
    return True


def parse_ifconfig(text: str | bytes | Cleaned, netns: str = "") -> HostState:
    """Read ``ifconfig`` / ``ifconfig -a`` (either net-tools form) into links and addresses."""
    cleaned = clean_lines(text)
    if not cleaned.lines:
        raise empty_error(COMMAND, cleaned)
    state = HostState(source="paste")
    link: Link | None = None
    label: str | None = None
    by_name: dict[str, Link] = {}
    for lineno, raw in cleaned.lines:
        line = raw.rstrip()
        if not line.strip():
            continue
        stripped = line.strip()
        # (by shape, not indentation: a web page may have eaten the indents)
        m = _NEW_HEAD.match(stripped)
        old = None if m else _OLD_HEAD.match(stripped)
        if not m and not old and line[:1] != " " and link is None:
            raise parse_error(COMMAND, "an interface starts with `NAME: flags=N<...>  mtu N` "
                              "or `NAME  Link encap:...`", cleaned, lineno, raw)
        if m or old:
            name = (m or old).group(1)  # type: ignore[union-attr]
            dev, _, alias = name.partition(":")
            label = name if alias else None
            link = by_name.get(dev)
            if link is None:
                link = Link(dev, netns=netns)
                by_name[dev] = link
                state.links.append(link)
            if m:
                link.flags = [f for f in m.group(3).split(",") if f] or link.flags
                if m.group(4):
                    link.mtu = int(m.group(4))
            else:
                encap = old.group(2)  # type: ignore[union-attr]
                link.link_type = {"Ethernet": "ether", "Local Loopback": "loopback"}.get(
                    encap, encap.lower())
                if old.group(3) and _MAC.match(old.group(3)):  # type: ignore[union-attr]
                    link.mac = old.group(3).lower().replace("-", ":")  # type: ignore[union-attr]
            rest = stripped[(m or old).end():].split()  # type: ignore[union-attr]
            if old and rest[:1] == ["HWaddr"] and len(rest) > 1:
                link.mac = rest[1].lower()
            continue
        if link is None:
            raise parse_error(COMMAND, "an indented line before any interface line", cleaned,
                              lineno, raw, hint="paste ifconfig's output from its first line")
        _detail(state, link, label, line.split(), netns, cleaned, lineno, raw)
    for link in state.links:
        if link.flags and "UP" in link.flags:
            link.state = "UP" if "RUNNING" in link.flags else "DOWN"
        elif link.flags:
            link.state = "DOWN"
        if "LOOPBACK" in link.flags:
            link.link_type = "loopback"
        link.kind = infer_kind(link)
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    state.notes.append("`ifconfig` shows no veth peers, bridge masters or link kinds: each "
                       "interface's kind is guessed from its name (paste `ip -d addr` to be sure)")
    return state


def _detail(state: HostState, link: Link, label: str | None, w: list[str], netns: str,
            cleaned: Cleaned, lineno: int, raw: str) -> None:
    """One indented line: an address, the MAC, the flags (old form), or counters."""
    if not w:
        return
    head = w[0]
    if head == "inet" and len(w) > 1 and not w[1].startswith("addr:"):  # new form
        addr = w[1]
        opts = dict(zip(w[2::2], w[3::2], strict=False))
        plen = _mask_len(opts.get("netmask", "255.255.255.255"))
        if not _v4(addr) or plen is None:
            raise parse_error(COMMAND, "`inet ADDRESS  netmask MASK` needs an IPv4 address and "
                              "mask", cleaned, lineno, raw)
        state.addrs.append(Address(link.name, addr, plen, 4, _scope4(addr),
                                   broadcast=opts.get("broadcast"), label=label, netns=netns,
                                   peer=opts.get("destination")))
        return
    if head == "inet" and len(w) > 1:  # old form: inet addr:A  Bcast:B  Mask:M
        kv = {p.split(":", 1)[0]: p.split(":", 1)[1] for p in w[1:] if ":" in p}
        addr, mask = kv.get("addr", ""), kv.get("Mask", "255.255.255.255")
        plen = _mask_len(mask)
        if not _v4(addr) or plen is None:
            raise parse_error(COMMAND, "`inet addr:A  Bcast:B  Mask:M` needs an IPv4 address "
                              "and mask", cleaned, lineno, raw)
        state.addrs.append(Address(link.name, addr, plen, 4, _scope4(addr),
                                   broadcast=kv.get("Bcast"), label=label, netns=netns,
                                   peer=kv.get("P-t-P")))
        return
    if head == "inet6" and len(w) > 1:
        if w[1] == "addr:" and len(w) > 2:  # old: inet6 addr: fe80::1/64 Scope:Link
            addr, _, plen_s = w[2].partition("/")
            scope = next((p.split(":", 1)[1] for p in w[3:] if p.startswith("Scope:")), "Global")
        else:  # new: inet6 fe80::1  prefixlen 64  scopeid 0x20<link>
            addr = w[1]
            opts = dict(zip(w[2::2], w[3::2], strict=False))
            plen_s = opts.get("prefixlen", "128")
            scope = (opts.get("scopeid", "<global>").partition("<")[2].rstrip(">")) or "global"
        try:
            ipaddress.IPv6Address(addr.split("%")[0])
            plen = int(plen_s or "128")
        except ValueError:
            raise parse_error(COMMAND, "`inet6 ADDRESS  prefixlen N` needs an IPv6 address",
                              cleaned, lineno, raw) from None
        scope = {"compat": "global", "site": "site"}.get(scope.lower(), scope.lower())
        state.addrs.append(Address(link.name, addr.split("%")[0], plen, 6, scope, label=label,
                                   netns=netns))
        return
    if head in ("ether", "loop", "unspec", "infiniband", "ppp", "tunnel", "sit", "ipip"):
        if head == "ether" and len(w) > 1 and _MAC.match(w[1]):
            link.mac = w[1].lower()
            link.link_type = "ether"
        elif head == "loop":
            link.link_type = "loopback"
        else:
            link.link_type = link.link_type or head
        return
    if head in _FLAG_WORDS:  # old form: UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
        link.flags = [x for x in w if x in _FLAG_WORDS]
        for x in w:
            if x.startswith("MTU:") and is_decimal(x[4:]):
                link.mtu = int(x[4:])
        return
    # RX/TX counters, collisions, Interrupt:, Memory:, "device interrupt ...": nothing to keep


def _scope4(addr: str) -> str:
    if addr.startswith("127."):
        return "host"
    if addr.startswith("169.254."):
        return "link"
    return "global"
