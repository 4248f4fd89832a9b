"""RuleTracer and draw_hooks on nftables rule sets: base chains shown with their priorities."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from conftest import DOCKER_RULES  # noqa: E402

from netlab.netfilter import parse_nft  # noqa: E402
from netlab.scenarios import Container, docker_host  # noqa: E402
from netlab.sim import SimNet  # noqa: E402
from netlab.viz.hooks import draw_hooks, hook_path, hook_rows  # noqa: E402
from netlab.widgets import RuleTracer  # noqa: E402

PORTMAP = DOCKER_RULES / "docker29.0.0__usernet-portmap.nft-list-table.txt"


def _host():  # noqa: ANN202 - a Scenario
    return docker_host("29", [Container("web", ports=["80:80"])], firewall_backend="nftables")


def test_rule_tracer_traces_nft_text_and_shows_chain_priorities() -> None:
    rt = RuleTracer(PORTMAP.read_text(), local_addrs=["192.168.56.38"])
    rt.dst.value, rt.dport.value, rt.hook.value = "192.168.56.38", 8080, "PREROUTING"
    rt.in_iface.value = "eth0"
    assert rt.trace.nat is not None and rt.trace.nat.rule == "docker-bridges:nat-prerouting-and-output:1"
    heads = {r["chain"] for r in rt.rows if r["chain"]}
    assert "ip docker-bridges raw-PREROUTING: type filter hook prerouting priority raw (-300); policy accept" in heads
    assert "priority dstnat (-100)" in rt.table_html.value
    rt.dport.value = 9999
    assert rt.trace.nat is None
    assert "tcp dport is 9999" in next(r["why not"] for r in rt.rows
                                       if r["position"] == "docker-bridges:nat-prerouting-and-output:1")


def test_rule_tracer_on_a_29_nftables_scenario() -> None:
    rt = RuleTracer(_host(), draw=False)
    assert hasattr(rt.ruleset, "chains_at")  # the host's nft rule set, not its (empty) iptables
    rt.hook.value, rt.in_iface.value, rt.dport.value = "PREROUTING", "enp0s8", 80
    assert rt.trace.nat is not None and rt.trace.nat.after[1] == 80


def test_hook_rows_are_base_chains_by_priority_with_conntrack() -> None:
    rs = parse_nft(PORTMAP.read_text())
    assert [label for _, label, _ in hook_rows("PREROUTING", ruleset=rs)] == [
        "raw-PREROUTING (-300)", "conntrack lookup (-200)", "nat-PREROUTING (-100)"]
    assert [label for _, label, _ in hook_rows("INPUT", ruleset=rs)] == ["no nft base chain here"]
    assert [t for t, _, _ in hook_rows("FORWARD")] == ["mangle", "filter"]  # iptables as before


def test_draw_hooks_of_an_nft_journey() -> None:
    j = SimNet(_host()).probe("http", src="client", dst="192.168.56.38", dport=80)
    path = hook_path(j)
    pre = next(v for v in path.visits if v.hook == "PREROUTING")
    assert [c[1] for c in pre.chains] == ["raw-PREROUTING", "nat-PREROUTING"]
    assert pre.tables["docker-bridges nat-PREROUTING"].startswith("DNAT docker-bridges:nat-prerouting-and-output:1")
    fig = draw_hooks(j)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "nat-PREROUTING (-100)" in texts and "filter-FORWARD (0)" in texts
    assert "nat-OUTPUT (-100)" in texts  # a hook the packet did not visit still shows its chains
    assert any("docker-bridges:nat-prerouting-and-output:1" in t for t in texts)


def test_what_ifs_on_a_29_nftables_host() -> None:
    from netlab.widgets.whatif import what_if

    base = _host()
    lo = what_if(base, publish_localhost=True)
    assert lo.host.iptables == "" and "ip daddr 127.0.0.1 tcp dport 80" in lo.host.nftables
    assert SimNet(lo).probe("tcp", src="client", dst="192.168.56.38", dport=80, timeout=0.5).outcome != "answered"
    off = what_if(base, userland_proxy_off=True)
    assert "MASQUERADE FROM HOST" in off.host.nftables and off.host.iptables == ""
    drop = what_if(base, docker_user_drop=True)
    j = SimNet(drop).probe("http", src="client", dst="192.168.56.38", dport=80, timeout=0.5)
    assert j.outcome == "dropped" and "admin:forward:1" in j.reason  # a drop in any table is final
