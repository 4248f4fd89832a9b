"""The programs a probe runs in its source node: ``ping``, ``arping``, a TCP
connect, an HTTP GET (``curl``), a UDP datagram and ``traceroute`` — each a
small client on the simulated sockets that records what came back — and ``dns``, a
lookup of one A record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netlab.packet import Frame
from netlab.probe import TRACEROUTE_PORT, ProbeError, ProbeRequest
from netlab.sim.arp import BROADCAST, arp_frame
from netlab.sim.kernel import Skb
from netlab.sim.services import App, TcpSock, tcp_connect

if TYPE_CHECKING:  # pragma: no cover
    from netlab.sim.kernel import Kernel

MAX_HOPS = 16


@dataclass
class ProbeResult:
    """What the client saw: answered / rejected, and the frames that came back."""

    answered: bool = False
    rejected: bool = False
    reason: str | None = None
    replies: list[Frame] = field(default_factory=list)
    done: bool = False
    info: dict[str, Any] = field(default_factory=dict)  # the journey's ``result`` (dns: rcode, answer)


_UNREACH = {0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable",
            3: "port unreachable", 4: "fragmentation needed", 9: "network prohibited",
            10: "host prohibited", 13: "administratively prohibited"}


def icmp_error_text(f: Frame) -> str:
    """What a program hears of an ICMP error: "ICMP port unreachable from 192.0.2.1"."""
    if f.icmp_type == 3:
        what = _UNREACH.get(f.icmp_code or 0, f"destination unreachable (code {f.icmp_code})")
    elif f.icmp_type == 11:
        what = "time exceeded in transit"
    else:
        what = f"type {f.icmp_type} code {f.icmp_code}"
    return f"ICMP {what} from {f.src}"


class _Client(App):
    def __init__(self, result: ProbeResult) -> None:
        self.r = result


class TcpConnectClient(_Client):
    def on_connect(self, sock: TcpSock) -> None:
        self.r.answered = True
        sock.close()

    def on_reset(self, sock: TcpSock) -> None:
        self.r.rejected = True
        self.r.reason = f"connection refused (RST from {sock.rip}:{sock.rport})"

    def on_error(self, sock: Any, f: Frame) -> None:
        self.r.rejected = True
        self.r.reason = icmp_error_text(f)
        sock.state = "CLOSED"
        sock._unregister()

    def on_fin(self, sock: TcpSock) -> None:
        sock.close()


class HttpClient(TcpConnectClient):
    def __init__(self, result: ProbeResult, host: str) -> None:
        super().__init__(result)
        self.host = host
        self.body = b""

    def on_connect(self, sock: TcpSock) -> None:
        sock.write(f"GET / HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: netlab\r\n"
                   f"Accept: */*\r\n\r\n".encode())

    def on_data(self, sock: TcpSock, data: bytes) -> None:
        self.body += data
        if self.body.startswith(b"HTTP/"):
            self.r.answered = True

    def on_fin(self, sock: TcpSock) -> None:
        sock.close()


class PingSock:
    def __init__(self, k: Kernel, ident: int, app: App) -> None:
        self.k, self.ident, self.app = k, ident, app
        k.ping_socks[ident] = self


class PingClient(_Client):
    def on_reply(self, sock: Any, f: Frame) -> None:
        self.r.answered = True
        self.r.replies.append(f)

    def on_error(self, sock: Any, f: Frame) -> None:
        self.r.replies.append(f)
        if not self.r.answered:
            self.r.rejected = True
            self.r.reason = icmp_error_text(f)


class UdpSock:
    def __init__(self, k: Kernel, ip: str, port: int, app: App) -> None:
        self.k, self.ip, self.port, self.app = k, ip, port, app
        k.udp_socks[(ip, port)] = self


class UdpClient(_Client):
    def on_datagram(self, sock: Any, f: Frame) -> None:
        self.r.answered = True
        self.r.replies.append(f)

    def on_error(self, sock: Any, f: Frame) -> None:
        self.r.replies.append(f)
        self.r.rejected = True
        self.r.reason = icmp_error_text(f)


class DnsClient(UdpClient):
    """A stub resolver's lookup (``dig +notcp``): the answer whose ID and question match."""

    def __init__(self, result: ProbeResult, ident: int, name: str) -> None:
        super().__init__(result)
        self.ident, self.name = ident, name

    def on_datagram(self, sock: Any, f: Frame) -> None:
        from netlab import dns

        try:
            msg = dns.parse(f.payload)
        except dns.DnsError:
            return
        if not msg.response or msg.ident != self.ident or msg.name.lower() != self.name.lower():
            return
        self.r.answered = True
        self.r.replies.append(f)
        self.r.info.update(dns_result(msg))


def dns_result(msg: Any) -> dict[str, Any]:
    """What a lookup's answer tells (both backends fill ``journey.result`` with this)."""
    return {"rcode": msg.rcode, "answer": msg.answers[0] if msg.answers else None,
            "answers": list(msg.answers), "ttl": msg.ttl, "recursion_available": msg.ra}


class TracerouteClient(_Client):
    def __init__(self, result: ProbeResult, dst: str, first_port: int) -> None:
        super().__init__(result)
        self.dst = dst
        self.first_port = first_port
        self.by_ttl: dict[int, str | None] = {}
        self.sent = 0

    @property
    def hops(self) -> list[str | None]:
        """The router that answered each TTL (None: no answer, traceroute's ``*``)."""
        return [self.by_ttl.get(t) for t in range(1, self.sent + 1)]

    def on_error(self, sock: Any, f: Frame) -> None:
        q = f.quoted
        if q is None or q.dport is None:
            return
        self.r.replies.append(f)
        self.by_ttl.setdefault(q.dport - self.first_port + 1, f.src)
        if f.icmp_type == 3:
            self.r.done = True
            self.r.answered = f.src == self.dst
            if not self.r.answered:
                self.r.rejected = True
                self.r.reason = icmp_error_text(f)


# ---------------------------------------------------------------- drivers
def start_probe(k: Kernel, request: ProbeRequest, src_ip: str, result: ProbeResult) -> TracerouteClient | None:
    """Start the program of ``request``'s kind in kernel ``k`` (the traceroute client, whose
    hops the journey lists, is returned)."""
    kind, dst, dport, ttl = request.kind, request.dst_ip, request.dport, request.ttl
    if kind == "ping":
        start_ping(k, src_ip, dst, request.count, ttl, request.payload, result)
    elif kind in ("tcp", "http"):
        start_tcp(k, src_ip, dst, int(dport or 80), request.sport, ttl, result, kind == "http")
    elif kind == "udp":
        start_udp(k, src_ip, dst, int(dport or 7), request.sport, ttl, request.payload, result, request.count)
    elif kind == "traceroute":
        return start_traceroute(k, src_ip, dst, dport, result)
    elif kind == "dns":
        start_dns(k, src_ip, dst, int(dport or 53), request.sport, ttl, str(request.name), result, request.count)
    elif kind == "arping":
        rt = k.routes.lookup(dst)
        if rt is None or rt.type != "unicast" or k.ifaces[rt.dev].kind == "loopback":
            raise ProbeError(f"arping: {request.src_node} has no link to {dst}")
        start_arping(k, rt.dev, src_ip, dst, request.count, result)
    else:  # pragma: no cover - a kind added to netlab.probe.KINDS and not yet here
        raise ProbeError(f"the simulator cannot send a {kind} probe yet")
    return None



def send_ip(k: Kernel, f: Frame) -> bool:
    """A program's send(): False when the kernel refused it (no route, OUTPUT drop)."""
    skb = Skb(f, k.net.new_pid())
    k.net.rec("send", k.name, f"sends {f.summary()}", skb=skb)
    return k.local_out(skb) is not False


def start_ping(k: Kernel, src: str, dst: str, count: int, ttl: int | None, payload: bytes | None,
               result: ProbeResult, interval: float = 1.0) -> None:
    net = k.net
    ident = net.rng.randrange(1, 65536)
    PingSock(k, ident, PingClient(result))
    data = payload if payload is not None else bytes(range(16, 64))
    for i in range(count):
        f = Frame(proto="icmp", src=src, dst=dst, ttl=ttl or 64, ip_id=k.next_ip_id(),
                  icmp_type=8, icmp_code=0, icmp_id=ident, icmp_seq=i + 1, payload=data)
        net.schedule(send_ip, k, f, delay=i * interval)


def start_tcp(k: Kernel, src: str, dst: str, dport: int, sport: int | None, ttl: int | None,
              result: ProbeResult, http: bool) -> None:
    app: App = HttpClient(result, dst) if http else TcpConnectClient(result)
    tcp_connect(k, dst, dport, app, sport=sport, src=src, ttl=ttl or 64)


def _send_until_answered(k: Kernel, src: str, dst: str, sport: int, dport: int, ttl: int | None,
                         data: bytes, result: ProbeResult, count: int) -> None:
    """Send ``data`` as a datagram up to ``count`` times, a second apart, until the prober's
    socket got an answer (or an ICMP error)."""
    def send(left: int) -> None:
        if result.answered or result.rejected or left <= 0:
            return
        f = Frame(proto="udp", src=src, dst=dst, sport=sport, dport=dport, ttl=ttl or 64,
                  ip_id=k.next_ip_id(), payload=data)
        send_ip(k, f)
        k.net.schedule(send, left - 1, delay=1.0)

    send(count)


def start_udp(k: Kernel, src: str, dst: str, dport: int, sport: int | None, ttl: int | None,
              payload: bytes | None, result: ProbeResult, count: int) -> None:
    """Send a datagram, wait for the echo; up to ``count`` tries, stopping at the first
    answer (an echo or an ICMP error)."""
    net = k.net
    sport = sport or net.ephemeral_port()
    UdpSock(k, src, sport, UdpClient(result))
    data = payload if payload is not None else b"netlab probe\n"
    _send_until_answered(k, src, dst, sport, dport, ttl, data, result, count)


def start_dns(k: Kernel, src: str, dst: str, dport: int, sport: int | None, ttl: int | None, name: str,
              result: ProbeResult, count: int) -> None:
    """Look ``name`` up at ``dst``: one A query (up to ``count`` tries, a second apart), as
    ``dig +notcp +tries=N @dst name`` does."""
    from netlab import dns

    net = k.net
    sport = sport or net.ephemeral_port()
    ident = net.rng.randrange(65536)
    result.info.update({"name": name, "server": dst, "port": dport, "rcode": None, "answer": None,
                        "answers": []})
    UdpSock(k, src, sport, DnsClient(result, ident, name))
    data = dns.query(name, ident)
    _send_until_answered(k, src, dst, sport, dport, ttl, data, result, count)


def start_traceroute(k: Kernel, src: str, dst: str, dport: int | None, result: ProbeResult,
                     max_hops: int = MAX_HOPS) -> TracerouteClient:
    """``traceroute -q 1``: one UDP probe per TTL 1, 2, 3 … to ports 33434 upward,
    until the destination answers port unreachable."""
    net = k.net
    sport = net.ephemeral_port()
    port = dport or TRACEROUTE_PORT
    app = TracerouteClient(result, dst, port)
    UdpSock(k, src, sport, app)

    def next_hop() -> None:
        if result.done or app.sent >= max_hops:
            return
        app.sent += 1
        f = Frame(proto="udp", src=src, dst=dst, sport=sport, dport=port + app.sent - 1,
                  ttl=app.sent, ip_id=k.next_ip_id(), payload=b"\0" * 32, df=False)
        if not send_ip(k, f) and k.routes.lookup(dst) is None:
            # sendto() fails with ENETUNREACH: traceroute stops before any hop
            app.sent -= 1
            result.done = True
            return
        net.schedule(next_hop, delay=0.01)

    next_hop()
    return app


def start_arping(k: Kernel, dev: str, src: str, dst: str, count: int,
                 result: ProbeResult) -> None:
    """``arping -I dev dst``: broadcast who-has requests; the answer is the is-at."""
    net = k.net
    iface = k.ifaces[dev]

    def send() -> None:
        f = arp_frame(1, iface.mac, BROADCAST, src, dst)
        skb = Skb(f, net.new_pid())
        net.rec("send", k.name, f"arping sends {f.summary()}", skb=skb)
        k.xmit(dev, skb)

    for i in range(count):
        net.schedule(send, delay=i * 1.0)
    net.arp_watch = (k.name, dev, dst, result)
