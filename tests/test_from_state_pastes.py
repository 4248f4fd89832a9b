"""Pastes of a learner's own host (ifconfig, route -n, iptables -L, ss/netstat) through
from_state and why (issue 14): routes, addresses, listeners and lost rules all count."""

from __future__ import annotations

from pathlib import Path

import netlab as nl
from netlab.scenarios import from_state

LISTING = (Path(__file__).parent / "data" / "docker-rules"
           / "docker28.2.2__usernet-portmap.iptables-vL.txt").read_text()

HOST = """$ ifconfig
bridge1: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 192.0.2.1  netmask 255.255.255.0  broadcast 192.0.2.255
        ether 02:42:c0:00:02:01  txqueuelen 0  (Ethernet)
docker0: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1500
        inet 172.17.0.1  netmask 255.255.0.0  broadcast 172.17.255.255
        ether 02:42:9a:1c:4e:07  txqueuelen 0  (Ethernet)
enp0s3: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 10.0.2.15  netmask 255.255.255.0  broadcast 10.0.2.255
        ether 08:00:27:4a:11:22  txqueuelen 1000  (Ethernet)
enp0s8: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 192.168.56.38  netmask 255.255.255.0  broadcast 192.168.56.255
        ether 08:00:27:4a:11:33  txqueuelen 1000  (Ethernet)
lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536
        inet 127.0.0.1  netmask 255.0.0.0
        loop  txqueuelen 1000  (Local Loopback)
$ route -n
Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         10.0.2.2        0.0.0.0         UG    100    0        0 enp0s3
10.0.2.0        0.0.0.0         255.255.255.0   U     100    0        0 enp0s3
172.17.0.0      0.0.0.0         255.255.0.0     U     0      0        0 docker0
192.0.2.0       0.0.0.0         255.255.255.0   U     0      0        0 bridge1
192.168.56.0    0.0.0.0         255.255.255.0   U     0      0        0 enp0s8
$ sudo ss -tlnp
State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process
LISTEN 0      4096         0.0.0.0:8080       0.0.0.0:*     users:(("docker-proxy",pid=2211,fd=4))
LISTEN 0      128          0.0.0.0:22         0.0.0.0:*     users:(("sshd",pid=700,fd=3))
LISTEN 0      128        127.0.0.1:5432       0.0.0.0:*     users:(("postgres",pid=901,fd=5))
$ sysctl net.ipv4.ip_forward
net.ipv4.ip_forward = 1
"""


RULES_NO_V = """$ sudo iptables -L -n
Chain INPUT (policy ACCEPT)
target     prot opt source               destination

Chain FORWARD (policy DROP)
target     prot opt source               destination
DOCKER     all  --  0.0.0.0/0            0.0.0.0/0
ACCEPT     all  --  0.0.0.0/0            0.0.0.0/0            ctstate RELATED,ESTABLISHED

Chain DOCKER (1 references)
target     prot opt source               destination
ACCEPT     tcp  --  0.0.0.0/0            192.0.2.2            tcp dpt:80
$ sudo iptables -t nat -L -n
Chain PREROUTING (policy ACCEPT)
target     prot opt source               destination
DOCKER     all  --  0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL

Chain POSTROUTING (policy ACCEPT)
target     prot opt source               destination
MASQUERADE  all  --  192.0.2.0/24         0.0.0.0/0

Chain DOCKER (1 references)
target     prot opt source               destination
DNAT       tcp  --  0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:192.0.2.2:80
"""


WEB = """$ docker exec web ifconfig
eth0      Link encap:Ethernet  HWaddr 02:42:C0:00:02:02
          inet addr:192.0.2.2  Bcast:192.0.2.255  Mask:255.255.255.0
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1
$ docker exec web netstat -tlnp
Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0 127.0.0.1:80            0.0.0.0:*               LISTEN      1/nginx: master pro
"""


def _sc(*pastes: str):
    return from_state(nl.parse_host(*pastes))


def test_ifconfig_route_n_and_a_real_iptables_listing_build_the_host():
    sc = _sc(HOST, LISTING)
    host = sc.host
    assert host.interface("enp0s8").ips[0] == "192.168.56.38"
    assert any(r.dst == "default" and r.via == "10.0.2.2" for r in host.routes)
    assert any(n.role == "container" and "192.0.2.2/24" in n.interfaces[1].addresses
               for n in sc.nodes.values())
    answer = nl.why(sc, src="client", dst="192.168.56.38", dport=8080)
    assert not answer.stopped and not answer.uncertain and "192.0.2.2:80" in answer.text


def test_host_listeners_answer_and_loopback_only_ones_are_named():
    sc = _sc(HOST, LISTING)
    assert any("listening sockets" in n for n in sc.notes)
    assert not nl.why(sc, src="client", dst="192.168.56.38", dport=22).stopped  # sshd 0.0.0.0:22
    pg = nl.why(sc, src="client", dst="192.168.56.38", dport=5432)
    assert pg.stopped and "bound to 127.0.0.1 only" in pg.text
    none = nl.why(sc, src="client", dst="192.168.56.38", dport=81)
    assert none.stopped and "no program listens on tcp port 81" in none.text


def test_docker_proxy_in_the_sockets_says_the_proxy_is_on_and_its_absence_off():
    on = _sc(HOST, LISTING)
    assert on.docker.userland_proxy
    assert any(s.kind == "docker-proxy" and s.port == 8080 for s in on.host.services)
    no_proxy = HOST.replace('LISTEN 0      4096         0.0.0.0:8080       0.0.0.0:*     '
                            'users:(("docker-proxy",pid=2211,fd=4))\n', "")
    assert no_proxy != HOST
    off = _sc(no_proxy, LISTING)
    assert not off.docker.userland_proxy
    assert not any(s.kind == "docker-proxy" for s in off.host.services)
    assert any("userland proxy taken as off" in n for n in off.notes)


def test_a_container_bound_to_loopback_explains_the_failed_published_port():
    sc = _sc(HOST, LISTING, WEB)
    assert "web" in sc.nodes and sc.nodes["web"].interfaces[1].mac == "02:42:c0:00:02:02"
    assert any("web: port 80 is bound to 127.0.0.1 only" in n for n in sc.notes)
    answer = nl.why(sc, src="client", dst="192.168.56.38", dport=8080)
    assert answer.stopped and "port 80 but bound to 127.0.0.1 only" in answer.text
    # the same container listening on all addresses answers
    fixed = _sc(HOST, LISTING, WEB.replace("127.0.0.1:80 ", "0.0.0.0:80   "))
    assert not nl.why(fixed, src="client", dst="192.168.56.38", dport=8080).stopped


def test_a_container_with_no_listener_on_its_published_port():
    sc = _sc(HOST, LISTING, WEB.replace("127.0.0.1:80 ", "0.0.0.0:81   "))
    assert any("nothing listens on tcp port 80" in n for n in sc.notes)
    answer = nl.why(sc, src="client", dst="192.168.56.38", dport=8080)
    assert answer.stopped and "no program listens on tcp port 80" in answer.text


def test_a_listing_without_v_makes_the_answer_uncertain():
    sc = _sc(HOST, RULES_NO_V)
    answer = nl.why(sc, src="client", dst="192.168.56.38", dport=8080)
    assert not answer.stopped and answer.uncertain
    assert "uncertain" in answer.text and "iptables -L" in answer.text
