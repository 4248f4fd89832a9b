"""Load test (issue 18): a class of learners on JupyterHub, loopback only, bounded.

Starts JupyterHub with ``deploy/jupyterhub/jupyterhub_config.py`` on 127.0.0.1 (dummy
authenticator, SimpleLocalProcessSpawner, homes in a temporary directory), logs learners in
through the Hub's REST API (create the user, start the server, get the learner's own token),
and has each run lesson 10 headless through the Jupyter server API (a session, then every
code cell over the kernel's websocket), first one learner alone (the baseline), then N at
the same time (``NETLAB_BENCH_HUB_LEARNERS``, default 20).  Reports the time until all N
finish against one alone, each learner kernel's peak RSS and its server's RSS, and every
failure.  Stops every server and the hub, then any process it started that is left.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REQUIRES = ("py:jupyterhub", "py:jupyterhub_idle_culler", "py:tornado", "configurable-http-proxy")
ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "10_packet_journey.ipynb"
CONFIG = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
MB_PER_LEARNER = 350  # kernel after lesson 10 plus its server, with room (checked before starting)
CELL_TIMEOUT = 120
SPAWN_TIMEOUT = 180

WRAPPER = """
load_subconfig({config!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:{hub_port}"
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.JupyterHub.services.append({{"name": "loadtest", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{"name": "loadtest", "services": ["loadtest"],
    "scopes": ["admin:users", "admin:servers", "tokens", "list:users"]}})
c.Spawner.environment["NETLAB_LOADTEST"] = {marker!r}
c.Spawner.args = ["--allow-root"] if {root!r} else []
c.JupyterHub.log_level = "WARN"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked_pids(marker: str) -> dict[int, str]:
    """Processes (pid -> 'kernel'/'server'/other) whose environment carries ``marker``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
            if f"NETLAB_LOADTEST={marker}".encode() not in env.split(b"\0"):
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            user = next((v.split(b"=", 1)[1].decode() for v in env.split(b"\0")
                         if v.startswith(b"JUPYTERHUB_USER=")), "?")
        except OSError:
            continue
        kind = "kernel" if "ipykernel" in cmd else "server" if "singleuser" in cmd else "other"
        found[int(entry.name)] = f"{kind}:{user}"
    return found


def _mem_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _decode(message: str | bytes) -> dict:
    """A kernel websocket message (JSON text, or Jupyter's binary framing with buffers)."""
    if isinstance(message, str):
        return json.loads(message)
    count = int.from_bytes(message[:4], "big")
    offsets = [int.from_bytes(message[4 * (i + 1):4 * (i + 2)], "big") for i in range(count)]
    end = offsets[1] if count > 1 else len(message)
    return json.loads(message[offsets[0]:end])


class Hub:
    """The Hub's REST API as the load test's service."""

    def __init__(self, base: str, token: str) -> None:
        from tornado.httpclient import AsyncHTTPClient

        self.base, self.token = base, token
        self.http = AsyncHTTPClient(max_clients=64)

    async def call(self, method: str, path: str, body: object = None, token: str | None = None) -> dict:
        from tornado.httpclient import HTTPClientError

        try:
            resp = await self.http.fetch(
                self.base + path, method=method, request_timeout=60, allow_nonstandard_methods=True,
                headers={"Authorization": f"token {token or self.token}"},
                body=None if body is None and method in ("GET", "DELETE") else json.dumps(body or {}))
        except HTTPClientError as exc:
            text = exc.response.body.decode(errors="replace")[:200] if exc.response else ""
            raise RuntimeError(f"{method} {path}: HTTP {exc.code} {text}") from None
        return json.loads(resp.body) if resp.body else {}

    async def login(self, name: str) -> str:
        """Create learner ``name``, start their server, return the learner's own API token."""
        await self.call("POST", f"/hub/api/users/{name}")
        await self.call("POST", f"/hub/api/users/{name}/server")
        deadline = time.monotonic() + SPAWN_TIMEOUT
        while time.monotonic() < deadline:
            server = (await self.call("GET", f"/hub/api/users/{name}")).get("servers", {}).get("", {})
            if server.get("ready"):
                break
            await asyncio.sleep(0.5)
        else:
            raise RuntimeError(f"{name}'s server not ready after {SPAWN_TIMEOUT} s")
        made = await self.call("POST", f"/hub/api/users/{name}/tokens",
                               {"note": "netlab load test", "expires_in": 3600})
        return made["token"]


async def run_lesson(hub: Hub, name: str, token: str, cells: list[str], marker: str) -> dict:
    """Run ``cells`` in a new kernel of ``name``'s server; the result's time, memory, errors."""
    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    start = time.perf_counter()
    session = await hub.call("POST", f"/user/{name}/api/sessions", token=token, body={
        "path": "netlab/10_packet_journey.ipynb", "type": "notebook", "name": "10",
        "kernel": {"name": "python3"}})
    kid = session["kernel"]["id"]
    ws_url = hub.base.replace("http://", "ws://") + f"/user/{name}/api/kernels/{kid}/channels"
    ws = await websocket_connect(HTTPRequest(ws_url, headers={"Authorization": f"token {token}"},
                                             connect_timeout=CELL_TIMEOUT, request_timeout=CELL_TIMEOUT),
                                 max_message_size=256 * 1024 * 1024)
    errors: list[str] = []
    sid = uuid.uuid4().hex
    try:
        for code in cells:
            msg_id = uuid.uuid4().hex
            ws.write_message(json.dumps({
                "header": {"msg_id": msg_id, "username": name, "session": sid, "msg_type": "execute_request",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            while not (replied and idle):
                raw = await asyncio.wait_for(ws.read_message(), CELL_TIMEOUT)
                if raw is None:
                    raise RuntimeError("kernel websocket closed")
                msg = _decode(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "execute_reply":
                    replied = True
                    if msg["content"].get("status") != "ok":
                        errors.append(f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}"[:160])
                elif kind == "status" and msg["content"].get("execution_state") == "idle":
                    idle = True
            if errors:
                break
        took = time.perf_counter() - start
        mem = {kind: _mem_mb(pid) for pid, kind in _marked_pids(marker).items()
               if kind in (f"kernel:{name}", f"server:{name}")}
    finally:
        ws.close()
        await hub.call("DELETE", f"/user/{name}/api/sessions/{session['id']}", token=token)
    return {"name": name, "s": took, "errors": errors,
            "kernel_peak": mem.get(f"kernel:{name}", (0, 0))[1], "server_rss": mem.get(f"server:{name}", (0, 0))[0]}


async def _class(hub: Hub, names: list[str], cells: list[str], marker: str) -> tuple[float, float, list]:
    t = time.perf_counter()
    logged = await asyncio.gather(*(hub.login(n) for n in names), return_exceptions=True)
    spawn_s = time.perf_counter() - t
    results: list = [_failed(n, "log in", exc) for n, exc in zip(names, logged, strict=True)
                     if isinstance(exc, BaseException)]
    ready = [(n, tok) for n, tok in zip(names, logged, strict=True) if isinstance(tok, str)]
    t = time.perf_counter()
    ran = await asyncio.gather(*(run_lesson(hub, n, tok, cells, marker) for n, tok in ready),
                               return_exceptions=True)
    results += [_failed(n, "lesson 10", r) if isinstance(r, BaseException) else r
                for (n, _), r in zip(ready, ran, strict=True)]
    return spawn_s, time.perf_counter() - t, results


def _failed(name: str, stage: str, exc: BaseException) -> dict:
    return {"name": name, "s": 0.0, "errors": [f"{stage}: {type(exc).__name__}: {exc}"[:200]],
            "kernel_peak": 0.0, "server_rss": 0.0}


def _available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _report(label: str, spawn_s: float, all_s: float, results: list) -> list[dict]:
    ok = [r for r in results if not r["errors"]]
    bad = [r for r in results if r["errors"]]
    peaks = [r["kernel_peak"] for r in ok]
    servers = [r["server_rss"] for r in ok]
    print(f"{label}: {len(ok)} ok, {len(bad)} failed; log in + spawn {spawn_s:.1f} s; lesson 10 all done "
          f"in {all_s:.1f} s (each {min(r['s'] for r in ok) if ok else 0:.1f}-{max(r['s'] for r in ok) if ok else 0:.1f} s)")
    if ok:
        print(f"  kernel peak RSS per learner: median {statistics.median(peaks):.0f} MB, max {max(peaks):.0f} MB; "
              f"server RSS median {statistics.median(servers):.0f} MB")
    for r in bad:
        print(f"  FAILED {r['name']}: {'; '.join(r['errors'])}")
    return ok


def main() -> None:
    import nbformat

    n = int(os.environ.get("NETLAB_BENCH_HUB_LEARNERS", "20"))
    need = (n + 1) * MB_PER_LEARNER
    if _available_mb() < need:
        print(f"skipped: {n} learners need about {need} MB, {_available_mb():.0f} MB available "
              "(set NETLAB_BENCH_HUB_LEARNERS lower)")
        return
    nb = nbformat.read(LESSON, as_version=4)
    cells = [c.source for c in nb.cells if c.cell_type == "code"]
    marker, token = uuid.uuid4().hex, secrets.token_hex(32)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="netlab-hub-") as tmp:
        wrapper = Path(tmp) / "loadtest_config.py"
        wrapper.write_text(WRAPPER.format(config=str(CONFIG), port=port, hub_port=_free_port(),
                                          proxy_port=_free_port(), token=token, marker=marker,
                                          root=os.geteuid() == 0))
        env = {**os.environ, "NETLAB_HUB_SPAWNER": "simple", "NETLAB_HUB_AUTH": "dummy",
               "NETLAB_HUB_PASSWORD": secrets.token_hex(8), "NETLAB_HUB_STATE": str(Path(tmp) / "state"),
               "NETLAB_HUB_HOMES": str(Path(tmp) / "homes"), "PYTHONPATH": str(ROOT)}
        bindir = str(Path(sys.executable).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        log = open(Path(tmp) / "hub.log", "w")  # noqa: SIM115 - closed in finally
        hub_proc = subprocess.Popen([str(Path(bindir) / "jupyterhub"), "-f", str(wrapper)], cwd=tmp, env=env,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            asyncio.run(_drive(f"http://127.0.0.1:{port}", token, n, cells, marker, hub_proc))
        finally:
            _stop(hub_proc, marker)
            log.close()
            if hub_proc.returncode not in (0, -signal.SIGTERM, None):
                print(f"  hub exited {hub_proc.returncode}; last log lines:")
                print("    " + "\n    ".join((Path(tmp) / "hub.log").read_text().splitlines()[-8:]))


async def _drive(base: str, token: str, n: int, cells: list[str], marker: str, proc: subprocess.Popen) -> None:
    hub = Hub(base, token)
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyterhub exited with {proc.returncode} before answering")
        try:
            await hub.call("GET", "/hub/api/")
            break
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline:
                raise RuntimeError("jupyterhub did not answer within 60 s") from None
            await asyncio.sleep(0.5)
    spawn1, one_s, res1 = await _class(hub, ["solo"], cells, marker)
    ok1 = _report("baseline: 1 learner alone", spawn1, one_s, res1)
    await hub.call("DELETE", "/hub/api/users/solo/server")
    spawn_n, all_s, res_n = await _class(hub, [f"learner{i:02d}" for i in range(n)], cells, marker)
    ok_n = _report(f"{n} learners at the same time", spawn_n, all_s, res_n)
    if ok1 and ok_n:
        per = statistics.median(r["kernel_peak"] for r in ok_n)
        print(f"{n} learners vs 1: all done in {all_s / one_s:.1f}x the time of one alone "
              f"({all_s:.1f} s vs {one_s:.1f} s; {n / (all_s / one_s):.1f} learners' worth of work per "
              f"solo lesson time on {os.cpu_count()} cores); peak kernel RSS per learner {per:.0f} MB "
              f"({'ok' if per <= 250 else 'OVER'} against 250 MB)")
    await asyncio.gather(*(hub.call("DELETE", f"/hub/api/users/learner{i:02d}/server") for i in range(n)),
                         return_exceptions=True)


def _stop(proc: subprocess.Popen, marker: str) -> None:
    """Stop the hub (it stops its servers), then any marked process still left, by pid."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    left = _marked_pids(marker)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if left:
        print(f"  stopped {len(left)} process(es) the hub left behind")


if __name__ == "__main__":
    main()
