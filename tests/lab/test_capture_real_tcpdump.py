"""load_capture on files the real tcpdump wrote (Ethernet, nanosecond pcap, `-i any` SLL2),
made in two throw-away namespaces joined by a veth pair; nothing touches the root namespace."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

import pytest
from conftest import needs

from netlab.capture import load_capture

pytestmark = needs("tcpdump")

A_IP, B_IP = "198.51.100.1", "198.51.100.2"  # documentation range


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=20)


@pytest.fixture
def pair(unique_prefix: str):
    a, b = f"{unique_prefix}-a", f"{unique_prefix}-b"
    try:
        _run("ip", "netns", "add", a)
        _run("ip", "netns", "add", b)
        _run("ip", "-n", a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", b)
        _run("ip", "-n", a, "addr", "add", f"{A_IP}/24", "dev", "va")
        _run("ip", "-n", b, "addr", "add", f"{B_IP}/24", "dev", "vb")
        for ns, dev in ((a, "va"), (b, "vb"), (a, "lo"), (b, "lo")):
            _run("ip", "-n", ns, "link", "set", dev, "up")
        yield a, b
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


SERVER = """
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.1", 8080)); s.listen(1); s.settimeout(10)
conn, _ = s.accept(); conn.settimeout(5)
data = conn.recv(100); conn.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\nhello " + data[:3]); conn.close()
"""
CLIENT = """
import socket, time
c = socket.create_connection(("198.51.100.1", 8080), timeout=5)
c.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n"); print(c.recv(100)); c.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"anyone?", ("198.51.100.1", 9999)); time.sleep(0.2)
"""


def _capture(ns: str, peer: str, path: str, *tcpdump_args: str) -> None:
    """tcpdump in ``ns`` while ``peer`` talks to a TCP server there and sends a UDP datagram
    to a closed port; every process is stopped by its pid."""
    import sys

    py = [sys.executable]
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-n", "-U", "-w", path,
                             *tcpdump_args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = None
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        server = subprocess.Popen(["ip", "netns", "exec", ns, *py, "-c", SERVER])
        time.sleep(0.5)
        subprocess.run(["ip", "netns", "exec", peer, *py, "-c", CLIENT], capture_output=True,
                       timeout=20, check=True)
        server.wait(timeout=10)
        time.sleep(0.3)
    finally:
        for p in (server, proc):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGINT)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=10)


@pytest.mark.parametrize("args, linktype", [
    (("-i", "va"), 1),
    (("-i", "va", "--time-stamp-precision", "nano"), 1),
    (("-i", "any"), 276),
])
def test_real_tcpdump_files(pair, tmp_path, args, linktype) -> None:
    a, b = pair
    path = str(tmp_path / "real.pcap")
    _capture(a, b, path, *args)
    from netlab.capture import follow_stream
    from netlab.capture.pcapng import LINKTYPE_LINUX_SLL

    cap = load_capture(path)
    assert cap.problem is None
    assert {i.linktype for i in cap.interfaces} <= {linktype, LINKTYPE_LINUX_SLL}
    syn = cap.numbers("tcp.flags.syn == 1 and tcp.flags.ack == 0")
    assert len(syn) == 1 and cap.df.src[syn[0]] == B_IP and cap.df.dport[syn[0]] == 8080
    assert cap.numbers("tcp.flags.syn == 1 and tcp.flags.ack == 1 and ip.src == 198.51.100.1")
    stream = follow_stream(cap, syn[0])
    assert stream.client_data == b"GET / HTTP/1.0\r\n\r\n"
    assert stream.server_data == b"HTTP/1.0 200 OK\r\n\r\nhello GET"
    unreachable = cap.numbers("icmp.type == 3")
    assert unreachable and cap.frame(unreachable[0]).quoted.dport == 9999
    found = cap.expert(tag=False)
    assert set(found[found.tag == "icmp-unreachable"].number) == set(unreachable)
    assert cap.packet(syn[0]).haslayer("TCP")
    if shutil.which("tshark"):
        out = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "ip.src", "-e", "ip.dst",
                              "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "frame.time_epoch",
                              "-E", "occurrence=f"],  # an ICMP error quotes a 2nd header
                             capture_output=True, text=True, timeout=60, check=True).stdout
        rows = [r.split("\t") for r in out.split("\n") if r]
        theirs = [[r[0] or r[2], r[1] or r[3]] for r in rows]  # IPv4 or IPv6 (MLD, RS…)
        ours = cap.df[["src", "dst"]].astype(object).where(cap.df[["src", "dst"]].notna(), "")
        assert theirs == ours.values.tolist()
        for r, t in zip(rows, cap.df.time.tolist(), strict=True):
            assert abs(float(r[4]) - t) < 1e-6
