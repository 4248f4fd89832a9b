"""Read ``iptables-save`` and ``iptables -S`` output into a :class:`Ruleset`.

Accepts what people paste: several tables in one paste, the ``# ---- iptables -S
-t nat ----`` section markers of the fixtures, shell prompts with the command
(``# iptables -t nat -S``), ``-P``/``-N``/``-A``/``-I`` lines, ``:CHAIN POLICY
[packets:bytes]`` headers, ``[p:b] -A`` counter prefixes (``iptables-save -c``),
quoted comments, CRLF, non-breaking spaces, colour codes and elided ``...``
lines.  Most lines are split with ``str.split``; only lines with quotes take
the slower, quote-aware path.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from netlab.errors import ParseError
from netlab.netfilter.limits import check_size
from netlab.netfilter.ruleset import BUILTIN_CHAINS, Chain, Rule, Ruleset, Table
from netlab.netfilter.validate import TARGET_EXTENSIONS, V6_IN_V4, check_rule, policy_error
from netlab.numbers import is_decimal, starts_numeric, to_int

# Each alternative is possessive and an unclosed quote runs to the end of the line,
# so a word never backtracks: linear on any line (issue 10).
_WORD = re.compile(r"""(?:"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|'[^']*+(?:'|\Z)|[^\s"']++)+""", re.S)
_SEGMENT = re.compile(r""""((?:[^"\\]++|\\.)*+)("|\\?\Z)|'([^']*+)('|\Z)|((?:[^"'\\]++|\\.|\\\Z)++)""", re.S)
# a line's quoted and unquoted stretches, possessively: where it stops, a quote is unclosed
_DQ_ESCAPE = re.compile(r"""\\([\\"$`\n])""")
_ESCAPE = re.compile(r"\\(.)", re.S)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COUNTERS = re.compile(r"^\[([0-9]{1,20}):([0-9]{1,20})\]\s*")
_PROMPT_PREFIX = r"(?:\([^)]*+\)\s*+)?(?:\[[^\]\[]*+\]|[^\s#$%>\[\u276f]++)*+[#$%>\u276f]"
_PROMPT = re.compile(r"^(?:" + _PROMPT_PREFIX + r"\s*)?(?:sudo\s+(?:-\S+\s+)*)?"
                     r"(ip6?tables(?:-legacy|-nft)?(?:-save)?)(?:\s+(.*))?$")
_BARE_PROMPT = re.compile(r"^" + _PROMPT_PREFIX + r"$")

NAT_TARGETS = frozenset({"DNAT", "SNAT", "MASQUERADE", "REDIRECT", "NETMAP"})
MANGLE_TARGETS = frozenset({"MARK", "CONNMARK", "TCPMSS", "TOS", "TTL", "DSCP", "CLASSIFY",
                            "TPROXY", "CHECKSUM", "ECN"})
RAW_TARGETS = frozenset({"NOTRACK", "CT"})


# iptables-restore's own limits (iptables xshared.c: MAX_ARGC 255 → "Parser cannot handle
# more arguments"; add_param_to_argv's param_buffer[1024] → "Parameter too long!"), so a
# line past them is no iptables-save output, and refusing it keeps every line linear.
_MAX_ARGC = 254
_MAX_PARAM = 1023


_QUOTE_OR_ESCAPE = re.compile(r"""["'\\]""")


def _balanced_end(line: str) -> int:
    """Where the closed quotes of ``line`` stop: its length unless a quote is left open (then
    where that quote opens).  A plain scan, one pass: Python 3.11.2's ``re`` (Debian 12's)
    mis-matches possessive repeats of alternations, which a single regex for this needs."""
    n, i = len(line), 0
    while (m := _QUOTE_OR_ESCAPE.search(line, i)) is not None:
        i = m.start()
        c = line[i]
        if c == "\\":
            i += 2
        elif c == "'":  # shell single quotes: no escapes inside
            j = line.find("'", i + 1)
            if j < 0:
                return i
            i = j + 1
        else:  # double quotes: backslash escapes the next character
            j = i + 1
            while True:
                k = _QUOTE_OR_ESCAPE.search(line, j)
                while k is not None and line[k.start()] == "'":
                    k = _QUOTE_OR_ESCAPE.search(line, k.start() + 1)
                if k is None:
                    return i
                if line[k.start()] == "\\":
                    j = k.start() + 2
                    continue
                i = k.start() + 1
                break
    return n


# The words of rule lines already read (a paste repeats lines: every `-A DOCKER ... -j
# RETURN`): one shared tuple per distinct line, so repeats cost no new objects.
_WORDS_SEEN: dict[str, tuple[str, ...]] = {}
_WORDS_SEEN_MAX = 4096


def _rule_words(line: str, lineno: int, raw: str, command: str) -> tuple[str, ...]:
    """The words of a rule line, refused as iptables-restore refuses too many or too long ones."""
    seen = _WORDS_SEEN.get(line)
    if seen is not None:
        return seen
    words = _read_rule_words(line, lineno, raw, command)
    if len(_WORDS_SEEN) >= _WORDS_SEEN_MAX:
        _WORDS_SEEN.clear()
    _WORDS_SEEN[line] = words
    return words


def _read_rule_words(line: str, lineno: int, raw: str, command: str) -> tuple[str, ...]:
    if len(line) > (_MAX_PARAM + 1) * _MAX_ARGC:
        raise ParseError(f"a {len(line):,}-character line: iptables-restore reads at most {_MAX_ARGC} "
                         f"words of at most {_MAX_PARAM} characters on a line", command=command,
                         lineno=lineno, line=raw[:200], hint="paste the output of iptables-save as it printed it")
    if ('"' in line or "'" in line) and (stop := _balanced_end(line)) < len(line.rstrip("\\")):
        raise ParseError(f"the quote {line[stop]} at character {stop + 1} is never closed, so netlab "
                         "cannot tell where that word ends", command=command, lineno=lineno,
                         line=raw[:200], hint="the line was probably cut when it was copied: "
                         "paste the whole line as iptables-save printed it")
    words = split_words(line)
    if len(words) > _MAX_ARGC:
        raise ParseError(f"{len(words)} words on one line: iptables-restore stops at {_MAX_ARGC} "
                         "(\"Parser cannot handle more arguments\")", command=command, lineno=lineno,
                         line=raw[:200], hint="no iptables-save line is that long; was the paste joined?")
    if words and max(map(len, words)) > _MAX_PARAM:
        w = max(words, key=len)
        raise ParseError(f"a {len(w):,}-character word ({w[:20]!r}…): iptables-restore refuses a word over "
                         f"{_MAX_PARAM} characters (\"Parameter too long!\")", command=command, lineno=lineno,
                         line=raw[:200], hint="no iptables-save line holds such a word; was the paste joined?")
    return tuple(words)


def _prompt_words(text: str) -> list[str]:
    """The first words of a prompt's command (all iptables could take), in bounded time and memory."""
    return split_words(text[:(_MAX_PARAM + 1) * _MAX_ARGC])[:_MAX_ARGC]


def _marker(line: str) -> str | None:
    """The text of a ``# ---- iptables -S ---- `` marker line, else None (no regex: linear)."""
    body = line[1:].strip() if line[:1] == "#" else ""
    if len(body) < 4 or not body.startswith("--") or not body.endswith("--"):
        return None
    return body.strip("-").strip()


def _unquote(word: str) -> str:
    if len(word) > _MAX_PARAM:
        return word  # refused by _rule_words; not worth unquoting
    if word[0] == '"' and word[-1] == '"' and len(word) >= 2 and '"' not in word[1:-1].replace('\\"', ""):
        inner = word[1:-1]
        return inner.replace('\\"', '"').replace("\\\\", "\\") if "\\" in inner else inner
    out: list[str] = []
    for m in _SEGMENT.finditer(word):  # shlex's POSIX rules, in linear time
        dq, dq_end, sq, sq_end, plain = m.groups()
        if dq is not None:
            if dq_end != '"':
                return word  # an unclosed quote: kept as written
            out.append(_DQ_ESCAPE.sub(r"\1", dq))
        elif sq is not None:
            if sq_end != "'":
                return word
            out.append(sq)
        else:
            out.append(_ESCAPE.sub(r"\1", plain))
    return "".join(out)


def _split_slow(line: str) -> list[str]:
    return [_unquote(w) if ('"' in w or "'" in w) else w for w in _WORD.findall(line)]


def split_words(line: str) -> list[str]:
    """The words of a rule line, honouring ``"quoted words"``.

    Unquoted lines use ``str.split``; lines whose quotes stand alone as words
    (as iptables-save writes comments) are split at the quotes; anything else
    (escapes, single quotes, quotes inside a word) takes the regex path."""
    if '"' not in line:
        return line.split() if "'" not in line else _split_slow(line)
    if "\\" in line or "'" in line:
        return _split_slow(line)
    parts = line.split('"')
    last = len(parts) - 1
    if last & 1:  # unbalanced quotes
        return _split_slow(line)
    out: list[str] = []
    for k, part in enumerate(parts):
        if k & 1:
            out.append(part)
            continue
        if part:
            if (k and not part[0].isspace()) or (k < last and not part[-1].isspace()):
                return _split_slow(line)
            out.extend(part.split())
        elif 0 < k < last:
            return _split_slow(line)
    return out


@dataclass
class _Segment:
    """Consecutive ``iptables -S`` lines of one table (before the table is known)."""

    table: str | None = None
    chain_only: str | None = None
    lines: list[tuple[int, str, Sequence[str]]] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    has_rules: bool = False

    def guess_table(self) -> str:
        pol = set(self.policies)
        if pol:
            if pol <= {"PREROUTING", "OUTPUT"} and "PREROUTING" in pol:
                return "raw"
            if "FORWARD" in pol and ("PREROUTING" in pol or "POSTROUTING" in pol):
                return "mangle"
            if "PREROUTING" in pol or "POSTROUTING" in pol:
                return "nat"
            return "filter"
        targets: set[str] = set()
        chains: set[str] = set()
        for _, _, words in self.lines:
            if len(words) > 1:
                chains.add(words[1])
            for k, w in enumerate(words[:-1]):
                if w in ("-j", "-g", "--jump", "--goto"):
                    targets.add(words[k + 1])
        if targets & NAT_TARGETS:
            return "nat"
        if targets & RAW_TARGETS:
            return "raw"
        if targets & MANGLE_TARGETS:
            return "mangle"
        if chains & {"PREROUTING", "POSTROUTING"}:
            return "raw" if "POSTROUTING" not in chains else "nat"
        return "filter"


def _one_table_order(policies: list[str]) -> bool:
    """Can these ``-P`` lines, in this order, come from one table's ``iptables -S``?
    (Each table lists its built-in chains in a fixed order.)"""
    for chains in BUILTIN_CHAINS.values():
        it = iter(chains)
        if all(p in it for p in policies):
            return True
    return False


def _parse_counters(text: str) -> tuple[int, int] | None:
    if text == "[0:0]":
        return (0, 0)
    m = re.match(r"^\[([0-9]{1,20}):([0-9]{1,20})\]$", text)
    if not m or max(int(m.group(1)), int(m.group(2))) >= 2**64:
        return None  # the kernel's counters are u64
    return (int(m.group(1)), int(m.group(2)))


def _command_table(args: list[str]) -> tuple[str | None, list[str]]:
    """Take ``-t TABLE`` out of a command's arguments."""
    table = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-t", "--table") and i + 1 < len(args):
            table = args[i + 1]
            i += 2
            continue
        if a.startswith("-t") and len(a) > 2 and a[2] != "-":
            table = a[2:]
        else:
            rest.append(a)
        i += 1
    return table, rest


def parse_iptables(text: str) -> Ruleset:
    """Read ``iptables-save`` or ``iptables -S`` output (one or more tables).

    Returns a :class:`Ruleset`; raises :class:`netlab.errors.ParseError` naming
    the line it cannot read, and for text ``iptables-restore`` would refuse (a bad
    address, prefix or port, ``-j`` without a target, an unknown option, an
    undeclared chain; see :mod:`netlab.netfilter.validate`) what is wrong with it.
    Valid rules using matches or targets netlab does not model are kept; a trace
    shows them as unsupported.  Used by every notebook that shows Docker's rules.
    """
    # a big rule set makes ~100k small objects and no cycles: the cyclic
    # garbage collector would only slow the reading down
    # (for a big paste, one full pass at the end: the cost is paid here, once,
    # instead of by whatever code allocates next, such as the first trace)
    data = _as_text(text)  # (callers also pass bytes or a path; _parse judges the rest)
    if isinstance(data, str):
        check_size(data)
    if not isinstance(data, str) or len(data) < 500_000 or not gc.isenabled():
        return _prepared(_parse_any_family(cast(str, data)))  # not a str: _parse says so
    gc.disable()
    try:
        return _prepared(_parse_any_family(data))
    finally:
        gc.enable()
        gc.collect()


def _parse_any_family(text: str) -> Ruleset:
    """Read the paste; ip6tables output without a header saying so is recognised by
    its IPv6 addresses (and then read with IPv6 rules)."""
    try:
        return _parse(text)
    except ParseError as exc:
        if not exc.reason.startswith(V6_IN_V4) or "Generated by iptables" in text:
            raise
    return _parse(text, keep_v6=True)


def _as_text(text: object) -> object:
    """Bytes are decoded and a path is read; anything else is left for _parse to judge."""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text).decode("utf-8", errors="replace")
    if isinstance(text, os.PathLike):
        try:
            with open(text, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError as exc:
            raise ParseError(f"cannot read {os.fspath(text)!r}: {exc.strerror}",
                             hint="give the text of iptables-save, or the path of a file that holds it") from None
    return text


def _prepared(rs: Ruleset) -> Ruleset:
    """Index the long chains now, so the first trace is as fast as the next."""
    from netlab.netfilter.trace import prepare

    prepare(rs)
    return rs


def _parse(text: str, keep_v6: bool = False) -> Ruleset:
    if not isinstance(text, str):
        raise ParseError(f"expected the text of iptables-save or iptables -S, got {type(text).__name__}",
                         hint="read the file first: open(path).read()")
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\xa0" in text:
        text = text.replace("\xa0", " ")
    rs = Ruleset()
    rs.family = 6 if keep_v6 else 4
    table: Table | None = None  # inside *table ... COMMIT
    segments: list[_Segment] = []
    seg: _Segment | None = None
    seen_save = False
    after_commit = False  # an iptables-save table ended and no other command began
    family = 6 if keep_v6 else 4
    jumps: list[tuple[str, int, str]] = []  # (chain named by -j/-g, line number, line) of this table
    unmodelled: set[str] = set()  # matches/targets a trace cannot evaluate
    elided = False  # a `...` line: chains may be missing from the paste

    def new_segment(table_name: str | None = None, chain_only: str | None = None) -> _Segment:
        s = _Segment(table_name, chain_only)
        segments.append(s)
        return s

    v6 = False  # inside ip6tables output: skipped (netlab traces IPv4)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        c = line[0]
        if c != "-" and c != ":" and "tables" in line:
            switch = _ip6_switch(line)
            if switch is not None and not keep_v6:
                if switch and not v6:
                    rs.warnings.append(f"line {lineno}: ip6tables output skipped (netlab traces IPv4 "
                                       "packets with the iptables rules)")
                v6 = switch
                if switch:
                    table, seg = None, None
                    continue
        if v6:
            continue
        if c == "-" and table is not None:
            # the fast path: a rule of an iptables-save table
            if line.startswith("-A "):
                words = _rule_words(line, lineno, raw, "iptables-save")
                if len(words) < 2:
                    raise ParseError("-A needs a chain name", command="iptables-save", lineno=lineno, line=raw)
                chain = table.chains.get(words[1])
                if chain is None:  # (not `or`: an empty Chain is falsy)
                    if not elided:
                        raise _undeclared(table, words[1], lineno, raw)
                    chain = table.chain(words[1])  # its `:CHAIN` line may be among the elided ones
                err, tgt = check_rule(words, 2, family, unmodelled)
                if err is not None:
                    raise ParseError(err, command="iptables-save", lineno=lineno, line=raw)
                if tgt is not None and tgt not in TARGET_EXTENSIONS and not elided:
                    jumps.append((tgt, lineno, raw))
                chain.rules.append(Rule(table.name, chain.name, len(chain.rules) + 1, tuple(words[2:]), line,
                                        None, lineno))
                continue
            _apply(rs, table, _rule_words(line, lineno, raw, "iptables-save"), line, lineno, None,
                   "iptables-save", family,
                   None if elided else jumps, unmodelled)
            continue
        if c == "[" and table is not None:
            m = _COUNTERS.match(line)
            if not m:
                raise ParseError("expected [packets:bytes] before the rule", command="iptables-save",
                                 lineno=lineno, line=raw)
            _apply(rs, table, _rule_words(line[m.end():], lineno, raw, "iptables-save"), line, lineno,
                   (int(m.group(1)), int(m.group(2))), "iptables-save", family, None if elided else jumps,
                   unmodelled)
            continue
        if c == "*":
            name = line[1:].strip()
            if not name or " " in name:
                raise ParseError("a table line is `*name`", command="iptables-save", lineno=lineno, line=raw)
            if table is not None:
                _check_jumps(table, jumps)
            table = rs.table(name)
            seen_save = True
            after_commit = False
            seg = None
            continue
        if c == ":":
            if table is None:
                raise ParseError("a chain header (:CHAIN POLICY [p:b]) outside a *table section",
                                 command="iptables-save", lineno=lineno, line=raw,
                                 hint="the paste is missing its `*filter`/`*nat` line")
            header = line[1:].split()
            if not header:
                raise ParseError("empty chain header", command="iptables-save", lineno=lineno, line=raw)
            chain = table.chain(header[0])
            if len(header) > 1 and header[1] != "-":
                err = policy_error(header[1])
                if err is not None:
                    raise ParseError(err, command="iptables-save", lineno=lineno, line=raw)
                chain.policy = header[1]
            if len(header) > 2:
                chain.counters = _parse_counters(header[2])
                if chain.counters is None:
                    raise ParseError(f"chain counters {header[2]!r} are not [packets:bytes] (two numbers)",
                                     command="iptables-save", lineno=lineno, line=raw)
            continue
        if line == "COMMIT":
            if table is not None:
                _check_jumps(table, jumps)
            table = None
            after_commit = True
            continue
        if line in ("...", "…") or line.startswith("...") and not line.strip("."):
            elided = True
            jumps.clear()  # the chains they name may be among the elided lines
            rs.warnings.append(f"line {lineno}: elided lines ('...') skipped; the rule set is incomplete")
            continue
        if c == "#":
            if line.startswith("# Warning: iptables-legacy tables present"):
                rs.warnings.append(f"line {lineno}: this host also has iptables-legacy tables, which this "
                                   "paste does not hold: a trace may miss their rules (paste "
                                   "`iptables-legacy-save` too)")
                continue
            marked = _marker(line)
            if marked is not None:
                pm = _PROMPT.match(marked)
                if pm:
                    seg = _start_command(pm, new_segment)
                    after_commit = False
                continue
            pm = _PROMPT.match(line) if "tables" in line else None
            if pm:
                seg = _start_command(pm, new_segment)
                after_commit = False
            continue
        if c == "-":
            if after_commit and seg is None:
                raise ParseError("a rule after COMMIT, outside any *table section", command="iptables-save",
                                 lineno=lineno, line=raw,
                                 hint="in iptables-save output every rule sits between `*table` and COMMIT")
            words = _rule_words(line, lineno, raw, "iptables -S")
            op = words[0]
            if op in ("-P", "--policy", "-N", "--new-chain", "--new", "-A", "--append", "-I", "--insert"):
                if seg is None:
                    seg = new_segment()
                if op in ("-P", "--policy"):
                    if len(words) < 3:
                        raise ParseError("-P needs a chain and a policy", command="iptables -S",
                                         lineno=lineno, line=raw)
                    if seg.table is None and (seg.has_rules or words[1] in seg.policies
                                              or not _one_table_order([*seg.policies, words[1]])):
                        seg = new_segment()  # a second table's -S output begins
                    seg.policies.append(words[1])
                else:
                    seg.has_rules = True
                seg.lines.append((lineno, line, words))
                continue
            raise ParseError(f"unknown command {op!r}", command="iptables -S", lineno=lineno, line=raw,
                             hint="expected -P, -N or -A lines (iptables -S) or iptables-save output")
        pm = _PROMPT.match(line) if "tables" in line else None
        if pm:
            after_commit = False
            # (shlex: ValueError on a lone quote, slow); past 254 words no command is iptables'
            rest = _prompt_words(pm.group(2) or "")
            tname, args = _command_table(rest)
            if args and args[0] in ("-A", "--append", "-I", "--insert", "-N", "--new-chain", "-P", "--policy"):
                s = _Segment(tname or "filter")
                s.lines.append((lineno, line, args))
                segments.append(s)
                seg = None
            else:
                seg = _start_command(pm, new_segment)
            continue
        if line.startswith(("```", "~~~")):
            continue  # a Markdown code fence around the paste
        if line[-1] in "#$%>\u276f" and _BARE_PROMPT.match(line):
            continue  # a prompt with no command (the end of a terminal paste)
        hint = "paste the output of `iptables-save` or `iptables -S` (all tables: iptables-save)"
        if line.startswith("Chain ") or line.startswith("target ") or line.startswith("num "):
            hint = "this looks like `iptables -L`; netlab reads `iptables-save` or `iptables -S` output"
        elif line.startswith("table ") or line.startswith("chain "):
            hint = ("this looks like nftables (`nft list ruleset`): read it with nl.parse_nft(text), "
                    "or paste `iptables-save` output")
        raise ParseError("not an iptables-save / iptables -S line", command="iptables-save",
                         lineno=lineno, line=raw, hint=hint)
    if seen_save:
        stray = next((s for s in segments if s.table is None and s.lines), None)
        if stray is not None:  # -S lines no prompt announced, in an iptables-save paste
            lineno, line, _ = stray.lines[0]
            raise ParseError("a rule outside any *table section", command="iptables-save", lineno=lineno,
                             line=line, hint="in iptables-save output every rule sits between `*table` and "
                             "COMMIT; for iptables -S output, put the `# iptables -S` command line above it")
    if table is not None and seen_save:
        _check_jumps(table, jumps)
        rs.warnings.append(f"table {table.name!r} has no COMMIT line; read it anyway")
    _apply_segments(rs, segments, family, unmodelled)
    _settle(rs)
    if "# netlab-" in text:
        _attach_listing_notes(rs, text)
    if unmodelled:
        rs.warnings.append(f"rules use {', '.join(sorted(unmodelled))}, which netlab does not model: "
                           "a trace through them shows them as unsupported and its verdict as uncertain")
    if not keep_v6 and not rs.tables and any("ip6tables output skipped" in w for w in rs.warnings):
        return _parse(text, keep_v6=True)  # only ip6tables output: read it as it is
    return rs


def _attach_listing_notes(rs: Ruleset, text: str) -> None:
    """``# netlab-lost:`` / ``# netlab-hidden:`` lines (written by netlab.parse.iptables_list
    for a rule read from ``iptables -L``) belong to the rule on the next line."""
    notes: dict[int, tuple[list[str], list[str]]] = {}
    pending: tuple[list[str], list[str]] = ([], [])
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("# netlab-lost:"):
            pending[0].append(line[14:].strip())
        elif line.startswith("# netlab-hidden:"):
            pending[1].append(line[16:].strip())
        elif line and (pending[0] or pending[1]):
            notes[lineno] = pending
            pending = ([], [])
    if not notes:
        return
    for rule in rs.rules:
        got = notes.get(rule.lineno or 0)
        if got is not None:
            rule.lost, rule.hidden = tuple(got[0]), tuple(got[1])


def _ip6_switch(line: str) -> bool | None:
    """True when ``line`` starts ip6tables output (a prompt, a ``# ----`` marker or
    ip6tables-save's header), False when it starts iptables output, else None."""
    if line.startswith("#"):
        m = re.match(r"#\s*Generated by (ip6?tables)", line)
        if m:
            return m.group(1) == "ip6tables"
        marked = _marker(line)
        if marked is not None:
            line = marked
    pm = _PROMPT.match(line)
    if pm is None:
        return None
    return pm.group(1).startswith("ip6")


def _start_command(pm: re.Match[str], new_segment) -> _Segment | None:  # noqa: ANN001
    """A command line (prompt or marker): ``iptables -S -t nat [CHAIN]`` opens a section."""
    prog = pm.group(1)
    args = _prompt_words(pm.group(2) or "")
    if prog.endswith("-save"):
        return None
    tname, rest = _command_table(args)
    if not any(a in ("-S", "--list-rules") or (a.startswith("-") and not a.startswith("--")
                                               and "S" in a[1:]) for a in rest):
        return None
    chain = next((a for a in rest if not a.startswith("-")), None)
    return new_segment(tname or "filter", chain)


def _undeclared(table: Table, chain: str, lineno: int, line: str) -> ParseError:
    return ParseError(f"chain {chain} does not exist in table {table.name}: iptables-save declares each "
                      f"chain (`:{chain} - [0:0]`) before the rules", command="iptables-save",
                      lineno=lineno, line=line, hint=f"add `:{chain} - [0:0]` after `*{table.name}`")


def _check_jumps(table: Table, jumps: list[tuple[str, int, str]]) -> None:
    """Every ``-j``/``-g`` of an iptables-save table names a chain of it or a target."""
    for name, lineno, line in jumps:
        if name not in table.chains:
            raise ParseError(f"-j {name}: no chain {name} in table {table.name}, and no iptables target "
                             "of that name", command="iptables-save", lineno=lineno, line=line,
                             hint=f"declare it (`:{name} - [0:0]`) or correct the name")
    jumps.clear()


# iptables' parse_rulenumber (xshared.c) reads 1..INT_MAX; libiptc refuses an index
# past the end of the chain ("Index of insertion too big", E2BIG).
_INT_MAX = 2**31 - 1
_MOVE_BUDGET = 200_000_000  # list slots moved by middle inserts; no real paste comes near


def _numberish(word: str) -> bool:
    """``word`` is meant as a rule number (digits of any script, or a sign and digits)."""
    return starts_numeric(word)


def _rule_number(word: str, command: str, lineno: int, line: str) -> int:
    """The rule number of ``-I CHAIN N`` as iptables reads it, or a ParseError."""
    n = to_int(word) if len(word) <= 18 else None
    if n is None or not 1 <= n <= _INT_MAX:
        raise ParseError(f"invalid rule number {word!r}: iptables reads a rule number from 1 to {_INT_MAX} "
                         "in ASCII digits", command=command, lineno=lineno, line=line,
                         hint="write `-I CHAIN 1 ...` (or leave the number out: 1 is the top)")
    return n


def _insert(chain: Chain, pos: int, rule: Rule, command: str, lineno: int, line: str) -> None:
    """``-I CHAIN pos``: pos 1 is O(1) (kept in a reversed front list until _settle)."""
    if chain._front is None:
        chain._front = []
    front = chain._front
    size = len(front) + len(chain.rules)
    if pos > size + 1:
        raise ParseError(f"-I {chain.name} {pos}: index of insertion too big (the chain has {size} "
                         f"rule{'s' if size != 1 else ''} here), as iptables-restore refuses it",
                         command=command, lineno=lineno, line=line,
                         hint=f"insert at 1..{size + 1}, or append with -A")
    i = pos - 1
    if i <= len(front):
        moved = i
        front.insert(len(front) - i, rule)
    else:
        moved = size - i
        chain.rules.insert(i - len(front), rule)
    budget = chain._moved + moved
    chain._moved = budget
    if budget > _MOVE_BUDGET:
        raise ParseError(f"too many -I inserts into the middle of chain {chain.name} for netlab to read "
                         "in time", command=command, lineno=lineno, line=line,
                         hint="paste iptables-save output (it lists the final rules with -A)")


def _settle_chain(chain: Chain) -> None:
    front, chain._front, chain._moved = chain._front, None, 0
    if front:
        chain.rules[:0] = front[::-1]
    for i, r in enumerate(chain.rules, 1):
        r.index = i


def _settle(rs: Ruleset) -> None:
    """Put the pending ``-I`` rules in place and number every chain's rules 1..n."""
    for table in rs.tables.values():
        for chain in table.chains.values():
            _settle_chain(chain)


def _apply_segments(rs: Ruleset, segments: list[_Segment], family: int = 4,
                    unmodelled: set[str] | None = None) -> None:
    used: set[str] = set()
    for s in segments:
        if not s.lines:
            continue
        name = s.table
        if name is None:
            name = s.guess_table()
            if not s.policies:
                rs.warnings.append(f"line {s.lines[0][0]}: no -P lines or `iptables -t TABLE -S` prompt "
                                   f"say which table this is; read as {name!r} from its rules")
            if name in used and s.policies:
                if name == "filter" and "security" not in used:
                    name = "security"
                rs.warnings.append(f"line {s.lines[0][0]}: guessed table {name!r} for this -S section; "
                                   "add `# iptables -S -t TABLE` lines to say which")
        used.add(name)
        table = rs.table(name)
        if s.chain_only:
            existing = table.chains.get(s.chain_only)
            if existing is not None:
                _settle_chain(existing)
            appends = [w for _, _, w in s.lines if w[0] in ("-A", "--append")]
            if existing is not None and existing.rules:
                if [r.tokens for r in existing.rules] == [tuple(w[2:]) for w in appends]:
                    continue  # the same chain listed again (iptables -S CHAIN)
                rs.warnings.append(f"chain {name}:{s.chain_only} listed twice with different rules; "
                                   "the later listing wins")
                existing.rules.clear()
        for lineno, line, words in s.lines:
            _apply(rs, table, words, line, lineno, None, "iptables -S", family, None, unmodelled)


def _shared(line: str, rest: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """One line object and token tuple for every repeat of a rule line (memory, issue 10)."""
    seen = _RULES_SEEN.get(line)
    if seen is not None and seen[1] == rest:
        return seen
    if len(_RULES_SEEN) >= _WORDS_SEEN_MAX:
        _RULES_SEEN.clear()
    _RULES_SEEN[line] = (line, rest)
    return line, rest


_RULES_SEEN: dict[str, tuple[str, tuple[str, ...]]] = {}


def _apply(rs: Ruleset, table: Table, words: Sequence[str], line: str, lineno: int,
           counters: tuple[int, int] | None, command: str = "iptables-save", family: int = 4,
           jumps: list[tuple[str, int, str]] | None = None, unmodelled: set[str] | None = None) -> None:
    """Apply one ``-P``/``-N``/``-A``/``-I`` line to ``table``; ``jumps`` (iptables-save
    form) collects the chains rules jump to, checked when the table ends."""
    if not words:
        raise ParseError("[packets:bytes] counters with no rule after them (iptables-save -c writes "
                         "`[p:b] -A CHAIN ...` on one line)", command=command, lineno=lineno, line=line,
                         hint="join the wrapped line to the rule below it")
    op = words[0]
    if len(words) < 2:
        raise ParseError(f"{op} needs a chain name", command=command, lineno=lineno, line=line)
    if op in ("-P", "--policy"):
        if len(words) < 3:
            raise ParseError("-P needs a chain and a policy", command=command, lineno=lineno, line=line)
        err = policy_error(words[2])
        if err is not None:
            raise ParseError(err, command=command, lineno=lineno, line=line)
        if len(words) > 3 and not (len(words) == 6 and words[3] in ("-c", "--set-counters")
                                   and is_decimal(words[4]) and is_decimal(words[5])):
            raise ParseError(f"unexpected words after the policy: {' '.join(words[3:])!r} "
                             "(only `-c PACKETS BYTES` may follow)", command=command, lineno=lineno,
                             line=line)
        ch = table.chain(words[1])
        ch.policy = words[2]
        if len(words) == 6:
            ch.counters = (int(words[4]), int(words[5]))
        return
    if op in ("-N", "--new-chain", "--new"):
        table.chain(words[1])
        return
    if op in ("-A", "--append", "-I", "--insert"):
        if jumps is not None and words[1] not in table.chains:
            raise _undeclared(table, words[1], lineno, line)
        start = 3 if op in ("-I", "--insert") and len(words) > 2 and _numberish(words[2]) else 2
        err, tgt = check_rule(words, start, family, unmodelled)
        if err is not None:
            raise ParseError(err, command=command, lineno=lineno, line=line)
        if jumps is not None and tgt is not None and tgt not in TARGET_EXTENSIONS:
            jumps.append((tgt, lineno, line))
        chain = table.chain(words[1])
        rest = tuple(words[2:])
        # counters written as `-c p b` (iptables -S -v / iptables-save -c style)
        if "-c" in rest or "--set-counters" in rest:
            k = rest.index("-c") if "-c" in rest else rest.index("--set-counters")
            if (k + 2 < len(rest) and is_decimal(rest[k + 1]) and is_decimal(rest[k + 2])
                    and len(rest[k + 1]) <= 20 and len(rest[k + 2]) <= 20
                    and max(int(rest[k + 1]), int(rest[k + 2])) < 2**64):
                counters = (int(rest[k + 1]), int(rest[k + 2]))
                rest = rest[:k] + rest[k + 3:]
        if op in ("-I", "--insert"):
            pos = 1
            if rest and _numberish(rest[0]):
                pos = _rule_number(rest[0], command, lineno, line)
                rest = rest[1:]
        line, rest = _shared(line, rest)
        if op in ("-I", "--insert"):
            _insert(chain, pos, Rule(table.name, chain.name, pos, rest, line, counters, lineno),
                    command, lineno, line)
        else:
            chain.rules.append(Rule(table.name, chain.name, len(chain.rules) + 1, rest, line,
                                    counters, lineno))
        return
    raise ParseError(f"unknown command {op!r}", command="iptables-save", lineno=lineno, line=line,
                     hint="inside a *table section only :CHAIN, -A and COMMIT lines belong")


__all__ = ["parse_iptables", "split_words", "BUILTIN_CHAINS"]
