"""The simulator on a Docker 29 host with --firewall-backend=nftables: the article's journey
answered with events naming nft rules; iptables tables and nft chains sharing a host."""

from __future__ import annotations

from netlab.scenarios import Container, docker_host
from netlab.sim import SimNet
from netlab.sim.netfilter_hooks import Hooks


def _host(**kw: object):  # noqa: ANN202 - a Scenario
    return docker_host("29", [Container("web", ports=["80:80"])], firewall_backend="nftables", **kw)


def test_the_articles_journey_on_a_29_nftables_host() -> None:
    j = SimNet(_host()).probe("http", src="client", dst="192.168.56.38", dport=80)
    assert j.outcome == "answered", j.summary()
    dnat = [e for e in j.nat_rewrites if e.rule]
    assert dnat[0].rule == "docker-bridges:nat-prerouting-and-output:1" and dnat[0].hook == "PREROUTING"
    assert dnat[0].detail.startswith("DNAT 192.168.56.38:80 → 172.17.0.2:80 by docker-bridges:")
    assert (dnat[0].before, dnat[0].after) == ("192.168.56.38:80", "172.17.0.2:80")
    accept = [e for e in j.of_kind("netfilter") if e.hook == "FORWARD" and e.frame.flags == "S"]
    assert accept[0].rule == "docker-bridges:filter-forward-in__docker0:3" and accept[0].verdict == "ACCEPT"
    assert "tcp dport 80" in accept[0].rule_text
    assert [e.rule for e in j.of_kind("nat") if e.rule] == ["docker-bridges:nat-prerouting-and-output:1"]


def test_masquerade_and_direct_access_on_the_nft_host() -> None:
    net = SimNet(_host())
    out = net.probe("ping", src="web", dst="203.0.113.10")
    assert out.outcome == "answered"
    assert [e.rule for e in out.nat_rewrites if e.rule] == ["docker-bridges:nat-postrouting-out__docker0:1"]
    sc = _host()
    from netlab.scenarios.topology import RouteSpec

    sc.node("client").routes.append(RouteSpec("172.17.0.0/16", "eth0", via="192.168.56.38"))
    direct = SimNet(sc).probe("tcp", src="client", dst="172.17.0.2", dport=80, timeout=0.5)
    assert direct.outcome == "dropped"
    assert "docker-bridges:raw-PREROUTING:1" in direct.reason


def test_iptables_tables_run_among_the_nft_chains() -> None:
    sc = _host()
    nft = sc.host.nftables
    # an administrator's iptables-legacy filter rule next to Docker's nft table: its DROP wins
    ipt = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n" \
          "-A FORWARD -p tcp --dport 80 -j DROP\nCOMMIT\n"
    hooks = Hooks(ipt, nftables_text=nft)
    from netlab.packet import Frame

    f = Frame(proto="tcp", src="192.168.56.1", dst="172.17.0.2", sport=40000, dport=80, flags="S")
    res = hooks.run("FORWARD", f, in_iface="enp0s8", out_iface="docker0", ct_state="NEW", new_conn=True,
                    local_addrs=("192.168.56.38",), iface_addrs={})
    assert res.verdict == "DROP" and res.rule == "filter:FORWARD:1"
    assert res.trace.tables_run == ["docker-bridges", "filter"]  # both at priority 0: accept, then DROP
    hooks2 = Hooks("", nftables_text=nft)
    ok = hooks2.run("FORWARD", f, in_iface="enp0s8", out_iface="docker0", ct_state="NEW", new_conn=True,
                    local_addrs=("192.168.56.38",), iface_addrs={})
    assert ok.verdict == "ACCEPT" and ok.rule == "docker-bridges:filter-forward-in__docker0:3"


def test_catalogue_scenarios_take_the_nftables_backend() -> None:
    from netlab.scenarios import catalogue

    sc = catalogue.build("article", version="29", firewall_backend="nftables")
    assert sc.host.iptables == "" and "table ip docker-bridges" in sc.host.nftables
    j = SimNet(sc).probe("http", src="client", dst="192.168.56.38", dport=80)
    assert [e.detail for e in j.nat_rewrites if e.rule] == [
        "DNAT 192.168.56.38:80 → 172.17.0.2:80 by docker-bridges:nat-prerouting-and-output:1"]
