"""What a learner writes on a capture, and how it is kept.

An :class:`Annotation` per packet (free-text comment, tags, the hop / hook /
rule netlab's journey filled in, links to the same packet at other hops) plus
the capture's colour rules.  They live in a sidecar JSON file next to the
capture (``<capture>.netlab.json``), written atomically (write, fsync, rename)
on every change, and keyed by the SHA-256 of the capture's bytes so a sidecar
is only ever applied to the capture it was written for.  In pcapng they travel
as packet comments: the comment itself, then ``tags: …``, ``hop: …`` and
``links: …`` lines that :func:`Annotation.from_comments` reads back.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from netlab.atomic import atomic_write_text
from netlab.errors import CaptureError

SIDECAR_SUFFIX = ".netlab.json"
FORMAT = "netlab-annotations/1"
_TAGS = re.compile(r"^tags: (.*)$", re.S)
_HOP = re.compile(r"^hop: (?P<hop>.*?)(?: \| hook: (?P<hook>.*?))?(?: \| rule: (?P<rule>.*?))?$", re.S)
_LINKS = re.compile(r"^links: ([0-9, ]+)$")
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

    def is_empty(self) -> bool:
        return not (self.comment or self.tags or self.hop or self.hook or self.rule or self.links)

    def to_comments(self) -> list[str]:
        """The pcapng ``opt_comment`` texts carrying this annotation (Wireshark shows each)."""
        out = []
        if self.comment:
            # a comment that reads like one of netlab's own lines is marked, so it comes back
            # as a comment (and not as tags, a hop or links)
            looks_like_ours = (self.comment.startswith((COMMENT_PREFIX, "hop: "))
                               or _TAGS.match(self.comment) or _LINKS.match(self.comment))
            out.append(COMMENT_PREFIX + self.comment if looks_like_ours else self.comment)
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
        return a

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in (("comment", self.comment), ("tags", self.tags), ("hop", self.hop),
                                  ("hook", self.hook), ("rule", self.rule), ("links", self.links))
                if v}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Annotation:
        return cls(comment=str(data.get("comment", "")), tags=clean_tags(data.get("tags")),
                   hop=data.get("hop"), hook=data.get("hook"), rule=data.get("rule"),
                   links=sorted(int(x) for x in data.get("links", [])))


def sidecar_path(capture_path: str | os.PathLike[str]) -> str:
    """Where the annotations of ``capture_path`` are kept."""
    return os.fspath(capture_path) + SIDECAR_SUFFIX


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
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
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
