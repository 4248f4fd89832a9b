"""Connection tracking and NAT, as ``nf_conntrack`` / ``nf_nat`` do it.

Every packet is matched to a connection by its tuple.  The first packet creates
the entry (state NEW) and is the only one the ``nat`` table sees: its DNAT /
SNAT / MASQUERADE decision is stored as the entry's *reply tuple*.  Every later
packet of the connection, in either direction, is rewritten from the entry
alone — which is how replies are "de-NATed" (lesson 5).  ICMP errors that quote a
tracked packet are RELATED to its connection and are translated with it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from netlab.packet import Frame

ORIGINAL, REPLY = 0, 1

TIMEOUTS = {  # seconds (nf_conntrack defaults)
    ("tcp", "SYN_SENT"): 120, ("tcp", "SYN_RECV"): 60, ("tcp", "ESTABLISHED"): 432000,
    ("tcp", "FIN_WAIT"): 120, ("tcp", "CLOSE_WAIT"): 60, ("tcp", "LAST_ACK"): 30,
    ("tcp", "TIME_WAIT"): 120, ("tcp", "CLOSE"): 10,
    ("udp", None): 30, ("udp", "ASSURED"): 120, ("icmp", None): 30,
}

Tuple = tuple[str, str, int, str, int]  # proto, src, sport (or ICMP id), dst, dport (or ICMP id)


def frame_tuple(f: Frame) -> Tuple | None:
    """The conntrack tuple of a packet (None for what conntrack does not track here)."""
    if f.proto in ("tcp", "udp"):
        return (f.proto, f.src or "", f.sport or 0, f.dst or "", f.dport or 0)
    if f.proto == "icmp" and f.icmp_type in (0, 8):
        return ("icmp", f.src or "", f.icmp_id or 0, f.dst or "", f.icmp_id or 0)
    return None


def invert(t: Tuple) -> Tuple:
    return (t[0], t[3], t[4], t[1], t[2])


@dataclass
class CtEntry:
    """One tracked connection: the original tuple, the reply tuple (NAT shows as
    a reply tuple that is not the original turned round) and its state."""

    id: int
    orig: Tuple
    reply: Tuple
    created: float
    status: set[str] = field(default_factory=set)  # SEEN_REPLY ASSURED CONFIRMED SRC_NAT DST_NAT
    tcp_state: str | None = None
    expires: float = 0.0
    nat_rules: list[str] = field(default_factory=list)

    @property
    def proto(self) -> str:
        return self.orig[0]

    def describe(self) -> str:
        """One line in the spirit of ``conntrack -L``."""
        o, r = self.orig, self.reply

        def side(t: Tuple) -> str:
            if t[0] == "icmp":
                return f"src={t[1]} dst={t[3]} id={t[2]}"
            return f"src={t[1]} dst={t[3]} sport={t[2]} dport={t[4]}"

        parts = [o[0]] + ([self.tcp_state] if self.tcp_state else []) + [side(o)]
        if "SEEN_REPLY" not in self.status:
            parts.append("[UNREPLIED]")
        parts.append(side(r))
        if "ASSURED" in self.status:
            parts.append("[ASSURED]")
        return " ".join(parts)


@dataclass
class CtMatch:
    """What the conntrack lookup found for one packet."""

    entry: CtEntry
    direction: int
    state: str  # NEW ESTABLISHED RELATED
    new: bool  # the packet creates the entry (nat runs only then)


class Conntrack:
    """One namespace's conntrack table."""

    def __init__(self, rng: random.Random) -> None:
        self.table: dict[Tuple, tuple[CtEntry, int]] = {}
        self.entries: list[CtEntry] = []
        self.rng = rng
        self._next_id = 1

    # ------------------------------------------------------------ lookup
    def lookup(self, f: Frame, now: float) -> CtMatch | None:
        """Find (or prepare, unconfirmed) the entry for ``f``."""
        t = frame_tuple(f)
        if t is None:
            if f.proto == "icmp" and f.quoted is not None:
                inner = frame_tuple(f.quoted)
                if inner is None:
                    return None
                hit = self.table.get(invert(inner))
                if hit is None or self._expired(hit[0], now):
                    return None
                return CtMatch(hit[0], hit[1], "RELATED", False)
            return None
        hit = self.table.get(t)
        if hit is not None and t[0] == "tcp" and f.flags == "S" \
                and hit[0].tcp_state in ("TIME_WAIT", "CLOSE"):
            # a SYN reopening a closed connection: the kernel kills the old entry and
            # looks again (-NF_REPEAT), so the SYN is NEW and meets the nat table again
            self._remove(hit[0])
            hit = None
        if hit is not None and not self._expired(hit[0], now):
            entry, direction = hit
            if direction == REPLY or "SEEN_REPLY" in entry.status:
                return CtMatch(entry, direction, "ESTABLISHED", False)
            return CtMatch(entry, direction, "NEW", False)
        entry = CtEntry(self._next_id, t, invert(t), now)
        self._next_id += 1
        if t[0] == "tcp":
            entry.tcp_state = "NONE"
        return CtMatch(entry, ORIGINAL, "NEW", True)

    def _expired(self, entry: CtEntry, now: float) -> bool:
        if entry.expires and now > entry.expires:
            self._remove(entry)
            return True
        return False

    def _remove(self, entry: CtEntry) -> None:
        self.table.pop(entry.orig, None)
        self.table.pop(entry.reply, None)
        if entry in self.entries:
            self.entries.remove(entry)

    def confirm(self, m: CtMatch, now: float) -> bool:
        """Insert a new entry once its first packet has passed every hook
        (``__nf_conntrack_confirm``).  False if another entry took the tuple."""
        e = m.entry
        if "CONFIRMED" in e.status:
            return True
        if e.orig in self.table or e.reply in self.table:
            return False
        e.status.add("CONFIRMED")
        self.table[e.orig] = (e, ORIGINAL)
        self.table[e.reply] = (e, REPLY)
        self.entries.append(e)
        self._set_timeout(e, now)
        return True

    # ------------------------------------------------------------ state
    def update(self, m: CtMatch, f: Frame, now: float) -> None:
        """Advance the entry's state with a packet that passed."""
        e = m.entry
        if m.state == "RELATED":
            return
        if m.direction == REPLY and "SEEN_REPLY" not in e.status:
            e.status.add("SEEN_REPLY")
        if e.proto == "tcp":
            flags = f.flags or ""
            st = e.tcp_state
            if "R" in flags:
                st = "CLOSE"
            elif "S" in flags and "A" not in flags and m.direction == ORIGINAL:
                st = "SYN_SENT"
            elif "S" in flags and "A" in flags and m.direction == REPLY:
                st = "SYN_RECV"
            elif "F" in flags:
                if st in ("ESTABLISHED", "SYN_RECV"):
                    st = "FIN_WAIT"
                    e.status.add(f"FIN{m.direction}")
                elif st in ("FIN_WAIT", "CLOSE_WAIT", "LAST_ACK"):
                    if f"FIN{1 - m.direction}" in e.status:
                        st = "LAST_ACK"
                    e.status.add(f"FIN{m.direction}")
            elif "A" in flags:
                if st == "SYN_RECV" and m.direction == ORIGINAL:
                    st = "ESTABLISHED"
                    e.status.add("ASSURED")
                elif st == "FIN_WAIT" and f"FIN{1 - m.direction}" in e.status:
                    st = "CLOSE_WAIT"
                elif st == "LAST_ACK":
                    st = "TIME_WAIT"
            e.tcp_state = st
        elif e.proto == "udp" and m.direction == ORIGINAL and "SEEN_REPLY" in e.status:
            e.status.add("ASSURED")
        self._set_timeout(e, now)

    def _set_timeout(self, e: CtEntry, now: float) -> None:
        if e.proto == "tcp":
            t = TIMEOUTS.get(("tcp", e.tcp_state), 120)
        elif e.proto == "udp":
            t = TIMEOUTS[("udp", "ASSURED" if "ASSURED" in e.status else None)]
        else:
            t = TIMEOUTS[("icmp", None)]
        e.expires = now + t

    # ------------------------------------------------------------ NAT
    def set_nat(self, m: CtMatch, kind: str, ip: str, port: int | None) -> tuple[str, str]:
        """Record the nat table's decision for a new connection (DNAT/REDIRECT change
        the destination, SNAT/MASQUERADE the source), choosing another port when
        the resulting reply tuple is already in use.  Returns (before, after)."""
        e = m.entry
        proto, rsrc, rsport, rdst, rdport = e.reply
        if kind in ("DNAT", "REDIRECT"):
            before = _hp(rsrc, rsport, proto)
            rsrc = ip
            if port is not None:
                rsport = port
            e.status.add("DST_NAT")
            e.reply = (proto, rsrc, rsport, rdst, rdport)
            return before, _hp(rsrc, rsport, proto)
        before = _hp(rdst, rdport, proto)
        rdst = ip
        if port is not None:
            rdport = port
        candidate = (proto, rsrc, rsport, rdst, rdport)
        tries = 0
        while candidate in self.table and tries < 1000:  # clash: pick another port
            lo = 1024 if rdport >= 1024 else (512 if rdport >= 512 else 1)
            rdport = lo + self.rng.randrange(65536 - lo) if proto != "icmp" else self.rng.randrange(65536)
            candidate = (proto, rsrc, rsport, rdst, rdport)
            tries += 1
        e.reply = candidate
        e.status.add("SRC_NAT")
        return before, _hp(rdst, rdport, proto)

    @staticmethod
    def manip(m: CtMatch, f: Frame, kind: str) -> tuple[str, str] | None:
        """Rewrite ``f`` from the entry: ``kind`` ``"dst"`` (PREROUTING / OUTPUT)
        or ``"src"`` (POSTROUTING / INPUT).  Returns (before, after) when it changed."""
        e, d = m.entry, m.direction
        o, r = e.orig, e.reply
        if kind == "dst":
            if d == ORIGINAL and "DST_NAT" in e.status:
                ip, port = r[1], r[2]
            elif d == REPLY and "SRC_NAT" in e.status:
                ip, port = o[1], o[2]
            else:
                return None
            if m.state == "RELATED" and f.proto == "icmp":
                q = f.quoted
                before = _related(f.dst, q, "src")
                f.dst = ip
                if q is not None:
                    q.src = ip
                    _set_port(q, "src", port)
                return before, _related(f.dst, q, "src")
            before = _hp(f.dst or "", _get_port(f, "dst"), f.proto)
            f.dst = ip
            _set_port(f, "dst", port)
            after = _hp(ip, port, f.proto)
            return (before, after) if before != after else None
        if d == ORIGINAL and "SRC_NAT" in e.status:
            ip, port = r[3], r[4]
        elif d == REPLY and "DST_NAT" in e.status:
            ip, port = o[3], o[4]
        else:
            return None
        if m.state == "RELATED" and f.proto == "icmp":
            q = f.quoted
            before = _related(f.src, q, "dst")
            f.src = ip
            if q is not None:
                q.dst = ip
                _set_port(q, "dst", port)
            return before, _related(f.src, q, "dst")
        before = _hp(f.src or "", _get_port(f, "src"), f.proto)
        f.src = ip
        _set_port(f, "src", port)
        after = _hp(ip, port, f.proto)
        return (before, after) if before != after else None


def _related(outer: str | None, q: Frame | None, side: str) -> str:
    """An ICMP error's address and the quoted packet's address it carries:
    ``"10.0.2.15 quoting 10.0.2.15:40000"``."""
    if q is None:
        return outer or ""
    ip = q.src if side == "src" else q.dst
    return f"{outer} quoting {_hp(ip or '', _get_port(q, side), q.proto)}"


def _hp(ip: str, port: int | None, proto: str) -> str:
    return ip if proto == "icmp" or port is None else f"{ip}:{port}"


def _get_port(f: Frame, side: str) -> int | None:
    if f.proto == "icmp":
        return f.icmp_id
    return f.sport if side == "src" else f.dport


def _set_port(f: Frame, side: str, port: int | None) -> None:
    if port is None:
        return
    if f.proto == "icmp":
        if f.icmp_type in (0, 8):
            f.icmp_id = port
        return
    if side == "src":
        f.sport = port
    else:
        f.dport = port
