"""The :class:`Capture`: every packet seen, with the interface it was seen on, and what
a learner wrote on it.

A capture keeps the packets' bytes as they were read (one ``bytes`` object) and
decodes their headers for all packets at once (:mod:`netlab.capture.fast`);
``capture.df`` is the table lessons 10 and 11 read, ``capture.packet(n)`` the full
scapy dissection of one packet, made only when a learner opens it.  Annotations
(:mod:`netlab.capture.annotations`) are saved to a sidecar file after every
change and travel in pcapng as packet comments.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import warnings
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from netlab.atomic import temp_pattern
from netlab.capture.annotations import (
    COLOUR_PREFIX,
    Annotation,
    Sidecar,
    beside_path,
    clean_tags,
    file_id,
    lock_path,
    read_sidecar,
    save_merged,
    sidecar_lock,
    sidecar_path,
)
from netlab.capture.fast import (
    PROTOCOLS,
    address_columns,
    categorical,
    decode,
    mac_text,
    summaries,
)
from netlab.capture.pcapng import (
    EPB_INBOUND,
    EPB_OUTBOUND,
    LINKTYPE_ETHERNET,
    LINKTYPE_LINUX_SLL,
    LINKTYPE_LINUX_SLL2,
    Interface,
    RawCapture,
    read_capture_bytes,
    write_pcapng,
)
from netlab.errors import CaptureError
from netlab.packet import Frame, int_to_flags

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd


DIRECTIONS = {None: 0, "in": EPB_INBOUND, "inbound": EPB_INBOUND, "out": EPB_OUTBOUND,
              "outbound": EPB_OUTBOUND}
PACKET_OUTGOING = 4  # Linux packet type of a packet the host sent (linux/if_packet.h)



def _writable(text: object) -> None:
    """Refuse text a pcapng comment cannot hold (UTF-8): a lone surrogate, e.g. from bytes
    decoded with ``errors="surrogateescape"``; nothing is written on the packet then."""
    if isinstance(text, str):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CaptureError(f"character {exc.start + 1} of this note ({text[exc.start]!r}) is "
                               "half of a UTF-16 pair, which a pcapng comment (UTF-8) cannot "
                               "hold: retype that character") from None

class CaptureWarning(UserWarning):
    """A capture loaded only in part, or a sidecar that was not applied."""


class Capture:
    """Packets with the interface they were seen on; see the module docstring.

    Build one with :meth:`from_records` (what the simulator and lab do) or
    :func:`load_capture` (a pcap / pcapng file).
    """

    def __init__(self, raw: RawCapture, *, path: str | None = None, digest: str | None = None,
                 interface_names: dict[int, str] | None = None) -> None:
        self._raw = raw
        self.problem: CaptureError | None = raw.problem
        self.path = path
        self._split_cooked_interfaces(interface_names)
        self._cols = decode(raw)
        self._digest = digest
        self.annotations: dict[int, Annotation] = {}
        self.colour_rules: list[tuple[str, str]] = []
        self.sidecar: str | None = None
        self.sidecar_problem: str | None = None
        # what the sidecar held when this capture last read or wrote it (the merge's base)
        self._base: Sidecar | None = None
        self._base_id: tuple | None = None  # which version of the file that was (file_id)
        self.save_note: str | None = None  # what the last save merged from another notebook
        self._df: pd.DataFrame | None = None
        self._df_version = -1
        self._version = 0
        self._batch = 0
        self._dirty = False
        self._addr: tuple[Any, Any] | None = None
        self._links_cache: Any = None
        for number, texts in raw.comments.items():
            if 1 <= number <= len(self):
                self.annotations[number] = Annotation.from_comments(texts)
        for text in raw.section_comments:
            if text.startswith(COLOUR_PREFIX):
                import json

                # RecursionError: a crafted comment of deeply nested brackets
                with contextlib.suppress(ValueError, TypeError, RecursionError):
                    self.colour_rules = [(str(f), str(c)) for f, c in
                                         json.loads(text[len(COLOUR_PREFIX):])]

    # ------------------------------------------------------------------ building
    @classmethod
    def from_records(cls, records: Iterable[tuple]) -> Capture:
        """A capture from ``(time, netns, iface, bytes | Frame[, comment[, direction]])``
        records, in order; ``direction`` is ``"in"`` (received on iface) or ``"out"`` (sent
        on it), written to pcapng as ``epb_flags`` inbound / outbound."""
        import numpy as np

        interfaces: list[Interface] = []
        index: dict[tuple[str, str], int] = {}
        chunks: list[bytes] = []
        offs, caps, times, ifs = [], [], [], []
        comments: dict[int, list[str]] = {}
        flags: list[int] = []
        pos = 0
        for k, rec in enumerate(records, start=1):
            if not isinstance(rec, (tuple, list)) or len(rec) not in (4, 5, 6):
                raise CaptureError(f"record {k} should be (time, netns, iface, bytes or Frame"
                                   f"[, comment[, direction]]), got {rec!r:.80}")
            way = rec[5] if len(rec) == 6 else None
            if way not in DIRECTIONS:
                raise CaptureError(f"record {k}: direction {way!r} should be 'in', 'out' or None")
            flags.append(DIRECTIONS[way])
            t, netns, iface, pkt = rec[:4]
            if isinstance(pkt, Frame):
                data = pkt.to_bytes()
            elif isinstance(pkt, (bytes, bytearray, memoryview)):
                data = bytes(pkt)
            elif hasattr(pkt, "__bytes__"):  # a scapy packet
                data = bytes(pkt)
            else:
                raise CaptureError(f"record {k}: the packet must be bytes or a netlab Frame, "
                                   f"not {type(pkt).__name__}")
            key = (str(netns or ""), str(iface or ""))
            if key not in index:
                index[key] = len(interfaces)
                interfaces.append(Interface(key[0], key[1], LINKTYPE_ETHERNET))
            offs.append(pos)
            caps.append(len(data))
            times.append(int(round(float(t) * 1e9)))
            ifs.append(index[key])
            chunks.append(data)
            pos += len(data)
            if len(rec) >= 5 and rec[4]:
                comments[k] = [str(rec[4])]
        data = b"".join(chunks)
        caplens = np.asarray(caps, dtype=np.int64)
        raw = RawCapture(data=data, offsets=np.asarray(offs, dtype=np.int64), caplens=caplens,
                         origlens=caplens.copy(), times_ns=np.asarray(times, dtype=np.int64),
                         ifaces=np.asarray(ifs, dtype=np.int32), interfaces=interfaces,
                         comments=comments, kind="records",
                         flags=np.asarray(flags, dtype=np.uint32) if any(flags) else None)
        return cls(raw)

    def _split_cooked_interfaces(self, names: dict[int, str] | None = None) -> None:
        """``tcpdump -i any`` (Linux cooked v2) records each packet's interface index:
        give every index its own interface (named ``if<index>`` unless ``names`` says)."""
        import numpy as np

        raw = self._raw
        split = [i for i, it in enumerate(raw.interfaces)
                 if it.linktype == LINKTYPE_LINUX_SLL2 and not it.name]
        if not split:
            return
        buf = np.frombuffer(raw.data + b"\0" * 8, dtype=np.uint8)
        keep = [i for i in range(len(raw.interfaces)) if i not in split]
        interfaces = [raw.interfaces[i] for i in keep]
        remap = np.full(len(raw.interfaces), 0, dtype=np.int32)
        remap[keep] = np.arange(len(keep), dtype=np.int32)
        new_ifaces = remap[raw.ifaces] if len(raw.ifaces) else raw.ifaces.copy()
        for old in split:
            rows = np.flatnonzero(raw.ifaces == old)
            o = raw.offsets[rows] + 4
            idx = ((buf[o].astype(np.int64) << 24) | (buf[o + 1].astype(np.int64) << 16)
                   | (buf[o + 2].astype(np.int64) << 8) | buf[o + 3])
            idx[raw.caplens[rows] < 20] = -1
            base = raw.interfaces[old]
            for value in np.unique(idx).tolist():
                name = (names or {}).get(value, f"if{value}" if value >= 0 else "unknown")
                interfaces.append(Interface(base.namespace, name, base.linktype,
                                            f"interface index {value} (tcpdump -i any)",
                                            base.snaplen, base.ts_ns))
                new_ifaces[rows[idx == value]] = len(interfaces) - 1
        raw.interfaces = interfaces
        raw.ifaces = new_ifaces.astype(np.int32)

    def rename_interfaces(self, names: dict[str, str] | None = None, namespace: str | None = None) -> None:
        """Name interfaces a pcap could not name (``{"if3": "docker0"}``, or ``{"": "eth0"}``
        for a single-interface pcap) and set their namespace."""
        for it in self._raw.interfaces:
            if names and it.name in names:
                it.name = names[it.name]
            if namespace is not None:
                it.namespace = namespace
        self._df = None

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return self._cols.n

    def __repr__(self) -> str:
        ifaces = ", ".join(self.interface_names()[:6])
        extra = f"; stopped early: {self.problem}" if self.problem else ""
        return f"<Capture {len(self)} packets on {ifaces or 'no interface'}{extra}>"

    def _repr_html_(self) -> str:
        head = self.df.head(30)[["time", "namespace", "interface", "src", "dst", "protocol",
                                 "summary", "comment"]]
        more = f"<p>… {len(self) - 30} more packets</p>" if len(self) > 30 else ""
        warn = f"<p><b>Note:</b> {self.problem}</p>" if self.problem else ""
        return f"<p>Capture: {len(self)} packets</p>{warn}{head.to_html()}{more}"

    def interface_names(self) -> list[str]:
        return [f"{i.namespace}/{i.name}" if i.namespace else (i.name or "?")
                for i in self._raw.interfaces]

    @property
    def times_ns(self) -> np.ndarray:
        """Each packet's timestamp in nanoseconds since the epoch (exact; ``df.time`` is a float)."""
        return self._raw.times_ns

    @property
    def interfaces(self) -> list[Interface]:
        """The interfaces packets were seen on (namespace, name, link type)."""
        return list(self._raw.interfaces)

    @property
    def digest(self) -> str:
        """SHA-256 identifying this capture (of the file's bytes, for a loaded file)."""
        if self._digest is None:
            h = hashlib.sha256(self._raw.data)
            h.update(self._raw.times_ns.tobytes())
            h.update("\n".join(self.interface_names()).encode())
            self._digest = h.hexdigest()
        return self._digest

    def _check(self, n: int) -> int:
        try:
            n = int(n)
        except (TypeError, ValueError):
            raise CaptureError(f"packet numbers are whole numbers from 1, not {n!r}") from None
        if not 1 <= n <= len(self):
            raise CaptureError(f"there is no packet {n}: this capture has packets 1 to {len(self)} "
                               "(numbered from 1, as in Wireshark)")
        return n

    def raw_bytes(self, n: int) -> bytes:
        """Packet ``n``'s bytes as captured (link-layer header included)."""
        n = self._check(n)
        start = int(self._raw.offsets[n - 1])
        return self._raw.data[start:start + int(self._raw.caplens[n - 1])]

    def linktype(self, n: int) -> int:
        return self._raw.interfaces[int(self._raw.ifaces[self._check(n) - 1])].linktype

    def frame(self, n: int) -> Frame:
        """Packet ``n`` as a :class:`~netlab.packet.Frame` (headers as plain data)."""
        n = self._check(n)
        data = self.raw_bytes(n)
        if self.linktype(n) == LINKTYPE_ETHERNET:
            return Frame.from_bytes(data)
        c = self._cols
        i = n - 1
        l3 = int(c.l3_off[i])
        if l3 < 0:
            return Frame(payload=data, ethertype=0)
        start = int(self._raw.offsets[i])
        src = c.src_mac[i]
        eth = (b"\0" * 6 + (int(src).to_bytes(6, "big") if src >= 0 else b"\0" * 6)
               + int(max(c.ethertype[i], 0)).to_bytes(2, "big"))
        return Frame.from_bytes(eth + data[l3 - start:])

    def packet(self, n: int):  # noqa: ANN201 - scapy is imported lazily
        """Packet ``n`` fully dissected by scapy (imported on first use)."""
        n = self._check(n)
        from netlab.extras import need

        need("scapy.layers.inet", "capture.packet(n)")  # registers the link types below
        import scapy.layers.l2  # noqa: F401

        try:
            import scapy.layers.inet6  # noqa: F401
        except OSError:  # no IPv6 sockets (Pyodide, some containers): IPv4 still dissects
            pass
        from scapy.config import conf
        from scapy.packet import Raw

        layer = conf.l2types.num2layer.get(self.linktype(n), Raw)
        data = self.raw_bytes(n)
        try:
            pkt = layer(data)
        except Exception as exc:  # noqa: BLE001 - scapy raises struct.error, IndexError, …
            # a packet shorter than its first header, or one scapy cannot dissect: show its
            # bytes rather than fail (capture.frame(n) reads what can be read)
            warnings.warn(f"scapy cannot dissect packet {n} ({len(data)} bytes; "
                          f"{type(exc).__name__}: {str(exc)[:80]}): shown as raw bytes",
                          CaptureWarning, stacklevel=2)
            pkt = Raw(data)
        pkt.time = float(self._raw.times_ns[n - 1]) / 1e9
        return pkt

    # ------------------------------------------------------------------ the table
    def _address_categorical(self, which: str) -> Any:
        if self._addr is None:
            self._addr = address_columns(self._cols)
        return self._addr[0 if which == "src" else 1]

    def _iface_column(self, attr: str) -> Any:
        import numpy as np
        import pandas as pd

        names = [getattr(i, attr) for i in self._raw.interfaces]
        uniq = list(dict.fromkeys(names))
        if not names:
            return pd.Categorical.from_codes(np.zeros(0, dtype=np.int64), categories=[])
        lookup = np.array([uniq.index(x) for x in names], dtype=np.int64)
        return pd.Categorical.from_codes(lookup[self._raw.ifaces],
                                         categories=pd.Index(uniq, dtype=object))

    @property
    def df(self) -> pd.DataFrame:
        """One row per packet, indexed by packet number from 1 (as Wireshark numbers them)."""
        if self._df is None:
            self._df = self._build_df()
        if self._df_version != self._version:
            self._refresh_annotation_columns(self._df)
        return self._df

    def _build_df(self) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        c = self._cols
        n = c.n
        src, dst = address_columns(c)
        self._addr = (src, dst)

        def nullable(values: np.ndarray) -> Any:
            return pd.arrays.IntegerArray(values.astype(np.int64), values < 0)

        flag_codes = np.where(c.flags >= 0, c.flags, -1)
        flags = categorical(flag_codes, lambda u: [int_to_flags(int(v)) for v in u])
        columns: dict[str, Any] = {
            "time": self._raw.times_ns / 1e9,
            "namespace": self._iface_column("namespace"),
            "interface": self._iface_column("name"),
            "src_mac": categorical(c.src_mac, mac_text),
            "dst_mac": categorical(c.dst_mac, mac_text),
            "src": src, "dst": dst,
            "protocol": pd.Categorical.from_codes(c.proto.astype(np.int64),
                                                  categories=pd.Index(PROTOCOLS, dtype=object)),
            "sport": nullable(c.sport), "dport": nullable(c.dport),
            "flags": flags, "ttl": nullable(c.ttl),
            "length": self._raw.origlens.astype(np.int64),
            "summary": pd.array(summaries(c, self._raw.data, src, dst), dtype=object),
            "comment": pd.array(np.full(n, "", dtype=object), dtype=object),
            "tags": pd.array(np.full(n, None, dtype=object), dtype=object),
            "ip_id": nullable(c.ip_id), "seq": nullable(c.seq), "ack": nullable(c.ack),
            "window": nullable(c.window), "icmp_type": nullable(c.icmp_type),
            "payload_len": c.payload_len,
            "hop": pd.array(np.full(n, "", dtype=object), dtype=object),
            "hook": pd.array(np.full(n, "", dtype=object), dtype=object),
            "rule": pd.array(np.full(n, "", dtype=object), dtype=object),
        }
        df = pd.DataFrame(columns, index=pd.RangeIndex(1, n + 1, name="number"))
        self._df_version = -1
        return df

    def _refresh_annotation_columns(self, df: pd.DataFrame) -> None:
        import numpy as np

        n = len(self)
        cols = {k: np.full(n, "", dtype=object) for k in ("comment", "hop", "hook", "rule")}
        tags = np.empty(n, dtype=object)
        tags.fill(())
        for number, a in self.annotations.items():
            i = number - 1
            cols["comment"][i] = a.comment
            cols["hop"][i] = a.hop or ""
            cols["hook"][i] = a.hook or ""
            cols["rule"][i] = a.rule or ""
            tags[i] = tuple(a.tags)
        for k, v in cols.items():
            df[k] = v.astype(object)
        df["tags"] = tags
        self._df_version = self._version

    def filter(self, expression: str) -> pd.DataFrame:
        """The rows of ``df`` a display filter keeps (``"tcp.flags.syn == 1 and iface == docker0"``)."""
        return self.df[self.mask(expression)]

    def mask(self, expression: str) -> np.ndarray:
        """Boolean array (one per packet) of a display filter; raises FilterError if unreadable."""
        from netlab.capture.filters import evaluate

        return evaluate(expression, self)

    def numbers(self, expression: str) -> list[int]:
        """Packet numbers a display filter keeps."""
        import numpy as np

        return (np.flatnonzero(self.mask(expression)) + 1).tolist()

    # ------------------------------------------------------------------ annotating
    def annotate(self, n: int, comment: str | None = None, tags: Iterable[str] | str | None = None,
                 *, add_tags: Iterable[str] | str | None = None, hop: str | None = None,
                 hook: str | None = None, rule: str | None = None,
                 links: Iterable[int] | None = None) -> Annotation:
        """Write on packet ``n``: ``comment`` replaces the comment (``""`` clears it),
        ``tags`` replaces the tags, ``add_tags`` adds some.  Saved to the sidecar at once."""
        n = self._check(n)
        for text in [comment, hop, hook, rule, *([tags] if isinstance(tags, str) else tags or []),
                     *([add_tags] if isinstance(add_tags, str) else add_tags or [])]:
            _writable(text)
        a = self.annotations.get(n) or Annotation()
        if comment is not None:
            a.comment = str(comment)
        if tags is not None:
            a.tags = clean_tags(tags)
        if add_tags is not None:
            a.tags = clean_tags([*a.tags, *clean_tags(add_tags)])
        if hop is not None:
            a.hop = hop or None
        if hook is not None:
            a.hook = hook or None
        if rule is not None:
            a.rule = rule or None
        if links is not None:
            a.links = sorted({self._check(x) for x in links} - {n})
        if a.is_empty():
            self.annotations.pop(n, None)
        else:
            self.annotations[n] = a
        self._changed()
        return a

    def tag(self, expression: str, tag: str) -> list[int]:
        """Add ``tag`` to every packet a display filter keeps; returns their numbers."""
        numbers = self.numbers(expression)
        with self.batch():
            for n in numbers:
                self.annotate(n, add_tags=[tag])
        return numbers

    def link(self, a: int, b: int) -> None:
        """Record that packets ``a`` and ``b`` are the same packet at two hops."""
        a, b = self._check(a), self._check(b)
        if a == b:
            raise CaptureError("a packet cannot be linked to itself")
        with self.batch():
            for x, y in ((a, b), (b, a)):
                ann = self.annotations.get(x) or Annotation()
                self.annotate(x, links=sorted({*ann.links, y}))

    def unlink(self, a: int, b: int) -> None:
        with self.batch():
            for x, y in ((a, b), (b, a)):
                ann = self.annotations.get(self._check(x))
                if ann and y in ann.links:
                    self.annotate(x, links=[v for v in ann.links if v != y])

    def colour(self, expression: str, colour: str) -> None:
        """Add a colouring rule (like Wireshark's): packets the filter keeps get ``colour``."""
        from netlab.capture.filters import compile_filter

        compile_filter(expression)
        self.colour_rules = [r for r in self.colour_rules if r[0] != expression]
        self.colour_rules.append((expression, str(colour)))
        self._changed()

    def remove_colour(self, expression: str) -> None:
        self.colour_rules = [r for r in self.colour_rules if r[0] != expression]
        self._changed()

    def colours(self) -> list[str | None]:
        """Per packet, the colour of the first rule that matches (None if none do)."""
        import numpy as np

        out = np.full(len(self), None, dtype=object)
        for expression, colour in reversed(self.colour_rules):
            out[self.mask(expression)] = colour
        return out.tolist()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Many annotations, one save: ``with capture.batch(): ...``."""
        self._batch += 1
        try:
            yield
        finally:
            self._batch -= 1
            if not self._batch and self._dirty:
                self._save()

    def _changed(self) -> None:
        self._version += 1
        self._dirty = True
        if not self._batch:
            self._save()

    def _save(self) -> None:
        if self.sidecar:
            try:
                self._save_merged()
            except OSError as exc:  # the old sidecar is whole (atomic write); say so
                raise CaptureError(
                    f"could not save the annotations to {self.sidecar}: {exc.strerror or exc}. "
                    "Your annotations are kept in memory and the file on disk still holds the "
                    "previous save; free space or fix permissions, then call "
                    "capture.save_annotations().") from exc
        self._dirty = False

    def _save_merged(self) -> None:
        """Write the sidecar under its lock, folding in what another notebook saved since
        this one read it; the merged notes become this capture's."""
        assert self.sidecar is not None  # both callers checked it is set
        merged, notes, self._base_id = save_merged(self.sidecar, self._sidecar(), self._base,
                                                   self._base_id)
        self._adopt(merged)
        self.save_note = None
        if notes:
            self.save_note = (f"{self.sidecar} was also saved from another notebook: "
                              + "; ".join(notes[:5]) + (f" (and {len(notes) - 5} more)" if len(notes) > 5 else ""))
            warnings.warn(self.save_note, CaptureWarning, stacklevel=4)

    def _adopt(self, side: Sidecar) -> None:
        """Take ``side``'s annotations and colour rules as this capture's (and as the base of
        the next merge)."""
        self.annotations = {k: v for k, v in side.annotations.items() if 1 <= k <= len(self)}
        self.colour_rules = list(side.colour_rules)
        self._base = Sidecar(digest=side.digest, packets=side.packets,
                             annotations={k: Annotation.from_json(v.to_json())
                                          for k, v in side.annotations.items()},
                             colour_rules=list(side.colour_rules), capture_file=side.capture_file)
        self._version += 1

    def _sidecar(self) -> Sidecar:
        return Sidecar(digest=self.digest, packets=len(self), annotations=self.annotations,
                       colour_rules=self.colour_rules,
                       capture_file=os.path.basename(self.path or ""))

    def save_annotations(self, path: str | None = None) -> str:
        """Write the sidecar now (to ``path``, or where the capture keeps it)."""
        target = path or self.sidecar
        if not target:
            raise CaptureError("this capture has no file yet, so no sidecar place: call "
                               "capture.attach_sidecar(path) or capture.to_pcapng(path) first")
        try:
            if target == self.sidecar:
                self._save_merged()
                self._dirty = False
            else:
                self._sidecar().save(target)
        except OSError as exc:
            raise CaptureError(f"could not save the annotations to {target}: "
                               f"{exc.strerror or exc}; they are still in memory.") from exc
        return target

    def attach_sidecar(self, path: str | os.PathLike[str]) -> None:
        """Keep this capture's annotations in ``path``; if it already holds annotations of this
        same capture, they are restored.  A sidecar of another capture is refused."""
        path = os.fspath(path)
        _clear_killed_saves(path)
        if os.path.exists(path):
            self._adopt(_read_current(self, path))
        else:
            self._base, self._base_id = None, None
        self.sidecar = path
        self.sidecar_problem = None
        self._save()

    def load_annotations(self, path: str | os.PathLike[str]) -> None:
        """Apply a sidecar explicitly (raises CaptureError if it belongs to another capture)."""
        side = read_sidecar(path, self.digest)
        self.annotations = side.annotations
        self.colour_rules = side.colour_rules
        self._changed()

    def annotate_from(self, journey: Any) -> dict[int, int]:
        """Write hop, hook and rule on every packet of a netlab journey; returns
        {event seq: packet number} for the "seen" events it matched."""
        from netlab.capture.journey_notes import annotate_from

        return annotate_from(self, journey)

    def match_journey(self, journey: Any) -> dict[int, int]:
        """{event seq: packet number} for the journey's "seen" events found in this capture."""
        from netlab.capture.journey_notes import match_events

        return match_events(self, journey)

    def expert(self, tag: bool = True) -> pd.DataFrame:
        """What Wireshark's Expert Info would flag; with ``tag`` also written as tags."""
        from netlab.capture.expert import expert

        return expert(self, tag=tag)

    def propose_links(self) -> pd.DataFrame:
        """Pairs of packets that look like the same packet at two hops (also across NAT)."""
        from netlab.capture.links import propose_links

        if self._links_cache is None:
            self._links_cache = propose_links(self)
        return self._links_cache

    def accept_links(self, proposals: pd.DataFrame | None = None) -> int:
        """Record proposed links (all of them by default); returns how many."""
        props = self.propose_links() if proposals is None else proposals
        with self.batch():
            for a, b in zip(props["a"].tolist(), props["b"].tolist(), strict=True):
                self.link(a, b)
        return len(props)

    def follow_stream(self, n: int) -> Any:
        from netlab.capture.stream import follow_stream

        return follow_stream(self, n)

    # ------------------------------------------------------------------ writing
    def directions(self) -> np.ndarray:
        """Per packet: 1 inbound (received on its interface), 2 outbound (sent), 0 unknown —
        from the records, the file's ``epb_flags``, or a cooked capture's packet type."""
        import numpy as np

        raw = self._raw
        n = len(self)
        if raw.flags is not None:
            out = (raw.flags & 3).astype(np.uint8)
        else:
            out = np.zeros(n, dtype=np.uint8)
        cooked = {i: 0 if it.linktype == LINKTYPE_LINUX_SLL else 10
                  for i, it in enumerate(raw.interfaces)
                  if it.linktype in (LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2)}
        for i, at in cooked.items():  # the packet type byte of the cooked header
            rows = np.flatnonzero((raw.ifaces == i) & (out == 0) & (raw.caplens > at + 1))
            if len(rows):
                buf = np.frombuffer(raw.data, dtype=np.uint8)
                kind = buf[raw.offsets[rows] + at + (1 if at == 0 else 0)]
                out[rows] = np.where(kind == PACKET_OUTGOING, EPB_OUTBOUND, EPB_INBOUND)
        return out

    def _pcapng_packets(self, rows: Iterable[int] | None = None) -> list[tuple]:
        import numpy as np

        raw = self._raw
        offs = raw.offsets.tolist()
        caps = raw.caplens.tolist()
        data = raw.data
        flags = (raw.flags.copy() if raw.flags is not None
                 else np.zeros(len(self), dtype=np.uint32))
        flags = ((flags & ~np.uint32(3)) | self.directions()).tolist()
        notes = {n: a.to_comments() for n, a in self.annotations.items()}
        ifaces, times, origs = raw.ifaces.tolist(), raw.times_ns.tolist(), raw.origlens.tolist()
        return [(ifaces[i], times[i], data[offs[i]:offs[i] + caps[i]], origs[i], notes.get(i + 1),
                 flags[i]) for i in (range(len(self)) if rows is None else rows)]

    def _section(self) -> list[str]:
        import json

        section = [t for t in self._raw.section_comments if not t.startswith(COLOUR_PREFIX)]
        if self.colour_rules:
            section.append(COLOUR_PREFIX + json.dumps([list(r) for r in self.colour_rules]))
        return section

    def to_pcapng_bytes(self) -> bytes:
        """The capture as pcapng: one interface block per interface, annotations as comments,
        each packet's direction as ``epb_flags``; the section comments and options of the
        file it was read from are kept."""
        raw = self._raw
        return write_pcapng(raw.interfaces, self._pcapng_packets(), self._section(),
                            raw.section_options)

    def to_pcapng(self, path: str | os.PathLike[str], *,
                  per_hop_files: bool = False) -> str | list[str]:
        """Write a pcapng Wireshark opens (written atomically); returns the path.  A capture
        that had no file keeps its annotations next to this one from now on.

        ``per_hop_files=True`` writes one file per interface instead (``NAME.ns_iface.pcapng``
        beside ``path``) and returns their paths: in one file, a journey's copies of a packet
        at several hops look to Wireshark like retransmissions and duplicate ACKs; in a
        per-hop file each packet is seen once.  Those files are exports: the capture's
        annotations stay where they are."""
        from netlab.atomic import atomic_write_bytes

        path = os.fspath(path)
        if per_hop_files:
            return self._per_hop_files(path)
        blob = self.to_pcapng_bytes()
        atomic_write_bytes(path, blob)
        if self.path is None:
            self.path = path
            self._digest = hashlib.sha256(blob).hexdigest()
            self.sidecar = sidecar_path(path)
            self._base, self._base_id = None, None
            self._save()
        return path

    def _per_hop_files(self, path: str) -> list[str]:
        import re

        import numpy as np

        from netlab.atomic import atomic_write_bytes

        raw = self._raw
        stem, ext = os.path.splitext(path)
        written: list[str] = []
        for i, it in enumerate(raw.interfaces):
            rows = np.flatnonzero(raw.ifaces == i).tolist()
            if not rows:
                continue
            label = re.sub(r"[^A-Za-z0-9_.@-]+", "_", f"{it.namespace}_{it.name}".strip("_")) or f"if{i}"
            name = f"{stem}.{label}{ext or '.pcapng'}"
            if name in written:
                name = f"{stem}.{label}-{i}{ext or '.pcapng'}"
            packets = [(0, *p[1:]) for p in self._pcapng_packets(rows)]
            atomic_write_bytes(name, write_pcapng([it], packets, self._section(),
                                                  raw.section_options))
            written.append(name)
        return written


def load_capture(path: str | os.PathLike[str], *, interface: str | None = None,
                 namespace: str | None = None, interface_names: dict[int, str] | None = None,
                 strict: bool = False) -> Capture:
    """Read a pcap or pcapng file (tcpdump's or Wireshark's) into a :class:`Capture`.

    A damaged file loads the packets before the damage, with a warning saying at
    which byte and packet it stopped (``capture.problem``); ``strict=True`` raises
    instead.  ``interface`` / ``namespace`` name a pcap's single interface;
    ``interface_names`` names the interface indexes of a ``tcpdump -i any`` capture.
    Annotations saved beside the file earlier are restored.
    """
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise CaptureError(f"no capture file at {path}") from None
    except IsADirectoryError:
        raise CaptureError(f"{path} is a folder, not a capture file") from None
    name = os.path.basename(path)
    raw = read_capture_bytes(data, name)
    if raw.problem is not None and strict:
        raise raw.problem
    for it in raw.interfaces:
        if interface is not None and not it.name and it.linktype != LINKTYPE_LINUX_SLL2:
            it.name = interface
        if namespace is not None and not it.namespace:
            it.namespace = namespace
    cap = Capture(raw, path=path, digest=hashlib.sha256(data).hexdigest(),
                  interface_names=interface_names)
    if raw.problem is not None:
        warnings.warn(str(raw.problem), CaptureWarning, stacklevel=2)
    _open_sidecar(cap, path)
    return cap


def _clear_killed_saves(side: str) -> None:
    """Remove what a save killed mid-way left beside ``side`` (its temporary file, its lock
    file), if no save is under way now; never waits."""
    if glob.glob(temp_pattern(side)) or os.path.exists(lock_path(side)):
        with contextlib.suppress(OSError, CaptureError), sidecar_lock(side, timeout=0):
            pass


def _read_current(cap: Capture, side: str) -> Sidecar:
    """``side`` read for ``cap`` (no lock needed: saves replace it whole), remembering which
    version of the file it was so the next save knows whether anyone wrote since."""
    before = file_id(side)
    s = read_sidecar(side, cap.digest)
    cap._base_id = before if file_id(side) == before else None
    return s


def _open_sidecar(cap: Capture, path: str) -> None:
    """Restore the annotations saved beside ``path``.  A sidecar there that is damaged or
    another capture's is left alone: this capture's notes go beside it under a new name
    (``beside_path``), and ``cap.sidecar_problem`` (also warned) says where."""
    problem = None
    for side in (sidecar_path(path), beside_path(path, cap.digest)):
        _clear_killed_saves(side)
        if os.path.exists(side):
            try:
                s = _read_current(cap, side)
            except CaptureError as exc:
                problem = str(exc)
                continue
            cap._adopt(s)
        cap.sidecar = side
        if problem:
            cap.sidecar_problem = f"{problem} Your annotations of this capture are saved in {side}."
            warnings.warn(cap.sidecar_problem, CaptureWarning, stacklevel=3)
        return
    cap.sidecar_problem = (f"{problem} Your annotations of this capture are kept in memory only: "
                           "call capture.attach_sidecar(path) to keep them in a file.")
    warnings.warn(cap.sidecar_problem, CaptureWarning, stacklevel=3)


__all__ = ["Capture", "CaptureWarning", "load_capture"]
