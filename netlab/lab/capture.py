"""Capture on every interface of every lab namespace at once.

One ``AF_PACKET`` socket per namespace (opened inside it, so it sees every
interface there, in both directions) with a large kernel buffer and kernel
timestamps; one thread reads them all.  Each packet is recorded with its
namespace, interface, direction and time, so one probe's packets at every hop
come back as one list ordered by time — the raw material of a lab journey and
of a ``netlab.capture.Capture`` written as one pcapng.  The kernel's own drop
counter of each socket (``PACKET_STATISTICS``) proves nothing was lost.
"""

from __future__ import annotations

import os
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass

from netlab.errors import LabError
from netlab.lab import netns as nsmod

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_STATISTICS = 6
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
SO_RCVBUFFORCE = 33
BUFFER = 64 * 1024 * 1024


@dataclass
class Record:
    """One packet seen: when (ns since the epoch), where, which way, and its bytes."""

    time_ns: int
    node: str
    netns: str
    iface: str
    direction: str  # "in" (received on iface) or "out" (sent on iface)
    data: bytes

    @property
    def time(self) -> float:
        return self.time_ns / 1e9


class Sniffer:
    """``with Sniffer({node: netns}) as s: ...`` then ``s.records`` (ordered by time)."""

    def __init__(self, netns: dict[str, str], *, snaplen: int = 65535) -> None:
        self.netns = dict(netns)
        self.snaplen = snaplen
        self.records: list[Record] = []
        self._socks: dict[int, tuple[socket.socket, str, str]] = {}
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = -1, -1
        self.drops = 0
        self.received = 0

    # ------------------------------------------------------------ life cycle
    def start(self) -> Sniffer:
        for node, ns in self.netns.items():
            def opener() -> socket.socket:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                return s
            try:
                s = nsmod.run_in(ns, opener)
            except PermissionError as exc:
                self.close()
                raise LabError(f"cannot capture in {ns}: {exc} (needs root)") from None
            try:
                s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, BUFFER)
            except OSError:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, BUFFER)
            s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            s.setblocking(False)
            self._socks[s.fileno()] = (s, node, ns)
        # anything queued before every socket was open is not part of this capture
        for s, _, _ in self._socks.values():
            self._drain(s, None, None, keep=False)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="netlab-sniffer", daemon=True)
        self._thread.start()
        return self

    def stop(self, settle: float = 0.02) -> list[Record]:
        """Stop after ``settle`` seconds of quiet; return every record ordered by time."""
        if self._thread is None:
            return self.records
        time.sleep(settle)
        os.write(self._stop_w, b"x")
        self._thread.join()
        self._thread = None
        for s, node, ns in self._socks.values():
            self._drain(s, node, ns)
        self.close()
        self.records.sort(key=lambda r: r.time_ns)
        return self.records

    def close(self) -> None:
        for s, _, _ in self._socks.values():
            try:
                stats = s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
                packets, drops = struct.unpack("II", stats)
                self.received += packets
                self.drops += drops
            except OSError:
                pass
            s.close()
        self._socks.clear()
        for fd in (self._stop_r, self._stop_w):
            if fd >= 0:
                os.close(fd)
        self._stop_r = self._stop_w = -1

    def __enter__(self) -> Sniffer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop(settle=0.0)

    # ------------------------------------------------------------ reading
    def _drain(self, s: socket.socket, node: str | None, ns: str | None, keep: bool = True) -> None:
        out = self.records
        snap = self.snaplen
        while True:
            try:
                data, anc, _flags, addr = s.recvmsg(snap, 64)
            except BlockingIOError:
                return
            except OSError:
                return
            if not keep:
                continue
            ifname, _proto, pkttype = addr[0], addr[1], addr[2]
            if pkttype == PACKET_OUTGOING and ifname == "lo":
                continue  # loopback: keep each packet once, as tcpdump does
            t = 0
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", value[:16])
                    t = sec * 1_000_000_000 + nsec
            if not t:
                t = time.time_ns()
            out.append(Record(t, node or "", ns or "", ifname,
                              "out" if pkttype == PACKET_OUTGOING else "in", data))

    def _loop(self) -> None:
        poller = select.poll()
        for fd in self._socks:
            poller.register(fd, select.POLLIN)
        poller.register(self._stop_r, select.POLLIN)
        while True:
            for fd, _ in poller.poll(1000):
                if fd == self._stop_r:
                    return
                s, node, ns = self._socks[fd]
                self._drain(s, node, ns)


def to_capture(records: list[Record], comments: dict[int, str] | None = None):  # noqa: ANN201
    """The records as a ``netlab.capture.Capture`` (one pcapng interface per namespace/interface)."""
    from netlab.capture import Capture

    comments = comments or {}
    return Capture.from_records(
        (r.time, r.netns, r.iface, r.data, comments.get(i, "")) for i, r in enumerate(records))
