"""Record lab evidence for the replay test (root): ``python -m tests.lab.record_evidence DIR``."""

from __future__ import annotations

import sys
from pathlib import Path

from netlab.lab import Lab
from netlab.lab.catalogue import CASES, SEQUENCES
from netlab.lab.evidence import capture_evidence
from netlab.lab.journey import rebuild
from netlab.probe import LAB_LIMITS, ProbeRequest

RECORDED = ("port-forward-from-lan@27", "container-to-internet@27", "docker-user-drop@27",
            "udp-closed-port-outside@27", "arp-and-fdb-first-packet@27", "port-forward-from-host@28")
SEQUENCE = "length-small-then-big"


def record(outdir: Path) -> list[Path]:
    by_id = {c.id: c for c in CASES}
    out = []
    for name in RECORDED:
        case_id, version = name.split("@")
        case = by_id[case_id]
        sc = case.build(version)
        with Lab(sc, capture_promisc=False) as lab:
            probe = dict(case.probe)
            kind = probe.pop("kind")
            ev = capture_evidence(lab, ProbeRequest.build(sc, kind, limits=LAB_LIMITS, **probe))
        path = outdir / f"{name}.json"
        ev.save(path)
        out.append(path)
    seq = next(s for s in SEQUENCES if s.id == SEQUENCE)
    sc = seq.build()
    with Lab(sc, capture_promisc=False) as lab:
        lab._ct_next_id = ids = {}
        for n, p in enumerate(seq.probes, 1):
            p = dict(p)
            kind = p.pop("kind")
            ev = capture_evidence(lab, ProbeRequest.build(sc, kind, limits=LAB_LIMITS, **p))
            rebuild(ev, ids)  # the next probe numbers conntrack entries on, as run_probe does
            path = outdir / f"{SEQUENCE}-{n}.json"
            ev.save(path)
            out.append(path)
    return out


if __name__ == "__main__":
    for p in record(Path(sys.argv[1])):
        print(p)
