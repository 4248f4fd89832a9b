"""Layer 5 — the lab: a scenario built in real network namespaces.

``Lab(scenario)`` builds it (``.up()``), probes it with real packets while
capturing on every interface of every namespace (``.probe(...)`` returns a
:class:`~netlab.journey.Journey`), and removes it (``.down()``).  ``plan()``
shows the exact commands.  ``netlab lab down --all`` cleans up after a crash.
"""

from __future__ import annotations

from netlab.lab.lab import Lab, lab_unavailable_reason

__all__ = ["Lab", "lab_unavailable_reason"]
