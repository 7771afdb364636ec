"""One writer at a time per warehouse: an advisory file lock held for a whole build.

`flock` on <warehouse>/.papertrends.lock: the operating system releases it when its
holder exits, even after a kill, so a stale lock never blocks later builds. Not
filelock: it does not tell who holds the lock, and "waiting for pid N" is what a
person waiting needs to see. The file is opened with O_NOFOLLOW, so a symbolic link
placed there is refused, never written through. Not reentrant: take it once per build.
"""

import contextlib
import errno
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path


class LockRefused(OSError):
    """The lock file cannot be used (a symbolic link, a directory ...): the message says why."""


def _open_lock_file(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise LockRefused(errno.ELOOP, f"the lock file is a symbolic link, refused (remove it): {path}") from None
        raise


def lock_holder(path: Path) -> str:
    """The pid the current holder wrote into the lock file ("" if none is known)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return ""
    with os.fdopen(fd) as handle:
        return handle.read(32).strip()


@contextlib.contextmanager
def warehouse_lock(path: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the write lock at `path`; waits for the holder to finish, calling `on_wait(pid)` first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_lock_file(path)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(lock_holder(path))
            fcntl.flock(fd, fcntl.LOCK_EX)
        # Who holds it, for the message of the next one to wait (truncated only once held).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the flock
