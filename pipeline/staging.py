"""Per-digest staging: the parse of one file, kept so that other digests never re-parse.

Each digest file has three small Parquet files named by a hash of its source name
(so no file name can escape the staging directory): its digest row, its entries
(links nested) and its rejects.
"""

import datetime as dt
import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PARSER_VERSION
from pipeline.atomic import write_parquet
from pipeline.config import Layout
from pipeline.decoding import sha256_hex
from pipeline.reader import ParsedDigest, parse_digest
from pipeline.schemas import STAGED_DIGEST_SCHEMA, STAGED_ENTRY_SCHEMA, STAGED_REJECT_SCHEMA

STAGED_KINDS = ("digests", "entries", "rejects")
# Names a capture tool may use while a file is still being written.
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")


def staging_key(source_name: str) -> str:
    return hashlib.sha256(source_name.encode("utf-8", "surrogateescape")).hexdigest()[:20]


def staged_file(layout: Layout, kind: str, source_name: str) -> Path:
    return layout.staging_dir / kind / f"{staging_key(source_name)}.parquet"


def is_digest_name(name: str) -> bool:
    """Hidden and temporary names are never digests."""
    return not name.startswith(".") and not name.endswith(_TEMPORARY_SUFFIXES)


def display_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 (surrogates from os.scandir) as \\xNN.

    Parquet, DuckDB and Dagster's storage take only valid Unicode, so such a name
    is recorded in this form; the file is then reported unreadable, not dropped.
    """
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def list_digest_files(digests_dir: Path) -> list[str]:
    """Source names of the digest files in a directory, sorted.

    Only regular files directly inside the directory count; a symbolic link is
    listed (and later refused) so that it is recorded, not silently skipped.
    """
    names = set()
    with os.scandir(digests_dir) as entries:
        for entry in entries:
            if is_digest_name(entry.name) and (entry.is_symlink() or entry.is_file(follow_symlinks=False)):
                names.add(display_name(entry.name))
    return sorted(names)


def read_digest_bytes(digests_dir: Path, source_name: str) -> bytes:
    """Bytes of a digest file; refuses names and links that lead outside the directory."""
    if "/" in source_name or source_name in ("", ".", "..") or "\0" in source_name:
        raise PermissionError(f"not a file name inside the digests directory: {source_name!r}")
    path = digests_dir / source_name
    if not os.path.lexists(path) and "\\x" in source_name:
        raise FileNotFoundError(errno.ENOENT, "file name is not valid UTF-8 (listed with \\xNN escapes): rename the file")
    if path.is_symlink():
        target = path.resolve()
        if not target.is_relative_to(digests_dir.resolve()):
            raise PermissionError(f"symbolic link leads outside the digests directory: {target}")
        path = target  # the checked target, so a link swapped after the check is not followed
    # O_NOFOLLOW: no link is followed past the check; O_NONBLOCK: a FIFO cannot hang the run.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return handle.read()


def digest_file_sha256(digests_dir: Path, source_name: str) -> str:
    """sha256 of a digest file's bytes; of no bytes when it cannot be read (the parse records why)."""
    try:
        return sha256_hex(read_digest_bytes(digests_dir, source_name))
    except OSError:
        return sha256_hex(b"")


def _unreadable(source_name: str, error: OSError) -> ParsedDigest:
    reason = error.strerror or str(error) if not isinstance(error, PermissionError) else str(error)
    return ParsedDigest(
        source_name=source_name,
        digest_id=sha256_hex(b"unreadable\0" + source_name.encode("utf-8", "surrogateescape")),
        status="unreadable",
        encoding=None,
        byte_size=0,
        error=f"cannot read the file: {reason}",
    )


@dataclass(frozen=True)
class StagedDigest:
    source_name: str
    digest_id: str
    status: str
    digest_date: dt.date | None
    entry_count: int
    reject_count: int
    raw_sha256: str
    file_stat: tuple[int, ...] | None = None  # file_signature() when it was read


def _digest_table(
    parsed: ParsedDigest, raw_sha256: str, parsed_at: dt.datetime, config_year: int | None
) -> pa.Table:
    row = {
        "digest_id": parsed.digest_id,
        "source_name": parsed.source_name,
        "date_line": parsed.date_line,
        "digest_date": parsed.digest_date,
        "date_source": parsed.date_source,
        "entry_count": len(parsed.entries),
        "reject_count": len(parsed.rejects),
        "byte_size": parsed.byte_size,
        "parser_version": PARSER_VERSION,
        "status": parsed.status,
        "error": parsed.error,
        "encoding": parsed.encoding,
        "block_count": parsed.block_count,
        "header_block_count": parsed.header_block_count,
        "parsed_at": parsed_at,
        "raw_sha256": raw_sha256,
        "config_year": config_year,
    }
    return pa.Table.from_pylist([row], schema=STAGED_DIGEST_SCHEMA)


def _digest_rows(parsed: ParsedDigest, schema: pa.Schema, count: int, **columns: list) -> pa.Table:
    """Rows of one digest: its id and source name on each, then the given columns."""
    identity = {"digest_id": [parsed.digest_id] * count, "source_name": [parsed.source_name] * count}
    return pa.Table.from_pydict({**identity, **columns}, schema=schema)


def _links_array(entries: list) -> pa.Array:
    """The nested links column, built from flat columns and offsets.

    Three times faster than converting a list of dicts per entry.
    """
    links_type = STAGED_ENTRY_SCHEMA.field("links").type
    links = [link for entry in entries for link in entry.links]
    offsets = [0]
    for entry in entries:
        offsets.append(offsets[-1] + len(entry.links))
    fields = list(links_type.value_type)
    values = pa.StructArray.from_arrays(
        [pa.array([getattr(link, field.name) for link in links], field.type) for field in fields], fields=fields
    )
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=links_type)


def _entries_table(parsed: ParsedDigest) -> pa.Table:
    entries = parsed.entries
    return _digest_rows(
        parsed,
        STAGED_ENTRY_SCHEMA,
        len(entries),
        digest_date=[parsed.digest_date] * len(entries),
        position=[entry.position for entry in entries],
        line=[entry.line for entry in entries],
        paper_id=[entry.paper_id for entry in entries],
        title=[entry.title for entry in entries],
        abstract=[entry.abstract for entry in entries],
        arxiv_id=[entry.arxiv_id for entry in entries],
        links=_links_array(entries),
    )


def _rejects_table(parsed: ParsedDigest) -> pa.Table:
    rejects = parsed.rejects
    return _digest_rows(
        parsed,
        STAGED_REJECT_SCHEMA,
        len(rejects),
        line=[reject.line for reject in rejects],
        reason=[reject.reason for reject in rejects],
        raw_text=[reject.raw_text for reject in rejects],
        detail=[reject.detail for reject in rejects],
    )


def stage_digest(
    layout: Layout,
    digests_dir: Path,
    source_name: str,
    config_year: int | None,
    parsed_at: dt.datetime | None = None,
    durable: bool = True,
) -> tuple[ParsedDigest, StagedDigest]:
    """Parse one digest file and write its staging files. Never raises on bad content.

    `durable=False` leaves the fsyncs to the caller (see pipeline.incremental).
    """
    parsed_at = parsed_at or dt.datetime.now(dt.timezone.utc)
    # Size and modification time before the read: if the file changes meanwhile, the
    # next build sees another mtime and hashes it again.
    file_stat = file_signature(digests_dir / source_name)
    try:
        raw = read_digest_bytes(digests_dir, source_name)
    except OSError as error:
        raw = b""
        parsed = _unreadable(source_name, error)
    else:
        parsed = parse_digest(raw, source_name, config_year)
    raw_sha256 = sha256_hex(raw)
    # Entries and rejects first, the digest row last: a digest row on disk means
    # the rest of its staging is complete.
    write_parquet(_entries_table(parsed), staged_file(layout, "entries", source_name), durable)
    write_parquet(_rejects_table(parsed), staged_file(layout, "rejects", source_name), durable)
    digest_row = _digest_table(parsed, raw_sha256, parsed_at, config_year)
    write_parquet(digest_row, staged_file(layout, "digests", source_name), durable)
    staged = StagedDigest(
        source_name=source_name,
        digest_id=parsed.digest_id,
        status=parsed.status,
        digest_date=parsed.digest_date,
        entry_count=len(parsed.entries),
        reject_count=len(parsed.rejects),
        raw_sha256=raw_sha256,
        file_stat=file_stat,
    )
    return parsed, staged


def file_signature(path: Path) -> tuple[int, ...] | None:
    """A file's state without reading it: size, mtime, ctime, inode, and whether the name is a link.

    ctime cannot be set by users: a rename over the file, a chmod or `touch -r` that
    keep size and mtime still change the signature. None when the name is gone.
    """
    try:
        is_link = path.is_symlink()
        try:
            stat = path.stat()
        except FileNotFoundError:
            stat = path.lstat()  # a dangling link: recorded as unreadable, but listed
    except (OSError, ValueError):
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, int(is_link))


def staged_source_names(layout: Layout) -> dict[str, dict]:
    """The digest rows currently staged, by source name."""
    directory = layout.staging_dir / "digests"
    files = sorted(directory.glob("*.parquet")) if directory.exists() else []
    if not files:
        return {}
    table = pq.ParquetDataset([str(path) for path in files], schema=STAGED_DIGEST_SCHEMA).read(
        columns=["source_name", "raw_sha256", "parser_version", "config_year"]
    )
    return {row["source_name"]: row for row in table.to_pylist()}


def remove_staged(layout: Layout, source_name: str) -> None:
    for kind in STAGED_KINDS:
        staged_file(layout, kind, source_name).unlink(missing_ok=True)


def read_staged_digest(layout: Layout, source_name: str) -> dict | None:
    """The staged digest row of one file, or None when it has not been parsed."""
    path = staged_file(layout, "digests", source_name)
    try:
        rows = pq.read_table(path, schema=STAGED_DIGEST_SCHEMA).to_pylist()
    except FileNotFoundError:
        return None
    return rows[0] if rows else None


def read_staged_entries(layout: Layout, source_name: str, limit: int) -> pa.Table:
    """The first `limit` staged entries of one file."""
    return pq.read_table(staged_file(layout, "entries", source_name), schema=STAGED_ENTRY_SCHEMA).slice(0, limit)
