"""What-if variants of a Docker host: the four changes lessons 5 and 6 ask about.

Each variant is a copy of a :class:`~netlab.scenarios.topology.Scenario` with
exactly what Docker (or an administrator) would change on a real host:

- ``publish_localhost`` — ``-p 127.0.0.1:80:80``: the DNAT rule gains
  ``-d 127.0.0.1/32`` and docker-proxy binds 127.0.0.1, so the LAN cannot reach it;
- ``userland_proxy_off`` — ``"userland-proxy": false``: no docker-proxy; nat OUTPUT
  jumps to DOCKER for loopback too, a MASQUERADE for host-sourced traffic into
  docker0, ``route_localnet=1`` and hairpin on the veths;
- ``docker_user_drop`` — an administrator's ``iptables -I DOCKER-USER -j DROP``:
  every forwarded packet, published ports included, is dropped;
- ``ip_forward_off`` — ``sysctl net.ipv4.ip_forward=0``: the host stops routing.

The functions are pure (they return a new scenario) so the rule tracer and the
troubleshooting lessons share them.  For a scenario with a Docker profile the
rules are replayed by the scenarios layer's generator (exactly what that Docker
version writes); otherwise the text of the rules is edited the same way.
"""

from __future__ import annotations

import re
from typing import Any

from netlab.errors import NetlabError
from netlab.scenarios.catalogue import ADMIN_DROP_NFT

WHAT_IFS: dict[str, str] = {
    "publish_localhost": "publish on 127.0.0.1 (-p 127.0.0.1:80:80)",
    "userland_proxy_off": "userland proxy off",
    "docker_user_drop": "DOCKER-USER: -j DROP",
    "ip_forward_off": "ip_forward = 0",
}


def _copy(scenario: Any) -> Any:
    from netlab.scenarios.topology import Scenario

    return Scenario.from_dict(scenario.to_dict())


def _sections(text: str) -> list[list[str]]:
    """Split iptables-save text into per-table blocks (lines kept as they are)."""
    blocks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("*"):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    return blocks


def _join(blocks: list[list[str]]) -> str:
    return "\n".join(line for b in blocks for line in b) + "\n"


def _table(blocks: list[list[str]], name: str) -> list[str] | None:
    for b in blocks:
        if b and b[0].strip() == f"*{name}":
            return b
    return None


def _insert_first(block: list[str], chain: str, rule: str) -> None:
    """Insert ``rule`` as the first rule of ``chain`` (like ``iptables -I chain``)."""
    for i, line in enumerate(block):
        if line.startswith(f"-A {chain} "):
            block.insert(i, rule)
            return
    commit = next(i for i, line in enumerate(block) if line.strip() == "COMMIT")
    block.insert(commit, rule)


#: Docker 29's nftables backend has no DOCKER-USER: an administrator's own base chain at the
#: forward hook, before Docker's (priority filter - 1), drops instead — a drop in any table is
#: final, while Docker's accept would not stop it
ADMIN_DROP = ADMIN_DROP_NFT  # netlab.scenarios.catalogue: the lab catalogue uses it too


def _nft_backend(s: Any) -> bool:
    return bool((getattr(s.host, "nftables", "") or "").strip())


def docker_user_drop(scenario: Any) -> Any:
    """The host with ``iptables -I DOCKER-USER -j DROP`` added (on a host with Docker 29's
    nftables backend: an administrator's ``table inet admin`` whose forward chain drops)."""
    s = _copy(scenario)
    host = s.host
    if _nft_backend(s) and not (host.iptables or "").strip():
        host.nftables = host.nftables.rstrip("\n") + "\n" + ADMIN_DROP
        return s
    blocks = _sections(host.iptables)
    flt = _table(blocks, "filter")
    if flt is None or not any(line.startswith(":DOCKER-USER") for line in flt):
        raise NetlabError("this host's filter table has no DOCKER-USER chain (Docker creates "
                          "it); pick a Docker scenario, e.g. nl.docker_host() or nl.seed_host()")
    _insert_first(flt, "DOCKER-USER", "-A DOCKER-USER -j DROP")
    host.iptables = _join(blocks)
    return s


def ip_forward_off(scenario: Any) -> Any:
    """The host with ``net.ipv4.ip_forward=0``."""
    s = _copy(scenario)
    s.host.sysctls["net.ipv4.ip_forward"] = "0"
    return s


def _regenerate(s: Any, userland_proxy: bool) -> bool:
    """Rewrite the host's rules as Docker would for its containers (False: not a Docker
    scenario netlab can replay, e.g. a host read from pastes without a profile)."""
    if s.docker is None or not s.docker.networks:
        return False
    from netlab.scenarios.docker_rules import Endpoint, docker_rules

    endpoints = [Endpoint(c.network, c.ip, list(c.ports)) for c in s.containers
                 if c.network and c.ip]
    if s.docker.extra.get("firewall_backend") == "nftables":
        from netlab.scenarios.docker_nft import docker_nft_rules

        s.host.nftables = docker_nft_rules(s.docker.networks, endpoints, userland_proxy=userland_proxy)
    else:
        rules = docker_rules(s.docker.version, s.docker.networks, endpoints,
                             userland_proxy=userland_proxy,
                             ip_forward_was_on=s.docker.ip_forward_was_on)
        s.host.iptables = rules.to_iptables_save()
        if hasattr(s.host, "ipsets"):
            s.host.ipsets = rules.ipsets
    from netlab.scenarios.docker import br_netfilter_on
    from netlab.scenarios.profiles import resolve_version

    family = resolve_version(s.docker.version).family
    br_nf = "1" if br_netfilter_on(s.docker.networks, userland_proxy=userland_proxy,
                                   family=family) else "0"
    for key in ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"):
        s.host.sysctls[key] = br_nf  # dockerd loads br_netfilter for hairpin mode too
    return True


_DNAT = re.compile(r"^-A (DOCKER\S*) (?!.*\s-d\s)(.*-j DNAT --to-destination \S+)")


def publish_localhost(scenario: Any) -> Any:
    """The host with every published port bound to 127.0.0.1 instead of all addresses."""
    s = _copy(scenario)
    host = s.host
    ports = [p for c in s.containers for p in c.ports]
    if not ports:
        raise NetlabError("no published port to rebind; pick a scenario with a container "
                          "run with -p (nl.seed_host() or nl.docker_host())")
    for p in ports:
        if p.host_ip in ("0.0.0.0", ""):
            p.host_ip = "127.0.0.1"
    for svc in host.services:
        if svc.kind == "docker-proxy" and svc.bind in ("0.0.0.0", ""):
            svc.bind = "127.0.0.1"
    proxy = s.docker.userland_proxy if s.docker is not None else True
    if not _regenerate(s, proxy):
        blocks = _sections(host.iptables)
        nat = _table(blocks, "nat") or []
        for i, line in enumerate(nat):
            m = _DNAT.match(line)
            if m:
                nat[i] = f"-A {m.group(1)} -d 127.0.0.1/32 {m.group(2)}"
        host.iptables = _join(blocks)
    return s


def userland_proxy_off(scenario: Any) -> Any:
    """The host as Docker sets it up with ``"userland-proxy": false`` (hairpin mode)."""
    s = _copy(scenario)
    host = s.host
    host.services = [svc for svc in host.services if svc.kind != "docker-proxy"]
    bridges = [i.name for i in host.interfaces if i.kind == "bridge"]
    if not _regenerate(s, userland_proxy=False):
        blocks = _sections(host.iptables)
        nat = _table(blocks, "nat")
        if nat is not None:
            for i, line in enumerate(nat):
                if line.startswith("-A OUTPUT ") and "! -d 127.0.0.0/8 " in line:
                    nat[i] = line.replace("! -d 127.0.0.0/8 ", "")
                for br in bridges:
                    nat[i] = nat[i].replace(f"-A DOCKER ! -i {br} ", "-A DOCKER ")
            nat[:] = [line for line in nat
                      if not any(line == f"-A DOCKER -i {br} -j RETURN" for br in bridges)]
            for br in bridges:
                rule = f"-A POSTROUTING -o {br} -m addrtype --src-type LOCAL -j MASQUERADE"
                if rule not in nat:
                    _insert_first(nat, "POSTROUTING", rule)
            host.iptables = _join(blocks)
    for br in bridges:
        host.sysctls[f"net.ipv4.conf.{br}.route_localnet"] = "1"
    for iface in host.interfaces:
        if iface.master in bridges:
            iface.hairpin = True
    if s.docker is not None:
        s.docker.userland_proxy = False
    return s


_FUNCS = {
    "publish_localhost": publish_localhost,
    "userland_proxy_off": userland_proxy_off,
    "docker_user_drop": docker_user_drop,
    "ip_forward_off": ip_forward_off,
}


def what_if(scenario: Any, **changes: bool) -> Any:
    """A copy of ``scenario`` with the named changes applied (see :data:`WHAT_IFS`)."""
    unknown = set(changes) - set(_FUNCS)
    if unknown:
        raise NetlabError(f"unknown what-if {sorted(unknown)}; choose from {sorted(_FUNCS)}")
    s = _copy(scenario)
    for name in _FUNCS:  # a fixed order, so the result does not depend on argument order
        if changes.get(name):
            s = _FUNCS[name](s)
    if any(changes.values()):
        s.name = scenario.name + " + " + ", ".join(n for n in _FUNCS if changes.get(n))
    return s
