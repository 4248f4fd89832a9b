"""A paste from a bug report, a forum or a chat: prose around the commands' output.

People paste whole messages: "my container is unreachable, here is my setup" then
Markdown code fences (```), a quoted reply (``> `` on every line), GitHub's
``<details><summary>`` folds, HTML entities (``&lt;UP&gt;``) and ``<pre>`` tags.
:func:`extract_code` keeps only what a terminal printed and blanks everything else,
so every kept line keeps its number in the paste (a :class:`~netlab.errors.ParseError`
still points at the line the learner sees).  One pass over the lines: linear time.
"""

from __future__ import annotations

import html
import re

from netlab.parse.clean import FENCE, prompt_command

# a whole line that is only an HTML tag GitHub renders as a fold or a block
_HTML_LINE = re.compile(r"^\s*+</?(?:details|summary|pre|code|p|div|br|kbd|samp|tt|blockquote)\b[^<>]{0,200}+>"
                        r"(?:[^<>]{0,300}+</(?:summary|code|kbd|samp|tt|p)>)?\s*+$", re.IGNORECASE)
_HTML_EDGE = re.compile(r"^\s*+<(?:pre|code)>|</(?:pre|code)>\s*+$", re.IGNORECASE)
_QUOTE = re.compile(r"^\s{0,3}+(?:>\s?)++")
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|apos|nbsp|#\d{1,6}|#x[0-9a-fA-F]{1,6});")


def _unquote(lines: list[str]) -> tuple[list[str], bool]:
    """Strip Markdown blockquote markers when every non-blank line carries one."""
    body = [line for line in lines if line.strip()]
    if not body or not all(line.lstrip().startswith(">") for line in body):
        return lines, False
    # a `>` prompt (PowerShell, continuation) is followed by a command, not by output:
    # a quote has at least one line of more than the marker
    return [_QUOTE.sub("", line, count=1) for line in lines], True


def extract_code(text: str) -> tuple[str, list[str]]:
    """(text with only the commands' output left, notes on what was dropped).

    Without fences or HTML folds the text comes back as it is (apart from blockquote
    markers and HTML entities).  With fences, lines outside them are prose unless they
    are a shell prompt line (``$ ip addr`` above a fenced output).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    notes: list[str] = []
    lines, quoted = _unquote(lines)
    if quoted:
        notes.append("a quoted paste (`> ` on every line): the quote markers were removed")
    has_fence = any(FENCE.match(line) for line in lines if "`" in line or "~" in line) or any(
        line.lstrip().lower().startswith("<pre") for line in lines if "<" in line)
    has_html = any(_HTML_LINE.match(line) or _HTML_EDGE.search(line) for line in lines if "<" in line)
    entities = any("&" in line and _ENTITY.search(line) for line in lines)
    if not (has_fence or has_html or entities or quoted):
        return text, notes
    out: list[str] = []
    prose: list[int] = []
    inside = False
    for lineno, line in enumerate(lines, 1):
        if ("`" in line or "~" in line) and FENCE.match(line):
            inside = not inside
            out.append("")
            continue
        if "<" in line and _HTML_LINE.match(line):
            tag = line.strip().lower()
            if tag.startswith(("<pre", "</pre")):  # <pre> … </pre>: a code block, as a fence is
                inside = not tag.startswith("</")
            out.append("")
            continue
        if "<" in line and _HTML_EDGE.search(line):
            opening = line.lstrip().lower().startswith("<pre")
            line = _HTML_EDGE.sub("", line)
            inside = inside or opening
        if "&" in line and _ENTITY.search(line):
            line = html.unescape(line)
        if has_fence and not inside and line.strip() and prompt_command(line) is None:
            prose.append(lineno)
            out.append("")
            continue
        out.append(line)
    if prose:
        notes.append(f"prose outside the code blocks skipped ({ranges(prose)})")
    return "\n".join(out), notes


def ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` → ``"lines 1-3, 7"``."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    shown = ", ".join(f"{a}-{b}" if a != b else f"{a}" for a, b in spans[:12])
    if len(spans) > 12:
        shown += ", …"
    return ("line " if len(numbers) == 1 else "lines ") + shown


def line_range(first: int, last: int) -> str:
    """``"lines 4-9"`` or ``"line 4"``."""
    return f"line {first}" if first == last else f"lines {first}-{last}"
