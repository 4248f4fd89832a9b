"""Host-state benchmarks (issue: foundation and host state).

- parse the seed article's four outputs into one HostState: goal < 5 ms
  (baseline: rebuilding the same HostState from its JSON snapshot)
- live snapshot of a namespace holding 100 veth pairs on a bridge: goal < 0.5 s
  (baseline: the bare `ip -j -d link show` subprocess; needs root, else skipped)
- `import netlab` in a fresh interpreter: goal < 0.5 s (baseline: `python -c pass`)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks._requires import is_root

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "data" / "seed-2018"
SEED_FILES = ("ip-addr-show.txt", "ip-route.txt", "brctl-show.txt", "iptables-save.txt")


def _median(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(what: str, value: float, goal: float, baseline: float, baseline_what: str) -> None:
    ok = "OK " if value < goal else "MISS"
    print(f"[{ok}] {what}: {value * 1000:.2f} ms (goal < {goal * 1000:.0f} ms); baseline "
          f"{baseline_what}: {baseline * 1000:.2f} ms; ratio {value / baseline:.2f}x", flush=True)


def bench_seed_parse() -> None:
    import netlab
    from netlab import HostState

    texts = [(SEED / name).read_text(encoding="utf-8") for name in SEED_FILES]
    t0 = time.perf_counter()
    state = netlab.parse_host(*texts)
    cold = time.perf_counter() - t0
    value = _median(lambda: netlab.parse_host(*texts), 200)
    snapshot_json = state.to_json()
    baseline = _median(lambda: HostState.from_json(snapshot_json), 200)
    report("parse the 4 seed outputs (parse_host, median of 200)", value, 0.005, baseline,
           "HostState.from_json of the same state")
    print(f"       first call, with lazy imports (netfilter): {cold * 1000:.1f} ms")


def _ip_batch(ns: str, lines: list[str]) -> None:
    subprocess.run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n", text=True,
                   check=True, capture_output=True, timeout=60)


def bench_live_snapshot(pairs: int = 100) -> None:
    if not is_root():
        print("[SKIP] live snapshot: needs root to build the namespace", flush=True)
        return
    import netlab

    ns = f"nlbench{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=10)
    try:
        lines = ["link add br0 type bridge", "link set br0 up", "addr add 10.99.0.1/16 dev br0"]
        for i in range(pairs):
            lines += [f"link add vb{i} type veth peer name vc{i}",
                      f"link set vb{i} master br0", f"link set vb{i} up", f"link set vc{i} up",
                      f"addr add 10.99.{1 + i // 250}.{1 + i % 250}/32 dev vc{i}"]
        _ip_batch(ns, lines)
        argv = ["ip", "-n", ns, "-j", "-d", "link", "show"]
        baseline = _median(lambda: subprocess.run(argv, capture_output=True, check=True), 10)
        state = netlab.snapshot(ns)
        assert len(state.veth_pairs()) == pairs, len(state.veth_pairs())
        value = _median(lambda: netlab.snapshot(ns), 10)
        report(f"live snapshot of a namespace with {pairs} veth pairs ({len(state.links)} links, "
               f"{len(state.route_list)} routes, {len(state.fdb)} fdb entries; median of 10)",
               value, 0.5, baseline, "`ip -j -d link show` alone")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def bench_import() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=60)
        return time.perf_counter() - t0

    value = statistics.median(run("import netlab") for _ in range(5))
    baseline = statistics.median(run("pass") for _ in range(5))
    report("`import netlab` in a fresh interpreter (median of 5)", value, 0.5, baseline,
           "`python -c pass`")
    value = statistics.median(run("import netlab; netlab.parse_host") for _ in range(3))
    print(f"       import netlab + the parsers (netlab.parse_host): {value * 1000:.0f} ms")


OPTIONAL = ("root",)  # only the live snapshot figure needs it


def main() -> None:
    bench_seed_parse()
    bench_live_snapshot()
    bench_import()


if __name__ == "__main__":
    main()
