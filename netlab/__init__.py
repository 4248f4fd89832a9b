"""netlab — how Docker networking really works on Linux, simulated or for real.

Every notebook starts with ``import netlab as nl``.  The names below are loaded
on first use, so ``import netlab`` stays fast and scapy / matplotlib are only
imported when a lesson needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.lazy import lazy_exports
from netlab.version import __version__ as __version__

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
    "parse_iptables_list": ("netlab.parse", "parse_iptables_list"),
    "parse_ifconfig": ("netlab.parse", "parse_ifconfig"),
    "parse_route_n": ("netlab.parse", "parse_route_n"),
    "parse_sockets": ("netlab.parse", "parse_sockets"),
    "parse_nft_ruleset": ("netlab.parse", "parse_nft_ruleset"),
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


if TYPE_CHECKING:  # what a type checker sees; at run time __getattr__ imports on first use
    from netlab import drills as drills
    from netlab import scenarios as scenarios
    from netlab import viz as viz
    from netlab import widgets as widgets
    from netlab.capture import Capture as Capture
    from netlab.capture import follow_stream as follow_stream
    from netlab.capture import load_capture as load_capture
    from netlab.errors import CaptureError as CaptureError
    from netlab.errors import FilterError as FilterError
    from netlab.errors import LabError as LabError
    from netlab.errors import NetlabError as NetlabError
    from netlab.errors import ParseError as ParseError
    from netlab.errors import SnapshotError as SnapshotError
    from netlab.journey import Journey as Journey
    from netlab.mode import banner as banner
    from netlab.mode import connect as connect
    from netlab.model import HostState as HostState
    from netlab.netfilter import NftRuleset as NftRuleset
    from netlab.netfilter import Packet as Packet
    from netlab.netfilter import Ruleset as Ruleset
    from netlab.netfilter import Trace as Trace
    from netlab.netfilter import parse_iptables as parse_iptables
    from netlab.netfilter import parse_nft as parse_nft
    from netlab.parse import parse_brctl_show as parse_brctl_show
    from netlab.parse import parse_bridge_fdb as parse_bridge_fdb
    from netlab.parse import parse_bridge_link as parse_bridge_link
    from netlab.parse import parse_conntrack as parse_conntrack
    from netlab.parse import parse_docker_inspect as parse_docker_inspect
    from netlab.parse import parse_docker_network_inspect as parse_docker_network_inspect
    from netlab.parse import parse_host as parse_host
    from netlab.parse import parse_ifconfig as parse_ifconfig
    from netlab.parse import parse_ip_addr as parse_ip_addr
    from netlab.parse import parse_ip_json as parse_ip_json
    from netlab.parse import parse_ip_link as parse_ip_link
    from netlab.parse import parse_ip_route as parse_ip_route
    from netlab.parse import parse_iptables_list as parse_iptables_list
    from netlab.parse import parse_iptables_text as parse_iptables_text
    from netlab.parse import parse_nft_ruleset as parse_nft_ruleset
    from netlab.parse import parse_route_n as parse_route_n
    from netlab.parse import parse_sockets as parse_sockets
    from netlab.parse import parse_sysctl as parse_sysctl
    from netlab.scenarios import docker_host as docker_host
    from netlab.scenarios import from_state as from_state
    from netlab.scenarios import seed_host as seed_host
    from netlab.snapshot import snapshot as snapshot
    from netlab.viz import draw_flow as draw_flow
    from netlab.viz import draw_hooks as draw_hooks
    from netlab.viz import draw_journey as draw_journey
    from netlab.viz import draw_topology as draw_topology
    from netlab.why import why as why

__getattr__, __dir__ = lazy_exports('netlab', _EXPORTS)

__all__ = sorted(_EXPORTS)
