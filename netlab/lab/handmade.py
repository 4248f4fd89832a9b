"""The article's Docker host written out by hand from the topology classes.

``netlab.scenarios.docker_host`` / ``seed_host`` are the real builders; this
small one lets the lab's own tests and benchmark build the article's host
(enp0s3 10.0.2.15/24 behind gateway 10.0.2.2, enp0s8 192.168.56.38/24 with the
LAN client 192.168.56.1, docker0 172.17.0.1/16, containers from 172.17.0.2,
``-p 80:80`` on the first) independently of them, with the article's rules.
"""

from __future__ import annotations

from netlab.scenarios.topology import Interface, Node, PortMapping, RouteSpec, Scenario, Service

_NAT = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
{masq}-A DOCKER -i docker0 -j RETURN
{dnat}COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
{accept}-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
"""

_GATEWAY_NAT = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 10.0.2.0/24 -o eth1 -j MASQUERADE
COMMIT
"""


def article_host(containers: int = 1, publish: bool = True) -> Scenario:
    """The article's host with ``containers`` containers (``web``, ``c2``, ``c3``…)."""
    s = Scenario(name=f"article-host-{containers}", description="handmade article host")
    host = s.add(Node("host", "host", sysctls={"net.ipv4.ip_forward": "1",
                                               "net.bridge.bridge-nf-call-iptables": "1"}))
    host.interfaces += [
        Interface("enp0s3", mac="08:00:27:a1:4e:3c", addresses=["10.0.2.15/24"]),
        Interface("enp0s8", mac="08:00:27:1c:7e:9f", addresses=["192.168.56.38/24"]),
        Interface("docker0", kind="bridge", mac="02:42:5e:64:8a:11", addresses=["172.17.0.1/16"]),
    ]
    host.routes.append(RouteSpec("default", "enp0s3", via="10.0.2.2"))
    masq = dnat = accept = ""
    for n in range(containers):
        name = "web" if n == 0 else f"c{n + 1}"
        ip = f"172.17.{(n + 2) // 256}.{(n + 2) % 256}"
        mac = f"02:42:ac:11:{(n + 2) // 256:02x}:{(n + 2) % 256:02x}"
        veth = f"veth{n:07x}"
        host.interfaces.append(Interface(veth, mac=f"6a:{n >> 16 & 255:02x}:{n >> 8 & 255:02x}:"
                                                   f"{n & 255:02x}:00:01", master="docker0"))
        c = s.add(Node(name, "container", image="nginx", network="docker0"))
        c.interfaces.append(Interface("eth0", mac=mac, addresses=[f"{ip}/16"]))
        c.routes.append(RouteSpec("default", "eth0", via="172.17.0.1"))
        c.services.append(Service("tcp", 80, "http"))
        s.wire(("host", veth), (name, "eth0"))
        if n == 0 and publish:
            c.ports.append(PortMapping(80, 80))
            masq = f"-A POSTROUTING -s {ip}/32 -d {ip}/32 -p tcp -m tcp --dport 80 -j MASQUERADE\n"
            dnat = f"-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination {ip}:80\n"
            accept = f"-A DOCKER -d {ip}/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT\n"
            host.services.append(Service("tcp", 80, "docker-proxy", target=f"{ip}:80"))
    host.iptables = _NAT.format(masq=masq, dnat=dnat, accept=accept)
    client = s.add(Node("client", "client"))
    client.interfaces.append(Interface("eth0", mac="0a:00:27:00:00:00", addresses=["192.168.56.1/24"]))
    s.wire(("host", "enp0s8"), ("client", "eth0"))
    gw = s.add(Node("gateway", "gateway", sysctls={"net.ipv4.ip_forward": "1"}, iptables=_GATEWAY_NAT))
    gw.interfaces += [Interface("eth0", mac="52:54:00:12:35:02", addresses=["10.0.2.2/24"]),
                      Interface("eth1", mac="52:54:00:cb:00:01", addresses=["203.0.113.1/24"])]
    s.wire(("host", "enp0s3"), ("gateway", "eth0"))
    inet = s.add(Node("internet", "internet"))
    inet.interfaces.append(Interface("eth0", mac="52:54:00:cb:00:0a", addresses=["203.0.113.10/24"]))
    inet.routes.append(RouteSpec("default", "eth0", via="203.0.113.1"))
    inet.services += [Service("tcp", 80, "http"), Service("udp", 7, "udp-echo")]
    s.wire(("gateway", "eth1"), ("internet", "eth0"))
    return s
