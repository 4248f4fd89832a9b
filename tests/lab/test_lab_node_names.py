"""A probe aimed at a node by name reaches it on the source's own LAN, in the lab as in the sim."""

from __future__ import annotations

import pytest

import netlab as nl
from netlab.lab import Lab
from netlab.probe import ProbeError
from netlab.scenarios import seed_host


def test_node_name_destination_is_the_address_on_the_source_lan() -> None:
    sc = seed_host()
    assert sc.address_for("host", "client") == "192.168.56.38"
    assert sc.address_for("host", "gateway") == "10.0.2.15"
    with Lab(sc) as lab:
        real = lab.probe("http", src="client", dst="host", dport=80)
        assert real.probe["dst_ip"] == "192.168.56.38" and real.ok
        sim = nl.connect(mode="sim", scenario=sc).probe("http", src="client", dst="host", dport=80)
        assert sim.signature() == real.signature()
        with pytest.raises(ProbeError, match="needs dport"):
            lab.probe("tcp", src="client", dst="host")


def test_a_node_name_with_a_newline_leaves_no_namespace_and_keeps_the_state_files(
        tmp_path, monkeypatch, unique_prefix) -> None:
    """Refused before anything runs: no namespace, no state file touched (another lab's kept)."""
    import copy
    import json
    import subprocess

    from netlab.lab import build
    from netlab.scenarios.names import NameRefused

    prefix = "nl" + unique_prefix[-5:] + "0"
    monkeypatch.setattr(build, "STATE_DIR", tmp_path)
    other = tmp_path / "nl0f0f0f.json"
    other.write_text(json.dumps({"prefix": "nl0f0f0f", "netns": [], "pids": []}))
    sc = copy.deepcopy(seed_host())
    node = sc.nodes.pop("client")
    node.name = "client\n"
    sc.nodes[node.name] = node
    with pytest.raises(NameRefused, match="node name"):
        Lab(sc, prefix=prefix).up()
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=10).stdout
    assert prefix not in listed
    assert other.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["nl0f0f0f.json"]
