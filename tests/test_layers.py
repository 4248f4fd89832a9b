"""The layers of docs/architecture.md are the real import order of netlab/ (read with ast):
every import — at the top of a module or inside a function — goes to the same layer or
below, and no module imports a private (``_name``) module or name of another package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "netlab"


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """netlab.sim.net -> "sim"; netlab.journey -> "journey"; netlab -> "netlab"."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "netlab"


def _layers() -> dict[str, int]:
    """Package -> layer number, from the table at the top of docs/architecture.md."""
    out: dict[str, int] = {}
    for line in (ROOT / "docs" / "architecture.md").read_text().splitlines():
        m = re.match(r"\|\s*(\d+) [^|]*\|([^|]*)\|", line)
        if not m:
            continue
        for path in re.findall(r"`netlab/([^`]*)`", m.group(2)):
            name = path.rstrip("/").removesuffix(".py")
            out["netlab" if name == "__init__" else name] = int(m.group(1))
    return out


def _imports(tree: ast.Module) -> list[tuple[ast.AST, str, list[str]]]:
    """(node, module imported, names) for every netlab import outside ``if TYPE_CHECKING:``."""
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    out = []
    for n in ast.walk(tree):
        if id(n) in typing_only:
            continue
        if isinstance(n, ast.ImportFrom) and n.module and n.module.split(".")[0] == "netlab" and not n.level:
            out.append((n, n.module, [a.name for a in n.names]))
        elif isinstance(n, ast.Import):
            out += [(n, a.name, []) for a in n.names if a.name.split(".")[0] == "netlab"]
    return out


MODULES = {_module(p): p for p in PKG.rglob("*.py")}


def _target(module: str, names: list[str]) -> list[str]:
    """The netlab modules an import reaches (a package, or its submodules by name)."""
    subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
    return subs or [module]


def _private(segment: str) -> bool:
    return segment.startswith("_") and not segment.startswith("__")


def test_the_table_names_every_package():
    layers = _layers()
    missing = sorted({_package(m) for m in MODULES} - set(layers))
    assert not missing, f"docs/architecture.md's layer table leaves out {missing}"


def test_imports_go_down_the_layers():
    layers = _layers()
    wrong = []
    for module, path in MODULES.items():
        here = _package(module)
        for node, imported, names in _imports(ast.parse(path.read_text())):
            for target in _target(imported, names):
                there = _package(target)
                if there != here and layers[there] > layers[here]:
                    wrong.append(f"{module}:{node.lineno} imports {target} (layer {layers[there]} "
                                 f"{there} above layer {layers[here]} {here})")
    assert not wrong, "\n".join(wrong)


def test_no_private_name_crosses_a_package():
    wrong = []
    for module, path in MODULES.items():
        here = _package(module)
        for node, imported, names in _imports(ast.parse(path.read_text())):
            if _package(imported) == here:
                continue
            if any(_private(s) for s in imported.split(".")[1:]) or any(_private(n) for n in names):
                wrong.append(f"{module}:{node.lineno} imports {imported} {names}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_between_packages():
    """Not even one held apart by an import inside a function."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        here = _package(module)
        for _node, imported, names in _imports(ast.parse(path.read_text())):
            for target in _target(imported, names):
                if _package(target) != here:
                    graph.setdefault(here, set()).add(_package(target))

    def reaches(a: str, b: str, seen: set[str]) -> bool:
        return a == b or any(c not in seen and (seen.add(c) or reaches(c, b, seen)) for c in graph.get(a, ()))

    cycles = sorted((a, b) for a, outs in graph.items() for b in outs if reaches(b, a, set()))
    assert not cycles, cycles


def test_numbers_are_read_in_one_place():
    """``"²".isdigit()`` is true and ``int("²")`` raises: netlab reads digits only through
    netlab.numbers (``is_decimal``, ``to_int``, ``whole_number``, ``port``, ``c_number``)."""
    wrong = []
    for module, path in MODULES.items():
        if module == "netlab.numbers":
            continue
        for n in ast.walk(ast.parse(path.read_text())):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "isdigit":
                wrong.append(f"{module}:{n.lineno}")
    assert not wrong, f"str.isdigit() outside netlab.numbers: {wrong}"
