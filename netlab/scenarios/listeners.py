"""Pasted listening sockets (``ss -tlnp``, ``netstat -tlnp``: ``HostState.listeners``) →
the programs a simulated node runs (:class:`~netlab.scenarios.topology.Service`).

Used by :func:`netlab.scenarios.from_state`: the host's own servers (``sshd`` on
``0.0.0.0:22``, ``postgres`` on ``127.0.0.1:5432``) become services bound where the
paste shows them, so ``netlab.why`` can answer "no listener" or "bound to 127.0.0.1
only"; ``docker-proxy`` sockets say Docker's userland proxy is on; a container's own
``ss`` (``docker exec web ss -tlnp``) says which of its ports really answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.scenarios.topology import Service

if TYPE_CHECKING:  # pragma: no cover
    from netlab.model import HostState, Listener


def listeners_of(state: HostState, netns: str) -> list[Listener]:
    """The IPv4-reachable listening sockets pasted for namespace ``netns``."""
    out = []
    for s in state.listeners:
        if s.netns != netns or s.proto not in ("tcp", "udp"):
            continue
        if s.family == 6 and s.address not in ("::", "*"):
            continue  # bound to one IPv6 address: no IPv4 packet reaches it
        out.append(s)
    return out


def service_of(listener: Listener) -> Service:
    """The simulated program for one pasted socket (tcp: answers HTTP; udp: echoes)."""
    bind = listener.address if listener.family == 4 and listener.address != "*" else "0.0.0.0"
    kind = "http" if listener.proto == "tcp" else "udp-echo"
    return Service(listener.proto, listener.port, kind, bind=bind)


def host_services(state: HostState, notes: list[str]) -> tuple[list[Service], set[tuple[str, int]]]:
    """(services of the host's own programs, the (proto, port)s docker-proxy holds)."""
    services: list[Service] = []
    proxied: set[tuple[str, int]] = set()
    seen: set[tuple[str, int, str]] = set()
    for s in listeners_of(state, ""):
        if s.process == "docker-proxy":
            proxied.add((s.proto, s.port))
            continue
        svc = service_of(s)
        if (svc.proto, svc.port, svc.bind) in seen:
            continue  # the IPv4 and IPv6 sockets of one server
        seen.add((svc.proto, svc.port, svc.bind))
        services.append(svc)
    if services:
        shown = ", ".join(f"{s.bind}:{s.port}/{s.proto}" for s in services[:6])
        more = f" and {len(services) - 6} more" if len(services) > 6 else ""
        notes.append(f"the host's listening sockets from the pastes run as services ({shown}{more}): "
                     "each answers as a simple server")
    return services, proxied
