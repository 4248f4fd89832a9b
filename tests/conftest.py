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


# the Debian/Ubuntu package each program a test runs comes in: the lab's own list
# (netlab.lab.lab.TOOLS) and the ones only tests call; .ci/run installs all of them
PACKAGES = {
    "ip": "iproute2", "bridge": "iproute2", "iptables": "iptables", "iptables-save": "iptables",
    "iptables-restore": "iptables", "iptables-legacy-save": "iptables", "sysctl": "procps",
    "conntrack": "conntrack", "ipset": "ipset", "brctl": "bridge-utils", "nft": "nftables",
    "tcpdump": "tcpdump", "tshark": "tshark", "dumpcap": "tshark", "editcap": "tshark",
    "mergecap": "tshark",
}


def missing_tools(*tools: str) -> str | None:
    """Why a test cannot run the programs ``tools`` here, naming the packages to install
    (None when every one is on PATH).  The one capability check every test reuses."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return None
    packages = " ".join(sorted({PACKAGES.get(t, t) for t in missing}))
    return (f"needs {', '.join(f'`{t}`' for t in missing)}, not on PATH: "
            f"`sudo apt-get install {packages}`")


def needs(*tools: str) -> pytest.MarkDecorator:
    """``@needs("ipset")``: skip, naming the package, when a program is not installed."""
    reason = missing_tools(*tools)
    return pytest.mark.skipif(reason is not None, reason=reason or "")


@functools.cache
def lab_unavailable_reason() -> str | None:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "needs root (CAP_NET_ADMIN) to create network namespaces; CI runs these as root"
    from netlab.lab.lab import TOOLS

    reason = missing_tools(*TOOLS)
    if reason:
        return reason
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):  # noqa: ANN201
    """A lab test whose scenario needs a program this machine lacks (``ipset`` for
    Docker 28.0.0's rules) is skipped with the lab's own reason, which names the package."""
    try:
        return (yield)
    except Exception as exc:
        from netlab.lab.lab import ToolsMissing

        if "lab" in item.keywords and isinstance(exc, ToolsMissing):
            pytest.skip(str(exc))
        raise


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
