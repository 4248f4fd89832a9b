"""The services of a lab, all in one small process (standard library only).

Run as ``ip netns exec <lab host ns> python -I -S servers.py`` with a JSON list
of services on standard input.  Each service's socket is opened inside its
node's namespace (``setns`` to ``/run/netns/<ns>``, create the socket, come
back): a socket stays in the namespace it was created in, so one process can
serve every container.  Kinds: ``http`` (answers one GET with a short page and
closes), ``tcp`` (accepts, waits for the peer to close, closes), ``udp-echo``,
``docker-proxy`` (the userland proxy: forwards a TCP or UDP port to ``target``) and
``dns`` (Docker's embedded resolver on 127.0.0.11: answers A queries for ``records``).
Prints ``ready <pid>`` once every socket listens; exits on SIGTERM.
"""

import ctypes
import json
import os
import selectors
import signal
import socket
import struct
import sys

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
BODY = b"<html><body>netlab: hello from {node}</body></html>\n"


def dns_answer(data, records):
    """Docker's embedded resolver's reply to a query (the lines of netlab.dns.answer, which
    this process cannot import: it runs as python -I -S).  None: not a query."""
    if len(data) < 12:
        return None
    ident, flags, qd = struct.unpack("!HHH", data[:6])
    if flags & 0x8000 or qd != 1:
        return None
    labels, off = [], 12
    while off < len(data) and data[off] != 0:
        if data[off] & 0xC0:
            return None
        labels.append(data[off + 1:off + 1 + data[off]].decode("ascii", "replace"))
        off += 1 + data[off]
    if off + 5 > len(data):
        return None
    qtype = struct.unpack("!H", data[off + 1:off + 3])[0]
    question = data[12:off + 5]
    name = ".".join(labels).lower()
    out = 0x8000 | 0x0080 | (flags & 0x0100)
    body, count = b"", 0
    if name in records and qtype in (1, 28):
        if qtype == 1:
            body = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 600, 4) + bytes(
                int(x) for x in records[name].split("."))
            count = 1
    else:
        out |= 3 if "." not in name else 2  # forwarded outside: NXDOMAIN / SERVFAIL (no upstream)
    return struct.pack("!HHHHHH", ident, out, 1, count, 0, 0) + question + body


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


class Namespaces:
    """Opens sockets in a named namespace and returns to the home one."""

    def __init__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.fds = {}

    def socket(self, netns, *args):
        fd = self.fds.get(netns)
        if fd is None:
            fd = self.fds[netns] = os.open(f"/run/netns/{netns}", os.O_RDONLY)
        setns(fd)
        try:
            return socket.socket(*args)
        finally:
            setns(self.home)


def prompt():
    """Run as a (lowest) real-time task: the services answer within microseconds even on a
    busy machine, as an idle server would, so the kernel's delayed ACKs behave as they do
    there (a FIN answered by the application's own FIN, not by a bare ACK)."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (OSError, AttributeError):
        pass


def main():
    specs = json.load(sys.stdin)
    prompt()
    spaces = Namespaces()
    sel = selectors.DefaultSelector()
    for spec in specs:
        if spec["proto"] == "udp":
            s = spaces.socket(spec["netns"], socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((spec["bind"], spec["port"]))
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("udp", spec))
        else:
            s = spaces.socket(spec["netns"], socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((spec["bind"], spec["port"]))
            s.listen(1024)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("listen", spec))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"ready {os.getpid()}", flush=True)
    sys.stdout.close()
    pending = {}  # conn -> (spec, buffer) / proxy pairs
    udp_flows = {}  # (front socket, client address) -> socket towards the target

    def close(conn):
        pair = pending.pop(conn, None)
        try:
            sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()
        if pair and pair[0] == "proxy":
            other = pair[1]
            if other in pending:
                close(other)

    while True:
        for key, _ in sel.select():
            what, spec = key.data
            sock = key.fileobj
            if what == "udp" and spec["kind"] == "docker-proxy":
                # the userland proxy for UDP: one socket towards the target per client
                try:
                    data, peer = sock.recvfrom(65535)
                except OSError:
                    continue
                out = udp_flows.get((id(sock), peer))
                if out is None:
                    out = spaces.socket(spec["netns"], socket.AF_INET, socket.SOCK_DGRAM)
                    out.connect(tuple(spec["target"]))
                    out.setblocking(False)
                    udp_flows[(id(sock), peer)] = out
                    sel.register(out, selectors.EVENT_READ, ("udp-back", (sock, peer)))
                try:
                    out.send(data)
                except OSError:
                    pass
            elif what == "udp-back":
                front, peer = spec
                try:
                    front.sendto(sock.recv(65535), peer)
                except OSError:
                    pass
            elif what == "udp" and spec["kind"] == "dns":
                try:
                    data, peer = sock.recvfrom(65535)
                    reply = dns_answer(data, spec["records"])
                    if reply is not None:
                        sock.sendto(reply, peer)
                except OSError:
                    pass
            elif what == "udp":
                try:
                    data, peer = sock.recvfrom(65535)
                    sock.sendto(data, peer)
                except OSError:
                    pass
            elif what == "listen":
                try:
                    conn, _ = sock.accept()
                except OSError:
                    continue
                conn.setblocking(False)
                if spec["kind"] == "docker-proxy":
                    out = spaces.socket(spec["netns"], socket.AF_INET, socket.SOCK_STREAM)
                    try:
                        out.settimeout(2.0)
                        out.connect(tuple(spec["target"]))
                        out.setblocking(False)
                    except OSError:
                        out.close()
                        conn.close()
                        continue
                    pending[conn] = ("proxy", out)
                    pending[out] = ("proxy", conn)
                    sel.register(conn, selectors.EVENT_READ, ("proxy", spec))
                    sel.register(out, selectors.EVENT_READ, ("proxy", spec))
                else:
                    pending[conn] = (spec["kind"], b"")
                    sel.register(conn, selectors.EVENT_READ, ("conn", spec))
            elif what == "conn":
                try:
                    data = sock.recv(65535)
                except OSError:
                    data = b""
                kind, buf = pending.get(sock, (spec["kind"], b""))
                if not data:
                    close(sock)
                    continue
                buf += data
                pending[sock] = (kind, buf)
                while kind == "dns" and len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                    n = int.from_bytes(buf[:2], "big")
                    reply = dns_answer(buf[2:2 + n], spec["records"])
                    buf = buf[2 + n:]
                    pending[sock] = (kind, buf)
                    if reply is not None:
                        sock.setblocking(True)
                        sock.sendall(len(reply).to_bytes(2, "big") + reply)
                        sock.setblocking(False)
                if kind == "http" and b"\r\n\r\n" in buf:
                    body = BODY.replace(b"{node}", spec["node"].encode())
                    sock.setblocking(True)
                    sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
                                 b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                                 b"Connection: close\r\n\r\n" + body)
                    close(sock)
            elif what == "proxy":
                try:
                    data = sock.recv(65535)
                except OSError:
                    data = b""
                pair = pending.get(sock)
                if not data or pair is None:
                    close(sock)
                    continue
                try:
                    pair[1].sendall(data)
                except OSError:
                    close(sock)


if __name__ == "__main__":
    main()
