"""What answers a packet delivered to a namespace: the kernel's own TCP, UDP and
ICMP handling, and the programs a scenario runs (an HTTP server, a TCP service
that accepts, a UDP echo, Docker's userland proxy).

TCP follows the kernel: a SYN to a listening port is answered with SYN-ACK, to
a closed port with RST-ACK; data is acknowledged at once (quick-ack at the start
of a connection) before the program answers; closing sends FIN.  UDP to a closed
port gets ICMP port unreachable; ICMP echo requests are answered by the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netlab.packet import Frame
from netlab.sim.kernel import Skb

if TYPE_CHECKING:  # pragma: no cover
    from netlab.sim.kernel import Kernel

APP_WAKEUP = 50e-6  # a program reacts this long after the kernel (softirq hops take ~1 µs)
SYSCALL_GAP = 30e-6  # between two system calls of one program (write, then close)
DELACK_MIN = 0.04  # TCP_DELACK_MIN
SYN_RTO = 1.0  # TCP_TIMEOUT_INIT
SYN_RETRIES = 6  # net.ipv4.tcp_syn_retries
SYN_LINEAR_TIMEOUTS = 4  # net.ipv4.tcp_syn_linear_timeouts (Linux 6.5+)
# The SYN's retransmission timer is armed just after the neighbour timer its SYN started;
# both expire in the same timer-wheel bucket, and the wheel runs the later-armed one first
# (a bucket is a list with new timers at its head).  So at a tie the TCP timer goes first:
# it sees the SYN still waiting for ARP and does not resend it.
TIMER_TIE = 1e-9
HTTP_BODY = b"<html><body>hello from netlab</body></html>\n"


def syn_elapsed(retransmission: int) -> float:
    """Seconds from the first SYN to its ``retransmission``-th resend (1 → 1 s, 5 → 5 s, 6 → 7 s)."""
    t = 0.0
    for k in range(retransmission):
        t += SYN_RTO if k <= SYN_LINEAR_TIMEOUTS else SYN_RTO * 2 ** (k - SYN_LINEAR_TIMEOUTS)
    return t


def http_response(node: str) -> bytes:
    body = HTTP_BODY
    return (b"HTTP/1.0 200 OK\r\nServer: netlab-sim\r\nContent-Type: text/html\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


class App:
    """Callbacks a program gets from its sockets (all optional)."""

    def on_connect(self, sock: TcpSock) -> None: ...
    def on_accept(self, sock: TcpSock) -> None: ...
    def on_data(self, sock: TcpSock, data: bytes) -> None: ...
    def on_fin(self, sock: TcpSock) -> None: ...
    def on_reset(self, sock: TcpSock) -> None: ...
    def on_error(self, sock: Any, f: Frame) -> None: ...
    def on_datagram(self, sock: Any, f: Frame) -> None: ...
    def on_reply(self, sock: Any, f: Frame) -> None: ...


class TcpSock:
    """One end of a TCP connection (the states of ``ss -t``)."""

    def __init__(self, k: Kernel, lip: str, lport: int, rip: str, rport: int, app: App,
                 ttl: int = 64) -> None:
        self.k, self.lip, self.lport, self.rip, self.rport = k, lip, lport, rip, rport
        self.app = app
        self.ttl = ttl
        self.state = "CLOSED"
        self.snd_nxt = k.net.rng.getrandbits(32)
        self.rcv_nxt = 0
        self.ip_id = k.net.rng.randrange(65536)
        self.ack_pending = False
        self.isn = self.snd_nxt  # the SYN's sequence number, for retransmissions
        self.syn_skb: Skb | None = None
        # lock_sock: the program is inside a system call on this socket (its name), and
        # segments that arrive meanwhile wait in the backlog until release_sock
        self.owner: str | None = None
        self.backlog: list[Frame] = []
        k.socks[(lip, lport, rip, rport)] = self

    def _unregister(self) -> None:
        self.k.socks.pop((self.lip, self.lport, self.rip, self.rport), None)

    def send(self, flags: str, payload: bytes = b"", seq: int | None = None) -> None:
        """Send a segment (``seq`` given: a retransmission, ``snd_nxt`` unchanged)."""
        if "A" in flags:
            self.ack_pending = False
        resend = seq is not None
        f = Frame(proto="tcp", src=self.lip, dst=self.rip, sport=self.lport, dport=self.rport,
                  seq=self.snd_nxt if seq is None else seq,
                  ack=self.rcv_nxt if "A" in flags else 0, flags=flags,
                  ttl=self.ttl, ip_id=self.ip_id, window=64240 if "S" in flags else 502,
                  payload=payload)
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        if not resend:
            self.snd_nxt = (self.snd_nxt + len(payload) + ("S" in flags) + ("F" in flags)) & 0xFFFFFFFF
        skb = Skb(f, self.k.net.new_pid())
        if flags == "S":
            self.syn_skb = skb
        self.k.net.rec("send", self.k.name, f"{self.state}: sends {f.summary()}", skb=skb)
        self.k.local_out(skb)

    def _call(self, name: str, fn: Any, *args: Any) -> None:
        """The program's system call ``name`` on this socket: it holds the socket lock
        while the packets it sends make their way through the softirq run it starts —
        so a hairpin answer comes back while the call still holds the lock, and waits in
        the backlog (both copies, when br_netfilter delivers it twice) until the call
        returns.  A program not in a system call gets its segments handled at once."""
        if self.owner is not None:  # already held (the backlog is being processed)
            fn(*args)
            return
        self.owner = name
        net = self.k.net
        net.unsettled[self.k.name] = self.k
        net.when_done(net.syscall(fn, *args), self._release)

    def _release(self) -> None:
        """``release_sock``: handle the backlog in arrival order, each segment's answers
        running their own softirq run to the end before the next segment is taken."""
        net = self.k.net
        while self.backlog:
            f = self.backlog.pop(0)
            net.rec("deliver", self.k.name, f"release_sock after {self.owner}(): the backlog "
                    f"hands {f.summary()} to socket {self.lip}:{self.lport} ({self.state})", frame=f)
            chain = net.syscall(self.rcv, f)
            if net.busy(chain):
                net.when_done(chain, self._release)
                return
        self.owner = None

    def connect(self) -> None:
        self._call("connect", self._connect)

    def _connect(self) -> None:
        self.state = "SYN_SENT"
        self.isn = self.snd_nxt
        self.send("S")
        self.k.net.schedule(self._syn_timer, 1, delay=SYN_RTO - TIMER_TIE)

    def _syn_timer(self, attempt: int) -> None:
        """No SYN-ACK yet: send the SYN again.  The first ``SYN_LINEAR_TIMEOUTS``
        retransmissions come one RTO apart (``net.ipv4.tcp_syn_linear_timeouts``,
        Linux 6.5+), then the RTO doubles: SYNs at 0, 1, 2, 3, 4, 5, 7 s."""
        if self.state != "SYN_SENT" or attempt > SYN_RETRIES:
            return
        elapsed = syn_elapsed(attempt)
        nxt = SYN_RTO if attempt <= SYN_LINEAR_TIMEOUTS else SYN_RTO * 2 ** (attempt - SYN_LINEAR_TIMEOUTS)
        syn = self.syn_skb
        if syn is not None and any(s is syn for n in self.k.neigh.values() for s in n.queue):
            # skb_still_in_host_queue: the first SYN still waits for ARP, so the kernel
            # does not send another; the timer runs on all the same
            self.k.net.schedule(self._syn_timer, attempt + 1, delay=nxt - TIMER_TIE)
            return
        self.snd_nxt = self.isn
        self.k.net.rec("send", self.k.name, f"no SYN-ACK after {elapsed:g} s: "
                       f"retransmit the SYN (attempt {attempt + 1})")
        self.send("S")
        self.k.net.schedule(self._syn_timer, attempt + 1, delay=nxt - TIMER_TIE)

    def write(self, data: bytes) -> None:
        self._call("write", self._write, data)

    def _write(self, data: bytes) -> None:
        if self.state in ("ESTABLISHED", "CLOSE_WAIT"):
            self.send("PA", data)

    def close(self) -> None:
        """The program closes the socket: FIN (carrying any pending ACK)."""
        self._call("close", self._close)

    def _close(self) -> None:
        if self.state == "ESTABLISHED":
            self.state = "FIN_WAIT1"
            self.send("FA")
        elif self.state == "CLOSE_WAIT":
            self.state = "LAST_ACK"
            self.send("FA")

    def _wake(self, callback: Any, *args: Any) -> None:
        """Run a program's callback: it wakes up after the kernel has done its part."""
        self.k.net.schedule(callback, self, *args, delay=APP_WAKEUP)

    def _delayed_ack(self) -> None:
        if self.ack_pending and self.state != "CLOSED":
            self.send("A")

    def rcv(self, f: Frame) -> None:
        """The kernel's part of receiving a segment; the program hears of it later."""
        flags = f.flags or ""
        net = self.k.net
        if "R" in flags:
            self.state = "CLOSED"
            self._unregister()
            net.rec("deliver", self.k.name, f"connection {self.lip}:{self.lport} reset by peer",
                    frame=f)
            self._wake(self.app.on_reset)
            return
        if self.state == "SYN_SENT":
            if "S" in flags and "A" in flags:
                self.rcv_nxt = ((f.seq or 0) + 1) & 0xFFFFFFFF
                self.state = "ESTABLISHED"
                self.send("A")
                self._wake(self.app.on_connect)
            return
        data = f.payload
        fin = "F" in flags
        if "S" in flags:  # a duplicate SYN
            if self.state == "SYN_RECV":
                self.send("SA", seq=self.isn)  # the request is still open: SYN-ACK again
            else:
                self.send("A")  # challenge ACK
            return
        if self.state == "TIME_WAIT":
            if fin:
                self.send("A")  # the peer did not get our last ACK: ACK its FIN again
            return
        seglen = len(data) + fin
        if seglen and ((f.seq or 0) - self.rcv_nxt) & 0xFFFFFFFF != 0:
            self.send("A")  # old (duplicate) or out-of-order data: an immediate duplicate ACK
            return
        if self.state == "SYN_RECV" and "A" in flags and f.ack == self.snd_nxt:
            self.state = "ESTABLISHED"
            self._wake(self.app.on_accept)
        if "A" in flags and f.ack == self.snd_nxt:
            if self.state == "FIN_WAIT1":
                self.state = "FIN_WAIT2"
            elif self.state == "CLOSING":
                self.state = "TIME_WAIT"
            elif self.state == "LAST_ACK":
                self.state = "CLOSED"
                self._unregister()
                return
        if data:
            self.rcv_nxt = (self.rcv_nxt + len(data)) & 0xFFFFFFFF
        if fin:
            self.rcv_nxt = (self.rcv_nxt + 1) & 0xFFFFFFFF
            if self.state in ("ESTABLISHED", "SYN_RECV"):
                # tcp_fin: CLOSE_WAIT and "pingpong" — the ACK waits (delayed ACK), so a
                # program that closes at once sends one FIN-ACK that acknowledges both
                self.state = "CLOSE_WAIT"
                self.ack_pending = True
                net.schedule(self._delayed_ack, delay=DELACK_MIN)
            elif self.state == "FIN_WAIT1":
                self.state = "CLOSING"
                self.send("A")
            elif self.state == "FIN_WAIT2":
                self.state = "TIME_WAIT"  # the socket lingers (2 MSL) to re-ACK a lost FIN
                self.send("A")
        elif data:
            self.send("A")  # quick-ack mode at the start of a connection: ACK at once
        if data:
            self._wake(self.app.on_data, data)
        if fin:
            self._wake(self.app.on_fin)


# ---------------------------------------------------------------- programs
class HttpServer(App):
    """Answers a GET with a short HTTP/1.0 page, then closes (as ``python -m http.server``)."""

    def on_data(self, sock: TcpSock, data: bytes) -> None:
        if data.startswith((b"GET", b"HEAD")):
            sock.k.net.rec("deliver", sock.k.name, f"HTTP server on port {sock.lport} answers "
                           f"{data.split(b' ', 2)[1].decode('latin-1', 'replace')}")
            sock.write(http_response(sock.k.name))
            sock.k.net.schedule(sock.close, delay=SYSCALL_GAP)

    def on_fin(self, sock: TcpSock) -> None:
        sock.close()


class TcpService(App):
    """Accepts connections and closes its side when the client does."""

    def on_fin(self, sock: TcpSock) -> None:
        sock.close()


class ProxyConn(App):
    """docker-proxy for one connection: the front socket was accepted on the
    host, the back socket is its own new connection to the container."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.front: TcpSock | None = None
        self.back: TcpSock | None = None
        self.pending: list[bytes] = []

    def on_accept(self, sock: TcpSock) -> None:
        k = sock.k
        self.front = sock
        ip, port = self.target
        k.net.rec("deliver", k.name, f"docker-proxy accepted {sock.rip}:{sock.rport} on "
                  f"{sock.lip}:{sock.lport}; opens its own connection to {ip}:{port}")

        def dial() -> None:  # accept() returned; the next system call is connect()
            self.back = tcp_connect(k, ip, port, _ProxyBack(self))

        k.net.schedule(dial, delay=SYSCALL_GAP)

    def on_data(self, sock: TcpSock, data: bytes) -> None:
        if self.back is not None and self.back.state == "ESTABLISHED":
            self.back.write(data)
        else:
            self.pending.append(data)

    def on_fin(self, sock: TcpSock) -> None:
        # docker-proxy copies until one side ends, then closes that side and the other
        sock.close()
        if self.back is not None:
            sock.k.net.schedule(self.back.close, delay=SYSCALL_GAP)


class _ProxyBack(App):
    def __init__(self, conn: ProxyConn) -> None:
        self.conn = conn

    def on_connect(self, sock: TcpSock) -> None:
        for data in self.conn.pending:
            sock.write(data)
        self.conn.pending = []

    def on_data(self, sock: TcpSock, data: bytes) -> None:
        if self.conn.front is not None:
            self.conn.front.write(data)

    def on_fin(self, sock: TcpSock) -> None:
        sock.close()
        if self.conn.front is not None:
            sock.k.net.schedule(self.conn.front.close, delay=SYSCALL_GAP)

    def on_reset(self, sock: TcpSock) -> None:
        if self.conn.front is not None:
            self.conn.front.state = "CLOSED"
            self.conn.front.send("RA")
            self.conn.front._unregister()


class UdpProxy:
    """docker-proxy for a UDP port: one socket towards the container per client
    (address, port), and what comes back on it is sent to that client from the
    published address."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.flows: dict[tuple[str, int, str, int], Any] = {}

    def relay(self, k: Kernel, f: Frame) -> None:
        from netlab.sim.probes import UdpSock

        key = (f.dst or "", f.dport or 0, f.src or "", f.sport or 0)
        back = self.flows.get(key)
        ip, port = self.target
        if back is None:
            src = k.source_for(ip)[0] or "0.0.0.0"
            back = UdpSock(k, src, k.net.ephemeral_port(), _UdpProxyBack(key))
            self.flows[key] = back
        out = Frame(proto="udp", src=back.ip, dst=ip, sport=back.port, dport=port, ttl=64,
                    ip_id=k.next_ip_id(), payload=f.payload)
        skb = Skb(out, k.net.new_pid())
        k.net.rec("send", k.name, f"docker-proxy sends {out.summary()}", skb=skb)
        k.local_out(skb)


class _UdpProxyBack(App):
    def __init__(self, key: tuple[str, int, str, int]) -> None:
        self.key = key

    def on_datagram(self, sock: Any, f: Frame) -> None:
        k = sock.k
        lip, lport, rip, rport = self.key

        def answer() -> None:
            r = Frame(proto="udp", src=lip, dst=rip, sport=lport, dport=rport, ttl=64,
                      ip_id=k.next_ip_id(), payload=f.payload)
            skb = Skb(r, k.net.new_pid())
            k.net.rec("send", k.name, f"docker-proxy relays the answer: {r.summary()}", skb=skb)
            k.local_out(skb)

        k.net.schedule(answer, delay=APP_WAKEUP)


class DnsResolver:
    """Docker's embedded DNS server in one container (:func:`netlab.dns.answer`): it
    answers the names of the containers on that container's network."""

    def __init__(self, records: dict[str, str]) -> None:
        self.records = records

    def reply(self, query: bytes) -> bytes | None:
        from netlab import dns

        return dns.answer(query, self.records)


class DnsTcpConn(App):
    """The embedded DNS server's TCP side: two-byte length, message; one answer each."""

    def __init__(self, resolver: DnsResolver) -> None:
        self.resolver = resolver
        self.buf = b""

    def on_data(self, sock: TcpSock, data: bytes) -> None:
        self.buf += data
        while len(self.buf) >= 2 and len(self.buf) >= 2 + int.from_bytes(self.buf[:2], "big"):
            n = int.from_bytes(self.buf[:2], "big")
            msg, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
            out = self.resolver.reply(msg)
            if out is not None:
                sock.write(len(out).to_bytes(2, "big") + out)

    def on_fin(self, sock: TcpSock) -> None:
        sock.close()


def install_service(k: Kernel, svc: Any) -> None:
    """Start a scenario ``Service`` in ``k``: register its listening socket."""
    kind = svc.kind
    proto = (svc.proto or "tcp").lower()
    if kind == "dns":
        from netlab.scenarios.embedded_dns import network_records

        if k.net.dns_records is None:  # once per network, not once per container
            k.net.dns_records = network_records(k.net.scenario)
        resolver = DnsResolver(k.net.dns_records.get(k.node.network, {}))
        if proto == "udp":
            factory: Any = resolver
        else:
            def factory(resolver: DnsResolver = resolver) -> App:
                return DnsTcpConn(resolver)
    elif kind == "docker-proxy" and proto == "udp" and svc.target:
        ip, _, port = svc.target.rpartition(":")
        factory = UdpProxy((ip, int(port)))
    elif kind == "udp-echo" or proto == "udp":
        factory = "udp-echo"
        proto = "udp"
    elif kind == "docker-proxy" and svc.target:
        ip, _, port = svc.target.rpartition(":")
        target = (ip, int(port))

        def factory(target: tuple[str, int] = target) -> App:
            return ProxyConn(target)
    elif kind == "http":
        factory = HttpServer
    else:
        factory = TcpService
    k.listeners.setdefault((proto, int(svc.port)), []).append((svc.bind or "0.0.0.0", factory))


def _listener(k: Kernel, proto: str, ip: str, port: int) -> Any:
    for bind, factory in k.listeners.get((proto, port), ()):
        if bind in ("0.0.0.0", "", ip) or (bind == "127.0.0.1" and ip.startswith("127.")):
            return factory
    return None


def tcp_connect(k: Kernel, dst: str, dport: int, app: App, sport: int | None = None,
                src: str | None = None, ttl: int = 64) -> TcpSock:
    """Open a connection from ``k`` (the program's ``connect()``)."""
    if src is None:
        src = k.source_for(dst)[0] or "0.0.0.0"
    if sport is None:
        sport = k.net.ephemeral_port()
    sock = TcpSock(k, src, sport, dst, dport, app, ttl=ttl)
    sock.connect()
    return sock


# ---------------------------------------------------------------- demux
def l4_rcv(k: Kernel, skb: Skb) -> None:
    f = skb.f
    if f.proto == "tcp":
        tcp_rcv(k, skb)
    elif f.proto == "udp":
        udp_rcv(k, skb)
    elif f.proto == "icmp":
        icmp_rcv(k, skb)


def tcp_rcv(k: Kernel, skb: Skb) -> None:
    f = skb.f
    net = k.net
    sock = k.socks.get((f.dst, f.dport, f.src, f.sport))
    if sock is not None and sock.state == "TIME_WAIT" and f.flags == "S":
        # tcp_timewait_state_process (TCP_TW_SYN): a new SYN for the same four-tuple ends
        # the TIME_WAIT socket and goes to the listener (timestamps show it is newer)
        sock._unregister()
        sock = None
    if sock is not None:
        if sock.owner is not None:  # sock_owned_by_user: tcp_add_backlog
            net.rec("deliver", k.name, f"to socket {f.dst}:{f.dport} ({sock.state}), held by "
                    f"the program inside {sock.owner}(): queued to its backlog", skb=skb)
            sock.backlog.append(f)
            return
        net.rec("deliver", k.name, f"to socket {f.dst}:{f.dport} ({sock.state})", skb=skb)
        sock.rcv(f)
        return
    flags = f.flags or ""
    if "S" in flags and "A" not in flags:
        factory = _listener(k, "tcp", f.dst or "", f.dport or 0)
        if factory is not None:
            app = factory()
            sock = TcpSock(k, f.dst or "", f.dport or 0, f.src or "", f.sport or 0, app)
            sock.rcv_nxt = ((f.seq or 0) + 1) & 0xFFFFFFFF
            sock.state = "SYN_RECV"
            net.rec("deliver", k.name, f"SYN to listening port {f.dport}: answer SYN-ACK",
                    skb=skb)
            sock.send("SA")
            return
    if "R" in flags:
        return
    reason = f"nothing listens on tcp port {f.dport}: the kernel answers RST"
    net.rec("drop", k.name, reason, reason=reason, skb=skb)
    if "A" in flags:
        r = Frame(proto="tcp", src=f.dst, dst=f.src, sport=f.dport, dport=f.sport,
                  seq=f.ack or 0, ack=0, flags="R", ttl=64, ip_id=0, window=0)
    else:
        seglen = len(f.payload) + ("S" in flags) + ("F" in flags)
        r = Frame(proto="tcp", src=f.dst, dst=f.src, sport=f.dport, dport=f.sport, seq=0,
                  ack=((f.seq or 0) + seglen) & 0xFFFFFFFF, flags="RA", ttl=64, ip_id=0, window=0)
    out = Skb(r, net.new_pid())
    net.rec("send", k.name, f"sends {r.summary()}", skb=out)
    k.local_out(out)


def udp_rcv(k: Kernel, skb: Skb) -> None:
    f = skb.f
    net = k.net
    sock = k.udp_socks.get((f.dst, f.dport)) or k.udp_socks.get(("0.0.0.0", f.dport))
    if sock is not None:
        net.rec("deliver", k.name, f"to UDP socket {f.dst}:{f.dport}", skb=skb)
        sock.app.on_datagram(sock, f)
        return
    factory = _listener(k, "udp", f.dst or "", f.dport or 0)
    if isinstance(factory, UdpProxy):
        ip, port = factory.target
        net.rec("deliver", k.name, f"docker-proxy reads the datagram on {f.dst}:{f.dport}; "
                f"relays it to {ip}:{port}", skb=skb)
        net.schedule(factory.relay, k, f, delay=APP_WAKEUP)
        return
    if isinstance(factory, DnsResolver):
        answer = factory.reply(f.payload)
        net.rec("deliver", k.name, f"Docker's embedded DNS server on {f.dst}:{f.dport} reads the query"
                + ("" if answer is not None else " (not a DNS query: no answer)"), skb=skb)
        if answer is not None:
            r = Frame(proto="udp", src=f.dst, dst=f.src, sport=f.dport, dport=f.sport, ttl=64,
                      ip_id=k.next_ip_id(), payload=answer)

            def respond() -> None:
                out = Skb(r, net.new_pid())
                net.rec("send", k.name, f"the embedded DNS server answers {r.summary()}", skb=out)
                k.local_out(out)

            net.schedule(respond, delay=APP_WAKEUP)
        return
    if factory == "udp-echo":
        net.rec("deliver", k.name, f"UDP echo on port {f.dport} sends the datagram back", skb=skb)
        r = Frame(proto="udp", src=f.dst, dst=f.src, sport=f.dport, dport=f.sport, ttl=64,
                  ip_id=k.next_ip_id(), payload=f.payload)

        def echo() -> None:
            out = Skb(r, net.new_pid())
            net.rec("send", k.name, f"sends {r.summary()}", skb=out)
            k.local_out(out)

        net.schedule(echo, delay=APP_WAKEUP)
        return
    if f.dst in k.local_ips or (f.dst or "").startswith("127."):
        reason = f"nothing listens on udp port {f.dport}: ICMP port unreachable"
        net.rec("drop", k.name, reason, reason=reason, skb=skb, final=False)
        k.icmp_error(skb, 3, 3)


def icmp_rcv(k: Kernel, skb: Skb) -> None:
    f = skb.f
    net = k.net
    if f.icmp_type == 8:
        if f.dst not in k.local_ips and not (f.dst or "").startswith("127."):
            return
        net.rec("deliver", k.name, f"echo request to {f.dst}: the kernel answers", skb=skb)
        r = Frame(proto="icmp", src=f.dst, dst=f.src, ttl=64, ip_id=k.next_ip_id(), icmp_type=0,
                  icmp_code=0, icmp_id=f.icmp_id, icmp_seq=f.icmp_seq, payload=f.payload,
                  df=False)
        out = Skb(r, net.new_pid())
        net.rec("send", k.name, f"sends {r.summary()}", skb=out)
        k.local_out(out)
        return
    if f.icmp_type == 0:
        sock = k.ping_socks.get(f.icmp_id or 0)
        if sock is not None:
            net.rec("deliver", k.name, f"echo reply to the ping socket (id {f.icmp_id})", skb=skb)
            sock.app.on_reply(sock, f)
        return
    q = f.quoted
    if q is None:
        return
    sock = None
    if q.proto == "tcp":
        sock = k.socks.get((q.src, q.sport, q.dst, q.dport))
    elif q.proto == "udp":
        sock = k.udp_socks.get((q.src, q.sport)) or k.udp_socks.get(("0.0.0.0", q.sport))
    elif q.proto == "icmp":
        sock = k.ping_socks.get(q.icmp_id or 0)
    if sock is not None:
        net.rec("deliver", k.name, f"ICMP error {f.summary()} to the socket that sent "
                f"{q.src}:{q.sport or q.icmp_id}", skb=skb)
        sock.app.on_error(sock, f)
