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
