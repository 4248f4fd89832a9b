"""The drills notebook's board: progress saved after every step and resumed."""

from __future__ import annotations

import json
from pathlib import Path

from netlab.widgets.drills import DrillBoard


def test_board_grades_saves_and_resumes(tmp_path: Path) -> None:
    path = tmp_path / "drills_progress.json"
    b = DrillBoard(str(path), seed=4)
    b.picker.value = "masquerade_missing"
    assert b.drill.name == "masquerade_missing"
    b.hint_button.click()
    b.fix.value = "make it work"
    b.apply_button.click()
    assert b.verdict is None and "accepted" not in b.feedback.value and "iptables" in b.feedback.value
    b.fix.value = b.drill.solution()
    b.apply_button.click()
    assert b.verdict.solved
    saved = json.loads(path.read_text())["drills"]["masquerade_missing"]
    assert saved["seed"] == 4 and saved["hints"] == 1 and saved["solved"] and len(saved["fixes"]) == 1
    again = DrillBoard(str(path), seed=4)
    again.choose("masquerade_missing")
    assert again.drill.hints.used == 1 and again.drill.check().solved
    assert again.regrade() == {"masquerade_missing": True}


def test_a_damaged_progress_file_is_kept_aside(tmp_path: Path) -> None:
    path = tmp_path / "drills_progress.json"
    path.write_text("{broken")
    b = DrillBoard(str(path), seed=0)
    assert "could not be read" in b.feedback.value
    assert (tmp_path / "drills_progress.json.damaged").read_text() == "{broken"
