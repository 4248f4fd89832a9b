"""A simulated namespace's tables as a :class:`~netlab.model.HostState`, so the
lessons ask the simulator the same questions they ask a real host."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from netlab.model import (
    Address,
    Bridge,
    BridgePort,
    ConntrackEntry,
    ConntrackTuple,
    FdbEntry,
    HostState,
    Link,
    Namespace,
    Route,
)

if TYPE_CHECKING:  # pragma: no cover
    from netlab.sim.kernel import Kernel
    from netlab.sim.net import SimNet


def kernel_state(k: Kernel, net: SimNet) -> HostState:
    ids = net.netnsids.get(k.name, {})
    st = HostState(namespaces=[Namespace("", ids={i: peer for peer, i in ids.items()},
                                         hostname=k.name)],
                   hostname=k.name, source="scenario")
    index = {name: net.ifindex[(k.name, name)] for name in k.ifaces}
    from netlab.sim.net import is_veth_link

    for name, iface in k.ifaces.items():
        veth = iface.kind == "veth" and iface.peer is not None and is_veth_link(
            net, k.name, iface.peer[0])
        kind = iface.kind if iface.kind != "veth" else ("veth" if veth else "physical")
        link = Link(name, ifindex=index[name], kind=kind,
                    mac=iface.mac, mtu=iface.mtu, flags=_flags(k, net, iface), state=_oper(k, net, iface),
                    master=iface.master, link_type="loopback" if iface.kind == "loopback" else "ether",
                    qdisc="noqueue")  # virtual devices (lo, veth, bridge) have no transmit queue
        if veth and iface.peer is not None:
            pnode, pif = iface.peer
            link.peer_ifindex = net.ifindex[(pnode, pif)]
            link.peer_netns = pnode
            link.peer_netnsid = ids.get(pnode)
        st.links.append(link)
        for ip, plen in iface.addrs:
            st.addrs.append(Address(name, ip, plen, scope="host" if ip.startswith("127.") else "global"))
    for table, routes in (("main", k.routes.main), ("local", k.routes.local)):
        for r in routes:
            st.route_list.append(Route(r.dst, dev=r.dev, gateway=r.via, table=table, type=r.type,
                                       protocol=r.proto, scope=r.scope, src=r.src,
                                       metric=r.metric or None))
    for br in k.bridges.values():
        st.bridges.append(Bridge(br.name, bridge_id="8000." + br.mac.replace(":", ""), stp=False))
        for p in br.ports:
            port_up = k.ifaces[p].up and _peer_up(net, k.ifaces[p])
            st.ports.append(BridgePort(br.name, p, state="forwarding" if port_up else "disabled", ifindex=index.get(p),
                                       hairpin=p in br.hairpin))
        for e in br.fdb.values():
            if br.lookup(e.mac, net.now) is None:
                continue
            dev = br.name if e.port == br.name else e.port
            st.fdb.append(FdbEntry(e.mac, dev, bridge=br.name, flags=["master"] if dev != br.name else [],
                                   state="permanent" if e.local else None))
    st.sysctls[""] = {key: str(v) for key, v in k.sysctls.items()}
    st.sysctls[""].setdefault("net.ipv4.ip_forward", "1" if k.ip_forward else "0")
    if k.hooks.text.strip():
        st.firewall[""] = k.hooks.text
    if k.ct is not None:
        for ce in k.ct.entries:
            o, rp = ce.orig, ce.reply
            if o[0] == "icmp":
                ot = ConntrackTuple(o[1], o[3], icmp_type=8, icmp_code=0, icmp_id=o[2])
                rt = ConntrackTuple(rp[1], rp[3], icmp_type=0, icmp_code=0, icmp_id=rp[2])
            else:
                ot = ConntrackTuple(o[1], o[3], o[2], o[4])
                rt = ConntrackTuple(rp[1], rp[3], rp[2], rp[4])
            status = sorted(s for s in ce.status if s in ("ASSURED",))
            if "SEEN_REPLY" not in ce.status:
                status.append("UNREPLIED")
            st.conntrack_entries.append(ConntrackEntry(
                o[0], ot, rt, state=ce.tcp_state, timeout=max(0, int(ce.expires - net.now)),
                status=status))
    return st


def _peer_up(net: SimNet, iface: Any) -> bool:
    if iface.peer is None:
        return True
    peer = net.kernels[iface.peer[0]].ifaces.get(iface.peer[1])
    return peer is None or peer.up


def _carrier(k: Kernel, net: SimNet, iface: Any) -> bool:
    """A veth has a carrier while its peer is up; a bridge while one of its ports is up
    with a carrier (the kernel's br_port_carrier_check: docker0 with no container is
    ``NO-CARRIER ... state DOWN``, lesson 01)."""
    if iface.kind == "bridge" and iface.name in k.bridges:
        return any(k.ifaces[p].up and _peer_up(net, k.ifaces[p])
                   for p in k.bridges[iface.name].ports if p in k.ifaces)
    return _peer_up(net, iface)


def _flags(k: Kernel, net: SimNet, iface: Any) -> list[str]:
    """``ip link`` flags in the kernel's order: LOOPBACK or BROADCAST,MULTICAST; UP only when
    set up, LOWER_UP only with a carrier, NO-CARRIER (first) for an up device without one."""
    kind = ["LOOPBACK"] if iface.kind == "loopback" else ["BROADCAST", "MULTICAST"]
    if not iface.up:
        return kind
    return [*kind, "UP", "LOWER_UP"] if _carrier(k, net, iface) else ["NO-CARRIER", *kind, "UP"]


def _oper(k: Kernel, net: SimNet, iface: Any) -> str:
    if not iface.up:
        return "DOWN"
    if iface.kind == "bridge":  # a bridge without a carrier is DOWN, not LOWERLAYERDOWN
        return "UP" if _carrier(k, net, iface) else "DOWN"
    return "UP" if _peer_up(net, iface) else "LOWERLAYERDOWN"
