"""Scenario building: a Docker host with 100 containers and their rules in under 0.5 s.

Baseline, measured in the same run: the same host with one container.  The
ratio per container says how the cost grows (1.0 would be "each extra
container costs as much as a whole one-container host").
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from benchmarks._timing import best_time
from netlab.scenarios import Container, docker_host, seed_host

GOAL_100 = 0.5  # seconds



def _host(n: int, version: str) -> Callable[[], object]:
    containers = [Container(f"c{i + 1}", ports=[f"{8000 + i}:80"]) for i in range(n)]
    return lambda: docker_host(version, containers)


def main() -> None:
    docker_host("27")  # import and warm up
    print(f"{'figure':44} {'measured':>10} {'goal':>8} {'baseline':>10} {'ratio':>8}")
    for version in ("27", "28.2.2", "29"):
        one = best_time(_host(1, version), repeat=5)
        hundred = best_time(_host(100, version), repeat=5)
        per_container = (hundred - one) / 99
        ok = "ok" if hundred < GOAL_100 else "MISSED"
        print(f"{'build 100-container host (' + version + ')':44} {hundred * 1e3:8.1f}ms "
              f"{GOAL_100 * 1e3:6.0f}ms {one * 1e3:8.2f}ms {hundred / one:7.1f}x  {ok}")
        print(f"{'  per extra container vs 1-container host':44} {per_container * 1e3:8.3f}ms "
              f"{'':>8} {one * 1e3:8.2f}ms {per_container / one:7.3f}x")
    tracemalloc.start()
    _host(100, "29")()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'peak memory building 100 containers (29)':44} {peak / 2**20:8.2f}MB")
    seed = best_time(seed_host, repeat=5)
    print(f"{'seed_host() (parse the article + build)':44} {seed * 1e3:8.2f}ms {'':>8} "
          f"{best_time(_host(1, '27'), repeat=5) * 1e3:8.2f}ms {seed / best_time(_host(1, '27'), repeat=5):7.1f}x")


if __name__ == "__main__":
    main()
