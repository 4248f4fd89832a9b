"""mypy on netlab/ (configured in pyproject's [tool.mypy]) finds no errors, and the lazily
exported names of netlab, netlab.viz and netlab.widgets are typed for a type checker."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
needs_mypy = pytest.mark.skipif(importlib.util.find_spec("mypy") is None,
                                reason='needs mypy (in the [test] extra: pip install -e ".[test]")')


def _mypy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@needs_mypy
@pytest.mark.slow
def test_mypy_finds_no_errors_in_netlab() -> None:
    out = _mypy()  # files and options from pyproject.toml
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "Success: no issues found" in out.stdout


def test_typing_debt_only_shrinks() -> None:
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"].get("overrides", [])
    assert len(overrides) <= 0, "a module joined the typing-debt list: fix its errors instead"
    for entry in overrides:
        assert set(entry) == {"module", "disable_error_code"}, entry  # no ignore_errors = true
        assert (ROOT / (entry["module"].replace(".", "/") + ".py")).exists(), entry["module"]


@pytest.mark.parametrize("package", ["netlab", "netlab.viz", "netlab.widgets"])
def test_every_lazy_export_is_imported_for_type_checkers(package: str) -> None:
    exports = importlib.import_module(package)._EXPORTS
    tree = ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text())
    seen: dict[str, tuple[str, str | None]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom), ast.dump(imp)
                for alias in imp.names:
                    assert alias.asname == alias.name or imp.module == package.rsplit(".", 1)[0]
                    target = (f"{imp.module}.{alias.name}", None) if \
                        f"{imp.module}.{alias.name}" in {m for m, a in exports.values()
                                                         if a is None} \
                        else (imp.module, alias.name)
                    seen[alias.asname or alias.name] = target
    assert seen == exports, f"{package}: list every _EXPORTS name in its `if TYPE_CHECKING:` block"


@needs_mypy
def test_a_type_checker_sees_the_real_signatures(tmp_path) -> None:
    (tmp_path / "use.py").write_text(
        "import netlab as nl\n"
        "net = nl.connect(mode='sim')\n"
        "n: int = nl.parse_host\n"          # a function is not an int: mypy must say so
        "w: str = nl.widgets.Check\n"
        "d: str = nl.viz.draw_flow\n")
    out = _mypy("--ignore-missing-imports", "--follow-imports=silent", str(tmp_path / "use.py"),
                cwd=tmp_path)
    assert out.stdout.count("error: Incompatible types in assignment") == 3, out.stdout[-3000:]
    assert 'has no attribute' not in out.stdout and "Module has no attribute" not in out.stdout
