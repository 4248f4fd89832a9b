"""Shared drawing helpers: an Agg-backed Figure that shows itself in Jupyter.

The figures are built with :class:`matplotlib.figure.Figure` directly (never
through pyplot), on an Agg canvas, so drawing never changes a global backend or
opens a window, in a notebook, a test or a server.
"""

from __future__ import annotations

import functools
import io
from typing import Any

FONT = 8.0  # points: at 100 dpi in a figure <= 14.8 in wide, shown in a 1,200-px cell, >= 9 px


@functools.cache
def _figure_class() -> type:
    from matplotlib.figure import Figure

    class NetlabFigure(Figure):
        """A Figure that renders itself as PNG in Jupyter (no pyplot needed)."""

        def _repr_png_(self) -> bytes:
            return figure_png(self)

    return NetlabFigure


def new_figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure of ``width`` × ``height`` inches with one axes spanning it, in inch units."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure_class()(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    return fig, ax


def figure_png(fig: Any, dpi: int = 100) -> bytes:
    """The figure as PNG bytes (what widgets show and tests save)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    release_renderer(fig)
    return buf.getvalue()


def release_renderer(fig: Any) -> None:
    """Drop the pixel buffer Agg keeps after drawing (width × height × 4 bytes, about 3 MB
    for a wide figure): a notebook keeps every figure it showed (``Out``, variables), and
    the next draw makes a fresh one.  Measured by benchmarks/bench_memory.py (issue 18)."""
    canvas = getattr(fig, "canvas", None)
    if canvas is not None and getattr(canvas, "renderer", None) is not None and hasattr(canvas, "_lastKey"):
        canvas._lastKey = None  # FigureCanvasAgg.get_renderer then builds a new one
        canvas.renderer = None


def text_boxes(fig: Any) -> list[tuple[str, Any]]:
    """Every visible, non-empty text of the figure with its bounding box in pixels.

    Tests use it to prove that no two labels overlap and that none is cut off.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(lambda a: a.__class__.__name__ == "Text"):
        if not t.get_visible() or not t.get_text().strip():
            continue
        out.append((t.get_text(), t.get_window_extent(renderer)))
    return out


def overlapping_labels(fig: Any, pad: float = 0.0) -> list[tuple[str, str]]:
    """Pairs of labels whose rendered boxes intersect (empty = readable)."""
    boxes = text_boxes(fig)
    bad = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if (a.x0 - pad < b.x1 and b.x0 - pad < a.x1 and a.y0 - pad < b.y1
                    and b.y0 - pad < a.y1):
                bad.append((ta, tb))
    return bad


def labels_outside(fig: Any) -> list[str]:
    """Labels that stick out of the figure (would be cut off)."""
    w, h = fig.canvas.get_width_height()
    return [t for t, b in text_boxes(fig) if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > w + 0.5
            or b.y1 > h + 0.5]
