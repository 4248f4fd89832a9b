"""The probe contract on the real kernel: every request of tests/_probe_contract.py gives
the lab the outcome it gives the simulator (same error type and message, or the same
journey signature), both probed in the same order on one network each."""

from __future__ import annotations

import pytest

from netlab.lab import Lab
from netlab.sim import SimNet
from tests._probe_contract import REQUESTS, outcome, scenario


@pytest.fixture(scope="module")
def nets():
    lab = Lab(scenario(), capture_promisc=False)
    try:
        lab.up()
        yield SimNet(scenario(), capture_promisc=False), lab
    finally:
        lab.down()


@pytest.mark.parametrize("req", REQUESTS, ids=[r.id for r in REQUESTS])
def test_lab_outcome_equals_sim(nets, req):
    sim, lab = nets
    want, got = outcome(sim, req), outcome(lab, req)
    if req.lab_limit:
        assert want[0] == "journey"
        assert got[:2] == ("error", "ProbeError"), got
        assert "the lab's limit" in got[2] and req.says in got[2]
        return
    assert got == want


def _every_kind():
    from netlab.probe import KINDS

    out = []
    for name, spec in KINDS.items():
        kwargs = {"kind": name, "src": "web", "dst": "172.17.0.1" if name == "arping" else "internet"}
        if spec.needs_dport:
            kwargs["dport"] = 80
        out.append(kwargs)
    return out


@pytest.mark.parametrize("kwargs", _every_kind(), ids=lambda k: k["kind"])
def test_every_kind_runs_the_same_on_both(kwargs):
    """A kind added to netlab.probe.KINDS fails here until both backends send it alike."""
    from netlab.probe import LAB_LIMITS, ProbeRequest

    sc = scenario()
    kind = kwargs.pop("kind")
    req = ProbeRequest.build(sc, kind, limits=LAB_LIMITS, **kwargs)
    sim = SimNet(scenario(), capture_promisc=False).run_probe(req)
    with Lab(scenario(), capture_promisc=False) as lab:
        real = lab.run_probe(req)
    from netlab.lab.catalogue import settle_bystanders

    assert settle_bystanders(sim.signature(), sc) == settle_bystanders(real.signature(), sc), (
        f"\n--- sim\n{sim.summary()}\n--- lab\n{real.summary()}")
    assert sim.outcome == real.outcome == "answered"
