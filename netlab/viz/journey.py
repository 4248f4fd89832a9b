"""A probe's path drawn on the topology: numbered hops, addresses at each, NAT rewrites.

Each "seen" event of a :class:`~netlab.journey.Journey` (the packet crossing an
interface, as tcpdump there would show it) becomes a numbered marker on the box
of that interface; arrows join them in order.  Below the picture, one line per
hop gives the addresses there, and where a NAT rewrite happened in between, the
before → after and the rule that did it (lessons 2, 3 and 10).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from netlab.viz.figure import FONT, new_figure
from netlab.viz.topology import (
    ContainerInfo,
    Layout,
    NicInfo,
    PeerInfo,
    TopologyModel,
    draw_layout,
    layout_topology,
)

LINE = 0.19  # inches per hop-table line
MONO_CHAR = 0.065  # inches per character of the table's monospaced font (a little over)


@dataclass
class Hop:
    """One numbered point of the drawing: where the packet was seen and what it looked like."""

    number: int
    node: str
    iface: str | None
    direction: str | None
    summary: str
    macs: str
    nat: list[str]  # "DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2"
    event_seq: int
    nat_after: list[str] = field(default_factory=list)  # rewrites after the last hop


def _frame_summary(frame: Any) -> str:
    if frame is None:
        return ""
    try:
        return frame.summary()
    except Exception:  # noqa: BLE001 - a frame we cannot summarise still gets drawn
        return f"{frame.proto} {frame.src} > {frame.dst}"


def first_packet_id(journey: Any) -> int | None:
    """The id of the probe's first non-ARP packet (what the drawing shows by default)."""
    for e in journey.steps:
        if e.kind == "seen" and e.frame is not None and e.frame.proto != "arp":
            return e.packet_id
    return None


def hop_table(journey: Any, packet: int | None | str = "first") -> list[Hop]:
    """The hops of one packet (``packet`` = its id, ``"first"``, or None for every packet)."""
    if packet == "first":
        packet = first_packet_id(journey)
    hops: list[Hop] = []
    pending: list[str] = []
    for e in journey.steps:
        if packet is not None and e.packet_id not in (packet, None):
            continue
        if e.kind == "nat":
            rule = f" by {e.rule}" if e.rule else " by conntrack"
            if e.rule:  # a nat rule did it: the first packet of a connection
                kind = e.nat_kind if e.nat_kind in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT") else "NAT"
            elif e.ct_direction == "reply" or e.nat_kind == "de-NAT":
                kind = "un-NAT"  # conntrack reversing the connection's NAT on a reply
            else:
                kind = "NAT"  # conntrack applying the connection's NAT to a later packet
            pending.append(f"{kind} {e.before} → {e.after}{rule}")
        elif e.kind == "seen":
            f = e.frame
            macs = f"{f.src_mac} → {f.dst_mac}" if f is not None else ""
            hops.append(Hop(len(hops) + 1, e.node, e.iface, e.direction, _frame_summary(f),
                            macs, pending, e.seq))
            pending = []
    if pending and hops:
        hops[-1].nat_after.extend(pending)
    return hops


_ROUTE = re.compile(r"^(?:(?P<type>local|broadcast)\s+)?(?P<dst>\S+)\s+(?:via\s+(?P<via>\S+)\s+)?"
                    r"dev\s+(?P<dev>\S+)(?P<rest>.*)$")
INITIAL_TTLS = (64, 128, 255)  # what Linux, Windows and network gear send with


def _ip4(text: Any) -> str | None:
    try:
        return str(ipaddress.IPv4Address(str(text).split(":")[0].split("/")[0]))
    except ValueError:
        return None


class JourneyFacts:
    """What a journey's frames and routes say about the machines it crossed.

    A drawing without a topology still shows the addresses: each ``(node, iface)``
    gets the IPv4 addresses it was seen to own (a kernel route's ``src``, an ARP
    sender, a packet it sent itself with an initial TTL, a packet delivered to it,
    the host side of a NAT rewrite) with the prefix of a connected route when one
    was seen, and the MAC its own frames carried.
    """

    def __init__(self, journey: Any) -> None:
        self.ips: dict[tuple[str, str], list[str]] = {}
        self.macs: dict[tuple[str, str], str] = {}
        self.nets: dict[tuple[str, str], list[ipaddress.IPv4Network]] = {}
        # (a, b) -> weight: a frame left a and arrived at b (a wire), or b came next in
        # the same node (a bridge passing it on); the heavier, the surer
        self.pairs: dict[tuple[tuple[str, str], tuple[str, str]], float] = {}
        self.nodes: dict[str, list[str]] = {}  # node -> interfaces, in order seen
        self.fdb_bridges = {e.bridge for e in journey.steps if e.kind == "fdb" and e.bridge}
        seen = [e for e in journey.steps if e.kind == "seen" and e.iface]
        for e in seen:
            its = self.nodes.setdefault(e.node, [])
            if e.iface not in its:
                its.append(e.iface)
        self.host = "host" if "host" in self.nodes else max(
            self.nodes, key=lambda n: len(self.nodes[n]), default="host")
        bridges = set(self.bridges())
        last: dict[Any, tuple[str, str]] = {}
        sent: dict[Any, list[Any]] = {}  # frames that left a node, waiting to arrive
        for e in seen:
            here = (e.node, e.iface)
            prev = last.get(e.packet_id)
            if prev is not None and prev != here and (e.direction is None or prev[0] == e.node):
                self._vote(prev, here, 0.1)
            last[e.packet_id] = here
            if e.direction == "out" and not (e.node == self.host and e.iface in bridges):
                sent.setdefault(e.packet_id, []).append(e)
            elif e.direction == "in":
                waiting = sent.get(e.packet_id, [])
                o = next((o for o in waiting if o.node != e.node and o.frame == e.frame), None)
                if o is not None:  # first come, first served: a flood pairs up in order
                    waiting.remove(o)
                    self._vote((o.node, o.iface), here, 1.0)
        for e in journey.steps:
            if e.route:
                self._route(e.node, e.route)
        self._frames(journey, seen)

    # ------------------------------------------------------------ sources of addresses
    def _route(self, node: str, text: str) -> None:
        text = text.strip()
        if text.startswith("route "):
            text = text[len("route "):]
        m = _ROUTE.match(text)
        if m is None or m["dst"] == "default":
            return
        dev = m["dev"]
        if m["type"] == "local":
            self.add(node, dev, _ip4(m["dst"]))
            return
        if m["type"] or m["via"]:
            return
        try:
            net = ipaddress.ip_network(m["dst"], strict=False)
        except ValueError:
            return
        if net.version == 4:
            self.nets.setdefault((node, dev), []).append(net)
            src = re.search(r"\bsrc\s+(\S+)", m["rest"])
            if src:
                self.add(node, dev, _ip4(src[1]))

    def _frames(self, journey: Any, seen: list[Any]) -> None:
        host = self.host
        ports = set(self.bridge_ports())
        own_macs = {e.frame.src_mac for e in seen if e.node != host and e.frame is not None
                    and e.direction == "out"}
        delivered = {(e.node, e.packet_id) for e in journey.steps if e.kind == "deliver"}
        for e in seen:
            f = e.frame
            if f is None:
                continue
            if e.direction == "out":
                if e.node == host and (e.iface in ports or f.src_mac in own_macs):
                    continue  # a frame the bridge passed on, not one this interface sent
                if f.proto == "arp":
                    if f.arp_sender_mac in (None, f.src_mac):
                        self.add(e.node, e.iface, f.arp_sender_ip, f.src_mac)
                    continue
                self.add(e.node, e.iface, None, f.src_mac)
                if f.ttl in INITIAL_TTLS:
                    self.add(e.node, e.iface, f.src)
            elif e.direction == "in" and f.proto != "arp" and (e.node, e.packet_id) in delivered:
                if not (e.node == host and e.iface in ports):
                    self.add(e.node, e.iface, f.dst)
        # NAT on the host: the host's side of each rewrite is one of its own addresses
        steps = journey.steps
        for i, e in enumerate(steps):
            if e.kind != "nat" or e.node != host or not e.before or not e.after:
                continue
            before, after = _ip4(e.before), _ip4(e.after)
            came = next((x for x in reversed(steps[:i]) if x.kind == "seen" and x.node == host
                         and x.packet_id == e.packet_id and x.frame is not None), None)
            goes = next((x for x in steps[i + 1:] if x.kind == "seen" and x.node == host
                         and x.packet_id == e.packet_id), None)
            if came is None:
                continue
            if came.frame.dst == before and came.direction == "in":
                self.add(host, came.iface, before)  # DNAT / un-SNAT: was addressed to the host
            elif came.frame.src == before and goes is not None and goes.iface not in ports:
                self.add(host, goes.iface, after)  # SNAT / un-DNAT: leaves from the host

    def add(self, node: str, iface: str, ip: str | None, mac: str | None = None) -> None:
        ip = _ip4(ip) if ip else None
        if ip and ip not in self.ips.setdefault((node, iface), []):
            self.ips[(node, iface)].append(ip)
        if mac and mac != "00:00:00:00:00:00" and mac != "ff:ff:ff:ff:ff:ff":
            self.macs.setdefault((node, iface), mac)

    # ------------------------------------------------------------ answers
    def cidrs(self, node: str, iface: str) -> list[str]:
        """The addresses of ``node``/``iface``, with the prefix of a connected route if seen."""
        out = []
        for ip in self.ips.get((node, iface), []):
            nets = [n for n in self.nets.get((node, iface), [])
                    if ipaddress.IPv4Address(ip) in n]
            out.append(f"{ip}/{max(n.prefixlen for n in nets)}" if nets else ip)
        return out

    def bridges(self) -> list[str]:
        """The host's bridges: named like one, or named by a bridge's FDB event."""
        return [i for i in self.nodes.get(self.host, [])
                if i == "docker0" or i in self.fdb_bridges
                or i.startswith(("br-", "br0", "virbr", "cni", "lxcbr", "podman"))]

    def bridge_ports(self) -> list[str]:
        return [i for i in self.nodes.get(self.host, []) if i.startswith("veth")]

    def _vote(self, a: tuple[str, str], b: tuple[str, str], weight: float) -> None:
        key = (a, b) if a <= b else (b, a)
        self.pairs[key] = self.pairs.get(key, 0.0) + weight

    def weight(self, a: tuple[str, str], b: tuple[str, str]) -> float:
        return self.pairs.get((a, b) if a <= b else (b, a), 0.0)

    def neighbours(self, here: tuple[str, str]) -> list[tuple[str, str]]:
        """The (node, iface) points one wire (or one bridge) away from ``here``, surest first."""
        weights: dict[tuple[str, str], float] = {}
        for (a, b), w in self.pairs.items():
            for x, y in ((a, b), (b, a)):
                if x == here:
                    weights[y] = weights.get(y, 0.0) + w
        return sorted(weights, key=lambda k: -weights[k])


def model_from_journey(journey: Any) -> TopologyModel:
    """A topology guessed from the journey alone (when it carries no scenario).

    Containers are the machines seen next to a bridge port, peers the others;
    addresses and MACs come from what the frames and routes showed
    (:class:`JourneyFacts`), so the picture is labelled even without ``on=``.
    """
    from netlab.viz.topology import BridgeInfo

    facts = JourneyFacts(journey)
    host = facts.host
    model = TopologyModel(host=host, title=f"journey: {journey.probe.get('kind', 'probe')} "
                                           f"{journey.probe.get('src')} → "
                                           f"{journey.probe.get('dst')}")
    bridges = facts.bridges()
    ports = facts.bridge_ports()
    model.bridges = [BridgeInfo(b, facts.cidrs(host, b), facts.macs.get((host, b)))
                     for b in bridges]
    for name in facts.nodes.get(host, []):
        if name not in bridges and name not in ports and name != "lo":
            model.nics.append(NicInfo(name, facts.cidrs(host, name), facts.macs.get((host, name))))

    def bridge_of(port: str) -> str | None:
        near = [i for n, i in facts.neighbours((host, port)) if n == host and i in bridges]
        return near[0] if near else (bridges[0] if bridges else None)

    others = [n for n in facts.nodes if n != host]
    links = sorted(((facts.weight((node, it), (host, port)), node, it, port)
                    for node in others for it in facts.nodes[node] for port in ports
                    if facts.weight((node, it), (host, port)) > 0), reverse=True)
    plugged: dict[str, tuple[str, str]] = {}  # container -> (its iface, host-side veth)
    for _w, node, it, port in links:  # surest pairs first, each veth to one container
        if node not in plugged and port not in {v for _, v in plugged.values()}:
            plugged[node] = (it, port)
    later: list[PeerInfo] = []
    for node in others:
        its = facts.nodes[node]
        on_bridge = next((i for it in its for n, i in facts.neighbours((node, it))
                          if n == host and i in bridges), None)
        if node in plugged or on_bridge is not None:
            iface, veth = plugged.get(node, (its[0], None))
            model.containers.append(ContainerInfo(
                node, veth, iface, facts.cidrs(node, iface), facts.macs.get((node, iface)),
                bridge=bridge_of(veth) if veth else on_bridge))
            continue
        nic = next(((i, it) for it in its for n, i in facts.neighbours((node, it))
                    if n == host and i not in ports), None)
        other = next(((n, it) for it in its for n, _ in facts.neighbours((node, it))
                      if n != host), None)
        attach, iface = nic if nic else (other if other else (None, its[0]))
        role = node if node in ("client", "gateway", "internet") else "client"
        peer = PeerInfo(node, role, facts.cidrs(node, iface), attach, iface)
        (model.peers if nic else later).append(peer)
    model.peers.extend(later)
    return model


def _alias_host(lay: Layout, journey: Any) -> None:
    """Let the journey's name for the host (``host``) find a model named after a
    hostname (a snapshot or paste of a machine called, say, ``docker-vm``)."""
    model = lay.model
    if model is None or model.host == "host":
        return
    nodes = {e.node for e in journey.steps}
    if "host" in nodes and model.host not in nodes:
        for (node, iface), key in list(lay.anchors.items()):
            if node == model.host:
                lay.anchors.setdefault(("host", iface), key)


def _alias_nodes(lay: Layout, journey: Any) -> None:
    """Find the journey's machines in a picture that names them otherwise.

    A snapshot names a container by its namespace (``nl1a2b-web``) or not at all,
    and the LAN by its prefix; the journey says ``web`` and ``client``.  A
    container is the box behind the veth it was seen next to; a peer is the box
    beside the NIC it was seen next to.
    """
    model = lay.model
    if model is None:
        return
    facts = JourneyFacts(journey)
    host = facts.host if facts.host in (model.host, "host") else model.host
    by_veth = {c.veth: ("container", c.name + "|" + (c.veth or "")) for c in model.containers
               if c.veth}
    by_nic = {p.attach: ("peer", p.name) for p in model.peers if p.attach}
    for node, its in facts.nodes.items():
        if node == host or (node, "") in lay.anchors:
            continue
        for it in its:
            key = None
            for n, i in facts.neighbours((node, it)):
                if n == host:
                    key = by_veth.get(i) or by_nic.get(i)
                    if key is not None:
                        break
            if key is not None and key in lay.boxes:
                lay.anchors[(node, "")] = key
                lay.anchors[(node, it)] = key
                break


def current_hop(hops: list[Hop], current: int | None) -> int | None:
    """Index of the hop where the packet is at event ``current`` (its seq)."""
    if current is None:
        return None
    k = None
    for i, h in enumerate(hops):
        if h.event_seq <= current:
            k = i
    return k


def draw_journey(journey: Any, on: Any = None, packet: int | None | str = "first",
                 title: str | None = None, current: int | None = None) -> Any:
    """Draw ``journey`` on the topology of ``on`` (a net, Scenario or HostState).

    Without ``on`` the journey's own scenario (``journey.scenario``) is used, and
    failing that a topology guessed from the journey's frames and routes.

    Numbered markers show where the packet was seen, in order; the table under
    the picture gives the addresses at each hop and every NAT rewrite (before →
    after, and the rule).  ``packet`` picks one packet of the probe (default:
    the first; None: all).  ``current`` (an event's seq) rings the hop where the
    packet is at that event and fades the ones still to come (the stepper uses
    it).  Returns a matplotlib Figure.  Lessons 4–5.
    """
    from matplotlib.patches import Circle, FancyArrowPatch

    if not (hasattr(journey, "steps") and hasattr(journey, "probe")):
        raise TypeError("draw_journey needs a Journey (journey = net.probe('http', "
                        "src='client', dst='192.168.56.38', dport=80)); got "
                        + type(journey).__name__)
    if on is None:
        on = getattr(journey, "scenario", None)
    lay: Layout = layout_topology(on if on is not None else model_from_journey(journey))
    _alias_host(lay, journey)
    _alias_nodes(lay, journey)
    hops = hop_table(journey, packet)
    drops = [e for e in journey.steps if e.kind == "drop"
             and (packet in (None, "first") or e.packet_id in (packet, None))]
    drop_lines: dict[str, int] = {}  # the same drop of several copies: one line, counted
    for e in drops:
        text = f"dropped in {e.node}: {e.reason or e.detail}"
        drop_lines[text] = drop_lines.get(text, 0) + 1
    n_lines = 2 + sum(1 + len(h.nat) + len(h.nat_after) for h in hops) + len(drop_lines)
    table_h = n_lines * LINE + 0.3
    wheres = [f"{h.node}:{h.iface or '-'}" + (f" ({h.direction})" if h.direction else "")
              for h in hops]
    ww = max([27, *map(len, wheres)])  # columns grow with the names: nothing is cut off
    sw = max([40, *(len(h.summary) for h in hops)])
    longest = max([5 + ww + 1 + sw + 1 + max([4, *(len(h.macs) for h in hops)]),
                   *(27 + len(n) for h in hops for n in h.nat + h.nat_after),
                   *(len(t) + 14 for t in drop_lines)])
    fig, ax = new_figure(max(lay.width, 0.4 + longest * MONO_CHAR), lay.height + table_h)
    ax.set_ylim(-table_h, lay.height)
    draw_layout(ax, lay, faded=True)
    heading = title or (
        f"{journey.probe.get('kind', 'probe')} {journey.probe.get('src')} → "
        f"{journey.probe.get('dst')}"
        + (f":{journey.probe.get('dport')}" if journey.probe.get("dport") else "")
        + f" — {journey.outcome}" + (f" ({journey.reason})" if journey.reason else ""))
    ax.text(0.15, lay.height - 0.18, heading, fontsize=FONT + 2.5, va="top", ha="left",
            weight="bold", color="#922b21" if not journey.ok else "#1b4f72")
    # markers and arrows
    per_box: dict[tuple[str, str], int] = {}
    points: list[tuple[float, float] | None] = []
    here = current_hop(hops, current)
    for i, h in enumerate(hops):
        box = lay.anchor(h.node, h.iface)
        if box is None:
            points.append(None)
            continue
        k = per_box.get(box.key, 0)
        per_box[box.key] = k + 1
        per_row = max(1, int((box.w - 0.1) / 0.24))
        x = box.x + 0.13 + (k % per_row) * 0.24
        y = box.y + box.h + 0.02 + (k // per_row) * 0.24
        points.append((x, y))
        later = here is not None and i > here
        if here is not None and i == here:
            ax.add_patch(Circle((x, y), 0.17, fc="#f4d03f", ec="#b7950b", lw=1.0, zorder=5.5))
        ax.add_patch(Circle((x, y), 0.1, fc="#c0392b" if h.nat or h.nat_after else "#1f618d",
                            ec="white", lw=0.8, zorder=6, alpha=0.35 if later else 1.0))
        ax.text(x, y, str(h.number), ha="center", va="center", fontsize=FONT,
                color="white", weight="bold", zorder=7)
    router = lay.boxes.get(("router", "host"))

    def arrow(a: tuple[float, float], b: tuple[float, float], head: bool = True) -> None:
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>" if head else "-",
                                     mutation_scale=9, color="#1f618d", lw=1.4, zorder=2.5,
                                     connectionstyle="arc3,rad=-0.12", shrinkA=6,
                                     shrinkB=6 if head else 0))

    prev: tuple[float, float] | None = None
    prev_hop: Hop | None = None
    nat_labels: list[str] = []
    for i, (h, pt) in enumerate(zip(hops, points, strict=True)):
        if pt is None or (here is not None and i > here):
            continue
        if prev is not None and prev != pt:
            # prev_hop is set with prev, and a hop with a point has a box
            assert prev_hop is not None
            prev_box, box = lay.anchor(prev_hop.node, prev_hop.iface), lay.anchor(h.node, h.iface)
            assert prev_box is not None and box is not None
            kinds = {prev_box.kind, box.kind}
            routed = ("nic" in kinds and bool(kinds & {"bridge", "veth"})) or kinds == {"nic"}
            # (layout_topology draws the router box only with its model: lay.model is set)
            if router is not None and lay.model is not None and \
                    h.node == prev_hop.node == lay.model.host and routed:
                # host NIC <-> bridge: the kernel's routing decision sits in between
                mid = (router.cx, router.y + router.h)
                arrow(prev, mid, head=False)
                arrow(mid, pt)
            else:
                arrow(prev, pt)
        if h.node == (lay.model.host if lay.model else "host"):
            nat_labels.extend(n.split(" by ")[0] for n in h.nat + h.nat_after)
        prev, prev_hop = pt, h
    if router is not None and nat_labels:
        for i, label in enumerate(nat_labels[:3]):
            kind, _, rest = label.partition(" ")
            after = rest.split(" → ")[-1]
            ax.text(router.cx, router.y - 0.12 - i * 0.16, f"{kind} → {after}", ha="center",
                    va="top", fontsize=FONT, color="#c0392b", weight="bold",
                    family="DejaVu Sans Mono", zorder=7)
    for e in drops:
        box = lay.anchor(e.node, e.iface)
        if box is not None:
            ax.plot([box.x + box.w - 0.3, box.x + box.w - 0.1],
                    [box.y + box.h + 0.15, box.y + box.h - 0.05], color="#c0392b", lw=2.5,
                    zorder=8)
            ax.plot([box.x + box.w - 0.3, box.x + box.w - 0.1],
                    [box.y + box.h - 0.05, box.y + box.h + 0.15], color="#c0392b", lw=2.5,
                    zorder=8)
    # the hop table
    y = -0.2
    ax.text(0.15, y, f"{'hop':>3}  {'where':<{ww}} {'what tcpdump there shows':<{sw}} MACs",
            fontsize=FONT,
            family="DejaVu Sans Mono", weight="bold", va="top")
    y -= LINE
    for h, where in zip(hops, wheres, strict=True):
        is_here = here is not None and h.number - 1 == here
        ax.text(0.15, y, f"{h.number:>3}  {where:<{ww}} {h.summary:<{sw}} {h.macs}",
                fontsize=FONT, family="DejaVu Sans Mono", va="top",
                weight="bold" if is_here else "normal",
                **({"backgroundcolor": "#fcf3cf"} if is_here else {}))
        y -= LINE
        for when, items in (("before", h.nat), ("after", h.nat_after)):
            for note in items:
                ax.text(0.15, y, f"     ↳ {when} this hop: {note}", fontsize=FONT,
                        family="DejaVu Sans Mono", va="top", color="#c0392b")
                y -= LINE
    for text, n in drop_lines.items():
        ax.text(0.15, y, f"  X  {text}" + (f"  (×{n})" if n > 1 else ""), fontsize=FONT,
                family="DejaVu Sans Mono", va="top", color="#c0392b", weight="bold")
        y -= LINE
    fig.netlab_layout = lay
    fig.netlab_hops = hops
    fig.netlab_current_hop = here
    return fig
