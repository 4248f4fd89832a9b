"""Work inside a lab namespace from this process without leaving our own.

A network namespace belongs to a thread, and a socket to the namespace it was
created in.  :func:`run_in` runs a function in a short-lived thread that has
entered ``/run/netns/<name>``; the calling thread never changes namespace, and
sockets made there keep working from any thread afterwards.  This is how the
lab opens capture sockets and probe sockets in every namespace at once.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from netlab.errors import LabError
from netlab.lab import names

CLONE_NEWNET = 0x40000000
T = TypeVar("T")
_libc = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def run_in(netns: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` executed inside the lab namespace ``netns`` (in a helper thread)."""
    if not names.is_lab_netns(netns):
        raise LabError(f"{netns!r} is not a lab namespace; refusing to enter it")
    path = f"/run/netns/{netns}"
    result: list[Any] = []
    error: list[BaseException] = []

    def body() -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            error.append(LabError(f"namespace {netns} does not exist (is the lab up?)"))
            return
        try:
            _setns(fd)  # this thread only; it ends right after
            result.append(fn(*args))
        except BaseException as exc:  # handed to the caller
            error.append(exc)
        finally:
            os.close(fd)

    t = threading.Thread(target=body, name=f"netns-{netns}", daemon=True)
    t.start()
    t.join()
    if error:
        raise error[0]
    return result[0]


def socket_in(netns: str, family: int, type_: int, proto: int = 0) -> socket.socket:
    """A socket created inside ``netns``."""
    return run_in(netns, socket.socket, family, type_, proto)


def interfaces_in(netns: str) -> dict[int, str]:
    """ifindex -> name of every interface in ``netns``."""
    return run_in(netns, lambda: dict(socket.if_nameindex()))


def read_proc_in(netns: str, paths: list[str]) -> dict[str, str]:
    """Read files under /proc/sys/net or /proc/net as ``netns`` sees them."""
    def read() -> dict[str, str]:
        out = {}
        for p in paths:
            try:
                with open(p) as fh:
                    out[p] = fh.read()
            except OSError:
                out[p] = ""
        return out

    return run_in(netns, read)


SIOCGIFHWADDR = 0x8927


def macs_in(netns: str, ifnames: list[str]) -> dict[str, str]:
    """name -> MAC of the named interfaces of ``netns`` (those that exist)."""
    import fcntl
    import struct

    def read() -> dict[str, str]:
        out = {}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for name in ifnames:
                try:
                    res = fcntl.ioctl(s.fileno(), SIOCGIFHWADDR, struct.pack("256s", name.encode()[:15]))
                except OSError:
                    continue
                out[name] = res[18:24].hex(":")
        return out

    return run_in(netns, read)
