"""Every lesson runs headless in simulated mode (what Binder uses) and, as root, in lab mode.

This is where the README's test command runs the notebooks (headless, each in its own
kernel): every lesson in both modes explicitly — Run All, then press every exercise's Check —
whoever runs it; the lab run is skipped, with the reason, without root.  (``pytest --nbmake
notebooks`` still works for one lesson at a time: it runs it in ``mode="auto"``.)
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


AFTER_RUN_ALL = '''
import re as _re
from netlab.widgets.check import Check as _Check
_checks = {_k: _v for _k, _v in dict(globals()).items() if isinstance(_v, _Check)}
for _name, _ch in _checks.items():
    if _ch.options:
        _answer = _ch.options[0]
    else:
        _m = _re.search(r"e\\.g\\. (.+)$", _ch.form or "")
        _answer = _m.group(1) if _m else "1"
    _ch.submit(_answer)
    assert _ch.error is None or _ch.error.startswith("Unreadable"), (_name, _answer, _ch.error)
    assert "LabError" not in _ch.message and "not up" not in _ch.message, (_name, _ch.message)
assert _checks, "a lesson without exercises"
print(sorted(_checks))
'''


def _lab_reason() -> str | None:
    from netlab.mode import lab_possible

    return lab_possible()


@pytest.mark.parametrize("mode", ["sim", "lab"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_after_run_all_every_exercise_still_answers(path: Path, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run All, then press Check on every exercise (with the example answer its form gives):
    nothing the exercises need was torn down (lab mode: no "the lab is not up")."""
    if mode == "lab" and (why := _lab_reason()):
        pytest.skip(f"lab mode needs root and namespaces: {why}")
    monkeypatch.setenv("NETLAB_MODE", mode)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(AFTER_RUN_ALL))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
