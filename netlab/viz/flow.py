"""``draw_flow(capture, stream)`` — one conversation as a sequence diagram across its hops (lesson 6).

Like Wireshark's Flow Graph, but across interfaces: the columns are the two
endpoints and the interfaces the conversation crossed in between (in the order
the first packet crossed them; an interface crossed twice, as in a hairpin, has a
column per crossing), each row is one packet, drawn as arrows from
column to column through the hops where it was captured.  Copies of the same
packet at different hops are found with the capture's links (accepted, or
proposed by netlab from IP ID / TCP sequence numbers / the conntrack tuple), so
a DNAT between ``enp0s8`` and ``docker0`` shows as a red note at the hop where
the addresses changed.  Tags written on a packet (yours, or ``expert()``'s) are
printed at the end of its row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from netlab.capture.fast import P_ICMP, P_TCP, P_UDP
from netlab.errors import CaptureError
from netlab.packet import int_to_flags

if TYPE_CHECKING:  # pragma: no cover
    from netlab.capture import Capture

ROW = 0.42  # inches per packet row (one line of label)
LINE = 0.15  # inches per extra line of a NAT note in a row
FONT = 7.5  # pt: every small label (~10.5 px at 100 dpi: readable at 100 % zoom)
HEAD_FONT = 8.5  # pt: column titles
CHAR_IN = 0.068  # inches per character of a FONT label (digits, the widest)
HEAD_CHAR_IN = 0.075  # inches per character of a HEAD_FONT column title
FIT_IN = 12.0  # the widest figure a 1,400-px JupyterLab window shows unscaled at 100 dpi
COL = 2.5  # inches between columns, at most
MIN_COL = 1.05  # ... and at least (a flow of many hops gets narrow, wrapped labels)
TOP = 1.0
LEFT = 1.3
RIGHT = 1.7  # room for the tags after the server's column
NAT_COLOUR = "#c62828"
FWD_COLOUR = "#1f4e9c"
REV_COLOUR = "#2e7d32"
ERR_COLOUR = "#e65100"


def _endpoint(cap: Capture, i: int, side: str) -> tuple[str, int]:
    cat = cap._address_categorical(side)
    code = int(cat.codes[i])
    ip = str(cat.categories[code]) if code >= 0 else "?"
    port = int((cap._cols.sport if side == "src" else cap._cols.dport)[i])
    return ip, port


def _ep_text(ep: tuple[str, int]) -> str:
    return f"{ep[0]}:{ep[1]}" if ep[1] >= 0 else ep[0]


def _conversation(cap: Capture, i: int) -> list[int]:
    """Packet indexes (0-based) with the same endpoints (either way) on the same interface."""
    import numpy as np

    c = cap._cols
    a, b = _endpoint(cap, i, "src"), _endpoint(cap, i, "dst")
    same_if = cap._raw.ifaces == cap._raw.ifaces[i]
    cand = np.flatnonzero(same_if & (c.proto == c.proto[i]))
    out = []
    for k in cand.tolist():
        pair = (_endpoint(cap, k, "src"), _endpoint(cap, k, "dst"))
        if pair in ((a, b), (b, a)):
            if c.proto[i] == P_ICMP and c.icmp_id[i] >= 0 and c.icmp_id[k] != c.icmp_id[i]:
                continue
            out.append(k)
    return out


def flow_packets(cap: Capture, packet: int) -> list[list[int]]:
    """The conversation of ``packet`` at every hop, grouped into logical packets: each
    inner list holds the packet numbers of one packet's copies, in time order."""
    n = cap._check(packet)
    neighbours: dict[int, set[int]] = defaultdict(set)
    props = cap.propose_links()
    for a, b in zip(props["a"].tolist(), props["b"].tolist(), strict=True):
        neighbours[a - 1].add(b - 1)
        neighbours[b - 1].add(a - 1)
    for number, ann in cap.annotations.items():
        for other in ann.links:
            neighbours[number - 1].add(other - 1)
            neighbours[other - 1].add(number - 1)
    members: set[int] = set()
    done_conv: set[tuple] = set()
    todo = [n - 1]
    while todo:
        i = todo.pop()
        if i in members:
            continue
        key = (int(cap._raw.ifaces[i]), frozenset((_endpoint(cap, i, "src"), _endpoint(cap, i, "dst"))))
        if key not in done_conv:
            done_conv.add(key)
            todo.extend(k for k in _conversation(cap, i) if k not in members)
        members.add(i)
        todo.extend(k for k in neighbours.get(i, ()) if k not in members)
    members |= _errors_about(cap, members)
    # logical packets: connected components of the links among members
    seen: set[int] = set()
    groups = []
    for i in sorted(members, key=lambda k: (int(cap._raw.times_ns[k]), k)):
        if i in seen:
            continue
        comp, stack = [], [i]
        while stack:
            k = stack.pop()
            if k in seen or k not in members:
                continue
            seen.add(k)
            comp.append(k)
            stack.extend(neighbours.get(k, ()))
        groups.append(sorted(comp, key=lambda k: (int(cap._raw.times_ns[k]), k)))
    return [[k + 1 for k in g] for g in groups]


def _errors_about(cap: Capture, members: set[int]) -> set[int]:
    """ICMP errors (unreachable, time exceeded) quoting one of ``members`` as it was at the
    error's hop (conntrack rewrites the quoted header too, so every copy matches)."""
    import numpy as np

    c = cap._cols
    errors = np.flatnonzero((c.proto == P_ICMP) & (c.q_src >= 0))
    if not len(errors) or not members:
        return set()

    def key(i: int) -> tuple[int, ...]:
        ports = int(c.proto[i]) in (P_TCP, P_UDP)
        return (int(c.v4src[i]), int(c.sport[i]) if ports else -1, int(c.v4dst[i]),
                int(c.dport[i]) if ports else -1, int(c.ipproto[i]), int(c.ip_id[i]))

    wanted = {key(i) for i in members if int(c.proto[i]) != P_ICMP or c.q_src[i] < 0}
    return {int(e) for e in errors.tolist()
            if (int(c.q_src[e]), int(c.q_sport[e]), int(c.q_dst[e]), int(c.q_dport[e]),
                int(c.q_proto[e]), int(c.q_ipid[e])) in wanted}


def _is_error(cap: Capture, i: int) -> bool:
    return int(cap._cols.proto[i]) == P_ICMP and int(cap._cols.q_src[i]) >= 0


def _label(cap: Capture, i: int) -> str:
    c = cap._cols
    p = int(c.proto[i])
    if p == P_TCP:
        text = f"[{int_to_flags(int(c.flags[i]))}]"
        summary = str(cap.df["summary"].iat[i])
        tail = summary.split("] ", 1)[1] if "] " in summary else ""
        return f"{text} {tail}".strip() if tail else text
    if p == P_UDP:
        return f"UDP len={int(c.payload_len[i])}"
    if p == P_ICMP:
        text = {8: "ping request", 0: "ping reply", 3: "unreachable", 11: "time exceeded"}.get(
            int(c.icmp_type[i]), f"ICMP type {int(c.icmp_type[i])}")
        if _is_error(cap, i):
            text += f" from {_endpoint(cap, i, 'src')[0]}"
        return text
    return str(cap.df["summary"].iat[i])[:30]


def draw_flow(capture: Capture, stream: int | None = None, *, max_packets: int = 40,
              title: str | None = None) -> Any:
    """A matplotlib Figure: the conversation of packet ``stream`` (default: the first TCP,
    UDP or ICMP packet) drawn across the interfaces it crossed, NAT rewrites in red."""
    import numpy as np

    from netlab.viz.figure import new_figure

    cap = capture
    if stream is None:
        cand = np.flatnonzero(np.isin(cap._cols.proto, (P_TCP, P_UDP, P_ICMP)))
        if not len(cand):
            raise CaptureError("this capture has no TCP, UDP or ICMP packet to draw a flow of")
        stream = int(cand[0]) + 1
    n = cap._check(stream)
    if int(cap._cols.proto[n - 1]) not in (P_TCP, P_UDP, P_ICMP):
        raise CaptureError(f"packet {n} is not TCP, UDP or ICMP: pick a packet of a "
                           "conversation (filter `tcp or udp or icmp`)")
    every = flow_packets(cap, n)
    groups = every[:max_packets]
    names = cap.interface_names()
    ifaces = cap._raw.ifaces
    first = groups[0]
    client = _endpoint(cap, first[0] - 1, "src")
    server = _endpoint(cap, first[-1] - 1, "dst")
    # direction of each logical packet, and interface order along the forward direction
    client_of: dict[int, tuple[str, int]] = {}
    position: dict[tuple[str, int], list[float]] = defaultdict(list)
    directions = []
    errors = [_is_error(cap, g[0] - 1) for g in groups]
    for g, err in zip(groups, errors, strict=True):
        if err:  # an ICMP error travels back to whoever sent the packet it quotes
            i = g[0] - 1
            quoted = (_quoted_src(cap, i), int(cap._cols.q_sport[i]))
            known = client_of.get(int(ifaces[i]))
            directions.append(known is not None and quoted[0] != known[0])
            continue
        forward = True
        for num in g:
            known = client_of.get(int(ifaces[num - 1]))
            if known is not None:
                forward = _endpoint(cap, num - 1, "src") == known
                break
        for num in g:  # the client's end of the tuple as this interface sees it
            client_of.setdefault(int(ifaces[num - 1]),
                                 _endpoint(cap, num - 1, "src" if forward else "dst"))
        directions.append(forward)
        for k, key in enumerate(_visits(g, forward, names, ifaces)):
            rel = (k + 1) / (len(g) + 1)
            position[key].append(rel if forward else 1 - rel)
    for g, err, forward in zip(groups, errors, directions, strict=True):
        for k, key in enumerate(_visits(g, forward, names, ifaces)):  # only an error crossed it
            if err and key not in position:
                position[key].append((k + 1) / (len(g) + 1) if forward else 1 - (k + 1) / (len(g) + 1))
    # a packet an ICMP error (not from its destination) reports dead stops at its last hop
    dies: dict[int, str] = {}
    for g, err in zip(groups, errors, strict=True):
        if not err:
            continue
        i = g[0] - 1
        c = cap._cols
        if _endpoint(cap, i, "src")[0] == _quoted_dst(cap, i):
            continue  # the destination itself answered: the packet got there
        for r, other in enumerate(groups):
            if not errors[r] and any(
                    int(c.ip_id[n - 1]) == int(c.q_ipid[i]) and int(c.v4src[n - 1]) == int(c.q_src[i])
                    for n in other):
                dies[r] = _label(cap, i)
    columns = sorted(position, key=lambda key: (float(np.mean(position[key])), key))
    titles = {key: key[0] if key[1] == 1 else f"{key[0]} ({key[1]})" for key in columns}
    cols = [_ep_text(client), *titles.values(), _ep_text(server)]
    # the figure fits the notebook's cell at 100 dpi, so nothing is scaled below FONT:
    # columns share the width, and labels and NAT notes wrap to their column
    col = min(COL, max(MIN_COL, (FIT_IN - LEFT - RIGHT) / (len(columns) + 1)))
    chars = max(12, int((col - 0.12) / CHAR_IN))
    notes = [[(k, _wrap_note(text, chars)) for k, text in _nat_notes(cap, g)] for g in groups]
    label_lines = max([_wrap_label(_label(cap, g[0] - 1), chars).count("\n") + 1 for g in groups] + [1])
    lines = max([text.count("\n") + 1 for per in notes for _, text in per] + [label_lines])
    row_h = ROW + LINE * (lines - 1) + (0.1 if lines > 1 else 0)
    stagger = max([len(t) for t in titles.values()] + [0]) * HEAD_CHAR_IN > col - 0.1
    x_of = {name: LEFT + col * (k + 1) for k, name in enumerate(columns)}
    x_client, x_server = LEFT, LEFT + col * (len(columns) + 1)
    width = x_server + RIGHT
    height = TOP + (0.3 if stagger else 0) + row_h * len(groups) + 0.45
    fig, ax = new_figure(width, height)
    y_top = height - 0.35
    shown = (f" — the first {len(groups)} of {len(every)} packets (max_packets)"
             if len(every) > len(groups) else "")
    ax.text(width / 2, y_top, title or f"Flow of packet {n}'s conversation across "
            f"{len(columns)} capture point(s){shown}", ha="center", va="center", fontsize=10,
            weight="bold", wrap=True)
    heads = [(x_client, f"client\n{cols[0]}"), *[(x_of[c], titles[c]) for c in columns],
             (x_server, f"server\n{cols[-1]}")]
    y_head = height - TOP + 0.25
    y_bottom = 0.3
    for k, (x, text) in enumerate(heads):  # titles too wide for a column alternate in height
        y = y_head - (0.3 if stagger and k % 2 else 0)
        ax.text(x, y, text, ha="center", va="center", fontsize=HEAD_FONT,
                bbox=dict(boxstyle="round", fc="#eeeeee", ec="#999999"))
        ax.plot([x, x], [y_bottom, y - 0.2], color="#aaaaaa", lw=1, ls="--", zorder=1)
    y_rows = height - TOP - (0.3 if stagger else 0)
    for row, (g, forward, err) in enumerate(zip(groups, directions, errors, strict=True)):
        y = y_rows - row_h * (row + 0.6)
        xs = [x_of[key] for key in _visits(g, forward, names, ifaces)]
        start, end = (x_client, x_server) if forward else (x_server, x_client)
        if err and _endpoint(cap, g[0] - 1, "src")[0] != _quoted_dst(cap, g[0] - 1):
            start = xs[0] - 0.35 if forward else xs[0] + 0.35  # made by a hop on the way
        path = [start, *xs, end]
        if row in dies:  # no copy past the last hop: the packet died there
            path = [start, *xs, xs[-1] + (0.45 if forward else -0.45)]
        colour = ERR_COLOUR if err else FWD_COLOUR if forward else REV_COLOUR
        for a, b in zip(path[:-1], path[1:], strict=True):
            if a == b:
                continue
            ax.annotate("", xy=(b, y), xytext=(a, y),
                        arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.2), zorder=2)
        if row in dies:
            ax.plot([path[-1]], [y], "x", ms=8, mew=2, color=NAT_COLOUR, zorder=4)
            ax.text(path[-1] + (0.12 if forward else -0.12), y, "dropped",
                    ha="left" if forward else "right", va="center", fontsize=FONT,
                    color=NAT_COLOUR)
        i0 = g[0] - 1
        t = float(cap._raw.times_ns[i0] - cap._raw.times_ns[first[0] - 1]) / 1e9
        ax.text(0.08, y, f"{t * 1000:8.3f} ms", ha="left", va="center", fontsize=FONT,
                family="monospace", color="#555555")
        label = _label(cap, i0)
        mid = (path[0] + path[1]) / 2 if len(path) > 1 else path[0]
        ax.text(mid, y + 0.07, _wrap_label(label, chars), ha="center", va="bottom",
                fontsize=FONT, color=colour, linespacing=1.1)
        tags = list(dict.fromkeys(t for num in g for t in
                                  (cap.annotations[num].tags if num in cap.annotations else [])))
        if tags:  # what the learner (or expert()) wrote on this packet
            ax.text(x_server + 0.12, y, _shorten(", ".join(tags), int((RIGHT - 0.2) / CHAR_IN)),
                    ha="left", va="center", fontsize=FONT, color="#8d6e00", style="italic")
        for num, x in zip(g, xs, strict=True):
            ax.plot([x], [y], "o", ms=4, color=colour, zorder=3)
            ax.text(x + 0.05, y - 0.06, f"#{num}", ha="left", va="top", fontsize=FONT,
                    color="#333333")
        for k, text in notes[row]:  # the rewrite happened between hops k-1 and k
            ax.text((xs[k - 1] + xs[k]) / 2, y + 0.07, text, ha="center", va="bottom",
                    fontsize=FONT, color=NAT_COLOUR, weight="bold", linespacing=1.1,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec=NAT_COLOUR, lw=0.6))
    return fig


def _shorten(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters, with an ellipsis when cut."""
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _wrap_label(text: str, chars: int) -> str:
    """A packet's label on at most two lines of ``chars`` (cut with an ellipsis past that)."""
    import textwrap

    return "\n".join(textwrap.wrap(text, chars, max_lines=2, placeholder="…")) or text


def _wrap_note(note: str, chars: int) -> str:
    """A NAT note (``NAT: dst A→B``, one rewrite per line) wrapped to ``chars`` per line:
    broken after the arrow, then after the kind; removing the line breaks gives it back."""
    out = []
    for k, line in enumerate(note.split("\n")):
        head = "NAT: " if k == 0 else ""
        body = line.removeprefix("NAT: ")
        kind, _, change = body.partition(" ")
        before, arrow, after = change.partition("→")
        if len(head + body) <= chars:
            out.append(head + body)
        elif len(f"{head}{kind} {before}{arrow}") <= chars:
            out += [f"{head}{kind} {before}{arrow}", after]
        else:
            out += [f"{head}{kind}", f"{before}{arrow}", after]
    return "\n".join(out)


def _nat_notes(cap: Capture, group: list[int]) -> list[tuple[int, str]]:
    """(index of the hop after the rewrite, note) for each NAT rewrite along one packet."""
    out = []
    prev = None
    for k, num in enumerate(group):
        tup = (_endpoint(cap, num - 1, "src"), _endpoint(cap, num - 1, "dst"))
        if prev is not None and tup != prev:
            changed = []
            if tup[1] != prev[1]:
                changed.append(f"dst {_ep_text(prev[1])}→{_ep_text(tup[1])}")
            if tup[0] != prev[0]:
                changed.append(f"src {_ep_text(prev[0])}→{_ep_text(tup[0])}")
            out.append((k, "NAT: " + "\n".join(changed)))
        prev = tup
    return out


def _visits(group: list[int], forward: bool, names: list[str], ifaces: Any) -> list[tuple[str, int]]:
    """The column of each copy of one packet: (interface, how many times the packet had been
    there), counted from the client's side — a hairpin crosses the same veth twice."""
    order = group if forward else list(reversed(group))
    seen: dict[str, int] = defaultdict(int)
    key_of: dict[int, tuple[str, int]] = {}
    for num in order:
        name = names[int(ifaces[num - 1])]
        seen[name] += 1
        key_of[num] = (name, seen[name])
    return [key_of[num] for num in group]


def _quoted_src(cap: Capture, i: int) -> str:
    from netlab.capture.fast import ipv4_text

    return ipv4_text(cap._cols.q_src[i:i + 1])[0]


def _quoted_dst(cap: Capture, i: int) -> str:
    from netlab.capture.fast import ipv4_text

    return ipv4_text(cap._cols.q_dst[i:i + 1])[0]
