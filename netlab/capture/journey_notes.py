"""Pre-annotation from a journey: what happened to each captured packet, and where.

Each "seen" event of a :class:`~netlab.journey.Journey` is matched to the packet
of the capture seen on the same interface with the same headers.  The packet
then gets its hop (``"3 host:docker0 out"``), the netfilter hooks it went
through since the previous hop, the rules that acted, and a comment a learner
reads (the NAT rewrite, the accept, the delivery or the drop).  Lesson 6 uses it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from netlab.capture.fast import P_ARP, P_ICMP, P_TCP, P_UDP
from netlab.packet import flags_to_int

if TYPE_CHECKING:  # pragma: no cover
    from netlab.capture.core import Capture
    from netlab.packet import Frame


def _ip(text: str | None) -> int:
    if not text:
        return -1
    a, b, c, d = (int(x) for x in text.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _frame_key(f: Frame) -> tuple:
    proto = {"tcp": P_TCP, "udp": P_UDP, "icmp": P_ICMP, "arp": P_ARP}.get(f.proto, -9)
    if f.proto == "arp":
        return (proto, f.arp_op, _ip(f.arp_sender_ip), _ip(f.arp_target_ip))
    key: tuple[int | None, ...] = (proto, _ip(f.src), _ip(f.dst), f.sport if f.sport is not None else -1,
           f.dport if f.dport is not None else -1)
    if f.proto == "tcp":
        key += (flags_to_int(f.flags or ""), f.seq or 0, f.ack or 0)
    if f.proto == "icmp":
        key += (f.icmp_type, f.icmp_id if f.icmp_id is not None else -1)
    return key


def _packet_key(cap: Capture, i: int) -> tuple:
    c = cap._cols
    p = int(c.proto[i])
    if p == P_ARP:
        return (p, int(c.arp_op[i]), int(c.arp_spa[i]), int(c.arp_tpa[i]))
    key: tuple[int, ...] = (p, int(c.v4src[i]), int(c.v4dst[i]), int(c.sport[i]), int(c.dport[i]))
    if p == P_TCP:
        key += (int(c.flags[i]), int(c.seq[i]), int(c.ack[i]))
    if p == P_ICMP:
        key += (int(c.icmp_type[i]), int(c.icmp_id[i]))
    return key


def _node_of(netns: str) -> str:
    """The node a namespace is: ``nl1a2b3c-app-web-1`` -> ``app-web-1`` (sim: the name itself)."""
    from netlab.scenarios.names import NETNS_RE

    m = NETNS_RE.fullmatch(netns)
    return m.group(2) if m else netns


def match_events(cap: Capture, journey: Any) -> dict[int, int]:
    """{event seq: packet number}: each "seen" event with a frame, matched in order to the
    first unused packet on the same namespace/interface with the same headers."""
    by_place: dict[tuple, list[int]] = defaultdict(list)
    by_node: dict[tuple, list[int]] = defaultdict(list)  # lab namespaces are "<prefix>-<node>"
    by_iface: dict[tuple, list[int]] = defaultdict(list)
    names = [(it.namespace, it.name) for it in cap._raw.interfaces]
    ifaces = cap._raw.ifaces.tolist()
    for i in range(len(cap)):
        ns, name = names[ifaces[i]]
        key = _packet_key(cap, i)
        by_place[(ns, name, key)].append(i + 1)
        by_node[(_node_of(ns), name, key)].append(i + 1)
        by_iface[(name, key)].append(i + 1)
    used: set[int] = set()
    out: dict[int, int] = {}
    for e in journey.steps:
        if e.kind != "seen" or e.frame is None:
            continue
        key = _frame_key(e.frame)
        for pool in (by_place.get((e.node, e.iface, key), []),
                     by_node.get((e.node, e.iface, key), []), by_iface.get((e.iface, key), [])):
            hit = next((n for n in pool if n not in used), None)
            if hit is not None:
                used.add(hit)
                out[e.seq] = hit
                break
    return out


def _describe(e: Any) -> str:
    if e.kind == "nat":
        what = e.detail or f"{e.before} → {e.after}"
        return what + (f" ({e.rule})" if e.rule and e.rule not in what else "")
    if e.kind == "netfilter":
        verdict = e.verdict or ""
        return f"{e.hook} {verdict} by {e.rule}".strip() if e.rule else f"{e.hook} {verdict}".strip()
    return e.detail


def annotate_from(cap: Capture, journey: Any) -> dict[int, int]:
    """Write hop, hook, rule (and a comment, where the learner has none) on matched packets."""
    matches = match_events(cap, journey)
    steps = list(journey.steps)
    groups: dict[Any, list[int]] = defaultdict(list)  # packet id -> indexes into steps
    for k, e in enumerate(steps):
        groups[e.packet_id].append(k)
    with cap.batch():
        for pid, idxs in groups.items():
            seen = [k for k in idxs if steps[k].kind == "seen"]
            for hop, k in enumerate(seen, start=1):
                e = steps[k]
                number = matches.get(e.seq)
                if number is None:
                    continue
                prev = seen[hop - 2] if hop > 1 else -1
                between = [steps[j] for j in idxs if prev < j < k]
                after = ([steps[j] for j in idxs if j > k] if hop == len(seen) else [])
                hooks = list(dict.fromkeys(s.hook for s in between if s.hook))
                rules = list(dict.fromkeys(s.rule for s in between + after if s.rule
                                           and s.kind in ("netfilter", "nat", "drop")))
                where = f"{e.node}:{e.iface}" + (f" {e.direction}" if e.direction else "")
                said = [_describe(s) for s in between
                        if s.kind in ("nat", "drop") or (s.kind == "netfilter" and s.rule)]
                said += [("then " + _describe(s)) for s in after
                         if s.kind in ("nat", "deliver", "drop")
                         or (s.kind == "netfilter" and s.rule)]
                text = f"hop {hop} of packet {pid}, seen at {where}" if pid is not None else \
                    f"hop {hop}, seen at {where}"
                if said:
                    text += ": " + "; ".join(said)
                existing = cap.annotations.get(number)
                cap.annotate(number, comment=None if existing and existing.comment else text,
                             hop=f"{hop} {where}", hook=", ".join(hooks), rule=", ".join(rules))
    return matches
