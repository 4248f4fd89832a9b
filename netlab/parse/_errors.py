"""One way to fail: a :class:`~netlab.errors.ParseError` naming the command, the
line number and the line, with a hint from :mod:`netlab.parse.detect`."""

from __future__ import annotations

from netlab.errors import ParseError
from netlab.parse.clean import Cleaned


def parse_error(command: str, message: str, cleaned: Cleaned | None = None,
                lineno: int | None = None, line: str | None = None,
                hint: str | None = None) -> ParseError:
    """Build the error (the caller raises it) with a hint guessed from the paste."""
    if hint is None and cleaned is not None:
        from netlab.parse.detect import hint_for

        hint = hint_for(command, cleaned)
    return ParseError(message, command=command, lineno=lineno, line=line, hint=hint)


def empty_error(command: str, cleaned: Cleaned) -> ParseError:
    """The paste held nothing but prompts, blank or elided lines."""
    return ParseError(
        "there is no output in this paste (only blank, prompt or `...` lines)",
        command=command,
        hint=f"run `{command}` and paste what it prints",
    )
