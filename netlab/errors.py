"""Errors netlab raises, each saying what went wrong and what to do about it."""

from __future__ import annotations


class NetlabError(Exception):
    """Base class for every error netlab raises on purpose."""


class ParseError(NetlabError, ValueError):
    """Pasted text could not be read.

    Names the command whose output was expected, the line number and the line,
    and, where it can tell, what was probably pasted instead.
    """

    def __init__(self, message: str, *, command: str | None = None, lineno: int | None = None,
                 line: str | None = None, hint: str | None = None) -> None:
        self.reason = message  # what was wrong, without the command/line decoration
        self.command = command
        self.lineno = lineno
        self.line = line
        self.hint = hint
        parts = []
        if command:
            parts.append(f"cannot read this as `{command}` output")
        if lineno is not None:
            # a one-line JSON paste can be megabytes: show its start (``.line`` keeps it all)
            shown = line if line is None or len(line) <= 160 else line[:150] + " …"
            parts.append(f"line {lineno}: {shown!r}")
        parts.append(message)
        if hint:
            parts.append(hint)
        super().__init__(" — ".join(parts))


class SnapshotError(NetlabError):
    """A snapshot file could not be read or a live snapshot could not be taken."""


class CaptureError(NetlabError):
    """A capture file is damaged, not a capture, or uses a link type netlab cannot read."""

    def __init__(self, message: str, *, offset: int | None = None, packet: int | None = None) -> None:
        self.offset = offset
        self.packet = packet
        super().__init__(message)


class LabError(NetlabError):
    """The lab could not be built here (no root, a missing tool, a kernel feature)."""


class FilterError(NetlabError, ValueError):
    """A display filter netlab does not understand."""


class UsageError(NetlabError, ValueError):
    """A command-line argument netlab cannot use (``netlab`` exits with code 2); the
    message says what to type instead."""
