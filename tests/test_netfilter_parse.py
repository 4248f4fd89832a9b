"""Reading iptables-save / iptables -S into a Ruleset, and printing it back."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from conftest import DOCKER_RULES, SEED

from netlab.errors import ParseError
from netlab.netfilter import parse_iptables
from netlab.netfilter.parser import split_words
from netlab.netfilter.ruleset import decode_rule


def rule_files() -> list[Path]:
    """Every iptables-save / iptables -S fixture (not -vL, not nft)."""
    if not DOCKER_RULES.is_dir():
        return []
    files = [*DOCKER_RULES.glob("*.txt"), *DOCKER_RULES.glob("derived/*.txt"),
             *DOCKER_RULES.glob("realworld/*.txt")]
    return sorted(f for f in files if "iptables-S" in f.name or "tables-save" in f.name)


FILES = rule_files()
IDS = [f.name for f in FILES]


def test_fixtures_found() -> None:
    assert len(FILES) >= 90, "expected the docker-rules fixtures in tests/data/docker-rules"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_fixture_parses(path: Path) -> None:
    rs = parse_iptables(path.read_text())
    assert len(rs) > 0
    for rule in rs.rules:
        assert rule.target is not None or rule.tokens == ()
        assert rule.position == f"{rule.table}:{rule.chain}:{rule.index}"
    # printing back and reading again gives the same rule set
    again = parse_iptables(rs.to_iptables_save())
    assert again.to_iptables_save() == rs.to_iptables_save()
    assert parse_iptables(rs.to_iptables_S(counters=True)).to_iptables_save() == rs.to_iptables_save()


@pytest.mark.parametrize("path", [f for f in FILES if "iptables-S" in f.name],
                         ids=[f.name for f in FILES if "iptables-S" in f.name])
def test_sections_guessed_without_markers(path: Path) -> None:
    """Pasting several `iptables -S -t X` outputs without the marker lines still
    puts every rule in the right table."""
    text = path.read_text()
    kept, in_extra = [], False
    for line in text.splitlines():
        if line.startswith("# ----"):
            # a one-chain listing (`iptables -S DOCKER`) repeats rules: it needs its marker
            in_extra = "-t" not in line.split()
            continue
        if not line.startswith("#") and not in_extra:
            kept.append(line)
    bare = "\n".join(kept)
    assert parse_iptables(bare).to_iptables_save() == parse_iptables(text).to_iptables_save()


def test_seed_positions_and_text() -> None:
    rs = parse_iptables((SEED / "iptables-save.txt").read_text())
    assert set(rs.tables) == {"nat", "filter"}
    docker = rs.tables["nat"].chains["DOCKER"]
    assert docker.policy is None
    assert docker.rules[1].position == "nat:DOCKER:2"
    assert docker.rules[1].text == ("-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT "
                                    "--to-destination 172.17.0.2:80")
    assert rs.tables["filter"].chains["FORWARD"].policy == "DROP"
    assert rs.tables["filter"].chains["INPUT"].counters == (1127, 114395)
    r = rs.rule("nat:DOCKER:2")
    assert r.target.name == "DNAT" and r.target.option("--to-destination").value == "172.17.0.2:80"
    assert r.builtin("-i").negated and r.builtin("-i").value == "docker0"
    assert [m.module for m in r.matches] == ["", "", "tcp"]


def test_repeated_chain_listing_not_doubled() -> None:
    path = DOCKER_RULES / "docker29.0.0__usernet-portmap-routed.iptables-S.txt"
    rs = parse_iptables(path.read_text())
    assert len(rs.tables["filter"].chains["DOCKER"].rules) == 4
    assert not rs.warnings


def test_quoted_comments_and_counters() -> None:
    text = """*nat
:PREROUTING ACCEPT [5:300]
:KUBE-SERVICES - [0:0]
[12:720] -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j ACCEPT
-A KUBE-SERVICES -m comment --comment "say \\"hi\\"" -j RETURN
COMMIT
"""
    rs = parse_iptables(text)
    pre = rs.tables["nat"].chains["PREROUTING"]
    assert pre.counters == (5, 300)
    assert pre.rules[0].counters == (12, 720)
    assert pre.rules[0].matches[0].option("--comment").value == "kubernetes service portals"
    assert rs.rule("nat:KUBE-SERVICES:2").matches[0].option("--comment").value == 'say "hi"'
    out = rs.to_iptables_save()
    assert '--comment "default/kubernetes:https cluster IP"' in out
    assert '--comment "say \\"hi\\""' in out
    assert parse_iptables(out).to_iptables_save() == out


def test_tokenizer_fast_and_slow_paths_agree() -> None:
    for line in ['-A X -m comment --comment "a b" -j Y', '-A X --comment "" -j Y',
                 "-A X --comment 'a b' -j Y", '-A X --comment="a b"', "-A X -s 1.2.3.4 -j ACCEPT"]:
        words = split_words(line)
        assert words[0] == "-A" and words[1] == "X"
    assert split_words('-A X --comment "a b"')[-1] == "a b"
    assert split_words("-A X --comment 'a b'")[-1] == "a b"
    assert split_words('-A X --comment="a b"')[-1] == "--comment=a b"


def test_shell_prompts_and_commands() -> None:
    text = """root@host:~# iptables -t nat -S
-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
$ sudo iptables -S
-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
$ sudo iptables -t nat -I DOCKER -i docker0 -j RETURN
"""
    rs = parse_iptables(text)
    assert rs.rule("nat:PREROUTING:1").target.name == "DOCKER"
    assert rs.tables["filter"].chains["FORWARD"].policy == "DROP"
    assert rs.rule("nat:DOCKER:1").text.endswith("-i docker0 -j RETURN")


def test_insert_renumbers() -> None:
    rs = parse_iptables("-P INPUT ACCEPT\n-A INPUT -j DROP\n-I INPUT 1 -s 10.0.0.1 -j ACCEPT\n")
    assert [r.target.name for r in rs.tables["filter"].chains["INPUT"].rules] == ["ACCEPT", "DROP"]
    assert rs.rule("filter:INPUT:2").target.name == "DROP"


def test_tolerates_paste_noise() -> None:
    text = "\x1b[32m*filter\x1b[0m\r\n:INPUT\xa0ACCEPT [0:0]\r\n...\r\n-A INPUT -j ACCEPT\r\nCOMMIT\r\n"
    rs = parse_iptables(text)
    assert rs.rule("filter:INPUT:1").target.name == "ACCEPT"
    assert any("elided" in w for w in rs.warnings)


@pytest.mark.parametrize("text,needle", [
    ("Chain INPUT (policy ACCEPT)\ntarget prot opt source destination\n", "iptables -L"),
    ("table ip filter {\n chain input {\n }\n}\n", "nftables"),
    ("*filter\n:INPUT ACCEPT [0:0]\nhello world\nCOMMIT\n", "line 3"),
    (":INPUT ACCEPT [0:0]\n", "*filter"),
])
def test_bad_input_names_the_line(text: str, needle: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_iptables(text)
    assert needle in str(err.value)


def test_bad_rule_words_raise_on_decode() -> None:
    with pytest.raises(ParseError):
        decode_rule(("-s",))
    with pytest.raises(ParseError):
        decode_rule(("--dport", "80", "-j", "ACCEPT"))  # no -p tcp / -m tcp
    spec = decode_rule(("-p", "tcp", "--dport", "80", "-j", "ACCEPT"))
    assert spec.matches[1].module == "tcp" and spec.matches[1].implicit


def test_old_style_negation() -> None:
    spec = decode_rule(("-s", "!", "10.0.0.0/8", "-p", "tcp", "-m", "tcp", "--dport", "!", "22",
                        "-j", "DROP"))
    assert spec.matches[0].options[0].negated
    assert spec.matches[2].option("--dport").negated


def test_not_text() -> None:
    with pytest.raises(ParseError, match="read the file first"):
        parse_iptables(["*filter\n"])  # type: ignore[arg-type]


@pytest.mark.lab
def test_iptables_restore_accepts_printed_rules() -> None:
    """Every fixture, printed back, passes `iptables-restore --test` (in a throwaway netns)."""
    ns = f"nlnf{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True, timeout=10)
    failures = []
    try:
        for path in FILES:
            text = parse_iptables(path.read_text()).to_iptables_save()
            if "--match-set docker-ext-bridges-v4" in text:
                # ipsets are per network namespace: make Docker 28.0's set in ours first
                subprocess.run(["ip", "netns", "exec", ns, "ipset", "create", "-exist",
                                "docker-ext-bridges-v4", "hash:net"], check=True, capture_output=True,
                               timeout=10)
            tool = "ip6tables-restore" if "ip6tables" in path.name else "iptables-restore"
            proc = subprocess.run(["ip", "netns", "exec", ns, tool, "--test"], input=text,
                                  capture_output=True, text=True, timeout=30)
            if proc.returncode:
                failures.append(f"{path.name}: {proc.stderr.strip()}")
    finally:
        subprocess.run(["ip", "netns", "exec", ns, "ipset", "destroy"], capture_output=True, timeout=10)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)
    assert not failures, "\n".join(failures)


def test_kube_proxy_generator_is_node_sized() -> None:
    from netlab.netfilter.kube import kube_proxy_rules

    text = kube_proxy_rules(services=5000)
    lines = text.splitlines()
    rules = sum(1 for line in lines if line.startswith("-A "))
    assert 70_000 <= len(lines) <= 72_000 and 51_000 <= rules <= 53_000
    small = parse_iptables(kube_proxy_rules(services=50))
    assert small.rule("nat:KUBE-SERVICES:1").matches[2].option("--comment").value.endswith("cluster IP")
    assert any(r.target.name == "DNAT" for r in small.tables["nat"].rules)
