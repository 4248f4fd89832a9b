"""What a learner writes on a capture, and how it is kept.

An :class:`Annotation` per packet (free-text comment, tags, the hop / hook /
rule netlab's journey filled in, links to the same packet at other hops) plus
the capture's colour rules.  They live in a sidecar JSON file next to the
capture (``<capture>.netlab.json``), written atomically (write, fsync, rename)
on every change, and keyed by the SHA-256 of the capture's bytes so a sidecar
is only ever applied to the capture it was written for (a sidecar of another
capture is left alone and this capture's notes go beside it, in
``<capture>.<sha256[:12]>.netlab.json``).  Two notebooks annotating one capture
save under a lock file and merge with what the other saved since they read it
(:func:`save_merged`), so neither erases the other's notes.  In pcapng they travel
as packet comments: the comment itself, then ``tags: …``, ``hop: …`` and
``links: …`` lines that :func:`Annotation.from_comments` reads back.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from netlab.atomic import atomic_write_text, remove_stale_temps, target_of
from netlab.capture.pcapng import CONTINUED
from netlab.errors import CaptureError

SIDECAR_SUFFIX = ".netlab.json"
FORMAT = "netlab-annotations/1"
_TAGS = re.compile(r"^tags: (.*)$", re.S)
_HOP = re.compile(r"^hop: (?P<hop>.*?)(?: \| hook: (?P<hook>.*?))?(?: \| rule: (?P<rule>.*?))?$", re.S)
# a link is a packet number: at most 18 digits (a longer "links:" line is free text)
_LINKS = re.compile(r"^links: ((?:[0-9]{1,18}(?:, ?| ))*[0-9]{1,18})$")
COLOUR_PREFIX = "netlab colour rules: "
COMMENT_PREFIX = "comment: "


def clean_tags(tags: Any) -> list[str]:
    """Tags as a list of short words: accepts a list or one comma-separated string."""
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = tags.split(",")
    out: list[str] = []
    for t in tags:
        t = str(t).strip()
        if not t:
            continue
        if "," in t or "\n" in t:
            raise CaptureError(f"a tag cannot contain a comma or a newline: {t!r}")
        if t not in out:
            out.append(t)
    return out


@dataclass
class Annotation:
    """What is written on one packet."""

    comment: str = ""
    tags: list[str] = field(default_factory=list)
    hop: str | None = None
    hook: str | None = None
    rule: str | None = None
    links: list[int] = field(default_factory=list)
    # the separate pcapng comments ``comment`` was joined from (one per line of the
    # list): written back as separate comments while the comment is unchanged
    parts: list[str] = field(default_factory=list, compare=False, repr=False)

    def _comment_texts(self) -> list[str]:
        if len(self.parts) > 1 and "\n".join(self.parts) == self.comment:
            return list(self.parts)
        return [self.comment] if self.comment else []

    def is_empty(self) -> bool:
        return not (self.comment or self.tags or self.hop or self.hook or self.rule or self.links)

    def to_comments(self) -> list[str]:
        """The pcapng ``opt_comment`` texts carrying this annotation (Wireshark shows each)."""
        out = []
        for text in self._comment_texts():
            # a comment that reads like one of netlab's own lines is marked, so it comes back
            # as a comment (and not as tags, a hop or links)
            looks_like_ours = (text.startswith((COMMENT_PREFIX, "hop: ", CONTINUED))
                               or _TAGS.match(text) or _LINKS.match(text))
            out.append(COMMENT_PREFIX + text if looks_like_ours else text)
        if self.tags:
            out.append("tags: " + ", ".join(self.tags))
        if self.hop or self.hook or self.rule:
            text = f"hop: {self.hop or ''}"
            if self.hook:
                text += f" | hook: {self.hook}"
            if self.rule:
                text += f" | rule: {self.rule}"
            out.append(text)
        if self.links:
            out.append("links: " + ", ".join(str(n) for n in sorted(self.links)))
        return out

    @classmethod
    def from_comments(cls, texts: list[str]) -> Annotation:
        """Read back what :meth:`to_comments` wrote; any other comment is free text."""
        a = cls()
        free = []
        for text in texts:
            if text.startswith(COMMENT_PREFIX):
                free.append(text[len(COMMENT_PREFIX):])
            elif m := _TAGS.match(text):
                a.tags = clean_tags(m.group(1))
            elif text.startswith("hop: ") and (m := _HOP.match(text)):
                a.hop = m.group("hop") or None
                a.hook = m.group("hook")
                a.rule = m.group("rule")
            elif m := _LINKS.match(text):
                a.links = sorted({int(x) for x in m.group(1).replace(" ", "").split(",") if x})
            else:
                free.append(text)
        a.comment = "\n".join(free)
        a.parts = free if len(free) > 1 else []
        return a

    def to_json(self) -> dict[str, Any]:
        parts = self._comment_texts()
        return {k: v for k, v in (("comment", self.comment), ("tags", self.tags), ("hop", self.hop),
                                  ("hook", self.hook), ("rule", self.rule), ("links", self.links),
                                  ("comments", parts if len(parts) > 1 else None))
                if v}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Annotation:
        parts = data.get("comments") or []
        return cls(comment=str(data.get("comment", "")), tags=clean_tags(data.get("tags")),
                   hop=data.get("hop"), hook=data.get("hook"), rule=data.get("rule"),
                   links=sorted(int(x) for x in data.get("links", [])),
                   parts=[str(p) for p in parts] if isinstance(parts, list) else [])


def sidecar_path(capture_path: str | os.PathLike[str]) -> str:
    """Where the annotations of ``capture_path`` are kept."""
    return os.fspath(capture_path) + SIDECAR_SUFFIX


def beside_path(capture_path: str | os.PathLike[str], digest: str) -> str:
    """Where this capture's annotations go when ``sidecar_path`` holds another capture's
    (or a damaged) file, which is never overwritten: ``<capture>.<sha256[:12]>.netlab.json``."""
    return f"{os.fspath(capture_path)}.{digest[:12]}{SIDECAR_SUFFIX}"


LOCK_TIMEOUT = 10.0  # seconds a save waits for another notebook's save of the same sidecar


def lock_path(path: str | os.PathLike[str]) -> str:
    """The lock file of a sidecar (beside its real file, hidden)."""
    folder, name = os.path.split(target_of(path))
    return os.path.join(folder, f".{name}.lock")


@contextlib.contextmanager
def sidecar_lock(path: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the sidecar's lock (``flock`` on a hidden ``.lock`` file beside it, removed
    again when released) while reading and writing it; stale temporary files of killed
    saves are cleared once it is held."""
    lock = lock_path(path)
    deadline = time.monotonic() + timeout
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise CaptureError(
                    f"another notebook has been saving the annotations in {os.fspath(path)} "
                    f"for {timeout:g} s (lock {lock}); your annotations are kept in memory: "
                    "call capture.save_annotations() again in a moment") from None
            time.sleep(0.02)
            continue
        try:  # the holder before us may have removed the file: then lock the new one
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        remove_stale_temps(path)  # no save of this file is under way: leftovers are dead ones
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)  # still holding it: whoever waits re-checks and makes a fresh one
        os.close(fd)  # closing the descriptor releases the lock


def _merge_one(n: int, base: dict | None, mine: dict | None, disk: dict | None,
               notes: list[str]) -> dict | None:
    """Packet ``n``'s annotation after a three-way merge (``base``: what this notebook last
    read or wrote; ``disk``: what the file holds now)."""
    if mine == base:
        return disk
    if disk in (base, mine):
        return mine
    if mine is None or disk is None:  # one side cleared it, the other wrote more: keep the words
        notes.append(f"packet {n}: cleared here but changed in another notebook; its notes are kept")
        return disk or mine
    merged = dict(mine)
    a, b = mine.get("comment", ""), disk.get("comment", "")
    if a and b and a != b and b not in a:
        merged["comment"] = f"{a}\n{b}"
    elif b and not a:
        merged["comment"] = b
    for key in ("tags", "links"):
        both = list(mine.get(key, [])) + [x for x in disk.get(key, []) if x not in mine.get(key, [])]
        if both:
            merged[key] = sorted(both) if key == "links" else both
    for key in ("hop", "hook", "rule"):
        if not merged.get(key) and disk.get(key):
            merged[key] = disk[key]
    notes.append(f"packet {n}: annotated in another notebook too; both kept (comments one under "
                 "the other, tags and links joined)")
    return merged


def merge(base: Sidecar | None, mine: Sidecar, disk: Sidecar | None) -> tuple[Sidecar, list[str]]:
    """``mine`` with what another writer saved to ``disk`` since ``base`` (what this one
    read or last saved) folded in, and one note per packet both changed.  Nothing either
    side wrote is dropped: a packet both changed keeps both comments and all tags."""
    if disk is None or disk is base:  # nobody else wrote since this one read or saved
        return mine, []
    b_ann = {n: a.to_json() for n, a in (base.annotations if base else {}).items() if not a.is_empty()}
    m_ann = {n: a.to_json() for n, a in mine.annotations.items() if not a.is_empty()}
    d_ann = {n: a.to_json() for n, a in disk.annotations.items() if not a.is_empty()}
    notes: list[str] = []
    out: dict[int, Annotation] = {}
    for n in sorted(set(b_ann) | set(m_ann) | set(d_ann)):
        got = _merge_one(n, b_ann.get(n), m_ann.get(n), d_ann.get(n), notes)
        if got:
            out[n] = Annotation.from_json(got)
    # colour rules, by filter expression: mine changed or added win, mine removed go
    b_col = dict(base.colour_rules) if base else {}
    m_col = dict(mine.colour_rules)
    rules = [(e, m_col.get(e, c) if m_col.get(e, c) != b_col.get(e) else c)
             for e, c in disk.colour_rules if not (e in b_col and e not in m_col)]
    have = {e for e, _ in rules}
    rules += [(e, c) for e, c in mine.colour_rules if e not in have]
    merged = Sidecar(digest=mine.digest, packets=mine.packets, annotations=out, colour_rules=rules,
                     capture_file=mine.capture_file)
    return merged, notes


def file_id(path: str | os.PathLike[str]) -> tuple[int, ...] | None:
    """Which version of a file is on disk (each atomic save is a new inode)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def save_merged(path: str | os.PathLike[str], mine: Sidecar, base: Sidecar | None,
                base_id: tuple[int, ...] | None = None) -> tuple[Sidecar, list[str], tuple | None]:
    """Save ``mine`` to ``path`` under its lock, merged with whatever another notebook
    saved there since ``base`` (read at version ``base_id`` of the file: when the file is
    still that one, nobody else wrote and it is not read again); returns what was
    written, the merge notes and the new version.  A file at ``path`` that is damaged or
    another capture's raises CaptureError (it is left alone)."""
    with sidecar_lock(path):
        now = file_id(path)
        if now is None:
            disk = None
        elif base_id is not None and now == base_id:
            disk = base
        else:
            disk = read_sidecar(path, mine.digest)
        merged, notes = merge(base, mine, disk)
        merged.save(path)
        return merged, notes, file_id(path)


@dataclass
class Sidecar:
    """The sidecar file's content."""

    digest: str
    packets: int
    annotations: dict[int, Annotation]
    colour_rules: list[tuple[str, str]]
    capture_file: str = ""

    def to_text(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "capture_sha256": self.digest,
            "capture_file": self.capture_file,
            "packets": self.packets,
            "colour_rules": [list(r) for r in self.colour_rules],
            "annotations": {str(n): a.to_json() for n, a in sorted(self.annotations.items())
                            if not a.is_empty()},
        }, ensure_ascii=False, separators=(",", ":"))

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write atomically: the old sidecar stays whole until the new one is on disk."""
        atomic_write_text(path, self.to_text())


def read_sidecar(path: str | os.PathLike[str], digest: str | None = None) -> Sidecar:
    """Read a sidecar; with ``digest``, refuse one written for a different capture."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError("not a netlab annotations file")
        side = Sidecar(
            digest=str(data["capture_sha256"]), packets=int(data.get("packets", 0)),
            annotations={int(k): Annotation.from_json(v) for k, v in data["annotations"].items()},
            colour_rules=[(str(f), str(c)) for f, c in data.get("colour_rules", [])],
            capture_file=str(data.get("capture_file", "")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise CaptureError(f"cannot read the annotations file {os.fspath(path)}: {exc}. "
                           "Move it away to start afresh (nothing in the capture is lost).") from exc
    if digest is not None and side.digest != digest:
        raise CaptureError(
            f"the annotations file {os.fspath(path)} belongs to a different capture "
            f"({side.capture_file or 'another file'}, sha256 {side.digest[:12]}…, "
            f"{side.packets} packets), not this one (sha256 {digest[:12]}…); it was not applied "
            "and will not be overwritten. Rename or move it if it is stale, or open the "
            "capture it was written for.")
    return side
