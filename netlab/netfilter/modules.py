"""Every fact netlab knows about iptables' match modules and targets, in one place.

One :class:`MatchModule` row per ``-m`` module: its options with how many values
each takes, the packet fields it reads, the compiler that evaluates it
(``netlab.netfilter.matches``; None: parsed and validated, not modelled), the
protocols it needs and the option it cannot go without.  The validator's option
tables (``validate.MATCH_OPTIONS``), the modelled-match list, the parser's
zero/two-value option sets and the simulator's verdict-cache key are derived
from these rows.  Adding a match: a row here and its compiler in matches.py.

``SERVICES`` is the one table of port names netlab reads (never this machine's
/etc/services, so a rule means the same everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: packet fields a match may read (``reads``); the simulator's verdict cache keys on them
FIELDS = frozenset({
    "src", "dst", "proto", "in_iface", "out_iface", "fragment",  # every rule's own -s -d -p -i -o -f
    "sport", "dport", "tcp_flags", "tcp_options", "icmp",  # layer 4
    "length", "ttl", "tos", "pkttype", "mark", "ctmark", "payload",  # the rest of the packet
    "physdev", "ct_state", "ct_tuple", "ct_status", "ipset",  # bridge, conntrack, sets
    "random", "rate",  # statistic / limit: not the packet at all
})


@dataclass(frozen=True)
class MatchModule:
    """One ``-m NAME`` module."""

    name: str
    options: dict[str, int]  # option -> number of values it takes (0, 1, 2)
    reads: frozenset[str] = frozenset()  # packet fields (FIELDS) its result depends on
    compiler: str | None = None  # function in netlab.netfilter.matches (None: not modelled)
    needs_proto: tuple[str, ...] = ()  # -m tcp needs -p tcp
    required: str | None = None  # the option it cannot go without

    def __post_init__(self) -> None:
        unknown = self.reads - FIELDS
        if unknown:  # pragma: no cover - a mistake in the table below
            raise ValueError(f"match {self.name}: unknown packet fields {sorted(unknown)}")


@dataclass(frozen=True)
class TargetModule:
    """One ``-j NAME`` target extension netlab knows."""

    name: str
    options: dict[str, int] = field(default_factory=dict)
    modelled: bool = True  # a trace evaluates it (netlab.netfilter.targets)
    required: str | None = None
    options_known: bool = True  # False: its options are not judged (all of them are let through)


_PORT1 = ("--sport", "--source-port", "--dport", "--destination-port")
_PORTS = ("--sports", "--source-ports", "--dports", "--destination-ports", "--ports")
_MARKS = ("--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark")
_SET_COUNTERS = ("--packets-eq", "--packets-lt", "--packets-gt", "--bytes-eq", "--bytes-lt", "--bytes-gt")
_L4 = frozenset({"proto", "sport", "dport"})


def _m(name: str, options: dict[str, int], reads: set[str] | frozenset[str] = frozenset(),
       compiler: str | None = None, needs_proto: tuple[str, ...] = (), required: str | None = None) -> MatchModule:
    return MatchModule(name, options, frozenset(reads), compiler, needs_proto, required)


MATCHES: dict[str, MatchModule] = {m.name: m for m in (
    _m("tcp", {**dict.fromkeys(_PORT1, 1), "--tcp-flags": 2, "--syn": 0, "--tcp-option": 1},
       _L4 | {"tcp_flags", "tcp_options"}, "_compile_l4", ("tcp", "6")),
    _m("udp", dict.fromkeys(_PORT1, 1), _L4, "_compile_l4", ("udp", "17")),
    _m("udplite", dict.fromkeys(_PORT1, 1), _L4, "_compile_l4"),
    _m("icmp", {"--icmp-type": 1}, {"proto", "icmp"}, "_compile_icmp", ("icmp", "1")),
    _m("multiport", dict.fromkeys(_PORTS, 1), _L4, "_compile_multiport",
       ("tcp", "udp", "udplite", "sctp", "dccp", "6", "17", "136", "132", "33")),
    _m("comment", {"--comment": 1}, set(), "_compile_comment", required="--comment"),
    _m("conntrack", dict.fromkeys(("--ctstate", "--ctproto", "--ctorigsrc", "--ctorigdst", "--ctreplsrc",
                                   "--ctrepldst", "--ctorigsrcport", "--ctorigdstport", "--ctreplsrcport",
                                   "--ctrepldstport", "--ctstatus", "--ctexpire", "--ctdir"), 1),
       {"ct_state", "ct_tuple", "ct_status"}, "_compile_conntrack"),
    _m("state", {"--state": 1}, {"ct_state"}, "_compile_state"),
    _m("addrtype", {"--src-type": 1, "--dst-type": 1, "--limit-iface-in": 0, "--limit-iface-out": 0},
       {"src", "dst", "in_iface", "out_iface"}, "_compile_addrtype"),
    _m("mark", {"--mark": 1}, {"mark"}, "_compile_plain_mark"),
    _m("connmark", {"--mark": 1}, {"ctmark"}, "_compile_connmark"),
    _m("iprange", {"--src-range": 1, "--dst-range": 1}, {"src", "dst"}, "_compile_iprange"),
    _m("statistic", {"--mode": 1, "--probability": 1, "--every": 1, "--packet": 1}, {"random"},
       "_compile_statistic"),
    _m("physdev", {"--physdev-in": 1, "--physdev-out": 1, "--physdev-is-in": 0, "--physdev-is-out": 0,
                   "--physdev-is-bridged": 0}, {"physdev"}, "_compile_physdev"),
    _m("limit", {"--limit": 1, "--limit-burst": 1}, {"rate"}, "_compile_limit"),
    _m("pkttype", {"--pkt-type": 1}, {"pkttype"}, "_compile_pkttype"),
    _m("length", {"--length": 1}, {"length"}, "_compile_length"),
    _m("set", {"--match-set": 2, "--return-nomatch": 0, "--update-counters": 0, "--no-update-counters": 0,
               "--update-subcounters": 0, "--no-update-subcounters": 0, **dict.fromkeys(_SET_COUNTERS, 1)},
       {"ipset", "src", "dst", "sport", "dport", "proto"}, "_compile_set"),
)}

#: the options every rule has (``-s``, ``-p`` …): what they read
BUILTIN_READS = frozenset({"src", "dst", "proto", "in_iface", "out_iface", "fragment"})

#: options of modules netlab does not model that take no value / two values (so a rule using
#: them still splits into the right words: ``-m recent --set --name x``)
UNMODELLED_ZERO_ARG = frozenset({
    "--rsource", "--rdest", "--set", "--rcheck", "--update", "--remove", "--rttl", "--reap",
    "--checksum-fill", "--nodst", "--save", "--restore", "--queue-bypass", "--fail-open", "--strict",
    "--transparent", "--nowildcard", "--restore-skip-drop",
})

_NAT = {"--random": 0, "--persistent": 0, "--random-fully": 0}
TARGETS: dict[str, TargetModule] = {t.name: t for t in (
    TargetModule("ACCEPT"), TargetModule("DROP"), TargetModule("RETURN"), TargetModule("QUEUE"),
    TargetModule("TRACE"), TargetModule("NOTRACK"),
    TargetModule("REJECT", {"--reject-with": 1}),
    TargetModule("DNAT", {"--to-destination": 1, **_NAT}, required="--to-destination"),
    TargetModule("SNAT", {"--to-source": 1, **_NAT}, required="--to-source"),
    TargetModule("MASQUERADE", {"--to-ports": 1, "--random": 0, "--random-fully": 0}),
    TargetModule("REDIRECT", {"--to-ports": 1, "--random": 0}),
    TargetModule("MARK", dict.fromkeys(_MARKS, 1)),
    TargetModule("CONNMARK", {**dict.fromkeys((*_MARKS, "--nfmask", "--ctmask", "--mask"), 1),
                              "--save-mark": 0, "--restore-mark": 0}),
    TargetModule("LOG", {"--log-level": 1, "--log-prefix": 1, "--log-tcp-sequence": 0, "--log-tcp-options": 0,
                         "--log-ip-options": 0, "--log-uid": 0, "--log-macdecode": 0}),
    TargetModule("NFLOG", dict.fromkeys(("--nflog-group", "--nflog-prefix", "--nflog-range", "--nflog-size",
                                         "--nflog-threshold"), 1)),
    TargetModule("TCPMSS", {"--set-mss": 1, "--clamp-mss-to-pmtu": 0}),
    TargetModule("CT", {"--notrack": 0, **dict.fromkeys(("--helper", "--ctevents", "--expevents", "--zone",
                                                         "--zone-orig", "--zone-reply", "--timeout"), 1)}),
    TargetModule("ULOG", options_known=False), TargetModule("NFQUEUE", options_known=False),
)}

#: options whose one value may look like an option (a comment "-- do not edit")
ALWAYS_ONE_ARG = frozenset({"--comment", "--log-prefix", "--nflog-prefix", "--reject-with",
                            "--to-destination", "--to-source", "--to-ports"})


def options_with(arity: int) -> frozenset[str]:
    """Every known option that takes ``arity`` values (matches and targets)."""
    tables = [m.options for m in MATCHES.values()] + [t.options for t in TARGETS.values()]
    found = {o for table in tables for o, a in table.items() if a == arity}
    return frozenset(found | (UNMODELLED_ZERO_ARG if arity == 0 else set()))


def reads_of(module_names: set[str] | frozenset[str]) -> frozenset[str]:
    """The packet fields a rule set using these ``-m`` modules reads (an unknown module:
    everything, so nothing is assumed about it)."""
    out = set(BUILTIN_READS)
    for name in module_names:
        m = MATCHES.get(name)
        out |= m.reads if m is not None else FIELDS
    return frozenset(out)


#: the values some options take, named as iptables names them
CT_STATES = frozenset({"NEW", "ESTABLISHED", "RELATED", "INVALID", "UNTRACKED", "SNAT", "DNAT"})
ADDR_TYPES = frozenset({"UNSPEC", "UNICAST", "LOCAL", "BROADCAST", "ANYCAST", "MULTICAST",
                        "BLACKHOLE", "UNREACHABLE", "PROHIBIT", "THROW", "NAT", "XRESOLVE"})
TCP_FLAGS: dict[str, int] = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20,
                             "ECE": 0x40, "CWR": 0x80, "ALL": 0xFF, "NONE": 0}

#: port names netlab knows: the common entries of Debian's /etc/services (netbase 6.4)
SERVICES: dict[str, int] = {
    "ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67,
    "bootpc": 68, "tftp": 69, "http": 80, "www": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111,
    "ntp": 123, "imap": 143, "imap2": 143, "snmp": 161, "ldap": 389, "https": 443, "microsoft-ds": 445,
    "submission": 587, "ldaps": 636, "imaps": 993, "pop3s": 995, "mysql": 3306, "postgresql": 5432,
    "http-alt": 8080,
}
