"""Layer 4 — the simulated kernel (``netlab.connect(mode="sim")``).

``SimNet(scenario)`` turns each node of a scenario into a simulated network
namespace and answers ``probe(...)`` with a :class:`~netlab.journey.Journey`.
"""

from __future__ import annotations

from netlab.sim.net import ProbeError, SimNet

__all__ = ["ProbeError", "SimNet"]
