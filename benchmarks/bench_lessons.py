"""Each lesson, run headless in simulated mode, against the 20 s goal (issue: the course).

Baseline: an empty notebook (kernel start-up and ``import netlab``) run the same way,
so the ratio shows what the lesson itself costs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

REQUIRES = ("py:nbclient", "py:nbformat", "py:ipykernel")
GOAL_S = 20.0
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _run(nb) -> float:  # noqa: ANN001
    from nbclient import NotebookClient

    start = time.perf_counter()
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    import nbformat

    os.environ["NETLAB_MODE"] = "sim"
    os.environ.setdefault("MPLBACKEND", "Agg")
    empty = nbformat.v4.new_notebook()
    empty.cells = [nbformat.v4.new_code_cell("import netlab as nl")]
    base = _run(empty)
    print(f"baseline (kernel start + import netlab): {base:.2f} s")
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        took = _run(nbformat.read(path, as_version=4))
        verdict = "ok" if took < GOAL_S else "OVER GOAL"
        print(f"{path.stem:32s} {took:6.2f} s  goal < {GOAL_S:.0f} s  "
              f"({took / base:.1f}x baseline)  {verdict}")


if __name__ == "__main__":
    main()
