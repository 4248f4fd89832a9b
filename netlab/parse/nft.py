"""``nft list ruleset`` (text, or ``nft -j list ruleset`` JSON) → ``state.nftables``, kept.

The rule set is read by layer 3 (:func:`netlab.netfilter.parse_nft`) so a paste it
cannot read is refused now, at its line; the text is kept as pasted in
``state.nftables[netns]`` (it survives the snapshot JSON).  Tracing a pasted nft rule
set through the simulated host belongs to the nftables work: ``from_state`` keeps it
beside the iptables rules and says so in its notes; trace it directly with
``netlab.parse_nft(state.nftables[""]).trace(...)``.
"""

from __future__ import annotations

from netlab.errors import NetlabError, ParseError
from netlab.model import HostState
from netlab.parse._errors import empty_error
from netlab.parse.clean import Cleaned, clean_lines

COMMAND = "nft list ruleset"


def parse_nft_ruleset(text: str | bytes | Cleaned, netns: str = "") -> HostState:
    """Keep an ``nft list ruleset`` paste (checked by :func:`netlab.netfilter.parse_nft`)."""
    from netlab.netfilter import parse_nft

    cleaned = clean_lines(text)
    if not cleaned.lines:
        raise empty_error(COMMAND, cleaned)
    body = "\n".join(line for _, line in cleaned.lines) + "\n"
    try:
        rs = parse_nft(body)
    except ParseError as exc:
        lines = cleaned.lines
        if exc.lineno is not None and 1 <= exc.lineno <= len(lines):
            lineno, line = lines[exc.lineno - 1]
            raise ParseError(exc.reason, command=COMMAND, lineno=lineno, line=line,
                             hint=exc.hint) from None
        raise
    except NetlabError as exc:
        raise ParseError(str(exc), command=COMMAND) from None
    state = HostState(source="paste")
    state.nftables[netns] = body
    tables = ", ".join(t.key for t in rs.tables) or "no tables"
    state.notes.append(f"`nft list ruleset` ({tables}) kept as pasted; tracing a pasted nft "
                       "rule set through the simulated host belongs to the nftables work: "
                       "trace it with netlab.parse_nft(state.nftables[netns]).trace(...)")
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state
