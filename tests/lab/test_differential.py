"""The contract: for every case of the catalogue, the simulator's journey equals the kernel's.

Each case is built twice — ``sim`` and ``lab`` (real namespaces) — probed the same
way, and ``journey.signature()`` compared (ephemeral ports, sequence numbers,
IP IDs, MACs and times normalised away, nothing more).  A difference fails with
both journeys side by side.
"""

from __future__ import annotations

import pytest

from netlab.lab import Lab
from netlab.lab.catalogue import (
    CASES,
    SEQUENCES,
    by_connection,
    cases,
    nat_attribution,
    packet_order,
    settle_bystanders,
    side_by_side,
    without_lone_fin_acks,
)
from netlab.sim import SimNet

# Differences found between the simulator and the kernel, reported to the sim
# engineer; each entry is (case id, version) -> what the kernel does differently.
KNOWN_SIM_BUGS: dict[tuple[str, str], str] = {}

# The same comparison as tcpdump sees it: every interface promiscuous while capturing (the
# default of both backends).  The promiscuous bridge changes what the kernel does, so these
# cases (the ones that cross a bridge) are worth checking in that mode too.
PROMISC_CASES = ("port-forward-from-lan", "container-to-container", "two-bridges-isolated", "icc-off",
                 "arp-and-fdb-first-packet", "hairpin-no-proxy", "hairpin-own-port")
# (hairpin-no-proxy and hairpin-own-port were here: the kernel queued the duplicate SYN-ACK
# before the client answered; the sim now holds the client's socket lock for the whole
# softirq run its connect() starts, so both copies wait in the backlog as in the kernel.)
KNOWN_PROMISC_SIM_BUGS: dict[str, str] = {}


def test_by_connection_keeps_each_connections_order():
    sig = [("seen", "host", "lo", "in", "tcp", "zero", "zero", "127.0.0.1", "eph1", "127.0.0.1", 8080, 64, "S"),
           ("seen", "web", "eth0", "in", "tcp", "a", "b", "172.17.0.1", "eph2", "172.17.0.2", 80, 64, "S"),
           ("nat", "host", "OUTPUT", "127.0.0.1:eph1", "172.17.0.2:80"),
           ("seen", "host", "lo", "in", "tcp", "zero", "zero", "127.0.0.1", "eph1", "127.0.0.1", 8080, 64, "A"),
           ("outcome", "answered")]
    swapped = [sig[1], sig[0], sig[2], sig[3], sig[4]]
    assert by_connection(sig) == by_connection(swapped)
    reordered = [sig[3], sig[1], sig[2], sig[0], sig[4]]  # one connection's own order changed
    assert by_connection(sig) != by_connection(reordered)


def test_settle_bystanders_moves_only_unasked_broadcast_copies():
    from netlab.scenarios import catalogue

    sc = catalogue.build("two-containers")
    veth_app = sc.peer("app", "eth0")[1]
    veth_web = sc.peer("web", "eth0")[1]
    req = ("arp", "app:eth0", "broadcast", 1, "172.17.0.3", "172.17.0.1")
    sig = [("seen", "app", "eth0", "out", *req), ("seen", "host", veth_app, "in", *req),
           ("seen", "host", veth_web, "out", *req), ("seen", "host", "docker0", "in", *req),
           ("seen", "app", "eth0", "in", "arp", "host:docker0", "app:eth0", 2, "172.17.0.1", "172.17.0.3"),
           ("seen", "web", "eth0", "in", *req), ("outcome", "answered")]
    settled = settle_bystanders(sig, sc)
    assert settled[3] == ("seen", "web", "eth0", "in", *req)  # right after host's veth sent it
    assert sorted(map(str, settled)) == sorted(map(str, sig))
    asked = ("arp", "app:eth0", "broadcast", 1, "172.17.0.3", "172.17.0.2")  # web is asked: stays
    sig2 = [("seen", "host", veth_web, "out", *asked), ("seen", "host", "docker0", "in", *asked),
            ("seen", "web", "eth0", "in", *asked)]
    assert settle_bystanders(sig2, sc) == sig2


def test_catalogue_is_big_enough():
    assert len(CASES) >= 15
    assert len(cases()) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


def _params():
    out = []
    for case, version in cases():
        marks = []
        bug = KNOWN_SIM_BUGS.get((case.id, version)) or KNOWN_SIM_BUGS.get((case.id, "*"))
        if bug:
            marks.append(pytest.mark.xfail(reason=bug, strict=True))
        out.append(pytest.param(case, version, id=f"{case.id}@{version}", marks=marks))
    return out


@pytest.mark.parametrize(("case", "version"), _params())
def test_sim_equals_kernel(case, version):
    # both sides observe without promiscuous mode: tcpdump's promiscuous bridge changes what the
    # kernel does (a br_netfilter-DNATed hairpin frame is then also routed, see the lab notes)
    sim = SimNet(case.build(version), capture_promisc=False)
    sim_journey = sim.probe(**case.probe)
    with Lab(case.build(version), capture_promisc=False) as lab:
        lab_journey = lab.probe(**case.probe)
    assert "capture_drops" not in lab_journey.probe, "the capture lost packets"
    # a FIN's ACK sent alone or folded into the answering FIN: kernel timing, on both sides
    sim_journey, lab_journey = without_lone_fin_acks(sim_journey), without_lone_fin_acks(lab_journey)
    scenario = case.build(version)
    a = settle_bystanders(sim_journey.signature(), scenario)
    b = settle_bystanders(lab_journey.signature(), scenario)
    sim_nat, lab_nat = nat_attribution(sim_journey), nat_attribution(lab_journey)
    if sim_nat != lab_nat:  # the same rewrites must be attributed to the same rule / to conntrack
        pytest.fail(f"{case.id} on Docker {version}: sim and kernel name different NAT doers\n"
                    f"{side_by_side([tuple(x) for x in sim_nat], [tuple(x) for x in lab_nat])}", pytrace=False)
    if not case.concurrent and packet_order(sim_journey) != packet_order(lab_journey):
        pytest.fail(f"{case.id} on Docker {version}: the packets are numbered in another order\n"
                    f"{side_by_side(packet_order(sim_journey), packet_order(lab_journey))}", pytrace=False)
    if sim_journey.result != lab_journey.result:  # what the prober made of the answer (dns: rcode, answer)
        pytest.fail(f"{case.id} on Docker {version}: sim and kernel results differ\n"
                    f"sim {sim_journey.result}\nlab {lab_journey.result}", pytrace=False)
    if case.concurrent and a != b and by_connection(a) == by_connection(b):
        return  # the same packets, hop by hop, for every connection; only their interleaving differs
    if a != b:
        pytest.fail(f"{case.id} on Docker {version} ({case.what}): sim and kernel differ\n"
                    f"probe {case.probe}\n{side_by_side(a, b)}\n\n"
                    f"--- sim journey\n{sim_journey.summary()}\n\n--- lab journey\n{lab_journey.summary()}",
                    pytrace=False)


@pytest.mark.parametrize("case", [
    pytest.param(c, id=f"{c.id}@27", marks=[pytest.mark.xfail(reason=KNOWN_PROMISC_SIM_BUGS[c.id], strict=True)]
                 if c.id in KNOWN_PROMISC_SIM_BUGS else [])
    for c in CASES if c.id in PROMISC_CASES])
def test_sim_equals_kernel_as_tcpdump_sees_it(case):
    scenario = case.build("27")
    sim_journey = SimNet(case.build("27"), capture_promisc=True).probe(**case.probe)
    with Lab(case.build("27"), capture_promisc=True) as lab:
        lab_journey = lab.probe(**case.probe)
    a = settle_bystanders(sim_journey.signature(), scenario)
    b = settle_bystanders(lab_journey.signature(), scenario)
    if a != b:
        pytest.fail(f"{case.id} on Docker 27, promiscuous capture: sim and kernel differ\n"
                    f"probe {case.probe}\n{side_by_side(a, b)}", pytrace=False)


@pytest.mark.parametrize("seq", SEQUENCES, ids=[s.id for s in SEQUENCES])
def test_sim_equals_kernel_probe_after_probe(seq):
    """Several probes in a row on one network each: what the earlier probes left (ARP, FDB,
    conntrack, the simulator's cached rule verdicts) must shape the later ones as in the kernel."""
    sim = SimNet(seq.build(), capture_promisc=False)
    sim_journeys = [sim.probe(**p) for p in seq.probes]
    with Lab(seq.build(), capture_promisc=False) as lab:
        lab_journeys = [lab.probe(**p) for p in seq.probes]
    scenario = seq.build()
    for n, (p, s, k) in enumerate(zip(seq.probes, sim_journeys, lab_journeys, strict=True), 1):
        a, b = settle_bystanders(s.signature(), scenario), settle_bystanders(k.signature(), scenario)
        if a != b or nat_attribution(s) != nat_attribution(k):
            pytest.fail(f"{seq.id}, probe {n} of {len(seq.probes)} ({p['kind']} {p['src']} → {p['dst']}): "
                        f"sim and kernel differ\n{side_by_side(a, b)}\n\n--- sim journey\n{s.summary()}\n\n"
                        f"--- lab journey\n{k.summary()}", pytrace=False)
