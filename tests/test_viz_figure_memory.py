"""A figure shown once keeps no pixel buffer (a notebook keeps every figure it showed)."""

from __future__ import annotations

import netlab as nl
from netlab.viz.figure import figure_png, text_boxes


def test_a_shown_figure_drops_its_pixels_and_draws_again_the_same() -> None:
    net = nl.connect(mode="sim", quiet=True)
    fig = nl.draw_topology(net.scenario)
    first = fig._repr_png_()
    assert first.startswith(b"\x89PNG")
    assert getattr(fig.canvas, "renderer", None) is None  # about 3 MB freed per figure
    assert figure_png(fig) == first  # drawn again from scratch: the same picture
    assert text_boxes(fig)  # measuring text still works (a fresh renderer)
