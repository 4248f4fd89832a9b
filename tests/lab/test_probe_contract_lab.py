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
