"""The journey figure and the hook map: hops numbered in order, NAT shown, readable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _viz_helpers import hand_journey, hand_scenario

from netlab.viz import draw_hooks, draw_journey, hook_path, hop_table
from netlab.viz.figure import labels_outside, overlapping_labels, text_boxes

# the figures go to $NETLAB_VIZ_PNG when set (to look at them), else to each test's tmp_path
_PNG: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _png_dir(tmp_path: Path) -> None:
    _PNG["dir"] = Path(os.environ.get("NETLAB_VIZ_PNG") or tmp_path)


def _save(fig, name: str) -> None:
    _PNG["dir"].mkdir(parents=True, exist_ok=True)
    fig.savefig(_PNG["dir"] / name)


def test_hops_in_order_with_nat_before_the_right_hop() -> None:
    hops = hop_table(hand_journey())
    assert [(h.node, h.iface) for h in hops] == [
        ("client", "eth0"), ("host", "enp0s8"), ("host", "docker0"), ("host", "vethca38e86"),
        ("web", "eth0")]
    assert hops[2].nat == ["DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2"]
    assert not hops[1].nat and "192.168.56.38" in hops[1].summary
    assert "172.17.0.2" in hops[2].summary


def test_journey_figure_readable() -> None:
    fig = draw_journey(hand_journey(), hand_scenario(1))
    _save(fig, "journey_delivered.png")
    assert overlapping_labels(fig) == []
    assert labels_outside(fig) == []
    texts = [t for t, _ in text_boxes(fig)]
    for n in "12345":
        assert n in texts  # the numbered markers
    assert any("DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2" in t for t in texts)
    assert "DNAT → 172.17.0.2:80" in texts  # on the picture, by the routing box


def test_dropped_journey_without_a_scenario() -> None:
    fig = draw_journey(hand_journey(drop=True))
    _save(fig, "journey_dropped.png")
    texts = [t for t, _ in text_boxes(fig)]
    assert any("dropped in host" in t for t in texts)
    assert any("after this hop" in t for t in texts)  # DNAT happened after hop 2
    assert overlapping_labels(fig) == []


def test_current_hop_is_marked() -> None:
    fig = draw_journey(hand_journey(), hand_scenario(1), current=6)
    assert fig.netlab_current_hop == 1  # after event 6 the packet was last seen on enp0s8


def test_hook_path_of_a_journey() -> None:
    path = hook_path(hand_journey())
    assert path.hooks() == ["PREROUTING", "FORWARD", "POSTROUTING"]
    assert path.in_iface == "enp0s8" and path.out_iface == "docker0"
    pre = path.visits[0]
    assert pre.nat == "DNAT 192.168.56.38:80 → 172.17.0.2:80"
    assert pre.tables["nat"] == "DNAT nat:DOCKER:2"
    dropped = hook_path(hand_journey(drop=True))
    assert dropped.dropped and dropped.hooks() == ["PREROUTING", "FORWARD"]


def test_hook_map_of_a_real_trace(seed_dir: Path) -> None:
    import netlab as nl

    rs = nl.parse_iptables((seed_dir / "iptables-save.txt").read_text())
    trace = rs.trace(nl.Packet("tcp", "192.168.56.1", "192.168.56.38", sport=40000, dport=80),
                     hook="PREROUTING", in_iface="enp0s8", local_addrs=["192.168.56.38"])
    fig = draw_hooks(trace)
    _save(fig, "hooks_trace_prerouting.png")
    path = fig.netlab_hook_path
    assert path.hooks() == ["PREROUTING"]
    assert path.visits[0].tables["nat"] == "DNAT nat:DOCKER:2"
    assert path.visits[0].nat == "DNAT 192.168.56.38:80 → 172.17.0.2:80"
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []
    blocked = rs.trace(nl.Packet("tcp", "192.168.56.1", "172.17.0.2", sport=1, dport=81),
                       hook="FORWARD", in_iface="enp0s8", out_iface="docker0")
    fig = draw_hooks(blocked)
    _save(fig, "hooks_trace_forward_drop.png")
    assert fig.netlab_hook_path.dropped
    assert "packet dropped here" in [t for t, _ in text_boxes(fig)]


def test_hook_map_of_a_journey_readable() -> None:
    for drop in (False, True):
        fig = draw_hooks(hand_journey(drop=drop))
        _save(fig, f"hooks_journey_{'drop' if drop else 'ok'}.png")
        assert overlapping_labels(fig) == [] and labels_outside(fig) == []


def test_aggregate_counter_events_do_not_decide_for_a_packet() -> None:
    """A lab journey's rule counters (packet_id None) mark a hook as passed, never as the
    rule that decided for the selected packet; missing hooks the kernel always passes are
    filled in, in the kernel's order."""
    from netlab.journey import Event

    j = hand_journey()
    j.steps = [e for e in j.steps if e.kind != "netfilter"]
    j.steps.insert(0, Event(0, "netfilter", "host", "counters", hook="FORWARD",
                            rule="filter:FORWARD:5", verdict="ACCEPT", packet_id=None))
    path = hook_path(j)
    assert path.hooks() == ["PREROUTING", "FORWARD", "POSTROUTING"]
    assert path.visits[1].tables == {}
    assert path.visits[0].nat == "DNAT 192.168.56.38:80 → 172.17.0.2:80"


# ------------------------------------------------------------ drawing without on=

def _box_lines(fig) -> dict[str, list[str]]:
    """Each box's label lines, by its first line (the name)."""
    return {b.lines[0]: b.lines for b in fig.netlab_layout.boxes.values()}


def test_without_on_the_journeys_own_scenario_is_drawn() -> None:
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.docker_host("29"), quiet=True)
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    assert getattr(j, "scenario", None) is not None
    boxes = _box_lines(draw_journey(j))
    assert boxes["enp0s8"][1] == "192.168.56.38/24"
    assert boxes["docker0"][1] == "172.17.0.1/16"
    assert "enp0s3" in boxes and "gateway" in boxes  # the whole host, not just the path


def test_guessed_topology_takes_addresses_from_the_frames() -> None:
    """A journey without a scenario (an old pickle, a hand-made one) still gets its labels."""
    import netlab as nl
    from netlab.scenarios import Container

    s = nl.docker_host("28", containers=[Container("shop", ports=["8443:443"])])
    net = nl.connect(mode="sim", scenario=s, quiet=True)
    j = net.probe("tcp", src="client", dst="192.168.56.38", dport=8443)
    j.scenario = None
    fig = draw_journey(j)
    _save(fig, "journey_guessed.png")
    texts = " ".join(t for t, _ in text_boxes(fig))
    assert "(no IPv4)" not in texts and "(no address)" not in texts
    boxes = _box_lines(fig)
    shop_ip = s.node("shop").interfaces[-1].addresses[0].split("/")[0]
    assert boxes["enp0s8"][1].startswith("192.168.56.38")
    assert boxes["docker0"][1] == "172.17.0.1/16"  # the kernel route named its prefix
    assert any(shop_ip in line for line in boxes["shop"])
    assert boxes["client"][1].startswith("192.168.56.1")
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []


def test_guess_pairs_each_veth_with_its_container_through_a_flood() -> None:
    """An ARP broadcast reaches every container: the guess must still plug each one
    into its own veth (the one the scenario wired it to)."""
    import netlab as nl
    from netlab.scenarios import Container
    from netlab.viz.journey import model_from_journey

    s = nl.docker_host("27", containers=[Container(f"app{i}", ports=["80:80"] if i == 2 else [])
                                         for i in range(5)])
    net = nl.connect(mode="sim", scenario=s, quiet=True)
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    j.scenario = None
    model = model_from_journey(j)
    truth = {s.peer("host", i.name)[0]: i.name for i in s.host.interfaces
             if i.master == "docker0"}
    assert {c.name: c.veth for c in model.containers} == truth
    assert [p.name for p in model.peers] == ["client"]


def test_guess_from_a_hand_made_journey_finds_the_hosts_address_in_the_dnat() -> None:
    from netlab.viz.journey import model_from_journey

    model = model_from_journey(hand_journey())
    nics = {n.name: n.addresses for n in model.nics}
    assert nics == {"enp0s8": ["192.168.56.38"]}  # the DNAT's "before": the host's own
    assert [(c.name, c.veth, c.addresses) for c in model.containers] == [
        ("web", "vethca38e86", ["172.17.0.2"])]
    assert [(p.name, p.attach, p.addresses) for p in model.peers] == [
        ("client", "enp0s8", ["192.168.56.1"])]


def test_masquerade_journey_guesses_the_hosts_outside_address() -> None:
    import netlab as nl
    from netlab.viz.journey import model_from_journey

    net = nl.connect(mode="sim", quiet=True)
    j = net.probe("ping", src="web", dst="203.0.113.10")
    j.scenario = None
    model = model_from_journey(j)
    assert {n.name: n.addresses for n in model.nics} == {"enp0s3": ["10.0.2.15"]}
    peers = {p.name: p.attach for p in model.peers}
    assert peers == {"gateway": "enp0s3", "internet": "gateway"}  # behind the gateway


def test_long_names_are_not_cut_from_the_hop_table() -> None:
    import netlab as nl
    from netlab.scenarios import Container

    name = "a-container-with-a-rather-long-name"
    s = nl.docker_host("27", containers=[Container(name, ports=["80:80"])])
    net = nl.connect(mode="sim", scenario=s, quiet=True)
    fig = draw_journey(net.probe("http", src="client", dst="192.168.56.38", dport=80))
    texts = [t for t, _ in text_boxes(fig)]
    assert any(f"{name}:eth0 (in)" in t for t in texts)
    assert labels_outside(fig) == [] and overlapping_labels(fig) == []


def test_journey_on_a_state_finds_every_hop() -> None:
    """Drawn on the host's HostState (a snapshot names the LAN by its prefix and may
    name containers by namespace), every hop still lands on a box."""
    import netlab as nl

    net = nl.connect(mode="sim", quiet=True)
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    fig = draw_journey(j, net.state("host"))
    lay = fig.netlab_layout
    assert [lay.anchor(h.node, h.iface) is not None for h in fig.netlab_hops] == [True] * 5
    assert lay.anchor("client", "eth0").kind == "client"
    assert lay.anchor("web", "eth0").kind == "container"
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []


def test_wrong_objects_say_what_to_pass() -> None:
    import pytest

    with pytest.raises(TypeError, match="needs a Journey"):
        draw_journey(None)
    with pytest.raises(TypeError, match="needs a Trace"):
        draw_hooks("PREROUTING")


def test_nat_labels_name_who_rewrote() -> None:
    """The rule for a connection's first packet; conntrack for later ones and replies,
    whatever words the backend used (the lab's details mention conntrack too)."""
    from netlab.journey import Event, Journey
    from netlab.packet import Frame

    f = Frame(src_mac="0a:00:00:00:00:01", dst_mac="0a:00:00:00:00:02", proto="tcp",
              src="192.168.56.1", dst="192.168.56.38", ttl=64, sport=40000, dport=80, flags="S")
    ev = [Event(1, "seen", "client", "out", iface="eth0", direction="out", frame=f, packet_id=1),
          Event(2, "nat", "host", "DNAT dst 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2 "
                "(conntrack entry says so)", rule="nat:DOCKER:2", before="192.168.56.38:80",
                after="172.17.0.2:80", packet_id=1),
          Event(3, "seen", "host", "out", iface="docker0", direction="out", frame=f, packet_id=1),
          Event(4, "seen", "client", "out", iface="eth0", direction="out", frame=f, packet_id=2),
          Event(5, "nat", "host", "conntrack rewrites destination 192.168.56.38:80 → "
                "172.17.0.2:80 (established original direction)", before="192.168.56.38:80",
                after="172.17.0.2:80", packet_id=2),
          Event(6, "seen", "host", "out", iface="docker0", direction="out", frame=f, packet_id=2),
          Event(7, "seen", "web", "out", iface="eth0", direction="out", frame=f, packet_id=3),
          Event(8, "nat", "host", "de-NAT src 172.17.0.2:80 → 192.168.56.38:80 (conntrack: "
                "reply of a NATed connection)", before="172.17.0.2:80",
                after="192.168.56.38:80", packet_id=3),
          Event(9, "seen", "host", "out", iface="enp0s8", direction="out", frame=f, packet_id=3)]
    j = Journey({"kind": "tcp", "src": "client", "dst": "192.168.56.38"}, ev)
    assert hop_table(j, 1)[1].nat == ["DNAT 192.168.56.38:80 → 172.17.0.2:80 by nat:DOCKER:2"]
    assert hop_table(j, 2)[1].nat == ["NAT 192.168.56.38:80 → 172.17.0.2:80 by conntrack"]
    assert hop_table(j, 3)[1].nat == ["un-NAT 172.17.0.2:80 → 192.168.56.38:80 by conntrack"]


def test_guess_finds_a_bridge_by_its_fdb_events_whatever_its_name() -> None:
    import json

    import netlab as nl
    from netlab.scenarios import Scenario
    from netlab.viz.journey import model_from_journey

    renamed = Scenario.from_dict(json.loads(json.dumps(nl.docker_host("27").to_dict())
                                            .replace("docker0", "lanbr")))
    j = nl.connect(mode="sim", scenario=renamed, quiet=True).probe(
        "http", src="client", dst="192.168.56.38", dport=80)
    j.scenario = None
    model = model_from_journey(j)
    assert [b.name for b in model.bridges] == ["lanbr"]
    assert [n.name for n in model.nics] == ["enp0s8"]
    assert [c.bridge for c in model.containers] == ["lanbr"]


def test_hook_map_of_a_reply_and_of_the_hosts_own_packet() -> None:
    """Other packets than the examples: the SYN-ACK (nat skipped, conntrack un-NATs it,
    tcpdump sees it on docker0 then enp0s8) and a packet the host sends itself (OUTPUT)."""
    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.docker_host("29"), quiet=True)
    j = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    reply = next(e.packet_id for e in j.seen(node="web")
                 if e.direction == "out" and e.frame.flags == "SA")
    fig = draw_hooks(j, packet=reply)
    path = fig.netlab_hook_path
    assert path.hooks() == ["PREROUTING", "FORWARD", "POSTROUTING"]
    assert (path.in_iface, path.out_iface) == ("docker0", "enp0s8")
    assert all("nat:" not in v.tables.get("nat", "") for v in path.visits)  # no nat rule ran
    texts = [t for t, _ in text_boxes(fig)]
    assert "nat skipped (established)" in texts
    assert any("conntrack re-applies NAT" in t and "192.168.56.38:80" in t for t in texts)
    assert texts.count("tcpdump sees it here:") == 2
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []

    own = net.probe("ping", src="host", dst="172.17.0.2")
    path = draw_hooks(own).netlab_hook_path
    assert path.hooks() == ["OUTPUT", "POSTROUTING"] and path.out_iface == "docker0"
    assert path.local == "sent by a local program"
