"""``route -n`` / ``netstat -rn`` (net-tools' "Kernel IP routing table") → routes.

net-tools ``lib/inet_gr.c`` prints ``Destination Gateway Genmask Flags Metric Ref Use
Iface`` (``route -n``) or ``... Flags MSS Window irtt Iface`` (``netstat -rn``); the
flags are ``U`` (up), ``G`` (via a gateway), ``H`` (a host route), ``!`` (reject),
``D``/``M`` (made by a redirect).  The table cannot show a route's protocol, scope,
source address or table (only ``main``): ``ip route show table all`` does.  Without
``-n`` the addresses are names (``default``, ``_gateway``); a name netlab cannot turn
back into an address is left out, with a note.  ``route -n -A inet6`` ("Kernel IPv6
routing table") is read too.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from netlab.errors import ParseError
from netlab.model import HostState, Route
from netlab.numbers import is_decimal
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import Cleaned, clean_lines

COMMAND = "route -n"
_HEAD4 = re.compile(r"^Destination\s+Gateway\s+Genmask\s+Flags\s+(.*)$")
_HEAD6 = re.compile(r"^Destination\s+Next ?Hop\s+Flags?\s+(.*)$")
_FLAGS = re.compile(r"^[UGHRDMACLnaef!]+$")
_NAMES = {"default": "0.0.0.0", "link-local": "169.254.0.0", "loopback": "127.0.0.0"}


def _addr(word: str) -> str | None:
    word = _NAMES.get(word, word)
    try:
        return str(ipaddress.IPv4Address(word))
    except ValueError:
        return None


def parse_route_n(text: str | bytes | Cleaned, netns: str = "", *,
                  command: str | None = None) -> HostState:
    """Read ``route -n`` or ``netstat -rn`` output into ``state.route_list`` (table main).

    ``command`` is the command line when known (``netstat -rn``: its columns are MSS,
    Window and irtt, not Metric, Ref and Use); the header line says so too.
    """
    cleaned = clean_lines(text)
    if not cleaned.lines:
        raise empty_error(COMMAND, cleaned)
    cmd = command or cleaned.first_command() or ""
    columns = (["MSS", "Window", "irtt", "Iface"] if "netstat" in cmd
               else ["Metric", "Ref", "Use", "Iface"])
    family = 4
    state = HostState(source="paste")
    skipped: list[str] = []
    for lineno, raw in cleaned.lines:
        line = raw.strip()
        if not line or line.startswith(("Kernel IP routing table", "Kernel IPv6 routing table")):
            family = 6 if "IPv6" in line else family
            continue
        m = _HEAD4.match(line) or _HEAD6.match(line)
        if m:
            family = 6 if m.re is _HEAD6 else 4
            columns = m.group(1).split()
            continue
        w = line.split()
        if family == 6:
            route = _v6(w, columns, netns)
        else:
            route = _v4(w, columns, netns, skipped, lineno)
        if route is False:
            continue
        if route is None:
            raise parse_error(COMMAND, "expected `DESTINATION GATEWAY GENMASK FLAGS ... IFACE` "
                              "(the columns of `route -n`)", cleaned, lineno, raw)
        state.route_list.append(route)
    if not state.route_list and not skipped:
        lineno, line = cleaned.lines[-1]
        raise ParseError("this paste holds the table's header but no routes", command=COMMAND,
                         lineno=lineno, line=line,
                         hint="paste the whole table `route -n` prints, or `ip route`, which "
                              "shows each route's protocol, scope and source address too")
    if skipped:
        state.notes.append(f"`{cmd or COMMAND}`: {', '.join(skipped)} left out: an address shown "
                           "by name (run `route -n` for numbers)")
    state.notes.append(f"`{cmd or COMMAND}` shows no route's protocol, scope, source address "
                       "or table: the routes are read into table main (paste `ip route` to be sure)")
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state


def _v4(w: list[str], columns: list[str], netns: str, skipped: list[str],
        lineno: int) -> Route | None | Literal[False]:
    if len(w) < 4 or not _FLAGS.match(w[3]):
        return None
    dst, gw, mask, flags = _addr(w[0]), _addr(w[1]), _addr(w[2]), w[3]
    if mask is None:
        return None
    if dst is None or (gw is None and "G" in flags):
        skipped.append(f"line {lineno} ({w[0]} via {w[1]})")
        return False
    try:
        net = ipaddress.IPv4Network(f"{dst}/{mask}", strict=False)
    except ValueError:
        return None
    values = dict(zip(columns, w[4:], strict=False))
    iface = values.get("Iface", w[-1] if len(w) > 4 else None)
    metric = values.get("Metric")
    route = Route(dst="default" if net.prefixlen == 0 else str(net),
                  dev=None if iface in (None, "-", "*") else iface,
                  gateway=gw if "G" in flags and gw != "0.0.0.0" else None,
                  metric=int(metric) if metric and is_decimal(metric) else None, netns=netns)
    if "!" in flags:
        route.type = "unreachable"  # RTF_REJECT: unreachable or prohibit (route -n cannot say)
    elif route.gateway is None:
        route.scope = "link"
    if "D" in flags or "M" in flags:
        route.flags.append("redirected")
    return route


def _v6(w: list[str], columns: list[str], netns: str) -> Route | None | Literal[False]:
    if len(w) < 3 or not _FLAGS.match(w[2]):
        return None
    dst, gw, flags = w[0], w[1], w[2]
    try:
        net = ipaddress.IPv6Network(dst, strict=False)
        hop = ipaddress.IPv6Address(gw)
    except ValueError:
        return None
    values = dict(zip(columns, w[3:], strict=False))
    iface = values.get("If", values.get("Iface", w[-1]))
    metric = values.get("Met", values.get("Metric"))
    if "C" in flags:
        return False  # a cached route, not a table entry
    if iface == "lo" and net.prefixlen == 128 and "n" in flags:
        return Route(dst=str(net.network_address), dev=iface, table="local", type="local",
                     family=6, netns=netns)  # `Un ... lo`: an address of this host
    route = Route(dst="default" if net.prefixlen == 0 else str(net), dev=iface,
                  gateway=str(hop) if "G" in flags and not hop.is_unspecified else None,
                  metric=int(metric) if metric and is_decimal(metric) else None, family=6,
                  netns=netns)
    if "!" in flags:
        route.type = "unreachable"
    return route
