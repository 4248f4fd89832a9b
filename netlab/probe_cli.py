"""``netlab probe KIND --src … --dst …``: send a probe through a scenario, in the
simulator or the lab (``--mode``), and print its journey, one line a hop."""

from __future__ import annotations

import argparse

from netlab.cliargs import float_range, int_range
from netlab.errors import NetlabError, UsageError
from netlab.mode import connect
from netlab.probe import KINDS
from netlab.scenarios.catalogue import scenario_by_name


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("probe", help="send a probe and print its journey hop by hop",
                              description="Send a ping / TCP / HTTP / UDP / traceroute / arping "
                              "probe through a scenario and print where the packet went.")
    p.add_argument("kind", choices=list(KINDS))
    p.add_argument("--src", default="client", help="node name or address (default: client)")
    p.add_argument("--dst", default="host", help="node name or address (default: host)")
    p.add_argument("--dport", default=None, help="destination port (tcp needs one)")
    p.add_argument("--sport", default=None, help="source port (tcp, http, udp; default: ephemeral)")
    p.add_argument("--count", type=int_range(1, 100, "--count"), default=1)
    p.add_argument("--payload", default=None, help="text to send (ping, udp)")
    p.add_argument("--timeout", type=float_range(0, 60, "--timeout"), default=2.0)
    p.add_argument("--ttl", type=int_range(1, 255, "--ttl"), default=None)
    p.add_argument("--name", default=None, help="the name a dns probe looks up (dns --dst 127.0.0.11 --name db)")
    p.add_argument("--scenario", default="seed",
                   help="seed, docker27, docker28, docker29 or a catalogue scenario name")
    p.add_argument("--docker-version", default=None, metavar="VERSION",
                   help="Docker version for catalogue scenarios (27, 28, 29, …)")
    p.add_argument("--version", nargs="?", action=_OldVersionOption, help=argparse.SUPPRESS)
    p.add_argument("--seed", type=int_range(0, 2**63 - 1, "--seed"), default=0, help="random seed of the scenario")
    p.add_argument("--mode", default="sim", choices=["sim", "lab", "auto"])
    p.add_argument("--events", action="store_true", help="print every event, not one line a hop")
    p.add_argument("--pcap", default=None, help="write the capture to this pcapng file")
    p.set_defaults(func=_run)


class _OldVersionOption(argparse.Action):
    """``probe --version 29`` was the Docker version: say its new name instead of guessing."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        raise UsageError(f"probe: the Docker version is now `--docker-version {values or 'N'}`"
                         " (`netlab --version` prints netlab's own version)")


def _checked_args(args: argparse.Namespace):  # noqa: ANN202 - the Scenario to probe
    """The scenario the arguments name, and a --pcap that can be written, or a UsageError
    (before anything is sent)."""
    from netlab.cliargs import writable_file

    if args.pcap is not None:
        writable_file(args.pcap, "--pcap")
    base, at, pinned = args.scenario.partition("@")
    version = args.docker_version or (pinned if at else None)
    if base in ("seed", "seed_host") and version is not None:
        raise UsageError(f"--docker-version {version}: the seed scenario is the article's host as pasted "
                         "(its rules are fixed); use --scenario docker27/docker28/docker29 or a "
                         "catalogue scenario to pick the Docker version")
    if version is not None:
        from netlab.scenarios import resolve_version

        try:
            resolve_version(version)
        except NetlabError as exc:
            raise UsageError(f"--docker-version {version}: {exc}") from None
    return scenario_by_name(args.scenario, args.docker_version, args.seed)


def _run(args: argparse.Namespace) -> int:
    scenario = _checked_args(args)
    net = connect(args.mode, scenario, quiet=True)
    try:
        j = net.probe(args.kind, src=args.src, dst=args.dst, dport=args.dport, sport=args.sport,
                      count=args.count, timeout=args.timeout, payload=args.payload, ttl=args.ttl, name=args.name)
    finally:
        net.close()
    print(j.summary(detail=True))
    if j.result.get("name"):
        print(f"{j.result['name']}: {j.result.get('rcode') or 'no answer'}"
              + (f" {' '.join(j.result['answers'])}" if j.result.get("answers") else ""))
    if args.events:
        for e in j.steps:
            where = f"{e.node}:{e.iface}" if e.iface else e.node
            print(f"{e.seq:4d} {e.time * 1e6:8.0f}us {e.kind:9s} {where:24s} {e.detail}")
    if args.pcap and j.capture is not None:
        try:
            j.capture.to_pcapng(args.pcap)
        except OSError as exc:
            raise UsageError(f"--pcap {args.pcap}: cannot write it ({exc.strerror or exc}); "
                             "choose a file in a folder you can write to") from None
        print(f"capture written to {args.pcap}")
    return 0 if j.ok else 1
