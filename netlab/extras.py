"""Optional parts of netlab and the pip extra each one comes with.

The base install (sim core, parsers, netfilter engine, captures, viz, widgets) needs
no scapy and no JupyterLab; code that needs one calls :func:`need` first, which names
the extra to install instead of failing with a bare ``ModuleNotFoundError``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any

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
    mod = importlib.import_module(module)
    if top == "scapy":
        defer_scapy_manuf()
    return mod


class _LazyManuf:
    """Stands in for scapy's MAC-vendor table (``scapy.data.MANUFDB``) until something
    reads it: then the table is loaded again (scapy keeps it in a pickle cache) and put
    back, so ``conf.manufdb`` answers as before."""

    def __init__(self, data: ModuleType, filename: str | None) -> None:
        self._data, self._filename = data, filename

    def _real(self) -> Any:
        real = self._data.load_manuf(self._filename)
        if self._data.MANUFDB is self:
            self._data.MANUFDB = real
        return real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def __len__(self) -> int:
        return len(self._real())

    def __iter__(self) -> Any:
        return iter(self._real())

    def __contains__(self, key: object) -> bool:
        return key in self._real()

    def __getitem__(self, key: Any) -> Any:
        return self._real()[key]

    def __repr__(self) -> str:
        return repr(self._real())


def defer_scapy_manuf() -> None:
    """Free the MAC-vendor table scapy loads when it is imported (Wireshark's ``manuf``:
    52,000 entries, about 12 MB of a learner's kernel; benchmarks/bench_memory.py).  Nothing
    netlab shows needs it: scapy only reads it to name vendors when ``conf.resolve`` asks,
    and a lazy stand-in loads it back the moment anything does."""
    data: Any = sys.modules.get("scapy.data")  # a module: its MANUFDB is swapped below
    real = getattr(data, "MANUFDB", None)
    if data is None or real is None or isinstance(real, _LazyManuf) or not hasattr(data, "load_manuf"):
        return
    name = getattr(real, "_name", None)
    data.MANUFDB = _LazyManuf(data, None if name in (None, "scapy/manufdb") else name)
