#!/usr/bin/env python3
"""The Binder launch link, built from pyproject's [project.urls] Repository.

    python .ci/binder_link.py          # print it
    python .ci/binder_link.py --write  # put it in README.md and notebooks/00_start_here.ipynb

(tests/test_binder.py checks that both files carry exactly this link.)
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
START = "notebooks/00_start_here.ipynb"
CARRIERS = ("README.md", START)
LINK_RE = re.compile(r"https://mybinder\.org/v2/[^\s)\"\\]+")


def binder_link() -> str:
    """mybinder.org's launch URL for the repository, opening lesson 00 in JupyterLab."""
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    m = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)(?:\.git)?/?", urls["Repository"])
    if not m:
        raise SystemExit(f"[project.urls] Repository is not a GitHub URL: {urls['Repository']}")
    return f"https://mybinder.org/v2/gh/{m[1]}/{m[2]}/HEAD?urlpath=lab/tree/{START}"


def main(argv: list[str]) -> int:
    link = binder_link()
    if argv == ["--write"]:
        for name in CARRIERS:
            path = ROOT / name
            path.write_text(LINK_RE.sub(link, path.read_text()))
    print(link)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
