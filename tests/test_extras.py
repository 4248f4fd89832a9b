"""Optional dependencies: code that needs an extra names the pip command, and scapy's
IPv6 layer failing to load (no IPv6 sockets: Pyodide, some containers) only costs IPv6."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from netlab import extras
from netlab.extras import MissingExtra, install_hint, need

ROOT = Path(__file__).resolve().parents[1]


def test_every_extra_named_exists_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == extras.DISTRIBUTION
    optional = project["optional-dependencies"]
    for module, extra in extras.EXTRAS.items():
        assert any(Requirement(r).name.lower() == module for r in optional[extra]), (module, extra)
        assert all(Requirement(r).name.lower() != module for r in project["dependencies"])


def test_a_missing_extra_names_the_install_command(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "scapy" else real(name, *a))
    with pytest.raises(MissingExtra) as err:
        need("scapy.layers.inet", "capture.packet(n)")
    assert 'pip install "netlab-docker[scapy]"' in str(err.value)
    assert "capture.packet(n)" in str(err.value) and err.value.name == "scapy"
    assert isinstance(err.value, ModuleNotFoundError)  # old `except ImportError` still works
    assert install_hint("jupyterlab") == 'pip install "netlab-docker[course]"'


def test_capture_packet_without_scapy_says_which_extra(tmp_path) -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["scapy"] = None  # as if scapy were not installed
        import importlib.util
        real = importlib.util.find_spec
        importlib.util.find_spec = lambda n, *a: None if n == "scapy" else real(n, *a)
        sys.path.insert(0, "tests")
        from _capture_records import port_forward_records
        from netlab.capture import Capture
        cap = Capture.from_records(port_forward_records())
        try:
            cap.packet(1)
        except ImportError as e:
            print("ERR", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert 'ERR capture.packet(n) needs scapy' in out.stdout, out.stderr
    assert 'pip install "netlab-docker[scapy]"' in out.stdout


@pytest.mark.skipif(importlib.util.find_spec("scapy") is None, reason="needs the [scapy] extra")
def test_capture_packet_survives_scapy_inet6_oserror() -> None:
    code = textwrap.dedent("""
        import socket, sys
        socket.has_ipv6 = False  # as in Pyodide: scapy.layers.inet6 raises OSError on import
        sys.path.insert(0, "tests")
        from _capture_records import port_forward_records
        from netlab.capture import Capture
        cap = Capture.from_records(port_forward_records())
        pkt = cap.packet(2)
        print("IP", pkt["IP"].dst, "inet6" in sys.modules.get("scapy.layers", object()).__dict__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("IP 172.17.0.2"), out.stdout
