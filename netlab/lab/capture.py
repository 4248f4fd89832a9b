"""Capture on every interface of every lab namespace at once.

One ``AF_PACKET`` socket per namespace (opened inside it, so it sees every
interface there, in both directions) with a TPACKET_V2 ring: the kernel stamps
each packet as it passes the tap (a plain socket would stamp packets the
kernel has not stamped yet only when we read them, out of order); one thread
reads them all.  Each packet is recorded with its
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


@dataclass
class Record:
    """One packet seen: when (ns since the epoch), where, which way, and its bytes.

    ``stamp_ns`` is the kernel's timestamp.  ``time_ns`` is the same, raised where needed
    so it never goes back within one namespace (see :func:`in_order`)."""

    time_ns: int
    node: str
    netns: str
    iface: str
    direction: str  # "in" (received on iface) or "out" (sent on iface)
    data: bytes
    stamp_ns: int = 0

    @property
    def time(self) -> float:
        return self.time_ns / 1e9


PACKET_VERSION = 10
SO_TIMESTAMPNS = 35
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
PACKET_RX_RING = 5
TPACKET_V2 = 1
TP_STATUS_USER = 1
TP_STATUS_LOSING = 4
FRAME_SIZE = 2048  # holds a 1514-byte frame after the 64-byte ring header
_HDR = struct.Struct("IIIHHIIHH")  # tpacket2_hdr: status len snaplen mac net sec nsec vlan_tci vlan_tpid
_SLL = struct.Struct("HHiHBB8s")  # sockaddr_ll, 16 bytes after the 32-byte header


class _Ring:
    """A TPACKET_V2 receive ring: the kernel writes each packet and its timestamp (taken
    when the packet passes the tap, not when we read it) into shared memory."""

    def __init__(self, sock: socket.socket, size: int) -> None:
        import mmap

        block = 1 << 20 if size >= 1 << 20 else 1 << 16
        nblocks = max(1, size // block)
        self.frames = nblocks * (block // FRAME_SIZE)
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING,
                        struct.pack("IIII", block, nblocks, FRAME_SIZE, self.frames))
        self.map = mmap.mmap(sock.fileno(), block * nblocks, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        self.head = 0

    def read(self, node: str, ns: str, names: dict[int, str], out: list[Record], keep: bool) -> None:
        m = self.map
        while True:
            off = self.head * FRAME_SIZE
            status, _len, snaplen, mac, _net, sec, nsec, _t, _p = _HDR.unpack_from(m, off)
            if not status & TP_STATUS_USER:
                return
            if keep:
                _fam, _proto, ifindex, _ha, pkttype, _hl, _addr = _SLL.unpack_from(m, off + 32)
                ifname = names.get(ifindex) or str(ifindex)
                if not (pkttype == PACKET_OUTGOING and ifname == "lo"):  # lo: once, as tcpdump
                    out.append(Record(sec * 1_000_000_000 + nsec, node, ns, ifname,
                                      "out" if pkttype == PACKET_OUTGOING else "in",
                                      m[off + mac:off + mac + snaplen]))
            struct.pack_into("I", m, off, 0)  # hand the frame back to the kernel
            self.head = (self.head + 1) % self.frames

    def close(self) -> None:
        self.map.close()


class Sniffer:
    """``with Sniffer({node: netns}) as s: ...`` then ``s.records`` (ordered by time).

    ``ring`` is the ring size per namespace in bytes (``rings`` overrides it per node).
    ``promisc`` puts every interface in promiscuous mode while capturing, as tcpdump
    does: a bridge then also shows the frames it forwards between its ports.
    """

    def __init__(self, netns: dict[str, str], *, ring: int = 4 << 20,
                 rings: dict[str, int] | None = None, promisc: bool = True) -> None:
        self.netns = dict(netns)
        self.promisc = promisc
        self.ring = ring
        self.rings = rings or {}
        self.records: list[Record] = []
        self._socks: dict[int, tuple[socket.socket, str, str, _Ring, dict[int, str]]] = {}
        self._thread: threading.Thread | None = None
        self._stop_r, self._stop_w = -1, -1
        self.drops = 0
        self.received = 0

    # ------------------------------------------------------------ life cycle
    def start(self) -> Sniffer:
        for node, ns in self.netns.items():
            promisc = self.promisc

            def opener(promisc: bool = promisc) -> tuple[socket.socket, dict[int, str]]:
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
                names = dict(socket.if_nameindex())
                if promisc:  # as tcpdump does; ends when the socket closes
                    for index, name in names.items():
                        if name != "lo":
                            s.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                                         struct.pack("iHH8s", index, PACKET_MR_PROMISC, 0, b""))
                return s, names
            try:
                s, names = nsmod.run_in(ns, opener)
                # timestamps on, whatever else runs on the machine: received packets are then
                # always stamped when queued, and in_order() always sees the same kind of stamps
                s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                ring = _Ring(s, self.rings.get(node, self.ring))
            except PermissionError as exc:
                self.close()
                raise LabError(f"cannot capture in {ns}: {exc} (needs root)") from None
            self._socks[s.fileno()] = (s, node, ns, ring, names)
        # anything queued before every socket was open is not part of this capture
        for _s, node, ns, ring, names in self._socks.values():
            ring.read(node, ns, names, self.records, keep=False)
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._loop, name="netlab-sniffer", daemon=True)
        self._thread.start()
        return self

    def stop(self, settle: float = 0.02) -> list[Record]:
        """Stop after ``settle`` seconds; return every record ordered by time."""
        if self._thread is None:
            return self.records
        time.sleep(settle)
        os.write(self._stop_w, b"x")
        self._thread.join()
        self._thread = None
        for _s, node, ns, ring, names in self._socks.values():
            ring.read(node, ns, names, self.records, keep=True)
        self.close()
        self.records = in_order(self.records)
        return self.records

    def close(self) -> None:
        for s, _n, _ns, ring, _names in self._socks.values():
            try:
                packets, drops = struct.unpack("II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
                self.received += packets
                self.drops += drops
            except OSError:
                pass
            ring.close()
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

    def _loop(self) -> None:
        poller = select.poll()
        for fd in self._socks:
            poller.register(fd, select.POLLIN | select.POLLERR)
        poller.register(self._stop_r, select.POLLIN)
        while True:
            for fd, _ in poller.poll(1000):
                if fd == self._stop_r:
                    return
                _s, node, ns, ring, names = self._socks[fd]
                ring.read(node, ns, names, self.records, keep=True)


def in_order(records: list[Record]) -> list[Record]:
    """Records of every namespace in one sequence, each namespace's own order kept.

    A namespace's ring holds its packets in the order its kernel handled them.  Their
    timestamps mostly agree, but not always: a received packet may carry the time it was
    queued (``netdev_tstamp_prequeue``, once anything on the machine asked for timestamps),
    and a bridge passing a frame up to itself keeps that stamp — so ``docker0 in`` would
    look older than the copies the bridge flooded out first.  Each namespace's times are
    therefore made non-decreasing in ring order (a time is raised to the latest before it;
    the kernel's own stays in ``stamp_ns``), and the namespaces are merged by those times.
    """
    last: dict[str, int] = {}
    for r in records:  # appended per ring, in ring order
        r.stamp_ns = r.stamp_ns or r.time_ns
        r.time_ns = max(r.stamp_ns, last.get(r.netns, 0))
        last[r.netns] = r.time_ns
    return sorted(records, key=lambda r: r.time_ns)  # stable: ring order for equal times


def to_capture(records: list[Record], comments: dict[int, str] | None = None):  # noqa: ANN201
    """The records as a ``netlab.capture.Capture`` (one pcapng interface per namespace/interface)."""
    from netlab.capture import Capture

    comments = comments or {}
    return Capture.from_records(
        (r.time, r.netns, r.iface, r.data, comments.get(i, ""),
         r.direction if r.direction in ("in", "out") else None) for i, r in enumerate(records))
