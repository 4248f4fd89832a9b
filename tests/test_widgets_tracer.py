"""RuleTracer: the packet editor re-traces live; what-ifs re-run the probe on a changed host."""

from __future__ import annotations

from pathlib import Path

import pytest

import netlab as nl
from netlab.widgets import RuleTracer


def _connect(mode: str, scenario):  # the backends' entry point, with its contract's arguments
    try:
        from netlab.mode import connect
    except ImportError:  # mode.py not in this tree yet: the simulator is what sim mode runs
        from netlab.sim import SimNet

        return SimNet(scenario)
    return connect(mode=mode, scenario=scenario)


@pytest.fixture
def seed_rules(seed_dir: Path):
    return nl.parse_iptables((seed_dir / "iptables-save.txt").read_text())


def test_editing_the_packet_updates_the_trace(seed_rules) -> None:
    rt = RuleTracer(seed_rules, local_addrs=["10.0.2.15", "192.168.56.38", "172.17.0.1"])
    assert rt.dst.value == "192.168.56.38"
    assert rt.trace.verdict == "ACCEPT" and rt.trace.nat.rule == "nat:DOCKER:2"
    assert [r["position"] for r in rt.rows] == ["nat:PREROUTING:1", "nat:DOCKER:1",
                                                "nat:DOCKER:2"]
    assert rt.rows[1]["why not"] == "in-interface is enp0s8, rule needs docker0"
    rt.dport.value = 8080
    assert rt.trace.nat is None
    assert "8080" in next(r["why not"] for r in rt.rows if r["position"] == "nat:DOCKER:2")
    rt.dport.value = 80
    rt.in_iface.value = "docker0"  # from a container: DOCKER returns early
    assert rt.trace.nat is None and rt.rows[1]["matched"]
    rt.in_iface.value = "enp0s8"
    rt.local_addrs.value = ""  # without local addresses, addrtype LOCAL cannot match
    assert rt.trace.nat is None and not rt.rows[0]["matched"]
    assert "failing condition" in rt.table_html.value


def test_forward_hook_and_bad_input(seed_rules) -> None:
    rt = RuleTracer(seed_rules)
    rt.hook.value = "FORWARD"
    rt.out_iface.value = "docker0"
    rt.dst.value = "172.17.0.2"
    assert rt.trace.verdict == "ACCEPT" and rt.trace.decisive.position == "filter:DOCKER:1"
    rt.dport.value = 81
    assert rt.trace.verdict == "DROP"  # FORWARD policy: only the published port is let in
    rt.src.value = "not-an-ip"
    assert rt.trace is None and "not an IP address" in rt.error
    assert "not an IP address" in rt.verdict_html.value


def test_what_if_toggles_rerun_the_probe() -> None:
    rt = RuleTracer(nl.seed_host(), connect=_connect)
    rt.run_button.click()
    assert rt.baseline.ok and rt.variant is rt.baseline
    assert rt.baseline_image.value[:4] == b"\x89PNG"
    rt.toggles["docker_user_drop"].value = True
    assert rt.variant.outcome == "dropped" and "DOCKER-USER" in rt.variant.reason
    assert "as the host is" in rt.compare_html.value and "DOCKER-USER" in rt.compare_html.value
    assert rt.variant_image.value[:4] == b"\x89PNG"
    assert rt.variant_image.value != rt.baseline_image.value  # the drop is drawn
    rt.toggles["docker_user_drop"].value = False
    rt.toggles["publish_localhost"].value = True
    assert not rt.variant.ok  # 127.0.0.1-only: the LAN client cannot reach it
    assert rt.trace.nat is None  # and the editor now traces the changed rules
    rt.toggles["publish_localhost"].value = False
    rt.toggles["ip_forward_off"].value = True
    assert rt.variant.outcome == "dropped" and "ip_forward" in rt.variant.reason
    rt.toggles["ip_forward_off"].value = False
    rt.toggles["userland_proxy_off"].value = True
    assert rt.variant.ok  # from the LAN nothing changes: DNAT does the work either way
    assert rt.changes == {"publish_localhost": False, "userland_proxy_off": True,
                          "docker_user_drop": False, "ip_forward_off": False}


def test_needs_something_with_rules() -> None:
    with pytest.raises(TypeError, match="parse_iptables"):
        RuleTracer(42)


# ------------------------------------------------------------ bad input shows, never raises

@pytest.fixture
def net_tracer():
    net = nl.connect(mode="sim", scenario=nl.docker_host("28"), quiet=True)
    return RuleTracer(net, draw=False)


@pytest.mark.parametrize("bad", ["192.168.56", "10.0.0.300", "host.example", "10.0.0.0/8", "",
                                 "fe80::1%eth0"])
def test_malformed_source_shows_a_message(net_tracer, bad: str) -> None:
    net_tracer.src.value = bad  # must not raise
    assert net_tracer.trace is None
    assert "source" in net_tracer.error and "address" in net_tracer.error
    assert "cannot trace this packet" in net_tracer.verdict_html.value
    assert net_tracer.rows == [] and net_tracer.table_html.value == ""
    net_tracer.src.value = "198.51.100.7"  # fixing it traces again
    assert net_tracer.error is None and net_tracer.trace.verdict == "ACCEPT"


def test_unknown_interface_names_the_hosts_interfaces(net_tracer) -> None:
    net_tracer.in_iface.value = "wlan0"
    assert net_tracer.trace is None
    assert "'wlan0' is not an interface of this host" in net_tracer.error
    assert "enp0s8" in net_tracer.error and "docker0" in net_tracer.error
    assert "wlan0" in net_tracer.verdict_html.value
    net_tracer.in_iface.value = "enp0s8"
    net_tracer.out_iface.value = "docker 0"  # not even a name the kernel accepts
    assert "not an interface name" in net_tracer.error
    net_tracer.out_iface.value = ""
    assert net_tracer.error is None and net_tracer.trace.nat is not None


def test_other_bad_fields(net_tracer) -> None:
    net_tracer.dport.value = 70000
    assert net_tracer.trace is None and "port" in net_tracer.error
    net_tracer.dport.value = 80
    net_tracer.local_addrs.value = "192.168.56.38, the host"
    assert net_tracer.trace is None and "local addrs" in net_tracer.error
    assert "'the host'" in net_tracer.error
    net_tracer.local_addrs.value = "192.168.56.38"
    assert net_tracer.trace.nat is not None


def test_nat_shown_as_addresses_not_tuples(net_tracer) -> None:
    html_text = net_tracer.verdict_html.value
    assert "192.168.56.38:80 → 172.17.0.2:80" in html_text and "(&#x27;" not in html_text


def test_rules_alone_guess_the_hosts_address_and_say_so(seed_rules) -> None:
    rt = RuleTracer(seed_rules, draw=False)
    assert "192.168.56.38" in rt.local_addrs.value and "a guess" in rt.note_html.value
    assert rt.trace.nat is not None and rt.trace.nat.rule == "nat:DOCKER:2"
    rt.in_iface.value = "anything0"  # no host known: any valid name is traced
    assert rt.error is None
    rt.toggles["ip_forward_off"].value = True  # no scenario: said, not raised
    assert "need a net or a scenario" in rt.compare_html.value


def test_a_pasted_host_with_its_own_names(seed_dir: Path) -> None:
    """A host whose LAN NIC is eth0 at 10.20.30.40: the editor starts from there."""
    s = nl.docker_host("27")
    paste = nl.parse_host(
        ip_addr="2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n"
                "    link/ether 52:54:00:12:34:56 brd ff:ff:ff:ff:ff:ff\n"
                "    inet 10.20.30.40/24 brd 10.20.30.255 scope global eth0\n"
                "3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n"
                "    link/ether 02:42:5a:11:22:33 brd ff:ff:ff:ff:ff:ff\n"
                "    inet 172.17.0.1/16 brd 172.17.255.255 scope global docker0\n",
        iptables=s.host.iptables)
    rt = RuleTracer(paste, draw=False)
    assert rt.dst.value == "10.20.30.40" and rt.in_iface.value == "eth0"
    assert not rt.addrs_guessed and "172.17.0.1" in rt.local_addrs.value
    assert rt.trace.nat is not None and rt.trace.nat.after[0] == "172.17.0.2"
    rt.in_iface.value = "enp0s8"
    assert "not an interface of this host" in rt.error


def test_what_ifs_on_another_host_use_its_published_port() -> None:
    from netlab.scenarios import Container

    s = nl.docker_host("29", containers=[Container("shop", ports=["8443:443"])])
    rt = RuleTracer(s, connect=_connect, draw=False)
    assert rt.dport.value == 8443 and rt.probe_spec["dport"] == 8443
    assert rt.trace.nat is not None and rt.trace.nat.after[1] == 443
    rt.run_button.click()
    assert rt.baseline.ok
    rt.toggles["docker_user_drop"].value = True
    assert rt.variant.outcome == "dropped" and "DOCKER-USER" in rt.variant.reason
    rt.toggles["docker_user_drop"].value = False
    rt.toggles["publish_localhost"].value = True
    assert not rt.variant.ok and rt.trace.nat is None


def test_a_failing_probe_is_shown_not_raised() -> None:
    def broken(mode: str, scenario):
        raise nl.errors.NetlabError("lab mode needs root: run as root or use mode='sim'")

    rt = RuleTracer(nl.seed_host(), connect=broken, draw=False)
    rt.toggles["ip_forward_off"].value = True  # must not raise
    assert "what-if not run" in rt.compare_html.value and "needs root" in rt.compare_html.value


def test_the_what_if_figures_show_where_each_journey_ended() -> None:
    from netlab.viz.figure import labels_outside, overlapping_labels, text_boxes

    rt = RuleTracer(nl.docker_host("28"), connect=_connect)
    rt.toggles["ip_forward_off"].value = True
    base, var = rt.baseline_figure, rt.variant_figure
    assert base is not None and var is not None
    assert [h.iface for h in base.netlab_hops][-1] == "eth0"  # reached the container
    assert "docker0" not in [h.iface for h in var.netlab_hops]  # never left the host
    assert any("ip_forward" in t for t, _ in text_boxes(var))
    for fig in (base, var):
        assert overlapping_labels(fig) == [] and labels_outside(fig) == []


def test_the_host_own_packet_in_output_has_no_in_interface(net_tracer) -> None:
    """OUTPUT: the host's own connection to its LAN address is DNATed too, and the
    leftover in-interface is ignored (and said to be), not traced."""
    net_tracer.hook.value = "OUTPUT"
    net_tracer.src.value = "192.168.56.38"
    assert net_tracer.trace.hook == "OUTPUT" and net_tracer.trace.in_iface is None
    assert "ignored: in-interface enp0s8" in net_tracer.verdict_html.value
    assert net_tracer.trace.nat is not None and net_tracer.trace.nat.after[0] == "172.17.0.2"
    net_tracer.hook.value = "PREROUTING"
    net_tracer.out_iface.value = "docker0"
    assert net_tracer.trace.out_iface is None and "out-interface docker0" in net_tracer.ignored[0]


def test_docker_28_0_0_ipset_is_known_to_the_trace() -> None:
    """28.0.0 matches its bridges with the ipset docker-ext-bridges-v4: the tracer
    passes the host's sets, so the published port is accepted, not dropped."""
    rt = RuleTracer(nl.docker_host("28.0.0"), draw=False)
    rt.hook.value = "FORWARD"
    rt.dst.value = "172.17.0.2"
    rt.out_iface.value = "docker0"
    assert rt.trace.verdict == "ACCEPT" and not rt.trace.uncertain
    rt.dport.value = 22
    assert rt.trace.verdict == "DROP"
