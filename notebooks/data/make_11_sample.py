"""Write ``11_docker_host_any.pcap``: what ``sudo tcpdump -i any -w docker-host.pcap`` records
on a Docker host like the article's while a LAN client fetches the published web page.

tcpdump's ``-i any`` writes Linux "cooked" v2 headers (link type 276): each packet
carries the index of the interface it was seen on, not its name; ``ip -o link``
on the host maps the indexes to names.  The capture holds (in time order):

* ARP on docker0 and the veth as the host finds the container's MAC;
* a DNS query from the container, MASQUERADEd on its way out of enp0s3;
* an HTTP GET from 192.168.56.1 to 192.168.56.38:80 (DNAT to 172.17.0.2:80), seen on
  enp0s8, docker0 and the veth, with one retransmitted segment;
* a connection attempt to the host's closed port 8080, answered with RST.

Run ``python notebooks/data/make_11_sample.py`` to rebuild it (deterministic).
"""

from __future__ import annotations

import struct
from pathlib import Path

from netlab.capture.pcapng import LINKTYPE_LINUX_SLL2, write_pcap
from netlab.packet import Frame

IFINDEX = {"enp0s3": 2, "enp0s8": 3, "docker0": 4, "veth3c5a2f1": 6}
LAN_MAC, HOST_LAN = "0a:00:27:00:00:00", "08:00:27:b3:56:07"
HOST_WAN, GW_MAC = "08:00:27:1f:2e:3d", "52:54:00:12:35:02"
BRIDGE, WEB = "02:42:5e:71:0a:9c", "02:42:ac:11:00:02"
OUTGOING, HOST, BROADCAST = 4, 0, 1


def sll2(frame: Frame, iface: str, pkttype: int) -> bytes:
    raw = frame.to_bytes()
    mac = bytes.fromhex(frame.src_mac.replace(":", "")) + b"\0\0"
    return struct.pack("!HHIHBB8s", int.from_bytes(raw[12:14], "big"), 0, IFINDEX[iface], 1,
                       pkttype, 6, mac) + raw[14:]


def records() -> list[tuple[int, bytes]]:
    t = 1_700_000_000_000_000_000 + 123_456_789
    out: list[tuple[int, bytes]] = []

    def at(dt_us: int, frame: Frame, iface: str, pkttype: int) -> None:
        nonlocal t
        t += dt_us * 1000
        out.append((t, sll2(frame, iface, pkttype)))

    def tcp(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: str,
            ip_id: int, smac: str, dmac: str, ttl: int = 64, payload: bytes = b"") -> Frame:
        return Frame(src_mac=smac, dst_mac=dmac, proto="tcp", src=src, dst=dst, sport=sport,
                     dport=dport, seq=seq, ack=ack, flags=flags, ip_id=ip_id, ttl=ttl,
                     payload=payload, window=64240 if "S" in flags else 502)

    # the container resolves a name: ARP for its gateway, then DNS out through MASQUERADE
    who = Frame(src_mac=WEB, dst_mac="ff:ff:ff:ff:ff:ff", proto="arp", ethertype=0x0806, arp_op=1,
                arp_sender_mac=WEB, arp_sender_ip="172.17.0.2", arp_target_ip="172.17.0.1")
    at(0, who, "veth3c5a2f1", HOST)
    at(9, who, "docker0", BROADCAST)
    isat = Frame(src_mac=BRIDGE, dst_mac=WEB, proto="arp", ethertype=0x0806, arp_op=2,
                 arp_sender_mac=BRIDGE, arp_sender_ip="172.17.0.1", arp_target_mac=WEB,
                 arp_target_ip="172.17.0.2")
    at(31, isat, "docker0", OUTGOING)
    at(4, isat, "veth3c5a2f1", OUTGOING)
    query = (b"\x5c\x1d\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01")
    dns = Frame(src_mac=WEB, dst_mac=BRIDGE, proto="udp", src="172.17.0.2", dst="10.0.2.3",
                sport=51234, dport=53, ip_id=0x4a21, ttl=64, payload=query)
    at(40, dns, "veth3c5a2f1", HOST)
    at(6, dns, "docker0", HOST)
    at(22, dns.copy(src_mac=HOST_WAN, dst_mac=GW_MAC, src="10.0.2.15", ttl=63), "enp0s3", OUTGOING)
    answer = query[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + query[12:] + \
        b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x0e\x10\x00\x04\x5d\xb8\xd7\x0e"
    reply = Frame(src_mac=GW_MAC, dst_mac=HOST_WAN, proto="udp", src="10.0.2.3", dst="10.0.2.15",
                  sport=53, dport=51234, ip_id=0x0101, ttl=64, payload=answer)
    at(14_200, reply, "enp0s3", HOST)
    back = reply.copy(src_mac=BRIDGE, dst_mac=WEB, dst="172.17.0.2", ttl=63)
    at(35, back, "docker0", OUTGOING)
    at(3, back, "veth3c5a2f1", OUTGOING)

    # the LAN client fetches the published page: enp0s8 -> DNAT -> docker0 -> veth
    c, h, w = "192.168.56.1", "192.168.56.38", "172.17.0.2"
    sp, isn_c, isn_s = 51724, 2_806_531_001, 1_377_410_202
    get = b"GET / HTTP/1.1\r\nHost: 192.168.56.38\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
    body = b"<!DOCTYPE html>\n<html><body><h1>Welcome to nginx!</h1></body></html>\n"
    resp = (b"HTTP/1.1 200 OK\r\nServer: nginx/1.25.3\r\nContent-Type: text/html\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: keep-alive\r\n\r\n"
            + body)

    def inbound(frame: Frame, gap: int = 500) -> None:
        at(gap, frame, "enp0s8", HOST)
        fwd = frame.copy(src_mac=BRIDGE, dst_mac=WEB, dst=w, ttl=frame.ttl - 1)
        at(27, fwd, "docker0", OUTGOING)
        at(3, fwd, "veth3c5a2f1", OUTGOING)

    def outbound(frame: Frame, gap: int = 90) -> None:
        at(gap, frame, "veth3c5a2f1", HOST)
        at(4, frame, "docker0", HOST)
        at(24, frame.copy(src_mac=HOST_LAN, dst_mac=LAN_MAC, src=h, ttl=frame.ttl - 1),
           "enp0s8", OUTGOING)

    inbound(tcp(c, h, sp, 80, isn_c, 0, "S", 0x9b4b, LAN_MAC, HOST_LAN), gap=2_000_000)
    outbound(tcp(w, c, 80, sp, isn_s, isn_c + 1, "SA", 0, WEB, BRIDGE))
    inbound(tcp(c, h, sp, 80, isn_c + 1, isn_s + 1, "A", 0x9b4c, LAN_MAC, HOST_LAN))
    inbound(tcp(c, h, sp, 80, isn_c + 1, isn_s + 1, "PA", 0x9b4d, LAN_MAC, HOST_LAN, payload=get),
            gap=60)
    outbound(tcp(w, c, 80, sp, isn_s + 1, isn_c + 1 + len(get), "A", 0xd1e0, WEB, BRIDGE))
    outbound(tcp(w, c, 80, sp, isn_s + 1, isn_c + 1 + len(get), "PA", 0xd1e1, WEB, BRIDGE,
                 payload=resp), gap=700)
    # the client's ACK is lost on the LAN: the server sends the response again
    outbound(tcp(w, c, 80, sp, isn_s + 1, isn_c + 1 + len(get), "PA", 0xd1e2, WEB, BRIDGE,
                 payload=resp), gap=210_000)
    inbound(tcp(c, h, sp, 80, isn_c + 1 + len(get), isn_s + 1 + len(resp), "A", 0x9b4e,
                LAN_MAC, HOST_LAN), gap=900)
    inbound(tcp(c, h, sp, 80, isn_c + 1 + len(get), isn_s + 1 + len(resp), "FA", 0x9b4f,
                LAN_MAC, HOST_LAN), gap=300)
    outbound(tcp(w, c, 80, sp, isn_s + 1 + len(resp), isn_c + 2 + len(get), "FA", 0xd1e3,
                 WEB, BRIDGE))
    inbound(tcp(c, h, sp, 80, isn_c + 2 + len(get), isn_s + 2 + len(resp), "A", 0x9b50,
                LAN_MAC, HOST_LAN))

    # someone tries port 8080 on the host: nothing listens there, the host answers RST
    at(1_500_000, tcp(c, h, 51730, 8080, 4_100_000_000, 0, "S", 0x9b60, LAN_MAC, HOST_LAN),
       "enp0s8", HOST)
    at(61, tcp(h, c, 8080, 51730, 0, 4_100_000_001, "RA", 0, HOST_LAN, LAN_MAC), "enp0s8",
       OUTGOING)
    return out


def main() -> Path:
    path = Path(__file__).with_name("11_docker_host_any.pcap")
    path.write_bytes(write_pcap(LINKTYPE_LINUX_SLL2, records(), nanoseconds=False))
    return path


if __name__ == "__main__":
    print(main())
