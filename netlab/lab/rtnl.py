"""The lab's per-namespace ``ip -batch`` lines, applied through rtnetlink in this process.

Configuring a container namespace is four ``ip`` lines (addrgenmode, address,
link up, default route); run as one ``ip -n <ns> -batch -`` process each, a
100-container lab spends most of its build starting processes.  This module
reads those *same lines* and sends the netlink requests ``ip`` would send, from
one thread that enters each namespace in turn.  Only the line forms the plan
writes are understood; a batch with any other line is left to ``ip`` itself
(:func:`can_apply` says which).  The plan, and the script a learner runs by
hand, keep the ``ip`` form.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
import threading
from collections.abc import Callable

from netlab.errors import LabError

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
NLMSG_ERROR = 2
IFF_UP = 1
IFLA_AF_SPEC, IFLA_INET6_ADDR_GEN_MODE = 26, 8
IFA_ADDRESS, IFA_LOCAL = 1, 2
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_PREFSRC = 1, 4, 5, 6, 7
RT_TABLE_MAIN, RTN_UNICAST = 254, 1
SCOPES = {"global": 0, "link": 253, "host": 254}
PROTOS = {"boot": 3, "static": 4, "dhcp": 16}
CLONE_NEWNET = 0x40000000


def _attr(kind: int, data: bytes) -> bytes:
    length = 4 + len(data)
    return struct.pack("HH", length, kind) + data + b"\0" * ((4 - length % 4) % 4)


def _parse(line: str) -> tuple[str, dict] | None:
    """One plan line -> (request kind, arguments), or None if it is not a form we send."""
    w = line.split()
    if w[:3] == ["link", "set", "dev"] and len(w) == 5 and w[4] == "up":
        return "up", {"dev": w[3]}
    if w[:3] == ["link", "set", "dev"] and len(w) == 6 and w[4:] == ["addrgenmode", "none"]:
        return "addrgenmode", {"dev": w[3]}
    if w[:2] == ["addr", "add"] and len(w) == 5 and w[3] == "dev":
        return "addr", {"cidr": w[2], "dev": w[4]}
    if w[:2] == ["route", "add"] and len(w) >= 5:
        opts = dict(zip(w[3::2], w[4::2], strict=False))
        if len(w[3:]) % 2 or set(opts) - {"via", "dev", "src", "metric", "scope", "proto"} or "dev" not in opts:
            return None
        return "route", {"dst": w[2], **opts}
    return None


def can_apply(batch: str) -> bool:
    """True when every line of ``batch`` is a form :func:`apply` sends itself."""
    return all(_parse(line) is not None for line in batch.splitlines() if line.strip())


def _messages(batch: str, index: dict[str, int]) -> list[tuple[bytes, str]]:
    out = []
    for seq, line in enumerate((x for x in batch.splitlines() if x.strip()), 1):
        parsed = _parse(line)
        assert parsed is not None
        kind, a = parsed
        try:
            ifindex = index[a["dev"]]
        except KeyError:
            raise LabError(f"`{line}`: no device {a['dev']!r} in this namespace") from None
        flags = NLM_F_REQUEST | NLM_F_ACK
        if kind == "up":
            body = struct.pack("BxHiII", socket.AF_UNSPEC, 0, ifindex, IFF_UP, IFF_UP)
            typ = RTM_NEWLINK
        elif kind == "addrgenmode":
            inet6 = _attr(socket.AF_INET6, _attr(IFLA_INET6_ADDR_GEN_MODE, b"\x01"))
            body = struct.pack("BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0) + _attr(IFLA_AF_SPEC, inet6)
            typ = RTM_NEWLINK
        elif kind == "addr":
            iface = ipaddress.IPv4Interface(a["cidr"])
            packed = iface.ip.packed
            body = (struct.pack("BBBBI", socket.AF_INET, iface.network.prefixlen, 0, 0, ifindex)
                    + _attr(IFA_LOCAL, packed) + _attr(IFA_ADDRESS, packed))
            typ, flags = RTM_NEWADDR, flags | NLM_F_CREATE | NLM_F_EXCL
        else:
            net = ipaddress.IPv4Network("0.0.0.0/0" if a["dst"] == "default" else a["dst"])
            scope = SCOPES[a["scope"]] if "scope" in a else (0 if "via" in a else SCOPES["link"])
            proto = PROTOS[a["proto"]] if "proto" in a else PROTOS["boot"]
            body = struct.pack("BBBBBBBBI", socket.AF_INET, net.prefixlen, 0, 0, RT_TABLE_MAIN, proto, scope,
                               RTN_UNICAST, 0)
            if net.prefixlen:
                body += _attr(RTA_DST, net.network_address.packed)
            body += _attr(RTA_OIF, struct.pack("I", ifindex))
            if "via" in a:
                body += _attr(RTA_GATEWAY, ipaddress.IPv4Address(a["via"]).packed)
            if "src" in a:
                body += _attr(RTA_PREFSRC, ipaddress.IPv4Address(a["src"]).packed)
            if "metric" in a:
                body += _attr(RTA_PRIORITY, struct.pack("I", int(a["metric"])))
            typ, flags = RTM_NEWROUTE, flags | NLM_F_CREATE | NLM_F_EXCL
        out.append((struct.pack("IHHII", 16 + len(body), typ, flags, seq, 0) + body, line))
    return out


def _apply_here(batch: str) -> None:
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as s:
        index = {name: i for i, name in socket.if_nameindex()}
        msgs = _messages(batch, index)
        for msg, line in msgs:  # one at a time, in order, as ip -batch does
            s.send(msg)
            while True:
                data = s.recv(65536)
                _len, typ, _flags, _seq, _pid = struct.unpack_from("IHHII", data)
                if typ == NLMSG_ERROR:
                    (err,) = struct.unpack_from("i", data, 16)
                    if err:
                        raise LabError(f"`{line}` failed: {os.strerror(-err)}"
                                       + (" (it already exists)" if -err == errno.EEXIST else ""))
                    break


def apply(batches: dict[str, str], on_each: Callable[[], None] | None = None) -> None:
    """Apply ``{netns: batch text}``: one thread enters each namespace in turn (and calls
    ``on_each`` after each one)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    error: list[BaseException] = []

    def body() -> None:
        try:
            for ns, batch in batches.items():
                fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
                try:
                    if libc.setns(fd, CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), f"setns {ns}")
                finally:
                    os.close(fd)
                try:
                    _apply_here(batch)
                except LabError as exc:
                    raise LabError(f"in {ns}: {exc}") from None
                if on_each is not None:
                    on_each()
        except BaseException as exc:  # handed to the caller
            error.append(exc)

    t = threading.Thread(target=body, name="netlab-rtnl", daemon=True)  # never the caller's thread
    t.start()
    t.join()
    if error:
        raise error[0]
