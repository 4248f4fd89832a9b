"""Events carry what happened as fields: the signature, the NAT attribution and the
hook map read those, never the sentence in ``detail``."""

from __future__ import annotations

import dataclasses

from netlab.journey import Event, nat_fields
from netlab.lab.catalogue import nat_attribution
from netlab.scenarios import catalogue
from netlab.sim import SimNet
from netlab.viz.hooks import hook_path


def _http():
    return SimNet(catalogue.build("article")).probe("http", src="client", dst="host", dport=80)


def test_nat_events_say_who_rewrote_and_how():
    j = _http()
    nats = j.of_kind("nat")
    first = nats[0]
    assert (first.nat_by, first.nat_kind, first.nat_side, first.related) == (
        first.rule, "DNAT", "dst", False) and first.rule.startswith("nat:DOCKER:")
    later = [e for e in nats if e.nat_by == "conntrack"]
    assert later and all(e.rule is None and e.ct_entry is not None for e in later)
    assert {e.ct_direction for e in later} == {"original", "reply"}
    assert {e.nat_kind for e in later if e.ct_direction == "reply"} == {"de-NAT"}


def test_nothing_reads_the_sentence():
    j = _http()
    sig, who, hooks = j.signature(), nat_attribution(j), str(hook_path(j, "host"))
    j.steps = [dataclasses.replace(e, detail="(words for a learner)") for e in j.steps]
    assert j.signature() == sig and nat_attribution(j) == who and str(hook_path(j, "host")) == hooks


def test_nat_fields_write_one_sentence_for_both_backends():
    detail, f = nat_fields("dst", "192.168.56.38:80", "172.17.0.2:80", ct_state="established",
                           ct_direction="original", ct_entry=3)
    assert detail == ("conntrack rewrites destination 192.168.56.38:80 → 172.17.0.2:80 "
                      "(established original direction, entry #3)")
    e = Event(1, "nat", "host", detail, **f)
    assert (e.nat_by, e.nat_kind, e.verdict) == ("conntrack", "DNAT", "DNAT")


def test_a_hand_made_nat_event_gets_its_fields():
    e = Event(1, "nat", "host", "MASQUERADE 172.17.0.2 → 10.0.2.15", rule="nat:POSTROUTING:1")
    assert (e.nat_by, e.nat_kind, e.nat_side) == ("nat:POSTROUTING:1", "MASQUERADE", "src")
