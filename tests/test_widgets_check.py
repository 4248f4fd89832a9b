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


def test_bad_answer_does_not_raise(seed_dir: Path) -> None:
    c = _gateway_check(seed_dir)
    assert c.submit("eighty") is False
    assert c.error is not None and "ValueError" in c.error


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
    assert c.shown_hints == ["ip route in the container"]
    assert "could not use that answer" in c.message


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
    assert c.shown_hints == ["after DNAT", "172.17.0.2"]
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
