"""Consolidate per-digest staging into the five tables, in DuckDB.

Every value reaches SQL as a parameter; the file lists too.
"""

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from pipeline.atomic import write_parquet, write_parquet_batches
from pipeline.config import Layout
from pipeline.schemas import PUBLISHED_SCHEMAS, STAGED_DIGEST_SCHEMA, STAGED_ENTRY_SCHEMA, STAGED_REJECT_SCHEMA, TABLES
from pipeline.sql import string_literal
from pipeline.staging import staged_file

_BATCH_ROWS = 65_536
_MEMORY_LIMIT = "1GB"

# The digest row of every file, with duplicates and first ingestion resolved.
_DIGESTS_SQL = """
CREATE TEMP TABLE digest_rows AS
WITH staged AS (
    SELECT * FROM read_parquet($digest_files)
),
ranked AS (
    SELECT
        *,
        first_value(source_name) OVER (PARTITION BY digest_id ORDER BY source_name) AS first_source,
        min(parsed_at) OVER (PARTITION BY digest_id) AS first_parsed_at
    FROM staged
),
previous AS (
    SELECT digest_id, min(ingested_at) AS ingested_at
    FROM read_parquet($previous_digest_files)
    GROUP BY digest_id
)
SELECT
    r.digest_id,
    r.source_name,
    r.date_line,
    r.digest_date,
    r.date_source,
    r.entry_count,
    r.reject_count,
    r.byte_size,
    r.parser_version,
    coalesce(p.ingested_at, r.first_parsed_at) AS ingested_at,
    CASE WHEN r.source_name <> r.first_source THEN r.first_source END AS duplicate_of,
    CASE WHEN r.source_name <> r.first_source THEN 'duplicate' ELSE r.status END AS status,
    r.error,
    r.encoding,
    r.block_count,
    r.header_block_count
FROM ranked r
LEFT JOIN previous p USING (digest_id)
ORDER BY r.source_name
"""

# Entries of the digests that count (the first copy of each content, dated: the
# caller passes only their files), without the title and abstract: those are 95% of
# the bytes and only `papers` needs them, once per paper.
_ENTRIES_SQL = """
CREATE TEMP TABLE entry_rows AS
SELECT * EXCLUDE (title, abstract)
FROM read_parquet($entry_files)
"""
# Digests whose entries and rejects are read (status, duplicates and reject counts
# are known from the digest rows, so the other staged files are never opened).
_COUNTED_SQL = """
SELECT source_name, status = 'ok' AND duplicate_of IS NULL, reject_count > 0 AND duplicate_of IS NULL
FROM digest_rows
ORDER BY source_name
"""
_FIRST = "(digest_date, source_name, position)"

TABLE_QUERIES = {
    "digests": "SELECT * FROM digest_rows ORDER BY source_name",
    "appearances": """
        SELECT digest_id, paper_id, digest_date, position, line
        FROM entry_rows
        ORDER BY digest_date, digest_id, position
    """,
    # arg_min over a key unique per entry is first(... ORDER BY key), without a sort
    # per group; title and abstract are read from the files for the first entry only.
    "papers": f"""
        WITH firsts AS (
            SELECT
                paper_id,
                arg_min(source_name, {_FIRST}) AS first_source,
                arg_min(position, {_FIRST}) AS first_position,
                arg_min(arxiv_id, {_FIRST}) FILTER (WHERE arxiv_id IS NOT NULL) AS arxiv_id,
                min(digest_date) AS first_seen_date,
                max(digest_date) AS last_seen_date
            FROM entry_rows
            GROUP BY paper_id
        )
        SELECT f.paper_id, e.title, e.abstract, f.arxiv_id, f.first_seen_date, f.last_seen_date
        FROM firsts f
        JOIN read_parquet($entry_files) e ON e.source_name = f.first_source AND e.position = f.first_position
        ORDER BY f.first_seen_date, f.paper_id
    """,
    "repo_links": f"""
        WITH links AS (
            SELECT paper_id, digest_date, source_name, position, unnest(links) AS link
            FROM entry_rows
        )
        SELECT
            paper_id,
            link.url AS url,
            arg_min(link.raw_url, {_FIRST}) AS raw_url,
            first(link.host) AS host,
            first(link.kind) AS kind,
            first(link.owner) AS owner,
            first(link.repo) AS repo
        FROM links
        GROUP BY paper_id, link.url
        ORDER BY paper_id, url
    """,
    "rejects": """
        SELECT digest_id, source_name, line, reason, raw_text, detail
        FROM read_parquet($reject_files)
        ORDER BY source_name, line
    """,
}


def _files(layout: Layout, kind: str, source_names: Sequence[str]) -> list[str]:
    files = [staged_file(layout, kind, name) for name in source_names]
    missing = [name for name, path in zip(source_names, files) if not path.exists()]
    if missing:
        raise FileNotFoundError(f"no staged parse for {len(missing)} digest(s), e.g. {missing[0]!r}")
    return [str(path) for path in files]


def _empty_file(layout: Layout, kind: str, schema) -> str:
    """A zero-row file standing in for an empty list, which read_parquet refuses."""
    path = layout.staging_dir / "empty" / f"{kind}.parquet"
    if not path.exists():
        write_parquet(pa.Table.from_pylist([], schema=schema), path)
    return str(path)


def consolidate(
    layout: Layout,
    source_names: Sequence[str],
    destination: dict[str, Path] | None = None,
    threads: int | None = None,
) -> dict[str, int]:
    """Write the five tables from the staged digests named; returns row counts.

    `destination` maps table to output file (default: the candidate files, which
    `publish` moves into place once checked).
    """
    destination = destination or {table: layout.candidate_file(table) for table in TABLES}
    names = sorted(source_names)
    digest_files = _files(layout, "digests", names) or [_empty_file(layout, "digests", STAGED_DIGEST_SCHEMA)]
    previous = layout.table_file("digests")
    previous_files = [str(previous)] if previous.exists() else [_empty_file(layout, "published_digests", PUBLISHED_SCHEMAS["digests"])]

    counts = {}
    with duckdb.connect(":memory:") as con:
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute("SET TimeZone = 'UTC'")
        # Papers with their abstracts are about 1 GB at 10,000 digests; without a limit
        # DuckDB held 3.5 GB. Past the limit it spills to a directory in the staging.
        con.execute(f"SET memory_limit = '{_MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = {string_literal(str(layout.staging_dir / 'duckdb_spill'))}")
        con.execute(_DIGESTS_SQL, {"digest_files": digest_files, "previous_digest_files": previous_files})
        counted = con.execute(_COUNTED_SQL).fetchall()
        entry_names = [name for name, has_entries, _ in counted if has_entries]
        reject_names = [name for name, _, has_rejects in counted if has_rejects]
        entry_files = _files(layout, "entries", entry_names) or [_empty_file(layout, "entries", STAGED_ENTRY_SCHEMA)]
        reject_files = _files(layout, "rejects", reject_names) or [_empty_file(layout, "rejects", STAGED_REJECT_SCHEMA)]
        con.execute(_ENTRIES_SQL, {"entry_files": entry_files})
        for table in TABLES:
            params = {"reject_files": reject_files} if table == "rejects" else {}
            if table == "papers":
                params = {"entry_files": entry_files}
            reader = con.sql(TABLE_QUERIES[table], params=params).to_arrow_reader(_BATCH_ROWS)
            counts[table] = write_parquet_batches(reader, PUBLISHED_SCHEMAS[table], destination[table])
    return counts

