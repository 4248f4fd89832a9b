"""`netlab snapshot` and `netlab show`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from netlab import HostState
from netlab.cli import main
from tests.test_model import _rich_state


def test_show_a_snapshot_file(tmp_path, capsys):
    path = tmp_path / "snap.json"
    _rich_state().save(str(path))
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Interfaces (3)" in out and "vethca38e86" in out and "02:42:68:de:b6:2a" in out
    assert "Routes (4)" in out and "172.17.0.0/16" in out and "10.0.2.2" in out
    assert "Bridge ports (1)" in out and "forwarding" in out
    assert "vethca38e86 in (this)" in out and "eth0 (ifindex 5) in web" in out
    assert "conntrack table not read" in out  # notes are shown
    assert "net.ipv4.ip_forward" in out and "iptables: 0 rule(s)" in out


def test_show_pasted_seed_outputs(seed_dir, capsys):
    files = [str(seed_dir / n) for n in ("ip-addr-show.txt", "ip-route.txt", "brctl-show.txt")]
    assert main(["show", *files]) == 0
    out = capsys.readouterr().out
    assert "docker0" in out and "default" in out and "enp0s3" in out
    assert "ifindex 5 in netnsid 0 (not in this state)" in out


def test_show_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    # (an `iptables -L` listing used to be the bad paste; netlab reads it since issue 14)
    bad.write_text("Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\nnot a rule\n")
    assert main(["show", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("netlab: ") and "iptables -L" in err and "line 3" in err
    assert main(["show", str(tmp_path / "missing.json")]) == 1
    assert "cannot read" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1, "links": [')
    assert main(["show", str(broken)]) == 1
    assert "invalid JSON" in capsys.readouterr().err


def test_snapshot_to_stdout_and_file(tmp_path, capsys):
    assert main(["snapshot"]) == 0
    out = capsys.readouterr().out
    state = HostState.from_json(out)
    assert state.source == "snapshot" and any(link.kind == "loopback" for link in state.links)
    path = tmp_path / "s.json"
    assert main(["snapshot", "-o", str(path)]) == 0
    assert json.loads(path.read_text())["schema_version"] >= 1
    assert "wrote" in capsys.readouterr().err


def test_snapshot_bad_namespace_name(capsys):
    assert main(["snapshot", "--netns", "../../etc"]) == 1
    assert "not a network namespace name" in capsys.readouterr().err


@pytest.mark.lab
def test_snapshot_named_namespace_from_the_command_line(unique_prefix, tmp_path):
    ns = f"{unique_prefix}cli"
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
        subprocess.run(["ip", "-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1"], check=True,
                       timeout=10)
        path = tmp_path / "ns.json"
        result = subprocess.run([sys.executable, "-m", "netlab", "snapshot", "--netns", ns, "-o",
                                 str(path)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        state = HostState.load(str(path))
        assert state.link("d0", ns).driver == "veth"
        assert state.peer_of(state.link("d0", ns)).name == "d1"
        shown = subprocess.run([sys.executable, "-m", "netlab", "show", str(path)],
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0 and "d0" in shown.stdout and ns in shown.stdout
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def test_show_a_session_paste_of_host_and_containers(tmp_path, capsys):
    from tests.test_parse_realistic import CONNTRACK, CONTAINERS, UBUNTU_HOST

    session = tmp_path / "session.txt"
    session.write_text(UBUNTU_HOST + CONTAINERS, encoding="utf-8")
    ct = tmp_path / "ct.txt"
    ct.write_text(CONNTRACK.replace("\n", "\r\n"), encoding="utf-8")
    assert main(["show", str(session), str(ct)]) == 0
    out = capsys.readouterr().out
    assert "Interfaces (12)" in out and "br-5f1c2a7b9d3e" in out
    assert "veth1a2b3c4 in (this)" in out and "eth0 (ifindex 6) in shop-web-1" in out
    assert "ifindex 10 in netnsid 2 (not in this state)" in out
    assert "Bridge ports (3)" in out
    assert "Conntrack (7)" in out and "172.18.0.2:80" in out and "DNAT" in out


def test_snapshot_output_to_an_unwritable_place_is_one_line(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "folder" / "s.json"
    assert main(["snapshot", "-o", str(target)]) == 2  # a bad argument, refused before any reading
    err = capsys.readouterr().err
    assert err.startswith("netlab: ") and "does not exist" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_snapshot_empty_namespace_name(capsys):
    assert main(["snapshot", "--netns", ""]) == 1
    assert "needs a namespace name" in capsys.readouterr().err
