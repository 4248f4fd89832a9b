"""``docker network inspect`` JSON → the Docker networks, their bridges and containers.

Lesson 1 compares what Docker says (network ``bridge`` is docker0, 172.17.0.0/16,
container ``web`` at 172.17.0.2 with this MAC) with what the kernel shows.
The raw network objects are kept in ``state.docker_networks``; from them the
host gets its bridge (with the gateway address and the subnet's route) and each
attached container a namespace named after it.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from netlab.model import Address, HostState, Link, Namespace, Route
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import clean_lines

_BRIDGE_OPTION = "com.docker.network.bridge.name"


_INT64_MAX = 2**63 - 1


class _HugeNumber(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def _json_int(text: str) -> int:
    """A JSON integer that fits a signed 64-bit value (what ip -j, docker and pandas hold)."""
    digits = text.lstrip("-")
    if len(digits) > 19 or int(text) > _INT64_MAX or int(text) < -_INT64_MAX - 1:
        raise _HugeNumber(text)
    return int(text)


def load_json(command: str, text: str | bytes) -> tuple[Any, Any]:
    """A JSON paste decoded (prompts and fences removed, 64-bit integers only) and its
    cleaned lines, or a ParseError naming ``command``."""
    cleaned = clean_lines(text, keep_blank=True)
    body = "\n".join(line for _, line in cleaned.lines)
    if not body.strip():
        raise empty_error(command, cleaned)
    try:
        return json.loads(body, parse_int=_json_int), cleaned
    except RecursionError:
        raise parse_error(command, "the JSON is nested too deeply", cleaned) from None
    except _HugeNumber as exc:
        shown = exc.text if len(exc.text) <= 30 else exc.text[:12] + "…" + exc.text[-6:]
        raise parse_error(command, f"the number {shown} ({len(exc.text.lstrip('-'))} digits) does not fit "
                          "64 bits: no ip/docker counter or id is that large", cleaned) from None
    except json.JSONDecodeError as exc:
        # map the decoder's line (in the cleaned text) back to the paste's line
        idx = min(max(exc.lineno - 1, 0), len(cleaned.lines) - 1)
        lineno, line = cleaned.lines[idx]
        if exc.pos >= len(body.rstrip()) or exc.msg.startswith("Unterminated string"):
            # the text ends where the JSON still expected more: the paste was cut off
            raise parse_error(command, "the JSON is cut off: it ends before its closing brackets "
                              f"({exc.msg} at the end)", cleaned, lineno, line,
                              hint=f"paste all of what `{command}` prints (a terminal or chat may cut "
                                   f"long output: `{command} ... > out.json` and paste the file)") from None
        if cleaned.elided:
            raise parse_error(command, f"invalid JSON: {exc.msg} (column {exc.colno}); lines were left "
                              f"out (the `...` on line {cleaned.elided[0]})", cleaned, lineno, line,
                              hint=f"JSON cannot be read with parts missing: paste all of what `{command}` prints") from None
        raise parse_error(command, f"invalid JSON: {exc.msg} (column {exc.colno})", cleaned,
                          lineno, line) from None


def bridge_name(network: dict[str, Any]) -> str | None:
    """The Linux bridge behind a Docker bridge network (docker0, br-<id[:12]>)."""
    if network.get("Driver") != "bridge":
        return None
    options = network.get("Options") or {}
    if isinstance(options, dict) and isinstance(options.get(_BRIDGE_OPTION), str):
        return options[_BRIDGE_OPTION]
    net_id = network.get("Id")
    return f"br-{net_id[:12]}" if isinstance(net_id, str) and net_id else None


def parse_docker_network_inspect(text: str | bytes, netns: str = "") -> HostState:
    """Read ``docker network inspect NETWORK...`` JSON (one network or a list)."""
    command = "docker network inspect"
    data, cleaned = load_json(command, text)
    if isinstance(data, dict):
        data = [data]
    first = cleaned.lines[0] if cleaned.lines else (None, None)
    if not isinstance(data, list) or not data:
        raise parse_error(command, "expected a JSON list of networks", cleaned, *first)
    state = HostState(source="paste")
    known: dict[str, int] = {}
    for number, net in enumerate(data, 1):
        if isinstance(net, dict) and "NetworkSettings" in net:
            raise parse_error(command, f"item {number} is a container, not a network (it has "
                              "NetworkSettings)", cleaned, first[0], first[1],
                              hint="that is `docker inspect CONTAINER` output: read it with "
                                   "netlab.parse_docker_inspect() (or parse_host(), which recognises it)")
        if not isinstance(net, dict) or not isinstance(net.get("Name"), str) or not (
                "IPAM" in net or "Driver" in net):
            raise parse_error(command, f"item {number} is not a Docker network (it has no Name, "
                              "Driver and IPAM)", cleaned, *first)
        state.docker_networks.append(net)
        try:
            _network(state, net, netns, known)
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            raise parse_error(command, f"network {net['Name']!r}: unexpected value ({exc})",
                              cleaned, *first) from None
    state.namespace(netns)
    return state.normalise()


def _network(state: HostState, net: dict[str, Any], netns: str, known: dict[str, int]) -> None:
    bridge = bridge_name(net)
    configs = ((net.get("IPAM") or {}).get("Config") or [])
    if bridge:
        state.links.append(Link(name=bridge, kind="bridge", netns=netns))
        for cfg in configs:
            subnet, gateway = cfg.get("Subnet"), cfg.get("Gateway")
            if not isinstance(subnet, str):
                continue
            network = ipaddress.ip_network(subnet, strict=False)
            if isinstance(gateway, str) and gateway:
                gw = ipaddress.ip_address(gateway.split("/")[0])
                state.addrs.append(Address(ifname=bridge, address=str(gw),
                                           prefixlen=network.prefixlen, family=network.version,
                                           netns=netns))
                state.route_list.append(Route(dst=str(network), dev=bridge, protocol="kernel",
                                              scope="link", src=str(gw), family=network.version,
                                              netns=netns))
    for container in (net.get("Containers") or {}).values():
        name = container.get("Name")
        if not isinstance(name, str) or not name:
            continue
        if net.get("Driver") == "host":
            continue  # a `--network host` container lives in the host's own namespace
        if name not in known:
            known[name] = 0
            state.namespaces.append(Namespace(name))
        if bridge:
            _container_end(state, name, f"eth{known[name]}", container)
            known[name] += 1


def _container_end(state: HostState, ns: str, ifname: str, container: dict[str, Any]) -> None:
    """The container's end of its veth: MAC, addresses and the subnet's connected route.

    Docker names a container's interfaces eth0, eth1, ... in the order it joins
    networks; netlab assumes the order in which the paste lists them.
    """
    mac = container.get("MacAddress")
    state.links.append(Link(name=ifname, kind="veth", netns=ns,
                            mac=mac.lower() if isinstance(mac, str) and mac else None))
    for key in ("IPv4Address", "IPv6Address"):
        value = container.get(key)
        if not isinstance(value, str) or not value:
            continue
        iface = ipaddress.ip_interface(value)
        state.addrs.append(Address(ifname=ifname, address=str(iface.ip),
                                   prefixlen=iface.network.prefixlen, family=iface.version,
                                   netns=ns))
        state.route_list.append(Route(dst=str(iface.network), dev=ifname, protocol="kernel",
                                      scope="link" if iface.version == 4 else None,
                                      src=str(iface.ip) if iface.version == 4 else None,
                                      family=iface.version, netns=ns))
