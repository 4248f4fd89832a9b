"""The real nft agrees: ``nft -c -f`` accepts every captured nft fixture and every rule set
netlab prints back, and the JSON a real nft lists for a loaded fixture reads the same as
the text.  Runs as root, inside throwaway lab namespaces (never the root namespace)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import DOCKER_RULES, FIXTURES

from netlab.lab import names
from netlab.lab.nft import loadable, nft_check, nft_command, nft_list
from netlab.netfilter import parse_nft

pytestmark = pytest.mark.skipif(shutil.which("nft") is None, reason="needs nft (apt-get install nftables)")

TEXTS = sorted(DOCKER_RULES.glob("docker29*.nft-*.txt")) + [
    FIXTURES / "nft" / "iptables-nft__docker28.2.2-portmap.nft-list-ruleset.txt"]


def _samples() -> dict[str, str]:
    from test_nft_engine import COEXIST, EXPRESSIONS, KUBE

    return {"coexist": COEXIST, "expressions": EXPRESSIONS.replace("        limit rate 10/second accept\n", ""),
            "kube": KUBE}


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: p.name)
def test_nft_accepts_the_fixture_and_netlabs_print_back(path: Path) -> None:
    text = path.read_text()
    ok, err = nft_check(loadable(text))
    assert ok, err
    # loadable() only respells priorities old nft does not know by name
    diff = [(a, b) for a, b in zip(text.splitlines(), loadable(text).splitlines(), strict=True) if a != b]
    assert all("priority" in a and "hook" in a for a, _ in diff)
    printed = parse_nft(text).to_nft()
    ok, err = nft_check(loadable(printed))
    assert ok, f"{err}\n{printed}"


@pytest.mark.parametrize("name", ["coexist", "expressions", "kube"])
def test_nft_accepts_the_hand_written_samples_as_printed(name: str) -> None:
    text = _samples()[name]
    ok, err = nft_check(loadable(parse_nft(text).to_nft()))
    assert ok, err


@pytest.mark.parametrize("path", TEXTS[:3] + [DOCKER_RULES / "docker29.0.0__usernet-portmap.nft-list-table.txt"],
                         ids=lambda p: p.name)
def test_json_of_a_loaded_fixture_reads_like_its_text(path: Path) -> None:
    ns = names.netns_name(names.new_prefix(), "nftjson")
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=30)
    try:
        subprocess.run(nft_command(ns, "-f", "-"), input=loadable(path.read_text()).encode(), check=True,
                       capture_output=True, timeout=30)
        listed = parse_nft(nft_list(ns))
        js = parse_nft(nft_list(ns, json=True))
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    want = [t.normalised() for t in parse_nft(path.read_text()).tables]
    assert [t.normalised() for t in js.tables] == want
    assert [t.normalised() for t in listed.tables] == want


@pytest.mark.parametrize("kw", [
    {}, {"userland_proxy": False}, {"icc": False},
    {"networks": [{"name": "n1", "bridge": "br-n1", "internal": True}, {"name": "n2", "gateway_mode": "routed"}],
     "containers": ["a", {"name": "b", "network": "n2", "ports": ["8080:80"]}]},
], ids=["default", "noproxy", "noicc", "internal-routed"])
def test_nft_accepts_the_docker29_profile(kw: dict) -> None:
    from netlab.scenarios import docker_host

    sc = docker_host(version="29", firewall_backend="nftables", **kw)
    for text in (sc.host.nftables, parse_nft(sc.host.nftables).to_nft()):
        ok, err = nft_check(loadable(text))
        assert ok, f"{err}\n{text}"


def test_nft_accepts_the_kube_proxy_nft_benchmark_rules() -> None:
    from netlab.netfilter.kube import kube_proxy_nft_rules

    text = kube_proxy_nft_rules(services=40)
    for t in (text, parse_nft(text).to_nft()):
        ok, err = nft_check(loadable(t))
        assert ok, err


def test_nft_accepts_the_what_if_admin_drop_table() -> None:
    from netlab.scenarios import Container, docker_host
    from netlab.widgets.whatif import what_if

    sc = docker_host("29", [Container("web", ports=["80:80"])], firewall_backend="nftables")
    text = what_if(sc, docker_user_drop=True, userland_proxy_off=True).host.nftables
    ok, err = nft_check(loadable(text))
    assert ok, err


@pytest.mark.parametrize("name", ["coexist", "expressions", "kube"])
def test_json_and_text_listings_of_a_loaded_sample_read_the_same(name: str) -> None:
    ns = names.netns_name(names.new_prefix(), "nftjson")
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=30)
    try:
        subprocess.run(nft_command(ns, "-f", "-"), input=loadable(_samples()[name]).encode(), check=True,
                       capture_output=True, timeout=30)
        text, js = parse_nft(nft_list(ns)), parse_nft(nft_list(ns, json=True))
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)
    # the same chains, headers and rule counts, and the same answer for every packet at every hook
    shape = [[(n, h, len(r)) for n, h, r in t.normalised()["chains"]] for t in text.tables]
    assert [[(n, h, len(r)) for n, h, r in t.normalised()["chains"]] for t in js.tables] == shape
    for src in ("10.1.2.3", "192.0.2.5", "10.9.9.9", "10.244.0.9"):
        for dst, dport in (("10.0.0.5", 22), ("10.0.0.5", 80), ("192.0.2.1", 8443), ("10.96.0.10", 53),
                           ("10.96.0.1", 443), ("10.96.0.1", 80)):
            for hook in ("prerouting", "input", "forward", "output", "postrouting"):
                for state in ("NEW", "ESTABLISHED"):
                    pkt = {"proto": "tcp", "src": src, "dst": dst, "sport": 40000, "dport": dport, "tcp_flags": "S"}
                    kw = {"hook": hook, "in_iface": "eth0", "out_iface": "eth1", "ct_state": state, "seed": 1}
                    a, b = text.trace(pkt, **kw), js.trace(pkt, **kw)
                    assert (a.verdict, a.decisive and a.decisive.position, str(a.nat), a.mark, a.ctmark) == \
                        (b.verdict, b.decisive and b.decisive.position, str(b.nat), b.mark, b.ctmark), (pkt, kw)
    assert not any(r.uncertain for r in js.rules if "limit" not in r.text)
