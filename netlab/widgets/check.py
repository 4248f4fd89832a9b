"""An exercise cell that checks itself by running netlab, not by comparing strings.

``Check(question, answer_fn, hints=[...], options=None)`` shows the question, a
dropdown (``options``) or a text field, and a *Check* button.  ``answer_fn``
receives the learner's answer and decides with netlab (trace a packet, look up
a route, run a probe): it returns ``True``/``False`` or ``(ok, message)``.
Each wrong answer reveals the next hint.  Tests and headless runs drive it with
``check.value = ...; check.click()`` or ``check.submit(...)``.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any


def _verdict(result: Any) -> tuple[bool, str]:
    """``answer_fn``'s result as (right?, message): a bool, ``(ok, message)``, or
    ``(ok,)``; anything else counts by its truth."""
    if isinstance(result, tuple | list) and result:
        ok = bool(result[0])
        message = " ".join(str(m) for m in result[1:] if m is not None)
        return ok, message
    return bool(result), ""


class Check:
    """A self-checking exercise (every lesson ends with a few)."""

    def __init__(self, question: str, answer_fn: Callable[[Any], Any],
                 hints: Sequence[str] = (), options: Sequence[Any] | None = None,
                 placeholder: str = "your answer", *,
                 choices: Sequence[Any] | None = None) -> None:
        import ipywidgets as w

        if options is None:
            options = choices  # the dropdown's answers, under either name

        if not callable(answer_fn):
            raise TypeError("Check needs answer_fn: a function that takes the answer and "
                            "returns True/False or (bool, message)")
        self.question = question
        self.answer_fn = answer_fn
        self.hints = list(hints)
        self.options = list(options) if options is not None else None
        self.attempts = 0
        self.hints_shown = 0
        self.correct: bool | None = None
        self.message = ""
        self.error: str | None = None
        self.question_html = w.HTML(f"<b>{html.escape(question)}</b>")
        if self.options is not None:
            self.answer = w.Dropdown(options=[("— choose —", None), *[
                (str(o), o) for o in self.options]], value=None,
                layout=w.Layout(width="auto"))
        else:
            self.answer = w.Text(placeholder=placeholder, continuous_update=True,
                                 layout=w.Layout(width="28em"))
        self.button = w.Button(description="Check", button_style="primary", icon="check")
        self.button.on_click(lambda _b: self.check())
        self.feedback = w.HTML("")
        self.hint_box = w.HTML("")
        self.widget = w.VBox([self.question_html, w.HBox([self.answer, self.button]),
                              self.feedback, self.hint_box])

    # ------------------------------------------------------------ driving
    @property
    def value(self) -> Any:
        return self.answer.value

    @value.setter
    def value(self, v: Any) -> None:
        self.answer.value = v

    def click(self) -> None:
        """Press *Check* (what a learner does; tests call it too)."""
        self.button.click()

    def submit(self, value: Any) -> bool:
        """Set the answer and check it; returns whether it was right."""
        self.value = value
        self.click()
        return bool(self.correct)

    # ------------------------------------------------------------ checking
    def check(self) -> bool:
        """Run ``answer_fn`` on the current answer and show the result (and a hint if wrong)."""
        value = self.answer.value
        if isinstance(value, str):
            value = value.strip()
        if value in (None, ""):
            self.correct = None
            self.message = "Type or choose an answer first."
            self.feedback.value = f"<span style='color:#7d6608'>{self.message}</span>"
            return False
        self.attempts += 1
        self.error = None
        try:
            ok, message = _verdict(self.answer_fn(value))
        except Exception as exc:  # noqa: BLE001 - a bad answer must not break the lesson
            self.error = f"{type(exc).__name__}: {exc}"
            ok, message = False, f"netlab could not use that answer ({self.error})."
        self.correct = bool(ok)
        self.message = message or ("Right." if ok else "Not quite.")
        color = "#1e8449" if ok else "#c0392b"
        mark = "✔" if ok else "✘"
        self.feedback.value = (f"<span style='color:{color}'><b>{mark}</b> "
                               f"{html.escape(self.message)}</span>")
        if not ok and self.hints_shown < len(self.hints):
            self.hints_shown += 1
        self.hint_box.value = "".join(
            f"<div style='color:#555'>Hint {i + 1}: {html.escape(h)}</div>"
            for i, h in enumerate(self.hints[: self.hints_shown]))
        return self.correct

    @property
    def shown_hints(self) -> list[str]:
        return self.hints[: self.hints_shown]

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        state = {None: "unanswered", True: "right", False: "wrong"}[self.correct]
        return f"Check({self.question!r}: {state}, {self.attempts} attempt(s))"
