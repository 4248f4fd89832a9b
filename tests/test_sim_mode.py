"""netlab.connect / banner and the `netlab probe` command."""

from __future__ import annotations

import pytest

import netlab
from netlab import mode
from netlab.cli import main
from netlab.errors import NetlabError


def test_connect_sim_prints_why_and_probes(capsys):
    net = netlab.connect(mode="sim")
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "sim" in out and "seed-2018" in out
    assert net.mode == "sim"
    with net:
        assert net.probe("ping", src="client", dst="host").ok


def test_env_var_overrides_auto(monkeypatch, capsys):
    monkeypatch.setenv("NETLAB_MODE", "sim")
    net = netlab.connect()
    assert net.mode == "sim"
    assert "NETLAB_MODE=sim" in capsys.readouterr().out
    monkeypatch.setenv("NETLAB_MODE", "cloud")
    with pytest.raises(NetlabError, match="NETLAB_MODE"):
        netlab.connect()


def test_auto_falls_back_to_sim_and_says_why(monkeypatch, capsys):
    monkeypatch.delenv("NETLAB_MODE", raising=False)
    monkeypatch.setattr(mode, "lab_possible", lambda: "not root (test)")
    net = netlab.connect("auto")
    assert net.mode == "sim"
    assert "not root (test)" in capsys.readouterr().out


def test_auto_falls_back_when_the_lab_fails_to_build(monkeypatch, capsys):
    monkeypatch.delenv("NETLAB_MODE", raising=False)
    monkeypatch.setattr(mode, "lab_possible", lambda: None)
    monkeypatch.setattr(mode, "_try_lab", lambda sc: (None, "LabError: boom"))
    net = netlab.connect("auto")
    assert net.mode == "sim"
    assert "could not be built (LabError: boom)" in capsys.readouterr().out


def test_bad_mode():
    with pytest.raises(NetlabError, match="mode must be"):
        netlab.connect("cloud")


def test_banner_says_simulated_or_real():
    net = netlab.connect("sim", quiet=True)
    b = netlab.banner(net)
    assert "this was simulated" in b and b._repr_html_().startswith("<span")

    class FakeLab:
        mode = "lab"

    assert "real kernel" in netlab.banner(FakeLab())


def test_cli_probe_prints_the_journey(capsys):
    rc = main(["probe", "http", "--src", "client", "--dst", "192.168.56.38", "--dport", "80"])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.splitlines()[0] == "http client → 192.168.56.38: answered"
    assert "DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2" in out


def test_cli_probe_docker29_and_failure_exit_code(capsys):
    rc = main(["probe", "tcp", "--scenario", "docker29", "--dst", "host", "--dport", "8080"])
    assert rc == 1
    assert "rejected" in capsys.readouterr().out
    rc = main(["probe", "ping", "--scenario", "nowhere"])
    assert rc == 1
    assert "unknown scenario" in capsys.readouterr().err


def test_cli_writes_pcapng(tmp_path, capsys):
    path = tmp_path / "j.pcapng"
    assert main(["probe", "ping", "--src", "web", "--dst", "203.0.113.10", "--pcap", str(path)]) == 0
    assert path.stat().st_size > 200
    cap = netlab.load_capture(str(path))
    assert len(cap) >= 8


def test_journey_pcapng_comments_read_by_tshark(tmp_path):
    import shutil
    import subprocess

    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed (apt-get install tshark)")
    j = netlab.connect("sim", quiet=True).probe("http", src="client", dst="host", dport=80)
    path = tmp_path / "journey.pcapng"
    j.capture.to_pcapng(str(path))
    out = subprocess.run([tshark, "-r", str(path), "-T", "fields", "-e", "frame.comment"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == len(j.seen())
    assert any("host:docker0 out" in line and "nat:DOCKER:2" in line and "filter:DOCKER:1" in line
               for line in lines)
