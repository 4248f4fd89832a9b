"""A lab left up (as a lesson leaves it, for its widgets) is removed when Python exits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """
import netlab as nl
net = nl.connect(mode="lab", quiet=True)
assert net.probe("ping", src="client", dst="192.168.56.38").ok
print(net.prefix, flush=True)
"""


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=30).stdout


def test_an_unclosed_lab_is_removed_at_exit() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                          timeout=180, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    prefix = done.stdout.strip().splitlines()[-1]
    assert prefix.startswith("nl")
    assert prefix not in _namespaces()
