"""Hand-built capture records for the capture tests: the article's port forward seen on
enp0s8 and docker0, with the DNAT in between (same IP ID and TCP seq on both sides)."""

from __future__ import annotations

from netlab.packet import Frame

CLIENT_MAC = "0a:00:27:00:00:00"
HOST_MAC = "08:00:27:b3:56:07"
BRIDGE_MAC = "02:42:68:de:b6:2a"
WEB_MAC = "02:42:ac:11:00:02"
GET = b"GET / HTTP/1.1\r\nHost: 192.168.56.38\r\n\r\n"
RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello"


def _tcp(src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: str,
         ip_id: int, ttl: int = 64, payload: bytes = b"", smac: str = CLIENT_MAC,
         dmac: str = HOST_MAC, window: int = 64240) -> Frame:
    return Frame(src_mac=smac, dst_mac=dmac, proto="tcp", src=src, dst=dst, ttl=ttl, ip_id=ip_id,
                 sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, payload=payload,
                 window=window)


def port_forward_records(sport: int = 40000) -> list[tuple]:
    """An HTTP GET to 192.168.56.38:80 DNATed to 172.17.0.2:80, each packet on enp0s8 and
    on docker0 (records: time, netns, iface, Frame)."""
    c, h, w = "192.168.56.1", "192.168.56.38", "172.17.0.2"
    out: list[tuple] = []
    t = 1.0

    def both(f_out: Frame, inbound: bool) -> None:
        nonlocal t
        if inbound:  # client -> server: enp0s8 first, DNAT, then docker0
            out.append((t, "host", "enp0s8", f_out))
            out.append((t + 0.0001, "host", "docker0",
                        f_out.copy(dst=w, ttl=f_out.ttl - 1, src_mac=BRIDGE_MAC, dst_mac=WEB_MAC)))
        else:  # server -> client: docker0 first, de-NAT, then enp0s8
            out.append((t, "host", "docker0", f_out))
            out.append((t + 0.0001, "host", "enp0s8",
                        f_out.copy(src=h, ttl=f_out.ttl - 1, src_mac=HOST_MAC, dst_mac=CLIENT_MAC)))
        t += 0.001

    both(_tcp(c, h, sport, 80, 1000, 0, "S", 0x1111), True)
    both(_tcp(w, c, 80, sport, 5000, 1001, "SA", 0, smac=WEB_MAC, dmac=BRIDGE_MAC), False)
    both(_tcp(c, h, sport, 80, 1001, 5001, "A", 0x1112), True)
    both(_tcp(c, h, sport, 80, 1001, 5001, "PA", 0x1113, payload=GET), True)
    both(_tcp(w, c, 80, sport, 5001, 1001 + len(GET), "PA", 0x2222, payload=RESPONSE,
              smac=WEB_MAC, dmac=BRIDGE_MAC), False)
    both(_tcp(w, c, 80, sport, 5001 + len(RESPONSE), 1001 + len(GET), "FA", 0x2223,
              smac=WEB_MAC, dmac=BRIDGE_MAC), False)
    both(_tcp(c, h, sport, 80, 1001 + len(GET), 5002 + len(RESPONSE), "FA", 0x1114), True)
    both(_tcp(w, c, 80, sport, 5002 + len(RESPONSE), 1002 + len(GET), "A", 0x2224,
              smac=WEB_MAC, dmac=BRIDGE_MAC), False)
    return out


def arp_frame() -> Frame:
    return Frame(src_mac=BRIDGE_MAC, dst_mac="ff:ff:ff:ff:ff:ff", proto="arp", ethertype=0x0806,
                 arp_op=1, arp_sender_mac=BRIDGE_MAC, arp_sender_ip="172.17.0.1",
                 arp_target_ip="172.17.0.2")


def ping_frames() -> list[Frame]:
    req = Frame(src_mac=WEB_MAC, dst_mac=BRIDGE_MAC, proto="icmp", src="172.17.0.2",
                dst="203.0.113.10", ttl=64, ip_id=77, icmp_type=8, icmp_code=0, icmp_id=9,
                icmp_seq=1, payload=b"abcdefgh")
    unreach = Frame(src_mac=BRIDGE_MAC, dst_mac=WEB_MAC, proto="icmp", src="172.17.0.1",
                    dst="172.17.0.2", ttl=64, ip_id=78, icmp_type=3, icmp_code=3, quoted=req)
    return [req, unreach]


def no_text_overlaps(fig) -> None:  # noqa: ANN001
    """No two texts overlap, and every text lies inside the figure."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fb = fig.bbox
    boxes = []
    for t in fig.findobj(lambda a: a.__class__.__name__ in ("Text", "Annotation")):
        if not t.get_text().strip() or not t.get_visible():
            continue
        bb = t.get_window_extent(renderer)
        assert bb.x0 >= fb.x0 - 1 and bb.x1 <= fb.x1 + 1 and bb.y0 >= fb.y0 - 1 and \
            bb.y1 <= fb.y1 + 1, f"cut off: {t.get_text()!r}"
        boxes.append((t.get_text(), bb.shrunk(0.97, 0.9)))
    for k, (ta, a) in enumerate(boxes):
        for tb, b in boxes[k + 1:]:
            assert not a.overlaps(b), f"{ta!r} overlaps {tb!r}"


def unwrapped(text: str) -> str:
    """A figure's text with its line wrapping undone (draw_flow wraps labels and NAT notes to
    the column: after an arrow, or between words)."""
    return text.replace("→\n", "→").replace("\n", " ")
