"""Edit a packet and watch the iptables trace change, rule by rule (lessons 4 and 5).

``RuleTracer(ruleset_or_net)``: the packet editor (protocol, source, destination,
ports, in/out interface, hook, the host's local addresses) re-runs
``Ruleset.trace`` on every change and lists each rule looked at, whether it
matched and, when not, the condition that failed.  Given a net (or a Scenario),
the what-if toggles (publish on 127.0.0.1, userland proxy off, DOCKER-USER DROP,
ip_forward off) re-run a probe on the changed host and show the journey next to
the original one.
"""

from __future__ import annotations

import html
import ipaddress
import re
from typing import Any

from netlab.widgets.whatif import WHAT_IFS, what_if

HOOK_CHOICES = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
NO_IN_IFACE = ("OUTPUT",)  # a locally sent packet has no input interface
NO_OUT_IFACE = ("PREROUTING", "INPUT")  # the route (and so the output) is not chosen yet


def _scenario_of(obj: Any) -> Any:
    from netlab.viz.topology import is_scenario

    if is_scenario(obj):
        return obj
    s = getattr(obj, "scenario", None)
    return s if is_scenario(s) else None


def _state_of(obj: Any) -> Any:
    """``obj`` if it is a HostState (a paste or a snapshot), else None."""
    from netlab.model import HostState

    return obj if isinstance(obj, HostState) else None


def _root_netns(state: Any) -> str:
    from netlab.viz.topology import root_netns as root

    return root(state)


def _ruleset_of(obj: Any) -> Any:
    from netlab.netfilter import NftRuleset, Ruleset

    if isinstance(obj, (Ruleset, NftRuleset)):
        return obj
    if isinstance(obj, str):
        return _parse_rules(obj)
    scenario = _scenario_of(obj)
    if scenario is not None:
        return _host_rules(scenario.host)
    state = _state_of(obj)
    if state is not None:
        return state.ruleset(_root_netns(state))
    raise TypeError("RuleTracer needs a Ruleset (nl.parse_iptables(text)) or an NftRuleset "
                    "(parse_nft(text)), iptables-save or nft list ruleset text, a HostState, a "
                    f"Scenario or a net; got {type(obj).__name__}")


def _parse_rules(text: str) -> Any:
    """iptables-save text, or ``nft list ruleset`` text / JSON."""
    from netlab.netfilter import parse_iptables, parse_nft

    head = text.lstrip()
    if head.startswith(("table ", "{", "[")) or "\ntable " in text:
        return parse_nft(text)
    return parse_iptables(text)


def _host_rules(host: Any) -> Any:
    """A host's rules: its nftables rule set (with any iptables tables run among its chains)
    when it has one (Docker 29's --firewall-backend=nftables), else its iptables."""
    from netlab.netfilter import parse_iptables, parse_nft

    if (getattr(host, "nftables", "") or "").strip():
        return parse_nft(host.nftables)
    return parse_iptables(host.iptables)


def chain_header(ruleset: Any, table: str, chain: str) -> str | None:
    """``docker-bridges filter-FORWARD: type filter hook forward priority filter (0); policy
    accept`` for an nft base chain (None for iptables or a regular chain)."""
    tables = getattr(ruleset, "tables", None)
    if not isinstance(tables, list):
        return None
    for t in tables:
        c = t.chains.get(chain) if t.name == table else None
        if c is not None and c.is_base:
            return (f"{t.family} {t.name} {c.name}: type {c.type} hook {c.hook} priority "
                    f"{c.priority_text} ({c.priority}); policy {c.policy or 'accept'}")
    return None


def _local_addrs_of(obj: Any) -> list[str]:
    scenario = _scenario_of(obj)
    addrs: list[str] = []
    if scenario is not None:
        addrs = [ip for i in scenario.host.interfaces for ip in i.ips] + ["127.0.0.1"]
    elif _state_of(obj) is not None:
        root = _root_netns(obj)
        addrs = list(obj.local_addresses(root))
        # a paste that elides a NIC still shows its address as a kernel route's src
        addrs += [r.src for r in obj.route_list if r.netns == root and r.src]
    return list(dict.fromkeys(addrs))  # each once, in order


def _interfaces_of(obj: Any) -> list[str] | None:
    """The host's interface names (None when only rules are known)."""
    scenario = _scenario_of(obj)
    if scenario is not None:
        return [i.name for i in scenario.host.interfaces]
    state = _state_of(obj)
    if state is not None:
        root = _root_netns(state)
        names = [link.name for link in state.links if link.netns == root]
        # a paste often elides interfaces ("..."): the routes still name them
        names += [r.dev for r in state.route_list if r.netns == root and r.dev]
        return list(dict.fromkeys(names)) or None
    return None


_IFNAME = re.compile(r"^[^\s/:]{1,15}$")  # what the kernel accepts (IFNAMSIZ - 1, no / or :)


def check_iface(value: str, what: str, known: list[str] | None) -> str | None:
    """A learner-readable problem with an interface name typed in the editor, or None."""
    name = value.strip()
    if not name:
        return None
    if name.startswith("!"):
        return (f"{what} {name!r}: type the interface the packet uses, not a rule's "
                "negation (the rule's '! -i' is matched against it)")
    if not _IFNAME.fullmatch(name):
        return (f"{what} {name!r} is not an interface name (at most 15 characters, no "
                "spaces, '/' or ':'), e.g. enp0s8 or docker0")
    if known is not None and name not in known:
        return (f"{what} {name!r} is not an interface of this host; it has "
                f"{', '.join(known)}")
    return None


def _published_port(scenario: Any) -> int:
    """The first TCP port the scenario publishes to the LAN (80 when none is known)."""
    if scenario is None:
        return 80
    ports = [p for c in scenario.containers for p in c.ports if p.proto == "tcp"]
    lan = [p for p in ports if p.host_ip in ("0.0.0.0", "", "::")]
    return (lan or ports)[0].host_port if (lan or ports) else 80


def _outside_address(obj: Any, addrs: list[str]) -> str:
    """The host address a LAN client would connect to: one on a NIC (not loopback, a
    bridge or a bridge port), a 192.168.x one first (the course's LAN)."""
    nic_addrs: list[str] = []
    scenario, state = _scenario_of(obj), _state_of(obj)
    if scenario is not None:
        nic_addrs = [ip for i in scenario.host.interfaces
                     if i.kind not in ("bridge", "loopback") and i.master is None
                     for ip in i.ips]
    elif state is not None:
        root = _root_netns(state)
        skip = {link.name for link in state.links if link.netns == root
                and (link.kind in ("bridge", "loopback") or link.master)}
        nic_addrs = [a.address for a in state.addrs if a.netns == root and a.family == 4
                     and a.ifname not in skip and a.ifname != "lo"
                     and not a.address.startswith("127.")]
        nic_addrs += [r.src for r in state.route_list if r.netns == root and r.src
                      and r.dev not in skip and r.dev != "lo" and r.src not in nic_addrs]
    nic_addrs = nic_addrs or [a for a in addrs if not a.startswith("127.")]
    return next((a for a in nic_addrs if a.startswith("192.168.")),
                nic_addrs[0] if nic_addrs else "192.168.56.38")


def _nat_text(nat: Any) -> str:
    def fmt(addr: Any, port: Any) -> str:
        return f"{addr if addr is not None else '?'}" + (f":{port}" if port is not None else "")

    try:
        return f"{nat.kind} {fmt(*nat.before)} → {fmt(*nat.after)} by {nat.rule}"
    except (TypeError, ValueError, AttributeError):
        return str(nat)


def _message(exc: Exception) -> str:
    """An exception as the widget shows it: netlab's own errors speak for themselves."""
    from netlab.errors import NetlabError

    return str(exc) if isinstance(exc, NetlabError) else f"{type(exc).__name__}: {exc}"


WIDGET_DPI = 80  # the what-if pictures' PNG resolution (shown at the cell's full width)


def journey_html(journey: Any, title: str) -> str:
    """A journey's outcome as one coloured line."""
    color = "#1e8449" if journey.ok else "#c0392b"
    return (f"<div><b>{html.escape(title)}</b>: <span style='color:{color}'>"
            f"<b>{html.escape(journey.outcome)}</b>"
            f"{' — ' + html.escape(journey.reason) if journey.reason else ''}</span></div>")


_DIFF_STYLE = {"-": ("#fdecea", "only before"), "+": ("#e8f5e9", "only after"),
               "~": ("#fff8e1", "changed"), " ": ("transparent", "same")}


def diff_html(diff: Any, before_title: str = "as the host is", after_title: str = "with the change",
              limit: int = 40) -> str:
    """What differs between two journeys: both outcomes, then the differing steps, the first
    difference highlighted (a :class:`netlab.journey.JourneyDiff`)."""
    head = journey_html(diff.before, before_title) + journey_html(diff.after, after_title)
    if diff.first is None:
        same = ("the same steps and the same outcome: this change does not matter for this probe"
                if diff.same else "the same steps, but a different outcome")
        return head + f"<div><i>{html.escape(same)}</i></div>"
    body = []
    for k, (mark, text, first) in enumerate(diff.lines()):
        if k == limit:
            body.append("<tr><td></td><td><i>… more (tracer.diff.rows has every step)</i></td></tr>")
            break
        bg, what = _DIFF_STYLE[mark]
        style = f"background:{bg}"
        if first:
            style = "background:#ffd54f;font-weight:bold;outline:2px solid #b7950b"
        label = "▶ first difference: " if first else ""
        body.append(f"<tr style='{style}' title='{what}'><td><code>{html.escape(mark)}</code></td>"
                    f"<td><code>{html.escape(label + text)}</code></td></tr>")
    return (head + "<table style='font-size:13px;border-collapse:collapse'>"
            "<tr><th></th><th style='text-align:left'>steps that differ "
            "(− only before, + only after, ~ changed)</th></tr>" + "".join(body) + "</table>")


class RuleTracer:
    """A packet editor bound to a ruleset, with what-if probes when a scenario is known."""

    def __init__(self, source: Any, local_addrs: list[str] | None = None,
                 probe: dict[str, Any] | None = None, connect: Any = None,
                 draw: bool = True) -> None:
        import ipywidgets as w

        self.source = source
        self.base_ruleset = _ruleset_of(source)
        self.ruleset = self.base_ruleset
        self.scenario = _scenario_of(source)
        self.mode = getattr(source, "mode", None)
        self._connect = connect
        addrs = local_addrs if local_addrs is not None else _local_addrs_of(source)
        self.interfaces = _interfaces_of(source)
        self.addrs_guessed = not addrs  # rules alone: the host's addresses are unknown
        if self.addrs_guessed:
            addrs = ["192.168.56.38", "127.0.0.1"]  # the course's host; edit for yours
        self.trace: Any = None
        self.error: str | None = None
        self.ignored: list[str] = []  # editor fields the hook makes meaningless
        self.proto = w.Dropdown(options=["tcp", "udp", "icmp"], value="tcp",
                                description="proto")
        self.src = w.Text(value="192.168.56.1", description="source", continuous_update=False)
        self.dst = w.Text(value=_outside_address(source, addrs),
                          description="destination", continuous_update=False)
        self.sport = w.IntText(value=40000, description="sport")
        self.dport = w.IntText(value=_published_port(self.scenario), description="dport")
        self.in_iface = w.Text(value=self._default_in_iface(source, self.dst.value),
                               description="in-iface", continuous_update=False)
        self.out_iface = w.Text(value="", description="out-iface", continuous_update=False)
        self.hook = w.Dropdown(options=list(HOOK_CHOICES), value="PREROUTING",
                               description="hook")
        self.local_addrs = w.Text(value=", ".join(addrs), description="local addrs",
                                  continuous_update=False, layout=w.Layout(width="40em"))
        self.ct_state = w.Dropdown(options=["NEW", "ESTABLISHED", "RELATED"], value="NEW",
                                   description="ctstate")
        self.verdict_html = w.HTML()
        self.note_html = w.HTML(
            "<i>local addrs are a guess (only rules were given): type your host's own "
            "addresses, which <code>-m addrtype --dst-type LOCAL</code> matches</i>"
            if self.addrs_guessed else "")
        self.table_html = w.HTML()
        editors = [self.proto, self.src, self.dst, self.sport, self.dport, self.in_iface,
                   self.out_iface, self.hook, self.local_addrs, self.ct_state]
        for ed in editors:
            ed.observe(lambda _ch: self.update(), names="value")
        # what-if side
        self.probe_spec = probe or {"kind": "http", "src": "client",
                                    "dst": self.dst.value, "dport": self.dport.value}
        self.toggles = {name: w.Checkbox(value=False, description=label, indent=False)
                        for name, label in WHAT_IFS.items()}
        for t in self.toggles.values():
            t.observe(lambda _ch: self.rerun(), names="value")
        self.run_button = w.Button(description="run probe", icon="play")
        self.run_button.on_click(lambda _b: self.rerun())
        self.baseline: Any = None
        self.variant: Any = None
        self.variant_scenario: Any = None
        self.diff: Any = None  # netlab.journey.JourneyDiff of the last what-if
        self.compare_html = w.HTML()
        self.draw = draw
        self._pngs: dict[tuple[str, ...], tuple[Any, bytes]] = {}
        self.baseline_figure: Any = None  # the two journeys as drawn (matplotlib Figures)
        self.variant_figure: Any = None
        # one above the other, each the cell's width: side by side (50 %) their text was 5 px
        self.baseline_image = w.Image(format="png", layout=w.Layout(width="100%"))
        self.variant_image = w.Image(format="png", layout=w.Layout(width="100%"))
        parts = [w.HTML("<b>packet</b>"),
                 w.HBox([w.VBox(editors[:5]), w.VBox(editors[5:])]), self.note_html,
                 self.verdict_html, self.table_html]
        if self.scenario is not None:
            parts += [w.HTML("<b>what if…</b> (re-runs the probe "
                             f"<code>{html.escape(self._probe_text())}</code>)"),
                      w.HBox([*self.toggles.values(), self.run_button]), self.compare_html,
                      w.VBox([self.baseline_image, self.variant_image])]
        self.widget = w.VBox(parts)
        self.update()

    def _default_in_iface(self, source: Any, dst: str) -> str:
        """enp0s8 (the course's LAN NIC) unless this host calls its LAN NIC otherwise."""
        known = self.interfaces
        if known is None or "enp0s8" in known:
            return "enp0s8"
        scenario, state = _scenario_of(source), _state_of(source)
        if scenario is not None:
            holder = next((i.name for i in scenario.host.interfaces if dst in i.ips), None)
        elif state is not None:
            holder = next((a.ifname for a in state.addrs if a.address == dst),
                          next((r.dev for r in state.route_list if r.src == dst), None))
        else:
            holder = None
        if holder and holder in known:
            return holder
        return next((n for n in known if n != "lo" and not n.startswith(("veth", "docker",
                                                                          "br-"))), "")

    # ------------------------------------------------------------ trace
    def packet(self) -> Any:
        """The packet the editor describes, as a ``netlab.netfilter.Packet``."""
        from netlab.netfilter import Packet

        proto = self.proto.value
        ports = proto in ("tcp", "udp")
        extra: dict[str, Any] = {"icmp_type": 8} if proto == "icmp" else {}
        return Packet(proto, self.src.value.strip(), self.dst.value.strip(),
                      sport=self.sport.value if ports else None,
                      dport=self.dport.value if ports else None, **extra)

    def local_addresses(self) -> tuple[str, ...]:
        """The host's own addresses typed in the editor (raises PacketError for a bad one)."""
        from netlab.netfilter.packet import PacketError

        out = []
        for a in self.local_addrs.value.split(","):
            a = a.strip()
            if not a:
                continue
            try:
                out.append(str(ipaddress.ip_address(a)))
            except ValueError:
                raise PacketError(f"local addrs: {a!r} is not an IP address; list the host's "
                                  "own addresses separated by commas, e.g. 192.168.56.38, "
                                  "172.17.0.1") from None
        return tuple(out)

    def _ipsets(self) -> dict[str, list[str]] | None:
        """The host's ipsets (Docker 28.0.0 matches its bridges with one), if known."""
        scenario = self.variant_scenario if self.ruleset is not self.base_ruleset else (
            self.scenario)
        sets = getattr(scenario.host, "ipsets", None) if scenario is not None else None
        if not sets:
            sets = getattr(self.source, "ipsets", None)
        return dict(sets) if isinstance(sets, dict) and sets else None

    def problems(self) -> list[str]:
        """What is wrong with the packet in the editor (empty: it can be traced)."""
        out = []
        for what, box in (("source", self.src), ("destination", self.dst)):
            try:
                ip = ipaddress.ip_address(box.value.strip())
            except ValueError:
                continue  # the packet itself says what is wrong with it
            if ip.version != 4 and not hasattr(self.ruleset, "chains_at"):  # nft reads IPv6 too
                out.append(f"{what} {box.value.strip()!r} is an IPv6 address; these are "
                           "iptables (IPv4) rules: write an IPv4 address like 192.168.56.1")
        for what, box in (("in-interface", self.in_iface), ("out-interface", self.out_iface)):
            problem = check_iface(box.value, what, self.interfaces)
            if problem:
                out.append(problem)
        return out

    def update(self) -> Any:
        """Re-run the trace for the packet in the editor; returns the Trace (or None).

        A packet netlab cannot trace (a malformed address, a port out of range, an
        interface this host does not have) leaves ``trace`` None and says why in
        ``error`` and in the widget; nothing is raised.
        """
        try:
            problems = self.problems()
            if problems:
                from netlab.netfilter.packet import PacketError

                raise PacketError("; ".join(problems))
            hook = self.hook.value
            in_iface = self.in_iface.value.strip() or None
            out_iface = self.out_iface.value.strip() or None
            self.ignored = []  # what the kernel does not know at this hook
            if hook in NO_IN_IFACE and in_iface:
                self.ignored.append(f"in-interface {in_iface} (a packet this host sends has "
                                    f"none at {hook})")
                in_iface = None
            if hook in NO_OUT_IFACE and out_iface:
                self.ignored.append(f"out-interface {out_iface} (not chosen yet at {hook}: "
                                    "routing comes after it)")
                out_iface = None
            self.trace = self.ruleset.trace(
                self.packet(), hook=hook, in_iface=in_iface, out_iface=out_iface,
                local_addrs=self.local_addresses(), ct_state=self.ct_state.value,
                ipsets=self._ipsets())
            self.error = None
        except Exception as exc:  # noqa: BLE001 - show the problem next to the editor
            self.trace = None
            self.error = _message(exc)
        self._render_trace()
        return self.trace

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One dict per rule looked at: position, rule, matched, why not, target."""
        if self.trace is None:
            return []
        return [{"position": s.position, "rule": s.rule_text, "matched": s.matched,
                 "why not": s.reason, "target": getattr(s, "target", None),
                 "chain": chain_header(self.ruleset, s.table, s.chain)}
                for s in self.trace.step_list]

    def _render_trace(self) -> None:
        if self.trace is None:
            self.verdict_html.value = ("<span style='color:#c0392b'>✘ cannot trace this "
                                       f"packet: {html.escape(self.error or '')}</span>")
            self.table_html.value = ""
            return
        t = self.trace
        nat = getattr(t, "nat", None)
        nat_text = ""
        if nat is not None:
            nat_text = f" — {_nat_text(nat)}"
        unc = " (uncertain: a rule uses something netlab cannot evaluate)" if getattr(
            t, "uncertain", False) else ""
        color = "#1e8449" if t.verdict == "ACCEPT" else "#c0392b"
        ignored = ("<br><i>ignored: " + html.escape("; ".join(self.ignored)) + "</i>"
                   if self.ignored else "")
        self.verdict_html.value = (f"verdict <b style='color:{color}'>{html.escape(str(t.verdict))}"
                                   f"</b>{html.escape(nat_text)}{html.escape(unc)}{ignored}")
        decisive = getattr(t, "decisive", None)
        body = []
        where = None
        for s in t.step_list:
            head = chain_header(self.ruleset, s.table, s.chain) if s.depth == 0 else None
            if head is not None and (s.table, s.chain) != where:
                where = (s.table, s.chain)
                body.append(f"<tr style='background:#eaf2f8'><td colspan='4'><b>{html.escape(head)}</b>"
                            "</td></tr>")
            is_decisive = decisive is not None and s is decisive
            bg = "#d5f5e3" if s.matched else "transparent"
            if is_decisive:
                bg = "#f9e79f"
            body.append(
                f"<tr style='background:{bg}'><td><code>{html.escape(str(s.position))}</code></td>"
                f"<td><code>{html.escape(str(s.rule_text or ''))}</code></td>"
                f"<td>{'✔ matched' if s.matched else '✘'}</td>"
                f"<td>{html.escape(str(s.reason or ''))}</td></tr>")
        self.table_html.value = ("<table><tr><th>rule</th><th>text</th><th>match</th>"
                                 "<th>failing condition</th></tr>" + "".join(body) + "</table>")

    # ------------------------------------------------------------ what-if
    def _probe_text(self) -> str:
        p = self.probe_spec
        return f"{p.get('kind')} {p.get('src')} → {p.get('dst')}:{p.get('dport', '')}"

    @property
    def changes(self) -> dict[str, bool]:
        return {name: t.value for name, t in self.toggles.items()}

    def _probe(self, scenario: Any) -> Any:
        mode = self.mode or "sim"
        if self._connect is not None:
            net = self._connect(mode=mode, scenario=scenario)
        else:
            from netlab.mode import connect

            net = connect(mode=mode, scenario=scenario, quiet=True)
        try:
            return net.probe(**self.probe_spec)
        finally:
            close = getattr(net, "close", None)
            if close is not None:
                close()

    def rerun(self) -> tuple[Any, Any] | None:
        """Probe the original host and the host with the ticked changes; show both."""
        if self.scenario is None:
            self.compare_html.value = "<i>what-ifs need a net or a scenario</i>"
            return None
        changes = self.changes
        try:
            if self.baseline is None:
                self.baseline = self._probe(self.scenario)
            self.variant_scenario = what_if(self.scenario, **changes)
            self.variant = self._probe(self.variant_scenario) if any(changes.values()) else (
                self.baseline)
        except Exception as exc:  # noqa: BLE001 - show why this what-if could not run
            self.error = _message(exc)
            self.compare_html.value = (f"<span style='color:#c0392b'>✘ what-if not run: "
                                       f"{html.escape(self.error)}</span>")
            return None
        # the packet editor traces the changed ruleset too
        self.ruleset = (_host_rules(self.variant_scenario.host)
                        if any(changes.values()) else self.base_ruleset)
        self.update()
        ticked = ", ".join(WHAT_IFS[n] for n, v in changes.items() if v) or "no change"
        self.diff = self.baseline.diff(self.variant)
        self.compare_html.value = diff_html(self.diff, "as the host is", f"with: {ticked}")
        if self.draw:
            self._draw_pair(ticked)
        return self.baseline, self.variant

    def _draw_pair(self, ticked: str) -> None:
        """The two journeys as pictures, side by side (drawn once per what-if combination)."""
        from netlab.viz.figure import figure_png
        from netlab.viz.journey import draw_journey

        if not self.baseline_image.value:
            self.baseline_figure = draw_journey(self.baseline, self.scenario,
                                                title="as the host is")
            self.baseline_image.value = figure_png(self.baseline_figure, dpi=WIDGET_DPI)
        key = tuple(sorted(n for n, v in self.changes.items() if v))
        cache = self._pngs
        if key not in cache:
            fig = draw_journey(self.variant, self.variant_scenario, title=f"with: {ticked}")
            cache[key] = (fig, figure_png(fig, dpi=WIDGET_DPI))
        self.variant_figure, self.variant_image.value = cache[key]

    # ------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
