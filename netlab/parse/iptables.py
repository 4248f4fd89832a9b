"""``iptables-save`` / ``iptables -S`` text → ``state.firewall``.

The rules themselves are read by layer 3 (:func:`netlab.netfilter.parse_iptables`);
this module only checks that a paste *is* one of those two forms (and says so
when it is ``iptables -L`` or nft output instead), cleans it, and keeps it as the
namespace's firewall text.
"""

from __future__ import annotations

import re

from netlab.errors import NetlabError, ParseError
from netlab.model import HostState
from netlab.netfilter import parse_iptables
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import clean_lines

_LINE = re.compile(
    r"^(?:\*[A-Za-z_][\w-]*"  # *nat
    r"|:[^\s]+ [^\s]+(?: \[[0-9]+:[0-9]+\])?"  # :CHAIN POLICY [p:b]
    r"|COMMIT"
    r"|#.*"
    r"|(?:\[[0-9]+:[0-9]+\] )?-[AIDRNXPFZE] \S.*"  # -A CHAIN ... (iptables-save -c puts counters first)
    r")$"
)


def parse_iptables_text(text: str | bytes, netns: str = "", *, validate: bool = True) -> HostState:
    """Keep ``iptables-save`` or ``iptables -S`` output (one or several tables) as the firewall.

    With ``validate`` (the default) layer 3 reads the rules too, so a rule it
    cannot read is reported now, with its line, rather than when a packet is traced.
    """
    command = "iptables-save"
    cleaned = clean_lines(text)
    for lineno, line in cleaned.lines:
        if not _LINE.match(line.strip()):
            raise parse_error(command, "every line of iptables-save / iptables -S output is "
                              "`*table`, `:CHAIN POLICY [n:n]`, `-A CHAIN ...`, `-P`/`-N`, "
                              "`COMMIT` or a `#` comment", cleaned, lineno, line)
    if not any(not line.lstrip().startswith("#") for _, line in cleaned.lines):
        raise empty_error(command, cleaned)
    body = "\n".join(line.strip() for _, line in cleaned.lines) + "\n"
    if validate:
        _validate(body, cleaned)
    state = HostState(source="paste")
    state.firewall[netns] = body
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state


def _validate(body: str, cleaned: object) -> None:
    try:
        parse_iptables(body)
    except ParseError as exc:
        # layer 3 numbers the lines of the cleaned text: give the learner the paste's own
        lines = cleaned.lines  # type: ignore[attr-defined]
        if exc.lineno is not None and 1 <= exc.lineno <= len(lines):
            lineno, line = lines[exc.lineno - 1]
            raise ParseError(getattr(exc, "reason", str(exc)), command=exc.command or "iptables-save", lineno=lineno,
                             line=line, hint=exc.hint) from None
        raise
    except NetlabError as exc:
        raise ParseError(str(exc), command="iptables-save") from None
    except Exception as exc:  # a bug in layer 3 must still reach the learner as a clear error
        raise ParseError(
            f"netlab's iptables reader failed on this text ({type(exc).__name__}: {exc}); "
            "this is a netlab bug, please report it with the paste", command="iptables-save",
        ) from exc
