"""The lab's journey reconstruction, replayed from evidence recorded as root
(tests/data/lab-evidence/): no root, no namespaces, every machine.  Each rebuilt journey
must equal the simulator's for the same probe, as the differential suite requires live."""

from __future__ import annotations

from pathlib import Path

import pytest

from netlab.lab.catalogue import nat_attribution, settle_bystanders
from netlab.lab.evidence import Evidence
from netlab.lab.journey import rebuild
from netlab.sim import SimNet

DATA = Path(__file__).parent / "data" / "lab-evidence"
SINGLE = sorted(p for p in DATA.glob("*@*.json"))
SEQUENCE = sorted(DATA.glob("length-small-then-big-*.json"))


def _kwargs(ev: Evidence) -> dict:
    r = ev.request
    return {"src": r.src, "dst": r.dst, "dport": r.dport, "sport": r.sport, "count": r.count,
            "timeout": r.timeout, "payload": r.payload, "ttl": r.ttl}


def _same(sim_journey, lab_journey, scenario) -> None:
    a = settle_bystanders(sim_journey.signature(), scenario)
    b = settle_bystanders(lab_journey.signature(), scenario)
    assert a == b, f"\n--- sim\n{sim_journey.summary()}\n--- rebuilt lab\n{lab_journey.summary()}"
    assert nat_attribution(sim_journey) == nat_attribution(lab_journey)


def test_there_is_recorded_evidence():
    assert len(SINGLE) >= 5 and len(SEQUENCE) == 3


@pytest.mark.parametrize("path", SINGLE, ids=[p.stem for p in SINGLE])
def test_rebuilt_journey_equals_the_simulators(path):
    ev = Evidence.load(path)
    journey = rebuild(ev)
    assert journey.mode == "lab" and journey.probe.prefix == ev.prefix and journey.steps
    sim = SimNet(ev.scenario, capture_promisc=False).probe(ev.request.kind, **_kwargs(ev))
    _same(sim, journey, ev.scenario)


def test_evidence_round_trips_through_json():
    ev = Evidence.load(SINGLE[0])
    again = Evidence.from_json(ev.to_json())
    assert again.to_dict() == ev.to_dict()
    assert rebuild(again).signature() == rebuild(ev).signature()


def test_a_sequence_replays_probe_after_probe():
    """-m length on the host: the small ping answered, the big one dropped, the small one again."""
    evs = [Evidence.load(p) for p in SEQUENCE]
    ids: dict[str, int] = {}
    rebuilt = [rebuild(ev, ids) for ev in evs]
    assert [j.outcome for j in rebuilt] == ["answered", "dropped", "answered"]
    assert rebuilt[1].reason == "rule filter:INPUT:1 (-A INPUT -p icmp -m length --length 200:65535 -j DROP)"
    sim = SimNet(evs[0].scenario, capture_promisc=False)
    for ev, lab_journey in zip(evs, rebuilt, strict=True):
        _same(sim.probe(ev.request.kind, **_kwargs(ev)), lab_journey, ev.scenario)


def test_bad_evidence_is_a_clear_error():
    from netlab.errors import LabError

    with pytest.raises(LabError, match="evidence"):
        Evidence.from_json('{"format": 99}')
    with pytest.raises(LabError, match="evidence"):
        Evidence.from_json("not json")
