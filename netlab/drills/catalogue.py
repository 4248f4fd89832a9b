"""The drills: each a real fault on a Docker host, what a user would report, and the
checks a fix must pass.

Every builder takes a seed and draws the container's name, image, ports and the
bridge's subnet from it, so two learners get different addresses and answers.
The LAN client is 192.168.56.1 on the host's ``enp0s8`` (192.168.56.38); in most
drills the LAN also routes the Docker subnets via the host (as an office router
with a static route would), so a fix that opens unpublished ports shows up.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from netlab.drills.drill import Drill, Expect, Spec, build
from netlab.scenarios.topology import Scenario, Service

HOST_IP = "192.168.56.38"
CLIENT_IP = "192.168.56.1"
INTERNET = "203.0.113.10"

_NAMES = ["web", "shop", "blog", "wiki", "api", "portal", "docs", "status", "forum", "intranet"]
_HOST_PORTS = [8080, 8000, 8081, 8888, 3000, 9090, 8443, 8001]
_DOCKER0 = [("172.17.0.0/16", "172.17.0.1"), ("10.10.0.0/24", "10.10.0.1"),
            ("192.168.200.0/24", "192.168.200.1"), ("172.20.0.0/16", "172.20.0.1"),
            ("10.200.0.0/16", "10.200.0.1"), ("172.30.5.0/24", "172.30.5.1")]
_APPS = [("nginx", 80, None), ("httpd", 80, None), ("shop/app:2.1", 8000, "http"),
         ("python:3.12", 5000, "http"), ("node:20", 3000, "http"), ("caddy", 80, None)]
_DBS = [("redis", 6379), ("postgres", 5432), ("mysql", 3306)]


def _rng(name: str, seed: int) -> random.Random:
    return random.Random(f"{name}:{seed}")


class _Pick:
    """What a seed draws: names, an app and its ports, docker0's subnet."""

    def __init__(self, name: str, seed: int, *, app_port_80: bool | None = None) -> None:
        r = _rng(name, seed)
        names = r.sample(_NAMES, 3)
        self.web, self.other, self.third = names
        apps = [a for a in _APPS if app_port_80 is None or (a[1] == 80) == app_port_80]
        self.image, self.cport, kind = r.choice(apps)
        self.services = None if kind is None else [Service("tcp", self.cport, kind)]
        self.hport = r.choice(_HOST_PORTS)
        self.subnet, self.gateway = _DOCKER0[0] if seed == 0 else r.choice(_DOCKER0)
        self.db_image, self.db_port = r.choice(_DBS)
        self.db = r.choice(["db", "cache", "store", "database"])
        self.r = r

    def web_container(self, ports: list[str] | None = None, **kw: Any) -> dict[str, Any]:
        c: dict[str, Any] = {"name": self.web, "image": self.image,
                             "ports": ports if ports is not None else [f"{self.hport}:{self.cport}"]}
        if self.services is not None:
            c["services"] = [Service(s.proto, s.port, s.kind, s.bind) for s in self.services]
        c.update(kw)
        return c

    def docker0(self) -> list[dict[str, Any]]:
        return [{"name": "bridge", "subnet": self.subnet, "gateway": self.gateway}]


def _ip(s: Scenario, node: str) -> str:
    ip = s.nodes[node].ip
    assert ip is not None
    return ip


def _veth(s: Scenario, node: str, ifname: str = "eth0") -> str:
    peer = s.peer(node, ifname)
    assert peer is not None
    return peer[1]


def _site(p: _Pick) -> Expect:
    return Expect(f"the LAN client gets http://{HOST_IP}:{p.hport}/", "http", "client", "host",
                  p.hport, server=p.web, client_ip=CLIENT_IP)


def _egress(node: str) -> Expect:
    return Expect(f"{node} reaches the internet (ping {INTERNET})", "ping", node, INTERNET)


def _not_exposed(ip: str, port: int, who: str) -> Expect:
    return Expect(f"{who}'s unpublished port {ip}:{port} stays closed to the LAN", "tcp", "client", ip,
                  port, answered=False)


def _host_local(p: _Pick) -> Expect:
    return Expect(f"on the host, http://127.0.0.1:{p.hport}/ answers", "http", "host", "127.0.0.1", p.hport)


def _make(name: str, seed: int, p: _Pick, spec: Spec, **kw: Any) -> Drill:
    return Drill(name, seed=seed, spec=spec, container=kw.pop("container", p.web), **kw)


# ---------------------------------------------------------------- the drills
def ip_forward_off(seed: int) -> Drill:
    p = _Pick("ip_forward_off", seed)
    spec = Spec("27", [p.web_container(), {"name": p.other, "image": p.db_image}], p.docker0(),
                client_routes=[p.subnet])
    s = build(spec, seed)
    return _make(
        "ip_forward_off", seed, p, spec,
        title="The site is down for everyone but the host",
        symptom=(f"Nobody on the office LAN can open http://{HOST_IP}:{p.hport}/ any more — the browser "
                 f"spins until it times out. On the Docker host itself, curl http://localhost:{p.hport}/ "
                 f"works, and docker ps shows {p.web} up."),
        fault="sysctl -w net.ipv4.ip_forward=0",
        hints=["The host answers its own curl through docker-proxy; the LAN's packets take another path. "
               "Follow one with net.probe('http', src='client', dst='host', dport=...) and see where it stops.",
               "After the DNAT the packet is not for the host any more: it has to be routed on, "
               "from enp0s8 to the bridge. Which kernel setting allows that?",
               "Look at net.state('host').sysctls: a Linux host only forwards packets between "
               "interfaces when net.ipv4.ip_forward is 1."],
        expects=[_site(p), _egress(p.web), _not_exposed(_ip(s, p.other), p.db_port, p.other)],
        solution="sysctl -w net.ipv4.ip_forward=1",
        wrong=["iptables -P FORWARD ACCEPT"],
        why="ip_forward=0: the host stops routing, so DNATed packets die before FORWARD.")


def docker_user_drop(seed: int) -> Drill:
    p = _Pick("docker_user_drop", seed)
    spec = Spec("27", [p.web_container(), {"name": p.other, "image": p.db_image}], p.docker0(),
                client_routes=[p.subnet])
    s = build(spec, seed)
    rule = p.r.choice([f"-s {CLIENT_IP}/32 -j DROP", f"-i enp0s8 -s {CLIENT_IP}/32 -j DROP",
                       f"-s 192.168.56.0/24 -p tcp -m tcp --dport {p.cport} -j DROP"])
    return _make(
        "docker_user_drop", seed, p, spec,
        title="Only my machine cannot reach the site",
        symptom=(f"From my desktop ({CLIENT_IP}) http://{HOST_IP}:{p.hport}/ times out since yesterday's "
                 "firewall work; the admin says the container is fine."),
        fault=f"iptables -I DOCKER-USER {rule}",
        hints=["Follow your desktop's request with a probe: which hook and which rule decide its fate?",
               "Docker leaves one chain to administrators, and runs it before its own rules for every "
               "forwarded packet.",
               "Look at the DOCKER-USER chain in net.state('host').firewall: delete the rule that matches "
               "your packets (iptables -D DOCKER-USER ...), rather than opening everything."],
        expects=[_site(p), _egress(p.web), _not_exposed(_ip(s, p.other), p.db_port, p.other)],
        solution=f"iptables -D DOCKER-USER {rule}",
        wrong=["iptables -P FORWARD ACCEPT", f"iptables -I FORWARD -s {CLIENT_IP} -j ACCEPT"],
        why="an administrator's DROP in DOCKER-USER matches the client before Docker's ACCEPTs.")


def published_localhost(seed: int) -> Drill:
    p = _Pick("published_localhost", seed)
    spec = Spec("27", [p.web_container([f"127.0.0.1:{p.hport}:{p.cport}"]),
                       {"name": p.other, "image": p.db_image}], p.docker0(), client_routes=[p.subnet])
    s = build(spec, seed)
    return _make(
        "published_localhost", seed, p, spec,
        title="It works on the host, not from the LAN",
        symptom=(f"http://{HOST_IP}:{p.hport}/ gives 'connection refused' from every office machine, "
                 f"while curl http://localhost:{p.hport}/ on the Docker host shows the page."),
        fault="",
        hints=["Refused means something answered with a RST: who? Probe from the client and look at the "
               "nat PREROUTING steps.",
               f"Compare the DOCKER chain's DNAT rule for port {p.hport} in the nat table with the address "
               "the LAN connects to.",
               "The port was published on one address only (-p ADDRESS:HOST_PORT:CONTAINER_PORT). "
               "Re-create the container publishing it on all addresses."],
        expects=[_site(p), _host_local(p), _not_exposed(_ip(s, p.other), p.db_port, p.other)],
        solution=f"docker run -d --name {p.web} -p {p.hport}:{p.cport} {p.image}",
        wrong=["sysctl -w net.ipv4.conf.all.route_localnet=1",
               f"docker run -d --name {p.web} -p 127.0.0.1:{p.hport}:{p.cport} {p.image}"],
        why="-p 127.0.0.1:H:C: the DNAT rule matches -d 127.0.0.1 and docker-proxy binds 127.0.0.1.")


def wrong_port(seed: int) -> Drill:
    p = _Pick("wrong_port", seed, app_port_80=False)
    hport = p.hport
    spec = Spec("27", [p.web_container([f"{hport}:{p.cport}"]), {"name": p.other, "image": p.db_image}],
                p.docker0(), client_routes=[p.subnet])
    s = build(spec, seed)
    return _make(
        "wrong_port", seed, p, spec,
        title="The site is not on the usual address",
        symptom=(f"We started {p.web} with docker run and told everyone it is at http://{HOST_IP}/ — "
                 "browsers say 'connection refused'."),
        fault="",
        hints=["A browser without a port connects to 80. What listens on port 80 of the host, and which "
               "ports does the nat table's DOCKER chain translate?",
               "Look at the DNAT rules: the container is published, but on which host port, to which "
               "container port?",
               "Re-create the container so that host port 80 maps to the port the app listens on "
               "(net.state(CONTAINER) shows its sockets' ports in the scenario's services)."],
        expects=[Expect(f"the LAN client gets http://{HOST_IP}/", "http", "client", "host", 80,
                        server=p.web, client_ip=CLIENT_IP),
                 _not_exposed(_ip(s, p.other), p.db_port, p.other)],
        solution=f"docker run -d --name {p.web} -p 80:{p.cport} {p.image}",
        wrong=["iptables -I INPUT -p tcp --dport 80 -j ACCEPT",
               f"docker run -d --name {p.web} -p 80:80 {p.image}",
               f"iptables -t nat -I PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports {hport}"],
        why=f"published as -p {hport}:{p.cport}; the users connect to port 80.")


def app_localhost(seed: int) -> Drill:
    p = _Pick("app_localhost", seed)
    web = p.web_container(services=[Service("tcp", p.cport, "http", bind="127.0.0.1")])
    spec = Spec("27", [web, {"name": p.other, "image": p.db_image}], p.docker0(), client_routes=[p.subnet])
    s = build(spec, seed)
    return _make(
        "app_localhost", seed, p, spec,
        title="Published, running, and still refused",
        symptom=(f"http://{HOST_IP}:{p.hport}/ answers 'connection refused' from the LAN and from the host; "
                 f"docker logs {p.web} shows the app started without errors."),
        fault="",
        hints=["Follow the request: is it translated (DNAT)? Does it reach the container? Who sends the RST?",
               f"The packet arrives in {p.web} for its eth0 address. On which address does the program "
               "inside listen? (a program bound to 127.0.0.1 only accepts connections from inside)",
               f"Make the app listen on every address of the container (nginx: listen 0.0.0.0:{p.cport}; "
               "a dev server: --host 0.0.0.0)."],
        expects=[_site(p), _host_local(p), _not_exposed(_ip(s, p.other), p.db_port, p.other)],
        solution=f"listen 0.0.0.0:{p.cport}",
        wrong=[f"docker run -d --name {p.web} -p 0.0.0.0:{p.hport}:{p.cport} {p.image}",
               "iptables -P FORWARD ACCEPT"],
        why="the program inside the container listens on 127.0.0.1 only.")


def no_default_route(seed: int) -> Drill:
    p = _Pick("no_default_route", seed)
    spec = Spec("27", [p.web_container()], p.docker0(), client_routes=[])
    s = build(spec, seed)
    gw = s.docker.networks[0].gateway if s.docker else p.gateway
    return _make(
        "no_default_route", seed, p, spec,
        title="The container went quiet",
        symptom=(f"After someone 'cleaned up' {p.web}'s network settings, http://{HOST_IP}:{p.hport}/ times "
                 f"out from the LAN, and inside {p.web} package downloads fail."),
        fault=f"docker exec {p.web} ip route del default",
        hints=["Probe from the client and read where the journey ends: the request reaches the container; "
               "does the answer leave it?",
               f"The answer goes back to {CLIENT_IP}. Look at net.state('{p.web}').routes: how would the "
               "container reach an address outside its own subnet?",
               f"A container on a bridge network sends everything off-subnet to the bridge's address "
               f"({gw}); put that route back inside the container."],
        expects=[_site(p), _egress(p.web)],
        solution=f"docker exec {p.web} ip route add default via {gw}",
        wrong=[f"ip route add default via {gw}",
               f"iptables -t nat -I POSTROUTING -o {s.nodes[p.web].network} -j MASQUERADE"],
        why="the container lost its default route: replies to the LAN have nowhere to go.")


def forward_accept(seed: int) -> Drill:
    p = _Pick("forward_accept", seed)
    spec = Spec("27", [p.web_container(), {"name": p.db, "image": p.db_image}], p.docker0(),
                options={"ip_forward_was_on": True}, client_routes=[p.subnet])
    s = build(spec, seed)
    db_ip = _ip(s, p.db)
    return _make(
        "forward_accept", seed, p, spec,
        title="It works too well",
        symptom=(f"The security team's scanner on {CLIENT_IP} (the office router sends {p.subnet} via the "
                 f"Docker host) reports {db_ip}:{p.db_port} open — that is our {p.db} container, which "
                 "publishes no port."),
        fault="",
        hints=[f"Probe {db_ip}:{p.db_port} from the client and read which rule lets it through.",
               "No Docker rule accepts it: the packet falls off the end of the FORWARD chain. What happens "
               "then? (Docker only sets that when it turned forwarding on itself.)",
               "Make the end of FORWARD drop what nobody accepted — Docker's own ACCEPT rules keep the "
               "published ports and the containers' own traffic working."],
        expects=[_not_exposed(db_ip, p.db_port, p.db), _site(p), _egress(p.web),
                 Expect(f"{p.web} still reaches {p.db}:{p.db_port}", "tcp", p.web, db_ip, p.db_port)],
        solution="iptables -P FORWARD DROP",
        wrong=["iptables -I DOCKER-USER -i enp0s8 -j DROP", "iptables -I DOCKER-USER -j DROP"],
        why="ip_forward was on before dockerd started, so Docker left the FORWARD policy ACCEPT.")


def brnf_off_icc(seed: int) -> Drill:
    p = _Pick("brnf_off_icc", seed)
    spec = Spec("27", [p.web_container(), {"name": p.db, "image": p.db_image}], p.docker0(),
                options={"icc": False}, client_routes=[p.subnet])
    s = build(spec, seed)
    db_ip = _ip(s, p.db)
    return _make(
        "brnf_off_icc", seed, p, spec,
        title="--icc=false, and they still talk",
        symptom=(f"dockerd runs with --icc=false so containers on the default bridge cannot reach each "
                 f"other, yet from {p.web}, nc -z {db_ip} {p.db_port} connects to {p.db}."),
        fault="sysctl -w net.bridge.bridge-nf-call-iptables=0",
        hints=[f"Probe from {p.web} to {db_ip}:{p.db_port}: which netfilter hooks does the journey show?",
               "--icc=false is one iptables rule on FORWARD (-i BRIDGE -o BRIDGE -j DROP). Two containers on "
               "the same bridge are bridged, not routed: when do bridged frames meet iptables?",
               "br_netfilter hands bridged IPv4 to iptables only while a sysctl says so; look at "
               "net.state('host').sysctls."],
        expects=[Expect(f"{p.web} cannot reach {p.db}:{p.db_port}", "tcp", p.web, db_ip, p.db_port,
                        answered=False),
                 _site(p), _egress(p.web)],
        solution="sysctl -w net.bridge.bridge-nf-call-iptables=1",
        wrong=[f"iptables -I FORWARD -i {s.nodes[p.web].network} -o {s.nodes[p.web].network} -j DROP",
               "modprobe br_netfilter"],
        why="bridge-nf-call-iptables=0: bridged frames skip iptables, so the icc DROP never runs.")


def raw_direct_routing(seed: int) -> Drill:
    p = _Pick("raw_direct_routing", seed)
    spec = Spec("28.2.2", [p.web_container(), {"name": p.db, "image": p.db_image}], p.docker0(),
                client_routes=[p.subnet])
    s = build(spec, seed)
    web_ip, db_ip = _ip(s, p.web), _ip(s, p.db)
    bridge = s.nodes[p.web].network
    return _make(
        "raw_direct_routing", seed, p, spec,
        title="Direct routing stopped after the upgrade",
        symptom=(f"Since we upgraded to Docker 28.2, our monitoring box {CLIENT_IP} (the office router sends "
                 f"{p.subnet} via the Docker host) gets no answer from http://{web_ip}:{p.cport}/ . "
                 f"http://{HOST_IP}:{p.hport}/ still works."),
        fault="",
        hints=["Probe the container's address from the client: the packet is dropped before it is even "
               "routed. Which table runs first in PREROUTING?",
               f"Docker 28.2 protects container addresses in the raw table: a packet for {web_ip} that did "
               f"not come in on {bridge} is dropped, published port or not.",
               "Let the monitoring box through ahead of that rule, for this container only (raw PREROUTING); "
               "Docker's filter rules still allow only the published port."],
        expects=[Expect(f"the monitoring box gets http://{web_ip}:{p.cport}/", "http", "client", web_ip,
                        p.cport),
                 _site(p), _not_exposed(db_ip, p.db_port, p.db), _egress(p.web)],
        solution=f"iptables -t raw -I PREROUTING -s {CLIENT_IP} -d {web_ip} -j ACCEPT",
        wrong=["iptables -P FORWARD ACCEPT", f"iptables -I DOCKER-USER -s {CLIENT_IP} -j ACCEPT"],
        why="Docker 28.2's raw PREROUTING DROP of container addresses arriving on other interfaces.")


def masquerade_missing(seed: int) -> Drill:
    p = _Pick("masquerade_missing", seed)
    spec = Spec("27", [p.web_container()], p.docker0(), client_routes=[p.subnet])
    s = build(spec, seed)
    bridge = s.nodes[p.web].network
    subnet = str(ipaddress.IPv4Network(p.subnet))
    rule = f"-s {subnet} ! -o {bridge} -j MASQUERADE"
    return _make(
        "masquerade_missing", seed, p, spec,
        title="No internet inside the container",
        symptom=(f"Inside {p.web}, every download fails and ping {INTERNET} gets no reply. The site itself "
                 f"(http://{HOST_IP}:{p.hport}/) works from the LAN, and the host can reach the internet."),
        fault=f"iptables -t nat -D POSTROUTING {rule}",
        hints=[f"Probe ping from {p.web} to {INTERNET} and look at the packet as it leaves the host on enp0s3: "
               "which source address does it carry?",
               f"The internet has no route back to {subnet}: something has to rewrite the source on the way "
               "out (nat POSTROUTING).",
               "Docker masquerades traffic from the bridge's subnet that leaves by another interface; that "
               "rule is gone. Put it back — just for that traffic."],
        expects=[_egress(p.web), _site(p),
                 Expect("the host still reaches the internet", "ping", "host", INTERNET)],
        solution=f"iptables -t nat -A POSTROUTING {rule}",
        wrong=["iptables -t nat -A POSTROUTING -j MASQUERADE", "sysctl -w net.ipv4.ip_forward=1"],
        why="the MASQUERADE rule for the bridge's subnet was deleted.")


def network_isolation(seed: int) -> Drill:
    r = _rng("network_isolation", seed)
    front, back = r.choice([("frontend", "backend"), ("shopnet", "dbnet"), ("public", "private"),
                            ("app", "data")])
    p = _Pick("network_isolation", seed)
    db_image, db_port = p.db_image, p.db_port
    spec = Spec("27", [p.web_container(network=front), {"name": p.other, "image": "alpine", "services": [],
                                                         "network": front},
                       {"name": p.db, "image": db_image, "network": back}],
                [front, back], client_routes=[])
    s = build(spec, seed)
    db_ip = _ip(s, p.db)
    return _make(
        "network_isolation", seed, p, spec,
        title="Two networks, one app",
        symptom=(f"{p.web} (on network {front}) cannot connect to {p.db} at {db_ip}:{db_port} (on network "
                 f"{back}): 'connection timed out'. We need {p.web} — and only {p.web} — to use that "
                 "database."),
        fault="",
        hints=[f"Probe from {p.web} to {db_ip}:{db_port}: the packet is routed by the host — which chain "
               "drops it?",
               "Docker isolates its networks from each other on purpose (the DOCKER-ISOLATION chains). "
               "Switching that off opens every network to every other.",
               f"Give {p.web} a foot in {back} the way Docker means it: attach the container to the second "
               "network."],
        expects=[Expect(f"{p.web} reaches {p.db}:{db_port}", "tcp", p.web, db_ip, db_port),
                 Expect(f"{p.other} (also on {front}) still cannot reach {p.db}", "tcp", p.other, db_ip,
                        db_port, answered=False),
                 _site(p), _egress(p.web)],
        solution=f"docker network connect {back} {p.web}",
        wrong=["iptables -F DOCKER-ISOLATION-STAGE-1", "iptables -I DOCKER-USER -j ACCEPT"],
        why="containers on different user-defined networks are isolated by Docker's ISOLATION chains.")


def veth_down(seed: int) -> Drill:
    p = _Pick("veth_down", seed)
    spec = Spec("27", [p.web_container(), {"name": p.other, "image": "alpine", "services": []}],
                p.docker0(), client_routes=[p.subnet])
    s = build(spec, seed)
    veth = _veth(s, p.web)
    bridge = s.nodes[p.web].network
    detached = seed % 2 == 1
    fault = f"ip link set {veth} nomaster" if detached else f"ip link set {veth} down"
    fix = f"ip link set {veth} master {bridge}" if detached else f"ip link set {veth} up"
    return _make(
        "veth_down", seed, p, spec,
        title="One container fell off the network",
        symptom=(f"http://{HOST_IP}:{p.hport}/ times out and {p.web} cannot reach anything; {p.other} on "
                 f"the same host works fine. docker ps shows {p.web} running."),
        fault=fault,
        hints=[f"Probe from {p.web} and from the client: how far does each packet get? Is it ever seen on "
               f"the host's side of {p.web}'s cable?",
               f"Each container hangs off the bridge by a veth pair. Look at net.state('host').links and "
               f".ports: is {p.web}'s host-side end up, and is it a port of {bridge}?",
               f"Find the host-side veth whose peer is {p.web}'s eth0 and put it back in service."],
        expects=[_site(p), _egress(p.web), _egress(p.other)],
        solution=fix,
        wrong=[f"ip link set {bridge} up", f"docker exec {p.web} ip link set eth0 up"],
        why=("the container's host-side veth was " + ("taken off the bridge" if detached else "set down")))


def route_localnet(seed: int) -> Drill:
    p = _Pick("route_localnet", seed)
    r = _rng("route_localnet-net", seed)
    user_net = r.random() < 0.5
    networks: Any = ["appnet"] if user_net else p.docker0()
    web = p.web_container(network="appnet") if user_net else p.web_container()
    spec = Spec("27", [web], networks, options={"userland_proxy": False}, client_routes=[p.subnet])
    s = build(spec, seed)
    bridge = s.nodes[p.web].network
    return _make(
        "route_localnet", seed, p, spec,
        title="localhost does not work on the host",
        symptom=(f"On the Docker host, curl http://127.0.0.1:{p.hport}/ hangs; from the LAN "
                 f"http://{HOST_IP}:{p.hport}/ works. The daemon runs with \"userland-proxy\": false."),
        fault=f"sysctl -w net.ipv4.conf.{bridge}.route_localnet=0",
        hints=["Without docker-proxy, who handles the host's own connection to 127.0.0.1? Probe from the "
               "host and look at nat OUTPUT.",
               f"After the DNAT the packet still has source 127.0.0.1 and must leave by {bridge}. Linux "
               "refuses to route loopback addresses off the loopback device — unless told otherwise.",
               "Docker sets one sysctl per bridge for this (net.ipv4.conf.BRIDGE....); look at "
               "net.state('host').sysctls."],
        expects=[_host_local(p), _site(p)],
        solution=f"sysctl -w net.ipv4.conf.{bridge}.route_localnet=1",
        wrong=["sysctl -w net.ipv4.conf.lo.route_localnet=1",
               f"docker run -d --name {p.web} -p 127.0.0.1:{p.hport}:{p.cport} {p.image}"],
        why=f"route_localnet=0 on {bridge}: DNATed 127.0.0.1 traffic may not leave by the bridge.")


DRILLS = {
    "ip_forward_off": ip_forward_off,
    "docker_user_drop": docker_user_drop,
    "published_localhost": published_localhost,
    "wrong_port": wrong_port,
    "app_localhost": app_localhost,
    "no_default_route": no_default_route,
    "forward_accept": forward_accept,
    "brnf_off_icc": brnf_off_icc,
    "raw_direct_routing": raw_direct_routing,
    "masquerade_missing": masquerade_missing,
    "network_isolation": network_isolation,
    "veth_down": veth_down,
    "route_localnet": route_localnet,
}
