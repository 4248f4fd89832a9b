"""The ``host`` backend: a read-only snapshot of this machine's (or a named
namespace's) networking as a :class:`~netlab.model.HostState`.

It reads, and never changes: ``ip -j -d addr`` (links, drivers, veth peers,
bridge ports, addresses), ``ip -j route show table all``, ``ip -j netns list-id``
(which netnsid is which namespace), ``bridge -j fdb``, ``iptables-save`` (and
``nft -j list ruleset`` where iptables is the nf_tables variant), ``conntrack -L``
and the sysctls that decide forwarding, from ``/proc/sys``.  The commands run
concurrently, so a namespace with hundreds of interfaces takes a fraction of a
second.  What cannot be read (no root, a tool missing) is listed in
``state.notes`` with the reason; everything else is still returned.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass, field

from netlab.errors import ParseError, SnapshotError
from netlab.model import SYSCTLS_THAT_MATTER, HostState

NETNS_DIRS = ("/run/netns", "/var/run/netns")
_NETNS_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$")
CLONE_NEWNET = 0x40000000
TIMEOUT = 20.0
EXTRA_SYSCTLS = (
    "net.ipv4.conf.all.forwarding",
    "net.ipv4.conf.default.route_localnet",
    "net.ipv6.conf.all.forwarding",
    "net.bridge.bridge-nf-call-arptables",
)
PER_INTERFACE_SYSCTLS = ("forwarding", "rp_filter", "route_localnet", "proxy_arp")
_INSTALL = {"ip": "iproute2", "bridge": "iproute2", "iptables-save": "iptables",
            "nft": "nftables", "conntrack": "conntrack"}


def validate_netns(name: str) -> str:
    """Check a namespace name before it reaches a command; return its /run/netns path."""
    if not isinstance(name, str) or not _NETNS_NAME.fullmatch(name) or name in (".", ".."):
        raise SnapshotError(
            f"{name!r} is not a network namespace name (letters, digits, '_', '-', '.'; "
            "see `ip netns list`)")
    for folder in NETNS_DIRS:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise SnapshotError(f"there is no network namespace {name!r} (see `ip netns list`)")


def _netns_name(name: str) -> str:
    """``/run/netns/web`` (the file ``ip netns`` keeps) means the namespace ``web``."""
    if isinstance(name, str):
        for folder in NETNS_DIRS:
            if name.startswith(folder + "/"):
                return name[len(folder) + 1:]
    return name


@dataclass
class _Job:
    """One command of a snapshot, started at once and collected later."""

    part: str  # what it reads: "links", "routes", ...
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    out: str = ""
    err: str = ""
    rc: int | None = None
    missing: str | None = None


@dataclass
class _Plan:
    netns: str  # "" = the current namespace
    path: str | None
    jobs: list[_Job] = field(default_factory=list)


def _prefix(tool: str, plan: _Plan) -> list[str]:
    if not plan.netns:
        return [tool]
    if tool in ("ip", "bridge"):
        return [tool, "-n", plan.netns]
    return ["ip", "netns", "exec", plan.netns, tool]


def _iptables_is_nft() -> bool:
    path = shutil.which("iptables-save")
    if path is None:
        return False
    real = os.path.basename(os.path.realpath(path))
    return "nft" in real


def _plan(netns: str, path: str | None, *, want_nft: bool) -> _Plan:
    plan = _Plan(netns, path)
    p = _prefix
    plan.jobs = [
        _Job("links", p("ip", plan) + ["-j", "-d", "addr", "show"]),
        _Job("routes", p("ip", plan) + ["-j", "route", "show", "table", "all"]),
        _Job("netns ids", p("ip", plan) + ["-j", "netns", "list-id"]),
        _Job("fdb", p("bridge", plan) + ["-j", "fdb", "show"]),
        _Job("iptables", p("iptables-save", plan)),
        _Job("conntrack", p("conntrack", plan) + ["-L"]),
    ]
    if want_nft:
        plan.jobs.append(_Job("nftables", p("nft", plan) + ["-j", "list", "ruleset"]))
    return plan


def _start(job: _Job) -> None:
    tool = job.argv[4] if job.argv[:3] == ["ip", "netns", "exec"] else job.argv[0]
    if shutil.which(job.argv[0]) is None or shutil.which(tool) is None:
        job.missing = f"`{tool}` is not installed (apt-get install {_INSTALL.get(tool, tool)})"
        return
    env = {**os.environ, "LC_ALL": "C"}
    try:
        job.proc = subprocess.Popen(job.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, env=env)
    except OSError as exc:
        job.missing = f"`{tool}` could not be started ({exc.strerror})"


def _collect(job: _Job, deadline: float) -> None:
    if job.proc is None:
        return
    try:
        out, err = job.proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        job.proc.kill()
        out, err = job.proc.communicate()
        job.rc = -1
        job.err = f"timed out after {TIMEOUT:.0f} s"
        return
    job.out = out.decode("utf-8", errors="replace")
    job.err = err.decode("utf-8", errors="replace").strip()
    job.rc = job.proc.returncode


# ------------------------------------------------------------------ sysctls
def _sysctl_keys(ifnames: list[str]) -> list[tuple[str, str]]:
    """(key, /proc/sys path) of every sysctl the lessons look at."""
    keys = [(k, "/proc/sys/" + k.replace(".", "/")) for k in (*SYSCTLS_THAT_MATTER, *EXTRA_SYSCTLS)]
    for name in ifnames:
        for leaf in PER_INTERFACE_SYSCTLS:
            keys.append((f"net.ipv4.conf.{name.replace('.', '/')}.{leaf}",
                         f"/proc/sys/net/ipv4/conf/{name}/{leaf}"))
    return keys


def _read_values(keys: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    values, missing = {}, []
    for key, path in keys:
        try:
            with open(path, encoding="ascii", errors="replace") as fh:
                values[key] = " ".join(fh.read().split())
        except FileNotFoundError:
            missing.append(key)
        except OSError:
            missing.append(key)
    return values, missing


def _read_sysctls(plan: _Plan, keys: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Read /proc/sys in the plan's namespace.

    For a named namespace a short-lived thread enters it with setns(2) (which
    moves only that thread) and reads the files there, as /proc/sys/net shows
    the reading thread's namespace; the thread then ends.
    """
    if plan.path is None:
        return _read_values(keys)
    result: dict[str, object] = {}

    def work() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(plan.path, os.O_RDONLY | os.O_CLOEXEC)  # type: ignore[arg-type]
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    code = ctypes.get_errno()
                    raise OSError(code, os.strerror(code))
            finally:
                os.close(fd)
            result["values"] = _read_values(keys)
        except OSError as exc:
            result["error"] = exc

    thread = threading.Thread(target=work, name=f"netlab-sysctl-{plan.netns}", daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    if "values" in result:
        return result["values"]  # type: ignore[return-value]
    exc = result.get("error")
    reason = "needs root (CAP_SYS_ADMIN) to enter the namespace" if isinstance(exc, OSError) and \
        exc.errno in (errno.EPERM, errno.EACCES) else str(exc or "timed out")
    raise PermissionError(reason)


# -------------------------------------------------------------- assembling
def _why(job: _Job) -> str:
    if job.missing:
        return job.missing
    text = job.err or f"exit status {job.rc}"
    lowered = text.lower()
    if os.geteuid() != 0 and ("permission" in lowered or "not permitted" in lowered
                              or "must be root" in lowered):
        return f"{text.splitlines()[-1]} — run as root (sudo) to read it"
    return text.splitlines()[-1] if text else text


def _fill(state: HostState, plan: _Plan) -> None:
    from netlab.parse.conntrack import parse_conntrack
    from netlab.parse.ipjson import JsonShapeError, state_from_json

    where = f" in namespace {plan.netns!r}" if plan.netns else ""
    kinds = {"links": "addr", "routes": "route", "netns ids": "netns", "fdb": "fdb"}
    jobs = {job.part: job for job in plan.jobs}
    for part, kind in kinds.items():
        job = jobs[part]
        if job.missing or job.rc != 0:
            if part == "netns ids" and not job.missing:
                continue  # an old iproute2 without list-id: peers stay as netnsids
            state.notes.append(f"{part}{where} not read: {_why(job)}")
            continue
        try:
            data = json.loads(job.out) if job.out.strip() else []
            state.merge(state_from_json(data, plan.netns, kind=kind, trusted=True))
        except (ValueError, JsonShapeError) as exc:
            state.notes.append(f"{part}{where} not read: `{' '.join(job.argv)}` printed JSON "
                               f"netlab could not use ({exc})")
    job = jobs["iptables"]
    if job.missing or job.rc != 0:
        state.notes.append(f"iptables rules{where} not read: {_why(job)}")
    else:
        state.firewall[plan.netns] = job.out
    job = jobs["conntrack"]
    if job.missing or job.rc != 0:
        state.notes.append(f"conntrack table{where} not read: {_why(job)}")
    elif job.out.strip():
        try:
            state.merge(parse_conntrack(job.out, netns=plan.netns))
        except ParseError as exc:
            state.notes.append(f"conntrack table{where} not read: {exc}")
    nft_job = jobs.get("nftables")
    if nft_job is not None:
        if nft_job.missing or nft_job.rc != 0:
            state.notes.append(f"nftables ruleset{where} not read: {_why(nft_job)}")
        else:
            state.nftables[plan.netns] = nft_job.out
    ifnames = [link.name for link in state.links if link.netns == plan.netns]
    try:
        values, missing = _read_sysctls(plan, _sysctl_keys(ifnames))
    except PermissionError as exc:
        state.notes.append(f"sysctls{where} not read: {exc}")
    else:
        state.sysctls.setdefault(plan.netns, {}).update(values)
        wanted = set(SYSCTLS_THAT_MATTER)
        for key in missing:
            if key.startswith("net.bridge.") and key in wanted:
                state.notes.append(f"sysctl {key}{where}: not present (the br_netfilter module "
                                   "is not loaded: bridged traffic does not pass iptables)")
            elif key in wanted:
                state.notes.append(f"sysctl {key}{where}: not present")


_CONTAINER_ID = re.compile(r"[0-9a-f]{12,64}")
DOCKER_TIMEOUT = 10.0


def _docker_run(argv: list[str]) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of a read-only docker command, bounded by DOCKER_TIMEOUT."""
    try:
        proc = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=DOCKER_TIMEOUT,
                              env={**os.environ, "LC_ALL": "C"}, check=False)
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {DOCKER_TIMEOUT:.0f} s"
    except OSError as exc:
        return -1, "", f"could not be started ({exc.strerror})"
    return (proc.returncode, proc.stdout.decode("utf-8", errors="replace"),
            proc.stderr.decode("utf-8", errors="replace").strip())


def _read_containers(state: HostState) -> None:
    """``docker inspect`` of the running containers → ``state.containers`` (their names,
    networks and published ports, which ``from_state`` uses).  Read-only; a host without the
    docker CLI is left as it is, a daemon that cannot be asked is a note."""
    from netlab.parse.docker_inspect import parse_docker_inspect

    docker = shutil.which("docker")
    if docker is None:
        return
    rc, out, err = _docker_run([docker, "ps", "-q", "--no-trunc"])
    if rc != 0:
        why = err.splitlines()[-1] if err else f"exit status {rc}"
        if "permission denied" in why.lower():
            why += " — run as root (sudo) or as a member of the docker group to read them"
        state.notes.append(f"containers not read (`docker ps`): {why}")
        return
    ids = [line.strip() for line in out.splitlines() if line.strip()]
    ids = [i for i in ids if _CONTAINER_ID.fullmatch(i)]
    if not ids:
        return
    rc, out, err = _docker_run([docker, "inspect", *ids[:1000]])
    if rc != 0:
        state.notes.append(f"containers not read (`docker inspect`): "
                           f"{err.splitlines()[-1] if err else f'exit status {rc}'}")
        return
    try:
        state.containers.extend(parse_docker_inspect(out).containers)
    except ParseError as exc:
        state.notes.append(f"containers not read (`docker inspect`): {exc}")


def snapshot(netns: str | Sequence[str] | None = None) -> HostState:
    """Read this machine's networking, read-only, as a :class:`HostState`.

    ``netns`` None reads the namespace netlab runs in (items get netns ``""``);
    a name reads that namespace (``ip netns list``; items carry its name); a
    list reads several at once and joins them, resolving which netnsid is which
    namespace so veth pairs meet across namespaces.  Reading this namespace also asks
    Docker (``docker ps``, ``docker inspect``, read-only) for the containers' names,
    networks and published ports.  Lesson 1 compares this with the article's pastes.
    """
    if netns is None:
        names: list[str] = [""]
    elif isinstance(netns, str):
        names = [netns]
    else:
        names = list(netns)
        if not names:
            raise SnapshotError("give at least one namespace name (or None for this one)")
    names = [_netns_name(n) for n in names]
    want_nft = _iptables_is_nft()
    plans = []
    for name in dict.fromkeys(names):
        path = validate_netns(name) if name else None
        plans.append(_plan(name, path, want_nft=want_nft))
    if any(p.netns for p in plans) and os.geteuid() != 0:
        raise SnapshotError("reading a named network namespace needs root "
                            "(run `sudo netlab snapshot --netns NAME`)")
    for plan in plans:
        for job in plan.jobs:
            _start(job)
    deadline = time.monotonic() + TIMEOUT
    for plan in plans:
        for job in plan.jobs:
            _collect(job, deadline)
    state = HostState(source="snapshot")
    state.namespaces = []
    for plan in plans:
        state.namespace(plan.netns)
        _fill(state, plan)
    if "" in names:
        state.hostname = socket.gethostname()
        state.namespace("").hostname = state.hostname
        _read_containers(state)
    state.normalise()
    state.resolve_netnsids()
    if "" not in names:
        # the parsers' "namespace the text came from" placeholder: nothing lives there
        state.namespaces = [ns for ns in state.namespaces if ns.name or ns.ids]
    return state


class _CallableModule(types.ModuleType):
    """``netlab.snapshot`` is both this module and its main function.

    Importing ``netlab.snapshot`` (for ``validate_netns``, say) makes Python set
    the attribute ``netlab.snapshot`` to the module, hiding the lazily exported
    function; calling the module calls the function, so ``netlab.snapshot(...)``
    works either way.
    """

    def __call__(self, netns: str | Sequence[str] | None = None) -> HostState:
        return snapshot(netns)


sys.modules[__name__].__class__ = _CallableModule
