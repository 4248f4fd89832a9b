"""Layer 8 — pictures of the network, each returned as a matplotlib ``Figure``.

- :func:`draw_topology` — the host, its NICs, docker0, the veth pairs into the
  containers and the peers outside (lessons 1–3).
- :func:`draw_journey` — the same picture with a probe's path as numbered hops,
  the addresses at each and the NAT rewrites (lessons 2, 3 and 10).
- :func:`draw_hooks` — the netfilter hook map with a packet's path through it and
  where tcpdump sees it (lessons 5 and 10).
- :func:`draw_flow` — a capture drawn as a flow (sequence) diagram (lesson 11).

matplotlib is imported only when a function is called; figures are drawn on the
Agg canvas and never touch pyplot's global state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netlab.lazy import lazy_exports

_EXPORTS: dict[str, tuple[str, str | None]] = {
    "draw_topology": ("netlab.viz.topology", "draw_topology"),
    "topology_model": ("netlab.viz.topology", "topology_model"),
    "layout_topology": ("netlab.viz.topology", "layout_topology"),
    "draw_journey": ("netlab.viz.journey", "draw_journey"),
    "hop_table": ("netlab.viz.journey", "hop_table"),
    "draw_hooks": ("netlab.viz.hooks", "draw_hooks"),
    "hook_path": ("netlab.viz.hooks", "hook_path"),
    "draw_flow": ("netlab.viz.flow", "draw_flow"),
}


if TYPE_CHECKING:  # what a type checker sees; at run time __getattr__ imports on first use
    from netlab.viz.flow import draw_flow as draw_flow
    from netlab.viz.hooks import draw_hooks as draw_hooks
    from netlab.viz.hooks import hook_path as hook_path
    from netlab.viz.journey import draw_journey as draw_journey
    from netlab.viz.journey import hop_table as hop_table
    from netlab.viz.topology import draw_topology as draw_topology
    from netlab.viz.topology import layout_topology as layout_topology
    from netlab.viz.topology import topology_model as topology_model

__getattr__, __dir__ = lazy_exports('netlab.viz', _EXPORTS)

__all__ = sorted(_EXPORTS)
