"""Follow a TCP or UDP conversation, like Wireshark's "Follow Stream" (lesson 11).

The conversation is the packets with the same two endpoints on the same
interface as the packet you pick (a NATed hop has other addresses: follow the
packet there to see that side).  TCP payload is put back in sequence order per
direction, retransmitted bytes counted once; UDP datagrams are taken as they came.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netlab.capture.fast import P_TCP, P_UDP
from netlab.errors import CaptureError
from netlab.packet import int_to_flags

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from netlab.capture.core import Capture


@dataclass
class Stream:
    """A conversation: ``segments`` (DataFrame), the bytes each side sent, and ``text``."""

    protocol: str
    client: tuple[str, int]
    server: tuple[str, int]
    interface: str
    numbers: list[int]
    segments: pd.DataFrame
    client_data: bytes
    server_data: bytes
    chunks: list[tuple[str, bytes]] = field(default_factory=list)  # (">" or "<", bytes) in order

    @property
    def text(self) -> str:
        """Both directions interleaved as they were sent (bytes decoded as UTF-8, lossy)."""
        return "".join(b.decode("utf-8", "replace") for _, b in self.chunks)

    @property
    def df(self) -> pd.DataFrame:
        return self.segments

    def __str__(self) -> str:
        head = (f"{self.protocol.upper()} stream {self.client[0]}:{self.client[1]} ⇄ "
                f"{self.server[0]}:{self.server[1]} on {self.interface}: {len(self.numbers)} "
                f"packets, {len(self.client_data)} bytes → , {len(self.server_data)} bytes ←")
        return head + "\n" + self.text

    def _repr_html_(self) -> str:
        parts = []
        for direction, data in self.chunks:
            colour = "#b00020" if direction == ">" else "#1a4fb0"
            parts.append(f'<span style="color:{colour}">'
                         f"{html.escape(data.decode('utf-8', 'replace'))}</span>")
        head = html.escape(str(self).split("\n", 1)[0])
        return f"<p><b>{head}</b> (client red, server blue)</p><pre>{''.join(parts)}</pre>"


def follow_stream(capture: Capture, packet: int) -> Stream:
    """The TCP or UDP conversation packet ``packet`` belongs to, reassembled both ways."""
    import numpy as np
    import pandas as pd

    n = capture._check(packet)
    c = capture._cols
    i = n - 1
    proto = int(c.proto[i])
    if proto not in (P_TCP, P_UDP):
        from netlab.capture.fast import PROTOCOLS

        raise CaptureError(f"packet {n} is {PROTOCOLS[proto]}, not TCP or UDP: pick a packet "
                           "of the conversation to follow (filter `tcp or udp` to find one)")
    src_cat = capture._address_categorical("src")
    dst_cat = capture._address_categorical("dst")
    s_codes, d_codes = np.asarray(src_cat.codes), np.asarray(dst_cat.codes)
    # address text -> comparable: map both categoricals onto their text
    # (numpy's stubs leave None out of ArrayLike; an object array holds it: code -1 -> None)
    s_txt = np.append(np.asarray(src_cat.categories, dtype=object), None)[s_codes]  # type: ignore[call-overload]
    d_txt = np.append(np.asarray(dst_cat.categories, dtype=object), None)[d_codes]  # type: ignore[call-overload]
    a = (s_txt[i], int(c.sport[i]))
    b = (d_txt[i], int(c.dport[i]))
    iface = capture._raw.ifaces[i]
    cand = np.flatnonzero((c.proto == proto) & (capture._raw.ifaces == iface)
                          & (((c.sport == a[1]) & (c.dport == b[1]))
                             | ((c.sport == b[1]) & (c.dport == a[1]))))
    rows = [int(k) for k in cand
            if ((s_txt[k], int(c.sport[k])) == a and (d_txt[k], int(c.dport[k])) == b)
            or ((s_txt[k], int(c.sport[k])) == b and (d_txt[k], int(c.dport[k])) == a)]
    # the client is who sent the SYN (else who sent first)
    client, server = a, b
    if proto == P_TCP:
        for k in rows:
            if c.flags[k] & 0x12 == 0x02:
                client = (s_txt[k], int(c.sport[k]))
                server = (d_txt[k], int(c.dport[k]))
                break
    else:
        k = rows[0]
        client, server = (s_txt[k], int(c.sport[k])), (d_txt[k], int(c.dport[k]))
    data = capture._raw.data
    isn: dict[str, int] = {}
    next_seq: dict[str, int | None] = {">": None, "<": None}
    pending: dict[str, dict[int, bytes]] = {">": {}, "<": {}}  # out-of-order, by seq
    sent: dict[str, list[bytes]] = {">": [], "<": []}
    chunks: list[tuple[str, bytes]] = []
    records: list[dict[str, Any]] = []

    def deliver(d: str, payload: bytes, start: int) -> str:
        """Hand bytes at ``start`` to the reader in sequence order, as a TCP receiver does."""
        expected = next_seq[d]
        assert expected is not None
        ahead = (start - expected) % 2**32
        if ahead and ahead < 2**31:  # a gap before it: keep it until the gap fills
            pending[d][start] = payload
            return f"out of order: {ahead} bytes missing before it"
        skip = (expected - start) % 2**32
        if skip >= len(payload):
            return "retransmission"
        new = payload[skip:]
        note = "partial retransmission" if skip else ""
        while new:
            sent[d].append(new)
            chunks.append((d, new))
            expected = (expected + len(new)) % 2**32
            new = b""
            for seq in sorted(pending[d], key=lambda x: (x - expected) % 2**32):
                if (seq - expected) % 2**32 < 2**31 and seq != expected:
                    continue
                held = pending[d].pop(seq)
                cut = (expected - seq) % 2**32
                if cut < len(held):
                    new = held[cut:]
                    break
        next_seq[d] = expected
        return note

    for k in rows:
        d = ">" if (s_txt[k], int(c.sport[k])) == client else "<"
        plen = int(c.payload_len[k])  # on the wire
        pcap = int(c.payload_cap[k])  # in the file (fewer if snaplen cut the packet)
        poff = int(c.payload_off[k])
        payload = data[poff:poff + pcap] if pcap > 0 else b""
        cut = (f"only {pcap} of {plen} bytes captured (snaplen)" if pcap < plen else "")
        row = {"number": k + 1, "time": float(capture._raw.times_ns[k]) / 1e9, "direction": d}
        if proto == P_TCP:
            seq = int(c.seq[k])
            fl = int(c.flags[k])
            other = "<" if d == ">" else ">"
            isn.setdefault(d, seq if fl & 0x02 else (seq - 1) % 2**32)
            start = (seq + (1 if fl & 0x02 else 0)) % 2**32
            if next_seq[d] is None:
                next_seq[d] = start
            note = deliver(d, payload, start) if payload else ""
            if cut and next_seq[d] == (start + pcap) % 2**32:  # skip what was not captured
                next_seq[d] = (start + plen) % 2**32
            note = "; ".join(x for x in (note, cut) if x)
            row.update({"flags": int_to_flags(fl), "seq": (seq - isn[d]) % 2**32,
                        "ack": ((int(c.ack[k]) - isn[other]) % 2**32
                                if fl & 0x10 and other in isn else None),
                        "len": plen, "note": note})
        else:
            row.update({"len": plen, "note": cut})
            if payload:
                sent[d].append(payload)
                chunks.append((d, payload))
        records.append(row)
    for d in (">", "<"):  # bytes after a gap that never filled: shown, in sequence order
        for seq in sorted(pending[d], key=lambda x: (x - (next_seq[d] or 0)) % 2**32):
            sent[d].append(pending[d][seq])
            chunks.append((d, pending[d][seq]))
    seg = pd.DataFrame(records).set_index("number") if records else pd.DataFrame()
    return Stream(protocol="tcp" if proto == P_TCP else "udp", client=client, server=server,
                  interface=capture.interface_names()[int(iface)], numbers=[k + 1 for k in rows],
                  segments=seg, client_data=b"".join(sent[">"]), server_data=b"".join(sent["<"]),
                  chunks=chunks)
