"""Optional parts of netlab and the pip extra each one comes with.

The base install (sim core, parsers, netfilter engine, captures, viz, widgets) needs
no scapy and no JupyterLab; code that needs one calls :func:`need` first, which names
the extra to install instead of failing with a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from netlab.errors import NetlabError

DISTRIBUTION = "netlab-docker"

EXTRAS = {"scapy": "scapy", "jupyterlab": "course"}


class MissingExtra(NetlabError, ModuleNotFoundError):
    """An optional dependency is not installed; the message says which extra brings it."""


def install_hint(module: str) -> str:
    """The pip command that brings ``module`` (e.g. ``pip install "netlab-docker[scapy]"``)."""
    extra = EXTRAS[module.split(".")[0]]
    return f'pip install "{DISTRIBUTION}[{extra}]"'


def need(module: str, what: str) -> ModuleType:
    """Import ``module`` for ``what`` (e.g. "capture.packet(n)"), or raise :class:`MissingExtra`."""
    top = module.split(".")[0]
    if importlib.util.find_spec(top) is None:
        raise MissingExtra(f"{what} needs {top}, which is not installed: {install_hint(top)}",
                           name=top)
    return importlib.import_module(module)
