"""Layer 7 — what a probe produced: an ordered list of events and the packets seen.

Both backends return the same :class:`Journey`: the simulator writes it as it
moves the packet, the lab rebuilds it from captures, counters and conntrack.
Lesson 5 steps through it; the differential tests compare
:meth:`Journey.signature` of the two backends.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from netlab.errors import NetlabError
from netlab.packet import Frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from netlab.capture import Capture
    from netlab.probe import ProbeRequest

EVENT_KINDS = (
    "send",       # a program in ``node`` sent the packet
    "seen",       # the packet crossed ``iface`` in ``node`` (what tcpdump there shows)
    "route",      # a routing decision (``route`` holds the route that matched)
    "netfilter",  # one hook's tables ran (``trace`` holds the rule-by-rule trace)
    "nat",        # a NAT rewrite (``before`` → ``after``; ``rule`` names the rule)
    "conntrack",  # a conntrack entry created or matched (``conntrack`` describes it)
    "fdb",        # a bridge looked up / learnt a MAC
    "arp",        # neighbour resolution (request/reply/cached)
    "deliver",    # handed to a socket / service in ``node``
    "drop",       # dropped (``reason`` says by what)
)


SHORT_LINES = 12  # the short summary is at most this many lines


class NotSeenError(NetlabError, LookupError, ValueError):
    """No packet matching the filters was seen at that place; the message lists what was."""


_NAT_KINDS = ("DNAT", "SNAT", "MASQUERADE", "REDIRECT", "de-NAT")


@dataclass
class Event:
    """One thing that happened to the packet, in order."""

    seq: int
    kind: str
    node: str  # scenario node (= namespace) it happened in
    detail: str  # one line a learner reads
    iface: str | None = None
    direction: str | None = None  # "in" / "out" for "seen"
    hook: str | None = None  # PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING
    frame: Frame | None = None  # the packet at this point (for "seen": as tcpdump shows it)
    rule: str | None = None  # position "nat:DOCKER:2"
    rule_text: str | None = None
    trace: Any = None  # netlab.netfilter.Trace
    route: str | None = None  # "172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1"
    before: str | None = None  # NAT: "192.168.56.38:80"
    after: str | None = None  # NAT: "172.17.0.2:80"
    conntrack: str | None = None
    reason: str | None = None  # drop reason
    time: float = 0.0
    packet_id: int | None = None  # which logical packet of the probe (1 = first)
    verdict: str | None = None  # netfilter: ACCEPT / DROP / REJECT; nat: the NAT kind
    # nat events, as fields (``detail`` says the same for a learner):
    nat_by: str | None = None  # who rewrote: the nat rule's position, or "conntrack"
    nat_kind: str | None = None  # DNAT / SNAT / MASQUERADE / REDIRECT (a rule); DNAT / SNAT / de-NAT
    nat_side: str | None = None  # "src" or "dst": the address rewritten
    ct_state: str | None = None  # conntrack rewrites: "new" / "established" / "related"
    ct_direction: str | None = None  # conntrack rewrites: "original" / "reply"
    ct_entry: int | None = None  # the conntrack entry's number in the journey
    related: bool = False  # the packet is an ICMP error RELATED to a connection
    bridge: str | None = None  # fdb events: the bridge that looked up / learnt

    def __post_init__(self) -> None:
        if self.kind == "nat" and self.nat_by is None:  # a nat event made by hand, without the fields
            first = self.detail.split(" ", 1)[0] if self.detail else ""
            self.nat_kind = self.nat_kind or self.verdict or (first if first in _NAT_KINDS else None)
            self.nat_by = self.rule or "conntrack"
            if self.nat_side is None and self.nat_kind in ("DNAT", "REDIRECT", "SNAT", "MASQUERADE"):
                self.nat_side = "dst" if self.nat_kind in ("DNAT", "REDIRECT") else "src"

    def __getattr__(self, name: str) -> Any:
        """A "seen" event reads like its frame: ``e.dst``, ``e.ttl``, ``e.flags`` (the event's
        own fields win: ``e.seq`` is the event's number, ``e.frame.seq`` the TCP one)."""
        frame = self.__dict__.get("frame")
        if not name.startswith("_") and frame is not None and name in _FRAME_FIELDS:
            return getattr(frame, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    @property
    def packet(self):  # noqa: ANN201 - scapy imported lazily
        """The packet at this point as a scapy packet (None if the event has none)."""
        return None if self.frame is None else self.frame.scapy()

    def row(self) -> dict[str, Any]:
        f = self.frame
        return {
            "seq": self.seq, "time": self.time, "kind": self.kind, "node": self.node,
            "iface": self.iface, "direction": self.direction, "hook": self.hook,
            "packet_id": self.packet_id,
            "src": f.src if f else None, "dst": f.dst if f else None,
            "proto": f.proto if f else None,
            "sport": f.sport if f else None, "dport": f.dport if f else None,
            "flags": f.flags if f else None, "ttl": f.ttl if f else None,
            "rule": self.rule, "verdict": self.verdict, "route": self.route,
            "before": self.before, "after": self.after, "reason": self.reason,
            "detail": self.detail,
        }


def nat_fields(side: str, before: str, after: str, *, rule: str | None = None, kind: str | None = None,
               ct_state: str | None = None, ct_direction: str = "original", ct_entry: int | None = None,
               related: bool = False) -> tuple[str, dict[str, Any]]:
    """A ``nat`` event's sentence and fields, the same from both backends: by ``rule`` (the
    connection's first packet through the nat table) or by conntrack (every later packet)."""
    if rule is not None:
        kind = kind or ("DNAT" if side == "dst" else "SNAT")
        detail = f"{kind} {before} → {after} by {rule}"
        ct: dict[str, Any] = {"nat_by": rule}
    else:
        kind = kind or (("DNAT" if side == "dst" else "SNAT") if ct_direction == "original" else "de-NAT")
        detail = (f"conntrack rewrites {'destination' if side == 'dst' else 'source'} {before} → {after} "
                  f"({ct_state} {ct_direction} direction, entry #{ct_entry})")
        ct = {"nat_by": "conntrack", "ct_state": ct_state, "ct_direction": ct_direction, "ct_entry": ct_entry}
    return detail, {"before": before, "after": after, "rule": rule, "verdict": kind, "nat_kind": kind,
                    "nat_side": side, "related": related, **ct}


@dataclass
class ProbeRecord:
    """What was asked and what went out: ``journey.probe``.

    ``sport`` is the source port asked for (None: let the kernel pick), ``actual_sport``
    the one the first packet carried.  Reads like a dict too (``probe["dst_ip"]``,
    ``probe.get("hops")``), for code written when it was one."""

    kind: str
    src: str
    dst: str
    src_ip: str | None = None  # the address the probe left from
    dst_ip: str | None = None
    dport: int | None = None
    sport: int | None = None  # asked for
    actual_sport: int | None = None  # on the wire
    count: int = 1
    timeout: float = 2.0
    ttl: int | None = None
    src_node: str | None = None
    dst_node: str | None = None
    scenario: str | None = None
    mode: str = "sim"
    seed: int | None = None
    prefix: str | None = None  # the lab's namespace prefix
    start: float = 0.0
    mac_owner: dict[str, str] = field(default_factory=dict)
    hops: list[str | None] | None = None  # traceroute: who answered each TTL
    capture_drops: int | None = None  # lab: packets the capture lost
    result: list[str] | None = None  # lab: what the prober itself heard
    name: str | None = None  # dns: the name looked up

    @classmethod
    def of(cls, request: ProbeRequest, **more: Any) -> ProbeRecord:
        """The record of a checked request (``more``: what the backend adds)."""
        base: dict[str, Any] = dict(
            kind=request.kind, src=request.src, dst=request.dst, src_ip=request.src_ip,
            dst_ip=request.dst_ip, dport=request.dport, sport=request.sport, count=request.count,
            timeout=request.timeout, ttl=request.ttl, src_node=request.src_node, dst_node=request.dst_node,
            name=request.name)
        return cls(**{**base, **more})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def keys(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]

    def __getitem__(self, key: str) -> Any:
        if key not in _RECORD_FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in _RECORD_FIELDS:
            raise KeyError(f"a probe record has no field {key!r}; fields are {', '.join(_RECORD_FIELDS)}")
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return key in _RECORD_FIELDS and getattr(self, str(key)) is not None

    def get(self, key: str, default: Any = None) -> Any:
        value = getattr(self, key, None) if key in _RECORD_FIELDS else None
        return default if value is None else value


_RECORD_FIELDS = tuple(f.name for f in fields(ProbeRecord))


@dataclass
class Journey:
    """A probe's result: ``events`` (DataFrame), ``steps`` (the Event objects),
    ``capture`` (every packet seen, per interface), and the outcome."""

    probe: ProbeRecord
    steps: list[Event] = field(default_factory=list)
    outcome: str = "unknown"  # "delivered", "answered", "dropped", "timeout", "rejected"
    reason: str | None = None
    mode: str = "sim"
    capture: Capture | None = None
    replies: list[Frame] = field(default_factory=list)  # what came back to the prober
    conntrack_entries: list[Any] = field(default_factory=list)
    scenario: Any = None  # the Scenario the probe ran on (diagrams draw the journey on it)
    # what the probe's program made of the answer; dns: name, server, rcode, answer
    # (the first A address or None), answers, ttl, authoritative / recursion flags
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def events(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([e.row() for e in self.steps])

    @property
    def ok(self) -> bool:
        return self.outcome in ("delivered", "answered")

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.steps if e.kind in kinds]

    def seen(self, node: str | None = None, iface: str | None = None,
             direction: str | None = None) -> list[Event]:
        """The "seen" events, optionally only at one node / interface / direction."""
        return [
            e for e in self.steps
            if e.kind == "seen" and (node is None or e.node == node)
            and (iface is None or e.iface == iface)
            and (direction is None or e.direction == direction)
        ]

    def first_seen(self, node: str | None = None, iface: str | None = None,
                   direction: str | None = None, **match: Any) -> Event:
        """The first packet seen at ``node``/``iface`` going ``direction`` ("in"/"out") whose
        fields match ``match`` — what tcpdump there would show first.

        ``match`` names a frame field (``proto="tcp"``, ``flags="S"``, ``icmp_type=8``,
        ``dst="172.17.0.2"``, ``dst_mac=...``) or an event field (``packet_id=1``); a value
        may also be a set/list/tuple of accepted values or a function returning True.
        Returns the :class:`Event`: ``.frame`` is the packet, and its fields read directly
        (``first_seen(...).dst``).  Raises :class:`NotSeenError` listing what was seen there
        when nothing matches.
        """
        if direction is not None and direction not in ("in", "out"):
            raise ValueError(f"direction={direction!r}: use 'in', 'out' or leave it out")
        unknown = sorted(k for k in match if k not in _FRAME_FIELDS and k not in _EVENT_FIELDS)
        if unknown:
            raise ValueError(f"cannot match on {', '.join(unknown)}: use a packet field "
                             f"({', '.join(sorted(_FRAME_FIELDS - {'payload', 'quoted'}))}) "
                             "or packet_id / hook")
        here = self.seen(node, iface, direction)
        for e in here:
            if all(_matches(_field(e, k), want) for k, want in match.items()):
                return e
        raise NotSeenError(self._not_seen_message(node, iface, direction, match, here))

    def _not_seen_message(self, node: str | None, iface: str | None, direction: str | None,
                          match: dict[str, Any], here: list[Event]) -> str:
        where = ":".join(x for x in (node, iface) if x) or "anywhere"
        if direction:
            where += f" going {direction}"
        wanted = ", ".join(f"{k}={v!r}" for k, v in match.items()) or "any packet"
        lines = [f"no packet with {wanted} was seen at {where}."]
        if here:
            lines.append(f"Seen there ({len(here)}):")
            lines += [f"  #{e.seq} {e.direction} {_frame_text(e.frame)}" for e in here[:10]]
            if len(here) > 10:
                lines.append(f"  … and {len(here) - 10} more")
        else:
            places = sorted({(e.node, e.iface, e.direction) for e in self.seen()})
            lines.append("Nothing at all was seen there. The packets were seen at: "
                         + (", ".join(f"{n}:{i} {d}" for n, i, d in places) or "nowhere"))
        lines.append("Change the filters to one of these, or look at journey.events.")
        return "\n".join(lines)

    @property
    def nat_rewrites(self) -> list[Event]:
        return self.of_kind("nat")

    def rules(self) -> list[str]:
        """Positions of the rules that decided something (DNAT, ACCEPT, DROP, ...)."""
        return [e.rule for e in self.steps if e.rule]

    def headline(self) -> str:
        """``http client → 192.168.56.38: answered`` (and the reason, if any)."""
        return (f"{self.probe.get('kind', 'probe')} {self.probe.get('src')} → "
                f"{self.probe.get('dst')}: {self.outcome}"
                + (f" ({self.reason})" if self.reason else ""))

    def summary(self, detail: bool = False) -> str:
        """A short hop table (at most 12 lines): the probe's packet and its answer, one line
        a hop — where it was seen, its addresses there, what changed and which rule did it.

        ``detail=True`` gives every hop of every packet (ARP too), NAT, verdicts and drops.
        """
        if not detail:
            return self._short_summary()
        lines = [self.headline()]
        for e in self.steps:
            if e.kind in ("seen", "nat", "drop", "deliver") or (e.kind == "netfilter" and e.rule):
                where = f"{e.node}:{e.iface}" if e.iface else e.node
                lines.append(f"{e.seq:3d} {e.kind:9s} {where:24s} {e.detail}")
        return "\n".join(lines)

    def _short_summary(self) -> str:
        request, reply = self._request_and_reply()
        rows: list[tuple[str, str, str, str]] = []
        for label, pid in (("", request), ("answer: ", reply)):
            if pid is not None:
                rows += self._hop_rows(pid, label, len(rows))
        lines = [self.headline()]
        if not rows:
            why = [e for e in self.steps if e.kind == "drop"]
            lines.append("no packet left " + str(self.probe.get("src")) + (
                f": {why[0].node} dropped it ({why[0].reason or why[0].detail})" if why else "")
                + " — summary(detail=True) shows every event")
            return "\n".join(lines)
        budget = SHORT_LINES - 2
        if len(rows) > budget:
            hidden = len(rows) - (budget - 1)
            keep = (budget - 1) // 2 + 1
            rows = [*rows[:keep], ("", "…", f"{hidden} more hops", "summary(detail=True) shows all"),
                    *rows[keep + hidden:]]
        head = ("hop", "where", "packet there", "what changed / the rule")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
        for r in [head, *rows]:
            lines.append(f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip())
        return "\n".join(lines)

    def _request_and_reply(self) -> tuple[int | None, int | None]:
        """The probe's first packet and the first other packet that came back to the prober.

        When the probe's packet never reached a wire (its ARP went unanswered), the ARP request
        stands in for it."""
        sends = [e for e in self.steps if e.kind == "send" and e.packet_id is not None]
        seen = [e for e in self.seen() if e.packet_id is not None]
        if not sends:
            return (seen[0].packet_id if seen else None), None
        prober, request = sends[0].node, sends[0].packet_id
        if not any(e.packet_id == request for e in seen):
            mine = [e for e in seen if e.node == prober and e.direction == "out"]
            return (mine[0].packet_id if mine else request), None
        for e in seen:
            if (e.node == prober and e.direction == "in" and e.packet_id != request
                    and e.frame is not None and (e.frame.proto != "arp" or sends[0].frame is None
                                                 or "arp" in sends[0].detail.lower())):
                return request, e.packet_id
        return request, None

    def _hop_rows(self, pid: int, label: str, start: int) -> list[tuple[str, str, str, str]]:
        """One row a sighting of packet ``pid``: what changed since the last one and why."""
        rows: list[tuple[str, str, str, str]] = []
        prev: Frame | None = None
        nat: list[str] = []
        notes: list[str] = []
        for e in (e for e in self.steps if e.packet_id == pid):
            if e.kind == "seen" and e.frame is not None:
                changed = ([f"{label}sent by {e.node}"] if prev is None else [])
                addr = _changes(prev, e.frame)
                if nat and addr:
                    changed.append(f"{' + '.join(nat)}: {', '.join(addr)}")
                else:
                    changed += nat + addr
                if prev is not None and prev.ttl is not None and e.frame.ttl is not None \
                        and prev.ttl != e.frame.ttl:
                    changed.append(f"ttl {prev.ttl}→{e.frame.ttl}")
                rows.append((str(start + len(rows) + 1), f"{e.node}:{e.iface} {e.direction}",
                             _frame_text(e.frame), "; ".join(changed + notes)))
                prev, nat, notes = e.frame, [], []
            elif e.kind == "nat":
                nat.append(f"{e.detail.split(' ', 1)[0]} {e.rule}" if e.rule else "conntrack")
            elif e.kind == "netfilter" and e.rule and (
                    not e.rule.startswith("nat:") or e.verdict not in (None, "ACCEPT")):
                notes.append(f"{e.hook} {e.verdict or ''} {e.rule}".replace("  ", " "))
            elif e.kind == "drop":
                notes.append(f"DROPPED in {e.node}: {e.reason or e.detail}")
            elif e.kind == "deliver":
                notes.append(f"delivered in {e.node}")
        if (nat or notes) and rows:
            last = rows[-1]
            tail = "then " + ", ".join(nat + notes)
            rows[-1] = (*last[:3], f"{last[3]}; {tail}" if last[3] else tail)
        return rows

    def diff(self, other: Journey) -> JourneyDiff:
        """What differs between this journey and ``other`` (the same probe elsewhere)."""
        return diff_journeys(self, other)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return "<pre>" + self.summary().replace("&", "&amp;").replace("<", "&lt;") + "</pre>"

    def signature(self) -> list[tuple]:
        """What the sim-vs-kernel contract compares, with kernel randomness removed.

        Per packet seen: node, interface, addresses, protocol, ports (ephemeral
        ones replaced by a role), TTL, TCP flags, ICMP type, and MAC roles (the
        MAC replaced by the name of the node/interface that owns it).  Plus NAT
        rewrites and the final outcome.
        """
        from netlab.normalise import journey_signature

        return journey_signature(self)


_FRAME_FIELDS = frozenset(f.name for f in dataclasses.fields(Frame))
_EVENT_FIELDS = frozenset({"packet_id", "hook", "seq", "time"})


def _field(e: Event, name: str) -> Any:
    if name in _FRAME_FIELDS and e.frame is not None:
        return getattr(e.frame, name)
    return getattr(e, name, None) if name in _EVENT_FIELDS else None


def _matches(value: Any, want: Any) -> bool:
    if callable(want):
        return bool(want(value))
    if isinstance(want, (set, frozenset, list, tuple)):
        return value in want
    return value == want


def _frame_text(f: Frame | None) -> str:
    """A packet's addresses as a hop table shows them."""
    if f is None:
        return "-"
    if f.proto in ("tcp", "udp"):
        text = f"{f.proto.upper()} {f.src}:{f.sport} → {f.dst}:{f.dport}"
        return text + (f" [{f.flags}]" if f.flags else "")
    if f.proto == "icmp":
        return f.summary().replace(" > ", " → ", 1).split(" id=", 1)[0]
    return f.summary()


def _changes(prev: Frame | None, f: Frame) -> list[str]:
    """Which addresses/ports differ between two sightings of one packet."""
    if prev is None:
        return []
    out = []
    for label, was, now in (("src", (prev.src, prev.sport), (f.src, f.sport)),
                            ("dst", (prev.dst, prev.dport), (f.dst, f.dport))):
        if was != now:
            out.append(f"{label} → {now[0]}" + (f":{now[1]}" if now[1] is not None else ""))
    return out


# ---------------------------------------------------------------- comparing two journeys
_DIFF_KINDS = ("seen", "nat", "netfilter", "route", "drop", "deliver")


def _port_role(port: int | None) -> Any:
    """Ephemeral ports (Linux picks them from 32768-60999) differ between runs: compare a role."""
    return "ephemeral" if port is not None and port >= 32768 else port


def _diff_key(e: Event) -> tuple:
    """What makes two events "the same step" in two journeys (kernel randomness left out)."""
    f = e.frame
    packet = None if f is None or e.kind not in ("seen", "nat") else (
        f.proto, f.src, f.dst, _port_role(f.sport), _port_role(f.dport), f.flags, f.ttl,
        f.icmp_type, f.arp_op, f.arp_target_ip)
    text = e.route if e.kind == "route" else (e.reason or e.detail if e.kind == "drop" else None)
    return (e.kind, e.node, e.iface, e.direction, e.hook, e.rule, e.verdict, packet, text)


def _diff_relevant(e: Event) -> bool:
    if e.kind not in _DIFF_KINDS:
        return False
    return e.kind != "netfilter" or bool(e.rule) or e.verdict not in (None, "ACCEPT")


@dataclass
class DiffRow:
    """One step of a journey comparison: ``same``, ``changed``, ``only_before`` or ``only_after``."""

    status: str
    before: Event | None
    after: Event | None

    @staticmethod
    def text(e: Event | None) -> str:
        if e is None:
            return ""
        where = f"{e.node}:{e.iface}" if e.iface else e.node
        return f"{e.kind} {where}: {e.detail}"


@dataclass
class JourneyDiff:
    """Two journeys of one probe compared step by step (``rows``); ``first`` is the index of
    the first row where they part (None: they do the same thing)."""

    before: Journey
    after: Journey
    rows: list[DiffRow]

    @property
    def first(self) -> int | None:
        return next((i for i, r in enumerate(self.rows) if r.status != "same"), None)

    @property
    def differences(self) -> list[DiffRow]:
        return [r for r in self.rows if r.status != "same"]

    @property
    def same(self) -> bool:
        return self.first is None and self.before.outcome == self.after.outcome

    def lines(self, context: int = 1, run: int = 3) -> list[tuple[str, str, bool]]:
        """``(mark, text, is_first_difference)`` per shown step: ``-`` only before, ``+`` only
        after, ``~`` changed (then ``now: …``), `` `` the same steps just before the first
        difference; a run of more than ``run`` one-sided steps is shortened to a count."""
        first = self.first
        if first is None:
            return []
        out: list[tuple[str, str, bool]] = []
        i = max(0, first - context)
        marks = {"same": " ", "changed": "~", "only_before": "-", "only_after": "+"}
        while i < len(self.rows):
            r = self.rows[i]
            if r.status == "same":
                i += 1
                continue
            j = i
            while j < len(self.rows) and self.rows[j].status == r.status:
                j += 1
            if r.status in ("only_before", "only_after") and j - i > run + 1:
                for k in range(i, i + run):
                    out.append((marks[r.status], DiffRow.text(self.rows[k].before or self.rows[k].after),
                                k == first))
                side = "before" if r.status == "only_before" else "after"
                last = self.rows[j - 1].before or self.rows[j - 1].after
                out.append((marks[r.status], f"… {j - i - run} more steps only {side} "
                            f"(the last: {DiffRow.text(last)})", False))
                i = j
                continue
            for k in range(i, j):
                x = self.rows[k]
                if x.status == "changed":
                    out.append(("~", DiffRow.text(x.before), k == first))
                    out.append(("~", "now: " + DiffRow.text(x.after), False))
                else:
                    out.append((marks[x.status], DiffRow.text(x.before or x.after), k == first))
            i = j
        if first > 0 and context:
            ctx = [(" ", DiffRow.text(self.rows[k].before), False)
                   for k in range(max(0, first - context), first)]
            out = ctx + out
        return out

    def text(self, limit: int = 16) -> str:
        """Both outcomes, then the differing steps (at most ``limit`` lines; ▶ marks the first)."""
        head = [f"before: {self.before.headline()}", f"after:  {self.after.headline()}"]
        if self.first is None:
            return "\n".join(head + [f"the same {len(self.rows)} steps in both" if self.same
                                      else "the same steps, but a different outcome"])
        body = [f"{m} {'▶ first difference: ' if first else ''}{t}" for m, t, first in self.lines()]
        if len(body) > limit:
            body = body[:limit - 1] + [f"… {len(body) - limit + 1} more lines (diff.rows has them all)"]
        return "\n".join(head + body)

    def __str__(self) -> str:
        return self.text()


def diff_journeys(before: Journey, after: Journey) -> JourneyDiff:
    """Align the steps of two journeys (hops, NAT, decisive rules, routes, drops, deliveries)
    and say which are the same, changed, or only in one of them."""
    import difflib

    a = [e for e in before.steps if _diff_relevant(e)]
    b = [e for e in after.steps if _diff_relevant(e)]
    ka, kb = [_diff_key(e) for e in a], [_diff_key(e) for e in b]
    rows: list[DiffRow] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ka, kb, autojunk=False).get_opcodes():
        if op == "equal":
            rows += [DiffRow("same", a[i], b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for k in range(pairs):
            x, y = a[i1 + k], b[j1 + k]
            same_place = (x.kind, x.node, x.iface, x.direction) == (y.kind, y.node, y.iface, y.direction)
            rows += [DiffRow("changed", x, y)] if same_place else [DiffRow("only_before", x, None),
                                                                   DiffRow("only_after", None, y)]
        rows += [DiffRow("only_before", a[i], None) for i in range(i1 + pairs, i2)]
        rows += [DiffRow("only_after", None, b[j]) for j in range(j1 + pairs, j2)]
    return JourneyDiff(before, after, rows)
