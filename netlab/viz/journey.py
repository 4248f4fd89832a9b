"""A probe's path drawn on the topology: numbered hops, addresses at each, NAT rewrites.

Each "seen" event of a :class:`~netlab.journey.Journey` (the packet crossing an
interface, as tcpdump there would show it) becomes a numbered marker on the box
of that interface; arrows join them in order.  Below the picture, one line per
hop gives the addresses there, and where a NAT rewrite happened in between, the
before → after and the rule that did it (lessons 4–5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netlab.viz._figure import FONT, new_figure
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
            kind = e.detail.split()[0] if e.detail else "NAT"
            if kind in ("conntrack", "de-NAT") or (e.detail and "conntrack" in e.detail):
                kind = "un-NAT"  # conntrack applying a connection's NAT to a later packet
            elif kind not in ("DNAT", "SNAT", "MASQUERADE", "REDIRECT"):
                kind = "NAT"
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


def model_from_journey(journey: Any) -> TopologyModel:
    """A topology guessed from the journey alone (used when no net/scenario is given)."""
    model = TopologyModel(title=f"journey: {journey.probe.get('kind', 'probe')} "
                                f"{journey.probe.get('src')} → {journey.probe.get('dst')}")
    seen: dict[str, dict[str, Any]] = {}
    for e in journey.steps:
        if e.iface:
            seen.setdefault(e.node, {}).setdefault(e.iface, e.frame)
    host = "host" if "host" in seen else next(iter(seen), "host")
    model.host = host
    ifaces = seen.get(host, {})
    bridges = [i for i in ifaces if i == "docker0" or i.startswith("br")]
    from netlab.viz.topology import BridgeInfo

    model.bridges = [BridgeInfo(b) for b in bridges]
    for name in ifaces:
        if name not in bridges and not name.startswith("veth") and name != "lo":
            model.nics.append(NicInfo(name))
    veths = [i for i in ifaces if i.startswith("veth")]
    for node, its in seen.items():
        if node == host:
            continue
        iface = next(iter(its))
        if node in ("client", "gateway", "internet"):
            model.peers.append(PeerInfo(node, node, [], None, iface))
        else:
            model.containers.append(ContainerInfo(node, veths.pop(0) if veths else None, iface,
                                                  bridge=bridges[0] if bridges else None))
    # attach peers to the NIC they were seen next to
    order = [(e.node, e.iface) for e in journey.steps if e.kind == "seen"]
    for p in model.peers:
        for i, (n, _) in enumerate(order):
            if n == p.name:
                near = [x for x in order[max(0, i - 1): i + 2] if x[0] == host]
                if near:
                    p.attach = near[0][1]
                    break
    return model


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

    Numbered markers show where the packet was seen, in order; the table under
    the picture gives the addresses at each hop and every NAT rewrite (before →
    after, and the rule).  ``packet`` picks one packet of the probe (default:
    the first; None: all).  ``current`` (an event's seq) rings the hop where the
    packet is at that event and fades the ones still to come (the stepper uses
    it).  Returns a matplotlib Figure.  Lessons 4–5.
    """
    from matplotlib.patches import Circle, FancyArrowPatch

    lay: Layout = layout_topology(on if on is not None else model_from_journey(journey))
    hops = hop_table(journey, packet)
    drops = [e for e in journey.steps if e.kind == "drop"
             and (packet in (None, "first") or e.packet_id in (packet, None))]
    n_lines = 2 + sum(1 + len(h.nat) + len(h.nat_after) for h in hops) + len(drops)
    table_h = n_lines * LINE + 0.3
    fig, ax = new_figure(lay.width, lay.height + table_h)
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
        ax.text(x, y, str(h.number), ha="center", va="center", fontsize=FONT - 1,
                color="white", weight="bold", zorder=7)
    router = lay.boxes.get(("router", "host"))

    def arrow(a: tuple[float, float], b: tuple[float, float], head: bool = True) -> None:
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>" if head else "-",
                                     mutation_scale=9, color="#1f618d", lw=1.4, zorder=2.5,
                                     connectionstyle="arc3,rad=-0.12", shrinkA=6,
                                     shrinkB=6 if head else 0))

    prev = prev_hop = None
    nat_labels: list[str] = []
    for i, (h, pt) in enumerate(zip(hops, points, strict=True)):
        if pt is None or (here is not None and i > here):
            continue
        if prev is not None and prev != pt:
            kinds = {lay.anchor(prev_hop.node, prev_hop.iface).kind,
                     lay.anchor(h.node, h.iface).kind}
            routed = ("nic" in kinds and bool(kinds & {"bridge", "veth"})) or kinds == {"nic"}
            if router is not None and h.node == prev_hop.node == lay.model.host and routed:
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
                    va="top", fontsize=FONT - 0.5, color="#c0392b", weight="bold",
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
    ax.text(0.15, y, f"{'hop':>3}  {'where':<27} {'what tcpdump there shows':<64} MACs",
            fontsize=FONT,
            family="DejaVu Sans Mono", weight="bold", va="top")
    y -= LINE
    for h in hops:
        where = f"{h.node}:{h.iface or '-'}" + (f" ({h.direction})" if h.direction else "")
        is_here = here is not None and h.number - 1 == here
        ax.text(0.15, y, f"{h.number:>3}  {where:<27.27} {h.summary:<64.64} {h.macs}",
                fontsize=FONT, family="DejaVu Sans Mono", va="top",
                weight="bold" if is_here else "normal",
                **({"backgroundcolor": "#fcf3cf"} if is_here else {}))
        y -= LINE
        for when, items in (("before", h.nat), ("after", h.nat_after)):
            for n in items:
                ax.text(0.15, y, f"     ↳ {when} this hop: {n}", fontsize=FONT,
                        family="DejaVu Sans Mono", va="top", color="#c0392b")
                y -= LINE
    for e in drops:
        ax.text(0.15, y, f"  X  dropped in {e.node}: {e.reason or e.detail}", fontsize=FONT,
                family="DejaVu Sans Mono", va="top", color="#c0392b", weight="bold")
        y -= LINE
    fig.netlab_layout = lay
    fig.netlab_hops = hops
    fig.netlab_current_hop = here
    return fig
