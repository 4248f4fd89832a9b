"""``netlab trace RULESFILE ...`` — trace a packet through a saved rule set.

Example::

    iptables-save > rules.txt
    netlab trace rules.txt --hook PREROUTING --proto tcp --src 192.168.56.1 \\
        --dst 192.168.56.38 --dport 80 --in-iface enp0s8 --local 192.168.56.38
"""

from __future__ import annotations

import argparse
from pathlib import Path

from netlab.cliargs import iface_addr, ifname, int_range, ip_address, name_or_number
from netlab.errors import NetlabError, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``trace`` command to the ``netlab`` command line."""
    from netlab.netfilter.packet import PROTO_NUMBER

    p = subparsers.add_parser(
        "trace", help="walk a packet through an iptables rule set, rule by rule",
        description="Read iptables-save or iptables -S output and show, rule by rule, what the "
                    "kernel would do with one packet at one hook.")
    p.add_argument("rulesfile", help="file with iptables-save or iptables -S output ('-' = stdin)")
    p.add_argument("--hook", default="PREROUTING",
                   choices=["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
                   type=str.upper)
    p.add_argument("--proto", "-p", default="tcp", type=name_or_number(PROTO_NUMBER, "protocol"),
                   help="tcp, udp, icmp or a protocol number 0-255")
    p.add_argument("--src", "-s", required=True, help="source IPv4 address")
    p.add_argument("--dst", "-d", required=True, help="destination IPv4 address")
    p.add_argument("--sport", default=None, help="source port (number or service name)")
    p.add_argument("--dport", default=None, help="destination port (number or service name)")
    p.add_argument("--flags", default=None, help="TCP flags: tcpdump letters (S, SA, PA...) or SYN,ACK")
    p.add_argument("--icmp-type", default=None, type=_icmp_type_arg,
                   help="ICMP type: 8, echo-request, port-unreachable...")
    p.add_argument("--icmp-code", default=None, type=int_range(0, 255, "--icmp-code"))
    p.add_argument("--mark", type=int_range(0, 0xFFFFFFFF, "--mark"), default=0,
                   help="the packet's fwmark, 0-0xffffffff")
    p.add_argument("--in-iface", "-i", default=None, type=ifname)
    p.add_argument("--out-iface", "-o", default=None, type=ifname)
    p.add_argument("--local", action="append", default=[], metavar="ADDR", type=ip_address,
                   help="an address of this host (repeat); for addrtype LOCAL")
    p.add_argument("--iface-addr", action="append", default=[], metavar="IFACE=ADDR/PLEN", type=iface_addr,
                   help="an interface's address (repeat); for MASQUERADE and addrtype")
    p.add_argument("--ct-state", default="NEW",
                   choices=["NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED"], type=str.upper)
    p.add_argument("--table", action="append", default=None, dest="tables",
                   choices=["raw", "mangle", "nat", "filter", "security"],
                   help="only run this table (repeat)")
    p.add_argument("--ipset", action="append", default=[], metavar="NAME=MEMBER[,MEMBER...]",
                   help="an ipset's members (repeat) for -m set")
    p.add_argument("--seed", type=int_range(0, 2**63 - 1, "--seed"), default=0,
                   help="chooses -m statistic outcomes")
    p.set_defaults(func=run)


def _icmp_type_arg(text: str) -> str:
    """``--icmp-type`` as ``_icmp_type`` reads it (8, 3/3, echo-request), type and code 0-255."""
    from netlab.netfilter.packet import PacketError, _icmp_type

    try:
        itype, code = _icmp_type(text)
    except PacketError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if not 0 <= itype <= 255 or (code is not None and not 0 <= code <= 255):
        raise argparse.ArgumentTypeError(f"ICMP type {text!r} is out of range: type and code are 0..255")
    return text


def _pairs(items: list[str], what: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or not value:
            raise UsageError(f"--{what} wants NAME=VALUE, got {item!r}")
        values = [v for v in value.split(",") if v] if what == "ipset" else [value]
        out.setdefault(key, []).extend(values)
    return out


def _packet(args: argparse.Namespace):  # noqa: ANN202 - a Packet
    from netlab.netfilter import Packet

    return Packet.from_dict({"proto": args.proto, "src": args.src, "dst": args.dst, "sport": args.sport,
                             "dport": args.dport, "tcp_flags": args.flags, "icmp_type": args.icmp_type,
                             "icmp_code": args.icmp_code, "mark": args.mark})


def run(args: argparse.Namespace) -> int:
    import sys

    from netlab.netfilter import parse_iptables
    from netlab.netfilter.packet import PacketError

    if args.rulesfile == "-":
        text = sys.stdin.read()
    else:
        path = Path(args.rulesfile)
        if not path.is_file():
            raise NetlabError(f"no such file: {path} (save the rules with `iptables-save > {path.name}`)")
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise NetlabError(f"cannot read {path}: {exc.strerror or exc}") from None
    ruleset = parse_iptables(text)
    try:
        packet = _packet(args)
    except PacketError as exc:  # every field came from an argument
        raise UsageError(str(exc)) from None
    iface_addrs = _pairs(args.iface_addr, "iface-addr") or None
    trace = ruleset.trace(packet, hook=args.hook, in_iface=args.in_iface, out_iface=args.out_iface,
                          local_addrs=args.local, ct_state=args.ct_state, tables=args.tables,
                          ipsets=_pairs(args.ipset, "ipset") or None, seed=args.seed,
                          iface_addrs=iface_addrs)
    for w in ruleset.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(trace)
    return 0
