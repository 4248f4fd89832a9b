"""The progress bar of ``netlab lab up``: silent for a quick build, bounded redraws on a
terminal, one final line in a log; and the long ``ip -batch`` pieces it counts."""

from __future__ import annotations

import io

from netlab.lab import build
from netlab.lab.plan import Command
from netlab.lab.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_quick_build_shows_nothing() -> None:
    out, clock = io.StringIO(), Clock()
    bar = Progress(stream=out, tty=True, clock=clock)
    for k in range(1, 101):
        clock.t += 0.009
        bar.update(k, 100, "links")
    bar.finish("3 namespaces up")
    assert out.getvalue() == ""


def test_a_long_build_on_a_terminal_redraws_at_most_ten_times_a_second() -> None:
    out, clock = io.StringIO(), Clock()
    bar = Progress(stream=out, tty=True, clock=clock)
    for k in range(1, 5001):  # 5,000 updates over 5 s
        clock.t += 0.001
        bar.update(k, 5000, "namespaces" if k < 2500 else "links")
    bar.finish("1001 namespaces up")
    text = out.getvalue()
    assert bar.writes <= 4 * 10 + 3  # shown after 1 s, then at most every 0.1 s, plus the end
    assert bar.writes >= 10
    frames = text.split("\r")[1:]
    assert all(len(f) < 120 for f in frames)
    assert "[" + "#" * 30 + "] 100%" in frames[-2] and "links" in frames[-2]
    assert frames[-1].startswith("lab up: 1001 namespaces up in 5.0 s") and text.endswith("\n")
    shown = [int(f.split("]")[1].split("%")[0]) for f in frames[:-1]]
    assert shown == sorted(shown) and shown[0] >= 18  # nothing before the first second


def test_not_a_terminal_only_the_final_line() -> None:
    out, clock = io.StringIO(), Clock()
    bar = Progress(stream=out, tty=False, clock=clock)
    for k in range(1, 2001):
        clock.t += 0.001
        bar.update(k, 2000, "links")
    bar.finish("1001 namespaces up")
    assert out.getvalue() == "lab up: 1001 namespaces up in 2.0 s\n"


def test_a_broken_stderr_never_stops_the_build() -> None:
    out, clock = io.StringIO(), Clock()
    out.close()
    bar = Progress(stream=out, tty=True, clock=clock)
    clock.t += 2
    bar.update(1, 2, "links")
    bar.finish("done")  # no exception


def test_long_batches_run_in_ordered_pieces() -> None:
    lines = [f"netns add nl0a0b0c-c{i}\n" for i in range(build.CHUNK * 2 + 7)]
    cmd = Command(["ip", "-batch", "-"], "".join(lines), what="namespaces")
    parts = build.chunks(cmd)
    assert [p.stdin.count("\n") for p in parts] == [build.CHUNK, build.CHUNK, 7]
    assert "".join(p.stdin for p in parts) == cmd.stdin
    assert all(p.argv == cmd.argv and p.what == cmd.what for p in parts)
    short = Command(["ip", "-batch", "-"], "".join(lines[:10]))
    assert build.chunks(short) == [short]
    continued = Command(["ip", "-batch", "-"], "".join(lines[:-1]) + "link add \\\nname x\n")
    assert build.chunks(continued) == [continued]
    inproc = Command(["ip", "-n", "nl0a0b0c-c1", "-batch", "-"], "".join(lines), inprocess=True)
    assert build.chunks(inproc) == [inproc]
