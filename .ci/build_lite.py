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
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"


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
        subprocess.run([sys.executable, "-m", "jupyterlite_core", "build", "--contents",
                        str(contents), "--piplite-wheels", str(wheel), "--output-dir", str(out)],
                       cwd=tmp, check=True, capture_output=True, text=True)
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
