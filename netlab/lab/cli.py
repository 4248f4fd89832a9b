"""``netlab lab up|down|plan`` — build the lab from a terminal, or see its commands.

``netlab lab plan`` / ``netlab lab up --dry-run`` print the shell script the lab
runs; ``netlab lab up`` builds it and prints its prefix (it stays up until
``netlab lab down --prefix nl…``); ``netlab lab down --all`` removes every lab
namespace and process, after a crash too.  A build that takes more than a second
(hundreds of containers) shows a progress bar on standard error when that is a
terminal, and one final line otherwise (``--no-progress``: none).
"""

from __future__ import annotations

import argparse
import json

from netlab.errors import LabError, NetlabError, UsageError
from netlab.scenarios import Scenario, seed_host
from netlab.scenarios.catalogue import scenario_by_name


def _scenario(name: str | None) -> Scenario:
    """The scenario a ``--scenario`` names: a catalogue name (``article@28``), ``seed``
    (the default) or a ``.json`` file a Scenario wrote."""
    if name is None:
        return seed_host()
    if name.endswith(".json"):
        return scenario_file(name)
    return scenario_by_name(name)


def scenario_file(path: str) -> Scenario:
    """The scenario a ``Scenario.to_json()`` file holds, or a UsageError saying what is wrong."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise UsageError(f"--scenario {path}: cannot read it ({exc.strerror or exc}); give a file "
                         "written by scenario.to_json() or a catalogue name") from None
    except UnicodeDecodeError:
        raise UsageError(f"--scenario {path} is not text (a binary file?): give a file written by "
                         "scenario.to_json()") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--scenario {path} is not valid JSON (line {exc.lineno}: {exc.msg}): give a "
                         "file written by scenario.to_json()") from None
    try:
        from netlab.scenarios.names import check_scenario

        return check_scenario(Scenario.from_dict(data))
    except NetlabError as exc:
        raise UsageError(f"--scenario {path}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        what = f"no {exc.args[0]!r} field" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"--scenario {path} is JSON but not a scenario ({what}): give a file "
                         "written by scenario.to_json()") from None


def _prefix_arg(text: str) -> str:
    from netlab.lab import names

    try:
        return names.check_prefix(text)
    except LabError as exc:
        raise argparse.ArgumentTypeError(str(exc).replace("prefix=None", "--prefix out")) from None


def _plan(args: argparse.Namespace) -> int:
    from netlab.lab import Lab

    lab = Lab(_scenario(args.scenario), prefix=args.prefix)
    print(lab.plan().script(teardown=getattr(args, "teardown", False)), end="")
    return 0


def _up(args: argparse.Namespace) -> int:
    from netlab.lab import Lab

    lab = Lab(_scenario(args.scenario), prefix=args.prefix)
    if args.dry_run:
        print(lab.plan().script(), end="")
        return 0
    from netlab.lab.progress import Progress

    bar = None if args.no_progress else Progress("lab up")
    try:
        lab.up(progress=bar.update if bar else None)
    except BaseException:
        if bar:
            bar.finish("stopped, nothing left behind")  # the bar's line ends before the error
        raise
    lab.detach()  # the lab outlives this command: the state file remembers it
    if bar:
        bar.finish(f"{len(lab.netns)} namespaces up")
    print(f"lab {lab.prefix} is up ({lab.build_seconds:.3f} s): namespaces "
          + " ".join(lab.netns.values()))
    print(f"remove it with: netlab lab down --prefix {lab.prefix}")
    return 0


def _down(args: argparse.Namespace) -> int:
    from netlab.lab import build

    if args.all:
        removed = build.down_all()
        print(f"removed {len(removed)} lab namespace(s)" + (": " + " ".join(removed) if removed else ""))
        return 0
    if not args.prefix:
        raise LabError("say which lab: `netlab lab down --prefix nl1a2b3c`, or `--all` for every lab")
    from netlab.lab import names

    path = build.state_path(names.check_prefix(args.prefix))
    if not path.exists():
        raise LabError(f"no lab {args.prefix} is recorded in {build.STATE_DIR}; "
                       "`netlab lab down --all` removes every lab namespace")
    try:
        run = build.read_state(path)
    except LabError as exc:
        raise UsageError(f"{exc}; `netlab lab down --all` removes every lab namespace and process "
                         "by name (and the damaged file)") from None
    build.down(run)
    print(f"lab {args.prefix} removed")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("lab", help="build a scenario in real network namespaces (root)")
    sub = p.add_subparsers(dest="lab_command", metavar="up|down|plan")
    up = sub.add_parser("up", help="build the lab (or print its commands with --dry-run)")
    up.add_argument("--scenario", help="seed (default), a catalogue name, or a scenario .json file")
    up.add_argument("--prefix", type=_prefix_arg, help="namespace prefix nl + 6 hex (default: a fresh one)")
    up.add_argument("--dry-run", action="store_true", help="print the commands instead of running them")
    up.add_argument("--no-progress", action="store_true",
                    help="no progress bar on standard error (shown for builds over a second)")
    up.set_defaults(func=_up)
    down = sub.add_parser("down", help="remove a lab (or every lab with --all)")
    down.add_argument("--prefix", type=_prefix_arg, help="the lab to remove")
    down.add_argument("--all", action="store_true", help="remove every lab namespace and process")
    down.set_defaults(func=_down)
    plan = sub.add_parser("plan", help="print the shell script that builds the lab")
    plan.add_argument("--scenario")
    plan.add_argument("--prefix", type=_prefix_arg)
    plan.add_argument("--teardown", action="store_true", help="print the tear-down commands instead")
    plan.set_defaults(func=_plan)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])
