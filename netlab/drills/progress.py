"""A learner's drill progress in a small JSON file beside the notebook (written
atomically after every action), so they can stop and come back.  ``netlab grade``
reads the same file: it replays the recorded fixes itself, so the file's own
``solved`` flags are never trusted."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from netlab.atomic import atomic_write_text
from netlab.drills.drill import Drill
from netlab.drills.fixes import FixError

DEFAULT = "drills_progress.json"


class Progress:
    """``{"drills": {name: {seed, fixes, hints, attempts, seconds, solved}}}`` in ``path``."""

    def __init__(self, path: str | os.PathLike[str] = DEFAULT) -> None:
        self.path = Path(path)
        self.problem: str | None = None
        self.data: dict[str, Any] = {"version": 1, "drills": {}}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if not isinstance(data, dict) or not isinstance(data.get("drills"), dict):
                    raise ValueError("not a drills progress file")
                self.data = data
            except (OSError, ValueError) as exc:  # keep the damaged file, start afresh
                self.problem = f"{self.path} could not be read ({exc}); kept as {self.path}.damaged"
                try:
                    os.replace(self.path, f"{self.path}.damaged")
                except OSError:
                    pass

    @property
    def drills(self) -> dict[str, dict[str, Any]]:
        return self.data["drills"]

    def save(self) -> None:
        atomic_write_text(self.path, json.dumps(self.data, indent=1))

    def update(self, d: Drill) -> None:
        """Store ``d``'s state and save."""
        self.drills[d.name] = {"seed": d.seed, "fixes": list(d.fixes), "hints": d.hints.used,
                               "attempts": d.attempts, "seconds": round(d.seconds, 1),
                               "solved": d.solved}
        self.save()

    def resume(self, name: str, seed: int) -> Drill:
        """Drill ``name`` as the learner left it (fixes replayed, hints and time counted);
        a stored entry for another seed is ignored."""
        from netlab.drills import load

        d = load(name, seed)
        entry = self.drills.get(name)
        if isinstance(entry, dict) and entry.get("seed") == seed:
            replay(d, entry)
        return d


def replay(d: Drill, entry: dict[str, Any]) -> Drill:
    """Apply a stored entry's fixes to ``d`` (one that no longer applies is skipped)."""
    for fix in entry.get("fixes") or []:
        if isinstance(fix, str):
            try:
                d.apply(fix)
            except FixError:
                pass
    for _ in range(min(int(entry.get("hints") or 0), len(d.hints))):
        d.hints.reveal()
    d.attempts = int(entry.get("attempts") or 0)
    d.seconds_before = float(entry.get("seconds") or 0.0)
    return d
