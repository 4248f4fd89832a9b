"""Names: one validator for the sim and the lab, full matches only, nothing odd reaches a command."""

from __future__ import annotations

import copy
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.errors import LabError
from netlab.lab import Lab, names
from netlab.lab.handmade import article_host
from netlab.scenarios import Container, ScenarioError, Service, docker_host
from netlab.scenarios.names import NameRefused, check_scenario
from netlab.sim.net import SimNet

PREFIX = "nl0a1b2c"


def _renamed_node(scenario, old: str, new: str):  # noqa: ANN202
    s = copy.deepcopy(scenario)
    node = s.nodes.pop(old)
    node.name = new
    s.nodes[new] = node
    for w in s.wires:
        w.a = (new, w.a[1]) if w.a[0] == old else w.a
        w.b = (new, w.b[1]) if w.b[0] == old else w.b
    return s


def _renamed_iface(scenario, node: str, old: str, new: str):  # noqa: ANN202
    s = copy.deepcopy(scenario)
    for i in s.node(node).interfaces:
        if i.name == old:
            i.name = new
    for r in s.node(node).routes:
        if r.dev == old:
            r.dev = new
    for w in s.wires:
        w.a = (node, new) if w.a == (node, old) else w.a
        w.b = (node, new) if w.b == (node, old) else w.b
    return s


def _answer(build) -> tuple[str, str] | None:  # noqa: ANN001
    """None if ``build()`` accepted the scenario, else (exception type, message)."""
    try:
        build()
    except Exception as exc:  # noqa: BLE001 - the point is to compare whatever comes out
        return type(exc).__name__, str(exc)
    return None


def _sim(s):  # noqa: ANN001, ANN202
    return lambda: SimNet(s)


def _lab(s):  # noqa: ANN001, ANN202
    return lambda: Lab(s, prefix=PREFIX).plan()


@pytest.mark.parametrize("check, value", [
    (names.check_prefix, "nl0a1b2c\n"), (names.check_node, "web\n"), (names.check_ifname, "eth0\n"),
    (names.check_mac, "02:42:ac:11:00:02\n"), (names.check_ipset, "docker-ext-bridges-v4\n"),
    (lambda v: names.check_sysctl(v, "1"), "net.ipv4.ip_forward\n"),
    (lambda v: names.check_sysctl("net.ipv4.ip_forward", v), "1\n"),
])
def test_a_trailing_newline_is_refused_everywhere(check, value: str) -> None:
    with pytest.raises(NameRefused):
        check(value)
    check(value[:-1])  # the same name without it is fine


def test_namespace_names_with_a_newline_are_not_lab_namespaces() -> None:
    assert names.is_lab_netns("nl0a1b2c-web") and names.prefix_of("nl0a1b2c-app-web-1") == "nl0a1b2c"
    assert not names.is_lab_netns("nl0a1b2c-web\n") and names.prefix_of("nl0a1b2c\n-web") is None


def test_name_refusals_are_scenario_and_lab_errors() -> None:
    assert issubclass(NameRefused, ScenarioError) and issubclass(NameRefused, LabError)
    assert issubclass(NameRefused, ValueError)


@pytest.mark.parametrize("node", ["x\n", "web\n", "we b", "web;rm", "-rf", "wéb", "a" * 200, ""])
def test_node_names_get_the_same_answer_in_sim_and_lab(node: str) -> None:
    s = _renamed_node(article_host(), "web", node)
    sim, lab = _answer(_sim(s)), _answer(_lab(s))
    assert sim is not None and sim == lab
    assert sim[0] == "NameRefused" and "node name" in sim[1]


def test_a_200_character_container_name_same_answer() -> None:
    s = docker_host("27", [Container("a" * 200, ports=["80:80"])])
    sim, lab = _answer(_sim(s)), _answer(_lab(s))
    assert sim is not None and sim == lab and "1-63" in sim[1]


def test_compose_style_names_work_in_sim_and_lab() -> None:
    s = docker_host("27", [Container("app-web-1", ports=["80:80"])])
    assert _answer(_sim(s)) is None and _answer(_lab(s)) is None
    j = SimNet(s).probe("http", src="client", dst="host", dport=80)
    assert j.ok and any(e.node == "app-web-1" for e in j.steps)
    plan = Lab(s, prefix=PREFIX).plan()
    assert plan.netns["app-web-1"] == f"{PREFIX}-app-web-1"
    assert names.prefix_of(plan.netns["app-web-1"]) == PREFIX


@pytest.mark.parametrize("bad", ["eth0\n", "eth0 up", "dev", "a" * 16, "eth/0", "éth0"])
def test_interface_names_same_answer(bad: str) -> None:
    s = _renamed_iface(article_host(), "web", "eth0", bad)
    sim, lab = _answer(_sim(s)), _answer(_lab(s))
    assert sim is not None and sim == lab and "interface name" in sim[1]


def test_macs_ipsets_and_sysctls_same_answer() -> None:
    base = article_host()
    cases = []
    s = copy.deepcopy(base)
    s.node("web").interfaces[-1].mac = "02:42:ac:11:00:02\n"
    cases.append(s)
    s = copy.deepcopy(base)
    s.node("host").ipsets = {"set\nx": ["172.17.0.0/16"]}
    cases.append(s)
    s = copy.deepcopy(base)
    s.node("host").sysctls["net.ipv4.ip_forward"] = "1\n"
    cases.append(s)
    s = copy.deepcopy(base)
    s.node("host").sysctls["net.ipv4.ip_forward\nkernel.panic"] = "1"
    cases.append(s)
    for target in ("172.17.0.2:http", "172.17.0.2", "172.17.0.2:99999", "web:80", "172.17.0.2:８0"):
        s = copy.deepcopy(base)
        s.node("host").services.append(Service("tcp", 8081, kind="docker-proxy", target=target))
        cases.append(s)
    for s in cases:
        sim, lab = _answer(_sim(s)), _answer(_lab(s))
        assert sim is not None and sim == lab and sim[0] == "NameRefused"


# what may appear in a command netlab runs: printable ASCII, no shell or option tricks
_SAFE_WORD = re.compile(r"[A-Za-z0-9_.:/@%+=,-]+")


def _plan_is_clean(s) -> None:  # noqa: ANN001
    plan = Lab(s, prefix=PREFIX).plan()
    for cmd in plan.commands:
        for word in cmd.argv:
            assert _SAFE_WORD.fullmatch(word), (cmd.argv, word)
        if cmd.stdin is not None and "iptables-restore" not in cmd.argv:
            for line in cmd.stdin.split("\n"):
                assert line.isprintable() and line.isascii(), line
    script = plan.script()
    assert all(line.isprintable() for line in script.splitlines())
    for n in s.nodes:  # every namespace named in the script is a lab namespace
        assert names.is_lab_netns(plan.netns[n])


_names = st.one_of(
    st.text(min_size=0, max_size=70),
    st.text(alphabet=st.sampled_from("aZ09_.-\n\r\t \x00\x7f/;$`'\"é²ß\u200b\u2028"), max_size=20),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,70}", fullmatch=True),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=_names, iface=_names)
def test_property_sim_and_lab_agree_and_nothing_invalid_reaches_a_command(node: str, iface: str) -> None:
    for s in (_renamed_node(article_host(), "web", node), _renamed_iface(article_host(), "client", "eth0", iface)):
        if len(s.nodes) != len(article_host().nodes):  # renamed onto an existing node
            continue
        sim, lab = _answer(_sim(s)), _answer(_lab(s))
        assert sim == lab, (node, iface)
        if sim is None:
            _plan_is_clean(s)
            check_scenario(s)
        else:
            assert sim[0] == "NameRefused", sim


def test_a_comment_in_the_script_cannot_start_a_command() -> None:
    from netlab.lab.plan import Command, Plan, Stage

    cmd = Command(["ip", "netns", "add", f"{PREFIX}-web"], what="web\nrm -rf /")
    script = Plan(PREFIX, {}, [Stage("namespaces", [cmd])], []).script()
    assert "rm -rf /" not in [line.strip() for line in script.splitlines()]
    assert "# web rm -rf /" in script
