#!/usr/bin/env python3
"""Binder's lock: what repo2docker's base image already has, and binder/requirements.txt.

mybinder.org (repo2docker) starts from a conda environment of its own (for Python 3.11:
repo2docker/buildpacks/conda/environment.py-3.11-linux-64.lock, notebook 7.4.7 and
jupyterlab 4.4.9 in it), then runs ``pip install -r binder/requirements.txt`` in that same
environment.  A lock that moves one of the base packages (jupyterlab 4.6 under notebook 7.4)
breaks ``pip check`` and the notebook extension, so the lock is compiled *with the base pins
as constraints*:

    python .ci/binder_lock.py base /path/to/repo2docker   # binder/repo2docker-base.txt
    python .ci/binder_lock.py lock                        # binder/requirements.txt (uv)
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "binder" / "repo2docker-base.txt"
LOCK = ROOT / "binder" / "requirements.txt"
PYTHON = "3.11"  # binder/runtime.txt
CONDA_LOCK = f"repo2docker/buildpacks/conda/environment.py-{PYTHON}-linux-64.lock"
# conda-forge names that are not the PyPI name; None: no PyPI package (a conda metapackage,
# or the installer tools pip leaves alone)
CONDA_TO_PYPI: dict[str, str | None] = {
    "brotli-python": "brotli",
    "jupyterhub-base": "jupyterhub",
    "nbconvert-core": "nbconvert",
    "python-fastjsonschema": "fastjsonschema",
    "pip": None,
    "wheel": None,
}
UV_ARGS = ["--python-version", PYTHON, "--python-platform", "x86_64-unknown-linux-gnu",
           "--no-header", "--quiet"]


def base_pins(conda_lock: str) -> dict[str, str]:
    """PyPI name -> version of every Python package in one of repo2docker's conda locks."""
    pins = {}
    for url in re.findall(r"^https://\S+/(?:noarch|linux-64)/(\S+?)\.(?:conda|tar\.bz2)#",
                          conda_lock, re.M):
        name, version, build = url.rsplit("-", 2)
        if not (build.startswith("py") or "py3" in build):
            continue  # a C library, nodejs, python itself or a metapackage
        pypi = CONDA_TO_PYPI.get(name, name)
        if pypi:
            pins[pypi.replace("_", "-").lower()] = version
    return pins


def write_base(repo2docker: Path) -> None:
    commit = subprocess.run(["git", "-C", str(repo2docker), "rev-parse", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    text = subprocess.run(["git", "-C", str(repo2docker), "show", f"HEAD:{CONDA_LOCK}"],
                          capture_output=True, text=True, check=True).stdout
    pins = base_pins(text)
    lines = [f"# repo2docker's base environment (Python packages only), from {CONDA_LOCK}",
             f"# at jupyterhub/repo2docker {commit}; made by .ci/binder_lock.py base",
             *(f"{n}=={v}" for n, v in sorted(pins.items()))]
    BASE.write_text("\n".join(lines) + "\n")


def compile_lock() -> str:
    """binder/requirements.txt as uv compiles it now (needs the package index)."""
    out = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "compile", str(ROOT / "pyproject.toml"),
         "--extra", "course", "--extra", "scapy", "--constraint", str(BASE), *UV_ARGS],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout
    head = ("# Exact pins for mybinder.org (repo2docker), compiled with the base image's own pins\n"
            "# (binder/repo2docker-base.txt) as constraints: python .ci/binder_lock.py lock\n")
    return head + out.rstrip("\n") + "\n-e .\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["base"] and len(argv) == 2:
        write_base(Path(argv[1]))
    elif argv == ["lock"]:
        LOCK.write_text(compile_lock())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
