"""The rtnetlink requests the lab sends for its ip-batch lines (no root needed)."""

from __future__ import annotations

import struct

from netlab.lab import rtnl
from netlab.lab.plan import make_plan
from netlab.scenarios import catalogue


def test_every_container_batch_is_sent_in_process():
    plan = make_plan(catalogue.many_containers(5), "nl0d0e0f")
    batches = [c for c in plan.commands if c.argv[:2] == ["ip", "-n"] and c.argv[2] != "nl0d0e0f-host"]
    containers = [c for c in batches if c.argv[2] in {f"nl0d0e0f-c{i}" for i in range(1, 6)}]
    assert len(containers) == 5 and all(c.inprocess for c in containers)
    assert all(c.inprocess for c in batches)  # client, gateway, internet too: no bridges of their own
    assert not make_plan(catalogue.many_containers(5), "nl0d0e0f", inprocess=False).commands[3].inprocess


def test_unknown_lines_are_left_to_ip():
    assert rtnl.can_apply("link set dev eth0 up\naddr add 172.17.0.2/16 dev eth0\n"
                          "route add default via 172.17.0.1 dev eth0\n")
    assert not rtnl.can_apply("link add name br0 type bridge\n")
    assert not rtnl.can_apply("route add default via 172.17.0.1 dev eth0 onlink\n")


def test_messages_are_what_ip_sends():
    msgs = rtnl._messages("addr add 172.17.0.2/16 dev eth0\nroute add default via 172.17.0.1 dev eth0\n"
                          "link set dev eth0 up\n", {"eth0": 7})
    addr, route, up = (m for m, _ in msgs)
    length, typ, flags, seq, _ = struct.unpack_from("IHHII", addr)
    assert (length, typ, seq) == (len(addr), rtnl.RTM_NEWADDR, 1)
    assert flags & rtnl.NLM_F_CREATE and flags & rtnl.NLM_F_EXCL and flags & rtnl.NLM_F_ACK
    family, prefixlen, _f, _s, index = struct.unpack_from("BBBBI", addr, 16)
    assert (family, prefixlen, index) == (2, 16, 7)
    assert bytes([172, 17, 0, 2]) in addr
    _l, typ, *_ = struct.unpack_from("IHHII", route)
    fam, dst_len, _s, _t, table, proto, scope, rtype, _fl = struct.unpack_from("BBBBBBBBI", route, 16)
    assert (typ, dst_len, table, proto, scope, rtype) == (rtnl.RTM_NEWROUTE, 0, 254, 3, 0, 1)
    assert bytes([172, 17, 0, 1]) in route
    _l, typ, *_ = struct.unpack_from("IHHII", up)
    _fam, _t, index, flags, change = struct.unpack_from("BxHiII", up, 16)
    assert (typ, index, flags, change) == (rtnl.RTM_NEWLINK, 7, 1, 1)
