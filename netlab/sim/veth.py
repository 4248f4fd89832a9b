"""A veth pair is a cable: what one end transmits, the other end receives
(lesson 2).  A pair carries frames only while both ends are up (``ip link set
X down`` on either end stops it: the other end shows NO-CARRIER).  The frame is unchanged; it crosses into the peer's namespace and is
received there on the next tick of the sim clock (the kernel's ``netif_rx``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from netlab.sim.kernel import Iface, Kernel, Skb


def veth_xmit(k: Kernel, iface: Iface, skb: Skb) -> None:
    """Hand ``skb`` to the other end of ``iface``'s wire."""
    if iface.peer is None:
        k.net.rec("drop", k.name, f"{iface.name} has no peer (cable unplugged)", iface=iface.name,
                  reason="no carrier", skb=skb, final=False)
        return
    peer_node, peer_if = iface.peer
    pk = k.net.kernels[peer_node]
    if not iface.up:  # `ip link set X down`: the device sends nothing (dev_queue_xmit: -ENETDOWN)
        k.net.rec("drop", k.name, f"{iface.name} is down", iface=iface.name, reason="link down",
                  skb=skb, final=False)
        return
    peer = pk.ifaces.get(peer_if)
    if peer is not None and not peer.up:  # veth_xmit: a peer that is down drops (tx_dropped)
        k.net.rec("drop", k.name, f"{iface.name}: its peer {peer_node}:{peer_if} is down (NO-CARRIER)",
                  iface=iface.name, reason="no carrier", skb=skb, final=False)
        return
    k.net.schedule(pk.netif_rcv, peer_if, skb.clone())
