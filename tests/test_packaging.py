"""The package set-up a newcomer and Binder rely on: pyproject, binder/, README, CI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_top_level_layout() -> None:
    for name in ("pyproject.toml", "netlab", "notebooks", "tests", "binder", "benchmarks",
                 "README.md", ".ci/run"):
        assert (ROOT / name).exists(), name


def _names(reqs: list[str]) -> dict[str, Requirement]:
    return {Requirement(d).name.lower(): Requirement(d) for d in reqs}


def test_pyproject_dependencies_and_extras() -> None:
    project = _pyproject()["project"]
    assert _pyproject()["build-system"]["build-backend"] == "hatchling.build"
    assert project["name"] == "netlab-docker"  # "netlab" on PyPI is someone else's
    assert SpecifierSet(project["requires-python"]).contains("3.11")
    base = _names(project["dependencies"])
    # the base install runs the sim core, parsers, netfilter engine, captures, viz, widgets
    assert {"pandas", "networkx", "matplotlib", "ipywidgets", "nbclient"} <= set(base)
    assert not {"scapy", "jupyterlab"} & set(base), "scapy and JupyterLab are extras"
    extras = project["optional-dependencies"]
    assert set(_names(extras["course"])) == {"jupyterlab"}
    scapy = _names(extras["scapy"])["scapy"].specifier
    # tested on 2.6.1 up to the current minor (2.8); the next minor is out until tested
    assert scapy.contains("2.6.1") and scapy.contains("2.8.0") and not scapy.contains("2.9.0")
    assert not scapy.contains("2.5.0")
    test_extra = _names(extras["test"])
    assert {"pytest", "nbmake", "hypothesis", "ruff", "mypy", "hatchling", "uv"} <= set(test_extra)
    assert test_extra["netlab-docker"].extras == {"course", "scapy", "site", "lite"}


def test_metadata_licence_urls_and_classifiers() -> None:
    project = _pyproject()["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]  # PEP 639
    assert "Repository" in project["urls"]
    tested = {c.rsplit(" ", 1)[1] for c in project["classifiers"]
              if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)}
    assert tested == {"3.11", "3.12", "3.13"}
    assert "Typing :: Typed" in project["classifiers"]
    assert project["dynamic"] == ["version"]  # read from netlab.__version__


def test_wheel_and_sdist_ship_the_licence_and_typing_marker(tmp_path) -> None:
    import tarfile
    import zipfile

    import netlab

    subprocess.run([sys.executable, "-m", "hatchling", "build", "-d", str(tmp_path)], cwd=ROOT,
                   check=True, capture_output=True, timeout=120)
    (wheel,) = tmp_path.glob("netlab_docker-*.whl")
    (sdist,) = tmp_path.glob("netlab_docker-*.tar.gz")
    assert wheel.name == f"netlab_docker-{netlab.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        info = f"netlab_docker-{netlab.__version__}.dist-info"
        meta = z.read(f"{info}/METADATA").decode()
        assert f"{info}/licenses/LICENSE" in names and "netlab/py.typed" in names
        assert "netlab/__main__.py" in names
        assert "[console_scripts]\nnetlab = netlab.cli:main" in z.read(
            f"{info}/entry_points.txt").decode()
    assert "License-Expression: MIT" in meta and "License-File: LICENSE" in meta
    assert "Requires-Dist: scapy" not in meta.split("Provides-Extra")[0]
    assert "Requires-Dist: jupyterlab" not in meta.split("Provides-Extra")[0]
    with tarfile.open(sdist) as t:
        names = {n.split("/", 1)[1] for n in t.getnames() if "/" in n}
    assert {"LICENSE", "pyproject.toml", "netlab/py.typed", "CHANGELOG.md", ".ci/run",
            "site/conf.py", "tests/pyodide/smoke.py", "binder/requirements.txt"} <= names


def test_python_m_netlab_answers_version() -> None:
    import netlab

    for cmd in ([sys.executable, "-m", "netlab", "--version"],):
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert out.returncode == 0 and out.stdout.strip() == f"netlab {netlab.__version__}"


def test_binder_runtime_and_start() -> None:
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert m, runtime
    assert SpecifierSet(_pyproject()["project"]["requires-python"]).contains(f"{m[1]}.{m[2]}")
    start = (ROOT / "binder" / "start").read_text()
    assert "NETLAB_MODE=sim" in start and 'exec "$@"' in start
    assert (ROOT / "binder" / "start").stat().st_mode & 0o111
    for forbidden in ("Dockerfile", "environment.yml"):
        assert not (ROOT / "binder" / forbidden).exists()
        assert not (ROOT / forbidden).exists()


def test_readme_quick_start_is_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)\n```", section, re.S)
    assert len(blocks) == 2 and all("\n" not in b.strip() for b in blocks)
    opener, tester = blocks
    assert "jupyter lab" in opener and "notebooks/00_start_here.ipynb" in opener
    assert '".[course]"' in opener, "the first command installs the course extra (JupyterLab)"
    assert "pytest" in tester and '".[test]"' in tester
    ci = subprocess.run([sys.executable, str(ROOT / ".ci" / "readme_command.py"), "test"],
                        capture_output=True, text=True, check=True).stdout.strip()
    assert ci == tester.strip(), "CI must run exactly the README's test command"


def test_ci_script_installs_tools_and_checks() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    for pkg in ("iproute2", "iptables", "tcpdump", "tshark", "conntrack", "bridge-utils"):
        assert pkg in ci
    assert "ruff check" in ci and "check_notebooks.py" in ci


def _ci_packages() -> set[str]:
    ci = (ROOT / ".ci" / "run").read_text()
    words = []  # every apt-get install in the script (Node.js and npm have a line of their own)
    for line in re.findall(r"apt-get install ((?:[^\n]*\\\n)*[^\n]*)", ci):
        words += line.split(">", 1)[0].replace("\\\n", " ").split()
    return {w for w in words if not w.startswith("-") and w[0].isalpha() and w != "python3-venv"}


def test_readme_names_every_package_ci_installs() -> None:
    readme = (ROOT / "README.md").read_text()
    named = re.findall(r"sudo apt-get install ([a-z0-9 .+-]+)", readme)
    assert named, "the README says how to install the lab's programs"
    packages = _ci_packages()
    assert {"iproute2", "iptables", "ipset", "bridge-utils"} <= packages
    in_readme = {word for line in named for word in line.split()}
    assert packages == in_readme, "README and .ci/run install the same packages"


def test_every_program_a_test_needs_comes_in_a_package_ci_installs() -> None:
    from conftest import PACKAGES

    from netlab.lab.lab import TOOLS

    assert set(TOOLS) <= set(PACKAGES) and all(PACKAGES[t] == p for t, p in TOOLS.items())
    assert set(PACKAGES.values()) <= _ci_packages()


def test_notebook_check_skips_jupyter_checkpoints(tmp_path) -> None:
    clean = {"cells": [{"cell_type": "code", "source": "import netlab as nl", "outputs": [],
                        "execution_count": None, "metadata": {}}], "metadata": {}, "nbformat": 4,
             "nbformat_minor": 5}
    run = {**clean, "cells": [{**clean["cells"][0], "outputs": [{"output_type": "stream"}],
                               "execution_count": 1}]}
    (tmp_path / "notebooks" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text(json.dumps(clean))
    (tmp_path / "notebooks" / ".ipynb_checkpoints" / "00_start_here-checkpoint.ipynb").write_text(
        json.dumps(run))
    check = [sys.executable, str(ROOT / ".ci" / "check_notebooks.py"), str(tmp_path)]
    out = subprocess.run(check, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text(json.dumps(run))
    out = subprocess.run(check, capture_output=True, text=True)
    assert out.returncode == 1 and "00_start_here.ipynb" in out.stdout and "checkpoint" not in out.stdout


def test_committed_notebooks_have_no_outputs() -> None:
    out = subprocess.run([sys.executable, str(ROOT / ".ci" / "check_notebooks.py")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout


def test_import_is_lazy() -> None:
    code = ("import sys, time; t=time.perf_counter(); import netlab; "
            "heavy=[m for m in ('scapy','matplotlib','pandas','networkx') if m in sys.modules]; "
            "print(heavy, time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, _ = out.stdout.rsplit("]", 1)
    assert heavy.strip() == "[", f"import netlab pulled in {heavy}]"


def test_a_missing_program_names_its_debian_package(monkeypatch) -> None:
    import shutil

    import conftest

    real = shutil.which
    monkeypatch.setattr(shutil, "which", lambda t: None if t in ("ipset", "brctl") else real(t))
    reason = conftest.missing_tools("ipset", "brctl")
    assert "apt-get install bridge-utils ipset" in reason and "`ipset`" in reason
    from netlab.lab.lab import TOOLS, lab_unavailable_reason
    from netlab.scenarios import docker_host

    if os.geteuid() == 0 and conftest.missing_tools(*TOOLS) is None:
        why = lab_unavailable_reason(docker_host("28.0.0"))  # its rules match an ipset
        assert why and "apt-get install ipset" in why


def test_license_and_typing_marker_ship_with_the_package() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / "netlab" / "py.typed").exists()  # PEP 561: the wheel carries it with netlab/
