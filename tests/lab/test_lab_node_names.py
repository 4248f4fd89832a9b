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
