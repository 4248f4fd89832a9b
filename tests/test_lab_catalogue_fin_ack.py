"""The sim-vs-kernel comparison lays aside one piece of kernel timing: a bare ACK of a FIN
sent just before the node's own FIN (the kernel folds it into the FIN when the program
closes fast enough)."""

from __future__ import annotations

import dataclasses

import netlab as nl
from netlab.lab.catalogue import packet_order, without_lone_fin_acks


def _with_lone_ack(journey):
    """The journey as a busy kernel makes it: web ACKs the client's FIN, then sends its FIN."""
    fin = next(e for e in journey.steps if e.kind == "seen" and e.node == "web"
               and e.direction == "out" and e.frame.proto == "tcp" and "F" in e.frame.flags)
    n = fin.packet_id  # the ACK takes the FIN's number; the FIN and later packets move up one
    later = [dataclasses.replace(e, packet_id=e.packet_id + 1)
             if e.packet_id is not None and e.packet_id >= n else e for e in journey.steps]
    copies = [dataclasses.replace(e, frame=dataclasses.replace(e.frame, flags="A"))
              for e in journey.steps if e.packet_id == n and e.kind == "seen"]
    at = journey.steps.index(fin)
    steps = later[:at] + copies + later[at:]
    return dataclasses.replace(journey, steps=steps)


def test_a_lone_ack_before_the_fin_is_laid_aside():
    sim = nl.connect(mode="sim", quiet=True)
    j = sim.probe("tcp", src="client", dst="192.168.56.38", dport=80)  # the client closes first
    busy = _with_lone_ack(j)
    assert packet_order(busy) != packet_order(j) and busy.signature() != j.signature()
    settled = without_lone_fin_acks(busy)
    assert packet_order(settled) == packet_order(j) and settled.signature() == j.signature()
    assert without_lone_fin_acks(j) is j  # nothing to lay aside: the same journey


def test_an_ack_that_is_not_followed_by_a_fin_stays():
    sim = nl.connect(mode="sim", quiet=True)
    j = sim.probe("tcp", src="client", dst="192.168.56.38", dport=80)  # the client closes first
    acks = [e.packet_id for e in j.steps if e.kind == "seen" and e.frame is not None
            and e.frame.proto == "tcp" and e.frame.flags == "A"]
    assert acks  # the handshake's ACK and others: none is followed by its sender's FIN directly
    kept = {e.packet_id for e in without_lone_fin_acks(j).steps}
    assert set(acks) <= kept
