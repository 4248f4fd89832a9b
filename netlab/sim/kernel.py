"""One network namespace's stack: interfaces, addresses, routes, neighbours,
bridges, netfilter hooks and conntrack — and the path a packet takes through
them, function by function as in the kernel (``netif_receive_skb`` →
``br_handle_frame`` / ``ip_rcv`` → PREROUTING → routing → INPUT or FORWARD →
POSTROUTING → neighbour output → ``dev_queue_xmit``).

Every step writes an event into the journey being recorded, so a learner can
follow the packet hop by hop (lessons 3, 5 and 10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netlab.journey import nat_fields
from netlab.packet import ETH_IPV4, Frame
from netlab.sim.arp import BROADCAST, ZERO_MAC, Neigh, arp_rcv, solicit, use_entry
from netlab.sim.bridge import Bridge
from netlab.sim.conntrack import Conntrack, CtMatch
from netlab.sim.netfilter_hooks import HookResult, Hooks
from netlab.sim.routing import Route, RoutingTable, ip_int, mask_of, select_source
from netlab.sim.veth import veth_xmit

if TYPE_CHECKING:  # pragma: no cover
    from netlab.scenarios.topology import Node
    from netlab.sim.net import SimNet

def _copy(f: Frame) -> Frame:
    """A shallow copy of a frame (much faster than ``copy.copy`` on a dataclass)."""
    new = object.__new__(Frame)
    new.__dict__.update(f.__dict__)
    return new


class Skb:
    """A packet on its way through one namespace (the kernel's ``sk_buff``):
    the frame, which logical packet of the probe it is, its conntrack entry and
    what happened to it since it was last seen on an interface."""

    __slots__ = ("f", "pid", "ct", "br_pre", "iif", "physin", "notes", "bridged_dnat", "br_route")

    def __init__(self, f: Frame, pid: int) -> None:
        self.f = f
        self.pid = pid
        self.ct: CtMatch | None = None
        self.br_pre = False  # PREROUTING already ran at the bridge (br_netfilter)
        self.iif: str | None = None
        self.physin: str | None = None
        self.notes: list[str] = []
        self.bridged_dnat: tuple[str, str] | None = None  # (ingress port, source MAC)
        self.br_route: Route | None = None  # route br_netfilter looked up after a DNAT

    def clone(self, keep: bool = False) -> Skb:
        """A copy of the packet; ``keep`` keeps the per-namespace state (conntrack,
        input device) for copies made inside one namespace (bridge flooding)."""
        f = self.f
        s = Skb(f if f.proto == "arp" else _copy(f), self.pid)  # ARP is never rewritten
        if keep:
            s.ct, s.br_pre, s.iif, s.physin = self.ct, self.br_pre, self.iif, self.physin
            s.br_route = self.br_route
            s.notes = list(self.notes)
        return s


def _ct_view(m: CtMatch) -> dict[str, Any]:
    """The connection as ``-m conntrack --ctorig*/--ctdir/--ctstatus`` read it."""
    e = m.entry
    o, r = e.orig, e.reply
    return {"orig_src": o[1], "orig_sport": o[2], "orig_dst": o[3], "orig_dport": o[4],
            "reply_src": r[1], "reply_sport": r[2], "reply_dst": r[3], "reply_dport": r[4],
            "direction": "REPLY" if m.direction else "ORIGINAL",
            "status": sorted(s for s in e.status if s in ("SEEN_REPLY", "ASSURED", "CONFIRMED",
                                                          "SRC_NAT", "DST_NAT"))}


class Iface:
    __slots__ = ("name", "kind", "mac", "addrs", "master", "peer", "hairpin", "mtu", "up")

    def __init__(self, name: str, kind: str, mac: str) -> None:
        self.name = name
        self.kind = kind
        self.mac = mac
        self.addrs: list[tuple[str, int]] = []
        self.master: str | None = None
        self.peer: tuple[str, str] | None = None
        self.hairpin = False
        self.mtu = 1500
        self.up = True


def _is_group(mac: str) -> bool:
    return bool(int(mac[:2], 16) & 1)


class Kernel:
    """The network stack of one scenario node (one namespace)."""

    def __init__(self, net: SimNet, node: Node) -> None:
        self.net = net
        self.name = node.name
        self.role = node.role
        self.node = node
        self.ifaces: dict[str, Iface] = {}
        self.addrs: dict[str, list[tuple[str, int]]] = {}
        self.local_ips: set[str] = set()
        self.routes = RoutingTable()
        self.neigh: dict[tuple[str, str], Neigh] = {}
        self.bridges: dict[str, Bridge] = {}
        self.sysctls = dict(node.sysctls)
        self.hooks = Hooks(node.iptables, seed=net.seed, ipsets=getattr(node, "ipsets", None),
                           nftables_text=getattr(node, "nftables", "") or "")
        self.ct: Conntrack | None = Conntrack(net.rng) if self.hooks.tracks else None
        self.listeners: dict[tuple[str, int], list[tuple[str, Any]]] = {}
        self.socks: dict[tuple, Any] = {}
        self.ping_socks: dict[int, Any] = {}
        # keyed (ip, port); looked up with a frame's optional fields, which then simply miss
        self.udp_socks: dict[tuple[str | None, int | None], Any] = {}
        self._ip_id = net.rng.randrange(65536)
        self._redirects: dict[str, tuple[int, float]] = {}
        self._build(node)

    # ------------------------------------------------------------ set-up
    def _build(self, node: Node) -> None:
        for spec in node.interfaces:
            kind = spec.kind if spec.kind in ("veth", "bridge", "loopback") else "veth"
            if spec.name == "lo":
                kind = "loopback"
            mac = spec.mac or (ZERO_MAC if kind == "loopback" else self.net.make_mac())
            iface = Iface(spec.name, kind, mac.lower())
            iface.mtu = spec.mtu
            iface.master = spec.master
            iface.hairpin = spec.hairpin
            iface.peer = self.net.peers.get((node.name, spec.name))
            for cidr in spec.addresses:
                ip, _, plen_text = cidr.partition("/")
                iface.addrs.append((ip, int(plen_text or 32)))
            self.ifaces[spec.name] = iface
        if "lo" not in self.ifaces:
            lo = Iface("lo", "loopback", ZERO_MAC)
            lo.addrs.append(("127.0.0.1", 8))
            self.ifaces = {"lo": lo, **self.ifaces}
        for iface in self.ifaces.values():
            if iface.kind == "bridge":
                br = Bridge(iface.name, iface.mac)
                br.set_own_mac()
                self.bridges[iface.name] = br
        for iface in self.ifaces.values():
            if iface.master and iface.master in self.bridges:
                self.bridges[iface.master].add_port(iface.name, iface.mac, iface.hairpin)
        for r in node.routes:
            net = r.network()
            scope = r.scope or ("global" if r.via else "link")
            self.routes.add(Route(int(net.network_address), net.prefixlen, r.dev, via=r.via,
                                  src=r.src, metric=r.metric or 0, scope=scope, proto=r.proto))
        for iface in self.ifaces.values():
            for ip, plen in iface.addrs:
                self.addrs.setdefault(iface.name, []).append((ip, plen))
                self.local_ips.add(ip)
                self.routes.add_address(ip, plen, iface.name)

    # ------------------------------------------------------------ facts
    def sysctl(self, key: str, default: str = "0") -> str:
        return str(self.sysctls.get(key, default)).strip()

    @property
    def ip_forward(self) -> bool:
        default = "1" if self.role in ("host", "gateway") else "0"
        return self.sysctl("net.ipv4.ip_forward", default) == "1"

    @property
    def brnf(self) -> bool:
        """br_netfilter: do bridged IPv4 frames meet iptables?"""
        return self.sysctl("net.bridge.bridge-nf-call-iptables", "0") == "1"

    def route_localnet(self, dev: str) -> bool:
        """May 127.0.0.0/8 addresses be routed through ``dev``?"""
        return "1" in (self.sysctl("net.ipv4.conf.all.route_localnet"),
                       self.sysctl(f"net.ipv4.conf.{dev}.route_localnet"))

    def next_ip_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    def select_addr(self, dev: str, dst: str) -> str | None:
        for ip, plen in self.addrs.get(dev, []):
            if (ip_int(dst) & mask_of(plen)) == (ip_int(ip) & mask_of(plen)):
                return ip
        lst = self.addrs.get(dev)
        if lst:
            return lst[0][0]
        for d, lst in self.addrs.items():
            if d != "lo" and lst:
                return lst[0][0]
        return None

    def source_for(self, dst: str) -> tuple[str | None, Route | None]:
        """The source address a new packet to ``dst`` gets, and the route used."""
        rt = self.routes.lookup(dst)
        if rt is None:
            return None, None
        if rt.type == "local":
            return rt.src or dst, rt  # the local route's preferred source, else the address
        return select_source(rt, dst, self.addrs), rt

    def iface_addrs(self) -> dict[str, list[str]]:
        """``{iface: ["addr/prefix", ...]}`` as the netfilter engine wants it."""
        t = getattr(self, "_iface_addrs", None)
        if t is None:
            t = self._iface_addrs = {dev: [f"{ip}/{plen}" for ip, plen in lst]
                                     for dev, lst in self.addrs.items()}
        return t

    def local_addr_tuple(self) -> tuple[str, ...]:
        """The namespace's own addresses (what ``-m addrtype --dst-type LOCAL`` matches)."""
        t = getattr(self, "_local_tuple", None)
        if t is None:
            t = self._local_tuple = tuple(sorted(self.local_ips))
        return t

    # ------------------------------------------------------------ device layer
    def xmit(self, dev: str, skb: Skb) -> None:
        """``dev_queue_xmit``: tcpdump on ``dev`` sees the frame now."""
        iface = self.ifaces.get(dev)
        if iface is None:
            self.net.rec("drop", self.name, f"no device {dev}", reason="no such device", skb=skb)
            return
        if iface.kind != "loopback":
            self.net.seen(self, dev, "out", skb)
        if iface.kind == "bridge":
            if skb.bridged_dnat is not None:  # br_nf_pre_routing_finish_bridge_slow
                port, mac = skb.bridged_dnat
                skb.bridged_dnat = None
                skb.f.src_mac = mac
                self.br_handle_finish(self.bridges[dev], port, skb, True)
                return
            self.br_dev_xmit(self.bridges[dev], skb)
        elif iface.kind == "loopback":
            s = skb.clone()
            self.net.schedule(self.loopback_rcv, s)
        else:
            veth_xmit(self, iface, skb)

    def loopback_rcv(self, skb: Skb) -> None:
        # tcpdump on lo shows each packet once, as received (libpcap skips the
        # outgoing copy on the loopback device)
        self.net.seen(self, "lo", "in", skb)
        if skb.f.ethertype == ETH_IPV4 and skb.f.src is not None:
            skb.iif = "lo"
            self.ip_rcv("lo", skb)

    def netif_rcv(self, dev: str, skb: Skb) -> None:
        """A frame arrives on ``dev`` (from its veth peer)."""
        iface = self.ifaces.get(dev)
        if iface is None:
            return
        if iface.master and iface.master in self.bridges:
            self.br_handle_frame(self.bridges[iface.master], dev, skb)
            return
        self.net.seen(self, dev, "in", skb)
        self.l2_rcv(dev, skb)

    def l2_rcv(self, dev: str, skb: Skb) -> None:
        f = skb.f
        iface = self.ifaces[dev]
        if f.dst_mac != iface.mac and not _is_group(f.dst_mac) and iface.kind != "loopback":
            return  # PACKET_OTHERHOST: not for this interface, the IP layer ignores it
        if f.proto == "arp":
            arp_rcv(self, dev, skb)
        elif f.ethertype == ETH_IPV4 and f.src is not None:
            self.ip_rcv(dev, skb)

    # ------------------------------------------------------------ bridge
    def br_handle_frame(self, br: Bridge, port: str, skb: Skb) -> None:
        """A frame enters the bridge through ``port``: learn, (br_netfilter
        PREROUTING), then forward, flood or pass up to the host."""
        net = self.net
        net.seen(self, port, "in", skb)
        f = skb.f
        learnt = br.learn(f.src_mac, port, net.now)
        if learnt:
            net.rec("fdb", self.name, f"{br.name} {learnt} {f.src_mac} on port {port}",
                    iface=port, bridge=br.name, skb=skb)
        ipv4 = f.ethertype == ETH_IPV4 and f.src is not None
        if ipv4 and self.brnf:
            skb.physin = port
            old_dst = f.dst
            if not self.pre_routing(skb, br.name, physin=port):
                return
            skb.br_pre = True
            if f.dst != old_dst:
                # br_nf_pre_routing_finish: the destination changed, route it again
                rt = self.routes.lookup(f.dst or "")
                skb.br_route = rt
                if rt is not None and rt.type == "unicast" and rt.dev == br.name:
                    self.br_bridged_dnat(br, port, skb, rt)
                    return
                if rt is not None:
                    f.dst_mac = br.mac  # PACKET_HOST: up to the IP layer, to be routed
        self.br_handle_finish(br, port, skb, ipv4)

    def br_bridged_dnat(self, br: Bridge, port: str, skb: Skb, rt: Route) -> None:
        """DNAT at the bridge to an address on the same bridge: the frame is not
        routed (no TTL decrement) but sent on at layer 2 to the new owner's MAC —
        out of the port it came in by, which needs hairpin mode on that port."""
        f = skb.f
        nexthop = rt.via or f.dst or ""
        self.net.rec("route", self.name, f"route {rt.text()}: the new destination is on "
                     f"{br.name} itself, so the frame stays on the bridge (bridged DNAT)",
                     route=rt.text(), skb=skb)
        n = self.neigh.get((br.name, nexthop))
        if n is not None and n.state == "REACHABLE" and self.net.now - n.updated <= 30.0:
            f.dst_mac = n.mac  # type: ignore[assignment]
            self.br_handle_finish(br, port, skb, True)
            return
        # neighbour not confirmed: resolve it through the bridge device, then bridge on
        skb.bridged_dnat = (port, f.src_mac)
        self.neigh_output(br.name, nexthop, skb, rt)

    def br_handle_finish(self, br: Bridge, port: str, skb: Skb, ipv4: bool) -> None:
        """``br_handle_frame_finish``: forward by the FDB, flood, or pass up."""
        net = self.net
        f = skb.f
        dst = f.dst_mac
        if _is_group(dst):
            net.rec("fdb", self.name, f"{br.name}: {dst} is broadcast: flood to every port"
                    " and up to the host", iface=port, bridge=br.name, skb=skb)
            for p in br.flood_ports(port):
                self.br_forward(br, port, p, skb.clone(keep=True), ipv4)
            self.br_pass_up(br, skb)
            return
        entry = br.lookup(dst, net.now)
        if entry is not None and entry.local:
            net.rec("fdb", self.name, f"{br.name}: {dst} is the bridge's own MAC: up to the host",
                    iface=port, bridge=br.name, skb=skb)
            self.br_pass_up(br, skb)
            return
        if entry is not None:
            if entry.port == port and port not in br.hairpin:
                net.rec("drop", self.name, f"{br.name}: {dst} lives on the ingress port {port} and "
                        "hairpin is off", iface=port, reason="bridge: no hairpin", skb=skb)
                return
            net.rec("fdb", self.name, f"{br.name}: {dst} is on port {entry.port}", iface=port,
                    bridge=br.name, skb=skb)
            self.br_forward(br, port, entry.port, skb.clone(keep=True), ipv4)
        else:
            net.rec("fdb", self.name, f"{br.name}: {dst} unknown: flood to every other port",
                    iface=port, bridge=br.name, skb=skb)
            for p in br.flood_ports(port):
                self.br_forward(br, port, p, skb.clone(keep=True), ipv4)
        if net.capture_promisc:
            # tcpdump puts the bridge in promiscuous mode: it passes a copy up
            # (seen on the bridge device, then ignored as PACKET_OTHERHOST) ...
            net.seen(self, br.name, "in", skb)
            rt = skb.br_route
            if ipv4 and rt is not None and rt.type == "unicast":
                # ... unless br_netfilter re-routed it after a DNAT: then the copy
                # carries that route and the IP layer forwards it too (a duplicate)
                self.forward_promisc_copy(br, skb.clone(keep=True), rt)

    def forward_promisc_copy(self, br: Bridge, skb: Skb, rt: Route) -> None:
        """The duplicate a promiscuous bridge makes of a frame br_netfilter DNATed:
        routed (TTL decremented) and sent again, without the NAT POSTROUTING owes."""
        f = skb.f
        if (f.ttl or 0) <= 1:
            return
        self.net.rec("route", self.name, f"the promiscuous copy on {br.name} already holds the "
                     f"route br_netfilter chose after DNAT ({rt.text()}): the IP layer forwards it "
                     "too", route=rt.text(), skb=skb)
        f.ttl = (f.ttl or 0) - 1
        skb.notes = [f"promiscuous copy routed, TTL {f.ttl + 1}→{f.ttl}"]
        if self.hooks.has("FORWARD"):
            res = self._hook("FORWARD", skb, br.name, rt.dev)
            if not self._accepted(res, skb):
                return
        self.neigh_output(rt.dev, rt.via or f.dst or "", skb, rt)

    def br_forward(self, br: Bridge, in_port: str, out_port: str, skb: Skb, ipv4: bool) -> None:
        skb.notes = []
        if ipv4 and self.brnf:
            m = skb.ct
            if self.hooks.has("FORWARD"):
                res = self._hook("FORWARD", skb, br.name, br.name, physin=in_port,
                                 physout=out_port)
                if not self._accepted(res, skb):
                    return
            if not self.post_routing(skb, br.name, None, physout=out_port):
                return
            if m is not None:
                self._confirm(skb)
        self.net.seen(self, out_port, "out", skb)
        veth_xmit(self, self.ifaces[out_port], skb)

    def br_pass_up(self, br: Bridge, skb: Skb) -> None:
        """``br_pass_frame_up``: the bridge device receives the frame itself."""
        self.net.seen(self, br.name, "in", skb)
        self.l2_rcv(br.name, skb)

    def br_dev_xmit(self, br: Bridge, skb: Skb) -> None:
        """The host sends through the bridge device: look the MAC up, forward or flood."""
        dst = skb.f.dst_mac
        entry = None if _is_group(dst) else br.lookup(dst, self.net.now)
        if entry is not None and not entry.local:
            self.net.rec("fdb", self.name, f"{br.name}: {dst} is on port {entry.port}",
                         iface=br.name, bridge=br.name, skb=skb)
            ports = [entry.port]
        else:
            if not _is_group(dst):
                self.net.rec("fdb", self.name, f"{br.name}: {dst} unknown: flood", iface=br.name,
                             bridge=br.name, skb=skb)
            ports = list(br.ports)
        for p in ports:
            s = skb.clone()
            self.net.seen(self, p, "out", s)
            veth_xmit(self, self.ifaces[p], s)

    # ------------------------------------------------------------ IP input
    def ip_rcv(self, dev: str, skb: Skb) -> None:
        skb.iif = dev
        if not skb.br_pre and not self.pre_routing(skb, dev):
            return
        self.route_input(dev, skb)

    def _ct_lookup(self, skb: Skb) -> CtMatch | None:
        if self.ct is None:
            return None
        if skb.ct is None:
            m = skb.ct = self.ct.lookup(skb.f, self.net.now)
            if m is not None:
                self.net._touched[id(m.entry)] = m.entry
        return skb.ct

    def _hook(self, hook: str, skb: Skb, in_iface: str | None, out_iface: str | None,
              physin: str | None = None, physout: str | None = None) -> HookResult:
        m = skb.ct
        state = m.state if m is not None else "UNTRACKED"
        new = m.new if m is not None else False
        res = self.hooks.run(hook, skb.f, in_iface=in_iface, out_iface=out_iface, ct_state=state,
                             new_conn=new, local_addrs=self.local_addr_tuple(),
                             iface_addrs=self.iface_addrs(), physdev_in=physin,
                             physdev_out=physout,
                             conntrack=_ct_view(m) if m is not None and self.hooks.needs_ct else None)
        where = f"in={in_iface or '-'} out={out_iface or '-'}"
        if physin or physout:
            where += f" physdev {physin or '-'}→{physout or '-'}"
        rule = res.rule if res.rule else None
        self.net.rec("netfilter", self.name,
                     f"{hook} ({where}, ctstate {state}): {res.verdict}"
                     + (f" by {rule}" if rule else ""),
                     hook=hook, skb=skb, rule=rule, rule_text=res.rule_text, trace=res.trace,
                     verdict=res.verdict)
        skb.notes.append(f"{hook} {res.verdict}" + (f" {rule}" if rule else ""))
        return res

    def _accepted(self, res: HookResult, skb: Skb) -> bool:
        if res.verdict == "ACCEPT":
            return True
        what = f"{res.rule}" if res.rule else f"{res.hook} policy"
        reason = f"{res.verdict} by {what}" + (f": {res.rule_text}" if res.rule_text else "")
        self.net.rec("drop", self.name, f"{res.hook}: {reason}", hook=res.hook, rule=res.rule,
                     rule_text=res.rule_text, reason=reason, skb=skb, verdict=res.verdict)
        if res.verdict == "REJECT":
            self.reject(skb, res.reject_with or "icmp-port-unreachable")
        return False

    def pre_routing(self, skb: Skb, in_dev: str, physin: str | None = None) -> bool:
        """PREROUTING: conntrack lookup, raw/mangle/nat, then DNAT or reply de-NAT."""
        m = self._ct_lookup(skb)
        res = None
        if self.hooks.has("PREROUTING"):
            res = self._hook("PREROUTING", skb, in_dev, None, physin=physin)
            if not self._accepted(res, skb):
                return False
        if m is not None:
            if m.new and res is not None and res.nat_kind in ("DNAT", "REDIRECT"):
                ip = res.nat_ip
                if res.nat_kind == "REDIRECT" or not ip:
                    ip = (self.addrs.get(in_dev) or [("127.0.0.1", 8)])[0][0]
                self.ct.set_nat(m, res.nat_kind, ip, res.nat_port)  # type: ignore[union-attr]
                m.entry.nat_rules.append(res.nat_rule or "")
            self._manip(skb, "dst", "PREROUTING", res)
        return True

    def _manip(self, skb: Skb, kind: str, hook: str, res: HookResult | None) -> None:
        m = skb.ct
        if m is None:
            return
        if m.state == "RELATED" and skb.f.quoted is not None:
            skb.f.quoted = _copy(skb.f.quoted)
        change = Conntrack.manip(m, skb.f, kind)
        if change is None:
            return
        before, after = change
        related = m.state == "RELATED"
        if m.new and res is not None and res.nat_kind:
            detail, fields = nat_fields(kind, before, after, rule=res.nat_rule or "nat", kind=res.nat_kind,
                                        related=related)
            fields["rule_text"] = res.nat_rule_text
        else:
            detail, fields = nat_fields(kind, before, after, ct_state=m.state.lower(),
                                        ct_direction="reply" if m.direction else "original",
                                        ct_entry=m.entry.id, related=related)
        nat_kind, rule = fields["nat_kind"], fields["rule"]
        self.net.rec("nat", self.name, detail, hook=hook, skb=skb, **fields)
        skb.notes.append(f"{hook} {nat_kind} {before}→{after}" + (f" {rule}" if rule else ""))

    def _confirm(self, skb: Skb) -> None:
        m = skb.ct
        if m is None or self.ct is None:
            return
        now = self.net.now
        if m.new:
            if not self.ct.confirm(m, now):
                return
            m.new = False
            self.net.rec("conntrack", self.name, f"new entry #{m.entry.id}: {m.entry.describe()}",
                         conntrack=m.entry.describe(), skb=skb)
            self.ct.update(m, skb.f, now)
            return
        seen_reply = "SEEN_REPLY" in m.entry.status
        self.ct.update(m, skb.f, now)
        if not seen_reply and "SEEN_REPLY" in m.entry.status:
            self.net.rec("conntrack", self.name, f"entry #{m.entry.id} sees its reply: "
                         f"{m.entry.describe()}", conntrack=m.entry.describe(), skb=skb)

    def route_input(self, dev: str, skb: Skb) -> None:
        f = skb.f
        if dev != "lo" and f.src in self.local_ips:
            reason = f"martian source: {f.src} is this node's own address, arriving on {dev}"
            self.net.rec("drop", self.name, reason, reason=reason, skb=skb, final=False)
            return
        if dev != "lo" and ((f.src or "").startswith("127.") or (f.dst or "").startswith("127.")) \
                and not self.route_localnet(dev):
            which = "source" if (f.src or "").startswith("127.") else "destination"
            reason = f"martian {which}: 127.0.0.0/8 arrived on {dev} (route_localnet=0)"
            self.net.rec("drop", self.name, reason, reason=reason, skb=skb)
            return
        rt = self.routes.lookup(f.dst or "")
        if rt is None:
            self.net.rec("route", self.name, f"no route to {f.dst}", skb=skb)
            reason = "network is unreachable (no route: ENETUNREACH)"
            if not self.ip_forward:
                reason = "not for this host and ip_forward is off"
            self.net.rec("drop", self.name, reason, reason=reason, skb=skb)
            if self.ip_forward:
                self.icmp_error(skb, 3, 0, attach=True)
            return
        self.net.rec("route", self.name, f"route {rt.text()}", route=rt.text(), skb=skb)
        if rt.type in ("local", "broadcast"):
            self.local_deliver(skb)
            return
        if not self.ip_forward:
            reason = "ip_forward off: this host does not route packets for others"
            self.net.rec("drop", self.name, f"{f.dst} is not ours and net.ipv4.ip_forward=0",
                         reason=reason, skb=skb)
            return
        self.forward(skb, rt)

    def forward(self, skb: Skb, rt: Route) -> None:
        f = skb.f
        if (f.ttl or 0) <= 1:
            self.net.rec("drop", self.name, f"TTL {f.ttl} would reach 0: time exceeded",
                         reason="TTL exceeded", skb=skb, final=False)
            # the error belongs to the packet's connection, even one not yet confirmed:
            # a DNATed packet's error quotes it with the address its sender used
            self.icmp_error(skb, 11, 0, attach=True)
            return
        if rt.dev == skb.iif and self._redirect_due(skb, rt):
            # out the interface it came in by, to a sender on that link: tell it
            # the better next hop (ICMP redirect), then forward anyway
            gw = rt.via or f.dst or ""
            self.icmp_error(skb, 5, 1, gateway=gw)
        f.ttl = (f.ttl or 0) - 1
        skb.notes.append(f"routed, TTL {f.ttl + 1}→{f.ttl}")
        if self.hooks.has("FORWARD"):
            res = self._hook("FORWARD", skb, skb.iif, rt.dev)
            if not self._accepted(res, skb):
                return
        if self.post_routing(skb, rt.dev, rt):
            self._confirm(skb)
            self.neigh_output(rt.dev, rt.via or f.dst or "", skb, rt)

    def post_routing(self, skb: Skb, out_dev: str, rt: Route | None,
                     physout: str | None = None) -> bool:
        """POSTROUTING: mangle/nat; SNAT/MASQUERADE for a new connection, then the
        source rewrite conntrack owes this packet."""
        m = skb.ct if self.ct is not None else None
        res = None
        if self.hooks.has("POSTROUTING"):
            # ip_output hands the hook skb->dev, the input device of a forwarded packet (nft's
            # iifname reads it; iptables forbids -i here); br_netfilter and local output give none
            res = self._hook("POSTROUTING", skb, None if physout or rt is None else skb.iif, out_dev,
                             physin=skb.physin if physout else None, physout=physout)
            if not self._accepted(res, skb):
                return False
        if m is not None:
            if m.new and res is not None and res.nat_kind in ("SNAT", "MASQUERADE"):
                ip = res.nat_ip
                if res.nat_kind == "MASQUERADE" or not ip:
                    ip = (select_source(rt, skb.f.dst or "", self.addrs) if rt is not None
                          else self.select_addr(out_dev, skb.f.dst or ""))
                self.ct.set_nat(m, res.nat_kind, ip or "0.0.0.0", res.nat_port)  # type: ignore[union-attr]
                m.entry.nat_rules.append(res.nat_rule or "")
            self._manip(skb, "src", "POSTROUTING", res)
        return True

    def local_deliver(self, skb: Skb) -> None:
        if self.hooks.has("INPUT"):
            res = self._hook("INPUT", skb, skb.iif, None)
            if not self._accepted(res, skb):
                return
        if skb.ct is not None:
            self._manip(skb, "src", "INPUT", None)
            self._confirm(skb)
        from netlab.sim.services import l4_rcv

        l4_rcv(self, skb)

    # ------------------------------------------------------------ IP output
    def local_out(self, skb: Skb) -> bool:
        """``ip_local_out`` for a packet a program sent: route, OUTPUT, POSTROUTING."""
        f = skb.f
        rt = self.routes.lookup(f.dst or "")
        if rt is None:
            self.net.rec("route", self.name, f"no route to {f.dst}", skb=skb)
            self.net.rec("drop", self.name, f"connect/send: no route to {f.dst} (ENETUNREACH)",
                         reason="network is unreachable (no route: ENETUNREACH)", skb=skb)
            return False
        self.net.rec("route", self.name, f"route {rt.text()}", route=rt.text(), skb=skb)
        m = self._ct_lookup(skb)
        if self.hooks.has("OUTPUT"):
            res = self._hook("OUTPUT", skb, None, "lo" if rt.type == "local" else rt.dev)
            if not self._accepted(res, skb):
                return False
            if m is not None and m.new and res.nat_kind in ("DNAT", "REDIRECT"):
                ip = res.nat_ip if res.nat_kind == "DNAT" and res.nat_ip else "127.0.0.1"
                self.ct.set_nat(m, res.nat_kind, ip, res.nat_port)  # type: ignore[union-attr]
            if m is not None:
                old = f.dst
                self._manip(skb, "dst", "OUTPUT", res)
                if f.dst != old:
                    rt = self.routes.lookup(f.dst or "")
                    if rt is None:
                        self.net.rec("drop", self.name, f"no route to {f.dst} after DNAT",
                                     reason="network is unreachable (no route: ENETUNREACH)", skb=skb)
                        return False
                    self.net.rec("route", self.name, f"re-route after DNAT: {rt.text()}",
                                 route=rt.text(), skb=skb)
                    if (f.src or "").startswith("127.") and rt.type != "local" \
                            and not self.route_localnet(rt.dev):
                        reason = (f"loopback source {f.src} cannot leave by {rt.dev} "
                                  "(route_localnet=0): EINVAL")
                        self.net.rec("drop", self.name, reason, reason=reason, skb=skb)
                        return False
        elif m is not None:
            self._manip(skb, "dst", "OUTPUT", None)
        out_dev = "lo" if rt.type in ("local",) else rt.dev
        if not self.post_routing(skb, out_dev, rt):
            return False
        self._confirm(skb)
        nexthop = f.dst or "" if rt.type == "local" else (rt.via or f.dst or "")
        self.neigh_output(out_dev, nexthop, skb, rt)
        return True

    def neigh_output(self, dev: str, nexthop: str, skb: Skb, rt: Route | None) -> None:
        """Fill in the MACs (ARP first if the next hop is unknown) and transmit."""
        iface = self.ifaces[dev]
        f = skb.f
        if iface.kind == "loopback":
            f.src_mac = f.dst_mac = ZERO_MAC
            self.xmit(dev, skb)
            return
        f.src_mac = iface.mac
        if (rt is not None and rt.type == "broadcast") or nexthop == "255.255.255.255":
            f.dst_mac = BROADCAST
            self.xmit(dev, skb)
            return
        key = (dev, nexthop)
        n = self.neigh.get(key)
        now = self.net.now
        if n is not None and n.usable(now):
            f.dst_mac = n.mac  # type: ignore[assignment]
            use_entry(self, n)
            self.xmit(dev, skb)
            return
        if n is not None and n.state == "INCOMPLETE":
            n.queue.append(skb)
            return
        n = self.neigh[key] = Neigh(nexthop, dev)
        self.net.unsettled[self.name] = self
        n.queue.append(skb)
        solicit(self, dev, nexthop, skb)

    # ------------------------------------------------------------ errors
    def _redirect_due(self, skb: Skb, rt: Route) -> bool:
        """``ip_rt_send_redirect``: on when send_redirects is, for an on-link sender,
        rate-limited per sender (20 ms, doubling after each redirect)."""
        if self.sysctl("net.ipv4.conf.all.send_redirects", "1") != "1":
            return False
        src = skb.f.src or ""
        if not any((ip_int(src) & mask_of(plen)) == (ip_int(ip) & mask_of(plen))
                   for ip, plen in self.addrs.get(rt.dev, [])):
            return False
        now = self.net.now
        count, last = self._redirects.get(src, (0, -1e9))
        if count and now < last + 0.02 * (2 ** count):
            return False
        self._redirects[src] = (count + 1, now)
        return True

    def icmp_error(self, skb: Skb, icmp_type: int, icmp_code: int,
                   gateway: str | None = None, attach: bool = False) -> None:
        """``icmp_send``: an ICMP error about ``skb`` back to its sender."""
        orig = skb.f
        if orig.proto == "icmp" and orig.icmp_type not in (0, 8):
            return  # never an error about an error
        if orig.src is None or orig.src.startswith("0."):
            return
        # icmp_send: the error comes from the address the packet was for when it was local
        # (every 127.x address is: the local route 127.0.0.0/8 dev lo)
        local = orig.dst in self.local_ips or (orig.dst or "").startswith("127.")
        src = orig.dst if local else self.source_for(orig.src)[0]
        if src is None:
            return
        quoted = _copy(orig)
        quoted.quoted = None
        f = Frame(proto="icmp", src=src, dst=orig.src, ttl=64, ip_id=self.next_ip_id(),
                  icmp_type=icmp_type, icmp_code=icmp_code, quoted=quoted, df=False)
        out = Skb(f, self.net.new_pid())
        if attach:
            self._attach_ct(skb, out)
        extra = f" (use gateway {gateway} for {orig.dst})" if gateway else ""
        self.net.rec("send", self.name, f"ICMP error: {f.summary()}{extra}", skb=out)
        self.local_out(out)

    def reject(self, skb: Skb, reject_with: str) -> None:
        """The REJECT target's answer: a TCP RST or an ICMP error."""
        orig = skb.f
        if reject_with == "tcp-reset" and orig.proto == "tcp":
            if "R" in (orig.flags or ""):
                return
            if "A" in (orig.flags or ""):
                f = Frame(proto="tcp", src=orig.dst, dst=orig.src, sport=orig.dport,
                          dport=orig.sport, seq=orig.ack or 0, ack=0, flags="R", ttl=64,
                          ip_id=0, window=0)
            else:
                seglen = len(orig.payload) + (1 if "S" in (orig.flags or "") else 0) + \
                    (1 if "F" in (orig.flags or "") else 0)
                f = Frame(proto="tcp", src=orig.dst, dst=orig.src, sport=orig.dport,
                          dport=orig.sport, seq=0, ack=((orig.seq or 0) + seglen) & 0xFFFFFFFF,
                          flags="RA", ttl=64, ip_id=0, window=0)
            out = Skb(f, self.net.new_pid())
            self._attach_ct(skb, out)
            self.net.rec("send", self.name, f"REJECT answers with {f.summary()}", skb=out)
            self.local_out(out)
            return
        codes = {"icmp-net-unreachable": 0, "icmp-host-unreachable": 1,
                 "icmp-port-unreachable": 3, "icmp-proto-unreachable": 2,
                 "icmp-net-prohibited": 9, "icmp-host-prohibited": 10,
                 "icmp-admin-prohibited": 13}
        self.icmp_error(skb, 3, codes.get(reject_with, 3), attach=True)

    def _attach_ct(self, skb: Skb, out: Skb) -> None:
        """``nf_ct_attach``: the REJECT answer belongs to the rejected packet's
        connection (RELATED, other direction), so it is de-NATed like a reply."""
        m = skb.ct
        if m is not None and self.ct is not None:
            out.ct = CtMatch(m.entry, 1 - m.direction, "RELATED", False)
