"""The host's wiring as a picture: NICs, docker0, veth pairs into container namespaces.

``draw_topology`` accepts a connected net (``nl.connect()``), a
:class:`~netlab.scenarios.topology.Scenario` or a :class:`~netlab.model.HostState`
(parsed from the article's pastes or a live snapshot).  Everything is first
reduced to a :class:`TopologyModel` — the few facts the picture shows — then laid
out on a fixed grid measured in inches, so the same host always looks the same
and labels have room whatever the number of containers (lessons 1–3).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeGuard

from netlab.viz.figure import FONT, new_figure

if TYPE_CHECKING:  # for the type checker only: at run time this module never imports scenarios
    from netlab.scenarios.topology import Scenario

# ---------------------------------------------------------------- the model


@dataclass
class NicInfo:
    """A physical NIC of the host (``enp0s3``) and its addresses."""

    name: str
    addresses: list[str] = field(default_factory=list)
    mac: str | None = None
    note: str | None = None  # e.g. "from ip route" when the paste elided it


@dataclass
class BridgeInfo:
    """A bridge in the host (docker0 / br-…) with the host's own address on it."""

    name: str
    addresses: list[str] = field(default_factory=list)
    mac: str | None = None


@dataclass
class ContainerInfo:
    """A container namespace and the veth pair that plugs it into a bridge."""

    name: str
    veth: str | None  # host-side end (vethXXXXXXX)
    eth: str = "eth0"  # namespace-side end
    addresses: list[str] = field(default_factory=list)
    mac: str | None = None
    bridge: str | None = None
    ports: list[str] = field(default_factory=list)  # "80:80/tcp"
    known: bool = True  # False: only the host side was in the paste / snapshot
    unknown_note: str = "not in the paste"


@dataclass
class PeerInfo:
    """A machine outside the host: LAN client, gateway, internet."""

    name: str
    role: str
    addresses: list[str] = field(default_factory=list)
    attach: str | None = None  # the host NIC (or other peer) it sits behind
    iface: str | None = None


@dataclass
class TopologyModel:
    """What the topology picture shows, whatever it was read from."""

    host: str = "host"
    nics: list[NicInfo] = field(default_factory=list)
    bridges: list[BridgeInfo] = field(default_factory=list)
    containers: list[ContainerInfo] = field(default_factory=list)
    peers: list[PeerInfo] = field(default_factory=list)
    title: str = ""
    forwarding: str | None = None  # net.ipv4.ip_forward value, if known


def _ip_key(cidrs: list[str]) -> tuple[int, int]:
    for c in cidrs:
        try:
            return (0, int(ipaddress.ip_interface(c).ip))
        except ValueError:
            continue
    return (1, 0)


def _sort(model: TopologyModel) -> TopologyModel:
    """Deterministic order: the same host always draws the same way."""
    model.nics.sort(key=lambda n: n.name)
    model.bridges.sort(key=lambda b: (b.name != "docker0", b.name))
    border = {b.name: i for i, b in enumerate(model.bridges)}
    model.containers.sort(
        key=lambda c: (border.get(c.bridge or "", len(border)), _ip_key(c.addresses), c.name)
    )
    role_order = {"gateway": 0, "internet": 1, "client": 2}
    model.peers.sort(key=lambda p: (role_order.get(p.role, 3), p.name))
    return model


def model_from_scenario(scenario: Any, title: str | None = None) -> TopologyModel:
    """Reduce a Scenario (plain data) to what the picture shows."""
    host = scenario.host
    model = TopologyModel(host=host.name, title=title or f"scenario {scenario.name}")
    model.forwarding = host.sysctls.get("net.ipv4.ip_forward")
    bridge_names = {i.name for i in host.interfaces if i.kind == "bridge"}
    for iface in host.interfaces:
        if iface.kind == "bridge":
            model.bridges.append(BridgeInfo(iface.name, list(iface.addresses), iface.mac))
    container_names = {c.name for c in scenario.containers}
    for iface in host.interfaces:
        if iface.kind in ("bridge", "loopback") or iface.name == "lo":
            continue
        far = scenario.peer(host.name, iface.name)
        if iface.master in bridge_names or (far is not None and far[0] in container_names):
            continue  # a container's veth: drawn with the container
        model.nics.append(NicInfo(iface.name, list(iface.addresses), iface.mac))
    for c in scenario.containers:
        eth = next((i for i in c.interfaces if i.kind != "loopback" and i.name != "lo"), None)
        veth = bridge = None
        if eth is not None:
            far = scenario.peer(c.name, eth.name)
            if far is not None and far[0] == host.name:
                veth = far[1]
                try:
                    bridge = host.interface(veth).master
                except KeyError:
                    bridge = None
        model.containers.append(ContainerInfo(
            name=c.name, veth=veth, eth=eth.name if eth else "eth0",
            addresses=list(eth.addresses) if eth else [], mac=eth.mac if eth else None,
            bridge=bridge or c.network, ports=[str(p) for p in c.ports]))
    nic_names = {n.name for n in model.nics}
    for node in scenario.nodes.values():
        if node.role in ("host", "container"):
            continue
        attach = iface_name = None
        for i in node.interfaces:
            far = scenario.peer(node.name, i.name)
            if far is None:
                continue
            if far[0] == host.name and far[1] in nic_names:
                attach, iface_name = far[1], i.name
                break
            if attach is None and far[0] != host.name:
                attach, iface_name = far[0], i.name
        addrs = [a for i in node.interfaces if i.kind != "loopback" for a in i.addresses]
        model.peers.append(PeerInfo(node.name, node.role, addrs, attach, iface_name))
    return _sort(model)


def root_netns(state: Any) -> str:
    """The namespace the host's own interfaces live in ("" for a paste or a snapshot
    of this machine; the lab's host namespace name for a lab's state)."""
    names = {link.netns for link in state.links}
    if "" in names or not names:
        return ""
    bridged = [link.netns for link in state.links if link.kind == "bridge"]
    return bridged[0] if bridged else state.namespaces[0].name


def model_from_state(state: Any, title: str | None = None) -> TopologyModel:
    """Reduce a HostState (pasted or snapshotted) to what the picture shows.

    A paste often elides the NICs (``...``); their addresses are then taken from
    the kernel routes (``proto kernel … src``), and a veth whose peer lives in a
    namespace the paste does not show becomes a container box marked unknown.
    A veth that is no bridge's port is drawn as a NIC: Docker always plugs a
    container's veth into a bridge (and netlab's labs wire the LAN with veths).
    """
    root = root_netns(state)
    model = TopologyModel(host=state.hostname or "host",
                          title=title or f"host ({state.source})")
    model.forwarding = state.sysctl("net.ipv4.ip_forward", root)
    bridges = [link for link in state.links if link.netns == root and link.kind == "bridge"]
    for br in bridges:
        model.bridges.append(BridgeInfo(
            br.name, [a.cidr for a in state.addresses_of(br.name, root, family=4)], br.mac))
    bridge_names = {b.name for b in bridges}
    for link in state.links:
        if link.netns != root or link.kind in ("bridge", "loopback") or link.name == "lo":
            continue
        if link.master in bridge_names or (link.kind == "veth" and link.master):
            continue
        model.nics.append(NicInfo(
            link.name, [a.cidr for a in state.addresses_of(link.name, root, family=4)], link.mac))
    known = {n.name for n in model.nics} | bridge_names
    for r in state.route_list:
        if (r.netns != root or r.family != 4 or not r.dev or r.dev in known or r.dev == "lo"
                or r.table not in ("main", None)):
            continue
        link = state.link(r.dev, root)
        if link is not None and (link.kind == "veth" or link.master):
            continue
        addrs = []
        if r.src and r.dst != "default":
            net = ipaddress.ip_network(r.dst, strict=False)
            addrs.append(f"{r.src}/{net.prefixlen}")
        model.nics.append(NicInfo(r.dev, addrs, note="from ip route"))
        known.add(r.dev)
    for nic in model.nics:  # fill an address the route table knows but ip addr elided
        if not nic.addresses:
            for r in state.route_list:
                if r.netns == root and r.dev == nic.name and r.src and r.dst != "default":
                    net = ipaddress.ip_network(r.dst, strict=False)
                    nic.addresses.append(f"{r.src}/{net.prefixlen}")
                    nic.note = nic.note or "address from ip route"
    note = "not in the paste" if state.source == "paste" else "namespace not read"
    for link, peer, peer_ns in state.veth_pairs():
        if not (link.master or (peer is not None and peer.master)):
            continue  # not a bridge port: drawn as a NIC above
        if link.netns != root:
            if peer is not None and peer.netns == root:
                link, peer, peer_ns = peer, link, link.netns
            else:
                continue
        if peer is not None:
            name = peer_ns or "?"
            ns = state.namespace(peer_ns) if peer_ns else None
            model.containers.append(ContainerInfo(
                name=(ns.hostname if ns and ns.hostname else name), veth=link.name,
                eth=peer.name,
                addresses=[a.cidr for a in state.addresses_of(peer.name, peer.netns, family=4)],
                mac=peer.mac, bridge=link.master))
        else:
            where = peer_ns or (f"netnsid {link.peer_netnsid}"
                                if link.peer_netnsid is not None else "other namespace")
            eth = f"if{link.peer_ifindex}" if link.peer_ifindex is not None else "?"
            model.containers.append(ContainerInfo(
                name=where, veth=link.name, eth=eth, bridge=link.master, known=False,
                unknown_note=note))
    # bridge ports without a veth record (brctl show only)
    ported = {c.veth for c in model.containers}
    for p in state.ports:
        if p.netns == root and p.port not in ported and p.port.startswith("veth"):
            model.containers.append(ContainerInfo(name="other namespace", veth=p.port,
                                                  eth="?", bridge=p.bridge, known=False,
                                                  unknown_note=note))
    _containers_from_inspect(state, model)
    # the outside: the default gateway, and the LAN behind each other NIC
    gw_nics = set()
    for r in state.route_list:
        if r.netns == root and r.family == 4 and r.dst == "default" and r.gateway:
            model.peers.append(PeerInfo("gateway", "gateway", [r.gateway], r.dev))
            model.peers.append(PeerInfo("internet", "internet", [], "gateway"))
            gw_nics.add(r.dev)
            break
    for nic in model.nics:
        if nic.name in gw_nics or not nic.addresses:
            continue
        net = ipaddress.ip_interface(nic.addresses[0]).network
        model.peers.append(PeerInfo(f"LAN {net}", "client", [], nic.name))
    return _sort(model)


def _containers_from_inspect(state: Any, model: TopologyModel) -> None:
    """Name the boxes behind the host's veths after ``docker inspect`` (``state.containers``):
    on each bridge, the containers whose address is on its subnet take its unknown boxes in
    order (one each: the host's pastes do not say which veth is whose); a container with
    no veth box in the paste gets a box of its own."""
    inspected = getattr(state, "containers", None) or []
    if not inspected:
        return
    subnets = {b.name: [ipaddress.ip_interface(a).network for a in b.addresses] for b in model.bridges}
    on_bridge: dict[str, list[tuple[Any, Any, int]]] = {}
    for ctr in inspected:
        for ep in ctr.networks:
            if not ep.ip or ":" in ep.ip:
                continue
            ip = ipaddress.ip_address(ep.ip)
            for bridge, nets in subnets.items():
                net = next((n for n in nets if ip in n), None)
                if net is not None:
                    on_bridge.setdefault(bridge, []).append((ctr, ep, ep.prefixlen or net.prefixlen))
                    break
    shown = {c.name for c in model.containers if c.known}
    for bridge, items in on_bridge.items():
        items = [item for item in items if item[0].name not in shown]
        boxes = [c for c in model.containers if c.bridge == bridge and not c.known]
        for i, (ctr, ep, plen) in enumerate(items):
            ports = [f"{p.host_ip + ':' if p.host_ip not in (None, '0.0.0.0') else ''}"
                     f"{p.host_port}:{p.container_port}/{p.proto}"
                     for p in ctr.ports if p.host_port and ":" not in (p.host_ip or "")]
            if i < len(boxes):
                box = boxes[i]
                box.name, box.known, box.mac = ctr.name, True, ep.mac or box.mac
                box.addresses, box.ports = [f"{ep.ip}/{plen}"], ports
            else:
                model.containers.append(ContainerInfo(name=ctr.name, veth=None, addresses=[f"{ep.ip}/{plen}"],
                                                      mac=ep.mac, bridge=bridge, ports=ports))


def is_scenario(obj: Any) -> TypeGuard[Scenario]:
    """A Scenario (checked by shape, so this module never imports the scenarios package)."""
    return hasattr(obj, "nodes") and hasattr(obj, "wires") and hasattr(obj, "peer")


def topology_model(obj: Any) -> TopologyModel:
    """A :class:`TopologyModel` from a net, a Scenario, a HostState or a model."""
    if isinstance(obj, TopologyModel):
        return obj
    from netlab.model import HostState

    if isinstance(obj, HostState):
        return model_from_state(obj)
    if is_scenario(obj):
        return model_from_scenario(obj)
    scenario = getattr(obj, "scenario", None)
    if is_scenario(scenario):
        mode = getattr(obj, "mode", None)
        return model_from_scenario(scenario, title=f"scenario {scenario.name}"
                                   + (f" ({mode})" if mode else ""))
    raise TypeError(
        "draw_topology needs a connected net (nl.connect()), a Scenario or a HostState "
        f"(nl.parse_host(...)); got {type(obj).__name__}"
    )


# ---------------------------------------------------------------- the layout

ROW = 0.66  # inches between container rows
BOX_H = 0.52
NIC_ROW = 0.95
TOP = 0.55  # title band
BOTTOM = 0.25

# column x positions (inches): left edge, width
COL = {
    "internet": (0.15, 1.45),
    "peer": (1.9, 1.6),
    "nic": (4.0, 1.65),
    "router": (6.1, 1.35),
    "bridge": (7.95, 1.65),
    "veth": (10.0, 1.45),
    "container": (11.95, 2.35),
}
HOST_X0, HOST_X1 = 3.8, 11.6  # the host namespace box (its right edge is the boundary)
WIDTH = 14.5


@dataclass
class Box:
    """A rectangle on the figure (inches) with its label lines."""

    key: tuple[str, str]
    x: float
    y: float
    w: float
    h: float
    lines: list[str]
    kind: str

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def left(self) -> tuple[float, float]:
        return (self.x, self.cy)

    @property
    def right(self) -> tuple[float, float]:
        return (self.x + self.w, self.cy)


@dataclass
class Layout:
    """Where everything is: boxes by key and the lines joining them."""

    width: float
    height: float
    boxes: dict[tuple[str, str], Box] = field(default_factory=dict)
    lines: list[tuple[tuple[str, str], tuple[str, str], str]] = field(default_factory=list)
    host_box: tuple[float, float, float, float] = (0, 0, 0, 0)
    model: TopologyModel | None = None
    # (node, iface) -> box key, for journeys
    anchors: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)

    def anchor(self, node: str, iface: str | None) -> Box | None:
        """The box a packet at ``node``/``iface`` is drawn on (None if not in the picture)."""
        key = self.anchors.get((node, iface or ""))
        if key is None:
            key = self.anchors.get((node, ""))
        return self.boxes.get(key) if key else None


def _nic_lines(n: NicInfo) -> list[str]:
    return [n.name, *(n.addresses[:1] or ["(no IPv4)"])]


CHAR_W = 0.072  # inches per character of a box label (bold first line, a little over)


def _container_lines(c: ContainerInfo) -> list[str]:
    ports = f"-p {', '.join(c.ports)}" if c.ports else ""
    first = [f"{c.name}  {ports}" if ports else c.name]
    if len(first[0]) > 32:  # too long for one line: the published ports get their own
        first = [c.name, ports] if ports else first
    if not c.known:
        return [*first, f"{c.eth} ({c.unknown_note})"]
    lines = [*first, f"{c.eth} {c.addresses[0] if c.addresses else '(no IPv4)'}"]
    if c.mac and len(lines) < 3:  # a box holds three lines: the ports win over the MAC
        lines.append(c.mac)
    return lines


def layout_topology(obj: Any) -> Layout:
    """Place every box on the fixed grid (deterministic; see module docstring)."""
    model = topology_model(obj)
    groups: list[tuple[BridgeInfo | None, list[ContainerInfo]]] = []
    for bi in model.bridges:
        groups.append((bi, [c for c in model.containers if c.bridge == bi.name]))
    loose = [c for c in model.containers if c.bridge not in {b.name for b in model.bridges}]
    if loose:
        groups.append((None, loose))
    # rows used by each bridge group (at least 1, so a bridge with no container still shows)
    rows = sum(max(len(cs), 1) for _, cs in groups)
    # bridges need vertical room for 3 label lines: a one-row group is tall enough
    content_h = max(rows * ROW, len(model.nics) * NIC_ROW, 3 * NIC_ROW if model.peers else 0,
                    1.6)
    # room above the first row for the namespace captions and a journey's markers
    height = TOP + content_h + BOTTOM + 0.5
    # the container column grows with the longest label (a long name, many -p), so
    # nothing is cut off; the rest of the grid never moves
    cx, cw = COL["container"]
    longest = max((len(line) for c in model.containers for line in _container_lines(c)),
                  default=0)
    cols = {**COL, "container": (cx, max(cw, longest * CHAR_W + 0.3))}
    lay = Layout(max(WIDTH, cx + cols["container"][1] + 0.2), height, model=model)
    top = height - TOP - 0.35  # y of the first row's top

    def add(key: tuple[str, str], col: str, ymid: float, lines: list[str], kind: str,
            h: float = BOX_H) -> Box:
        x, w = cols[col]
        box = Box(key, x, ymid - h / 2, w, h, lines, kind)
        lay.boxes[key] = box
        return box

    # containers, veths and bridges, group by group
    # centre the container rows in the content band
    row = max(0.0, (content_h - rows * ROW) / 2 / ROW)
    for br, cs in groups:
        n = max(len(cs), 1)
        y_first = top - ROW / 2 - row * ROW
        y_last = top - ROW / 2 - (row + n - 1) * ROW
        if br is not None:
            bh = (y_first - y_last) + BOX_H
            lines = [br.name, *(br.addresses[:1] or ["(no address)"])]
            if br.mac:
                lines.append(br.mac)
            b = add(("bridge", br.name), "bridge", (y_first + y_last) / 2, lines, "bridge", bh)
            lay.anchors[(model.host, br.name)] = b.key
            lay.lines.append((("router", "host"), b.key, "route"))
        for i, c in enumerate(cs):
            y = y_first - i * ROW
            if c.veth:
                v = add(("veth", c.veth), "veth", y, [c.veth], "veth", 0.34)
                lay.anchors[(model.host, c.veth)] = v.key
                if br is not None:
                    lay.lines.append((("bridge", br.name), v.key, "port"))
            lines = _container_lines(c)
            cb = add(("container", c.name + "|" + (c.veth or "")), "container", y, lines,
                     "container")
            lay.anchors[(c.name, "")] = cb.key
            lay.anchors[(c.name, c.eth)] = cb.key
            if c.veth:
                lay.lines.append((("veth", c.veth), cb.key, "veth"))
        row += n
    # NICs, spread over the content height, and the peers beyond them
    mid = top - content_h / 2
    nn = len(model.nics)
    for i, nic in enumerate(model.nics):
        y = mid + (nn - 1) * NIC_ROW / 2 - i * NIC_ROW
        b = add(("nic", nic.name), "nic", y, _nic_lines(nic), "nic")
        lay.anchors[(model.host, nic.name)] = b.key
        lay.lines.append((b.key, ("router", "host"), "route"))
    rlines = ["routing", "netfilter"]
    if model.forwarding is not None:
        rlines.append(f"ip_forward={model.forwarding}")
    r = add(("router", "host"), "router", mid, rlines, "router", 0.62)
    lay.anchors[(model.host, "")] = r.key
    lay.anchors[(model.host, "lo")] = r.key
    # peers: beside the NIC they attach to; stacked when several share one
    used_y: list[float] = []

    def free_y(y: float) -> float:
        while any(abs(y - u) < BOX_H + 0.12 for u in used_y):
            y -= BOX_H + 0.15
        used_y.append(y)
        return y

    chained = []
    for p in model.peers:
        nic_box = lay.boxes.get(("nic", p.attach or ""))
        if nic_box is None:
            chained.append(p)
            continue
        lines = [p.name, *(p.addresses[:1])]
        b = add(("peer", p.name), "peer", free_y(nic_box.cy), lines, p.role)
        lay.anchors[(p.name, "")] = b.key
        if p.iface:
            lay.anchors[(p.name, p.iface)] = b.key
        lay.lines.append((b.key, nic_box.key, "wire"))
    for p in chained:  # behind another peer (the internet behind the gateway)
        via = lay.boxes.get(("peer", p.attach or ""))
        y = via.cy if via else mid
        lines = [p.name, *(p.addresses[:1])]
        key = ("peer", p.name)
        x, w = COL["internet"]
        b = Box(key, x, y - BOX_H / 2, w, BOX_H, lines, p.role)
        lay.boxes[key] = b
        lay.anchors[(p.name, "")] = key
        if p.iface:
            lay.anchors[(p.name, p.iface)] = key
        if via:
            lay.lines.append((key, via.key, "wire"))
    lay.host_box = (HOST_X0, BOTTOM, HOST_X1 - HOST_X0, height - TOP - BOTTOM)
    return lay


# ---------------------------------------------------------------- drawing

COLORS = {
    "nic": ("#dbe9f6", "#2b6ca3"),
    "router": ("#fdebd0", "#b9770e"),
    "bridge": ("#d5f5e3", "#1e8449"),
    "veth": ("#fcf3cf", "#9a7d0a"),
    "container": ("#ebdef0", "#6c3483"),
    "gateway": ("#eaecee", "#566573"),
    "internet": ("#eaecee", "#566573"),
    "client": ("#eaecee", "#566573"),
}


def draw_layout(ax: Any, lay: Layout, faded: bool = False) -> None:
    """Draw the boxes and wires of a layout on ``ax`` (used by draw_journey too)."""
    from matplotlib.patches import FancyBboxPatch, Rectangle

    alpha = 0.45 if faded else 1.0
    model = lay.model
    hx, hy, hw, hh = lay.host_box
    ax.add_patch(Rectangle((hx, hy), hw, hh, fill=False, lw=1.4, ec="#34495e",
                           ls="-", alpha=alpha))
    ax.text(hx + 0.08, hy + hh - 0.08, f"{model.host if model else 'host'} — root network "
            "namespace", fontsize=FONT + 0.5, va="top", ha="left", color="#34495e",
            weight="bold", alpha=alpha)
    if any(b.kind == "container" for b in lay.boxes.values()):
        cx = COL["container"][0]
        ax.text(cx, hy + hh - 0.08, "container namespaces", fontsize=FONT + 0.5, va="top",
                ha="left", color="#6c3483", weight="bold", alpha=alpha)
    if any(b.kind in ("gateway", "client", "internet") for b in lay.boxes.values()):
        ax.text(0.15, hy + hh - 0.08, "outside the host", fontsize=FONT + 0.5, va="top",
                ha="left", color="#566573", weight="bold", alpha=alpha)
    styles = {"route": ("#b9770e", ":"), "port": ("#1e8449", "-"), "veth": ("#9a7d0a", "-"),
              "wire": ("#566573", "-")}
    for a, b, kind in lay.lines:
        ba, bb = lay.boxes.get(a), lay.boxes.get(b)
        if ba is None or bb is None:
            continue
        (x0, y0), (x1, y1) = (ba.right, bb.left) if ba.x < bb.x else (ba.left, bb.right)
        # a tall box (a bridge) is met level with the smaller box it joins
        if ba.h > 1.5 * BOX_H and ba.y <= y1 <= ba.y + ba.h:
            y0 = y1
        elif bb.h > 1.5 * BOX_H and bb.y <= y0 <= bb.y + bb.h:
            y1 = y0
        color, ls = styles[kind]
        ax.plot([x0, x1], [y0, y1], color=color, ls=ls, lw=2.2 if kind == "veth" else 1.2,
                alpha=alpha, zorder=1, solid_capstyle="butt")
    for box in lay.boxes.values():
        face, edge = COLORS.get(box.kind, ("#ffffff", "#333333"))
        ax.add_patch(FancyBboxPatch((box.x, box.y), box.w, box.h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=face, ec=edge, lw=1.1, alpha=alpha, zorder=2))
        n = len(box.lines)
        step = 0.135
        for i, line in enumerate(box.lines):
            ax.text(box.cx, box.cy + (n - 1) * step / 2 - i * step, line, ha="center",
                    va="center", fontsize=FONT if i else FONT + 0.3, zorder=3,
                    weight="bold" if i == 0 else "normal", alpha=alpha,
                    family="DejaVu Sans Mono" if i else "DejaVu Sans")
    # the namespace boundary each veth pair crosses
    ax.plot([hx + hw, hx + hw], [hy, hy + hh], color="#6c3483", lw=1.0, ls="--", zorder=1,
            alpha=alpha)


def draw_topology(obj: Any, title: str | None = None) -> Any:
    """Draw the host: NICs, docker0, each veth pair crossing into its container.

    ``obj`` is a net (``nl.connect()``), a Scenario or a HostState.  Returns a
    matplotlib Figure (shown inline in Jupyter).  Lessons 1–3.
    """
    lay = layout_topology(obj)
    fig, ax = new_figure(lay.width, lay.height)
    draw_layout(ax, lay)
    heading = title or (lay.model.title if lay.model else "")
    ax.text(0.15, lay.height - 0.18, heading, fontsize=FONT + 2.5, va="top", ha="left",
            weight="bold")
    m = lay.model
    if m is not None and not (m.nics or m.bridges or m.containers):
        ax.text(HOST_X0 + 0.2, BOTTOM + 0.25, "no interfaces to draw: paste `ip addr` and "
                "`ip route` (and `bridge link` or `brctl show`) of the host",
                fontsize=FONT + 1, va="bottom", ha="left", color="#922b21")
    fig.netlab_layout = lay  # for tests and for draw_journey
    return fig
