"""Layer 7 — captures: every packet seen, read and written as pcap/pcapng, annotated.

``Capture`` (``capture.df``, ``frame(n)``, ``packet(n)``, ``annotate``,
``to_pcapng``), ``load_capture(path)`` and ``follow_stream(capture, n)``.
Lessons 5 and 6 use them; the annotator widget wires controls to them.
"""

from __future__ import annotations

from netlab.capture.core import Capture, CaptureWarning, load_capture
from netlab.capture.stream import Stream, follow_stream
from netlab.errors import CaptureError, FilterError

__all__ = ["Capture", "CaptureError", "CaptureWarning", "FilterError", "Stream", "follow_stream",
           "load_capture"]
