"""The tracer against the real kernel on user-bridge rule sets of every Docker version.

``docker_host`` builds a host with two ``br-<12 hex>`` networks, three containers and
several ports; its rules go into a throwaway namespace "R" (enp0s8 192.168.56.38/24,
docker0 and the two bridges with their gateway addresses, no ports), a client "C"
(192.168.56.1) sends one packet per case, and the rules whose counters moved
(``iptables-save -c``) must be exactly the rules netlab's traces say matched.
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
from conftest import missing_tools, needs

from netlab.netfilter import parse_iptables
from netlab.scenarios import Container, docker_host

pytestmark = pytest.mark.lab

VERSIONS = ["27", "28.0.0", "28.0.1", "28.2.0", "28.2.2", "29"]
BR_A, BR_B = "br-5eed0a1b2c3d", "br-5eed0e4f5a6b"


def run(*cmd: str, ns: str | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:  # noqa: ANN003
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    return subprocess.run(full, check=check, capture_output=True, text=True, timeout=30, **kw)


def scenario(version: str):  # noqa: ANN201
    return docker_host(version, [Container("api", ports=["8443:443", "5353:53/udp"], network="front"),
                                 Container("db", image="postgres", network="back"),
                                 Container("web", ports=["8081:80"])],
                       networks=[{"name": "front", "bridge": BR_A, "subnet": "172.20.0.0/16"},
                                 {"name": "back", "bridge": BR_B, "subnet": "172.21.0.0/16"}])


@pytest.fixture
def host_and_client(unique_prefix: str):  # noqa: ANN201
    r, c = f"{unique_prefix}r", f"{unique_prefix}c"
    try:
        run("ip", "netns", "add", r)
        run("ip", "netns", "add", c)
        run("ip", "link", "add", "enp0s8", "netns", r, "type", "veth", "peer", "name", "eth0", "netns", c)
        cmds = [["ip", "addr", "add", "192.168.56.38/24", "dev", "enp0s8"], ["ip", "link", "set", "lo", "up"],
                ["ip", "link", "set", "enp0s8", "up"], ["sysctl", "-qw", "net.ipv4.ip_forward=1"]]
        for br, cidr in (("docker0", "172.17.0.1/16"), (BR_A, "172.20.0.1/16"), (BR_B, "172.21.0.1/16")):
            cmds += [["ip", "link", "add", br, "type", "bridge"], ["ip", "addr", "add", cidr, "dev", br],
                     ["ip", "link", "set", br, "up"]]
        for cmd in cmds:
            run(*cmd, ns=r)
        for cmd in (["ip", "addr", "add", "192.168.56.1/24", "dev", "eth0"], ["ip", "link", "set", "lo", "up"],
                    ["ip", "link", "set", "eth0", "up"], ["ip", "route", "add", "172.16.0.0/12", "via",
                                                          "192.168.56.38"]):
            run(*cmd, ns=c)
        yield r, c
    finally:
        run("ip", "netns", "del", r, check=False)
        run("ip", "netns", "del", c, check=False)


IFACES = {"enp0s8": ["192.168.56.38/24"], "docker0": ["172.17.0.1/16"], BR_A: ["172.20.0.1/16"],
          BR_B: ["172.21.0.1/16"], "lo": ["127.0.0.1/8"]}


def out_iface(dst: str) -> str:
    for name, (cidr,) in IFACES.items():
        if name != "lo" and ipaddress.IPv4Address(dst) in ipaddress.IPv4Network(cidr, strict=False):
            return name
    return "enp0s8"


def predicted(rs, pkt: dict, ipsets: dict) -> tuple[set[str], list]:  # noqa: ANN001
    kw = {"iface_addrs": IFACES, "ipsets": ipsets}
    traces = [rs.trace(pkt, hook="PREROUTING", in_iface="enp0s8", **kw)]
    if traces[-1].verdict == "ACCEPT":
        after = traces[-1].packet_after
        if after.dst in {a.split("/")[0] for (a,) in IFACES.values()}:
            traces.append(rs.trace(after, hook="INPUT", in_iface="enp0s8", **kw))
        else:
            out = out_iface(after.dst)
            traces.append(rs.trace(after, hook="FORWARD", in_iface="enp0s8", out_iface=out, **kw))
            if traces[-1].verdict == "ACCEPT":
                traces.append(rs.trace(after, hook="POSTROUTING", in_iface="enp0s8", out_iface=out, **kw))
    assert not any(t.uncertain for t in traces), [t.notes for t in traces]
    return {p for t in traces for p in t.positions}, traces


CASES = [  # proto, destination (a container's name = its address), port
    ("tcp", "192.168.56.38", 8443), ("tcp", "192.168.56.38", 5432), ("udp", "192.168.56.38", 5353),
    ("tcp", "api", 443), ("tcp", "db", 5432), ("tcp", "web", 80), ("tcp", "172.20.0.1", 22),
]


@pytest.mark.parametrize("version", VERSIONS)
def test_user_bridge_rules_match_as_in_the_kernel(host_and_client, version: str) -> None:  # noqa: ANN001
    r, c = host_and_client
    s = scenario(version)
    if s.host.ipsets and (why := missing_tools("ipset")):
        pytest.skip(why)  # Docker 28.0.0's rules match an ipset
    rs = parse_iptables(s.host.iptables)
    for name, members in s.host.ipsets.items():
        run("ipset", "create", name, "hash:net", ns=r)
        for m in members:
            run("ipset", "add", name, m, ns=r)
    run("iptables-restore", ns=r, input=s.host.iptables)
    failures = []
    for proto, dst, port in CASES:
        ip = s.node(dst).ip if dst in s.nodes else dst
        for table in ("raw", "nat", "filter"):
            run("iptables", "-t", table, "-Z", ns=r)
        if proto == "tcp":
            code = ("import socket\ns = socket.socket()\ns.settimeout(0.3)\n"
                    f"try:\n    s.connect(({ip!r}, {port}))\nexcept OSError:\n    pass\ns.close()\n")
        else:
            code = (f"import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    f"s.sendto(b'x', ({ip!r}, {port}))\n")
        run(sys.executable, "-c", code, ns=c)
        kernel_rs = parse_iptables(run("iptables-save", "-c", ns=r).stdout)
        kernel = {rule.position for rule in kernel_rs.rules if rule.counters and rule.counters[0] > 0}
        pkt = {"proto": proto, "src": "192.168.56.1", "dst": ip, "sport": 40000, "dport": port}
        netlab, traces = predicted(rs, pkt, s.host.ipsets)
        if netlab != kernel:
            failures.append(f"{proto} {ip}:{port}: kernel {sorted(kernel)} netlab {sorted(netlab)}\n"
                            + "\n".join(str(t) for t in traces))
    assert not failures, "\n\n".join(failures)


# ------------------------------------------------------------ every match, on the kernel
MATCH_RULES = """*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i enp0s8 -p tcp -m tcp --dport 8443 -j MARK --set-xmark 0x5/0xff
-A PREROUTING -i enp0s8 -p udp -j MARK --set-mark 0x100/0xf00
-A PREROUTING -i enp0s8 -p udp -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:PROBE - [0:0]
:GONE - [0:0]
-A INPUT -i enp0s8 -j PROBE
-A INPUT -i enp0s8 -g GONE
-A INPUT -i enp0s8 -p tcp -j DROP
-A GONE -p icmp -j RETURN
-A GONE -p udp
-A PROBE -p tcp -m tcp --dport 8000:9000
-A PROBE -p tcp -m multiport --dports 80,443,8000:8100
-A PROBE -p tcp -m multiport --dports 80,8443
-A PROBE -p tcp -m multiport --ports 40000,1
-A PROBE -p tcp -m tcp --sport 40000
-A PROBE -p tcp -m tcp --tcp-flags SYN,ACK SYN
-A PROBE -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK ACK
-A PROBE -p tcp -m tcp --syn
-A PROBE -p tcp -m tcp ! --syn
-A PROBE -s 192.168.56.0/24 ! -d 10.0.0.0/8
-A PROBE ! -s 192.168.56.0/25
-A PROBE -i enp0s+
-A PROBE ! -i enp0s+
-A PROBE -m addrtype --dst-type LOCAL --limit-iface-in
-A PROBE -m addrtype --dst-type LOCAL
-A PROBE -m addrtype --src-type LOCAL
-A PROBE -m addrtype --dst-type BROADCAST
-A PROBE -m addrtype --src-type UNICAST
-A PROBE -m iprange --src-range 192.168.56.1-192.168.56.5
-A PROBE -m iprange ! --dst-range 192.168.56.1-192.168.56.5
-A PROBE -m conntrack --ctstate NEW
-A PROBE -m conntrack --ctstate RELATED,ESTABLISHED
-A PROBE -m conntrack --ctdir ORIGINAL
-A PROBE -m conntrack --ctdir REPLY
-A PROBE -m conntrack --ctorigdstport 8443
-A PROBE -m conntrack --ctorigdst 192.168.56.38
-A PROBE -m state --state NEW
-A PROBE -m pkttype --pkt-type unicast
-A PROBE -m pkttype --pkt-type broadcast
-A PROBE -m mark --mark 0x5/0xff
-A PROBE -m mark --mark 0x100/0xf00
-A PROBE -m connmark --mark 0x100
-A PROBE -p icmp -m icmp --icmp-type echo-request
-A PROBE -p icmp -m icmp --icmp-type 0
-A PROBE -p icmp -m icmp ! --icmp-type 3/3
-A PROBE -p udp -m udp --dport 5353
-A PROBE -p udp -m udp --sport 40000:40010
-A PROBE -m set --match-set nltestset src
-A PROBE -m set ! --match-set nltestset dst
-A PROBE -m comment --comment "counts everything"
-A PROBE -m limit --limit 100/sec
-A PROBE -m statistic --mode random --probability 1.0
COMMIT
"""
ECHO = """import socket, struct
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
body = struct.pack('!BBHHH', 8, 0, 0, 77, 1) + b'netlab'
body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(body, ('192.168.56.38', 0))
"""
PROBES = [("tcp", 8443), ("tcp", 22), ("udp", 5353), ("udp", 9), ("icmp", None)]


@needs("ipset")
def test_every_match_counts_as_the_kernel_counts(host_and_client) -> None:  # noqa: ANN001
    r, c = host_and_client
    run("ipset", "create", "nltestset", "hash:net", ns=r)
    run("ipset", "add", "nltestset", "192.168.56.0/28", ns=r)
    rs = parse_iptables(MATCH_RULES)
    run("iptables-restore", ns=r, input=MATCH_RULES)
    failures = []
    for proto, port in PROBES:
        for table in ("mangle", "filter"):
            run("iptables", "-t", table, "-Z", ns=r)
        if proto == "tcp":
            code = ("import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                    "s.bind(('192.168.56.1', 40000))\ns.settimeout(0.3)\n"
                    f"try:\n    s.connect(('192.168.56.38', {port}))\nexcept OSError:\n    pass\ns.close()\n")
            run(sys.executable, "-c", code, ns=c)
        elif proto == "udp":
            code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    f"s.bind(('192.168.56.1', 40005))\ns.sendto(b'x', ('192.168.56.38', {port}))\n")
            run(sys.executable, "-c", code, ns=c)
        else:  # one ICMP echo request (no ping binary needed)
            run(sys.executable, "-c", ECHO, ns=c)
        kernel_rs = parse_iptables(run("iptables-save", "-c", ns=r).stdout)
        kernel = {rule.position for rule in kernel_rs.rules if rule.counters and rule.counters[0] > 0}
        pkt = {"proto": proto, "src": "192.168.56.1", "dst": "192.168.56.38"}
        if proto != "icmp":
            pkt.update(sport=40000 if proto == "tcp" else 40005, dport=port)
        kw = {"iface_addrs": IFACES, "ipsets": {"nltestset": ["192.168.56.0/28"]}}
        pre = rs.trace(pkt, hook="PREROUTING", in_iface="enp0s8", **kw)
        orig = {"orig_dst": "192.168.56.38", "orig_dport": port, "direction": "ORIGINAL"}
        inp = rs.trace(pre.packet_after, hook="INPUT", in_iface="enp0s8", conntrack=orig, **kw)
        netlab = set(pre.positions) | set(inp.positions)
        if netlab != kernel or pre.uncertain or inp.uncertain:
            failures.append(f"{proto} {port}: only kernel {sorted(kernel - netlab)}, only netlab "
                            f"{sorted(netlab - kernel)}\n{pre}\n{inp}")
    assert not failures, "\n\n".join(failures)


# ------------------------------------------------------------ NAT, on the kernel
NAT_RULES = """*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i enp0s8 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.20.0.10
-A PREROUTING -i enp0s8 -p tcp -m tcp --dport 8081 -j DNAT --to-destination 172.20.0.11:80
-A PREROUTING -i enp0s8 -p udp -m udp --dport 3000 -j REDIRECT --to-ports 3128
-A PREROUTING -i enp0s8 -p udp -m udp --dport 9999 -j DNAT --to-destination :53
-A POSTROUTING -o eth1 -p tcp -m tcp --dport 443 -j MASQUERADE --to-ports 40000-40100
-A POSTROUTING -o eth1 -p udp -j SNAT --to-source 198.51.100.77
-A POSTROUTING -o eth1 -j MASQUERADE
COMMIT
"""
NAT_PROBES = [("tcp", "192.168.56.38", 8080), ("tcp", "192.168.56.38", 8081), ("udp", "192.168.56.38", 3000),
              ("udp", "192.168.56.38", 9999), ("tcp", "203.0.113.80", 443), ("udp", "203.0.113.80", 53),
              ("tcp", "203.0.113.80", 80), ("tcp", "192.0.2.80", 80)]


def _reply_tuple(conntrack_l: str, proto: str) -> tuple[str, int, str, int] | None:
    """(reply src, reply sport, reply dst, reply dport) of the one entry ``conntrack -L`` shows."""
    import re

    for line in conntrack_l.splitlines():
        if not line.startswith(proto):
            continue
        src = re.findall(r"src=(\S+)", line)
        dst = re.findall(r"dst=(\S+)", line)
        sport = re.findall(r"sport=(\d+)", line)
        dport = re.findall(r"dport=(\d+)", line)
        if len(src) == 2 and "192.168.56.1" in src[0]:
            return src[1], int(sport[1]), dst[1], int(dport[1])
    return None


def test_nat_rewrites_are_the_kernels(host_and_client) -> None:  # noqa: ANN001
    import shutil

    if shutil.which("conntrack") is None:
        pytest.skip("needs the conntrack tool")
    r, c = host_and_client
    for cmd in (["ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p"],
                ["ip", "link", "set", "eth1p", "up"],
                ["ip", "addr", "add", "198.51.100.20/24", "dev", "eth1"],
                ["ip", "addr", "add", "203.0.113.5/24", "dev", "eth1"], ["ip", "link", "set", "eth1", "up"],
                ["ip", "route", "add", "default", "via", "198.51.100.1", "dev", "eth1"]):
        run(*cmd, ns=r)
    run("ip", "route", "add", "default", "via", "192.168.56.38", ns=c)
    run("iptables-restore", ns=r, input=NAT_RULES)
    rs = parse_iptables(NAT_RULES)
    ifaces = {**IFACES, "eth1": ["198.51.100.20/24", "203.0.113.5/24"]}
    failures = []
    for k, (proto, dst, port) in enumerate(NAT_PROBES):
        # a source port of its own per probe: an earlier connection still held by a
        # queued packet would make the kernel reuse its source mapping
        sport = 45000 + k
        run("conntrack", "-F", ns=r, check=False)
        if proto == "tcp":
            code = ("import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                    f"s.bind(('192.168.56.1', {sport}))\ns.settimeout(0.3)\n"
                    f"try:\n    s.connect(({dst!r}, {port}))\nexcept OSError:\n    pass\ns.close()\n")
        else:
            code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    f"s.bind(('192.168.56.1', {sport}))\ns.sendto(b'x', ({dst!r}, {port}))\n")
        run(sys.executable, "-c", code, ns=c)
        kernel = _reply_tuple(run("conntrack", "-L", ns=r, check=False).stdout, proto)
        pkt = {"proto": proto, "src": "192.168.56.1", "dst": dst, "sport": sport, "dport": port}
        pre = rs.trace(pkt, hook="PREROUTING", in_iface="enp0s8", iface_addrs=ifaces)
        after = pre.packet_after
        local = after.dst in {"192.168.56.38", "198.51.100.20", "203.0.113.5"}
        out = None if local else ("eth1" if after.dst.startswith(("203.", "192.0.2.")) else out_iface(after.dst))
        hook = "INPUT" if local else "POSTROUTING"
        # 203.0.113.0/24 is on eth1's link; anything else goes through the gateway 198.51.100.1
        gateway = "198.51.100.1" if after.dst.startswith("192.0.2.") else None
        post = rs.trace(after, hook=hook, in_iface="enp0s8", out_iface=out, iface_addrs=ifaces,
                        next_hop=gateway)
        fin = post.packet_after
        want = (fin.dst, fin.dport, fin.src, fin.sport)  # the reply goes back from where we sent it
        ok = kernel is not None and kernel[:3] == want[:3]
        note = (post.nat.note if post.nat else "") + (pre.nat.note if pre.nat else "")
        if ok and kernel[3] != want[3]:  # the port: equal, or the kernel's pick from a range we named
            ok = "picked" in note and "40000-40100" in note and 40000 <= kernel[3] <= 40100
        if not ok:
            failures.append(f"{proto} {dst}:{port}: kernel reply {kernel}, netlab {want}\n{pre}\n{post}")
    assert not failures, "\n\n".join(failures)
