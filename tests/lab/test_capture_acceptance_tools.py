"""Acceptance tests for issue 7 on captures real tools made (tcpdump, tcpdump -i any,
tshark, dumpcap + editcap comments, mergecap of nanosecond captures) in three throw-away
namespaces: a client, a router doing DNAT and MASQUERADE, and a server (documentation
addresses only; nothing touches the root namespace).  The traffic holds what Expert Info
flags: a real retransmission, RSTs, ICMP port unreachable, a zero window, duplicate ACKs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from conftest import needs

from netlab.capture import load_capture

pytestmark = needs("tcpdump", "tshark", "dumpcap", "editcap", "mergecap", "iptables")

CLI, R0 = "198.51.100.2", "198.51.100.1"
R1, SRV = "203.0.113.1", "203.0.113.2"

SERVER = r"""
import socket, threading, time, sys
def web():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", 80)); s.listen(4); s.settimeout(15)
    for _ in range(2):
        try:
            c, _ = s.accept()
        except OSError:
            return
        c.settimeout(5)
        data = b""
        while not data.endswith(b"\r\n\r\n") and len(data) < 4000:
            part = c.recv(4000)
            if not part:
                break
            data += part
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nhello netlab")
        c.close()
def sink(port, bufsize, pause):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, bufsize)
    s.bind(("0.0.0.0", port)); s.listen(1); s.settimeout(15)
    try:
        c, _ = s.accept()
    except OSError:
        return
    time.sleep(pause)  # a slow reader: its window closes
    c.settimeout(3)
    try:
        while c.recv(65536):
            pass
    except OSError:
        pass
    c.close()
ts = [threading.Thread(target=web), threading.Thread(target=sink, args=(82, 2048, 1.5)),
      threading.Thread(target=sink, args=(83, 1 << 20, 0))]
for t in ts: t.start()
print("ready", flush=True)
for t in ts: t.join(20)
"""

CLIENT = r"""
import socket, time
R0 = "198.51.100.1"
def get(port, body=b""):
    c = socket.create_connection((R0, port), timeout=5)
    c.sendall(b"GET / HTTP/1.0\r\nX-Pad: " + body + b"\r\n\r\n")
    out = b""
    while True:
        part = c.recv(4000)
        if not part:
            break
        out += part
    c.close()
    return out
print(get(8080))
print(get(8081, b"r" * 300))  # its first data segment is dropped once: retransmitted
for port in (9, 8090):  # closed ports: RST from the server, RST from the router itself
    try:
        socket.create_connection((R0 if port == 8090 else "203.0.113.2", port), timeout=2)
    except OSError:
        pass
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"is anyone there?", ("203.0.113.2", 5353)); time.sleep(0.2)
z = socket.create_connection((R0, 8082), timeout=5)  # the slow reader
z.setblocking(False)
end = time.monotonic() + 1.2
while time.monotonic() < end:
    try:
        z.send(b"z" * 8192)
    except BlockingIOError:
        time.sleep(0.01)
z.close()
d = socket.create_connection((R0, 8083), timeout=5)  # one segment lost in the middle
d.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for k in range(12):
    d.send(bytes([65 + k]) * 600); time.sleep(0.002)
time.sleep(0.8)
d.close()
"""


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=check, capture_output=True, timeout=30, text=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):  # noqa: ANN201
    import uuid

    prefix = f"nlt{uuid.uuid4().hex[:5]}"
    cli, rtr, srv = f"{prefix}-cli", f"{prefix}-rtr", f"{prefix}-srv"
    folder = tmp_path_factory.mktemp("tools")
    try:
        for ns in (cli, rtr, srv):
            _run("ip", "netns", "add", ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", cli, "link", "add", "c0", "type", "veth", "peer", "name", "r0", "netns", rtr)
        _run("ip", "-n", srv, "link", "add", "s0", "type", "veth", "peer", "name", "r1", "netns", rtr)
        for ns, dev, addr in ((cli, "c0", f"{CLI}/24"), (rtr, "r0", f"{R0}/24"),
                              (rtr, "r1", f"{R1}/24"), (srv, "s0", f"{SRV}/24")):
            _run("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            _run("ip", "-n", ns, "link", "set", dev, "up")
        _run("ip", "-n", cli, "route", "add", "default", "via", R0)
        _run("ip", "-n", srv, "route", "add", "default", "via", R1)
        _run("ip", "netns", "exec", rtr, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        ipt = ["ip", "netns", "exec", rtr, "iptables"]
        for port, to in ((8080, 80), (8081, 80), (8082, 82), (8083, 83)):
            _run(*ipt, "-t", "nat", "-A", "PREROUTING", "-i", "r0", "-p", "tcp", "--dport",
                 str(port), "-j", "DNAT", "--to-destination", f"{SRV}:{to}")
        _run(*ipt, "-t", "nat", "-A", "POSTROUTING", "-o", "r1", "-j", "MASQUERADE")
        _run(*ipt, "-A", "INPUT", "-p", "tcp", "--dport", "8090", "-j", "REJECT",
             "--reject-with", "tcp-reset")
        sipt = ["ip", "netns", "exec", srv, "iptables"]
        # the first data segment of the 8081 connection (the only one over 300 bytes) is
        # lost once; the 3rd full-size segment to port 83 is lost once
        _run(*sipt, "-A", "INPUT", "-p", "tcp", "--dport", "80", "-m", "length", "--length",
             "300:65535", "-m", "statistic", "--mode", "nth", "--every", "1000", "--packet", "0",
             "-j", "DROP")
        _run(*sipt, "-A", "INPUT", "-p", "tcp", "--dport", "83", "-m", "length", "--length",
             "600:65535", "-m", "statistic", "--mode", "nth", "--every", "1000", "--packet", "2",
             "-j", "DROP")
        links = json.loads(_run("ip", "-n", rtr, "-j", "link").stdout)
        names = {int(x["ifindex"]): x["ifname"] for x in links}
        files = _capture_all(cli, rtr, srv, folder)
        yield {"files": files, "names": names, "folder": folder, "ns": (cli, rtr, srv)}
    finally:
        for ns in (cli, rtr, srv):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def _capture_all(cli: str, rtr: str, srv: str, folder) -> dict[str, str]:  # noqa: ANN001
    f = {k: str(folder / v) for k, v in {
        "any": "rtr-any.pcap", "sll1": "rtr-any-sll1.pcap", "r0": "rtr-r0.pcap", "r1nano": "rtr-r1-nano.pcap",
        "r0nano": "rtr-r0-nano.pcap", "tshark": "rtr-tshark.pcapng", "dumpcap": "rtr-r1.pcapng",
        "server": "srv-s0.pcap"}.items()}
    ex = ["ip", "netns", "exec"]
    cmds = [
        [*ex, rtr, "tcpdump", "-n", "-U", "-i", "any", "-w", f["any"]],
        [*ex, rtr, "tcpdump", "-n", "-U", "-i", "any", "-y", "LINUX_SLL", "-w", f["sll1"]],
        [*ex, rtr, "tcpdump", "-n", "-U", "-i", "r0", "-w", f["r0"]],
        [*ex, rtr, "tcpdump", "-n", "-U", "-i", "r1", "--time-stamp-precision", "nano", "-w", f["r1nano"]],
        [*ex, rtr, "tcpdump", "-n", "-U", "-i", "r0", "--time-stamp-precision", "nano", "-w", f["r0nano"]],
        [*ex, rtr, "tshark", "-q", "-i", "r0", "-i", "r1", "-w", f["tshark"]],
        [*ex, rtr, "dumpcap", "-q", "-i", "r1", "-w", f["dumpcap"]],
        [*ex, srv, "tcpdump", "-n", "-U", "-i", "s0", "-w", f["server"]],
    ]
    procs = []
    server = None
    try:
        for c in cmds:
            procs.append(subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not all(os.path.exists(p) for p in f.values()):
            time.sleep(0.1)
        time.sleep(1.0)
        server = subprocess.Popen([*ex, srv, sys.executable, "-c", SERVER], stdout=subprocess.PIPE,
                                  text=True)
        assert server.stdout.readline().strip() == "ready"
        subprocess.run([*ex, cli, sys.executable, "-c", CLIENT], check=True, capture_output=True,
                       timeout=60)
        subprocess.run([*ex, cli, "ping", "-c", "2", "-i", "0.2", "-W", "1", SRV],
                       capture_output=True, timeout=20)
        server.wait(timeout=30)
        time.sleep(1.0)
    finally:
        for p in [server, *procs]:
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)
    return f


def _tshark(path: str, *fields: str, filt: str | None = None) -> list[list[str]]:
    args = ["tshark", "-r", path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=f"]
    if filt:
        args += ["-Y", filt]
    for x in fields:
        args += ["-e", x]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split("|") for line in out.splitlines()]


@pytest.mark.parametrize("which", ["any", "sll1", "r0", "r1nano", "tshark", "dumpcap", "server"])
def test_real_files_decode_as_tshark_does(lab, which: str) -> None:
    path = lab["files"][which]
    cap = load_capture(path, interface_names=lab["names"])
    truth = _tshark(path, "frame.number", "ip.src", "ip.dst", "tcp.srcport", "udp.srcport",
                    "tcp.flags", "frame.time_epoch", "frame.interface_name")
    assert len(cap) == len(truth) > 20
    df = cap.df
    for row in truth:
        n = int(row[0])
        if row[1]:
            assert (df.loc[n, "src"], df.loc[n, "dst"]) == (row[1], row[2]), (which, n)
        port = row[3] or row[4]
        if port and df.loc[n, "protocol"] in ("tcp", "udp"):
            assert str(df.loc[n, "sport"]) == port
        if row[5]:
            assert df.loc[n, "flags"] == _flags(int(row[5], 16))
        # nanosecond files keep every digit tshark shows
        sec, _, frac = row[6].partition(".")
        assert int(cap.times_ns[n - 1]) == int(sec) * 10**9 + int(frac.ljust(9, "0")[:9])
    if which in ("tshark", "dumpcap"):
        assert set(df.interface) == {x[7] for x in truth}
    if which == "any":
        assert {"r0", "r1"} <= set(df.interface) and cap.interfaces[0].linktype in (113, 276)
    if which == "sll1":  # Linux cooked v1 does not record the interface: one unnamed one
        assert cap.interfaces[0].linktype == 113 and set(df.interface) == {""}
        assert set(df.src_mac.dropna()) and (df.protocol == "tcp").sum() > 20


def _flags(v: int) -> str:
    from netlab.packet import int_to_flags

    return int_to_flags(v)


def test_several_interfaces_nanoseconds_merged(lab, tmp_path) -> None:
    out = str(tmp_path / "merged.pcapng")
    subprocess.run(["mergecap", "-I", "none", "-F", "pcapng", "-w", out, lab["files"]["r0nano"],
                    lab["files"]["r1nano"]], check=True, capture_output=True, timeout=60)
    cap = load_capture(out)
    truth = _tshark(out, "frame.time_epoch", "frame.interface_id")
    assert len(cap) == len(truth)
    for n, (t, iid) in enumerate(truth, start=1):
        sec, _, frac = t.partition(".")
        assert int(cap.times_ns[n - 1]) == int(sec) * 10**9 + int(frac.ljust(9, "0")[:9])
        assert int(cap._raw.ifaces[n - 1]) == int(iid)
    # the same packet before and after DNAT, on the two interfaces of the merged file
    props = cap.propose_links()
    df = cap.df
    kinds = dict(zip(zip(props.a, props.b, strict=True), props.nat, strict=True))
    for (a, _b), nat in kinds.items():
        if df.loc[a, "protocol"] == "tcp" and df.loc[a, "dport"] in (8080, 8081, 8082, 8083):
            assert nat == "both"
        if df.loc[a, "protocol"] == "icmp" and df.loc[a, "icmp_type"] == 8:  # MASQUERADE only
            assert nat == "src"
    assert {"both", "src", "dst"} <= set(kinds.values())


def test_dumpcap_file_with_editcap_comments(lab, tmp_path) -> None:
    src = lab["files"]["dumpcap"]
    out = str(tmp_path / "commented.pcapng")
    subprocess.run(["editcap", "-a", "1:first packet, by the teacher", "-a",
                    "3:tags: syn, lesson6", src, out], check=True, capture_output=True, timeout=60)
    cap = load_capture(out)
    assert cap.annotations[1].comment == "first packet, by the teacher"
    assert cap.annotations[3].tags == ["syn", "lesson6"]
    cap.annotate(2, comment="added in netlab")
    again_path = str(tmp_path / "again.pcapng")
    cap.to_pcapng(again_path)
    comments = _tshark(again_path, "frame.number", "frame.comment", filt="frame.comment")
    got = {int(r[0]): r[1] for r in comments}
    assert got == {1: "first packet, by the teacher", 2: "added in netlab", 3: "tags: syn, lesson6"}
    assert load_capture(again_path).annotations == cap.annotations


def test_expert_on_real_trouble(lab) -> None:
    cap = load_capture(lab["files"]["any"], interface_names=lab["names"])
    found = cap.expert()
    tags = set(found.tag)
    assert {"retransmission", "rst", "icmp-unreachable", "zero-window", "dup-ack"} <= tags, tags
    # what tshark's own analysis says, per interface (netlab looks at each on its own)
    for tag, wfilter in (("retransmission", "tcp.analysis.retransmission"),
                         ("zero-window", "tcp.analysis.zero_window"),
                         ("dup-ack", "tcp.analysis.duplicate_ack"),
                         ("out-of-order", "tcp.analysis.out_of_order"),
                         ("rst", "tcp.flags.reset == 1"),
                         ("icmp-unreachable", "icmp.type == 3")):
        per_if = _per_interface_truth(lab, wfilter)
        mine = set(found[found.tag == tag].number)
        theirs = {n for n in per_if}
        assert theirs <= mine, (tag, sorted(theirs - mine))
        if tag in ("rst", "icmp-unreachable", "retransmission", "out-of-order", "dup-ack",
                   "zero-window"):
            assert mine == theirs, (tag, sorted(mine ^ theirs))
    # the retransmitted request: the same bytes the server finally got
    retx = found[found.tag == "retransmission"].number.tolist()
    stream = cap.follow_stream(retx[0])
    assert stream.client_data.count(b"GET / HTTP/1.0") == 1
    assert "retransmission" in stream.segments.note.tolist()
    assert stream.server_data.endswith(b"hello netlab")


def _per_interface_truth(lab, wfilter: str) -> set[int]:  # noqa: ANN001
    """Packet numbers of the -i any file that tshark flags when each interface's packets are
    analysed on their own (as netlab does), mapped back to the whole file."""
    path = lab["files"]["any"]
    rows = _tshark(path, "frame.number", "sll.ifindex")
    by_if: dict[str, list[int]] = {}
    for n, ifindex in rows:
        by_if.setdefault(ifindex, []).append(int(n))
    out: set[int] = set()
    folder = lab["folder"]
    for ifindex, numbers in by_if.items():
        part = str(folder / f"part-{ifindex}.pcap")
        subprocess.run(["tshark", "-r", path, "-Y", f"sll.ifindex == {ifindex}", "-w", part, "-F",
                        "pcap"], check=True, capture_output=True, timeout=60)
        hits = _tshark(part, "frame.number", filt=wfilter)
        out |= {numbers[int(h[0]) - 1] for h in hits}
    return out


def test_follow_stream_and_flow_on_the_nated_hops(lab, tmp_path) -> None:
    from netlab.viz.flow import draw_flow

    cap = load_capture(lab["files"]["any"], interface_names=lab["names"])
    get_out = cap.numbers('iface == r0 and tcp.dstport == 8080 and tcp.len > 0')[0]
    get_in = cap.numbers('iface == r1 and tcp.dstport == 80 and tcp.len > 0')[0]
    a, b = cap.follow_stream(get_out), cap.follow_stream(get_in)
    assert a.server == (R0, 8080) and b.server == (SRV, 80)
    assert a.client[0] == CLI and b.client[0] == R1  # MASQUERADE on the way out
    assert a.client_data == b.client_data and a.server_data == b.server_data
    assert a.server_data.endswith(b"hello netlab")
    props = cap.propose_links()
    pair = props[(props.a == get_out) & (props.b == get_in)]
    assert pair.nat.tolist() == ["both"]  # DNAT and MASQUERADE on one router
    assert f"{R0}:8080 rewritten to {SRV}:80" in pair.reason.iloc[0]
    fig = draw_flow(cap, get_out)
    from _capture_records import unwrapped

    texts = [unwrapped(t.get_text()) for t in fig.findobj(lambda x: x.__class__.__name__ == "Text")]
    notes = [t for t in texts if t.startswith("NAT: ")]
    assert any(f"dst {R0}:8080→{SRV}:80" in t and f"src {CLI}" in t for t in notes), notes
    fig.savefig(tmp_path / "real-flow.png", dpi=80)
    from _capture_records import no_text_overlaps

    no_text_overlaps(fig)
    keep = os.environ.get("NETLAB_KEEP_FLOWS")
    if keep:
        shutil.copy(tmp_path / "real-flow.png", os.path.join(keep, "real-flow.png"))


@pytest.mark.parametrize("which", ["r0", "r1nano", "server", "dumpcap"])
def test_expert_matches_tshark_on_single_interface_files(lab, which: str) -> None:
    path = lab["files"][which]
    found = load_capture(path).expert(tag=False)
    for tag, wfilter in (("retransmission", "tcp.analysis.retransmission"),
                         ("out-of-order", "tcp.analysis.out_of_order"),
                         ("zero-window", "tcp.analysis.zero_window"),
                         ("dup-ack", "tcp.analysis.duplicate_ack"),
                         ("rst", "tcp.flags.reset == 1"),
                         ("icmp-unreachable", "icmp.type == 3")):
        theirs = {int(r[0]) for r in _tshark(path, "frame.number", filt=wfilter)}
        mine = set(found[found.tag == tag].number)
        assert mine == theirs, (which, tag, sorted(mine ^ theirs))
