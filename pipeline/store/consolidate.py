"""Consolidation: SQL over the staging database into the candidate tables.

Only digests that count (the first copy of each content, read and dated) add
appearances, papers and links; a paper's title, abstract and first raw link come from
its first sighting, in (digest_date, source_name, position) order. Every table is
computed whole at each build and written as candidate Parquet files under
staging/candidates/, in the published layout, with a manifest naming each file's
signature: the checks approve exactly those files, and publish moves exactly them.
"""

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.config import WHOLE_PART, Layout, part_file_name
from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES
from pipeline.sql import identifier
from pipeline.store.atomic import write_parquet, write_text
from pipeline.store.staging import content_identity
from pipeline.store.versions import code_fingerprint

MANIFEST_NAME = "manifest.json"
# Tables in one file per month (of the date named here); the others are one part-0 file.
SPLIT_TABLES = ("papers", "appearances", "repo_links", "paper_terms")
_BATCH_ROWS = 65_536

# A digest's first ingestion, as the published digests table records it: kept by rebuilds.
_PREVIOUS_INGESTIONS = "previous_ingestions"

_DIGEST_ROWS_SQL = f"""
CREATE TEMP TABLE digest_rows AS
WITH ranked AS (
    SELECT
        *,
        -- The digest among copies of one content: the first by name of those read and
        -- dated, so an undated copy never takes the place of a dated one.
        first_value(source_name) OVER (PARTITION BY digest_id ORDER BY status = 'ok' DESC, source_name) AS first_source,
        min(parsed_at) OVER (PARTITION BY digest_id) AS first_parsed_at
    FROM staged_files
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
    -- A copy is 'duplicate' only where it was read and dated; a copy of an empty or
    -- undated file keeps that status (and its duplicate_of).
    CASE WHEN r.source_name <> r.first_source AND r.status = 'ok' THEN 'duplicate' ELSE r.status END AS status,
    r.error,
    r.encoding,
    r.block_count,
    r.header_block_count,
    r.format,
    r.listing,
    r.entry_block_count
FROM ranked r
LEFT JOIN {_PREVIOUS_INGESTIONS} p USING (digest_id)
"""
# The digests whose entries count, ranked in the order that decides a paper's first sighting.
_COUNTED_SQL = """
CREATE TEMP TABLE counted_digests AS
SELECT source_name, digest_id, digest_date, row_number() OVER (ORDER BY digest_date, source_name) AS digest_rank
FROM digest_rows
WHERE status = 'ok' AND duplicate_of IS NULL
"""
# An entry's place in that order as one integer (positions are below 2**31): a paper's
# first entry is then a plain min(), whose digest and position the integer gives back.
_ORDER_STEP = 2**31
# The counted entries without their title and abstract (95% of the bytes, read once per paper).
_ENTRY_ROWS_SQL = f"""
CREATE TEMP TABLE entry_rows AS
SELECT e.source_name, e.position, e.line, e.paper_id, e.arxiv_id, e.upvotes, e.comments, e.authors, e.keywords,
       e.stars, c.digest_id, c.digest_date, c.digest_rank * {_ORDER_STEP} + e.position AS entry_order
FROM staged_entries e
JOIN counted_digests c USING (source_name)
"""
_PAPER_FIRSTS_SQL = """
CREATE TEMP TABLE paper_firsts AS
SELECT
    paper_id,
    min(entry_order) AS first_order,
    -- The first sighting that names them: a later capture naming others changes nothing.
    arg_min(arxiv_id, entry_order) FILTER (WHERE arxiv_id IS NOT NULL) AS arxiv_id,
    arg_min(authors, entry_order) FILTER (WHERE authors IS NOT NULL) AS authors,
    arg_min(keywords, entry_order) FILTER (WHERE keywords IS NOT NULL) AS keywords,
    min(digest_date) AS first_seen_date,
    max(digest_date) AS last_seen_date
FROM entry_rows
GROUP BY paper_id
"""
_MONTH = "strftime({column}, '%Y-%m')"
# Each paper as first seen: the papers table without its part.
_PAPER_ROWS_SQL = f"""
CREATE TEMP TABLE paper_rows AS
SELECT f.paper_id, e.title, e.abstract, f.arxiv_id, f.first_seen_date, f.last_seen_date, f.authors, f.keywords
FROM paper_firsts f
JOIN counted_digests c ON c.digest_rank = f.first_order // {_ORDER_STEP}
JOIN staged_entries e ON e.source_name = c.source_name AND e.position = f.first_order % {_ORDER_STEP}
"""
_LINK_ORDER = "r.entry_order * 2 + (l.source = 'card')::INTEGER"

# Each table's rows in its published order, led by the part each row belongs to.
TABLE_QUERIES = {
    "digests": f"SELECT '{WHOLE_PART}' AS part, * FROM digest_rows ORDER BY source_name",
    "papers": f"""
        SELECT {_MONTH.format(column="first_seen_date")} AS part, *
        FROM paper_rows
        ORDER BY first_seen_date, paper_id
    """,
    "appearances": f"""
        SELECT {_MONTH.format(column="digest_date")} AS part, digest_id, paper_id, digest_date, position, line,
               upvotes, comments, arxiv_id
        FROM entry_rows
        ORDER BY digest_date, digest_id, position
    """,
    "repo_links": f"""
        SELECT {_MONTH.format(column="f.first_seen_date")} AS part, l.paper_id, l.url, l.raw_url, l.host, l.kind,
               l.owner, l.repo, l.source
        FROM (
            -- The link as first written: by entry, and in an entry the abstract before the card.
            SELECT r.paper_id, l.url,
                   arg_min(l.raw_url, {_LINK_ORDER}) AS raw_url,
                   arg_min(l.host, {_LINK_ORDER}) AS host,
                   arg_min(l.kind, {_LINK_ORDER}) AS kind,
                   arg_min(l.owner, {_LINK_ORDER}) AS owner,
                   arg_min(l.repo, {_LINK_ORDER}) AS repo,
                   arg_min(l.source, {_LINK_ORDER}) AS source
            FROM staged_links l
            JOIN entry_rows r USING (source_name, position)
            GROUP BY r.paper_id, l.url
        ) l
        JOIN paper_firsts f USING (paper_id)
        ORDER BY part, l.paper_id, l.url
    """,
    # A duplicate copy adds no rejects: its blocks are the first copy's.
    "rejects": f"""
        SELECT '{WHOLE_PART}' AS part, d.digest_id, r.source_name, r.line, r.reason, r.raw_text, r.detail
        FROM staged_rejects r
        JOIN digest_rows d USING (source_name)
        WHERE d.duplicate_of IS NULL
        ORDER BY r.source_name, r.line
    """,
    # The stars a card's GitHub badge (or the JSON's githubStars) showed for its repository.
    "repo_stars": f"""
        SELECT '{WHOLE_PART}' AS part, l.url, r.digest_date AS day, CAST(max(r.stars) AS BIGINT) AS stars
        FROM entry_rows r
        JOIN staged_links l USING (source_name, position)
        WHERE r.stars IS NOT NULL AND l.source = 'card' AND l.kind = 'github'
        GROUP BY l.url, r.digest_date
        ORDER BY l.url, day
    """,
    # In the papers' parts: the terms of a paper are in the file of its papers row.
    "paper_terms": f"""
        SELECT {_MONTH.format(column="p.first_seen_date")} AS part, t.paper_id, t.term, t.in_title
        FROM staged_terms t
        JOIN paper_rows p USING (paper_id)
        ORDER BY part, t.paper_id, t.term
    """,
}


def build_key(con: duckdb.DuckDBPyConnection) -> str:
    """What a build is made from: every staged parse and the pipeline's code."""
    text = f"{content_identity(con)}\n{code_fingerprint()}"
    return hashlib.sha256(text.encode()).hexdigest()


def previous_ingestions(layout: Layout) -> pa.Table:
    """digest_id -> ingested_at of the published digests table; none when it cannot be read."""
    schema = pa.schema([("digest_id", pa.string()), ("ingested_at", PUBLISHED_SCHEMAS["digests"].field("ingested_at").type)])
    files = layout.table_files("digests")
    try:
        tables = [pq.read_table(path, columns=schema.names).cast(schema) for path in files]
    except (OSError, ValueError, KeyError, pa.ArrowException):
        return schema.empty_table()  # a damaged file: the staged parse times stand in
    return pa.concat_tables(tables) if tables else schema.empty_table()


def signature(path: Path) -> list[int]:
    """Size, mtime, ctime and inode: any write to the file, or another file renamed over it, changes it."""
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


@dataclass(frozen=True)
class Candidates:
    """Tables written under staging/candidates/ and awaiting their checks."""

    build_key: str
    files: dict[str, list[Path]]  # table -> its files, in name order
    rows: dict[str, int]


def _runs_by_part(reader: pa.RecordBatchReader) -> Iterator[tuple[str, pa.Table]]:
    """Consecutive rows with the same leading `part` column: (part, the rows without it)."""
    current = ""
    pending: list[pa.Table] = []
    for batch in reader:
        table = pa.Table.from_batches([batch])
        runs = pc.run_end_encode(batch.column(0))
        start = 0
        for part, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
            if part != current and pending:
                yield current, pa.concat_tables(pending)
                pending = []
            current = part
            pending.append(table.slice(start, end - start).drop_columns(["part"]))
            start = end
    if pending:
        yield current, pa.concat_tables(pending)


def _write_table(con: duckdb.DuckDBPyConnection, table: str, directory: Path) -> tuple[list[Path], int]:
    schema = PUBLISHED_SCHEMAS[table]
    reader = con.sql(TABLE_QUERIES[table]).to_arrow_reader(_BATCH_ROWS)
    files, rows = [], 0
    for part, part_rows in _runs_by_part(reader):
        path = directory / part_file_name(part)
        # One table per file, its chunks combined: the same rows always give the same bytes.
        write_parquet(part_rows.cast(schema).combine_chunks(), path)
        files.append(path)
        rows += part_rows.num_rows
    if not files:
        # A table with no rows is one empty file, so its directory is never empty.
        path = directory / part_file_name(WHOLE_PART)
        write_parquet(schema.empty_table(), path)
        files.append(path)
    return files, rows


def write_manifest(layout: Layout, candidates: Candidates) -> None:
    manifest = {
        "build_key": candidates.build_key,
        "rows": candidates.rows,
        "files": {
            table: {path.name: signature(path) for path in paths} for table, paths in candidates.files.items()
        },
    }
    write_text(layout.candidates_dir / MANIFEST_NAME, json.dumps(manifest, indent=1, sort_keys=True))


def remove_candidates(layout: Layout) -> None:
    shutil.rmtree(layout.candidates_dir, ignore_errors=True)


def consolidate(layout: Layout, con: duckdb.DuckDBPyConnection) -> Candidates:
    """Write the tables as candidates from the staging database `con`; returns what was written."""
    # Imported here: polars sets its allocator's environment variable on import, and
    # importing the pipeline (or the Dagster definitions) changes nothing global.
    from pipeline.store.terms import update_terms

    remove_candidates(layout)
    con.execute("SET TimeZone = 'UTC'")
    first_ingestions = previous_ingestions(layout).group_by("digest_id").aggregate([("ingested_at", "min")])
    con.register(_PREVIOUS_INGESTIONS, first_ingestions.rename_columns(["digest_id", "ingested_at"]))
    try:
        for statement in (_DIGEST_ROWS_SQL, _COUNTED_SQL, _ENTRY_ROWS_SQL, _PAPER_FIRSTS_SQL, _PAPER_ROWS_SQL):
            con.execute(statement)
        update_terms(con)
        files, rows = {}, {}
        for table in TABLES:
            files[table], rows[table] = _write_table(con, table, layout.candidate_dir(table))
        candidates = Candidates(build_key(con), files, rows)
    finally:
        for temporary in ("digest_rows", "counted_digests", "entry_rows", "paper_firsts", "paper_rows"):
            con.execute(f"DROP TABLE IF EXISTS {identifier(temporary)}")
        con.unregister(_PREVIOUS_INGESTIONS)
    write_manifest(layout, candidates)
    return candidates

