"""The staging database: the parse of every digest file, kept so that a build re-parses only what changed.

warehouse/staging/staging.duckdb holds, per digest file (key: source_name), the file's
signature and sha256 when it was read, what it was parsed with, its digest row, and
its entries, links and rejects. A build parses the new and changed files, then deletes
the rows of changed and removed files and inserts the new ones in ONE transaction: a
crash before the commit leaves the previous staging whole, and the rerun redoes the work.

The database is a cache of the digests directory: one that cannot be opened, or holds
another layout, is deleted and rebuilt from the digests (the published tables keep
each digest's first ingestion time, see pipeline.store.consolidate).
"""

import contextlib
import hashlib
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipeline.read.decoding import sha256_hex
from pipeline.sql import connect, identifier, string_literal
from pipeline.store.digest_files import ListedFile, read_digest_bytes, unreadable_reason
from pipeline.store.parse import StagedRows

log = logging.getLogger(__name__)

SCHEMA_SQL = """
CREATE TABLE staged_files (
    source_name VARCHAR PRIMARY KEY,
    file_signature BIGINT[] NOT NULL,
    raw_sha256 VARCHAR NOT NULL,
    parser_version VARCHAR NOT NULL,
    parser_fingerprint VARCHAR NOT NULL,
    config_year INTEGER,
    parsed_at TIMESTAMPTZ NOT NULL,
    digest_id VARCHAR NOT NULL,
    date_line VARCHAR,
    digest_date DATE,
    date_source VARCHAR,
    entry_count INTEGER NOT NULL,
    reject_count INTEGER NOT NULL,
    byte_size BIGINT NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    encoding VARCHAR,
    block_count INTEGER NOT NULL,
    header_block_count INTEGER NOT NULL,
    format VARCHAR NOT NULL,
    listing VARCHAR NOT NULL,
    entry_block_count INTEGER NOT NULL
);
CREATE TABLE staged_entries (
    source_name VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    line INTEGER NOT NULL,
    paper_id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    abstract VARCHAR NOT NULL,
    arxiv_id VARCHAR,
    upvotes INTEGER,
    comments INTEGER,
    authors VARCHAR[],
    keywords VARCHAR[],
    stars BIGINT
);
CREATE TABLE staged_links (
    source_name VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    url VARCHAR NOT NULL,
    raw_url VARCHAR NOT NULL,
    host VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    owner VARCHAR,
    repo VARCHAR,
    source VARCHAR NOT NULL
);
CREATE TABLE staged_rejects (
    source_name VARCHAR NOT NULL,
    line INTEGER NOT NULL,
    reason VARCHAR NOT NULL,
    raw_text VARCHAR NOT NULL,
    detail VARCHAR NOT NULL
);
-- The terms of each paper's text (title and abstract as published), by the term rules
-- of terms_fingerprint: a paper is tokenized again only when either changes.
CREATE TABLE tokenized_papers (
    paper_id VARCHAR PRIMARY KEY,
    text_sha256 VARCHAR NOT NULL,
    terms_fingerprint VARCHAR NOT NULL
);
CREATE TABLE staged_terms (
    paper_id VARCHAR NOT NULL,
    term VARCHAR NOT NULL,
    in_title BOOLEAN NOT NULL
);
"""
STAGED_TABLES = ("staged_files", "staged_entries", "staged_links", "staged_rejects")
# The layout's own text names it: a database made by other code is rebuilt, not misread.
SCHEMA_ID = hashlib.sha256(SCHEMA_SQL.encode()).hexdigest()[:16]


class StagingUnusable(RuntimeError):
    """The staging database can be neither opened nor rebuilt: the message names the file."""


def _has_this_layout(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        row = con.execute("SELECT schema_id FROM staging_layout").fetchone()
    except duckdb.Error:
        return False
    return row is not None and row[0] == SCHEMA_ID


def _create(path: Path) -> duckdb.DuckDBPyConnection:
    con = connect(str(path))
    con.execute("BEGIN TRANSACTION")
    con.execute(SCHEMA_SQL)
    con.execute("CREATE TABLE staging_layout (schema_id VARCHAR NOT NULL)")
    con.execute("INSERT INTO staging_layout VALUES (?)", [SCHEMA_ID])
    con.execute("COMMIT")
    return con


def _delete(path: Path) -> None:
    for stale in (path, Path(f"{path}.wal")):
        stale.unlink(missing_ok=True)


# A build's transaction holds every new parse until it commits, and consolidation reads
# every abstract: past this much memory DuckDB spills to staging/duckdb_spill/.
MEMORY_LIMIT = "1GB"


def open_staging(path: Path) -> duckdb.DuckDBPyConnection:
    """The staging database for writing, created (or rebuilt, when damaged or of another layout) as needed."""
    con = _open_or_rebuild(path)
    con.execute(f"SET memory_limit = {string_literal(MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory = {string_literal(str(path.parent / 'duckdb_spill'))}")
    return con


def _open_or_rebuild(path: Path) -> duckdb.DuckDBPyConnection:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        try:
            con = connect(str(path))
        except duckdb.Error as error:
            if "lock" in str(error).lower():
                # Another process has it open (the warehouse lock keeps builds apart, so a
                # person's DuckDB session, say): never a reason to delete it.
                raise StagingUnusable(f"the staging database {path} is open in another process: {error}") from None
            log.warning("the staging database %s cannot be opened (%s): rebuilding it from the digests", path, error)
        else:
            if _has_this_layout(con):
                return con
            con.close()
            log.warning("the staging database %s is of another layout: rebuilding it from the digests", path)
        _delete(path)
    try:
        return _create(path)
    except (duckdb.Error, OSError) as error:
        raise StagingUnusable(f"cannot create the staging database {path} ({error}); remove it and rerun") from None


def read_staging(path: Path) -> duckdb.DuckDBPyConnection | None:
    """The staging database read-only, or None when there is none of this layout."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    if not _has_this_layout(con):
        con.close()
        return None
    return con


@dataclass(frozen=True)
class StagedFile:
    signature: tuple[int, ...]
    raw_sha256: str
    parser_fingerprint: str
    config_year: int | None
    status: str
    error: str | None


def staged_files(con: duckdb.DuckDBPyConnection) -> dict[str, StagedFile]:
    rows = con.execute(
        "SELECT source_name, file_signature, raw_sha256, parser_fingerprint, config_year, status, error FROM staged_files"
    ).fetchall()
    return {
        name: StagedFile(tuple(signature), sha, fingerprint, year, status, error)
        for name, signature, sha, fingerprint, year, status, error in rows
    }


@dataclass
class ChangePlan:
    """What a build does to the staging: the files to parse, to forget, and to re-sign."""

    parse: list[ListedFile] = field(default_factory=list)
    remove: list[str] = field(default_factory=list)
    # Same bytes under a new signature (touched, copied back): only the signature is updated.
    resign: list[ListedFile] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes_content(self) -> bool:
        return bool(self.parse or self.remove)


def _read(digests_dir: Path, source_name: str) -> tuple[str | None, str | None]:
    """The sha256 of the file's bytes now, or why it cannot be read, as the digests table would say it."""
    try:
        return sha256_hex(read_digest_bytes(digests_dir, source_name)), None
    except OSError as error:
        return None, unreadable_reason(error)


def plan_changes(
    digests_dir: Path,
    listing: list[ListedFile],
    staged: dict[str, StagedFile],
    config_year: int | None,
    parser_fingerprint: str,
    reparse: Collection[str] = (),
) -> ChangePlan:
    """Compare the listing with the staging: a file is read again only when its signature
    changed, or when it could not be read (a read error can pass while the signature stays:
    EIO on a network mount, too many open files)."""
    plan = ChangePlan()
    for listed in listing:
        old = staged.get(listed.source_name)
        if (
            old is None
            or listed.source_name in reparse
            or old.parser_fingerprint != parser_fingerprint
            or old.config_year != config_year
        ):
            plan.parse.append(listed)
        elif old.status == "unreadable":
            # Staged again only when that would stage something else: a new signature, or the
            # file readable now or unreadable for another reason.
            if old.signature == listed.signature and _read(digests_dir, listed.source_name)[1] == old.error:
                plan.unchanged += 1
            else:
                plan.parse.append(listed)
        elif old.signature == listed.signature:
            plan.unchanged += 1
        elif _read(digests_dir, listed.source_name)[0] == old.raw_sha256:
            plan.resign.append(listed)
        else:
            plan.parse.append(listed)
    listed_names = {listed.source_name for listed in listing}
    plan.remove = sorted(name for name in staged if name not in listed_names)
    return plan


_INSERTS = {
    "staged_files": "files",
    "staged_entries": "entries",
    "staged_links": "links",
    "staged_rejects": "rejects",
}


def apply_changes(con: duckdb.DuckDBPyConnection, plan: ChangePlan, parsed: Iterable[StagedRows]) -> None:
    """In one transaction: forget the parsed and removed files' rows, insert the new parses, re-sign.

    `parsed` yields the rows of plan.parse (pipeline.store.parse.parse_files); it is
    consumed inside the transaction, so an error while parsing rolls everything back.
    """
    forgotten = [listed.source_name for listed in plan.parse] + plan.remove
    con.execute("BEGIN TRANSACTION")
    try:
        for table in STAGED_TABLES:
            con.execute(f"DELETE FROM {identifier(table)} WHERE source_name IN (SELECT unnest($names))", {"names": forgotten})
        for rows in parsed:
            for table, attribute in _INSERTS.items():
                con.register("new_rows", getattr(rows, attribute))
                con.execute(f"INSERT INTO {identifier(table)} BY NAME SELECT * FROM new_rows")
                con.unregister("new_rows")
        for listed in plan.resign:
            con.execute(
                "UPDATE staged_files SET file_signature = $signature WHERE source_name = $name",
                {"signature": list(listed.signature), "name": listed.source_name},
            )
        con.execute("COMMIT")
    except BaseException:
        # A failed COMMIT (a full disk) has ended the transaction already: its error is the one to see.
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("ROLLBACK")
        raise


# What every staged parse is identified by: a build whose staging gives the same
# identity, with the same code, gives the same tables. A parse is a function of the
# bytes, the code and the year; a file that could not be read has no bytes (its
# raw_sha256 is that of b""), so its status and error stand for them. Each file's fields
# as a JSON list: a file name may hold any separator, JSON escapes every control character.
_CONTENT_IDENTITY_SQL = """
SELECT count(*), coalesce(sha256(string_agg(
    to_json([source_name, raw_sha256, parser_fingerprint, CAST(config_year AS VARCHAR), status, error])::VARCHAR,
    chr(10) ORDER BY source_name)), '')
FROM staged_files
"""


def content_identity(con: duckdb.DuckDBPyConnection) -> str:
    [(count, digest)] = con.execute(_CONTENT_IDENTITY_SQL).fetchall()
    return f"{count}:{digest}"
