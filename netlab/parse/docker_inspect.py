"""``docker inspect CONTAINER`` JSON → the containers' names, networks and published ports.

``docker network inspect`` says which addresses a network handed out; ``docker inspect``
says, per container, what it is called, which networks it joined (IP, MAC, gateway,
aliases, the network's id), its ``HostConfig.NetworkMode`` and which ports it
publishes (``NetworkSettings.Ports``: ``{"80/tcp": [{"HostIp": "0.0.0.0",
"HostPort": "8080"}]}``).  They land in ``state.containers``;
:func:`netlab.scenarios.from_state` uses them to name the containers and publish
their ports.  Field names as in Docker 27–29's ``api/types/container``
(``NetworkSettings.Networks`` is a map of ``EndpointSettings``); Docker before 1.9
had only the top-level ``NetworkSettings.IPAddress`` — read as the ``bridge`` network.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from netlab.model import ContainerNetwork, DockerContainer, HostState, PublishedPort
from netlab.parse._errors import parse_error
from netlab.parse.docker import load_json

COMMAND = "docker inspect"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _ip(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    return str(ipaddress.ip_address(text.split("/")[0]))  # ValueError: reported by the caller


def _endpoint(name: str, ep: dict[str, Any]) -> ContainerNetwork:
    prefix = ep.get("IPPrefixLen")
    if prefix is not None and (not isinstance(prefix, int) or isinstance(prefix, bool)
                               or not 0 <= prefix <= 32):
        raise ValueError(f"IPPrefixLen {prefix!r} is not 0-32")
    aliases = ep.get("Aliases") or []
    dns = ep.get("DNSNames") or []  # Docker 26+: the names the embedded DNS answers for
    return ContainerNetwork(
        network=name,
        ip=_ip(ep.get("IPAddress")),
        prefixlen=prefix or None,
        mac=(_text(ep.get("MacAddress")) or "").lower() or None,
        gateway=_ip(ep.get("Gateway")),
        ipv6=_ip(ep.get("GlobalIPv6Address")),
        aliases=[a for a in dict.fromkeys([*aliases, *dns]) if isinstance(a, str)],
        network_id=_text(ep.get("NetworkID")),
    )


def _ports(ports: Any) -> list[PublishedPort]:
    out: list[PublishedPort] = []
    if not isinstance(ports, dict):
        return out
    for key, binds in ports.items():
        port, _, proto = str(key).partition("/")
        number = int(port)
        if not 0 < number < 65536:
            raise ValueError(f"port {key!r} is not 1-65535")
        if not binds:
            out.append(PublishedPort(number, proto or "tcp"))  # exposed, not published
            continue
        for bind in binds:
            if not isinstance(bind, dict):
                raise ValueError(f"port {key!r}: a binding is not an object")
            host_port = _text(bind.get("HostPort"))
            hp = int(host_port) if host_port else None
            if hp is not None and not 0 < hp < 65536:
                raise ValueError(f"HostPort {host_port!r} is not 1-65535")
            host_ip = _text(bind.get("HostIp"))
            out.append(PublishedPort(number, proto or "tcp",
                                     str(ipaddress.ip_address(host_ip)) if host_ip else None, hp))
    return out


def container_of(obj: dict[str, Any]) -> DockerContainer:
    """One ``docker inspect`` object as a :class:`~netlab.model.DockerContainer` (ValueError,
    TypeError, ... on a value Docker never writes)."""
    settings = obj.get("NetworkSettings") or {}
    host_config = obj.get("HostConfig") or {}
    state = obj.get("State") or {}
    config = obj.get("Config") or {}
    networks = [_endpoint(str(name), ep) for name, ep in (settings.get("Networks") or {}).items()
                if isinstance(ep, dict)]
    if not networks and _text(settings.get("IPAddress")):
        networks.append(_endpoint("bridge", settings))  # Docker < 1.9: no Networks map
    pid = state.get("Pid") if isinstance(state, dict) else None
    return DockerContainer(
        name=str(obj.get("Name") or "").lstrip("/") or str(obj.get("Id") or "")[:12] or "container",
        id=_text(obj.get("Id")),
        image=_text(config.get("Image")) if isinstance(config, dict) else None,
        network_mode=_text(host_config.get("NetworkMode")) if isinstance(host_config, dict) else None,
        networks=networks,
        ports=_ports(settings.get("Ports")),
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None,
        running=state.get("Running") if isinstance(state, dict) and isinstance(
            state.get("Running"), bool) else None,
    )


def parse_docker_inspect(text: str | bytes, netns: str = "") -> HostState:
    """Read ``docker inspect CONTAINER...`` JSON (a list of containers, or one object)."""
    data, cleaned = load_json(COMMAND, text)
    if isinstance(data, dict):
        data = [data]
    first = cleaned.lines[0] if cleaned.lines else (None, None)
    if not isinstance(data, list) or not data:
        raise parse_error(COMMAND, "expected a JSON list of containers", cleaned, *first)
    state = HostState(source="paste")
    for number, obj in enumerate(data, 1):
        if not isinstance(obj, dict) or not ("NetworkSettings" in obj or "HostConfig" in obj):
            hint = None
            if isinstance(obj, dict) and "IPAM" in obj:
                hint = "this is `docker network inspect` output: parse_host() reads it as such " \
                       "(or netlab.parse_docker_network_inspect)"
            raise parse_error(COMMAND, f"item {number} is not a container (it has no NetworkSettings)",
                              cleaned, first[0], first[1], hint=hint)
        try:
            ctr = container_of(obj)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise parse_error(COMMAND, f"container {obj.get('Name')!r}: unexpected value ({exc})",
                              cleaned, *first) from None
        state.containers.append(ctr)
    state.namespace(netns)
    return state
