"""Consolidate the staged batches into the five tables, in DuckDB: only the parts that changed.

Only the current parse of each digest counts: its rows are read from the batch
the staging index names (a join on source name and file), never the dead
rows an older batch still holds. Every value reaches SQL as a parameter or a
registered Arrow table; the file lists too.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.atomic import write_parquet, write_parquet_batches, write_parquet_parts
from pipeline.config import Layout
from pipeline.schemas import PUBLISHED_SCHEMAS, STAGED_SCHEMAS, TABLES
from pipeline.sql import connect, string_literal
from pipeline.incremental import current_batches, staged_state
from pipeline.staging import STAGED_KINDS, batch_file
from pipeline.table_parts import (
    ALWAYS,
    FINGERPRINT_VERSION,
    SPLIT_TABLES,
    WHOLE_PART,
    TablePlan,
    plan_table,
    read_manifest,
    remove_candidates,
    write_plan,
)

_BATCH_ROWS = 65_536
_MEMORY_LIMIT = "1GB"

# The digest row of every file, with duplicates and first ingestion resolved.
_DIGESTS_SQL = """
CREATE TEMP TABLE digest_rows AS
WITH staged AS (
    SELECT s.* EXCLUDE (filename)
    FROM read_parquet($digest_files, filename = true) s
    SEMI JOIN current_staging c ON s.source_name = c.source_name AND s.filename = c.digests_file
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

# The digests whose entries count, ranked in the order that decides which entry of
# a paper comes first: (digest_date, source_name), then position.
_DIGEST_ORDER_SQL = """
CREATE TEMP TABLE digest_order AS
SELECT c.source_name, c.entries_file, row_number() OVER (ORDER BY d.digest_date, d.source_name) AS digest_rank
FROM current_staging c
JOIN digest_rows d USING (source_name)
WHERE c.counted
"""
# An entry's place in that order as one integer (positions are below 2**31):
# ranking 10,000 digests replaces a sort of 700,000 entries, and the first entry of
# a paper is a plain min(), whose digest and position the integer gives back.
_ORDER_STEP = 2**31
# Entries of the digests that count (the first copy of each content, dated: the
# caller passes only their files), without the title and abstract: those are 95% of
# the bytes and only `papers` needs them, once per paper.
_ENTRIES_SQL = f"""
CREATE TEMP TABLE entry_rows AS
SELECT
    e.* EXCLUDE (title, abstract),
    o.digest_rank * {_ORDER_STEP} + e.position AS entry_order
FROM read_parquet($entry_files, filename = true) e
JOIN digest_order o ON e.source_name = o.source_name AND e.filename = o.entries_file
"""
# Digests whose entries and rejects are read (status, duplicates and reject counts
# are known from the digest rows, so the other staged files are never opened).
_COUNTED_SQL = """
SELECT source_name, status = 'ok' AND duplicate_of IS NULL, reject_count > 0 AND duplicate_of IS NULL
FROM digest_rows
ORDER BY source_name
"""
# The three staged files of each digest's current batch, and whether its entries count.
CURRENT_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("digests_file", pa.string()),
        ("entries_file", pa.string()),
        ("rejects_file", pa.string()),
        ("counted", pa.bool_()),
    ]
)
_FIRST = "entry_order"  # unique per entry: (digest_date, source_name, position)
# The part of a row of a split table: the month of a date (pipeline.table_parts).
_DIGEST_MONTH = "strftime(digest_date, '%Y-%m')"
_FIRST_SEEN_MONTH = "strftime(first_seen_date, '%Y-%m')"

# Text-free rows of the split tables, each with its part (pipeline.table_parts).
# min() and arg_min over a key unique per entry give the first entry without a sort
# per group; the first entry's batch file, digest and position (from its entry_order)
# say where the paper's title and abstract are, read only for the parts written.
_PAPER_FIRSTS_SQL = f"""
CREATE TEMP TABLE paper_firsts AS
WITH firsts AS (
    SELECT
        paper_id,
        min({_FIRST}) AS first_order,
        arg_min(arxiv_id, {_FIRST}) FILTER (WHERE arxiv_id IS NOT NULL) AS arxiv_id,
        min(digest_date) AS first_seen_date,
        max(digest_date) AS last_seen_date
    FROM entry_rows
    GROUP BY paper_id
)
SELECT
    f.paper_id,
    o.entries_file AS first_file,
    o.source_name AS first_source,
    CAST(f.first_order % {_ORDER_STEP} AS INTEGER) AS first_position,
    f.arxiv_id,
    f.first_seen_date,
    f.last_seen_date,
    {_FIRST_SEEN_MONTH} AS part
FROM firsts f
JOIN digest_order o ON o.digest_rank = f.first_order // {_ORDER_STEP}
"""
_LINK_ROWS_SQL = f"""
CREATE TEMP TABLE link_rows AS
WITH links AS (
    SELECT paper_id, entry_order, unnest(links) AS link
    FROM entry_rows
),
distinct_links AS (
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
)
SELECT l.*, f.part
FROM distinct_links l
JOIN paper_firsts f USING (paper_id)
"""
# Per part: row count and an order-free hash of the rows (bit_xor of row hashes; the
# rows of a part are unique). Each row hash is hashed again: DuckDB's hash(a, b, ...)
# XORs together one hash per column (hash(1, 'p') XOR hash(2, 'p') equals
# hash(1, 'q') XOR hash(2, 'q')), so bit_xor over the rows was only each column's
# values taken apart from their rows: two papers of a month whose last_seen_date
# moved from the same day to the same day cancelled out, and the part kept its stale
# rows (tests/test_table_parts.py). Hashing the row hash mixes the columns.
_FINGERPRINT_SQL = {
    "papers": """
        SELECT part, count(*), bit_xor(hash(hash(paper_id, first_file, first_source, first_position, arxiv_id,
                                                 first_seen_date, last_seen_date)))
        FROM paper_firsts GROUP BY part
    """,
    "appearances": f"""
        SELECT {_DIGEST_MONTH} AS part, count(*),
               bit_xor(hash(hash(digest_id, paper_id, digest_date, position, line)))
        FROM entry_rows GROUP BY part
    """,
    "repo_links": """
        SELECT part, count(*), bit_xor(hash(hash(paper_id, url, raw_url, host, kind, owner, repo)))
        FROM link_rows GROUP BY part
    """,
}
# The rows of the parts written (listed in written_parts), sorted by part first.
_PART_QUERIES = {
    "appearances": f"""
        SELECT {_DIGEST_MONTH} AS part, digest_id, paper_id, digest_date, position, line
        FROM entry_rows
        WHERE part IN (SELECT part FROM written_parts)
        ORDER BY digest_date, digest_id, position
    """,
    "papers": """
        SELECT f.part, f.paper_id, e.title, e.abstract, f.arxiv_id, f.first_seen_date, f.last_seen_date
        FROM paper_firsts f
        JOIN read_parquet($entry_files, filename = true) e
            ON e.filename = f.first_file AND e.source_name = f.first_source AND e.position = f.first_position
        WHERE f.part IN (SELECT part FROM written_parts)
        ORDER BY f.first_seen_date, f.paper_id
    """,
    "repo_links": """
        SELECT part, paper_id, url, raw_url, host, kind, owner, repo
        FROM link_rows
        WHERE part IN (SELECT part FROM written_parts)
        ORDER BY part, paper_id, url
    """,
}
_PAPER_TEXT_FILES_SQL = """
SELECT DISTINCT first_file FROM paper_firsts WHERE part IN (SELECT part FROM written_parts) ORDER BY 1
"""
WHOLE_QUERIES = {
    "digests": "SELECT * FROM digest_rows ORDER BY source_name",
    # The files are those of the digests whose rejects count, but a batch may hold a
    # duplicate copy's rejects too: they are left out here, or the table would depend on
    # how the digests were batched.
    "rejects": """
        SELECT r.digest_id, r.source_name, r.line, r.reason, r.raw_text, r.detail
        FROM read_parquet($reject_files, filename = true) r
        SEMI JOIN current_staging c ON r.source_name = c.source_name AND r.filename = c.rejects_file
        SEMI JOIN digest_rows d ON r.source_name = d.source_name AND d.duplicate_of IS NULL
        ORDER BY r.source_name, r.line
    """,
}


def _current_staging(layout: Layout, batches: Mapping[str, str]) -> pa.Table:
    names = sorted(batches)
    # A few hundred batches hold all the digests: each batch's path is made once.
    paths = {(kind, batch): str(batch_file(layout, kind, batch)) for batch in set(batches.values()) for kind in STAGED_KINDS}
    files = {kind: [paths[kind, batches[name]] for name in names] for kind in STAGED_KINDS}
    return pa.Table.from_pydict(
        {
            "source_name": names,
            "digests_file": files["digests"],
            "entries_file": files["entries"],
            "rejects_file": files["rejects"],
            "counted": [False] * len(names),
        },
        schema=CURRENT_SCHEMA,
    )


def _distinct_files(current: pa.Table, kind: str, names: set[str], layout: Layout) -> list[str]:
    """The batch files of `kind` holding the named digests' rows, or a zero-row file when there are none."""
    column = current[f"{kind}_file"].to_pylist()
    files = sorted({file for name, file in zip(current["source_name"].to_pylist(), column) if name in names})
    return files or [_empty_file(layout, kind, STAGED_SCHEMAS[kind])]


def _empty_file(layout: Layout, kind: str, schema) -> str:
    """A zero-row file standing in for an empty list, which read_parquet refuses."""
    path = layout.staging_dir / "empty" / f"{kind}.parquet"
    if not path.exists():
        write_parquet(pa.Table.from_pylist([], schema=schema), path)
    return str(path)


def _connect(layout: Layout, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    # Papers with their abstracts are about 1 GB at 10,000 digests; without a limit
    # DuckDB held 3.5 GB. Past the limit it spills to a directory in the staging.
    con.execute(f"SET memory_limit = '{_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = {string_literal(str(layout.staging_dir / 'duckdb_spill'))}")
    return con


def _fingerprints(con: duckdb.DuckDBPyConnection, table: str) -> tuple[dict[str, str], int]:
    """part -> fingerprint of a split table, and its row count."""
    rows = con.execute(_FINGERPRINT_SQL[table]).fetchall()
    parts = {part: _fingerprint(count, digest) for part, count, digest in rows}
    return parts, sum(count for _, count, _ in rows)


def _fingerprint(count: int, digest: int) -> str:
    """A part's fingerprint: its row count and hash, under this code's FINGERPRINT_VERSION."""
    return f"v{FINGERPRINT_VERSION}:{count}:{digest}"


def _write_split_table(con, layout: Layout, table: str, table_plan: TablePlan) -> None:
    """Write the planned parts of a split table, one candidate file per part."""
    con.register("written_parts", pa.table({"part": pa.array(table_plan.write, pa.string())}))
    params = {}
    if table == "papers":
        files = [row[0] for row in con.execute(_PAPER_TEXT_FILES_SQL).fetchall()]
        params = {"entry_files": files or [_empty_file(layout, "entries", STAGED_SCHEMAS["entries"])]}
    reader = con.sql(_PART_QUERIES[table], params=params).to_arrow_reader(_BATCH_ROWS)
    written = write_parquet_parts(reader, PUBLISHED_SCHEMAS[table], lambda part: layout.candidate_file(table, part))
    if table_plan.write == [WHOLE_PART] and not written:
        # A table with no rows at all is one empty part, so its directory is never empty.
        write_parquet(PUBLISHED_SCHEMAS[table].empty_table(), layout.candidate_file(table, WHOLE_PART))


def consolidate(
    layout: Layout,
    source_names: Sequence[str],
    threads: int | None = None,
    state: dict[str, dict] | None = None,
) -> dict[str, int]:
    """Write the candidate parts of the five tables, and their plan; returns row counts.

    Only the parts that differ from the published ones are written (see
    pipeline.table_parts); `publish` moves them into place once checked. `state`
    is the staging index, when the caller has it at hand.
    """
    state = staged_state(layout) if state is None else state
    current = _current_staging(layout, current_batches(state, source_names))
    names = set(current["source_name"].to_pylist())
    digest_files = _distinct_files(current, "digests", names, layout)
    previous = layout.table_file("digests", WHOLE_PART)
    previous_files = [str(previous)] if previous.exists() else [_empty_file(layout, "published_digests", PUBLISHED_SCHEMAS["digests"])]
    remove_candidates(layout)
    manifest = read_manifest(layout)

    counts: dict[str, int] = {}
    plan: dict[str, TablePlan] = {}
    with _connect(layout, threads) as con:
        con.register("current_staging", current)
        con.execute(_DIGESTS_SQL, {"digest_files": digest_files, "previous_digest_files": previous_files})
        counted = con.execute(_COUNTED_SQL).fetchall()
        entry_names = {name for name, has_entries, _ in counted if has_entries}
        reject_names = {name for name, _, has_rejects in counted if has_rejects}
        # Only the digests that count have their entries read.
        current = current.set_column(
            current.schema.get_field_index("counted"),
            "counted",
            pc.is_in(current["source_name"], pa.array(sorted(entry_names), pa.string())),
        )
        con.register("current_staging", current)
        entry_files = _distinct_files(current, "entries", entry_names, layout)
        reject_files = _distinct_files(current, "rejects", reject_names, layout)
        con.execute(_DIGEST_ORDER_SQL)
        con.execute(_ENTRIES_SQL, {"entry_files": entry_files})
        con.execute(_PAPER_FIRSTS_SQL)
        con.execute(_LINK_ROWS_SQL)
        for table in TABLES:
            if table in SPLIT_TABLES:
                parts, counts[table] = _fingerprints(con, table)
                plan[table] = plan_table(layout, table, parts or {WHOLE_PART: _fingerprint(0, 0)}, manifest)
                _write_split_table(con, layout, table, plan[table])
            else:
                plan[table] = plan_table(layout, table, {WHOLE_PART: ALWAYS}, manifest)
                params = {"reject_files": reject_files} if table == "rejects" else {}
                reader = con.sql(WHOLE_QUERIES[table], params=params).to_arrow_reader(_BATCH_ROWS)
                counts[table] = write_parquet_batches(reader, PUBLISHED_SCHEMAS[table], layout.candidate_file(table, WHOLE_PART))
    write_plan(layout, plan)
    return counts
