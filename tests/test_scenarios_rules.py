"""Docker's rules as netlab generates them == Docker's rules as captured.

For every rule-set fixture in tests/data/docker-rules/ whose scenario the
builder can express, the fixture's file name says which scenario it is (see the
README there); this test builds that scenario with ``docker_rules`` (and, for the
daemon scenarios, with ``docker_host`` too) and compares every table the fixture
shows, rule for rule and in order, policies and chain lists included.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import DOCKER_RULES, SEED

from netlab.scenarios import Container, docker_host
from netlab.scenarios.docker_rules import Endpoint, docker_rules
from netlab.scenarios.topology import BridgeNetwork, PortMapping

# Fixtures this builder cannot express, and why.  Everything else must match.
NOT_EXPRESSIBLE: dict[str, str] = {
    "swarm-portmap": (
        "swarm mode: the ingress network, docker_gwbridge and the ingress-sbox namespace "
        "(DOCKER-INGRESS chains) are not modelled by the bridge-network builder"
    ),
    "unit-bridge-driver__routed_icc_masq_proxy-on_publish-0.0.0.0-8080": (
        "a bridge-driver unit test that hands a routed network a host port; a daemon never does "
        "(in routed mode a binding has no host port, so no DNAT — see usernet-portmap-routed, "
        "which the builder reproduces)"
    ),
}


def _fixture_files() -> list[Path]:
    if not DOCKER_RULES.is_dir():
        return []
    files = sorted(DOCKER_RULES.glob("docker2*__*.iptables-S.txt"))
    files += sorted((DOCKER_RULES / "derived").glob("*.iptables-S.txt"))
    files += sorted((DOCKER_RULES / "realworld").glob("*.iptables-save*.txt"))
    files += sorted(DOCKER_RULES.glob("docker*__unit-bridge-driver__*.iptables-save.txt"))
    return files


FIXTURES = _fixture_files()


# ------------------------------------------------------------ fixture reading
def read_rules(text: str) -> dict[str, list[str]]:
    """Per table, the ``iptables -S`` lines (``-P``, ``-N``, ``-A``) a fixture shows.

    Reads both ``iptables -S`` sections (``# ---- iptables -S -t nat ----``) and
    ``iptables-save`` blocks; ``:CHAIN POLICY [n:m]`` becomes ``-P``/``-N``.  A
    ``# ---- iptables -S DOCKER ----`` section is kept as table ``"filter DOCKER"``.
    Header and comment lines are ignored.
    """
    tables: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        m = re.match(r"# ---- iptables -S (?:-t (\w+)|(\S+)) ----", line)
        if m:
            name = m.group(1) or f"filter {m.group(2)}"
            current = tables.setdefault(name, [])
            continue
        if not line or line.startswith("#") or line == "COMMIT":
            continue
        if line.startswith("*"):
            current = tables.setdefault(line[1:], [])
            continue
        if current is None:
            raise AssertionError(f"rule outside a table: {line!r}")
        if line.startswith(":"):
            chain, policy = line[1:].split()[:2]
            if policy == "-":
                current.append(f"-N {chain}")
            else:
                current.append(f"-P {chain} {policy}")
            continue
        current.append(line)
    return tables


def fixture_name(path: Path) -> tuple[str, str]:
    """``(version part, scenario)`` of a fixture file name."""
    stem = path.name.split(".iptables")[0].removesuffix(".DERIVED")
    version, scenario = stem.split("__", 1)
    return version.removeprefix("docker"), scenario


def version_of(part: str) -> str:
    if part.startswith("18.03.1") or part == "-pre28":
        return "27"
    return part


# ----------------------------------------------------- fixture -> scenario
DOCKER0 = BridgeNetwork("bridge", "docker0", "172.17.0.0/16", "172.17.0.1")


def _bridge1(**kw: object) -> BridgeNetwork:
    return BridgeNetwork("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1", **kw)  # type: ignore[arg-type]


def scenario_for(path: Path) -> dict:
    """The ``docker_rules`` arguments for the scenario a fixture file name describes."""
    part, scenario = fixture_name(path)
    derived = "derived" in path.parts
    realworld = "realworld" in path.parts
    spec: dict = {"version": version_of(part), "userland_proxy": True, "controller": True,
                  "networks": [DOCKER0], "endpoints": []}
    # FORWARD policy: the moby captures ran with ip_forward already on (ACCEPT); the derived
    # default-bridge/two-user-bridges files and the real-world captures are fresh hosts (DROP).
    spec["ip_forward_was_on"] = not (
        realworld or (derived and scenario.startswith(("default-bridge", "two-user-bridges")))
    )
    if scenario.startswith("unit-bridge-driver__"):
        return _unit_scenario(spec, scenario.removeprefix("unit-bridge-driver__"))
    if scenario in ("new-daemon", "realworld-2019__default-bridge-no-containers"):
        return spec
    if scenario.startswith("usernet-portmap"):
        variant = scenario.removeprefix("usernet-portmap").lstrip("-")
        net = {
            "": _bridge1(), "lo": _bridge1(), "noproxy": _bridge1(),
            "noicc": _bridge1(icc=False), "routed": _bridge1(gateway_mode="routed"),
            "natunprot": _bridge1(gateway_mode="nat-unprotected"),
        }[variant]
        host_ip = "127.0.0.1" if variant == "lo" else "0.0.0.0"
        spec["userland_proxy"] = variant != "noproxy"
        spec["networks"] = [DOCKER0, net]
        spec["endpoints"] = [Endpoint("bridge1", "192.0.2.2", [PortMapping(8080, 80, "tcp", host_ip)])]
        return spec
    if scenario == "usernet-internal":
        spec["networks"] = [
            DOCKER0,
            BridgeNetwork("bridgeICC", "bridgeICC", "192.0.2.0/24", "192.0.2.1", internal=True),
            BridgeNetwork("bridgeNoICC", "bridgeNoICC", "198.51.100.0/24", "198.51.100.1",
                          internal=True, icc=False),
        ]
        spec["endpoints"] = [Endpoint("bridgeICC", "192.0.2.2"), Endpoint("bridgeNoICC", "198.51.100.2")]
        return spec
    m = re.fullmatch(r"(?:realworld-blog__)?default-bridge-(icc-false-)?publish(127\.0\.0\.1-)?80"
                     r"(-noproxy)?", scenario)
    if m:
        spec["networks"] = [BridgeNetwork("bridge", "docker0", "172.17.0.0/16", "172.17.0.1",
                                          icc=not m.group(1))]
        host_ip = "127.0.0.1" if m.group(2) else "0.0.0.0"
        spec["userland_proxy"] = not m.group(3)
        spec["endpoints"] = [Endpoint("docker0", "172.17.0.2", [PortMapping(80, 80, "tcp", host_ip)])]
        return spec
    if scenario == "two-user-bridges":
        spec["networks"] = [
            DOCKER0,
            BridgeNetwork("netA", "br-aaaaaaaaaaaa", "172.18.0.0/16", "172.18.0.1"),
            BridgeNetwork("netB", "br-bbbbbbbbbbbb", "172.19.0.0/16", "172.19.0.1"),
        ]
        spec["endpoints"] = [
            Endpoint("br-aaaaaaaaaaaa", "172.18.0.2", [PortMapping(8080, 80)]),
            Endpoint("br-bbbbbbbbbbbb", "172.19.0.2"),
        ]
        return spec
    raise AssertionError(f"no scenario known for fixture {path.name}; add it to scenario_for()")


def _unit_scenario(spec: dict, name: str) -> dict:
    """moby's bridge-driver unit tests: br-dummy 192.168.0.0/24, endpoint 192.168.0.2, no
    daemon controller (no DOCKER-USER) and no docker0; FORWARD policy left ACCEPT."""
    spec.update(controller=False, ip_forward_was_on=True, networks=[], endpoints=[])
    if name.startswith("driver-init_"):
        spec["userland_proxy"] = name.endswith("proxy-on")
        return spec
    m = re.fullmatch(r"internal_(icc|noicc)", name)
    if m:
        spec["networks"] = [BridgeNetwork("dummy", "br-dummy", "192.168.0.0/24", "192.168.0.1",
                                          internal=True, icc=m.group(1) == "icc")]
        return spec
    m = re.fullmatch(r"(nat|nat-unprotected|routed)_(icc|noicc)_(masq|nomasq|snat-hostip)_"
                     r"proxy-(on|off)_publish-([\d.]+)-8080", name)
    if not m:
        raise AssertionError(f"unknown unit fixture {name}")
    mode, icc, masq, proxy, host_ip = m.groups()
    spec["networks"] = [BridgeNetwork(
        "dummy", "br-dummy", "192.168.0.0/24", "192.168.0.1", icc=icc == "icc", gateway_mode=mode,
        masquerade=masq != "nomasq", host_ipv4="192.168.123.0" if masq == "snat-hostip" else None,
    )]
    spec["userland_proxy"] = proxy == "on"
    spec["endpoints"] = [Endpoint("br-dummy", "192.168.0.2", [PortMapping(8080, 80, "tcp", host_ip)])]
    return spec


def _skip_reason(path: Path) -> str | None:
    return NOT_EXPRESSIBLE.get(fixture_name(path)[1])


def _generated(spec: dict) -> dict[str, list[str]]:
    rules = docker_rules(
        spec["version"], spec["networks"], spec["endpoints"],
        userland_proxy=spec["userland_proxy"], ip_forward_was_on=spec["ip_forward_was_on"],
        controller=spec["controller"],
    )
    return read_rules(rules.to_iptables_save())


def _assert_same(expected: dict[str, list[str]], got: dict[str, list[str]], name: str) -> None:
    assert expected, f"{name}: no rules read from the fixture"
    for table, rules in expected.items():
        if table.startswith("filter "):  # `iptables -S DOCKER`: one chain of the filter table
            chain = table.split()[1]
            mine = [r for r in got["filter"] if r in (f"-N {chain}",) or r.startswith(f"-A {chain} ")]
        else:
            assert table in got, f"{name}: generated rules have no {table} table"
            mine = got[table]
        assert mine == rules, (
            f"{name}: table {table} differs\n--- fixture\n" + "\n".join(rules)
            + "\n--- generated\n" + "\n".join(mine)
        )


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_generated_rules_equal_fixture(path: Path) -> None:
    reason = _skip_reason(path)
    if reason:
        pytest.skip(f"not expressible: {reason}")
    expected = read_rules(path.read_text(encoding="utf-8"))
    _assert_same(expected, _generated(scenario_for(path)), path.name)


def test_fixtures_are_there_and_all_are_covered() -> None:
    if not DOCKER_RULES.is_dir():
        pytest.skip(f"fixtures not found at {DOCKER_RULES}")
    assert len(FIXTURES) >= 60
    skipped = [p.name for p in FIXTURES if _skip_reason(p)]
    # only the swarm captures (one per version) and the routed unit test are skipped
    assert len(skipped) == 6, skipped


# ------------------------------------------------- the same through docker_host
DAEMON_CASES = {
    # fixture file (relative to docker-rules/) -> docker_host arguments
    "derived/docker18.03.1-27.5.1__default-bridge-publish80.DERIVED.iptables-S.txt":
        dict(version="27", containers=[Container("web", ports=["80:80"])]),
    "derived/docker18.03.1-27.5.1__default-bridge-icc-false-publish80.DERIVED.iptables-S.txt":
        dict(version="18.09", icc=False, containers=[Container("web", ports=["80:80"])]),
    "derived/docker28.2.2__default-bridge-publish127.0.0.1-80.DERIVED.iptables-S.txt":
        dict(version="28", containers=[Container("web", ports=["127.0.0.1:80:80/tcp"])]),
    "derived/docker29.0.0__default-bridge-publish80-noproxy.DERIVED.iptables-S.txt":
        dict(version="29", userland_proxy=False, containers=[Container("web", ports=["80:80"])]),
    "derived/docker28.0.1__default-bridge-publish80.DERIVED.iptables-S.txt":
        dict(version="28.1.1", containers=[Container("web", ports=[PortMapping(80, 80)])]),
    "docker28.0.0__usernet-portmap.iptables-S.txt":
        dict(version="28.0.0", ip_forward_was_on=True,
             networks=[BridgeNetwork("bridge1", "bridge1", "192.0.2.0/24", "192.0.2.1")],
             containers=[Container("c1", ports=["8080:80"], network="bridge1")]),
    "docker29.0.0__usernet-internal.iptables-S.txt":
        dict(version="29.0.0", ip_forward_was_on=True,
             networks=[dict(name="bridgeICC", bridge="bridgeICC", subnet="192.0.2.0/24", internal=True),
                       dict(name="bridgeNoICC", bridge="bridgeNoICC", subnet="198.51.100.0/24",
                            internal=True, icc=False)],
             containers=[Container("a", network="bridgeICC"), Container("b", network="bridgeNoICC")]),
    "derived/docker28.2.2__two-user-bridges.DERIVED.iptables-S.txt":
        dict(version="28.5.1",
             networks=[dict(name="netA", bridge="br-aaaaaaaaaaaa"), dict(name="netB", bridge="br-bbbbbbbbbbbb")],
             containers=[Container("a", ports=["8080:80"], network="netA"), Container("b", network="netB")]),
}


@pytest.mark.parametrize("rel", sorted(DAEMON_CASES))
def test_docker_host_programs_the_fixture_rules(rel: str) -> None:
    path = DOCKER_RULES / rel
    if not path.exists():
        pytest.skip(f"fixture {path} not found")
    scenario = docker_host(**DAEMON_CASES[rel])
    _assert_same(read_rules(path.read_text(encoding="utf-8")), read_rules(scenario.host.iptables), rel)


def test_article_rules_are_the_pre28_rules() -> None:
    """The 2018 article's iptables-save is exactly what the 18.x–27.x profile programs."""
    path = SEED / "iptables-save.txt"
    if not path.exists():
        pytest.skip(f"fixture {path} not found")
    scenario = docker_host("article", containers=[Container("web", ports=["80:80"])])
    _assert_same(read_rules(path.read_text(encoding="utf-8")), read_rules(scenario.host.iptables),
                 "seed-2018/iptables-save.txt")


def test_a_difference_is_caught() -> None:
    """The comparison is not vacuous: one rule moved or one policy changed fails it."""
    path = DOCKER_RULES / "docker29.0.0__usernet-portmap.iptables-S.txt"
    if not path.exists():
        pytest.skip("fixture not found")
    expected = read_rules(path.read_text(encoding="utf-8"))
    spec = scenario_for(path)
    got = _generated(spec)
    swapped = {**got, "nat": list(got["nat"])}
    i = swapped["nat"].index("-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE")
    swapped["nat"][i - 1], swapped["nat"][i] = swapped["nat"][i], swapped["nat"][i - 1]
    with pytest.raises(AssertionError):
        _assert_same(expected, swapped, "swapped")
    with pytest.raises(AssertionError):
        _assert_same(expected, _generated({**spec, "ip_forward_was_on": False}), "policy")
    with pytest.raises(AssertionError):
        _assert_same(expected, _generated({**spec, "version": "28.2.2"}), "28.2.2")
