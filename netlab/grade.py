"""``netlab grade``: run learners' notebooks headless in sim mode and report, per
learner and exercise or drill, solved or not, hints used and time.

Each notebook runs in its own process (``python -m netlab.grade --run``) in a
temporary copy of its folder, with ``NETLAB_MODE=sim``, ``NETLAB_RECORD`` pointing
at a record file (:mod:`netlab.record`), a time limit for the whole notebook and a
cap on the output it may produce.  A notebook that raises, loops or floods output
is reported as such; the run goes on.  Drill results are re-checked here by
replaying the recorded fixes (records and progress files are never trusted).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from netlab.errors import NetlabError

FIELDS = ["learner", "notebook", "kind", "item", "solved", "hints", "attempts", "seconds", "status",
          "detail"]


def find_notebooks(paths: list[str]) -> list[tuple[str, Path]]:
    """(learner, notebook) for every ``.ipynb`` under ``paths``; the learner is the
    first folder under a given folder (``class/alice/drills.ipynb`` → alice), else
    the notebook's name."""
    found: list[tuple[str, Path]] = []
    for p in map(Path, paths):
        if p.is_dir():
            for nb in sorted(p.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in nb.parts:
                    continue
                rel = nb.relative_to(p)
                found.append((rel.parts[0] if len(rel.parts) > 1 else nb.stem, nb))
        elif p.suffix == ".ipynb" and p.is_file():
            found.append((p.stem, p))
        else:
            raise NetlabError(f"{p}: not a notebook (.ipynb) or a folder of them")
    return found


def _run_one(nb: Path, timeout: float, max_output: int) -> tuple[str, str, list[dict[str, Any]], Path]:
    """Run ``nb`` in a copy of its folder; (status, detail, records, work dir)."""
    from netlab.record import read_records

    work = Path(tempfile.mkdtemp(prefix="netlab-grade-"))
    for f in nb.parent.iterdir():  # the notebook and the small files beside it (progress)
        if f.is_file() and (f == nb or (f.suffix == ".json" and f.stat().st_size < 1_000_000)):
            shutil.copy2(f, work / f.name)
    record = work / ".netlab-record.jsonl"
    env = {**os.environ, "NETLAB_MODE": "sim", "NETLAB_RECORD": str(record), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "netlab.grade", "--run", str(work / nb.name), str(timeout), str(max_output)]
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout + 60)
        text = out.decode(errors="replace")[-2000:].strip()
        last = text.splitlines()[-1] if text else ""
        status, _, detail = last.partition(" ")
        if status not in ("ok", "error", "timeout", "output"):
            status, detail = "error", last or f"the runner exited with code {proc.returncode}"
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        status, detail = "timeout", f"killed after {timeout + 60:.0f} s"
    return status, detail, read_records(record), work


def _verify(rec: dict[str, Any]) -> tuple[bool, str]:
    """Re-check a drill record by replaying its fixes here."""
    from netlab.drills import load, names
    from netlab.drills.progress import replay

    if rec.get("name") not in names():
        return False, "unknown drill"
    try:
        d = replay(load(rec["name"], int(rec.get("seed") or 0)), {"fixes": rec.get("fixes") or []})
        return d.check().solved, ""
    except Exception as exc:  # noqa: BLE001 - a forged record must not stop the run
        return False, f"could not replay: {exc}"


def grade(paths: list[str], out: str | os.PathLike[str] = "report.csv", *, timeout: float = 300,
          max_output: int = 2_000_000, figure: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Grade the notebooks under ``paths``; write the CSV report (and a summary PNG
    beside it, or at ``figure``) and return its rows."""
    rows: list[dict[str, Any]] = []
    for learner, nb in find_notebooks(paths):
        t0 = time.monotonic()
        status, detail, records, work = _run_one(nb, timeout, max_output)
        shutil.rmtree(work, ignore_errors=True)
        best: dict[tuple[str, str], dict[str, Any]] = {}
        for rec in records:
            kind = "drill" if rec.get("kind") == "drill" else "exercise"
            solved = bool(rec.get("solved"))
            note = ""
            if kind == "drill" and solved:
                solved, note = _verify(rec)
                note = note or "verified by replaying the fixes"
            key = (kind, rec["name"])
            prev = best.get(key)
            if prev is None or (solved and not prev["solved"]) or solved == prev["solved"]:
                best[key] = {"learner": learner, "notebook": str(nb), "kind": kind, "item": rec["name"][:120],
                             "solved": solved, "hints": rec.get("hints", 0),
                             "attempts": rec.get("attempts", 0), "seconds": rec.get("seconds"),
                             "status": status, "detail": note or detail}
        if not best or status != "ok":  # one row for the notebook itself: why it stopped
            rows.append({"learner": learner, "notebook": str(nb), "kind": "", "item": "", "solved": False,
                         "hints": 0, "attempts": 0, "seconds": round(time.monotonic() - t0, 1),
                         "status": status, "detail": detail or "no exercise or drill was checked"})
        rows.extend(best.values())
    out = Path(out)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    summary_figure(rows).savefig(figure or out.with_suffix(".png"), dpi=80, bbox_inches="tight")
    return rows


def summary_figure(rows: list[dict[str, Any]]) -> Any:
    """Bars: how many learners solved each exercise / drill."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    items: dict[str, set[str]] = {}
    solved: dict[str, set[str]] = {}
    for r in rows:
        if not r["item"]:
            continue
        label = r["item"] if len(r["item"]) <= 40 else r["item"][:39] + "…"
        items.setdefault(label, set()).add(r["learner"])
        if r["solved"]:
            solved.setdefault(label, set()).add(r["learner"])
    labels = sorted(items)
    fig, ax = plt.subplots(figsize=(8, 0.4 * max(len(labels), 2) + 1))
    ax.barh(labels, [len(items[k]) for k in labels], color="#ddd", label="tried")
    ax.barh(labels, [len(solved.get(k, ())) for k in labels], color="#1e8449", label="solved")
    ax.set_xlabel("learners")
    ax.set_title("Solved per exercise and drill")
    ax.invert_yaxis()
    ax.legend(loc="lower right")
    return fig


# ---------------------------------------------------------------- the runner
def _runner(nb_path: str, timeout: float, max_output: int) -> int:
    """Run one notebook (in the grading subprocess); print one status line last."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    deadline = time.monotonic() + timeout
    size = [0]

    class Client(NotebookClient):
        def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
            size[0] += len(json.dumps(msg.get("content", {}), default=str))
            if size[0] > max_output:
                return None  # keep nothing more: the notebook is flagged below
            return super().output(outs, msg, display_id, cell_index)

    try:
        nb = nbformat.read(nb_path, as_version=4)
    except Exception as exc:  # noqa: BLE001
        print(f"error not a readable notebook: {type(exc).__name__}: {str(exc)[:200]}")
        return 0
    client = Client(nb, timeout=int(timeout), kernel_name="python3",
                    timeout_func=lambda _cell: max(1, int(deadline - time.monotonic())),
                    resources={"metadata": {"path": str(Path(nb_path).parent)}})
    try:
        client.execute()
    except CellTimeoutError:
        print(f"timeout the notebook ran past {timeout:.0f} s")
        return 0
    except CellExecutionError as exc:
        first = str(exc).strip().splitlines()
        tail = next((ln for ln in reversed(first) if ln.strip()), "")
        print(f"error {tail[:300]}")
        return 0
    except DeadKernelError as exc:
        print(f"error the kernel died: {str(exc)[:200]}")
        return 0
    except Exception as exc:  # noqa: BLE001
        print(f"error {type(exc).__name__}: {str(exc)[:300]}")
        return 0
    if size[0] > max_output:
        print(f"output the notebook printed {size[0]} bytes (cap {max_output}); the rest was dropped")
        return 0
    print("ok ")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("grade", help="run learners' notebooks headless (sim) and report results",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", metavar="NOTEBOOK_OR_FOLDER")
    p.add_argument("-o", "--output", default="report.csv", help="the CSV report (default report.csv)")
    p.add_argument("--timeout", type=float, default=300, help="seconds per notebook (default 300)")
    p.add_argument("--max-output", type=int, default=2_000_000, help="bytes of output per notebook")
    p.add_argument("--figure", default=None, help="the summary figure (default: the report's name, .png)")
    p.set_defaults(func=_cli)


def _cli(args: Any) -> int:
    rows = grade(args.paths, args.output, timeout=args.timeout, max_output=args.max_output,
                 figure=args.figure)
    learners = {r["learner"] for r in rows}
    bad = sum(1 for r in rows if r["status"] != "ok" and not r["item"])
    print(f"graded {len(learners)} learner(s): {sum(1 for r in rows if r['solved'])} item(s) solved; "
          f"{bad} notebook(s) failed to run; report {args.output}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--run":
        sys.exit(_runner(sys.argv[2], float(sys.argv[3]), int(sys.argv[4])))
    print("usage: netlab grade NOTEBOOK_OR_FOLDER... [-o report.csv]", file=sys.stderr)
    sys.exit(2)
