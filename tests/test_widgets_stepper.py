"""JourneyStepper driven like a learner would: buttons and the play control."""

from __future__ import annotations

import html

import pytest
from _viz_helpers import hand_journey, hand_scenario

from netlab.widgets import JourneyStepper
from netlab.widgets import stepper as stepper_mod
from netlab.widgets.stepper import changed_fields


@pytest.fixture(scope="module")
def stepper() -> JourneyStepper:
    return JourneyStepper(hand_journey(), hand_scenario(1))


def test_forward_back_first(stepper: JourneyStepper) -> None:
    stepper.first.click()
    assert stepper.index == 0 and stepper.event.kind == "send"
    stepper.back.click()
    assert stepper.index == 0  # clamped
    stepper.forward.click()
    stepper.forward.click()
    assert stepper.event.iface == "enp0s8" and stepper.play.value == 3
    stepper.back.click()
    assert stepper.index == 1


def test_dnat_highlights_destination(stepper: JourneyStepper) -> None:
    stepper.play.value = 6  # the NAT event (the play control counts from 1)
    assert stepper.index == 5 and stepper.event.kind == "nat"
    assert stepper.changed == {"dst"}
    assert stepper.fields["dst"] == "172.17.0.2"
    assert stepper.rule == ("nat:DOCKER:2", "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT "
                            "--to-destination 172.17.0.2:80")  # the text from the trace event
    assert "changed here" in stepper.fields_html.value
    assert stepper.conntrack_entry.startswith("tcp SYN_SENT")


def test_routed_hop_changes_macs_and_ttl(stepper: JourneyStepper) -> None:
    stepper.go(9)  # seen on docker0, after routing
    assert stepper.event.iface == "docker0"
    assert stepper.changed == {"src_mac", "dst_mac", "ttl"}
    assert stepper.route.startswith("172.17.0.0/16 dev docker0")
    stepper.go(7)
    assert stepper.rule[0] == "filter:DOCKER:1" and "ACCEPT" in stepper.rule_html.value


def test_image_shows_the_position(stepper: JourneyStepper, tmp_path) -> None:
    stepper.go(12)
    png = stepper.image.value
    assert png[:4] == b"\x89PNG"
    (tmp_path / "stepper.png").write_bytes(png)
    stepper.go(0)
    assert stepper.image.value != png  # a different position draws a different picture


def test_play_beyond_end_is_clamped(stepper: JourneyStepper) -> None:
    stepper.go(99)
    assert stepper.index == len(stepper.events) - 1 and stepper.event.kind == "deliver"


def test_changed_fields_helper() -> None:
    j = hand_journey()
    a, b = j.steps[1].frame, j.steps[5].frame
    assert changed_fields(a, b) == {"dst"}
    assert changed_fields(None, b) == set()


def test_empty_journey_is_refused() -> None:
    from netlab.errors import NetlabError
    from netlab.journey import Journey

    with pytest.raises(NetlabError, match="probe"):
        JourneyStepper(Journey({"kind": "tcp"}))


# ------------------------------------------------------------ on journeys the simulator ran

@pytest.fixture(scope="module")
def masquerade():
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.docker_host("29"), quiet=True)
    return net.probe("ping", src="web", dst="203.0.113.10")


def test_masquerade_and_the_conntrack_un_nat(masquerade) -> None:
    s = JourneyStepper(masquerade, draw=False)
    nats = [i for i, e in enumerate(s.events) if e.kind == "nat"]
    assert len(nats) == 2  # MASQUERADE on the request, conntrack's un-NAT on the reply
    s.go(nats[0])
    assert s.changed == {"src"} and s.fields["src"] == "10.0.2.15"
    assert s.rule[0].startswith("nat:POSTROUTING:") and "MASQUERADE" in s.rule[1]
    s.go(nats[1])
    assert s.changed == {"dst"} and s.fields["dst"] == "172.17.0.2"
    assert s.rule is None  # no nat rule runs for a reply: conntrack does it
    assert "rule</b> —" in s.rule_html.value
    assert s.conntrack_entry and "icmp" in s.conntrack_entry


def test_filter_rule_named_by_position_and_text() -> None:
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.docker_host("28"), quiet=True)
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    s = JourneyStepper(j, draw=False)
    fwd = next(i for i, e in enumerate(s.events) if e.kind == "netfilter" and e.hook == "FORWARD")
    s.go(fwd)
    position, text = s.rule
    assert position.startswith("filter:") and text.startswith("-A ") and "ACCEPT" in text
    assert s.event.verdict == "ACCEPT" and "ACCEPT" in s.rule_html.value
    assert s.route.startswith("172.17.0.0/16 dev docker0")


def test_play_through_a_dropped_journey_draws_every_step() -> None:
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.widgets.what_if(nl.docker_host("27"),
                                                             docker_user_drop=True), quiet=True)
    j = net.probe("tcp", src="client", dst="192.168.56.38", dport=80, timeout=1.0)
    assert j.outcome == "dropped"
    s = JourneyStepper(j, packet=1)
    seen = set()
    for i in range(len(s.events)):
        s.play.value = i + 1
        assert s.index == i and s.slider.value == i + 1
        seen.add(s.image.value)
    assert s.event.kind == "drop" and "DOCKER-USER" in s.position.value
    assert len(seen) >= 3  # the picture follows the packet: none, client, enp0s8


def test_first_packet_and_unknown_packet() -> None:
    from netlab.errors import NetlabError

    s = JourneyStepper(hand_journey(), hand_scenario(1), packet="first", draw=False)
    assert s.packet == 1 and len(s.events) == len(hand_journey().steps)
    with pytest.raises(NetlabError, match=r"no packet 7; its packets are \[1\]"):
        JourneyStepper(hand_journey(), packet=7)


def test_figure_rings_the_current_hop() -> None:
    s = JourneyStepper(hand_journey(), hand_scenario(1), draw=False)
    s.go(9)  # seen on docker0: the third hop
    fig = s.figure()
    assert fig.netlab_current_hop == 2 and fig.netlab_hops[2].iface == "docker0"


# ---------------------------------------------------------------- issue 12, on a real sim journey
@pytest.fixture(scope="module")
def http_stepper() -> JourneyStepper:
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.docker_host("28"), quiet=True)
    return JourneyStepper(net.probe("http", src="client", dst="192.168.56.38", dport=80), draw=False)


def test_route_is_the_one_of_the_node_where_the_event_happens(http_stepper: JourneyStepper) -> None:
    s = http_stepper
    dnat = next(i for i, e in enumerate(s.events) if e.kind == "nat" and e.rule)
    s.go(dnat)
    assert s.event.node == "host" and s.route is None  # the host routes after PREROUTING
    assert "host has not routed" in s.route_html.value
    assert not any(x in s.route_html.value for x in ("192.168.56.0/24 dev eth0",))
    for i, e in enumerate(s.events):
        s.go(i)
        mine = [x for x in s.events[: i + 1] if x.kind == "route" and x.node == e.node
                and (e.packet_id is None or x.packet_id in (e.packet_id, None))]
        assert s.route == (mine[-1].route if mine else None), (i, e.detail)
        if s.route:
            assert f"in {e.node}:" in s.route_html.value
    fwd = next(i for i, e in enumerate(s.events) if e.kind == "netfilter" and e.hook == "FORWARD")
    s.go(fwd)
    assert s.route.startswith("172.17.0.0/16 dev docker0")


def test_macs_are_as_they_are_at_that_hop(http_stepper: JourneyStepper) -> None:
    s = http_stepper
    placeholder = {"ff:ff:ff:ff:ff:ff", "00:00:00:00:00:00"}
    last_seen: dict[int, object] = {}
    checked = 0
    for i, e in enumerate(s.events):
        s.go(i)
        if e.kind == "seen" and e.frame is not None:
            last_seen[e.packet_id] = e.frame
        f = s.frame
        if f is None or f.proto != "tcp" or e.packet_id is None:
            continue
        macs = (s.fields["src_mac"], s.fields["dst_mac"])
        assert not placeholder & set(macs), (i, e.kind, macs)  # no broadcast/zero MAC on a SYN
        if e.packet_id in last_seen:
            assert macs == (last_seen[e.packet_id].src_mac, last_seen[e.packet_id].dst_mac)
        else:
            assert macs == (stepper_mod.NOT_SET, stepper_mod.NOT_SET)
        checked += 1
    assert checked > 20


def test_slider_header_and_clicks_agree(http_stepper: JourneyStepper) -> None:
    s = http_stepper
    n = len(s.events)
    assert (s.slider.min, s.slider.max, s.play.min, s.play.max) == (1, n, 1, n)
    s.first.click()
    for _ in range(min(n - 1, 25)):
        s.forward.click()
        k = s.index + 1
        assert s.slider.value == s.play.value == k
        assert f"event {k} of {n}</b>" in s.position.value
        assert s.event.detail and html.escape(s.event.detail) in s.position.value
        for name, value in s.fields.items():
            assert f"<code>{name}</code></td><td><code>{html.escape(str(value))}</code>" in s.fields_html.value
    s.slider.value = 3  # the learner drags the slider: the header says the same number
    assert s.index == 2 and s.play.value == 3 and f"event 3 of {n}" in s.position.value
    s.back.click()
    assert s.slider.value == 2 and f"event 2 of {n}" in s.position.value
