"""CaptureAnnotator with a packet selected on page 2, filters set and cleared, colour rules
(issue 12: each used to raise TraitError and leave the page counter wrong)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from netlab.scenarios import seed_host
from netlab.sim import SimNet
from netlab.widgets.annotator import CaptureAnnotator


@pytest.fixture(scope="module")
def cap():
    j = SimNet(seed_host()).probe("http", src="client", dst="192.168.56.38", dport=80)
    assert len(j.capture) > 30
    return j.capture


def _consistent(ui: CaptureAnnotator) -> None:
    """The table, the counter and the page's packet list say the same thing."""
    shown = len(ui._numbers)
    pages = max(1, -(-shown // ui.page_size))
    assert ui.page.max == pages and 1 <= ui.page.value <= pages
    assert f"of {pages} — {shown} of {len(ui.capture)} packets shown" in ui.page_label.value
    assert ui.table.value.count("<tr style=") == len(ui.visible)
    assert [v for _, v in ui.on_page.options][1:] == ui.visible
    sel = ui.selected.value
    assert ui.on_page.value == (sel if sel in ui.visible else 0)


def test_select_on_page_two_then_filter_clear_and_page(cap):
    ui = CaptureAnnotator(cap, page_size=10)
    ui.next_button.click()
    pick = ui.visible[3]
    ui.on_page.value = pick  # as the learner picks it from the list
    assert ui.selected.value == pick
    _consistent(ui)
    ui.filter_text.value = "tcp"
    want = (np.flatnonzero(cap.mask("tcp")) + 1).tolist()
    assert ui.visible == want[:10] and ui.page.value == 1
    _consistent(ui)
    ui.page.value = 2
    _consistent(ui)
    ui.filter_text.value = ""  # clearing the filter: all packets, page 1
    assert len(ui._numbers) == len(cap) and ui.page.value == 1
    _consistent(ui)
    for page in (2, 3, 1, 2):  # back to the page with the selected packet, and away
        ui.page.value = page
        _consistent(ui)
    assert ui.selected.value == pick


def test_filter_while_on_a_page_that_disappears(cap):
    ui = CaptureAnnotator(cap, page_size=10)
    ui.page.value = ui.page.max
    ui.selected.value = ui.visible[0]
    ui.filter_text.value = "arp"
    _consistent(ui)
    assert ui.page.value == 1 and ui.visible == (np.flatnonzero(cap.mask("arp")) + 1).tolist()[:10]
    ui.filter_button.click()
    _consistent(ui)


def test_colour_rules_on_any_page(cap):
    ui = CaptureAnnotator(cap, page_size=10)
    ui.next_button.click()
    ui.selected.value = ui.visible[1]
    ui.colour_filter.value = "tcp.flags.syn == 1"
    ui.colour_pick.value = "#ffcc00"
    ui.colour_button.click()
    _consistent(ui)
    for page in range(1, ui.page.max + 1):
        ui.page.value = page
        _consistent(ui)
        syn = [n for n in ui.visible if "S" in str(cap.df.loc[n, "flags"] or "")]
        assert len(re.findall("background:#ffcc00", ui.table.value)) == len(syn)
    ui.colour_filter.value = "arp"
    ui.colour_button.click()
    _consistent(ui)
    ui.colour_clear.click()
    _consistent(ui)
    assert "background:" not in ui.table.value.split("<tbody>")[1].replace("background:#", "")
    assert ui.capture.colour_rules == []
