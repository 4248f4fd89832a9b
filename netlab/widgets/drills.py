"""The drills notebook's app: pick a drill, read the symptom, ask for a hint, type a
fix, get graded.  Progress goes to a JSON file beside the notebook after every
action (:mod:`netlab.drills.progress`).  Headless runs drive it with
``board.choose(name)``, ``board.fix.value = ...; board.apply_button.click()``."""

from __future__ import annotations

import getpass
import html
import zlib
from typing import Any

from netlab.drills import FixError, names
from netlab.drills.progress import DEFAULT, Progress


def learner_seed() -> int:
    """A seed of the learner's own (from the login name), so neighbours' answers differ."""
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        user = "learner"
    return zlib.crc32(user.encode()) % 1000


class DrillBoard:
    """Pick a drill, read its symptom, reveal hints, apply a fix, see the verdict."""

    def __init__(self, progress: str = DEFAULT, seed: int | None = None) -> None:
        import ipywidgets as w

        self.progress = Progress(progress)
        self.seed = learner_seed() if seed is None else seed
        self.drill: Any = None
        self.verdict: Any = None
        self.picker = w.Dropdown(options=names(), description="Drill")
        self.symptom = w.HTML()
        self.hint_button = w.Button(description="Hint", icon="lightbulb-o")
        self.hints = w.HTML()
        self.fix = w.Textarea(placeholder="the command(s) you would type on the host",
                              layout=w.Layout(width="50em", height="5em"))
        self.apply_button = w.Button(description="Apply and check", button_style="primary")
        self.reset_button = w.Button(description="Reset host")
        self.feedback = w.HTML()
        self.picker.observe(lambda ch: self.choose(ch["new"]), names="value")
        self.hint_button.on_click(lambda _b: self.hint())
        self.apply_button.on_click(lambda _b: self.submit(self.fix.value))
        self.reset_button.on_click(lambda _b: self.reset())
        self.widget = w.VBox([self.picker, self.symptom, w.HBox([self.hint_button]), self.hints,
                              self.fix, w.HBox([self.apply_button, self.reset_button]), self.feedback])
        self.choose(self.picker.value)
        if self.progress.problem:
            self.feedback.value = f"<span style='color:#7d6608'>{html.escape(self.progress.problem)}</span>"

    @property
    def net(self) -> Any:
        """The current drill's host, as it is now."""
        return self.drill.net

    def choose(self, name: str) -> None:
        self.drill = self.progress.resume(name, self.seed)
        if self.picker.value != name:
            self.picker.value = name
        self.symptom.value = (f"<b>{html.escape(self.drill.title)}</b><blockquote>"
                              f"{html.escape(self.drill.symptom)}</blockquote>")
        self._show_hints()
        done = self.progress.drills.get(name, {}).get("solved")
        self.feedback.value = "solved before ✔" if done and self.drill.fixes else ""

    def hint(self) -> str | None:
        h = self.drill.hints.reveal()
        self._show_hints()
        self.progress.update(self.drill)
        return h

    def submit(self, fix: str) -> Any:
        """Apply ``fix`` and check; returns the Verdict (None when the fix was refused)."""
        try:
            done = self.drill.apply(fix)
        except FixError as exc:
            self.verdict = None
            self.feedback.value = (f"<pre style='color:#c0392b;white-space:pre-wrap'>"
                                   f"{html.escape(str(exc))}</pre>")
            return None
        self.verdict = self.drill.check()
        colour = "#1e8449" if self.verdict.solved else "#c0392b"
        self.feedback.value = (f"<div>{html.escape(done)}</div><b style='color:{colour}'>"
                               f"{html.escape(self.verdict.message)}</b>")
        self.progress.update(self.drill)
        return self.verdict

    def reset(self) -> None:
        self.drill.reset()
        self.progress.update(self.drill)
        self.feedback.value = "the host is back as it was, fault included"

    def regrade(self) -> dict[str, bool]:
        """Check every drill the progress file holds (what ``netlab grade`` records)."""
        out = {}
        for name, entry in self.progress.drills.items():
            if name in names() and isinstance(entry, dict):
                d = self.progress.resume(name, int(entry.get("seed", self.seed)))
                out[name] = d.check().solved
        return out

    def _show_hints(self) -> None:
        self.hints.value = "".join(f"<div style='color:#555'>Hint {i + 1}: {html.escape(h)}</div>"
                                   for i, h in enumerate(self.drill.hints.shown))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
