"""Shared test set-up.

Tests marked ``lab`` need root and network namespaces; they are skipped with the
reason when this machine cannot make them (CI runs as root, so they run there).
``FIXTURES`` is tests/data: the article's outputs (seed-2018/) and Docker's rule sets
(docker-rules/, with their provenance in its README), copied from ../shared/fixtures so a
fresh clone tests with nothing beside it.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "data"
SEED = FIXTURES / "seed-2018"
DOCKER_RULES = FIXTURES / "docker-rules"


@functools.cache
def lab_unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "needs root (CAP_NET_ADMIN) to create network namespaces; CI runs these as root"
    for tool in ("ip", "iptables-restore"):
        if shutil.which(tool) is None:
            return f"needs `{tool}` (apt-get install iproute2 iptables)"
    name = f"nltest-probe-{uuid.uuid4().hex[:6]}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"cannot create a network namespace here: {getattr(exc, 'stderr', b'')!r}"
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=10)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = None
    for item in items:
        if "/tests/lab/" in str(item.path):
            item.add_marker(pytest.mark.lab)  # everything under tests/lab needs root
        if "lab" in item.keywords:
            if reason is None:
                reason = lab_unavailable_reason() or ""
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_configure(config: pytest.Config) -> None:
    # tests/lab/ is all lab tests: mark them so they skip together
    config.addinivalue_line("markers", "lab: needs root and network namespaces")


@pytest.fixture
def seed_dir() -> Path:
    assert SEED.is_dir(), f"the article's outputs belong in {SEED}"
    return SEED


@pytest.fixture
def unique_prefix() -> str:
    """A namespace-name prefix no other test uses."""
    return f"nlt{uuid.uuid4().hex[:5]}"
