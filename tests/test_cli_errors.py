"""Every bad command-line argument: one line saying what to do, exit code 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netlab.cli import main

RULES = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "rules.txt").write_text(RULES)
    (tmp_path / "binary.json").write_bytes(b"\x00\x01\xff\xfe\x80")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "shape.json").write_text('{"name": "x"}')
    (tmp_path / "nodes.json").write_text('{"name": "x", "nodes": {"a": 1}, "wires": []}')
    (tmp_path / "broken.json").write_text('{"name": ')
    (tmp_path / "folder").mkdir()
    return {k: str(tmp_path / k) for k in ("rules.txt", "binary.json", "list.json", "shape.json",
                                            "nodes.json", "broken.json", "folder")} | {"tmp": str(tmp_path)}


def _trace(f: dict[str, str], *extra: str) -> list[str]:
    return ["trace", f["rules.txt"], "--src", "192.168.56.1", "--dst", "192.168.56.38", *extra]


BAD = [
    lambda f: _trace(f, "--local", "nope"),
    lambda f: _trace(f, "--iface-addr", "eth0=notanaddr"),
    lambda f: _trace(f, "--iface-addr", "eth0"),
    lambda f: _trace(f, "--mark", "-1"),
    lambda f: _trace(f, "--mark", "0x100000000"),
    lambda f: _trace(f, "--mark", "lots"),
    lambda f: _trace(f, "--proto", "256"),
    lambda f: _trace(f, "--proto", "-1"),
    lambda f: _trace(f, "--proto", "tcpp"),
    lambda f: _trace(f, "--proto", "icmp", "--icmp-code", "256"),
    lambda f: _trace(f, "--proto", "icmp", "--icmp-code", "-1"),
    lambda f: _trace(f, "--proto", "icmp", "--icmp-type", "300"),
    lambda f: _trace(f, "--dport", "65536"),
    lambda f: _trace(f, "--in-iface", "eth 0"),
    lambda f: _trace(f, "--hook", "SIDEWAYS"),
    lambda f: _trace(f, "--table", "bogus"),
    lambda f: _trace(f, "--seed", "-5"),
    lambda f: ["trace", f["rules.txt"], "--src", "not-an-ip", "--dst", "192.168.56.38"],
    lambda f: ["trace", f["rules.txt"], "--dst", "192.168.56.38"],  # --src missing
    lambda f: ["probe", "ping", "--pcap", f["tmp"] + "/no/such/folder/x.pcapng"],
    lambda f: ["probe", "ping", "--pcap", f["folder"]],
    lambda f: ["probe", "ping", "--pcap", "/proc/netlab.pcapng"],
    lambda f: ["probe", "ping", "--pcap", "/proc/self/status"],
    lambda f: ["probe", "ping", "--pcap", ""],
    lambda f: ["probe", "ping", "--docker-version", "99"],  # the seed scenario ignores --docker-version
    lambda f: ["probe", "ping", "--scenario", "docker27", "--docker-version", "99"],
    lambda f: ["probe", "ping", "--scenario", "docker27", "--docker-version", "banana"],
    lambda f: ["probe", "ping", "--count", "0"],
    lambda f: ["probe", "ping", "--count", "1e9"],
    lambda f: ["probe", "ping", "--timeout", "nan"],
    lambda f: ["probe", "ping", "--ttl", "256"],
    lambda f: ["probe", "teleport"],
    lambda f: ["lab", "plan", "--scenario", f["tmp"] + "/missing.json"],
    lambda f: ["lab", "plan", "--scenario", f["binary.json"]],
    lambda f: ["lab", "plan", "--scenario", f["list.json"]],
    lambda f: ["lab", "plan", "--scenario", f["shape.json"]],
    lambda f: ["lab", "plan", "--scenario", f["nodes.json"]],
    lambda f: ["lab", "plan", "--scenario", f["broken.json"]],
    lambda f: ["lab", "plan", "--prefix", "nl0a1b2c\n"],
    lambda f: ["lab", "plan", "--prefix", "web"],
    lambda f: ["snapshot", "-o", f["folder"]],
    lambda f: ["snapshot", "-o", "/proc/netlab.json"],
    lambda f: ["snapshot", "-o", f["tmp"] + "/no/such/s.json"],
    lambda f: ["frobnicate"],
]


def _run(argv: list[str], capsys) -> tuple[int, str]:  # noqa: ANN001
    rc = main(argv)
    captured = capsys.readouterr()
    return rc, captured.err


@pytest.mark.parametrize("case", range(len(BAD)))
def test_bad_arguments_are_one_line_and_exit_2(case: int, files, capsys) -> None:
    argv = BAD[case](files)
    rc, err = _run(argv, capsys)
    assert rc == 2, (argv, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netlab: "), (argv, err)
    assert "Traceback" not in err and len(lines[0]) > 30


def test_a_docker_proxy_target_without_a_port_number_is_refused(files, capsys) -> None:
    from netlab.scenarios import Service, seed_host

    s = seed_host()
    s.host.services.append(Service("tcp", 8081, kind="docker-proxy", target="172.17.0.2:http"))
    path = Path(files["tmp"]) / "proxy.json"
    path.write_text(s.to_json())
    rc, err = _run(["lab", "plan", "--scenario", str(path)], capsys)
    assert rc == 2 and "172.17.0.2:http" in err and "port number" in err
    assert len(err.strip().splitlines()) == 1


def test_a_corrupt_lab_state_file(tmp_path, monkeypatch, capsys) -> None:
    from netlab.lab import build

    monkeypatch.setattr(build, "STATE_DIR", tmp_path)
    for text in ("{not json", "[1]", '{"prefix": "nl999999"}', '{"prefix": "nl0a1b2c", "pids": ["x"]}',
                 "\udcff"):
        (tmp_path / "nl0a1b2c.json").write_text(text, errors="surrogateescape")
        rc, err = _run(["lab", "down", "--prefix", "nl0a1b2c"], capsys)
        assert rc == 2 and "damaged" in err and "down --all" in err, (text, err)
        assert len(err.strip().splitlines()) == 1


def test_good_arguments_still_work(files, capsys, tmp_path) -> None:
    assert main(_trace(files, "--proto", "6", "--mark", "0xffffffff", "--local", "192.168.56.38",
                       "--iface-addr", "enp0s8=192.168.56.38/24", "--hook", "INPUT")) == 0
    assert main(["probe", "ping", "--scenario", "docker29", "--docker-version", "28", "--dst", "web",
                 "--src", "host", "--pcap", str(tmp_path / "j.pcapng")]) == 0
    assert (tmp_path / "j.pcapng").stat().st_size > 0
    capsys.readouterr()


# the property: any mix of options and odd values through the parsers never escapes as a traceback
_VALUES = st.one_of(
    st.sampled_from(["", "-1", "0", "1", "256", "65536", "0x100000000", "nan", "inf", "1e400",
                     "99999999999999999999", "²", "eth0", "eth 0", "x\n", "/proc", "/", "tcp", "icmp",
                     "a=b", "=", "eth0=1.2.3.4/33", "::1", "172.17.0.2:http", "\x00", "é"]),
    st.text(max_size=12),
)
_TRACE_OPTS = ["--proto", "--sport", "--dport", "--flags", "--icmp-type", "--icmp-code", "--mark",
               "--in-iface", "--out-iface", "--local", "--iface-addr", "--ct-state", "--table",
               "--ipset", "--seed", "--hook", "--src", "--dst"]
_PROBE_OPTS = ["--src", "--dst", "--dport", "--count", "--timeout", "--ttl", "--docker-version", "--seed",
               "--scenario"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(which=st.sampled_from(["trace", "probe"]), data=st.data())
def test_property_no_argument_vector_escapes(which: str, data, files, capsys) -> None:  # noqa: ANN001
    opts = _TRACE_OPTS if which == "trace" else _PROBE_OPTS
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(opts), _VALUES), max_size=4))
    if which == "trace":
        argv = ["trace", files["rules.txt"], "--src", "192.168.56.1", "--dst", "192.168.56.38"]
    else:
        argv = ["probe", data.draw(st.sampled_from(["ping", "tcp", "udp", "http"])), "--mode", "sim"]
    for opt, value in pairs:
        argv += [opt, value]
    rc = main(argv)  # anything else escaping fails the test with its traceback
    err = capsys.readouterr().err
    assert rc in (0, 1, 2), argv
    assert "Traceback" not in err
    if rc == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith("netlab: "), (argv, err)
    json.dumps(argv)  # (the vector is printable in a failure report)


def test_down_all_sweeps_a_damaged_state_file_of_the_labs_it_removes(tmp_path, monkeypatch) -> None:
    from netlab.lab import build

    monkeypatch.setattr(build, "STATE_DIR", tmp_path)
    (tmp_path / "nl0a1b2c.json").write_text("{not json")
    (tmp_path / "nl0d0d0d.json").write_text("[]")
    build.down_all({"nl0a1b2c"})  # a lab that has no namespace left: only its file goes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nl0d0d0d.json"]


def test_probe_docker_version_has_its_own_name(capsys) -> None:
    assert main(["probe", "ping", "--version", "29"]) == 2
    assert "--docker-version 29" in capsys.readouterr().err


def test_netlab_version(capsys) -> None:
    import netlab

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"netlab {netlab.__version__}"
