"""The interface the simulator runs a namespace's rules through.

``Ruleset`` (iptables) is one; any other rule engine (an nftables rule set) that offers
the same four calls plugs into ``netlab.sim`` unchanged (``Hooks(..., engine=...)``).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class RuleEngine(Protocol):
    """A namespace's firewall, as the simulator asks it."""

    def trace(self, packet: Any, hook: str = "PREROUTING", in_iface: str | None = None,
              out_iface: str | None = None, local_addrs: Any = (), ct_state: str = "NEW",
              tables: Any = None, ipsets: dict | None = None, seed: int = 0,
              iface_addrs: dict | None = None, conntrack: Any = None) -> Any:
        """The packet walked through ``hook``: a :class:`netlab.netfilter.Trace`."""
        ...

    def active_hooks(self) -> frozenset[str]:
        """The hooks where a rule or a non-ACCEPT policy can change anything."""
        ...

    def reads(self) -> frozenset[str]:
        """The packet fields some rule reads (``netlab.netfilter.modules.FIELDS``)."""
        ...

    def rule(self, position: str) -> Any:
        """The rule at a position (``"nat:DOCKER:2"``), for its text."""
        ...
