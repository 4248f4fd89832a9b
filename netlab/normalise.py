"""The normalisation behind :meth:`netlab.journey.Journey.signature`: what the
simulator and the real kernel must agree on, with what the kernel randomises
taken out.

Kept: for every packet seen, in order — node, interface, direction, the MAC
*owners* (``"host:docker0"``, not the random MAC), addresses, protocol,
well-known ports, TTL, TCP flags, ICMP type/code, ARP operation and addresses;
every NAT rewrite (node, hook, before → after), placed just before the next
non-ARP packet seen in that node (a capture cannot tell whether the rewrite
happened before or after the ARP exchange the packet waited for); the outcome.
A RELATED rewrite of a packet the node itself generated (REJECT's answer, an
ICMP error about a NATed packet) is left out: no capture shows that packet
before the rewrite, only after it.  A copy of a flooded ARP request received at the far end of a veth is placed
right after the port that sent it (see ``_settle_flood_copies``).
Replaced: ephemeral ports and ICMP ids by roles in order of first appearance
(``"eph1"``, ``"id1"``).  Dropped: sequence numbers, IP IDs, timestamps,
payload bytes.
"""

from __future__ import annotations

import re
from typing import Any

EPHEMERAL_LOW = 1024  # a port at or above this that the probe did not name is ephemeral
TRACEROUTE_PORTS = range(33434, 33434 + 3 * 64)
_HOSTPORT = re.compile(r"^(?P<ip>[0-9.]+)(?::(?P<port>\d+))?$")


class _Roles:
    def __init__(self, fixed: set[int]) -> None:
        self.fixed = fixed
        self.ports: dict[int, str] = {}
        self.ids: dict[int, str] = {}

    def port(self, p: int | None) -> Any:
        if p is None or p < EPHEMERAL_LOW or p in self.fixed:
            return p
        if p not in self.ports:
            self.ports[p] = f"eph{len(self.ports) + 1}"
        return self.ports[p]

    def ident(self, i: int | None) -> Any:
        if i is None:
            return None
        if i not in self.ids:
            self.ids[i] = f"id{len(self.ids) + 1}"
        return self.ids[i]

    def hostport(self, text: str | None) -> Any:
        if not text:
            return text
        if " quoting " in text:  # an ICMP error: its own address and the quoted packet's
            outer, _, inner = text.partition(" quoting ")
            return f"{self.hostport(outer)} quoting {self.hostport(inner)}"
        m = _HOSTPORT.fullmatch(text.strip())
        if not m:
            return text
        port = m.group("port")
        if port is None:
            return m.group("ip")
        return f"{m.group('ip')}:{self.port(int(port))}"


def _mac(mac: str | None, owners: dict[str, str]) -> str | None:
    if mac is None:
        return None
    mac = mac.lower()
    if mac == "ff:ff:ff:ff:ff:ff":
        return "broadcast"
    if mac == "00:00:00:00:00:00":
        return "zero"
    return owners.get(mac, "unknown-mac")


def _frame_sig(f: Any, owners: dict[str, str], roles: _Roles) -> tuple:
    if f is None:
        return ()
    if f.proto == "arp":
        return ("arp", _mac(f.src_mac, owners), _mac(f.dst_mac, owners), f.arp_op,
                f.arp_sender_ip, f.arp_target_ip)
    quoted = None
    if f.quoted is not None:
        q = f.quoted
        quoted = (q.proto, q.src, roles.port(q.sport), q.dst, roles.port(q.dport), q.ttl)
    if f.proto == "icmp":
        ident = roles.ident(f.icmp_id) if f.icmp_type in (0, 8) else None
        return ("icmp", _mac(f.src_mac, owners), _mac(f.dst_mac, owners), f.src, f.dst, f.ttl,
                f.icmp_type, f.icmp_code, ident, f.icmp_seq if f.icmp_type in (0, 8) else None,
                quoted)
    return (f.proto, _mac(f.src_mac, owners), _mac(f.dst_mac, owners), f.src, roles.port(f.sport),
            f.dst, roles.port(f.dport), f.ttl, f.flags)


def journey_signature(journey: Any) -> list[tuple]:
    """The journey as a list of comparable tuples (see the module docstring)."""
    probe = journey.probe or {}
    owners = {k.lower(): v for k, v in (probe.get("mac_owner") or {}).items()}
    fixed: set[int] = set()
    if probe.get("dport"):
        fixed.add(int(probe["dport"]))
    if probe.get("kind") == "traceroute":
        fixed.update(TRACEROUTE_PORTS)
        # the probes' own source port is ephemeral even when the kernel happened to
        # pick one inside the destination-port range (33434...)
        first = next((e.frame for e in journey.steps if e.kind == "seen" and e.frame is not None
                      and e.frame.proto == "udp"), None)
        if first is not None and first.sport is not None:
            fixed.discard(first.sport)
    roles = _Roles(fixed)
    sig: list[tuple] = []
    held: list[tuple[str, tuple]] = []  # NAT rewrites waiting for their packet's next sighting
    seen_ids: set[Any] = set()
    for e in journey.steps:
        if e.kind == "seen" and e.packet_id is not None:
            seen_ids.add(e.packet_id)
        if e.kind == "nat" and e.packet_id is not None and e.packet_id not in seen_ids and e.related:
            continue  # a node's own REJECT answer or ICMP error, rewritten before any wire saw it
        if e.kind == "seen":
            f = e.frame
            if held and f is not None and f.proto != "arp":
                for node, item in list(held):
                    if node == e.node:
                        sig.append(item)
                held = [(n, i) for n, i in held if n != e.node]
            sig.append(("seen", e.node, e.iface, e.direction, *_frame_sig(f, owners, roles)))
        elif e.kind == "nat":
            held.append((e.node, ("nat", e.node, e.hook, roles.hostport(e.before),
                                  roles.hostport(e.after))))
    sig.extend(item for _, item in held)
    sig = _settle_flood_copies(sig, getattr(journey, "scenario", None))
    sig.append(("outcome", journey.outcome))
    return sig


def _settle_flood_copies(sig: list[tuple], scenario: Any) -> list[tuple]:
    """Each copy of a flooded (broadcast) ARP request, as received at the far end of
    a veth, placed right after the bridge port that sent it.

    A bridge sends such a frame out of every port in one loop and passes it up to
    itself; whether a receiving namespace stamps its copy before the loop reaches
    the next port depends on the receive queues and their timestamps, not on the
    packet (the kernel is not repeatable here).  The copy cannot be seen before its
    port sent it, and whatever the receiver answers comes after it, so that is the
    one place both backends can agree on."""
    if scenario is None or not hasattr(scenario, "peer"):
        return sig
    out = list(sig)
    for i in range(len(out)):  # a copy only moves earlier: later positions keep their turn
        item = out[i]
        if not (item[0] == "seen" and item[3] == "in" and len(item) > 6 and item[4] == "arp"
                and item[6] == "broadcast"):
            continue
        peer = scenario.peer(item[1], item[2])
        if peer is None:
            continue
        sent = ("seen", *peer, "out", *item[4:])
        j = max((k for k in range(i) if out[k] == sent), default=None)
        if j is None or j + 1 == i:
            continue
        out.pop(i)
        out.insert(j + 1, item)
    return out
