"""What the sim core must do without a server (run by tests/test_pyodide.py both in CPython
and in Pyodide under Node, and the two answers compared): a sim probe, an iptables parse and
trace, a host parse, a pcapng write and read back. Prints one JSON object."""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import time
from pathlib import Path


def _pcapng(records: list[tuple]) -> bytes:
    """pcapng of a journey's capture records, by netlab's pure-Python writer (no numpy)."""
    from netlab.capture.pcapng import Interface, write_pcapng
    from netlab.packet import Frame

    index: dict[tuple[str, str], int] = {}
    packets = []
    for t, netns, iface, pkt, *comment in records:
        key = (str(netns or ""), str(iface or ""))
        index.setdefault(key, len(index))
        data = pkt.to_bytes() if isinstance(pkt, Frame) else bytes(pkt)
        packets.append((index[key], int(round(float(t) * 1e9)), data, len(data),
                        [str(c) for c in comment if c]))
    return write_pcapng([Interface(ns, name) for ns, name in index], packets)


def _blocks(blob: bytes) -> dict[str, int]:
    """pcapng block types and counts, walked independently of netlab's reader."""
    names = {0x0A0D0D0A: "SHB", 1: "IDB", 6: "EPB"}
    counts: dict[str, int] = {}
    pos = 0
    while pos < len(blob):
        btype, length = struct.unpack_from("<II", blob, pos)
        assert length >= 12 and length % 4 == 0, (pos, length)
        counts[names.get(btype, hex(btype))] = counts.get(names.get(btype, hex(btype)), 0) + 1
        pos += length
    assert pos == len(blob)
    return counts


def run(data: Path, out: Path) -> dict:
    t0 = time.perf_counter()
    times: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal t0
        now = time.perf_counter()
        times[name] = round(now - t0, 3)
        t0 = now

    import netlab as nl

    lap("import")
    net = nl.connect(mode="sim")
    journey = net.probe("http", src="client", dst="192.168.56.38", dport=80)
    lap("probe")
    rules = nl.parse_iptables((data / "iptables-save.txt").read_text())
    trace = rules.trace({"proto": "tcp", "src": "192.168.56.1", "dst": "192.168.56.38",
                         "sport": 40000, "dport": 80, "tcp_flags": "S"},
                        hook="PREROUTING", in_iface="enp0s8",
                        local_addrs=["192.168.56.38", "10.0.2.15", "172.17.0.1", "127.0.0.1"])
    lap("trace")
    host = nl.parse_host(*[(data / n).read_text() for n in ("ip-addr-show.txt", "ip-route.txt",
                                                            "brctl-show.txt")])
    lap("parse_host")
    blob = _pcapng(journey.capture_records)
    (out / "journey.pcapng").write_bytes(blob)
    lap("pcapng")
    full = ""  # journey.capture (a Capture: numpy arrays, pandas table) when numpy is there
    try:
        full = str(len(journey.capture))
    except ImportError as exc:  # Pyodide without its CDN: numpy is not in the npm package
        full = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return {
        "mode": net.mode,
        "summary": journey.summary(),
        "outcome": str(journey.outcome),
        "records": len(journey.capture_records),
        "verdict": trace.verdict,
        "trace": str(trace),
        "rules": [(st.position, st.matched) for st in trace.step_list if st.kind == "rule"],
        "links": sorted(link.name for link in host.links),
        "routes": len(host.route_list),
        "bridges": sorted(b.name for b in host.bridges),
        # after the section header (whose shb_os / shb_userappl name the platform)
        "pcapng_sha256": hashlib.sha256(blob[struct.unpack_from("<I", blob, 4)[0]:]).hexdigest(),
        "pcapng_blocks": _blocks(blob),
        "capture": full,
        "heavy_modules": sorted(m for m in ("pandas", "matplotlib", "networkx", "scapy", "numpy")
                                if m in sys.modules),
        "times": times,
    }


if __name__ == "__main__":
    print("NETLAB-SMOKE " + json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
