"""The display-filter language learners type in lesson 11 and the annotator."""

from __future__ import annotations

import pytest
from _capture_records import arp_frame, ping_frames, port_forward_records
from hypothesis import given, settings
from hypothesis import strategies as st

from netlab.capture import Capture, FilterError


@pytest.fixture(scope="module")
def cap() -> Capture:
    recs = port_forward_records()
    recs.append((2.0, "host", "docker0", arp_frame()))
    recs += [(2.1 + k / 10, "web", "eth0", f) for k, f in enumerate(ping_frames())]
    recs.append((3.0, "host", "docker0", port_forward_records(41000)[1][3].copy(flags="R", seq=7)))
    c = Capture.from_records(recs)
    c.annotate(2, comment="After DNAT", tags=["dnat", "syn"])
    c.annotate(5, tags=["ack"], rule="filter:FORWARD:3", hook="FORWARD")
    return c


@pytest.mark.parametrize("expr, expected", [
    ("ip.src == 192.168.56.1", [1, 2, 5, 6, 7, 8, 13, 14, 20]),
    ("ip.dst == 172.17.0.2 and tcp.flags.syn == 1", [2]),
    ("ip.addr == 172.17.0.0/16 and tcp", [2, 3, 6, 8, 9, 11, 14, 15, 20]),
    ("tcp.port == 80 and iface == enp0s8 and tcp.flags.syn == 1", [1, 4]),
    ("tcp.flags.syn == 1 && tcp.flags.ack == 1", [3, 4]),
    ("tcp.flags.rst == 1", [20]),
    ("tcp.flags.fin == 1 and not tcp.srcport == 80", [13, 14]),
    ("tcp.dstport == 80 and tcp.len > 0", [7, 8]),
    ("icmp", [18, 19]),
    ("icmp.type == 3", [19]),
    ("arp", [17]),
    ("arp.dst.proto_ipv4 == 172.17.0.2", [17]),
    ("udp or icmp", [18, 19]),
    ("netns == web", [18, 19]),
    ("iface == docker0 and not (tcp or arp)", []),
    ("!tcp", [17, 18, 19]),
    ("comment contains dnat", [2]),
    ('comment contains "after dnat"', [2]),
    ("tag == dnat or tag == ack", [2, 5]),
    ("rule contains FORWARD", [5]),
    ("frame.number <= 3", [1, 2, 3]),
    ("frame.number >= 18 and frame.number != 19", [18, 20]),
    ("ip.ttl == 63 and tcp.flags.syn == 1", [2, 4]),
    ("eth.src == 02:42:ac:11:00:02", [3, 9, 11, 15, 18]),
    ("tcp.port != 80", []),
    ("ip.src != 192.168.56.1 and ip", [3, 4, 9, 10, 11, 12, 15, 16, 18, 19]),
    ("tcp.window_size == 64240 and tcp.flags.fin == 1", [11, 12, 13, 14]),
    ("", list(range(1, 21))),
])
def test_filters(cap: Capture, expr: str, expected: list[int]) -> None:
    assert cap.numbers(expr) == expected


def test_filter_returns_rows(cap: Capture) -> None:
    rows = cap.filter("tcp.flags.syn == 1 and iface == docker0")
    assert rows.index.tolist() == [2, 3]
    assert set(rows.interface) == {"docker0"}


@pytest.mark.parametrize("expr, message", [
    ("ip.source == 1.2.3.4", "did you mean ip.src"),
    ("ip.src == 300.1.1.1", "not an IPv4 address"),
    ("tcp.port == http", "not a service name: write `tcp.port == 80`"),
    ("tcp.port == ssh", "tcp.port == 22"),
    ("ip.src = 1.2.3.4", "single = .* write =="),
    ("frame contains foo", "packet bytes.*contains` works on text fields"),
    ("http", "tcp.port == 80"),
    ("tcp.port in {80 443}", "not supported.*tcp.port == 80 or tcp.port == 443"),
    ("tcp.analysis.retransmission", "capture.expert"),
    ("tcp.port ==", "ends too early"),
    ("(tcp", "never closed"),
    ("tcp udp", "join conditions with and / or"),
    ("tcp.port contains 80", "`contains` works on text"),
    ("eth.src == 02:42", "not a MAC address"),
    ("ip.src > 1.2.3.4", "compare addresses with == or !="),
    ("tcp.port == 80 ; drop", "cannot read the filter at character"),
    ("frobnicate", "does not know the filter word"),
])
def test_filter_errors_say_what_is_wrong(cap: Capture, expr: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        cap.numbers(expr)


WORDS = ["ip.src", "ip.addr", "tcp.port", "tcp.flags.syn", "iface", "comment", "tag", "frame.number",
         "eth.src", "icmp", "arp", "tcp", "and", "or", "not", "(", ")", "==", "!=", ">", "<=",
         "contains", "!", "&&", "||", "80", "0x12", "99999999999999999999999", "-1", "172.17.0.2",
         "10.0.0.0/8", "1.2.3.4/99", "docker0", '"dnat"', '"unterminated', "02:42:ac:11:00:02",
         "ipv6.src", "fe80::1", "xyz", "=", ";", "tcp.flags.syn == 1"]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=8))
def test_any_filter_text_gives_a_mask_or_a_filter_error(cap: Capture, words) -> None:
    text = " ".join(words)
    try:
        mask = cap.mask(text)
    except FilterError:
        return
    assert mask.dtype == bool and len(mask) == len(cap)
