"""Parsing digest files into rows for the staging database, in worker processes when there are many.

A worker reads and parses a chunk of files and sends back Arrow tables (one pickled
buffer each, cheap to pass between processes); the caller inserts them into the
staging database inside its one transaction.
"""

import datetime as dt
import os
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa

from pipeline.read.decoding import sha256_hex
from pipeline.read.reader import ParsedDigest, parse_digest
from pipeline.schemas import LINK_STRUCT, UTC_TIMESTAMP
from pipeline.store.digest_files import ListedFile, read_digest_bytes, unreadable_reason

# Below this many files a pool of processes costs more than it saves.
PARALLEL_MIN_FILES = 64
# Files per chunk: small enough for a worker's memory and for balance between workers.
CHUNK_FILES = 64

STAGED_FILE_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("file_signature", pa.list_(pa.int64())),
        ("raw_sha256", pa.string()),
        ("parser_version", pa.string()),
        ("parser_fingerprint", pa.string()),
        ("config_year", pa.int32()),
        ("parsed_at", UTC_TIMESTAMP),
        ("digest_id", pa.string()),
        ("date_line", pa.string()),
        ("digest_date", pa.date32()),
        ("date_source", pa.string()),
        ("entry_count", pa.int32()),
        ("reject_count", pa.int32()),
        ("byte_size", pa.int64()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("encoding", pa.string()),
        ("block_count", pa.int32()),
        ("header_block_count", pa.int32()),
        ("format", pa.string()),
        ("listing", pa.string()),
        ("entry_block_count", pa.int32()),
    ]
)
STAGED_ENTRY_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("position", pa.int32()),
        ("line", pa.int32()),
        ("paper_id", pa.string()),
        ("title", pa.string()),
        ("abstract", pa.string()),
        ("arxiv_id", pa.string()),
        ("upvotes", pa.int32()),
        ("comments", pa.int32()),
        ("authors", pa.list_(pa.string())),
        ("keywords", pa.list_(pa.string())),
        ("stars", pa.int64()),
    ]
)
# A link's own fields are those of a published link (the appearances' links column).
STAGED_LINK_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("position", pa.int32()),
        *LINK_STRUCT.fields,
        ("source", pa.string()),  # abstract, or card
    ]
)
STAGED_REJECT_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("line", pa.int32()),
        ("reason", pa.string()),
        ("raw_text", pa.string()),
        ("detail", pa.string()),
    ]
)


@dataclass(frozen=True)
class ParseSettings:
    """What a parse depends on besides the bytes: recorded with it, compared at the next build."""

    config_year: int | None
    parser_version: str
    parser_fingerprint: str
    parsed_at: dt.datetime


@dataclass(frozen=True)
class StagedRows:
    """The staging rows of some digest files, one Arrow table per staging table."""

    files: pa.Table
    entries: pa.Table
    links: pa.Table
    rejects: pa.Table


def _unreadable(source_name: str, error: OSError) -> ParsedDigest:
    return ParsedDigest(
        source_name=source_name,
        digest_id=sha256_hex(b"unreadable\0" + source_name.encode("utf-8", "surrogateescape")),
        status="unreadable",
        encoding=None,
        byte_size=0,
        error=unreadable_reason(error),
    )


def read_and_parse(digests_dir: Path, source_name: str, config_year: int | None) -> tuple[ParsedDigest, str]:
    """One digest file parsed, and the sha256 of its bytes. Never raises on bad content."""
    try:
        raw = read_digest_bytes(digests_dir, source_name)
    except OSError as error:
        return _unreadable(source_name, error), sha256_hex(b"")
    return parse_digest(raw, source_name, config_year), sha256_hex(raw)


def staged_rows(parses: list[tuple[ListedFile, ParsedDigest, str]], settings: ParseSettings) -> StagedRows:
    files = [
        {
            "source_name": listed.source_name,
            "file_signature": list(listed.signature),
            "raw_sha256": raw_sha256,
            "parser_version": settings.parser_version,
            "parser_fingerprint": settings.parser_fingerprint,
            "config_year": settings.config_year,
            "parsed_at": settings.parsed_at,
            "digest_id": parsed.digest_id,
            "date_line": parsed.date_line,
            "digest_date": parsed.digest_date,
            "date_source": parsed.date_source,
            "entry_count": len(parsed.entries),
            "reject_count": len(parsed.rejects),
            "byte_size": parsed.byte_size,
            "status": parsed.status,
            "error": parsed.error,
            "encoding": parsed.encoding,
            "block_count": parsed.block_count,
            "header_block_count": parsed.header_block_count,
            "format": parsed.format,
            "listing": parsed.listing,
            "entry_block_count": parsed.entry_block_count,
        }
        for listed, parsed, raw_sha256 in parses
    ]
    entries, links, rejects = [], [], []
    for listed, parsed, _ in parses:
        name = listed.source_name
        for entry in parsed.entries:
            entries.append(
                (
                    name, entry.position, entry.line, entry.paper_id, entry.title, entry.abstract, entry.arxiv_id,
                    entry.upvotes, entry.comments, list(entry.authors) or None, list(entry.keywords) or None, entry.stars,
                )
            )
            links += [(name, entry.position, *link, "abstract") for link in entry.links]
            links += [(name, entry.position, *link, "card") for link in entry.card_links]
        rejects += [(name, *reject) for reject in parsed.rejects]
    return StagedRows(
        files=pa.Table.from_pylist(files, schema=STAGED_FILE_SCHEMA),
        entries=_from_tuples(entries, STAGED_ENTRY_SCHEMA),
        links=_from_tuples(links, STAGED_LINK_SCHEMA),
        rejects=_from_tuples(rejects, STAGED_REJECT_SCHEMA),
    )


def _from_tuples(rows: list[tuple], schema: pa.Schema) -> pa.Table:
    columns: list[Sequence] = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    return pa.Table.from_arrays([pa.array(column, field.type) for column, field in zip(columns, schema, strict=True)], schema=schema)


def _parse_chunk(args: tuple[Path, list[ListedFile], ParseSettings]) -> StagedRows:
    digests_dir, files, settings = args
    parses = [(listed, *read_and_parse(digests_dir, listed.source_name, settings.config_year)) for listed in files]
    return staged_rows(parses, settings)


def is_running(pid: int) -> bool:
    """Whether the process exists and has not exited (a zombie has, and may never be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    except OSError:  # no procfs: existence is all there is to know
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    return state not in ("Z", "X")


def _end_with_owner(owner: int) -> None:
    """Worker initializer: exit once the process that owns the pool is gone.

    Forked from multiprocessing's fork server, a worker is no child of the build, and
    its task queue stays open while it holds both ends; the fork server waits for its
    workers in turn. After a kill -9 of the build, each would wait for the other
    forever: so each worker watches the build itself, and the fork server ends with them.
    """

    def watch() -> None:
        while is_running(owner):
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-owner", daemon=True).start()


def parse_files(
    digests_dir: Path, files: Sequence[ListedFile], settings: ParseSettings, workers: int | None = None
) -> Iterator[StagedRows]:
    """The staging rows of the files, a chunk at a time, in the order given."""
    chunks = [(digests_dir, list(files[start : start + CHUNK_FILES]), settings) for start in range(0, len(files), CHUNK_FILES)]
    workers = workers or len(os.sched_getaffinity(0))
    if workers < 2 or len(files) < PARALLEL_MIN_FILES:
        yield from map(_parse_chunk, chunks)
        return
    # forkserver: workers fork from a clean single-threaded server, never from a Dagster
    # process whose threads may hold locks at the moment of a fork.
    context = get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_end_with_owner, initargs=(os.getpid(),)) as pool:
        # A few chunks ahead per worker, no more: results wait in memory until the caller
        # takes them, and pool.map would parse everything ahead of a slower caller.
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(_parse_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
