"""Numbers in pastes: ASCII decimal only, bounded, never an exception (see netlab.numbers)."""

from __future__ import annotations

from netlab.numbers import to_int

__all__ = ["to_int"]
