"""``netlab why SRC DST:PORT --state FILE | --paste FILE...``: simulate the host a
snapshot (or your pasted command outputs) describes and say where and why a packet
from SRC to DST:PORT stopped."""

from __future__ import annotations

import argparse
from pathlib import Path

from netlab.errors import NetlabError, UsageError
from netlab.numbers import port as to_port


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("why", help="why a packet to DST:PORT stops, on your pasted or snapshot host",
                              description="Build the host from a snapshot (--state) or pasted command "
                              "outputs (--paste), send SRC -> DST:PORT in the simulator and say in one "
                              "paragraph where and why it stopped.")
    p.add_argument("src", help="node name (client, internet, host, a container) or address")
    p.add_argument("dst", help="DST:PORT (node name or address, and the port)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--state", default=None, help="a `netlab snapshot` JSON file")
    src.add_argument("--paste", nargs="+", default=None, help="text files of pasted command outputs")
    p.add_argument("--docker", default=None, help="`docker inspect CONTAINER` output (file)")
    p.add_argument("--kind", default="tcp", choices=["tcp", "http", "udp", "ping"])
    p.add_argument("--journey", action="store_true", help="print the journey hop by hop too")
    p.add_argument("--notes", action="store_true", help="print what was guessed about the host")
    p.set_defaults(func=_run)


def _read(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot read it ({exc.strerror})") from None


def _split_dst(text: str, kind: str) -> tuple[str, int | None]:
    host, sep, port = text.rpartition(":")
    if not sep:
        if kind == "ping":
            return text, None
        raise UsageError(f"{text}: give DST:PORT, e.g. 192.168.56.38:80")
    number = to_port(port)
    if number is None:
        raise UsageError(f"{text}: the port must be 1-65535")
    return host, number


def _run(args: argparse.Namespace) -> int:
    from netlab.model import HostState
    from netlab.parse import parse_host
    from netlab.scenarios.from_state import from_state
    from netlab.why import why

    dst, dport = _split_dst(args.dst, args.kind)
    if args.state:
        state = HostState.from_json(_read(args.state, "--state"))
    else:
        state = parse_host(*(_read(f, "--paste") for f in args.paste))
    docker = _read(args.docker, "--docker") if args.docker else None
    scenario = from_state(state, docker=docker)
    try:
        answer = why(scenario, src=args.src, dst=dst, dport=dport, kind=args.kind)
    except NetlabError:
        raise
    print(answer.text)
    if args.notes:
        for n in scenario.notes:
            print(f"  guessed: {n}")
    if args.journey:
        print(answer.journey.summary())
    return 1 if answer.stopped else 0
