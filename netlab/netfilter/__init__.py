"""Layer 3 — netfilter: read iptables and nftables rule sets and trace a packet through them.

``parse_iptables(text)`` reads ``iptables-save`` / ``iptables -S`` output into a
:class:`Ruleset`; ``ruleset.trace(packet, hook=...)`` returns a :class:`Trace`
saying rule by rule what happened to the packet and why.  Bad input raises
:class:`netlab.errors.ParseError`.  ``parse_nft(text)`` reads ``nft list ruleset``
(text or ``-j`` JSON) into an :class:`NftRuleset` whose ``trace`` returns the same
:class:`Trace`.
"""

from __future__ import annotations

from netlab.errors import ParseError
from netlab.netfilter.engine import RuleEngine
from netlab.netfilter.hooks import HOOK_TABLES, hook_tables
from netlab.netfilter.nft_parser import parse_nft
from netlab.netfilter.nft_ruleset import NftChain, NftRule, NftRuleset, NftSet, NftTable
from netlab.netfilter.packet import Packet, PacketError
from netlab.netfilter.parser import parse_iptables
from netlab.netfilter.ruleset import Chain, Match, Option, Rule, Ruleset, Table, Target
from netlab.netfilter.targets import NatRewrite
from netlab.netfilter.trace import Step, Trace

__all__ = ["parse_iptables", "Ruleset", "Table", "Chain", "Rule", "Match", "Option", "Target",
           "Packet", "PacketError", "Trace", "Step", "NatRewrite", "ParseError", "HOOK_TABLES", "RuleEngine",
           "hook_tables", "parse_nft", "NftRuleset", "NftTable", "NftChain", "NftRule", "NftSet"]
