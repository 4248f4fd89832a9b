"""Figures and widgets: each lesson figure drawn and rendered to PNG in under 1 s,
a JourneyStepper step in under 0.5 s.

Baseline, measured in the same run: an empty 14 × 6 inch figure rendered to PNG
the same way (what matplotlib costs before netlab draws anything).
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks._timing import best_time

GOAL_FIGURE = 1.0  # seconds, draw + PNG
GOAL_STEP = 0.5  # seconds per stepper move (draws the diagram for the new position)



def main() -> None:
    import netlab as nl
    from netlab.scenarios import Container
    from netlab.viz.figure import figure_png, new_figure
    from netlab.widgets import JourneyStepper

    base = best_time(lambda: figure_png(new_figure(14.0, 6.0)[0]))
    net = nl.connect(mode="sim", quiet=True)
    journey = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    hosts = {n: nl.docker_host("27", [Container(f"c{i}") for i in range(n)]) for n in (1, 5, 20)}
    cases: list[tuple[str, Callable[[], object], float]] = [
        *[(f"draw_topology, {n} container(s) + PNG", lambda s=s: figure_png(nl.draw_topology(s)),
           GOAL_FIGURE) for n, s in hosts.items()],
        ("draw_journey (HTTP, first packet) + PNG",
         lambda: figure_png(nl.draw_journey(journey, net)), GOAL_FIGURE),
        ("draw_hooks (HTTP, first packet) + PNG", lambda: figure_png(nl.draw_hooks(journey)),
         GOAL_FIGURE),
    ]
    stepper = JourneyStepper(journey, net)
    positions = iter(range(1, len(stepper.events)))
    cases.append(("JourneyStepper forward (new position)",
                  lambda: stepper.go(next(positions)), GOAL_STEP))
    print(f"{'figure':44} {'measured':>10} {'goal':>8} {'baseline':>10} {'ratio':>8}")
    for name, fn, goal in cases:
        took = best_time(fn)
        verdict = "ok" if took < goal else "MISSED"
        print(f"{name:44} {took:9.3f}s {goal:7.1f}s {base:9.3f}s {took / base:7.1f}x  {verdict}")


if __name__ == "__main__":
    main()
