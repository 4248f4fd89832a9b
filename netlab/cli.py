"""Layer 10 — ``netlab …`` on the command line.

Each layer that offers commands registers them here through a small
``register(subparsers)`` function in its own module, so this file only wires
them together:

- ``netlab snapshot`` / ``netlab show``  (netlab.snapshot_cli — host state)
- ``netlab trace``                       (netlab.netfilter.cli — rule tracer)
- ``netlab probe``                       (netlab.probe_cli — journeys, sim or lab)
- ``netlab lab up|down|plan``            (netlab.lab.cli — namespaces)
"""

from __future__ import annotations

import argparse
import importlib
import sys

from netlab.errors import NetlabError

COMMAND_MODULES = (
    "netlab.snapshot_cli",
    "netlab.netfilter.cli",
    "netlab.probe_cli",
    "netlab.lab.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netlab",
        description="See how Docker wires containers to the network on Linux.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if name.startswith(exc.name or "\0"):
                continue  # that layer is not installed/built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except NetlabError as exc:
        print(f"netlab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
