"""Figures a class can read (issue 12): at 100 % zoom in a 1,400-px JupyterLab window no text
of a lesson's figure is below 9 px on screen.

A figure is rendered as the lessons show it: inline at ``figure_png``'s 100 dpi (JupyterLab
scales an image wider than the cell down to the cell), the stepper's and the what-if's pictures
as PNGs in an ``Image`` widget 100 % of the cell wide (scaled to the cell either way).  The
cell is 1,400 px minus ~200 px of JupyterLab's chrome (side bar, prompt, margins).  Every text
artist's rendered height, times that scale, must be at least 9 px.
"""

from __future__ import annotations

import pytest

import netlab as nl
from netlab.viz.figure import text_boxes
from netlab.widgets import JourneyStepper, RuleTracer

CELL_PX = 1400 - 200
MIN_PX = 9.0
INLINE_DPI = 100  # figure_png's default: what _repr_png_ gives the notebook


def small_texts(fig, dpi: int, shown_px: float | None = None) -> list[tuple[float, str]]:
    """(height on screen in px, text) of every text below MIN_PX.  ``shown_px``: the width the
    image is shown at (a widget stretched to the cell); None: inline, scaled down only."""
    fig.set_dpi(dpi)
    width = fig.canvas.get_width_height()[0]
    scale = shown_px / width if shown_px else min(1.0, CELL_PX / width)
    boxes = text_boxes(fig)
    assert boxes, "a figure without text?"
    return [(round(b.height * scale, 1), t) for t, b in boxes if b.height * scale < MIN_PX]


@pytest.fixture(scope="module")
def net():
    return nl.connect(mode="sim", quiet=True)


@pytest.fixture(scope="module")
def journey(net):
    return net.probe("http", src="client", dst="192.168.56.38", dport=80)


def _reply(journey):
    return next(e.packet_id for e in journey.seen(node="web") if e.direction == "out"
                and e.frame.flags == "SA")


@pytest.mark.parametrize("version", ["27", "28", "29"])
def test_topology_is_readable(version):
    sim = nl.connect(mode="sim", scenario=nl.docker_host(version), quiet=True)
    assert small_texts(nl.draw_topology(sim), INLINE_DPI) == []
    assert small_texts(nl.draw_topology(nl.seed_host(), title="the article's host"), INLINE_DPI) == []


def test_journey_and_its_hop_table_are_readable(net, journey):
    assert small_texts(nl.draw_journey(journey, net), INLINE_DPI) == []
    assert small_texts(nl.draw_journey(journey, net, packet=_reply(journey), title="the reply"),
                       INLINE_DPI) == []
    ping = net.probe("ping", src="host", dst="172.17.0.2")
    assert small_texts(nl.draw_journey(ping, net), INLINE_DPI) == []


def test_hook_map_is_readable(journey):
    assert small_texts(nl.draw_hooks(journey), INLINE_DPI) == []
    assert small_texts(nl.draw_hooks(journey, packet=_reply(journey), title="the reply"), INLINE_DPI) == []


def test_stepper_picture_is_readable(net, journey):
    s = JourneyStepper(journey, net)
    for i in (0, len(s.events) // 2, len(s.events) - 1):
        s.go(i)
        assert s.image.layout.width == "100%"
        dpi = 80  # what JourneyStepper.png renders at
        assert small_texts(s.figure(), dpi, shown_px=CELL_PX) == []


def test_what_if_pictures_are_readable():
    from netlab.widgets.tracer import WIDGET_DPI

    rt = RuleTracer(nl.seed_host())
    rt.toggles["docker_user_drop"].value = True
    for image, fig in ((rt.baseline_image, rt.baseline_figure), (rt.variant_image, rt.variant_figure)):
        assert image.layout.width == "100%"  # one above the other, not 50 % each
        assert small_texts(fig, WIDGET_DPI, shown_px=CELL_PX) == []


@pytest.mark.parametrize("kind", ["http", "ping", "traceroute"])
def test_flow_diagram_is_readable(kind):
    """draw_flow of a capture (lesson 11): it fits the cell at 100 dpi, so no label shrinks."""
    sim = nl.connect(mode="sim", quiet=True)
    j = {"http": lambda: sim.probe("http", src="client", dst="192.168.56.38", dport=80),
         "ping": lambda: sim.probe("ping", src="web", dst="203.0.113.10"),
         "traceroute": lambda: sim.probe("traceroute", src="web", dst="203.0.113.10")}[kind]()
    cap = j.capture
    first = cap.numbers("udp or icmp.type == 8" if kind == "traceroute" else "tcp or udp or icmp")[0]
    assert small_texts(nl.draw_flow(cap, first), INLINE_DPI) == []


def test_a_flow_of_many_hops_is_readable():
    """A hairpin crosses the veth twice: more columns, narrower, wrapped — still readable."""
    from netlab.scenarios import catalogue
    from netlab.sim import SimNet

    j = SimNet(catalogue.build("hairpin"), capture_promisc=False).probe(
        "http", src="web", dst="10.0.2.15", dport=80)
    assert small_texts(nl.draw_flow(j.capture, j.capture.numbers("tcp")[0]), INLINE_DPI) == []
