"""``ss -tlnp`` / ``ss -tulpn`` / ``netstat -tlnp`` → the listening sockets.

Which process holds a port, and on which address: ``0.0.0.0:8080`` held by
``docker-proxy`` is Docker's userland proxy for a published port; ``127.0.0.1:5000``
is a server only the host itself can reach.  The forms read:

* ``ss`` (iproute2): ``[Netid] State Recv-Q Send-Q Local Address:Port Peer Address:Port
  [Process]``, the process as ``users:(("docker-proxy",pid=1234,fd=4))`` (older ss:
  ``users:(("sshd",1234,3))``), addresses as ``0.0.0.0:22``, ``[::]:22``, ``*:22``,
  ``127.0.0.53%lo:53``;
* ``netstat`` (net-tools): ``Proto Recv-Q Send-Q Local Address Foreign Address State
  PID/Program name``, the process as ``1234/docker-proxy`` (``-`` when not root),
  IPv6 as ``tcp6`` with ``:::22``.

Connections that are not listening (``ESTAB``, ``TIME_WAIT``: ``ss -tnp`` without ``-l``)
are counted in a note, not kept.
"""

from __future__ import annotations

import re
from typing import Literal

from netlab.model import HostState, Listener
from netlab.numbers import is_decimal
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import Cleaned, clean_lines

COMMAND = "ss -tlnp"
_SS_HEAD = re.compile(r"^(?:Netid\s+)?State\s+Recv-Q\s+Send-Q\s+Local")
_NETSTAT_HEAD = re.compile(r"^Proto\s+Recv-Q\s+Send-Q\s+Local")
_USERS = re.compile(r'\("((?:[^"\\]|\\.)*+)",(?:pid=)?(\d+),(?:fd=)?(\d+)\)')
_PROTOS = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "raw": "raw", "tcp6": "tcp",
           "udp6": "udp", "udpl": "udplite", "udpl6": "udplite", "raw6": "raw"}
_LISTENING = frozenset(("LISTEN", "UNCONN"))
_STATES = frozenset("LISTEN UNCONN ESTAB ESTABLISHED SYN-SENT SYN_SENT SYN-RECV SYN_RECV "
                    "FIN-WAIT-1 FIN_WAIT1 FIN-WAIT-2 FIN_WAIT2 TIME-WAIT TIME_WAIT CLOSE "
                    "CLOSE-WAIT CLOSE_WAIT LAST-ACK LAST_ACK CLOSING UNKNOWN".split())
SS_LINE = re.compile(r"^(?:(?:tcp|udp|raw|sctp|u_str|u_dgr|u_seq|nl|p_raw|p_dgr)\s+)?"
                     r"(?:LISTEN|UNCONN|ESTAB|TIME-WAIT|SYN-SENT|CLOSE-WAIT)\s+\d+\s+\d+\s+\S")
NETSTAT_LINE = re.compile(r"^(?:tcp|udp|raw|sctp|udpl)6?\s+\d+\s+\d+\s+\S*:\S+\s+\S*:\S+")


def _split_addr(text: str) -> tuple[str, str, str | None] | None:
    """``[::]:80`` / ``0.0.0.0%lo:53`` / ``:::80`` / ``*:22`` → (address, port, interface)."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            return None
    else:
        host, sep, port = text.rpartition(":")
        if not sep:
            return None
    iface = None
    if "%" in host:
        host, _, iface = host.partition("%")
    if host == "::" or host == "" and text.startswith(":::"):
        host = "::"
    return host or "*", port, iface


def _family(addr: str, proto_word: str) -> int:
    return 6 if ":" in addr or proto_word.endswith("6") else 4


def parse_sockets(text: str | bytes | Cleaned, netns: str = "") -> HostState:
    """Read ``ss -tlnp`` / ``ss -tulpn`` / ``netstat -tlnp`` output into ``state.listeners``."""
    cleaned = clean_lines(text)
    if not cleaned.lines:
        raise empty_error(COMMAND, cleaned)
    state = HostState(source="paste")
    netstat: bool | None = None
    skipped = 0
    no_process = 0
    for lineno, raw in cleaned.lines:
        line = raw.strip()
        if not line or line.startswith(("Active Internet connections", "Active UNIX domain")):
            continue
        if _SS_HEAD.match(line):
            netstat = False
            continue
        if _NETSTAT_HEAD.match(line):
            netstat = True
            continue
        w = line.split()
        is_netstat = netstat if netstat is not None else bool(NETSTAT_LINE.match(line))
        got = _netstat(w, netns) if is_netstat else _ss(w, line, netns)
        if got is None:
            if line.startswith(("unix ", "Proto RefCnt")):
                continue  # netstat -a's UNIX sockets: not network ones
            raise parse_error(COMMAND, "expected a socket line: `State Recv-Q Send-Q "
                              "Local:Port Peer:Port [users:((...))]` (ss) or `Proto Recv-Q "
                              "Send-Q Local Foreign State PID/Program` (netstat)",
                              cleaned, lineno, raw)
        if got is False:
            skipped += 1
            continue
        if got.process is None:
            no_process += 1
        state.listeners.append(got)
    if not state.listeners and not skipped:
        raise empty_error(COMMAND, cleaned)
    if skipped:
        state.notes.append(f"sockets: {skipped} connection(s) that are not listening were left "
                           "out (only listening sockets are kept; `ss -tlnp` lists just those)")
    if no_process:
        state.notes.append(f"sockets: {no_process} socket(s) show no process (run with `sudo` "
                           "and `-p` to see which program holds each port)")
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state


def _ss(w: list[str], line: str, netns: str) -> Listener | None | Literal[False]:
    i = 0
    proto = "tcp"
    if w and w[0] in ("tcp", "udp", "raw", "sctp", "u_str", "u_dgr", "u_seq", "nl", "p_raw",
                      "p_dgr", "mptcp"):
        proto = w[0]
        i = 1
    if len(w) < i + 5 or w[i] not in _STATES or not (is_decimal(w[i + 1]) and is_decimal(w[i + 2])):
        return None
    if proto not in ("tcp", "udp", "raw", "sctp", "mptcp"):
        return False  # UNIX / netlink sockets: not network ones
    state = w[i]
    if state == "UNCONN" and i == 0:
        proto = "udp"  # `ss -ulnp` without -t prints no Netid
    local = _split_addr(w[i + 3])
    if local is None or not is_decimal(local[1]) and local[1] != "*":
        return None
    if state not in _LISTENING:
        return False
    if local[1] == "*":
        return False  # a raw socket bound to no port
    listener = Listener(proto, local[0], int(local[1]), _family(local[0], ""), state=state,
                        iface=local[2], netns=netns)
    users = line.find("users:(")
    if users >= 0:
        m = _USERS.search(line, users)
        if m:
            listener.process = m.group(1)
            listener.pid, listener.fd = int(m.group(2)), int(m.group(3))
    return listener


def _netstat(w: list[str], netns: str) -> Listener | None | Literal[False]:
    if len(w) < 5 or w[0] not in _PROTOS or not (is_decimal(w[1]) and is_decimal(w[2])):
        return None
    proto = _PROTOS[w[0]]
    local = _split_addr(w[3])
    if local is None or not is_decimal(local[1]):
        return None
    rest = w[5:]
    state = rest[0] if rest and rest[0] in _STATES else None
    if state is not None:
        rest = rest[1:]
    if proto == "tcp" and state != "LISTEN":
        return False
    if proto != "tcp" and state not in (None, "LISTEN", "CLOSE", "UNCONN"):
        return False
    host = local[0]
    if w[0].endswith("6") and host == "*":
        host = "::"
    listener = Listener(proto, host, int(local[1]), _family(host, w[0]),
                        state=state or ("LISTEN" if proto == "tcp" else "UNCONN"), netns=netns)
    if rest and "/" in rest[0] and is_decimal(rest[0].split("/", 1)[0]):
        pid, _, name = rest[0].partition("/")
        listener.pid, listener.process = int(pid), name or None
        if name and len(rest) > 1 and rest[0].endswith(":"):
            listener.process = f"{name} {rest[1]}"  # `1234/nginx: master`
    return listener
