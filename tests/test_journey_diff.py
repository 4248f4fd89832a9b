"""Two journeys of one probe compared step by step (issue 12: the what-if shows what differs,
the first divergence highlighted, not two dumps side by side)."""

from __future__ import annotations

import re

import pytest

import netlab as nl
from netlab.journey import DiffRow, diff_journeys
from netlab.scenarios import Container
from netlab.widgets import RuleTracer, what_if


def _probe(scenario, **kw):
    return nl.connect(mode="sim", scenario=scenario, quiet=True).probe(
        "http", src="client", dst="192.168.56.38", dport=kw.pop("dport", 8080), timeout=1.0, **kw)


def _host(version: str):
    return nl.docker_host(version, [Container("shop", ports=["8080:80"]), Container("tools", image="alpine")])


def _sides(diff):
    before = [r.before for r in diff.rows if r.before is not None]
    after = [r.after for r in diff.rows if r.after is not None]
    return before, after


@pytest.mark.parametrize("version", ["27", "28", "29"])
def test_docker_user_drop_diverges_at_the_forward_decision(version: str) -> None:
    host = _host(version)
    base, dropped = _probe(host), _probe(what_if(host, docker_user_drop=True))
    assert base.ok and dropped.outcome == "dropped"
    d = base.diff(dropped)
    first = d.rows[d.first]
    assert all(r.status == "same" for r in d.rows[:d.first])
    # the first step that differs is the FORWARD decision in the host, and the change is a drop
    after = first.after or next(r.after for r in d.rows[d.first:] if r.after is not None)
    assert after.node == "host" and (after.kind == "drop" or after.verdict == "DROP")
    assert any("DOCKER-USER" in (r.after.rule or r.after.reason or "") for r in d.differences if r.after)
    # every step of both journeys is in the diff once, in its order
    before, after_steps = _sides(d)
    assert [e.seq for e in before] == sorted(e.seq for e in before)
    assert [e.seq for e in after_steps] == sorted(e.seq for e in after_steps)
    assert len(before) == len({e.seq for e in before})
    assert d.rows[-1].status == "only_before"  # what the drop prevented, not shown as "same"
    text = d.text().splitlines()
    assert len(text) <= 18 and sum("▶ first difference" in line for line in text) == 1
    assert text[0].startswith("before: ") and "dropped" in text[1]


def test_the_same_probe_twice_differs_in_nothing_not_even_the_ephemeral_port() -> None:
    host = _host("28")
    a, b = _probe(host), _probe(host, sport=45678)
    assert a.steps[0].frame.sport != b.steps[0].frame.sport == 45678
    d = diff_journeys(a, b)
    assert d.first is None and d.same and d.differences == []
    assert "the same" in d.text()
    c = _probe(host, dport=8081)  # nothing published there: that is a difference
    assert a.diff(c).first is not None


def test_a_rule_that_changes_position_is_a_changed_step() -> None:
    host = _host("27")
    d = _probe(host).diff(_probe(what_if(host, userland_proxy_off=True)))
    changed = [r for r in d.differences if r.status == "changed"]
    assert changed and all((r.before.node, r.before.kind) == (r.after.node, r.after.kind) for r in changed)
    assert any(r.before.rule != r.after.rule for r in changed)
    assert d.after.ok and d.before.ok


def test_tracer_shows_the_diff_with_the_first_difference_highlighted() -> None:
    rt = RuleTracer(nl.seed_host(), draw=False)
    rt.toggles["docker_user_drop"].value = True
    page = rt.compare_html.value
    assert rt.diff is not None and rt.diff.first is not None
    assert "<pre" not in page  # no dumps of the two journeys
    assert page.count("▶ first difference") == 1
    marked = re.search(r"<tr style='background:#ffd54f[^>]*>(.*?)</tr>", page).group(1)
    assert DiffRow.text(rt.diff.rows[rt.diff.first].before or rt.diff.rows[rt.diff.first].after)[:40] \
        in marked.replace("&gt;", ">").replace("&lt;", "<").replace("&#x27;", "'")
    assert "DOCKER-USER" in page and page.count("<tr") <= 42
    rt.toggles["docker_user_drop"].value = False
    rt.run_button.click()
    assert "does not matter for this probe" in rt.compare_html.value
