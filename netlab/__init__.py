"""netlab — how Docker networking really works on Linux, simulated or for real.

Every notebook starts with ``import netlab as nl``.  The names below are loaded
on first use, so ``import netlab`` stays fast and scapy / matplotlib are only
imported when a lesson needs them.
"""

from __future__ import annotations

from netlab.lazy import lazy_exports

__version__ = "0.1.0"

# public name -> (module, attribute)
_EXPORTS: dict[str, tuple[str, str | None]] = {
    # layer 1: model
    "HostState": ("netlab.model", "HostState"),
    # errors
    "NetlabError": ("netlab.errors", "NetlabError"),
    "ParseError": ("netlab.errors", "ParseError"),
    "SnapshotError": ("netlab.errors", "SnapshotError"),
    "CaptureError": ("netlab.errors", "CaptureError"),
    "LabError": ("netlab.errors", "LabError"),
    "FilterError": ("netlab.errors", "FilterError"),
    # layer 2: parsers
    "parse_host": ("netlab.parse", "parse_host"),
    "parse_ip_addr": ("netlab.parse", "parse_ip_addr"),
    "parse_ip_link": ("netlab.parse", "parse_ip_link"),
    "parse_ip_route": ("netlab.parse", "parse_ip_route"),
    "parse_brctl_show": ("netlab.parse", "parse_brctl_show"),
    "parse_bridge_link": ("netlab.parse", "parse_bridge_link"),
    "parse_bridge_fdb": ("netlab.parse", "parse_bridge_fdb"),
    "parse_ip_json": ("netlab.parse", "parse_ip_json"),
    "parse_conntrack": ("netlab.parse", "parse_conntrack"),
    "parse_docker_network_inspect": ("netlab.parse", "parse_docker_network_inspect"),
    "parse_docker_inspect": ("netlab.parse", "parse_docker_inspect"),
    "parse_sysctl": ("netlab.parse", "parse_sysctl"),
    "parse_iptables_text": ("netlab.parse", "parse_iptables_text"),
    "snapshot": ("netlab.snapshot", "snapshot"),
    # layer 3: netfilter
    "parse_iptables": ("netlab.netfilter", "parse_iptables"),
    "Ruleset": ("netlab.netfilter", "Ruleset"),
    "parse_nft": ("netlab.netfilter", "parse_nft"),
    "NftRuleset": ("netlab.netfilter", "NftRuleset"),
    "Packet": ("netlab.netfilter", "Packet"),
    "Trace": ("netlab.netfilter", "Trace"),
    # layers 4-7
    "scenarios": ("netlab.scenarios", None),
    "seed_host": ("netlab.scenarios", "seed_host"),
    "docker_host": ("netlab.scenarios", "docker_host"),
    "from_state": ("netlab.scenarios", "from_state"),
    "why": ("netlab.why", "why"),
    "connect": ("netlab.mode", "connect"),
    "drills": ("netlab.drills", None),
    "banner": ("netlab.mode", "banner"),
    "Journey": ("netlab.journey", "Journey"),
    "Capture": ("netlab.capture", "Capture"),
    "load_capture": ("netlab.capture", "load_capture"),
    "follow_stream": ("netlab.capture", "follow_stream"),
    # layers 8-9
    "viz": ("netlab.viz", None),
    "widgets": ("netlab.widgets", None),
    "draw_topology": ("netlab.viz", "draw_topology"),
    "draw_journey": ("netlab.viz", "draw_journey"),
    "draw_hooks": ("netlab.viz", "draw_hooks"),
    "draw_flow": ("netlab.viz", "draw_flow"),
}


__getattr__, __dir__ = lazy_exports('netlab', _EXPORTS)

__all__ = sorted(_EXPORTS)
