"""Layer 9 — small ipywidgets apps over the layers below.

- :class:`JourneyStepper` — step a probe's journey event by event (lesson 10).
- :class:`RuleTracer` — edit a packet, watch its iptables trace, try what-ifs (lessons 4 and 5).
- :class:`DrillBoard` — troubleshooting drills graded by running the fix.
- :class:`Check` — a self-checking exercise whose answer is tested by running netlab.
- :class:`CaptureAnnotator` — page, filter and annotate a capture (lesson 11).

The logic lives in the layers below; a widget wires controls to it, so tests
drive every widget by setting ``.value`` and calling ``.click()``.  ipywidgets
is imported when a widget is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str | None]] = {
    "JourneyStepper": ("netlab.widgets.stepper", "JourneyStepper"),
    "RuleTracer": ("netlab.widgets.tracer", "RuleTracer"),
    "Check": ("netlab.widgets.check", "Check"),
    "DrillBoard": ("netlab.widgets.drills", "DrillBoard"),
    "CaptureAnnotator": ("netlab.widgets.annotator", "CaptureAnnotator"),
    "what_if": ("netlab.widgets.whatif", "what_if"),
    "WHAT_IFS": ("netlab.widgets.whatif", "WHAT_IFS"),
}


if TYPE_CHECKING:  # what a type checker sees; at run time __getattr__ imports on first use
    from netlab.widgets.annotator import CaptureAnnotator as CaptureAnnotator
    from netlab.widgets.check import Check as Check
    from netlab.widgets.drills import DrillBoard as DrillBoard
    from netlab.widgets.stepper import JourneyStepper as JourneyStepper
    from netlab.widgets.tracer import RuleTracer as RuleTracer
    from netlab.widgets.whatif import WHAT_IFS as WHAT_IFS
    from netlab.widgets.whatif import what_if as what_if

__getattr__, __dir__ = lazy_exports('netlab.widgets', _EXPORTS)

__all__ = sorted(_EXPORTS)
