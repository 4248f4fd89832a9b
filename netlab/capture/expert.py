"""What Wireshark's Expert Info would flag, as tags (lesson 11).

Per interface and per direction of each TCP flow: retransmissions (a segment
carrying bytes, or a SYN/FIN, already sent, a round trip or more after the newest
one — sooner, Wireshark calls it out-of-order), duplicate ACKs (a bare ACK
repeating the previous one's ack and non-zero window; keep-alives excluded), zero
windows; plus every RST and every ICMP / ICMPv6 destination-unreachable.  A packet seen on two interfaces is not a
retransmission: each interface is looked at on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.capture.fast import P_ICMP, P_ICMPV6, P_TCP
from netlab.packet import ICMP_NAMES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from netlab.capture.core import Capture

OOO_THRESHOLD_NS = 3_000_000  # Wireshark's out-of-order window when no round trip is known
UNREACHABLE_CODES = {0: "network unreachable", 1: "host unreachable", 2: "protocol unreachable",
                     3: "port unreachable", 4: "fragmentation needed", 9: "network prohibited",
                     10: "host prohibited", 13: "administratively prohibited"}


def expert(cap: Capture, tag: bool = True) -> pd.DataFrame:
    """A DataFrame (number, severity, tag, message); with ``tag`` the tags are written too."""
    import numpy as np
    import pandas as pd

    c = cap._cols
    found: list[tuple[int, str, str, str]] = []
    tcp = np.flatnonzero(c.proto == P_TCP)
    ifs = cap._raw.ifaces[tcp].tolist()
    # addresses as codes of the src/dst columns: IPv4 and IPv6 alike
    sc, dc = cap._address_categorical("src"), cap._address_categorical("dst")
    union = {v: k for k, v in enumerate(dict.fromkeys([*sc.categories, *dc.categories]))}
    src = np.array([union[v] for v in sc.categories] + [-1], dtype=np.int64)[np.asarray(sc.codes)]
    dst = np.array([union[v] for v in dc.categories] + [-1], dtype=np.int64)[np.asarray(dc.codes)]
    keys = zip(ifs, src[tcp].tolist(), c.sport[tcp].tolist(), dst[tcp].tolist(),
               c.dport[tcp].tolist(), strict=True)
    seqs, acks = c.seq[tcp].tolist(), c.ack[tcp].tolist()
    flags, wins, plens = c.flags[tcp].tolist(), c.window[tcp].tolist(), c.payload_len[tcp].tolist()
    times = cap._raw.times_ns[tcp].tolist()
    next_seq: dict[tuple, int] = {}
    next_seq_time: dict[tuple, int] = {}  # when the segment that set next_seq was seen
    syn_time: dict[tuple, int] = {}
    rtt: dict[tuple, int] = {}  # per connection and interface, as seen here
    syn_dir: dict[tuple, tuple] = {}  # the direction the SYN went
    last_ack: dict[tuple, tuple[int, int, int]] = {}  # key -> (ack, window, first number)
    for k, key in enumerate(keys):
        n = int(tcp[k]) + 1
        fl, seq, plen, t = flags[k], seqs[k], plens[k], times[k]
        conn = (key[0], *sorted((key[1:3], key[3:5])))
        if fl & 0x12 == 0x02:
            syn_time[conn] = t
            syn_key = key
        elif (fl & 0x12 == 0x10 and conn in syn_time and conn not in rtt
              and syn_dir.get(conn) == key):
            rtt[conn] = t - syn_time[conn]  # Wireshark's first RTT: SYN to the handshake's ACK
        if fl & 0x12 == 0x02:
            syn_dir[conn] = syn_key
        seglen = plen + (1 if fl & 0x02 else 0) + (1 if fl & 0x01 else 0)
        if fl & 0x04:
            found.append((n, "warning", "rst", "connection reset (RST)"))
        if wins[k] == 0 and not fl & 0x04:
            found.append((n, "warning", "zero-window", "zero window: the receiver's buffer is full"))
        expected = next_seq.get(key)
        keep_alive = (seglen <= 1 and not fl & 0x03 and expected is not None
                      and (expected - seq) % 2**32 == 1)
        if (seglen > 0 and expected is not None and not keep_alive
                and (expected - (seq + seglen)) % 2**32 < 2**31):
            # as Wireshark decides: bytes sent again sooner than a round trip after the
            # newest segment are out of order (they overtook it), later ones retransmitted
            since = t - next_seq_time.get(key, t)
            if since < rtt.get(conn, OOO_THRESHOLD_NS):
                found.append((n, "note", "out-of-order",
                              f"out of order: seq {seq} came {since / 1e3:.0f} µs after a later "
                              "segment, less than a round trip"))
            else:
                found.append((n, "note", "retransmission",
                              f"retransmission: seq {seq} was already sent on this interface"))
        end = (seq + seglen) % 2**32
        if expected is None or (end - expected) % 2**32 < 2**31:
            if end != expected:
                next_seq_time[key] = t
            next_seq[key] = end
        pure_ack = seglen == 0 and fl & 0x10 and not fl & 0x04
        if keep_alive:
            pass  # a keep-alive repeats the last ACK on purpose: not a duplicate
        elif pure_ack:
            prev = last_ack.get(key)
            # as Wireshark: same ack, same window, and a window that is not zero (a receiver
            # repeating "my buffer is full" is not asking for a lost segment)
            if prev is not None and prev[0] == acks[k] and prev[1] == wins[k] and wins[k]:
                found.append((n, "note", "dup-ack", f"duplicate ACK of packet {prev[2]}"))
            else:
                last_ack[key] = (acks[k], wins[k], n)
        else:
            last_ack.pop(key, None)
    for i in np.flatnonzero((c.proto == P_ICMP) & (c.icmp_type == 3)).tolist():
        code = int(c.icmp_code[i])
        found.append((i + 1, "warning", "icmp-unreachable",
                      f"ICMP {ICMP_NAMES[3]}: {UNREACHABLE_CODES.get(code, f'code {code}')}"))
    v6 = {0: "no route", 1: "administratively prohibited", 3: "address unreachable",
          4: "port unreachable"}
    for i in np.flatnonzero((c.proto == P_ICMPV6) & (c.icmp_type == 1)).tolist():
        code = int(c.icmp_code[i])
        found.append((i + 1, "warning", "icmp-unreachable",
                      f"ICMPv6 destination unreachable: {v6.get(code, f'code {code}')}"))
    found.sort()
    df = pd.DataFrame(found, columns=["number", "severity", "tag", "message"])
    if tag and found:
        with cap.batch():
            for n, _, t, _ in found:
                cap.annotate(n, add_tags=[t])
    return df
