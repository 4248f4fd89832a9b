"""The sim core without a server: netlab's wheel in Pyodide (Node, the `pyodide` npm package,
no micropip, no network) runs a sim probe, an iptables parse and trace, a host parse and a
pcapng write, with the same answers as CPython (tests/pyodide/smoke.py runs in both)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "tests" / "pyodide"
DATA = ROOT / "tests" / "data" / "seed-2018"
PYODIDE_VERSION = "314.0.8"  # Python 3.14.2; the npm package has no numpy (its CDN does)
CACHE = Path(os.environ.get("NETLAB_PYODIDE_CACHE",
                            Path.home() / ".cache" / "netlab" / f"pyodide-{PYODIDE_VERSION}"))
# what may differ: timings, the modules CPython had loaded, and the Capture object (numpy)
PLATFORM_KEYS = {"times", "heavy_modules", "capture"}

pytestmark = pytest.mark.slow


def _pyodide_dir() -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("needs Node.js and npm (sudo apt-get install nodejs npm)")
    folder = CACHE / "node_modules" / "pyodide"
    if not (folder / "pyodide.mjs").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                              "--silent", f"pyodide@{PYODIDE_VERSION}"],
                             capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            if any(w in out.stderr for w in ("ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN", "ECONNREFUSED")):
                pytest.skip(f"the npm registry cannot be reached: {out.stderr[-300:]}")
            raise AssertionError(f"npm install pyodide@{PYODIDE_VERSION} failed: {out.stderr[-2000:]}")
    return folder


def _answer(stdout: str, where: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith("NETLAB-SMOKE "):
            return json.loads(line.removeprefix("NETLAB-SMOKE "))
    raise AssertionError(f"{where} printed no answer:\n{stdout[-3000:]}")


def test_sim_core_runs_in_pyodide_as_in_cpython(tmp_path) -> None:
    pyodide = _pyodide_dir()
    subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d",
                    str(tmp_path)], cwd=ROOT, check=True, capture_output=True, timeout=120)
    (wheel,) = tmp_path.glob("netlab_docker-*.whl")
    node = subprocess.run(["node", str(HERE / "run.mjs"), str(pyodide), str(wheel),
                           str(HERE / "smoke.py"), str(DATA)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert node.returncode == 0, (node.stdout[-2000:] + node.stderr[-4000:])
    in_pyodide = _answer(node.stdout, "Pyodide")
    (tmp_path / "cpython").mkdir()
    cpython = subprocess.run([sys.executable, str(HERE / "smoke.py"), str(DATA),
                              str(tmp_path / "cpython")], capture_output=True, text=True,
                             timeout=300, cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert cpython.returncode == 0, cpython.stderr[-3000:]
    in_cpython = _answer(cpython.stdout, "CPython")

    assert in_pyodide["mode"] == "sim" and in_pyodide["outcome"] == "answered"
    assert in_pyodide["rules"] and in_pyodide["pcapng_blocks"]["EPB"] == in_pyodide["records"] > 0
    same = {k: v for k, v in in_pyodide.items() if k not in PLATFORM_KEYS}
    assert same == {k: v for k, v in in_cpython.items() if k not in PLATFORM_KEYS}
    # the base install's heavy parts are not needed for any of this
    assert in_pyodide["heavy_modules"] == []
    assert in_pyodide["capture"] in (in_cpython["capture"], "ModuleNotFoundError: "
                                     "No module named 'numpy'")
    timings = json.loads(next(line for line in node.stdout.splitlines()
                              if line.startswith("NODE-TIMES ")).removeprefix("NODE-TIMES "))
    print("pyodide", timings, "inside:", in_pyodide["times"], "cpython:", in_cpython["times"])
