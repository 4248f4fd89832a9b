"""The figures and widgets on a journey the real kernel produced (lab mode, root)."""

from __future__ import annotations

import netlab as nl
from netlab.viz._figure import labels_outside, overlapping_labels
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
