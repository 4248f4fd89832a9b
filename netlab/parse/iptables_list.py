"""``iptables -L -n -v`` (the most pasted firewall listing) → ``state.firewall``.

The listing is turned back into ``iptables-save`` text, so the same
:class:`~netlab.netfilter.Ruleset` reads it and the simulator traces it.  Where
the listing is unambiguous that text is exact.  Where it is not, each rule says
so, in two kinds of ``#`` comment lines before it (``iptables-restore`` skips
them; :func:`netlab.netfilter.parse_iptables` attaches them to the rule):

``# netlab-hidden: ...``
    what the listing does not print but netlab restored without doubt (the
    ``-m tcp`` behind ``tcp dpt:80``, ``-m conntrack`` behind ``ctstate``,
    counters rounded to K/M/G);
``# netlab-lost: ...``
    what it cannot tell (no interfaces without ``-v``, a host name or port name
    without ``-n``, a condition netlab cannot read back): the condition is left
    out, so the rule matches more widely, and a trace whose packet matched such a
    rule marks its verdict uncertain.

The column layout follows iptables 1.8 ``xshared.c`` (``print_header``,
``print_rule4``: ``num pkts bytes target prot opt in out source destination``,
``xtables_print_num``: counters past 99999 in units of 1000 with K/M/G/T unless
``-x``; ``print_ifaces``: interface names are printed whole, ``%-6s`` being a
minimum width) and the match/target ``print`` functions of ``extensions/libxt_*.c``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from netlab.errors import ParseError
from netlab.model import HostState
from netlab.numbers import is_decimal
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import Cleaned, clean_lines

COMMAND = "iptables -L"
TABLES = ("filter", "nat", "mangle", "raw", "security")
_CHAIN = re.compile(r"^Chain (\S+) \((?:policy (\w+)(?: (\S+) packets, (\S+) bytes)?"
                    r"|(\d+) references?)\)$")
_HEADER = re.compile(r"^(?:num\s+)?(?:pkts\s+bytes\s+)?target\s+prot\s+opt\b")
_COUNT = re.compile(r"^(\d{1,20})([KMGT]?)$")
_OPT = frozenset(("--", "-f", "!f"))
_NEEDS_QUOTE = re.compile(r"[ \t\"'\\]")
_MAX_WRAPPED = 6  # continuation lines one rule may have
_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_IPV4 = re.compile(r"^!?\d{1,3}(?:\.\d{1,3}){3}(?:/(?:\d{1,2}|\d{1,3}(?:\.\d{1,3}){3}))?$")
# the services iptables prints by name without -n (netbase's /etc/services)
SERVICES = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67,
    "bootpc": 68, "tftp": 69, "http": 80, "www": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111,
    "ntp": 123, "netbios-ns": 137, "imap2": 143, "imap": 143, "snmp": 161, "ldap": 389,
    "https": 443, "microsoft-ds": 445, "isakmp": 500, "syslog": 514, "submission": 587,
    "ldaps": 636, "imaps": 993, "pop3s": 995, "openvpn": 1194, "ms-sql-s": 1433, "mysql": 3306,
    "postgresql": 5432, "http-alt": 8080, "webcache": 8080, "domain-s": 853,
    "mdns": 5353, "redis": 6379, "kube-api": 6443,
}
ICMP_NAMES = {
    "any": None, "echo-reply": "0", "destination-unreachable": "3", "network-unreachable": "3/0",
    "host-unreachable": "3/1", "protocol-unreachable": "3/2", "port-unreachable": "3/3",
    "fragmentation-needed": "3/4", "source-quench": "4", "redirect": "5", "echo-request": "8",
    "router-advertisement": "9", "router-solicitation": "10", "time-exceeded": "11",
    "ttl-zero-during-transit": "11/0", "parameter-problem": "12", "timestamp-request": "13",
    "timestamp-reply": "14",
}
# iptables 1.8.10+ prints the protocol number with -n (xshared.c proto_to_name)
PROTO_NUMBERS = {"0": "all", "1": "icmp", "6": "tcp", "17": "udp", "33": "dccp", "47": "gre",
                 "50": "esp", "51": "ah", "58": "ipv6-icmp", "132": "sctp", "136": "udplite"}
# the names iptables prints without -n for networks (netbase's /etc/networks)
NETWORKS = {"loopback": "127.0.0.0", "link-local": "169.254.0.0", "default": "0.0.0.0"}
_HOSTNAME = re.compile(r"^!?[A-Za-z0-9][\w.-]{0,252}(?:/\d{1,2})?$")
_KNOWN_PROTOS = frozenset([*PROTO_NUMBERS, *PROTO_NUMBERS.values(), "icmpv6", "mh", "ipv6"])
_TCP_FLAGS = (("FIN", 1), ("SYN", 2), ("RST", 4), ("PSH", 8), ("ACK", 16), ("URG", 32),
              ("ECE", 64), ("CWR", 128))


@dataclass
class _Rule:
    lineno: int
    line: str
    words: list[str]
    counters: tuple[int, int] | None
    proto: str = "all"
    target: str | None = None
    hidden: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)  # the words after the destination
    base: tuple[list[str], list[str], list[str]] = ((), (), ())  # type: ignore[assignment]


@dataclass
class _Chain:
    name: str
    lineno: int
    policy: str | None
    counters: tuple[int, int] | None
    rules: list[_Rule] = field(default_factory=list)


@dataclass
class _Table:
    name: str | None
    chains: list[_Chain] = field(default_factory=list)


def _count(word: str) -> tuple[int, bool] | None:
    """``12K`` → (12000, rounded); None for a word that is no counter."""
    m = _COUNT.match(word)
    if not m:
        return None
    return int(m.group(1)) * _SUFFIX[m.group(2)], bool(m.group(2))


def table_from_command(cmd: str | None) -> str | None:
    """The ``-t TABLE`` of an ``iptables -L`` command line (None when it names none)."""
    if not cmd:
        return None
    try:
        argv = shlex.split(cmd)
    except ValueError:
        argv = cmd.split()
    for i, word in enumerate(argv):
        if word in ("-t", "--table") and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith("--table="):
            return word.split("=", 1)[1]
        if word.startswith("-t") and not word.startswith("--") and len(word) > 2:
            return word[2:]
    return None


def _guess_table(chains: list[_Chain]) -> tuple[str, str | None]:
    """(table, note) for a listing whose command line is not in the paste."""
    names = {c.name for c in chains}
    targets = {r.words[r.words.index("-j") + 1] for c in chains for r in c.rules if "-j" in r.words}
    if targets & {"CT", "NOTRACK"}:
        table = "raw"
    elif targets & {"MARK", "TCPMSS", "TOS", "TTL", "CONNMARK", "TPROXY"} or (
            {"PREROUTING", "FORWARD", "POSTROUTING"} <= names):
        table = "mangle"
    elif targets & {"DNAT", "SNAT", "MASQUERADE", "REDIRECT"} or names & {"PREROUTING",
                                                                          "POSTROUTING"}:
        table = "nat"  # (the table pasted most with PREROUTING/POSTROUTING: Docker's DNAT)
    else:
        table = "filter"
    if table == "filter" and not names - {"INPUT", "FORWARD", "OUTPUT"} - {
            c.name for c in chains if c.policy is None}:
        return table, None  # the default table, and its chains say nothing else
    return table, (f"no `-t TABLE` in the paste: the chains and targets say `{table}`; "
                   f"put the command line (`$ iptables -t {table} -L -n -v`) above the paste "
                   "if that is wrong")


def parse_iptables_list(text: str | bytes | Cleaned, netns: str = "", *,
                        table: str | None = None, ipv6: bool | None = None) -> HostState:
    """Read ``iptables -L`` output (``-n``, ``-v``, ``-x``, ``--line-numbers``, ``-t``) as the firewall.

    The rules go into ``state.firewall[netns]`` as ``iptables-save`` text, each
    preceded by what the listing hid (``# netlab-hidden:``) or lost (``# netlab-lost:``);
    ``table`` is the ``-t`` the command named (else guessed from the chains, in a note);
    ``ipv6`` says it is ``ip6tables -L`` (else told by the command line or the addresses).
    A paste of several tables (one ``Chain INPUT`` after another) keeps each apart.
    """
    cleaned = clean_lines(text)
    cmd = cleaned.first_command()
    if table is None:
        table = table_from_command(cmd)
    if ipv6 is None and cmd:
        ipv6 = "ip6tables" in cmd
    if table is not None and table not in TABLES:
        raise ParseError(f"unknown table {table!r}", command=COMMAND,
                         hint="iptables tables are " + ", ".join(TABLES))
    tables = _read(cleaned)
    if not any(t.chains for t in tables):
        if not cleaned.lines:
            raise empty_error(COMMAND, cleaned)
        lineno, line = cleaned.lines[0]
        raise parse_error(COMMAND, "no `Chain NAME (policy ...)` line: this is not iptables -L output",
                          cleaned, lineno, line)
    state = HostState(source="paste")
    out: list[str] = []
    origin: dict[int, tuple[int, str]] = {}  # line of the save text -> line of the paste
    chosen: dict[str, _Table] = {}
    v6 = ipv6 or any(_looks_v6(w) for t in tables for c in t.chains for r in c.rules
                     for w in r.words if ":" in w)
    for i, tbl in enumerate(tables):
        name = tbl.name or table
        if name is None or (i > 0 and tbl.name is None):
            name, note = _guess_table(tbl.chains)
            if note:
                state.notes.append(f"`iptables -L` (line {tbl.chains[0].lineno}): {note}")
        if name in chosen:
            again = [c.name for c in tbl.chains]
            state.notes.append(f"`iptables -L`: chain(s) {', '.join(again)} of table {name!r} "
                               f"are listed again at line {tbl.chains[0].lineno}: the later "
                               "listing of each is used")
            earlier = {c.name: c for c in chosen[name].chains}
            earlier.update({c.name: c for c in tbl.chains})
            chosen[name] = _Table(name, list(earlier.values()))
        else:
            chosen[name] = tbl
    for name, tbl in chosen.items():
        missing = _missing_chains(tbl)
        if missing:
            state.notes.append(f"`iptables -L` ({name}): chain(s) {', '.join(missing)} are "
                               "jumped to but not in the paste: read as empty, and a trace "
                               "that takes such a jump is uncertain (paste the whole listing)")
        _emit(name, tbl, out, origin)
    save = "\n".join(out) + "\n"
    _check(save, origin)
    lost = sum(1 for t in tables for c in t.chains for r in c.rules if r.lost)
    if lost:
        state.notes.append(f"`iptables -L`: {lost} rule(s) lost information the listing does not "
                           "show (see each rule's `# netlab-lost:` line); a trace that matches one "
                           "is marked uncertain. `sudo iptables-save` shows everything")
    if v6:
        state.notes.append("`iptables -L` of IPv6 rules (ip6tables): kept out of the IPv4 "
                           "firewall; netlab traces IPv4 packets")
        if hasattr(state, "firewall6"):
            state.firewall6[netns] = save
    else:
        state.firewall[netns] = save
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state


def _missing_chains(tbl: _Table) -> list[str]:
    """User chains the rules jump to that the paste does not list (``iptables -L FORWARD``):
    declared empty, each jumping rule marked as having lost what that chain does."""
    from netlab.netfilter.validate import TARGET_EXTENSIONS

    have = {c.name for c in tbl.chains}
    missing: list[str] = []
    for ch in tbl.chains:
        for r in ch.rules:
            if r.target and r.target not in have and r.target not in TARGET_EXTENSIONS:
                r.lost.append(f"jumps to chain {r.target}, which the paste does not list")
                if r.target not in missing:
                    missing.append(r.target)
    for name in missing:
        tbl.chains.append(_Chain(name, tbl.chains[-1].lineno, None, None))
    return missing


def _looks_v6(word: str) -> bool:
    w = word.lstrip("!")
    return w.count(":") >= 2 and all(c in "0123456789abcdefABCDEF:./" for c in w)


def _emit(name: str, tbl: _Table, out: list[str], origin: dict[int, tuple[int, str]]) -> None:
    out.append(f"*{name}")
    for ch in tbl.chains:
        p, b = ch.counters or (0, 0)
        out.append(f":{ch.name} {ch.policy or '-'} [{p}:{b}]")
        origin[len(out)] = (ch.lineno, f"Chain {ch.name}")
    for ch in tbl.chains:
        for r in ch.rules:
            for h in r.hidden:
                out.append(f"# netlab-hidden: {h}")
            for lost in r.lost:
                out.append(f"# netlab-lost: {lost}")
            words = " ".join(_quote(w) for w in r.words)
            counters = f"[{r.counters[0]}:{r.counters[1]}] " if r.counters else ""
            out.append(f"{counters}-A {ch.name} {words}".rstrip())
            origin[len(out)] = (r.lineno, r.line)
    out.append("COMMIT")


def _quote(word: str) -> str:
    if not word or _NEEDS_QUOTE.search(word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def _check(save: str, origin: dict[int, tuple[int, str]]) -> None:
    """Layer 3 reads the text back: a rule it refuses is reported at the listing's line."""
    from netlab.netfilter import parse_iptables

    try:
        parse_iptables(save)
    except ParseError as exc:
        lineno, line = origin.get(exc.lineno or 0, (None, None))
        raise ParseError(f"read from `iptables -L`, this rule is not valid: {exc.reason}",
                         command=COMMAND, lineno=lineno, line=line,
                         hint=exc.hint or "check the line is whole; `sudo iptables-save` "
                         "prints the rules exactly") from None


def _read(cleaned: Cleaned) -> list[_Table]:
    tables = [_Table(None)]
    names: set[str] = set()  # the chains of the table being read
    chain: _Chain | None = None
    wrapped = 0  # continuation lines of the last rule (a terminal wraps a long one)
    verbose: bool | None = None
    for lineno, raw in cleaned.lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line.strip("#- ").strip()
            if line.startswith("# ----") and "tables" in body:  # `# ---- iptables -t nat -L ----`
                tables.append(_Table(table_from_command(body) or "filter"))
                chain, names = None, set()
            continue  # `# Warning: iptables-legacy tables present, ...` and other comments
        if line.startswith("Chain "):
            m = _CHAIN.match(line)
            if not m:
                raise parse_error(COMMAND, "a chain line is `Chain NAME (policy P ...)` or "
                                  "`Chain NAME (N references)`", cleaned, lineno, raw)
            if m.group(1) in names:
                tables.append(_Table(None))  # a second table's listing begins
                names = set()
            names.add(m.group(1))
            counters = None
            if m.group(3) is not None:
                pk, by = _count(m.group(3)), _count(m.group(4))
                if pk is None or by is None:
                    raise parse_error(COMMAND, "policy counters are `N packets, N bytes`",
                                      cleaned, lineno, raw)
                counters = (pk[0], by[0])
                verbose = True if verbose is None else verbose
            chain = _Chain(m.group(1), lineno, m.group(2), counters)
            tables[-1].chains.append(chain)
            continue
        if _HEADER.match(line):
            verbose = " in " in f" {line} " and " out " in f" {line} "
            continue
        if chain is None:
            raise parse_error(COMMAND, "a rule before any `Chain NAME (...)` line", cleaned,
                              lineno, raw, hint="paste the listing from its first `Chain` line")
        rule = _rule(line, lineno, raw, verbose)
        if rule is None:
            if not chain.rules:
                raise parse_error(COMMAND, "expected a rule: [num] [pkts bytes] target prot opt "
                                  "[in out] source destination [...]", cleaned, lineno, raw)
            prev = chain.rules[-1]  # a line the terminal wrapped: the end of the rule above
            wrapped += 1
            if wrapped > _MAX_WRAPPED:  # (and each rule's words are re-read a bounded number of times)
                raise parse_error(COMMAND, f"more than {_MAX_WRAPPED} lines after a rule that "
                                  "are not rules: a terminal wraps one rule onto a few lines, "
                                  "not this many", cleaned, lineno, raw)
            _extras(prev, [*prev.extras, *line.split()], replace=True)
            prev.line = prev.line + " " + line
            prev.hidden.append(f"line {lineno} read as the end of line {prev.lineno} (wrapped)")
            continue
        chain.rules.append(rule)
        wrapped = 0
    return [t for t in tables if t.chains]


def _rule(line: str, lineno: int, raw: str, verbose: bool | None) -> _Rule | None:
    """One rule line, or None when it is not one (the wrapped end of the one above)."""
    words = line.split()
    lead: list[tuple[int, bool]] = []
    while len(lead) < 3 and len(lead) < len(words):
        c = _count(words[len(lead)])
        if c is None:
            break
        lead.append(c)
    # [num] [pkts bytes]: 1 or 3 numbers with --line-numbers, 2 or 3 with -v
    if verbose is None:
        verbose = len(lead) >= 2
    nlead = (2 if verbose else 0) + (1 if len(lead) in (1, 3) else 0)
    if len(lead) < nlead or (verbose and len(lead) < 2):
        return None
    rest = words[nlead:]
    counters = None
    rounded = False
    if verbose:
        (pk, r1), (by, r2) = lead[nlead - 2], lead[nlead - 1]
        counters, rounded = (pk, by), r1 or r2
    # target (may be blank), prot, opt (blank in ip6tables), [in out], source, destination
    if len(rest) >= 2 and rest[0].lstrip("!") in _KNOWN_PROTOS and not _is_proto(rest[1]):
        target = None  # a rule with no -j: its target column is blank
    elif len(rest) >= 2 and _is_proto(rest[1]):
        target, rest = rest[0], rest[1:]
    else:
        return None
    prot, rest = rest[0], rest[1:]
    opt = None
    if rest and rest[0] in _OPT:
        opt, rest = rest[0], rest[1:]
    need = 4 if verbose else 2
    if len(rest) < need:
        return None
    in_if, out_if = (rest[0], rest[1]) if verbose else (None, None)
    src, dst = rest[need - 2], rest[need - 1]
    if not (_is_addr(src) and _is_addr(dst)):
        return None
    rule = _Rule(lineno, raw.strip(), [], counters)
    w = rule.words
    if rounded:
        rule.hidden.append("counters rounded to K/M/G by the listing (run with -x for exact ones)")
    if not verbose:
        rule.lost.append("interfaces: the listing shows -i/-o only with -v (the rule may "
                         "match fewer packets than read here)")
    _addr(rule, "-s", src)
    _addr(rule, "-d", dst)
    for flag, iface in (("-i", in_if), ("-o", out_if)):
        if iface is None or iface.lstrip("!") in ("*", "any"):
            continue
        neg = iface.startswith("!")
        name = iface.lstrip("!")
        if "\u2026" in name or len(name) > 15:  # (IFNAMSIZ: 15 characters at most)
            rule.lost.append(f"interface {iface!r} is cut short or too long (an interface name "
                             "has at most 15 characters); left out")
            continue
        if name.endswith("+"):
            rule.hidden.append(f"{flag} {name} is a wildcard: every interface whose name starts "
                               f"with {name[:-1]!r}")
        w.extend(["!", flag, name] if neg else [flag, name])
    neg_p = prot.startswith("!")
    p = prot.lstrip("!")
    p = PROTO_NUMBERS.get(p, p)
    if p != "all":
        w.extend(["!", "-p", p] if neg_p else ["-p", p])
    if opt == "-f":
        w.append("-f")
    elif opt == "!f":
        w.extend(["!", "-f"])
    rule.proto, rule.target = p, target
    _extras(rule, rest[need:])
    return rule


def _is_proto(word: str) -> bool:
    w = word.lstrip("!")
    return bool(w) and len(w) <= 16 and (is_decimal(w) or w.replace("-", "").isalnum()) and not (
        w.isupper() and len(w) > 4) and w[0].isalnum() and (w.islower() or is_decimal(w))


def _is_addr(word: str) -> bool:
    w = word.lstrip("!")
    if w in ("anywhere", "0.0.0.0/0", "::/0"):
        return True
    if _IPV4.match(word) or _looks_v6(w):
        return True
    # a host or network name (iptables -L without -n)
    return bool(_HOSTNAME.match(word)) and not is_decimal(w)


def _addr(rule: _Rule, flag: str, value: str) -> None:
    neg = value.startswith("!")
    v = value.lstrip("!")
    if v in ("anywhere", "0.0.0.0/0", "::/0"):
        return
    if _IPV4.match(v) or _looks_v6(v):
        if "/" not in v:
            v += "/128" if ":" in v else "/32"
    elif v == "localhost":
        v = "127.0.0.1/32"
        rule.hidden.append(f"{flag} localhost read as 127.0.0.1 (run with -n for addresses)")
    elif v.split("/")[0] in NETWORKS and "/" in v:
        name, plen = v.split("/", 1)
        v = f"{NETWORKS[name]}/{plen}"
        rule.hidden.append(f"{flag} {value.lstrip('!')} read as {v} (run with -n for addresses)")
    else:
        rule.lost.append(f"{flag} {value}: a host name (the listing was not run with -n); "
                         "left out")
        return
    rule.words.extend(["!", flag, v] if neg else [flag, v])


def _port(word: str, rule: _Rule) -> str | None:
    """A port or range as printed (``80``, ``http``, ``1000:2000``), as a number; None if unknown."""
    parts = word.split(":")
    out = []
    for part in parts:
        if is_decimal(part):
            out.append(part)
        elif part in SERVICES:
            out.append(str(SERVICES[part]))
            rule.hidden.append(f"port name {part!r} read as {SERVICES[part]}")
        else:
            return None
    return ":".join(out)


def _extras(rule: _Rule, words: list[str], replace: bool = False) -> None:
    """Read the words after the destination: matches (``tcp dpt:80``, ``ctstate ...``,
    ``/* comment */``) and the target's options (``to:172.17.0.2:80``)."""
    if replace:  # a wrapped rule: read all its words again
        rule.words[:], rule.hidden[:], rule.lost[:] = (list(x) for x in rule.base)
    else:
        rule.base = (list(rule.words), list(rule.hidden), list(rule.lost))
    rule.extras = list(words)
    _Extras(rule, words, rule.target).read()


class _Extras:
    """A left-to-right reader of the extras; each step consumes a known phrase."""

    def __init__(self, rule: _Rule, words: list[str], target: str | None) -> None:
        self.rule, self.words, self.target, self.i = rule, words, target, 0
        self.w = rule.words
        self.proto = rule.proto
        self.modules: list[str] = []
        self.tw: list[str] = []  # the target's options

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.words[j] if j < len(self.words) else None

    def take(self) -> str:
        word = self.words[self.i]
        self.i += 1
        return word

    def lost(self, what: str) -> None:
        self.rule.lost.append(what)

    def match(self, module: str, *opts: str) -> None:
        self.w.extend(["-m", module, *opts])
        if module not in self.modules:
            self.modules.append(module)

    def read(self) -> None:
        goto = False
        while self.i < len(self.words):
            start = self.i
            word = self.take()
            neg = False
            if word == "[goto]":
                goto = True
                continue
            if word == "!":
                neg = True
                word = self.take() if self.i < len(self.words) else ""
            if not self._one(word, neg):
                self.i = start
                break
        rest = self.words[self.i:]
        if rest:
            self._target_options(rest)
        shown = [m for m in self.modules if m != "comment"]
        if shown:
            self.rule.hidden.append("module names are not printed; read as "
                                    + ", ".join(f"-m {m}" for m in shown))
        if self.target:
            self.w.extend(["-g" if goto else "-j", self.target, *self.tw])

    def _one(self, word: str, neg: bool) -> bool:  # noqa: C901, PLR0911, PLR0912 - one branch a phrase
        bang = ["!"] if neg else []
        if word == "/*":
            parts = []
            while self.i < len(self.words) and self.peek() != "*/":
                parts.append(self.take())
            if self.i < len(self.words):
                self.take()
            else:
                self.rule.hidden.append("the comment has no closing */ (cut short?)")
            self.match("comment", "--comment", " ".join(parts))
            return True
        if word in ("tcp", "udp", "udplite", "sctp", "dccp") and word == self.proto:
            opts: list[str] = []
            while self.peek() is not None:
                nxt = self.peek() or ""
                m = re.match(r"^(spts?|dpts?):(!?)(\S+)$", nxt)
                if m:
                    self.take()
                    port = _port(m.group(3), self.rule)
                    name = "--sport" if m.group(1).startswith("s") else "--dport"
                    if port is None:
                        self.lost(f"{nxt}: port name unknown to netlab; left out")
                    else:
                        opts.extend([*(["!"] if m.group(2) else []), name, port])
                    continue
                if nxt.startswith("flags:") and word == "tcp":
                    self.take()
                    flags = _tcp_flags(nxt[6:])
                    if flags is None:
                        self.lost(f"{nxt}: not read; left out")
                    else:
                        opts.extend(["!", "--tcp-flags", *flags[1:]] if flags[0] == "!"
                                    else ["--tcp-flags", *flags])
                    continue
                if nxt.startswith("option=") and word == "tcp":
                    self.take()
                    v = nxt[7:]
                    opts.extend(["!", "--tcp-option", v[1:]] if v.startswith("!") else
                                ["--tcp-option", v])
                    continue
                break
            self.match(word, *opts)
            return True
        if word.startswith("icmptype") or (word == "icmp" and self.proto == "icmp"):
            if word == "icmp":
                nx = self.peek()
                if nx is not None and nx.lstrip("!") in ICMP_NAMES:
                    self.take()
                    value = ICMP_NAMES[nx.lstrip("!")]
                    if value is None:
                        self.match("icmp", "--icmp-type", "any")
                    else:
                        self.match("icmp", *(["!"] if nx.startswith("!") else []), "--icmp-type",
                                   value)
                    return True
                if nx is not None and nx.startswith("!type"):
                    word = "icmp!type"
                    self.take()
                elif nx is not None and nx.startswith("type"):
                    word = "icmptype"
                    self.take()
                else:
                    self.match("icmp")
                    return True
            inv = "!" in word
            typ = word.replace("icmp", "").replace("!", "").replace("type", "")
            if not typ:
                typ = self.take() if self.peek() is not None else ""
            if not is_decimal(typ):
                self.lost(f"icmp type {typ!r} not read; left out")
                return True
            value = typ
            if self.peek() == "code" and self.peek(1) is not None:
                self.take()
                value += "/" + self.take()
            elif self.peek() == "codes":
                self.take()
                self.take()
                self.lost("icmp code range not read; left out")
            self.match("icmp", *(["!"] if inv else []), "--icmp-type", value)
            return True
        if word in ("ctstate", "state", "ctstatus", "ctdir", "ctproto", "ctorigsrc", "ctorigdst",
                    "ctreplsrc", "ctrepldst", "ctorigsrcport", "ctorigdstport", "ctreplsrcport",
                    "ctrepldstport") and self.peek() is not None:
            value = self.take()
            if word == "state":
                self.match("state", *bang, "--state", value)
            else:
                self.match("conntrack", *bang, f"--{word}", value)
            return True
        if word == "ADDRTYPE" and self.peek() == "match":
            self.take()
            opts = []
            while self.peek() is not None and re.match(r"^(src|dst)-type$", self.peek() or ""):
                which = self.take()
                value = self.take() if self.peek() is not None else ""
                if value.startswith("!"):
                    opts.extend(["!", f"--{which}", value[1:]])
                elif value == "!" and self.peek() is not None:
                    opts.extend(["!", f"--{which}", self.take()])
                else:
                    opts.extend([f"--{which}", value])
            while self.peek() in ("limit-in", "limit-out"):
                opts.append(f"--{self.take()}-iface")
            self.match("addrtype", *opts)
            return True
        if word == "multiport" and self.peek() in ("ports", "sports", "dports"):
            kind = self.take()
            value = self.take() if self.peek() is not None else ""
            inv = neg
            if value == "!" and self.peek() is not None:
                inv, value = True, self.take()
            elif value.startswith("!"):
                inv, value = True, value[1:]
            ports = [_port(p, self.rule) for p in value.split(",")]
            if any(p is None for p in ports):
                self.lost(f"multiport {kind} {value}: a port name unknown to netlab; left out")
                return True
            self.match("multiport", *(["!"] if inv else []), f"--{kind}", ",".join(ports))  # type: ignore[arg-type]
            return True
        if word == "match-set" and self.peek(1) is not None:
            name, dirs = self.take(), self.take()
            self.match("set", *bang, "--match-set", name, dirs)
            return True
        if word == "mark" and self.peek() == "match":
            self.take()
            inv = neg
            if self.peek() == "!":
                self.take()
                inv = True
            value = self.take() if self.peek() is not None else ""
            self.match("mark", *(["!"] if inv else []), "--mark", value)
            return True
        if word == "connmark" and self.peek() == "match":
            self.take()
            inv = neg
            if self.peek() == "!":
                self.take()
                inv = True
            self.match("connmark", *(["!"] if inv else []), "--mark", self.take())
            return True
        if word.startswith("MAC") and len(word) in (3, 20) and (len(word) == 20 or self.peek()):
            # (iptables before 1.8.8 printed no space after MAC: libxt_mac's listing fix, 2021)
            value = word[3:] if len(word) == 20 else self.take()
            inv = neg
            if value == "!" and self.peek() is not None:
                inv, value = True, self.take()
            self.match("mac", *(["!"] if inv else []), "--mac-source", value)
            return True
        if word == "PHYSDEV" and self.peek() == "match":
            self.take()
            opts = []
            while self.peek() is not None and (self.peek() or "").startswith("--physdev") or \
                    self.peek() == "!" and (self.peek(1) or "").startswith("--physdev"):
                if self.peek() == "!":
                    opts.append(self.take())
                opt = self.take()
                opts.append(opt)
                if opt in ("--physdev-in", "--physdev-out") and self.peek() is not None:
                    opts.append(self.take())
            self.match("physdev", *opts)
            return True
        if word in ("source", "destination") and self.peek() == "IP" and self.peek(1) == "range":
            self.take()
            self.take()
            value = self.take() if self.peek() is not None else ""
            inv = neg
            if value == "!" and self.peek() is not None:
                inv, value = True, self.take()
            self.match("iprange", *(["!"] if inv else []),
                       "--src-range" if word == "source" else "--dst-range", value)
            return True
        if word == "limit:" and self.peek() == "avg" and self.peek(1) is not None:
            self.take()
            rate = self.take()
            opts = ["--limit", rate]
            if self.peek() == "burst" and self.peek(1) is not None:
                self.take()
                opts += ["--limit-burst", self.take()]
            self.match("limit", *opts)
            return True
        if word == "PKTTYPE" and self.peek() in ("=", "!=") and self.peek(1) is not None:
            op = self.take()
            self.match("pkttype", *(["!"] if op == "!=" else []), "--pkt-type", self.take())
            return True
        if word in ("owner", "recent:", "hashlimit:", "statistic", "u32", "STRING", "socket",
                    "policy", "rpfilter", "cgroup", "length", "TTL", "ttl", "dscp", "tos",
                    "helper", "devgroup", "connbytes", "connlimit", "time", "string", "quota:",
                    "bpf", "nfacct-name"):
            # a match netlab does not read back from the listing: the rest of the line is its
            rest = " ".join([*bang, word, *self.words[self.i:]])
            self.i = len(self.words)
            self.lost(f"`{rest}`: netlab cannot read this condition back from a listing; "
                      "left out")
            return True
        return False

    def _target_options(self, rest: list[str]) -> None:
        """The words the target printed (``to:...``, ``reject-with ...``); what netlab cannot
        read back is recorded as lost."""
        t, tw = self.target, self.tw
        text = " ".join(rest)
        if t in ("DNAT", "SNAT") and rest[0].startswith("to:"):
            tw.extend(["--to-destination" if t == "DNAT" else "--to-source", rest[0][3:]])
            tw.extend(f"--{w}" for w in rest[1:] if w in ("random", "persistent", "random-fully"))
            rest = [w for w in rest[1:] if w not in ("random", "persistent", "random-fully")]
        elif t == "MASQUERADE" and rest[:2] == ["masq", "ports:"] and len(rest) > 2:
            tw.extend(["--to-ports", rest[2]])
            rest = rest[3:]
        elif t == "REDIRECT" and rest[:2] == ["redir", "ports"] and len(rest) > 2:
            tw.extend(["--to-ports", rest[2]])
            rest = rest[3:]
        elif t == "REJECT" and rest[0] == "reject-with" and len(rest) > 1:
            tw.extend(["--reject-with", rest[1]])
            rest = rest[2:]
        elif t == "LOG" and rest[0] == "LOG":
            rest = self._log(rest[1:])
        elif t == "MARK" and rest[0] == "MARK" and len(rest) > 2:
            opt = {"set": "--set-xmark" if "/" in rest[2] else "--set-mark", "xset": "--set-xmark",
                   "or": "--or-mark", "and": "--and-mark", "xor": "--xor-mark"}.get(rest[1])
            if opt:
                tw.extend([opt, rest[2]])
                rest = rest[3:]
        elif t == "CT" and rest[:2] == ["CT", "notrack"]:
            tw.append("--notrack")
            rest = rest[2:]
        elif t == "TCPMSS" and rest[:4] == ["TCPMSS", "clamp", "to", "PMTU"]:
            tw.append("--clamp-mss-to-pmtu")
            rest = rest[4:]
        elif t == "TCPMSS" and rest[:2] == ["TCPMSS", "set"] and len(rest) > 2:
            tw.extend(["--set-mss", rest[2]])
            rest = rest[3:]
        if rest:
            self.lost(f"`{text}`: netlab cannot read this back from a listing; left out"
                      if self.target else f"`{text}`: not read; left out")

    def _log(self, rest: list[str]) -> list[str]:
        """``LOG flags 0 level 4 prefix "X"`` → ``--log-prefix "X"`` (and ``--log-level N``
        when not the default 4), in the order libxt_LOG's save prints them."""
        i, level, prefix = 0, None, None
        while i < len(rest):
            if rest[i] == "flags" and i + 1 < len(rest):
                i += 2
            elif rest[i] == "level" and i + 1 < len(rest):
                level = rest[i + 1]
                i += 2
            elif rest[i] == "prefix" and i + 1 < len(rest):
                joined = " ".join(rest[i + 1:])
                if joined.startswith('"') and '"' in joined[1:]:
                    end = joined.index('"', 1)
                    prefix = joined[1:end]
                    rest, i = joined[end + 1:].split(), 0
                    continue
                prefix = rest[i + 1]
                i += 2
            else:
                break
        if prefix is not None:
            self.tw.extend(["--log-prefix", prefix])
        if level is not None and level != "4":
            self.tw.extend(["--log-level", level])
        return rest[i:]


def _tcp_flags(value: str) -> list[str] | None:
    """``0x17/0x02`` (with -n) or ``FIN,SYN,RST,ACK/SYN`` → the two words of ``--tcp-flags``."""
    inv = value.startswith("!")
    value = value.lstrip("!")
    if "/" not in value:
        return None
    mask, comp = value.split("/", 1)

    def names(v: str) -> str | None:
        if v.lower().startswith("0x"):
            try:
                n = int(v, 16)
            except ValueError:
                return None
            got = [name for name, bit in _TCP_FLAGS if n & bit]
            return ",".join(got) if got else "NONE"
        return v if all(p in {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "ALL",
                              "NONE"} for p in v.split(",")) else None

    a, b = names(mask), names(comp)
    if a is None or b is None:
        return None
    return ["!", a, b] if inv else [a, b]
