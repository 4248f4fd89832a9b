"""Adversarial pastes (issue 10): a 10 MB paste of any shape is parsed or refused
in <= 2 s of CPU time and <= 200 MB of Python allocations, by every paste entry point.

Shapes: tests/_adversarial.py (long lines of dots, of prompt-like text, of words, many
-I, many -m, nested quotes, many prompts...).  Baseline: splitting the same text into
lines in the same process (``str.split("\\n")``).  CPU time of this process only (the
machine is shared); memory is tracemalloc's peak in a second run.
``NETLAB_BENCH_MB`` sets the size (default 10).
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc

GOAL_S = 2.0
GOAL_MB = 200.0


def _entry_points() -> dict:
    import netlab
    from netlab.parse import parse_iptables_text
    from netlab.parse.clean import clean_lines

    return {"parse_host": netlab.parse_host, "parse_iptables": netlab.parse_iptables,
            "parse_iptables_text": parse_iptables_text, "parse_ip_addr": netlab.parse_ip_addr,
            "parse_ip_json": netlab.parse_ip_json, "clean_lines": clean_lines}


def _run(fn, text: str) -> str:
    import netlab

    try:
        fn(text)
    except netlab.ParseError:
        return "refused"
    return "parsed"


def main() -> None:
    from tests._adversarial import SHAPES

    size = int(float(os.environ.get("NETLAB_BENCH_MB", "10")) * 1_000_000)
    entries = _entry_points()
    worst_t = worst_m = 0.0
    misses = 0
    for shape, make in SHAPES.items():
        text = make(size)
        gc.collect()
        t0 = time.process_time()
        text.split("\n")
        baseline = max(time.process_time() - t0, 1e-4)
        row = []
        for name, fn in entries.items():
            gc.collect()
            t0 = time.process_time()
            outcome = _run(fn, text)
            cpu = time.process_time() - t0
            gc.collect()
            tracemalloc.start()
            _run(fn, text)
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
            worst_t, worst_m = max(worst_t, cpu), max(worst_m, peak)
            ok = cpu <= GOAL_S and peak <= GOAL_MB
            misses += not ok
            row.append((ok, name, outcome, cpu, peak))
        bad = [r for r in row if not r[0]]
        slowest = max(row, key=lambda r: r[3])
        mark = "OK " if not bad else "MISS"
        print(f"[{mark}] {shape} ({len(text) / 1e6:.1f} MB): slowest {slowest[1]} {slowest[2]} in "
              f"{slowest[3]:.2f} s (ratio {slowest[3] / baseline:.0f}x the split baseline {baseline * 1000:.1f} ms), "
              f"peak {max(r[4] for r in row):.0f} MB", flush=True)
        for _, name, outcome, cpu, peak in bad:
            print(f"       MISS {name}: {outcome} in {cpu:.2f} s, {peak:.0f} MB", flush=True)
    print(f"[{'OK ' if not misses else 'MISS'}] adversarial pastes: worst {worst_t:.2f} s CPU (goal <= {GOAL_S} s), "
          f"worst {worst_m:.0f} MB (goal <= {GOAL_MB:.0f} MB); {misses} misses", flush=True)


if __name__ == "__main__":
    main()
