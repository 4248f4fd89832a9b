"""Atomic file writes: nothing a learner made is lost if the kernel dies mid-write.

The new content goes to a hidden temporary file beside the target
(``.<name>.<random>.tmp``), is fsynced, renamed over the target, and the folder is
fsynced so the rename itself survives a power cut.  The file keeps the mode the old
one had (a new file follows the umask, as ``open()`` would make it), and a symlink is
written through to its target, which stays a symlink.  A save killed before its
rename leaves only its temporary file, which :func:`remove_stale_temps` clears.
"""

from __future__ import annotations

import glob
import os
import stat
import tempfile


def _umask() -> int:
    """The process umask, read without changing it (Linux ``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)  # elsewhere: the classic read (and restore) of the umask
    os.umask(old)
    return old


def target_of(path: str | os.PathLike[str]) -> str:
    """The file a write to ``path`` changes: a symlink's target (followed to the end)."""
    return os.path.realpath(os.fspath(path))


def temp_pattern(path: str | os.PathLike[str]) -> str:
    """The glob of the temporary files a write to ``path`` makes."""
    target = target_of(path)
    folder, name = os.path.split(target)
    return os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.tmp")


def remove_stale_temps(path: str | os.PathLike[str]) -> list[str]:
    """Delete the temporary files killed writes to ``path`` left behind; returns them.
    Call it only while no other process is writing ``path`` (under its lock)."""
    removed = []
    for tmp in glob.glob(temp_pattern(path)):
        try:
            os.unlink(tmp)
            removed.append(tmp)
        except OSError:
            pass
    return removed


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot fsync a folder; the rename is done anyway
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to a temporary file in the same folder, fsync, rename over ``path``
    (a symlink's target), fsync the folder; the file keeps its mode (new: the umask's)."""
    target = target_of(path)
    folder, name = os.path.split(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
