"""The benchmark runner never ends in a traceback: missing tools skip with a reason,
an exception in one benchmark is reported and the next one still runs (issue 18)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from benchmarks.__main__ import names, run_one
from benchmarks._requires import Skip, missing

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, missing_tools: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NETLAB_BENCH_MISSING": missing_tools}
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_mode_with_root_and_tools_faked_absent_has_no_traceback() -> None:
    proc = _run("--check", missing_tools="root,ipset,nft,tshark,ip,iptables-restore,nbclient")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    for name in names([]):
        assert f"== {name}\n" in proc.stdout
    lab = proc.stdout.split("== bench_lab\n")[1].splitlines()[0]
    assert lab.startswith("would skip:") and "root" in lab
    nft = proc.stdout.split("== bench_nft\n")[1].splitlines()[0]
    assert "nft" in nft and "some figures skip" in nft
    lessons = proc.stdout.split("== bench_lessons\n")[1].splitlines()[0]
    assert "nbclient" in lessons


def test_lab_benchmark_without_root_prints_why_it_skipped() -> None:
    proc = _run("lab", missing_tools="root")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "skipped: needs root" in proc.stdout


def test_missing_names_each_absent_need_and_how_to_install(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("NETLAB_BENCH_MISSING", "ipset,root")
    why = missing("root", "ipset", "py:surely_not_a_module_here", "py:json")
    assert "needs root" in why and "apt-get install ipset" in why
    assert "surely_not_a_module_here" in why and "json" not in why.replace("surely", "")
    monkeypatch.setenv("NETLAB_BENCH_MISSING", "")
    assert missing("py:json") is None


def test_one_failing_benchmark_is_reported_and_the_next_still_runs(capsys) -> None:  # noqa: ANN001
    ran = []

    def boom() -> None:
        raise RuntimeError("disk on fire")

    def skip() -> None:
        raise Skip("`tshark` not installed")

    def fine() -> None:
        ran.append(1)
        print("figure 1.0 s")

    def gone() -> None:
        import surely_not_a_module_here  # noqa: F401

    results = [run_one(n, f) for n, f in (("a", boom), ("b", skip), ("c", gone), ("d", fine))]
    out = capsys.readouterr()
    assert results == ["failed", "skipped", "skipped", "ok"]
    assert ran == [1]
    assert "FAILED: RuntimeError: disk on fire (at test_benchmarks_runner.py:" in out.out
    assert "skipped: `tshark` not installed" in out.out
    assert "surely_not_a_module_here" in out.out
    assert "Traceback" not in out.out + out.err


def test_hub_load_test_reads_binary_kernel_messages_and_finds_its_processes() -> None:
    from benchmarks.bench_hub import _decode, _marked_pids

    body = json.dumps({"header": {"msg_type": "comm_msg"}}).encode()
    buffer = b"\x00\x01\x02"
    offsets = [4 * 3, 4 * 3 + len(body)]
    framed = (2).to_bytes(4, "big") + b"".join(o.to_bytes(4, "big") for o in offsets) + body + buffer
    assert _decode(framed)["header"]["msg_type"] == "comm_msg"
    assert _decode(json.dumps({"a": 1}))["a"] == 1
    marker = uuid.uuid4().hex
    env = {**os.environ, "NETLAB_LOADTEST": marker, "JUPYTERHUB_USER": "alice"}
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    try:
        deadline = 50
        while child.pid not in _marked_pids(marker) and deadline:
            time.sleep(0.05)
            deadline -= 1
        assert _marked_pids(marker) == {child.pid: "other:alice"}
    finally:
        child.kill()
        child.wait()
    assert _marked_pids(marker) == {}
