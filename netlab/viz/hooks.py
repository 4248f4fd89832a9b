"""The netfilter hook map: where the kernel runs each table, and a packet's path through it.

A packet arriving on an interface meets PREROUTING (raw, conntrack, mangle, nat),
then the routing decision sends it either up to INPUT (a local socket) or across
FORWARD; everything leaving goes through POSTROUTING (mangle, nat).  A packet a
local program sends starts at OUTPUT.  tcpdump on an interface sees an incoming
packet *before* PREROUTING and an outgoing one *after* POSTROUTING — which is why
a capture on the NIC and one on docker0 show different addresses (lessons 5 and 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netlab.viz.figure import FONT, new_figure

HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
# tables in the order the kernel runs them at each hook (by hook priority)
HOOK_TABLES: dict[str, tuple[str, ...]] = {
    "PREROUTING": ("raw", "conntrack", "mangle", "nat"),
    "INPUT": ("mangle", "filter", "nat"),
    "FORWARD": ("mangle", "filter"),
    "OUTPUT": ("raw", "conntrack", "mangle", "nat", "filter"),
    "POSTROUTING": ("mangle", "nat"),
}
TABLE_ROLE = {
    "raw": "raw (before conntrack)",
    "conntrack": "conntrack lookup",
    "mangle": "mangle",
    "nat": "nat (first packet only)",
    "filter": "filter",
}


@dataclass
class HookVisit:
    """What happened to the packet at one hook: tables that ran, the deciding rules."""

    hook: str
    tables: dict[str, str] = field(default_factory=dict)  # table -> "ACCEPT nat:DOCKER:2"
    verdict: str | None = None
    nat: str | None = None  # "DNAT 192.168.56.38:80 → 172.17.0.2:80"
    rules: list[str] = field(default_factory=list)  # "nat:DOCKER:2  -A DOCKER ..."
    tables_run: list[str] | None = None  # from the trace: tables that had rules to walk
    ct_state: str | None = None  # NEW / ESTABLISHED / ... as the trace saw it
    # nftables: the hook's base chains in run order (table, chain, priority, type)
    chains: list[tuple[str, str, int, str]] = field(default_factory=list)
    ruleset: Any = None  # the NftRuleset an nft trace walked


@dataclass
class HookPath:
    """A packet's walk through one namespace's hooks."""

    visits: list[HookVisit] = field(default_factory=list)
    in_iface: str | None = None
    out_iface: str | None = None
    local: str | None = None  # "delivered to a socket" / "sent by a local program"
    dropped: bool = False
    title: str = ""

    def hooks(self) -> list[str]:
        return [v.hook for v in self.visits]


def _trace_hook(trace: Any) -> str | None:
    hook = getattr(trace, "hook", None)
    if hook:
        return str(hook)
    for s in getattr(trace, "step_list", []) or []:
        if getattr(s, "chain", None) in HOOKS:
            return s.chain
    return None


_DECIDING = ("ACCEPT", "DROP", "REJECT", "DNAT", "SNAT", "MASQUERADE", "REDIRECT")


def _visit_from_trace(trace: Any, hook: str | None = None) -> HookVisit:
    visit = HookVisit(hook or _trace_hook(trace) or "PREROUTING")
    visit.chains = list(getattr(trace, "chains", None) or [])
    visit.ruleset = getattr(trace, "ruleset", None)
    base = None  # nftables: the base chain a step's walk started from
    for s in getattr(trace, "step_list", []) or []:
        table = getattr(s, "table", None)
        if table is None:
            continue
        if visit.chains:
            if getattr(s, "depth", 0) == 0 and getattr(s, "kind", "rule") in ("rule", "policy"):
                base = s.chain
            table = f"{table} {base}"
        visit.tables.setdefault(table, "")
        if getattr(s, "matched", False) and getattr(s, "target", None) not in (None, "RETURN"):
            target = s.target
            if visit.chains:  # nft words: "accept", "dnat to 10.0.0.2:80", "masquerade"
                target = str(target).split()[0].upper()
            if target in _DECIDING:
                visit.tables[table] = f"{target} {s.position}"
                text = getattr(s, "rule_text", None) or ""
                visit.rules.append(f"{s.position}  {text}".rstrip())
    decisive = getattr(trace, "decisive", None)
    visit.verdict = getattr(trace, "verdict", None)
    if decisive is not None and getattr(decisive, "table", None) and not visit.chains:
        if not visit.tables.get(decisive.table):
            label = getattr(decisive, "target", None) or visit.verdict or ""
            pos = getattr(decisive, "position", "") or f"{decisive.table}:{decisive.chain} policy"
            visit.tables[decisive.table] = f"{label} {pos}".strip()
    nat = getattr(trace, "nat", None)
    if nat is not None:
        visit.nat = f"{nat.kind} {_hp(nat.before)} → {_hp(nat.after)}"
    run = getattr(trace, "tables_run", None)
    visit.tables_run = list(run) if run is not None else None
    visit.ct_state = getattr(trace, "ct_state", None)
    return visit


def _hp(value: Any) -> str:
    if isinstance(value, tuple):
        ip, port = (list(value) + [None])[:2]
        return f"{ip}:{port}" if port is not None else str(ip)
    return str(value)


def hook_path(obj: Any, node: str = "host", packet: int | None | str = "first") -> HookPath:
    """The hooks a Trace or a Journey's packet went through in ``node``."""
    from netlab.journey import Journey

    if not isinstance(obj, Journey):
        if not (hasattr(obj, "step_list") and hasattr(obj, "hook")):
            raise TypeError("draw_hooks needs a Trace (ruleset.trace(packet, hook=...)) or a "
                            "Journey (net.probe(...)); got " + type(obj).__name__)
        visit = _visit_from_trace(obj)
        path = HookPath([visit], title=f"trace at {visit.hook}")
        path.in_iface = getattr(obj, "in_iface", None)
        path.out_iface = getattr(obj, "out_iface", None)
        path.dropped = visit.verdict in ("DROP", "REJECT")
        return path
    if packet == "first":
        from netlab.viz.journey import first_packet_id

        packet = first_packet_id(obj)
    path = HookPath(title=f"{obj.probe.get('kind', 'probe')} {obj.probe.get('src')} → "
                          f"{obj.probe.get('dst')} in {node}")
    for e in obj.steps:
        if e.node != node or (packet is not None and e.packet_id not in (packet, None)):
            continue
        if e.kind == "seen":
            if e.direction == "in" and path.in_iface is None and not path.visits:
                path.in_iface = e.iface
            elif e.direction == "out" and path.out_iface is None:
                path.out_iface = e.iface
        elif e.kind == "send" and not path.visits:
            path.local = "sent by a local program"
        elif e.kind == "deliver":
            path.local = "delivered to a local socket"
        elif e.kind == "netfilter" and e.hook and packet is not None and e.packet_id is None:
            # an aggregate (a lab's rule counters, not tied to this packet): it shows the
            # hook was passed, but its rule may have decided for another packet
            if e.hook not in path.hooks():
                path.visits.append(HookVisit(e.hook))
        elif e.kind == "netfilter" and e.hook:
            if path.visits and path.visits[-1].hook == e.hook:
                visit = path.visits[-1]
            else:
                visit = HookVisit(e.hook)
                path.visits.append(visit)
            if e.trace is not None:
                t_in = getattr(e.trace, "in_iface", None)
                t_out = getattr(e.trace, "out_iface", None)
                if t_in and not path.visits[:-1] and visit.tables_run is None:
                    path.in_iface = t_in  # what iptables calls -i (docker0, not the veth)
                if t_out:
                    path.out_iface = t_out
                sub = _visit_from_trace(e.trace, e.hook)
                visit.tables_run = sub.tables_run
                visit.ct_state = sub.ct_state
                visit.chains = sub.chains or visit.chains
                visit.ruleset = sub.ruleset or visit.ruleset
                for t, v in sub.tables.items():
                    if v or t not in visit.tables:
                        visit.tables[t] = v
                visit.rules.extend(sub.rules)
                visit.nat = visit.nat or sub.nat
                visit.verdict = sub.verdict or visit.verdict
            table = (e.rule or "").split(":")[0] or None
            if table and e.rule:
                label = e.verdict or ""
                visit.tables[table] = f"{label} {e.rule}".strip()
                line = f"{e.rule}  {e.rule_text or ''}".rstrip()
                if line not in visit.rules:
                    visit.rules.append(line)
            visit.verdict = e.verdict or visit.verdict
        elif e.kind == "nat":
            hook = e.hook or ("PREROUTING" if e.nat_side == "dst" else "POSTROUTING")
            target = next((v for v in path.visits if v.hook == hook), None)
            if target is None:
                target = HookVisit(hook)
                path.visits.append(target)
            kind = "conntrack re-applies NAT:" if e.nat_by == "conntrack" else (e.nat_kind or "NAT")
            target.nat = f"{kind} {e.before} → {e.after}"
            if e.rule:
                target.tables["nat"] = f"{e.nat_kind or 'NAT'} {e.rule}"
        elif e.kind == "drop":
            path.dropped = True
    _fill_implied_hooks(path)
    return path


def _fill_implied_hooks(path: HookPath) -> None:
    """Add the hooks the kernel always passes but the journey did not record (a lab
    journey rebuilt from rule counters only knows the hooks whose rules counted): a
    packet that came in met PREROUTING; one that was forwarded or sent and left met
    POSTROUTING.  Visits are put in the kernel's order (one packet never goes back)."""
    rank = {"PREROUTING": 0, "INPUT": 1, "FORWARD": 1, "OUTPUT": 2, "POSTROUTING": 3}
    path.visits.sort(key=lambda v: rank.get(v.hook, 1))
    hooks = path.hooks()
    if path.in_iface and hooks and "PREROUTING" not in hooks and hooks[0] in ("INPUT",
                                                                              "FORWARD"):
        path.visits.insert(0, HookVisit("PREROUTING"))
    hooks = path.hooks()
    if (not path.dropped and path.out_iface and hooks and "POSTROUTING" not in hooks
            and hooks[-1] in ("FORWARD", "OUTPUT")):
        path.visits.append(HookVisit("POSTROUTING"))


# ------------------------------------------------------------------ drawing

BOX_W, ROW_H, HEAD_H = 2.3, 0.24, 0.3  # wide enough for "table  ACCEPT CHAIN:n" at 8 pt
POS = {  # hook -> (x, y of the box centre); routing decisions and ends in between
    "PREROUTING": (2.2, 1.45),
    "FORWARD": (6.6, 1.45),
    "POSTROUTING": (10.75, 1.45),
    "INPUT": (4.3, 3.85),
    "OUTPUT": (10.75, 3.85),
}
WIDTH, HEIGHT = 14.7, 5.3


def _box_h(rows: int) -> float:
    return HEAD_H + ROW_H * rows + 0.08


def hook_rows(hook: str, visit: HookVisit | None = None, ruleset: Any = None) -> list[tuple[str, str, str]]:
    """The rows of ``hook``'s box as (key, label, table): iptables' tables in the kernel's
    order, or — for nftables — every base chain with its priority (from the visit's trace
    or ``ruleset``), conntrack's lookup (priority -200) among them."""
    chains = list(visit.chains) if visit is not None and visit.chains else []
    if not chains and ruleset is not None and hasattr(ruleset, "chains_at"):
        chains = [(c.table, c.name, c.priority or 0, c.type or "filter") for c in ruleset.chains_at(hook)]
    if not chains and ruleset is not None and hasattr(ruleset, "chains_at"):
        return [("-", "no nft base chain here", "-")]
    if not chains:
        return [(t, TABLE_ROLE[t], t) for t in HOOK_TABLES[hook]]
    rows: list[tuple[str, str, str]] = []
    ct_pending = hook in ("PREROUTING", "OUTPUT")
    for table, chain, prio, kind in chains:
        if ct_pending and prio > -200:
            rows.append(("conntrack", "conntrack lookup (-200)", "conntrack"))
            ct_pending = False
        label = f"iptables {table} ({prio})" if kind == "iptables" else f"{chain} ({prio})"
        rows.append((f"{table} {chain}", label, table))
    if ct_pending:
        rows.append(("conntrack", "conntrack lookup (-200)", "conntrack"))
    return rows


def draw_hooks(obj: Any, node: str = "host", packet: int | None | str = "first",
               title: str | None = None, ruleset: Any = None) -> Any:
    """Draw the hook map with the path of a Trace, or of a Journey's packet in ``node``.

    Hook boxes list their tables in the kernel's order — for nftables rule sets each
    base chain with its priority (from the trace, or from ``ruleset``, an
    :class:`~netlab.netfilter.NftRuleset`); the ones the packet went through are
    coloured, with the rule that decided there.  Returns a Figure.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    path = hook_path(obj, node=node, packet=packet)
    on_path = set(path.hooks())
    # the lines under the map: each NAT and each deciding rule once, in path order (a
    # frame the kernel handled twice, e.g. a promiscuous capture's copy, adds nothing)
    footer: list[tuple[str, bool]] = []
    for v in path.visits:
        for line, is_nat in ([(f"{v.hook}: {v.nat}", True)] if v.nat else []) + [
                (f"{v.hook}: {r}", False) for r in v.rules]:
            if (line, is_nat) not in footer:
                footer.append((line, is_nat))
    extra_h = 0.35 + 0.19 * len(footer)
    longest = max((len(line) for line, _ in footer), default=0)
    fig, ax = new_figure(max(WIDTH, 0.4 + longest * 0.065), HEIGHT + extra_h)
    ax.set_ylim(-extra_h, HEIGHT)
    ax.text(0.15, HEIGHT - 0.15, title or f"netfilter hooks — {path.title}",
            fontsize=FONT + 2.5, weight="bold", va="top")
    ax.text(0.15, HEIGHT - 0.45, "tables run top to bottom in each hook; coloured = this "
            "packet went through; grey table = not run for it (no rules loaded there, or nat "
            "for a later packet of a connection)",
            fontsize=FONT, va="top", color="#555555")
    boxes: dict[str, tuple[float, float, float, float]] = {}
    visits = {v.hook: v for v in path.visits}
    if ruleset is None:  # an nft trace knows its rule set: the hooks it did not visit show its chains
        ruleset = next((v.ruleset for v in path.visits if v.ruleset is not None), None)
    rows_of = {hook: hook_rows(hook, visits.get(hook), ruleset) for hook in POS}
    if any(v.chains for v in path.visits) or ruleset is not None:
        ax.text(0.15, HEIGHT - 0.7, "nftables: each row is a base chain, \"(n)\" its priority; "
                "lower runs first, an accept ends only its own chain", fontsize=FONT, va="top",
                color="#555555")
    for hook, (x, cy) in POS.items():
        h = _box_h(len(rows_of[hook]))
        top = cy + h / 2
        active = hook in on_path
        ax.add_patch(FancyBboxPatch((x, top - h), BOX_W, h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    fc="#eaf2f8" if active else "#f7f7f7",
                                    ec="#1f618d" if active else "#aaaaaa",
                                    lw=1.8 if active else 1.0, zorder=2))
        ax.text(x + BOX_W / 2, top - 0.16, hook, ha="center", va="center",
                fontsize=FONT + 1, weight="bold", color="#1b4f72" if active else "#777777",
                zorder=3)
        visit = visits.get(hook)
        stopped = False  # a DROP in one table means the later ones never ran
        for i, (key, label, table) in enumerate(rows_of[hook]):
            y = top - HEAD_H - ROW_H * (i + 0.5)
            ran = visit is not None and not stopped
            if ran and visit is not None and visit.tables_run is not None and table != "conntrack":
                ran = table in visit.tables_run or key in visit.tables
            decided = visit.tables.get(key, "") if visit else ""
            if (table == "nat" and visit is not None and not ran and visit.ct_state
                    and visit.ct_state != "NEW"):
                label = f"nat skipped ({visit.ct_state.lower()})"
            stopped = stopped or decided.startswith(("DROP", "REJECT"))
            color = "#1b4f72" if ran else "#999999"
            if decided.startswith(("DROP", "REJECT")):
                color = "#c0392b"
            elif decided.startswith(("DNAT", "SNAT", "MASQUERADE", "REDIRECT")):
                color = "#b9770e"
            ax.text(x + 0.1, y, label if not decided or key != table else table, ha="left",
                    va="center", fontsize=FONT, color=color,
                    weight="bold" if decided else "normal", zorder=3)
            if decided:
                # the row is labelled with its table: the rule's own "table:" is left out
                shown = decided.replace(f" {table}:", " ", 1) if key == table else decided.split()[0]
                ax.text(x + BOX_W - 0.08, y, shown, ha="right", va="center",  # proportional:
                        fontsize=FONT, color=color, zorder=3)  # fits beside the table at 8 pt
        boxes[hook] = (x, top - h, BOX_W, h)

    def small(key: str, x: float, y: float, w: float, lines: list[str], active: bool,
              color: str = "#1e8449") -> tuple[float, float, float, float]:
        h = 0.17 * len(lines) + 0.16
        ax.add_patch(FancyBboxPatch((x, y - h / 2), w, h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    fc="#e9f7ef" if active else "#f7f7f7",
                                    ec=color if active else "#aaaaaa", lw=1.2, zorder=2))
        for i, line in enumerate(lines):
            ax.text(x + w / 2, y + (len(lines) - 1) * 0.085 - i * 0.17, line, ha="center",
                    va="center", fontsize=FONT,
                    weight="bold" if i == 0 else "normal",
                    color="#333333" if active else "#888888", zorder=3)
        boxes[key] = (x, y - h / 2, w, h)
        return boxes[key]

    mid = POS["PREROUTING"][1]
    came_in = path.in_iface is not None or "PREROUTING" in on_path
    went_out = not path.dropped and (path.out_iface is not None or "POSTROUTING" in on_path)
    small("in", 0.15, mid, 1.75, ["packet in", path.in_iface or "(an interface)",
                                  "tcpdump sees it here:", "before any rule"], came_in,
          "#2b6ca3")
    small("route1", 4.55, mid, 1.6, ["routing", "decision", "local? or forward?"],
          came_in)
    small("out", 13.0, mid, 1.55, ["packet out", path.out_iface or "(an interface)",
                                   "tcpdump sees it here:", "after SNAT"], went_out,
          "#2b6ca3")
    up = POS["INPUT"][1]
    local_in = "INPUT" in on_path
    local_out = "OUTPUT" in on_path
    small("local", 6.7, up, 1.8, ["local process", "socket, docker-proxy",
                                  path.local or ""], local_in or local_out, "#6c3483")
    small("route2", 8.85, up, 1.5, ["routing", "(output)"], local_out)

    def centre(key: str, side: str) -> tuple[float, float]:
        x, y, w, h = boxes[key]
        return {"l": (x, y + h / 2), "r": (x + w, y + h / 2), "t": (x + w / 2, y + h),
                "b": (x + w / 2, y)}[side]

    # which links the packet used
    used: set[tuple[str, str]] = set()
    seq = ["in"] if came_in else []
    for hook in path.hooks():
        if hook == "PREROUTING":
            seq += ["PREROUTING", "route1"]
        elif hook == "INPUT":
            seq += ["INPUT", "local"]
        elif hook == "OUTPUT":
            seq += ["local", "route2", "OUTPUT"] if "local" not in seq else ["route2", "OUTPUT"]
        else:
            seq.append(hook)
    if went_out:
        seq.append("out")
    for a, b in zip(seq, seq[1:], strict=False):
        used.add((a, b))
    links = [("in", "r", "PREROUTING", "l"), ("PREROUTING", "r", "route1", "l"),
             ("route1", "r", "FORWARD", "l"), ("FORWARD", "r", "POSTROUTING", "l"),
             ("POSTROUTING", "r", "out", "l"), ("route1", "t", "INPUT", "b"),
             ("INPUT", "r", "local", "l"), ("local", "r", "route2", "l"),
             ("route2", "r", "OUTPUT", "l"), ("local", "r", "OUTPUT", "l"),
             ("OUTPUT", "b", "POSTROUTING", "t")]
    for a, sa, b, sb in links:
        if (a, b) == ("local", "OUTPUT"):
            continue  # drawn through route2
        active = (a, b) in used or (a, b) == ("route2", "OUTPUT") and ("route2", "OUTPUT") in used
        if (a, b) == ("local", "route2"):
            active = ("local", "route2") in used
        ax.add_patch(FancyArrowPatch(centre(a, sa), centre(b, sb), arrowstyle="-|>",
                                     mutation_scale=12, lw=2.6 if active else 1.0,
                                     color="#c0392b" if active else "#bbbbbb",
                                     zorder=4 if active else 1, shrinkA=1, shrinkB=1))
    if path.dropped and path.visits:
        last = path.visits[-1].hook
        x, y, w, h = boxes[last]
        ax.text(x + w / 2, y - 0.14, "packet dropped here", ha="center", va="top",
                fontsize=FONT + 0.5, weight="bold", color="#c0392b")
    # the rules that decided, under the map
    y = -0.15
    for line, is_nat in footer:
        ax.text(0.15, y, line, fontsize=FONT, va="top", family="DejaVu Sans Mono",
                **({"color": "#b9770e", "weight": "bold"} if is_nat else {}))
        y -= 0.19
    fig.netlab_hook_path = path
    return fig
