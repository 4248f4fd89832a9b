"""The iptables rules Docker programs, generated the way dockerd programs them.

Docker never writes a rule set in one go: when the daemon starts, when a network
is created and when a container publishes a port it *inserts* (``-I``, at the
top) or *appends* (``-A``, at the bottom) one rule at a time.  The order learners
see in ``iptables -S`` is the result of that sequence, so this module replays it:
:class:`RuleTables` applies inserts and appends to ordered chains, and
:func:`docker_rules` makes the calls each Docker version makes, in its order
(``libnetwork/drivers/bridge`` ``setup_ip_tables`` / ``port_mapping`` before 28,
``internal/iptabler`` ``network.go`` / ``endpoint.go`` / ``port.go`` from 28).

The output is tested rule for rule against the captures in
``tests/data/docker-rules/`` (``tests/test_scenarios_rules.py``).
IPv4 and the iptables backend only.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from netlab.scenarios.errors import ScenarioError
from netlab.scenarios.profiles import VersionProfile, resolve_version
from netlab.scenarios.topology import BridgeNetwork, PortMapping

BUILTIN_CHAINS: dict[str, tuple[str, ...]] = {
    "raw": ("PREROUTING", "OUTPUT"),
    "mangle": ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"),
    "filter": ("INPUT", "FORWARD", "OUTPUT"),
    "nat": ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"),
}
EXT_BRIDGES_IPSET = "docker-ext-bridges-v4"
GATEWAY_MODES = ("nat", "nat-unprotected", "routed")


@dataclass
class Endpoint:
    """A container's attachment to a bridge network: its address and published ports."""

    bridge: str  # the Linux bridge ("docker0", "br-…")
    ip: str
    ports: list[PortMapping] = field(default_factory=list)


class RuleTables:
    """Ordered chains per table, changed only by insert/append as iptables does."""

    def __init__(self) -> None:
        self.policies: dict[str, dict[str, str]] = {}
        self.chains: dict[str, dict[str, list[str]]] = {}

    def table(self, table: str) -> dict[str, list[str]]:
        if table not in self.chains:
            self.chains[table] = {c: [] for c in BUILTIN_CHAINS[table]}
            self.policies[table] = {c: "ACCEPT" for c in BUILTIN_CHAINS[table]}
        return self.chains[table]

    def new_chain(self, table: str, chain: str) -> None:
        self.table(table).setdefault(chain, [])

    def append(self, table: str, chain: str, rule: str) -> None:
        """``iptables -A``, skipped when the rule is already there: dockerd checks
        with ``iptables -C`` first, so two bindings never make two copies of a rule."""
        rules = self._chain(table, chain)
        if rule not in rules:
            rules.append(rule)

    def insert(self, table: str, chain: str, rule: str) -> None:
        """``iptables -I`` (at the top), skipped when the rule exists, as dockerd does."""
        rules = self._chain(table, chain)
        if rule not in rules:
            rules.insert(0, rule)

    def ensure_first(self, table: str, chain: str, rule: str) -> None:
        """Delete ``rule`` wherever it is and insert it at the top (Docker's ``ensureJumpRule``)."""
        rules = self._chain(table, chain)
        if rule in rules:
            rules.remove(rule)
        rules.insert(0, rule)

    def _chain(self, table: str, chain: str) -> list[str]:
        try:
            return self.table(table)[chain]
        except KeyError:
            raise ScenarioError(f"chain {chain!r} does not exist in table {table!r}") from None

    # ---------------------------------------------------------------- output
    def chain_order(self, table: str) -> list[str]:
        """Built-in chains first, then user chains sorted by name (as iptables lists them)."""
        builtins = [c for c in BUILTIN_CHAINS[table] if c in self.chains[table]]
        return builtins + sorted(c for c in self.chains[table] if c not in BUILTIN_CHAINS[table])

    def list_rules(self, table: str) -> list[str]:
        """``iptables -S -t <table>``: policies, ``-N`` lines, then every ``-A`` rule."""
        if table not in self.chains:
            return []
        order = self.chain_order(table)
        lines = [f"-P {c} {self.policies[table][c]}" for c in order if c in BUILTIN_CHAINS[table]]
        lines += [f"-N {c}" for c in order if c not in BUILTIN_CHAINS[table]]
        for c in order:
            lines += [f"-A {c} {r}" for r in self.chains[table][c]]
        return lines

    def to_iptables_save(self, tables: Sequence[str] | None = None) -> str:
        """``iptables-save`` text (counters ``[0:0]``), one block per table."""
        out: list[str] = []
        for table in tables or list(self.chains):
            if table not in self.chains:
                continue
            out.append(f"*{table}")
            for c in self.chain_order(table):
                policy = self.policies[table].get(c, "-") if c in BUILTIN_CHAINS[table] else "-"
                out.append(f":{c} {policy} [0:0]")
            for c in self.chain_order(table):
                out += [f"-A {c} {r}" for r in self.chains[table][c]]
            out.append("COMMIT")
        return "\n".join(out) + "\n"


@dataclass
class DockerRules:
    """What :func:`docker_rules` produced: the tables and the ipsets they refer to."""

    profile: VersionProfile
    tables: RuleTables
    ipsets: dict[str, list[str]] = field(default_factory=dict)

    def list_rules(self, table: str) -> list[str]:
        return self.tables.list_rules(table)

    def to_iptables_save(self) -> str:
        order = ("nat", "filter") if self.profile.family < 28 else ("raw", "filter", "nat")
        return self.tables.to_iptables_save(order)


# ------------------------------------------------------------------ helpers
def _proto_match(proto: str, port: int) -> str:
    return f"-p {proto} -m {proto} --dport {port}"


def _host32(ip: str) -> str:
    return f"{ip}/32"


def _check_network(profile: VersionProfile, net: BridgeNetwork) -> None:
    if net.gateway_mode not in GATEWAY_MODES:
        raise ScenarioError(
            f"network {net.name!r}: gateway_mode must be one of {GATEWAY_MODES}, not {net.gateway_mode!r}"
        )
    if net.gateway_mode != "nat" and profile.family < 28:
        raise ScenarioError(
            f"network {net.name!r}: gateway_mode={net.gateway_mode!r} is modelled from Docker 28 on; "
            "use version='28' or '29', or gateway_mode='nat'"
        )
    try:
        ipaddress.IPv4Network(net.subnet)
    except ValueError:
        raise ScenarioError(
            f"network {net.name!r}: subnet {net.subnet!r} is not an IPv4 prefix such as '172.18.0.0/16'"
        ) from None


# ------------------------------------------------------------ daemon start
def _daemon_start(rt: RuleTables, p: VersionProfile, *, hairpin: bool, controller: bool,
                  forward_policy: str) -> None:
    rt.table("filter")
    rt.table("nat")
    if p.uses_raw:
        rt.table("raw")
    rt.policies["filter"]["FORWARD"] = forward_policy
    for chain in p.filter_chains(controller):
        rt.new_chain("filter", chain)
    rt.new_chain("nat", "DOCKER")

    rt.append("nat", "PREROUTING", "-m addrtype --dst-type LOCAL -j DOCKER")
    if hairpin:
        rt.append("nat", "OUTPUT", "-m addrtype --dst-type LOCAL -j DOCKER")
    else:
        rt.append("nat", "OUTPUT", "! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER")

    if p.forward_chains:
        rt.append("filter", "FORWARD", "-j DOCKER-FORWARD")
        rt.append("filter", "DOCKER-FORWARD", "-j DOCKER-CT")
        rt.append("filter", "DOCKER-FORWARD",
                  "-j DOCKER-INTERNAL" if p.internal_chain else "-j DOCKER-ISOLATION-STAGE-1")
        rt.append("filter", "DOCKER-FORWARD", "-j DOCKER-BRIDGE")
    elif p.ext_bridges_ipset:
        rt.append("filter", "FORWARD",
                  f"-m set --match-set {EXT_BRIDGES_IPSET} dst -m conntrack --ctstate "
                  "RELATED,ESTABLISHED -j ACCEPT")
        rt.append("filter", "FORWARD", "-j DOCKER-ISOLATION-STAGE-1")
        rt.append("filter", "FORWARD", f"-m set --match-set {EXT_BRIDGES_IPSET} dst -j DOCKER")
    if p.isolation_return:
        rt.append("filter", "DOCKER-ISOLATION-STAGE-1", "-j RETURN")
        rt.append("filter", "DOCKER-ISOLATION-STAGE-2", "-j RETURN")
    if controller:
        _ensure_top_jumps(rt, p, controller)
        if p.docker_user_return:
            rt.append("filter", "DOCKER-USER", "-j RETURN")


def _ensure_top_jumps(rt: RuleTables, p: VersionProfile, controller: bool) -> None:
    """Before 28 the isolation jump, and always the DOCKER-USER jump, sit at the top of FORWARD."""
    if not p.forward_chains and not p.ext_bridges_ipset:
        rt.ensure_first("filter", "FORWARD", "-j DOCKER-ISOLATION-STAGE-1")
    if controller:
        rt.ensure_first("filter", "FORWARD", "-j DOCKER-USER")


# ------------------------------------------------------------ one network
def _network(rt: RuleTables, p: VersionProfile, net: BridgeNetwork, *, hairpin: bool,
             controller: bool, ipsets: dict[str, list[str]]) -> None:
    br, subnet = net.bridge, str(ipaddress.IPv4Network(net.subnet, strict=False))
    if net.internal:
        _internal_network(rt, p, br, subnet, net.icc)
    else:
        _nat_rules(rt, p, net, br, subnet, hairpin)
        if p.family < 28:
            _legacy_filter(rt, br, net.icc)
        else:
            _filter_28(rt, p, net, br, subnet)
            if p.ext_bridges_ipset:
                ipsets.setdefault(EXT_BRIDGES_IPSET, []).append(subnet)
    if p.family < 28:
        _ensure_top_jumps(rt, p, controller)


def _nat_rules(rt: RuleTables, p: VersionProfile, net: BridgeNetwork, br: str, subnet: str,
               hairpin: bool) -> None:
    if net.masquerade and net.gateway_mode != "routed":
        if net.host_ipv4:
            rt.insert("nat", "POSTROUTING", f"-s {subnet} ! -o {br} -j SNAT --to-source {net.host_ipv4}")
        else:
            rt.insert("nat", "POSTROUTING", f"-s {subnet} ! -o {br} -j MASQUERADE")
    # "skip DNAT": before 28 `ipmasq && !hairpin`; 28.x `!nat || (ipmasq && !hairpin)`; 29 none
    routed = net.gateway_mode == "routed"
    if p.nat_skip_bridge and ((net.masquerade and not hairpin) or (routed and p.family >= 28)):
        rt.insert("nat", "DOCKER", f"-i {br} -j RETURN")
    if hairpin:
        if net.host_ipv4:
            rt.insert("nat", "POSTROUTING",
                      f"-o {br} -m addrtype --src-type LOCAL -j SNAT --to-source {net.host_ipv4}")
        else:
            rt.insert("nat", "POSTROUTING", f"-o {br} -m addrtype --src-type LOCAL -j MASQUERADE")


def _legacy_filter(rt: RuleTables, br: str, icc: bool) -> None:
    """18.03.1–27.5.1: the bridge's rules inserted at the top of FORWARD."""
    if icc:
        rt.insert("filter", "FORWARD", f"-i {br} -o {br} -j ACCEPT")
    else:
        rt.append("filter", "FORWARD", f"-i {br} -o {br} -j DROP")
    rt.insert("filter", "FORWARD", f"-i {br} ! -o {br} -j ACCEPT")
    rt.insert("filter", "FORWARD", f"-o {br} -j DOCKER")
    rt.insert("filter", "FORWARD", f"-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
    rt.insert("filter", "DOCKER-ISOLATION-STAGE-1", f"-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2")
    rt.insert("filter", "DOCKER-ISOLATION-STAGE-2", f"-o {br} -j DROP")


def _filter_28(rt: RuleTables, p: VersionProfile, net: BridgeNetwork, br: str, subnet: str) -> None:
    """28.0+: accept-outgoing in DOCKER-FORWARD (FORWARD in 28.0.0), default drop in DOCKER."""
    fwd = "DOCKER-FORWARD" if p.forward_chains else "FORWARD"
    if not net.icc:
        rt.append("filter", fwd, f"-i {br} -o {br} -j DROP")
    if net.gateway_mode == "routed":
        rt.append("filter", "DOCKER", f"-o {br} -p icmp -j ACCEPT")
    if net.icc:
        rt.append("filter", fwd, f"-i {br} -j ACCEPT")
    else:
        rt.append("filter", fwd, f"-i {br} ! -o {br} -j ACCEPT")
    action = "ACCEPT" if net.gateway_mode == "nat-unprotected" else "DROP"
    rt.append("filter", "DOCKER", f"! -i {br} -o {br} -j {action}")
    if p.forward_chains:
        rt.append("filter", "DOCKER-CT", f"-o {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        rt.append("filter", "DOCKER-BRIDGE", f"-o {br} -j DOCKER")
    if p.isolation_chains:
        if net.gateway_mode == "routed":
            rt.insert("filter", "DOCKER-ISOLATION-STAGE-1", f"-o {br} -j RETURN")
            rt.insert("filter", "DOCKER-ISOLATION-STAGE-1",
                      f"-i {br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT")
        rt.append("filter", "DOCKER-ISOLATION-STAGE-1", f"-i {br} ! -o {br} -j DOCKER-ISOLATION-STAGE-2")
        rt.insert("filter", "DOCKER-ISOLATION-STAGE-2", f"-o {br} -j DROP")


def _internal_network(rt: RuleTables, p: VersionProfile, br: str, subnet: str, icc: bool) -> None:
    """``--internal``: drop anything leaving or entering the subnet; ICC rule only."""
    chain = "DOCKER-INTERNAL" if p.internal_chain else "DOCKER-ISOLATION-STAGE-1"
    rt.insert("filter", chain, f"! -d {subnet} -i {br} -j DROP")
    rt.insert("filter", chain, f"! -s {subnet} -o {br} -j DROP")
    fwd = "DOCKER-FORWARD" if p.forward_chains else "FORWARD"
    if icc:
        if p.family < 28:
            rt.insert("filter", fwd, f"-i {br} -o {br} -j ACCEPT")
        else:
            rt.append("filter", fwd, f"-i {br} -o {br} -j ACCEPT")
    else:
        rt.append("filter", fwd, f"-i {br} -o {br} -j DROP")


# ---------------------------------------------------------- one container
def _endpoint(rt: RuleTables, p: VersionProfile, net: BridgeNetwork, ep: Endpoint,
              hairpin: bool) -> None:
    if net.internal:
        return  # no raw, NAT or filter rules for a container on an --internal network
    protected = net.gateway_mode == "nat"
    routed = net.gateway_mode == "routed"
    br = net.bridge
    if p.raw_direct_per_endpoint and protected:
        rt.append("raw", "PREROUTING", f"-d {_host32(ep.ip)} ! -i {br} -j DROP")
    for pm in ep.ports:
        if p.family < 28:
            _legacy_port(rt, br, ep.ip, pm, hairpin)
            continue
        host_port = 0 if routed else pm.host_port
        host_ip = ipaddress.IPv4Address(pm.host_ip or "0.0.0.0")
        if p.raw_loopback and host_port and host_ip.is_loopback:
            rt.append("raw", "PREROUTING",
                      f"-d {_host32(str(host_ip))} ! -i lo {_proto_match(pm.proto, host_port)} -j DROP")
        if p.raw_direct_per_port and protected:
            rt.append("raw", "PREROUTING",
                      f"-d {_host32(ep.ip)} ! -i {br} {_proto_match(pm.proto, pm.container_port)} -j DROP")
        if host_port:
            rt.append("nat", "DOCKER", _dnat(br, ep.ip, pm, hairpin))
            if hairpin:
                rt.append("nat", "POSTROUTING", _hairpin_masq(ep.ip, pm))
        if net.gateway_mode != "nat-unprotected":
            rt.insert("filter", "DOCKER", _port_accept(br, ep.ip, pm))


def _legacy_port(rt: RuleTables, br: str, ip: str, pm: PortMapping, hairpin: bool) -> None:
    rt.append("nat", "DOCKER", _dnat(br, ip, pm, hairpin))
    rt.append("nat", "POSTROUTING", _hairpin_masq(ip, pm))
    rt.append("filter", "DOCKER", _port_accept(br, ip, pm))


def _dnat(br: str, ip: str, pm: PortMapping, hairpin: bool) -> str:
    dst = "" if pm.host_ip in ("", "0.0.0.0") else f"-d {_host32(pm.host_ip)} "
    iface = "" if hairpin else f"! -i {br} "
    return (f"{dst}{iface}{_proto_match(pm.proto, pm.host_port)} -j DNAT "
            f"--to-destination {ip}:{pm.container_port}")


def _hairpin_masq(ip: str, pm: PortMapping) -> str:
    return f"-s {_host32(ip)} -d {_host32(ip)} {_proto_match(pm.proto, pm.container_port)} -j MASQUERADE"


def _port_accept(br: str, ip: str, pm: PortMapping) -> str:
    return f"-d {_host32(ip)} ! -i {br} -o {br} {_proto_match(pm.proto, pm.container_port)} -j ACCEPT"


# ------------------------------------------------------------------- API
def docker_rules(
    version: str | VersionProfile,
    networks: Iterable[BridgeNetwork],
    endpoints: Iterable[Endpoint] = (),
    *,
    userland_proxy: bool = True,
    ip_forward_was_on: bool = False,
    controller: bool = True,
) -> DockerRules:
    """Replay what dockerd ``version`` does for these networks (in creation order) and
    containers (in start order), and return the resulting tables.

    ``ip_forward_was_on``: dockerd sets the FORWARD policy to DROP only when it had
    to switch ``net.ipv4.ip_forward`` on itself.  ``controller=False`` leaves out what
    the daemon's network controller adds (``DOCKER-USER``), as the bridge driver's
    own unit tests do.
    """
    p = resolve_version(version)
    hairpin = not userland_proxy
    nets = list(networks)
    by_bridge: dict[str, BridgeNetwork] = {}
    for net in nets:
        _check_network(p, net)
        if net.bridge in by_bridge:
            raise ScenarioError(f"two networks use the bridge {net.bridge!r}; give each its own")
        by_bridge[net.bridge] = net
    rt = RuleTables()
    ipsets: dict[str, list[str]] = {}
    if p.ext_bridges_ipset:
        ipsets[EXT_BRIDGES_IPSET] = []
    _daemon_start(rt, p, hairpin=hairpin, controller=controller,
                  forward_policy="ACCEPT" if ip_forward_was_on else "DROP")
    for net in nets:
        _network(rt, p, net, hairpin=hairpin, controller=controller, ipsets=ipsets)
    for ep in endpoints:
        on = by_bridge.get(ep.bridge)
        if on is None:
            raise ScenarioError(
                f"container {ep.ip} is on bridge {ep.bridge!r}, which none of the networks "
                f"({', '.join(by_bridge) or 'none'}) uses"
            )
        _endpoint(rt, p, on, ep, hairpin)
    return DockerRules(profile=p, tables=rt, ipsets=ipsets)
