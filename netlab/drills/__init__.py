"""Troubleshooting drills: "why can't I reach my container?", graded by fixing it.

``names()`` lists the drills; ``load(name, seed=0)`` gives a :class:`Drill` with
``symptom`` (what a user would report), ``net`` (the simulated host with the fault
in it), ``hints`` (``hints.reveal()`` one at a time), ``apply(fix)`` (the commands
a learner would type on the host), ``check() -> Verdict`` and ``solution()``.
The drills notebook and ``netlab grade`` use them.
"""

from __future__ import annotations

from netlab.drills.catalogue import DRILLS
from netlab.drills.drill import Drill, Expect, Hints, Verdict
from netlab.drills.fixes import FORMS, FixError, parse_fix
from netlab.errors import NetlabError


def names() -> list[str]:
    """The drills, in the order the notebook offers them."""
    return list(DRILLS)


def load(name: str, seed: int = 0) -> Drill:
    """Drill ``name`` with the names, addresses and ports ``seed`` draws."""
    if name not in DRILLS:
        raise NetlabError(f"no drill {name!r}; the drills are {', '.join(DRILLS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise NetlabError(f"seed must be a whole number >= 0, not {seed!r}")
    return DRILLS[name](seed)


__all__ = ["Drill", "Expect", "FORMS", "FixError", "Hints", "Verdict", "load", "names", "parse_fix"]
