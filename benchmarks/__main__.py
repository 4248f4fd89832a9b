"""Run every benchmark (``python -m benchmarks``) or some (``python -m benchmarks parse sim``).

Each ``benchmarks/bench_<area>.py`` has ``main()``, which measures its goals in
this process, next to a baseline measured in the same run, and prints one line
per figure: the measurement, the goal, the baseline and the ratio.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    here = Path(__file__).parent
    names = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if n.removeprefix("bench_") in argv or n in argv]
    failed = 0
    for name in names:
        print(f"== {name}", flush=True)
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception:  # report and go on with the next benchmark
            traceback.print_exc()
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
