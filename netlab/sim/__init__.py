"""Layer 4 — the simulated kernel (``netlab.connect(mode="sim")``).

``SimNet(scenario)`` turns each node of a scenario into a simulated network
namespace and answers ``probe(...)`` with a :class:`~netlab.journey.Journey`.
The differential suite (``tests/lab/test_differential.py``) holds it to the real
kernel, journey for journey.

Modules, bottom up:

- ``routing``          longest prefix, metrics, the local table, source selection
- ``bridge``           FDB learning, flooding (newest port first), ageing, hairpin
- ``veth``             the cable between two namespaces
- ``arp``              neighbour resolution: requests, replies, STALE/DELAY/PROBE
- ``conntrack``        tuples, NEW/ESTABLISHED/RELATED, NAT and reply de-NAT, port clashes
- ``netfilter_hooks``  the hooks' tables in the kernel's order, run by ``netlab.netfilter``
- ``kernel``           one namespace's stack and a packet's path through it (br_netfilter,
                       bridged DNAT, ip_forward, TTL, ICMP errors and redirects, REJECT)
- ``services``         TCP (handshake, quick/delayed ACK, FIN, RST, duplicates), UDP echo,
                       ICMP echo, the HTTP server and docker-proxy
- ``probes``           ping, arping, tcp, http, udp, traceroute clients
- ``net``              ``SimNet``: the sim clock, the event queue, the journey recorder
- ``state``            a node's tables as a ``HostState``
- ``cli``              ``netlab probe``

Time is a sim clock: a hop takes 1 µs, a program reacts 50 µs after its kernel,
timers (ARP retries, SYN retransmission, delayed ACK, FDB ageing) run on it, and
every random number comes from ``scenario.seed``.
"""

from __future__ import annotations

from netlab.sim.net import ProbeError, SimNet

__all__ = ["ProbeError", "SimNet"]
