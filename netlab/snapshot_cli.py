"""``netlab snapshot`` and ``netlab show`` — the host state on the command line.

``netlab snapshot [--netns NAME ...] [-o FILE]`` reads this machine (read-only)
and writes the JSON snapshot; ``netlab show FILE`` prints a snapshot — or any
paste netlab can read, such as a saved ``ip addr`` output — as tables:
interfaces, routes, bridge ports, and the veth pairs with where each end lives.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence

from netlab.errors import SnapshotError
from netlab.model import HostState


def register(subparsers: argparse._SubParsersAction) -> None:
    snap = subparsers.add_parser(
        "snapshot", help="read this machine's networking (read-only) into a JSON snapshot",
        description="Read interfaces, veth peers, bridges, addresses, routes, sysctls, "
                    "iptables rules and conntrack (read-only) into a JSON snapshot.")
    snap.add_argument("--netns", action="append", metavar="NAME",
                      help="read this named namespace instead (repeat for several; "
                           "`ip netns list` shows them)")
    snap.add_argument("-o", "--output", metavar="FILE",
                      help="write the snapshot here (atomically) instead of to standard output")
    snap.set_defaults(func=_snapshot)

    show = subparsers.add_parser(
        "show", help="print a snapshot (or a pasted command output) as tables",
        description="Print a snapshot file, or a file holding pasted `ip addr`, `ip route`, "
                    "`brctl show`, ... output, as tables.")
    show.add_argument("files", nargs="+", metavar="FILE",
                      help="a snapshot (.json) or a text paste; - for stdin; several pastes of "
                           "one host are joined")
    show.set_defaults(func=_show)


def _snapshot(args: argparse.Namespace) -> int:
    from netlab.snapshot import snapshot

    if args.netns is not None and not all(args.netns):
        raise SnapshotError("--netns needs a namespace name (see `ip netns list`); leave "
                            "--netns out to read the namespace netlab runs in")

    if args.output:
        from netlab.cliargs import writable_file

        writable_file(args.output, "-o")  # before reading anything: the refusal is the only line
    state = snapshot(args.netns)
    for note in state.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output:
        try:
            state.save(args.output)
        except OSError as exc:
            raise SnapshotError(f"cannot write {args.output}: {exc.strerror or exc} "
                                "(choose a file in a folder you can write to)") from None
        print(f"wrote {args.output}: {len(state.links)} interfaces, {len(state.route_list)} "
              f"routes, {len(state.namespaces)} namespace(s)", file=sys.stderr)
    else:
        sys.stdout.write(state.to_json() + "\n")
    return 0


def load_any(path: str) -> HostState:
    """A snapshot file, or a paste netlab's parsers recognise."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror}") from None
    if text.lstrip().startswith("{") and any(k in text for k in ('"schema_version"',
                                                                 '"route_list"')):
        return HostState.from_json(text)
    from netlab.parse import parse_host

    return parse_host(text)


def table(rows: Iterable[Sequence[object]], headers: Sequence[str]) -> str:
    """Plain aligned columns (no pandas: the CLI starts fast)."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines)


def _end(addr: str, port: int | None) -> str:
    if port is None:
        return addr
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def _ns(name: str | None) -> str:
    return name if name else "(this)"


def render(state: HostState) -> str:
    """The interfaces, routes, bridge ports, veth pairs (and sysctls, conntrack) as text tables."""
    out = []
    rows: list[tuple[object, ...]] = []
    for link in sorted(state.links, key=lambda x: (x.netns, x.ifindex or 0, x.name)):
        addrs = ", ".join(a.cidr for a in state.addresses_of(link.name, link.netns))
        rows.append((_ns(link.netns), link.ifindex, link.name, link.kind, link.mac, link.mtu,
                     link.state, link.master, addrs))
    out.append(f"Interfaces ({len(rows)})")
    out.append(table(rows, ["netns", "index", "name", "kind", "mac", "mtu", "state", "master",
                            "addresses"]))
    rows = [(_ns(r.netns), r.table, r.type if r.type != "unicast" else "", r.dst, r.gateway,
             r.dev, r.src, r.protocol, r.scope, r.metric) for r in state.route_list]
    out.append(f"\nRoutes ({len(rows)})")
    out.append(table(rows, ["netns", "table", "type", "destination", "via", "dev", "src",
                            "proto", "scope", "metric"]))
    rows = [(_ns(p.netns), p.bridge, p.port, p.state, p.cost, p.priority,
             "" if p.hairpin is None else ("on" if p.hairpin else "off")) for p in state.ports]
    out.append(f"\nBridge ports ({len(rows)})")
    out.append(table(rows, ["netns", "bridge", "port", "state", "cost", "priority", "hairpin"]))
    pairs = []
    for link, peer, where in state.veth_pairs():
        if peer is not None:
            other = f"{peer.name} (ifindex {peer.ifindex}) in {_ns(peer.netns)}"
        elif link.peer_ifindex is not None:
            place = where if where is not None else f"netnsid {link.peer_netnsid}"
            other = f"ifindex {link.peer_ifindex} in {_ns(place)} (not in this state)"
        else:
            other = "unknown"
        pairs.append((f"{link.name} in {_ns(link.netns)}", other))
    out.append(f"\nveth pairs ({len(pairs)})")
    out.append(table(pairs, ["end", "peer"]))
    from netlab.model import SYSCTLS_THAT_MATTER

    rows = [(_ns(ns), key, values[key]) for ns, values in sorted(state.sysctls.items())
            for key in SYSCTLS_THAT_MATTER if key in values]
    if rows:
        out.append(f"\nSysctls that matter ({len(rows)})")
        out.append(table(rows, ["netns", "key", "value"]))
    if state.conntrack_entries:
        rows = [(_ns(e.netns), e.proto, e.state or "", _end(e.orig.src, e.orig.sport),
                 _end(e.orig.dst, e.orig.dport), _end(e.reply.src, e.reply.sport),
                 _end(e.reply.dst, e.reply.dport),
                 "+".join(k for k, v in (("DNAT", e.dnat), ("SNAT", e.snat)) if v),
                 ",".join(e.status)) for e in state.conntrack_entries]
        out.append(f"\nConntrack ({len(rows)})")
        out.append(table(rows, ["netns", "proto", "state", "from", "to", "reply from",
                                "reply to", "nat", "status"]))
    for ns, text in sorted(state.firewall.items()):
        rules = sum(1 for line in text.splitlines() if line.startswith("-A "))
        out.append(f"\niptables{'' if not ns else ' in ' + ns}: {rules} rule(s) "
                   "(`netlab trace` walks a packet through them)")
    for ns, text in sorted(state.firewall6.items()):
        rules = sum(1 for line in text.splitlines() if line.startswith("-A "))
        out.append(f"ip6tables{'' if not ns else ' in ' + ns}: {rules} rule(s) (IPv6, kept and "
                   "shown; netlab does not trace IPv6 yet)")
    if state.containers:
        crows: list[tuple[str, ...]] = []
        for c in state.containers:
            published = ", ".join(f"{p.host_ip + ':' if p.host_ip and p.host_ip != '0.0.0.0' else ''}"
                                  f"{p.host_port}->{p.container_port}/{p.proto}" for p in c.ports
                                  if p.host_port and ":" not in (p.host_ip or ""))
            for ep in c.networks:
                crows.append((c.name, c.network_mode or "", ep.network, ep.ip or "", ep.mac or "",
                              ep.gateway or "", published))
            if not c.networks:
                crows.append((c.name, c.network_mode or "", "", "", "", "", published))
        out.append(f"\nContainers, from docker inspect ({len(state.containers)})")
        out.append(table(crows, ["name", "mode", "network", "ip", "mac", "gateway", "published"]))
    if state.notes:
        out.append("\nNotes")
        out.extend(f"- {n}" for n in state.notes)
    return "\n".join(out) + "\n"


def _show(args: argparse.Namespace) -> int:
    state = load_any(args.files[0])
    for path in args.files[1:]:
        state.merge(load_any(path))
    sys.stdout.write(render(state))
    return 0
