"""A lab built in pieces reports its progress and works; ``netlab lab up`` in a log
prints no bar."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from netlab.lab import Lab, build
from netlab.scenarios import catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_a_lab_built_in_pieces_reports_and_works(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(build, "CHUNK", 8)  # 41 namespaces and 40 links: 6 pieces each
    seen: list[tuple[int, int, str]] = []
    lab = Lab(catalogue.many_containers(40), capture_promisc=False)
    try:
        lab.up(progress=lambda done, total, stage: seen.append((done, total, stage)))
        assert lab.probe("ping", src="c1", dst="c40").ok
        assert lab.probe("http", src="client", dst="192.168.56.38", dport=8039).ok
    finally:
        lab.down()
    assert not [n for n in build.list_netns() if n.startswith(lab.prefix)]
    done = [d for d, _, _ in seen]
    total = seen[-1][1]
    assert done == sorted(done) and done[-1] == total and all(t == total for _, t, _ in seen)
    stages = [s for _, _, s in seen]
    assert stages.count("namespaces") >= 6 and stages.count("links") >= 5  # piece by piece
    assert total >= 41 + 40


def test_cli_quick_build_in_a_log_prints_no_bar() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    up = subprocess.run([sys.executable, "-m", "netlab", "lab", "up", "--scenario", "two-containers"],
                        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert up.returncode == 0, up.stderr
    prefix = up.stdout.split()[1]
    try:
        # not a terminal: no bar, at most the final line — and that only for a build over 1 s
        assert "\r" not in up.stderr and "#" not in up.stderr
        for line in up.stderr.splitlines():
            m = re.fullmatch(r"lab up: \d+ namespaces up in (\d+\.\d) s", line)
            assert m and float(m.group(1)) >= 1.0, up.stderr
    finally:
        down = subprocess.run([sys.executable, "-m", "netlab", "lab", "down", "--prefix", prefix],
                              capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert down.returncode == 0, down.stderr
