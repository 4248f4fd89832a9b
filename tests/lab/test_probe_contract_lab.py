"""The probe contract on the real kernel: every request of tests/_probe_contract.py gives
the lab the outcome it gives the simulator (same error type and message, or the same
journey signature), both probed in the same order on one network each."""

from __future__ import annotations

import pytest

from netlab.lab import Lab
from netlab.sim import SimNet
from tests._probe_contract import REQUESTS, every_kind, outcome, scenario


@pytest.fixture(scope="module")
def nets():
    """One simulated and one real network for each scenario the requests use."""
    made: dict[str, tuple[SimNet, Lab]] = {}
    try:
        for name in dict.fromkeys(r.scenario for r in REQUESTS):
            lab = Lab(scenario(name), capture_promisc=False)
            made[name] = (SimNet(scenario(name), capture_promisc=False), lab)
            lab.up()
        yield made
    finally:
        for _sim, lab in made.values():
            lab.down()


@pytest.mark.parametrize("req", REQUESTS, ids=[r.id for r in REQUESTS])
def test_lab_outcome_equals_sim(nets, req):
    sim, lab = nets[req.scenario]
    want, got = outcome(sim, req), outcome(lab, req)
    if req.lab_limit:
        assert want[0] == "journey"
        assert got[:2] == ("error", "ProbeError"), got
        assert "the lab's limit" in got[2] and req.says in got[2]
        return
    assert got == want


@pytest.mark.parametrize(("name", "kwargs"), every_kind(), ids=lambda k: k["kind"] if isinstance(k, dict) else k)
def test_every_kind_runs_the_same_on_both(name, kwargs):
    """A kind added to netlab.probe.KINDS fails here until both backends send it alike."""
    from netlab.probe import LAB_LIMITS, ProbeRequest

    sc = scenario(name)
    kwargs = dict(kwargs)
    kind = kwargs.pop("kind")
    req = ProbeRequest.build(sc, kind, limits=LAB_LIMITS, **kwargs)
    sim = SimNet(scenario(name), capture_promisc=False).run_probe(req)
    with Lab(scenario(name), capture_promisc=False) as lab:
        real = lab.run_probe(req)
    from netlab.lab.catalogue import settle_bystanders

    assert settle_bystanders(sim.signature(), sc) == settle_bystanders(real.signature(), sc), (
        f"\n--- sim\n{sim.summary()}\n--- lab\n{real.summary()}")
    assert sim.outcome == real.outcome == "answered"
    assert sim.result == real.result
