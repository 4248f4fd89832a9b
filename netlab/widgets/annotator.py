"""``CaptureAnnotator(capture)`` — page, filter, colour, dissect and annotate a capture (lesson 11).

A paged packet table (an HTML table of one page, so 200,000 packets page as
fast as 20), a display-filter box with an error line, colouring rules, the
selected packet dissected by scapy field by field with a hex dump that
highlights the chosen field's bytes, comment and tags with a *Save* button
(it calls :meth:`Capture.annotate`, which saves the sidecar), the links netlab
proposes to the same packet at other hops, and a download of the annotated
pcapng and its sidecar.  Every control is an attribute, so tests drive it by
setting ``.value`` and calling ``.click()``.
"""

from __future__ import annotations

import base64
import html
import os
from typing import TYPE_CHECKING, Any

from netlab.errors import CaptureError, FilterError
from netlab.extras import MissingExtra

if TYPE_CHECKING:  # pragma: no cover
    from netlab.capture import Capture

TABLE_COLUMNS = ("time", "interface", "src", "dst", "protocol", "sport", "dport", "flags",
                 "length", "summary", "comment", "tags")
HIGHLIGHT = "#ffd54f"
DATA_URI_LIMIT = 20_000_000  # bytes; bigger downloads are offered as files only


def _esc(value: Any) -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, tuple):
        return html.escape(", ".join(value))
    return html.escape(str(value))


def field_ranges(pkt: Any) -> list[tuple[str, str, str, int, int]]:
    """(layer, field, value as scapy shows it, first byte, end byte) for each field of a
    dissected scapy packet, byte offsets from the start of the packet."""
    from netlab.extras import need

    need("scapy.packet", "the field view of the annotator")
    from scapy.packet import NoPayload

    out: list[tuple[str, str, str, int, int]] = []
    base = 0
    layer = pkt
    while layer is not None and not isinstance(layer, NoPayload):
        name = layer.name
        try:
            total = len(bytes(layer))
            hdr = total - len(bytes(layer.payload))
        except Exception:  # noqa: BLE001 - a layer scapy cannot rebuild: show it whole
            hdr = 0
        built: Any = b""
        for fld in layer.fields_desc:
            try:
                val = layer.getfieldval(fld.name)
                shown = fld.i2repr(layer, val)
                if isinstance(val, bytes) and 0 < len(val) <= 16 and not val.isascii():
                    used = getattr(layer, "lladdrlen", None) or len(val)  # cooked captures
                    shown = val[:used].hex(":")  # an address scapy keeps as bytes
                if isinstance(built, tuple):
                    start_bit = len(built[0]) * 8 + built[1]
                else:
                    start_bit = len(built) * 8
                built = fld.addfield(layer, built, val)
                end_bit = (len(built[0]) * 8 + built[1]) if isinstance(built, tuple) \
                    else len(built) * 8
                start, end = start_bit // 8, -(-end_bit // 8)
            except Exception:  # noqa: BLE001 - fall back to the whole header
                shown, start, end = "?", 0, hdr
            out.append((name, fld.name, str(shown), base + start, base + max(end, start)))
        base += max(hdr, 0)
        layer = layer.payload
    return out


def hexdump_html(data: bytes, start: int = -1, end: int = -1) -> str:
    """A hex dump (offset, 16 bytes, ASCII) with bytes ``start``..``end`` highlighted."""
    lines = []
    for row in range(0, len(data), 16):
        chunk = data[row:row + 16]
        hexes, chars = [], []
        for k, b in enumerate(chunk):
            i = row + k
            h, c = f"{b:02x}", html.escape(chr(b) if 32 <= b < 127 else ".")
            if start <= i < end:
                h = f'<span style="background:{HIGHLIGHT}">{h}</span>'
                c = f'<span style="background:{HIGHLIGHT}">{c}</span>'
            hexes.append(h)
            chars.append(c)
        pad = "   " * (16 - len(chunk))
        lines.append(f"{row:04x}  {' '.join(hexes)}{pad}  {''.join(chars)}")
    return "<pre style='font-size:11px;line-height:1.25'>" + "\n".join(lines) + "</pre>"


class CaptureAnnotator:
    """The annotator; display it in a notebook cell (``CaptureAnnotator(cap)``)."""

    def __init__(self, capture: Capture, page_size: int = 50, download_dir: str | None = None) -> None:
        import ipywidgets as w
        import numpy as np

        self.capture = capture
        self.page_size = int(page_size)
        self.download_dir = download_dir
        self._numbers = np.arange(1, len(capture) + 1)
        self._colour_of: np.ndarray | None = None
        self._fields: list[tuple[str, str, str, int, int]] = []
        self._missing = ""  # the install hint when scapy (the field view) is missing
        self._df = capture.df
        self._t0 = float(self._df["time"].iloc[0]) if len(capture) else 0.0
        self._quiet = False  # True while render() refills the page's packet list

        self.filter_text = w.Text(placeholder="display filter, e.g. tcp.port == 80 and iface == docker0",
                                  continuous_update=False, layout=w.Layout(width="40em"))
        self.filter_button = w.Button(description="Apply", icon="filter")
        self.filter_error = w.HTML("")
        self.page = w.BoundedIntText(value=1, min=1, max=self._pages(), description="Page",
                                     layout=w.Layout(width="12em"))
        self.page_label = w.Label("")
        self.prev_button = w.Button(description="◀", layout=w.Layout(width="3em"))
        self.next_button = w.Button(description="▶", layout=w.Layout(width="3em"))
        self.table = w.HTML("")
        self.selected = w.BoundedIntText(value=0, min=0, max=len(capture), description="Packet",
                                         layout=w.Layout(width="12em"))
        self.on_page = w.Dropdown(options=[("— a packet of this page —", 0)], value=0,
                                  layout=w.Layout(width="40em"))
        self.layers = w.HTML("")
        self.field = w.Dropdown(options=[("— field —", None)], value=None, description="Field",
                                layout=w.Layout(width="40em"))
        self.hexdump = w.HTML("")
        self.comment = w.Textarea(placeholder="what happened to this packet, and where",
                                  layout=w.Layout(width="40em", height="4em"))
        self.tags = w.Text(placeholder="tags, comma-separated (syn, dnat, …)",
                           layout=w.Layout(width="40em"))
        self.save_button = w.Button(description="Save", button_style="primary", icon="save")
        self.status = w.HTML("")
        self.colour_filter = w.Text(placeholder="filter to colour, e.g. tcp.flags.syn == 1",
                                    layout=w.Layout(width="28em"))
        self.colour_pick = w.ColorPicker(value="#c8f7c5", concise=True)
        self.colour_button = w.Button(description="Add colour rule", icon="paint-brush")
        self.colour_clear = w.Button(description="Clear colours")
        self.colour_list = w.HTML("")
        self.link_choice = w.Dropdown(options=[("— no proposal —", None)], value=None,
                                      description="Proposed", layout=w.Layout(width="40em"))
        self.accept_link = w.Button(description="Accept link", icon="link")
        self.link_to = w.BoundedIntText(value=0, min=0, max=len(capture), description="Link to",
                                        layout=w.Layout(width="12em"))
        self.link_button = w.Button(description="Link")
        self.unlink_button = w.Button(description="Unlink")
        self.links_html = w.HTML("")
        self.download_button = w.Button(description="Download annotated pcapng", icon="download")
        self.download = w.HTML("")

        self.filter_text.observe(lambda _c: self.apply_filter(), "value")
        self.filter_button.on_click(lambda _b: self.apply_filter())
        self.page.observe(lambda _c: self.render(), "value")
        self.prev_button.on_click(lambda _b: self._step(-1))
        self.next_button.on_click(lambda _b: self._step(1))
        self.selected.observe(lambda _c: self.show_packet(), "value")
        self.on_page.observe(self._picked_on_page, "value")
        self.field.observe(lambda _c: self._render_fields(), "value")
        self.save_button.on_click(lambda _b: self.save())
        self.colour_button.on_click(lambda _b: self.add_colour())
        self.colour_clear.on_click(lambda _b: self.clear_colours())
        self.accept_link.on_click(lambda _b: self._link(self.link_choice.value))
        self.link_button.on_click(lambda _b: self._link(self.link_to.value))
        self.unlink_button.on_click(lambda _b: self._unlink(self.link_to.value))
        self.download_button.on_click(lambda _b: self.prepare_download())

        self.widget = w.VBox([
            w.HBox([self.filter_text, self.filter_button]), self.filter_error,
            w.HBox([self.prev_button, self.page, self.next_button, self.page_label]),
            self.table,
            w.HBox([self.colour_filter, self.colour_pick, self.colour_button, self.colour_clear]),
            self.colour_list,
            w.HBox([self.selected, self.on_page]),
            w.HBox([w.VBox([self.layers], layout=w.Layout(width="50%")),
                    w.VBox([self.field, self.hexdump], layout=w.Layout(width="50%"))]),
            self.comment, self.tags, w.HBox([self.save_button, self.status]),
            self.links_html, w.HBox([self.link_choice, self.accept_link]),
            w.HBox([self.link_to, self.link_button, self.unlink_button]),
            w.HBox([self.download_button]), self.download,
        ])
        self._colours_changed()
        self.render()

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _picked_on_page(self, change: dict[str, Any]) -> None:
        if not self._quiet and change["new"]:
            self.selected.value = change["new"]

    def _pages(self) -> int:
        return max(1, -(-len(self._numbers) // self.page_size))

    def _step(self, delta: int) -> None:
        self.page.value = min(max(1, self.page.value + delta), self._pages())

    @property
    def visible(self) -> list[int]:
        """Packet numbers on the current page."""
        start = (self.page.value - 1) * self.page_size
        return self._numbers[start:start + self.page_size].tolist()

    def render(self) -> None:
        """Draw the current page of the table."""
        rows = self.visible
        df = self._df if self.capture._df_version == self.capture._version else self.capture.df
        self._df = df
        sub = df.loc[rows, list(TABLE_COLUMNS)] if rows else df.iloc[0:0]
        colours = self._colour_of
        head = "".join(f"<th>{c}</th>" for c in ("no.", *TABLE_COLUMNS))
        body = []
        cols = {c: sub[c].tolist() for c in TABLE_COLUMNS}
        for k, n in enumerate(rows):
            style = ""
            if colours is not None and colours[n - 1] >= 0:
                style = f"background:{self.capture.colour_rules[colours[n - 1]][1]};"
            if n == self.selected.value:
                style += "font-weight:bold;outline:2px solid #333;"
            cells = [str(n), f"{cols['time'][k] - self._t0:.6f}"]
            cells += [_esc(cols[c][k]) for c in TABLE_COLUMNS[1:]]
            body.append(f'<tr style="{style}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        self.table.value = ("<div style='max-height:32em;overflow:auto'><table style='font-size:11px;"
                            "border-collapse:collapse;font-family:monospace'>"
                            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")
        summaries = cols["summary"]
        # options first, then the value (inside hold_trait_notifications the new value was
        # checked against the old page's options: TraitError); the observer stays quiet meanwhile
        self._quiet = True
        try:
            self.on_page.options = [("— a packet of this page —", 0)] + [
                (f"{n}: {str(summaries[k])[:70]}", n) for k, n in enumerate(rows)]
            self.on_page.value = self.selected.value if self.selected.value in rows else 0
        finally:
            self._quiet = False
        total = len(self._numbers)
        self.page_label.value = (f"of {self._pages()} — {total} of {len(self.capture)} packets shown"
                                 + (" (filtered)" if total != len(self.capture) else ""))

    # ------------------------------------------------------------------ filtering
    def apply_filter(self) -> None:
        """Keep the packets the filter box selects (an error leaves the table as it was)."""
        import numpy as np

        text = self.filter_text.value.strip()
        try:
            mask = self.capture.mask(text)
        except FilterError as exc:
            self.filter_error.value = f"<span style='color:#b00020'>⚠ {html.escape(str(exc))}</span>"
            return
        self.filter_error.value = ""
        self._numbers = np.flatnonzero(mask) + 1
        self.page.max = self._pages()
        if self.page.value != 1:
            self.page.value = 1  # renders
        else:
            self.render()

    # ------------------------------------------------------------------ colours
    def _colours_changed(self) -> None:
        import numpy as np

        rules = self.capture.colour_rules
        if not rules:
            self._colour_of = None
        else:
            out = np.full(len(self.capture), -1, dtype=np.int64)
            for k in range(len(rules) - 1, -1, -1):  # first matching rule wins
                try:
                    out[self.capture.mask(rules[k][0])] = k
                except FilterError:
                    continue
            self._colour_of = out
        self.colour_list.value = "".join(
            f"<span style='background:{html.escape(c)};padding:0 .5em;margin-right:.5em'>"
            f"{html.escape(f)}</span>" for f, c in rules)

    def add_colour(self) -> None:
        """Colour the packets of ``colour_filter`` with ``colour_pick``."""
        try:
            self.capture.colour(self.colour_filter.value.strip(), self.colour_pick.value)
        except FilterError as exc:
            self.filter_error.value = f"<span style='color:#b00020'>⚠ {html.escape(str(exc))}</span>"
            return
        self.filter_error.value = ""
        self._colours_changed()
        self.render()

    def clear_colours(self) -> None:
        for f, _ in list(self.capture.colour_rules):
            self.capture.remove_colour(f)
        self._colours_changed()
        self.render()

    # ------------------------------------------------------------------ one packet
    def show_packet(self) -> None:
        """Dissect the selected packet, fill the comment/tags boxes and the link proposals."""
        n = self.selected.value
        if not n:
            self.layers.value = self.hexdump.value = ""
            return
        self._missing = ""
        try:
            self._fields = field_ranges(self.capture.packet(n))
        except MissingExtra as exc:  # no scapy: comments, tags and the hex dump still work
            self._fields, self._missing = [], str(exc)
        self.field.options = [("— field —", None)] + [
            (f"{layer}.{name} = {shown}"[:90], k) for k, (layer, name, shown, _, _) in
            enumerate(self._fields)]
        self.field.value = None
        a = self.capture.annotations.get(n)
        self.comment.value = a.comment if a else ""
        self.tags.value = ", ".join(a.tags) if a else ""
        self.status.value = ""
        self._render_fields()
        self._render_links()
        self.render()

    def _render_fields(self) -> None:
        n = self.selected.value
        if not n:
            return
        chosen = self.field.value
        parts, current = [], None
        for k, (layer, name, shown, start, end) in enumerate(self._fields):
            if layer != current:
                if current is not None:
                    parts.append("</ul>")
                parts.append(f"<b>{html.escape(layer)}</b><ul style='margin:0'>")
                current = layer
            item = f"{html.escape(name)} = {html.escape(shown)} <small>[{start}:{end}]</small>"
            if k == chosen:
                item = f"<span style='background:{HIGHLIGHT}'>{item}</span>"
            parts.append(f"<li>{item}</li>")
        if current is not None:
            parts.append("</ul>")
        if self._missing:
            parts.append(f"<p>{html.escape(self._missing)}</p>")
        a = self.capture.annotations.get(n)
        if a and (a.hop or a.hook or a.rule):
            parts.append(f"<p><i>hop {html.escape(a.hop or '')} · {html.escape(a.hook or '')} · "
                         f"{html.escape(a.rule or '')}</i></p>")
        self.layers.value = "<div style='font-size:11px'>" + "".join(parts) + "</div>"
        start, end = (self._fields[chosen][3], self._fields[chosen][4]) if chosen is not None \
            else (-1, -1)
        self.hexdump.value = hexdump_html(self.capture.raw_bytes(n), start, end)

    # ------------------------------------------------------------------ annotating
    def save(self) -> None:
        """Write the comment and tags on the selected packet (``capture.annotate``)."""
        n = self.selected.value
        if not n:
            self.status.value = "Select a packet first (type its number in Packet)."
            return
        try:
            self.capture.annotate(n, comment=self.comment.value, tags=self.tags.value)
        except CaptureError as exc:
            self.status.value = f"<span style='color:#b00020'>{html.escape(str(exc))}</span>"
            return
        where = (f"saved to {html.escape(os.path.basename(self.capture.sidecar))}"
                 if self.capture.sidecar else
                 "kept in memory — export with to_pcapng or attach_sidecar to keep it on disk")
        if self.capture.sidecar_problem:
            where = html.escape(self.capture.sidecar_problem)
        if self.capture.save_note:  # merged with another notebook's notes: say what was kept
            where += f"<br>{html.escape(self.capture.save_note)}"
        self.status.value = f"packet {n}: {where}"
        self._colours_changed()
        self.render()

    def _render_links(self) -> None:
        n = self.selected.value
        props = self.capture.propose_links()
        mine = props[(props["a"] == n) | (props["b"] == n)] if len(props) else props
        options = [("— no proposal —", None)]
        for a, b, reason in zip(mine["a"].tolist(), mine["b"].tolist(), mine["reason"].tolist(),
                                strict=True):
            other = b if a == n else a
            options.append((f"#{other}: {reason}"[:160], other))
        self.link_choice.options = options
        self.link_choice.value = options[1][1] if len(options) > 1 else None
        ann = self.capture.annotations.get(n)
        linked = ", ".join(f"#{x}" for x in (ann.links if ann else [])) or "none yet"
        self.links_html.value = (f"<b>Same packet at other hops</b> — linked: {linked}; "
                                 f"{len(options) - 1} proposed by netlab")

    def _link(self, other: int | None) -> None:
        n = self.selected.value
        if not n or not other:
            self.status.value = "Select a packet and a packet to link it to."
            return
        try:
            self.capture.link(n, other)
        except CaptureError as exc:
            self.status.value = html.escape(str(exc))
            return
        self.status.value = f"linked #{n} and #{other}"
        self._render_links()

    def _unlink(self, other: int | None) -> None:
        n = self.selected.value
        if n and other:
            self.capture.unlink(n, other)
            self.status.value = f"unlinked #{n} and #{other}"
            self._render_links()

    # ------------------------------------------------------------------ download
    def prepare_download(self) -> list[str]:
        """Write the annotated pcapng and the sidecar to files and offer them as links."""
        folder = self.download_dir or (os.path.dirname(self.capture.path) if self.capture.path
                                       else os.getcwd())
        stem = os.path.splitext(os.path.basename(self.capture.path or "capture"))[0]
        pcap_path = os.path.join(folder, f"{stem}-annotated.pcapng")
        blob = self.capture.to_pcapng_bytes()
        from netlab.atomic import atomic_write_bytes, atomic_write_text

        atomic_write_bytes(pcap_path, blob)
        side_path = pcap_path + ".netlab.json"
        side = self.capture._sidecar()
        import hashlib

        side.digest = hashlib.sha256(blob).hexdigest()
        side.capture_file = os.path.basename(pcap_path)
        text = side.to_text()
        atomic_write_text(side_path, text)
        links = []
        for path, data, mime in ((pcap_path, blob, "application/vnd.tcpdump.pcap"),
                                 (side_path, text.encode(), "application/json")):
            name = html.escape(os.path.basename(path))
            if len(data) <= DATA_URI_LIMIT:
                uri = f"data:{mime};base64,{base64.b64encode(data).decode()}"
                links.append(f"<a download='{name}' href='{uri}'>⬇ {name}</a>")
            else:
                links.append(f"{name} (too big for a browser download: open it from the file "
                             f"browser at {html.escape(path)})")
        self.download.value = " · ".join(links) + f"<br><small>written to {html.escape(folder)}</small>"
        return [pcap_path, side_path]
