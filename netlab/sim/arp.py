"""Neighbour resolution (ARP), as a capture shows it: the first packet to a new
next hop waits in the neighbour's queue while a broadcast "who-has" goes out; the
owner answers with a unicast "is-at" and learns the asker in passing (so its own
reply needs no ARP); the queued packet then leaves with the learnt MAC.
Unanswered requests are repeated every second, three times, then the queued
packets are dropped with ICMP host unreachable to their sender (a local sender
gets it through ``lo``: ping's "Destination Host Unreachable", connect's
EHOSTUNREACH).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from netlab.packet import ETH_ARP, Frame

if TYPE_CHECKING:  # pragma: no cover
    from netlab.sim.kernel import Kernel, Skb

BROADCAST = "ff:ff:ff:ff:ff:ff"
ZERO_MAC = "00:00:00:00:00:00"
RETRANS_TIME = 1.0  # net.ipv4.neigh.*.retrans_time_ms / 1000
MCAST_SOLICIT = 3
REACHABLE_TIME = 30.0  # base_reachable_time (the kernel picks 15–45 s at random)
DELAY_FIRST_PROBE = 5.0  # delay_first_probe_time


@dataclass
class Neigh:
    """One entry of ``ip neigh``."""

    ip: str
    dev: str
    mac: str | None = None
    state: str = "INCOMPLETE"  # INCOMPLETE REACHABLE STALE FAILED PERMANENT
    updated: float = 0.0
    probes: int = 0
    queue: list = field(default_factory=list)

    def usable(self, now: float) -> bool:
        """A MAC to send to (a STALE entry is used as is: small tables are never
        garbage-collected, and the kernel re-checks it with a unicast probe later)."""
        if self.mac is None or self.state in ("INCOMPLETE", "FAILED"):
            return False
        if self.state == "REACHABLE" and now - self.updated > REACHABLE_TIME:
            self.state = "STALE"
        return True


def use_entry(k: Kernel, n: Neigh) -> None:
    """Sending through a STALE entry: it goes to DELAY, and 5 s later, unless
    confirmed, to PROBE with a unicast ARP request to the cached MAC."""
    if n.state == "STALE":
        n.state = "DELAY"
        k.net.schedule(_delay_timer, k, n.dev, n.ip, n.updated, delay=DELAY_FIRST_PROBE)


def _delay_timer(k: Kernel, dev: str, ip: str, updated: float) -> None:
    from netlab.sim.kernel import Skb

    n = k.neigh.get((dev, ip))
    if n is None or n.state != "DELAY" or n.updated != updated or n.mac is None:
        return
    n.state = "PROBE"
    iface = k.ifaces[dev]
    saddr = k.select_addr(dev, ip) or "0.0.0.0"
    f = arp_frame(1, iface.mac, n.mac, saddr, ip)
    out = Skb(f, k.net.new_pid())
    k.net.rec("arp", k.name, f"{ip} on {dev} unconfirmed for {DELAY_FIRST_PROBE:g} s: unicast ARP "
              f"probe to {n.mac}", iface=dev, skb=out)
    k.xmit(dev, out)


def arp_frame(op: int, src_mac: str, dst_mac: str, sender_ip: str, target_ip: str,
              target_mac: str = ZERO_MAC) -> Frame:
    return Frame(src_mac=src_mac, dst_mac=dst_mac, ethertype=ETH_ARP, proto="arp", arp_op=op,
                 arp_sender_mac=src_mac, arp_sender_ip=sender_ip, arp_target_mac=target_mac,
                 arp_target_ip=target_ip)


def solicit(k: Kernel, dev: str, target: str, skb: Skb | None) -> None:
    """Broadcast "who-has ``target``" on ``dev`` (``arp_solicit``)."""
    from netlab.sim.kernel import Skb

    n = k.neigh[(dev, target)]
    iface = k.ifaces[dev]
    saddr = None
    if skb is not None and skb.f.src in k.local_ips:
        saddr = skb.f.src  # arp_announce=0: the packet's own source if it is ours
    if saddr is None:
        saddr = k.select_addr(dev, target)
    n.probes += 1
    f = arp_frame(1, iface.mac, BROADCAST, saddr or "0.0.0.0", target)
    out = Skb(f, k.net.new_pid())
    k.net.rec("arp", k.name, f"{target} unknown on {dev}: ARP request who-has {target} tell {saddr}"
              f" (attempt {n.probes})", iface=dev, skb=out)
    k.xmit(dev, out)
    k.net.schedule(_retry, k, dev, target, delay=RETRANS_TIME)


def _retry(k: Kernel, dev: str, target: str) -> None:
    n = k.neigh.get((dev, target))
    if n is None or n.state != "INCOMPLETE":
        return
    if n.probes < MCAST_SOLICIT:
        solicit(k, dev, target, n.queue[0] if n.queue else None)
        return
    n.state = "FAILED"
    queued, n.queue = n.queue, []
    for s in queued:
        k.net.rec("drop", k.name, f"no ARP reply from {target} on {dev}: neighbour FAILED",
                  iface=dev, reason=f"neighbour {target} unreachable (no ARP reply)", skb=s)
        # ipv4_link_failure: ICMP host unreachable to the sender — over the wire for a
        # forwarded packet, through ``lo`` to this node's own socket for a local one
        k.icmp_error(s, 3, 1)
    del k.neigh[(dev, target)]


def arp_rcv(k: Kernel, dev: str, skb: Skb) -> None:
    """Answer requests for our addresses, learn from requests and replies."""
    f = skb.f
    now = k.net.now
    sip, smac = f.arp_sender_ip or "", f.arp_sender_mac or ""
    if f.arp_op == 1:
        tip = f.arp_target_ip or ""
        if tip in k.local_ips and not tip.startswith("127."):
            from netlab.sim.kernel import Skb  # here: most requests a flood brings are not for us

            _learn(k, dev, sip, smac, "STALE", now)  # neigh_event_ns: the asker is learnt
            iface = k.ifaces[dev]
            reply = arp_frame(2, iface.mac, smac, tip, sip, target_mac=smac)
            out = Skb(reply, k.net.new_pid())
            k.net.rec("arp", k.name, f"ARP request for our {tip}: reply {tip} is-at {iface.mac}"
                      f" (and learn {sip} is-at {smac})", iface=dev, skb=out)
            k.xmit(dev, out)
        elif (dev, sip) in k.neigh:
            _learn(k, dev, sip, smac, "STALE", now)
        return
    watch = k.net.arp_watch
    if f.arp_op == 2 and watch is not None and watch[0] == k.name and watch[2] == sip:
        watch[3].answered = True
        watch[3].replies.append(f)
    if f.arp_op == 2 and (dev, sip) in k.neigh:
        if f.dst_mac != k.ifaces[dev].mac and f.arp_target_ip not in k.local_ips:
            return
        k.net.rec("arp", k.name, f"ARP reply: {sip} is-at {smac}", iface=dev, skb=skb)
        _learn(k, dev, sip, smac, "REACHABLE", now)


def _learn(k: Kernel, dev: str, ip: str, mac: str, state: str, now: float) -> None:
    n = k.neigh.get((dev, ip))
    if n is None:
        n = k.neigh[(dev, ip)] = Neigh(ip, dev)
        k.net.unsettled[k.name] = k
    if n.state == "PERMANENT":
        return
    if state == "STALE" and n.mac == mac and n.state in ("REACHABLE", "DELAY", "PROBE"):
        return  # the same address again: nothing new (neigh_update keeps the state)
    n.mac, n.updated = mac, now
    n.state = state
    if n.queue:
        queued, n.queue = n.queue, []
        for s in queued:
            s.f.dst_mac = mac
            k.xmit(dev, s)
