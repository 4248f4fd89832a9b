"""Running a plan: build a lab up, tear it down, and clean up after a crash.

Before the first namespace exists, a state file ``/run/netlab/<prefix>.json``
records the lab's namespaces; the pids of its processes are added as they
start.  :func:`down_all` uses those files and the ``nl<6 hex>-`` names to
remove every lab namespace and kill every recorded process, even when the
Python that built the lab died mid-build.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from netlab.atomic import atomic_write_text
from netlab.errors import LabError
from netlab.lab import names, rtnl
from netlab.lab.plan import Command, Plan
from netlab.numbers import is_decimal

STATE_DIR = Path(os.environ.get("NETLAB_STATE_DIR", "/run/netlab"))
TIMEOUT = 30.0


@dataclass
class Running:
    """What a built lab holds: its namespaces and its processes."""

    prefix: str
    netns: list[str]
    pids: list[int] = field(default_factory=list)
    procs: list[subprocess.Popen] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def state_path(prefix: str) -> Path:
    return STATE_DIR / f"{names.check_prefix(prefix)}.json"


def write_state(run: Running) -> None:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    atomic_write_text(state_path(run.prefix), json.dumps(
        {"prefix": run.prefix, "netns": run.netns, "pids": run.pids, "owner": os.getpid(),
         "created": time.time()}))


def _fail(cmd: Command, rc: int | None, err: bytes) -> LabError:
    text = err.decode(errors="replace").strip()
    return LabError(f"building the lab failed at `{' '.join(cmd.argv)}` (exit {rc}): {text}\n"
                    "The lab is being removed; `netlab lab down --all` removes any leftovers.")


_PR_SET_PDEATHSIG = 1
_prctl = None


def _die_with_parent() -> None:
    """In a build command's child: be killed if the Python that runs the build dies, so a
    crash mid-build leaves no half-finished ``ip`` behind (only namespaces ``down --all`` removes)."""
    global _prctl
    if _prctl is None:
        import ctypes

        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


#: ``progress(done, total, stage)``: how far a build is (units: batch lines or commands)
ProgressFn = Callable[[int, int, str], None]
CHUNK = 250  # an ip -batch longer than this runs in pieces, one after the other


def chunks(cmd: Command) -> list[Command]:
    """``cmd`` as the pieces a long ``ip -batch -`` runs in (each line is a command of its
    own, run in order; a failure stops the build at that piece, as it stops ``ip``)."""
    if cmd.inprocess or cmd.background or cmd.stdin is None or cmd.argv[-2:] != ["-batch", "-"]:
        return [cmd]
    lines = cmd.stdin.splitlines(keepends=True)
    if len(lines) <= CHUNK or any(line.rstrip("\n").endswith("\\") for line in lines):
        return [cmd]  # short, or with continued lines that must stay together
    return [dataclasses.replace(cmd, stdin="".join(lines[i:i + CHUNK])) for i in range(0, len(lines), CHUNK)]


def run_stage(commands: list[Command], on_each: Callable[[], None] | None = None) -> None:
    """Run the commands of one stage at the same time; raise on the first failure.
    ``on_each`` is called as each in-process namespace is done."""
    procs = []
    inprocess = {c.argv[2]: c.stdin or "" for c in commands if c.inprocess}
    for cmd in commands:
        if cmd.inprocess:
            continue
        p = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE if cmd.stdin is not None else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        procs.append((cmd, p))
    # feed every stdin first, then wait: the processes overlap
    for cmd, p in procs:
        if cmd.stdin is not None:
            assert p.stdin is not None
            try:
                p.stdin.write(cmd.stdin.encode())
                p.stdin.close()
            except BrokenPipeError:
                pass
    failure: LabError | None = None
    if inprocess:  # while the processes run
        try:
            rtnl.apply(inprocess, on_each=on_each)
        except LabError as exc:
            failure = LabError(f"building the lab failed: {exc}\nThe lab is being removed; "
                               "`netlab lab down --all` removes any leftovers.")
    for cmd, p in procs:
        assert p.stderr is not None
        try:
            err = p.stderr.read()
            p.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        p.stderr.close()
        if p.returncode != 0 and failure is None:
            failure = _fail(cmd, p.returncode, err or b"")
    if failure:
        raise failure


def spawn_background(cmd: Command, run: Running) -> subprocess.Popen:
    """Start a long-running command (the services) now; it waits for its standard input,
    so its interpreter starts while the rest of the lab is built."""
    p = subprocess.Popen(cmd.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    run.pids.append(p.pid)
    run.procs.append(p)
    write_state(run)
    return p


def finish_background(cmd: Command, p: subprocess.Popen) -> None:
    """Hand the process its standard input and wait for its ``ready`` line."""
    assert p.stdin is not None and p.stdout is not None
    try:
        p.stdin.write((cmd.stdin or "").encode())
        p.stdin.close()
    except BrokenPipeError:
        pass
    line = p.stdout.readline()
    if not line.startswith(b"ready"):
        p.wait(timeout=5)
        err = p.stderr.read() if p.stderr else b""
        raise _fail(cmd, p.returncode, err)


def up(plan: Plan, progress: ProgressFn | None = None) -> Running:
    """Build the lab ``plan`` describes.  On any failure, remove what was made and raise.
    ``progress`` hears how far it is after each piece of work."""
    run = Running(plan.prefix, list(plan.netns.values()))
    existing = set(list_netns())
    clash = existing & set(run.netns)
    if clash:
        raise LabError(f"namespaces {sorted(clash)} already exist: another lab uses prefix "
                       f"{plan.prefix}; run `netlab lab down --all` or pick another prefix")
    write_state(run)
    try:
        started: list[tuple[Command, subprocess.Popen]] = []
        pieces = [[chunks(c) for c in stage.commands if not c.background] for stage in plan.stages]
        units = [sum(len(p) for p in ps) if len(ps) != 1 else
                 sum((c.stdin or "").count("\n") for c in ps[0]) if len(ps[0]) > 1 else 1
                 for ps in pieces]
        total, done = sum(units), 0
        for i, stage in enumerate(plan.stages):
            t0 = time.perf_counter()
            start = done
            if len(pieces[i]) == 1 and len(pieces[i][0]) > 1:  # one long batch: piece by piece
                for piece in pieces[i][0]:
                    run_stage([piece])
                    done += (piece.stdin or "").count("\n")
                    if progress:
                        progress(done, total, stage.name)
            else:
                def each(name: str = stage.name) -> None:
                    nonlocal done
                    done += 1
                    if progress:
                        progress(done, total, name)

                cmds = [c for ps in pieces[i] for c in ps]
                if progress:
                    run_stage(cmds, on_each=each)
                else:
                    run_stage(cmds)
            done = start + units[i]
            if progress:
                progress(done, total, stage.name)
            if i == 0:  # the namespaces exist: start the services' interpreter meanwhile
                started = [(c, spawn_background(c, run)) for s in plan.stages for c in s.commands
                           if c.background]
            for c, p in started:
                if c in stage.commands:
                    finish_background(c, p)
            run.timings[stage.name] = time.perf_counter() - t0
    except BaseException:
        down(run)
        raise
    return run


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    except PermissionError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:  # reap it if it is our child
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:
            pass
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _is_lab_process(pid: int, netns: list[str]) -> bool:
    """Only kill a recorded pid if it is still one of ours (its command line names a lab
    namespace or our server script): a pid may have been reused after a crash."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    text = [c.decode(errors="replace") for c in cmdline]
    return any(n in text for n in netns) or any(t.endswith("netlab/lab/servers.py") for t in text)


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


def delete_netns(netns: list[str]) -> None:
    """``ip netns del`` every name given that exists (one ``ip -batch``)."""
    present = set(list_netns())
    todo = [n for n in netns if n in present and names.is_lab_netns(n)]
    if not todo:
        return
    subprocess.run(["ip", "-force", "-batch", "-"], input="".join(f"netns del {n}\n" for n in todo).encode(),
                   capture_output=True, timeout=TIMEOUT)
    left = set(todo) & set(list_netns())
    for n in left:  # one by one, to report the one that will not go
        r = subprocess.run(["ip", "netns", "del", n], capture_output=True, timeout=TIMEOUT)
        if r.returncode != 0 and n in list_netns():
            raise LabError(f"could not delete namespace {n}: {r.stderr.decode().strip()}")


def down(run: Running) -> None:
    """Stop the lab's processes, then delete its namespaces and its state file."""
    for p in run.procs:
        if p.poll() is None:
            _kill(p.pid)
        for f in (p.stdout, p.stderr):
            if f:
                f.close()
    for pid in run.pids:
        if _is_lab_process(pid, run.netns):
            _kill(pid)
    delete_netns(run.netns)
    try:
        state_path(run.prefix).unlink()
    except FileNotFoundError:
        pass


def read_state(path: Path) -> Running:
    """The lab a state file records, or a LabError naming the file if it is damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        run = Running(names.check_prefix(data["prefix"]),
                      [n for n in data.get("netns", []) if names.is_lab_netns(n)],
                      [int(p) for p in data.get("pids", [])])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, LabError) as exc:
        why = f"no {exc.args[0]!r}" if isinstance(exc, KeyError) else type(exc).__name__
        raise LabError(f"the lab state file {path} is damaged ({why})") from None
    if path.stem != run.prefix:
        raise LabError(f"the lab state file {path} records another lab ({run.prefix})")
    return run


def down_all(prefixes: set[str] | None = None) -> list[str]:
    """Remove every lab namespace and kill every recorded lab process (after a crash too).

    Returns the namespaces removed.  Only names of the form ``nl<6 hex>-<node>``
    are touched; namespaces of anything else on the machine are left alone.
    ``prefixes`` limits the sweep to those labs (tests use it so as not to remove
    labs other programs on the machine are using at the same time).
    """
    def wanted(prefix: str | None) -> bool:
        return prefix is not None and (prefixes is None or prefix in prefixes)

    removed: list[str] = []
    damaged: list[Path] = []
    states = sorted(STATE_DIR.glob("nl*.json")) if STATE_DIR.is_dir() else []
    for path in states:
        try:
            run = read_state(path)
        except LabError:  # damaged: its namespaces are swept by name below, then it goes
            if wanted(names.prefix_of(f"{path.stem}-x")):
                damaged.append(path)
            continue
        if not wanted(run.prefix):
            continue
        removed += [n for n in run.netns if n in list_netns()]
        down(run)
    # namespaces with a lab name but no state file (a crash before it was written)
    stray = [n for n in list_netns() if names.is_lab_netns(n) and wanted(names.prefix_of(n))]
    for n in stray:  # processes still inside them
        for pid in _pids_in(n):
            _kill(pid)
    delete_netns(stray)
    for path in damaged:
        path.unlink(missing_ok=True)
    # service processes whose namespace is already gone (a by-hand teardown, a crash)
    for pid in _servers_of(prefixes):
        _kill(pid)
    return removed + stray


def _servers_of(prefixes: set[str] | None) -> list[int]:
    """Pids of the lab service processes (``servers.py <prefix>``) of ``prefixes`` (None: of any lab)."""
    out = []
    for d in Path("/proc").iterdir():
        if not is_decimal(d.name) or int(d.name) == os.getpid():
            continue
        try:
            argv = [a.decode(errors="replace") for a in (d / "cmdline").read_bytes().split(b"\0")]
        except OSError:
            continue
        for i, a in enumerate(argv[:-1]):
            if a.endswith("netlab/lab/servers.py") and names.PREFIX_RE.match(argv[i + 1]) and \
                    (prefixes is None or argv[i + 1] in prefixes):
                out.append(int(d.name))
                break
    return out


def _pids_in(netns: str) -> list[int]:
    r = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, timeout=TIMEOUT)
    return [int(x) for x in r.stdout.split() if is_decimal(x) and int(x) != os.getpid()]
