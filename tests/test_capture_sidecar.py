"""Annotations kept in a sidecar: saved atomically on every change, restored on reopening,
refused when they belong to another capture."""

from __future__ import annotations

import json
import os
import warnings

import pytest
from _capture_records import port_forward_records

from netlab.capture import Capture, CaptureError, CaptureWarning, load_capture
from netlab.capture.annotations import Annotation


def _file(tmp_path, name: str = "c.pcapng", sport: int = 40000) -> str:
    return Capture.from_records(port_forward_records(sport)).to_pcapng(tmp_path / name)


def test_every_annotate_is_saved_and_restored(tmp_path) -> None:
    path = _file(tmp_path)
    cap = load_capture(path)
    assert cap.sidecar == path + ".netlab.json"
    cap.annotate(3, comment="the SYN-ACK, de-NATed next", tags=["synack"])
    data = json.loads(open(cap.sidecar, encoding="utf-8").read())
    assert data["capture_sha256"] == cap.digest
    assert data["annotations"]["3"] == {"comment": "the SYN-ACK, de-NATed next", "tags": ["synack"]}
    cap.colour("tcp.flags.syn == 1", "lightgreen")
    # a fresh process (a kernel restart) opens the same file: everything is back
    again = load_capture(path)
    assert again.annotations == {3: Annotation("the SYN-ACK, de-NATed next", ["synack"])}
    assert again.colour_rules == [("tcp.flags.syn == 1", "lightgreen")]
    assert again.df.loc[3, "comment"] == "the SYN-ACK, de-NATed next"
    # clearing removes the entry
    again.annotate(3, comment="", tags=[])
    assert load_capture(path).annotations == {}


def test_save_is_atomic_old_sidecar_survives_a_failed_write(tmp_path, monkeypatch) -> None:
    path = _file(tmp_path)
    cap = load_capture(path)
    cap.annotate(1, comment="first")
    before = open(cap.sidecar, encoding="utf-8").read()

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(CaptureError, match="kept in memory"):
        cap.annotate(2, comment="second")
    monkeypatch.undo()
    assert open(cap.sidecar, encoding="utf-8").read() == before
    assert [f for f in os.listdir(tmp_path) if f.endswith(".tmp")] == []


def test_sidecar_of_another_capture_is_refused_and_left_alone(tmp_path) -> None:
    a = _file(tmp_path, "a.pcapng", 40000)
    b = _file(tmp_path, "b.pcapng", 40001)
    load_capture(a).annotate(1, comment="belongs to a")
    os.replace(a + ".netlab.json", b + ".netlab.json")  # a stale sidecar next to b
    foreign = open(b + ".netlab.json", encoding="utf-8").read()
    with pytest.warns(CaptureWarning, match="belongs to a different capture"):
        cap = load_capture(b)
    assert cap.annotations == {}
    # b's notes go beside, under a new name the message gives; a's file is never touched
    assert cap.sidecar == f"{b}.{cap.digest[:12]}.netlab.json" and cap.sidecar in cap.sidecar_problem
    assert "different capture" in cap.sidecar_problem
    cap.annotate(2, comment="b's own note")  # must not overwrite a's sidecar
    assert open(b + ".netlab.json", encoding="utf-8").read() == foreign
    with pytest.warns(CaptureWarning, match="saved in"):
        again = load_capture(b)
    assert again.annotations[2].comment == "b's own note" and again.sidecar == cap.sidecar
    with pytest.raises(CaptureError, match="different capture"):
        cap.load_annotations(b + ".netlab.json")
    with pytest.raises(CaptureError, match="different capture"):
        cap.attach_sidecar(b + ".netlab.json")


def test_unreadable_sidecar_says_what_to_do(tmp_path) -> None:
    path = _file(tmp_path)
    with open(path + ".netlab.json", "w", encoding="utf-8") as fh:
        fh.write("{not json")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cap = load_capture(path)
    assert cap.annotations == {} and cap.sidecar.endswith(f".{cap.digest[:12]}.netlab.json")
    assert any("Move it away" in str(w.message) and cap.sidecar in str(w.message) for w in caught)
    cap.annotate(1, comment="kept")
    assert open(path + ".netlab.json", encoding="utf-8").read() == "{not json"  # left alone


def test_in_memory_capture_attach_and_batch(tmp_path) -> None:
    cap = Capture.from_records(port_forward_records())
    with pytest.raises(CaptureError, match="no file yet"):
        cap.save_annotations()
    side = tmp_path / "journey.netlab.json"
    cap.attach_sidecar(side)
    with cap.batch():
        for n in range(1, len(cap) + 1):
            cap.annotate(n, add_tags=["seen"])
        assert json.loads(side.read_text())["annotations"] == {}  # saved once, at the end
    assert len(json.loads(side.read_text())["annotations"]) == len(cap)
    # the same capture rebuilt (deterministic simulator) restores from the sidecar
    rebuilt = Capture.from_records(port_forward_records())
    rebuilt.attach_sidecar(side)
    assert rebuilt.annotations == cap.annotations
    other = Capture.from_records(port_forward_records(40001))
    with pytest.raises(CaptureError, match="different capture"):
        other.attach_sidecar(side)


def test_bad_annotations_are_refused(tmp_path) -> None:
    cap = Capture.from_records(port_forward_records())
    with pytest.raises(CaptureError, match="no packet 99.*1 to 16"):
        cap.annotate(99, comment="x")
    with pytest.raises(CaptureError, match="no packet 0"):
        cap.annotate(0, comment="x")
    with pytest.raises(CaptureError, match="itself"):
        cap.link(2, 2)
    assert cap.annotate(1, tags="a, b,, a").tags == ["a", "b"]
