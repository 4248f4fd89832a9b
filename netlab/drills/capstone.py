"""Lesson 15's capstone, graded by running the model.

The task: on a Docker 28 host, publish nginx's port 80 as 8080 on a user-defined
network, let only one LAN address (192.168.56.1) reach it — a ``DOCKER-USER`` rule
with ``-m conntrack --ctorigdst/--ctorigdstport`` — and prove it with a capture saved
as pcapng.  :func:`build` reads the learner's commands (``docker network create``,
``docker run``, then any host command a drill fix takes: ``iptables ...``) into a
:class:`Scenario` whose LAN holds a second machine; :func:`grade` builds it in the
notebook's mode and checks, by probes, that the allowed client gets the page, the other
LAN client does not, the container still reaches the internet, and that the pcapng
file exists and loads.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
from pathlib import Path
from typing import Any

from netlab.drills.drill import Verdict
from netlab.drills.fixes import FixError, World, parse_fix
from netlab.scenarios.docker import Container, docker_host, parse_port
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.lan import with_lan_clients

ALLOWED = "192.168.56.1"  # the LAN client that may reach the published port
OTHER = "192.168.56.2"  # another LAN machine, which must not
HOST_LAN_IP = "192.168.56.38"
INTERNET = "203.0.113.10"

FORMS = """\
One command a line, as typed on the Docker host (lines starting with # are ignored):
  docker network create [--subnet CIDR] NAME
  docker run -d --name NAME --network NAME -p HOST_PORT:CONTAINER_PORT IMAGE
  iptables -I DOCKER-USER ...   (any command a drill fix takes; they run after the docker lines)"""

_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,30}$")


def _words(line: str) -> list[str]:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise FixError(f"{line!r}: {exc}") from None
    while words and words[0] in ("$", "#", "sudo"):
        words = words[1:]
    return words


def _network_create(words: list[str], line: str) -> dict[str, Any]:
    net: dict[str, Any] = {}
    i = 3
    while i < len(words):
        w = words[i]
        if w in ("--subnet", "--driver", "-d", "--gateway") or w.startswith(("--subnet=", "--driver=", "--gateway=")):
            key, value = (w.split("=", 1) if "=" in w else (w, words[i + 1] if i + 1 < len(words) else ""))
            i += 1 if "=" in w else 2
            if key in ("--driver", "-d") and value != "bridge":
                raise FixError(f"{line!r}: this capstone uses the bridge driver, not {value!r}")
            if key == "--subnet":
                try:
                    net["subnet"] = str(ipaddress.ip_network(value))
                except ValueError:
                    raise FixError(f"{line!r}: {value!r} is not a subnet such as 172.18.0.0/16") from None
            continue
        if w == "--internal":
            net["internal"] = True
        elif w.startswith("-"):
            raise FixError(f"{line!r}: option {w} is not one this capstone knows\n{FORMS}")
        elif "name" in net:
            raise FixError(f"{line!r}: one network name, please")
        else:
            net["name"] = w
        i += 1
    if "name" not in net or not _NAME.fullmatch(net["name"]) or net["name"] in ("bridge", "host", "none"):
        raise FixError(f"{line!r}: write it as docker network create NAME (a new name, not bridge/host/none)")
    return net


def _run(words: list[str], line: str) -> Container:
    name = network = image = None
    ports: list[str] = []
    i = 2
    while i < len(words):
        w = words[i]
        value = words[i + 1] if i + 1 < len(words) else None
        if w in ("-p", "--publish", "--name", "--network", "--net"):
            if value is None:
                raise FixError(f"{line!r}: {w} needs a value")
            if w in ("-p", "--publish"):
                ports.append(value)
            elif w == "--name":
                name = value
            else:
                network = value
            i += 2
            continue
        if w.startswith(("--publish=", "--name=", "--network=", "--net=")):
            key, value = w.split("=", 1)
            if key == "--publish":
                ports.append(value)
            elif key == "--name":
                name = value
            else:
                network = value
        elif w in ("-d", "--detach", "--rm", "-it", "-i", "-t"):
            pass
        elif w.startswith("-"):
            raise FixError(f"{line!r}: option {w} is not one this capstone knows\n{FORMS}")
        else:
            image = w
            break
        i += 1
    if image is None or name is None:
        raise FixError(f"{line!r}: give the container a --name and an image: "
                       "docker run -d --name web --network NAME -p 8080:80 nginx")
    for p in ports:
        try:
            parse_port(p)
        except ScenarioError as exc:
            raise FixError(f"{line!r}: {exc}") from None
    return Container(name, image=image, ports=ports, network=network or "bridge")


def build(commands: str, *, version: str = "28", seed: int = 0,
          lan: dict[str, str] | None = None) -> Any:
    """The host ``commands`` leave: docker lines build it (as dockerd would), the other
    lines then run on it in order; the LAN gets ``lan`` (default ``{"client2": OTHER}``).
    Raises ``FixError`` (nothing built) for a line it cannot read or the host refuses."""
    if not isinstance(commands, str) or not commands.strip():
        raise FixError(f"no commands given\n{FORMS}")
    networks: list[dict[str, Any]] = []
    containers: list[Container] = []
    rest: list[str] = []
    for raw in commands.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        words = _words(line)
        if words[:3] == ["docker", "network", "create"]:
            networks.append(_network_create(words, line))
        elif words[:2] in (["docker", "run"], ["docker", "create"]):
            containers.append(_run(words, line))
        elif words[:1] == ["docker"]:
            raise FixError(f"{line!r}: of docker's commands the capstone reads network create and run\n{FORMS}")
        else:
            rest.append(line)
    if not containers:
        raise FixError(f"no docker run line: which container do you publish?\n{FORMS}")
    names = {n["name"] for n in networks} | {"bridge"}
    for c in containers:
        if c.network not in names:
            raise FixError(f"docker run --name {c.name}: Error response from daemon: network {c.network} not found "
                           "(create it first with docker network create)")
    try:
        s = docker_host(version, containers, networks=networks or None, seed=seed)
    except ScenarioError as exc:
        raise FixError(str(exc)) from None
    s = with_lan_clients(s, lan if lan is not None else {"client2": OTHER})
    world = World(s)
    for op in parse_fix("\n".join(rest)) if rest else []:
        op.apply(world)
    return world.scenario


def _published(scenario: Any, port: int) -> tuple[Any, str | None]:
    """The container publishing host ``port`` and the bridge it is on (None: none does)."""
    default = next((n.bridge for n in scenario.docker.networks if n.name == "bridge"), "docker0")
    for c in scenario.containers:
        if any(p.host_port == port and p.proto == "tcp" for p in c.ports):
            return c, (None if c.network == default else c.network)
    return None, None


def grade(commands: str, capture_path: str | os.PathLike[str] | None, *, version: str = "28",
          allowed: str = ALLOWED, other: str = OTHER, port: int = 8080, mode: str = "auto") -> Verdict:
    """Build the learner's host and check it by probes (in ``mode``, ``NETLAB_MODE``
    overriding ``"auto"``): ``allowed`` gets the page on ``HOST_LAN_IP:port``, ``other``
    does not, the container still pings and fetches from the internet; then that the
    pcapng at ``capture_path`` exists, loads and holds a packet of port ``port``."""
    from netlab.capture import load_capture
    from netlab.errors import NetlabError
    from netlab.mode import connect

    lan = {f"client{i + 2}": ip for i, ip in enumerate(a for a in (allowed, other) if a != "192.168.56.1")}
    scenario = build(commands, version=version, lan=lan)
    results: list[tuple[str, bool, str]] = []
    web, bridge = _published(scenario, port)
    if web is None:
        return Verdict(False, f"no container publishes host port {port}/tcp: docker run ... -p {port}:80 ...",
                       [(f"a container publishes {port}", False, "none does")])
    if bridge is None:
        return Verdict(False, f"{web.name} publishes {port} but sits on docker0: create a network "
                       "(docker network create NAME) and run it with --network NAME",
                       [("on a user-defined network", False, "docker0")])
    results.append((f"{web.name} publishes {port} on {bridge}", True, "yes"))
    net = connect(mode, scenario=scenario, quiet=True)
    try:
        ok_lan = net.probe("http", src=allowed, dst=HOST_LAN_IP, dport=port, timeout=1.0)
        no_lan = net.probe("http", src=other, dst=HOST_LAN_IP, dport=port, timeout=1.0)
        ping = net.probe("ping", src=web.name, dst=INTERNET, timeout=1.0)
        http = net.probe("http", src=web.name, dst=INTERNET, dport=80, timeout=1.0)
    finally:
        net.close()
    results += [(f"{allowed} gets the page", ok_lan.ok, ok_lan.headline()),
                (f"{other} does not", not no_lan.ok, no_lan.headline()),
                (f"{web.name} pings the internet", ping.ok, ping.headline()),
                (f"{web.name} fetches from the internet", http.ok, http.headline())]
    if not ok_lan.ok:
        return Verdict(False, f"{allowed} no longer gets the page ({ok_lan.outcome}): your rule is wider "
                       "than the other client", results)
    if no_lan.ok:
        return Verdict(False, f"{other} still gets the page: which addresses and ports does a DOCKER-USER "
                       "rule see — before or after the DNAT?", results)
    if not (ping.ok and http.ok):
        return Verdict(False, f"{web.name} lost the internet ({'ping' if not ping.ok else 'HTTP'}): replies "
                       "from outside pass DOCKER-USER too; match only connections to the published port",
                       results)
    if capture_path is None or not Path(capture_path).is_file():
        return Verdict(False, f"the rules work; now save the proof: journey.capture.to_pcapng({str(capture_path)!r})"
                       if capture_path else "the rules work; now save a capture as pcapng and give its path",
                       [*results, ("the pcapng exists", False, "no such file")])
    try:
        cap = load_capture(capture_path)
    except (NetlabError, OSError, ValueError) as exc:
        return Verdict(False, f"{capture_path} does not load as a capture: {exc}",
                       [*results, ("the pcapng loads", False, str(exc))])
    df = cap.df
    of_port = int(((df["dport"] == port) | (df["sport"] == port)).fillna(False).sum()) if len(df) else 0
    results.append(("the pcapng loads", True, f"{len(cap)} packets, {of_port} of port {port}"))
    if not of_port:
        return Verdict(False, f"{capture_path} loads but has no packet to or from port {port}: capture the "
                       "probes to the published port", results)
    return Verdict(True, f"solved: only {allowed} reaches {HOST_LAN_IP}:{port}; {web.name} still reaches the "
                   f"internet; {capture_path} holds {len(cap)} packets ({of_port} of port {port})", results)
