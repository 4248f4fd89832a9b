"""Run a lesson's code cells in this process, in simulated mode, and hand back its
namespace: the tests of a lesson's exercises drive the very ``Check`` objects (and the
grading functions) the notebook defines, with right and wrong answers.  The answer
keys live in the tests, never in the notebooks."""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def lesson_path(stem_prefix: str) -> Path:
    """The notebook whose name starts with ``stem_prefix`` (``"04"``)."""
    (path,) = sorted(NOTEBOOKS.glob(f"{stem_prefix}_*.ipynb"))
    return path


@pytest.fixture(autouse=True)
def sim_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check a test submits runs its probes in the simulator (import this fixture
    into a test module to use it)."""
    monkeypatch.setenv("NETLAB_MODE", "sim")


def run_lesson(stem_prefix: str) -> dict[str, Any]:
    """Execute every code cell of the lesson (``NETLAB_MODE=sim``, Agg figures, the
    notebook's folder as working directory) and return its globals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = lesson_path(stem_prefix)
    nb = nbformat.read(path, as_version=4)
    ns: dict[str, Any] = {"__name__": "__lesson__"}
    old_mode, old_cwd = os.environ.get("NETLAB_MODE"), os.getcwd()
    os.environ["NETLAB_MODE"] = "sim"
    os.chdir(path.parent)
    try:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"{path.name}[cell {i}]", "exec"), ns)  # noqa: S102
            plt.close("all")
    finally:
        os.chdir(old_cwd)
        if old_mode is None:
            os.environ.pop("NETLAB_MODE", None)
        else:
            os.environ["NETLAB_MODE"] = old_mode
    return ns


def drive(check: Any, wrong: list[Any], right: Any, *, must_not_say: list[str] = ()) -> None:
    """Every wrong answer is judged wrong, shows the next hint and does not print the
    right answer (before the last hint); then ``right`` is accepted."""
    check.attempts = check.hints_shown = 0
    for n, answer in enumerate(wrong, 1):
        assert check.submit(answer) is False, (check.question, answer, check.message)
        assert check.correct is False, (answer, check.message)  # judged, not unreadable
        assert check.hints_shown == min(n, len(check.hints)), (answer, check.hints_shown)
        for secret in must_not_say:
            assert secret not in check.message, (answer, check.message)
        for hint in check.shown_hints[: len(check.hints) - 1]:
            for secret in must_not_say:
                assert secret not in hint, (hint, secret)
    assert check.submit(right) is True, (check.question, right, check.message)


def unreadable(check: Any, answer: Any) -> None:
    """``answer`` cannot be read: the learner is told the form, no hint or attempt is used."""
    before = (check.attempts, check.hints_shown)
    assert check.submit(answer) is False
    assert check.correct is None and (check.attempts, check.hints_shown) == before, check.message
    assert "expected" in check.message or "write it" in check.message, check.message
    for raw in ("Traceback", "ValueError", "KeyError", "IndexError", "StopIteration", "TypeError"):
        assert raw not in check.message, check.message
