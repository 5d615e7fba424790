"""One writer per run directory: an exclusive lock that dies with the process holding it.

``flock`` on ``DIR/.lock``: the kernel releases it when the holder exits, however it exits
(killed, crashed, power cut), so a stale lock never needs cleaning up. The file also names the
holder (pid, host, start) for the error a second writer gets. Readers (``smacish status``,
``RunHistory.load``) take no lock.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import time
import weakref
from pathlib import Path
from typing import Any, Dict, Optional

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock (documented)
    fcntl = None  # type: ignore[assignment]

LOCK = ".lock"


class RunLockedError(RuntimeError):
    """The run directory is open in another Optimizer (another process, or this one)."""


class RunLock:
    """Hold the lock of ``directory`` until :meth:`release` (or until this object is gone).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> lock = RunLock(d)
    >>> RunLock(d)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    smacish._lock.RunLockedError: ... is in use by process ... on ...
    >>> lock.release(); RunLock(d).release()
    """

    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK
        self._fd: Optional[int] = None
        if fcntl is None:  # pragma: no cover
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            if not _try_lock(fd):
                holder = _holder(self.path)
                if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
                    gc.collect()  # often an Optimizer of this process that is gone but not yet collected
                if not _try_lock(fd):
                    raise RunLockedError(_message(Path(directory), _holder(self.path)))
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                     "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._finalizer = weakref.finalize(self, os.close, fd)

    def release(self) -> None:
        if self._fd is not None:
            self._finalizer()  # closing the file releases the lock
            self._fd = None


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(path: Path) -> Dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _message(directory: Path, holder: Dict[str, Any]) -> str:
    who = f"process {holder.get('pid', '?')} on {holder.get('host', '?')}"
    since = f" (since {holder['since']})" if "since" in holder else ""
    same = holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname()
    fix = ("another Optimizer of this process has it open: call its close() (or use `with`) first"
           if same else "stop that run first, or wait for it to end")
    return (f"the run in {directory} is in use by {who}{since}: one Optimizer at a time may write a run; "
            f"{fix}. To read it meanwhile, use `smacish status {directory}` or smacish.RunHistory.load(...), "
            "which need no lock")
