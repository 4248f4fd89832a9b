#!/usr/bin/env python3
"""Build the course site: every lesson executed in sim mode, rendered by Sphinx + MyST-NB.

    python .ci/build_site.py [OUT]      # default: build/site (open build/site/index.html)

Why not Jupyter Book 2 (mystmd): its HTML themes are downloaded from GitHub when the site
builds, which this project's machines cannot reach; MyST-NB reads the same MyST markdown
and notebooks from PyPI packages alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# executed lessons are kept (jupyter-cache, keyed by each notebook's code) per version of
# netlab's own code: a rebuild runs only the lessons whose code changed, unless netlab did
CACHES = Path(os.environ.get("NETLAB_SITE_CACHE", Path.home() / ".cache" / "netlab" / "site"))


def _cache() -> Path:
    """The cache folder for this netlab source (older ones are removed)."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "netlab").rglob("*.py")) + sorted((ROOT / "notebooks" / "data")
                                                                  .rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    folder = CACHES / digest.hexdigest()[:16]
    if CACHES.is_dir():
        for old in CACHES.iterdir():
            if old != folder and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
    return folder


def build(out: Path, jobs: str = "1") -> Path:
    """Copy site/ and the lessons to a scratch source folder, build HTML into ``out``.
    One job by default: parallel readers race to create MyST-NB's jupyter-cache database
    ("table settings already exists" in a fresh CI run)."""
    with tempfile.TemporaryDirectory(prefix="netlab-site-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(ROOT / "site", src)
        # the lessons with their data/ (captures and pastes they open by relative path)
        shutil.copytree(ROOT / "notebooks", src / "notebooks",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        env = {**os.environ, "NETLAB_MODE": "sim", "NETLAB_REPO": str(ROOT),
               "NETLAB_SITE_JUPYTER_CACHE": str(_cache()),
               "MPLBACKEND": "Agg", "PYTHONPATH": os.pathsep.join(
                   p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
        if out.exists():
            shutil.rmtree(out)
        subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", jobs,
                        "-d", str(Path(tmp) / "doctrees"), str(src), str(out)],
                       check=True, env=env, cwd=tmp)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "site"
    print(build(target.resolve()) / "index.html")
