"""Fail if a committed notebook carries outputs or execution counts.

Jupyter's autosaves in ``.ipynb_checkpoints/`` are not the course: they are skipped
(opening the course and then running the tests must pass)."""

import json
import sys
from pathlib import Path

bad = []
# the repository (or the folder given: tests check a copy)
root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
for path in sorted(root.glob("notebooks/**/*.ipynb")):
    if ".ipynb_checkpoints" in path.relative_to(root).parts:
        continue
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            bad.append(str(path))
            break
if bad:
    print("notebooks committed with outputs (clear them):", *bad, sep="\n  ")
    sys.exit(1)
print("notebooks clean")
