"""Hand-built scenarios for the viz and widget tests (no dependency on the sim layer)."""

from __future__ import annotations

from netlab.scenarios.topology import Interface, Node, PortMapping, RouteSpec, Scenario


def hand_scenario(n_containers: int = 1, name: str = "hand") -> Scenario:
    """A Docker host like the article's, with ``n_containers`` containers on docker0."""
    s = Scenario(name)
    host = s.add(Node("host", "host", sysctls={"net.ipv4.ip_forward": "1"}))
    host.interfaces += [
        Interface("enp0s3", "veth", "08:00:27:00:00:03", ["10.0.2.15/24"]),
        Interface("enp0s8", "veth", "08:00:27:00:00:08", ["192.168.56.38/24"]),
        Interface("docker0", "bridge", "02:42:68:de:b6:2a", ["172.17.0.1/16"]),
    ]
    host.routes += [RouteSpec("default", "enp0s3", via="10.0.2.2"),
                    RouteSpec("172.17.0.0/16", "docker0", src="172.17.0.1")]
    client = s.add(Node("client", "client"))
    client.interfaces.append(Interface("eth0", "veth", "08:00:27:aa:00:01", ["192.168.56.1/24"]))
    s.wire(("client", "eth0"), ("host", "enp0s8"))
    gw = s.add(Node("gateway", "gateway"))
    gw.interfaces += [Interface("eth0", "veth", None, ["10.0.2.2/24"]),
                      Interface("eth1", "veth", None, ["203.0.113.1/24"])]
    s.wire(("gateway", "eth0"), ("host", "enp0s3"))
    inet = s.add(Node("internet", "internet"))
    inet.interfaces.append(Interface("eth0", "veth", None, ["203.0.113.10/24"]))
    s.wire(("internet", "eth0"), ("gateway", "eth1"))
    for i in range(n_containers):
        ip = f"172.17.0.{i + 2}"
        veth = f"veth{(0xca38e86 + i * 0x1111):07x}"[:11]
        host.interfaces.append(Interface(veth, "veth", None, [], master="docker0"))
        name = "web" if i == 0 else f"app{i}"
        mac = "02:42:" + ":".join(f"{int(b):02x}" for b in ip.split("."))
        c = s.add(Node(name, "container", image="php:7.0-apache", network="docker0",
                       ports=[PortMapping(80, 80)] if i == 0 else []))
        c.interfaces.append(Interface("eth0", "veth", mac, [f"{ip}/16"]))
        c.routes.append(RouteSpec("default", "eth0", via="172.17.0.1"))
        s.wire((name, "eth0"), ("host", veth))
    return s


def hand_journey(drop: bool = False):
    """A LAN client's SYN to the published port, event by event, as the sim records it."""
    from netlab.journey import Event, Journey
    from netlab.packet import Frame

    syn = Frame(src_mac="08:00:27:aa:00:01", dst_mac="08:00:27:00:00:08", proto="tcp",
                src="192.168.56.1", dst="192.168.56.38", ttl=64, sport=40000, dport=80,
                flags="S", seq=1)
    dnat = syn.copy(dst="172.17.0.2")
    fwd = dnat.copy(src_mac="02:42:68:de:b6:2a", dst_mac="02:42:ac:11:00:02", ttl=63)
    ev = [
        Event(1, "send", "client", "client sends SYN", frame=syn, packet_id=1),
        Event(2, "seen", "client", "out", iface="eth0", direction="out", frame=syn, packet_id=1),
        Event(3, "seen", "host", "in", iface="enp0s8", direction="in", frame=syn, packet_id=1),
        Event(4, "conntrack", "host", "new entry", packet_id=1,
              conntrack="tcp SYN_SENT src=192.168.56.1 dst=192.168.56.38 sport=40000 dport=80 "
                        "[UNREPLIED] src=172.17.0.2 dst=192.168.56.1 sport=80 dport=40000"),
        Event(5, "netfilter", "host", "PREROUTING nat: DNAT", hook="PREROUTING",
              rule="nat:DOCKER:2", packet_id=1, verdict="ACCEPT",
              rule_text="-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT "
                        "--to-destination 172.17.0.2:80"),
        Event(6, "nat", "host", "DNAT 192.168.56.38:80 -> 172.17.0.2:80", rule="nat:DOCKER:2",
              before="192.168.56.38:80", after="172.17.0.2:80", packet_id=1, frame=dnat),
        Event(7, "route", "host", "forward via docker0", packet_id=1,
              route="172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1"),
    ]
    if drop:
        ev += [
            Event(8, "netfilter", "host", "FORWARD filter: DROP", hook="FORWARD",
                  rule="filter:DOCKER-USER:1", rule_text="-A DOCKER-USER -j DROP",
                  verdict="DROP", packet_id=1),
            Event(9, "drop", "host", "dropped by filter:DOCKER-USER:1",
                  reason="filter:DOCKER-USER:1 -j DROP", packet_id=1),
        ]
        return Journey({"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 80},
                       ev, outcome="dropped", reason="filter:DOCKER-USER:1")
    ev += [
        Event(8, "netfilter", "host", "FORWARD filter: ACCEPT", hook="FORWARD",
              rule="filter:DOCKER:1", verdict="ACCEPT", packet_id=1,
              rule_text="-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp "
                        "--dport 80 -j ACCEPT"),
        Event(9, "netfilter", "host", "POSTROUTING nat: ACCEPT (policy)", hook="POSTROUTING",
              packet_id=1, verdict="ACCEPT"),
        Event(10, "seen", "host", "out", iface="docker0", direction="out", frame=fwd,
              packet_id=1),
        Event(11, "fdb", "host", "docker0: 02:42:ac:11:00:02 on vethca38e86", packet_id=1),
        Event(12, "seen", "host", "out", iface="vethca38e86", direction="out", frame=fwd,
              packet_id=1),
        Event(13, "seen", "web", "in", iface="eth0", direction="in", frame=fwd, packet_id=1),
        Event(14, "deliver", "web", "to http server :80", packet_id=1),
    ]
    return Journey({"kind": "tcp", "src": "client", "dst": "192.168.56.38", "dport": 80}, ev,
                   outcome="delivered")
