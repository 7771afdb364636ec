"""Staging: the parse of each digest file, kept so that other digests never re-parse.

Digests are parsed and staged in batches: one batch is three Parquet files,
`staging/{digests,entries,rejects}/<batch id>.parquet`, holding the digest rows,
entries (links nested) and rejects of up to a few hundred digests. Batch ids are
generated (time, process, random), never derived from a file name, so no name can
escape the staging directory. Which batch holds the current parse of each digest
is the staging index's to say (pipeline.incremental): a digest parsed again lives
in a newer batch, and its rows in the older one are dead until compaction.

Per-digest files cost three Parquet writes per digest and, at 10,000 digests, 30,000
file opens in every consolidation; batches of a few hundred cost neither.
"""

import datetime as dt
import errno
import os
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PARSER_VERSION
from pipeline.atomic import write_parquet
from pipeline.config import Layout
from pipeline.read.decoding import sha256_hex
from pipeline.read.reader import ParsedDigest, parse_digest
from pipeline.schemas import STAGED_DIGEST_SCHEMA, STAGED_ENTRY_SCHEMA, STAGED_REJECT_SCHEMA, STAGED_SCHEMAS

STAGED_KINDS = ("digests", "entries", "rejects")
# Names a capture tool may use while a file is still being written.
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", "~")


def new_batch_id() -> str:
    """A fresh batch id; ids sort in order of creation."""
    return f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def batch_file(layout: Layout, kind: str, batch: str) -> Path:
    if kind not in STAGED_KINDS:
        raise ValueError(f"unknown staging kind {kind!r}")
    return layout.staging_dir / kind / f"{batch}.parquet"


def batch_ids(layout: Layout) -> set[str]:
    """The batches with a digests file on disk (a batch's digests file is written last)."""
    directory = layout.staging_dir / "digests"
    try:
        return {name[: -len(".parquet")] for name in os.listdir(directory) if name.endswith(".parquet")}
    except FileNotFoundError:
        return set()


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
    batch: str = ""


def _digest_rows_table(parses: list[tuple[ParsedDigest, str]], parsed_at: dt.datetime, config_year: int | None) -> pa.Table:
    rows = [
        {
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
        for parsed, raw_sha256 in parses
    ]
    return pa.Table.from_pylist(rows, schema=STAGED_DIGEST_SCHEMA)


def _item_pairs(parses: list[ParsedDigest], items: str) -> list[tuple[ParsedDigest, object]]:
    """(digest, item) for every entry or reject ("entries", "rejects") of the digests, in order."""
    return [(parsed, item) for parsed in parses for item in getattr(parsed, items)]


def _per_item(pairs: list[tuple[ParsedDigest, object]], schema: pa.Schema, arrays: dict | None = None, **columns) -> pa.Table:
    """Rows of many digests' entries or rejects: each item's digest id and source name, then `columns`.

    Each column is a function of (digest, item), called for every pair; `arrays` are
    columns already built.
    """
    values = {
        "digest_id": [parsed.digest_id for parsed, _ in pairs],
        "source_name": [parsed.source_name for parsed, _ in pairs],
    }
    for name, value in columns.items():
        values[name] = [value(parsed, item) for parsed, item in pairs]
    return pa.Table.from_pydict({**values, **(arrays or {})}, schema=schema)


def _links_array(pairs: list) -> pa.Array:
    """The nested links column, built from flat columns and offsets.

    Three times faster than converting a list of dicts per entry.
    """
    links_type = STAGED_ENTRY_SCHEMA.field("links").type
    links = [link for _, entry in pairs for link in entry.links]
    offsets = [0]
    for _, entry in pairs:
        offsets.append(offsets[-1] + len(entry.links))
    fields = list(links_type.value_type)
    values = pa.StructArray.from_arrays(
        [pa.array([getattr(link, field.name) for link in links], field.type) for field in fields], fields=fields
    )
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=links_type)


def _entries_table(parses: list[ParsedDigest]) -> pa.Table:
    pairs = _item_pairs(parses, "entries")
    return _per_item(
        pairs,
        STAGED_ENTRY_SCHEMA,
        {"links": _links_array(pairs)},
        digest_date=lambda parsed, _: parsed.digest_date,
        position=lambda _, entry: entry.position,
        line=lambda _, entry: entry.line,
        paper_id=lambda _, entry: entry.paper_id,
        title=lambda _, entry: entry.title,
        abstract=lambda _, entry: entry.abstract,
        arxiv_id=lambda _, entry: entry.arxiv_id,
    )


def _rejects_table(parses: list[ParsedDigest]) -> pa.Table:
    return _per_item(
        _item_pairs(parses, "rejects"),
        STAGED_REJECT_SCHEMA,
        line=lambda _, reject: reject.line,
        reason=lambda _, reject: reject.reason,
        raw_text=lambda _, reject: reject.raw_text,
        detail=lambda _, reject: reject.detail,
    )


def read_and_parse(digests_dir: Path, source_name: str, config_year: int | None) -> tuple[ParsedDigest, str, tuple | None]:
    """Parse one digest file: (parse, sha256 of its bytes, its signature before the read). Never raises on bad content."""
    # The signature before the read: if the file changes meanwhile, the next build
    # sees another signature and hashes it again.
    file_stat = file_signature(digests_dir / source_name)
    try:
        raw = read_digest_bytes(digests_dir, source_name)
    except OSError as error:
        raw = b""
        parsed = _unreadable(source_name, error)
    else:
        parsed = parse_digest(raw, source_name, config_year)
    return parsed, sha256_hex(raw), file_stat


def stage_batch(
    layout: Layout,
    digests_dir: Path,
    source_names: list[str],
    config_year: int | None,
    parsed_at: dt.datetime | None = None,
    durable: bool = True,
) -> list[StagedDigest]:
    """Parse digest files and write their staging as one new batch. Never raises on bad content.

    `durable=False` leaves the fsyncs to the caller (see pipeline.incremental).
    """
    parsed_at = parsed_at or dt.datetime.now(dt.timezone.utc)
    batch = new_batch_id()
    results = [read_and_parse(digests_dir, name, config_year) for name in source_names]
    parses = [parsed for parsed, _, _ in results]
    # Entries and rejects first, the digest rows last: a digests file on disk means
    # the rest of its batch is complete.
    write_parquet(_entries_table(parses), batch_file(layout, "entries", batch), durable)
    write_parquet(_rejects_table(parses), batch_file(layout, "rejects", batch), durable)
    digest_rows = _digest_rows_table([(parsed, raw_sha256) for parsed, raw_sha256, _ in results], parsed_at, config_year)
    write_parquet(digest_rows, batch_file(layout, "digests", batch), durable)
    return [
        StagedDigest(
            source_name=parsed.source_name,
            digest_id=parsed.digest_id,
            status=parsed.status,
            digest_date=parsed.digest_date,
            entry_count=len(parsed.entries),
            reject_count=len(parsed.rejects),
            raw_sha256=raw_sha256,
            file_stat=file_stat,
            batch=batch,
        )
        for parsed, raw_sha256, file_stat in results
    ]


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


def read_batch_rows(layout: Layout, kind: str, current: dict[str, str], columns: list[str] | None = None) -> pa.Table:
    """The staged rows of `kind` for the digests in `current` (source name -> batch), from their batches only."""
    schema = STAGED_SCHEMAS[kind]
    by_batch: dict[str, list[str]] = {}
    for name, batch in current.items():
        by_batch.setdefault(batch, []).append(name)
    tables = [
        pq.read_table(batch_file(layout, kind, batch), schema=schema, columns=columns, filters=[("source_name", "in", names)])
        for batch, names in sorted(by_batch.items())
    ]
    if not tables:
        return schema.empty_table() if columns is None else schema.empty_table().select(columns)
    return pa.concat_tables(tables)


def staged_digest_rows(layout: Layout) -> dict[str, dict]:
    """Every staged digest row on disk, by source name, the newest batch winning, with its batch.

    The answer when the staging index is lost: slower (every batch's digests file is
    read), same result.
    """
    latest: dict[str, dict] = {}
    for batch in sorted(batch_ids(layout)):
        table = pq.read_table(batch_file(layout, "digests", batch), schema=STAGED_DIGEST_SCHEMA)
        for row in table.select(["source_name", "raw_sha256", "parser_version", "config_year"]).to_pylist():
            latest[row["source_name"]] = {**row, "batch": batch}
    return latest
