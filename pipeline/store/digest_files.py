"""The digests directory: which entries it holds, their signatures, and their bytes.

Every entry of the directory is a digest file to record, except hidden names and the
names capture tools give files still being written; an entry that cannot be read (a
FIFO, a directory, a link leading outside, a name that is not UTF-8) is still
listed, and its parse records why it was not read.
"""

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Names a capture tool may use while a file is still being written.
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")
_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


def is_digest_name(name: str) -> bool:
    """Hidden and temporary names are never digests."""
    return not name.startswith(".") and not name.endswith(_TEMPORARY_SUFFIXES)


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (surrogates from os.scandir) as \\xNN.

    Parquet, DuckDB and Dagster take only valid Unicode, so such a name is recorded in
    this form; the file is then reported unreadable, not dropped.
    """
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def list_digest_files(digests_dir: Path) -> list[str]:
    """Source names of the entries of the digests directory, sorted."""
    with os.scandir(digests_dir) as entries:
        return sorted({display_name(entry.name) for entry in entries if is_digest_name(entry.name)})


Signature = tuple[int, ...]


def file_signature(path: Path) -> Signature | None:
    """A file's state without reading it: the name's lstat and its target's stat.

    Size, mtime, ctime and inode of each. ctime cannot be set by users: a rename over
    the file, a chmod or `touch -r` that keep size and mtime still change it; the
    target's part changes when a dangling link's target appears. None when the name is gone.
    """
    try:
        link = path.lstat()
    except (OSError, ValueError):
        return None
    try:
        target = path.stat()
        followed = (target.st_size, target.st_mtime_ns, target.st_ctime_ns, target.st_ino)
    except (OSError, ValueError):
        followed = (0, 0, 0, 0)
    return (link.st_size, link.st_mtime_ns, link.st_ctime_ns, link.st_ino, *followed)


def _not_readable(message: str, code: int = errno.EINVAL) -> OSError:
    return OSError(code, message)


def unreadable_reason(error: OSError) -> str:
    """What the digests table says of a file that could not be read."""
    return f"cannot read the file: {error.strerror or error}"


def read_digest_bytes(digests_dir: Path, source_name: str) -> bytes:
    """Bytes of a digest file; refuses what is no regular file inside the directory, with why."""
    if "/" in source_name or source_name in ("", ".", "..") or "\0" in source_name:
        raise PermissionError(errno.EACCES, f"not a file name inside the digests directory: {source_name!r}")
    path = digests_dir / source_name
    if not os.path.lexists(path) and "\\x" in source_name:
        raise _not_readable("file name is not valid UTF-8 (listed with \\xNN escapes): rename the file", errno.ENOENT)
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(digests_dir.resolve()):
            raise PermissionError(errno.EACCES, f"symbolic link leads outside the digests directory: {target}")
        path = target  # the checked target, so a link swapped after the check is not followed
    mode = path.lstat().st_mode
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise _not_readable(f"{kind}, not a regular file")
    # O_NOFOLLOW: no link is followed past the check; O_NONBLOCK: a file swapped for a
    # FIFO after the check cannot hang the build.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise _not_readable("not a regular file")
        return handle.read()


@dataclass(frozen=True)
class ListedFile:
    source_name: str
    signature: Signature


# The signature of a listed name that cannot be looked up (not UTF-8, or gone since the
# listing): a constant, so an unreadable name is not read again at every build.
UNREACHABLE = (-1,) * 8


def list_with_signatures(digests_dir: Path) -> list[ListedFile]:
    return [
        ListedFile(name, file_signature(digests_dir / name) or UNREACHABLE) for name in list_digest_files(digests_dir)
    ]
