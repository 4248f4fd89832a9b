"""A veth pair is a cable: what one end transmits, the other end receives
(lesson 2).  The frame is unchanged; it crosses into the peer's namespace and is
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
    k.net.schedule(pk.netif_rcv, peer_if, skb.clone())
