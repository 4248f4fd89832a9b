"""An exercise cell that checks itself by running netlab, not by comparing strings.

``Check(question, answer_fn, hints=[...], options=None, form=None)`` shows the
question, a dropdown (``options``, starting on "— choose —") or a text field, and a
*Check* button.  ``answer_fn`` receives the learner's answer (spaces collapsed) and
decides with netlab (trace a packet, look up a route, run a probe): it returns
``True``/``False`` or ``(ok, message)``.  A wrong answer's message points at the
evidence, never at the answer; each wrong answer reveals the next hint (the last
hint may give the answer away).

The ``read_*`` helpers read an answer the way a learner types it (case, ``/16``,
``@if5``, ``host:``, ``iptables -I ...`` or ``-A``, spaces) and raise
:class:`Unreadable` when they cannot: the learner is told which form is expected,
and no attempt or hint is used up.  Any other error inside ``answer_fn`` is shown as
"netlab could not check that answer", never as a raw exception text.
Tests and headless runs drive a check with ``check.value = ...; check.click()`` or
``check.submit(...)``.
"""

from __future__ import annotations

import html
import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any

from netlab.numbers import is_decimal

CHOOSE = "— choose —"


class Unreadable(ValueError):  # noqa: N818 - reads as what it is: an unreadable answer
    """An answer netlab cannot read; the message says which form is expected."""


def _verdict(result: Any) -> tuple[bool, str]:
    """``answer_fn``'s result as (right?, message): a bool, ``(ok, message)``, or
    ``(ok,)``; anything else counts by its truth."""
    if isinstance(result, tuple | list) and result:
        ok = bool(result[0])
        message = " ".join(str(m) for m in result[1:] if m is not None)
        return ok, message
    return bool(result), ""


def tidy(answer: Any) -> Any:
    """A typed answer with surrounding quotes/backticks removed and runs of spaces
    collapsed (other values unchanged)."""
    if not isinstance(answer, str):
        return answer
    text = answer.replace("\u00a0", " ").strip().strip("`'\"").strip()
    return re.sub(r"\s+", " ", text)


_IFNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,14}$")


def read_interface(answer: Any) -> str:
    """An interface name as ``ip`` prints it: ``host:docker0``, ``dev eth0``,
    ``vethca38e86@if5``, ``Docker0`` all read as the bare lower-case name."""
    text = tidy(str(answer)).lower()
    text = re.sub(r"^(dev|interface|iface|-i|-o)\s+", "", text)
    if ":" in text:  # node:iface, as the journey writes it
        text = text.rsplit(":", 1)[1].strip()
    text = re.sub(r"@(if)?\d+$", "", text)
    if not _IFNAME.match(text):
        raise Unreadable("an interface name such as docker0 or eth0 "
                         "(optionally node:interface, e.g. host:docker0)")
    return text


def read_address(answer: Any) -> str:
    """An IPv4 address: ``172.17.0.1``, ``172.17.0.1/16``, ``inet 172.17.0.1``."""
    text = tidy(str(answer)).lower()
    text = re.sub(r"^(inet|ip|address|addr|via|src)\s+", "", text)
    text = text.split("/", 1)[0].strip()
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise Unreadable("an IPv4 address in dotted form, e.g. 192.0.2.1 "
                         "(a /prefix after it is fine)") from None


def read_endpoint(answer: Any) -> tuple[str, int]:
    """``address:port`` as a learner writes it: ``192.0.2.1:80``, ``192.0.2.1 port 80``
    or tcpdump's ``192.0.2.1.80``."""
    text = tidy(str(answer)).lower()
    m = (re.match(r"^([\d.]+?)(?:\s*:\s*|\s+port\s+|\s+)(\d+)$", text)
         or re.match(r"^(\d+\.\d+\.\d+\.\d+)\.(\d+)$", text))
    if not m:
        raise Unreadable("address:port, e.g. 192.0.2.1:80")
    address = read_address(m.group(1))
    port = int(m.group(2))
    if not 0 < port < 65536:
        raise Unreadable("address:port with a port from 1 to 65535, e.g. 192.0.2.1:80")
    return address, port


def read_int(answer: Any, what: str = "a whole number, e.g. 5") -> int:
    """A whole number (``5``, ``if5``, ``#5``, ``ttl=63``, ``packet 12``)."""
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer
    text = tidy(str(answer)).lower()
    m = re.match(r"^(?:[a-z_ ]*?[=: ]?\s*#?|if|@if)?(\d+)$", text)
    if not m:
        raise Unreadable(what)
    return int(m.group(1))


_TABLES = ("raw", "mangle", "nat", "filter", "security")


def read_rule_position(answer: Any) -> str:
    """A rule's place as ``table:CHAIN:index`` (``nat:DOCKER:2``); also ``nat DOCKER 2``,
    ``-t nat DOCKER 2``, ``NAT:docker:2``.  Chain names are upper-cased when the
    learner typed them all in lower case (Docker's and the kernel's chains are upper case)."""
    text = tidy(str(answer))
    text = re.sub(r"^-t\s+", "", text)
    parts = [p for p in re.split(r"[:\s]+", text) if p]
    form = "table:CHAIN:index, e.g. filter:FORWARD:3 (count the chain's rules from 1)"
    if len(parts) != 3 or parts[0].lower() not in _TABLES:
        raise Unreadable(form)
    table, chain, index = parts[0].lower(), parts[1], parts[2]
    if chain.islower():
        chain = chain.upper()
    if index.lower() == "policy":
        return f"{table}:{chain}:policy"
    if not is_decimal(index) or int(index) < 1:
        raise Unreadable(form)
    return f"{table}:{chain}:{int(index)}"


def read_rule(answer: Any, chain: str, table: str = "filter") -> tuple[str, str]:
    """An iptables rule for ``chain`` as ``(chain, "-A CHAIN spec")``.

    Reads what a learner types: the bare spec (``-d 172.17.0.2 -j DROP``), or a whole
    command — ``sudo iptables -t filter -I DOCKER-USER 1 ...`` or ``-A DOCKER-USER ...``
    (``-I`` and ``-A`` both mean "this rule, in that chain"; the grader places it).
    The chain returned is the one the learner named (``chain`` when none)."""
    text = tidy(str(answer))
    words = text.split(" ")
    while words and words[0] in ("sudo", "iptables", "iptables-legacy", "iptables-nft", "$", "#"):
        words = words[1:]
    named = chain
    typed_table = None
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-t", "--table") and i + 1 < len(words):
            typed_table = words[i + 1]
            i += 2
            continue
        if w in ("-A", "-I", "--append", "--insert") and i + 1 < len(words):
            named = words[i + 1]
            i += 2
            if w in ("-I", "--insert") and i < len(words) and is_decimal(words[i]):
                i += 1  # the insert position: the grader decides where the rule goes
            continue
        out.append(w)
        i += 1
    if typed_table is not None and typed_table != table:
        raise Unreadable(f"a rule for the {table} table's {chain} chain (not -t {typed_table})")
    if not out or "-j" not in out and "--jump" not in out:
        raise Unreadable(f"an iptables rule with a target, e.g. "
                         f"-A {chain} -s 192.0.2.1 -p tcp --dport 22 -j DROP")
    return named, f"-A {named} " + " ".join(out)


def read_choice(answer: Any, choices: Sequence[str]) -> str:
    """One of ``choices``, whatever the case and spacing (``Yes``, ``NO``)."""
    text = tidy(str(answer)).lower()
    for c in choices:
        if text == c.lower():
            return c
    raise Unreadable("one of: " + ", ".join(choices))


class Check:
    """A self-checking exercise (every lesson ends with a few)."""

    def __init__(self, question: str, answer_fn: Callable[[Any], Any],
                 hints: Sequence[str] = (), options: Sequence[Any] | None = None,
                 placeholder: str | None = None, *,
                 choices: Sequence[Any] | None = None, form: str | None = None) -> None:
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
        self.form = form  # the form an answer takes, said when one cannot be read
        self.attempts = 0
        self.hints_shown = 0
        self.correct: bool | None = None
        self.message = ""
        self.error: str | None = None
        self.question_html = w.HTML(f"<b>{html.escape(question)}</b>")
        if self.options is not None:
            self.answer = w.Dropdown(options=[(CHOOSE, None), *[
                (str(o), o) for o in self.options]], value=None,
                layout=w.Layout(width="auto"))
        else:
            # synced when the box loses focus (clicking Check does that), in one message: a
            # key-by-key sync can still be queued in the browser when the click arrives, and
            # the kernel would read half the answer ("i" of "if5")
            self.answer = w.Text(placeholder=placeholder or form or "your answer",
                                 continuous_update=False,
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
        """Run ``answer_fn`` on the current answer and show the result (and a hint if
        wrong).  An answer that cannot be read uses up neither an attempt nor a hint."""
        value = tidy(self.answer.value)
        if value in (None, ""):
            self.correct = None
            self.message = "Type or choose an answer first."
            self._show("#7d6608", "", self.message)
            return False
        self.error = None
        try:
            ok, message = _verdict(self.answer_fn(value))
        except Unreadable as exc:
            self.correct = None
            self.error = f"Unreadable: {exc}"
            self.message = f"netlab cannot read {value!r} as an answer: expected {exc}."
            self._show("#7d6608", "?", self.message)
            return False
        except Exception as exc:  # noqa: BLE001 - a bad answer must not break the lesson
            self.correct = None
            self.error = f"{type(exc).__name__}: {exc}"
            self.message = (f"netlab could not check {value!r}"
                            + (f": expected {self.form}." if self.form else
                               "; write it the way the question shows."))
            self._show("#7d6608", "?", self.message)
            return False
        self.attempts += 1
        self.correct = bool(ok)
        self.message = message or ("Right." if ok else "Not quite.")
        self._show("#1e8449" if ok else "#c0392b", "✔" if ok else "✘", self.message)
        from netlab.record import record  # for `netlab grade` (no-op unless it runs us)

        record("exercise", self.question, solved=self.correct, hints=self.hints_shown,
               attempts=self.attempts, answer=str(value))
        if not ok and self.hints_shown < len(self.hints):
            self.hints_shown += 1
        self.hint_box.value = "".join(
            f"<div style='color:#555'>Hint {i + 1}: {html.escape(h)}</div>"
            for i, h in enumerate(self.hints[: self.hints_shown]))
        return self.correct

    def _show(self, color: str, mark: str, message: str) -> None:
        bold = f"<b>{mark}</b> " if mark else ""
        self.feedback.value = f"<span style='color:{color}'>{bold}{html.escape(message)}</span>"

    @property
    def shown_hints(self) -> list[str]:
        return self.hints[: self.hints_shown]

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        state = {None: "unanswered", True: "right", False: "wrong"}[self.correct]
        return f"Check({self.question!r}: {state}, {self.attempts} attempt(s))"
