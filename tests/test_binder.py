"""Binder: binder/requirements.txt is a full lock that installs on top of repo2docker's base
environment without moving any of its packages, and the launch links are built from
[project.urls]."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
import binder_link  # noqa: E402
import binder_lock  # noqa: E402


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-e"):
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"{path.name}: not an exact pin: {line}"
        pins[req.name.lower().replace("_", "-")] = spec.version
    return pins


def test_the_lock_is_complete_and_agrees_with_pyproject_and_the_base_image() -> None:
    lock, base = _pins(binder_lock.LOCK), _pins(binder_lock.BASE)
    assert binder_lock.LOCK.read_text().splitlines()[-1] == "-e ."
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["course"] + \
        project["optional-dependencies"]["scapy"]
    for dep in map(Requirement, wanted):
        name = dep.name.lower()
        assert name in lock, f"{name} missing from binder/requirements.txt"
        assert dep.specifier.contains(Version(lock[name])), (name, lock[name], dep.specifier)
    moved = {n: (v, base[n]) for n, v in lock.items() if n in base and base[n] != v}
    assert not moved, f"the lock moves packages of repo2docker's base image: {moved}"
    assert base["notebook"].startswith("7.4.") and lock["jupyterlab"].startswith("4.4.")
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert runtime == f"python-{binder_lock.PYTHON}"


def test_base_pins_come_from_repo2dockers_conda_lock() -> None:
    lock = ("@EXPLICIT\n"
            "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.14-hfe2f287_1_cpython.conda#ab\n"
            "https://conda.anaconda.org/conda-forge/noarch/notebook-7.4.7-pyhd8ed1ab_0.conda#cd\n"
            "https://conda.anaconda.org/conda-forge/noarch/nbconvert-core-7.16.6-pyh29332c3_0.conda#e\n"
            "https://conda.anaconda.org/conda-forge/linux-64/pyzmq-27.1.0-py311h2315fbb_0.conda#f\n"
            "https://conda.anaconda.org/conda-forge/linux-64/zeromq-4.3.5-h387f397_9.conda#a0\n"
            "https://conda.anaconda.org/conda-forge/noarch/jupyter_server-2.17.0-pyhcf101f3_0.conda#1\n"
            "https://conda.anaconda.org/conda-forge/noarch/pip-25.2-pyh8b19718_0.conda#2\n")
    assert binder_lock.base_pins(lock) == {"notebook": "7.4.7", "nbconvert": "7.16.6",
                                           "pyzmq": "27.1.0", "jupyter-server": "2.17.0"}


def _uv() -> list[str] | None:
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    return [shutil.which("uv")] if shutil.which("uv") else None


@pytest.mark.slow
def test_base_image_plus_lock_installs_and_pip_check_passes(tmp_path) -> None:
    """What repo2docker does (base env, then pip install -r binder/requirements.txt), in a
    venv with uv; then `pip check`. Needs the package index (CI has it)."""
    uv = _uv()
    if uv is None:
        pytest.skip('needs uv (in the [test] extra: pip install -e ".[test]")')
    venv = tmp_path / "binder-venv"
    env = {**os.environ, "UV_HTTP_TIMEOUT": "60"}
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([*uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   env=env, timeout=60)
    py = ["--python", str(venv / "bin" / "python")]
    try:
        subprocess.run([*uv, "pip", "install", "-q", *py, "-r", str(binder_lock.BASE)],
                       check=True, env=env, timeout=300, cwd=ROOT, capture_output=True, text=True)
        out = subprocess.run([*uv, "pip", "install", *py, "-r", str(binder_lock.LOCK)],
                             check=True, env=env, timeout=300, cwd=ROOT, capture_output=True,
                             text=True)
    except subprocess.CalledProcessError as exc:
        if "Failed to fetch" in exc.stderr or "dns error" in exc.stderr:
            pytest.skip(f"the package index cannot be reached: {exc.stderr[-300:]}")
        raise AssertionError(exc.stderr[-3000:]) from None
    changed = [line for line in out.stderr.splitlines() if line.lstrip().startswith("- ")]
    assert not changed, f"installing the lock moved base packages: {changed}"
    check = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "check"],
                           capture_output=True, text=True, timeout=120)
    if "No module named pip" in check.stderr:
        check = subprocess.run([*uv, "pip", "check", *py], capture_output=True, text=True,
                               env=env, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import netlab as nl; print(); print(nl.connect(mode='sim').mode)"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert probe.stdout.strip().endswith("sim"), probe.stderr[-2000:]


def test_readme_and_lesson_00_carry_the_binder_link() -> None:
    link = binder_link.binder_link()
    assert link.endswith("/HEAD?urlpath=lab/tree/notebooks/00_start_here.ipynb")
    repo = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    assert link.startswith("https://mybinder.org/v2/gh/" + repo.removeprefix("https://github.com/"))
    readme = (ROOT / "README.md").read_text()
    lesson = json.loads((ROOT / binder_link.START).read_text())
    text = "".join("".join(c["source"]) for c in lesson["cells"])
    for name, body in (("README.md", readme), (binder_link.START, text)):
        found = set(binder_link.LINK_RE.findall(body))
        assert found == {link}, f"{name} has {found or 'no Binder link'}; run " \
                                "python .ci/binder_link.py --write"
