"""The journey figure and the hook map: hops numbered in order, NAT shown, readable."""

from __future__ import annotations

import os
from pathlib import Path

from _viz_helpers import hand_journey, hand_scenario

from netlab.viz import draw_hooks, draw_journey, hook_path, hop_table
from netlab.viz._figure import labels_outside, overlapping_labels, text_boxes

PNG_DIR = Path(os.environ.get("NETLAB_VIZ_PNG", "/tmp/netlab-viz-png"))


def _save(fig, name: str) -> None:
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    fig.savefig(PNG_DIR / name)


def test_hops_in_order_with_nat_before_the_right_hop() -> None:
    hops = hop_table(hand_journey())
    assert [(h.node, h.iface) for h in hops] == [
        ("client", "eth0"), ("host", "enp0s8"), ("host", "docker0"), ("host", "vethca38e86"),
        ("web", "eth0")]
    assert hops[2].nat == ["DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2"]
    assert not hops[1].nat and "192.168.56.38" in hops[1].summary
    assert "172.17.0.2" in hops[2].summary


def test_journey_figure_readable() -> None:
    fig = draw_journey(hand_journey(), hand_scenario(1))
    _save(fig, "journey_delivered.png")
    assert overlapping_labels(fig) == []
    assert labels_outside(fig) == []
    texts = [t for t, _ in text_boxes(fig)]
    for n in "12345":
        assert n in texts  # the numbered markers
    assert any("DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2" in t for t in texts)
    assert "DNAT → 172.17.0.2:80" in texts  # on the picture, by the routing box


def test_dropped_journey_without_a_scenario() -> None:
    fig = draw_journey(hand_journey(drop=True))
    _save(fig, "journey_dropped.png")
    texts = [t for t, _ in text_boxes(fig)]
    assert any("dropped in host" in t for t in texts)
    assert any("after this hop" in t for t in texts)  # DNAT happened after hop 2
    assert overlapping_labels(fig) == []


def test_current_hop_is_marked() -> None:
    fig = draw_journey(hand_journey(), hand_scenario(1), current=6)
    assert fig.netlab_current_hop == 1  # after event 6 the packet was last seen on enp0s8


def test_hook_path_of_a_journey() -> None:
    path = hook_path(hand_journey())
    assert path.hooks() == ["PREROUTING", "FORWARD", "POSTROUTING"]
    assert path.in_iface == "enp0s8" and path.out_iface == "docker0"
    pre = path.visits[0]
    assert pre.nat == "DNAT 192.168.56.38:80 → 172.17.0.2:80"
    assert pre.tables["nat"] == "DNAT nat:DOCKER:2"
    dropped = hook_path(hand_journey(drop=True))
    assert dropped.dropped and dropped.hooks() == ["PREROUTING", "FORWARD"]


def test_hook_map_of_a_real_trace(seed_dir: Path) -> None:
    import netlab as nl

    rs = nl.parse_iptables((seed_dir / "iptables-save.txt").read_text())
    trace = rs.trace(nl.Packet("tcp", "192.168.56.1", "192.168.56.38", sport=40000, dport=80),
                     hook="PREROUTING", in_iface="enp0s8", local_addrs=["192.168.56.38"])
    fig = draw_hooks(trace)
    _save(fig, "hooks_trace_prerouting.png")
    path = fig.netlab_hook_path
    assert path.hooks() == ["PREROUTING"]
    assert path.visits[0].tables["nat"] == "DNAT nat:DOCKER:2"
    assert path.visits[0].nat == "DNAT 192.168.56.38:80 → 172.17.0.2:80"
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []
    blocked = rs.trace(nl.Packet("tcp", "192.168.56.1", "172.17.0.2", sport=1, dport=81),
                       hook="FORWARD", in_iface="enp0s8", out_iface="docker0")
    fig = draw_hooks(blocked)
    _save(fig, "hooks_trace_forward_drop.png")
    assert fig.netlab_hook_path.dropped
    assert "packet dropped here" in [t for t, _ in text_boxes(fig)]


def test_hook_map_of_a_journey_readable() -> None:
    for drop in (False, True):
        fig = draw_hooks(hand_journey(drop=drop))
        _save(fig, f"hooks_journey_{'drop' if drop else 'ok'}.png")
        assert overlapping_labels(fig) == [] and labels_outside(fig) == []


def test_aggregate_counter_events_do_not_decide_for_a_packet() -> None:
    """A lab journey's rule counters (packet_id None) mark a hook as passed, never as the
    rule that decided for the selected packet; missing hooks the kernel always passes are
    filled in, in the kernel's order."""
    from netlab.journey import Event

    j = hand_journey()
    j.steps = [e for e in j.steps if e.kind != "netfilter"]
    j.steps.insert(0, Event(0, "netfilter", "host", "counters", hook="FORWARD",
                            rule="filter:FORWARD:5", verdict="ACCEPT", packet_id=None))
    path = hook_path(j)
    assert path.hooks() == ["PREROUTING", "FORWARD", "POSTROUTING"]
    assert path.visits[1].tables == {}
    assert path.visits[0].nat == "DNAT 192.168.56.38:80 → 172.17.0.2:80"
