"""Independent oracles for the store, the checks and the audit gate (issue 20).

Every expected value here is written out by hand from the contract (../shared/DESIGN.md,
docs/contract.md, docs/data-dictionary.md, docs/validation.md), never computed by the
module under test:

1. the published Parquet files' own schemas (pyarrow.parquet.read_schema, and the
   Parquet logical types under them) against a contract table typed in below;
2. every rule of the GX suites and of the checks across tables, at its bound (passes)
   and one past it (fails that rule, and only it);
3. the audit gate: each file an approval covers (each candidate Parquet file through
   the manifest's signatures, the manifest through its sha256, each check's approval)
   changed after the checks passed, and publishing refuses, leaving the published
   files as they were; a candidate file the approval does not name is never published
   (the changes tests/test_audit_gate.py already makes, a missing or foreign approval,
   a manifest reformatted or naming a file more, a file replaced by its copy, are not
   repeated here);
4. first versus last: in tests/test_oracles_history.py, with the hand-made history
   (tests/history_corpus.py) whose published files section 1 also reads.

Ids that are hashes are computed here with hashlib from literal text (the normalized
title, the file's text), never with pipeline.read.identity.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.build import REQUIRED_CHECKS, build_warehouse, consolidate_tables, publish, run_check
from pipeline.config import Settings
from pipeline.store.publish import UncheckedCandidates, check_publishable, read_manifest, record_check
from pipeline.validate.cross_checks import run_cross_checks, run_warning_check
from pipeline.validate.results import CheckResult
from pipeline.validate.suites import validate_table_files
from tests.helpers import SAMPLE_TABLE_FILES, SAMPLES, abstract, render
from tests.rule_texts import CROSS_RULE_TEXTS, REQUIRED_CHECK_NAMES, RULE_TEXTS

# =================================================================================================
# 1. The contract's schemas, typed in from docs/data-dictionary.md (and DESIGN.md's table)
# =================================================================================================

# (column, Arrow type as the data dictionary writes it, nullable), in the dictionary's order.
CONTRACT: dict[str, list[tuple[str, str, bool]]] = {
    "digests": [
        ("digest_id", "string", False),
        ("source_name", "string", False),
        ("date_line", "string", True),
        ("digest_date", "date32[day]", True),
        ("date_source", "string", True),
        ("entry_count", "int32", False),
        ("reject_count", "int32", False),
        ("byte_size", "int64", False),
        ("parser_version", "string", False),
        ("ingested_at", "timestamp[us, tz=UTC]", False),
        ("duplicate_of", "string", True),
        ("status", "string", False),
        ("error", "string", True),
        ("encoding", "string", True),
        ("block_count", "int32", False),
        ("header_block_count", "int32", False),
        ("format", "string", False),
        ("listing", "string", False),
        ("entry_block_count", "int32", False),
    ],
    "papers": [
        ("paper_id", "string", False),
        ("title", "string", False),
        ("abstract", "string", False),
        ("arxiv_id", "string", True),
        ("first_seen_date", "date32[day]", False),
        ("last_seen_date", "date32[day]", False),
        ("authors", "list<element: string>", True),
        ("keywords", "list<element: string>", True),
    ],
    "appearances": [
        ("digest_id", "string", False),
        ("paper_id", "string", False),
        ("digest_date", "date32[day]", False),
        ("position", "int32", False),
        ("line", "int32", False),
        ("upvotes", "int32", True),
        ("comments", "int32", True),
        ("arxiv_id", "string", True),
    ],
    "repo_links": [
        ("paper_id", "string", False),
        ("url", "string", False),
        ("raw_url", "string", False),
        ("host", "string", False),
        ("kind", "string", False),
        ("owner", "string", True),
        ("repo", "string", True),
        ("source", "string", False),
    ],
    "rejects": [
        ("digest_id", "string", False),
        ("source_name", "string", False),
        ("line", "int32", False),
        ("reason", "string", False),
        ("raw_text", "string", False),
        ("detail", "string", False),
    ],
    "repo_stars": [
        ("url", "string", False),
        ("day", "date32[day]", False),
        ("stars", "int64", False),
    ],
}
SIX_TABLES = tuple(CONTRACT)
# The contract's type names as Arrow types, and as Parquet (physical type, logical type) and DuckDB see them.
ARROW_TYPES = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "date32[day]": pa.date32(),
    "timestamp[us, tz=UTC]": pa.timestamp("us", tz="UTC"),
    "list<element: string>": pa.list_(pa.field("element", pa.string())),
}
PARQUET_TYPES = {
    "string": ("BYTE_ARRAY", "String"),
    "int32": ("INT32", "None"),
    "int64": ("INT64", "None"),
    "date32[day]": ("INT32", "Date"),
    "timestamp[us, tz=UTC]": ("INT64", "Timestamp(isAdjustedToUTC=true, timeUnit=microseconds"),
    "list<element: string>": ("BYTE_ARRAY", "String"),
}
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "date32[day]": "DATE",
    "timestamp[us, tz=UTC]": "TIMESTAMP WITH TIME ZONE",
    "list<element: string>": "VARCHAR[]",
}
# The samples are one month: the file names of each table (docs/data-dictionary.md, Files).
SAMPLE_FILES = {
    "digests": ["part-0.parquet"],
    "papers": ["2026-03.parquet"],
    "appearances": ["2026-03.parquet"],
    "repo_links": ["2026-03.parquet"],
    "rejects": ["part-0.parquet"],  # no rejects: one empty file
    "repo_stars": ["part-0.parquet"],  # no stars: one empty file
}
# The hand-made history below spans March and April; only March papers have links.
HISTORY_FILES = {
    "digests": ["part-0.parquet"],
    "papers": ["2026-03.parquet", "2026-04.parquet"],
    "appearances": ["2026-03.parquet", "2026-04.parquet"],
    "repo_links": ["2026-03.parquet"],
    "rejects": ["part-0.parquet"],
    "repo_stars": ["part-0.parquet"],
}


def test_the_contract_type_names_are_arrows_own():
    """The names typed in above are how pyarrow spells the types (so comparing str(type) is exact)."""
    assert {name: str(arrow) for name, arrow in ARROW_TYPES.items()} == {name: name for name in ARROW_TYPES}
    assert {text for columns in CONTRACT.values() for _, text, _ in columns} == set(ARROW_TYPES)


def _files(root: Path, table: str) -> list[Path]:
    return sorted((root / "parquet" / table).glob("*.parquet"))


def _check_file_schema(path: Path, table: str) -> None:
    schema = pq.read_schema(path)
    expected = CONTRACT[table]
    assert [(field.name, str(field.type), field.nullable) for field in schema] == expected, path
    assert [field.type for field in schema] == [ARROW_TYPES[text] for _, text, _ in expected], path
    for field in schema:
        assert not pa.types.is_null(field.type), (path, field.name)
        if pa.types.is_list(field.type):
            assert field.type.value_field.name == "element" and field.type.value_field.nullable, (path, field)
        description = (field.metadata or {}).get(b"description", b"")
        assert description.strip(), f"{path}: {field.name} carries no description"
    # Under the Arrow schema: the Parquet file's own column types, as readers other than pyarrow see them.
    parquet = pq.ParquetFile(path).schema
    leaves = {parquet.column(index).path.split(".")[0]: parquet.column(index) for index in range(len(parquet))}
    assert list(leaves) == [name for name, _, _ in expected], path
    for name, text, nullable in expected:
        physical, logical = PARQUET_TYPES[text]
        column = leaves[name]
        assert column.physical_type == physical, (path, name, column.physical_type)
        assert str(column.logical_type).startswith(logical), (path, name, str(column.logical_type))
        if not pa.types.is_list(ARROW_TYPES[text]):
            assert column.max_definition_level == (1 if nullable else 0), (path, name)


@pytest.mark.parametrize("table", SIX_TABLES)
def test_every_published_sample_file_has_the_contracts_schema(sample_settings, table):
    root = sample_settings.warehouse_dir
    files = _files(root, table)
    assert [path.name for path in files] == SAMPLE_FILES[table]
    for path in files:
        _check_file_schema(path, table)


@pytest.mark.parametrize("table", SIX_TABLES)
def test_every_published_file_of_a_two_month_history_has_the_contracts_schema(history, table):
    files = _files(history.warehouse_dir, table)
    assert [path.name for path in files] == HISTORY_FILES[table]
    for path in files:
        _check_file_schema(path, table)


def test_duckdb_reads_each_table_directory_with_the_contracts_columns(history):
    """read_parquet over a table's directory: the contract's columns and types, no partition column added."""
    with duckdb.connect() as con:
        for table, columns in CONTRACT.items():
            pattern = str(history.warehouse_dir / "parquet" / table / "*.parquet").replace("'", "''")
            described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{pattern}')").fetchall()
            assert [(row[0], row[1]) for row in described] == [(name, DUCKDB_TYPES[text]) for name, text, _ in columns], table


# =================================================================================================
# 2. Every rule of the suites and of the checks across tables: at its bound, and one past it
# =================================================================================================

# The rules in words (tests/rule_texts.py). paper_terms' bounds are in test_validation.
RULES = {table: texts for table, texts in RULE_TEXTS.items() if table != "paper_terms"}
CROSS_RULES = [name for name in CROSS_RULE_TEXTS if name != "paper_terms_paper_in_papers"]

A = "a" * 64  # a.txt (two entries) and b.txt, its copy
C = "c" * 64  # c.txt, an empty file
D = "d" * 64  # d.txt (one entry)
E = "e" * 64  # in no digests row
P1 = "abcdef0123456789"
P2 = "2222222222222222"
P9 = "9999999999999999"  # in no papers row
MAR_11, MAR_12, MAR_13 = dt.date(2026, 3, 11), dt.date(2026, 3, 12), dt.date(2026, 3, 13)
INGESTED = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
REPO_URL = "https://github.com/tensorflow/tensor2tensor"
PROFILE_URL = "https://github.com/tensorflow"


def _digest(source_name: str, digest_id: str, status: str, day: dt.date | None, entries: int, **other) -> dict:
    row = {
        "digest_id": digest_id,
        "source_name": source_name,
        "date_line": day.strftime("%b %d") if day else None,
        "digest_date": day,
        "date_source": "date_line" if day else None,
        "entry_count": entries,
        "reject_count": 0,
        "byte_size": 2048,
        "parser_version": "1",
        "ingested_at": INGESTED,
        "duplicate_of": None,
        "status": status,
        "error": None if status in ("ok", "duplicate") else "no entries",
        "encoding": "utf-8",
        "block_count": 5 + 2 * entries,
        "header_block_count": 4,
        "format": "sample",
        "listing": "daily",
        "entry_block_count": 2 * entries,
    }
    return {**row, **other}


def _paper(paper_id: str, title: str, arxiv_id: str | None, first: dt.date, last: dt.date) -> dict:
    return {
        "paper_id": paper_id,
        "title": title,
        "abstract": f"An abstract of {title}.",
        "arxiv_id": arxiv_id,
        "first_seen_date": first,
        "last_seen_date": last,
    }


def _appearance(digest_id: str, paper_id: str, day: dt.date, position: int, **other) -> dict:
    row = {"digest_id": digest_id, "paper_id": paper_id, "digest_date": day, "position": position, "line": 7 + 4 * position}
    return {**row, "upvotes": None, "comments": None, "arxiv_id": None, **other}


def _reject(digest_id: str, source_name: str, line: int = 3) -> dict:
    return {"digest_id": digest_id, "source_name": source_name, "line": line, "reason": "title_without_abstract", "raw_text": "x", "detail": "d"}


def _link(paper_id: str, url: str, kind: str, owner: str | None, repo: str | None, source: str = "abstract") -> dict:
    host = url.split("/")[2]
    return {
        "paper_id": paper_id,
        "url": url,
        "raw_url": url,
        "host": host,
        "kind": kind,
        "owner": owner,
        "repo": repo,
        "source": source,
    }


def _tables() -> dict[str, list[dict]]:
    """Tables that every rule lets through, each value away from its bounds (a new copy each call)."""
    return {
        "digests": [
            _digest("a.txt", A, "ok", MAR_11, 2),
            _digest("b.txt", A, "duplicate", MAR_11, 2, duplicate_of="a.txt"),
            _digest("c.txt", C, "empty", None, 0, reject_count=1, block_count=1, header_block_count=0),
            _digest("d.txt", D, "ok", MAR_12, 1),
        ],
        "papers": [
            _paper(P1, "Attention Is All You Need", "1706.03762", MAR_11, MAR_12),
            _paper(P2, "Graph Networks Revisited", None, MAR_11, MAR_11),
        ],
        "appearances": [
            _appearance(A, P1, MAR_11, 1, upvotes=12, comments=3, arxiv_id="1706.03762"),
            _appearance(A, P2, MAR_11, 2),
            _appearance(D, P1, MAR_12, 1, upvotes=7, comments=1),
        ],
        "repo_links": [
            _link(P1, REPO_URL, "github", "tensorflow", "tensor2tensor"),
            _link(P1, PROFILE_URL, "github", None, None),  # a profile: no repository
            _link(P2, "https://example.org/code", "project_page", None, None),
        ],
        "rejects": [
            {
                "digest_id": C,
                "source_name": "c.txt",
                "line": 3,
                "reason": "title_without_abstract",
                "raw_text": "x",
                "detail": "d",
            },
        ],
        "repo_stars": [
            {"url": REPO_URL, "day": MAR_11, "stars": 5},
            {"url": REPO_URL, "day": MAR_12, "stars": 6},
        ],
    }


def _schema_for(table: str, rows: list[dict]) -> pa.Schema:
    """The contract's schema; a required column holding a null in a test row is declared nullable
    (a Parquet file cannot hold a null in a required column)."""
    fields = []
    for name, text, nullable in CONTRACT[table]:
        holds_null = any(row.get(name) is None for row in rows)
        fields.append(pa.field(name, ARROW_TYPES[text], nullable or holds_null))
    return pa.schema(fields)


def _write(path: Path, table: str, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=_schema_for(table, rows)), path)
    return path


def _suite(directory: Path, table: str, tables: dict[str, list[dict]]) -> CheckResult:
    path = _write(directory / f"{table}.parquet", table, tables[table])
    digests = _write(directory / "digests-of-the-appearances.parquet", "digests", tables["digests"])
    return validate_table_files(table, [path], [digests])


def _failed_rules(result: CheckResult) -> set[str]:
    return {rule.rule for rule in result.rules if not rule.success}


Edit = Callable[[dict[str, list[dict]]], None]


def _set(table: str, index: int, **values) -> Edit:
    return lambda tables: tables[table][index].update(values)


def _add(table: str, row: dict) -> Edit:
    return lambda tables: tables[table].append(dict(row))


def _unchanged(tables: dict[str, list[dict]]) -> None:
    """The base already sits at this bound."""


@dataclass(frozen=True)
class Bound:
    table: str
    rule: str  # the one rule the past edit must break
    at: Edit  # the tables at the bound: every rule holds
    past: Edit  # one past it: that rule fails, alone
    count: int = 1  # the rows that break it (both rows of a duplicate key)


HEX64 = "0123456789abcdef" * 4
R = RULES
BOUNDS = {
    # --- digests (a.txt ok, b.txt its copy, c.txt empty, d.txt ok) ---
    "digests: source_name empty, then null": Bound(
        "digests", R["digests"][0], _set("digests", 2, source_name=""), _set("digests", 2, source_name=None)
    ),
    "digests: source_name differing in case, then equal": Bound(
        "digests", R["digests"][1], _set("digests", 2, source_name="B.txt"), _set("digests", 2, source_name="b.txt"), count=2
    ),
    "digests: digest_id of 64 hex, then 65": Bound(
        "digests", R["digests"][2], _set("digests", 2, digest_id=HEX64), _set("digests", 2, digest_id=HEX64 + "0")
    ),
    "digests: digest_id of 64 hex, then 63": Bound(
        "digests", R["digests"][2], _set("digests", 2, digest_id=HEX64), _set("digests", 2, digest_id=HEX64[:63])
    ),
    "digests: digest_id in lower case, then upper": Bound(
        "digests", R["digests"][2], _set("digests", 2, digest_id=HEX64), _set("digests", 2, digest_id=HEX64.upper())
    ),
    "digests: a second row with a.txt's id, a copy, then not": Bound(
        "digests",
        R["digests"][3],
        _set("digests", 2, digest_id=A, duplicate_of="a.txt"),
        _set("digests", 2, digest_id=A),
        count=2,
    ),
    "digests: no date, undated, then ok": Bound(
        "digests", R["digests"][4], _set("digests", 2, status="undated"), _set("digests", 2, status="ok", date_source="date_line")
    ),
    "digests: no date, unrecognized, then duplicate": Bound(
        "digests", R["digests"][4], _set("digests", 2, status="unrecognized"), _set("digests", 2, status="duplicate", date_source="date_line")
    ),
    "digests: date_source reference_year, then with a space": Bound(
        "digests",
        R["digests"][5],
        _set("digests", 0, date_source="reference_year"),
        _set("digests", 0, date_source="reference year"),
    ),
    "digests: status unrecognized, then misspelt": Bound(
        "digests", R["digests"][6], _set("digests", 2, status="unrecognized"), _set("digests", 2, status="unrecognised")
    ),
    "digests: entry_count 0, then -1": Bound(
        "digests", R["digests"][7], _set("digests", 2, entry_count=0), _set("digests", 2, entry_count=-1)
    ),
    "digests: reject_count 0, then -1": Bound(
        "digests", R["digests"][8], _set("digests", 3, reject_count=0), _set("digests", 3, reject_count=-1)
    ),
    "digests: duplicate_of a row of the same id, then of another id": Bound(
        "digests", R["digests"][9], _set("digests", 1, duplicate_of="a.txt"), _set("digests", 1, duplicate_of="c.txt")
    ),
    "digests: duplicate_of a row of the same id, then of itself": Bound(
        "digests", R["digests"][9], _set("digests", 1, duplicate_of="a.txt"), _set("digests", 1, duplicate_of="b.txt")
    ),
    "digests: duplicate_of the first copy, then of another copy": Bound(
        "digests",
        R["digests"][9],
        _add("digests", _digest("e.txt", A, "duplicate", MAR_11, 2, duplicate_of="a.txt")),
        lambda tables: (
            tables["digests"].append(_digest("e.txt", A, "duplicate", MAR_11, 2, duplicate_of="a.txt")),
            tables["digests"][1].update(duplicate_of="e.txt"),
        ),
    ),
    "digests: date_source null where not read, then where read": Bound(
        "digests", R["digests"][13], _set("digests", 2, status="undated"), _set("digests", 1, date_source=None)
    ),
    "digests: digest_id of 64 hex, then with a final newline": Bound(
        "digests", R["digests"][2], _set("digests", 2, digest_id=HEX64), _set("digests", 2, digest_id=HEX64 + "\n")
    ),
    "digests: duplicate_of a row of the same id, then of no row": Bound(
        "digests", R["digests"][9], _set("digests", 1, duplicate_of="a.txt"), _set("digests", 1, duplicate_of="gone.txt")
    ),
    "digests: format unrecognized, then html": Bound(
        "digests", R["digests"][10], _set("digests", 2, format="unrecognized"), _set("digests", 2, format="html")
    ),
    "digests: listing unknown, then Unknown": Bound(
        "digests", R["digests"][11], _set("digests", 0, listing="unknown"), _set("digests", 0, listing="Unknown")
    ),
    "digests: entry_block_count 0, then -1": Bound(
        "digests", R["digests"][12], _set("digests", 2, entry_block_count=0), _set("digests", 2, entry_block_count=-1)
    ),
    # --- papers ---
    "papers: paper_id empty, then null": Bound(
        "papers", R["papers"][0], _set("papers", 1, paper_id=""), _set("papers", 1, paper_id=None)
    ),
    "papers: paper_id differing in case, then equal": Bound(
        "papers", R["papers"][1], _set("papers", 1, paper_id=P1.upper()), _set("papers", 1, paper_id=P1), count=2
    ),
    "papers: title of one character, then null": Bound(
        "papers", R["papers"][2], _set("papers", 1, title="T"), _set("papers", 1, title=None)
    ),
    # A letter or a digit, as str.isalnum knows them: one is enough, in any script.
    "papers: title of one letter, then of a dot": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="T"), _set("papers", 1, title=".")
    ),
    "papers: title of one digit, then of a space": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="7"), _set("papers", 1, title=" ")
    ),
    "papers: title of one CJK character, then of an ideographic space": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="\u56fe"), _set("papers", 1, title="\u3000")
    ),
    "papers: title of one accented letter, then of no-break spaces and a tab": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="\u00e9"), _set("papers", 1, title="\u00a0\t\u00a0")
    ),
    "papers: title of a Devanagari letter and its vowel sign, then of the sign alone": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="\u092e\u093f"), _set("papers", 1, title="\u093f")
    ),
    "papers: title of a letter among zero-width characters, then of those alone": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="\u200bA\u2060"), _set("papers", 1, title="\u200b\u2060")
    ),
    "papers: title of a letter and an underscore, then of underscores": Bound(
        "papers", R["papers"][3], _set("papers", 1, title="a_"), _set("papers", 1, title="__")
    ),
    "papers: title of 300, then 301": Bound(
        "papers", R["papers"][4], _set("papers", 1, title="t" * 300), _set("papers", 1, title="t" * 301)
    ),
    "papers: title of 300 accented letters, then 301": Bound(
        "papers", R["papers"][4], _set("papers", 1, title="\u00e9" * 300), _set("papers", 1, title="\u00e9" * 301)
    ),
    "papers: title of 300 astral characters, then 301": Bound(
        "papers", R["papers"][4], _set("papers", 1, title="\U0001d49c" * 300), _set("papers", 1, title="\U0001d49c" * 301)
    ),
    "papers: abstract of 5,000, then 5,001": Bound(
        "papers", R["papers"][5], _set("papers", 1, abstract="a" * 5000), _set("papers", 1, abstract="a" * 5001)
    ),
    "papers: abstract of 5,000 accented letters, then 5,001": Bound(
        "papers", R["papers"][5], _set("papers", 1, abstract="\u00e9" * 5000), _set("papers", 1, abstract="\u00e9" * 5001)
    ),
    "papers: abstract of 1, then 0": Bound(
        "papers", R["papers"][5], _set("papers", 1, abstract="A"), _set("papers", 1, abstract="")
    ),
    "papers: arxiv_id of 5 digits, then 6": Bound(
        "papers", R["papers"][6], _set("papers", 0, arxiv_id="2303.12345"), _set("papers", 0, arxiv_id="2303.123456")
    ),
    "papers: arxiv_id of 4 digits, then 3": Bound(
        "papers", R["papers"][6], _set("papers", 0, arxiv_id="2303.1234"), _set("papers", 0, arxiv_id="2303.123")
    ),
    "papers: arxiv_id, then with a final newline": Bound(
        "papers", R["papers"][6], _set("papers", 0, arxiv_id="2303.12345"), _set("papers", 0, arxiv_id="2303.12345\n")
    ),
    "papers: arxiv_id, then with its version": Bound(
        "papers", R["papers"][6], _set("papers", 0, arxiv_id="2303.12345"), _set("papers", 0, arxiv_id="2303.12345v2")
    ),
    "papers: arxiv_id, then with its prefix": Bound(
        "papers", R["papers"][6], _set("papers", 0, arxiv_id="2303.12345"), _set("papers", 0, arxiv_id="arXiv:2303.12345")
    ),
    "papers: first_seen on last_seen, then a day after": Bound(
        "papers", R["papers"][7], _set("papers", 0, first_seen_date=MAR_12), _set("papers", 0, first_seen_date=MAR_13)
    ),
    # --- appearances (a.txt: 2 entries, d.txt: 1; b.txt, a copy of a.txt) ---
    "appearances: position 1 in two digests, then twice in one": Bound(
        "appearances", R["appearances"][0], _unchanged, _set("appearances", 1, position=1), count=2
    ),
    "appearances: a paper in two digests, then twice in one": Bound(
        "appearances", R["appearances"][1], _unchanged, _set("appearances", 1, paper_id=P1), count=2
    ),
    "appearances: position 1, then 0": Bound(
        "appearances", R["appearances"][2], _set("appearances", 0, position=1), _set("appearances", 0, position=0)
    ),
    "appearances: position at entry_count, then one past": Bound(
        "appearances", R["appearances"][3], _set("appearances", 1, position=2), _set("appearances", 1, position=3)
    ),
    # The bound is the entry_count of the copy that counts (duplicate_of null), not of its copy.
    "appearances: the copy's entry_count lowered, then the digest's": Bound(
        "appearances", R["appearances"][3], _set("digests", 1, entry_count=1), _set("digests", 0, entry_count=1)
    ),
    "appearances: upvotes 0, then -1": Bound(
        "appearances", R["appearances"][4], _set("appearances", 0, upvotes=0), _set("appearances", 0, upvotes=-1)
    ),
    "appearances: comments 0, then -1": Bound(
        "appearances", R["appearances"][5], _set("appearances", 0, comments=0), _set("appearances", 0, comments=-1)
    ),
    "appearances: arxiv_id of 5 digits, then 6": Bound(
        "appearances",
        R["appearances"][6],
        _set("appearances", 0, arxiv_id="2303.12345"),
        _set("appearances", 0, arxiv_id="2303.123456"),
    ),
    # --- repo_links (a repository, a profile, a project page) ---
    "repo_links: a url for two papers, then twice for one": Bound(
        "repo_links",
        R["repo_links"][0],
        _add("repo_links", _link(P2, REPO_URL, "github", "tensorflow", "tensor2tensor")),
        _add("repo_links", _link(P1, REPO_URL, "github", "tensorflow", "tensor2tensor")),
        count=2,
    ),
    "repo_links: https and a one-letter host, then http": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x"), _set("repo_links", 2, url="http://x")
    ),
    "repo_links: https and a host, then https alone": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x"), _set("repo_links", 2, url="https://")
    ),
    "repo_links: https and a host, then a path with no host": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x/code"), _set("repo_links", 2, url="https:///code")
    ),
    "repo_links: https and a host, then a query with no host": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x?q"), _set("repo_links", 2, url="https://?q")
    ),
    "repo_links: https and a host, then a fragment with no host": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x#a"), _set("repo_links", 2, url="https://#a")
    ),
    "repo_links: https and a host with a port, then a port alone": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x:8080/a"), _set("repo_links", 2, url="https://:8080/a")
    ),
    "repo_links: https and a host, then a user with no host": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x/@a"), _set("repo_links", 2, url="https://@x")
    ),
    "repo_links: https and a host, then a space before it": Bound(
        "repo_links", R["repo_links"][1], _set("repo_links", 2, url="https://x"), _set("repo_links", 2, url="https:// x")
    ),
    "repo_links: kind other, then others": Bound(
        "repo_links", R["repo_links"][2], _set("repo_links", 2, kind="other"), _set("repo_links", 2, kind="others")
    ),
    # owner/repo: github.com/owner is a profile (none needed); github.com/owner/repo a repository.
    "repo_links: no owner on a profile, then on a repository": Bound(
        "repo_links",
        R["repo_links"][3],
        _set("repo_links", 1, url=PROFILE_URL, owner=None, repo=None),
        _set("repo_links", 1, url="https://github.com/tensorflow/models", owner=None, repo="models"),
    ),
    "repo_links: no repo on a profile, then on a repository": Bound(
        "repo_links",
        R["repo_links"][4],
        _set("repo_links", 1, url=PROFILE_URL, owner="tensorflow", repo=None),
        _set("repo_links", 1, url="https://github.com/tensorflow/models", owner="tensorflow", repo=None),
    ),
    "repo_links: source card, then badge": Bound(
        "repo_links", R["repo_links"][5], _set("repo_links", 2, source="card"), _set("repo_links", 2, source="badge")
    ),
    # --- rejects ---
    "rejects: reason invalid_item, then invalid_items": Bound(
        "rejects", R["rejects"][0], _set("rejects", 0, reason="invalid_item"), _set("rejects", 0, reason="invalid_items")
    ),
    "rejects: line 1, then 0": Bound("rejects", R["rejects"][1], _set("rejects", 0, line=1), _set("rejects", 0, line=0)),
    # --- repo_stars ---
    "repo_stars: a url on two days, then twice on one": Bound(
        "repo_stars", R["repo_stars"][0], _unchanged, _set("repo_stars", 1, day=MAR_11), count=2
    ),
    "repo_stars: https, then http": Bound(
        "repo_stars",
        R["repo_stars"][1],
        _set("repo_stars", 0, url="https://x"),
        _set("repo_stars", 0, url="http://github.com/tensorflow/tensor2tensor"),
    ),
    "repo_stars: a day, then none": Bound(
        "repo_stars", R["repo_stars"][2], _set("repo_stars", 0, day=MAR_11), _set("repo_stars", 0, day=None)
    ),
    "repo_stars: stars 0, then -1": Bound(
        "repo_stars", R["repo_stars"][3], _set("repo_stars", 0, stars=0), _set("repo_stars", 0, stars=-1)
    ),
}


def test_every_rule_of_every_suite_has_a_bound():
    assert {(case.table, case.rule) for case in BOUNDS.values()} == {
        (table, rule) for table, rules in RULES.items() for rule in rules
    }


@pytest.mark.parametrize("table", SIX_TABLES)
def test_the_hand_built_tables_pass_every_rule_of_their_suite(tmp_path, table):
    result = _suite(tmp_path, table, _tables())
    assert [(rule.rule, rule.success, rule.error) for rule in result.rules] == [(rule, True, None) for rule in RULES[table]]


@pytest.mark.parametrize("case", BOUNDS)
def test_a_rule_holds_at_its_bound_and_fails_alone_one_past_it(tmp_path, case):
    bound = BOUNDS[case]
    at = _tables()
    bound.at(at)
    result = _suite(tmp_path / "at", bound.table, at)
    assert _failed_rules(result) == set(), f"at the bound: {result.failures}"
    past = _tables()
    bound.past(past)
    result = _suite(tmp_path / "past", bound.table, past)
    assert _failed_rules(result) == {bound.rule}
    (failure,) = result.failures
    assert failure.error is None  # it ran and found the row, not an error
    assert failure.unexpected_count == bound.count


# --- the checks across tables --------------------------------------------------------------------

Parts = dict[str, list[list[dict]]]  # table -> its files' rows


def _cross(directory: Path, parts: Parts, warning: str | None = None) -> CheckResult:
    files: defaultdict[str, list[Path]] = defaultdict(list)  # a table not given: no files, no rows
    for table, table_parts in parts.items():
        files[table] = [
            _write(directory / table / f"part-{number}.parquet", table, rows) for number, rows in enumerate(table_parts)
        ]
    return run_cross_checks(files) if warning is None else run_warning_check(warning, files)


def _failed_checks(result: CheckResult) -> set[str]:
    return {rule.check for rule in result.rules if not rule.success}


def _parts() -> Parts:
    return {table: [rows] for table, rows in _tables().items()}


PartsEdit = Callable[[Parts], None]


def _in(table: str, index: int, **values) -> PartsEdit:
    return lambda parts: parts[table][0][index].update(values)


def _append(table: str, row: dict) -> PartsEdit:
    return lambda parts: parts[table][0].append(dict(row))


def _papers_in_two_parts(second: list[str]) -> PartsEdit:
    """papers as two files: P1 in the first, the papers named in the second (P2 moved there)."""

    def edit(parts: Parts) -> None:
        rows = {row["paper_id"]: row for row in parts["papers"][0]}
        parts["papers"] = [[rows[P1]], [dict(rows[paper_id]) for paper_id in second]]

    return edit


def _digest_of(entries: int, marked: int, markup: str = "A title with https://example.org/{} in it", copied: bool = False) -> PartsEdit:
    """A digest m.txt of `entries` entries, `marked` of them titled with `markup` (a link); `copied`: m2.txt is its copy."""

    def edit(parts: Parts) -> None:
        parts["digests"][0].append(_digest("m.txt", "f" * 64, "ok", MAR_13, entries))
        if copied:
            parts["digests"][0].append(_digest("m2.txt", "f" * 64, "duplicate", MAR_13, entries, duplicate_of="m.txt"))
        for number in range(entries):
            paper_id = f"{number:016x}"
            title = markup.format(number) if number < marked else f"Plain title number {number}"
            parts["papers"][0].append(_paper(paper_id, title, None, MAR_13, MAR_13))
            parts["appearances"][0].append(_appearance("f" * 64, paper_id, MAR_13, number + 1))

    return edit


@dataclass(frozen=True)
class CrossBound:
    check: str
    at: PartsEdit
    past: PartsEdit
    warning: bool = False


def _nothing(parts: Parts) -> None:
    """The base already sits at this bound."""


CROSS_BOUNDS = {
    "paper_id in two parts once, then in both": CrossBound(
        "papers_paper_id_unique", _papers_in_two_parts([P2]), _papers_in_two_parts([P2, P1])
    ),
    "every appearance's paper, then one missing": CrossBound(
        "appearances_paper_in_papers", _nothing, _in("appearances", 1, paper_id=P9)
    ),
    "every link's paper, then one missing": CrossBound(
        "repo_links_paper_in_papers",
        _nothing,
        _append("repo_links", _link(P9, "https://example.org/other", "project_page", None, None)),
    ),
    "every appearance's digest, then one missing": CrossBound(
        "appearances_digest_in_digests", _nothing, _append("appearances", _appearance(E, P2, MAR_12, 1))
    ),
    "every reject's digest, then one missing": CrossBound("rejects_digest_in_digests", _nothing, _in("rejects", 0, digest_id=E)),
    "entry_count equal to the appearances, then one more": CrossBound(
        "appearance_count_is_entry_count", _nothing, _in("digests", 0, entry_count=3)
    ),
    "entry_count equal to the appearances, then one fewer": CrossBound(
        "appearance_count_is_entry_count", _nothing, _in("digests", 3, entry_count=0)
    ),
    # Only a read first copy counts: a copy's and an empty file's entry_count are no mismatch.
    "a copy's entry_count off, then the digest's": CrossBound(
        "appearance_count_is_entry_count", _in("digests", 1, entry_count=5), _in("digests", 0, entry_count=5)
    ),
    "an empty file's entry_count off, then when ok": CrossBound(
        "appearance_count_is_entry_count", _in("digests", 2, entry_count=5), _in("digests", 2, entry_count=5, status="ok")
    ),
    # c.txt (empty) has one reject and reject_count 1; a.txt, b.txt (its copy) and d.txt none.
    "reject_count equal to the rejects, then one more": CrossBound(
        "reject_count_is_reject_rows", _nothing, _in("digests", 2, reject_count=2)
    ),
    "reject_count equal to the rejects, then one fewer": CrossBound(
        "reject_count_is_reject_rows", _nothing, _in("digests", 2, reject_count=0)
    ),
    "a reject of a digest counting it, then of one that does not": CrossBound(
        "reject_count_is_reject_rows",
        lambda parts: (_in("digests", 3, reject_count=1)(parts), _append("rejects", _reject(D, "d.txt"))(parts)),
        _append("rejects", _reject(D, "d.txt")),
    ),
    # A copy's blocks are its first copy's: a copy with a reject_count has no rejects rows.
    "a copy counting rejects it has no rows of, then one row of it": CrossBound(
        "reject_count_is_reject_rows",
        _in("digests", 1, reject_count=1),
        lambda parts: (_in("digests", 1, reject_count=1)(parts), _append("rejects", _reject(A, "b.txt"))(parts)),
    ),
    # "more than 1%": 1 of 100 entries is 1%, 1 of 99 is more.
    "1 markup title of 100 entries, then of 99": CrossBound("markup_titles_per_digest", _digest_of(100, 1), _digest_of(99, 1)),
    "2 markup titles of 200 entries, then of 199": CrossBound("markup_titles_per_digest", _digest_of(200, 2), _digest_of(199, 2)),
    # A copy of the digest is the same digest: found once.
    "1 markup title of 100 entries with a copy, then of 99": CrossBound(
        "markup_titles_per_digest", _digest_of(100, 1, copied=True), _digest_of(99, 1, copied=True)
    ),
    # Whitespace as the reader knows it (Python's), not RE2's ASCII \s.
    "1 heading after an ideographic space of 100 entries, then of 99": CrossBound(
        "markup_titles_per_digest", _digest_of(100, 1, markup="#\u3000Heading {}"), _digest_of(99, 1, markup="#\u3000Heading {}")
    ),
    # The two warnings (never blocking): run alone.
    "a [ inside a title, then leading it": CrossBound(
        "markup_titles",
        _in("papers", 1, title="Graphs [1] Revisited"),
        _in("papers", 1, title="[1] Graphs Revisited"),
        warning=True,
    ),
    "a card naming its paper's arXiv id, then another": CrossBound(
        "arxiv_id_conflicts",
        _in("appearances", 2, arxiv_id="1706.03762"),
        _in("appearances", 2, arxiv_id="1706.03763"),
        warning=True,
    ),
    # P2 has no arxiv_id: no card of it may name one.
    "a card of a paper with no arXiv id naming none, then one": CrossBound(
        "arxiv_id_conflicts",
        _in("appearances", 1, arxiv_id=None),
        _in("appearances", 1, arxiv_id="2303.12345"),
        warning=True,
    ),
}


def test_every_check_across_tables_has_a_bound():
    assert {case.check for case in CROSS_BOUNDS.values() if not case.warning} == set(CROSS_RULES)


def test_the_hand_built_tables_pass_every_check_across_tables(tmp_path):
    result = _cross(tmp_path, _parts())
    assert _failed_checks(result) == set()
    assert set(CROSS_RULES) <= {rule.check for rule in result.rules}
    for warning in ("markup_titles", "arxiv_id_conflicts"):
        assert _failed_checks(_cross(tmp_path / warning, _parts(), warning)) == set()


def test_a_check_across_tables_is_titled_and_names_the_files_it_read(tmp_path):
    files = {table: [_write(tmp_path / table / "part-0.parquet", table, rows)] for table, rows in _tables().items()}
    files["paper_terms"] = []
    read = [f"{table}: {tmp_path / table}/: part-0.parquet" for table in ("digests", "papers", "appearances", "repo_links", "rejects")]
    source = ", ".join([*read, "paper_terms: no files"])  # repo_stars is in no check
    cross = run_cross_checks(files)
    assert (cross.name, cross.title, cross.source) == ("cross_table_integrity", "Checks across tables (DuckDB)", source)
    warning = run_warning_check("arxiv_id_conflicts", files)
    assert (warning.name, warning.title, warning.source) == (
        "arxiv_id_conflicts",
        "Warning: every arXiv id a card names is its paper's arXiv id (papers.arxiv_id, the first one seen)",
        source,
    )


@pytest.mark.parametrize("case", CROSS_BOUNDS)
def test_a_check_across_tables_holds_at_its_bound_and_fails_alone_one_past_it(tmp_path, case):
    bound = CROSS_BOUNDS[case]
    warning = bound.check if bound.warning else None
    at = _parts()
    bound.at(at)
    assert _failed_checks(_cross(tmp_path / "at", at, warning)) == set()
    past = _parts()
    bound.past(past)
    result = _cross(tmp_path / "past", past, warning)
    assert _failed_checks(result) == {bound.check}
    (failure,) = result.failures
    assert failure.unexpected_count == 1


# =================================================================================================
# 3. The audit gate: each file the approval covers, changed after the checks passed
# =================================================================================================

# The candidate files of the samples (one month) that the approvals cover through the manifest.
CANDIDATES = SAMPLE_TABLE_FILES
CHECKS = list(REQUIRED_CHECK_NAMES)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published(root: Path) -> dict[str, object]:
    """Every published file (the tables with their published record, trends.duckdb) by its bytes, and its inode."""
    paths = sorted((root / "parquet").rglob("*")) + [root / "trends.duckdb"]
    return {str(path.relative_to(root)): (_sha(path), path.stat().st_ino) if path.is_file() else "directory" for path in paths}


@pytest.fixture
def approved(sample_settings, tmp_path) -> Settings:
    """A copy of the samples' warehouse, its tables consolidated anew as candidates and approved by every
    required check, as a passing check approves them (record_check)."""
    root = tmp_path / "warehouse"
    shutil.copytree(sample_settings.warehouse_dir, root, ignore=shutil.ignore_patterns(".papertrends.lock"), symlinks=True)
    settings = Settings(root, SAMPLES, None)
    assert consolidate_tables(settings) is not None  # a copy's files have new signatures: consolidated anew
    for check in REQUIRED_CHECKS:
        record_check(settings.layout, check, read_manifest(settings.layout).sha256)
    return settings


def _candidates(settings: Settings) -> Path:
    return settings.warehouse_dir / "staging" / "candidates"


def _refused(settings: Settings, before: dict, *named: str) -> None:
    with pytest.raises(UncheckedCandidates, match="^refusing to publish") as refused:
        publish(settings)
    for text in named:
        assert text in str(refused.value)
    assert _published(settings.warehouse_dir) == before, "publishing refused, yet a published file changed"


def test_the_manifest_names_every_candidate_file_and_the_approvals_its_sha256(approved):
    candidates = _candidates(approved)
    manifest = json.loads((candidates / "manifest.json").read_text())
    named = {f"{table}/{name}" for table, files in manifest["files"].items() for name in files}
    assert set(CANDIDATES) <= named
    assert named == {str(path.relative_to(candidates)) for path in candidates.glob("*/*.parquet")}
    for table_file in CANDIDATES:
        stat = (candidates / table_file).stat()
        table, name = table_file.split("/")
        assert manifest["files"][table][name] == [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
    for check in CHECKS:
        approval = json.loads((candidates / "approvals" / f"{check}.json").read_text())
        assert approval["manifest_sha256"] == _sha(candidates / "manifest.json")


def test_approved_candidates_as_they_are_are_published(approved):
    """The control for the refusals below: the same candidates, untouched, publish."""
    candidates = {name: _sha(_candidates(approved) / name) for name in CANDIDATES}
    assert publish(approved) is True
    root = approved.warehouse_dir
    assert {name: _sha(root / "parquet" / name) for name in CANDIDATES} == candidates


def _edit_rows(path: Path, edit: Callable[[list[dict]], None]) -> None:
    """Rewrite a Parquet file in place (same inode) with its rows edited: a valid table of the same schema."""
    table = pq.read_table(path)
    rows = table.to_pylist()
    edit(rows)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path)


# A change to each candidate that keeps it a valid table every check would pass.
def _edit_digests(rows):
    rows[0]["encoding"] = "latin-1"


def _edit_papers(rows):
    rows[0]["title"] = "A Title Changed After Its Check"


def _edit_appearances(rows):
    rows[0]["upvotes"] = 99


def _edit_repo_links(rows):
    rows[0]["raw_url"] = rows[0]["raw_url"] + "#changed"


def _edit_rejects(rows):
    rows.append(
        {"digest_id": "0" * 64, "source_name": "x.txt", "line": 1, "reason": "invalid_item", "raw_text": "x", "detail": "x"}
    )


def _edit_repo_stars(rows):
    rows.append({"url": "https://github.com/o/r", "day": MAR_11, "stars": 1})


def _edit_paper_terms(rows):
    rows[0]["in_title"] = not rows[0]["in_title"]


VALID_EDITS = {
    "paper_terms/2026-03.parquet": _edit_paper_terms,
    "digests/part-0.parquet": _edit_digests,
    "papers/2026-03.parquet": _edit_papers,
    "appearances/2026-03.parquet": _edit_appearances,
    "repo_links/2026-03.parquet": _edit_repo_links,
    "rejects/part-0.parquet": _edit_rejects,
    "repo_stars/part-0.parquet": _edit_repo_stars,
}


@pytest.mark.parametrize("name", CANDIDATES)
def test_a_candidate_rewritten_with_valid_rows_after_its_checks_is_refused(approved, name):
    before = _published(approved.warehouse_dir)
    _edit_rows(_candidates(approved) / name, VALID_EDITS[name])
    _refused(approved, before, name)


@pytest.mark.parametrize("name", CANDIDATES)
def test_a_candidate_changed_then_restored_byte_for_byte_with_its_mtime_is_refused(approved, name):
    """The approved bytes and mtime back in the same inode: only the ctime tells, and it is part of the signature."""
    path = _candidates(approved) / name
    before = _published(approved.warehouse_dir)
    original, stat = path.read_bytes(), path.stat()
    _edit_rows(path, VALID_EDITS[name])
    with open(path, "r+b") as file:
        file.write(original)
        file.truncate()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    restored = path.stat()
    assert (path.read_bytes(), restored.st_size, restored.st_mtime_ns, restored.st_ino) == (
        original,
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ino,
    )
    _refused(approved, before, name)


def test_every_file_the_manifest_names_changed_after_its_checks_is_refused(sample_settings, tmp_path):
    """Also the candidate files of tables added after this test was written: each one, on a fresh copy."""
    first = tmp_path / "first"
    shutil.copytree(sample_settings.warehouse_dir, first, ignore=shutil.ignore_patterns(".papertrends.lock"), symlinks=True)
    settings = Settings(first, SAMPLES, None)
    consolidate_tables(settings)
    manifest = json.loads((_candidates(settings) / "manifest.json").read_text())
    names = [f"{table}/{name}" for table, files in manifest["files"].items() for name in files]
    assert set(CANDIDATES) <= set(names)
    for number, name in enumerate(names):
        root = tmp_path / f"copy-{number}"
        shutil.copytree(sample_settings.warehouse_dir, root, ignore=shutil.ignore_patterns(".papertrends.lock"), symlinks=True)
        copy = Settings(root, SAMPLES, None)
        consolidate_tables(copy)
        for check in REQUIRED_CHECKS:
            record_check(copy.layout, check, read_manifest(copy.layout).sha256)
        before = _published(root)
        with open(_candidates(copy) / name, "ab") as file:
            file.write(b"\0")
        _refused(copy, before, name)


# --- the manifest ---------------------------------------------------------------------------------


def _rewrite_manifest(settings: Settings, edit: Callable[[dict], None], indent: int = 1) -> None:
    path = _candidates(settings) / "manifest.json"
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest, indent=indent, sort_keys=True))


def _signature(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


@pytest.mark.parametrize("name", CANDIDATES)
def test_a_candidate_changed_with_its_signature_updated_in_the_manifest_is_refused(approved, name):
    """The cover-up: the file edited and the manifest made to describe it. The approvals hold the old manifest's sha256."""
    before = _published(approved.warehouse_dir)
    path = _candidates(approved) / name
    _edit_rows(path, VALID_EDITS[name])
    table, file_name = name.split("/")
    _rewrite_manifest(approved, lambda manifest: manifest["files"][table].__setitem__(file_name, _signature(path)))
    _refused(approved, before, *(f"{check} did not pass on the current candidates" for check in CHECKS))


def test_a_manifest_deleted_after_the_checks_publishes_nothing(approved):
    before = _published(approved.warehouse_dir)
    (_candidates(approved) / "manifest.json").unlink()
    try:
        published = publish(approved)
    except (UncheckedCandidates, FileNotFoundError):
        published = False
    assert published is False
    assert _published(approved.warehouse_dir) == before


# --- a candidate file the approval does not name ---------------------------------------------------


@pytest.mark.parametrize("table", SIX_TABLES)
def test_a_candidate_file_added_after_the_checks_is_never_published(approved, table):
    """A valid table file dropped among the candidates, named in no manifest: refused, or left out.
    Either way the published table is exactly the approved files."""
    candidates = _candidates(approved)
    (approved_file,) = sorted((candidates / table).glob("*.parquet"))
    approved_bytes = _sha(approved_file)
    shutil.copyfile(approved_file, candidates / table / "2026-02.parquet")
    before = _published(approved.warehouse_dir)
    try:
        published = publish(approved)
    except UncheckedCandidates:
        assert _published(approved.warehouse_dir) == before
        return
    assert published is True
    files = _files(approved.warehouse_dir, table)
    assert [path.name for path in files] == [approved_file.name]
    assert _sha(files[0]) == approved_bytes


# --- a manifest changed while a check runs -------------------------------------------------------


def test_a_check_approves_the_manifest_it_validated_not_one_written_while_it_ran(approved, monkeypatch):
    import pipeline.validate.suites

    candidates = _candidates(approved)
    validated = (candidates / "manifest.json").read_bytes()
    bad = candidates / "papers" / "2026-04.parquet"
    rows = pq.read_table(candidates / "papers" / "2026-03.parquet").slice(0, 1).to_pylist()
    rows[0].update(paper_id="f" * 16, title="t" * 301, first_seen_date=dt.date(2026, 4, 1), last_seen_date=dt.date(2026, 4, 1))
    real = pipeline.validate.suites.validate_table_files

    def validate_then_rewrite(table, paths, digests_paths):
        result = real(table, paths, digests_paths)
        # Another writer, while the check runs: a papers file more, and a manifest naming it.
        _write(bad, "papers", rows)
        _rewrite_manifest(approved, lambda manifest: manifest["files"]["papers"].__setitem__(bad.name, _signature(bad)))
        return result

    monkeypatch.setattr(pipeline.validate.suites, "validate_table_files", validate_then_rewrite)
    assert run_check(approved.layout, "papers_expectations").success  # it validated 2026-03 only
    # The manifest it read is gone: nothing is approved, and publishing says so.
    assert hashlib.sha256((candidates / "manifest.json").read_bytes()).hexdigest() != hashlib.sha256(validated).hexdigest()
    assert not (candidates / "approvals" / "papers_expectations.json").exists()
    with pytest.raises(UncheckedCandidates, match="papers_expectations"):
        check_publishable(approved.layout, REQUIRED_CHECKS)


# --- publishing: a directory per build, parquet/ switched to it in one rename ---------------------


def _one_digest_warehouse(tmp_path) -> Settings:
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    return Settings(tmp_path / "warehouse", digests, None)


def _kept_builds(settings: Settings) -> list[str]:
    return sorted(os.listdir(settings.layout.builds_dir))


def _linked_build(settings: Settings) -> str:
    target = os.readlink(settings.layout.parquet_dir)
    assert target.startswith("parquet-builds/") and target.count("/") == 1  # relative: the warehouse can move
    return target.removeprefix("parquet-builds/")


def _titles(settings: Settings) -> list[str]:
    return sorted(pq.read_table(settings.layout.parquet_dir / "papers").column("title").to_pylist())


def test_a_publish_switches_parquet_in_one_rename_and_parquet_is_never_missing(tmp_path, monkeypatch):
    settings = _one_digest_warehouse(tmp_path)
    layout = settings.layout
    build_warehouse(settings)
    first = _linked_build(settings)
    (settings.digests_dir / "b.txt").write_text(render("Mar 13", [("B Paper", abstract("b"))]))
    renames = []
    original = os.replace

    def replace(source, destination, **kwargs):
        assert layout.parquet_dir.is_dir(), "parquet/ missing while publishing"
        if layout.parquet_dir in (Path(source), Path(destination)):
            renames.append((Path(source), Path(destination)))
        return original(source, destination, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    assert build_warehouse(settings).published
    [(source, destination)] = renames  # the link replaced, never moved aside first
    assert destination == layout.parquet_dir and source.parent == layout.root and source.name.startswith(".parquet.")
    assert _linked_build(settings) != first and _kept_builds(settings) == [_linked_build(settings)]
    assert _titles(settings) == ["A Paper", "B Paper"]
    record = json.loads((layout.builds_dir / _linked_build(settings) / "published.json").read_text())
    assert record["rows"]["papers"] == 2 and sorted(record["files"]["papers"]) == ["2026-03.parquet"]


def test_a_rebuild_of_trends_db_alone_deletes_what_a_killed_publish_left_but_not_through_links(tmp_path):
    # A publish killed after switching parquet/ leaves the previous directory, and trends.duckdb of before.
    settings = _one_digest_warehouse(tmp_path)
    layout = settings.layout
    build_warehouse(settings)
    current = _linked_build(settings)
    left = layout.builds_dir / "20260101T000000000000Z"
    (left / "papers").mkdir(parents=True)
    (left / "papers" / "2026-01.parquet").write_bytes(b"left by a killed publish")
    (layout.builds_dir / "stray-file").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep me")
    (layout.builds_dir / "stray-link").symlink_to(outside)
    layout.duckdb_path.unlink()
    assert build_warehouse(settings).published
    assert _kept_builds(settings) == [current] and _linked_build(settings) == current
    assert os.listdir(outside) == ["keep.txt"] and layout.duckdb_path.is_file()


def test_a_first_publish_killed_before_the_link_existed_is_finished_by_the_next_build(tmp_path):
    settings = _one_digest_warehouse(tmp_path)
    (settings.layout.builds_dir / "20260101T000000000000Z" / "papers").mkdir(parents=True)  # no parquet/ yet
    assert build_warehouse(settings).published
    assert _kept_builds(settings) == [_linked_build(settings)] and _titles(settings) == ["A Paper"]


def test_a_directory_that_cannot_be_deleted_is_left_for_the_next_publish(tmp_path, monkeypatch):
    settings = _one_digest_warehouse(tmp_path)
    build_warehouse(settings)
    first = _linked_build(settings)
    (settings.digests_dir / "b.txt").write_text(render("Mar 13", [("B Paper", abstract("b"))]))
    original = os.rmdir

    def rmdir(path, *args, **kwargs):
        if Path(path).name == first:  # the directory itself; what it held is deleted
            raise PermissionError(13, "Permission denied", str(path))
        return original(path, *args, **kwargs)

    monkeypatch.setattr(os, "rmdir", rmdir)
    assert build_warehouse(settings).published  # the tables are published all the same
    assert _kept_builds(settings) == sorted([first, _linked_build(settings)]) and _titles(settings) == ["A Paper", "B Paper"]
    monkeypatch.setattr(os, "rmdir", original)
    (settings.digests_dir / "c.txt").write_text(render("Mar 14", [("C Paper", abstract("c"))]))
    assert build_warehouse(settings).published
    assert _kept_builds(settings) == [_linked_build(settings)]


def test_a_parquet_link_made_by_hand_is_replaced_by_the_builds_own_and_its_target_untouched(tmp_path):
    settings = _one_digest_warehouse(tmp_path)
    outside = tmp_path / "outside"
    (outside / "papers").mkdir(parents=True)
    (outside / "papers" / "keep.parquet").write_text("keep me")
    settings.warehouse_dir.mkdir()
    settings.layout.parquet_dir.symlink_to(outside)
    assert build_warehouse(settings).published
    assert os.listdir(outside / "papers") == ["keep.parquet"] and (outside / "papers" / "keep.parquet").read_text() == "keep me"
    assert _kept_builds(settings) == [_linked_build(settings)] and _titles(settings) == ["A Paper"]


def test_a_warehouse_whose_parquet_is_a_directory_gets_the_link_and_loses_the_old_files(tmp_path):
    # An earlier version published into parquet/ itself: the first publish moves it aside, then deletes it.
    settings = _one_digest_warehouse(tmp_path)
    old = settings.layout.parquet_dir / "papers"
    old.mkdir(parents=True)
    (old / "2020-01.parquet").write_text("a file of the earlier layout")
    assert build_warehouse(settings).published
    assert _kept_builds(settings) == [_linked_build(settings)]
    assert os.listdir(settings.layout.parquet_dir / "papers") == ["2026-03.parquet"] and _titles(settings) == ["A Paper"]
