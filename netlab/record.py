"""Where exercise and drill results go, so ``netlab grade`` can read them.

A lesson's :class:`~netlab.widgets.check.Check` and a drill's ``check()`` call
:func:`record` with what happened (solved or not, hints used, attempts, time).
Normally nothing is written.  ``netlab grade`` runs a learner's notebook with the
environment variable ``NETLAB_RECORD`` set to a file; each call then appends one
JSON line to it.  The grader re-checks drill records itself (it replays the
fixes), so a notebook that writes ``solved: true`` by hand gains nothing there.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

ENV = "NETLAB_RECORD"
MAX_FIELD = 4000  # characters kept of any one text field (an answer, a fix)


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_FIELD:
        return value[:MAX_FIELD] + "…"
    if isinstance(value, list):
        return [_clip(v) for v in value[:50]]
    return value


def record(kind: str, name: str, *, solved: bool, hints: int = 0, attempts: int = 0,
           seconds: float | None = None, **extra: Any) -> bool:
    """Append one result (``kind`` "exercise" or "drill") to ``$NETLAB_RECORD``;
    returns whether it was written.  Never raises: a lesson must not break because
    the record file is unwritable."""
    path = os.environ.get(ENV, "").strip()
    if not path:
        return False
    entry = {"kind": kind, "name": _clip(str(name)), "solved": bool(solved), "hints": int(hints),
             "attempts": int(attempts), "seconds": None if seconds is None else round(float(seconds), 1),
             "time": round(time.time(), 3)}
    entry.update({k: _clip(v) for k, v in extra.items()})
    try:
        line = json.dumps(entry, default=str) + "\n"
        with open(path, "a", encoding="utf-8") as fh:  # one short write: lines stay whole
            fh.write(line)
    except (OSError, TypeError, ValueError):
        return False
    return True


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records in a file :func:`record` wrote (lines that are not JSON objects skipped)."""
    out: list[dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict) and isinstance(item.get("name"), str):
                    out.append(item)
    except FileNotFoundError:
        pass
    return out
