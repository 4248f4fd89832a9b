"""Pastes written for the parser tests (real iproute2/bridge/conntrack/docker formats)."""

from __future__ import annotations

from pathlib import Path

PASTES = Path(__file__).resolve().parent / "data" / "pastes"


def paste(name: str) -> str:
    return (PASTES / name).read_text(encoding="utf-8")
