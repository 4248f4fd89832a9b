"""``netlab grade`` on a class folder: a solved, a half-solved, a broken, a looping, a
flooding and a forging notebook; the run never stops and reports each as it is."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from netlab.cli import main
from netlab.record import read_records, record


def _nb(path: Path, *cells: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import netlab as nl")] + [nbformat.v4.new_code_cell(c)
                                                                     for c in cells]
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nb, path)


SOLVE = "d = nl.drills.load('{name}', {seed})\nd.hints.reveal()\nd.apply(d.solution())\nprint(d.check())"
TRY = "d = nl.drills.load('{name}', {seed})\nprint(d.check())"
EXERCISE = ("c = nl.widgets.Check('What is 2+2?', lambda a: a == '4')\n"
            "c.submit('5')\nc.submit('{answer}')")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path]:
    root = tmp_path_factory.mktemp("class")
    _nb(root / "alice" / "drills.ipynb", SOLVE.format(name="ip_forward_off", seed=1),
        SOLVE.format(name="veth_down", seed=2), EXERCISE.format(answer="4"))
    _nb(root / "bob" / "drills.ipynb", SOLVE.format(name="ip_forward_off", seed=3),
        TRY.format(name="veth_down", seed=4), EXERCISE.format(answer="3"))
    _nb(root / "carol" / "drills.ipynb", SOLVE.format(name="ip_forward_off", seed=0), "1/0",
        SOLVE.format(name="veth_down", seed=0))
    _nb(root / "dave" / "drills.ipynb", "while True:\n    pass")
    _nb(root / "erin" / "drills.ipynb", "for i in range(200000):\n    print('x' * 100)")
    _nb(root / "mallory" / "drills.ipynb",
        "from netlab.record import record\n"
        "record('drill', 'forward_accept', solved=True, seed=0, fixes=['iptables -P FORWARD ACCEPT'])")
    (root / "frank").mkdir()
    (root / "frank" / "drills.ipynb").write_text("{not json")
    out = root / "report.csv"
    assert main(["grade", str(root), "-o", str(out), "--timeout", "25", "--max-output", "200000"]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return rows, out


def _rows(rows: list[dict], learner: str) -> dict[str, dict]:
    return {r["item"]: r for r in rows if r["learner"] == learner}


def test_solved_notebook(graded: tuple[list[dict], Path]) -> None:
    a = _rows(graded[0], "alice")
    assert a["ip_forward_off"]["solved"] == "True" and a["veth_down"]["solved"] == "True"
    assert a["ip_forward_off"]["hints"] == "1" and a["ip_forward_off"]["status"] == "ok"
    assert a["What is 2+2?"]["solved"] == "True" and a["What is 2+2?"]["attempts"] == "2"
    assert a["ip_forward_off"]["seconds"] != ""


def test_half_solved_notebook(graded: tuple[list[dict], Path]) -> None:
    b = _rows(graded[0], "bob")
    assert b["ip_forward_off"]["solved"] == "True"
    assert b["veth_down"]["solved"] == "False"
    assert b["What is 2+2?"]["solved"] == "False"


def test_broken_looping_flooding_and_unreadable_are_reported(graded: tuple[list[dict], Path]) -> None:
    rows = graded[0]
    c = _rows(rows, "carol")
    assert c["ip_forward_off"]["solved"] == "True" and c["ip_forward_off"]["status"] == "error"
    assert "ZeroDivisionError" in c[""]["detail"] and c[""]["status"] == "error"
    assert "veth_down" not in c  # never reached
    d = _rows(rows, "dave")[""]
    assert d["status"] == "timeout" and d["solved"] == "False"
    e = _rows(rows, "erin")[""]
    assert e["status"] == "output"
    f = _rows(rows, "frank")[""]
    assert f["status"] == "error" and "readable" in f["detail"]


def test_a_forged_drill_record_is_replayed_and_refused(graded: tuple[list[dict], Path]) -> None:
    m = _rows(graded[0], "mallory")
    assert m["forward_accept"]["solved"] == "False"


def test_summary_figure_written(graded: tuple[list[dict], Path]) -> None:
    png = graded[1].with_suffix(".png")
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"


def test_record_hook_is_silent_without_the_environment(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NETLAB_RECORD", raising=False)
    assert record("drill", "x", solved=True) is False
    path = tmp_path / "r.jsonl"
    monkeypatch.setenv("NETLAB_RECORD", str(path))
    assert record("exercise", "q", solved=False, hints=2, answer="a" * 10000)
    path.write_text(path.read_text() + "garbage\n" + json.dumps([1]) + "\n")
    recs = read_records(path)
    assert len(recs) == 1 and recs[0]["hints"] == 2 and len(recs[0]["answer"]) < 5000


def test_grade_refuses_a_path_that_is_not_a_notebook(tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("hi")
    assert main(["grade", str(tmp_path / "x.txt"), "-o", str(tmp_path / "r.csv")]) == 1
