"""What changed in Docker's rules from one release to the next (lesson 12).

``rule_diff("28.2.0", "28.2.2")`` builds the same host on both releases (``docker_host``
with the same containers and options) and compares their rule sets chain by chain, in
order, so a rule that moved shows as removed here and added there and a chain that
appeared or went is named.  Either side may also be a :class:`Scenario` or iptables-save
text (a paste from a real host).  ``release_steps()`` gives the diff of every step from
the article's Docker 18.09 to 29.0.0.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from netlab.netfilter import Ruleset, parse_iptables
from netlab.scenarios.docker import docker_host
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.profiles import resolve_version
from netlab.scenarios.topology import Scenario

# the article (18.09) and every release whose -p 80:80 rules differ from the one before
RELEASES: tuple[str, ...] = ("18.09", "28.0.0", "28.0.1", "28.2.0", "28.2.2", "29.0.0")


@dataclass(frozen=True)
class RuleChange:
    """One rule line added (``+``) or removed (``-``), or a chain's policy changed (``~``)."""

    sign: str
    table: str
    chain: str
    rule: str  # the -A line, or ":CHAIN POLICY" for a policy change

    def __str__(self) -> str:
        return f"{self.sign} {self.table:6s} {self.rule}"


@dataclass
class RuleDiff:
    """The rules of ``new`` compared with those of ``old``, chain by chain."""

    old: str
    new: str
    changes: list[RuleChange] = field(default_factory=list)
    chains_added: list[str] = field(default_factory=list)  # "table:CHAIN"
    chains_removed: list[str] = field(default_factory=list)

    @property
    def added(self) -> list[RuleChange]:
        return [c for c in self.changes if c.sign == "+"]

    @property
    def removed(self) -> list[RuleChange]:
        return [c for c in self.changes if c.sign == "-"]

    def __bool__(self) -> bool:
        return bool(self.changes or self.chains_added or self.chains_removed)

    def __str__(self) -> str:
        lines = [f"Docker {self.old} -> {self.new}:"]
        if self.chains_added:
            lines.append("  new chains:  " + ", ".join(self.chains_added))
        if self.chains_removed:
            lines.append("  gone chains: " + ", ".join(self.chains_removed))
        lines += [f"  {c}" for c in self.changes]
        if not self:
            lines.append("  (the same rules)")
        return "\n".join(lines)

    @property
    def df(self) -> Any:
        """The changes as a DataFrame (sign, table, chain, rule)."""
        import pandas as pd

        return pd.DataFrame([vars(c) for c in self.changes], columns=["sign", "table", "chain", "rule"])


def _rules_of(side: str | Scenario, **host: Any) -> tuple[str, Ruleset]:
    """(label, rule set) for a Docker version, a scenario or iptables-save text."""
    if isinstance(side, Scenario):
        return side.name, parse_iptables(side.host.iptables)
    if not isinstance(side, str):
        raise ScenarioError(f"rule_diff compares Docker versions, scenarios or iptables-save text, "
                            f"not {type(side).__name__}")
    if "\n" in side or side.lstrip().startswith(("*", "-A ", "-P ", "-N ")):
        return "paste", parse_iptables(side)
    resolve_version(side)  # a clear ScenarioError for a misspelt version
    return side, parse_iptables(docker_host(side, **host).host.iptables)


def _chains(rs: Ruleset) -> dict[tuple[str, str], tuple[str | None, list[str]]]:
    return {(t, name): (chain.policy, [r.text for r in chain.rules])
            for t, table in rs.tables.items() for name, chain in table.chains.items()}


def rule_diff(old: str | Scenario, new: str | Scenario, **host: Any) -> RuleDiff:
    """What ``new``'s rules add to and remove from ``old``'s, chain by chain in rule order.

    A version (``"18.09"``, ``"28.0.1"``, ``"29"``) is built with ``docker_host(version,
    **host)`` (``containers=``, ``userland_proxy=``, ``ip_forward_was_on=`` ...), so both
    sides are the same host on two releases."""
    old_label, old_rs = _rules_of(old, **host)
    new_label, new_rs = _rules_of(new, **host)
    a, b = _chains(old_rs), _chains(new_rs)
    diff = RuleDiff(old_label, new_label)
    diff.chains_added = [f"{t}:{c}" for (t, c) in b if (t, c) not in a]
    diff.chains_removed = [f"{t}:{c}" for (t, c) in a if (t, c) not in b]
    order = list(a) + [k for k in b if k not in a]
    for table, chain in order:
        old_policy, old_rules = a.get((table, chain), (None, []))
        new_policy, new_rules = b.get((table, chain), (None, []))
        if (table, chain) in a and (table, chain) in b and old_policy != new_policy:
            diff.changes.append(RuleChange("~", table, chain, f":{chain} {old_policy} -> {new_policy}"))
        matcher = difflib.SequenceMatcher(a=old_rules, b=new_rules, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op in ("replace", "delete"):
                diff.changes += [RuleChange("-", table, chain, r) for r in old_rules[i1:i2]]
            if op in ("replace", "insert"):
                diff.changes += [RuleChange("+", table, chain, r) for r in new_rules[j1:j2]]
    return diff


def release_steps(releases: Sequence[str] = RELEASES, **host: Any) -> list[RuleDiff]:
    """``rule_diff`` of each release against the one before it (the same host on each)."""
    if len(releases) < 2:
        raise ScenarioError("release_steps needs at least two releases to compare")
    return [rule_diff(a, b, **host) for a, b in zip(releases, releases[1:], strict=False)]
