"""Find "the same packet at another hop", also across NAT (lesson 11).

A router or bridge forwards a packet without changing its IP ID, its TCP
sequence and acknowledgement numbers, its flags or its payload length — and
NAT rewrites only one end of the conntrack tuple (DNAT the destination, SNAT /
MASQUERADE the source).  So two packets on different interfaces with the same
IP ID, protocol, TCP seq/ack/flags (or ICMP id/seq) and payload length, whose
tuples agree on at least one end and whose TTL did not grow, are proposed as
one packet at two hops; the reason says which fields matched and what NAT did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.capture.fast import P_ICMP, P_TCP, P_UDP, ipv4_text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from netlab.capture.core import Capture

MAX_GAP_S = 2.0  # a forwarded copy appears within this many seconds


def _ep(ip: int, port: int) -> str:
    text = ipv4_text(__import__("numpy").array([ip]))[0]
    return f"{text}:{port}" if port >= 0 else text


def propose_links(cap: Capture) -> pd.DataFrame:
    """DataFrame of proposals: a, b (packet numbers, a earlier), nat (which end NAT
    rewrote between them: "dst", "src", "both", or "" for none), reason."""
    import numpy as np
    import pandas as pd

    c = cap._cols
    ok = (c.v4src >= 0) & np.isin(c.proto, (P_TCP, P_UDP, P_ICMP))
    rows = np.flatnonzero(ok)
    cols = ["a", "b", "nat", "reason"]
    if len(rows) < 2:
        return pd.DataFrame(columns=cols)
    t = cap._raw.times_ns[rows]
    fields = [c.proto[rows].astype(np.int64), c.ip_id[rows], c.seq[rows], c.ack[rows],
              c.flags[rows], c.payload_len[rows], c.icmp_type[rows], c.icmp_id[rows],
              c.icmp_seq[rows]]
    order = np.lexsort([t, *reversed(fields)])
    keys = np.stack([f[order] for f in fields], axis=1)
    same = np.all(keys[1:] == keys[:-1], axis=1)
    # runs of equal keys with at least two packets
    starts = np.flatnonzero(np.r_[True, ~same])
    ends = np.r_[starts[1:], len(order)]
    multi = ends - starts >= 2
    ifaces = cap._raw.ifaces
    out: list[tuple[int, int, str, str]] = []
    for s, e in zip(starts[multi].tolist(), ends[multi].tolist(), strict=True):
        members = rows[order[s:e]].tolist()
        if len({int(ifaces[m]) for m in members}) < 2:
            continue  # all on one interface: a retransmission, not a hop
        for j in range(1, len(members)):
            b = members[j]
            for a in reversed(members[:j]):
                if ifaces[a] == ifaces[b]:
                    continue
                if (cap._raw.times_ns[b] - cap._raw.times_ns[a]) > MAX_GAP_S * 1e9:
                    continue
                link = _compatible(cap, a, b)
                if link is not None:
                    out.append((a + 1, b + 1, *link))
                    break
    return pd.DataFrame(out, columns=cols).sort_values(["a", "b"]).reset_index(drop=True) \
        if out else pd.DataFrame(columns=cols)


def _compatible(cap: Capture, a: int, b: int) -> tuple[str, str] | None:
    c = cap._cols
    if c.ttl[b] > c.ttl[a]:
        return None
    sa, sb = (int(c.v4src[a]), int(c.sport[a])), (int(c.v4src[b]), int(c.sport[b]))
    da, db = (int(c.v4dst[a]), int(c.dport[a])), (int(c.v4dst[b]), int(c.dport[b]))
    proto = int(c.proto[a])
    what = f"same IP ID {int(c.ip_id[a]):#06x}"
    if proto == P_TCP:
        what += f", TCP seq {int(c.seq[a])} ack {int(c.ack[a])}"
    elif proto == P_ICMP:
        what += f", ICMP id {int(c.icmp_id[a])} seq {int(c.icmp_seq[a])}"
    what += f", {int(c.payload_len[a])} payload bytes"
    hops = int(c.ttl[a] - c.ttl[b])
    routed = (f"; TTL {int(c.ttl[a])} → {int(c.ttl[b])} (routed)" if hops
              else "; TTL unchanged (same IP hop: a cable or a bridge)")
    if sa == sb and da == db:
        return "", what + routed
    if sa == sb:
        return "dst", (f"destination {_ep(*da)} rewritten to {_ep(*db)} (conntrack tuple: DNAT, "
                       f"or a reply's de-NAT); " + what + routed)
    if da == db:
        return "src", (f"source {_ep(*sa)} rewritten to {_ep(*sb)} (conntrack tuple: SNAT/"
                       f"MASQUERADE, or a reply's de-NAT); " + what + routed)
    # both ends rewritten (DNAT and MASQUERADE on one router): only where the headers that
    # survive NAT are unlikely to agree by chance — TCP's 32-bit sequence numbers, an ICMP
    # echo's id and sequence, or a UDP port that NAT kept
    strong = ((proto == P_TCP and (int(c.seq[a]) or int(c.ack[a])))
              or (proto == P_ICMP and int(c.icmp_id[a]) >= 0)
              or (proto == P_UDP and (sa[1] == sb[1] or da[1] == db[1])))
    if not strong or not hops:
        return None
    return "both", (f"destination {_ep(*da)} rewritten to {_ep(*db)} and source {_ep(*sa)} "
                    f"rewritten to {_ep(*sb)} (conntrack tuple: DNAT and SNAT/MASQUERADE on one "
                    "router); " + what + routed)
