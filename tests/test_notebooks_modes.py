"""Every lesson runs headless in simulated mode (what Binder uses).

The README's test command also runs ``--nbmake notebooks``, which uses
``mode="auto"``: simulated for a normal user, the real kernel as root.  As root
(CI), this file adds the simulated run, so both modes are exercised.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.skipif(os.geteuid() != 0,
                    reason="not root: the --nbmake run of notebooks/ already used simulated mode")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_lesson_runs_in_sim_mode(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETLAB_MODE", "sim")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
