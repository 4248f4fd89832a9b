"""Layer 2 — text a person can paste → :class:`~netlab.model.HostState`.

One function per command (``parse_ip_addr``, ``parse_ip_route``, ``parse_brctl_show``,
...) and :func:`parse_host`, which takes several pastes, recognises each (or is
told by keyword) and merges them into one picture of the host.  Every parser
tolerates what real pastes contain (see :mod:`netlab.parse.clean`) and raises
:class:`netlab.ParseError` naming the command, the line number and the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from netlab.errors import ParseError
from netlab.model import HostState
from netlab.netfilter.limits import check_size
from netlab.parse.bridge import parse_brctl_show, parse_bridge_fdb, parse_bridge_link
from netlab.parse.clean import Cleaned, as_text, clean_lines, split_by_prompts
from netlab.parse.conntrack import parse_conntrack
from netlab.parse.detect import PARSER_FOR, detect, detect_lines, hint_for, parse_command
from netlab.parse.docker import parse_docker_network_inspect
from netlab.parse.docker_inspect import parse_docker_inspect
from netlab.parse.ifconfig import parse_ifconfig
from netlab.parse.ipjson import parse_ip_json
from netlab.parse.iproute import parse_ip_addr, parse_ip_link, parse_ip_route
from netlab.parse.iptables import parse_iptables_text
from netlab.parse.iptables_list import parse_iptables_list, table_from_command
from netlab.parse.nft import parse_nft_ruleset
from netlab.parse.prose import extract_code, line_range, ranges
from netlab.parse.route_table import parse_route_n
from netlab.parse.sockets import parse_sockets
from netlab.parse.sysctl import parse_sysctl, proc_path_to_key

__all__ = [
    "parse_host", "parse_ip_addr", "parse_ip_link", "parse_ip_route", "parse_brctl_show",
    "parse_bridge_link", "parse_bridge_fdb", "parse_ip_json", "parse_conntrack",
    "parse_docker_network_inspect", "parse_docker_inspect", "parse_sysctl", "parse_iptables_text", "detect",
    "parse_iptables_list", "parse_ifconfig", "parse_route_n", "parse_sockets",
    "parse_nft_ruleset",
    "clean_lines",
]

Parser = Callable[..., HostState]


def parse_docker_json(text: str | bytes, netns: str = "") -> HostState:
    """``docker network inspect`` or ``docker inspect CONTAINER`` JSON, whichever it is
    (the ``docker=`` keyword of :func:`parse_host`)."""
    key = detect_lines(clean_lines(text))
    if key == "docker inspect":
        return parse_docker_inspect(text, netns=netns)
    return parse_docker_network_inspect(text, netns=netns)

# keyword of parse_host → parser
KEYWORDS: dict[str, Parser] = {
    "ip_addr": parse_ip_addr,
    "ip_link": parse_ip_link,
    "ip_route": parse_ip_route,
    "brctl": parse_brctl_show,
    "brctl_show": parse_brctl_show,
    "bridge_link": parse_bridge_link,
    "bridge_fdb": parse_bridge_fdb,
    "iptables": parse_iptables_text,
    "iptables_save": parse_iptables_text,
    "iptables_list": parse_iptables_list,
    "ifconfig": parse_ifconfig,
    "route": parse_route_n,
    "route_n": parse_route_n,
    "netstat_rn": parse_route_n,
    "ss": parse_sockets,
    "netstat": parse_sockets,
    "sockets": parse_sockets,
    "nft": parse_nft_ruleset,
    "ip_json": parse_ip_json,
    "conntrack": parse_conntrack,
    "docker": parse_docker_json,
    "docker_network": parse_docker_network_inspect,
    "docker_inspect": parse_docker_inspect,
    "sysctl": parse_sysctl,
}

_BY_NAME: dict[str, Parser] = {
    "parse_ip_addr": parse_ip_addr, "parse_ip_link": parse_ip_link,
    "parse_ip_route": parse_ip_route, "parse_brctl_show": parse_brctl_show,
    "parse_bridge_link": parse_bridge_link, "parse_bridge_fdb": parse_bridge_fdb,
    "parse_iptables_text": parse_iptables_text, "parse_conntrack": parse_conntrack,
    "parse_iptables_list": parse_iptables_list, "parse_ifconfig": parse_ifconfig,
    "parse_route_n": parse_route_n, "parse_sockets": parse_sockets,
    "parse_nft_ruleset": parse_nft_ruleset,
    "parse_sysctl": parse_sysctl, "parse_ip_json": parse_ip_json,
    "parse_docker_network_inspect": parse_docker_network_inspect,
    "parse_docker_inspect": parse_docker_inspect,
}

SUPPORTED = ("ip addr", "ip link", "ip route", "ip -br addr", "brctl show", "bridge link",
             "bridge fdb", "iptables-save", "iptables -S", "iptables -L -n -v", "ifconfig",
             "route -n", "netstat -rn", "ss -tlnp", "netstat -tlnp", "nft list ruleset",
             "ip -j …", "bridge -j …",
             "conntrack -L", "docker network inspect", "docker inspect", "sysctl")


# a command netlab does not read → the one it reads instead (for the error message)
INSTEAD = {
    "brctl showmacs": "bridge fdb", "ip rule": "ip route", "docker ps": "docker network inspect",
    "ip route get": "ip route",
}
_TABLE_NAMES = {"255": "local", "254": "main", "253": "default"}


def parser_for(command: str) -> Parser | None:
    """The parser for a command key from :func:`netlab.parse.detect.detect`."""
    name = PARSER_FOR.get(command)
    return _BY_NAME.get(name) if name else None


def _cat_proc_sys(cmd: str, cleaned: Cleaned, netns: str) -> HostState | None:
    """``$ cat /proc/sys/net/ipv4/ip_forward`` or ``$ sysctl -n net.ipv4.ip_forward``
    followed by ``1``: the key is in the command, the value alone in the output."""
    words = cmd.split()
    at = next((i for i, w in enumerate(words) if w.rsplit("/", 1)[-1] in ("cat", "sysctl")),
              None)
    if at is None:
        return None
    prog, args = words[at].rsplit("/", 1)[-1], words[at + 1:]
    if prog == "cat":
        if not args or not all(p.startswith("/proc/sys/") for p in args):
            return None
        keys = [proc_path_to_key(p) for p in args]
    else:
        flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
        keys = [a for a in args if not a.startswith("-")]
        if ("n" not in flags and "--values" not in args) or not keys or any(
                "=" in k for k in keys):
            return None
        keys = [proc_path_to_key(k) if k.startswith("/proc/sys/") else k.replace("/", ".")
                if "." not in k else k for k in keys]
    if len(cleaned.lines) != len(keys):
        lineno, line = cleaned.lines[min(len(keys), len(cleaned.lines) - 1)]
        raise ParseError(f"`{cmd}` prints {len(keys)} value line(s) (one per key), this paste "
                         f"has {len(cleaned.lines)}", command=cmd, lineno=lineno, line=line)
    state = HostState(source="paste")
    state.sysctls[netns] = {k: " ".join(v.split()) for k, (_, v) in
                            zip(keys, cleaned.lines, strict=True)}
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state


_NSID_LINE = re.compile(r"^(?:nsid (\d{1,10})(?: \(iproute2 netns name: ([^\s()]+)\))?"
                        r"|current-nsid \S+)$")
_NETNS_LINE = re.compile(r"^([^\s()]+)(?: \(id: (\d{1,10})\))?$")


def _netns_list(cleaned: Cleaned, netns: str) -> HostState | None:
    """``ip netns list`` (``web (id: 0)``) or ``ip netns list-id`` (``nsid 0 (iproute2 netns
    name: web)``): which netnsid, as seen from here, is which named namespace."""
    state = HostState(source="paste")
    here = state.namespace(netns)
    for _, line in cleaned.lines:
        m = _NSID_LINE.match(line.strip())
        if m:
            if m.group(2):
                here.ids[int(m.group(1))] = m.group(2)
            continue
        m = _NETNS_LINE.match(line.strip())
        if not m:
            return None
        state.namespace(m.group(1))
        if m.group(2) is not None:
            here.ids[int(m.group(2))] = m.group(1)
    state.hostname = cleaned.hostname()
    return state


def _parse_part(cmd: str | None, text: str, start: int, netns: str) -> HostState | None:
    cleaned = clean_lines(text, start=start)
    if not cleaned.lines:
        return None  # a prompt with no output, or only blank / `...` lines
    key, ran_in = parse_command(cmd) if cmd else (None, None)
    if ran_in and not netns:
        netns = ran_in  # `ip netns exec web ip addr`: what follows is web's
    if cmd and key in (None, "sysctl"):
        state = _cat_proc_sys(cmd, cleaned, netns)
        if state is not None:
            return state
    if key == "ip netns":
        state = _netns_list(cleaned, netns)
        if state is not None:
            return state
    if key is None or (parser_for(key) is None and key not in INSTEAD):
        # a prompt naming a command netlab has no parser for: the output may still say
        key = detect_lines(cleaned) or key
    parser = parser_for(key) if key else None
    if parser is None:
        lineno, line = cleaned.lines[0]
        if key:
            wanted = INSTEAD.get(key)
            hint = hint_for(wanted or "ip addr", cleaned)
            raise ParseError(
                f"this is `{key}` output, which netlab does not read"
                + (f"; it reads `{wanted}`" if wanted else ""),
                command=wanted or cmd or key, lineno=lineno, line=line, hint=hint)
        raise ParseError(
            "cannot tell which command printed this paste",
            command=cmd, lineno=lineno, line=line,
            hint="netlab reads the output of: " + ", ".join(f"`{c}`" for c in SUPPORTED)
                 + "; a prompt line such as `$ ip addr` before the output names it, "
                   "or pass it by keyword (parse_host(ip_addr=...))",
        )
    if key in ("iptables -S", "iptables-save") and cmd:
        argv = cmd.split()
        v6 = any(w.rsplit("/", 1)[-1].startswith("ip6tables") for w in argv)
        if key == "iptables -S":
            cleaned = _with_table(cmd, cleaned)
        if v6:  # `ip6tables-save`: the IPv6 family, kept and shown, not traced
            return parse_iptables_text(cleaned, netns=netns, family=6)
    if key == "iptables -L":
        return parse_iptables_list(cleaned, netns=netns, table=table_from_command(cmd),
                                   ipv6=bool(cmd) and "ip6tables" in (cmd or ""))
    if key == "route -n":
        return parse_route_n(cleaned, netns=netns, command=cmd)
    state = parser(cleaned, netns=netns)
    if key in ("ip route", "ip -j route") and cmd:
        _route_table_from_command(cmd, state)
    return state


def _route_table_from_command(cmd: str, state: HostState) -> None:
    """``ip route show table local`` prints no ``table`` on its lines: the prompt names it."""
    words = cmd.split()
    for i, word in enumerate(words[:-1]):
        if word in ("table", "tab", "t") and words[i + 1] not in ("all", "0", "unspec"):
            table = _TABLE_NAMES.get(words[i + 1], words[i + 1])
            for route in state.route_list:
                route.table = table
            return


def _with_table(cmd: str, cleaned: Cleaned) -> Cleaned:
    """``iptables -t nat -S`` prints no table name: put it back (``*nat`` ... ``COMMIT``),
    so a paste of several tables keeps each rule in its own table."""
    if any(line.startswith("*") for _, line in cleaned.lines) \
            or detect_lines(cleaned) != "iptables -S":
        return cleaned  # already has its tables, or is not `-S` output at all
    argv = cmd.split()
    table = "filter"
    for i, word in enumerate(argv):
        if word in ("-t", "--table") and i + 1 < len(argv):
            table = argv[i + 1]
        elif word.startswith("--table="):
            table = word.split("=", 1)[1]
        elif word.startswith("-t") and len(word) > 2 and not word.startswith("--"):
            table = word[2:]
    if table not in ("filter", "nat", "mangle", "raw", "security"):
        return cleaned
    first, last = cleaned.lines[0][0], cleaned.lines[-1][0]
    return Cleaned(lines=[(first, f"*{table}"), *cleaned.lines, (last, "COMMIT")],
                   prompts=cleaned.prompts, elided=cleaned.elided)


# programs after a `|` that pass the output on whole (a pager, a pretty-printer)
_NOT_FILTERS = frozenset(("tee", "cat", "sudo", "less", "more", "column"))


def _passes_whole(stage: str) -> bool:
    """``| less``, ``| tee out.txt``, ``| python3 -m json.tool``, ``| jq .``: nothing dropped."""
    words = stage.split()
    prog = words[0].rsplit("/", 1)[-1]
    if prog in _NOT_FILTERS:
        return True
    if prog.startswith("python") and "json.tool" in words:
        return True
    return prog == "jq" and [w.strip("'\"") for w in words[1:] if not w.startswith("-")] in ([], ["."])


def split_pipeline(cmd: str) -> tuple[str, list[str]]:
    """``"sudo iptables-save | grep DOCKER"`` → ``("sudo iptables-save", ["grep DOCKER"])``
    (a ``|`` inside quotes or ``||`` does not split)."""
    if "|" not in cmd:
        return cmd, []
    pieces: list[str] = []
    quote = ""
    start = i = 0
    while i < len(cmd):
        c = cmd[i]
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif c == "|":
            if cmd[i + 1:i + 2] == "|":  # `a || b`: not a pipe
                i += 2
                continue
            pieces.append(cmd[start:i].strip())
            start = i + 1
        i += 1
    pieces.append(cmd[start:].strip())
    return pieces[0], [p for p in pieces[1:] if p]


_PROSE = re.compile(r"^[A-Za-z(][^\t=]{0,300}[:.!?)]$")


def _looks_like_prose(line: str) -> bool:
    """A sentence a person wrote around a paste: "Here is `ip route`:", "Thanks!"."""
    text = line.strip()
    return bool(text) and ("`" in text or (text.count(" ") >= 2 and bool(_PROSE.match(text))))


def _without_prose_edges(part: str, *, skip_first: bool) -> tuple[str, list[int]]:
    """``part`` with up to three prose lines blanked at its start and at its end (the line
    count kept), and their offsets in the part."""
    lines = part.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    dropped: list[int] = []
    body = [i for i, line in enumerate(lines) if line.strip() and not (skip_first and i == 0)]
    for order in (body, body[::-1]):
        for i in order[:3]:
            if i in dropped or not _looks_like_prose(lines[i]):
                break
            dropped.append(i)
    for i in dropped:
        lines[i] = ""
    return "\n".join(lines), sorted(dropped)


_SHELLS = frozenset(("sh", "bash", "ash", "dash", "zsh", "busybox"))


def _shell_in(cmd: str) -> str | None:
    """The namespace an interactive shell opens in: ``docker exec -it web sh``, ``ip netns exec
    web bash``, ``nsenter -t 4242 -n sh`` → the commands typed after it ran there (until ``exit``
    or the outer prompt comes back)."""
    words = cmd.split()
    while words and words[0] in ("sudo", "doas"):
        words = words[1:]
    if not words or words[-1].rsplit("/", 1)[-1] not in _SHELLS:
        return None
    key, ran_in = parse_command(" ".join(words[:-1] + ["true"]))
    return ran_in if ran_in and key is None else None


def _parse_paste(text: str, netns: str) -> list[HostState]:
    """One positional paste: its code blocks (prose, quotes and HTML folds dropped), each
    command's part read.  In a paste of several commands a part netlab cannot read becomes
    a note with its line range; a paste with nothing readable raises the first error.
    A paste with more iptables rules, chains or tables than any real host is refused first
    (:mod:`netlab.netfilter.limits`)."""
    check_size(text)
    code, notes = extract_code(text)
    out: list[HostState] = []
    errors: list[tuple[int, int, str | None, ParseError]] = []
    parts = split_by_prompts(code)
    lines = code.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    session: tuple[str, str] | None = None  # (namespace, the outer prompt) inside `docker exec -it web sh`
    for cmd, part, start in parts:
        prompt_line = lines[start - 1] if cmd and start - 1 < len(lines) else ""
        outer = prompt_line[:prompt_line.find(cmd)].strip() if cmd and cmd in prompt_line else ""
        if session is not None and cmd and (cmd.split()[0] in ("exit", "logout")
                                            or (outer and outer == session[1])):
            ended = cmd.split()[0] in ("exit", "logout")
            session = None
            if ended:
                continue
        opened = _shell_in(cmd) if cmd else None
        if opened is not None and not netns:
            session = (opened, outer)
            continue
        main_cmd, filters = split_pipeline(cmd) if cmd else (cmd, [])
        filters = [f for f in filters if not _passes_whole(f)]
        end = min(start + part.replace("\r\n", "\n").replace("\r", "\n").count("\n"), len(lines))
        while end > start and not lines[end - 1].strip():
            end -= 1
        where = session[0] if session else netns
        try:
            try:
                partial = _parse_part(main_cmd, part, start, where)
            except ParseError:
                # "Here is my `ip route`:" above the output, "Thanks!" below it: blank such
                # lines at the part's edges and read it again (the first error stands otherwise)
                trimmed, dropped = _without_prose_edges(part, skip_first=cmd is not None)
                if not dropped:
                    raise
                try:
                    partial = _parse_part(main_cmd, trimmed, start, where)
                except ParseError:
                    partial = _parse_part(main_cmd, part, start, where)  # re-raise the original
                if partial is not None:
                    partial.notes.append(f"prose around the output skipped "
                                         f"({ranges([start + i for i in dropped])})")
        except ParseError as exc:
            error = exc
            if filters:
                error = ParseError(exc.reason, command=exc.command, lineno=exc.lineno, line=exc.line,
                                   hint=f"this output went through `{' | '.join(filters)}`, so lines are "
                                        f"missing: paste all of what `{main_cmd}` prints"
                                        + (f" ({exc.hint})" if exc.hint else ""))
            errors.append((start, end, cmd, error))
            continue
        if partial is None:
            continue
        if filters:
            partial.notes.append(f"`{cmd}` ({line_range(start, end)}): a filtered paste — the output "
                                 f"went through `{' | '.join(filters)}`, so lines it dropped are missing")
        out.append(partial)
    if errors and not out:
        raise errors[0][3]
    for first, last, cmd, err in errors:
        what = f"`{cmd}`" if cmd else "text with no prompt"
        at = f"line {err.lineno}: " if err.lineno is not None else ""
        notes.append(f"{line_range(first, last)} ({what}) not read ({at}{err.reason})"
                     + (f" — {err.hint}" if err.hint else ""))
    if notes:
        extra = HostState(source="paste")
        extra.notes = notes
        extra.namespace(netns)
        out.append(extra)
    return out


def parse_host(*texts: str | bytes, netns: str = "", **named: str | bytes | Iterable[str]
               ) -> HostState:
    """Read several pastes of one host into one :class:`HostState`.

    Each positional paste is recognised by its content, or by a prompt line
    (``$ ip route``) — one paste may hold several commands, each after its
    prompt.  Keywords say what a paste is: ``ip_addr``, ``ip_link``, ``ip_route``,
    ``brctl``, ``bridge_link``, ``bridge_fdb``, ``iptables``, ``ip_json``,
    ``conntrack``, ``docker``, ``sysctl``, ``iptables_list`` (``iptables -L``), ``ifconfig``,
    ``route_n`` (``route -n``, ``netstat -rn``), ``ss`` / ``netstat`` / ``sockets``
    (listening sockets) and ``nft``.  Lesson 1 builds the article's host::

        state = netlab.parse_host(ip_addr=..., ip_route=..., brctl=..., iptables=...)
    """
    unknown = sorted(set(named) - set(KEYWORDS))
    if unknown:
        raise ParseError(f"unknown keyword(s) {unknown}",
                         hint="use one of: " + ", ".join(sorted(KEYWORDS)))
    partials: list[HostState] = []
    for text in texts:
        if not isinstance(text, (str, bytes)):
            raise ParseError(f"a paste must be text, not {type(text).__name__}")
        partials.extend(_parse_paste(as_text(text), netns))
    for key, value in named.items():
        values = [value] if isinstance(value, (str, bytes)) else list(value)
        for text in values:
            if not isinstance(text, (str, bytes)):
                raise ParseError(f"{key}= must be text, not {type(text).__name__}")
            parser = KEYWORDS[key]
            if parser is parse_iptables_text and detect(text) == "iptables -L":
                parser = parse_iptables_list  # iptables=<an `iptables -L` listing>: read it as one
            partials.append(parser(text, netns=netns))
    state = HostState(source="paste")
    state.merge(_combine(partials))
    state.namespace(netns)
    return state.normalise()


def _combine(partials: list[HostState]) -> HostState:
    """All partial states side by side in one (merging that into an empty state then
    removes duplicates in one pass, so many pastes cost linear time)."""
    out = HostState(source="paste")
    out.namespaces = []
    firewall: dict[str, list[str]] = {}
    firewall6: dict[str, list[str]] = {}
    for p in partials:
        out.namespaces.extend(p.namespaces)
        for attr in ("links", "addrs", "route_list", "bridges", "ports", "fdb",
                     "conntrack_entries", "docker_networks", "listeners", "notes", "containers"):
            getattr(out, attr).extend(getattr(p, attr))
        for ns, values in p.sysctls.items():
            out.sysctls.setdefault(ns, {}).update(values)
        for ns, text in p.firewall.items():
            firewall.setdefault(ns, []).append(text)
        for ns, text in p.firewall6.items():
            firewall6.setdefault(ns, []).append(text)
        out.nftables.update(p.nftables)
        out.hostname = out.hostname or p.hostname
    out.firewall = {ns: "".join(t if t.endswith("\n") else t + "\n" for t in dict.fromkeys(texts))
                    for ns, texts in firewall.items()}
    out.firewall6 = {ns: "".join(t if t.endswith("\n") else t + "\n" for t in dict.fromkeys(texts))
                     for ns, texts in firewall6.items()}
    return out
