"""One harvest per store at a time: an exclusive advisory lock on a file next to the store.

The lock is :func:`fcntl.flock` on ``<store>.lock``. The kernel releases it when the holding
process ends, however it ends (``SIGKILL``, the OOM killer, a container stopped), so a lock
left by a killed harvest never blocks the next one: it is taken over at once. The holder writes
its pid, host, start time and command into the file, for the message a second harvest shows,
and empties the file when it lets go; details still in the file when the lock is taken are
those of a holder that died (:func:`exclusive_lock` returns them).

Why not the ``filelock`` package: it opens the file with ``O_TRUNC`` *before* it tries the
lock, so every refused contender would erase the holder's details this message needs; its
``SoftFileLock`` (a file that exists) is not released when the holder is killed.

On a platform without ``fcntl`` (Windows) no lock is taken.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..core.errors import StoreError, StoreLocked

__all__ = ["exclusive_lock", "shared_lock", "lock_path"]

#: The holder's details are small; never read more than this from a lock file.
_MAX_DETAILS = 4096


def lock_path(store_path: Path) -> Path:
    """The lock file of a store file: ``catalog.sqlite`` -> ``catalog.sqlite.lock``."""
    return store_path.with_name(store_path.name + ".lock")


def _details() -> dict[str, object]:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": " ".join(sys.argv)[:300]}


def _read(fd: int) -> dict[str, object]:
    try:
        data = json.loads(os.pread(fd, _MAX_DETAILS, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _refusal(path: Path, what: str, holder: dict[str, object], *,
             workers: bool = False) -> str:
    if workers:
        who = "harvest workers (`eduxchange harvest --workers`, `eduxchange worker`)"
    elif not holder:
        who = "another process (it has not written its details yet)"
    else:
        who = f"pid {holder.get('pid', '?')}"
        host = holder.get("host")
        if host and host != socket.gethostname():
            who += f" on host {host}"
        who += f", started {holder.get('started_at', '?')}"
        if holder.get("command"):
            who += f" ({holder['command']})"
    return (f"{what} is already running on this catalogue store: {who}. Nothing was done; "
            f"wait for it to finish (or stop it) and try again. Lock file: {path}")


if sys.platform == "win32":  # pragma: no cover - no advisory locks there

    @contextmanager
    def exclusive_lock(path: Path, *, what: str = "a harvest") -> Iterator[dict[str, object]]:
        """No lock on this platform (see the module docstring)."""
        yield {}

    @contextmanager
    def shared_lock(path: Path, *, what: str = "a harvest") -> Iterator[None]:
        """No lock on this platform (see the module docstring)."""
        yield

else:
    import fcntl

    @contextmanager
    def exclusive_lock(path: Path, *, what: str = "a harvest") -> Iterator[dict[str, object]]:
        """Hold the lock on ``path`` for the block, or raise :class:`StoreLocked` at once.

        Yields the details a previous holder left behind when it died holding the lock
        (empty when the last holder let go properly).
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Not O_TRUNC: the file holds the current holder's details until we hold the lock.
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(f"cannot open the lock file {path}: {err}") from err
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                workers = not holder and _shared_holders(fd)
                raise StoreLocked(_refusal(path, what, holder, workers=workers),
                                  holder=holder) from None
            except OSError as err:  # e.g. ENOLCK: a network file system without locks
                raise StoreError(f"cannot lock {path}: {err}") from err
            left_behind = _read(fd)
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(_details()).encode("utf-8"), 0)
            try:
                yield left_behind
            finally:
                # Emptied while still held: a contender never reads our details after we left.
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _shared_holders(fd: int) -> bool:
        """Whether the lock on ``fd`` is held shared (by workers) rather than exclusively."""
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True

    @contextmanager
    def shared_lock(path: Path, *, what: str = "a harvest") -> Iterator[None]:
        """Hold the lock on ``path`` shared for the block (harvest workers: any number of them,
        never with an :func:`exclusive_lock` holder), or raise :class:`StoreLocked` at once.

        A shared holder writes no details (several hold it at once): the file keeps only an
        exclusive holder's, which the refusal names.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(f"cannot open the lock file {path}: {err}") from err
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read(fd)
                message = _refusal(path, "a harvest", holder).replace(
                    "wait for it to finish", f"{what} cannot start until it ends; wait for it")
                raise StoreLocked(message, holder=holder) from None
            except OSError as err:
                raise StoreError(f"cannot lock {path}: {err}") from err
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
