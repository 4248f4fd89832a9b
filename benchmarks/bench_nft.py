"""nftables engine: parse a kube-proxy nftables-mode rule set and trace a packet through it.

Goals (issue 15): parse a 5,000-service rule set in kube-proxy's nftables shape (the
``service-ips`` verdict map, a chain per service with ``numgen … vmap``, a chain per
endpoint) in at most 2x the time ``nft -c -f`` takes on the same file, measured here in
a throwaway lab namespace (needs root and nft); trace a packet to a service VIP in
< 10 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks._requires import best_in_netns


def _nft_check_seconds(path: Path) -> tuple[float | None, str]:
    """Time ``nft -c -f`` on ``path`` inside a fresh lab namespace (never the root one)."""
    from netlab.lab.nft import loadable

    fixed = path.with_suffix(".loadable.nft")
    fixed.write_text(loadable(path.read_text()))
    return best_in_netns(["nft", "-c", "-f", str(fixed)])


OPTIONAL = ("root", "nft", "ip")  # only the nft -c -f baseline needs them


def main() -> None:
    from netlab.netfilter import parse_nft
    from netlab.netfilter.kube import kube_proxy_nft_rules, service_vip

    text = kube_proxy_nft_rules(services=5000)
    lines = text.count("\n")
    with tempfile.TemporaryDirectory(prefix="netlab-bench-") as tmp:
        path = Path(tmp) / "kube-proxy.nft"
        path.write_text(text)
        baseline, how = _nft_check_seconds(path)
        times = []
        rs = None
        for _ in range(3):
            rs = None
            t0 = time.perf_counter()
            rs = parse_nft(path.read_text())
            times.append(time.perf_counter() - t0)
        parse_s = min(times)
    assert rs is not None
    elems = sum(len(s.elems) for t in rs.tables for s in t.sets.values())
    print(f"rule set: 5000 services (kube-proxy nftables mode), {len(rs.rules)} rules, "
          f"{sum(len(t.chains) for t in rs.tables)} chains, {elems} set/map elements, {lines} lines")
    if baseline is not None:
        ratio = parse_s / baseline
        print(f"baseline  {how}: {baseline:.3f} s")
        print(f"parse_nft: {parse_s:.3f} s (best of 3) — ratio to nft -c -f {ratio:.2f}x (goal <= 2x) "
              f"{'OK' if ratio <= 2 else 'MISSED'}")
    else:
        print(f"baseline  nft -c -f: skipped ({how})")
        print(f"parse_nft: {parse_s:.3f} s (best of 3; no baseline to compare with)")

    kw = {"hook": "prerouting", "in_iface": "eth0", "local_addrs": ["192.168.1.10"]}
    packets = [{"proto": "tcp", "src": "192.168.1.5", "dst": service_vip(i), "sport": 40000,
                "dport": 80 if i % 3 else 9090} for i in (4321, 1, 2500, 4999, 777)]
    t0 = time.perf_counter()
    first = rs.trace(packets[0], **kw)
    cold_ms = (time.perf_counter() - t0) * 1000
    warm = []
    for k in range(50):
        pkt = packets[k % len(packets)]
        t0 = time.perf_counter()
        tr = rs.trace(pkt, seed=k, **kw)
        warm.append((time.perf_counter() - t0) * 1000)
        assert tr.nat is not None and tr.nat.kind == "DNAT", tr
    med = statistics.median(warm)
    print(f"trace to a service VIP: first {cold_ms:.2f} ms, then median {med:.3f} ms, max {max(warm):.3f} ms "
          f"over 50 (goal < 10 ms) {'OK' if cold_ms < 10 and max(warm) < 10 else 'MISSED'}")
    print(f"  {first.nat}  ({len(first.step_list)} steps shown)")


if __name__ == "__main__":
    main()
