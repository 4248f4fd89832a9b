"""Docker version profiles: the facts that change from one Docker release to the next.

Docker has rewritten its iptables rules twice since the article (2018):

- **18.03.1 – 27.5.1** (profile ``"27"``, the article's family): per-bridge rules
  straight in ``FORWARD``, the two ``DOCKER-ISOLATION-STAGE-*`` chains ending in
  ``RETURN``, container MACs made from the IP address (``02:42:ac:11:00:02``),
  nothing in the ``raw`` table.
- **28.x**: the ``DOCKER-FORWARD`` / ``DOCKER-CT`` / ``DOCKER-BRIDGE`` chains
  (28.0.0 used an ipset instead), a default ``DROP`` per bridge in ``DOCKER``,
  ``raw``-table rules that drop packets sent straight to a container's address or
  to a port published on 127.0.0.1, random container MACs.
- **29.x**: ``DOCKER-INTERNAL`` replaces the isolation chains, and the
  ``nat DOCKER -i <bridge> -j RETURN`` rules are gone.

Each :class:`VersionProfile` names one rule set that the fixtures in
``tests/data/docker-rules/`` show; :func:`resolve_version` maps a version
string ("27.5.1", "28", "article", ...) to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netlab.scenarios.errors import ScenarioError


@dataclass(frozen=True)
class VersionProfile:
    """What one range of Docker releases programs, as flags the rule generator reads."""

    name: str  # canonical profile name: "27", "28.0.0", "28.0.1", "28.2.0", "28.2.2", "29.0.0"
    releases: str  # the Docker releases that program exactly these rules
    family: int  # 27 (18.03.1-27.5.1), 28 or 29
    ip_mac: bool  # container MAC is 02:42 + the IPv4 address (before 28.0)
    ext_bridges_ipset: bool  # 28.0.0: FORWARD matches the docker-ext-bridges-v4 ipset
    forward_chains: bool  # 28.0.1+: DOCKER-FORWARD, DOCKER-CT, DOCKER-BRIDGE
    isolation_chains: bool  # DOCKER-ISOLATION-STAGE-1/2 (gone in 29)
    isolation_return: bool  # the stage chains end in "-j RETURN" (before 28)
    internal_chain: bool  # DOCKER-INTERNAL (29)
    docker_user_return: bool  # "-A DOCKER-USER -j RETURN" (before 28.2.2)
    nat_skip_bridge: bool  # nat DOCKER "-i <bridge> -j RETURN" with the proxy on (before 29)
    default_drop: bool  # filter DOCKER "! -i br -o br -j DROP" per bridge (28+)
    hairpin_masq_always: bool  # per-port "-s c -d c ... MASQUERADE" even with the proxy on (before 28)
    raw_direct_per_port: bool  # 28.0.x: raw DROP of direct access per published port
    raw_direct_per_endpoint: bool  # 28.2.0+: raw DROP of direct access per container
    raw_loopback: bool  # 28+: raw DROP of a 127.0.0.1-published port from outside
    port_accept_insert: bool  # 28+: per-port ACCEPT inserted at the top of DOCKER

    @property
    def random_mac(self) -> bool:
        """From 28.0 Docker gives containers a random locally-administered MAC."""
        return not self.ip_mac

    @property
    def uses_raw(self) -> bool:
        return self.raw_direct_per_port or self.raw_direct_per_endpoint or self.raw_loopback

    def filter_chains(self, controller: bool = True) -> list[str]:
        """The user chains this version creates in the filter table (sorted, as ``iptables -S``)."""
        chains = ["DOCKER"]
        if self.forward_chains:
            chains += ["DOCKER-BRIDGE", "DOCKER-CT", "DOCKER-FORWARD"]
        if self.internal_chain:
            chains.append("DOCKER-INTERNAL")
        if self.isolation_chains:
            chains += ["DOCKER-ISOLATION-STAGE-1", "DOCKER-ISOLATION-STAGE-2"]
        if controller:
            chains.append("DOCKER-USER")
        return sorted(chains)


def _profile(name: str, releases: str, family: int, **flags: bool) -> VersionProfile:
    base = dict(
        ip_mac=False, ext_bridges_ipset=False, forward_chains=True, isolation_chains=True,
        isolation_return=False, internal_chain=False, docker_user_return=True,
        nat_skip_bridge=True, default_drop=True, hairpin_masq_always=False,
        raw_direct_per_port=False, raw_direct_per_endpoint=True, raw_loopback=True,
        port_accept_insert=True,
    )
    base.update(flags)
    return VersionProfile(name=name, releases=releases, family=family, **base)


PROFILES: dict[str, VersionProfile] = {
    p.name: p
    for p in (
        _profile(
            "27", "18.03.1 – 27.5.1", 27, ip_mac=True, forward_chains=False,
            isolation_return=True, default_drop=False, hairpin_masq_always=True,
            raw_direct_per_endpoint=False, raw_loopback=False, port_accept_insert=False,
        ),
        _profile(
            "28.0.0", "28.0.0", 28, forward_chains=False, ext_bridges_ipset=True,
            raw_direct_per_port=True, raw_direct_per_endpoint=False,
        ),
        _profile("28.0.1", "28.0.1 – 28.1.x", 28, raw_direct_per_port=True,
                 raw_direct_per_endpoint=False),
        _profile("28.2.0", "28.2.0 – 28.2.1", 28),
        _profile("28.2.2", "28.2.2 – 28.5.x", 28, docker_user_return=False),
        _profile(
            "29.0.0", "29.x", 29, docker_user_return=False, isolation_chains=False,
            internal_chain=True, nat_skip_bridge=False,
        ),
    )
}

ALIASES: dict[str, str] = {
    "article": "27", "pre28": "27", "pre-28": "27", "legacy": "27",
    "18": "27", "18.09": "27", "19": "27", "19.03": "27", "20": "27", "20.10": "27",
    "23": "27", "24": "27", "25": "27", "26": "27", "27": "27",
    "28": "28.2.2", "29": "29.0.0",
}

_VERSION = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+~].*)?$")


def resolve_version(version: str | int | float | VersionProfile) -> VersionProfile:
    """The profile whose rules a Docker ``version`` programs.

    Accepts a profile, a profile name, an alias (``"article"``, ``"28"``, ``"29"``)
    or any release number from 18.03.1 on (``"24.0.7"``, ``"28.3.3"``, ``"v29.1.0"``).
    """
    if isinstance(version, VersionProfile):
        return version
    text = str(version).strip().lower()
    if text in PROFILES:
        return PROFILES[text]
    if text in ALIASES:
        return PROFILES[ALIASES[text]]
    m = _VERSION.fullmatch(text)
    if not m:
        raise ScenarioError(
            f"{version!r} is not a Docker version; give a release such as '27.5.1', '28.2.2' or "
            f"'29.0.0', or one of {sorted(set(ALIASES) | set(PROFILES))}"
        )
    major, minor, patch = (int(g) if g else 0 for g in m.groups())
    v = (major, minor, patch)
    if v < (18, 3, 1):
        raise ScenarioError(
            f"Docker {version} predates the DOCKER-ISOLATION-STAGE chains (18.03.1); netlab models "
            "18.03.1 and later — use version='27' for the article's rule set"
        )
    if v < (28, 0, 0):
        return PROFILES["27"]
    if v == (28, 0, 0):
        return PROFILES["28.0.0"]
    if v < (28, 2, 0):
        return PROFILES["28.0.1"]
    if v < (28, 2, 2):
        return PROFILES["28.2.0"]
    if v < (29, 0, 0):
        return PROFILES["28.2.2"]
    if v < (30, 0, 0):
        return PROFILES["29.0.0"]
    raise ScenarioError(
        f"Docker {version} is newer than the rule sets netlab knows (up to 29.x); use version='29'"
    )
