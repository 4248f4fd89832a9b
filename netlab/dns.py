"""DNS on the wire, as much as a lookup of one A record needs (RFC 1035 §4).

:func:`query` builds the packet ``dig``/glibc sends, :func:`parse` reads a message
back (header, question, A answers), :func:`answer` is what Docker's embedded
resolver replies to a query.  Hand-written, standard library only, because the
lab's resolver runs as ``python -I -S`` inside a container namespace (see
:mod:`netlab.lab.servers`, which carries the same few lines) and the simulator's
core has no third-party DNS library; the tests check the bytes against scapy's
DNS parser.

Docker's resolver (moby v28.5.2 ``libnetwork/resolver.go``, unchanged in
docker-v29.0.0 ``daemon/libnetwork/resolver.go``) answers the names of the
containers on the asking container's networks (``name``, ``name.network`` and
``--network-alias`` es, case-insensitive) with TTL 600, recursion available;
every other name it forwards to the host's nameservers.  netlab's world has no
nameserver outside, so the resolver gives the answer that forward would bring:
``NXDOMAIN`` for a one-label name (the root zone has no such name — what the
host's resolver says for ``db``), ``SERVFAIL`` for a longer one (what Docker
answers when no upstream server answers).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

TYPE_A, TYPE_AAAA, CLASS_IN = 1, 28, 1
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TTL = 600  # libnetwork resolver.go respTTL
RESOLVER_IP = "127.0.0.11"  # libnetwork resolver.go: the embedded DNS server's address


class DnsError(ValueError):
    """Bytes that are not the DNS message they should be."""


@dataclass
class Message:
    """One DNS message: its header fields, the question and the A answers."""

    ident: int
    response: bool
    rcode: str
    name: str
    qtype: int
    rd: bool = True
    ra: bool = False
    answers: list[str] = field(default_factory=list)  # A record addresses, in order
    ttl: int | None = None
    question_end: int = 0  # where the question ends in the bytes parsed


def check_name(name: object) -> str:
    """``name`` as a lookup takes it (no trailing dot, labels of 1–63 letters, digits, ``-``,
    ``_``); raises :class:`DnsError` saying what is wrong."""
    if not isinstance(name, str) or not name.isascii():
        raise DnsError(f"a DNS name is ASCII text such as 'db', not {name!r}")
    text = name[:-1] if name.endswith(".") else name
    if not text or len(text) > 253:
        raise DnsError(f"DNS name {name!r} must have 1 to 253 characters")
    for label in text.split("."):
        if not 1 <= len(label) <= 63 or not all(c.isalnum() or c in "-_" for c in label):
            raise DnsError(f"DNS name {name!r}: label {label!r} must be 1 to 63 letters, digits, '-' or '_'")
    return text


def _encode_name(name: str) -> bytes:
    out = b""
    for label in check_name(name).split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(name: str, ident: int, qtype: int = TYPE_A) -> bytes:
    """A standard query for ``name`` (RD set, as ``dig`` and glibc send it)."""
    return struct.pack("!HHHHHH", ident & 0xFFFF, 0x0100, 1, 0, 0, 0) + _encode_name(name) + \
        struct.pack("!HH", qtype, CLASS_IN)


def _read_name(data: bytes, off: int, depth: int = 0) -> tuple[str, int]:
    labels: list[str] = []
    while True:
        if off >= len(data) or depth > 16:
            raise DnsError("a DNS name runs past the end of the message")
        n = data[off]
        if n & 0xC0 == 0xC0:  # a compression pointer
            if off + 1 >= len(data):
                raise DnsError("a DNS name pointer runs past the end of the message")
            rest, _ = _read_name(data, ((n & 0x3F) << 8) | data[off + 1], depth + 1)
            return ".".join([*labels, rest] if rest else labels), off + 2
        if n == 0:
            return ".".join(labels), off + 1
        labels.append(data[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def parse(data: bytes) -> Message:
    """The message in ``data`` (a query or an answer); raises :class:`DnsError`."""
    if len(data) < 12:
        raise DnsError(f"{len(data)} bytes are shorter than a DNS header (12)")
    ident, flags, qd, an, _ns, _ar = struct.unpack("!HHHHHH", data[:12])
    if qd != 1:
        raise DnsError(f"a DNS message with {qd} questions (a lookup asks one)")
    name, off = _read_name(data, 12)
    if off + 4 > len(data):
        raise DnsError("the DNS question is cut short")
    qtype, _qclass = struct.unpack("!HH", data[off:off + 4])
    off += 4
    msg = Message(ident, bool(flags & 0x8000), RCODES.get(flags & 0xF, str(flags & 0xF)), name, qtype,
                  rd=bool(flags & 0x0100), ra=bool(flags & 0x0080), question_end=off)
    for _ in range(an):
        _, off = _read_name(data, off)
        if off + 10 > len(data):
            raise DnsError("a DNS answer is cut short")
        rtype, _rclass, ttl, rdlen = struct.unpack("!HHIH", data[off:off + 10])
        off += 10
        rdata = data[off:off + rdlen]
        off += rdlen
        if rtype == TYPE_A and len(rdata) == 4:
            msg.answers.append(".".join(str(b) for b in rdata))
            msg.ttl = ttl
    return msg


def upstream_rcode(name: str) -> int:
    """What forwarding ``name`` outside would bring back in netlab's closed world:
    NXDOMAIN (3) for a one-label name, SERVFAIL (2, no upstream answered) otherwise."""
    return 3 if "." not in name.rstrip(".") else 2


def answer(data: bytes, records: dict[str, str]) -> bytes | None:
    """Docker's embedded resolver's reply to the query ``data``; ``records`` maps the
    lower-case names it owns to an address.  None: not a query (nothing is sent back)."""
    try:
        q = parse(data)
    except DnsError:
        return None
    if q.response:
        return None
    name = q.name.rstrip(".").lower()
    question = data[12:q.question_end]
    flags = 0x8000 | 0x0080 | (0x0100 if q.rd else 0)  # QR, RA (createRespMsg), RD copied
    body = b""
    count = 0
    if name in records and q.qtype in (TYPE_A, TYPE_AAAA):
        if q.qtype == TYPE_A:  # a name without an IPv6 address: NOERROR and no answer
            body = b"\xc0\x0c" + struct.pack("!HHIH", TYPE_A, CLASS_IN, TTL, 4) + \
                bytes(int(x) for x in records[name].split("."))
            count = 1
    else:
        flags |= upstream_rcode(name)
    return struct.pack("!HHHHHH", q.ident, flags, 1, count, 0, 0) + question + body
