"""One probe front end for every backend.

A probe is asked for once, through :meth:`ProbeRequest.build`: the kind, the
ends (node names or addresses, resolved through the :class:`Scenario`), ports,
counts and payload are checked there, with one message for one mistake,
whichever backend then sends it.  :data:`KINDS` is the one table of probe kinds;
:class:`Backend` is what ``SimNet`` and ``Lab`` promise (``connect()`` returns
one); :class:`Prober` gives both the same public ``probe(...)``.

Adding a probe kind touches three files: a row in :data:`KINDS` here, and the program
that sends it in each backend (``start_probe`` in ``netlab/sim/probes.py``, ``send`` in
``netlab/lab/probes.py``); the CLI's choices come from :data:`KINDS`, and the contract
test (``tests/test_probe_contract.py``) runs every kind, so it fails until both do.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from netlab.errors import NetlabError
from netlab.numbers import whole_number

if TYPE_CHECKING:  # pragma: no cover
    from netlab.journey import Journey
    from netlab.model import HostState
    from netlab.scenarios.topology import Node, Scenario


class ProbeError(NetlabError, ValueError):
    """A probe was asked for something the scenario (or the backend) cannot do."""


@dataclass(frozen=True)
class ProbeKind:
    """What one kind of probe is: the port it goes to unless told, whether it must be
    told one, the seconds it waits beyond ``timeout``, and the service that answers it."""

    name: str
    default_port: int | None = None  # destination port when dport= is not given
    needs_dport: bool = False  # a tcp connect has no usual port: the learner names it
    uses_port: bool = False  # takes dport=
    uses_sport: bool = False  # takes sport= (a bound source port)
    uses_payload: bool = False  # takes payload=
    uses_ttl: bool = True  # takes ttl=
    uses_name: bool = False  # takes name= (the DNS name to look up), and needs it
    wait_per_extra: float = 0.0  # seconds between two of ``count`` sends (ping -c 3: 1 s)
    fixed_wait: float = 0.0  # seconds beyond timeout the kind always takes
    server: str | None = None  # what must listen at dst for an answer ("tcp", "http", "udp echo")
    what: str = ""

    def extra_wait(self, count: int) -> float:
        """Seconds the probe runs beyond ``timeout`` (``count`` sends, one a second)."""
        return self.wait_per_extra * (count - 1) + self.fixed_wait


TRACEROUTE_PORT = 33434  # traceroute's first destination port (one more per hop)

KINDS: dict[str, ProbeKind] = {k.name: k for k in (
    ProbeKind("ping", uses_payload=True, wait_per_extra=1.0, what="ICMP echo request, waits for the reply"),
    ProbeKind("arping", uses_ttl=False, wait_per_extra=1.0,
              what="ARP who-has on the link to dst, waits for the is-at"),
    ProbeKind("tcp", needs_dport=True, uses_port=True, uses_sport=True, server="tcp",
              what="TCP connect (SYN, SYN-ACK, ACK), then close"),
    ProbeKind("http", default_port=80, uses_port=True, uses_sport=True, server="http",
              what="TCP connect and GET /, waits for the answer"),
    ProbeKind("udp", default_port=7, uses_port=True, uses_sport=True, uses_payload=True,
              wait_per_extra=1.0, server="udp echo", what="one datagram (up to count tries), waits for the echo"),
    ProbeKind("traceroute", default_port=TRACEROUTE_PORT, uses_port=True, fixed_wait=0.16,
              what="UDP with TTL 1, 2, 3 … until dst answers port unreachable"),
    ProbeKind("dns", default_port=53, uses_port=True, uses_sport=True, uses_name=True, wait_per_extra=1.0,
              server="dns", what="a DNS query for name's A record over UDP (dig +notcp), waits for the answer"),
)}


@dataclass(frozen=True)
class ProbeLimits:
    """Bounds on a probe.  ``backend`` names whose limits they are (the message says so)."""

    max_count: int = 100
    max_timeout: float = 60.0
    backend: str = ""  # "" = every backend's; "lab" = only the real kernel needs them
    why: str = ""


LIMITS = ProbeLimits()
LAB_LIMITS = ProbeLimits(max_count=20, max_timeout=10.0, backend="lab",
                         why="a real probe takes real time")


@dataclass(frozen=True)
class ProbeRequest:
    """A probe checked against a scenario: every field is ready to send."""

    kind: str
    src: str  # as given: a node name or an address
    dst: str
    src_node: str  # the node that sends
    src_ip: str | None  # the address it sends from when the learner gave one (None: the kernel picks)
    dst_node: str | None  # the node that owns dst_ip (None: an address outside the scenario)
    dst_ip: str
    dport: int | None  # the destination port (the kind's default filled in)
    sport: int | None  # the source port asked for (None: an ephemeral one)
    count: int = 1
    timeout: float = 2.0
    payload: bytes | None = None
    ttl: int | None = None
    name: str | None = None  # dns: the name looked up

    @property
    def spec(self) -> ProbeKind:
        return KINDS[self.kind]

    @property
    def deadline(self) -> float:
        """Seconds the probe may run: ``timeout`` plus the kind's extra wait."""
        return self.timeout + self.spec.extra_wait(self.count)

    @classmethod
    def build(cls, scenario: Scenario, kind: str, src: str = "client", dst: str = "host",
              dport: int | str | None = None, sport: int | str | None = None, count: int = 1,
              timeout: float = 2.0, payload: bytes | str | None = None, ttl: int | None = None,
              limits: ProbeLimits = LIMITS, name: str | None = None) -> ProbeRequest:
        """Check a probe against ``scenario`` and ``limits``; raise :class:`ProbeError`
        saying what to change, before anything is sent."""
        if not isinstance(kind, str) or kind not in KINDS:
            raise ProbeError(f"unknown probe kind {kind!r}; use one of {', '.join(KINDS)}")
        spec = KINDS[kind]
        count = _bounded("count", count, 1, LIMITS.max_count)
        timeout = _seconds(timeout, LIMITS.max_timeout)
        if limits.backend:
            _check_limits(count, timeout, limits)
        if payload is not None:
            if not spec.uses_payload:
                raise ProbeError(f"a {kind} probe carries no payload; payload= is for "
                                 f"{_kinds_with('uses_payload')} probes")
            if isinstance(payload, str):
                payload = payload.encode()
            elif isinstance(payload, (bytearray, memoryview)):
                payload = bytes(payload)
            if not isinstance(payload, bytes):
                raise ProbeError(f"payload must be bytes or text, not {type(payload).__name__}")
            if len(payload) > 1400:
                raise ProbeError(f"payload is {len(payload)} bytes; keep it to 1400 (one packet)")
        if dport is not None and not spec.uses_port:
            raise ProbeError(f"a {kind} probe has no port; dport= is for {_kinds_with('uses_port')} probes")
        if sport is not None and not spec.uses_sport:
            raise ProbeError(f"a {kind} probe picks its own source port; sport= is for "
                             f"{_kinds_with('uses_sport')} probes")
        if name is not None and not spec.uses_name:
            raise ProbeError(f"a {kind} probe looks up no name; name= is for {_kinds_with('uses_name')} probes")
        if spec.uses_name:
            name = _dns_name(kind, name)
        if ttl is not None and not spec.uses_ttl:
            raise ProbeError(f"an {kind} request is never routed; ttl= is for IP probes")
        if dport is None and spec.needs_dport:
            raise ProbeError(f"a {kind} probe needs dport=, the port to connect to: "
                             f"net.probe({kind!r}, src='client', dst='host', dport=80)")
        dport = _port("dport", dport)
        sport = _port("sport", sport)
        if ttl is not None:
            ttl = _bounded("ttl", ttl, 1, 255)
        if dport is None:
            dport = spec.default_port
        node, src_ip = _source(scenario, src)
        dst_node, dst_ip = _destination(scenario, dst, node)
        if kind == "arping":
            _check_arping(node, src, dst_ip)
        return cls(kind, src, dst, node.name, src_ip, dst_node, dst_ip, dport, sport, count, timeout,
                   payload, ttl, name)


def _kinds_with(flag: str) -> str:
    names = [k.name for k in KINDS.values() if getattr(k, flag)]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]


def _dns_name(kind: str, name: object) -> str:
    from netlab.dns import DnsError, check_name

    if name is None:
        raise ProbeError(f"a {kind} probe needs name=, the name to look up: "
                         f"net.probe({kind!r}, src='web', dst='127.0.0.11', name='db')")
    try:
        return check_name(name)
    except DnsError as exc:
        raise ProbeError(str(exc)) from None


def _bounded(name: str, value: object, lo: int, hi: int) -> int:
    n = whole_number(value)
    if n is None or not lo <= n <= hi:
        raise ProbeError(f"{name} must be a whole number from {lo} to {hi}, not {value!r}")
    return n


def _port(name: str, value: object) -> int | None:
    """A port argument (a number or its decimal text) checked before any packet leaves."""
    if value is None:
        return None
    n = whole_number(value)
    if n is None or not 1 <= n <= 65535:
        raise ProbeError(f"{name} must be a port number from 1 to 65535, not {value!r}")
    return n


def _seconds(value: object, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) <= hi:
        raise ProbeError(f"timeout must be between 0 and {hi:g} seconds, not {value!r}")
    return float(value)


def _check_limits(count: int, timeout: float, limits: ProbeLimits) -> None:
    where = f"the {limits.backend}'s limit" + (f" ({limits.why})" if limits.why else "")
    other = "; the simulator takes up to {} (netlab.connect(mode='sim'))"
    if count > limits.max_count:
        raise ProbeError(f"count={count} is over {where} of {limits.max_count}"
                         + other.format(LIMITS.max_count))
    if timeout > limits.max_timeout:
        raise ProbeError(f"timeout={timeout:g} is over {where} of {limits.max_timeout:g} seconds"
                         + other.format(f"{LIMITS.max_timeout:g} s"))


def _nodes(scenario: Scenario) -> str:
    return ", ".join(sorted(scenario.nodes))


def _address(scenario: Scenario, text: object, role: str) -> ipaddress.IPv4Address:
    if not isinstance(text, str):
        raise ProbeError(f"probe {role} must be a node name or an IPv4 address, not {type(text).__name__}")
    try:
        if not text.isascii():
            raise ValueError(text)
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise ProbeError(f"probe {role} {text!r} is neither a node ({_nodes(scenario)}) nor an "
                         "IPv4 address") from None


def _source(scenario: Scenario, src: object) -> tuple[Node, str | None]:
    """The sending node, and the address to send from when ``src`` names one."""
    if isinstance(src, str) and src in scenario.nodes:
        return scenario.nodes[src], None
    ip = str(_address(scenario, src, "source"))
    owners = [n for n in scenario.nodes.values() if ip in n.ips()]
    if len(owners) != 1:
        what = (f"{ip} is an address of {', '.join(n.name for n in owners)}" if owners
                else f"no node of scenario {scenario.name!r} owns {ip}")
        raise ProbeError(f"{what}; a probe is sent from a node, so give a node name "
                         f"({_nodes(scenario)}) or one of its addresses")
    return owners[0], ip


def _networks(node: Node) -> list[ipaddress.IPv4Interface]:
    return [ipaddress.IPv4Interface(a) for i in node.interfaces for a in i.addresses
            if i.kind != "loopback" and ":" not in a]


def _destination(scenario: Scenario, dst: object, src: Node) -> tuple[str | None, str]:
    """The address a probe aimed at ``dst`` goes to (a node: its address on the source's
    LAN), and the node that owns it; broadcast, multicast and 0.0.0.0 are refused."""
    if isinstance(dst, str) and dst in scenario.nodes:
        try:
            return dst, scenario.address_for(dst, src.name)
        except ValueError:
            raise ProbeError(f"node {dst!r} has no IPv4 address to send to") from None
    ip = _address(scenario, dst, "destination")
    broadcast = int(ip) == 0xFFFFFFFF or any(
        n.network.prefixlen < 31 and ip == n.network.broadcast_address for n in _networks(src))
    if ip.is_multicast or ip.is_unspecified or broadcast:
        what = ("multicast" if ip.is_multicast else "unspecified (0.0.0.0)" if ip.is_unspecified
                else "a broadcast address")
        raise ProbeError(f"probe destination {ip} is {what}; probes go to one machine: give a "
                         "node name or its unicast address (ping -b broadcasts are not simulated)")
    owner = scenario.node_of_ip(str(ip))
    return (owner.name if owner is not None else None), str(ip)


def _check_arping(src: Node, given: str, dst_ip: str) -> None:
    ip = ipaddress.IPv4Address(dst_ip)
    if dst_ip in src.ips() or ip.is_loopback:
        raise ProbeError(f"arping: {dst_ip} is {src.name}'s own address; arping asks "
                         "the other machines on an Ethernet link")
    if not any(ip in n.network for n in _networks(src)):
        raise ProbeError(f"arping: {src.name} has no interface on the subnet of {dst_ip} "
                         f"(arping asks on one link; give an address next to {given})")


@runtime_checkable
class Backend(Protocol):
    """What ``netlab.connect()`` returns: the simulator (``SimNet``) or the real kernel
    (``Lab``), the same calls on both."""

    mode: str  # "sim" or "lab"
    scenario: Scenario
    limits: ProbeLimits

    def probe(self, kind: str, src: str = "client", dst: str = "host", dport: int | str | None = None,
              sport: int | str | None = None, count: int = 1, timeout: float = 2.0,
              payload: bytes | str | None = None, ttl: int | None = None, name: str | None = None) -> Journey: ...

    def run_probe(self, request: ProbeRequest) -> Journey:
        """Send a request :meth:`ProbeRequest.build` checked; its journey."""
        ...

    def state(self, node: str = "host") -> HostState: ...

    def close(self) -> None: ...


class Prober:
    """The public ``probe(...)`` both backends share: check, then ``run_probe``."""

    scenario: Scenario
    limits: ProbeLimits = LIMITS

    def probe(self, kind: str, src: str = "client", dst: str = "host", dport: int | str | None = None,
              sport: int | str | None = None, count: int = 1, timeout: float = 2.0,
              payload: bytes | str | None = None, ttl: int | None = None, name: str | None = None) -> Journey:
        """Send a probe from ``src`` to ``dst`` (node names or addresses) and return its
        journey: every hop, hook, rewrite and verdict.  ``kind`` is one of
        ``netlab.probe.KINDS`` (ping, arping, tcp, http, udp, traceroute, dns); a dns probe
        looks up ``name`` (``journey.result`` has its ``rcode`` and ``answer``)."""
        request = ProbeRequest.build(self.scenario, kind, src, dst, dport=dport, sport=sport, count=count,
                                     timeout=timeout, payload=payload, ttl=ttl, limits=self.limits, name=name)
        return self.run_probe(request)

    def run_probe(self, request: ProbeRequest) -> Journey:  # pragma: no cover - each backend's
        raise NotImplementedError


def first_sport(journey: Journey) -> int | None:
    """The source port the probe's first TCP/UDP packet left with (the kernel's pick when
    none was asked for)."""
    node = journey.probe.src_node
    for e in journey.steps:
        f = e.frame
        if e.kind == "seen" and e.direction == "out" and f is not None and f.proto in ("tcp", "udp") \
                and (node is None or e.node == node):
            return f.sport
    return None
