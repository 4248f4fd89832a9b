"""ifconfig, route -n / netstat -rn, ss / netstat -tlnp and nft list ruleset pastes (issue 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

import netlab
from netlab.errors import ParseError
from netlab.parse import parse_ifconfig, parse_route_n, parse_sockets
from netlab.parse.detect import detect

IFCONFIG_NEW = """\
docker0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 172.17.0.1  netmask 255.255.0.0  broadcast 172.17.255.255
        inet6 fe80::42:9aff:fe1c:4e07  prefixlen 64  scopeid 0x20<link>
        ether 02:42:9a:1c:4e:07  txqueuelen 0  (Ethernet)
        RX packets 1052  bytes 95420 (95.4 KB)
        RX errors 0  dropped 0  overruns 0  frame 0
        TX packets 2011  bytes 180022 (180.0 KB)
        TX errors 0  dropped 0 overruns 0  carrier 0  collisions 0

enp0s3: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet 10.0.2.15  netmask 255.255.255.0  broadcast 10.0.2.255
        ether 08:00:27:4a:11:22  txqueuelen 1000  (Ethernet)

br-3f2a1b4c5d6e: flags=4099<UP,BROADCAST,MULTICAST>  mtu 1500
        inet 172.18.0.1  netmask 255.255.0.0  broadcast 172.18.255.255
        ether 02:42:11:22:33:44  txqueuelen 0  (Ethernet)

lo: flags=73<UP,LOOPBACK,RUNNING>  mtu 65536
        inet 127.0.0.1  netmask 255.0.0.0
        inet6 ::1  prefixlen 128  scopeid 0x10<host>
        loop  txqueuelen 1000  (Local Loopback)

veth9a8b7c6: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500
        inet6 fe80::6c1f:33ff:fe44:5566  prefixlen 64  scopeid 0x20<link>
        ether 6e:1f:33:44:55:66  txqueuelen 0  (Ethernet)
"""

IFCONFIG_OLD = """\
$ ifconfig
eth0      Link encap:Ethernet  HWaddr 02:42:AC:11:00:02  \r
          inet addr:172.17.0.2  Bcast:172.17.255.255  Mask:255.255.0.0\r
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\r
          RX packets:14 errors:0 dropped:0 overruns:0 frame:0\r
          collisions:0 txqueuelen:0 \r
\r
eth0:1    Link encap:Ethernet  HWaddr 02:42:AC:11:00:02  \r
          inet addr:172.17.0.50  Bcast:172.17.255.255  Mask:255.255.0.0\r
          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\r
\r
lo        Link encap:Local Loopback  \r
          inet addr:127.0.0.1  Mask:255.0.0.0\r
          inet6 addr: ::1/128 Scope:Host\r
          UP LOOPBACK RUNNING  MTU:65536  Metric:1\r
"""

ROUTE_N = """\
Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
0.0.0.0         10.0.2.2        0.0.0.0         UG    100    0        0 enp0s3
10.0.2.0        0.0.0.0         255.255.255.0   U     100    0        0 enp0s3
10.0.2.2        0.0.0.0         255.255.255.255 UH    100    0        0 enp0s3
172.17.0.0      0.0.0.0         255.255.0.0     U     0      0        0 docker0
10.99.0.0       0.0.0.0         255.255.0.0     !     0      -        0 -
"""

NETSTAT_RN = """\
$ netstat -rn
Kernel IP routing table
Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface
0.0.0.0         172.17.0.1      0.0.0.0         UG        0 0          0 eth0
172.17.0.0      0.0.0.0         255.255.0.0     U         0 0          0 eth0
"""

SS_TULPN = """\
$ sudo ss -tulpn
Netid State  Recv-Q Send-Q   Local Address:Port  Peer Address:Port Process
udp   UNCONN 0      0        127.0.0.53%lo:53         0.0.0.0:*     users:(("systemd-resolve",pid=611,fd=13))
tcp   LISTEN 0      4096           0.0.0.0:8080       0.0.0.0:*     users:(("docker-proxy",pid=2211,fd=4))
tcp   LISTEN 0      4096              [::]:8080          [::]:*     users:(("docker-proxy",pid=2218,fd=4))
tcp   LISTEN 0      511          127.0.0.1:3000       0.0.0.0:*     users:(("node",pid=3301,fd=21),("node",pid=3300,fd=21))
tcp   LISTEN 0      128                  *:22               *:*     users:(("sshd",pid=700,fd=3))
"""

NETSTAT_TLNP = "".join(line + "    \n" for line in """\
Active Internet connections (only servers)
Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
tcp        0      0 0.0.0.0:8080            0.0.0.0:*               LISTEN      2211/docker-proxy
tcp        0      0 127.0.0.1:5432          0.0.0.0:*               LISTEN      -
tcp        0      0 10.0.2.15:22            10.0.2.2:51234          ESTABLISHED 700/sshd
tcp6       0      0 :::8080                 :::*                    LISTEN      2218/docker-proxy
udp        0      0 0.0.0.0:68              0.0.0.0:*                           512/dhclient
""".splitlines())  # netstat pads its last column: trailing spaces


def test_new_ifconfig_gives_links_addresses_and_guessed_kinds():
    state = netlab.parse_host("$ ifconfig\n" + IFCONFIG_NEW)
    links = {link.name: link for link in state.links}
    assert links["docker0"].mac == "02:42:9a:1c:4e:07" and links["docker0"].mtu == 1500
    assert (links["docker0"].kind, links["enp0s3"].kind, links["lo"].kind,
            links["veth9a8b7c6"].kind, links["br-3f2a1b4c5d6e"].kind) == (
        "bridge", "physical", "loopback", "veth", "bridge")
    assert links["br-3f2a1b4c5d6e"].state == "DOWN"  # UP but not RUNNING: no carrier
    addrs = {(a.ifname, a.cidr) for a in state.addrs}
    assert {("docker0", "172.17.0.1/16"), ("enp0s3", "10.0.2.15/24"), ("lo", "127.0.0.1/8"),
            ("docker0", "fe80::42:9aff:fe1c:4e07/64"), ("lo", "::1/128")} <= addrs
    lo6 = next(a for a in state.addrs if a.address == "::1")
    assert lo6.family == 6 and lo6.scope == "host"
    assert any("guessed" in n for n in state.notes)


def test_old_busybox_ifconfig_with_crlf_trailing_spaces_and_an_alias():
    state = netlab.parse_host(IFCONFIG_OLD)
    eth0 = state.link("eth0")
    assert eth0 is not None and eth0.mac == "02:42:ac:11:00:02" and eth0.mtu == 1500
    assert [link.name for link in state.links].count("eth0") == 1
    alias = next(a for a in state.addrs if a.address == "172.17.0.50")
    assert (alias.ifname, alias.label, alias.prefixlen) == ("eth0", "eth0:1", 16)
    assert state.link("lo").kind == "loopback"
    assert any(a.address == "::1" and a.family == 6 for a in state.addrs)


def test_ifconfig_whose_indents_a_web_page_ate_still_reads():
    text = "\n".join(line.strip() for line in IFCONFIG_NEW.splitlines())
    state = parse_ifconfig(text)
    assert {a.cidr for a in state.addrs if a.ifname == "enp0s3"} == {"10.0.2.15/24"}


@pytest.mark.parametrize("text", [
    "eth0 has an address\n",
    "eth0: flags=4163<UP>  mtu 1500\n        inet 10.0.0.300  netmask 255.255.255.0\n",
    "eth0: flags=4163<UP>  mtu 1500\n        inet 10.0.0.3  netmask 255.0.255.0\n",
])
def test_bad_ifconfig_is_a_parse_error_with_its_line(text):
    with pytest.raises(ParseError) as info:
        parse_ifconfig(text)
    assert info.value.lineno is not None and info.value.command == "ifconfig"


def test_route_n_gives_routes_with_gateways_scopes_metrics_and_reject():
    state = netlab.parse_host(ROUTE_N)
    routes = {r.dst: r for r in state.route_list}
    assert routes["default"].gateway == "10.0.2.2" and routes["default"].metric == 100
    assert routes["10.0.2.0/24"].gateway is None and routes["10.0.2.0/24"].scope == "link"
    assert routes["10.0.2.2/32"].dev == "enp0s3"
    assert routes["172.17.0.0/16"].dev == "docker0"
    assert routes["10.99.0.0/16"].type == "unreachable" and routes["10.99.0.0/16"].dev is None
    assert any("table main" in n for n in state.notes)


def test_netstat_rn_columns_are_not_metrics():
    state = netlab.parse_host(NETSTAT_RN)
    default = next(r for r in state.route_list if r.dst == "default")
    assert (default.gateway, default.dev, default.metric) == ("172.17.0.1", "eth0", None)


def test_route_without_n_keeps_what_it_can_and_says_what_it_left_out():
    text = ("$ route\nKernel IP routing table\n"
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
            "default         _gateway        0.0.0.0         UG    100    0        0 eth0\n"
            "172.17.0.0      0.0.0.0         255.255.0.0     U     0      0        0 docker0\n")
    state = netlab.parse_host(text)
    assert [r.dst for r in state.route_list] == ["172.17.0.0/16"]
    assert any("_gateway" in n and "route -n" in n for n in state.notes)


def test_route_n_headerless_with_crlf_and_ipv6_table():
    state = parse_route_n("0.0.0.0   192.168.1.1   0.0.0.0   UG  600  0  0 wlp2s0  \r\n")
    assert state.route_list[0].gateway == "192.168.1.1" and state.route_list[0].metric == 600
    v6 = parse_route_n("Kernel IPv6 routing table\n"
                       "Destination                    Next Hop                   Flag Met Ref Use If\n"
                       "fe80::/64                      ::                         U    256 1     0 eth0\n"
                       "::/0                           fe80::1                    UG   1024 2    0 eth0\n"
                       "::1/128                        ::                         Un   0   2     0 lo\n")
    routes = {r.dst: r for r in v6.route_list}
    assert routes["default"].gateway == "fe80::1" and routes["default"].family == 6
    assert routes["::1"].table == "local"


def test_bad_route_line_is_a_parse_error():
    with pytest.raises(ParseError) as info:
        parse_route_n("Kernel IP routing table\n0.0.0.0 10.0.0.1 banana UG 0 0 0 eth0\n")
    assert info.value.lineno == 2


def test_ss_tulpn_gives_listeners_with_their_processes():
    state = netlab.parse_host(SS_TULPN)
    by = {(s.proto, s.address, s.port): s for s in state.listeners}
    proxy = by[("tcp", "0.0.0.0", 8080)]
    assert (proxy.process, proxy.pid, proxy.fd, proxy.family) == ("docker-proxy", 2211, 4, 4)
    assert by[("tcp", "::", 8080)].family == 6
    dns = by[("udp", "127.0.0.53", 53)]
    assert (dns.iface, dns.state, dns.process) == ("lo", "UNCONN", "systemd-resolve")
    assert by[("tcp", "127.0.0.1", 3000)].process == "node"
    assert by[("tcp", "*", 22)].accepts("172.17.0.1")
    assert not by[("tcp", "127.0.0.1", 3000)].accepts("172.17.0.1")
    assert not state.conntrack_entries


def test_netstat_tlnp_is_sockets_not_conntrack_even_without_its_header():
    assert detect(NETSTAT_TLNP) == "netstat"
    body = "".join(NETSTAT_TLNP.splitlines(keepends=True)[2:])
    assert detect(body) == "netstat"  # `tcp 0 0 0.0.0.0:8080 ...` is no conntrack entry
    state = netlab.parse_host(body)
    assert not state.conntrack_entries
    got = {(s.proto, s.address, s.port, s.process) for s in state.listeners}
    assert got == {("tcp", "0.0.0.0", 8080, "docker-proxy"), ("tcp", "127.0.0.1", 5432, None),
                   ("tcp", "::", 8080, "docker-proxy"), ("udp", "0.0.0.0", 68, "dhclient")}
    assert any("not listening" in n for n in state.notes)
    assert any("sudo" in n for n in state.notes)  # `-` : no process shown


def test_old_ss_users_form_and_a_missing_header():
    text = 'LISTEN     0      128          *:22          *:*      users:(("sshd",1234,3))\n'
    listener = parse_sockets(text).listeners[0]
    assert (listener.process, listener.pid, listener.fd, listener.port) == ("sshd", 1234, 3, 22)


def test_listeners_round_trip_through_json_and_merge_once():
    state = netlab.parse_host(SS_TULPN, NETSTAT_TLNP)
    assert sum(1 for s in state.listeners if (s.address, s.port) == ("0.0.0.0", 8080)) == 1
    again = netlab.HostState.from_json(state.to_json())
    assert again.listeners == state.listeners and again == state
    assert list(state.sockets.columns)[:3] == ["proto", "address", "port"]
    # a snapshot from before listeners existed still loads
    data = state.to_dict()
    del data["listeners"]
    assert netlab.HostState.from_dict(data).listeners == []


def test_bad_socket_line_is_a_parse_error():
    with pytest.raises(ParseError) as info:
        parse_sockets("State Recv-Q Send-Q Local Address:Port Peer Address:Port\nLISTEN x y z\n")
    assert info.value.lineno == 2


NFT = (Path(__file__).parent / "data" / "docker-rules"
       / "docker29.0.0__usernet-portmap.nft-list-table.txt")


def test_nft_list_ruleset_is_kept_as_pasted():
    text = "$ sudo nft list ruleset\n" + "".join(
        line for line in NFT.read_text().splitlines(keepends=True) if not line.startswith("#"))
    state = netlab.parse_host(text)
    assert "table ip docker-bridges" in state.nftables[""]
    assert any("nftables work" in n for n in state.notes)
    assert netlab.HostState.from_json(state.to_json()).nftables == state.nftables
    rs = netlab.parse_nft(state.nftables[""])
    assert rs.tables


def test_bad_nft_is_a_parse_error_at_the_pasted_line():
    with pytest.raises(ParseError) as info:
        netlab.parse_host("$ nft list ruleset\ntable ip filter {\n chain input {\n"
                          "  ip daddr 300.1.1.1 accept\n }\n}\n")
    assert info.value.lineno == 4 and "300.1.1.1" in str(info.value)
