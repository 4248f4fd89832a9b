"""A lab probe's Journey, rebuilt from what the kernel shows.

:func:`run_probe` captures the evidence (:mod:`netlab.lab.evidence`, root: every
interface of every namespace, counters, conntrack, FDBs) and :func:`rebuild` turns
it into the Journey — on any machine, from saved evidence too:

- every IPv4/ARP packet captured becomes a ``seen`` event (node, interface,
  direction, the frame as tcpdump there shows it), in time order (each
  namespace's own order kept);
- copies of one packet at different hops are joined into one logical packet
  (``packet_id``) by what NAT never changes: IP ID, TCP sequence and
  acknowledgement numbers, flags and payload;
- where a packet entered a node with one address and left with another, a
  ``nat`` event records the rewrite, naming the NAT rule whose counter grew;
  rewrites no wire shows (nat OUTPUT, de-NAT in INPUT, DNAT of a packet then
  dropped) come from the conntrack tuples, or the DNAT rule's counter;
- the rules whose per-rule counters grew (``iptables-save -c`` before and
  after) give the ``netfilter`` events: the rule that accepted or dropped,
  placed at the first packet its hook, interfaces and conntrack state allow;
- a packet last seen entering a node is ``deliver``-ed when addressed to it,
  otherwise ``drop``-ped, with the reason (the DROP rule or policy whose counter
  grew, TTL exceeded, ip_forward off, no listener, no route);
- the bridges' FDB before and after gives the ``fdb`` learning events, and
  ``conntrack -L`` in each firewalled namespace fills ``conntrack_entries``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from netlab.journey import Event, Journey, ProbeRecord, nat_fields
from netlab.lab import counters as ctr
from netlab.lab import probes
from netlab.lab.capture import Record, to_capture
from netlab.lab.evidence import Evidence, capture_evidence
from netlab.model import ConntrackEntry, ConntrackTuple
from netlab.netfilter import Packet, PacketError, Rule
from netlab.netfilter.context import Context
from netlab.netfilter.matches import compile_match
from netlab.packet import Frame
from netlab.parse import parse_conntrack
from netlab.probe import ProbeRequest, first_sport

if TYPE_CHECKING:  # pragma: no cover
    from netlab.lab.lab import Lab


@dataclass
class _Obs:
    rec: Record
    frame: Frame
    pid: int = 0


@dataclass
class _Logical:
    pid: int
    key: tuple
    obs: list[_Obs] = field(default_factory=list)


def _key(f: Frame) -> tuple:
    """What stays the same when a packet is forwarded, bridged or NATed."""
    if f.proto == "arp":
        return ("arp", f.arp_op, f.arp_sender_mac, f.arp_sender_ip, f.arp_target_ip)
    return (f.proto, f.ip_id, f.seq, f.ack, f.flags, f.icmp_type, f.icmp_code, f.icmp_seq,
            len(f.payload), bytes(f.payload[:64]))


def _endpoint(f: Frame, side: str) -> str:
    ip = f.src if side == "src" else f.dst
    port = f.sport if side == "src" else f.dport
    q = f.quoted
    if f.proto == "icmp" and q is not None:
        # an ICMP error: its address and, inside, the quoted packet's address on the other side
        qip, qport = (q.dst, q.dport) if side == "src" else (q.src, q.sport)
        inner = f"{qip}:{qport}" if q.proto in ("tcp", "udp") and qport is not None else str(qip)
        return f"{ip} quoting {inner}"
    if f.proto not in ("tcp", "udp") or port is None:
        return str(ip)  # ICMP and ARP: the address alone, as conntrack prints NAT of them
    return f"{ip}:{port}"


@dataclass
class _Conn:
    id: int
    confirmed: bool = False
    replied: bool = False


class _Conntracks:
    """Each node's connections as its conntrack sees them, in the order the journey meets them.

    Only a packet whose entry is not yet confirmed (the first of its connection, or a resend of
    one dropped before it left the node) goes through the ``nat`` table and is NATed by a rule;
    conntrack rewrites every later packet, both ways, from the entry (as the simulator says)."""

    def __init__(self, next_id: dict[str, int]) -> None:
        self.next_id = next_id  # node -> entries numbered so far (updated)
        self.conns: dict[tuple, _Conn] = {}

    def _key(self, node: str, f: Frame, original: bool) -> tuple:
        if f.proto == "icmp" and f.quoted is not None:  # an error belongs to the quoted packet's
            q = f.quoted
            if q.proto == "icmp":
                ends = (q.src, q.dst) if not original else (q.dst, q.src)
                return (node, "icmp", ends[0], None, ends[1], q.icmp_id)
            return (node, q.proto, q.src, q.sport, q.dst, q.dport) if not original else \
                (node, q.proto, q.dst, q.dport, q.src, q.sport)
        if f.proto == "icmp":
            ends = (f.src, f.dst) if original else (f.dst, f.src)
            return (node, "icmp", ends[0], None, ends[1], f.icmp_id)
        if original:
            return (node, f.proto, f.src, f.sport, f.dst, f.dport)
        return (node, f.proto, f.dst, f.dport, f.src, f.sport)

    def is_reply(self, node: str, after: Frame) -> bool:
        """Whether ``after`` (a packet as it left ``node``) answers a connection already met there."""
        return self._key(node, after, False) in self.conns

    def connection(self, node: str, f: Frame, original: bool) -> _Conn:
        """The connection of ``f`` in ``node``: ``f`` as its sender wrote it (original
        direction, before NAT) or as its receiver gets it (reply, after de-NAT)."""
        key = self._key(node, f, original)
        conn = self.conns.get(key)
        if conn is None or (original and not conn.confirmed and f.quoted is None):
            # a new entry (or a resend of a packet dropped before its entry was confirmed)
            self.next_id[node] = self.next_id.get(node, 0) + 1
            conn = self.conns[key] = _Conn(self.next_id[node])
        return conn

    def passed(self, conn: _Conn, original: bool) -> None:
        conn.confirmed = True
        if not original:
            conn.replied = True

    @staticmethod
    def rewrite(conn: _Conn, side: str, before: str, after: str, original: bool,
                f: Frame) -> tuple[str, dict[str, Any]]:
        """A conntrack rewrite's sentence and fields (see :func:`netlab.journey.nat_fields`)."""
        related = _related(f)
        state = "related" if related else ("established" if conn.replied or not original else "new")
        return nat_fields(side, before, after, ct_state=state, ct_direction="original" if original else "reply",
                          ct_entry=conn.id, related=related)


def _related(f: Frame) -> bool:
    """An ICMP error: conntrack counts it RELATED to the connection it quotes."""
    return f.proto == "icmp" and f.quoted is not None


def _holds(rule: Rule | None, f: Frame, *, hook: str = "PREROUTING", in_if: str | None = None,
           out_if: str | None = None, state: str | None = None,
           parts: frozenset[str] = frozenset({"addr", "iface", "state"})) -> bool:
    """Whether the netfilter engine finds ``rule``'s conditions that the evidence fixes true of
    ``f``: addresses, protocol and ports always; ``-i``/``-o`` when the interface is known;
    ``--ctstate``/``--state`` when the state is.  Conditions the capture cannot decide
    (addrtype, marks, sets …) are left out: the counter that grew already says they held."""
    if rule is None:
        return True
    try:
        packet = Packet.from_frame(f)
    except (PacketError, ValueError, AttributeError):
        return True
    ctx = Context(packet, hook=hook, in_iface=in_if, out_iface=out_if, local_addrs=(),
                  ct_state=state or "NEW", ipsets=None, seed=0, iface_addrs=None, conntrack=None,
                  next_hop=None)
    for m in rule.matches:
        names = {o.name for o in m.options}
        if m.module == "":
            if names & {"-i", "--in-interface"}:
                if in_if is None or "iface" not in parts:
                    continue
            elif names & {"-o", "--out-interface"}:
                if out_if is None or "iface" not in parts:
                    continue
            elif "addr" not in parts:
                continue
        elif m.module in ("conntrack", "state"):
            if state is None or "state" not in parts or not names <= {"--ctstate", "--state"}:
                continue
        elif m.module not in ("tcp", "udp", "udplite", "multiport", "icmp") or "addr" not in parts:
            continue
        if any(pred(ctx) is not None for pred in compile_match(m)):
            return False
    return True


def _fits(c: ctr.Counter, f: Frame, out_if: str | None) -> bool:
    """Whether the rule of counter ``c`` could have matched packet ``f`` (several NAT rules'
    counters may grow in one probe; this picks the one that NATed ``f``)."""
    return _holds(c.rule, f, out_if=out_if)


def _group(records: list[Record]) -> list[_Logical]:
    packets: list[_Logical] = []
    open_by_key: dict[tuple, _Logical] = {}
    for r in records:
        f = Frame.from_bytes(r.data)
        # ARP and the probe's IPv4 protocols; the kernel's own IGMP/IPv6 housekeeping stays
        # in the capture but is not part of any probe's journey
        if f.proto == "arp" or (f.ethertype == 0x0800 and f.proto in ("tcp", "udp", "icmp")):
            k = _key(f)
            lp = open_by_key.get(k)
            # one logical packet crosses hops within a few milliseconds
            if lp is None or r.time_ns - lp.obs[-1].rec.time_ns > 200_000_000:
                lp = _Logical(len(packets) + 1, k)
                packets.append(lp)
                open_by_key[k] = lp
            lp.obs.append(_Obs(r, f, lp.pid))
    return packets


def run_probe(lab: Lab, request: ProbeRequest, *, max_hops: int = 8, settle: float = 0.05,
              promisc: bool | None = None) -> Journey:
    """Send one checked probe in ``lab`` and return its Journey: capture the evidence
    (root), then rebuild the journey from it (see the module docstring)."""
    ev = capture_evidence(lab, request, max_hops=max_hops, settle=settle, promisc=promisc)
    # entry numbers go on across the probes of one lab, as the kernel's table keeps entries
    next_ids: dict[str, int] = getattr(lab, "_ct_next_id", None) or {}
    lab._ct_next_id = next_ids  # type: ignore[attr-defined]
    return rebuild(ev, next_ids)


def rebuild(ev: Evidence, ct_next_id: dict[str, int] | None = None) -> Journey:
    """The Journey of a probe from its evidence — on any machine, no root needed.
    ``ct_next_id`` (updated) numbers conntrack entries on from earlier probes."""
    sc, request, res, records = ev.scenario, ev.request, ev.result, ev.records
    src_node = sc.node(request.src_node)
    next_ids = ct_next_id if ct_next_id is not None else dict(ev.ct_next_id)
    grown = {n: ctr.grown(ctr.parse_counters(ev.counters_before.get(n, "")), ctr.parse_counters(text))
             for n, text in ev.counters_after.items()}
    learnt = {n: sorted(set(map(tuple, after)) - set(map(tuple, ev.fdb_before.get(n, []))))
              for n, after in ev.fdb_after.items()}
    entries = []
    tracked: dict[str, list[ConntrackEntry]] = {}
    for n, text in ev.conntrack.items():
        entries += [f"{n}: {line}" for line in text.splitlines() if line.strip()]
        tracked[n] = conntrack_entries(text)
    probe = ProbeRecord.of(request, src_ip=request.src_ip, mode="lab", scenario=sc.name, prefix=ev.prefix,
                           start=ev.start, mac_owner=dict(ev.mac_owner))
    sent = next((f for f in (Frame.from_bytes(r.data) for r in records
                             if r.node == src_node.name and r.direction == "out")
                 if f.proto in ("tcp", "udp", "icmp")), None)
    if sent is not None and sent.src:
        probe.src_ip = sent.src  # the address the kernel chose for the source
    journey = build_journey(ev, probe, records, grown, res, src_node.name, tracked, learnt, next_ids)
    journey.conntrack_entries = entries
    journey.mode = "lab"
    journey.scenario = sc  # the topology it ran on, for diagrams
    if ev.capture_drops:
        journey.probe.capture_drops = ev.capture_drops
    journey.probe.actual_sport = first_sport(journey) or res.sport
    return journey


def _local_ips(ev: Evidence, node: str) -> set[str]:
    ips = set(ev.scenario.node(node).ips())
    return ips | {"127.0.0.1"}


def _rule_event(node: str, c: ctr.Counter, d: int, after_obs: _Obs | None, hook: str | None = None) -> Event:
    """The rule ``c`` decided ``d`` packets; placed after the first packet whose passage through
    ``hook`` (the hook a user chain such as DOCKER was reached from) it could match."""
    verdict = c.target if c.target in ("ACCEPT", "DROP", "REJECT") else None
    if c.chain in ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"):
        hook = c.chain
    what = "policy" if c.position.endswith(":policy") else c.position
    return Event(0, "netfilter", node, f"{what} {c.target} matched {d} packet(s): {c.text}",
                 rule=c.position, rule_text=c.text, verdict=verdict, hook=hook,
                 frame=after_obs.frame if after_obs else None,
                 packet_id=after_obs.pid if after_obs else None,
                 time=after_obs.rec.time if after_obs else 0.0)


def conntrack_entries(text: str) -> list[ConntrackEntry]:
    """``conntrack -L`` output as :func:`netlab.parse.parse_conntrack` reads it (the tool prints
    nothing on stdout for an empty table)."""
    if not text.strip():
        return []
    return parse_conntrack(text).conntrack_entries


def _ends(t: ConntrackTuple, proto: str) -> tuple[str, str, int | None, int | None]:
    """A tuple as (src, dst, sport, dport); an ICMP one's id stands for both ports."""
    if proto == "icmp":
        return (t.src, t.dst, t.icmp_id, t.icmp_id)
    return (t.src, t.dst, t.sport, t.dport)


def _entry_by_reply(entries: list[ConntrackEntry], f: Frame, reply: bool = False) -> ConntrackEntry | None:
    """The conntrack entry of the packet ``f``: for an original-direction packet already
    rewritten (``reply=False``) its reply tuple is ``f`` reversed; for a reply, ``f`` itself.
    None unless the entry shows a DNAT (the original destination differs from who answers)."""
    if f.proto in ("tcp", "udp"):
        key = (f.src, f.dst, f.sport, f.dport) if reply else (f.dst, f.src, f.dport, f.sport)
    elif f.proto == "icmp" and f.icmp_type in (0, 8):
        key = (f.src, f.dst, f.icmp_id, f.icmp_id) if reply else (f.dst, f.src, f.icmp_id, f.icmp_id)
    else:
        return None
    for e in entries:
        if e.proto == f.proto and _ends(e.reply, e.proto) == key:
            _osrc, odst, _osport, odport = _ends(e.orig, e.proto)
            if odst != key[0] or (f.proto != "icmp" and odport != key[2]):
                return e
            return None
    return None


def _dnat_by_rule(rules: list[tuple[ctr.Counter, int]], f: Frame) -> str | None:
    """The destination a DNAT rule whose counter grew sends ``f`` to (its ``--to-destination``)."""
    for c, _d in rules:
        opt = c.rule.target.option("--to-destination") if c.rule is not None and c.rule.target else None
        value = opt.value if opt is not None else c.nat_to
        if c.target != "DNAT" or not value:
            continue
        ip, _, port = value.partition(":")
        ip, port = ip.split("-")[0], port.split("-")[0] or (str(f.dport) if f.dport is not None else "")
        return ip if f.proto not in ("tcp", "udp") or not port else f"{ip}:{port}"
    return None


def _dnat_of(entries: list[ConntrackEntry], f: Frame) -> str | None:
    """Where conntrack says the original-direction packet ``f`` was DNATed to, if it was."""
    for e in entries:
        if e.proto != f.proto:
            continue
        src, dst, sport, dport = _ends(e.orig, e.proto)
        if src != f.src or dst != f.dst:
            continue
        if f.proto in ("tcp", "udp") and (sport != f.sport or dport != f.dport):
            continue
        rsrc, _rdst, rsport, _rdport = _ends(e.reply, e.proto)
        if rsrc == dst and (f.proto == "icmp" or rsport == dport):
            return None  # not DNATed
        return rsrc if f.proto == "icmp" else f"{rsrc}:{rsport}"
    return None


def _loopback_nat(lp: _Logical, original: bool, tracked: dict[str, list[ConntrackEntry]],
                  nat_rules: dict[str, list[tuple[ctr.Counter, int]]], cts: _Conntracks,
                  before_obs: dict[int, list[Event]]) -> bool:
    """A packet a node sends itself over ``lo`` (Docker's embedded DNS: 127.0.0.11:53 DNATed
    in nat OUTPUT to the resolver's port) is captured once, already rewritten: the kernel's
    conntrack entry gives the address it was sent to (OUTPUT) or the one its answer left from
    (the de-NAT in POSTROUTING).  True when ``lp`` was such a packet and is accounted for."""
    o = lp.obs[0]
    f, node = o.frame, o.rec.node
    if f.proto not in ("tcp", "udp") or any(x.rec.iface != "lo" or x.rec.node != node for x in lp.obs):
        return False
    entries = tracked.get(node, [])
    if original:
        entry = _entry_by_reply(entries, f)
        if entry is None:
            return False
        _s, odst, _sp, odport = _ends(entry.orig, entry.proto)
        ref = f.copy(dst=odst, dport=odport)
        conn = cts.connection(node, ref, True)
        b, a = _endpoint(ref, "dst"), _endpoint(f, "dst")
        rule = None
        if not conn.confirmed:
            rule = next((c for c, _d in nat_rules.get(node, []) if c.target in ("DNAT", "REDIRECT")
                         and _fits(c, ref, None)), None)
        if rule is not None:
            detail, fields = nat_fields("dst", b, a, rule=rule.position, kind=rule.target or "DNAT",
                                        related=_related(f))
            fields["rule_text"] = rule.text
        else:
            detail, fields = cts.rewrite(conn, "dst", b, a, True, f)
        hook = "OUTPUT"
    else:
        entry = next((e for e in entries if e.proto == f.proto
                      and _ends(e.orig, e.proto) == (f.dst, f.src, f.dport, f.sport)), None)
        if entry is None:
            return False
        rsrc, _rd, rsport, _rdp = _ends(entry.reply, entry.proto)
        b, a = f"{rsrc}:{rsport}", _endpoint(f, "src")
        if b == a:
            return False
        conn = cts.connection(node, f, False)
        detail, fields = cts.rewrite(conn, "src", b, a, False, f)
        hook = "POSTROUTING"
    before_obs.setdefault(id(o), []).append(Event(0, "nat", node, detail, hook=hook, frame=f, packet_id=lp.pid,
                                                  time=o.rec.time, **fields))
    cts.passed(conn, original)
    return True


def _number_by_creation(packets: list[_Logical]) -> list[_Logical]:
    """Number the packets in the order they were made, as the simulator does.

    A packet that needs its next hop's MAC waits while the kernel asks for it: the capture
    shows the ARP request first, but the packet made it.  So a packet that leaves a node on an
    interface right after that node's ARP request there (the first IP packet to leave after
    it, and one that existed by then or was made in that node) takes its number before the
    request's."""
    made = {lp.pid: lp.obs[0].rec.time_ns for lp in packets}
    for req in packets:
        first = req.obs[0]
        if req.key[0] != "arp" or first.frame.arp_op != 1 or first.rec.direction != "out":
            continue
        node, iface, t = first.rec.node, first.rec.iface, first.rec.time_ns
        waiting = min(((o.rec.time_ns, lp) for lp in packets if lp.key[0] != "arp" for o in lp.obs
                       if o.rec.node == node and o.rec.iface == iface and o.rec.direction == "out"
                       and o.rec.time_ns > t), default=None, key=lambda x: x[0])
        if waiting is not None and made[waiting[1].pid] > t:
            made[waiting[1].pid] = t - 1  # made (or routed here) before the request it caused
    order = sorted(packets, key=lambda lp: (made[lp.pid], lp.pid))
    for n, lp in enumerate(order, 1):
        lp.pid = n
        for o in lp.obs:
            o.pid = n
    return order


def build_journey(evidence: Evidence, probe: ProbeRecord, records: list[Record],
                  grown: dict[str, list[tuple[ctr.Counter, int]]], res: probes.ProbeResult,
                  src_node: str, tracked: dict[str, list[ConntrackEntry]] | None = None,
                  learnt: dict[str, list[tuple[str, ...]]] | None = None,
                  ct_next_id: dict[str, int] | None = None) -> Journey:
    """The Journey of a probe from its records, counter growth, conntrack, the bridges'
    newly learnt FDB entries and what the prober saw."""
    tracked = tracked or {}
    packets = _number_by_creation(_group(records))
    # the seen events, in time order, each followed by what happened to it in that node
    obs = sorted((o for lp in packets for o in lp.obs), key=lambda o: o.rec.time_ns)
    # (stable: copies seen at the same instant keep the kernel's order within a namespace)
    extra_after: dict[int, list[Event]] = {}

    before_obs: dict[int, list[Event]] = {}

    def add_after(o: _Obs, ev: Event) -> None:
        extra_after.setdefault(id(o), []).append(ev)

    nat_rules = {n: [(c, d) for c, d in g if c.table == "nat" and c.target in
                     ("DNAT", "SNAT", "MASQUERADE", "REDIRECT")] for n, g in grown.items()}
    first_ip = next((lp for lp in packets if lp.key[0] != "arp"), None)
    orig_src = first_ip.obs[0].frame.src if first_ip else probe["src_ip"]
    drops: list[Event] = []
    dnat_to: dict[int, str] = {}
    cts = _Conntracks(ct_next_id if ct_next_id is not None else {})
    ended_at: list[tuple[int, _Conn]] = []
    for lp in packets:
        if lp.key[0] == "arp":
            continue
        first = lp.obs[0].frame
        original = first.src == orig_src
        lo_done = _loopback_nat(lp, original, tracked, nat_rules, cts, before_obs)
        # NAT: entering a node with one address, leaving with another
        last: dict[str, _Obs] = {}
        for o in lp.obs:
            node = o.rec.node
            prev = last.get(node)
            last[node] = o
            if o.rec.direction == "in":
                continue
            ref = prev.frame if prev else None
            if ref is None and original:
                # sent by a local program: conntrack remembers the address it asked for (nat OUTPUT)
                entry = _entry_by_reply(tracked.get(node, []), o.frame)
                if entry is not None:
                    _osrc, odst, _osport, odport = _ends(entry.orig, entry.proto)
                    ref = o.frame.copy(dst=odst, dport=odport if o.frame.proto in ("tcp", "udp")
                                       else o.frame.dport)
            if ref is None:
                continue
            # which way the packet goes is the conntrack entry's to say (a hairpin's answer comes
            # from the prober's own address): a reply is, after de-NAT, the original turned round
            original = not cts.is_reply(node, o.frame)
            conn = cts.connection(node, ref if original else o.frame, original)
            fresh = original and not conn.confirmed  # only an unconfirmed entry's packet sees nat
            for side in ("dst", "src"):
                b, a = _endpoint(ref, side), _endpoint(o.frame, side)
                if b == a:
                    continue
                rule = None
                if fresh:
                    kind = "DNAT" if side == "dst" else "SNAT"
                    nat_targets = ("DNAT", "REDIRECT") if side == "dst" else ("SNAT", "MASQUERADE")
                    # the packet as the nat hook saw it: SNAT comes after the DNAT of PREROUTING
                    at_hook = ref if side == "dst" else ref.copy(dst=o.frame.dst, dport=o.frame.dport)
                    grown_nat = [c for c, _d in nat_rules.get(node, []) if c.target in nat_targets]
                    fitting = [c for c in grown_nat if _fits(c, at_hook, None if side == "dst" else o.rec.iface)]
                    if fitting or grown_nat:
                        rule = (fitting or grown_nat)[0]
                        kind = rule.target or kind
                else:
                    kind = ("DNAT" if side == "dst" else "SNAT") if original else "de-NAT"
                hook = "POSTROUTING" if side == "src" else ("PREROUTING" if prev else "OUTPUT")
                if not original:
                    hook = "PREROUTING" if side == "dst" else "POSTROUTING"
                if rule is not None:
                    detail, fields = nat_fields(side, b, a, rule=rule.position, kind=kind,
                                                related=_related(o.frame))
                    fields["rule_text"] = rule.text
                else:
                    detail, fields = cts.rewrite(conn, side, b, a, original, o.frame)
                ev = Event(0, "nat", node, detail, hook=hook, frame=o.frame, packet_id=lp.pid,
                           time=o.rec.time, **fields)
                if prev is not None:
                    add_after(prev, ev)
                else:
                    before_obs.setdefault(id(o), []).append(ev)
            cts.passed(conn, original)  # it left the node: conntrack confirmed the entry
        # where the packet ended
        end = lp.obs[-1]
        if original and not lo_done and end.rec.direction == "in" and first.proto in ("tcp", "udp", "icmp"):
            # DNATed, then dropped or delivered here: no copy leaves to show the new address,
            # but the kernel's conntrack entry records it
            rewritten = _dnat_of(tracked.get(end.rec.node, []), end.frame)
            if rewritten is None:  # dropped before conntrack confirmed it: the DNAT rule's counter
                rewritten = _dnat_by_rule(nat_rules.get(end.rec.node, []), end.frame)
            if rewritten is not None:
                dnat_to[lp.pid] = rewritten.split(":")[0]
                b = _endpoint(end.frame, "dst")
                conn = cts.connection(end.rec.node, end.frame, True)
                rule_c = None if conn.confirmed else next(
                    (c for c, _ in nat_rules.get(end.rec.node, []) if c.target in ("DNAT", "REDIRECT")), None)
                ended_at.append((lp.pid, conn))
                if rule_c is not None:
                    detail, fields = nat_fields("dst", b, rewritten, rule=rule_c.position, kind=rule_c.target,
                                                related=_related(end.frame))
                    fields["rule_text"] = rule_c.text
                else:
                    detail, fields = cts.rewrite(conn, "dst", b, rewritten, True, end.frame)
                add_after(end, Event(0, "nat", end.rec.node, detail, hook="PREROUTING", frame=end.frame,
                                     packet_id=lp.pid, time=end.rec.time, **fields))
        if not original and not lo_done and end.rec.direction == "in" and first.proto in ("tcp", "udp", "icmp"):
            # a reply delivered here to a locally DNATed connection gets its source back in INPUT
            entry = _entry_by_reply(tracked.get(end.rec.node, []), end.frame, reply=True)
            if entry is not None:
                _s, odst, _sp, odport = _ends(entry.orig, entry.proto)
                want = end.frame.copy(src=odst, sport=odport if first.proto in ("tcp", "udp")
                                      else end.frame.sport)
                b, a = _endpoint(end.frame, "src"), _endpoint(want, "src")
                if b != a and end.frame.dst in _local_ips(evidence, end.rec.node):
                    conn = cts.connection(end.rec.node, want, False)
                    detail, fields = cts.rewrite(conn, "src", b, a, False, end.frame)
                    add_after(end, Event(0, "nat", end.rec.node, detail, hook="INPUT", frame=end.frame,
                                         packet_id=lp.pid, time=end.rec.time, **fields))
                    cts.passed(conn, False)
        if end.rec.direction == "in":
            node = end.rec.node
            dst = dnat_to.get(lp.pid, end.frame.dst or "")
            local = dst in _local_ips(evidence, node) or ipaddress.IPv4Address(dst).is_loopback
            refusal = _refusal(packets, lp, node) if local else None
            dropper = _dropping_rule(grown.get(node, []))
            if (end.frame.ttl or 0) <= 1 and not local and evidence.forwarding.get(node, True) and dropper is None:
                why_dropped: tuple[str, str | None] | None = ("TTL exceeded", None)
            elif dropper is not None and not refusal:
                why_dropped = dropper
            elif local:
                why_dropped = None
            else:
                why_dropped = _drop_reason(evidence, node, grown.get(node, []))
            if why_dropped is None or refusal:  # it passed INPUT: conntrack confirmed its entry
                for pid, conn in ended_at:
                    if pid == lp.pid:
                        cts.passed(conn, True)
            if refusal:
                ev = Event(0, "drop", node, f"no listener in {node} on {_endpoint(end.frame, 'dst')}: "
                           f"answered with {refusal}", reason="no listener", frame=end.frame,
                           packet_id=lp.pid, time=end.rec.time)
                add_after(end, ev)
                drops.append(ev)
            elif why_dropped is None:
                add_after(end, Event(0, "deliver", node, f"delivered to {node} ({_endpoint(end.frame, 'dst')})",
                                     frame=end.frame, packet_id=lp.pid, time=end.rec.time))
            else:
                ev = Event(0, "drop", node, f"dropped in {node}: {why_dropped[0]}", reason=why_dropped[0],
                           rule=why_dropped[1], frame=end.frame, packet_id=lp.pid, time=end.rec.time,
                           verdict="DROP")
                add_after(end, ev)
                drops.append(ev)

    # a bridge learnt where a MAC lives: after the first frame from that MAC entering that port
    for node, entries in (learnt or {}).items():
        for mac, port, bridge in entries:
            first_in = next((o for o in obs if o.rec.node == node and o.rec.iface == port
                             and o.rec.direction == "in" and o.frame.src_mac == mac), None)
            if first_in is not None:
                add_after(first_in, Event(0, "fdb", node, f"{bridge} learnt {mac} is behind {port}",
                                          iface=port, bridge=bridge, frame=first_in.frame, packet_id=first_in.pid,
                                          time=first_in.rec.time))

    # the rules that decided, from their counters: each placed after the first packet of the
    # probe that passed the rule's hook in that node with the rule's interfaces and state
    for node, g in grown.items():
        # rules that accepted, dropped or rejected, and DROP policies (an ACCEPT policy's counter
        # also grows with the kernel's own housekeeping traffic, so it tells nothing here)
        decisive = [(c, d) for c, d in g if c.table in ("filter", "raw") and
                    (c.target in ("DROP", "REJECT") or
                     (c.target == "ACCEPT" and not c.position.endswith(":policy")))]
        if not decisive:
            continue
        masters = {i.name: i.master for i in evidence.scenario.node(node).interfaces if i.master} \
            if node in evidence.scenario.nodes else {}
        passages = _passages(packets, node, first_ip, masters)
        for c, d in decisive:
            found = next(((o, hook) for o, hook, i, out, state in passages
                          if _could_match(c, hook, i, out, state, o.frame)),
                         (passages[0][0], None) if passages else None)
            if found is not None:
                add_after(found[0], _rule_event(node, c, d, found[0], found[1]))

    steps: list[Event] = []
    src_frame = packets[0].obs[0] if packets else None
    steps.append(Event(0, "send", src_node, f"{probe['kind']} from {src_node} to {probe['dst_ip']}"
                       + (f":{probe['dport']}" if probe.get("dport") else ""),
                       time=src_frame.rec.time if src_frame else 0.0))
    for o in obs:
        steps.extend(before_obs.pop(id(o), []))
        f = o.frame
        steps.append(Event(0, "seen", o.rec.node, f"{o.rec.direction:3s} {f.summary()}", iface=o.rec.iface,
                           direction=o.rec.direction, frame=f, packet_id=o.pid, time=o.rec.time))
        steps.extend(extra_after.pop(id(o), []))
    for i, e in enumerate(steps, 1):
        e.seq = i

    if res.no_route:
        ev = Event(len(steps) + 1, "drop", src_node, f"connect/send: no route to {probe['dst_ip']} (ENETUNREACH)",
                   reason="network is unreachable (no route: ENETUNREACH)")
        steps.append(ev)
        drops.insert(0, ev)
    replies = [o.frame for o in obs if o.rec.node == src_node and o.rec.direction == "in"
               and (o.frame.dst == probe["src_ip"] or (o.frame.proto == "arp" and o.frame.arp_op == 2))]
    if res.answered:
        outcome, reason = "answered", None
    elif res.refused:
        outcome, reason = "rejected", res.error
    elif drops:
        outcome, reason = "dropped", drops[0].reason
    else:
        outcome, reason = "timeout", res.error
    j = Journey(probe=probe, steps=steps, outcome=outcome, reason=reason, mode="lab", replies=replies)
    j.probe["result"] = res.replies
    j.result = dict(res.info or {})
    if res.hops:
        j.probe["hops"] = res.hops
    j.capture = to_capture(records, {i: f"{r.node} {r.iface} {r.direction}" for i, r in enumerate(records)})
    return j


def _passages(packets: list[_Logical], node: str, first_ip: _Logical | None,
              masters: dict[str, str] | None = None) -> list[tuple[_Obs, str, str | None, str | None, str]]:
    """How each IPv4 packet of the probe went through ``node``: (its first copy there, hook,
    in-interface, out-interface, conntrack state), in order.  A bridge port stands for its
    bridge (``masters``): iptables sees a bridged frame (br_netfilter) on the bridge device."""
    masters = masters or {}
    out = []
    for lp in packets:
        if lp.key[0] == "arp":
            continue
        here = [o for o in lp.obs if o.rec.node == node]
        if not here:
            continue
        ins = [o for o in here if o.rec.direction == "in"]
        outs = [o for o in here if o.rec.direction == "out"]
        in_if = ins[-1].rec.iface if ins else None  # a bridge port, then the bridge: the bridge
        if outs and ins and ins[0].rec.time_ns > outs[0].rec.time_ns:
            in_if = None
        out_if = outs[0].rec.iface if outs else None
        in_if = masters.get(in_if, in_if) if in_if else None
        out_if = masters.get(out_if, out_if) if out_if else None
        hook = "FORWARD" if in_if and out_if else ("INPUT" if in_if else "OUTPUT")
        f = here[0].frame
        state = ("RELATED" if f.proto == "icmp" and f.icmp_type in (3, 11)
                 else "NEW" if lp is first_ip else "ESTABLISHED")
        out.append((here[0], hook, in_if, out_if, state))
    return out


def _could_match(c: ctr.Counter, hook: str, in_if: str | None, out_if: str | None, state: str,
                 f: Frame | None = None) -> bool:
    """Whether rule ``c``'s interface and conntrack-state conditions allow this passage."""
    if c.chain in ("INPUT", "FORWARD", "OUTPUT") and c.chain != hook:
        return False
    if c.chain not in ("INPUT", "FORWARD", "OUTPUT", "PREROUTING") and hook != "FORWARD":
        return False  # Docker's own chains hang off FORWARD
    if c.rule is None or f is None or f.proto == "arp":
        return True
    return _holds(c.rule, f, hook=hook, in_if=in_if, out_if=out_if, state=state,
                  parts=frozenset({"iface", "state"}))


def _refusal(packets: list[_Logical], lp: _Logical, node: str) -> str | None:
    """The RST or ICMP port-unreachable ``node`` sent back for ``lp``, if any."""
    f = lp.obs[-1].frame
    for other in packets[lp.pid:]:
        o = other.obs[0]
        g = o.frame
        if o.rec.node != node or o.rec.direction != "out":
            continue
        if f.proto == "tcp" and g.proto == "tcp" and "R" in (g.flags or "") and g.sport == f.dport \
                and g.dport == f.sport:
            return "a TCP RST"
        if g.proto == "icmp" and g.icmp_type == 3 and g.icmp_code == 3 and g.quoted is not None \
                and g.quoted.dst == f.dst and g.quoted.proto == f.proto:
            return "ICMP port unreachable"
    return None


def _dropping_rule(grown: list[tuple[ctr.Counter, int]]) -> tuple[str, str] | None:
    """The DROP/REJECT rule or DROP policy whose counter grew in a node, if any."""
    for c, _d in grown:
        if c.target in ("DROP", "REJECT") and not c.position.endswith(":policy"):
            return f"rule {c.position} ({c.text})", c.position
    for c, _d in grown:
        if c.position.endswith(":policy") and c.target == "DROP":
            return f"policy DROP of {c.table}:{c.chain}", c.position
    return None


def _drop_reason(evidence: Evidence, node: str, grown: list[tuple[ctr.Counter, int]]) -> tuple[str, str | None]:
    for c, _d in grown:
        if c.table == "filter" and c.target in ("DROP", "REJECT") and not c.position.endswith(":policy"):
            return f"rule {c.position} ({c.text})", c.position
    for c, _d in grown:
        if c.table == "filter" and c.position.endswith(":policy") and c.target == "DROP":
            return f"policy DROP of {c.table}:{c.chain}", c.position
    for c, _d in grown:
        if c.table == "raw" and c.target == "DROP":
            return f"rule {c.position} ({c.text})", c.position
    if not evidence.forwarding.get(node, True):
        return "ip_forward off", None
    return "no route or not accepted (no counter grew)", None
