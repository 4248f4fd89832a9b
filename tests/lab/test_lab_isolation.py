"""The machine's own namespace is never touched: 20 up/down cycles, one killed mid-build."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import needs

from netlab.lab import Lab, build, names
from netlab.lab.handmade import article_host
from netlab.scenarios import docker_host

SYSCTLS = [
    "net/ipv4/ip_forward", "net/ipv4/conf/all/forwarding", "net/ipv4/conf/default/forwarding",
    "net/ipv4/conf/all/route_localnet", "net/ipv4/conf/all/rp_filter",
    "net/bridge/bridge-nf-call-iptables", "net/bridge/bridge-nf-call-ip6tables",
    "net/ipv6/conf/all/disable_ipv6", "net/ipv6/conf/default/disable_ipv6",
    "net/ipv4/ip_local_port_range",
]


def _run(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30).stdout


def _without_counters(text: str) -> str:
    lines = [re.sub(r"\[\d+:\d+\]", "[]", x) for x in text.splitlines() if not x.startswith("#")]
    return "\n".join(lines)


def root_snapshot() -> dict[str, object]:
    """Links, addresses, routes (all tables), rules, firewall and sysctls of the root namespace."""
    snap: dict[str, object] = {}
    links = json.loads(_run("ip", "-j", "link", "show"))
    snap["links"] = [{k: v for k, v in link.items() if k not in ("stats", "stats64")} for link in links]
    snap["addr"] = json.loads(_run("ip", "-j", "addr", "show"))
    snap["route"] = json.loads(_run("ip", "-j", "route", "show", "table", "all"))
    snap["rule"] = json.loads(_run("ip", "-j", "rule", "show"))
    snap["neigh-count"] = len(json.loads(_run("ip", "-j", "neigh", "show", "dev", "lo") or "[]"))
    snap["iptables"] = _without_counters(_run("iptables-save"))
    snap["iptables-legacy"] = _without_counters(_run("iptables-legacy-save"))
    snap["nft"] = _run("nft", "list", "ruleset")
    snap["ipset"] = re.sub(r" initval 0x[0-9a-f]+", "", _run("ipset", "save"))  # 28.0.0 labs make ipsets
    for key in SYSCTLS:
        p = Path("/proc/sys") / key
        snap[key] = p.read_text() if p.exists() else None
    snap["proc-net-dev-names"] = sorted(line.split(":")[0].strip()
                                        for line in Path("/proc/net/dev").read_text().splitlines()[2:])
    return snap


def _lab_namespaces(prefix: str | None = None) -> list[str]:
    return [n for n in build.list_netns() if names.is_lab_netns(n) and (prefix is None or n.startswith(prefix))]


CHILD = """
import sys
from netlab.lab import Lab
from netlab.lab.handmade import article_host
lab = Lab(article_host(containers=40), prefix=sys.argv[1])
print("building", flush=True)
lab.up()
print("built", flush=True)
"""


@needs("iptables-save", "iptables-legacy-save", "nft", "ipset")
def test_twenty_cycles_and_a_crash_leave_the_root_namespace_alone(tmp_path):
    before = root_snapshot()
    others_before = {n for n in build.list_netns() if not names.is_lab_netns(n)}
    crashed_prefix = names.new_prefix()
    ours = {crashed_prefix}
    pids: list[int] = []
    child: subprocess.Popen | None = None
    try:
        for cycle in range(20):
            if cycle == 7:
                # killed with SIGKILL mid-build, then `netlab lab down --all`
                child = subprocess.Popen([sys.executable, "-c", CHILD, crashed_prefix],
                                         stdout=subprocess.PIPE, text=True)
                assert child.stdout is not None
                assert child.stdout.readline().strip() == "building"
                state = build.state_path(crashed_prefix)
                deadline = time.monotonic() + 10
                while not _lab_namespaces(crashed_prefix) and time.monotonic() < deadline:
                    time.sleep(0.002)
                os.kill(child.pid, signal.SIGKILL)
                child.wait()
                assert "built" not in child.stdout.read()
                assert _lab_namespaces(crashed_prefix), "the kill came too late to be mid-build"
                assert state.exists()
                pids += json.loads(state.read_text())["pids"]
                # what `netlab lab down --all` does, limited to this test's labs: other programs
                # on this machine may have labs up right now
                removed = build.down_all(prefixes={crashed_prefix})
                assert removed and all(n.startswith(crashed_prefix) for n in removed)
                assert _lab_namespaces(crashed_prefix) == []
                assert not state.exists()
                continue
            # every fourth cycle a Docker 28.0.0 host, whose rules match an ipset
            lab = Lab(docker_host("28.0.0") if cycle % 4 == 3 else article_host(containers=1 + cycle % 3))
            ours.add(lab.prefix)
            with lab:
                pids += lab._run.pids
                assert len(_lab_namespaces(lab.prefix)) == len(lab.scenario.nodes)
                if cycle % 5 == 0:
                    j = lab.probe("http", src="client", dst="192.168.56.38", timeout=2)
                    assert j.ok, j.summary()
            assert _lab_namespaces(lab.prefix) == []
    finally:  # on failure too: the crashed builder, then every lab this test made
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        build.down_all(prefixes=ours)
    after = root_snapshot()
    for key in before:
        assert after[key] == before[key], f"the root namespace's {key} changed"
    assert [n for n in _lab_namespaces() if names.prefix_of(n) in ours] == []
    assert {n for n in build.list_netns() if not names.is_lab_netns(n)} >= others_before - {
        n for n in others_before if not Path("/run/netns", n).exists()}  # others left alone
    assert pids, "the labs recorded their service processes"
    leftovers = [pid for pid in pids if _cmdline(Path(f"/proc/{pid}")).endswith("netlab/lab/servers.py")]
    assert leftovers == [], "service processes outlived their lab"


def _cmdline(p: Path) -> str:
    try:
        return " ".join(x for x in p.joinpath("cmdline").read_text().split("\0") if x)
    except OSError:
        return ""
