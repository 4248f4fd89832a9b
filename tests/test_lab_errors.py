"""What a new user is told when the lab cannot run here: not root, or a tool missing."""

from __future__ import annotations

import os

import pytest

from netlab.errors import LabError
from netlab.lab import Lab, build
from netlab.scenarios import docker_host


def test_not_root_says_sudo_or_sim(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    lab = Lab(docker_host("29"))
    with pytest.raises(LabError) as info:
        lab.up()
    text = str(info.value)
    assert "root" in text and "sudo" in text and "mode='sim'" in text
    assert not lab.is_up and not build.state_path(lab.prefix).exists()


def _path_with(tmp_path, tools):
    """A PATH holding only ``tools``: stand-ins that refuse to run (the check only looks
    them up, so the test does not depend on what this machine has installed, or on a
    normal user's PATH lacking /usr/sbin)."""
    d = tmp_path / "bin"
    d.mkdir()
    for t in tools:
        (d / t).write_text("#!/bin/sh\nexit 1\n")
        (d / t).chmod(0o755)
    return str(d)


@pytest.mark.parametrize(("present", "package"), [
    (["bridge", "iptables-restore", "iptables-save", "sysctl", "conntrack"], "iproute2"),
    (["ip", "bridge", "sysctl", "conntrack"], "iptables"),
    (["ip", "bridge", "iptables-restore", "iptables-save", "sysctl"], "conntrack"),
])
def test_a_missing_tool_names_the_package_to_install(monkeypatch, tmp_path, present, package):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", _path_with(tmp_path, present))
    lab = Lab(docker_host("27"))
    with pytest.raises(LabError) as info:
        lab.up()
    text = str(info.value)
    assert f"apt-get install {package}" in text, text
    assert "mode='sim'" in text
    assert not lab.is_up and not build.state_path(lab.prefix).exists()


def test_docker_28_0_0_also_needs_ipset(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    tools = ["ip", "bridge", "iptables-restore", "iptables-save", "sysctl", "conntrack"]
    monkeypatch.setenv("PATH", _path_with(tmp_path, tools))
    with pytest.raises(LabError, match="apt-get install ipset"):
        Lab(docker_host("28.0.0")).up()
    from netlab.lab.lab import lab_unavailable_reason

    assert lab_unavailable_reason(docker_host("27")) is None  # 27 matches no ipset
