"""brctl show, bridge link, bridge fdb."""

from __future__ import annotations

import pytest

import netlab
from netlab import ParseError
from tests._pastes import paste


def test_seed_brctl(seed_dir):
    state = netlab.parse_brctl_show((seed_dir / "brctl-show.txt").read_text(encoding="utf-8"))
    assert [(b.name, b.bridge_id, b.stp) for b in state.bridges] == [
        ("docker0", "8000.024268deb62a", False)]
    assert [(p.bridge, p.port) for p in state.ports] == [("docker0", "vethca38e86")]
    assert state.link("docker0").mac == "02:42:68:de:b6:2a"  # the bridge id's low 48 bits
    assert state.link("vethca38e86").master == "docker0"


def test_brctl_several_ports_continuation_lines_and_empty_bridge():
    state = netlab.parse_brctl_show(paste("brctl-show-multi.txt"))
    by_bridge: dict[str, list[str]] = {}
    for p in state.ports:
        by_bridge.setdefault(p.bridge, []).append(p.port)
    assert by_bridge == {"docker0": ["veth1a2b3c4", "veth5d6e7f8", "vethdeadbee"],
                         "virbr0": ["virbr0-nic"]}
    assert {b.name: b.stp for b in state.bridges} == {
        "docker0": False, "br-5d2f0c3e1a9b": False, "virbr0": True}


def test_brctl_tabs_collapsed_to_spaces():
    text = paste("brctl-show-multi.txt").replace("\t", " ")
    state = netlab.parse_brctl_show(text)
    assert len(state.ports) == 4


def test_brctl_errors():
    with pytest.raises(ParseError) as err:
        netlab.parse_brctl_show("bridge name bridge id STP enabled interfaces\n"
                                "docker0 8000.024268deb62a maybe veth0\n")
    assert err.value.lineno == 2 and "STP" in str(err.value)
    with pytest.raises(ParseError) as err:
        netlab.parse_brctl_show("docker0 8000.024268deb62a no veth0\nthis is not brctl\n")
    assert err.value.lineno == 2 and err.value.command == "brctl show"


def test_bridge_link_new_and_old_formats():
    new = netlab.parse_bridge_link(paste("bridge-link-new.txt"))
    assert [(p.port, p.bridge, p.state, p.priority, p.cost) for p in new.ports] == [
        ("veth3f2a1b0", "docker0", "forwarding", 32, 2),
        ("vethb7c0d11", "docker0", "forwarding", 32, 2),
        ("veth0a0a0a0", "docker0", "disabled", 32, 2),
    ]
    assert new.link("veth3f2a1b0").ifindex == 7 and new.link("docker0").kind == "bridge"
    old = netlab.parse_bridge_link(paste("bridge-link-old.txt"))
    assert [(p.port, p.state) for p in old.ports] == [("vethca38e86", "forwarding"),
                                                      ("veth8a1bc22", "blocking")]
    assert old.link("vethca38e86").state == "UP"


def test_bridge_link_detail_lines_give_hairpin():
    state = netlab.parse_bridge_link(
        "7: veth3f2a1b0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master docker0 state "
        "forwarding priority 32 cost 2 \n"
        "    hairpin on guard off root_block off fastleave off learning on flood on mcast_flood on\n")
    assert state.ports[0].hairpin is True


def test_bridge_link_without_master_is_an_error():
    with pytest.raises(ParseError, match="master"):
        netlab.parse_bridge_link("7: veth3f2a1b0@if6: <UP> mtu 1500 state forwarding\n")


def test_bridge_fdb():
    state = netlab.parse_bridge_fdb(paste("bridge-fdb.txt"))
    learnt = [e for e in state.fdb if e.mac == "02:42:ac:11:00:02"]
    assert learnt[0].dev == "veth3f2a1b0" and learnt[0].bridge == "docker0"
    assert learnt[0].state is None  # learnt, not permanent
    vlan = [e for e in state.fdb if e.vlan == 1]
    assert vlan[0].state == "permanent"
    assert state.fdb[0].flags == ["self"]
    assert state.fdb[-1].dev == "vxlan0"


def test_bridge_fdb_error():
    with pytest.raises(ParseError) as err:
        netlab.parse_bridge_fdb("02:42:ac:11:00:02 dev veth0 master docker0\n02:42 dev x\n")
    assert err.value.lineno == 2
