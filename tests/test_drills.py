"""Every drill: broken at the start, solved by its solution for several seeds, not
solved by plausible wrong fixes; seeds vary what the learner sees."""

from __future__ import annotations

import pytest

import netlab.drills as drills
from netlab.drills import FixError

SEEDS = (0, 1, 2, 5)


def test_at_least_twelve_drills_with_the_issue_faults() -> None:
    names = drills.names()
    assert len(names) >= 12
    for wanted in ("ip_forward_off", "docker_user_drop", "published_localhost", "wrong_port",
                   "app_localhost", "no_default_route", "forward_accept", "brnf_off_icc",
                   "raw_direct_routing", "masquerade_missing", "network_isolation", "veth_down"):
        assert wanted in names


@pytest.mark.parametrize("name", drills.names())
def test_drill_unsolved_then_solved_for_several_seeds(name: str) -> None:
    for seed in SEEDS:
        d = drills.load(name, seed)
        v = d.check()
        assert not v.solved, (name, seed, v.message)
        assert v.message.startswith("Not yet")
        fix = d.solution()
        d.apply(fix)
        v = d.check()
        assert v.solved, (name, seed, fix, v.message)
        assert all(ok for _, ok, _ in v.results)


@pytest.mark.parametrize("name", drills.names())
def test_plausible_wrong_fixes_do_not_solve(name: str) -> None:
    for seed in (0, 1):
        d = drills.load(name, seed)
        assert d.wrong_fixes
        for wrong in d.wrong_fixes:
            d = drills.load(name, seed)
            try:
                d.apply(wrong)
            except FixError:
                continue  # the host refuses it: not a solution either
            assert not d.check().solved, (name, seed, wrong)


@pytest.mark.parametrize("name", drills.names())
def test_symptom_says_what_a_user_sees_not_the_cause(name: str) -> None:
    d = drills.load(name, 3)
    s = d.symptom.lower()
    assert len(s) > 40
    for giveaway in (d.solution().lower(), "ip_forward", "masquerade", "route_localnet",
                     "bridge-nf", "nomaster", "docker-user", "policy"):
        assert giveaway not in s, (name, giveaway)
    assert 2 <= len(d.hints) and d.hints.used == 0


def test_seeds_vary_names_addresses_and_answers() -> None:
    sols = {drills.load("masquerade_missing", s).solution() for s in range(8)}
    assert len(sols) > 2
    symptoms = {drills.load("ip_forward_off", s).symptom for s in range(8)}
    assert len(symptoms) > 3
    assert drills.load("ip_forward_off", 4).symptom == drills.load("ip_forward_off", 4).symptom


def test_forward_policy_accept_is_not_a_fix_for_the_raw_drop() -> None:
    d = drills.load("raw_direct_routing", 2)
    d.apply("iptables -P FORWARD ACCEPT")
    assert not d.check().solved


def test_exposure_drill_rejects_a_fix_that_breaks_published_ports() -> None:
    d = drills.load("forward_accept", 1)
    d.apply("iptables -I DOCKER-USER -i enp0s8 -j DROP")
    v = d.check()
    assert not v.solved and "broke something else" in v.message


def test_hints_are_revealed_one_at_a_time() -> None:
    d = drills.load("veth_down", 0)
    first = d.hints.reveal()
    assert first == d.hints[0] and d.hints.used == 1 and d.hints.shown == [first]
    while d.hints.reveal() is not None:
        pass
    assert d.hints.used == len(d.hints)


def test_a_bad_fix_applies_nothing() -> None:
    d = drills.load("ip_forward_off", 0)
    before = d.scenario.host.sysctls.copy()
    with pytest.raises(FixError, match="iptables -I|sysctl -w"):
        d.apply("sysctl -w net.ipv4.ip_forward=1\nplease fix it")
    assert d.scenario.host.sysctls == before and not d.check().solved


def test_the_fix_is_run_as_typed_with_prompts_and_sudo() -> None:
    d = drills.load("no_default_route", 0)
    gw = d.solution().split()[-1]
    d.apply(f"root@host:~# sudo docker exec -it {d.container} ip route add default via {gw}")
    assert d.check().solved


def test_reset_goes_back_to_the_broken_host() -> None:
    d = drills.load("ip_forward_off", 1)
    d.apply(d.solution())
    assert d.check().solved
    d.reset()
    assert not d.check().solved


def test_unknown_drill_and_bad_seed() -> None:
    with pytest.raises(drills.NetlabError if hasattr(drills, "NetlabError") else Exception, match="no drill"):
        drills.load("nope")
    with pytest.raises(Exception, match="seed"):
        drills.load("veth_down", -1)


def test_hint_method_and_verdict_truth() -> None:
    d = drills.load("route_localnet", 1)
    assert d.hint() == d.hints[0] and d.hints.used == 1
    v = d.check()
    assert bool(v) is False and str(v) == v.message
    d.apply(d.solution())
    assert d.check()


def _exposure_drills() -> list[str]:
    """Drills on a Docker 27 host that check an unpublished port stays closed to the LAN."""
    out = []
    for name in drills.names():
        d = drills.load(name, 1)
        if d._spec.version.startswith("27") and any(not e.answered and e.src == "client"
                                                    for e in d.expects):
            out.append(name)
    return out


EXPOSURE = _exposure_drills()


def test_most_drills_check_for_exposure() -> None:
    assert len(EXPOSURE) >= 6


@pytest.mark.parametrize("name", EXPOSURE)
def test_a_fix_that_also_opens_forward_is_not_a_solution(name: str) -> None:
    d = drills.load(name, 1)
    d.apply(d.solution())
    d.apply("iptables -P FORWARD ACCEPT")
    v = d.check()
    assert not v.solved and "unpublished" in v.message, v.message
