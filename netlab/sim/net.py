"""``SimNet``: a scenario's namespaces as simulated kernels, and the probes that
send packets through them and return a :class:`~netlab.journey.Journey`.

Time is a sim clock (one microsecond per hop), and everything random — MACs
the scenario leaves open, ephemeral ports, TCP sequence numbers, IP IDs, ICMP
ids — comes from a generator seeded with ``scenario.seed``: the same scenario
and the same probes give the same journey, number for number, every run.
State (ARP caches, bridge FDBs, conntrack) persists from one probe to the next,
as on a real host.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from typing import Any

from netlab.journey import Event, Journey, ProbeRecord
from netlab.packet import Frame
from netlab.probe import ProbeError, Prober, ProbeRequest, first_sport
from netlab.scenarios.names import check_scenario
from netlab.scenarios.topology import Scenario
from netlab.sim.kernel import Kernel, Skb
from netlab.sim.probes import ProbeResult, start_probe
from netlab.sim.services import install_service

HOP = 1e-6  # the sim clock advances one microsecond per hop
EPHEMERAL = (32768, 60999)  # net.ipv4.ip_local_port_range
def _copy(f: Frame) -> Frame:
    """A shallow copy of a frame (much faster than ``copy.copy`` on a dataclass)."""
    new = object.__new__(Frame)
    new.__dict__.update(f.__dict__)
    return new


_EVENT_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Event)}


class SimNet(Prober):
    """The simulated backend behind ``netlab.connect(mode="sim")``."""

    mode = "sim"

    def __init__(self, scenario: Scenario | None = None, *, capture_promisc: bool = True) -> None:
        if scenario is None:
            from netlab.scenarios import seed_host

            scenario = seed_host()
        if not isinstance(scenario, Scenario):
            raise ProbeError(f"SimNet needs a netlab Scenario, not {type(scenario).__name__}; "
                             "build one with netlab.scenarios.seed_host() or docker_host(...)")
        check_scenario(scenario)  # the names the lab would refuse, refused here too
        self.scenario = scenario
        self.seed = scenario.seed
        self.rng = random.Random(scenario.seed)
        self.capture_promisc = capture_promisc
        self.now = 0.0
        self._queue: list[tuple[float, int, Any, tuple]] = []
        self._n = 0
        self._journey: Journey | None = None
        self._records: list[tuple] = []
        self._pid = 0
        self._t0 = 0.0
        self._last_drop: Event | None = None
        self._touched: dict[int, Any] = {}  # conntrack entries this probe created or matched
        self._hops: dict[int, int] = {}  # observations so far of each packet of the probe
        self.arp_watch: tuple | None = None
        # softirq runs: the packets a system call's transmit sets going, hop after hop, on
        # the same CPU before the call returns (see ``syscall``)
        self._chain: int | None = None  # the run the event being handled belongs to
        self._chains = 0
        self._chain_of: dict[int, int] = {}  # queued event -> its run
        self._pending: dict[int, int] = {}  # run -> its events still queued
        self._on_end: dict[int, list[Any]] = {}  # run -> what to do when it is over
        self.peers: dict[tuple[str, str], tuple[str, str]] = {}  # (node, ifname) -> far end
        for w in scenario.wires:  # the first wire wins, as in Scenario.peer
            self.peers.setdefault(w.a, w.b)
            self.peers.setdefault(w.b, w.a)
        # kernels that took a socket lock or made an ARP entry since the last run: the
        # only ones the end of a run has to tidy (a 1,000-container host costs no more)
        self.unsettled: dict[str, Kernel] = {}
        self.kernels: dict[str, Kernel] = {}
        self.dns_records: dict[str | None, dict[str, str]] | None = None  # embedded DNS, per bridge
        for name, node in scenario.nodes.items():
            self.kernels[name] = Kernel(self, node)
        for name, node in scenario.nodes.items():
            for svc in node.services:
                install_service(self.kernels[name], svc)
        self.ifindex, self.netnsids = _number_interfaces(self)
        self.mac_owner = {
            iface.mac: f"{k.name}:{iface.name}"
            for k in self.kernels.values() for iface in k.ifaces.values()
            if iface.kind != "loopback"
        }

    # ------------------------------------------------------------ plumbing
    def make_mac(self) -> str:
        b = self.rng.getrandbits(48).to_bytes(6, "big")
        return bytes([(b[0] & 0xFC) | 0x02]).hex() + ":" + b[1:].hex(":")

    def ephemeral_port(self) -> int:
        return self.rng.randint(*EPHEMERAL)

    def new_pid(self) -> int:
        self._pid += 1
        return self._pid

    def schedule(self, fn: Any, *args: Any, delay: float = HOP) -> None:
        self._n += 1
        chain = self._chain
        if chain is not None and delay == HOP:  # the next hop of the same softirq run
            self._chain_of[self._n] = chain
            self._pending[chain] += 1
        heapq.heappush(self._queue, (self.now + delay, self._n, fn, args))

    def syscall(self, fn: Any, *args: Any) -> int:
        """Run ``fn`` as a program's system call: every packet it sends and every
        hop they take without a timer in between is one softirq run, done on this
        CPU before the call returns.  Returns the run's id (see ``when_done``)."""
        self._chains += 1
        chain = self._chains
        self._pending[chain] = 0
        prev, self._chain = self._chain, chain
        try:
            fn(*args)
        finally:
            self._chain = prev
        return chain

    def busy(self, chain: int) -> bool:
        """Has softirq run ``chain`` hops still to make?"""
        return bool(self._pending.get(chain))

    def when_done(self, chain: int, callback: Any) -> None:
        """Call ``callback`` once softirq run ``chain`` has no hop left to make."""
        if not self._pending.get(chain):
            self._pending.pop(chain, None)
            callback()
        else:
            self._on_end.setdefault(chain, []).append(callback)

    def _run(self, deadline: float) -> None:
        q = self._queue
        while q:
            t, _, fn, args = q[0]
            if t > deadline:
                break
            n = heapq.heappop(q)[1]
            if t > self.now:
                self.now = t
            chain = self._chain = self._chain_of.pop(n, None)
            fn(*args)
            self._chain = None
            if chain is not None:
                left = self._pending[chain] - 1
                self._pending[chain] = left
                if not left:
                    del self._pending[chain]
                    for callback in self._on_end.pop(chain, ()):
                        callback()
        self._queue = []
        self._chain_of.clear()
        self._pending.clear()
        self._on_end.clear()
        for k in self.unsettled.values():  # only these took a socket lock or asked ARP
            for sock in k.socks.values():  # a call cut off by the deadline: its socket is free
                sock.owner = None
                sock.backlog.clear()
            for key in [key for key, n in k.neigh.items() if n.state == "INCOMPLETE"]:
                del k.neigh[key]  # unanswered ARP: forget, as after the retries
        self.unsettled.clear()

    def rec(self, kind: str, node: str, detail: str, *, skb: Skb | None = None,
            final: bool = True, frame: Any = None, **kw: Any) -> Event | None:
        """Append an event to the journey being recorded."""
        j = self._journey
        if j is None:
            return None
        f = frame if frame is not None else (_copy(skb.f) if skb is not None else None)
        ev = Event(seq=len(j.steps) + 1, kind=kind, node=node, detail=detail, frame=f,
                   time=round(self.now - self._t0, 9),
                   packet_id=skb.pid if skb is not None else None, **kw)
        j.steps.append(ev)
        if kind == "drop" and final:
            self._last_drop = ev
        return ev

    def seen(self, k: Kernel, dev: str, direction: str, skb: Skb) -> None:
        """tcpdump on ``k``'s ``dev`` shows the frame now."""
        self.now += HOP
        j = self._journey
        if j is None:
            return
        f = skb.f
        if f.proto != "arp":  # ARP frames are never rewritten in flight: no copy needed
            f = _copy(f)
        t = round(self.now - self._t0, 9)
        pid = skb.pid
        hops = self._hops
        hop = hops[pid] = hops.get(pid, 0) + 1
        notes = skb.notes
        if notes:
            skb.notes = []
        name = k.name
        if f.ttl is not None and f.proto != "arp":
            detail = f"{direction:3s} {f.summary()} ttl={f.ttl}"
        else:
            detail = f"{direction:3s} {f.summary()}"
        ev = object.__new__(Event)  # Event(...) without the dataclass __init__: hot path
        ev.__dict__ = {**_EVENT_DEFAULTS, "seq": len(j.steps) + 1, "kind": "seen", "node": name,
                       "iface": dev, "direction": direction, "detail": detail, "frame": f,
                       "time": t, "packet_id": pid}
        j.steps.append(ev)
        # the capture's comment is written when the capture is built (SimJourney.capture)
        self._records.append((t, name, dev, f, pid, hop, direction, notes))

    # ------------------------------------------------------------ API
    def _start_journey(self) -> None:
        """Fresh per-journey state: each probe or hand-made frame starts on a new ms."""
        self.now = float(int(self.now * 1000) + 1) / 1000
        self._t0 = self.now
        self._pid = 0
        self._records = []
        self._last_drop = None
        self._touched = {}
        self._hops = {}
        self.arp_watch = None

    def _unanswered(self, journey: Journey) -> None:
        """Outcome of a journey nothing answered: the last drop's reason, else a timeout."""
        if self._last_drop is not None:
            journey.outcome, journey.reason = "dropped", self._last_drop.reason
        else:
            journey.outcome, journey.reason = "timeout", "no answer before the timeout"

    def _finish(self, journey: SimJourney) -> SimJourney:
        """Attach the conntrack entries and capture records the journey made."""
        journey.conntrack_entries = [e.describe() for e in self._touched.values()]
        journey.capture_records = self._records
        self._records = []
        return journey

    def kernel(self, node: str) -> Kernel:
        try:
            return self.kernels[node]
        except KeyError:
            raise ProbeError(f"no node {node!r} in scenario {self.scenario.name!r}; nodes are "
                             f"{', '.join(sorted(self.kernels))}") from None

    def run_probe(self, request: ProbeRequest) -> Journey:
        """Send a request :meth:`ProbeRequest.build` checked and return its journey."""
        k = self.kernels[request.src_node]
        src_ip, dst_ip = request.src_ip, request.dst_ip
        if src_ip is None:
            src_ip = k.source_for(dst_ip)[0] or (k.node.ip or "0.0.0.0")
        self._start_journey()
        journey = SimJourney(probe=ProbeRecord.of(request, src_ip=src_ip, mode="sim",
                                                  scenario=self.scenario.name, seed=self.seed,
                                                  mac_owner=dict(self.mac_owner), start=self._t0),
                             mode="sim")
        journey.scenario = self.scenario
        self._journey = journey
        result = ProbeResult()
        deadline = self._t0 + request.deadline
        try:
            app = start_probe(k, request, src_ip, result)
            self._run(deadline)
        finally:
            self._journey = None
            self._queue = []  # a probe that failed half-way leaves nothing for the next one
        if app is not None:
            journey.probe.hops = list(app.hops)
        journey.probe.actual_sport = first_sport(journey)
        journey.replies = list(result.replies)
        journey.result = dict(result.info)
        if result.answered:
            journey.outcome = "answered"
        elif result.rejected:
            journey.outcome, journey.reason = "rejected", result.reason
        else:
            self._unanswered(journey)
        return self._finish(journey)

    def send_frame(self, node: str, iface: str, frame: Frame, timeout: float = 1.0) -> Journey:
        """Send a hand-made IPv4 ``frame`` out of ``node``'s ``iface`` exactly as given (what
        scapy's ``sendp`` does from a LAN machine: no routing, no ARP, the MACs and addresses
        the sender chose) and return its journey.  Lesson 4 uses it for moby issue 45610: a
        LAN neighbour sends 127.0.0.1:port to the host's MAC.  ``outcome`` is "answered" when
        an IPv4 packet addressed back to the frame's source reached ``node`` (its kernel may
        then reset it: no socket of its own asked)."""
        k = self.kernel(node)
        if iface not in k.ifaces or k.ifaces[iface].kind == "loopback":
            raise ProbeError(f"{node} has no interface {iface!r} to send a frame from "
                             f"(it has {', '.join(sorted(d for d in k.ifaces if d != 'lo'))})")
        if frame.proto not in ("tcp", "udp", "icmp") or not (frame.src and frame.dst):
            raise ProbeError("send_frame sends an IPv4 TCP, UDP or ICMP frame with src and dst set")
        if not (frame.src_mac and frame.dst_mac):
            raise ProbeError("send_frame needs the frame's src_mac and dst_mac: a hand-made frame "
                             "is not resolved by ARP")
        if not 0 < timeout <= 30:
            raise ProbeError("timeout must be more than 0 and at most 30 seconds")
        self._start_journey()
        record = ProbeRecord(kind="frame", src=node, dst=frame.dst, src_ip=frame.src, dst_ip=frame.dst,
                             dport=frame.dport, sport=frame.sport, actual_sport=frame.sport,
                             timeout=timeout, ttl=frame.ttl, src_node=node, scenario=self.scenario.name,
                             mode="sim", seed=self.seed, mac_owner=dict(self.mac_owner), start=self._t0)
        journey = SimJourney(probe=record, mode="sim")
        journey.scenario = self.scenario
        self._journey = journey
        try:
            skb = Skb(dataclasses.replace(frame), self.new_pid())
            self.rec("send", node, f"sends a hand-made frame out of {iface}: {frame.src_mac} > "
                     f"{frame.dst_mac} {frame.summary()}", skb=skb)
            k.xmit(iface, skb)
            self._run(self._t0 + timeout)
        finally:
            self._journey = None
            self._queue = []
        back = [e for e in journey.seen(node=node, direction="in")
                if e.frame is not None and e.frame.proto != "arp" and e.frame.dst == frame.src]
        if back:
            journey.outcome = "answered"
        else:
            self._unanswered(journey)
        return self._finish(journey)

    def advance(self, seconds: float) -> None:
        """Let sim time pass (bridge FDB entries age out after 300 s, ARP after 60 s)."""
        if seconds < 0:
            raise ProbeError("time only moves forward: advance() needs seconds >= 0")
        self.now += seconds
        for k in self.kernels.values():
            for br in k.bridges.values():
                br.age(self.now)

    def state(self, node: str = "host") -> Any:
        """The node's tables now, as a HostState (what ``netlab snapshot`` would read)."""
        from netlab.sim.state import kernel_state

        return kernel_state(self.kernel(node), self)

    def close(self) -> None:
        """Nothing to tear down in the simulator."""

    def __enter__(self) -> SimNet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SimNet({self.scenario.name!r}, nodes={list(self.kernels)})"


def _number_interfaces(net: SimNet) -> tuple[dict[tuple[str, str], int], dict[str, dict[str, int]]]:
    """Interface indexes as the kernel hands them out, and each namespace's netnsids.

    Indexes count per namespace from ``lo`` = 1.  A container's veth pair is created
    in the host (the peer first, so the container's ``eth0`` gets the lower number)
    and one end is then moved into the container, keeping its index — which is why
    the article's host shows ``vethca38e86`` as 6 with its peer ``@if5``.
    """
    sc = net.scenario
    index: dict[tuple[str, str], int] = {}
    nxt = dict.fromkeys(net.kernels, 1)
    role = {name: node.role for name, node in sc.nodes.items()}
    to_container = {}
    for w in sc.wires:
        for here, there in ((w.a, w.b), (w.b, w.a)):
            if role.get(here[0]) == "host" and role.get(there[0]) == "container":
                to_container[here] = there

    used: dict[str, set[int]] = {name: set() for name in net.kernels}  # indexes held in each

    def take(node: str) -> int:
        taken = used[node]
        while nxt[node] in taken:
            nxt[node] += 1
        nxt[node] += 1
        return nxt[node] - 1

    def give(key: tuple[str, str], number: int) -> None:
        index[key] = number
        used.setdefault(key[0], set()).add(number)

    for name, k in net.kernels.items():
        for ifname, iface in k.ifaces.items():
            if iface.kind == "loopback" or role[name] == "host":
                if (name, ifname) in to_container:
                    continue
                give((name, ifname), take(name))
        if role[name] != "host":
            continue
        for w in sc.wires:  # container pairs, in the order Docker created them
            for here, there in ((w.a, w.b), (w.b, w.a)):
                if here[0] == name and here in to_container:
                    give(there, take(name))
                    give(here, take(name))
    for name, k in net.kernels.items():
        for ifname in k.ifaces:
            if (name, ifname) not in index:
                give((name, ifname), take(name))
    netnsids: dict[str, dict[str, int]] = {}
    for name, k in net.kernels.items():
        ids: dict[str, int] = {}
        for iface in k.ifaces.values():
            peer = iface.peer[0] if iface.peer is not None else None
            if peer is not None and peer != name and peer not in ids and is_veth_link(net, name, peer):
                ids[peer] = len(ids)
        netnsids[name] = ids
    return index, netnsids


def is_veth_link(net: SimNet, a: str, b: str) -> bool:
    """Is the wire between nodes ``a`` and ``b`` a veth pair on the Docker host (host or
    container at both ends)?  The host's links to the LAN client and the gateway stand
    for physical NICs and cables: ``ip link`` shows them as ordinary interfaces."""
    roles = {net.scenario.nodes[a].role, net.scenario.nodes[b].role}
    return roles <= {"host", "container"}


def _commented(records: list[tuple]) -> list[tuple]:
    """``seen``'s records as ``Capture.from_records`` takes them: (time, node, interface,
    frame, comment, direction), the comment saying which packet, which hop and what changed
    it; the direction ("in" / "out") goes to pcapng as epb_flags."""
    out = []
    for t, node, dev, f, pid, hop, direction, notes in records:
        comment = f"packet {pid} hop {hop}: {node}:{dev} {direction}"
        if notes:
            comment += f" after {'; '.join(notes)}"
        out.append((t, node, dev, f, comment, direction))
    return out


class SimJourney(Journey):
    """A Journey whose ``capture`` is built from the recorded frames on first use."""

    capture_records: list[tuple] | None = None

    @property
    def capture(self) -> Any:
        cap = self.__dict__.get("_capture")
        if cap is None and self.capture_records is not None:
            from netlab.capture import Capture

            cap = Capture.from_records(_commented(self.capture_records))
            self.__dict__["_capture"] = cap
        return cap

    @capture.setter
    def capture(self, value: Any) -> None:
        self.__dict__["_capture"] = value
