"""JupyterHub for a class on ONE machine: netlab's course in sim mode for every learner.

Start it (as root for real Linux-user learners, or as anyone with the ``simple`` spawner):

    jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Settings come from environment variables so the file itself needs no edits:

- ``NETLAB_HUB_SPAWNER``  ``local`` (default: LocalProcessSpawner, one Linux user per learner,
  hub runs as root), ``simple`` (SimpleLocalProcessSpawner: every learner runs as the hub's
  user with a home under ``NETLAB_HUB_HOMES`` -- no isolation between learners; for a trial
  or the load test) or ``systemd`` (SystemdSpawner, ``pip install jupyterhub-systemdspawner``).
- ``NETLAB_HUB_AUTH``  ``pam`` (default: learners log in with their Linux password) or
  ``dummy`` (any name, the password in ``NETLAB_HUB_PASSWORD``; trials and the load test only).
- ``NETLAB_HUB_MEM_LIMIT``  per-learner memory limit (default ``1G``).  Who enforces it:
  LocalProcessSpawner and SimpleLocalProcessSpawner do NOT enforce ``Spawner.mem_limit``
  (they only pass it to the server as ``MEM_LIMIT`` for display); so for them the server is
  started under ``prlimit --as=NETLAB_HUB_AS_LIMIT`` (default ``3G``), a per-PROCESS cap on
  ADDRESS SPACE -- not on RSS, not a total per learner (the kernel and the server each get
  it).  It must sit well above the kernel's virtual size: after every lesson the kernel has
  about 240 MB resident but about 1.15 GB virtual (``python -m benchmarks memory``), so a
  1G address-space cap would break lessons.  SystemdSpawner enforces
  ``mem_limit`` for the learner's whole cgroup (systemd ``MemoryMax``) -- use it when the
  cap must really hold.  On Kubernetes (values.yaml) the pod's cgroup enforces it.
- ``NETLAB_HUB_CULL_TIMEOUT``  seconds of inactivity before jupyterhub-idle-culler stops a
  learner's server (default 3600; ``pip install jupyterhub-idle-culler``).
- ``NETLAB_HUB_URL``  where the hub listens (default ``http://127.0.0.1:8000``).
- ``NETLAB_HUB_ADMINS``  comma-separated admin (teacher) user names.

Every learner's server gets ``NETLAB_MODE=sim``: the simulator needs no privileges and never
touches the machine's network; ``netlab.connect()`` then never tries the lab.
"""

import os
import pwd
import shutil
import sys
from pathlib import Path

c = get_config()  # noqa: F821 - JupyterHub provides get_config() when it loads this file

COURSE = Path(__file__).resolve().parents[2] / "notebooks"
SPAWNER = os.environ.get("NETLAB_HUB_SPAWNER", "local").strip().lower()
AUTH = os.environ.get("NETLAB_HUB_AUTH", "pam").strip().lower()
MEM_LIMIT = os.environ.get("NETLAB_HUB_MEM_LIMIT", "1G").strip()
AS_LIMIT = os.environ.get("NETLAB_HUB_AS_LIMIT", "3G").strip()
CULL_TIMEOUT = int(os.environ.get("NETLAB_HUB_CULL_TIMEOUT", "3600"))
# the server next to this hub's Python (a venv), else the one on PATH
SINGLEUSER = str(Path(sys.executable).with_name("jupyterhub-singleuser"))
if not os.access(SINGLEUSER, os.X_OK):
    SINGLEUSER = "jupyterhub-singleuser"
_UNITS = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def mem_bytes(text: str) -> int:
    """``"1G"``/``"512M"``/``"2048"`` as bytes, as JupyterHub's ByteSpecification reads it."""
    text = text.strip().upper()
    if text[-1:] in _UNITS:
        return int(float(text[:-1]) * _UNITS[text[-1]])
    return int(text)


# --- where the hub listens, who logs in -----------------------------------------------
c.JupyterHub.bind_url = os.environ.get("NETLAB_HUB_URL", "http://127.0.0.1:8000")
if AUTH == "dummy":
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ.get("NETLAB_HUB_PASSWORD", "")
    c.Authenticator.allow_all = True
elif AUTH == "pam":
    c.JupyterHub.authenticator_class = "pam"
    c.Authenticator.allow_all = True  # every Linux user on this machine is a learner
else:
    raise ValueError(f"NETLAB_HUB_AUTH must be 'pam' or 'dummy', not {AUTH!r}")
admins = {a.strip() for a in os.environ.get("NETLAB_HUB_ADMINS", "").split(",") if a.strip()}
if admins:
    c.Authenticator.admin_users = admins

# --- the learner's server: sim mode, the course copied in, memory capped -----------------
c.Spawner.environment = {
    "NETLAB_MODE": "sim",
    # 2 cores shared by a class: one BLAS thread and few malloc arenas per kernel
    "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2",
}
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.mem_limit = MEM_LIMIT
c.Spawner.http_timeout = 60
c.Spawner.start_timeout = 120


def copy_course(spawner) -> None:  # noqa: ANN001 - JupyterHub's pre_spawn_hook signature
    """Copy the course notebooks into ``~/netlab`` for this learner; never overwrite one
    that exists (a learner's own work is never lost, a new lesson still arrives)."""
    if SPAWNER == "simple":
        home = Path(spawner.home_dir)
        owner = None
    else:
        entry = pwd.getpwnam(spawner.user.name)
        home, owner = Path(entry.pw_dir), (entry.pw_uid, entry.pw_gid)
    dest = home / "netlab"
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted(COURSE.rglob("*")):
        target = dest / src.relative_to(COURSE)
        if src.is_dir():
            target.mkdir(exist_ok=True)
        elif not target.exists():
            shutil.copy2(src, target)
        else:
            continue
        if owner and os.geteuid() == 0:
            os.chown(target, *owner)
    if owner and os.geteuid() == 0:
        os.chown(dest, *owner)


c.Spawner.pre_spawn_hook = copy_course

if SPAWNER in ("local", "simple"):
    c.JupyterHub.spawner_class = "simple" if SPAWNER == "simple" else "localprocess"
    if SPAWNER == "simple":
        c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(
            os.environ.get("NETLAB_HUB_HOMES", "/tmp/netlab-hub-homes"), "{username}")
    # These spawners ignore mem_limit: cap each process's address space instead (see above).
    prlimit = shutil.which("prlimit")
    if prlimit:
        c.Spawner.cmd = [prlimit, f"--as={mem_bytes(AS_LIMIT)}", "--", SINGLEUSER]
    else:
        print("netlab: prlimit not found (apt-get install util-linux): learners' memory is NOT capped",
              file=sys.stderr)
elif SPAWNER == "systemd":
    c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
    c.SystemdSpawner.mem_limit = MEM_LIMIT  # enforced: systemd MemoryMax on the learner's unit
    c.SystemdSpawner.isolate_tmp = True
    c.SystemdSpawner.isolate_devices = True
else:
    raise ValueError(f"NETLAB_HUB_SPAWNER must be 'local', 'simple' or 'systemd', not {SPAWNER!r}")

# --- idle culling: stop servers nobody used for CULL_TIMEOUT seconds ------------------------
c.JupyterHub.load_roles = [{
    "name": "idle-culler",
    "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
    "services": ["idle-culler"],
}]
c.JupyterHub.services = [{
    "name": "idle-culler",
    "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_TIMEOUT}",
                f"--cull-every={max(60, CULL_TIMEOUT // 6)}"],
}]

# --- the hub's own state, kept beside each other -------------------------------------------
state = Path(os.environ.get("NETLAB_HUB_STATE", "/var/lib/netlab-hub" if os.geteuid() == 0
                            else str(Path.home() / ".netlab-hub")))
state.mkdir(parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
