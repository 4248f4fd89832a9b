"""Layer 6 — scenarios: the topologies lessons and tests run on, as plain data.

``docker_host(version=..., containers=[Container("web", ports=["80:80"])])`` builds
a Docker host the way that Docker version does (bridges, veth pairs, addresses,
MACs, sysctls and its exact iptables rules); ``seed_host()`` is the article's host
read from its pasted command outputs; ``catalogue`` holds named ready-made ones.
The ``sim`` and ``lab`` backends both take a :class:`Scenario`.
"""

from __future__ import annotations

from netlab.scenarios import catalogue
from netlab.scenarios.docker import Container, docker_host, parse_port
from netlab.scenarios.docker_rules import docker_rules
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.from_state import from_state
from netlab.scenarios.profiles import PROFILES, VersionProfile, resolve_version
from netlab.scenarios.seed import seed_host
from netlab.scenarios.topology import (
    BridgeNetwork,
    DockerProfile,
    Interface,
    Node,
    PortMapping,
    RouteSpec,
    Scenario,
    Service,
    Wire,
)

__all__ = [
    "PROFILES",
    "BridgeNetwork",
    "Container",
    "DockerProfile",
    "Interface",
    "Node",
    "PortMapping",
    "RouteSpec",
    "Scenario",
    "ScenarioError",
    "Service",
    "VersionProfile",
    "Wire",
    "catalogue",
    "docker_host",
    "docker_rules",
    "from_state",
    "parse_port",
    "resolve_version",
    "seed_host",
]
