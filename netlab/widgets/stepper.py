"""Step through a probe's journey one event at a time (lesson 10).

For the current event the stepper shows the diagram with the packet's position,
the packet's header fields with the ones that just changed highlighted (a DNAT
changes ``dst``, a routed hop changes the MACs and ``ttl``), the rule that
matched (``table:chain:index`` and its text), the route chosen and the conntrack
entry.  Buttons: first, back, forward and play (``ipywidgets.Play``); no keyboard
needed, so it works on Binder.  Tests drive it with ``.forward.click()`` or by
setting ``.play.value``.
"""

from __future__ import annotations

import html
from typing import Any

FIELDS = ("src_mac", "dst_mac", "proto", "src", "sport", "dst", "dport", "ttl", "flags",
          "icmp_type", "seq", "ack", "arp_op", "arp_sender_ip", "arp_sender_mac",
          "arp_target_ip")


NOT_SET = "not set yet (chosen after the route lookup and ARP)"


def frame_fields(frame: Any) -> dict[str, Any]:
    """The header fields the stepper shows (those that apply to this packet)."""
    if frame is None:
        return {}
    out = {}
    for name in FIELDS:
        value = getattr(frame, name, None)
        if value is not None:
            out[name] = value
    return out


def changed_fields(before: Any, after: Any) -> set[str]:
    """Names of the fields whose value differs between two frames (empty for the first)."""
    if before is None or after is None:
        return set()
    a, b = frame_fields(before), frame_fields(after)
    return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}


class JourneyStepper:
    """Forward / back / play through ``journey.steps``; state is in attributes."""

    def __init__(self, journey: Any, on: Any = None, packet: int | None | str = None,
                 draw: bool = True) -> None:
        import ipywidgets as w

        if not getattr(journey, "steps", None):
            from netlab.errors import NetlabError

            raise NetlabError("this journey has no events to step through; run a probe "
                              "first, e.g. journey = net.probe('http', src='client', "
                              "dst='192.168.56.38', dport=80)")
        if packet == "first":
            from netlab.viz.journey import first_packet_id

            packet = first_packet_id(journey)
        self.journey = journey
        self.on = on
        self.packet = packet  # None: every event of the probe
        self.draw = draw
        self.events = [e for e in journey.steps
                       if packet is None or e.packet_id in (packet, None)]
        if not any(e.packet_id == packet for e in self.events) and packet is not None:
            from netlab.errors import NetlabError

            ids = sorted({e.packet_id for e in journey.steps if e.packet_id is not None})
            raise NetlabError(f"this journey has no packet {packet!r}; its packets are "
                              f"{ids} (or pass packet=None for every event)")
        self.index = 0
        self._png: dict[int, bytes] = {}
        n = len(self.events)
        self.first = w.Button(description="⏮ first", layout=w.Layout(width="7em"))
        self.back = w.Button(description="◀ back", layout=w.Layout(width="7em"))
        self.forward = w.Button(description="forward ▶", layout=w.Layout(width="7em"))
        # play and slider count events from 1, as the header does ("event 3 of 40")
        self.play = w.Play(min=1, max=n, step=1, interval=900, value=1, description="play")
        self.slider = w.IntSlider(min=1, max=n, value=1, description="event",
                                  continuous_update=False)
        w.jslink((self.play, "value"), (self.slider, "value"))
        self.first.on_click(lambda _b: self.go(0))
        self.back.on_click(lambda _b: self.go(self.index - 1))
        self.forward.on_click(lambda _b: self.go(self.index + 1))
        self.play.observe(lambda ch: self.go(ch["new"] - 1), names="value")
        self.slider.observe(lambda ch: self.go(ch["new"] - 1), names="value")
        self.position = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(width="100%"))
        self.fields_html = w.HTML()
        self.rule_html = w.HTML()
        self.route_html = w.HTML()
        self.conntrack_html = w.HTML()
        details = w.VBox([self.fields_html, self.rule_html, self.route_html,
                          self.conntrack_html])
        self.widget = w.VBox([
            w.HBox([self.first, self.back, self.forward, self.play, self.slider]),
            self.position, self.image if draw else w.HTML(""), details])
        self.go(0)

    # ------------------------------------------------------------ state
    @property
    def event(self) -> Any:
        return self.events[self.index]

    def _frame_at(self, i: int) -> Any:
        """The frame of event ``i``'s packet as it is at event ``i`` (its last recorded state)."""
        pid = self.events[i].packet_id
        for e in reversed(self.events[: i + 1]):
            if e.frame is not None and (pid is None or e.packet_id == pid):
                return e.frame
        return None

    def _on_wire(self, i: int) -> bool:
        """Whether event ``i``'s packet has crossed an interface yet: before that its MACs are
        not chosen (the kernel fills them in after the route lookup and ARP)."""
        e = self.events[i]
        frame = self._frame_at(i)
        if frame is None:
            return False
        if frame.proto == "arp" or e.packet_id is None:
            return True
        return any(x.kind == "seen" and x.packet_id == e.packet_id for x in self.events[: i + 1])

    @property
    def frame(self) -> Any:
        """The packet as it is at the current event (the last frame recorded so far)."""
        return self._frame_at(self.index)

    @property
    def fields(self) -> dict[str, Any]:
        """The packet's header fields at the current event; its MACs as they are at this hop
        (``NOT_SET`` while it has not reached a wire yet)."""
        out = frame_fields(self.frame)
        if out and not self._on_wire(self.index):
            for k in ("src_mac", "dst_mac"):
                if k in out:
                    out[k] = NOT_SET
        return out

    @property
    def changed(self) -> set[str]:
        """Fields that the current event changed (compared with the packet before it)."""
        e = self.event
        if e.frame is None or self.index == 0:
            return set()
        earlier = [i for i in range(self.index) if self.events[i].frame is not None
                   and (e.packet_id is None or self.events[i].packet_id == e.packet_id)]
        if not earlier:
            return set()  # this packet's first appearance
        before = self._frame_at(earlier[-1])
        out = changed_fields(before, e.frame)
        if not self._on_wire(earlier[-1]):
            out -= {"src_mac", "dst_mac"}  # the MACs were chosen, not rewritten
        return out

    def _last(self, attr: str) -> Any:
        for e in reversed(self.events[: self.index + 1]):
            value = getattr(e, attr, None)
            if value:
                return e
        return None

    @property
    def rule(self) -> tuple[str, str] | None:
        """``(position, text)`` of the rule the current event names, if any."""
        e = self.event
        if e.rule:
            text = e.rule_text or next((x.rule_text for x in self.journey.steps
                                        if x.rule == e.rule and x.rule_text), "")
            return (e.rule, text)
        decisive = getattr(e.trace, "decisive", None) if e.trace is not None else None
        if decisive is not None and getattr(decisive, "position", None):
            return (decisive.position, getattr(decisive, "rule_text", "") or "")
        return None

    @property
    def route(self) -> str | None:
        """The route the current event's node chose for this packet (up to this event); None
        while that node has not routed it (e.g. at its PREROUTING DNAT)."""
        cur = self.event
        for e in reversed(self.events[: self.index + 1]):
            if e.route and e.node == cur.node and (cur.packet_id is None
                                                   or e.packet_id in (cur.packet_id, None)):
                return e.route
        return None

    @property
    def conntrack_entry(self) -> str | None:
        """The conntrack entry most recently created or matched."""
        e = self._last("conntrack")
        return e.conntrack if e is not None else None

    # ------------------------------------------------------------ moving
    def go(self, i: int) -> None:
        """Show event ``i`` (clamped to the journey)."""
        i = max(0, min(int(i), len(self.events) - 1))
        self.index = i
        if self.play.value != i + 1:
            self.play.value = i + 1
        if self.slider.value != i + 1:
            self.slider.value = i + 1
        self._render()

    def figure(self) -> Any:
        """The diagram for the current event: the journey drawn with the packet's hop
        ringed (``fig.netlab_current_hop``) and the hops still to come faded."""
        from netlab.viz.journey import draw_journey

        pkt = self.event.packet_id if self.event.packet_id is not None else "first"
        return draw_journey(self.journey, self.on, packet=pkt, current=self.event.seq)

    def png(self) -> bytes:
        """The diagram for the current event as PNG (cached per event)."""
        if self.index not in self._png:
            from netlab.viz.figure import figure_png

            self._png[self.index] = figure_png(self.figure(), dpi=80)
        return self._png[self.index]

    def _render(self) -> None:
        e = self.event
        where = f"{e.node}:{e.iface}" if e.iface else e.node
        hook = f" [{e.hook}]" if e.hook else ""
        self.position.value = (
            f"<b>event {self.index + 1} of {len(self.events)}</b> — {html.escape(e.kind)} "
            f"at <code>{html.escape(where)}</code>{html.escape(hook)}: "
            f"{html.escape(e.detail or '')}")
        if self.draw:
            self.image.value = self.png()
        changed = self.changed
        rows = "".join(
            f"<tr style='background:{'#f9e79f' if k in changed else 'transparent'}'>"
            f"<td><code>{k}</code></td><td><code>{html.escape(str(v))}</code></td>"
            f"<td>{'changed here' if k in changed else ''}</td></tr>"
            for k, v in self.fields.items())
        self.fields_html.value = ("<b>packet</b><table>" + rows + "</table>") if rows else (
            "<i>no packet recorded yet at this event</i>")
        rule = self.rule
        self.rule_html.value = (
            f"<b>rule</b> <code>{html.escape(rule[0])}</code> "
            f"<code>{html.escape(rule[1])}</code>" if rule else "<b>rule</b> —")
        if e.verdict:
            self.rule_html.value += f" → <b>{html.escape(e.verdict)}</b>"
        route = self.route
        self.route_html.value = (
            f"<b>route</b> in {html.escape(e.node)}: <code>{html.escape(route)}</code>" if route
            else f"<b>route</b> — {html.escape(e.node)} has not routed this packet yet")
        ct = self.conntrack_entry
        self.conntrack_html.value = (f"<b>conntrack</b> <code>{html.escape(ct)}</code>"
                                     if ct else "<b>conntrack</b> —")

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
