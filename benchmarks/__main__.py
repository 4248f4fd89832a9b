"""Run every benchmark (``python -m benchmarks``) or some (``python -m benchmarks parse sim``).

Each ``benchmarks/bench_<area>.py`` has ``main()``, which measures its goals in
this process, next to a baseline measured in the same run, and prints one line
per figure: the measurement, the goal, the baseline and the ratio.  A module may
define ``REQUIRES`` (see :mod:`benchmarks._requires`): when something in it is
missing the benchmark prints why it skipped.  ``--check`` only checks those
preconditions (and that each module imports).  No run ends in a traceback: an
exception in one benchmark is reported in one line and the others still run
(``--traceback`` prints the full trace too).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks._requires import Skip, missing


def names(argv: list[str]) -> list[str]:
    """The benchmark modules to run: all ``bench_*``, or those ``argv`` names."""
    here = Path(__file__).parent
    found = sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))
    return [n for n in found if not argv or n.removeprefix("bench_") in argv or n in argv]


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {Path(f.filename).name}:{f.lineno})"


def run_one(name: str, main: Callable[[], object] | None, *, verbose: bool = False) -> str:
    """Run one benchmark's ``main``; print and return ``"ok"``, ``"skipped"`` or ``"failed"``."""
    try:
        if main is None:
            main = importlib.import_module(f"benchmarks.{name}").main
        why = missing(*getattr(sys.modules.get(f"benchmarks.{name}"), "REQUIRES", ()))
        if why:
            raise Skip(why)
        main()
    except Skip as exc:
        print(f"skipped: {exc}", flush=True)
        return "skipped"
    except ModuleNotFoundError as exc:
        print(f"skipped: Python package {exc.name!r} not installed (pip install {exc.name})", flush=True)
        return "skipped"
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - report and go on with the next benchmark
        if verbose:
            traceback.print_exc()
        print(f"FAILED: {type(exc).__name__}: {exc}{_where(exc)}", flush=True)
        return "failed"
    return "ok"


def check(name: str) -> str:
    """Import ``name`` and say whether its preconditions hold; runs nothing."""
    try:
        mod = importlib.import_module(f"benchmarks.{name}")
    except ModuleNotFoundError as exc:
        print(f"would skip: Python package {exc.name!r} not installed", flush=True)
        return "skipped"
    except Exception as exc:  # noqa: BLE001 - a module that does not import is a failure
        print(f"FAILED to import: {type(exc).__name__}: {exc}{_where(exc)}", flush=True)
        return "failed"
    why = missing(*getattr(mod, "REQUIRES", ()))
    parts = missing(*getattr(mod, "OPTIONAL", ()))
    if why:
        print(f"would skip: {why}", flush=True)
        return "skipped"
    print("ready" + (f" (some figures skip: {parts})" if parts else ""), flush=True)
    return "ok"


def main(argv: list[str]) -> int:
    only_check = "--check" in argv
    verbose = "--traceback" in argv
    argv = [a for a in argv if a not in ("--check", "--traceback")]
    results: dict[str, str] = {}
    for name in names(argv):
        print(f"== {name}", flush=True)
        results[name] = check(name) if only_check else run_one(name, None, verbose=verbose)
    counts = {k: sum(1 for v in results.values() if v == k) for k in ("ok", "skipped", "failed")}
    print(f"== {counts['ok']} {'ready' if only_check else 'ran'}, {counts['skipped']} skipped, {counts['failed']} failed", flush=True)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
