"""Lazy package exports (PEP 562), shared by ``netlab``, ``netlab.viz`` and ``netlab.widgets``.

A package lists ``name -> (module, attribute)`` (attribute None = the module itself);
the module is imported on first use, so ``import netlab`` stays fast and scapy,
matplotlib and ipywidgets load only when a lesson needs them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, exports: dict[str, tuple[str, str | None]]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` a package module installs."""

    def __getattr__(name: str) -> Any:
        try:
            module_name, attr = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
