"""Which tables each netfilter hook runs, in the kernel's priority order.

The kernel registers each table at a hook with a priority (lower runs first):
raw -300, (conntrack -200), mangle -150, nat for destination NAT -100,
filter 0, security 50, nat for source NAT 100.  So nat runs *before* filter in
PREROUTING and OUTPUT (DNAT) but *after* filter in INPUT and POSTROUTING (SNAT),
and there is no nat in FORWARD.  Notebook 06 draws this map.
"""

from __future__ import annotations

PRIORITY = {"raw": -300, "conntrack": -200, "mangle": -150, "nat-dst": -100, "filter": 0,
            "security": 50, "nat-src": 100}

HOOK_TABLES: dict[str, tuple[str, ...]] = {
    "PREROUTING": ("raw", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "security", "nat"),
    "FORWARD": ("mangle", "filter", "security"),
    "OUTPUT": ("raw", "mangle", "nat", "filter", "security"),
    "POSTROUTING": ("mangle", "nat"),
}
HOOKS = tuple(HOOK_TABLES)


def hook_tables(hook: str) -> tuple[str, ...]:
    """The tables the kernel runs at ``hook``, first to last."""
    try:
        return HOOK_TABLES[hook.upper()]
    except KeyError:
        from netlab.errors import NetlabError

        raise NetlabError(f"unknown hook {hook!r}; use one of {', '.join(HOOKS)}") from None


def hooks_of_table(table: str) -> tuple[str, ...]:
    """The hooks (built-in chains) where ``table`` runs."""
    return tuple(h for h, ts in HOOK_TABLES.items() if table in ts)
