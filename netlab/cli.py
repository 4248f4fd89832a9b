"""Layer 10 — ``netlab …`` on the command line.

Each layer that offers commands registers them here through a small
``register(subparsers)`` function in its own module, so this file only wires
them together:

- ``netlab snapshot`` / ``netlab show``  (netlab.snapshot_cli — host state)
- ``netlab trace``                       (netlab.netfilter.cli — rule tracer)
- ``netlab probe``                       (netlab.probe_cli — journeys, sim or lab)
- ``netlab why``                         (netlab.why_cli — why a packet stops)
- ``netlab lab up|down|plan``            (netlab.lab.cli — namespaces)
"""

from __future__ import annotations

import argparse
import importlib
import sys

from netlab.errors import NetlabError, UsageError

COMMAND_MODULES = (
    "netlab.snapshot_cli",
    "netlab.netfilter.cli",
    "netlab.probe_cli",
    "netlab.why_cli",
    "netlab.lab.cli",
    "netlab.grade",
)


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument is one line (what was wrong, where to look), exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("netlab").strip()
        raise UsageError(f"{command + ': ' if command else ''}{message} (see `{self.prog} --help`)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netlab",
        description="See how Docker wires containers to the network on Linux.",
    )
    parser.add_argument("--version", action="version", version=f"netlab {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:  # every layer ships together: each one is there
        importlib.import_module(name).register(sub)
    return parser


def version() -> str:
    """netlab's version (the wheel's version is read from the same ``__version__``)."""
    from netlab.version import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    """Run one ``netlab`` command: 0 done, 1 a failure the message explains, 2 a bad
    argument (one line saying what to type instead), 130 interrupted."""
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else 0
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except UsageError as exc:
        print(f"netlab: {_one_line(exc)}", file=sys.stderr)
        return 2
    except NetlabError as exc:
        print(f"netlab: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
