"""``sysctl`` lines (``net.ipv4.ip_forward = 1``) and ``grep . /proc/sys/...`` output → sysctls.

Lesson 2 checks ``net.ipv4.ip_forward`` (a host that does not forward never
routes a container's packets); lesson 3 ``net.bridge.bridge-nf-call-iptables``
(whether bridged traffic meets iptables at all).  ``sysctl`` complaining that a
``net.bridge`` key does not exist is kept as a note: it means br_netfilter is
not loaded.
"""

from __future__ import annotations

import re

from netlab.model import HostState
from netlab.parse._errors import empty_error, parse_error
from netlab.parse.clean import clean_lines

_KEY = re.compile(r"^[A-Za-z0-9_\-*]+(?:[./][A-Za-z0-9_\-*:@+]+)+$")
# procps prints: cannot stat /proc/sys/x: No such file..., permission denied on key 'x',
# ignoring / "x", reading key "x", unknown key 'x'
_COMPLAINT = re.compile(r"^sysctl: (?:cannot stat|permission denied on key|reading key|unknown key|"
                        r"setting key)\s+[\"']?([^\s\"',:]+)[\"']?\s*(?:[:,].*)?$")


def proc_path_to_key(path: str) -> str:
    """``/proc/sys/net/ipv4/ip_forward`` → ``net.ipv4.ip_forward`` (dots in names become /)."""
    rel = path.removeprefix("/proc/sys/")
    return ".".join(part.replace(".", "/") for part in rel.split("/"))


def parse_sysctl(text: str | bytes, netns: str = "") -> HostState:
    """Read ``sysctl KEY...`` / ``sysctl -a`` lines, or ``grep . /proc/sys/...`` (``PATH:VALUE``)."""
    command = "sysctl"
    cleaned = clean_lines(text)
    state = HostState(source="paste")
    values: dict[str, str] = {}
    for lineno, line in cleaned.lines:
        complaint = _COMPLAINT.match(line)
        if complaint:
            key = complaint.group(1)
            if key.startswith("/proc/sys/"):
                key = proc_path_to_key(key)
            if "permission denied" in line:
                reason = "not readable by this user (run `sudo sysctl -a` to see it)"
            elif "reading key" in line:
                reason = "could not be read (the kernel refused it; such keys are often unset)"
            else:
                reason = "not present"
            if reason == "not present" and key.startswith("net.bridge."):
                reason += " (the br_netfilter module is not loaded: bridged traffic skips iptables)"
            state.notes.append(f"sysctl {key}: {reason}")
            continue
        if line.startswith("/proc/sys/") and ":" in line:
            path, _, value = line.partition(":")
            key = proc_path_to_key(path.strip())
        else:
            key, eq, value = line.partition("=")
            key = key.strip()
            if not eq:
                raise parse_error(command, "expected `key = value` (as `sysctl net.ipv4.ip_forward` "
                                  "prints it)", cleaned, lineno, line)
        if not _KEY.match(key):
            raise parse_error(command, f"{key!r} is not a sysctl name such as net.ipv4.ip_forward",
                              cleaned, lineno, line)
        values[key] = " ".join(value.split())
    if not values and not state.notes:
        raise empty_error(command, cleaned)
    if values:
        state.sysctls[netns] = values
    state.namespace(netns)
    state.hostname = cleaned.hostname()
    return state
