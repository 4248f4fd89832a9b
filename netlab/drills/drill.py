"""A troubleshooting drill: a host with one real fault, a symptom, hints, and a grader
that runs the learner's fix.

A :class:`Drill` is built from a :class:`Spec` (how Docker was started: version,
containers, networks) and a *fault* written as the commands somebody typed on the
host.  ``apply(fix)`` reads the learner's commands (:mod:`netlab.drills.fixes`),
rebuilds the simulated host and replays the fault and every fix so far, so
``d.net`` always shows the host as it is now.  ``check()`` re-runs the symptom's
probe and every side effect the drill cares about (:class:`Expect`).
"""

from __future__ import annotations

import copy
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netlab.drills.fixes import ConnectOp, FixError, NoteOp, Op, PortOp, World, parse_fix
from netlab.scenarios.topology import Interface, RouteSpec, Scenario


@dataclass
class Verdict:
    """What ``Drill.check()`` found: ``solved``, a ``message`` for the learner, and
    each check's result (``results``: (what, passed, observed))."""

    solved: bool
    message: str
    results: list[tuple[str, bool, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.solved

    def __str__(self) -> str:
        return self.message


@dataclass
class Expect:
    """One thing the host must do once it is fixed: a probe and whether it must be
    answered; ``server``/``client_ip``: the server must see the client's own address."""

    what: str
    kind: str
    src: str
    dst: str
    dport: int | None = None
    answered: bool = True
    server: str | None = None
    client_ip: str | None = None

    def run(self, net: Any) -> tuple[bool, str]:
        j = net.probe(self.kind, src=self.src, dst=self.dst, dport=self.dport)
        got = j.outcome == "answered"
        seen = {"answered": "it is answered", "rejected": "the connection is refused",
                "dropped": "it gets no answer", "timeout": "it gets no answer"}.get(j.outcome, j.outcome)
        if got != self.answered:
            return False, seen
        if got and self.server and self.client_ip:
            syn = next((e for e in j.steps if e.kind == "seen" and e.node == self.server
                        and e.direction == "in" and e.frame is not None and e.frame.proto in ("tcp", "icmp")),
                       None)
            if syn is not None and syn.frame.src != self.client_ip:
                return False, (f"it is answered, but {self.server} sees the request coming from "
                               f"{syn.frame.src}, not from {self.client_ip}")
        return True, seen


class Hints(list):
    """The drill's hints, from a nudge to nearly the answer.  ``reveal()`` gives the
    next one and counts it (``used``); ``shown`` lists those revealed so far."""

    def __init__(self, hints: list[str]) -> None:
        super().__init__(hints)
        self.used = 0

    def reveal(self) -> str | None:
        """The next hint (None when all are out)."""
        if self.used >= len(self):
            return None
        self.used += 1
        return self[self.used - 1]

    next = reveal

    @property
    def shown(self) -> list[str]:
        return list(self[: self.used])


@dataclass
class Spec:
    """How the drill's Docker host was started (what ``docker_host`` takes), plus the
    LAN's routes and ``docker network connect`` calls."""

    version: str = "27"
    containers: list[dict[str, Any]] = field(default_factory=list)
    networks: list[Any] | None = None
    options: dict[str, Any] = field(default_factory=dict)  # icc, userland_proxy, ip_forward_was_on
    client_routes: list[str] = field(default_factory=list)  # prefixes the client routes via the host
    connects: list[tuple[str, str]] = field(default_factory=list)  # (network, container)


def build(spec: Spec, seed: int) -> Scenario:
    """The host ``spec`` describes."""
    from netlab.scenarios.docker import Container, docker_host

    containers = [Container(**c) for c in spec.containers]
    s = docker_host(spec.version, containers, networks=spec.networks, seed=seed, **spec.options)
    from netlab.scenarios.docker import IMAGE_SERVICES
    from netlab.scenarios.topology import Service

    for c in spec.containers:  # what the program listens on, not one listener per -p
        if "services" in c:
            own = [copy.copy(x) for x in c["services"]]
        else:
            own = [Service(p, n, k) for p, n, k in IMAGE_SERVICES.get(_image(c.get("image", "nginx")), [])]
        s.nodes[c["name"]].services = own
    for net, ctr in spec.connects:
        connect(s, net, ctr, seed)
    if spec.connects:
        _regenerate(s)
    client = s.nodes["client"]
    for prefix in spec.client_routes:
        dev = next(i.name for i in client.interfaces if i.kind != "loopback")
        client.routes.append(RouteSpec(prefix, dev, via="192.168.56.38"))
    return s


def _image(image: str) -> str:
    """``docker.io/library/nginx:1.27`` -> ``nginx`` (how IMAGE_SERVICES names images)."""
    return image.split("@")[0].rsplit("/", 1)[-1].split(":")[0].lower()


def _network(s: Scenario, name: str) -> Any:
    for net in s.docker.networks if s.docker else []:
        if name in (net.name, net.bridge):
            return net
    names = ", ".join(n.name for n in s.docker.networks) if s.docker else "none"
    raise FixError(f"Error response from daemon: network {name} not found (networks: {names})")


def connect(s: Scenario, network: str, container: str, seed: int) -> None:
    """``docker network connect``: a second veth pair from ``network``'s bridge into the
    container (``eth1``, the next free address), as Docker adds it."""
    from netlab.scenarios.seeded import Draws, ip_mac
    from netlab.scenarios.world import connected

    node = s.nodes.get(container)
    if node is None or node.role != "container":
        raise FixError(f"Error response from daemon: No such container: {container}")
    net = _network(s, network)
    if node.network == net.bridge or any(i.master == net.bridge for i in node.interfaces):
        raise FixError(f"Error response from daemon: endpoint with name {container} already exists in "
                       f"network {net.name}")
    subnet = ipaddress.IPv4Network(net.subnet)
    taken = {net.gateway} | {ip for n in s.containers for ip in n.ips()}
    ip = next(str(a) for a in subnet.hosts() if str(a) not in taken)
    draws = Draws(seed * 7919 + len(s.wires), "connect")
    ifname = f"eth{sum(1 for i in node.interfaces if i.name.startswith('eth'))}"
    veth = draws.veth_name()
    mac = ip_mac(ip) if (s.docker and s.docker.version in ("27",)) else draws.random_mac()
    node.interfaces.append(Interface(ifname, mac=mac, addresses=[f"{ip}/{subnet.prefixlen}"]))
    node.routes.append(connected(ifname, f"{ip}/{subnet.prefixlen}"))
    s.host.interfaces.append(Interface(veth, mac=draws.random_mac(), master=net.bridge,
                                       hairpin=not (s.docker.userland_proxy if s.docker else True)))
    s.wire(("host", veth), (container, ifname))


def _regenerate(s: Scenario) -> None:
    """Docker's rules for every endpoint, a container on two networks included."""
    from netlab.scenarios.docker_rules import Endpoint, docker_rules

    assert s.docker is not None
    bridges = {n.bridge for n in s.docker.networks}
    endpoints = []
    for c in s.containers:
        for iface in c.interfaces:
            if iface.kind == "loopback" or not iface.ips:
                continue
            peer = s.peer(c.name, iface.name)
            bridge = next((i.master for i in s.host.interfaces if peer and i.name == peer[1]), None)
            if bridge in bridges:
                ports = list(c.ports) if bridge == c.network else []
                endpoints.append(Endpoint(bridge, iface.ips[0], ports))
    rules = docker_rules(s.docker.version, s.docker.networks, endpoints,
                         userland_proxy=s.docker.userland_proxy,
                         ip_forward_was_on=s.docker.ip_forward_was_on)
    s.host.iptables = rules.to_iptables_save()
    s.host.ipsets = rules.ipsets


class Drill:
    """One troubleshooting drill (``netlab.drills.load(name, seed)``)."""

    def __init__(self, name: str, *, title: str, symptom: str, spec: Spec, fault: str,
                 hints: list[str], expects: list[Expect], solution: str, seed: int,
                 container: str, look: str = "", wrong: list[str] | None = None,
                 why: str = "") -> None:
        self.name = name
        self.title = title
        self.symptom = symptom
        self.seed = seed
        self.hints = Hints(hints)
        self.expects = expects
        self.container = container
        self.look = look  # where to start looking (for the notebook), not a hint about the cause
        self.why = why  # the explanation a teacher reads with the solution
        self.wrong_fixes = list(wrong or [])
        self._spec = spec
        self._fault = parse_fix(fault, container) if fault.strip() else []
        self._solution = solution
        self.fixes: list[str] = []
        self._ops: list[Op] = []
        self.log: list[str] = []
        self.attempts = 0
        self.started = time.monotonic()
        self.seconds_before = 0.0  # time spent in earlier sessions (progress file)
        self.solved = False
        self._world, self._net = self._rebuild([])

    # ------------------------------------------------------------ the host
    def _rebuild(self, ops: list[Op], strict: int = 0) -> tuple[World, Any]:
        """The host with the fault and ``ops`` applied (ops from index ``strict`` on
        must apply cleanly; earlier ones are replayed and skipped if they no longer do)."""
        from netlab.sim.net import SimNet

        spec = copy.deepcopy(self._spec)
        for op in ops:
            if isinstance(op, PortOp):
                c = next((c for c in spec.containers if c["name"] == op.container), None)
                if c is None:
                    raise FixError(f"{op.line!r}: there is no container {op.container!r} to re-create; "
                                   f"the containers are {', '.join(c['name'] for c in spec.containers)}")
                c["ports"] = list(op.ports)
            elif isinstance(op, ConnectOp):
                spec.connects.append((op.network, op.container))
        try:
            scenario = build(spec, self.seed)
        except FixError:
            raise
        except Exception as exc:  # noqa: BLE001 - Docker's refusal, in its words
            raise FixError(f"docker refuses that: {exc}") from None
        world = World(scenario)
        for op in self._fault:
            op.apply(world)
        for i, op in enumerate(ops):
            if op.rebuild:
                continue
            try:
                op.apply(world)
            except FixError:
                if i >= strict:
                    raise
        net = SimNet(world.scenario)
        for node, iface in world.down:
            net.kernels[node].ifaces[iface].up = False
        return world, net

    @property
    def net(self) -> Any:
        """The simulated host as it is now (rebuilt by every ``apply``)."""
        return self._net

    @property
    def scenario(self) -> Scenario:
        return self._world.scenario

    # ------------------------------------------------------------ fixing
    def apply(self, fix: str) -> str:
        """Run the learner's fix (one command per line) on the host; returns what was
        done.  Raises :class:`~netlab.drills.fixes.FixError` (nothing applied) for a
        command it cannot read or that the host refuses."""
        ops = parse_fix(fix, self.container)
        world, net = self._rebuild(self._ops + ops, strict=len(self._ops))
        self._ops += ops
        self._world, self._net = world, net
        self.fixes.append(fix.strip())
        notes = [f"{op.line}: {op.note}" for op in ops if isinstance(op, NoteOp)]
        done = f"applied {len(ops)} command(s)" + ("; " + "; ".join(notes) if notes else "")
        self.log.append(done)
        return done

    def hint(self) -> str | None:
        """Reveal the next hint (counted; None when all are out)."""
        return self.hints.reveal()

    def reset(self) -> None:
        """Back to the broken host, as loaded (hints and time stay counted)."""
        self._ops = []
        self.fixes = []
        self.solved = False
        self._world, self._net = self._rebuild([])

    # ------------------------------------------------------------ grading
    def check(self) -> Verdict:
        """Re-run the symptom's probe and every side effect this drill cares about."""
        from netlab.record import record

        self.attempts += 1
        results = []
        for e in self.expects:
            ok, seen = e.run(self._net)
            results.append((e.what, ok, seen))
        solved = all(ok for _, ok, _ in results)
        first = results[0]
        if solved:
            message = (f"Solved: {first[0]} — and the {len(results) - 1} other thing(s) this host "
                       "must keep doing still work.")
        elif not first[1]:
            message = f"Not yet: {first[0]}, but {first[2]}."
            broken = [r for r in results[1:] if not r[1]]
            if broken:
                message += f" (Also: {broken[0][0]}, but {broken[0][2]}.)"
        else:
            bad = [r for r in results if not r[1]]
            message = (f"The symptom is gone, but the fix broke something else: {bad[0][0]}, "
                       f"but {bad[0][2]}.")
        self.solved = solved
        record("drill", self.name, solved=solved, hints=self.hints.used, attempts=self.attempts,
               seconds=self.seconds, seed=self.seed, fixes=list(self.fixes))
        return Verdict(solved, message, results)

    @property
    def seconds(self) -> float:
        return self.seconds_before + time.monotonic() - self.started

    def solution(self) -> str:
        """A fix that solves this drill (for tests and teachers; notebooks never show it)."""
        return self._solution

    def __repr__(self) -> str:
        state = "solved" if self.solved else "unsolved"
        return f"<Drill {self.name} seed={self.seed} ({state}, {self.hints.used}/{len(self.hints)} hints)>"

    def _repr_markdown_(self) -> str:
        return f"**{self.title}** (`{self.name}`, seed {self.seed})\n\n> {self.symptom}"


Builder = Callable[[int], Drill]
