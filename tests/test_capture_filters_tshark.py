"""netlab's display filters keep the same packets as ``tshark -Y`` (issue 17), on one
pcapng holding sim journeys of several kinds (HTTP through a DNAT, ping, UDP) and a
hand-made capture with its directions.

Known difference, kept out of the set: tshark also matches the packet an ICMP error
quotes (``ip.src``, ``udp.port`` of the inner header); netlab's fields are the outer
packet's (``capture.frame(n).quoted`` holds the inner one)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from _capture_records import port_forward_records

import netlab as nl
from netlab.capture import Capture

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None,
                                reason="needs tshark (apt-get install tshark)")

FILTERS = [
    "tcp", "udp", "icmp", "arp", "ip", "not tcp",
    "ip.src == 172.17.0.2", "ip.dst == 192.168.56.38", "ip.addr == 172.17.0.0/16",
    "tcp.port == 80", "tcp.srcport == 80", "tcp.dstport != 80",
    "tcp.flags.syn == 1", "tcp.flags.syn == 1 and tcp.flags.ack == 0", "tcp.flags.fin == 1",
    'frame.interface_name == "host/docker0"', 'frame.interface_name contains "enp0s8"',
    'frame.interface_name != "host/docker0"',
    "ip.ttl < 64", "ip.ttl >= 64", "frame.len > 60", "frame.number <= 5",
    "(tcp.port == 80 || icmp) && !arp", "icmp.type == 8", "icmp.type == 0",
    "eth.src == 02:42:ac:11:00:02", "eth.addr == 08:00:27:b3:56:07",
    "frame.packet_flags_direction == 1", "frame.packet_flags_direction == 2",
    "udp.dstport == 33434 or udp.port == 53",
]


def _records(cap: Capture, t0: float) -> list[tuple]:
    ways = {0: None, 1: "in", 2: "out"}
    d = cap.directions().tolist()
    raw = cap._raw
    return [(t0 + float(cap.times_ns[n - 1]) / 1e9, raw.interfaces[int(raw.ifaces[n - 1])].namespace,
             raw.interfaces[int(raw.ifaces[n - 1])].name, cap.raw_bytes(n), "", ways[d[n - 1]])
            for n in range(1, len(cap) + 1)]


@pytest.fixture(scope="module")
def capture_file(tmp_path_factory):
    net = nl.connect(mode="sim", scenario=nl.seed_host())
    journeys = [net.probe("http", src="client", dst="192.168.56.38", dport=80),
                net.probe("ping", src="web", dst="203.0.113.10"),
                net.probe("udp", src="web", dst="203.0.113.10")]
    records: list[tuple] = []
    for k, j in enumerate(journeys):
        records += _records(j.capture, 10.0 * k)
    records += [(*r, "in" if r[2] == "enp0s8" else "out") for r in
                [(30.0 + t, ns, i, f, "") for t, ns, i, f in port_forward_records()]]
    cap = Capture.from_records(records)
    path = tmp_path_factory.mktemp("tshark") / "mixed.pcapng"
    cap.to_pcapng(path)
    return cap, str(path)


@pytest.mark.slow
@pytest.mark.parametrize("expression", FILTERS)
def test_filter_keeps_what_tshark_keeps(capture_file, expression):
    cap, path = capture_file
    out = subprocess.run(["tshark", "-n", "-r", path, "-Y", expression, "-T", "fields", "-e",
                          "frame.number"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    want = [int(x) for x in out.stdout.split()]
    assert cap.numbers(expression) == want
    assert len(cap) > 20  # the set has something to tell apart
