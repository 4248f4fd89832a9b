"""The tracer against the real kernel: same rules, same packet, same rules matched.

A throwaway pair of namespaces plays the article's host ("R", with enp0s8
192.168.56.38/24 and a docker0 bridge 172.17.0.1/16 with no ports) and the LAN client ("C",
192.168.56.1).  The rule set is loaded into R with iptables-restore, C opens
one TCP connection, and the rules whose packet counters moved (iptables-save
-c) must be exactly the rules netlab's traces say matched.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import DOCKER_RULES, SEED

from netlab.netfilter import parse_iptables

pytestmark = pytest.mark.lab

LOCAL = ["192.168.56.38", "172.17.0.1"]
IFACES = {"enp0s8": ["192.168.56.38/24"], "docker0": ["172.17.0.1/16"], "lo": ["127.0.0.1/8"]}
EXT = {"docker-ext-bridges-v4": ["172.17.0.0/16"]}

CASES = [
    (SEED / "iptables-save.txt", "192.168.56.38", 80),
    (SEED / "iptables-save.txt", "192.168.56.38", 8080),
    (DOCKER_RULES / "derived/docker18.03.1-27.5.1__default-bridge-publish80.DERIVED.iptables-S.txt",
     "172.17.0.2", 80),
    (DOCKER_RULES / "derived/docker28.0.0__default-bridge-publish80.DERIVED.iptables-S.txt",
     "192.168.56.38", 80),
    (DOCKER_RULES / "derived/docker28.2.2__default-bridge-publish80.DERIVED.iptables-S.txt",
     "192.168.56.38", 80),
    (DOCKER_RULES / "derived/docker28.2.2__default-bridge-publish80.DERIVED.iptables-S.txt",
     "172.17.0.2", 80),
    (DOCKER_RULES / "derived/docker29.0.0__default-bridge-publish80.DERIVED.iptables-S.txt",
     "192.168.56.38", 80),
    (DOCKER_RULES / "derived/docker29.0.0__default-bridge-publish127.0.0.1-80.DERIVED.iptables-S.txt",
     "192.168.56.38", 80),
]


def run(*cmd: str, ns: str | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:  # noqa: ANN003
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    return subprocess.run(full, check=check, capture_output=True, text=True, timeout=30, **kw)


@pytest.fixture
def pair(unique_prefix: str):  # noqa: ANN201
    r, c = f"{unique_prefix}r", f"{unique_prefix}c"
    try:
        run("ip", "netns", "add", r)
        run("ip", "netns", "add", c)
        run("ip", "link", "add", "enp0s8", "netns", r, "type", "veth", "peer", "name", "eth0", "netns", c)
        run("ip", "link", "add", "docker0", "type", "bridge", ns=r)  # no ports, like a fresh docker0
        for cmd in (["ip", "addr", "add", "192.168.56.38/24", "dev", "enp0s8"],
                    ["ip", "addr", "add", "172.17.0.1/16", "dev", "docker0"],
                    ["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "enp0s8", "up"],
                    ["ip", "link", "set", "docker0", "up"], ["sysctl", "-qw", "net.ipv4.ip_forward=1"]):
            run(*cmd, ns=r)
        for cmd in (["ip", "addr", "add", "192.168.56.1/24", "dev", "eth0"],
                    ["ip", "link", "set", "lo", "up"], ["ip", "link", "set", "eth0", "up"],
                    ["ip", "route", "add", "172.17.0.0/16", "via", "192.168.56.38"]):
            run(*cmd, ns=c)
        yield r, c
    finally:
        run("ipset", "destroy", ns=r, check=False)
        run("ip", "netns", "del", r, check=False)
        run("ip", "netns", "del", c, check=False)


def predicted(rs, dst: str, dport: int) -> tuple[set[str], list]:  # noqa: ANN001
    """The rules netlab says the SYN matches on its way through R."""
    pkt = {"proto": "tcp", "src": "192.168.56.1", "dst": dst, "sport": 40000, "dport": dport}
    kw = {"local_addrs": LOCAL, "iface_addrs": IFACES, "ipsets": EXT}
    traces = [rs.trace(pkt, hook="PREROUTING", in_iface="enp0s8", **kw)]
    if traces[-1].verdict == "ACCEPT":
        after = traces[-1].packet_after
        if after.dst in LOCAL:
            traces.append(rs.trace(after, hook="INPUT", in_iface="enp0s8", **kw))
        else:
            out = "docker0" if after.dst.startswith("172.17.") else "enp0s8"
            traces.append(rs.trace(after, hook="FORWARD", in_iface="enp0s8", out_iface=out, **kw))
            if traces[-1].verdict == "ACCEPT":
                traces.append(rs.trace(after, hook="POSTROUTING", in_iface="enp0s8", out_iface=out, **kw))
    assert not any(t.uncertain for t in traces), [t.notes for t in traces]
    return {p for t in traces for p in t.positions}, traces


@pytest.mark.parametrize("path,dst,dport", CASES, ids=[f"{p.name}->{d}:{port}" for p, d, port in CASES])
def test_same_rules_match_as_in_the_kernel(pair, path, dst: str, dport: int) -> None:  # noqa: ANN001
    r, c = pair
    rs = parse_iptables(path.read_text())
    text = rs.to_iptables_save()
    if "docker-ext-bridges-v4" in text:
        run("ipset", "create", "docker-ext-bridges-v4", "hash:net", ns=r)
        run("ipset", "add", "docker-ext-bridges-v4", "172.17.0.0/16", ns=r)
    run("iptables-restore", ns=r, input=text)
    code = ("import socket\ns = socket.socket()\ns.settimeout(0.6)\n"
            f"try:\n    s.connect(({dst!r}, {dport}))\nexcept OSError:\n    pass\n")
    run(sys.executable, "-c", code, ns=c)
    kernel_rs = parse_iptables(run("iptables-save", "-c", ns=r).stdout)
    kernel = {rule.position for rule in kernel_rs.rules if rule.counters and rule.counters[0] > 0}
    netlab, traces = predicted(rs, dst, dport)
    assert netlab == kernel, "\n\n".join(str(t) for t in traces)
