"""One writer per study: the lock a ``bench run`` holds on its output folder.

The lock is ``<out>/.bench-run.lock``, an advisory ``flock`` held for the whole run, with the holder
written in it as JSON (``host``, ``pid``, ``started``). A second ``bench run`` on the same folder is
refused at once with a :class:`~bench.errors.StudyLockedError` naming the holder (exit code 2). The
operating system drops the lock when its holder ends in any way (``kill -9`` included), so a lock
file left by a killed run is *stale*: the next run takes it over with a warning naming the process
that left it. The file is removed when the run ends (errors and Ctrl-C included).

Writers are also named in what they leave elsewhere (MLflow runs): :func:`writer_id` is this
process, :func:`writer_gone` tells whether a named writer of this host has stopped.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
from pathlib import Path
from types import TracebackType

from bench.errors import StudyLockedError
from bench.integrity import HOST, pid_alive

log = logging.getLogger(__name__)

LOCK_NAME = ".bench-run.lock"

_HELD: dict[Path, list[int]] = {}
"""Lock files this process holds: their descriptor and how many :class:`StudyLock` hold each (re-entrant)."""


def writer_id() -> str:
    """This process as a writer: ``<host>:<pid>``."""
    return f"{HOST}:{os.getpid()}"


def writer_gone(writer: str) -> bool:
    """Whether ``writer`` (a :func:`writer_id`) was a process of this host that no longer runs.

    A writer of another host, or a malformed one, is never taken as gone (it cannot be checked).
    """
    host, _, pid = writer.rpartition(":")
    return host == HOST and pid.isdigit() and not pid_alive(int(pid))


def _holder(text: str) -> str:
    """How the holder recorded in a lock file is named in messages."""
    try:
        info = json.loads(text)
        return f"PID {int(info['pid'])} on host {info['host']} (since {info['started']})"
    except (ValueError, KeyError, TypeError):
        return "a process that has not written its name yet"


class StudyLock:
    """The exclusive lock of a study's output folder, as a context manager.

    Re-entrant within a process (the command line holds it from before its checks, the runner again).

    Parameters
    ----------
    out : path
        The study's ``--out`` folder (it must exist).
    """

    def __init__(self, out: str | os.PathLike[str]) -> None:
        self.path = Path(out) / LOCK_NAME
        self._key = self.path.resolve()
        self._held = False

    def __enter__(self) -> StudyLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise :class:`StudyLockedError` naming the live holder."""
        if self._held:
            return
        if self._key in _HELD:
            _HELD[self._key][1] += 1
            self._held = True
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _holder(os.read(fd, 4096).decode(errors="replace"))
                os.close(fd)
                raise StudyLockedError(
                    f"--out {self.path.parent} is being written by another bench run: {holder} holds "
                    f"{self.path}; wait for it to finish, or pass another --out") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:  # its holder removed it between our open and lock
                same = False
            if same:
                break
            os.close(fd)
        left = os.read(fd, 4096).decode(errors="replace").strip()
        if left:
            log.warning("took over the stale lock %s of %s, which stopped without releasing it", self.path,
                        _holder(left))
        info = {"host": HOST, "pid": os.getpid(), "started": dt.datetime.now().isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        _HELD[self._key] = [fd, 1]
        self._held = True

    def release(self) -> None:
        """Remove the lock file and drop the lock (nothing if not held, or while held again in this process)."""
        if not self._held:
            return
        self._held = False
        held = _HELD[self._key]
        held[1] -= 1
        if held[1] == 0:
            del _HELD[self._key]
            self.path.unlink(missing_ok=True)  # while still locked: no one else can hold this inode
            os.close(held[0])
