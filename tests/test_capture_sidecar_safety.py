"""Annotations never lost: two notebooks merge, a killed save leaves nothing behind, a save
keeps the file's mode and its symlink, the folder is fsynced after the rename."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _capture_records import port_forward_records

from netlab.capture import Capture, CaptureError, CaptureWarning, load_capture
from netlab.capture import annotations as ann

ROOT = Path(__file__).resolve().parents[1]


def _file(tmp_path, name: str = "c.pcapng", sport: int = 40000) -> str:
    return Capture.from_records(port_forward_records(sport)).to_pcapng(tmp_path / name)


def _notes(path: str) -> dict:
    return json.loads(open(path + ".netlab.json", encoding="utf-8").read())["annotations"]


# a notebook kernel in its own process: reads commands on stdin, one per line
KERNEL = textwrap.dedent("""
    import json, sys, warnings
    from netlab.capture import load_capture
    warnings.simplefilter("ignore")
    cap = load_capture(sys.argv[1])
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd[0] == "annotate":
            cap.annotate(cmd[1], comment=cmd[2], add_tags=cmd[3])
        elif cmd[0] == "colour":
            cap.colour(cmd[1], cmd[2])
        elif cmd[0] == "many":
            for n in cmd[1]:
                cap.annotate(n, comment=f"{cmd[2]} {n}")
        print(json.dumps({"note": cap.save_note,
                          "have": sorted(cap.annotations)}), flush=True)
""")


class Kernel:
    def __init__(self, path: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
        self.p = subprocess.Popen([sys.executable, "-c", KERNEL, path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)
        assert self.p.stdout.readline().strip() == "ready"

    def __call__(self, *cmd: object) -> dict:
        self.p.stdin.write(json.dumps(cmd) + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self) -> None:
        self.p.stdin.close()
        self.p.wait(timeout=30)


def test_two_kernels_annotating_one_capture_keep_each_others_notes(tmp_path) -> None:
    path = _file(tmp_path)
    a, b = Kernel(path), Kernel(path)  # both opened the capture before either wrote
    try:
        a("annotate", 1, "from A", ["a"])
        out = b("annotate", 2, "from B", ["b"])  # B's view was stale: it merges A's note in
        assert out["have"] == [1, 2] and out["note"] is None
        a("colour", "tcp", "lightblue")
        out = a("annotate", 3, "A again", [])
        assert out["have"] == [1, 2, 3]
        # both change packet 1: both comments and all tags are kept, and the second says so
        b("annotate", 1, "B's view of 1", ["b1"])
        notes = _notes(path)
        assert notes["1"]["comment"] == "B's view of 1"  # B had merged A's note: a plain edit
        a("annotate", 4, "x", [])
        out = a("annotate", 1, "A's second view of 1", ["a2"])
        assert out["note"] is None  # A merged B's edit of 1 on its last save: no conflict
    finally:
        a.close()
        b.close()
    notes = _notes(path)
    assert set(notes) == {"1", "2", "3", "4"}
    assert notes["2"]["comment"] == "from B" and notes["3"]["comment"] == "A again"
    side = json.loads(open(path + ".netlab.json", encoding="utf-8").read())
    assert ["tcp", "lightblue"] in side["colour_rules"]


def test_a_conflict_keeps_both_and_says_so(tmp_path) -> None:
    path = _file(tmp_path)
    a, b = Kernel(path), Kernel(path)
    try:
        a("annotate", 5, "A thinks this is the DNAT", ["dnat"])
        out = b("annotate", 5, "B thinks this is the reply", ["reply"])
        assert out["note"] and "another notebook" in out["note"] and "packet 5" in out["note"]
    finally:
        a.close()
        b.close()
    five = _notes(path)["5"]
    assert "A thinks this is the DNAT" in five["comment"] and "B thinks this is the reply" in five["comment"]
    assert set(five["tags"]) == {"dnat", "reply"}


def test_two_kernels_writing_at_once_lose_nothing(tmp_path) -> None:
    path = _file(tmp_path)
    a, b = Kernel(path), Kernel(path)
    try:
        for k, numbers, who in ((a, range(1, 9), "A"), (b, range(9, 17), "B")):
            k.p.stdin.write(json.dumps(["many", list(numbers), who]) + "\n")
            k.p.stdin.flush()
        for k in (a, b):  # both ran at the same time, each saving after every annotate
            json.loads(k.p.stdout.readline())
    finally:
        a.close()
        b.close()
    notes = _notes(path)
    assert sorted(map(int, notes)) == list(range(1, 17))
    assert notes["3"]["comment"] == "A 3" and notes["12"]["comment"] == "B 12"


def test_a_held_lock_is_a_clear_message_and_nothing_is_lost(tmp_path, monkeypatch) -> None:
    path = _file(tmp_path)
    cap = load_capture(path)
    cap.annotate(1, comment="first")
    monkeypatch.setattr(ann, "LOCK_TIMEOUT", 0.2)
    monkeypatch.setattr(ann.sidecar_lock, "__defaults__", (0.2,))
    with ann.sidecar_lock(cap.sidecar):  # another notebook is saving (and stuck)
        with pytest.raises(CaptureError, match="another notebook.*kept in memory"):
            cap.annotate(2, comment="second")
    assert cap.annotations[2].comment == "second"
    assert cap.save_annotations() == cap.sidecar
    assert set(_notes(path)) == {"1", "2"}


SLOW_SAVE = textwrap.dedent("""
    import os, sys, time
    from netlab.capture import load_capture
    cap = load_capture(sys.argv[1])
    real = os.replace
    def stuck(src, dst):
        print("writing", flush=True)
        time.sleep(60)
    os.replace = stuck
    cap.annotate(2, comment="never finished")
""")


def test_a_killed_save_leaves_no_temp_file_after_the_next_open(tmp_path) -> None:
    path = _file(tmp_path)
    load_capture(path).annotate(1, comment="saved before")
    before = open(path + ".netlab.json", "rb").read()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, path], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "writing"
        leftovers = [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]
        assert leftovers  # the temp file of the save under way
        t0 = time.monotonic()
        cap = load_capture(path)  # opening does not wait for the save under way
        assert time.monotonic() - t0 < 2 and cap.annotations[1].comment == "saved before"
        assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == leftovers  # still its
    finally:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    cap = load_capture(path)  # the next open clears what the killed save left
    assert [f for f in os.listdir(tmp_path) if f.endswith((".tmp", ".lock"))] == []
    assert open(path + ".netlab.json", "rb").read() == before
    assert cap.annotations[1].comment == "saved before" and 2 not in cap.annotations
    assert sorted(os.listdir(tmp_path)) == ["c.pcapng", "c.pcapng.netlab.json"]


def test_a_save_keeps_the_files_mode_and_a_new_one_follows_the_umask(tmp_path) -> None:
    path = _file(tmp_path)
    os.unlink(path + ".netlab.json")  # (written when the file was made)
    cap = load_capture(path)
    old = os.umask(0o027)
    try:
        cap.annotate(1, comment="new file")
        assert stat.S_IMODE(os.stat(cap.sidecar).st_mode) == 0o640
        os.chmod(cap.sidecar, 0o604)
        cap.annotate(2, comment="existing file")
        assert stat.S_IMODE(os.stat(cap.sidecar).st_mode) == 0o604
        pcap = cap.to_pcapng(tmp_path / "copy.pcapng")
        assert stat.S_IMODE(os.stat(pcap).st_mode) == 0o640
    finally:
        os.umask(old)


def test_a_symlinked_sidecar_is_written_through_to_its_target(tmp_path) -> None:
    path = _file(tmp_path)
    elsewhere = tmp_path / "notes"
    elsewhere.mkdir()
    target = elsewhere / "mine.json"
    load_capture(path).annotate(1, comment="first")
    os.replace(path + ".netlab.json", target)
    os.symlink(target, path + ".netlab.json")
    cap = load_capture(path)
    assert cap.annotations[1].comment == "first"
    cap.annotate(2, comment="through the link")
    assert os.path.islink(path + ".netlab.json")
    assert json.loads(target.read_text())["annotations"]["2"]["comment"] == "through the link"
    assert [f for f in os.listdir(elsewhere) if f != "mine.json"] == []


def test_the_folder_is_fsynced_after_the_rename(tmp_path, monkeypatch) -> None:
    path = _file(tmp_path)
    cap = load_capture(path)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync-file")
        real_fsync(fd)

    def replace(a, b) -> None:  # noqa: ANN001
        events.append("rename")
        real_replace(a, b)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    cap.annotate(1, comment="durable")
    assert events == ["fsync-file", "rename", "fsync-dir"]


def test_notes_after_a_refused_sidecar_are_kept_beside_and_come_back(tmp_path) -> None:
    a = _file(tmp_path, "a.pcapng", 40000)
    b = _file(tmp_path, "b.pcapng", 40001)
    load_capture(a).annotate(1, comment="a's")
    os.replace(a + ".netlab.json", b + ".netlab.json")
    with pytest.warns(CaptureWarning) as caught:
        cap = load_capture(b)
    beside = f"{b}.{cap.digest[:12]}.netlab.json"
    assert beside in str(caught[0].message) and cap.sidecar == beside
    for n in (1, 2, 3):
        cap.annotate(n, comment=f"b's {n}")
    assert json.loads(open(beside, encoding="utf-8").read())["annotations"]["3"]["comment"] == "b's 3"
    with pytest.warns(CaptureWarning):
        again = load_capture(b)
    assert [again.annotations[n].comment for n in (1, 2, 3)] == ["b's 1", "b's 2", "b's 3"]
    assert json.loads(open(b + ".netlab.json", encoding="utf-8").read())["annotations"]["1"]["comment"] == "a's"


def test_the_annotator_says_where_notes_go_and_what_was_merged(tmp_path) -> None:
    from netlab.widgets.annotator import CaptureAnnotator

    a = _file(tmp_path, "a.pcapng", 40000)
    b = _file(tmp_path, "b.pcapng", 40001)
    load_capture(a).annotate(1, comment="a's")
    os.replace(a + ".netlab.json", b + ".netlab.json")
    with pytest.warns(CaptureWarning):
        cap = load_capture(b)
    ui = CaptureAnnotator(cap, page_size=5)
    ui.selected.value = 2
    ui.comment.value = "mine"
    ui.save()
    assert os.path.basename(cap.sidecar) in ui.status.value and "different capture" in ui.status.value
    with pytest.warns(CaptureWarning):
        second = load_capture(b)
    second.annotate(2, comment="theirs")
    ui.comment.value = "mine, edited"
    with pytest.warns(CaptureWarning, match="another notebook"):
        ui.save()
    assert "another notebook" in ui.status.value
    assert "mine, edited" in cap.annotations[2].comment and "theirs" in cap.annotations[2].comment
