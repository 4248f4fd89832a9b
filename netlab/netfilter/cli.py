"""``netlab trace RULESFILE ...`` — trace a packet through a saved rule set.

Example::

    iptables-save > rules.txt
    netlab trace rules.txt --hook PREROUTING --proto tcp --src 192.168.56.1 \\
        --dst 192.168.56.38 --dport 80 --in-iface enp0s8 --local 192.168.56.38
"""

from __future__ import annotations

import argparse
from pathlib import Path

from netlab.errors import NetlabError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``trace`` command to the ``netlab`` command line."""
    p = subparsers.add_parser(
        "trace", help="walk a packet through an iptables rule set, rule by rule",
        description="Read iptables-save or iptables -S output and show, rule by rule, what the "
                    "kernel would do with one packet at one hook.")
    p.add_argument("rulesfile", help="file with iptables-save or iptables -S output ('-' = stdin)")
    p.add_argument("--hook", default="PREROUTING",
                   choices=["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
                   type=str.upper)
    p.add_argument("--proto", "-p", default="tcp", help="tcp, udp, icmp or a protocol number")
    p.add_argument("--src", "-s", required=True, help="source IPv4 address")
    p.add_argument("--dst", "-d", required=True, help="destination IPv4 address")
    p.add_argument("--sport", default=None, help="source port (number or service name)")
    p.add_argument("--dport", default=None, help="destination port (number or service name)")
    p.add_argument("--flags", default=None, help="TCP flags: tcpdump letters (S, SA, PA...) or SYN,ACK")
    p.add_argument("--icmp-type", default=None, help="ICMP type: 8, echo-request, port-unreachable...")
    p.add_argument("--icmp-code", default=None)
    p.add_argument("--mark", type=lambda s: int(s, 0), default=0)
    p.add_argument("--in-iface", "-i", default=None)
    p.add_argument("--out-iface", "-o", default=None)
    p.add_argument("--local", action="append", default=[], metavar="ADDR",
                   help="an address of this host (repeat); for addrtype LOCAL")
    p.add_argument("--iface-addr", action="append", default=[], metavar="IFACE=ADDR/PLEN",
                   help="an interface's address (repeat); for MASQUERADE and addrtype")
    p.add_argument("--ct-state", default="NEW",
                   choices=["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"], type=str.upper)
    p.add_argument("--table", action="append", default=None, dest="tables",
                   help="only run this table (repeat)")
    p.add_argument("--ipset", action="append", default=[], metavar="NAME=MEMBER[,MEMBER...]",
                   help="an ipset's members (repeat) for -m set")
    p.add_argument("--seed", type=int, default=0, help="chooses -m statistic outcomes")
    p.set_defaults(func=run)


def _pairs(items: list[str], what: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise NetlabError(f"--{what} wants NAME=VALUE, got {item!r}")
        values = [v for v in value.split(",") if v] if what == "ipset" else [value]
        out.setdefault(key, []).extend(values)
    return out


def run(args: argparse.Namespace) -> int:
    import sys

    from netlab.netfilter import Packet, parse_iptables

    if args.rulesfile == "-":
        text = sys.stdin.read()
    else:
        path = Path(args.rulesfile)
        if not path.is_file():
            raise NetlabError(f"no such file: {path} (save the rules with `iptables-save > {path.name}`)")
        text = path.read_text(encoding="utf-8", errors="replace")
    ruleset = parse_iptables(text)
    packet = Packet.from_dict({"proto": args.proto, "src": args.src, "dst": args.dst, "sport": args.sport,
                               "dport": args.dport, "tcp_flags": args.flags, "icmp_type": args.icmp_type,
                               "icmp_code": args.icmp_code, "mark": args.mark})
    iface_addrs = _pairs(args.iface_addr, "iface-addr") or None
    trace = ruleset.trace(packet, hook=args.hook, in_iface=args.in_iface, out_iface=args.out_iface,
                          local_addrs=args.local, ct_state=args.ct_state, tables=args.tables,
                          ipsets=_pairs(args.ipset, "ipset") or None, seed=args.seed,
                          iface_addrs=iface_addrs)
    for w in ruleset.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(trace)
    return 0
