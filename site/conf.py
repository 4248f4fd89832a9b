"""Sphinx + MyST-NB configuration of the course site (built by `python .ci/build_site.py`).

The lessons are executed in sim mode while the site builds, so every page shows its outputs
(figures, tables, journeys) and can be read without running anything; each page has a launch
button to Binder (built from pyproject's [project.urls] Repository, like the README's link).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(os.environ.get("NETLAB_REPO", Path(__file__).resolve().parents[1]))
_project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_version_py = (ROOT / "netlab" / "version.py").read_text()  # hatch reads the same file

project = "netlab: how Docker networking really works on Linux"
release = version = re.search(r'__version__ = "([^"]+)"', _version_py)[1]
copyright = "netlab authors, MIT licence"
extensions = ["myst_nb"]
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "notebooks/data"]

# execute every lesson, in sim mode (the build sets NETLAB_MODE=sim), and fail on an error
nb_execution_mode = "cache"  # jupyter-cache: a lesson whose code did not change is not rerun
nb_execution_cache_path = os.environ.get("NETLAB_SITE_JUPYTER_CACHE",
                                         str(Path.home() / ".cache" / "netlab" / "site" / "any"))
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence"]
suppress_warnings = ["mystnb.unknown_mime_type"]

html_theme = "sphinx_book_theme"
html_title = "netlab — Docker networking on Linux"
html_theme_options = {
    "repository_url": _project["urls"]["Repository"],
    "repository_branch": "HEAD",
    "path_to_docs": "",
    "use_repository_button": True,
    "launch_buttons": {"binderhub_url": "https://mybinder.org",
                       "notebook_interface": "jupyterlab"},
}
html_last_updated_fmt = None
html_context = {"default_mode": "light"}
