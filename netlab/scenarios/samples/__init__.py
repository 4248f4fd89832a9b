"""Sample pastes of three realistic Docker hosts, for a learner who has no host of their own.

Lesson 13 ("your own host") reads a learner's pastes; without any it uses one of these:

- ``docker27-user-network``: Docker 27.3, the default bridge plus a user network ``shop``
  (``web`` publishes 8080, ``db`` only on ``shop``);
- ``docker28-two-ports``: Docker 28.2, one container publishing 80 and 443
  (28.x's ``DOCKER-FORWARD`` / ``DOCKER-CT`` chains);
- ``docker29-proxy-off``: Docker 29.0 with ``"userland-proxy": false`` (no docker-proxy:
  the hairpin MASQUERADE rule and ``route_localnet``).

Each is one paste of what the host prints — ``ip addr``, ``ip route``, ``sudo iptables-save``,
``sysctl``, ``docker inspect`` — as a person copies it from a terminal (prompts included).
The texts were written by :func:`render_pastes` from :func:`netlab.scenarios.docker_host`
(whose rules follow moby's ``libnetwork/drivers/bridge`` at each tag) and are shipped as
package data; ``python -m netlab.scenarios.samples`` writes them again.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from importlib import resources
from typing import TYPE_CHECKING

from netlab.scenarios.errors import ScenarioError

if TYPE_CHECKING:  # pragma: no cover
    from netlab.scenarios.topology import Scenario

SAMPLES = ("docker27-user-network", "docker28-two-ports", "docker29-proxy-off")
# the Docker release each sample's rules are those of (moby tags v27.3.1, v28.2.2, v29.0.1)
DOCKER_VERSION = {"docker27-user-network": "27.3.1", "docker28-two-ports": "28.2.2",
                  "docker29-proxy-off": "29.0.1"}
_IPTABLES_VERSION = "v1.8.9 (nf_tables)"  # Debian 12's iptables


def sample_paste(name: str) -> str:
    """The shipped paste of sample host ``name`` (one of :data:`SAMPLES`)."""
    if name not in SAMPLES:
        raise ScenarioError(f"no sample host {name!r}; the samples are: {', '.join(SAMPLES)}")
    return resources.files(__package__).joinpath(f"{name}.txt").read_text(encoding="utf-8")


def sample_scenario(name: str) -> Scenario:
    """The Docker host a sample's commands were run on (what :func:`render_pastes` printed)."""
    from netlab.scenarios.docker import Container, docker_host

    if name == "docker27-user-network":
        return docker_host("27", [Container("web", ports=["8080:80"]),
                                  Container("api", image="python:3.12", ports=["127.0.0.1:5000:5000"],
                                            network="shop"),
                                  Container("db", image="postgres:16", network="shop")],
                           networks=["shop"], name=name)
    if name == "docker28-two-ports":
        return docker_host("28", [Container("proxy", image="nginx:1.27", ports=["80:80", "443:443"])],
                           name=name)
    if name == "docker29-proxy-off":
        return docker_host("29", [Container("app", image="ghcr.io/acme/app:2.4", ports=["8000:8000"]),
                                  Container("cache", image="redis:7")],
                           userland_proxy=False, name=name)
    raise ScenarioError(f"no sample host {name!r}; the samples are: {', '.join(SAMPLES)}")


def _ip_addr(entries: list[tuple[int, str, str, str | None, list[str], str]]) -> str:
    """`ip addr` lines: (ifindex, name, mac, "@ifN link-netnsid K" or master, cidrs, kind)."""
    out = []
    for index, name, mac, extra, cidrs, kind in entries:
        if kind == "loopback":
            out.append(f"{index}: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN "
                       "group default qlen 1000\n    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
                       "    inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever\n"
                       "    inet6 ::1/128 scope host noprefixroute\n       valid_lft forever preferred_lft forever")
            continue
        at, master, netnsid = "", "", ""
        if kind == "veth":
            peer, nsid, master_name = extra.split(",") if extra else ("", "", "")
            at = f"@if{peer}"
            master = f" master {master_name}" if master_name else ""
            netnsid = f" link-netnsid {nsid}" if nsid else ""
        state = "UP" if cidrs or kind in ("veth", "physical") else "DOWN"
        flags = "BROADCAST,MULTICAST,UP,LOWER_UP" if state == "UP" else "NO-CARRIER,BROADCAST,MULTICAST,UP"
        qdisc = "fq_codel" if kind == "physical" else "noqueue"
        out.append(f"{index}: {name}{at}: <{flags}> mtu 1500 qdisc {qdisc}{master} state {state} "
                   f"group default{' qlen 1000' if kind == 'physical' else ''}")
        out.append(f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff{netnsid}")
        for cidr in cidrs:
            iface = ipaddress.IPv4Interface(cidr)
            scope = "global dynamic noprefixroute" if kind == "physical" else "global"
            out.append(f"    inet {cidr} brd {iface.network.broadcast_address} scope {scope} {name}")
            out.append("       valid_lft forever preferred_lft forever" if kind != "physical"
                       else "       valid_lft 86093sec preferred_lft 86093sec")
    return "\n".join(out) + "\n"


def render_pastes(scenario: Scenario, *, hostname: str = "docker-host", user: str = "ada") -> str:
    """What a person pastes from the host ``scenario`` describes: ``ip addr``, ``ip route``,
    ``sudo iptables-save``, the forwarding sysctls and ``docker inspect`` of every container,
    each after its prompt (``ada@docker-host:~$``).  Used to write the samples and by the
    benchmark's 50-container host."""
    host = scenario.host
    prompt = f"{user}@{hostname}:~$ "
    # ifindexes: the host's interfaces first, then each container's eth0 (as the kernel numbers them)
    index = {iface.name: i for i, iface in enumerate(host.interfaces, 1)}
    next_index = len(host.interfaces) + 1
    ctr_index: dict[str, int] = {}
    for node in scenario.containers:
        ctr_index[node.name] = next_index
        next_index += 1
    veth_of: dict[str, str] = {}
    for wire in scenario.wires:
        for a, b in ((wire.a, wire.b), (wire.b, wire.a)):
            if a[0] == "host" and b[0] in ctr_index:
                veth_of[a[1]] = b[0]
    entries = []
    for iface in host.interfaces:
        kind = ("loopback" if iface.name == "lo" else "bridge" if iface.kind == "bridge"
                else "veth" if iface.name in veth_of else "physical")
        extra = None
        if kind == "veth":
            ctr = veth_of[iface.name]
            extra = f"{ctr_index[ctr]},{list(ctr_index).index(ctr)},{iface.master or ''}"
        entries.append((index[iface.name], iface.name, iface.mac or "", extra, list(iface.addresses), kind))
    parts = [f"{prompt}ip addr\n" + _ip_addr(entries)]
    routes = []
    for r in host.routes:
        if r.dst == "default":
            routes.append(f"default via {r.via} dev {r.dev} proto dhcp src "
                          f"{host.interface(r.dev).ips[0]} metric 100")
        elif r.proto == "kernel" or (r.via is None and r.src):
            bridge = next((i for i in host.interfaces if i.name == r.dev), None)
            down = bridge is not None and bridge.kind == "bridge" and not any(
                i.master == r.dev for i in host.interfaces)
            src = r.src or (bridge.ips[0] if bridge and bridge.ips else "")
            routes.append(f"{r.dst} dev {r.dev} proto kernel scope link src {src}{' linkdown' if down else ''}"
                          + (" metric 100" if bridge is not None and bridge.kind != "bridge" else ""))
        else:
            routes.append(f"{r.dst}{' via ' + r.via if r.via else ''} dev {r.dev}")
    parts.append(f"{prompt}ip route\n" + "\n".join(routes) + "\n")
    rules = host.iptables.strip("\n")
    body = [line for line in rules.splitlines() if line.strip()]
    save = []
    for line in body:
        if line.startswith("*"):
            save.append(f"# Generated by iptables-save {_IPTABLES_VERSION} on Wed Dec  2 18:04:11 2026")
        save.append(line)
        if line == "COMMIT":
            save.append("# Completed on Wed Dec  2 18:04:11 2026")
    parts.append(f"{prompt}sudo iptables-save\n" + "\n".join(save) + "\n")
    keys = ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables")
    sysctls = [f"{k} = {host.sysctls[k]}" for k in keys if k in host.sysctls]
    parts.append(f"{prompt}sysctl {' '.join(keys)}\n" + "\n".join(sysctls) + "\n")
    names = [n.name for n in scenario.containers]
    if names:
        parts.append(f"{prompt}docker inspect {' '.join(names)}\n"
                     + json.dumps([_inspect_object(scenario, n) for n in names], indent=4) + "\n")
    return "".join(parts)


def _hex(*parts: str) -> str:
    """A 64-hex-digit id, the same on every run (Docker's ids are random; these are stable)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _inspect_object(scenario: Scenario, name: str) -> dict:
    """The parts of ``docker inspect`` (Docker 27–29) that say how a container is wired."""
    node = scenario.nodes[name]
    eth0 = node.interface("eth0")
    cidr = ipaddress.IPv4Interface(eth0.addresses[0])
    networks = {n.bridge: n for n in (scenario.docker.networks if scenario.docker else [])}
    net = networks.get(node.network or "docker0")
    net_name = net.name if net is not None else "bridge"
    cid = _hex("id", scenario.name, name)
    ports: dict[str, list[dict[str, str]] | None] = {}
    for pm in node.ports:
        binds = ports.setdefault(f"{pm.container_port}/{pm.proto}", [])
        assert binds is not None
        binds.append({"HostIp": pm.host_ip, "HostPort": str(pm.host_port)})
        if pm.host_ip == "0.0.0.0":
            binds.append({"HostIp": "::", "HostPort": str(pm.host_port)})
    gateway = node.routes[0].via if node.routes and node.routes[0].dst == "default" else ""
    endpoint = {
        "IPAMConfig": None, "Links": None,
        "Aliases": None if net_name == "bridge" else [name, cid[:12]],
        "MacAddress": eth0.mac, "DriverOpts": None,
        "NetworkID": _hex("net", scenario.name, net_name),
        "EndpointID": _hex("ep", scenario.name, name),
        "Gateway": gateway, "IPAddress": str(cidr.ip), "IPPrefixLen": cidr.network.prefixlen,
        "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
        "DNSNames": None if net_name == "bridge" else [name, cid[:12]],
    }
    return {
        "Id": cid, "Created": "2026-12-02T17:58:40.123456789Z", "Path": "/docker-entrypoint.sh",
        "State": {"Status": "running", "Running": True, "Pid": 4100 + len(name) * 7},
        "Image": "sha256:" + cid[::-1], "Name": f"/{name}",
        "HostConfig": {"NetworkMode": net_name},
        "Config": {"Hostname": cid[:12], "Image": node.image or "nginx", "Labels": {}},
        "NetworkSettings": {
            "Bridge": "", "SandboxID": cid[::-1], "SandboxKey": f"/var/run/docker/netns/{cid[:12]}",
            "Ports": ports, "Networks": {net_name: endpoint},
        },
    }


def write_samples(folder: str | None = None) -> list[str]:
    """Write the three sample pastes (``python -m netlab.scenarios.samples``); their paths."""
    from pathlib import Path

    where = Path(folder) if folder else Path(__file__).resolve().parent
    paths = []
    for i, name in enumerate(SAMPLES):
        text = render_pastes(sample_scenario(name), hostname=("build-01", "web-prod-2", "edge-7")[i])
        path = where / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths
