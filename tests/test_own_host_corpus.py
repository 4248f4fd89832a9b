"""Issue 14's corpus: >= 40 realistic pastes (tests/data/pastes/own-host/), how many parse_host reads.

EXPECTED.txt says per paste: ``parse`` (must read) or ``refuse`` (must raise ParseError with a
hint: cut-off JSON, nothing readable).  Only ParseError may escape; the count is printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import netlab as nl
from netlab.errors import ParseError
from netlab.scenarios import from_state

CORPUS = Path(__file__).resolve().parent / "data" / "pastes" / "own-host"


def _expected() -> dict[str, str]:
    out = {}
    for line in (CORPUS / "EXPECTED.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, expect = line.split("\t")
            out[name] = expect
    return out


EXPECTED = _expected()


def test_the_corpus_is_big_and_listed() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.name != "EXPECTED.txt"}
    assert files == set(EXPECTED)
    assert len(files) >= 40
    kinds = {name.split("-")[0] for name in files}
    assert kinds >= {"docker", "prompt", "pipe", "prose", "mixed", "ipv6", "elision", "fmt", "messy", "sample"}


def _outcome(name: str) -> tuple[str, object]:
    try:
        return "parsed", nl.parse_host((CORPUS / name).read_bytes())
    except ParseError as exc:
        return "refused", exc


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_paste(name: str) -> None:
    outcome, value = _outcome(name)
    expect = EXPECTED[name]
    if expect == "parse":
        assert outcome == "parsed", value
    else:
        assert expect == "refuse" and outcome == "refused"
        assert value.hint, value  # says what to do


def test_corpus_report(capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"parsed": 0, "refused": 0}
    notes = 0
    for name in EXPECTED:
        outcome, value = _outcome(name)
        counts[outcome] += 1
        if outcome == "parsed":
            notes += bool(value.notes)
    must = sum(1 for e in EXPECTED.values() if e == "parse")
    with capsys.disabled():
        print(f"\nissue 14 corpus: {counts['parsed']} of {len(EXPECTED)} pastes parse "
              f"({notes} with notes), {counts['refused']} refused with a ParseError")
    assert counts["parsed"] >= must


@pytest.mark.parametrize("name", ["sample-docker27-user-network.txt", "docker-inspect-web-27.json"])
def test_pasted_hosts_build(name: str) -> None:
    state = nl.parse_host((CORPUS / name).read_text(encoding="utf-8"))
    if not any(link.name == "docker0" for link in state.links):
        state = state.merge(nl.parse_host((CORPUS / "sample-docker27-user-network.txt").read_text()))
    built = from_state(state)
    assert "web" in built.nodes
    net = nl.connect(mode="sim", scenario=built, quiet=True)
    assert net.probe("tcp", src="client", dst="192.168.56.38", dport=8080).outcome == "answered"
