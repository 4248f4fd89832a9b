"""Whole numbers and ports as netlab reads them: ASCII decimal only, bounded.

``"²".isdigit()`` is true and ``int("٣")`` is 3, so ``str.isdigit``/``int`` let
through text no iptables, ip or kernel accepts.  Every parser in netlab reads
numbers through here, and gets None (never an exception) for anything else.
"""

from __future__ import annotations

import re

_DECIMAL = re.compile(r"-?[0-9]{1,18}")


def to_int(text: str | None) -> int | None:
    """``text`` as an int when it is a plain ASCII decimal number (an optional ``-``,
    at most 18 digits), else None."""
    if text is None or not isinstance(text, str) or not _DECIMAL.fullmatch(text):
        return None
    return int(text)


def whole_number(value: object) -> int | None:
    """An int argument, or its decimal text (surrounding spaces allowed); None otherwise
    (``True``, ``2.5``, ``"²"``, ``"0x10"``)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return to_int(value.strip())
    return None


def port(value: object, *, zero: bool = False) -> int | None:
    """A port number 1–65535 (0 too when ``zero``) from an int or decimal text, else None."""
    n = whole_number(value)
    if n is None or not (0 if zero else 1) <= n <= 65535:
        return None
    return n


def is_decimal(text: str) -> bool:
    """``text`` is ASCII digits only (what ``str.isdigit`` should mean when reading commands)."""
    return text.isascii() and text.isdigit()


def starts_numeric(word: str) -> bool:
    """``word`` is meant as a number (a digit of any script first, or a sign and one): the
    words a parser should refuse as a bad number rather than read as something else."""
    return word[:1].isdigit() or word[:1] in "-+" and word[1:2].isdigit()


def c_number(text: str) -> int | None:
    """``text`` read as C's strtoul with base 0 (``0x1f`` hex, ``010`` octal), ASCII only, or None."""
    if not text.isascii():
        return None
    try:
        if text[:2] in ("0x", "0X"):
            return int(text[2:], 16) if text[2:] and text[2:].isalnum() else None
        if text[:1] == "0" and len(text) > 1:
            return int(text[1:], 8) if text[1:].isdigit() else None
        return int(text) if text.isdigit() else None
    except ValueError:
        return None
