"""CaptureAnnotator driven the way a test (or a learner) does: set .value, call .click()."""

from __future__ import annotations

import base64
import re

import pytest
from _capture_records import port_forward_records

from netlab.capture import Capture, load_capture
from netlab.widgets.annotator import CaptureAnnotator, field_ranges, hexdump_html


def _highlighted(hexdump: str) -> list[str]:
    return re.findall(r'<span style="background:#ffd54f">([0-9a-f]{2})</span>', hexdump)


@pytest.fixture
def cap(tmp_path) -> Capture:
    path = Capture.from_records(port_forward_records()).to_pcapng(tmp_path / "pf.pcapng")
    return load_capture(path)


def test_paging_and_filtering(cap: Capture) -> None:
    ui = CaptureAnnotator(cap, page_size=5)
    assert ui.visible == [1, 2, 3, 4, 5]
    assert ui.table.value.count("<tr style=") == 5
    ui.next_button.click()
    assert ui.visible == [6, 7, 8, 9, 10]
    ui.page.value = 4
    assert ui.visible == [16]
    ui.filter_text.value = "iface == docker0 and tcp.flags.syn == 1"
    assert ui.visible == [2, 3] and ui.page.value == 1
    assert "2 of 16 packets shown (filtered)" in ui.page_label.value
    ui.filter_text.value = "ip.dst = 1.2.3.4"
    assert "single = at character 8 is not a comparison" in ui.filter_error.value
    assert ui.visible == [2, 3]  # a bad filter leaves the table as it was
    ui.filter_text.value = ""
    assert ui.filter_error.value == "" and len(ui.visible) == 5


def test_selecting_shows_layers_and_highlights_field_bytes(cap: Capture) -> None:
    ui = CaptureAnnotator(cap)
    ui.selected.value = 2
    assert "<b>IP</b>" in ui.layers.value and "<b>TCP</b>" in ui.layers.value
    labels = dict(ui.field.options)
    ui.field.value = labels["IP.dst = 172.17.0.2"]
    assert _highlighted(ui.hexdump.value) == ["ac", "11", "00", "02"]  # 172.17.0.2
    ui.field.value = next(v for k, v in ui.field.options if k and k.startswith("TCP.dport"))
    assert _highlighted(ui.hexdump.value) == ["00", "50"]  # 80
    ui.field.value = next(v for k, v in ui.field.options if k and k.startswith("IP.ttl"))
    assert _highlighted(ui.hexdump.value) == ["3f"]  # 63, one less than on enp0s8
    ui.field.value = next(v for k, v in ui.field.options if k and k.startswith("IP.ihl"))
    assert _highlighted(ui.hexdump.value) == ["45"]  # a 4-bit field highlights its byte


def test_save_comment_and_tags(cap: Capture) -> None:
    ui = CaptureAnnotator(cap)
    ui.save_button.click()
    assert "Select a packet first" in ui.status.value
    ui.selected.value = 2
    ui.comment.value = "destination rewritten by nat:DOCKER:2"
    ui.tags.value = "dnat, syn"
    ui.save_button.click()
    assert cap.annotations[2].comment == "destination rewritten by nat:DOCKER:2"
    assert cap.annotations[2].tags == ["dnat", "syn"]
    assert "saved to pf.pcapng.netlab.json" in ui.status.value
    assert "destination rewritten" in ui.table.value
    assert load_capture(cap.path).annotations[2].tags == ["dnat", "syn"]  # on disk already
    ui.selected.value = 1
    assert ui.comment.value == "" and ui.tags.value == ""
    ui.selected.value = 2
    assert ui.tags.value == "dnat, syn"


def test_colour_rules_colour_the_table(cap: Capture) -> None:
    ui = CaptureAnnotator(cap)
    ui.colour_filter.value = "tcp.flags.syn == 1"
    ui.colour_pick.value = "#ffcc80"
    ui.colour_button.click()
    rows = re.findall(r'<tr style="([^"]*)"><td>(\d+)</td>', ui.table.value)
    coloured = [int(n) for style, n in rows if "#ffcc80" in style]
    assert coloured == [1, 2, 3, 4]
    assert cap.colour_rules == [("tcp.flags.syn == 1", "#ffcc80")]
    ui.colour_filter.value = "tcp.flags.bogus == 1"
    ui.colour_button.click()
    assert "does not know" in ui.filter_error.value
    ui.colour_clear.click()
    assert cap.colour_rules == [] and "#ffcc80" not in ui.table.value


def test_link_proposals_accept_and_change(cap: Capture) -> None:
    ui = CaptureAnnotator(cap)
    ui.selected.value = 1
    assert ui.link_choice.value == 2  # netlab proposes the copy after DNAT
    assert "rewritten to 172.17.0.2:80" in dict((v, k) for k, v in ui.link_choice.options)[2]
    ui.accept_link.click()
    assert cap.annotations[1].links == [2] and cap.annotations[2].links == [1]
    ui.link_to.value = 4
    ui.link_button.click()
    assert cap.annotations[1].links == [2, 4]
    ui.unlink_button.click()
    assert cap.annotations[1].links == [2]
    assert 4 not in cap.annotations  # its only annotation was the link, now gone
    assert "linked: #2" in ui.links_html.value


def test_download_offers_pcapng_and_sidecar(cap: Capture, tmp_path) -> None:
    cap.annotate(3, comment="SYN-ACK from the container", tags=["synack"])
    ui = CaptureAnnotator(cap, download_dir=str(tmp_path))
    ui.download_button.click()
    assert "pf-annotated.pcapng" in ui.download.value
    uri = re.search(r"href='data:application/vnd.tcpdump.pcap;base64,([^']+)'", ui.download.value)
    blob = base64.b64decode(uri.group(1))
    out = tmp_path / "from-browser.pcapng"
    out.write_bytes(blob)
    again = load_capture(out)
    assert again.annotations[3].tags == ["synack"]
    restored = load_capture(tmp_path / "pf-annotated.pcapng")  # file + its sidecar
    assert restored.sidecar_problem is None
    assert restored.annotations == cap.annotations


def test_field_ranges_and_hexdump_helpers(cap: Capture) -> None:
    ranges = field_ranges(cap.packet(1))
    by_name = {(layer, name): (start, end) for layer, name, _, start, end in ranges}
    assert by_name[("Ethernet", "dst")] == (0, 6)
    assert by_name[("IP", "src")] == (26, 30)
    assert by_name[("TCP", "seq")] == (38, 42)
    dump = hexdump_html(b"\x00\x01\x02", 1, 2)
    assert _highlighted(dump) == ["01"]


def test_pick_a_packet_from_the_page(cap: Capture) -> None:
    ui = CaptureAnnotator(cap, page_size=4)
    assert [v for _, v in ui.on_page.options] == [0, 1, 2, 3, 4]
    ui.on_page.value = 3
    assert ui.selected.value == 3 and "<b>TCP</b>" in ui.layers.value
    ui.next_button.click()
    assert [v for _, v in ui.on_page.options][1:] == [5, 6, 7, 8] and ui.on_page.value == 0
