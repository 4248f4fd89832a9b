"""The topology figure: renders, stays readable (no overlapping or cut-off labels), stable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _viz_helpers import hand_scenario

from netlab.viz import draw_topology, layout_topology
from netlab.viz.figure import figure_png, labels_outside, overlapping_labels, text_boxes

# the figures go to $NETLAB_VIZ_PNG when set (to look at them), else to each test's tmp_path
_PNG: dict[str, Path] = {}


@pytest.fixture(autouse=True)
def _png_dir(tmp_path: Path) -> None:
    _PNG["dir"] = Path(os.environ.get("NETLAB_VIZ_PNG") or tmp_path)


def _save(fig, name: str) -> None:
    _PNG["dir"].mkdir(parents=True, exist_ok=True)
    fig.savefig(_PNG["dir"] / name)


@pytest.mark.parametrize("n", [1, 5, 20])
def test_labels_never_overlap_and_fit(n: int) -> None:
    fig = draw_topology(hand_scenario(n))
    _save(fig, f"topology_{n}.png")
    assert overlapping_labels(fig) == []
    assert labels_outside(fig) == []
    texts = [t for t, _ in text_boxes(fig)]
    # every container and its address is labelled
    assert sum(1 for t in texts if t.startswith("eth0 172.17.0.")) == n
    assert "docker0" in texts and "172.17.0.1/16" in texts
    assert "02:42:68:de:b6:2a" in texts  # docker0's MAC


def test_veth_pairs_cross_the_namespace_boundary() -> None:
    lay = layout_topology(hand_scenario(3))
    boundary = lay.host_box[0] + lay.host_box[2]
    for key, box in lay.boxes.items():
        if key[0] == "veth":
            assert box.x + box.w <= boundary  # host side inside the host
        if key[0] == "container":
            assert box.x >= boundary  # container side outside it
    crossings = [(a, b) for a, b, kind in lay.lines if kind == "veth"]
    assert len(crossings) == 3


def test_layout_is_stable() -> None:
    """Same host, same picture: the layout and the PNG bytes do not depend on order."""
    a = hand_scenario(5)
    b = hand_scenario(5)
    b.nodes = dict(reversed(list(b.nodes.items())))  # same host, nodes listed backwards
    b.host.interfaces.reverse()
    la, lb = layout_topology(a), layout_topology(b)
    assert {k: (v.x, v.y, v.lines) for k, v in la.boxes.items()} == {
        k: (v.x, v.y, v.lines) for k, v in lb.boxes.items()}
    assert figure_png(draw_topology(a)) == figure_png(draw_topology(a))


def test_peers_outside_the_nics() -> None:
    lay = layout_topology(hand_scenario(1))
    client, nic = lay.boxes[("peer", "client")], lay.boxes[("nic", "enp0s8")]
    assert client.x + client.w < lay.host_box[0] <= nic.x
    assert abs(client.cy - nic.cy) < 1e-9  # drawn level with the NIC it hangs off
    inet, gw = lay.boxes[("peer", "internet")], lay.boxes[("peer", "gateway")]
    assert inet.x + inet.w < gw.x  # the internet is beyond the gateway


def test_from_the_articles_pastes(seed_dir: Path) -> None:
    import netlab as nl

    state = nl.parse_host(ip_addr=(seed_dir / "ip-addr-show.txt").read_text(),
                          ip_route=(seed_dir / "ip-route.txt").read_text(),
                          brctl=(seed_dir / "brctl-show.txt").read_text())
    fig = draw_topology(state)
    _save(fig, "topology_seed_paste.png")
    texts = [t for t, _ in text_boxes(fig)]
    assert "vethca38e86" in texts
    assert "if5 (not in the paste)" in texts  # the container side the article never printed
    assert "192.168.56.38/24" in texts  # NIC address recovered from `ip route`
    assert "gateway" in texts and "10.0.2.2" in texts  # from the default route
    assert overlapping_labels(fig) == []


def test_bad_input_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match="nl.connect"):
        draw_topology(42)


def test_repr_png_for_jupyter() -> None:
    fig = draw_topology(hand_scenario(1))
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"


def test_overlap_check_can_fail() -> None:
    """The readability check itself: two labels on one spot are reported."""
    fig = draw_topology(hand_scenario(1))
    ax = fig.axes[0]
    ax.text(1.0, 1.0, "first label")
    ax.text(1.05, 1.0, "second label")
    ax.text(-3.0, 1.0, "off the page")
    assert ("first label", "second label") in overlapping_labels(fig)
    assert "off the page" in labels_outside(fig)


def test_from_a_running_hosts_state() -> None:
    """net.state("host") (the host's own namespace only): NICs, bridge, the veth port, and
    the container side marked as not read."""
    import netlab as nl

    net = nl.connect(mode="sim", quiet=True)
    try:
        lay = layout_topology(net.state("host"))
    finally:
        net.close()
    keys = set(lay.boxes)
    assert {("nic", "enp0s3"), ("nic", "enp0s8"), ("bridge", "docker0"),
            ("veth", "vethca38e86")} <= keys
    container = next(b for k, b in lay.boxes.items() if k[0] == "container")
    assert container.lines[1].endswith("(namespace not read)")


def test_several_bridges_each_with_their_containers() -> None:
    import netlab as nl
    from netlab.scenarios import Container

    s = nl.docker_host("28", containers=[
        Container("web", ports=["80:80"]), Container("db", network="backend"),
        Container("cache", network="backend")], networks=["backend"])
    lay = layout_topology(s)
    fig = draw_topology(s)
    _save(fig, "topology_two_bridges.png")
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []
    bridges = {k[1]: b for k, b in lay.boxes.items() if k[0] == "bridge"}
    assert "docker0" in bridges and len(bridges) == 2
    backend = next(b for name, b in bridges.items() if name != "docker0")
    for name in ("db", "cache"):  # each container sits within its bridge's span
        box = next(b for k, b in lay.boxes.items() if k[0] == "container" and
                   k[1].startswith(name + "|"))
        assert backend.y <= box.cy <= backend.y + backend.h


def _lines_outside_their_box(fig) -> list[str]:
    """Box labels whose rendered text sticks out of the box they belong to."""
    from netlab.viz.figure import text_boxes

    lay = fig.netlab_layout
    dpi = fig.dpi
    rendered: dict[str, list] = {}
    for text, bb in text_boxes(fig):
        rendered.setdefault(text, []).append(bb)
    bad = []
    for box in lay.boxes.values():
        x0, x1 = box.x * dpi, (box.x + box.w) * dpi
        y0, y1 = box.y * dpi, (box.y + box.h) * dpi
        for line in box.lines:
            inside = [bb for bb in rendered.get(line, [])
                      if x0 - 1 <= bb.x0 and bb.x1 <= x1 + 1 and y0 - 1 <= bb.y0 and bb.y1 <= y1 + 1]
            if not inside:
                bad.append(line)
    return bad


def test_long_names_and_many_ports_stay_inside_their_boxes() -> None:
    import netlab as nl
    from netlab.scenarios import Container

    s = nl.docker_host("29", containers=[
        Container("a-container-with-a-rather-long-name",
                  ports=["80:80", "443:443", "127.0.0.1:8080:8080/udp"]),
        Container("db", ports=["5432:5432", "127.0.0.1:9187:9187"]),
        Container("cache", network="backend")], networks=["backend"])
    fig = draw_topology(s)
    _save(fig, "topology_long_labels.png")
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []
    assert _lines_outside_their_box(fig) == []
    texts = [t for t, _ in text_boxes(fig)]
    assert "-p 80:80/tcp, 443:443/tcp, 127.0.0.1:8080:8080/udp" in texts  # whole, own line


@pytest.mark.parametrize("n", [1, 5, 20])
def test_every_label_inside_its_box(n: int) -> None:
    fig = draw_topology(hand_scenario(n))
    assert _lines_outside_their_box(fig) == []


@pytest.mark.parametrize("version,n", [("27", 1), ("28", 5), ("29", 20)])
def test_docker_hosts_of_every_version_stay_readable(version: str, n: int) -> None:
    import netlab as nl
    from netlab.scenarios import Container

    def build():
        return nl.docker_host(version, containers=[
            Container(f"svc{i}", ports=[f"{8000 + i}:80"] if i % 4 == 0 else [],
                      network="backend" if i % 2 else "bridge") for i in range(n)],
            networks=["backend"])

    fig = draw_topology(build())
    _save(fig, f"topology_docker{version}_{n}.png")
    assert overlapping_labels(fig) == [] and labels_outside(fig) == []
    assert _lines_outside_their_box(fig) == []
    lay = fig.netlab_layout
    assert sum(b.kind == "container" for b in lay.boxes.values()) == n
    assert sum(b.kind == "bridge" for b in lay.boxes.values()) == 2
    again = draw_topology(build()).netlab_layout
    assert {k: (b.x, b.y, b.w, b.h, b.lines) for k, b in again.boxes.items()} == {
        k: (b.x, b.y, b.w, b.h, b.lines) for k, b in lay.boxes.items()}
