"""The figures and widgets on a journey the real kernel produced (lab mode, root)."""

from __future__ import annotations

import netlab as nl
from netlab.viz.figure import labels_outside, overlapping_labels
from netlab.widgets import JourneyStepper


def test_lab_journey_draws_and_steps() -> None:
    net = nl.connect(mode="lab", quiet=True)
    try:
        journey = net.probe("http", src="client", dst="192.168.56.38", dport=80)
        assert journey.ok
        fig = nl.draw_journey(journey, net)
        hops = fig.netlab_hops
        assert [h.iface for h in hops][:3] == ["eth0", "enp0s8", "docker0"]
        assert any("172.17.0.2" in h.summary for h in hops)
        hooks = nl.draw_hooks(journey)
        assert hooks.netlab_hook_path.hooks() == ["PREROUTING", "FORWARD", "POSTROUTING"]
        assert hooks.netlab_hook_path.visits[0].tables["nat"] == "DNAT nat:DOCKER:2"
        for f in (fig, hooks, nl.draw_topology(net)):
            assert overlapping_labels(f) == [] and labels_outside(f) == []
        stepper = JourneyStepper(journey, net)
        nat = next(i for i, e in enumerate(stepper.events) if e.kind == "nat")
        stepper.go(nat)
        assert "dst" in stepper.changed and stepper.rule[0] == "nat:DOCKER:2"
    finally:
        net.close()


def test_lab_snapshot_with_two_bridges_draws_and_carries_the_journey() -> None:
    from netlab.scenarios import Container

    s = nl.docker_host("29", containers=[Container("web", ports=["80:80"]),
                                         Container("api", network="backend"),
                                         Container("db", network="backend")],
                       networks=["backend"])
    net = nl.connect(mode="lab", scenario=s, quiet=True)
    try:
        state = net.state("host")
        fig = nl.draw_topology(state)
        lay = fig.netlab_layout
        assert {b.lines[0] for b in lay.boxes.values() if b.kind == "bridge"} == {
            "docker0", next(i.name for i in s.host.interfaces
                            if i.kind == "bridge" and i.name != "docker0")}
        assert sum(b.kind == "container" for b in lay.boxes.values()) == 3
        assert overlapping_labels(fig) == [] and labels_outside(fig) == []
        journey = net.probe("http", src="client", dst="192.168.56.38", dport=80)
        on_state = nl.draw_journey(journey, state)
        lay = on_state.netlab_layout
        assert all(lay.anchor(h.node, h.iface) is not None for h in on_state.netlab_hops)
        journey.scenario = None  # the guess, from what the real kernel's frames showed
        guessed = nl.draw_journey(journey)
        texts = " ".join(b for box in guessed.netlab_layout.boxes.values() for b in box.lines)
        assert "(no IPv4)" not in texts and "(no address)" not in texts
        assert "192.168.56.38" in texts and "172.17.0.2" in texts
    finally:
        net.close()
