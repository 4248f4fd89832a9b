"""The JupyterLite build (`python .ci/build_lite.py`): the lessons as contents, netlab's wheel in
piplite's index, and, with --pyodide, Pyodide's core served by the site itself. (Running a
kernel needs micropip and numpy from Pyodide's CDN: see docs/packaging.md.)"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".ci"))
import build_lite  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("jupyterlite_core") is None,
                                 reason="needs jupyterlite-core (pip install -e '.[test]')")]


def test_lite_site_has_the_lessons_and_the_wheel(tmp_path) -> None:
    import netlab

    fake_pyodide = tmp_path / "pyodide"
    fake_pyodide.mkdir()
    (fake_pyodide / "pyodide.mjs").write_text("// stand-in for the npm package\n")
    out = build_lite.build(tmp_path / "lite", pyodide=fake_pyodide)
    assert (out / "index.html").exists() and (out / "lab" / "index.html").exists()
    index = json.loads((out / "pypi" / "all.json").read_text())
    assert list(index["netlab-docker"]["releases"]) == [netlab.__version__]
    (wheel,) = (out / "pypi").glob("netlab_docker-*.whl")
    assert wheel.name == f"netlab_docker-{netlab.__version__}-py3-none-any.whl"
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    listed = json.loads((out / "api" / "contents" / "all.json").read_text())["content"]
    assert lessons == sorted(c["name"] for c in listed if c["name"].endswith(".ipynb"))
    data = sorted(p.relative_to(ROOT / "notebooks") for p in (ROOT / "notebooks" / "data").rglob("*")
                  if p.is_file())
    assert data and all((out / "files" / p).exists() for p in data)
    config = json.loads((out / "jupyter-lite.json").read_text())["jupyter-config-data"]
    # the Pyodide kernel came in as a federated extension (not installed in this environment)
    assert "@jupyterlite/pyodide-kernel-extension" in {e["name"] for e in
                                                      config["federated_extensions"]}
    assert (out / "extensions" / "@jupyterlite" / "pyodide-kernel-extension").is_dir()
    assert config["litePluginSettings"][build_lite.KERNEL_PLUGIN]["pyodideUrl"] == \
        "./static/pyodide/pyodide.mjs"
    assert (out / "static" / "pyodide" / "pyodide.mjs").exists()
