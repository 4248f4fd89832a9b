"""Command-line values checked before any work starts, each refusal one line that says
what to type instead (``netlab`` exits with code 2 on a :class:`UsageError`)."""

from __future__ import annotations

import argparse
import ipaddress
import os
import tempfile

from netlab.errors import UsageError
from netlab.numbers import is_decimal


def writable_file(path: str, what: str = "--output") -> str:
    """``path`` if a file can be (atomically) written there: not a folder, not a device or a
    /proc entry, in a folder that exists and takes new files."""
    if not path:
        raise UsageError(f"{what} needs a file name, like journey.pcapng")
    if os.path.isdir(path):
        raise UsageError(f"{what} {path} is a folder: give a file name in it, like "
                         f"{os.path.join(path, 'out' + (os.path.splitext(path)[1] or '.pcapng'))}")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise UsageError(f"{what} {path} is not a regular file (a device, socket or /proc entry): "
                         "choose a file name in a folder of yours")
    target = os.path.realpath(path)
    folder = os.path.dirname(target) or "."
    if not os.path.isdir(folder):
        raise UsageError(f"{what} {path}: the folder {folder} does not exist; create it "
                         "(mkdir -p) or choose a file in a folder you can write to")
    try:  # the only sure test (root ignores permissions; /proc refuses new files)
        fd, probe = tempfile.mkstemp(prefix=".netlab-probe-", dir=folder)
    except OSError as exc:
        raise UsageError(f"{what} {path}: cannot create files in {folder} ({exc.strerror or exc}); "
                         "choose a file in a folder you can write to") from None
    os.close(fd)
    os.unlink(probe)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"{what} {path} exists and is read-only: choose another name or "
                         f"`chmod u+w {path}`")
    return path


def int_range(lo: int, hi: int, what: str):  # noqa: ANN201 - an argparse type
    """An argparse ``type=`` accepting an integer ``lo``..``hi`` (decimal or 0x hex)."""

    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number: give {what} as {lo}..{hi}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{what} {value} is out of range: give {lo}..{hi}")
        return value

    parse.__name__ = what
    return parse


def float_range(lo: float, hi: float, what: str):  # noqa: ANN201 - an argparse type
    """An argparse ``type=`` accepting a number of seconds ``lo``..``hi``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number: give {what} as {lo}..{hi}") from None
        if not lo <= value <= hi:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{what} {text} is out of range: give {lo}..{hi}")
        return value

    parse.__name__ = what
    return parse


def ip_address(text: str) -> str:
    """An argparse ``type=`` for one IP address (``--local 192.168.56.38``)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IP address: write it like 192.168.56.38") from None


def iface_addr(text: str) -> str:
    """An argparse ``type=`` for ``IFACE=ADDR/PLEN`` (``--iface-addr docker0=172.17.0.1/16``)."""
    name, sep, addr = text.partition("=")
    if not sep or not name or not addr:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not IFACE=ADDR/PLEN: write it like docker0=172.17.0.1/16")
    try:
        ipaddress.ip_interface(addr)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{addr!r} in {text!r} is not an IP address with a prefix length: write it like "
            f"{name}=172.17.0.1/16") from None
    return text


def ifname(text: str) -> str:
    """An argparse ``type=`` for an interface name as the kernel allows it (1-15 characters,
    no whitespace, '/' or ':'; ``eth+`` is a rule's wildcard, not a packet's interface)."""
    if not 1 <= len(text) <= 15 or any(c.isspace() or c in "/:+" or not c.isprintable() for c in text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an interface name: 1-15 characters without spaces, '/', ':' or '+', "
            "like enp0s8 or docker0")
    return text


def name_or_number(names: dict[str, int], what: str, hi: int = 255):  # noqa: ANN201
    """An argparse ``type=`` accepting one of ``names`` or a number 0..``hi``."""

    def parse(text: str) -> str:
        word = text.strip().lower()
        if word in names:
            return word
        if is_decimal(word):
            if int(word) <= hi:
                return str(int(word))
            raise argparse.ArgumentTypeError(f"{what} {word} is out of range: give 0..{hi} or a name")
        shown = ", ".join(sorted(names)[:12])
        raise argparse.ArgumentTypeError(f"{text!r} is not a {what}: give a number 0..{hi} or one "
                                         f"of {shown}")

    parse.__name__ = what
    return parse
