"""``conntrack -L`` (and ``/proc/net/nf_conntrack``, ``conntrack -E``) → conntrack entries.

Lesson 4 reads NAT off these lines: when the reply tuple is not the original
turned round, the kernel rewrote the packet (DNAT for ``-p 80:80``, MASQUERADE
for a container going out).
"""

from __future__ import annotations

import ipaddress
import re

from netlab.model import ConntrackEntry, ConntrackTuple, HostState
from netlab.numbers import is_decimal, to_int
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import clean_lines

_PROTOS = {"tcp": 6, "udp": 17, "udplite": 136, "icmp": 1, "icmpv6": 58, "sctp": 132,
           "dccp": 33, "gre": 47, "unknown": None}
_NUM = re.compile(r"^[0-9]{1,18}$")
_SUMMARY = re.compile(r"^conntrack v[\d.]+ \(conntrack-tools\):")
_TUPLE_INT = {"sport": "sport", "dport": "dport", "type": "icmp_type", "code": "icmp_code",
              "id": "icmp_id"}


_HEX = re.compile(r"^[0-9a-fA-F]{1,16}$")
EVENTS = ("NEW", "UPDATE", "DESTROY")  # conntrack -E's event kinds (conntrack-tools)
_STAMP = re.compile(r"^\[([0-9]{1,12}(?:\.[0-9]{1,9})?)\]$")  # conntrack -E -o timestamp


def _number(key: str, value: str) -> int:
    n = to_int(value)
    if n is None:
        raise ValueError(f"{key}={value} is not a number")
    return n


def _tuple(fields: dict[str, str]) -> ConntrackTuple:
    t = ConntrackTuple(src=fields["src"], dst=fields["dst"])
    for key, attr in _TUPLE_INT.items():
        if key in fields:
            setattr(t, attr, int(fields[key]))
    return t


def parse_conntrack(text: str | bytes, netns: str = "") -> HostState:
    """Read ``conntrack -L`` lines: protocol, TCP state, both tuples, [ASSURED]/[UNREPLIED],
    mark, the entry's ``id`` (``-o id``); ``conntrack -E`` lines also give their ``event``
    ([NEW], [UPDATE], [DESTROY]) and, with ``-o timestamp``, their ``time``."""
    command = "conntrack -L"
    cleaned = clean_lines(text)
    state = HostState(source="paste")
    for lineno, line in cleaned.lines:
        if _SUMMARY.match(line):
            continue  # "conntrack v1.4.7 (conntrack-tools): 3 flow entries have been shown."
        words = line.split()
        i = 0
        event, stamp = None, None
        if i < len(words) and (m := _STAMP.match(words[i])):
            stamp = float(m.group(1))
            i += 1
        if i < len(words) and words[i].startswith("[") and words[i].endswith("]") \
                and not is_decimal(words[i][1:-1]):
            event = words[i][1:-1]
            if event not in EVENTS:
                raise parse_error(command, f"[{event}] is not a conntrack -E event (those are "
                                  f"{', '.join('[' + e + ']' for e in EVENTS)})", cleaned, lineno, line)
            i += 1
        if i + 1 < len(words) and words[i] in ("ipv4", "ipv6") and _NUM.match(words[i + 1]):
            i += 2  # /proc/net/nf_conntrack and `-o extended` prefix
        if i + 1 >= len(words) or words[i] not in _PROTOS or not _NUM.match(words[i + 1]):
            raise parse_error(command, "expected `PROTO NUMBER TIMEOUT [STATE] src=... dst=...`",
                              cleaned, lineno, line)
        proto = words[i]
        i += 2
        entry = ConntrackEntry(proto=proto, orig=ConntrackTuple("", ""),
                               reply=ConntrackTuple("", ""), netns=netns, event=event, time=stamp)
        open_tuple = False  # may an id= still belong to the last tuple (ICMP's echo id)?
        if i < len(words) and _NUM.match(words[i]):
            entry.timeout = int(words[i])
            i += 1
        if i < len(words) and "=" not in words[i] and not words[i].startswith("["):
            entry.state = words[i]
            i += 1
        tuples: list[dict[str, str]] = []
        try:
            for word in words[i:]:
                if word.startswith("[") and word.endswith("]"):
                    entry.status.append(word[1:-1])
                    continue
                key, eq, value = word.partition("=")
                if not eq:
                    raise ValueError(f"{word!r} is not KEY=VALUE")
                if key == "src":
                    tuples.append({})
                    open_tuple = True
                if key in ("src", "dst"):
                    ipaddress.ip_address(value)
                if key == "id" and (not open_tuple or "id" in tuples[-1]
                                    or not proto.startswith("icmp")):
                    # `-o id`: the entry's id comes after both tuples (and mark=, use=)
                    if not _NUM.match(value) or int(value) >= 2**32:
                        raise ValueError(f"id={value[:24]} is not a conntrack id (a u32)")
                    entry.id = int(value)
                elif key in ("src", "dst", "sport", "dport", "type", "code", "id") and tuples:
                    if key in tuples[-1]:
                        raise ValueError(f"{key}= twice in one direction")
                    if key not in ("src", "dst") and not _NUM.match(value):
                        raise ValueError(f"{key}={value} is not a number")
                    tuples[-1][key] = value
                elif key == "mark":
                    entry.mark = int(value, 16) if value[:2] in ("0x", "0X") and \
                        _HEX.match(value[2:]) else _number(key, value)
                    if entry.mark is not None and not 0 <= entry.mark < 2**32:
                        raise ValueError(f"mark={value[:24]} does not fit 32 bits (the kernel's "
                                         "connection mark is a u32)")
                elif key in ("zone", "use"):
                    setattr(entry, key, _number(key, value))
                if key not in ("src", "dst", "sport", "dport", "type", "code", "id"):
                    open_tuple = False
            if len(tuples) != 2 or not all("dst" in t for t in tuples):
                raise ValueError("a conntrack entry has an original and a reply direction, each "
                                 "with src= and dst=")
            entry.orig, entry.reply = _tuple(tuples[0]), _tuple(tuples[1])
        except ValueError as exc:
            raise parse_error(command, str(exc), cleaned, lineno, line) from None
        state.conntrack_entries.append(entry)
    if not state.conntrack_entries and not any(_SUMMARY.match(x) for _, x in cleaned.lines):
        raise empty_error(command, cleaned)
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state
