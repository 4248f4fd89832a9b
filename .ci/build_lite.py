#!/usr/bin/env python3
"""Build the course as a JupyterLite site (the lessons in a Pyodide kernel in the browser).

    python .ci/build_lite.py [OUT] [--pyodide DIR]   # default OUT: build/lite

The lessons go in as contents and netlab's wheel in piplite's index (a lesson installs it with
``%pip install netlab-docker``). Pyodide itself, and the packages the kernel and the lessons
load (micropip, numpy, pandas, matplotlib), come from Pyodide's CDN when the page runs;
``--pyodide DIR`` (an unpacked ``pyodide`` npm package of the version the kernel expects)
serves the core from the site instead. Offline the kernel still stops at micropip, which only
the CDN has (see docs/packaging.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The Pyodide kernel is NOT installed into the environment: its JupyterLab extension would load
# into the course's own JupyterLab too (and fail there: "Shared module @jupyterlite/services
# doesn't exist"). Its wheel is fetched once into a cache, imported from there for the build
# (piplite) and handed to the build as a federated extension.
KERNEL = "jupyterlite-pyodide-kernel"
CACHE = Path(os.environ.get("NETLAB_LITE_CACHE", Path.home() / ".cache" / "netlab" / "lite"))


def kernel_wheel() -> tuple[Path, Path]:
    """(the kernel's wheel, a folder it is unpacked in) for jupyterlite-core's version."""
    from importlib.metadata import version

    pin = version("jupyterlite-core")  # the two are released together, same numbers
    folder = CACHE / f"pyodide-kernel-{pin}"
    wheels = sorted(folder.glob("jupyterlite_pyodide_kernel-*.whl"))
    if not wheels:
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d",
                        str(folder), f"{KERNEL}=={pin}"], check=True)
        wheels = sorted(folder.glob("jupyterlite_pyodide_kernel-*.whl"))
    unpacked = folder / "site"
    if not unpacked.exists():
        with zipfile.ZipFile(wheels[-1]) as z:
            z.extractall(unpacked)
    return wheels[-1], unpacked


def build(out: Path, pyodide: Path | None = None) -> Path:
    """Build into ``out``; returns it."""
    with tempfile.TemporaryDirectory(prefix="netlab-lite-") as tmp:
        subprocess.run([sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", tmp],
                       cwd=ROOT, check=True, capture_output=True)
        (wheel,) = Path(tmp).glob("netlab_docker-*.whl")
        contents = Path(tmp) / "contents"
        shutil.copytree(ROOT / "notebooks", contents,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        if out.exists():
            shutil.rmtree(out)
        kernel, unpacked = kernel_wheel()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(unpacked), os.environ.get("PYTHONPATH", "")) if p)}
        subprocess.run([sys.executable, "-m", "jupyterlite_core", "build", "--contents",
                        str(contents), "--piplite-wheels", str(wheel), "--output-dir", str(out),
                        f"--LiteBuildConfig.federated_extensions={kernel}"],
                       cwd=tmp, check=True, capture_output=True, text=True, env=env)
    if pyodide is not None:
        shutil.copytree(pyodide, out / "static" / "pyodide")
        config = out / "jupyter-lite.json"
        data = json.loads(config.read_text())
        data["jupyter-config-data"].setdefault("litePluginSettings", {})[KERNEL_PLUGIN] = {
            "pyodideUrl": "./static/pyodide/pyodide.mjs"}
        config.write_text(json.dumps(data, indent=2))
    return out


if __name__ == "__main__":
    args = sys.argv[1:]
    local = None
    if "--pyodide" in args:
        i = args.index("--pyodide")
        local = Path(args[i + 1]).resolve()
        del args[i:i + 2]
    target = Path(args[0]) if args else ROOT / "build" / "lite"
    print(build(target.resolve(), local) / "index.html")
