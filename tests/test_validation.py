"""Validation: the GX suites rule by rule, the checks across tables, the blocking Dagster checks, the Data Docs.

The suite tests build each table by hand (a few rows in the contract's schema, written
to Parquet) and break one rule at a time; every expected value is written out here.
"""

import copy
import datetime as dt
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import assets.definitions
from assets.checks import failures_markdown
from assets.resources import WarehouseResource
from pipeline.build import REQUIRED_CHECKS, ChecksFailed, build_warehouse, consolidate_tables, run_check, validate
from pipeline.config import Settings
from pipeline.read.identity import ARXIV_ID_PATTERN
from pipeline.read.parsed import ABSTRACT_MAX_CHARS, TITLE_MAX_CHARS
from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES
from pipeline.store.publish import approval_path, read_manifest
from pipeline.validate import docs
from pipeline.validate.cross_checks import CROSS_CHECKS, CROSS_TABLE_CHECK, KEY_COLUMNS, run_cross_checks, run_warning_check
from pipeline.validate.results import CheckResult, RuleResult
from pipeline.validate.suites import (
    DIGEST_ID_PATTERN,
    HTTPS_HOST_PATTERN,
    SUITE_RULES,
    Rule,
    _condition,
    _ephemeral_context,
    _exception_message,
    build_suite,
    read_table,
    validate_table_files,
)
from tests.helpers import REPO, SAMPLE_PAPER_TERMS, SAMPLES, abstract, one_step_failure, render
from tests.helpers import rows as table_rows
from tests.rule_texts import CROSS_RULE_TEXTS, REQUIRED_CHECK_NAMES, RULE_TEXTS

# --- the rules, in words, as the Data Docs and the docs show them (written out by hand) ----------

CHECK_NAMES = list(REQUIRED_CHECK_NAMES)
# The samples (tests/helpers.py, brief): rows per table.
SAMPLE_ROWS = {"digests": 5, "papers": 298, "appearances": 358, "repo_links": 86, "rejects": 0, "repo_stars": 0, "paper_terms": SAMPLE_PAPER_TERMS}

SCRIPT_TITLE = "<script>alert(1)</script>"
IMG_TITLE = '"><img src=x onerror=alert(1)>'


def test_a_rule_with_a_condition_of_no_known_kind_is_refused_by_name(monkeypatch):
    rule = Rule("ExpectColumnValuesToNotBeNull", {"column": "term"}, "term is set", ("is_between", "term"))
    monkeypatch.setitem(SUITE_RULES, "paper_terms", [rule])
    with pytest.raises(ValueError, match=r"^unknown condition \('is_between', 'term'\)$"):
        build_suite("paper_terms")


def test_the_rules_are_those_written_here():
    assert {table: [rule.text for rule in rules] for table, rules in SUITE_RULES.items()} == RULE_TEXTS
    assert {name: rule for name, (rule, _) in CROSS_CHECKS.items()} == CROSS_RULE_TEXTS
    assert list(REQUIRED_CHECKS) == CHECK_NAMES
    assert CROSS_TABLE_CHECK == "cross_table_integrity"
    # The bounds and patterns the cases below spell out.
    assert (TITLE_MAX_CHARS, ABSTRACT_MAX_CHARS) == (300, 5000)
    assert (DIGEST_ID_PATTERN, ARXIV_ID_PATTERN) == (r"^[0-9a-f]{64}\Z", r"^[0-9]{4}\.[0-9]{4,5}\Z")
    assert HTTPS_HOST_PATTERN.startswith("^https://[^") and HTTPS_HOST_PATTERN.endswith("/?#@:]+")


# --- tables by hand ------------------------------------------------------------------------------

A = "a" * 64  # a.txt, and b.txt (a copy of it)
C = "c" * 64  # c.txt, an empty file
P1 = "0123456789abcdef"
P2 = "fedcba9876543210"
MAR_11, MAR_12, MAR_13 = dt.date(2026, 3, 11), dt.date(2026, 3, 12), dt.date(2026, 3, 13)
INGESTED = dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
GITHUB_REPO = "https://github.com/tensorflow/tensor2tensor"
OTHER_URL = "https://example.org/a/b"


def _digest(source_name, digest_id, status, digest_date, entry_count, **other):
    row = {
        "digest_id": digest_id,
        "source_name": source_name,
        "date_line": "Mar 11" if digest_date else None,
        "digest_date": digest_date,
        "date_source": "date_line" if digest_date else None,
        "entry_count": entry_count,
        "reject_count": 0,
        "byte_size": 1234,
        "parser_version": "1",
        "ingested_at": INGESTED,
        "duplicate_of": None,
        "status": status,
        "error": None,
        "encoding": "utf-8",
        "block_count": 6,
        "header_block_count": 4,
        "format": "sample",
        "listing": "daily",
        "entry_block_count": 2 * entry_count,
    }
    return {**row, **other}


def _link(paper_id, url, host, kind, owner, repo, source="abstract"):
    return {"paper_id": paper_id, "url": url, "raw_url": url, "host": host, "kind": kind, "owner": owner, "repo": repo, "source": source}


BASE = {
    "digests": [
        _digest("a.txt", A, "ok", MAR_11, 2),
        _digest("b.txt", A, "duplicate", MAR_11, 2, duplicate_of="a.txt"),
        _digest("c.txt", C, "empty", None, 0, reject_count=1, error="no entries"),
    ],
    "papers": [
        {
            "paper_id": P1,
            "title": "Attention Is All You Need",
            "abstract": "We propose a new simple network architecture, the Transformer.",
            "arxiv_id": "1706.03762",
            "first_seen_date": MAR_11,
            "last_seen_date": MAR_12,
        },
        # One character of title and of abstract: the lower bounds, which hold.
        {"paper_id": P2, "title": "T", "abstract": "A", "arxiv_id": None, "first_seen_date": MAR_11, "last_seen_date": MAR_11},
    ],
    "appearances": [
        {"digest_id": A, "paper_id": P1, "digest_date": MAR_11, "position": 1, "line": 9, "upvotes": 0, "comments": 0, "arxiv_id": "1706.03762"},
        {"digest_id": A, "paper_id": P2, "digest_date": MAR_11, "position": 2, "line": 11, "upvotes": None, "comments": None, "arxiv_id": None},
    ],
    "repo_links": [
        _link(P1, GITHUB_REPO, "github.com", "github", "tensorflow", "tensor2tensor"),
        _link(P1, "https://github.com/tensorflow", "github.com", "github", None, None),  # a profile: no repository
        _link(P2, "https://proj.github.io", "proj.github.io", "github_pages", "proj", None),
        _link(P2, OTHER_URL, "example.org", "other", None, None),
    ],
    "rejects": [
        {"digest_id": C, "source_name": "c.txt", "line": 1, "reason": "truncated_entry", "raw_text": "x", "detail": "a title at the end"},
    ],
    "repo_stars": [
        {"url": GITHUB_REPO, "day": MAR_11, "stars": 0},
        {"url": GITHUB_REPO, "day": MAR_12, "stars": 12},
    ],
    "paper_terms": [
        {"paper_id": P1, "term": "attention", "in_title": True},
        {"paper_id": P1, "term": "transformer", "in_title": False},
        {"paper_id": P2, "term": "transformer", "in_title": False},
    ],
}


def _schema(table: str, rows: list[dict]) -> pa.Schema:
    """The contract's schema; where a test puts a null in a column it declares required, the same
    columns and types with that column nullable (a Parquet file cannot hold nulls in a required column)."""
    schema = PUBLISHED_SCHEMAS[table]
    for index, field in enumerate(schema):
        if not field.nullable and any(row.get(field.name) is None for row in rows):
            schema = schema.set(index, field.with_nullable(True))
    return schema


def _write(path: Path, table: str, rows: list[dict], drop: tuple[str, ...] = ()) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pylist(rows, schema=_schema(table, rows))
    pq.write_table(arrow.drop_columns(list(drop)), path)
    return path


def _base() -> dict[str, list[dict]]:
    return copy.deepcopy(BASE)


def _validate(tmp_path: Path, table: str, rows: list[dict], digests: list[dict] | None = None) -> CheckResult:
    """The table's suite over its rows written to a file (appearances: with the digests' file)."""
    path = _write(tmp_path / "tables" / f"{table}.parquet", table, rows)
    digests_path = _write(tmp_path / "tables" / "digests-for-appearances.parquet", "digests", digests or BASE["digests"])
    return validate_table_files(table, [path], [digests_path])


def _failed(result: CheckResult) -> set[str]:
    return {rule.rule for rule in result.failures}


def _shown(rule: RuleResult) -> list:
    """Every value a failed rule shows: its unexpected values and the values of its rows."""
    values = []
    for value in rule.unexpected_values:
        values += value if isinstance(value, list) else list(value.values()) if isinstance(value, dict) else [value]
    return values + [value for row in rule.rows for value in row.values()]


# --- every suite on the samples ------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_every_suite_passes_on_the_samples(sample_settings, table):
    layout = sample_settings.layout
    result = validate_table_files(table, layout.table_files(table), layout.table_files("digests"))
    assert result.failures == []
    assert [rule.rule for rule in result.rules] == RULE_TEXTS[table]
    assert result.row_count == SAMPLE_ROWS[table]
    # The samples are one month: one file per table, named with its directory.
    [path] = layout.table_files(table)
    assert result.source == f"{path.parent}/: {path.name}"


# --- each rule broken alone ----------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    table: str
    rule: str  # the one rule that must fail
    edit: Callable[[list[dict]], object]  # breaks the rows in place
    shown: object  # the offending value the failed rule must show
    count: int = 1  # rows that break it (both rows of a duplicate)


def _set(index: int, **values) -> Callable[[list[dict]], None]:
    return lambda rows: rows[index].update(values)


def _append_copy_of(index: int) -> Callable[[list[dict]], None]:
    return lambda rows: rows.append(dict(rows[index]))


R = RULE_TEXTS
BREAKS = {
    # digests
    "digests: no source_name": Break("digests", R["digests"][0], _set(2, source_name=None), C),
    "digests: source_name twice": Break("digests", R["digests"][1], _set(2, source_name="b.txt"), "b.txt", count=2),
    "digests: digest_id of 65 digits": Break("digests", R["digests"][2], _set(2, digest_id="c" * 65), "c" * 65),
    "digests: digest_id twice, duplicate_of null": Break("digests", R["digests"][3], _set(2, digest_id=A), A, count=2),
    "digests: ok without a date": Break("digests", R["digests"][4], _set(0, digest_date=None), "a.txt"),
    "digests: unknown date_source": Break("digests", R["digests"][5], _set(0, date_source="guessed"), "guessed"),
    "digests: unknown status": Break("digests", R["digests"][6], _set(2, status="missing"), "missing"),
    "digests: negative entry_count": Break("digests", R["digests"][7], _set(2, entry_count=-1), -1),
    "digests: negative reject_count": Break("digests", R["digests"][8], _set(2, reject_count=-1), -1),
    "digests: duplicate_of another content": Break("digests", R["digests"][9], _set(1, duplicate_of="c.txt"), "b.txt"),
    "digests: unknown format": Break("digests", R["digests"][10], _set(0, format="html"), "html"),
    "digests: unknown listing": Break("digests", R["digests"][11], _set(0, listing="hourly"), "hourly"),
    "digests: negative entry_block_count": Break("digests", R["digests"][12], _set(2, entry_block_count=-1), -1),
    "digests: ok without a date_source": Break("digests", R["digests"][13], _set(0, date_source=None), "a.txt"),
    # papers
    "papers: no paper_id": Break("papers", R["papers"][0], _set(1, paper_id=None), "T"),
    "papers: paper_id twice": Break("papers", R["papers"][1], _set(1, paper_id=P1), P1, count=2),
    "papers: no title": Break("papers", R["papers"][2], _set(1, title=None), P2),
    "papers: blank title": Break("papers", R["papers"][3], _set(1, title=" \t "), " \t "),
    "papers: title of 301": Break("papers", R["papers"][4], _set(1, title="t" * 301), "t" * 301),
    "papers: abstract of 5,001": Break("papers", R["papers"][5], _set(1, abstract="a" * 5001), 5001),
    "papers: arxiv_id of 3 digits": Break("papers", R["papers"][6], _set(0, arxiv_id="2303.123"), "2303.123"),
    "papers: first after last": Break("papers", R["papers"][7], _set(0, first_seen_date=MAR_13), P1),
    # appearances (digest a.txt has entry_count 2)
    "appearances: position twice": Break("appearances", R["appearances"][0], _set(1, position=1), P2, count=2),
    "appearances: paper twice": Break("appearances", R["appearances"][1], _set(1, paper_id=P1), P1, count=2),
    "appearances: position 0": Break("appearances", R["appearances"][2], _set(0, position=0), 0),
    "appearances: position past entry_count": Break("appearances", R["appearances"][3], _set(1, position=3), 3),
    "appearances: negative upvotes": Break("appearances", R["appearances"][4], _set(0, upvotes=-1), -1),
    "appearances: negative comments": Break("appearances", R["appearances"][5], _set(0, comments=-1), -1),
    "appearances: arxiv_id of 6 digits": Break("appearances", R["appearances"][6], _set(0, arxiv_id="1706.037621"), "1706.037621"),
    # repo_links
    "repo_links: link twice": Break("repo_links", R["repo_links"][0], _append_copy_of(2), "https://proj.github.io", count=2),
    "repo_links: http url": Break("repo_links", R["repo_links"][1], _set(3, url="http://example.org/a/b"), "http://example.org/a/b"),
    "repo_links: unknown kind": Break("repo_links", R["repo_links"][2], _set(3, kind="gitlub"), "gitlub"),
    "repo_links: repository without owner": Break("repo_links", R["repo_links"][3], _set(0, owner=None), GITHUB_REPO),
    "repo_links: repository without repo": Break("repo_links", R["repo_links"][4], _set(0, repo=None), GITHUB_REPO),
    "repo_links: unknown source": Break("repo_links", R["repo_links"][5], _set(3, source="footnote"), "footnote"),
    # rejects
    "rejects: unknown reason": Break("rejects", R["rejects"][0], _set(0, reason="looks_odd"), "looks_odd"),
    "rejects: line 0": Break("rejects", R["rejects"][1], _set(0, line=0), 0),
    # repo_stars
    "repo_stars: a day twice": Break("repo_stars", R["repo_stars"][0], _set(1, day=MAR_11), GITHUB_REPO, count=2),
    "repo_stars: http url": Break("repo_stars", R["repo_stars"][1], _set(0, url="http://github.com/a/b"), "http://github.com/a/b"),
    "repo_stars: no day": Break("repo_stars", R["repo_stars"][2], _set(0, day=None), GITHUB_REPO),
    "repo_stars: negative stars": Break("repo_stars", R["repo_stars"][3], _set(1, stars=-1), -1),
    # paper_terms
    "paper_terms: a term twice": Break("paper_terms", R["paper_terms"][0], _set(2, paper_id=P1), "transformer", count=2),
    "paper_terms: no term": Break("paper_terms", R["paper_terms"][1], _set(2, term=None), P2),
    "paper_terms: blank term": Break("paper_terms", R["paper_terms"][2], _set(2, term="   "), "   "),
    "paper_terms: term of 61": Break("paper_terms", R["paper_terms"][3], _set(2, term="t" * 61), "t" * 61),
    "paper_terms: no in_title": Break("paper_terms", R["paper_terms"][4], _set(2, in_title=None), P2),
}


def test_every_rule_has_a_break():
    assert {(case.table, case.rule) for case in BREAKS.values()} == {
        (table, text) for table, texts in RULE_TEXTS.items() for text in texts
    }


@pytest.mark.parametrize("case", BREAKS)
def test_a_table_breaking_one_rule_fails_that_rule_alone(tmp_path, case):
    broken = BREAKS[case]
    rows = _base()[broken.table]
    broken.edit(rows)
    result = _validate(tmp_path, broken.table, rows)
    assert not result.success
    assert _failed(result) == {broken.rule}
    (failure,) = result.failures
    assert failure.error is None  # it ran, and found the value
    assert failure.unexpected_count == broken.count
    assert broken.shown in _shown(failure), failure


# --- bounds: at, one before and one past; conditional rules --------------------------------------

# Rows added to a hand-built table that every rule must let through: values at a bound and one
# before it, and rows a conditional rule does not apply to. One table per suite (each GX run
# costs a third of a second); a value that broke a rule would show in the failure.
HOLDING_ROWS = {
    "digests": [
        _digest("d64.txt", "0123456789abcdef" * 4, "ok", MAR_12, 0),  # 64 hex digits; entry_count 0
        _digest("r0.txt", "1" * 64, "ok", MAR_12, 1, reject_count=0),  # reject_count 0
        # Not read: no date needed.
        _digest("empty.txt", "2" * 64, "empty", None, 0),
        _digest("binary.txt", "3" * 64, "binary", None, 0),
        _digest("undated.txt", "4" * 64, "undated", None, 0),
        _digest("unreadable.txt", "5" * 64, "unreadable", None, 0),
        # Copies share their first copy's digest_id: unique only among rows without duplicate_of.
        _digest("copy2.txt", A, "duplicate", MAR_11, 2, duplicate_of="a.txt"),
        _digest("copy-empty.txt", C, "empty", None, 0, duplicate_of="c.txt"),
    ],
    "papers": [
        {"paper_id": "1" * 16, "title": "t" * 299, "abstract": "a" * 4999, "arxiv_id": "0704.0001", "first_seen_date": MAR_11, "last_seen_date": MAR_13},
        {"paper_id": "2" * 16, "title": "t" * 300, "abstract": "a" * 5000, "arxiv_id": "2303.12345", "first_seen_date": MAR_12, "last_seen_date": MAR_12},
        {"paper_id": "3" * 16, "title": "Ti", "abstract": "Ab", "arxiv_id": None, "first_seen_date": MAR_12, "last_seen_date": MAR_13},
    ],
    "appearances": [
        # No digests row for this digest: no position bound here (the check across tables reports it).
        {"digest_id": "d" * 64, "paper_id": P1, "digest_date": MAR_11, "position": 40, "line": 3},
    ],
    "repo_links": [
        _link(P2, "https://e.org", "e.org", "other", None, None),
        _link(P2, "https://example.org/x", "example.org", "other", None, None),
        # Not repository links: owner and repo may be null.
        _link(P2, "https://github.com/owner", "github.com", "github", None, None),
        _link(P2, "https://github.com/owner?tab=repositories", "github.com", "github", None, None),
        _link(P2, "https://gitlab.com/group", "gitlab.com", "gitlab", "group", None),
        # The reader finds no repository in ".": github.com/owner/.#L10 is the profile's page.
        _link(P2, "https://github.com/owner/.#L10", "github.com", "github", "owner", None),
        # A repository link with owner and repo.
        _link(P2, "https://bitbucket.org/owner/repo", "bitbucket.org", "bitbucket", "owner", "repo"),
        _link(P2, "https://huggingface.co/org/model", "huggingface.co", "huggingface", None, None),
        _link(P2, "https://example.org/owner/repo", "example.org", "other", None, None),
        _link(P2, "https://owner.github.io/repo", "owner.github.io", "github_pages", "owner", None),
    ],
    "rejects": [
        {"digest_id": C, "source_name": "c.txt", "line": 2, "reason": "oversized_entry", "raw_text": "y", "detail": "d"},
    ],
    "repo_stars": [
        {"url": "https://gitlab.com/group/project", "day": MAR_11, "stars": 0},  # none: the lower bound
        {"url": GITHUB_REPO, "day": MAR_13, "stars": 2**40},  # another day of the same repository
    ],
    "paper_terms": [
        {"paper_id": P2, "term": "gan", "in_title": True},  # 3 characters: the lower bound
        {"paper_id": P2, "term": "t" * 60, "in_title": False},  # 60: the upper bound
        {"paper_id": P2, "term": "t" * 59, "in_title": False},
    ],
}


@pytest.mark.parametrize("table", TABLES)
def test_values_at_and_before_each_bound_hold(tmp_path, table):
    rows = _base()[table] + copy.deepcopy(HOLDING_ROWS[table])
    result = _validate(tmp_path, table, rows)
    assert [(rule.rule, rule.success, rule.error) for rule in result.rules] == [(text, True, None) for text in RULE_TEXTS[table]], result.failures
    assert (result.name, result.row_count) == (f"{table}_expectations", len(BASE[table]) + len(HOLDING_ROWS[table]))


def test_each_rule_result_names_the_columns_it_checks(tmp_path):
    papers = _validate(tmp_path / "papers", "papers", _base()["papers"])
    assert [rule.columns for rule in papers.rules] == [
        ["paper_id"], ["paper_id"], ["title"], ["title"], ["title"],
        ["_abstract_chars"],  # the abstracts' lengths, the column the suite validates
        ["arxiv_id"], ["last_seen_date", "first_seen_date"],
    ]  # fmt: skip
    terms = _validate(tmp_path / "terms", "paper_terms", _base()["paper_terms"])
    assert [rule.columns for rule in terms.rules] == [["paper_id", "term"], ["term"], ["term"], ["term"], ["in_title"]]
    assert [rule.check for rule in terms.rules] == [
        "expect_compound_columns_to_be_unique",
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_value_lengths_to_be_between",
        "expect_column_values_to_not_be_null",
    ]


def test_a_rule_error_is_read_from_either_form_of_gx_exception_info():
    """GX gives one flat ExceptionInfo (an error outside the metrics) or one per metric that raised."""
    from great_expectations.core.expectation_validation_result import ExpectationValidationResult
    from great_expectations.validator.exception_info import ExceptionInfo

    no_error = ExpectationValidationResult(success=True).exception_info
    assert no_error == {"raised_exception": False, "exception_traceback": None, "exception_message": None}
    assert _exception_message(no_error) is None
    assert _exception_message(None) is None
    assert _exception_message(ExceptionInfo("Traceback ...", "boom")) == "boom"
    assert _exception_message(ExceptionInfo("Traceback ...", None)) == "GX raised an exception"
    by_metric = {
        "MetricConfigurationID(metric_name='column_values.nonnull.condition')": ExceptionInfo("tb", "no column x"),
        "MetricConfigurationID(metric_name='column_values.nonnull.count')": ExceptionInfo("tb", "no column x"),
        "MetricConfigurationID(metric_name='table.row_count')": ExceptionInfo("tb", "bad batch"),
        "MetricConfigurationID(metric_name='table.columns')": {"raised_exception": False, "exception_message": None},
    }
    assert _exception_message(by_metric) == "no column x; bad batch"  # each message once, first seen first
    assert _exception_message({"some_metric": {"raised_exception": False, "exception_message": None}}) is None


def test_each_rule_counts_the_rows_its_condition_selects(tmp_path):
    # a.txt ok, b.txt a duplicate of a.txt, c.txt empty
    assert [(row["status"], row["duplicate_of"]) for row in BASE["digests"]] == [("ok", None), ("duplicate", "a.txt"), ("empty", None)]
    digests = _validate(tmp_path, "digests", _base()["digests"])
    assert [rule.evaluated for rule in digests.rules] == [
        3, 3, 3,
        2,  # digest_id unique among rows with no duplicate_of: a.txt, c.txt
        2,  # digest_date set where status is ok or duplicate: a.txt, b.txt
        3, 3, 3, 3,
        1,  # duplicate_of names a row of the same digest_id, where set: b.txt
        3, 3, 3,
        2,  # date_source set where status is ok or duplicate: a.txt, b.txt
    ]  # fmt: skip
    assert {rule.unexpected_count for rule in digests.rules} == {0}
    assert (digests.name, digests.title) == ("digests_expectations", "Expectation suite for digests")
    assert digests.source == f"{tmp_path}/tables/: digests.parquet"


@pytest.mark.parametrize(
    ("bad_lines", "shown"),
    [
        ([0, -1, -2, -3], [0, -1, -2, -3]),  # one under the sample size: all shown
        ([0, -1, -2, -3, -4], [0, -1, -2, -3, -4]),  # the sample size (5)
        ([0, -1, -2, -3, -4, -5], [0, -1, -2, -3, -4]),  # one past it: the first five, counted all
    ],
)
def test_a_failed_rule_shows_at_most_five_values_and_rows(tmp_path, bad_lines, shown):
    good = _base()["rejects"]
    bad = [dict(good[0], line=line, raw_text=f"block {line}") for line in bad_lines]
    result = _validate(tmp_path, "rejects", good + bad)
    (failure,) = result.failures
    assert (failure.rule, failure.unexpected_count) == ("line is at least 1", len(bad_lines))
    assert failure.unexpected_values == shown
    assert failure.rows == [{"source_name": "c.txt", "line": line, "reason": "truncated_entry"} for line in shown]


def test_a_rule_condition_of_an_unknown_kind_is_refused_by_name():
    with pytest.raises(ValueError, match=re.escape("unknown condition ('is_empty', 'title')")):
        _condition(("is_empty", "title"))


def test_suites_run_in_an_ephemeral_context_that_never_phones_home():
    context = _ephemeral_context()
    assert type(context).__name__ == "EphemeralDataContext"
    assert context.variables.analytics_enabled is False
    bars = context.variables.progress_bars
    assert (bars.globally, bars.metric_calculations) == (False, False)
    assert sorted(context.config.stores) == ["checkpoint_store", "expectations_store", "validation_definition_store", "validation_results_store"]


# One past a bound, or off a pattern, beyond the values of BREAKS (title of 301, abstract of
# 5,001, arxiv_id 2303.123, position 0 and entry_count + 1, line 0, an http url, counts of -1,
# first_seen a day after last): (table, row, column, value, the one rule that fails).
PAST_BOUNDS = {
    "digest_id of 65 hex digits": ("digests", 2, "digest_id", "0123456789abcdef" * 4 + "0", R["digests"][2]),
    "digest_id of 63 hex digits": ("digests", 2, "digest_id", ("0123456789abcdef" * 4)[:63], R["digests"][2]),
    "digest_id in upper case": ("digests", 2, "digest_id", "C" * 64, R["digests"][2]),
    "digest_id not hex": ("digests", 2, "digest_id", "g" * 64, R["digests"][2]),
    "title of ideographic spaces": ("papers", 0, "title", "\u3000\u3000", R["papers"][3]),
    "abstract of 0": ("papers", 0, "abstract", "", R["papers"][5]),
    "arxiv_id 4.6": ("papers", 0, "arxiv_id", "2303.123456", R["papers"][6]),
    "arxiv_id 5.5": ("papers", 0, "arxiv_id", "12303.12345", R["papers"][6]),
    "arxiv_id 3.5": ("papers", 0, "arxiv_id", "303.12345", R["papers"][6]),
    "arxiv_id with a version": ("papers", 0, "arxiv_id", "2303.12345v2", R["papers"][6]),
    "url https without a host": ("repo_links", 3, "url", "https:///path", R["repo_links"][1]),
    "url https alone": ("repo_links", 3, "url", "https://", R["repo_links"][1]),
    "url https and a space": ("repo_links", 3, "url", "https:// example.org", R["repo_links"][1]),
    "url https and a no-break space": ("repo_links", 3, "url", "https://\u00a0example.org", R["repo_links"][1]),
    "url without a scheme": ("repo_links", 3, "url", "example.org/a/b", R["repo_links"][1]),
}


@pytest.mark.parametrize("case", PAST_BOUNDS)
def test_one_past_a_bound_fails_that_rule(tmp_path, case):
    table, index, column, value, failing = PAST_BOUNDS[case]
    rows = _base()[table]
    rows[index][column] = value
    result = _validate(tmp_path, table, rows)
    assert _failed(result) == {failing}
    # The abstract is validated as its length; dates show in ISO form.
    expected = len(value) if column == "abstract" else value.isoformat() if isinstance(value, dt.date) else value
    assert expected in _shown(result.failures[0]), result.failures[0]
    assert result.failures[0].unexpected_count == 1


def test_positions_up_to_entry_count_hold_and_one_past_fails(tmp_path):
    """A digest (and its copy) of 3 entries: positions 1, 2, 3 hold (3 at the bound); 4 fails."""
    digests = _base()["digests"]
    digests[0]["entry_count"] = digests[1]["entry_count"] = 3
    rows = _base()["appearances"] + [{"digest_id": A, "paper_id": "1111111111111111", "digest_date": MAR_11, "position": 3, "line": 13}]
    assert _validate(tmp_path, "appearances", rows, digests).success
    rows[2]["position"] = 4
    result = _validate(tmp_path, "appearances", rows, digests)
    assert _failed(result) == {R["appearances"][3]}
    assert result.failures[0].rows == [{"digest_id": A, "paper_id": "1111111111111111", "position": 4}]
    assert result.failures[0].unexpected_values == [[3, 4]]  # (entry_count, position)


def test_an_appearance_of_a_digest_with_no_digests_row_gets_no_position_bound(tmp_path):
    """The check across tables reports such a digest_id; this rule passes its row, and still
    shows the other digests' bounds as whole numbers."""
    orphan = {"digest_id": "e" * 64, "paper_id": "1111111111111111", "digest_date": MAR_11, "position": 99, "line": 13}
    rows = _base()["appearances"] + [orphan]
    assert _validate(tmp_path, "appearances", rows, _base()["digests"]).success
    rows[1]["position"] = 3  # a.txt has entry_count 2
    result = _validate(tmp_path, "appearances", rows, _base()["digests"])
    assert _failed(result) == {R["appearances"][3]}
    assert result.failures[0].rows == [{"digest_id": A, "paper_id": P2, "position": 3}]
    assert json.dumps(result.failures[0].unexpected_values) == "[[2, 3]]"  # not 2.0


def test_the_position_bound_is_the_entry_count_of_the_digest_that_counts(tmp_path):
    """A copy of a dated digest that is itself undated (no date in its name) has entry_count 0;
    the bound of the appearances is still the first copy's entry_count."""
    digests = _base()["digests"]
    digests[1].update(source_name="zz-copy.txt", status="undated", digest_date=None, date_source=None, entry_count=0)
    assert _validate(tmp_path, "appearances", _base()["appearances"], digests).success


@pytest.mark.whole_build
def test_a_build_with_an_undated_copy_of_a_dated_digest_publishes(tmp_path):
    """The same through a build: a byte-identical copy whose name has no date is undated, with no entries."""
    raw = tmp_path / "raw"
    raw.mkdir()
    text = render(None, [("A first title about things", abstract("one")), ("A second title about stuff", abstract("two"))])
    (raw / "2026-03-11.txt").write_text(text, encoding="utf-8")  # dated by its file name
    (raw / "zz-copy.txt").write_text(text, encoding="utf-8")
    settings = Settings(tmp_path / "warehouse", raw, None)
    try:
        build = build_warehouse(settings)
    except ChecksFailed as error:
        pytest.fail(f"checks failed on valid input: {[(result.name, [rule.rule for rule in result.failures]) for result in error.failed]}")
    assert build.published
    digests = {row["source_name"]: (row["status"], row["entry_count"], row["duplicate_of"]) for row in table_rows(settings.layout, "digests")}
    assert digests == {"2026-03-11.txt": ("ok", 2, None), "zz-copy.txt": ("undated", 0, "2026-03-11.txt")}
    assert [row["position"] for row in table_rows(settings.layout, "appearances")] == [1, 2]


@pytest.mark.parametrize("status", ["ok", "duplicate"])
def test_digest_date_is_required_where_the_digest_was_read(tmp_path, status):
    rows = _base()["digests"]
    rows[2].update(status=status, digest_date=None, date_source="date_line")  # c.txt: its own content, duplicate_of null
    result = _validate(tmp_path, "digests", rows)
    assert _failed(result) == {R["digests"][4]}
    assert result.failures[0].rows == [{"source_name": "c.txt", "digest_id": C, "status": status, "duplicate_of": None}]


def test_digest_id_is_unique_only_among_rows_without_duplicate_of(tmp_path):
    rows = _base()["digests"]
    rows.append(_digest("d.txt", A, "duplicate", MAR_11, 2, duplicate_of="a.txt"))  # a third copy of a.txt
    assert _validate(tmp_path, "digests", rows).success
    rows[3]["duplicate_of"] = None  # now two rows without duplicate_of share a digest_id
    result = _validate(tmp_path, "digests", rows)
    assert _failed(result) == {R["digests"][3]}
    failure = result.failures[0]
    assert failure.unexpected_values == [A, A]
    assert {row["source_name"] for row in failure.rows} == {"a.txt", "d.txt"}


def test_duplicate_of_naming_no_row_fails(tmp_path):
    rows = _base()["digests"]
    rows[1]["duplicate_of"] = "gone.txt"
    result = _validate(tmp_path, "digests", rows)
    assert _failed(result) == {R["digests"][9]}
    assert result.failures[0].rows == [{"source_name": "b.txt", "digest_id": A, "status": "duplicate", "duplicate_of": "gone.txt"}]


@pytest.mark.parametrize(
    "link, failing",
    [
        (_link(P2, "https://gitlab.com/group/project", "gitlab.com", "gitlab", "group", None), {R["repo_links"][4]}),
        (_link(P2, "https://gitee.com/owner/repo", "gitee.com", "gitee", None, "repo"), {R["repo_links"][3]}),
        (_link(P2, "https://github.com/owner/repo/tree/main", "github.com", "github", None, None), {R["repo_links"][3], R["repo_links"][4]}),
    ],
    ids=["gitlab without repo", "gitee without owner", "github deep link without either"],
)
def test_owner_and_repo_are_required_for_repository_links(tmp_path, link, failing):
    """(Links that are no repository's pass with null owner and repo: HOLDING_ROWS.)"""
    result = _validate(tmp_path, "repo_links", _base()["repo_links"] + [link])
    assert _failed(result) == failing
    for failure in result.failures:
        assert failure.rows == [{"paper_id": P2, "url": link["url"], "kind": link["kind"]}]


def test_read_table_reads_only_the_columns_named_from_files_and_from_none(tmp_path):
    first = _write(tmp_path / "one.parquet", "digests", _base()["digests"][:1])
    second = _write(tmp_path / "two.parquet", "digests", _base()["digests"][1:])
    got = read_table([first, second], "digests", ["source_name", "entry_count"])
    assert got.to_pylist() == [
        {"source_name": "a.txt", "entry_count": 2},
        {"source_name": "b.txt", "entry_count": 2},
        {"source_name": "c.txt", "entry_count": 0},
    ]
    empty = read_table([], "digests", ["source_name", "entry_count"])
    assert (empty.num_rows, empty.schema.names, str(empty.schema.field("entry_count").type)) == (0, ["source_name", "entry_count"], "int32")


# --- a check that cannot run never passes --------------------------------------------------------


def test_a_missing_column_fails_its_rules_with_the_error(tmp_path):
    path = _write(tmp_path / "digests.parquet", "digests", _base()["digests"], drop=("date_source",))
    result = validate_table_files("digests", [path], [])
    assert not result.success
    assert _failed(result) == {R["digests"][5], R["digests"][13]}
    assert all("date_source" in failure.error for failure in result.failures)


@pytest.mark.parametrize("table, column", [("papers", "abstract"), ("appearances", "digest_id"), ("repo_links", "url"), ("digests", "duplicate_of")])
def test_a_missing_column_the_check_needs_to_prepare_raises(tmp_path, table, column):
    path = _write(tmp_path / f"{table}.parquet", table, _base()[table], drop=(column,))
    digests = _write(tmp_path / "whole" / "digests.parquet", "digests", _base()["digests"])
    with pytest.raises(Exception, match=column):
        validate_table_files(table, [path], [digests])


@pytest.mark.parametrize("table", TABLES)
def test_an_unreadable_file_raises(tmp_path, table):
    path = tmp_path / "2026-03.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(pa.ArrowInvalid, match="2026-03.parquet"):
        validate_table_files(table, [path], [path])
    if table not in KEY_COLUMNS:
        return  # a table no check across tables reads
    files = {name: [_write(tmp_path / name / "part-0.parquet", name, BASE[name])] for name in TABLES}
    files[table] = [path]
    with pytest.raises(pa.ArrowInvalid):
        run_cross_checks(files)


def test_run_check_that_cannot_run_withdraws_its_approval(sample_settings, tmp_path):
    settings = _copy_warehouse(sample_settings, tmp_path)
    layout = settings.layout
    consolidate_tables(settings)  # the copy's published record no longer matches: candidates again
    assert run_check(layout, "rejects_expectations").success
    approval = approval_path(layout, "rejects_expectations")
    assert approval.is_file()
    manifest = read_manifest(layout)
    (layout.candidate_dir("rejects") / "part-0.parquet").write_bytes(b"garbage")
    assert manifest is not None
    with pytest.raises(pa.ArrowInvalid):
        run_check(layout, "rejects_expectations")
    assert not approval.exists()


def test_a_check_that_cannot_run_shows_its_failure_in_the_data_docs(sample_settings, tmp_path):
    """Its page is the check's result: after a failure to run it must not still show the last pass."""
    settings = _copy_warehouse(sample_settings, tmp_path)
    layout = settings.layout
    consolidate_tables(settings)
    assert run_check(layout, "papers_expectations").success
    candidate = layout.candidate_dir("papers") / "2026-03.parquet"
    pq.write_table(pq.read_table(candidate).drop_columns(["abstract"]), candidate)
    with pytest.raises(KeyError):
        run_check(layout, "papers_expectations")
    page = docs.read_page(layout.validation_dir, "papers_expectations")
    assert not page.latest.success
    assert any(rule.error and "abstract" in rule.error for rule in page.latest.rules)
    assert [run["success"] for run in page.history[:2]] == [False, True]
    index = (layout.validation_dir / "index.html").read_text()
    assert re.search(r'<a href="papers_expectations.html">papers_expectations</a></td>\s*<td><span class="failed">FAILED</span>', index)


def test_a_check_that_cannot_run_leaves_the_others_running(sample_settings, tmp_path):
    """One build reports every problem: the checks after a check that raised still run."""
    settings = _copy_warehouse(sample_settings, tmp_path)
    layout = settings.layout
    consolidate_tables(settings)
    every_check = [*REQUIRED_CHECK_NAMES, "markup_titles", "arxiv_id_conflicts"]
    runs_before = {check: len(docs.read_page(layout.validation_dir, check).history) for check in every_check}
    candidate = layout.candidate_dir("papers") / "2026-03.parquet"
    pq.write_table(pq.read_table(candidate).drop_columns(["abstract"]), candidate)
    with pytest.raises(KeyError, match="abstract"):
        validate(settings)
    runs_after = {check: len(docs.read_page(layout.validation_dir, check).history) for check in every_check}
    assert runs_after == {check: runs + 1 for check, runs in runs_before.items()}
    assert not docs.read_page(layout.validation_dir, "papers_expectations").latest.success
    assert docs.read_page(layout.validation_dir, "paper_terms_expectations").latest.success


# --- checks across tables ------------------------------------------------------------------------


def test_cross_checks_pass_on_the_samples(sample_settings):
    layout = sample_settings.layout
    result = run_cross_checks({table: layout.table_files(table) for table in TABLES})
    assert result.name == "cross_table_integrity"
    assert [(rule.check, rule.rule, rule.success, rule.unexpected_count) for rule in result.rules] == [
        (name, text, True, 0) for name, text in CROSS_RULE_TEXTS.items()
    ]


def _cross(tmp_path: Path, tables: dict[str, list[dict]]) -> CheckResult:
    files = {table: [_write(tmp_path / "cross" / table / "part-0.parquet", table, rows)] for table, rows in tables.items()}
    return run_cross_checks(files)


def _cross_failures(result: CheckResult) -> dict[str, RuleResult]:
    return {rule.check: rule for rule in result.failures}


def test_cross_checks_pass_on_the_hand_built_tables(tmp_path):
    """b.txt (a duplicate) and c.txt (empty) have no appearances, and need none."""
    assert _cross(tmp_path, _base()).success


def _orphan_appearance(tables):
    tables["appearances"][1]["paper_id"] = "9999999999999999"


def _digestless_appearance(tables):
    tables["appearances"].append({"digest_id": "d" * 64, "paper_id": P1, "digest_date": MAR_11, "position": 1, "line": 9})


def _orphan_link(tables):
    tables["repo_links"][3]["paper_id"] = "9999999999999999"


def _orphan_term(tables):
    tables["paper_terms"][2]["paper_id"] = "9999999999999999"


def _orphan_reject(tables):
    tables["rejects"][0]["digest_id"] = "e" * 64


def _paper_twice(tables):
    tables["papers"].append(dict(tables["papers"][0], title="Attention Is All You Need (again)"))


def _entry_count_off(tables):
    tables["digests"][0]["entry_count"] = 3


CROSS_BREAKS = {
    "paper missing in papers (appearances)": (
        _orphan_appearance,
        "appearances_paper_in_papers",
        [{"paper_id": "9999999999999999", "digest_id": A, "position": 2}],
    ),
    "paper missing in papers (repo_links)": (
        _orphan_link,
        "repo_links_paper_in_papers",
        [{"paper_id": "9999999999999999", "url": OTHER_URL}],
    ),
    "paper missing in papers (paper_terms)": (
        _orphan_term,
        "paper_terms_paper_in_papers",
        [{"paper_id": "9999999999999999", "terms": 1}],
    ),
    "digest missing in digests (appearances)": (
        _digestless_appearance,
        "appearances_digest_in_digests",
        [{"digest_id": "d" * 64, "appearances": 1}],
    ),
    "digest missing in digests (rejects)": (
        _orphan_reject,
        "rejects_digest_in_digests",
        [{"digest_id": "e" * 64, "source_name": "c.txt", "rejects": 1}],
    ),
    "paper_id twice across parts": (_paper_twice, "papers_paper_id_unique", [{"paper_id": P1, "rows": 2}]),
    "entry_count mismatch": (
        _entry_count_off,
        "appearance_count_is_entry_count",
        [{"source_name": "a.txt", "digest_id": A, "entry_count": 3, "appearances": 2}],
    ),
}


@pytest.mark.parametrize("case", CROSS_BREAKS)
def test_a_broken_table_fails_its_cross_check_alone_with_the_orphans(tmp_path, case):
    breaker, check, offending = CROSS_BREAKS[case]
    tables = _base()
    breaker(tables)
    failures = _cross_failures(_cross(tmp_path, tables))
    assert set(failures) == {check}
    assert failures[check].rule == CROSS_RULE_TEXTS[check]
    assert failures[check].rows == offending
    assert failures[check].unexpected_count == len(offending)


def test_only_read_first_copies_count_toward_entry_count(tmp_path):
    """A duplicate, empty or undated digest with an entry_count and no appearances is no mismatch."""
    tables = _base()
    tables["digests"][2].update(entry_count=5)  # c.txt: empty
    tables["digests"].append(_digest("u.txt", "f" * 64, "undated", None, 4))
    assert _cross(tmp_path, tables).success
    tables["digests"][3]["status"] = "ok"  # read, with 4 entries and no appearances: a mismatch
    failures = _cross_failures(_cross(tmp_path, tables))
    assert set(failures) == {"appearance_count_is_entry_count"}
    assert failures["appearance_count_is_entry_count"].rows == [{"source_name": "u.txt", "digest_id": "f" * 64, "entry_count": 4, "appearances": 0}]


@pytest.mark.parametrize("orphans, shown", [(4, 4), (5, 5), (6, 5), (7, 5)])
def test_a_cross_check_counts_every_orphan_and_shows_five(tmp_path, orphans, shown):
    tables = _base()
    tables["repo_links"] = [_link(f"{n:016x}", f"https://example.org/{n}", "example.org", "other", None, None) for n in range(orphans)]
    failure = _cross_failures(_cross(tmp_path, tables))["repo_links_paper_in_papers"]
    assert failure.unexpected_count == orphans
    assert failure.rows == [{"paper_id": f"{n:016x}", "url": f"https://example.org/{n}"} for n in range(shown)]


# --- Dagster: the blocking checks ----------------------------------------------------------------


def _copy_warehouse(settings: Settings, tmp_path: Path) -> Settings:
    """A copy of a built warehouse: its files' signatures differ, so its tables are consolidated and checked anew."""
    target = tmp_path / "warehouse"
    shutil.copytree(settings.warehouse_dir, target, ignore=shutil.ignore_patterns(".papertrends.lock"), symlinks=True)
    return Settings(target, SAMPLES, None)


def _materialize(settings: Settings, selection=None, instance=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*assets.definitions.ASSETS, *assets.definitions.CHECKS],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        selection=selection,
    )


def _evaluations(result) -> dict:
    """The blocking checks' evaluations (the warnings are tested apart)."""
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations() if evaluation.check_name in CHECK_NAMES}


def _materialized(result) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def _step_failure(result) -> str:
    return str(one_step_failure(result).event_specific_data.error)


def _file_state(path: Path):
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns, stat.st_ino


def _published_state(settings: Settings) -> dict:
    layout = settings.layout
    files = sorted(layout.parquet_dir.rglob("*")) + [layout.duckdb_path, layout.published_record]
    return {str(path.relative_to(layout.root)): _file_state(path) if path.is_file() else "dir" for path in files}


@pytest.fixture(scope="session")
def dagster_warehouse(sample_settings, tmp_path_factory):
    """A copy of the samples' warehouse materialized through Dagster: all assets and checks, once."""
    settings = _copy_warehouse(sample_settings, tmp_path_factory.mktemp("dagster"))
    instance = dg.DagsterInstance.ephemeral()
    return settings, instance, _materialize(settings, instance=instance)


def test_every_check_passes_on_the_samples_with_its_metadata(dagster_warehouse):
    settings, _, result = dagster_warehouse
    assert result.success
    evaluations = _evaluations(result)
    assert sorted(evaluations) == sorted(CHECK_NAMES)
    validation = settings.layout.validation_dir
    rules = {"digests": 14, "papers": 8, "appearances": 7, "repo_links": 6, "rejects": 2, "repo_stars": 4, "paper_terms": 5}
    for name, evaluation in evaluations.items():
        metadata = {key: value.value for key, value in evaluation.metadata.items()}
        assert evaluation.passed, metadata
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert metadata["data_docs"] == str(validation / "index.html")
        assert metadata["result_page"] == str(validation / f"{name}.html")
        assert Path(metadata["result_page"]).is_file()
        assert (metadata["rules_failed"], metadata["failed_rules"], metadata["reused"]) == (0, "every rule holds", False)
        table = name.removesuffix("_expectations")
        if name == "cross_table_integrity":
            assert evaluation.asset_key == dg.AssetKey("appearances")
            assert metadata["rules"] == 9 and "rows" not in metadata
        else:
            assert evaluation.asset_key == dg.AssetKey(table)
            assert (metadata["rules"], metadata["rows"]) == (rules[table], SAMPLE_ROWS[table])
    assert {"trends_duckdb", "trend_report"} <= _materialized(result)
    assert read_manifest(settings.layout) is None  # published: no candidates left


def test_one_check_runs_alone(dagster_warehouse):
    """The six checks share a step, but one of them can run by itself (as from the UI)."""
    settings, instance, _ = dagster_warehouse
    key = dg.AssetCheckKey(dg.AssetKey("repo_links"), "repo_links_expectations")
    result = _materialize(settings, dg.AssetSelection.checks(key), instance)
    assert result.success
    evaluations = _evaluations(result)
    assert list(evaluations) == ["repo_links_expectations"]
    metadata = evaluations["repo_links_expectations"].metadata
    assert evaluations["repo_links_expectations"].passed and metadata["rows"].value == 86
    assert _materialized(result) == set()


def test_a_second_run_with_nothing_new_reuses_the_passing_results(dagster_warehouse):
    settings, instance, _ = dagster_warehouse
    page = settings.layout.validation_dir / "papers_expectations.html"
    before = _file_state(page)
    published = _published_state(settings)
    result = _materialize(settings, instance=instance)
    assert result.success
    evaluations = _evaluations(result)
    assert sorted(evaluations) == sorted(CHECK_NAMES) and all(evaluation.passed for evaluation in evaluations.values())
    assert all(evaluation.metadata["reused"].value for evaluation in evaluations.values())
    assert evaluations["papers_expectations"].metadata["rows"].value == 298
    assert _file_state(page) == before
    assert _published_state(settings) == published


CONSOLIDATE_ONLY = dg.AssetSelection.assets("staged_digests", *TABLES).without_checks()
# trends_duckdb and term_trends: one step, selected together.
PUBLISH = dg.AssetSelection.assets("trends_duckdb", "term_trends")
CHECKS_AND_PUBLISH = PUBLISH | dg.AssetSelection.assets("trend_report") | dg.AssetSelection.all_asset_checks()


def test_a_broken_candidate_fails_its_check_and_blocks_trends_duckdb(dagster_warehouse, tmp_path):
    settings = _copy_warehouse(dagster_warehouse[0], tmp_path)
    layout = settings.layout
    instance = dg.DagsterInstance.ephemeral()
    consolidated = _materialize(settings, CONSOLIDATE_ONLY, instance)
    assert consolidated.success and _materialized(consolidated) == {"staged_digests", *TABLES}
    assert _evaluations(consolidated) == {}
    candidate = layout.candidate_dir("papers") / "2026-03.parquet"
    rows = pq.read_table(candidate).to_pylist()
    broken_id = rows[7]["paper_id"]
    rows[7]["title"] = "t" * 301
    _write(candidate, "papers", rows)
    published = _published_state(settings)
    duckdb_bytes = layout.duckdb_path.read_bytes()

    result = _materialize(settings, CHECKS_AND_PUBLISH, instance)
    assert not result.success
    evaluations = _evaluations(result)
    assert sorted(evaluations) == sorted(CHECK_NAMES)  # every check ran and reported
    assert {name for name, evaluation in evaluations.items() if not evaluation.passed} == {"papers_expectations"}
    metadata = {key: value.value for key, value in evaluations["papers_expectations"].metadata.items()}
    assert (metadata["rules_failed"], metadata["rows"]) == (1, 298)
    assert "title is 1 to 300 characters" in metadata["failed_rules"] and broken_id in metadata["failed_rules"]
    assert "t" * 100 in metadata["failed_rules"]
    assert "DagsterAssetCheckFailedError" in _step_failure(result) and "papers_expectations" in _step_failure(result)
    assert _materialized(result) == set()  # trends_duckdb (and the report) blocked
    assert _published_state(settings) == published and layout.duckdb_path.read_bytes() == duckdb_bytes
    assert not approval_path(layout, "papers_expectations").exists()
    assert candidate.exists()  # the candidates wait, unpublished
    page = (layout.validation_dir / "papers_expectations.html").read_text()
    assert "FAILED" in page and broken_id in page

    # Publishing alone later still refuses them.
    alone = _materialize(settings, PUBLISH, instance)
    assert not alone.success and _materialized(alone) == set()
    assert "UncheckedCandidates" in _step_failure(alone) and "papers_expectations has not passed" in _step_failure(alone)
    assert _published_state(settings) == published


def test_a_check_that_cannot_run_fails_after_the_others_report(dagster_warehouse, tmp_path):
    settings = _copy_warehouse(dagster_warehouse[0], tmp_path)
    layout = settings.layout
    instance = dg.DagsterInstance.ephemeral()
    assert _materialize(settings, CONSOLIDATE_ONLY, instance).success
    # papers without its abstract column: its suite cannot read it; the check across tables reads paper_id only.
    candidate = layout.candidate_dir("papers") / "2026-03.parquet"
    pq.write_table(pq.read_table(candidate).drop_columns(["abstract"]), candidate)
    published = _published_state(settings)

    result = _materialize(settings, CHECKS_AND_PUBLISH, instance)
    assert not result.success
    evaluations = _evaluations(result)
    assert sorted(evaluations) == sorted(CHECK_NAMES)  # the four after papers still reported
    assert {name for name, evaluation in evaluations.items() if evaluation.passed} == set(CHECK_NAMES) - {"papers_expectations"}
    error = evaluations["papers_expectations"].metadata["error"].value
    assert error.startswith("could not run: ") and "abstract" in error
    assert "abstract" in _step_failure(result)
    assert _materialized(result) == set()
    assert _published_state(settings) == published
    assert not approval_path(layout, "papers_expectations").exists()


def test_a_warning_that_cannot_run_is_reported_after_the_other_warnings_and_blocks_nothing(dagster_warehouse, tmp_path, monkeypatch):
    import pipeline.build

    settings = _copy_warehouse(dagster_warehouse[0], tmp_path)
    broken, working = "markup_titles", "arxiv_id_conflicts"
    original = pipeline.build.run_warning_check

    def run_warning(check, files):
        if check == broken:
            raise RuntimeError("this warning cannot run")
        return original(check, files)

    monkeypatch.setattr(pipeline.build, "run_warning_check", run_warning)
    result = _materialize(settings)
    assert not result.success
    warnings = {e.check_name: e for e in result.get_asset_check_evaluations() if e.check_name in (broken, working)}
    assert {name: evaluation.passed for name, evaluation in warnings.items()} == {broken: False, working: True}
    assert warnings[broken].metadata["error"].value == "could not run: RuntimeError('this warning cannot run')"
    assert "this warning cannot run" in _step_failure(result)
    assert {"trends_duckdb", "trend_report"} <= _materialized(result)  # a warning never holds the tables back


# --- Data Docs -----------------------------------------------------------------------------------


def test_pages_describe_the_whole_table_and_a_build_with_nothing_new_leaves_them(sample_settings, tmp_path):
    settings = _copy_warehouse(sample_settings, tmp_path)
    validation = settings.layout.validation_dir
    assert build_warehouse(settings).published  # the copy is consolidated, checked and published anew
    page = validation / "papers_expectations.html"
    assert "<li>rows: 298</li>" in page.read_text()
    before = {path.name: path.stat().st_mtime_ns for path in validation.rglob("*") if path.is_file()}
    again = build_warehouse(settings)
    assert (again.published, again.results) == (False, [])
    assert "<li>rows: 298</li>" in page.read_text()
    assert {path.name: path.stat().st_mtime_ns for path in validation.rglob("*") if path.is_file()} == before
    index = (validation / "index.html").read_text()
    for name, rows in [("papers_expectations", 298), ("appearances_expectations", 358), ("repo_links_expectations", 86)]:
        assert re.search(rf'<a href="{name}.html">{name}</a></td>\s*<td><span class="passed">passed</span></td>\s*<td>0 of \d+</td>\s*<td>{rows}</td>', index)


def _result(validated_at: str, success: bool = True) -> CheckResult:
    rule = RuleResult(rule="line is at least 1", check="expect_column_values_to_be_between", success=success, columns=["line"])
    return CheckResult("rejects_expectations", "Expectation suite for rejects", "part-0.parquet", 3, [rule], "key", validated_at)


@pytest.mark.parametrize("runs, kept", [(19, 19), (20, 20), (21, 20), (25, 20)])
def test_history_lists_runs_newest_first_up_to_twenty(tmp_path, runs, kept):
    assert docs.HISTORY_RUNS == 20
    times = [f"2026-03-{day:02d}T08:00:00+00:00" for day in range(1, runs + 1)]
    for number, when in enumerate(times):
        docs.write_result(tmp_path, _result(when, success=number % 3 != 0))
    page = docs.read_page(tmp_path, "rejects_expectations")
    assert [run["validated_at"] for run in page.history] == times[::-1][:kept]
    assert [run["success"] for run in page.history] == [number % 3 != 0 for number in range(runs)][::-1][:kept]
    assert page.latest.validated_at == times[-1]
    html = (tmp_path / "rejects_expectations.html").read_text()
    history = html.split("<h2>Recent validations</h2>", 1)[1]
    assert re.findall(r"<tr><td>(2026-03-\d\dT08:00:00\+00:00)</td>", history) == times[::-1][:kept]


@pytest.fixture(scope="session")
def markup_pages(tmp_path_factory) -> Path:
    """Data Docs of failed checks whose rows hold markup: papers titles and a digest's source_name."""
    tmp_path = tmp_path_factory.mktemp("markup")
    validation = tmp_path / "validation"
    papers = _base()["papers"]
    papers[0].update(title=SCRIPT_TITLE, abstract="")
    papers[1].update(title=IMG_TITLE, abstract="")
    docs.write_result(validation, _validate(tmp_path, "papers", papers))
    digests = _base()["digests"]
    digests[1]["source_name"] = digests[0]["source_name"] = f"{SCRIPT_TITLE}.txt"
    docs.write_result(validation, _validate(tmp_path, "digests", digests))
    tables = _base()
    tables["rejects"][0].update(digest_id="e" * 64, source_name=IMG_TITLE)
    docs.write_result(validation, _cross(tmp_path, tables))
    return validation


def test_the_index_tells_a_failed_warning_from_a_failed_blocking_check(tmp_path):
    tables = _base()
    tables["papers"][0].update(title="[Code](https://x.org) in a title")
    files = {table: [_write(tmp_path / table / "part-0.parquet", table, rows)] for table, rows in tables.items()}
    validation = tmp_path / "validation"
    docs.write_result(validation, run_warning_check("markup_titles", files))
    tables["rejects"][0].update(digest_id="e" * 64)
    docs.write_result(validation, _cross(tmp_path, tables))
    index = (validation / "index.html").read_text()
    rows = dict(re.findall(r'<tr>\s*<td><a href="[^"]+">([^<]+)</a>(.*?)</tr>', index, re.S))
    assert '<span class="warned">WARNING</span>' in rows["markup_titles"] and "<td>warning</td>" in rows["markup_titles"]
    assert '<span class="failed">FAILED</span>' in rows["cross_table_integrity"] and "<td>blocking</td>" in rows["cross_table_integrity"]
    assert '<span class="warned">WARNING</span>' in (validation / "markup_titles.html").read_text()


def test_markup_in_titles_is_escaped_in_every_page(markup_pages):
    validation = markup_pages
    pages = sorted(validation.glob("*.html"))
    assert [page.name for page in pages] == [
        "cross_table_integrity.html",
        "digests_expectations.html",
        "index.html",
        "papers_expectations.html",
    ]
    for page in pages:
        text = page.read_text()
        assert "<script" not in text.lower() and "<img" not in text.lower(), page.name
        assert "onerror=alert(1)>" not in text, page.name
    papers = (validation / "papers_expectations.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in papers
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in papers
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.txt" in (validation / "digests_expectations.html").read_text()
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in (validation / "cross_table_integrity.html").read_text()
    # The JSON beside each page keeps the values as they are.
    data = json.loads((validation / "results" / "papers_expectations.json").read_text())
    assert {row["title"] for row in data["latest"]["rules"][5]["rows"]} == {SCRIPT_TITLE, IMG_TITLE}


def test_the_check_metadata_escapes_markup(tmp_path):
    papers = _base()["papers"]
    papers[0].update(title=SCRIPT_TITLE, abstract="")
    markdown = failures_markdown(_validate(tmp_path, "papers", papers))
    assert "<script" not in markdown and "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in markdown


def test_the_check_metadata_shows_markdown_in_values_as_written(tmp_path):
    papers = _base()["papers"]
    papers[0].update(title="[Code](https://x.org/a_b) **bold**", abstract="")
    markdown = failures_markdown(_validate(tmp_path, "papers", papers))
    assert '&quot;title&quot;: &quot;\\[Code\\]\\(https://x.org/a\\_b\\) \\*\\*bold\\*\\*&quot;' in markdown


def _csp(text: str) -> dict[str, str]:
    metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    assert len(metas) == 1, metas
    return {directive.split()[0]: " ".join(directive.split()[1:]) for directive in metas[0].split(";") if directive.strip()}


def test_every_page_carries_a_policy_that_forbids_scripts(markup_pages):
    validation = markup_pages
    for page in validation.glob("*.html"):
        policy = _csp(page.read_text())
        assert policy["default-src"] == "'none'", page.name
        assert "script-src" not in policy and "script-src-elem" not in policy and "script-src-attr" not in policy, page.name


@pytest.mark.browser
def test_data_docs_in_a_browser_run_no_script_and_show_the_title_as_text(markup_pages, browser):
    validation = markup_pages
    page = browser.new_page()
    dialogs, errors, requests = [], [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.goto((validation / "index.html").as_uri(), wait_until="load")
        assert page.title() == "papertrends validation"
        row = page.locator("tr", has=page.locator("a", has_text="papers_expectations"))
        assert row.locator(".failed").inner_text() == "FAILED"
        row.locator("a", has_text="papers_expectations").click()
        page.wait_for_load_state("load")
        assert page.url.endswith("/papers_expectations.html")
        assert page.get_by_text(SCRIPT_TITLE, exact=True).is_visible()
        assert page.get_by_text(IMG_TITLE, exact=True).is_visible()
        assert page.get_by_text("abstract is 1 to 5,000 characters").is_visible()
        assert page.locator("script").count() == 0 and page.locator("img").count() == 0
        page.goto((validation / "digests_expectations.html").as_uri(), wait_until="load")
        assert page.get_by_text(f"{SCRIPT_TITLE}.txt", exact=True).first.is_visible()
        assert page.locator("script").count() == 0
        output = REPO / "test-output"
        output.mkdir(exist_ok=True)
        page.goto((validation / "papers_expectations.html").as_uri(), wait_until="load")
        page.screenshot(path=str(output / "data-docs-papers.png"), full_page=True)
    finally:
        page.close()
    assert dialogs == [] and errors == []
    assert {url.split(":", 1)[0] for url in requests} == {"file"}


# --- every rule is documented --------------------------------------------------------------------


def test_docs_list_every_rule():
    path = REPO / "docs" / "validation.md"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} does not exist: it must list every validation rule (the suites' and the cross-table checks')")
    text = " ".join(path.read_text(encoding="utf-8").split())
    missing = [text_ for texts in RULE_TEXTS.values() for text_ in texts if text_ not in text]
    missing += [text_ for text_ in CROSS_RULE_TEXTS.values() if text_ not in text]
    assert missing == [], f"{path.relative_to(REPO)} does not list: {missing}"
