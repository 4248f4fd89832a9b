"""How big an iptables paste netlab reads: a documented limit, so that a paste far
larger than any real host's (a typo'd loop, a log pasted by mistake) is refused in
milliseconds with a clear message instead of taking seconds and hundreds of MB.

The biggest real rule sets are Kubernetes nodes with kube-proxy in iptables mode:
around 100,000 rules in some tens of thousands of chains (a KUBE-SVC-* chain per
service, a KUBE-SEP-* chain per endpoint).  The limits are well above that.
"""

from __future__ import annotations

from netlab.errors import ParseError

MAX_RULES = 200_000
"""Most ``-A``/``-I`` rule lines in one paste (twice what kube-proxy hosts reach, ~100,000)."""
MAX_CHAINS = 200_000
"""Most ``:CHAIN POLICY`` declarations in one paste."""
MAX_TABLES = 1_000
"""Most ``*table`` sections in one paste (a host has at most five per family)."""

_TABLES = ("*filter", "*nat", "*mangle", "*raw", "*security")


def _lines_starting(text: str, *heads: str) -> int:
    """Lines of ``text`` that start with one of ``heads`` (``str.count``: linear and fast)."""
    return sum(text.count("\n" + h) + text.startswith(h) for h in heads)


def check_size(text: str, command: str = "iptables-save") -> None:
    """Refuse (:class:`ParseError`) a paste with more rules, chains or tables than
    :data:`MAX_RULES`, :data:`MAX_CHAINS`, :data:`MAX_TABLES`; counted in one linear
    pass over the text, before any reading."""
    rules = _lines_starting(text, "-A ", "-I ") + text.count("] -A ") + text.count("] -I ")
    chains = _lines_starting(text, ":")
    tables = _lines_starting(text, *_TABLES)
    for count, limit, what in ((rules, MAX_RULES, "rules (`-A`/`-I` lines)"),
                               (chains, MAX_CHAINS, "chains (`:CHAIN POLICY` lines)"),
                               (tables, MAX_TABLES, "table sections (`*table` lines)")):
        if count > limit:
            raise ParseError(
                f"this paste has {count:,} iptables {what}: more than netlab reads "
                f"({limit:,}; the biggest real hosts, Kubernetes nodes with kube-proxy, have "
                "~100,000 rules in a few tens of thousands of chains and at most five tables)",
                command=command,
                hint="paste one host's `iptables-save` output once (not a loop's or a log's); "
                     "for a huge host, paste only the tables or chains you are asking about "
                     "(`iptables-save -t nat`, or `iptables -S CHAIN`)")
