"""One writer at a time per warehouse: an advisory file lock held for a whole build.

The lock is `flock` on <warehouse>/.papertrends.lock, so the operating system
releases it when its holder exits, even after a crash or a kill: a stale lock
cannot block later builds. It is not reentrant; take it once per build.
"""

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".papertrends.lock"


def lock_path(warehouse_dir: Path) -> Path:
    return warehouse_dir / LOCK_NAME


def lock_holder(warehouse_dir: Path) -> str:
    """The pid the current holder wrote into the lock file ("" if none is known)."""
    try:
        return lock_path(warehouse_dir).read_text().strip()
    except OSError:
        return ""


@contextlib.contextmanager
def warehouse_lock(warehouse_dir: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's write lock; waits for the holder to finish, calling `on_wait` first."""
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_path(warehouse_dir), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(lock_holder(warehouse_dir))
            fcntl.flock(handle, fcntl.LOCK_EX)
        # Who holds it, for the message of the next one to wait.
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
