"""``from_state(state)``: the host your pastes (or ``netlab snapshot``) describe, as a scenario.

What the pastes show is used as shown: the host's NICs, bridges, veths, addresses,
routes, sysctls and its iptables rules exactly as pasted.  Containers come from the
namespaces the parsers found (``docker network inspect``, ``ip netns``, a snapshot),
from ``docker inspect CONTAINER`` (``docker=``) and from the targets of Docker's DNAT
rules.  What no paste shows is filled in the way Docker does it and every such guess
is listed in ``scenario.notes`` (a container's name, its veth, a MAC, the outside world).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from netlab.model import DockerContainer
from netlab.parse.docker_inspect import container_of, parse_docker_inspect
from netlab.scenarios.docker import host_sysctls, sort_routes
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.listeners import host_services, listeners_of, service_of
from netlab.scenarios.seeded import Draws, ip_mac
from netlab.scenarios.topology import (
    BridgeNetwork,
    DockerProfile,
    Interface,
    Node,
    PortMapping,
    RouteSpec,
    Scenario,
    Service,
)
from netlab.scenarios.world import (
    GATEWAY_WAN,
    HOST_LAN,
    HOST_WAN,
    INTERNET_IP,
    VIRTUALBOX_HOSTONLY_MAC,
    VIRTUALBOX_NAT_GATEWAY_MAC,
    VIRTUALBOX_OUI,
    connected,
    loopback,
)

if TYPE_CHECKING:  # pragma: no cover
    from netlab.model import HostState

# Docker's DNAT rule for a published port, as iptables-save prints it (17.x - 28.x):
# -A DOCKER [-d HIP/32] [! -i BR] -p tcp [-m tcp] --dport 8080 -j DNAT --to-destination IP:PORT
_DNAT = re.compile(
    r"^-A DOCKER (?:-d (?P<hip>[\d.]{7,15})/32 )?(?:! -i (?P<br>\S{1,15}) )?-p (?P<proto>tcp|udp) "
    r"(?:-m (?:tcp|udp) )?--dport (?P<hport>\d{1,5}) -j DNAT --to-destination "
    r"(?P<ip>[\d.]{7,15}):(?P<port>\d{1,5})$"
)

_COUNTERS = re.compile(r"^\[\d{1,20}:\d{1,20}\] ")


def _routes(state: HostState, netns: str) -> list[RouteSpec]:
    out = []
    for r in state.route_list:
        if r.family != 4 or r.netns != netns or r.table not in ("main", "254") or r.type != "unicast":
            continue
        if not r.dev:
            continue
        out.append(RouteSpec(dst=r.dst, dev=r.dev, via=r.gateway, src=r.src, metric=r.metric,
                             scope=r.scope, proto=r.protocol))
    return out


def _v4_addresses(state: HostState, netns: str) -> dict[str, list[str]]:
    addresses: dict[str, list[str]] = {}
    for a in state.addrs:
        if a.family == 4 and a.netns == netns:
            addresses.setdefault(a.ifname, []).append(a.cidr)
    return addresses


def _inspect_containers(docker: Any) -> list[DockerContainer]:
    """``docker inspect CONTAINER`` output (text, one object, a list, or Containers) → containers."""
    if docker is None:
        return []
    if isinstance(docker, (str, bytes)):
        return parse_docker_inspect(docker).containers
    if isinstance(docker, (dict, DockerContainer)):
        docker = [docker]
    if not isinstance(docker, list):
        raise ScenarioError("docker= takes `docker inspect CONTAINER` output: its text or the decoded list")
    out = []
    for c in docker:
        if isinstance(c, DockerContainer):
            out.append(c)
        elif isinstance(c, dict):
            try:
                out.append(container_of(c))
            except (TypeError, ValueError, AttributeError, KeyError) as exc:
                raise ScenarioError(f"docker=: container {c.get('Name')!r} has an unexpected value "
                                    f"({exc})") from None
    return out


class _Ctr:
    def __init__(self, name: str, ip: str, prefixlen: int | None = None) -> None:
        self.name = name
        self.ip = ip
        self.prefixlen = prefixlen
        self.mac: str | None = None
        self.gateway: str | None = None
        self.bridge: str | None = None
        self.ports: list[PortMapping] = []
        self.image: str | None = None
        self.veth: str | None = None


def _safe_name(name: str) -> str:
    name = name.lstrip("/")
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:60] or "ctr"


def from_state(state: HostState, *, docker: Any = None, name: str = "pasted-host",
               seed: int = 0) -> Scenario:
    """The Docker host ``state`` describes (plus client, gateway and internet when the
    pastes do not show them), runnable by ``netlab.connect(mode="sim", scenario=...)``.

    ``docker``: ``docker inspect CONTAINER`` output (text or the decoded JSON) naming
    containers, their networks, MACs and published ports.  Every guess is in
    ``scenario.notes``.
    """
    # what reading the pastes noted (a part not read, a filtered paste, IPv6 kept) comes first
    notes: list[str] = [f"paste: {n}" for n in state.notes]
    firewall = state.firewall.get("", "")
    if state.firewall.get("", None) is None or not firewall.strip():
        notes.append("no iptables-save of the host was pasted: the host runs with no rules "
                     "(every policy ACCEPT)")
    for ns, text in (getattr(state, "firewall6", None) or {}).items():
        if text.strip():
            notes.append(f"IPv6 rules{' of ' + ns if ns else ''} kept but not simulated "
                         "(IPv6 is not traced yet)")

    addresses = _v4_addresses(state, "")
    routes = _routes(state, "")
    # NICs `ip addr` elided: their address from the connected route's src
    for r in routes:
        if r.proto == "kernel" and r.src and r.dst != "default":
            cidr = f"{r.src}/{ipaddress.IPv4Network(r.dst, strict=False).prefixlen}"
            if cidr not in addresses.setdefault(r.dev, []):
                addresses[r.dev].append(cidr)
    links = {link.name: link for link in state.links if link.netns == ""}
    ports_of = {p.port: p.bridge for p in state.ports if p.netns == ""}
    bridges = [n for n, link in links.items() if link.kind == "bridge"]
    for dev in addresses:
        if (dev == "docker0" or dev.startswith("br-")) and dev not in bridges:
            bridges.append(dev)
            notes.append(f"{dev} taken for a Docker bridge from its name")

    # ---- Docker networks (bridges with an IPv4 address)
    networks: list[BridgeNetwork] = []
    net_names = {}
    for dnet in state.docker_networks:
        from netlab.parse.docker import bridge_name
        b = bridge_name(dnet)
        if b and isinstance(dnet.get("Name"), str):
            net_names[b] = dnet["Name"]
    inspected = {c.name: c for c in state.containers}
    inspected.update({c.name: c for c in _inspect_containers(docker)})
    for obj in inspected.values():  # `docker inspect` names the network each address is on
        for ep in obj.networks:
            if not ep.ip or ":" in ep.ip or ep.network in ("host", "none"):
                continue
            for b in bridges:
                if b not in net_names and any(ipaddress.IPv4Address(ep.ip) in
                                              ipaddress.IPv4Interface(c).network for c in addresses.get(b, [])):
                    net_names[b] = ep.network
    for b in bridges:
        if not addresses.get(b):
            notes.append(f"bridge {b} has no IPv4 address in the pastes: not simulated as a Docker network")
            continue
        iface = ipaddress.IPv4Interface(addresses[b][0])
        nname = net_names.get(b) or ("bridge" if b == "docker0" else b)
        if b not in net_names and b != "docker0":
            notes.append(f"Docker network name of {b} unknown: called {nname}")
        networks.append(BridgeNetwork(nname, b, str(iface.network), str(iface.ip)))
    if not networks:
        raise ScenarioError("the pastes show no Docker bridge with an address (docker0 or br-…): "
                            "paste `ip addr` (or `ifconfig`) of the host, or `docker network inspect`")

    def bridge_of(ip: str) -> BridgeNetwork | None:
        addr = ipaddress.IPv4Address(ip)
        return next((n for n in networks if addr in ipaddress.IPv4Network(n.subnet)), None)

    # ---- containers
    ctrs: dict[str, _Ctr] = {}
    by_ip: dict[str, _Ctr] = {}

    def add(c: _Ctr) -> _Ctr | None:
        if c.ip in by_ip:
            return by_ip[c.ip]
        if bridge_of(c.ip) is None:
            notes.append(f"container {c.name} ({c.ip}) is on no pasted bridge: left out")
            return None
        base, n = c.name, 2
        while c.name in ctrs or c.name in ("host", "client", "gateway", "internet"):
            c.name, n = f"{base}-{n}", n + 1
        ctrs[c.name] = c
        by_ip[c.ip] = c
        return c

    for obj in inspected.values():
        cname = _safe_name(obj.name)
        if obj.network_mode == "host" or obj.network_mode == "none":
            if any(p.host_port for p in obj.ports) or obj.network_mode == "host":
                notes.append(f"container {cname} runs with --network {obj.network_mode}: "
                             "not simulated as a container (it shares the host's namespace)"
                             if obj.network_mode == "host" else
                             f"container {cname} runs with --network none: it has no network")
            continue
        for ep in obj.networks:
            if not ep.ip:
                continue
            c = add(_Ctr(cname, ep.ip, ep.prefixlen))
            if c is None:
                continue
            c.mac = ep.mac or c.mac
            c.gateway = ep.gateway or c.gateway
            c.image = obj.image or c.image
            for p in obj.ports:
                if not p.host_port:
                    continue
                hip = p.host_ip or "0.0.0.0"
                if ":" in hip:
                    continue  # the IPv6 binding of the same port
                pm = PortMapping(p.host_port, p.container_port, p.proto or "tcp", hip)
                if pm not in c.ports:
                    c.ports.append(pm)
            if len([e for e in obj.networks if e.ip]) > 1:
                notes.append(f"{cname} joins {len(obj.networks)} networks: simulated on {ep.network} only")
            break  # one network per container (the first the inspect lists)
    for ns in state.namespaces:
        if not ns.name:
            continue
        for ifname, cidrs in _v4_addresses(state, ns.name).items():
            if ifname == "lo":
                continue
            iface = ipaddress.IPv4Interface(cidrs[0])
            c = add(_Ctr(_safe_name(ns.name), str(iface.ip), iface.network.prefixlen))
            if c is not None:
                link = state.link(ifname, ns.name)
                if link is not None and link.mac and not c.mac:
                    c.mac = link.mac
                if c.veth is None and link is not None:
                    peer = state.peer_of(link)
                    if peer is not None and peer.netns == "":
                        c.veth = peer.name
            break
    for line in firewall.splitlines():
        # (`iptables-save -c` and rules read from `iptables -L -v` start with [packets:bytes])
        m = _DNAT.match(_COUNTERS.sub("", line.strip(), count=1))
        if not m:
            continue
        ip = m["ip"]
        c = by_ip.get(ip)
        if c is None:
            cname = f"ctr-{ip.replace('.', '-')}"
            c = add(_Ctr(cname, ip))
            if c is None:
                continue
            notes.append(f"container name unknown: called {c.name} (the DNAT target {ip})")
        pm = PortMapping(int(m["hport"]), int(m["port"]), m["proto"], m["hip"] or "0.0.0.0")
        if pm not in c.ports:
            c.ports.append(pm)

    # ---- veths: the host ends on each bridge
    veths_on: dict[str, list[str]] = {}
    for lname, link in links.items():
        master = link.master or ports_of.get(lname)
        if master and (link.kind in ("veth", "other") or lname.startswith("veth")):
            veths_on.setdefault(master, []).append(lname)
    used = {c.veth for c in ctrs.values() if c.veth}
    for c in ctrs.values():
        net = bridge_of(c.ip)
        assert net is not None
        c.bridge = net.bridge
        if c.veth:
            continue
        free = [v for v in veths_on.get(net.bridge, []) if v not in used]
        if free:
            c.veth = free[0]
            used.add(free[0])
            if len(veths_on.get(net.bridge, [])) > 1:
                notes.append(f"{c.name}: its veth on {net.bridge} guessed as {free[0]} "
                             "(the pastes do not pair veths with containers)")
        else:
            c.veth = f"veth{Draws(seed, 'veth:' + c.ip).hex(7)}"
            notes.append(f"{c.name}: no host veth for it in the pastes: called {c.veth}")
    for b, vs in veths_on.items():
        for v in vs:
            if v not in used:
                notes.append(f"veth {v} on {b}: its container is not in the pastes (left out)")

    # ---- host NICs and the outside world
    draws = Draws(seed, "world")
    nic_names = [n for n in addresses if n not in bridges and n != "lo"
                 and not (links.get(n) and links[n].kind == "veth")]
    nic_names.sort(key=lambda n: (n != HOST_WAN[0], n != HOST_LAN[0], n))
    if not nic_names:
        nic_names = [HOST_WAN[0]]
        addresses[HOST_WAN[0]] = [f"{HOST_WAN[1]}/{HOST_WAN[2]}"]
        notes.append(f"the host's NIC is not in the pastes: assumed {HOST_WAN[0]} "
                     f"{HOST_WAN[1]}/{HOST_WAN[2]} (the article's)")
    nic_v4 = {n: addresses[n][0] for n in nic_names}
    default = next((r for r in routes if r.dst == "default" and r.via), None)
    if not routes:
        notes.append("no routes were pasted: the connected routes of the addresses assumed")
    have = {(r.dst, r.dev) for r in routes}
    for dev, cidrs in addresses.items():
        if dev == "lo":
            continue
        for cidr in cidrs:
            prefix = str(ipaddress.IPv4Interface(cidr).network)
            if (prefix, dev) not in have and (not routes or dev in nic_names + bridges):
                routes.append(connected(dev, cidr))
                have.add((prefix, dev))
    if default is None and not any(r.dst == "default" for r in routes):
        wan = nic_names[0]
        gw = str(next(ipaddress.IPv4Interface(nic_v4[wan]).network.hosts()))
        if gw == nic_v4[wan].split("/")[0]:
            gw = str(ipaddress.IPv4Interface(nic_v4[wan]).network.network_address + 2)
        routes.append(RouteSpec("default", wan, via=gw, proto="static"))
        default = routes[-1]
        notes.append(f"no default route in the pastes: assumed default via {gw} dev {wan}")
    wan_dev = default.dev if default is not None else nic_names[0]
    gateway_ip = default.via if default is not None else None

    host_ifaces = [loopback()]
    for n in nic_names:
        link = links.get(n)
        mac = link.mac if link is not None and link.mac else None
        if mac is None:
            mac = draws.oui_mac(VIRTUALBOX_OUI)
            notes.append(f"MAC of {n} unknown: {mac} assumed")
        host_ifaces.append(Interface(n, mac=mac, addresses=addresses[n]))
    for net in networks:
        link = links.get(net.bridge)
        mac = link.mac if link is not None else None
        if not mac or mac == "00:00:00:00:00:00":
            mac = draws.docker_mac()
            notes.append(f"MAC of {net.bridge} unknown: {mac} assumed")
        host_ifaces.append(Interface(net.bridge, kind="bridge", mac=mac, addresses=addresses[net.bridge]))
    for c in ctrs.values():
        link = links.get(c.veth or "")
        mac = link.mac if link is not None and link.mac else None
        if mac is None:
            mac = draws.random_mac()
        host_ifaces.append(Interface(c.veth or "", mac=mac, master=c.bridge))

    # ---- sysctls and the Docker profile
    version = "28" if ("DOCKER-FORWARD" in firewall or "DOCKER-CT" in firewall) else "27"
    if version == "28" and "DOCKER-ISOLATION-STAGE-1" not in firewall and (
            "DOCKER-INTERNAL" in firewall or "-j DOCKER-FORWARD" in firewall):
        # docker-v29.0.0 dropped the isolation chains (moby commit 1ad9599da7) and kept DOCKER-FORWARD
        version = "29"
    userland_proxy = True
    if "-m addrtype --src-type LOCAL -j MASQUERADE" in firewall:
        # the hairpin rule Docker (17.x - 28.x) adds only with userland-proxy=false
        userland_proxy = False
    host_svcs, proxied = host_services(state, notes)
    published = sorted({(pm.proto, pm.host_port) for c in ctrs.values() for pm in c.ports})
    shows_processes = any(s.process for s in listeners_of(state, ""))
    if proxied:
        if not userland_proxy:
            notes.append("docker-proxy holds ports in the pasted sockets although the rules look like "
                         "userland-proxy=false: the proxy taken as on")
        userland_proxy = True
        for proto, port in published:
            if (proto, port) not in proxied:
                notes.append(f"no docker-proxy listens on {proto} port {port} in the pasted sockets: "
                             "none is simulated for it")
    elif shows_processes and published and userland_proxy:
        userland_proxy = False
        notes.append("ports are published but no docker-proxy is among the pasted listening sockets: "
                     "the userland proxy taken as off (dockerd --userland-proxy=false)")
    pasted = dict(state.sysctls.get("", {}))
    ip_forward = pasted.get("net.ipv4.ip_forward", "1") == "1"
    if "net.ipv4.ip_forward" not in pasted:
        notes.append("net.ipv4.ip_forward not pasted: 1 assumed (Docker turns it on)")
    sysctls = host_sysctls(networks, ip_forward=ip_forward, userland_proxy=userland_proxy,
                           family=int(version))
    if "net.bridge.bridge-nf-call-iptables" not in pasted:
        notes.append(f"net.bridge.bridge-nf-call-iptables not pasted: "
                     f"{sysctls['net.bridge.bridge-nf-call-iptables']} assumed (Docker {version}.x)")
    sysctls.update({k: v for k, v in pasted.items() if k.startswith("net.")})
    notes.append(f"Docker version not in the pastes: rules read as Docker {version}.x, userland proxy "
                 f"{'on' if userland_proxy else 'off'}")

    services = []
    if userland_proxy:
        for c in ctrs.values():
            for pm in c.ports:
                if proxied and (pm.proto, pm.host_port) not in proxied:
                    continue
                services.append(Service(pm.proto, pm.host_port, "docker-proxy", bind=pm.host_ip,
                                        target=f"{c.ip}:{pm.container_port}"))
    taken = {(s.proto, s.port) for s in services}
    services += [s for s in host_svcs if (s.proto, s.port) not in taken]
    host = Node(name="host", role="host", interfaces=host_ifaces, routes=sort_routes(routes),
                iptables=firewall, sysctls=sysctls, services=services,
                label=f"Docker host{' ' + state.hostname if state.hostname else ''} (pasted)")
    if state.nftables.get(""):
        notes.append("nft ruleset kept as pasted but not loaded (Docker's iptables rules are simulated)")
    scenario = Scenario(
        name=name,
        description="A host read from pasted command outputs (netlab.scenarios.from_state)",
        seed=seed,
        docker=DockerProfile(version=version, userland_proxy=userland_proxy, icc=True,
                             ip_forward_was_on=False, networks=networks,
                             extra={"source": f"from_state ({state.source})"}),
    )
    scenario.add(host)
    # the namespace each container's own pastes (`docker exec NAME ...`) were read into
    ns_of_ctr = {_safe_name(ns.name): ns.name for ns in state.namespaces if ns.name}
    for c in ctrs.values():
        net = bridge_of(c.ip)
        assert net is not None
        plen = c.prefixlen or ipaddress.IPv4Network(net.subnet).prefixlen
        cidr = f"{c.ip}/{plen}"
        if c.mac is None:
            c.mac = ip_mac(c.ip)
            notes.append(f"MAC of {c.name} unknown: {c.mac} assumed (Docker derives it from the IP)")
        ns_name = ns_of_ctr.get(c.name)
        own = listeners_of(state, ns_name) if ns_name is not None else []
        if own:  # `docker exec NAME ss -tlnp`: the ports it really serves, bound as shown
            svc: list[Service] = []
            for listener in own:
                one = service_of(listener)
                if all((x.proto, x.port, x.bind) != (one.proto, one.port, one.bind) for x in svc):
                    svc.append(one)
            for pm in c.ports:
                at = [x for x in svc if (x.proto, x.port) == (pm.proto, pm.container_port)]
                if not at:
                    notes.append(f"{c.name}: nothing listens on {pm.proto} port {pm.container_port} "
                                 f"in its pasted sockets: the published {pm} is refused")
                elif all(x.bind.startswith("127.") for x in at):
                    notes.append(f"{c.name}: port {pm.container_port} is bound to {at[0].bind} only: "
                                 f"the published {pm} does not reach it")
        else:
            svc = [Service(pm.proto, pm.container_port, "http" if pm.proto == "tcp" else "udp-echo")
                   for pm in c.ports]
            if c.ports:
                notes.append(f"{c.name}: assumed to serve its published ports "
                             f"({', '.join(str(p) for p in c.ports)}) on all addresses")
        own_default = next((r.gateway for r in state.route_list if ns_name is not None
                            and r.netns == ns_name and r.family == 4 and r.dst == "default"
                            and r.gateway), None)
        scenario.add(Node(
            name=c.name, role="container",
            interfaces=[loopback(), Interface("eth0", mac=c.mac, addresses=[cidr])],
            routes=[RouteSpec("default", "eth0", via=c.gateway or own_default or net.gateway),
                    connected("eth0", cidr)],
            services=svc, image=c.image, network=net.bridge, ports=list(c.ports),
            label=c.name,
        ))
        scenario.wire(("host", c.veth or ""), (c.name, "eth0"))
    _add_world(scenario, draws, nic_v4, wan_dev, gateway_ip, notes)
    scenario.notes = notes
    return scenario


def _add_world(scenario: Scenario, draws: Draws, nic_v4: dict[str, str], wan_dev: str,
               gateway_ip: str | None, notes: list[str]) -> None:
    """client (on the first other NIC's LAN), gateway (behind the default route) and internet,
    as :func:`netlab.scenarios.world.add_world` builds them for the article's host."""
    lan_devs = [n for n in nic_v4 if n != wan_dev]
    if lan_devs:
        lan = lan_devs[0]
        iface = ipaddress.IPv4Interface(nic_v4[lan])
        client_ip = str(next(ip for ip in iface.network.hosts() if ip != iface.ip))
        plen = iface.network.prefixlen
        scenario.add(Node(
            name="client", role="client",
            interfaces=[loopback(), Interface("eth0", mac=VIRTUALBOX_HOSTONLY_MAC,
                                              addresses=[f"{client_ip}/{plen}"])],
            routes=[connected("eth0", f"{client_ip}/{plen}")],
            label=f"LAN client ({client_ip})",
        ))
        scenario.wire(("host", lan), ("client", "eth0"))
        if (lan, str(iface.ip)) != (HOST_LAN[0], HOST_LAN[1]):
            notes.append(f"a LAN client assumed at {client_ip} on {lan}")
    wan = ipaddress.IPv4Interface(nic_v4[wan_dev])
    gw = gateway_ip or str(next(ip for ip in wan.network.hosts() if ip != wan.ip))
    gw_ifaces = [loopback(),
                 Interface("eth0", mac=VIRTUALBOX_NAT_GATEWAY_MAC, addresses=[f"{gw}/{wan.network.prefixlen}"]),
                 Interface("eth1", mac=draws.random_mac(), addresses=[f"{GATEWAY_WAN}/24"])]
    gw_routes = [connected("eth0", f"{gw}/{wan.network.prefixlen}"), connected("eth1", f"{GATEWAY_WAN}/24")]
    if not lan_devs:
        # one NIC: the LAN client sits on the gateway's side of it (through the gateway's bridge)
        client_ip = str(next(ip for ip in wan.network.hosts() if ip not in (wan.ip, ipaddress.IPv4Address(gw))))
        plen = wan.network.prefixlen
        gw_ifaces[1] = Interface("lan0", kind="bridge", mac=VIRTUALBOX_NAT_GATEWAY_MAC,
                                 addresses=[f"{gw}/{plen}"])
        gw_ifaces += [Interface("eth0", mac=draws.random_mac(), master="lan0"),
                      Interface("eth2", mac=draws.random_mac(), master="lan0")]
        gw_routes[0] = connected("lan0", f"{gw}/{plen}")
        scenario.add(Node(
            name="client", role="client",
            interfaces=[loopback(), Interface("eth0", mac=VIRTUALBOX_HOSTONLY_MAC,
                                              addresses=[f"{client_ip}/{plen}"])],
            routes=[connected("eth0", f"{client_ip}/{plen}"), RouteSpec("default", "eth0", via=gw)],
            label=f"LAN client ({client_ip})",
        ))
        notes.append(f"a LAN client assumed at {client_ip}, beside the gateway on {wan_dev}'s network")
    scenario.add(Node(name="gateway", role="gateway", interfaces=gw_ifaces, routes=gw_routes,
                      sysctls={"net.ipv4.ip_forward": "1"}, label="default gateway"))
    scenario.add(Node(
        name="internet", role="internet",
        interfaces=[loopback(), Interface("eth0", mac=draws.random_mac(), addresses=[f"{INTERNET_IP}/24"])],
        routes=[RouteSpec("default", "eth0", via=GATEWAY_WAN), connected("eth0", f"{INTERNET_IP}/24")],
        services=[Service("tcp", 80, "http"), Service("udp", 7, "udp-echo")],
        label="the internet (203.0.113.10)",
    ))
    scenario.wire(("host", wan_dev), ("gateway", "eth0"))
    if not lan_devs:
        scenario.wire(("gateway", "eth2"), ("client", "eth0"))
    scenario.wire(("gateway", "eth1"), ("internet", "eth0"))
    if gateway_ip is None or (wan_dev, gateway_ip) != (HOST_WAN[0], "10.0.2.2"):
        notes.append(f"the gateway ({gw}) and the internet (203.0.113.10) behind it are netlab's, "
                     "not from the pastes")
