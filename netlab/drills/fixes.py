"""A learner's fix, read as the commands they would type on a real Docker host.

:func:`parse_fix` turns text (one command per line) into operations; each
operation changes a :class:`World` — the drill's scenario plus the link states —
the way the command changes a host: an ``iptables`` line edits that node's rule
set as the kernel would (and fails with iptables' own complaint when the chain or
rule does not exist), ``iptables-restore`` text replaces the tables it names, a
sysctl sets one key, ``docker run -p`` re-creates the container with other
published ports, ``ip route`` / ``ip link`` change routes and links, ``listen``
moves the program inside the container to another address.  Every line is read
before anything is applied; one bad line applies nothing.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from netlab.errors import NetlabError
from netlab.numbers import is_decimal
from netlab.scenarios.topology import RouteSpec, Scenario

FORMS = """\
A fix is one command per line, typed as on the Docker host:
  iptables [-t TABLE] -I|-A|-D|-R|-P|-N|-F|-X CHAIN ...   e.g. iptables -I DOCKER-USER -s 192.168.56.1 -j ACCEPT
  iptables-restore text (*filter / :CHAIN POLICY / -A ... / COMMIT): replaces the tables it names
  sysctl -w KEY=VALUE   (also sysctl KEY=VALUE, KEY=VALUE, echo 1 > /proc/sys/net/ipv4/ip_forward)
  docker run ... -p [IP:]HOST_PORT:CONTAINER_PORT ... IMAGE   (re-creates the container with these -p)
  docker network connect NETWORK CONTAINER
  ip route add|replace|del DEST|default [via GATEWAY] [dev DEVICE]
  ip link set [dev] DEVICE up|down|master BRIDGE|nomaster   (also brctl addif BRIDGE DEVICE)
  listen [ADDRESS:]PORT   (where the program inside the container listens, as nginx's listen line)
Run a command in a container or another node with `docker exec NAME ...`, `ip netns exec NAME ...`
or `NAME: ...` in front of it; without one it runs on the Docker host."""


class FixError(NetlabError, ValueError):
    """A fix that cannot be read or that the host would refuse; nothing was applied."""


@dataclass
class World:
    """What fixes change: the scenario (plain data) and the links set down."""

    scenario: Scenario
    down: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Op:
    """One command of a fix."""

    line: str
    node: str = "host"

    rebuild = False  # True: changes how the containers were started (the drill rebuilds)

    def apply(self, world: World) -> None:  # pragma: no cover - every op overrides it
        raise NotImplementedError

    def _node(self, world: World) -> Any:
        nodes = world.scenario.nodes
        if self.node not in nodes:
            raise FixError(f"{self.line!r}: there is no container or node called {self.node!r} here; "
                           f"the nodes are {', '.join(sorted(nodes))}")
        return nodes[self.node]

    def _fail(self, why: str) -> FixError:
        where = "" if self.node == "host" else f" (in {self.node})"
        return FixError(f"{self.line!r}{where}: {why}")


# ---------------------------------------------------------------- iptables
_CMDS = {"-A": "-A", "--append": "-A", "-I": "-I", "--insert": "-I", "-D": "-D", "--delete": "-D",
         "-R": "-R", "--replace": "-R", "-P": "-P", "--policy": "-P", "-N": "-N", "--new-chain": "-N",
         "-F": "-F", "--flush": "-F", "-X": "-X", "--delete-chain": "-X", "-Z": "-Z", "--zero": "-Z"}
_LISTING = {"-L", "--list", "-S", "--list-rules", "-C", "--check"}
_TABLES = ("filter", "nat", "raw", "mangle", "security")


def _canon_value(name: str, value: str) -> str:
    if name in ("-s", "-d") and "/" not in value:
        return value + "/32"
    return value.lower() if name == "-p" else value


def _canon(tokens: tuple[str, ...]) -> tuple:
    """A rule's conditions and target in a form that ignores option order, long/short
    spellings, ``-m tcp`` after ``-p tcp`` and ``/32`` (how iptables -D compares)."""
    from netlab.netfilter.ruleset import Rule

    spec = Rule("filter", "X", 1, tokens, "").spec
    conds = []
    for m in spec.matches:
        module = "" if m.module in ("tcp", "udp", "icmp") else m.module
        for opt in m.options:
            conds.append((module, opt.name, tuple(_canon_value(opt.name, v) for v in opt.values),
                          opt.negated))
    tgt = None
    if spec.target is not None:
        tgt = (spec.target.name, spec.target.goto,
               tuple(sorted((o.name, o.values, o.negated) for o in spec.target.options)))
    return tuple(sorted(conds)), tgt


@dataclass
class IptablesOp(Op):
    """``iptables [-t TABLE] COMMAND CHAIN [N] [RULE]``."""

    table: str = "filter"
    command: str = "-A"
    chain: str | None = None
    number: int | None = None
    rule: tuple[str, ...] = ()

    def apply(self, world: World) -> None:
        from netlab.netfilter import parse_iptables
        from netlab.netfilter.ruleset import BUILTIN_CHAINS, Rule, Ruleset

        node = self._node(world)
        try:
            rs = parse_iptables(node.iptables) if node.iptables.strip() else Ruleset()
        except NetlabError as exc:  # pragma: no cover - scenario rules always parse
            raise self._fail(f"the node's rules do not parse: {exc}") from None
        table = rs.table(self.table)
        chain = table.chains.get(self.chain) if self.chain else None
        cmd = self.command
        if self.chain and chain is None and cmd != "-N":
            raise self._fail(f"iptables: No chain/target/match by that name (table {self.table} has "
                             f"no chain {self.chain}; it has {', '.join(table.chains)})")
        if cmd == "-N":
            if chain is not None:
                raise self._fail("iptables: Chain already exists.")
            table.chain(self.chain or "")
        elif cmd == "-P":
            if self.chain not in BUILTIN_CHAINS.get(self.table, ()):
                raise self._fail(f"iptables: Bad built-in chain name ({self.chain} is not a built-in "
                                 f"chain of {self.table}; only those have a policy)")
            if self.rule not in (("ACCEPT",), ("DROP",)):
                raise self._fail("iptables: Bad policy name (a policy is ACCEPT or DROP)")
            chain.policy = self.rule[0]  # type: ignore[union-attr]
        elif cmd == "-F":
            for ch in [chain] if chain is not None else list(table.chains.values()):
                ch.rules.clear()
        elif cmd == "-Z":
            return
        elif cmd == "-X":
            victims = [chain] if chain is not None else [c for c in table.chains.values() if not c.builtin]
            for ch in victims:
                if ch.builtin:
                    raise self._fail(f"iptables: Can't delete built-in chain {ch.name}")
                if ch.rules:
                    raise self._fail(f"iptables: Directory not empty (flush {ch.name} first: -F {ch.name})")
                refs = [r for c in table.chains.values() for r in c.rules
                        if r.spec.target is not None and r.spec.target.name == ch.name]
                if refs:
                    raise self._fail(f"iptables: Too many links ({refs[0].save_line()} still jumps to it)")
                del table.chains[ch.name]
        else:
            assert chain is not None
            rules = chain.rules
            if cmd == "-D":
                if self.number is not None:
                    if not 1 <= self.number <= len(rules):
                        raise self._fail("iptables: Index of deletion too big.")
                    del rules[self.number - 1]
                else:
                    want = _canon(self.rule)
                    k = next((i for i, r in enumerate(rules) if _canon(r.tokens) == want), None)
                    if k is None:
                        raise self._fail("iptables: Bad rule (does a matching rule exist in that chain?). "
                                         f"Look at the rules with iptables -S {self.chain}"
                                         f"{'' if self.table == 'filter' else ' -t ' + self.table}")
                    del rules[k]
            else:
                new = Rule(self.table, chain.name, 1, self.rule, "")
                new.text = new.save_line()
                if cmd == "-A":
                    rules.append(new)
                elif cmd == "-I":
                    n = self.number or 1
                    if n > len(rules) + 1:
                        raise self._fail("iptables: Index of insertion too big.")
                    rules.insert(n - 1, new)
                else:  # -R
                    if self.number is None or not 1 <= self.number <= len(rules):
                        raise self._fail("iptables: Index of replacement too big (-R needs CHAIN N).")
                    rules[self.number - 1] = new
            for i, r in enumerate(rules, 1):
                r.index = i
        text = rs.to_iptables_save()
        try:
            parse_iptables(text)
        except NetlabError as exc:
            raise self._fail(f"iptables would refuse this: {exc}") from None
        node.iptables = text


def _parse_iptables(words: list[str], line: str, node: str) -> IptablesOp:
    table = "filter"
    rest: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("-t", "--table"):
            if i + 1 >= len(words):
                raise FixError(f"{line!r}: -t needs a table name ({', '.join(_TABLES)})")
            table = words[i + 1]
            i += 2
            continue
        if w.startswith("-t") and len(w) > 2 and not w.startswith("--"):
            table = w[2:]
        elif w in ("-w", "--wait", "-v", "--verbose", "-n", "--numeric"):
            pass
        elif w.startswith("--wait="):
            pass
        else:
            rest.append(w)
        i += 1
    if table not in _TABLES:
        raise FixError(f"{line!r}: iptables has no table {table!r}; the tables are {', '.join(_TABLES)}")
    if not rest:
        raise FixError(f"{line!r}: iptables needs a command such as -I CHAIN RULE\n{FORMS}")
    if rest[0] in _LISTING or re.fullmatch(r"-[nvxL]*[LS][nvx]*", rest[0]):
        raise FixError(f"{line!r} only lists or checks rules; it changes nothing. Look at them with "
                       "net.state('host').firewall, then type the command that changes them")
    cmd = _CMDS.get(rest[0])
    if cmd is None:
        raise FixError(f"{line!r}: {rest[0]!r} is not an iptables command this drill knows "
                       "(-I, -A, -D, -R, -P, -N, -F, -X)\n" + FORMS)
    args = rest[1:]
    chain = args[0] if args and not args[0].startswith("-") else None
    if chain is None and cmd not in ("-F", "-X", "-Z"):
        raise FixError(f"{line!r}: iptables {cmd} needs a chain name (e.g. DOCKER-USER, FORWARD)")
    args = args[1:] if chain else args
    number = None
    if args and is_decimal(args[0]) and cmd in ("-I", "-D", "-R"):
        number, args = int(args[0]), args[1:]
        if number < 1:
            raise FixError(f"{line!r}: rule numbers start at 1")
    if cmd == "-P" and len(args) != 1:
        raise FixError(f"{line!r}: -P needs a chain and a policy: iptables -P FORWARD DROP")
    if cmd in ("-A", "-I", "-R") or (cmd == "-D" and number is None):
        if not args:
            raise FixError(f"{line!r}: the rule is missing (what to match and -j TARGET)")
        from netlab.netfilter.validate import check_rule

        err, _tgt = check_rule(["-A", chain or "", *args], 2)
        if err is not None:
            raise FixError(f"{line!r}: iptables would refuse this rule: {err}")
    elif cmd not in ("-P",) and args:
        raise FixError(f"{line!r}: unexpected words after iptables {cmd} {chain or ''}: {' '.join(args)}")
    return IptablesOp(line=line, node=node, table=table, command=cmd, chain=chain, number=number,
                      rule=tuple(args))


@dataclass
class RestoreOp(Op):
    """``iptables-restore`` text: each table it holds replaces the node's table."""

    text: str = ""

    def apply(self, world: World) -> None:
        from netlab.netfilter import parse_iptables

        node = self._node(world)
        try:
            new = parse_iptables(self.text)
        except NetlabError as exc:
            raise FixError(f"iptables-restore would refuse this text: {exc}") from None
        old = parse_iptables(node.iptables) if node.iptables.strip() else None
        if old is not None:
            for name, table in new.tables.items():
                old.tables[name] = table
            new = old
        node.iptables = new.to_iptables_save()


# ---------------------------------------------------------------- sysctl
_BOOL_KEYS = re.compile(
    r"^net\.ipv4\.(ip_forward|conf\.[^.]+\.(forwarding|route_localnet|send_redirects|accept_redirects"
    r"|proxy_arp|accept_local|bc_forwarding))$|^net\.bridge\.bridge-nf-call-(iptables|ip6tables|arptables)$"
    r"|^net\.ipv4\.conf\.[^.]+\.rp_filter$|^net\.ipv4\.conf\.[^.]+\.arp_(ignore|announce)$")


@dataclass
class SysctlOp(Op):
    key: str = ""
    value: str = ""

    def apply(self, world: World) -> None:
        node = self._node(world)
        m = re.match(r"net\.ipv4\.conf\.([^.]+)\.", self.key)
        if m and m.group(1) not in ("all", "default"):
            devs = {i.name for i in node.interfaces}
            if m.group(1) not in devs:
                raise self._fail(f"sysctl: cannot stat /proc/sys/{self.key.replace('.', '/')}: No such "
                                 f"file or directory ({self.node} has no interface {m.group(1)}; it has "
                                 f"{', '.join(sorted(devs))})")
        if self.key.startswith("net.bridge.") and not any(i.kind == "bridge" for i in node.interfaces) \
                and self.key not in node.sysctls:
            raise self._fail(f"sysctl: cannot stat /proc/sys/{self.key.replace('.', '/')}: No such file "
                             "or directory (br_netfilter's keys exist where bridges are)")
        node.sysctls[self.key] = self.value
        if self.key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"):
            # the kernel keeps them together: writing either sets both (devinet.c)
            node.sysctls["net.ipv4.ip_forward"] = self.value
            node.sysctls["net.ipv4.conf.all.forwarding"] = self.value


def _sysctl(key: str, value: str, line: str, node: str) -> SysctlOp:
    key = key.strip().replace("/", ".")
    value = value.strip().strip("'\"")
    if key.startswith("proc.sys."):
        key = key[len("proc.sys."):]
    if not _BOOL_KEYS.match(key):
        raise FixError(f"{line!r}: {key!r} is not a sysctl these drills know; they use "
                       "net.ipv4.ip_forward, net.ipv4.conf.DEV.route_localnet / forwarding / rp_filter, "
                       "net.bridge.bridge-nf-call-iptables")
    allowed = ("0", "1", "2") if key.endswith(("rp_filter", "arp_ignore", "arp_announce")) else ("0", "1")
    if value not in allowed:
        raise FixError(f"{line!r}: {key} takes {' or '.join(allowed)}, not {value!r}")
    return SysctlOp(line=line, node=node, key=key, value=value)


@dataclass
class NoteOp(Op):
    """A command that changes nothing here (said so in the drill's log)."""

    note: str = ""

    def apply(self, world: World) -> None:
        self._node(world)


# ---------------------------------------------------------------- docker
@dataclass
class PortOp(Op):
    """``docker run -p ...``: the container re-created with exactly these published ports."""

    container: str = ""
    ports: tuple[str, ...] = ()
    rebuild = True

    def apply(self, world: World) -> None:
        self._node(world)


@dataclass
class ConnectOp(Op):
    """``docker network connect NETWORK CONTAINER``."""

    network: str = ""
    container: str = ""
    rebuild = True

    def apply(self, world: World) -> None:
        self._node(world)


_RUN_WITH_VALUE = {"-e", "--env", "-v", "--volume", "--network", "--net", "-h", "--hostname", "-u",
                   "--user", "-w", "--workdir", "--restart", "--label", "-l", "--mount", "--entrypoint",
                   "--ip", "--mac-address", "--dns", "--add-host", "--cpus", "-m", "--memory"}


def _docker(words: list[str], line: str, default_container: str) -> Op:
    if words[:3] == ["docker", "network", "connect"]:
        args = [w for w in words[3:] if not w.startswith("-")]
        if len(args) != 2:
            raise FixError(f"{line!r}: write it as docker network connect NETWORK CONTAINER")
        return ConnectOp(line=line, node=args[1], network=args[0], container=args[1])
    if words[:2] == ["docker", "container"]:
        words = ["docker", *words[2:]]
    if len(words) < 2 or words[1] not in ("run", "create"):
        raise FixError(f"{line!r}: of docker's commands a fix may use docker run -p ..., docker network "
                       "connect and docker exec CONTAINER COMMAND\n" + FORMS)
    ports: list[str] = []
    name = None
    image = None
    i = 2
    while i < len(words):
        w = words[i]
        if w in ("-p", "--publish"):
            if i + 1 >= len(words):
                raise FixError(f"{line!r}: -p needs a mapping such as 8080:80")
            ports.append(words[i + 1])
            i += 2
            continue
        if w.startswith("--publish="):
            ports.append(w.split("=", 1)[1])
        elif w.startswith("-p") and len(w) > 2 and not w.startswith("--"):
            ports.append(w[2:])
        elif w == "--name":
            name = words[i + 1] if i + 1 < len(words) else None
            i += 2
            continue
        elif w.startswith("--name="):
            name = w.split("=", 1)[1]
        elif w in ("-P", "--publish-all"):
            raise FixError(f"{line!r}: -P publishes every EXPOSEd port on a random host port; say which "
                           "with -p HOST_PORT:CONTAINER_PORT")
        elif w in _RUN_WITH_VALUE:
            if w in ("--network", "--net"):
                raise FixError(f"{line!r}: this drill keeps the container on its network; to add one, "
                               "use docker network connect NETWORK CONTAINER")
            i += 2
            continue
        elif not w.startswith("-") and image is None:
            image = w
            break
        i += 1
    if not ports:
        raise FixError(f"{line!r}: no -p in it; a docker run fix says which ports to publish "
                       "(docker run -d --name web -p 8080:80 nginx)")
    from netlab.scenarios.docker import parse_port
    from netlab.scenarios.errors import ScenarioError

    for p in ports:
        try:
            parse_port(p)
        except ScenarioError as exc:
            raise FixError(f"{line!r}: {exc}") from None
    container = name or default_container
    return PortOp(line=line, node=container, container=container, ports=tuple(ports))


# ---------------------------------------------------------------- ip route / link
@dataclass
class RouteOp(Op):
    action: str = "add"
    dst: str = ""
    via: str | None = None
    dev: str | None = None
    metric: int | None = None
    src: str | None = None

    def apply(self, world: World) -> None:
        from netlab.scenarios.world import connected

        node = self._node(world)
        devs = {i.name: i for i in node.interfaces}
        if self.dev is not None and self.dev not in devs:
            raise self._fail(f'Cannot find device "{self.dev}" ({self.node} has {", ".join(devs)})')
        net = ipaddress.ip_network("0.0.0.0/0" if self.dst == "default" else self.dst, strict=False)
        dst = "default" if net.prefixlen == 0 else str(net)
        same = [r for r in node.routes if (r.dst == "default" and dst == "default") or
                (r.dst != "default" and ipaddress.ip_network(r.dst, strict=False) == net)]
        if self.metric is not None:
            same = [r for r in same if (r.metric or 0) == self.metric]
        if self.action == "del":
            if self.via:
                same = [r for r in same if r.via == self.via]
            if self.dev:
                same = [r for r in same if r.dev == self.dev]
            if not same:
                raise self._fail("RTNETLINK answers: No such process (there is no such route; "
                                 f"look with net.state({self.node!r}).routes)")
            node.routes.remove(same[0])
            return
        dev = self.dev
        if self.via is not None:
            gw = ipaddress.IPv4Address(self.via)
            on = [(i.name, a) for i in node.interfaces if i.kind != "loopback" for a in i.addresses
                  if gw in ipaddress.ip_interface(a).network]
            if dev is not None:
                on = [x for x in on if x[0] == dev]
            if not on:
                raise self._fail("RTNETLINK answers: Network is unreachable (the gateway "
                                 f"{self.via} is on none of {self.node}'s subnets"
                                 + (f" on {dev}" if dev else "") + ")")
            if gw == ipaddress.ip_interface(on[0][1]).ip:
                raise self._fail(f"Error: Nexthop has invalid gateway ({self.via} is {self.node}'s own "
                                 "address)")
            dev = dev or on[0][0]
        if dev is None:
            raise self._fail("a route needs via GATEWAY or dev DEVICE")
        if self.action == "add" and same:
            raise self._fail("RTNETLINK answers: File exists (there is already a route to "
                             f"{dst}; use ip route replace, or delete it first)")
        for r in same:
            node.routes.remove(r)
        route = RouteSpec(dst, dev, via=self.via, src=self.src, metric=self.metric)
        if self.via is None:
            route = connected(dev, f"{net.network_address}/{net.prefixlen}")
            route.proto = None
            route.src = self.src
            route.metric = self.metric
            route.dst = dst
        node.routes.append(route)
        from netlab.scenarios.docker import sort_routes

        node.routes[:] = sort_routes(node.routes)


def _ip_route(words: list[str], line: str, node: str) -> RouteOp:
    if len(words) < 3:
        raise FixError(f"{line!r}: write ip route add DEST via GATEWAY (or dev DEVICE)")
    verb = words[2]
    action = {"add": "add", "a": "add", "replace": "replace", "change": "replace", "append": "add",
              "del": "del", "delete": "del", "d": "del"}.get(verb)
    if action is None:
        if verb in ("show", "list", "ls", "get", "s", "l"):
            raise FixError(f"{line!r} only shows routes; look at them with net.state({node!r}).routes")
        raise FixError(f"{line!r}: ip route {verb}? use add, replace or del")
    args = words[3:]
    if not args:
        raise FixError(f"{line!r}: which destination? (default, or a prefix such as 172.18.0.0/16)")
    dst = args[0]
    if dst != "default":
        try:
            ipaddress.ip_network(dst, strict=False)
        except ValueError:
            raise FixError(f"{line!r}: {dst!r} is neither default nor an IPv4 prefix") from None
        if "/" not in dst:
            dst += "/32"
    op = RouteOp(line=line, node=node, action=action, dst=dst)
    i = 1
    while i < len(args):
        key = args[i]
        val = args[i + 1] if i + 1 < len(args) else None
        if key in ("proto", "scope", "table", "onlink"):
            if key == "table" and val not in ("main", "254"):
                raise FixError(f"{line!r}: the drills use the main routing table only")
            i += 1 if key == "onlink" else 2
            continue
        if val is None:
            raise FixError(f"{line!r}: {key} needs a value")
        if key == "via":
            try:
                ipaddress.IPv4Address(val)
            except ValueError:
                raise FixError(f"{line!r}: via {val!r} is not an IPv4 address") from None
            op.via = val
        elif key == "dev":
            op.dev = val
        elif key == "metric":
            if not is_decimal(val):
                raise FixError(f"{line!r}: metric is a number")
            op.metric = int(val)
        elif key == "src":
            op.src = val
        else:
            raise FixError(f"{line!r}: {key!r}? a route here takes via, dev, metric, src")
        i += 2
    return op


@dataclass
class LinkOp(Op):
    iface: str = ""
    up: bool | None = None
    master: str | None = None  # "" = nomaster

    def apply(self, world: World) -> None:
        node = self._node(world)
        iface = next((i for i in node.interfaces if i.name == self.iface), None)
        if iface is None:
            raise self._fail(f'Cannot find device "{self.iface}" ({self.node} has '
                             f'{", ".join(i.name for i in node.interfaces)})')
        if self.master is not None:
            if self.master:
                br = next((i for i in node.interfaces if i.name == self.master), None)
                if br is None:
                    raise self._fail(f'Cannot find device "{self.master}"')
                if br.kind != "bridge":
                    raise self._fail(f"Error: {self.master} is not a bridge (a port can only be "
                                     "enslaved to a bridge)")
                if iface.kind in ("bridge", "loopback"):
                    raise self._fail(f"Error: {self.iface} cannot be a bridge port")
            iface.master = self.master or None
        if self.up is not None:
            if self.up:
                world.down.discard((self.node, self.iface))
            else:
                world.down.add((self.node, self.iface))


def _ip_link(words: list[str], line: str, node: str) -> LinkOp:
    args = words[3:] if len(words) > 2 and words[2] in ("set", "s") else None
    if args is None:
        if len(words) > 2 and words[2] in ("show", "list", "ls"):
            raise FixError(f"{line!r} only shows links; look with net.state({node!r}).links")
        raise FixError(f"{line!r}: write ip link set DEVICE up (or master BRIDGE)")
    if args and args[0] == "dev":
        args = args[1:]
    if not args:
        raise FixError(f"{line!r}: which device?")
    op = LinkOp(line=line, node=node, iface=args[0])
    rest = args[1:]
    if not rest:
        raise FixError(f"{line!r}: set it how? up, down, master BRIDGE or nomaster")
    i = 0
    while i < len(rest):
        w = rest[i]
        if w in ("up", "down"):
            op.up = w == "up"
        elif w == "nomaster":
            op.master = ""
        elif w == "master":
            if i + 1 >= len(rest):
                raise FixError(f"{line!r}: master needs a bridge name")
            op.master = rest[i + 1]
            i += 1
        else:
            raise FixError(f"{line!r}: {w!r}? this drill's ip link set takes up, down, master BRIDGE, "
                           "nomaster")
        i += 1
    return op


@dataclass
class ListenOp(Op):
    """The program inside the container listens on ``bind:port``."""

    bind: str = "0.0.0.0"
    port: int = 0

    def apply(self, world: World) -> None:
        node = self._node(world)
        tcp = [s for s in node.services if s.proto == "tcp" and s.kind != "docker-proxy"]
        same = [s for s in tcp if s.port == self.port]
        if same:
            for s in same:
                s.bind = self.bind
            return
        if len(tcp) == 1:
            tcp[0].port, tcp[0].bind = self.port, self.bind
            return
        raise self._fail(f"which program? {self.node} runs "
                         f"{', '.join(f'{s.kind} on {s.port}' for s in tcp) or 'nothing on TCP'}")


def _listen(words: list[str], line: str, node: str) -> ListenOp:
    arg = " ".join(words[1:]).rstrip(";").strip()
    m = re.fullmatch(r"(?:(\d{1,3}(?:\.\d{1,3}){3}|\*|\[::\]|localhost):)?(\d{1,5})", arg)
    if not m:
        raise FixError(f"{line!r}: write it as nginx does: listen 0.0.0.0:80 (or listen 80 for every "
                       "address)")
    bind = m.group(1) or "0.0.0.0"
    bind = {"*": "0.0.0.0", "[::]": "0.0.0.0", "localhost": "127.0.0.1"}.get(bind, bind)
    try:
        ipaddress.IPv4Address(bind)
    except ValueError:
        raise FixError(f"{line!r}: {bind!r} is not an IPv4 address") from None
    port = int(m.group(2))
    if not 1 <= port <= 65535:
        raise FixError(f"{line!r}: port {port} is not between 1 and 65535")
    return ListenOp(line=line, node=node, bind=bind, port=port)


# ---------------------------------------------------------------- reading a fix
_PROMPT = re.compile(r"^(?:\w[\w.-]*@(?P<node>[\w.-]+)(?::[^\s#$]*)?\s*[#$]|[#$]|(?P<node2>[A-Za-z][\w.-]*):)\s+")
_COMMANDS = ("iptables", "iptables-legacy", "iptables-nft", "iptables-restore", "sysctl", "echo", "docker",
             "ip", "brctl", "modprobe", "listen", "-A", "-I", "-D", "-P", "-N", "-F", "-R", "-X")


def _where(line: str, container: str) -> tuple[str, list[str]]:
    """(node, words) of one command line, its prefix (sudo, docker exec, a prompt) taken off."""
    node = "host"
    m = _PROMPT.match(line)
    if m:
        name = m.group("node") or m.group("node2")
        if name and name not in ("localhost",):
            node = name
        line = line[m.end():]
    try:
        words = shlex.split(line, comments=False)
    except ValueError as exc:
        raise FixError(f"{line!r}: {exc} (a quote is not closed)") from None
    while words and words[0] in ("sudo", "doas"):
        words = words[1:]
    if words[:2] == ["docker", "exec"]:
        rest = words[2:]
        while rest and rest[0].startswith("-"):
            rest = rest[2:] if rest[0] in ("-u", "--user", "-w", "--workdir", "-e", "--env") else rest[1:]
        if len(rest) < 2:
            raise FixError(f"{line!r}: docker exec CONTAINER COMMAND")
        node, words = rest[0], rest[1:]
    elif words[:3] == ["ip", "netns", "exec"]:
        if len(words) < 5:
            raise FixError(f"{line!r}: ip netns exec NAMESPACE COMMAND")
        node, words = words[3], words[4:]
    if words and words[0] in ("sh", "bash") and len(words) == 3 and words[1] == "-c":
        words = shlex.split(words[2])
    return node, words


def parse_fix(text: str, container: str = "web") -> list[Op]:
    """Read a fix (one command per line) into operations; ``container`` is who
    ``docker run`` and ``listen`` mean when no name is given.  Raises
    :class:`FixError` (saying the forms accepted) for anything it cannot read."""
    if not isinstance(text, str):
        raise FixError(f"a fix is text, not {type(text).__name__}\n{FORMS}")
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").replace("\\\n", " ").split("\n")]
    body = [ln for ln in lines if ln.strip()]
    if not body:
        raise FixError("the fix is empty: type the command(s) you would run on the host\n" + FORMS)
    if any(ln.lstrip().startswith("*") for ln in body):  # iptables-restore text
        node = "host"
        keep = []
        for ln in body:
            s = ln.strip()
            if re.match(r"^(sudo\s+)?(docker exec \S+ )?iptables-restore\b", s) or s in ("EOF", "'EOF'"):
                m = re.match(r"^(?:sudo\s+)?docker exec (\S+) ", s)
                node = m.group(1) if m else node
                continue
            keep.append(s)
        return [RestoreOp(line="iptables-restore", node=node, text="\n".join(keep) + "\n")]
    ops: list[Op] = []
    for raw in body:
        for part in re.split(r"\s*(?:&&|;)\s*(?=\S)", raw.strip()):
            line = part.strip()
            if not line or (line.startswith("#") and not _PROMPT.match(line)):
                continue
            if line.startswith("# ") and not line[2:].lstrip().startswith(_COMMANDS):
                continue  # a comment
            ops.append(_one(line, container))
    if not ops:
        raise FixError("the fix holds only comments: type the command(s) you would run\n" + FORMS)
    return ops


def _one(line: str, container: str) -> Op:
    node, words = _where(line, container)
    if not words:
        raise FixError(f"{line!r}: no command in it\n{FORMS}")
    w0 = words[0].rsplit("/", 1)[-1]
    if w0 in ("iptables", "iptables-legacy", "iptables-nft"):
        return _parse_iptables(words[1:], line, node)
    if w0 in ("-A", "-I", "-D", "-P", "-N", "-F", "-R", "-X") or w0 in _CMDS:
        return _parse_iptables(words, line, node)  # a line as iptables -S prints it
    if w0 in ("ip6tables",):
        raise FixError(f"{line!r}: the drills are IPv4; use iptables")
    if w0 == "sysctl":
        args = [w for w in words[1:] if w not in ("-w", "--write", "-q")]
        if len(args) == 1 and "=" in args[0]:
            k, v = args[0].split("=", 1)
            return _sysctl(k, v, line, node)
        if len(args) == 3 and args[1] == "=":
            return _sysctl(args[0], args[2], line, node)
        if len(args) == 1:
            raise FixError(f"{line!r} only reads {args[0]}; set it with sysctl -w {args[0]}=VALUE")
        raise FixError(f"{line!r}: write it as sysctl -w KEY=VALUE")
    if w0 == "echo":
        m = re.fullmatch(r"echo\s+(?:-n\s+)?['\"]?(\S+?)['\"]?\s*(?:>|\|\s*(?:sudo\s+)?tee)\s*"
                         r"(/proc/sys/\S+)", _rejoin(line).strip())
        if not m:
            raise FixError(f"{line!r}: write it as echo 1 > /proc/sys/net/ipv4/ip_forward")
        return _sysctl(m.group(2)[len("/proc/sys/"):], m.group(1), line, node)
    if w0 == "modprobe":
        mod = words[-1] if len(words) > 1 else ""
        if mod not in ("br_netfilter", "bridge", "overlay", "veth", "iptable_nat", "iptable_filter",
                       "nf_conntrack", "xt_conntrack", "ip_tables"):
            raise FixError(f"{line!r}: modprobe which module? (br_netfilter, iptable_nat, ...)")
        return NoteOp(line=line, node=node, note=f"{mod} is already loaded: modprobe changes nothing "
                      "(a loaded module keeps its sysctls as they are)")
    if w0 == "docker":
        return _docker(words, line, container)
    if w0 == "ip":
        if len(words) > 1 and words[1] in ("route", "r", "ro", "rou", "rout"):
            return _ip_route(words, line, node)
        if len(words) > 1 and words[1] in ("link", "l", "li", "lin"):
            return _ip_link(words, line, node)
        raise FixError(f"{line!r}: of ip's commands a fix may use ip route ... and ip link set ...\n{FORMS}")
    if w0 == "brctl":
        if len(words) == 4 and words[1] in ("addif", "delif"):
            return LinkOp(line=line, node=node, iface=words[3],
                          master=words[2] if words[1] == "addif" else "")
        raise FixError(f"{line!r}: write it as brctl addif BRIDGE DEVICE")
    if w0 == "ifconfig" and len(words) == 3 and words[2] in ("up", "down"):
        return LinkOp(line=line, node=node, iface=words[1], up=words[2] == "up")
    if w0 == "listen":
        return _listen(words, line, node if node != "host" else container)
    if re.fullmatch(r"[a-z0-9_.\-/]+\s*=\s*\S+", " ".join(words)) and "." in words[0]:
        k, v = " ".join(words).split("=", 1)
        return _sysctl(k, v, line, node)
    if w0 in ("curl", "ping", "nc", "wget", "telnet", "tcpdump", "traceroute"):
        raise FixError(f"{line!r} tests the network; it changes nothing. Investigate with net.probe(...) "
                       "and type the command that fixes the host")
    raise FixError(f"cannot read {line!r} as a fix.\n{FORMS}")


def _rejoin(line: str) -> str:
    """The echo command of ``line`` without a prompt or sudo in front."""
    m = re.search(r"echo\s.*", line)
    return m.group(0) if m else line
