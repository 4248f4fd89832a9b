"""Numbers in pastes: ASCII decimal only, bounded, never an exception."""

from __future__ import annotations

import re

_NUM = re.compile(r"^-?[0-9]{1,18}$")


def to_int(value: str | None) -> int | None:
    """``value`` as an int, or None when it is not a plain decimal number."""
    if value is None or not _NUM.match(value):
        return None
    return int(value)
