"""The nftables tables Docker 29 programs with ``--firewall-backend=nftables``.

Read from moby ``docker-v29.0.0`` (identical through 29.7.2),
``daemon/libnetwork/drivers/bridge/internal/nftabler/``: ``nftabler.go`` creates
``table ip docker-bridges`` (and ``ip6``) with its base chains and four verdict maps
when the daemon starts; ``network.go`` adds four chains per bridge network and its
map elements; ``endpoint.go`` a raw-PREROUTING drop of direct access per container;
``port.go`` the forward accept, DNAT, hairpin masquerade and loopback drop per
published port.  Rules of a chain sit in numbered *rule groups* (listed group by
group, each in insertion order), and each ``Apply`` renders its new maps and chains
sorted by name (``daemon/libnetwork/internal/nftables``' text/template), so the
kernel lists them in that creation order — which :class:`NftTables` replays.

The output is ``nft list table`` text, tested against the captures in
``tests/data/docker-rules/*.nft-*.txt`` (``tests/test_scenarios_nft.py``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from netlab.scenarios.docker_rules import Endpoint
from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.topology import BridgeNetwork

TABLE = "docker-bridges"
FORWARD, POSTROUTING, PREROUTING, OUTPUT = "filter-FORWARD", "nat-POSTROUTING", "nat-PREROUTING", "nat-OUTPUT"
NAT_CHAIN, RAW_PREROUTING = "nat-prerouting-and-output", "raw-PREROUTING"
FWD_IN_MAP, FWD_OUT_MAP = "filter-forward-in-jumps", "filter-forward-out-jumps"
POST_OUT_MAP, POST_IN_MAP = "nat-postrouting-out-jumps", "nat-postrouting-in-jumps"
# rule groups (nftabler.go): filter-forward-in__<br> and raw-PREROUTING
INITIAL, FWMARK, LEGACY_LINKS, ICC, PORTS, FINAL = 0, 1, 2, 3, 4, 5
RAW_PORTS = 1
COUNTER = "counter packets 0 bytes 0"


@dataclass
class _Chain:
    header: str | None = None
    groups: dict[int, list[str]] = field(default_factory=dict)

    def rules(self) -> list[str]:
        return [r for g in sorted(self.groups) for r in self.groups[g]]


class NftTables:
    """One Docker table as dockerd builds it: maps and chains in creation order."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.maps: dict[str, list[tuple[str, str]]] = {}
        self.chains: dict[str, _Chain] = {}

    def apply(self, maps: Sequence[str] = (), chains: dict[str, str | None] | None = None,
              rules: Sequence[tuple[str, int, str]] = (), elements: Sequence[tuple[str, str, str]] = (),
              ignore_exist: bool = False) -> None:
        """One ``Table.Apply``: new maps, then new chains, each sorted by name; then rules
        (chain, group, text) and map elements (map, key, verdict)."""
        for name in sorted(maps):
            self.maps.setdefault(name, [])
        for name in sorted(chains or {}):
            self.chains.setdefault(name, _Chain((chains or {})[name]))
        for chain, group, text in rules:
            grp = self.chains[chain].groups.setdefault(group, [])
            if ignore_exist and text in grp:
                continue
            grp.append(text)
        for name, key, verdict in elements:
            self.maps[name].append((key, verdict))

    def to_nft(self) -> str:
        """``nft list table <family> docker-bridges`` as nft prints it."""
        blocks = []
        for name, elems in self.maps.items():
            lines = [f"\tmap {name} {{", "\t\ttype ifname : verdict"]
            if elems:
                items = [f'"{k}" : {v}' for k, v in elems]
                lines.append("\t\telements = { " + ",\n\t\t\t     ".join(items) + " }")
            lines.append("\t}")
            blocks.append("\n".join(lines))
        for name, ch in self.chains.items():
            lines = [f"\tchain {name} {{"]
            if ch.header:
                lines.append(f"\t\t{ch.header}")
            lines += [f"\t\t{r}" for r in ch.rules()]
            lines.append("\t}")
            blocks.append("\n".join(lines))
        return f"table {self.family} {TABLE} {{\n" + "\n\n".join(blocks) + "\n}\n"


def _base(kind: str, hook: str, prio: str) -> str:
    return f"type {kind} hook {hook} priority {prio}; policy accept;"


def _init(t: NftTables, hairpin: bool) -> None:
    """``Nftabler.init``: the base chains, the four verdict maps, the jumps to them."""
    v6 = t.family == "ip6"
    skip_lo = "" if hairpin else ("ip6 daddr != ::1 " if v6 else "ip daddr != 127.0.0.0/8 ")
    t.apply(
        maps=[FWD_IN_MAP, FWD_OUT_MAP, POST_OUT_MAP, POST_IN_MAP],
        chains={FORWARD: _base("filter", "forward", "filter"), POSTROUTING: _base("nat", "postrouting", "srcnat"),
                NAT_CHAIN: None, PREROUTING: _base("nat", "prerouting", "dstnat"),
                OUTPUT: _base("nat", "output", "dstnat"), RAW_PREROUTING: _base("filter", "prerouting", "raw")},
        rules=[(FORWARD, INITIAL, f"oifname vmap @{FWD_IN_MAP}"), (FORWARD, INITIAL, f"iifname vmap @{FWD_OUT_MAP}"),
               (POSTROUTING, INITIAL, f"iifname vmap @{POST_OUT_MAP}"),
               (POSTROUTING, INITIAL, f"oifname vmap @{POST_IN_MAP}"),
               (PREROUTING, INITIAL, f"fib daddr type local {COUNTER} jump {NAT_CHAIN}"),
               (OUTPUT, INITIAL, f"{skip_lo}fib daddr type local {COUNTER} jump {NAT_CHAIN}")],
    )


def _network(t: NftTables, net: BridgeNetwork, subnet: str, hairpin: bool) -> None:
    """``network.configure``: the bridge's four chains, map elements and rules."""
    br = net.bridge
    fin, fout = f"filter-forward-in__{br}", f"filter-forward-out__{br}"
    pin, pout = f"nat-postrouting-in__{br}", f"nat-postrouting-out__{br}"
    fam = t.family
    routed = net.gateway_mode == "routed"
    unprotected = net.gateway_mode == "nat-unprotected"
    verdict = "accept" if net.icc else "drop"
    rules: list[tuple[str, int, str]] = [
        (fin, INITIAL, f"ct state established,related {COUNTER} accept"),
        (fout, INITIAL, f"ct state established,related {COUNTER} accept"),
    ]
    if net.internal:
        rules += [(fin, INITIAL, f'iifname != "{br}" {COUNTER} drop comment "INTERNAL NETWORK INGRESS"'),
                  (fout, INITIAL, f'oifname != "{br}" {COUNTER} drop comment "INTERNAL NETWORK EGRESS"'),
                  (fin, ICC, f'{COUNTER} {verdict} comment "ICC"')]
    else:
        rules += [(fin, ICC, f'iifname "{br}" {COUNTER} {verdict} comment "ICC"'),
                  (fout, INITIAL, f'{COUNTER} accept comment "OUTGOING"')]
        rules.append((fin, FINAL, f'{COUNTER} accept comment "UNPROTECTED"' if unprotected
                      else f'{COUNTER} drop comment "UNPUBLISHED PORT DROP"'))
        if routed:
            icmp = "meta l4proto ipv6-icmp" if fam == "ip6" else "ip protocol icmp"
            rules.append((fin, INITIAL, f'{icmp} {COUNTER} accept comment "ICMP"'))
        host_ip = net.host_ipv6 if fam == "ip6" else net.host_ipv4
        masq, comment = (f"snat to {host_ip}", "SNAT") if host_ip else ("masquerade", "MASQUERADE")
        if net.masquerade and not routed:
            rules.append((pout, INITIAL, f'oifname != "{br}" {fam} saddr {subnet} {COUNTER} {masq} '
                                         f'comment "{comment}"'))
        if hairpin:
            rules.append((pin, INITIAL, f'fib saddr type local {COUNTER} {masq} comment "{comment} FROM HOST"'))
    t.apply(chains={fin: None, fout: None, pin: None, pout: None}, rules=rules,
            elements=[(FWD_IN_MAP, br, f"jump {fin}"), (FWD_OUT_MAP, br, f"jump {fout}"),
                      (POST_IN_MAP, br, f"jump {pin}"), (POST_OUT_MAP, br, f"jump {pout}")])


def _endpoint(t: NftTables, net: BridgeNetwork, ep: Endpoint) -> None:
    """``filterDirectAccess``: only the bridge may reach the container's address."""
    if net.internal or net.gateway_mode in ("nat-unprotected", "routed"):
        return
    t.apply(rules=[(RAW_PREROUTING, RAW_PORTS, f'{t.family} daddr {ep.ip} iifname != "{net.bridge}" {COUNTER} '
                                               'drop comment "DROP DIRECT ACCESS"')])


def _ports(t: NftTables, net: BridgeNetwork, ep: Endpoint, hairpin: bool) -> None:
    """``setPerPortRules``: forward accept, DNAT, hairpin masquerade, remote-loopback drop."""
    if net.internal or not ep.ports:
        return
    fam, br = t.family, net.bridge
    v6 = fam == "ip6"
    routed = net.gateway_mode == "routed"
    fwd: list[tuple[str, int, str]] = []
    rules: list[tuple[str, int, str]] = []
    if net.gateway_mode != "nat-unprotected":
        for pm in ep.ports:
            fwd.append((f"filter-forward-in__{br}", PORTS, f"{fam} daddr {ep.ip} {pm.proto} dport "
                                                           f"{pm.container_port} {COUNTER} accept"))
    for pm in ep.ports:  # setPerPortDNAT
        if routed or _v6(pm.host_ip) != v6:
            continue  # a routed binding has no host port; a binding of the other family
        host = ipaddress.ip_address(pm.host_ip or ("::" if v6 else "0.0.0.0"))
        words = [] if hairpin else [f'iifname != "{br}"']
        if v6:
            words.append("ip6 saddr != fe80::/10")
        if not host.is_unspecified:
            words.append(f"{fam} daddr {host}")
        target = f"[{ep.ip}]:{pm.container_port}" if v6 else f"{ep.ip}:{pm.container_port}"
        words += [f"{pm.proto} dport {pm.host_port}", COUNTER, f"dnat to {target}", 'comment "DNAT"']
        rules.append((NAT_CHAIN, INITIAL, " ".join(words)))
    if hairpin:
        for pm in ep.ports:
            if routed or _v6(pm.host_ip) != v6:
                continue
            rules.append((f"nat-postrouting-in__{br}", INITIAL,
                          f"{fam} saddr {ep.ip} {fam} daddr {ep.ip} {pm.proto} dport {pm.container_port} "
                          f'{COUNTER} masquerade comment "MASQ TO OWN PORT"'))
    if not v6:
        for pm in ep.ports:
            if routed or not ipaddress.ip_address(pm.host_ip or "0.0.0.0").is_loopback:
                continue
            rules.append((RAW_PREROUTING, RAW_PORTS, f'iifname != "lo" ip daddr {pm.host_ip} {pm.proto} dport '
                                                     f'{pm.host_port} {COUNTER} drop comment "DROP REMOTE LOOPBACK"'))
    t.apply(rules=fwd, ignore_exist=True)
    t.apply(rules=rules)


def _v6(addr: str | None) -> bool:
    return ":" in (addr or "")


def docker_nft_rules(networks: Sequence[BridgeNetwork], endpoints: Sequence[Endpoint] = (), *,
                     userland_proxy: bool = True, family: str = "ip") -> str:
    """``nft list table <family> docker-bridges`` after dockerd 29 started, created
    ``networks`` (in order) and attached ``endpoints`` (in order, each with its ports).

    ``family`` ``"ip6"`` takes the networks' IPv6 ``subnet`` and endpoints' IPv6 ``ip``;
    networks of the other family get no rules (as dockerd skips an invalid prefix)."""
    if family not in ("ip", "ip6"):
        raise ScenarioError(f"family {family!r}: Docker's nftables tables are 'ip' and 'ip6'")
    hairpin = not userland_proxy
    t = NftTables(family)
    _init(t, hairpin)
    by_bridge: dict[str, BridgeNetwork] = {}
    for net in networks:
        if net.bridge in by_bridge:
            raise ScenarioError(f"bridge {net.bridge!r} is given twice")
        by_bridge[net.bridge] = net
        sub = ipaddress.ip_network(net.subnet, strict=False)
        if (sub.version == 6) != (family == "ip6"):
            continue
        _network(t, net, str(sub), hairpin)
    for ep in endpoints:
        on = by_bridge.get(ep.bridge)
        if on is None:
            raise ScenarioError(f"endpoint {ep.ip} is on bridge {ep.bridge!r}, which no network has")
        if _v6(ep.ip) != (family == "ip6"):
            continue
        _endpoint(t, on, ep)
        _ports(t, on, ep, hairpin)
    return t.to_nft()


__all__ = ["docker_nft_rules", "NftTables", "TABLE"]
