"""Check: answers are judged by running netlab; wrong answers reveal hints in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from netlab.widgets import Check


def _gateway_check(seed_dir: Path) -> Check:
    import netlab as nl

    rs = nl.parse_iptables((seed_dir / "iptables-save.txt").read_text())

    def answer(port: str) -> tuple[bool, str]:
        trace = rs.trace(nl.Packet("tcp", "192.168.56.1", "192.168.56.38", sport=40000,
                                   dport=int(port)), hook="PREROUTING", in_iface="enp0s8",
                         local_addrs=["192.168.56.38"])
        if trace.nat is None:
            return False, f"a packet to port {port} is not rewritten"
        return True, f"rewritten by {trace.nat.rule}"

    return Check("Which host port does the article's DNAT rule publish?", answer,
                 hints=["Look at --dport in the DOCKER chain.", "It is the web port."])


def test_wrong_answers_reveal_hints_then_right(seed_dir: Path) -> None:
    c = _gateway_check(seed_dir)
    c.value = "8080"
    c.click()
    assert c.correct is False and c.shown_hints == ["Look at --dport in the DOCKER chain."]
    assert "not rewritten" in c.message and "Hint 1" in c.hint_box.value
    c.value = "443"
    c.click()
    assert c.hints_shown == 2
    c.value = "22"
    c.click()
    assert c.hints_shown == 2  # no more hints to show
    assert c.submit("80") is True
    assert c.attempts == 4 and "nat:DOCKER:2" in c.message and "✔" in c.feedback.value


def test_bad_answer_does_not_raise_nor_show_raw_errors(seed_dir: Path) -> None:
    c = _gateway_check(seed_dir)
    assert c.submit("eighty") is False
    assert c.error is not None and "ValueError" in c.error  # kept for whoever debugs
    assert "ValueError" not in c.message and "invalid literal" not in c.message
    assert "ValueError" not in c.feedback.value
    assert c.attempts == 0 and c.hints_shown == 0 and c.correct is None


def test_empty_answer_is_not_an_attempt() -> None:
    c = Check("q", lambda v: True)
    c.click()
    assert c.correct is None and c.attempts == 0


def test_dropdown_answers() -> None:
    c = Check("Which device is a switch?", lambda v: (v == "docker0", f"{v}?"),
              hints=["It has ports."], options=["enp0s3", "docker0", "eth0"])
    c.value = "eth0"
    c.click()
    assert c.correct is False and c.hints_shown == 1
    assert c.submit("docker0")


def test_answer_fn_must_be_callable() -> None:
    with pytest.raises(TypeError, match="answer_fn"):
        Check("q", "80")  # type: ignore[arg-type]


def test_address_answer_checked_by_routing_not_by_text() -> None:
    """Any spelling of the right address is right: the check asks the routing table."""
    import ipaddress

    import netlab as nl

    net = nl.connect(mode="sim", scenario=nl.docker_host("29"), quiet=True)

    def gateway(answer: str) -> tuple[bool, str]:
        web = net.state("web")
        via = next(r.gateway for r in web.route_list if r.dst == "default")
        return ipaddress.ip_address(answer) == ipaddress.ip_address(via), f"web goes via {via}"

    c = Check("web's gateway?", gateway, hints=["ip route in the container"])
    assert c.submit("  172.17.0.1 ") is True  # surrounding spaces are not the answer
    assert c.submit("172.17.0.01") is False and c.error is not None  # not an address
    assert c.shown_hints == []  # an answer that cannot be read uses no hint
    assert "could not check" in c.message and "ValueError" not in c.message


def test_rule_answer_judged_by_a_trace() -> None:
    import netlab as nl
    from netlab.widgets.whatif import _insert_first, _join, _sections, _table

    text = nl.docker_host("28").host.iptables

    def drops_lan(rule: str) -> tuple[bool, str]:
        blocks = _sections(text)
        _insert_first(_table(blocks, "filter"), "DOCKER-USER", f"-A DOCKER-USER {rule}")
        ruleset = nl.parse_iptables(_join(blocks))
        t = ruleset.trace(nl.Packet("tcp", "192.168.56.1", "172.17.0.2", sport=40000, dport=80),
                          hook="FORWARD", in_iface="enp0s8", out_iface="docker0")
        if t.uncertain:  # a rule netlab cannot read: say so instead of judging it
            bad = next(s.reason for s in t.step_list if "unsupported" in (s.reason or ""))
            raise ValueError(bad)
        return t.verdict == "DROP", f"the SYN is {t.verdict}"

    c = Check("Block the LAN in DOCKER-USER", drops_lan, hints=["after DNAT", "172.17.0.2"])
    assert c.submit("-d 192.168.56.38 -j DROP") is False  # pre-DNAT address: never matches
    assert c.submit("-p tcp --dport eighty -j DROP") is False and "eighty" in c.error
    assert c.shown_hints == ["after DNAT"]  # the unreadable rule used up no hint
    assert c.submit("-d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j DROP") is True


def test_numeric_options_and_odd_results() -> None:
    c = Check("TTL seen after one router?", lambda v: v == 63, options=[64, 63, 0])
    c.value = 0  # a real option, even if falsy
    c.click()
    assert c.attempts == 1 and c.correct is False
    assert c.submit(63) is True and c.message == "Right."
    odd = Check("q", lambda v: (True, "yes", "and more"))
    assert odd.submit("x") and odd.message == "yes and more"
    unusable = Check("q", lambda v: [1, 2, 3].__iter__().__next__() and __import__("pandas")
                     .Series([True, False]))
    assert unusable.submit("x") is False and "ValueError" in unusable.error
    assert "ValueError" not in unusable.message


def test_dropdown_starts_on_choose() -> None:
    from netlab.widgets.check import CHOOSE

    c = Check("q", lambda v: v == "b", options=["a", "b"])
    assert c.value is None and c.answer.options[0] == (CHOOSE, None)
    c.click()
    assert c.attempts == 0 and "first" in c.message


def test_unreadable_says_the_form_and_uses_no_hint() -> None:
    from netlab.widgets.check import read_interface

    c = Check("Which port?", lambda v: read_interface(v) == "veth1", hints=["h1", "h2"])
    assert c.submit("two words!") is False
    assert c.correct is None and c.attempts == 0 and c.shown_hints == []
    assert "interface name" in c.message and "expected" in c.message
    assert c.submit("eth0") is False and c.shown_hints == ["h1"] and c.attempts == 1
    assert c.submit("HOST:veth1@if5") is True


def test_form_is_said_for_other_errors() -> None:
    c = Check("q", lambda v: {}[v], form="a bridge name, e.g. docker0")
    assert c.submit("x") is False and "a bridge name" in c.message and "KeyError" not in c.message


@pytest.mark.parametrize("typed, read", [
    ("docker0", "docker0"), (" Docker0 ", "docker0"), ("host:vethca38e86", "vethca38e86"),
    ("vethca38e86@if5", "vethca38e86"), ("dev enp0s3", "enp0s3"), ("`eth0`", "eth0"),
    ("web: eth0", "eth0")])
def test_read_interface(typed: str, read: str) -> None:
    from netlab.widgets.check import read_interface

    assert read_interface(typed) == read


@pytest.mark.parametrize("typed, read", [
    ("172.17.0.1", "172.17.0.1"), ("172.17.0.1/16", "172.17.0.1"), (" inet 10.0.2.15/24", "10.0.2.15"),
    ("via 172.17.0.1", "172.17.0.1")])
def test_read_address(typed: str, read: str) -> None:
    from netlab.widgets.check import read_address

    assert read_address(typed) == read


@pytest.mark.parametrize("bad", ["", "172.17.0", "abc", "172.17.0.256", "172.17.0.01"])
def test_read_address_unreadable(bad: str) -> None:
    from netlab.widgets.check import Unreadable, read_address

    with pytest.raises(Unreadable, match="IPv4 address"):
        read_address(bad)


def test_read_endpoint_int_position_choice() -> None:
    from netlab.widgets.check import (
        Unreadable,
        read_choice,
        read_endpoint,
        read_int,
        read_rule_position,
    )

    for typed in ("192.168.56.38:80", "192.168.56.38 port 80", "192.168.56.38.80", "192.168.56.38 : 80"):
        assert read_endpoint(typed) == ("192.168.56.38", 80)
    for typed in ("5", "if5", "@if5", "#5", "ttl=5", "packet 5"):
        assert read_int(typed) == 5
    for typed in ("nat:DOCKER:2", "nat DOCKER 2", "NAT:docker:2", "-t nat DOCKER 2", " nat : DOCKER : 2 "):
        assert read_rule_position(typed) == "nat:DOCKER:2"
    assert read_rule_position("filter:FORWARD:policy") == "filter:FORWARD:policy"
    assert read_choice(" YES ", ["yes", "no"]) == "yes"
    for bad, fn in (("80", read_endpoint), ("five", read_int), ("DOCKER:2", read_rule_position),
                    ("maybe", lambda v: read_choice(v, ["yes", "no"]))):
        with pytest.raises(Unreadable):
            fn(bad)


def test_read_rule_forms() -> None:
    from netlab.widgets.check import Unreadable, read_rule

    spec = "-d 172.17.0.2/32 -p tcp -m tcp --dport 80 -j DROP"
    want = ("DOCKER-USER", "-A DOCKER-USER " + spec)
    for typed in (spec, "-A DOCKER-USER " + spec, "-I DOCKER-USER " + spec, "-I DOCKER-USER 1 " + spec,
                  "sudo iptables -I DOCKER-USER " + spec, "iptables -t filter -A DOCKER-USER  " + spec):
        assert read_rule(typed, "DOCKER-USER") == want
    assert read_rule("-I FORWARD -j DROP", "DOCKER-USER") == ("FORWARD", "-A FORWARD -j DROP")
    with pytest.raises(Unreadable, match="target"):
        read_rule("-d 172.17.0.2", "DOCKER-USER")
    with pytest.raises(Unreadable, match="filter"):
        read_rule("-t nat -A DOCKER -j RETURN", "DOCKER-USER")
