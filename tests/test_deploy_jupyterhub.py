"""deploy/jupyterhub: the one-machine config loads, forces sim mode, culls idle servers and
caps memory the way it says; the Zero to JupyterHub values.yaml parses with the chart's keys."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from traitlets.config.loader import PyFileConfigLoader

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "jupyterhub"
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CULLER_SCOPES = {"list:users", "read:users:activity", "read:servers", "delete:servers"}


def _load(monkeypatch, tmp_path: Path, **env: str):  # noqa: ANN001, ANN202
    for key in ("NETLAB_HUB_SPAWNER", "NETLAB_HUB_AUTH", "NETLAB_HUB_MEM_LIMIT", "NETLAB_HUB_AS_LIMIT",
                "NETLAB_HUB_CULL_TIMEOUT", "NETLAB_HUB_ADMINS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("NETLAB_HUB_STATE", str(tmp_path / "state"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PyFileConfigLoader("jupyterhub_config.py", path=str(DEPLOY)).load_config()


@pytest.mark.parametrize("spawner", ["local", "simple", "systemd"])
def test_every_spawner_forces_sim_mode_and_culls(monkeypatch, tmp_path: Path, spawner: str) -> None:  # noqa: ANN001
    c = _load(monkeypatch, tmp_path, NETLAB_HUB_SPAWNER=spawner, NETLAB_HUB_CULL_TIMEOUT="900")
    assert c.Spawner.environment["NETLAB_MODE"] == "sim"
    assert c.Spawner.mem_limit == "1G"
    (service,) = c.JupyterHub.services
    assert service["command"][1:3] == ["-m", "jupyterhub_idle_culler"]
    assert "--timeout=900" in service["command"]
    (role,) = c.JupyterHub.load_roles
    assert role["services"] == [service["name"]] and set(role["scopes"]) == CULLER_SCOPES
    assert (tmp_path / "state").is_dir() and c.JupyterHub.db_url.endswith("jupyterhub.sqlite")


def test_local_spawners_cap_address_space_with_prlimit(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    if shutil.which("prlimit") is None:
        pytest.skip("prlimit (util-linux) not installed here")
    c = _load(monkeypatch, tmp_path, NETLAB_HUB_AS_LIMIT="2G")
    assert c.JupyterHub.spawner_class == "localprocess"
    cmd = c.Spawner.cmd
    assert Path(cmd[0]).name == "prlimit" and cmd[1] == f"--as={2 * 1024**3}" and cmd[2] == "--"
    assert cmd[3].endswith("jupyterhub-singleuser")


def test_systemd_spawner_enforces_mem_limit(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    c = _load(monkeypatch, tmp_path, NETLAB_HUB_SPAWNER="systemd", NETLAB_HUB_MEM_LIMIT="700M")
    assert c.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner"
    assert c.SystemdSpawner.mem_limit == "700M"


def test_dummy_auth_and_bad_settings(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    c = _load(monkeypatch, tmp_path, NETLAB_HUB_AUTH="dummy", NETLAB_HUB_PASSWORD="pw",
              NETLAB_HUB_ADMINS="teacher, ta")
    assert c.JupyterHub.authenticator_class == "dummy" and c.DummyAuthenticator.password == "pw"
    assert c.Authenticator.admin_users == {"teacher", "ta"}
    with pytest.raises(ValueError, match="NETLAB_HUB_SPAWNER"):
        _load(monkeypatch, tmp_path, NETLAB_HUB_SPAWNER="docker")
    with pytest.raises(ValueError, match="NETLAB_HUB_AUTH"):
        _load(monkeypatch, tmp_path, NETLAB_HUB_AUTH="ldap")


def test_course_copy_never_overwrites_a_learners_notebook(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    c = _load(monkeypatch, tmp_path, NETLAB_HUB_SPAWNER="simple")
    hook = c.Spawner.pre_spawn_hook
    home = tmp_path / "alice"
    mine = home / "netlab" / "10_packet_journey.ipynb"
    mine.parent.mkdir(parents=True)
    mine.write_text("my answers")
    spawner = type("S", (), {"home_dir": str(home)})()
    hook(spawner)
    assert mine.read_text() == "my answers"
    lessons = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    assert sorted(p.name for p in (home / "netlab").glob("*.ipynb")) == lessons
    assert (home / "netlab" / "00_start_here.ipynb").read_bytes() == (NOTEBOOKS / "00_start_here.ipynb").read_bytes()


def test_config_traits_exist_in_installed_jupyterhub(monkeypatch, tmp_path: Path) -> None:  # noqa: ANN001
    pytest.importorskip("jupyterhub", reason="jupyterhub not installed (pip install jupyterhub)")
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import Authenticator, DummyAuthenticator, PAMAuthenticator
    from jupyterhub.spawner import LocalProcessSpawner, SimpleLocalProcessSpawner, Spawner

    classes = {k.__name__: k for k in (JupyterHub, Authenticator, DummyAuthenticator, PAMAuthenticator,
                                       LocalProcessSpawner, SimpleLocalProcessSpawner, Spawner)}
    for spawner in ("local", "simple"):
        for auth in ("pam", "dummy"):
            c = _load(monkeypatch, tmp_path, NETLAB_HUB_SPAWNER=spawner, NETLAB_HUB_AUTH=auth)
            for section, values in c.items():
                for name in values:
                    assert name in classes[section].class_trait_names(), f"{section}.{name}"


def test_values_yaml_has_the_keys_zero_to_jupyterhub_reads() -> None:
    v = yaml.safe_load((DEPLOY / "values.yaml").read_text())
    known_top = {"fullnameOverride", "nameOverride", "custom", "imagePullSecret", "imagePullSecrets",
                 "hub", "rbac", "proxy", "singleuser", "scheduling", "ingress", "prePuller", "cull",
                 "debug", "global", "apps"}
    assert set(v) <= known_top
    su = v["singleuser"]
    assert su["image"]["name"] and isinstance(su["image"]["tag"], str) and su["image"]["tag"] != "latest"
    assert su["extraEnv"]["NETLAB_MODE"] == "sim"
    assert set(su["memory"]) == {"limit", "guarantee"}
    units = {"K": 1e3, "M": 1e6, "G": 1e9}
    limit, guarantee = (float(su["memory"][k][:-1]) * units[su["memory"][k][-1]] for k in ("limit", "guarantee"))
    assert limit >= guarantee >= 300e6  # a kernel after every lesson holds about 240 MB
    assert su["storage"]["homeMountPath"] == "/home/jovyan"
    assert "/srv/netlab/notebooks" in " ".join(su["lifecycleHooks"]["postStart"]["exec"]["command"])
    cull = v["cull"]
    assert cull["enabled"] is True and cull["users"] is False
    assert isinstance(cull["timeout"], int) and isinstance(cull["every"], int)
    assert v["hub"]["config"]["JupyterHub"]["authenticator_class"]
    assert "--target-repo-dir /srv/netlab" in (DEPLOY / "values.yaml").read_text()
