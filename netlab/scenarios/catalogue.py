"""Named, ready-made scenarios for lessons, the differential suite and benchmarks.

Each function returns a fresh :class:`Scenario`; ``version`` picks the Docker
profile (``"27"`` the article's family, ``"28"``, ``"29"``); ``firewall_backend="nftables"``
(29 only) gives the host Docker's nftables table instead of iptables rules.  ``CATALOGUE``
maps a name to its function and :func:`build` makes one by name.
"""

from __future__ import annotations

from collections.abc import Callable

from netlab.scenarios.docker import Container, docker_host
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.seed import seed_host
from netlab.scenarios.topology import Scenario, Service

VERSIONS = ("27", "28", "29")


def article(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """The article's host built from a profile: ``web`` (nginx) run with ``-p 80:80``."""
    return docker_host(version, [Container("web", ports=["80:80"])], seed=seed,
                       firewall_backend=firewall_backend, name=f"article-{version}")


def two_containers(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``web`` (-p 80:80) and ``app`` on docker0: container to container through the bridge."""
    return docker_host(version, [Container("web", ports=["80:80"]),
                                 Container("app", image="alpine", services=[Service("tcp", 8000, "http")])],
                       seed=seed, firewall_backend=firewall_backend, name=f"two-containers-{version}")


def two_bridges(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """Two user-defined networks (``front``, ``back``): Docker isolates them from each other."""
    return docker_host(
        version,
        [Container("web", ports=["8080:80"], network="front"),
         Container("db", image="redis", network="back")],
        networks=["front", "back"], seed=seed, firewall_backend=firewall_backend, name=f"two-bridges-{version}",
    )


def user_network_dns(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``docker network create mynet`` (172.18.0.0/16) with ``web`` and ``db`` (alias
    ``database``) on it, ``cache`` on a second network ``other`` and ``legacy`` on docker0:
    Docker's embedded DNS (127.0.0.11) answers names on the same network only."""
    return docker_host(
        version,
        [Container("web", ports=["8080:80"], network="mynet"),
         Container("db", image="redis", network="mynet", aliases=["database"]),
         Container("cache", image="redis", network="other"),
         Container("legacy", image="alpine", services=[])],
        networks=["mynet", "other"], seed=seed, firewall_backend=firewall_backend,
        name=f"user-network-dns-{version}",
    )


def published_on_localhost(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``-p 127.0.0.1:8080:80``: reachable from the host itself, not from the LAN."""
    return docker_host(version, [Container("web", ports=["127.0.0.1:8080:80"])], seed=seed,
                       firewall_backend=firewall_backend, name=f"published-on-localhost-{version}")


def hairpin(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``--userland-proxy=false``: no docker-proxy; a container reaches its own published
    port through the host's address (hairpin NAT on the bridge)."""
    return docker_host(version, [Container("web", ports=["80:80"]),
                                 Container("app", image="alpine")],
                       userland_proxy=False, seed=seed, firewall_backend=firewall_backend, name=f"hairpin-{version}")


def unpublished_port(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``web`` listens on 80 (published) and 8080 (not published)."""
    return docker_host(version, [Container("web", ports=["80:80"], services=[
        Service("tcp", 80, "http"), Service("tcp", 8080, "http")])],
        seed=seed, firewall_backend=firewall_backend, name=f"unpublished-port-{version}")


def internal_network(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``docker network create --internal backend``: no way out, no way in."""
    return docker_host(version, [Container("web", ports=["80:80"]),
                                 Container("db", image="redis", network="backend")],
                       networks=[{"name": "backend", "internal": True}], seed=seed,
                       firewall_backend=firewall_backend, name=f"internal-network-{version}")


def icc_off(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``dockerd --icc=false``: containers on docker0 cannot talk to each other."""
    return docker_host(version, [Container("web", ports=["80:80"]),
                                 Container("app", image="alpine", services=[Service("tcp", 8000, "http")])],
                       icc=False, seed=seed, firewall_backend=firewall_backend, name=f"icc-off-{version}")


def ip_forward_off(version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """Someone ran ``sysctl net.ipv4.ip_forward=0`` after Docker started."""
    return docker_host(version, [Container("web", ports=["80:80"])], ip_forward=False, seed=seed,
                       firewall_backend=firewall_backend, name=f"ip-forward-off-{version}")


def docker_user_drop(version: str = "27", seed: int = 0) -> Scenario:
    """The administrator's own rule in DOCKER-USER: drop web traffic arriving from the LAN NIC."""
    scenario = docker_host(version, [Container("web", ports=["80:80"])], seed=seed,
                           name=f"docker-user-drop-{version}")
    host = scenario.host
    host.iptables = insert_rule(host.iptables, "filter", "DOCKER-USER",
                                "-i enp0s8 -p tcp -m tcp --dport 80 -j DROP")
    scenario.description += "; DOCKER-USER drops tcp/80 arriving on enp0s8"
    return scenario


def many_containers(n: int = 100, version: str = "27", seed: int = 0, firewall_backend: str = "iptables") -> Scenario:
    """``n`` nginx containers on docker0, each publishing its port 80 on host port 8000+i."""
    if not 0 <= n <= 60000:
        raise ScenarioError(f"n={n}: give between 0 and 60000 containers")
    return docker_host(version, [Container(f"c{i + 1}", ports=[f"{8000 + i}:80"]) for i in range(n)],
                       seed=seed, firewall_backend=firewall_backend, name=f"many-containers-{n}-{version}")


#: an administrator's own nftables table that drops forwarded traffic (Docker 29's nftables
#: backend has no DOCKER-USER chain: a table at a lower priority does its job)
ADMIN_DROP_NFT = """table inet admin {
	chain forward {
		type filter hook forward priority filter - 1; policy accept;
		counter drop comment "administrator: drop forwarded traffic"
	}
}
"""


def with_admin_drop(scenario: Scenario) -> Scenario:
    """A copy of an nftables-backend host's ``scenario`` with :data:`ADMIN_DROP_NFT` added."""
    s = Scenario.from_dict(scenario.to_dict())
    s.host.nftables = (s.host.nftables or "").rstrip("\n") + "\n" + ADMIN_DROP_NFT
    return s


def insert_rule(iptables_save: str, table: str, chain: str, rule: str) -> str:
    """``iptables -t table -I chain rule`` on iptables-save text: the rule becomes the
    chain's first rule."""
    lines = iptables_save.splitlines()
    try:
        start = lines.index(f"*{table}")
    except ValueError:
        raise ScenarioError(f"no table {table!r} in these rules") from None
    end = lines.index("COMMIT", start)
    if not any(line.startswith(f":{chain} ") for line in lines[start:end]):
        raise ScenarioError(f"no chain {chain!r} in table {table!r}")
    at = next((i for i in range(start, end) if lines[i].startswith(f"-A {chain} ")), None)
    if at is None:  # empty chain: its rules go after the rules of the chains listed before it
        order = [line[1:].split()[0] for line in lines[start:end] if line.startswith(":")]
        later = set(order[order.index(chain) + 1:])
        at = next((i for i in range(start, end) if lines[i].startswith("-A ")
                   and lines[i].split()[1] in later), end)
    lines.insert(at, f"-A {chain} {rule}")
    return "\n".join(lines) + "\n"


CATALOGUE: dict[str, Callable[..., Scenario]] = {
    "article": article,
    "two-containers": two_containers,
    "two-bridges": two_bridges,
    "user-network-dns": user_network_dns,
    "published-on-localhost": published_on_localhost,
    "hairpin": hairpin,
    "unpublished-port": unpublished_port,
    "internal-network": internal_network,
    "icc-off": icc_off,
    "ip-forward-off": ip_forward_off,
    "docker-user-drop": docker_user_drop,
    "many-containers": many_containers,
}


def names() -> list[str]:
    return sorted(CATALOGUE)


def build(name: str, **kwargs: object) -> Scenario:
    """The catalogue scenario ``name`` (``build("two-bridges", version="29")``)."""
    try:
        factory = CATALOGUE[name]
    except KeyError:
        raise ScenarioError(f"no scenario {name!r} in the catalogue; choose one of {names()}") from None
    return factory(**kwargs)


SHORTCUTS = {"seed": None, "docker27": "27", "docker28": "28", "docker29": "29"}


def scenario_by_name(name: str, version: str | None = None, seed: int = 0) -> Scenario:
    """A scenario named on a command line or in ``netlab.connect(scenario=...)``: ``seed``
    (the article's host, read through the parsers), ``docker27|28|29`` (that host as each
    Docker builds it), a catalogue name (``two-containers``, ``hairpin`` …), optionally
    with ``@version`` (``article@28.0.0``)."""
    base, _, at = name.partition("@")
    version = version or at or None
    if base in ("seed", "seed_host"):
        return seed_host()
    if base in SHORTCUTS:
        return build("article", version=version or SHORTCUTS[base], seed=seed)
    if base in CATALOGUE:
        return build(base, seed=seed, **({"version": version} if version else {}))
    raise ScenarioError(f"unknown scenario {name!r}; use one of {', '.join([*SHORTCUTS, *names()])}"
                        " (a catalogue name may end in @VERSION, e.g. article@28)")
