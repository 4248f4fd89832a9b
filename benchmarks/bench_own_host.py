"""Issue 14: parse, build (``from_state``) and simulate a pasted 50-container Docker host.

The pastes are what such a host prints (``ip addr``, ``ip route``, ``iptables-save``,
``sysctl``, ``docker inspect`` of 50 containers, each publishing a port), written by
:func:`netlab.scenarios.samples.render_pastes`.  "Simulate" is connecting the sim and
sending one request from the LAN client to every published port.

Baseline, in the same run: the article's host the same way — its pastes parsed
(``seed_state()``), built (``from_state``) and simulated (one request to its port) —
and ``seed_host()``.  Goal: the whole 50-container path under 5 s on one core.
"""

from __future__ import annotations

import netlab as nl
from benchmarks._timing import best_time
from netlab.parse.clean import split_by_prompts
from netlab.scenarios import Container, docker_host, from_state, seed_host
from netlab.scenarios.samples import render_pastes
from netlab.scenarios.seed import seed_state

GOAL_TOTAL = 5.0  # seconds, parse + build + simulate of 50 containers
N = 50



def pasted_host(n: int = N) -> str:
    """The pastes of an n-container Docker 28 host (each container publishes 8000+i)."""
    containers = [Container(f"app{i + 1}", ports=[f"{8000 + i}:80"]) for i in range(n)]
    return render_pastes(docker_host("28", containers), hostname="big-host")


def _simulate(scenario: nl.scenarios.Scenario, ports: list[int]) -> None:
    net = nl.connect(mode="sim", scenario=scenario, quiet=True)
    lan = "192.168.56.38"
    for port in ports:
        journey = net.probe("tcp", src="client", dst=lan, dport=port)
        if journey.outcome != "answered":
            raise RuntimeError(f"request to {lan}:{port} {journey.outcome}: the pasted host is wrong")


def main() -> None:
    text = pasted_host()
    state = nl.parse_host(text)
    scenario = from_state(state)
    ports = [p.host_port for c in scenario.containers for p in c.ports]
    assert len(ports) == N, ports
    parse = best_time(lambda: nl.parse_host(text))
    build = best_time(lambda: from_state(state))
    simulate = best_time(lambda: _simulate(scenario, ports), repeat=2)

    base_parse = best_time(seed_state)
    base_state = seed_state()
    base_build = best_time(lambda: from_state(base_state))
    base_scenario = from_state(base_state)
    base_sim = best_time(lambda: _simulate(base_scenario, [80]))
    base_seed_host = best_time(seed_host)
    total, base_total = parse + build + simulate, base_parse + base_build + base_sim
    lines = sum(len(p[1].splitlines()) for p in split_by_prompts(text))
    print(f"{'figure':48} {'measured':>10} {'goal':>8} {'baseline':>10} {'ratio':>8}")
    print(f"{f'parse {N}-container host ({lines} lines, {len(text) // 1024} KB)':48} "
          f"{parse * 1e3:8.1f}ms {'':>8} {base_parse * 1e3:8.2f}ms {parse / base_parse:7.1f}x")
    print(f"{'build (from_state)':48} {build * 1e3:8.1f}ms {'':>8} {base_build * 1e3:8.2f}ms "
          f"{build / base_build:7.1f}x")
    print(f"{f'simulate (connect + {N} requests, 1 for baseline)':48} {simulate * 1e3:8.1f}ms {'':>8} "
          f"{base_sim * 1e3:8.2f}ms {simulate / base_sim:7.1f}x")
    ok = "ok" if total < GOAL_TOTAL else "MISSED"
    print(f"{'parse + build + simulate':48} {total * 1e3:8.1f}ms {GOAL_TOTAL * 1e3:6.0f}ms "
          f"{base_total * 1e3:8.2f}ms {total / base_total:7.1f}x  {ok}")
    print(f"{'  vs seed_host() (the article, built directly)':48} {total * 1e3:8.1f}ms {'':>8} "
          f"{base_seed_host * 1e3:8.2f}ms {total / base_seed_host:7.1f}x")


if __name__ == "__main__":
    main()
