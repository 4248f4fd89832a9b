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
