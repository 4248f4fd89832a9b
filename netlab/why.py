"""``why(scenario, src=, dst=, dport=)``: where and why a packet stopped, in one paragraph.

It runs the probe (``net.probe``) on the simulator and reads the journey: the rule or
chain policy that dropped it (raw, filter, and whether the bridge sent it through
iptables: br_netfilter), a missing route, ``ip_forward`` off, nothing listening, a
program bound to 127.0.0.1 only.  The journey is kept for the detail.  When a rule the
packet matched was read from a listing that does not show all of it (``iptables -L``),
the answer says it is uncertain (``Why.uncertain``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from netlab.journey import Journey
from netlab.numbers import is_decimal
from netlab.scenarios.topology import Scenario

if TYPE_CHECKING:
    from netlab.probe import Backend


@dataclass
class Why:
    """The answer: ``text`` (one paragraph) and the ``journey`` it was read from."""

    text: str
    journey: Journey
    stopped: bool
    uncertain: bool = False  # a matched rule was read from `iptables -L`, which hides some of it

    def __str__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return self.text


def _dnat(journey: Journey) -> str:
    for e in journey.steps:
        if e.kind == "nat" and e.before and e.after and (e.nat_side == "dst" or e.nat_kind == "DNAT"):
            return f" (DNAT {e.before} → {e.after} in {e.node}{' by ' + e.rule if e.rule else ''})"
    return ""


def _bound_local(scenario: Scenario, node: str | None, port: int | None, proto: str) -> str | None:
    if node is None or port is None or node not in scenario.nodes:
        return None
    for s in scenario.nodes[node].services:
        if s.port == port and s.proto == proto and s.bind.startswith("127."):
            return s.bind
    return None


def _port_after_dnat(journey: Journey, port: int | None) -> int | None:
    """The destination port the packet had when it stopped (a DNAT may have changed it:
    8080 on the host is 80 in the container)."""
    for e in journey.steps:
        if e.kind == "nat" and e.after and (e.nat_side == "dst" or e.nat_kind == "DNAT"):
            tail = e.after.rsplit(":", 1)[-1]
            if is_decimal(tail):
                port = int(tail)
    return port


def _same_bridge(scenario: Scenario, a: str | None, b: str | None) -> str | None:
    na, nb = scenario.nodes.get(a or ""), scenario.nodes.get(b or "")
    if na is None or nb is None or na.role != "container" or nb.role != "container":
        return None
    return na.network if na.network and na.network == nb.network else None


def _uncertainty(journey: Journey) -> str | None:
    """Why a verdict on the way is uncertain (a trace said so), or None."""
    for e in journey.steps:
        tr = e.trace if e.kind == "netfilter" else None
        if tr is not None and getattr(tr, "uncertain", False):
            lost = next((n for n in getattr(tr, "notes", []) if "iptables -L" in n), None)
            return (f" The verdict in {e.node} at {e.hook} is uncertain: "
                    + (lost or "; ".join(getattr(tr, "notes", [])[:1]) or "see the journey") + ".")
    return None


def explain(journey: Journey, scenario: Scenario) -> Why:
    """The one-paragraph answer for a journey the probe already ran."""
    answer = _explain(journey, scenario)
    doubt = _uncertainty(journey)
    if doubt:
        answer.text += doubt
        answer.uncertain = True
    return answer


def _explain(journey: Journey, scenario: Scenario) -> Why:
    p = journey.probe
    proto = "udp" if p.kind == "udp" else "tcp"
    what = f"{p.kind} from {p.src} to {p.dst}" + (f":{p.dport}" if p.dport else "")
    nat = _dnat(journey)
    if journey.outcome in ("answered", "delivered"):
        how = journey.reason or ("it was answered" if journey.outcome == "answered" else "it was delivered")
        text = f"{what} got through{nat}: {how}."
        return Why(text, journey, False)
    drops = [e for e in journey.steps if e.kind == "drop"]
    blocked = [e for e in journey.steps if e.kind == "netfilter" and e.verdict in ("DROP", "REJECT")]
    parts: list[str] = []
    if blocked:
        e = blocked[0]
        table = (e.rule or "").split(":")[0]
        if e.rule and e.rule_text and not e.rule_text.startswith("-P "):
            parts.append(f"it was stopped in {e.node} at {e.hook} by rule {e.rule}: `{e.rule_text}` "
                         f"({e.verdict})")
        else:
            parts.append(f"it was stopped in {e.node} at {e.hook} by the chain's policy "
                         f"({e.rule_text or e.verdict}): no rule accepted it first")
        if table == "raw":
            parts.append("the raw table drops it before conntrack and NAT see it "
                         "(Docker 28's rule against packets to a container from outside its bridge)")
        bridge = _same_bridge(scenario, p.src_node, p.dst_node)
        if bridge and e.hook == "FORWARD":
            nf = scenario.host.sysctls.get("net.bridge.bridge-nf-call-iptables", "?")
            parts.append(f"both containers are on {bridge}: the packet was bridged, and iptables saw it "
                         f"only because br_netfilter is loaded (net.bridge.bridge-nf-call-iptables={nf})")
    elif drops:
        e = drops[0]
        reason = e.reason or e.detail
        parts.append(f"it stopped in {e.node}: {reason}")
        if "ip_forward" in reason:
            parts.append("turn forwarding on (sysctl net.ipv4.ip_forward=1, as Docker does) "
                         "for the host to pass packets to its containers")
        elif "route" in reason:
            parts.append(f"{e.node} has no route for the destination (see its `ip route`)")
        elif "listens" in reason:
            port = _port_after_dnat(journey, p.dport)
            local = _bound_local(scenario, e.node, port, proto)
            if local:
                parts.append(f"a program listens on port {port} but bound to {local} only: "
                             "it answers only on the loopback, not on this address")
            else:
                parts.append(f"no program listens on {proto} port {port} there "
                             "(is the service running, and on that port?)")
    else:
        parts.append(f"it ended {journey.outcome}" + (f": {journey.reason}" if journey.reason else ""))
    text = f"{what}{nat} did not get through ({journey.outcome}): " + "; ".join(parts) + "."
    return Why(text, journey, True)


def why(scenario: Scenario | Any, *, src: str, dst: str, dport: int | str | None = None,
        kind: str = "tcp") -> Why:
    """Run ``kind`` (tcp, http, udp, ping) from ``src`` to ``dst``:``dport`` on the
    simulator and say in one paragraph where and why it stopped.  ``scenario`` is a
    Scenario or a backend ``netlab.connect(...)`` returned."""
    from netlab.mode import connect

    net = (cast("Backend", scenario) if hasattr(scenario, "probe")  # a backend: it probes
           else connect(mode="sim", scenario=scenario, quiet=True))
    journey = net.probe(kind, src=src, dst=dst, dport=dport)
    return explain(journey, net.scenario)
