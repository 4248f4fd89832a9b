"""Fail if a committed notebook carries outputs or execution counts."""

import json
import sys
from pathlib import Path

bad = []
for path in sorted(Path(__file__).resolve().parents[1].glob("notebooks/**/*.ipynb")):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and (cell.get("outputs") or cell.get("execution_count")):
            bad.append(str(path))
            break
if bad:
    print("notebooks committed with outputs (clear them):", *bad, sep="\n  ")
    sys.exit(1)
print(f"notebooks clean")
