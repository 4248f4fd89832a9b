"""Real probes sent from inside a lab namespace, bounded in count and time.

Each probe opens its sockets inside the source node's namespace (see
:mod:`netlab.lab.netns`) and uses the kernel's own stack, as the real client
would: ``ping`` (ICMP echo on a raw socket), ``arping`` (an ARP request on a
packet socket), ``tcp`` (connect, then close), ``http`` (GET and read the
answer), ``udp`` (one datagram and its echo), ``dns`` (an A query, as ``dig``) and ``traceroute`` (UDP to port
33434+ with rising TTL, listening for ICMP time-exceeded / port-unreachable).
"""

from __future__ import annotations

import errno
import ipaddress
import os
import random
import select
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from netlab.lab import netns as nsmod
from netlab.packet import Frame
from netlab.probe import TRACEROUTE_PORT, ProbeError, ProbeRequest

T = TypeVar("T")
MAX_HOPS = 16
IP_RECVERR = 11


@dataclass
class ProbeResult:
    """What the prober itself saw: the replies it got, or why it got none."""

    kind: str
    answered: bool = False
    refused: bool = False  # RST / ICMP unreachable came back
    replies: list[str] = field(default_factory=list)
    error: str | None = None
    no_route: bool = False  # the source's own kernel had no route: nothing left it (ENETUNREACH)
    sport: int | None = None
    hops: list[str | None] = field(default_factory=list)  # traceroute
    started: float = 0.0
    ended: float = 0.0
    info: dict[str, Any] | None = None  # the journey's ``result`` (dns: rcode, answer, …)


def _icmp_echo(ident: int, seq: int, payload: bytes) -> bytes:
    from netlab.packet import checksum

    msg = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def ping(ns: str, dst: str, count: int, timeout: float, ttl: int | None, payload: bytes | None,
         bind: str | None = None) -> ProbeResult:
    r = ProbeResult("ping")
    s = nsmod.socket_in(ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    try:
        if bind:
            s.bind((bind, 0))
        if ttl:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        # a new identifier each probe, as iputils ping on an ICMP socket (the kernel picks it):
        # a second ping is a new conntrack entry, not the first one's, as in the simulator
        ident = random.randrange(1, 65536)
        data = payload if payload is not None else bytes(range(0x10, 0x10 + 48))
        for seq in range(1, count + 1):
            try:
                s.sendto(_icmp_echo(ident, seq, data), (dst, 0))
            except OSError as exc:
                if exc.errno != errno.ENETUNREACH:
                    raise
                r.no_route, r.error = True, "network is unreachable (no route: ENETUNREACH)"
                break
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([s], [], [], left)[0]:
                    break
                pkt, addr = s.recvfrom(65535)
                f = Frame(ethertype=0x0800)
                f.read_ip(pkt)
                if f.icmp_type == 0 and f.icmp_id == ident and f.icmp_seq == seq:
                    r.answered = True
                    r.replies.append(f"echo-reply from {addr[0]} seq={seq} ttl={f.ttl}")
                    break
                if f.icmp_type in (3, 11) and f.quoted is not None and f.quoted.dst == dst:
                    # an ICMP error came back instead of the echo reply: the probe was turned away
                    r.refused = True
                    r.error = (f"ICMP time exceeded in transit from {addr[0]}" if f.icmp_type == 11
                               else f"ICMP destination unreachable (code {f.icmp_code}) from {addr[0]}")
                    r.replies.append(f"{f.summary()} from {addr[0]}")
                    break
    finally:
        s.close()
    return r


def arping(ns: str, iface: str, src_ip: str, dst: str, count: int, timeout: float) -> ProbeResult:
    r = ProbeResult("arping")
    s = nsmod.socket_in(ns, socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    try:
        s.bind((iface, 0x0806))
        mac = s.getsockname()[4].hex(":")
        req = Frame(src_mac=mac, dst_mac="ff:ff:ff:ff:ff:ff", ethertype=0x0806, proto="arp", arp_op=1,
                    arp_sender_mac=mac, arp_sender_ip=src_ip, arp_target_mac="00:00:00:00:00:00",
                    arp_target_ip=dst).to_bytes()
        for _ in range(count):
            s.send(req)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([s], [], [], left)[0]:
                    break
                f = Frame.from_bytes(s.recv(65535))
                if f.proto == "arp" and f.arp_op == 2 and f.arp_sender_ip == dst:
                    r.answered = True
                    r.replies.append(f"{dst} is-at {f.arp_sender_mac}")
                    break
            if r.answered:
                break
    finally:
        s.close()
    return r


def tcp(ns: str, dst: str, dport: int, sport: int | None, timeout: float, request: bytes | None,
        ttl: int | None, bind: str | None = None) -> ProbeResult:
    r = ProbeResult("http" if request is not None else "tcp")
    s = nsmod.socket_in(ns, socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        if ttl:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        if sport or bind:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((bind or "0.0.0.0", sport or 0))
        try:
            s.connect((dst, dport))
        except ConnectionRefusedError:
            r.refused = True
            r.error = "connection refused (RST)"
            return r
        except TimeoutError:
            r.error = f"no answer within {timeout} s"
            return r
        except OSError as exc:
            if exc.errno == errno.ENETUNREACH:
                r.no_route, r.error = True, "network is unreachable (no route: ENETUNREACH)"
                return r
            r.refused = exc.errno == errno.EHOSTUNREACH
            r.error = os.strerror(exc.errno or 0) if exc.errno else str(exc)
            return r
        r.sport = s.getsockname()[1]
        r.answered = True
        r.replies.append("connected")
        if request is not None:
            s.sendall(request)
            chunks = []
            try:
                while chunk := s.recv(65535):
                    chunks.append(chunk)
            except TimeoutError:
                r.error = "the answer did not end within the timeout"
            body = b"".join(chunks)
            if body:
                r.replies.append(body.split(b"\r\n", 1)[0].decode("latin-1"))
            r.answered = bool(body)
    finally:
        s.close()
    return r


def _udp_connected(ns: str, dst: str, dport: int, sport: int | None, ttl: int | None,
                   bind: str | None, r: ProbeResult) -> socket.socket | None:
    """A UDP socket in ``ns`` connected to ``dst:dport`` (ICMP errors reported, ``ttl``,
    bound to ``bind``/``sport``), ``r.sport`` set; None with ``r`` saying so when there is no
    route (the kernel's ENETUNREACH at connect)."""
    s = nsmod.socket_in(ns, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        if ttl:
            s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
        if sport or bind:
            s.bind((bind or "0.0.0.0", sport or 0))
        s.connect((dst, dport))
    except OSError as exc:
        s.close()
        if exc.errno != errno.ENETUNREACH:
            raise
        r.no_route, r.error = True, "network is unreachable (no route: ENETUNREACH)"
        return None
    r.sport = s.getsockname()[1]
    return s


def udp(ns: str, dst: str, dport: int, sport: int | None, count: int, timeout: float,
        payload: bytes | None, ttl: int | None, bind: str | None = None) -> ProbeResult:
    r = ProbeResult("udp")
    s = _udp_connected(ns, dst, dport, sport, ttl, bind, r)
    if s is None:
        return r
    try:
        s.settimeout(timeout)
        for _ in range(count):
            s.send(payload if payload is not None else b"netlab probe\n")
            try:
                data = s.recv(65535)
                r.answered = True
                r.replies.append(f"{len(data)} bytes back")
                break
            except ConnectionRefusedError:
                r.refused = True
                r.error = "ICMP port unreachable"
                break
            except TimeoutError:
                r.error = f"no answer within {timeout} s"
            except OSError as exc:
                r.refused = True
                r.error = os.strerror(exc.errno or 0)
                break
    finally:
        s.close()
    return r


def dns_lookup(ns: str, dst: str, dport: int, sport: int | None, name: str, count: int, timeout: float,
               ttl: int | None, bind: str | None = None) -> ProbeResult:
    """``dig +notcp +tries=count @dst name``: one A query a try, the answer whose ID matches."""
    from netlab import dns
    from netlab.sim.probes import dns_result

    r = ProbeResult("dns")
    r.info = {"name": name, "server": dst, "port": dport, "rcode": None, "answer": None, "answers": []}
    s = _udp_connected(ns, dst, dport, sport, ttl, bind, r)
    if s is None:
        return r
    try:
        ident = random.randrange(65536)
        query = dns.query(name, ident)
        for _ in range(count):
            s.send(query)
            deadline = time.monotonic() + timeout
            try:
                while (left := deadline - time.monotonic()) > 0:
                    s.settimeout(left)
                    try:
                        msg = dns.parse(s.recv(65535))
                    except dns.DnsError:
                        continue
                    if msg.response and msg.ident == ident and msg.name.lower() == name.lower():
                        r.answered = True
                        r.replies.append(f"{msg.rcode} {' '.join(msg.answers)}".strip())
                        r.info.update(dns_result(msg))
                        return r
            except ConnectionRefusedError:
                r.refused, r.error = True, "ICMP port unreachable"
                return r
            except TimeoutError:
                r.error = f"no answer within {timeout} s"
            except OSError as exc:
                r.refused, r.error = True, os.strerror(exc.errno or 0)
                return r
    finally:
        s.close()
    return r


def traceroute(ns: str, dst: str, dport: int | None, max_hops: int, timeout: float,
               bind: str | None = None) -> ProbeResult:
    r = ProbeResult("traceroute")
    icmp = nsmod.socket_in(ns, socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    out = nsmod.socket_in(ns, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        out.bind((bind or "0.0.0.0", 0))
        r.sport = out.getsockname()[1]
        for ttl in range(1, max_hops + 1):
            port = (dport or TRACEROUTE_PORT) + ttl - 1
            out.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, ttl)
            out.sendto(b"\0" * 32, (dst, port))
            deadline = time.monotonic() + timeout
            hop = None
            done = False
            while (left := deadline - time.monotonic()) > 0:
                if not select.select([icmp], [], [], left)[0]:
                    break
                pkt, addr = icmp.recvfrom(65535)
                f = Frame(ethertype=0x0800)
                f.read_ip(pkt)
                q = f.quoted
                if f.icmp_type in (3, 11) and q is not None and q.proto == "udp" and q.dport == port:
                    hop = addr[0]
                    done = f.icmp_type == 3
                    break
            r.hops.append(hop)
            r.replies.append(f"{ttl} {hop or '*'}")
            if done:
                r.answered = True
                break
    finally:
        icmp.close()
        out.close()
    return r


def route_iface(node_ifaces: list[tuple[str, list[str]]], dst: str) -> tuple[str, str] | None:
    """The (interface, own address) of a node on the same subnet as ``dst``."""
    ip = ipaddress.IPv4Address(dst)
    for name, cidrs in node_ifaces:
        for c in cidrs:
            if ip in ipaddress.IPv4Interface(c).network:
                return name, c.split("/")[0]
    return None


def promptly(fn: Callable[[], T]) -> T:
    """``fn()`` in a helper thread running as the lowest real-time task (where allowed), so a
    probe reacts to each packet at once even on a busy machine, as a client on an idle one
    would — the kernel's delayed ACKs then behave as they do there.  The thread ends after."""
    import threading

    out: list[T] = []
    err: list[BaseException] = []

    def body() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
        except (OSError, AttributeError):
            pass
        try:
            out.append(fn())
        except BaseException as exc:  # handed to the caller
            err.append(exc)

    t = threading.Thread(target=body, name="netlab-probe", daemon=True)
    t.start()
    t.join()
    if err:
        raise err[0]
    return out[0]


def send(ns: str, src_node: Any, request: ProbeRequest, max_hops: int = 8) -> ProbeResult:
    """The probe's own program, run in the source node's namespace."""
    kind, dst_ip, bind = request.kind, request.dst_ip, request.src_ip
    if kind == "ping":
        return ping(ns, dst_ip, request.count, request.timeout, request.ttl, request.payload, bind)
    if kind == "arping":
        hit = route_iface([(i.name, i.addresses) for i in src_node.interfaces], dst_ip)
        if hit is None:
            raise ProbeError(f"arping: {src_node.name} has no interface on the subnet of {dst_ip}")
        return arping(ns, hit[0], bind or hit[1], dst_ip, request.count, request.timeout)
    if kind in ("tcp", "http"):
        req = None
        if kind == "http":
            req = f"GET / HTTP/1.0\r\nHost: {dst_ip}\r\nUser-Agent: netlab\r\n\r\n".encode()
        return tcp(ns, dst_ip, int(request.dport or 80), request.sport, request.timeout, req, request.ttl, bind)
    if kind == "udp":
        return udp(ns, dst_ip, int(request.dport or 7), request.sport, request.count, request.timeout,
                   request.payload, request.ttl, bind)
    if kind == "dns":
        return dns_lookup(ns, dst_ip, int(request.dport or 53), request.sport, str(request.name), request.count,
                          request.timeout, request.ttl, bind)
    if kind == "traceroute":
        return traceroute(ns, dst_ip, request.dport, min(max_hops, MAX_HOPS), min(request.timeout, 1.0), bind)
    raise ProbeError(f"the lab cannot send a {kind} probe yet")  # pragma: no cover - a new kind
