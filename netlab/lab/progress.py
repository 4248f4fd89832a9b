"""A progress bar for ``netlab lab up`` on standard error, for builds that take a while.

Nothing appears during the first second (a small lab is up before anyone would read
it).  On a terminal the bar is then redrawn in place, at most ten times a second, and
ends with one line saying how long the build took; when standard error is not a
terminal (a log, CI) only that final line is written, and only for a build that took
more than a second.  Every write is bounded: one short line, a fixed number of times
per second.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

DELAY = 1.0  # seconds before anything is shown
INTERVAL = 0.1  # at most this often a redraw
WIDTH = 30  # characters of bar


class Progress:
    """``update(done, total, stage)`` as the build goes; ``finish()`` at the end.

    ``stream`` defaults to standard error; ``tty`` to whether it is a terminal;
    ``clock`` is ``time.monotonic`` (a test passes its own)."""

    def __init__(self, what: str = "lab up", *, stream: TextIO | None = None, tty: bool | None = None,
                 clock: object = None) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            isatty = getattr(self.stream, "isatty", None)
            tty = bool(isatty and isatty())
        self.tty = tty
        self.clock = clock if callable(clock) else time.monotonic
        self.start = self.clock()
        self.last_draw: float | None = None
        self.drawn = False
        self.done = 0
        self.total = 0
        self.stage = ""
        self.writes = 0
        self._lock = threading.Lock()  # the in-process namespace thread reports too

    def update(self, done: int, total: int, stage: str = "") -> None:
        """``done`` of ``total`` units of work finished, now in ``stage``."""
        with self._lock:
            self.done, self.total, self.stage = max(self.done, done), max(total, 1), stage
            if not self.tty:
                return
            now = self.clock()
            if now - self.start < DELAY:
                return
            if self.last_draw is not None and now - self.last_draw < INTERVAL and done < total:
                return
            self.last_draw = now
            self._write("\r" + self.line(now) + "\033[K")
            self.drawn = True

    def line(self, now: float) -> str:
        """The bar as it reads at time ``now``."""
        frac = min(self.done / self.total, 1.0) if self.total else 0.0
        full = int(frac * WIDTH)
        bar = "#" * full + "." * (WIDTH - full)
        stage = f" {self.stage}"[:40] if self.stage else ""
        return f"{self.what} [{bar}] {frac * 100:3.0f}%{stage} ({now - self.start:.1f} s)"

    def finish(self, summary: str) -> None:
        """The build is over: end the bar with ``summary`` (and the time it took), if the
        build was long enough to show anything."""
        with self._lock:
            took = self.clock() - self.start
            if took < DELAY and not self.drawn:
                return
            text = f"{self.what}: {summary} in {took:.1f} s"
            self._write(("\r" + text + "\033[K\n") if self.drawn else text + "\n")

    def _write(self, text: str) -> None:
        self.writes += 1
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken stderr never stops a build
            pass
