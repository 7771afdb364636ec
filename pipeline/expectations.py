"""Great Expectations (1.x) suites for the five published tables, and their validation.

The suites are built from the project's own constants, so a new reject reason or
link kind changes the rule with the code. Validation runs through an ephemeral GX
context on a pandas frame read from a Parquet file; the result is a plain
`TableValidation` that the Dagster checks and the Data Docs pages read.

Rules that depend on other rows or another table are expressed with a helper
column computed before validation (names start with `_`, see `prepare_frame`), or
with a GX row condition where the rule applies to a subset of rows.
GX is imported inside the functions: importing it costs seconds.
"""

import math
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.read.dates import DATE_SOURCES
from pipeline.read.identity import ARXIV_ID_PATTERN
from pipeline.read.links import LINK_KINDS
from pipeline.read.reader import ABSTRACT_MAX_CHARS, DIGEST_STATUSES, REJECT_REASONS, TITLE_MAX_CHARS
from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES
from pipeline.sql import connect, identifier
from pipeline.table_parts import describe_files

# Abstract length bounds. The reader accepts any block after a title as its abstract,
# even a short one (`_pair_entries`), so the lower bound is "not empty". arXiv caps
# abstracts at 1,920 characters (the samples span 1,347-1,916); an abstract over
# ABSTRACT_MAX_CHARS means blocks were merged or the capture is not a digest.
ABSTRACT_MIN_CHARS = 1
TITLE_MIN_CHARS = 1

DIGEST_ID_PATTERN = r"^[0-9a-f]{64}$"
# Python's whitespace (str.isspace, and so re's \s), spelled out. pandas runs a regex
# holding \s or \S through Python's re one value at a time, because RE2's \s is ASCII
# only; spelled out, the same set runs in pyarrow (RE2), seven times faster at 630,000
# titles. Literal characters: a \u escape would send pandas back to Python's re too.
WHITESPACE_CLASS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK_PATTERN = f"[^{WHITESPACE_CLASS}]"
HTTPS_HOST_PATTERN = f"^https://[^{WHITESPACE_CLASS}/]+"
# Statuses of a digest whose text was read, so it has a date.
READ_STATUSES = ("ok", "duplicate")
# Hosts with owner/repo paths: a link there with two path segments names a repository.
REPOSITORY_KINDS = ("github", "gitlab", "gitee")
# scheme://host, then at least two non-empty path segments before any query or fragment.
_TWO_PATH_SEGMENTS = r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*/+[^/?#]+/+[^/?#]+"

# Unexpected values and rows kept per failed expectation.
SAMPLE_SIZE = 5

# Helper columns added by prepare_frame, never part of a published table.
DUPLICATE_OF_DIGEST_ID = "_duplicate_of_digest_id"
DIGEST_ENTRY_COUNT = "_digest_entry_count"
IS_REPOSITORY_LINK = "_is_repository_link"
ABSTRACT_CHARS = "_abstract_chars"

# Columns the suites check only by length, validated as their lengths (the helper
# column) without the text: GX filters the whole frame once per expectation, and at
# 10,000 digests the abstracts are a gigabyte (seconds per copy; see benchmarks/HISTORY.md).
LENGTH_ONLY_COLUMNS = {"papers": {"abstract": ABSTRACT_CHARS}}
# Key columns with few distinct values, read as categories: pandas then finds compound
# duplicates on their codes instead of hashing 700,000 strings (appearances: half a second).
CATEGORY_COLUMNS = {"appearances": ["digest_id"]}

# Columns shown with the unexpected rows of a failed expectation: enough to find the row.
ROW_COLUMNS = {
    "digests": ["source_name", "digest_id", "status", "duplicate_of"],
    "papers": ["paper_id", "title"],
    "appearances": ["digest_id", "paper_id", "position"],
    "repo_links": ["paper_id", "url", "kind"],
    "rejects": ["source_name", "line", "reason"],
}


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite: its GX type, arguments and the rule in words."""

    expectation: str  # GX class name, e.g. "ExpectColumnValuesToBeUnique"
    kwargs: dict
    text: str
    condition: tuple | None = None  # ("is_null", column) | ("is_in", column, values) | ("is_true", column)


def _rules() -> dict[str, list[Rule]]:
    return {
        "digests": [
            Rule("ExpectColumnValuesToNotBeNull", {"column": "source_name"}, "source_name is set"),
            Rule("ExpectColumnValuesToBeUnique", {"column": "source_name"}, "source_name is unique (the key)"),
            Rule("ExpectColumnValuesToMatchRegex", {"column": "digest_id", "regex": DIGEST_ID_PATTERN}, "digest_id is 64 lower-case hex digits"),
            Rule(
                "ExpectColumnValuesToBeUnique",
                {"column": "digest_id"},
                "digest_id is unique among the rows whose duplicate_of is null",
                ("is_null", "duplicate_of"),
            ),
            Rule(
                "ExpectColumnValuesToNotBeNull",
                {"column": "digest_date"},
                "digest_date is set where the digest was read (status ok or duplicate)",
                ("is_in", "status", list(READ_STATUSES)),
            ),
            Rule("ExpectColumnValuesToBeInSet", {"column": "date_source", "value_set": list(DATE_SOURCES)}, "date_source is one of " + ", ".join(DATE_SOURCES)),
            Rule("ExpectColumnValuesToBeInSet", {"column": "status", "value_set": list(DIGEST_STATUSES)}, "status is one of " + ", ".join(DIGEST_STATUSES)),
            Rule("ExpectColumnValuesToBeBetween", {"column": "entry_count", "min_value": 0}, "entry_count is not negative"),
            Rule("ExpectColumnValuesToBeBetween", {"column": "reject_count", "min_value": 0}, "reject_count is not negative"),
            Rule(
                "ExpectColumnPairValuesToBeEqual",
                {"column_A": "digest_id", "column_B": DUPLICATE_OF_DIGEST_ID, "ignore_row_if": "neither"},
                "duplicate_of, where set, is the source_name of a row with the same digest_id",
                ("is_not_null", "duplicate_of"),
            ),
        ],
        "papers": [
            Rule("ExpectColumnValuesToNotBeNull", {"column": "paper_id"}, "paper_id is set"),
            Rule("ExpectColumnValuesToBeUnique", {"column": "paper_id"}, "paper_id is unique (the key)"),
            Rule("ExpectColumnValuesToNotBeNull", {"column": "title"}, "title is set"),
            Rule("ExpectColumnValuesToMatchRegex", {"column": "title", "regex": NOT_BLANK_PATTERN}, "title is not blank"),
            Rule(
                "ExpectColumnValueLengthsToBeBetween",
                {"column": "title", "min_value": TITLE_MIN_CHARS, "max_value": TITLE_MAX_CHARS},
                f"title is {TITLE_MIN_CHARS} to {TITLE_MAX_CHARS} characters (the reader's title bound)",
            ),
            Rule(
                "ExpectColumnValuesToBeBetween",
                {"column": ABSTRACT_CHARS, "min_value": ABSTRACT_MIN_CHARS, "max_value": ABSTRACT_MAX_CHARS},
                f"abstract is {ABSTRACT_MIN_CHARS} to {ABSTRACT_MAX_CHARS:,} characters",
            ),
            Rule("ExpectColumnValuesToMatchRegex", {"column": "arxiv_id", "regex": ARXIV_ID_PATTERN}, "arxiv_id, where set, is an arXiv id (2303.12345)"),
            Rule(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": "last_seen_date", "column_B": "first_seen_date", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                "first_seen_date <= last_seen_date",
            ),
        ],
        "appearances": [
            Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["digest_id", "position"]}, "(digest_id, position) is unique"),
            Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["digest_id", "paper_id"]}, "(digest_id, paper_id) is unique: a paper once per digest"),
            Rule("ExpectColumnValuesToBeBetween", {"column": "position", "min_value": 1}, "position is at least 1"),
            Rule(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {"column_A": DIGEST_ENTRY_COUNT, "column_B": "position", "or_equal": True, "ignore_row_if": "either_value_is_missing"},
                "position is at most the digest's entry_count",
            ),
        ],
        "repo_links": [
            Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["paper_id", "url"]}, "(paper_id, url) is unique"),
            Rule("ExpectColumnValuesToMatchRegex", {"column": "url", "regex": HTTPS_HOST_PATTERN}, "url starts with https:// and a host"),
            Rule("ExpectColumnValuesToBeInSet", {"column": "kind", "value_set": list(LINK_KINDS)}, "kind is one of " + ", ".join(LINK_KINDS)),
            Rule(
                "ExpectColumnValuesToNotBeNull",
                {"column": "owner"},
                "owner is set for a " + "/".join(REPOSITORY_KINDS) + " repository link (host/owner/repo...)",
                ("is_true", IS_REPOSITORY_LINK),
            ),
            Rule(
                "ExpectColumnValuesToNotBeNull",
                {"column": "repo"},
                "repo is set for a " + "/".join(REPOSITORY_KINDS) + " repository link (host/owner/repo...)",
                ("is_true", IS_REPOSITORY_LINK),
            ),
        ],
        "rejects": [
            Rule("ExpectColumnValuesToBeInSet", {"column": "reason", "value_set": list(REJECT_REASONS)}, "reason is one of " + ", ".join(REJECT_REASONS)),
            Rule("ExpectColumnValuesToBeBetween", {"column": "line", "min_value": 1}, "line is at least 1"),
        ],
    }


SUITE_RULES: dict[str, list[Rule]] = _rules()
assert set(SUITE_RULES) == set(TABLES)


@dataclass(frozen=True)
class ExpectationOutcome:
    """The result of one expectation, in plain values (JSON-ready)."""

    expectation: str  # GX type, e.g. expect_column_values_to_be_unique
    columns: list[str]
    rule: str
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_values: list = field(default_factory=list)  # a few, as str or None
    unexpected_rows: list[dict] = field(default_factory=list)  # a few offending rows (ROW_COLUMNS)
    observed_value: Any = None
    error: str | None = None  # GX raised while evaluating the expectation

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class TableValidation:
    table: str
    source: str  # the file validated
    row_count: int
    success: bool
    outcomes: list[ExpectationOutcome]
    validated_at: str  # ISO timestamp, UTC

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.outcomes if not outcome.success]

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        data["outcomes"] = [outcome.to_dict() for outcome in self.outcomes]
        return data


def plain(value: Any) -> Any:
    """A value as JSON-ready text: dates ISO, missing values None."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return str(value)


def read_frame(paths: Path | list[Path], table: str | None = None):
    """Parquet files of one table as a pandas frame (pyarrow types kept as plain Python/NumPy values).

    With `table`, no files at all is a frame of that table's columns and no rows.
    """
    paths = [paths] if isinstance(paths, Path) else paths
    if not paths and table is not None:
        return PUBLISHED_SCHEMAS[table].empty_table().to_pandas()
    categories = CATEGORY_COLUMNS.get(table)
    return pa.concat_tables([pq.read_table(path, read_dictionary=categories) for path in paths]).to_pandas()


def read_validation_frame(table: str, paths: Path | list[Path]):
    """A table's Parquet files as a pandas frame, each length-only column read as its lengths.

    A length-only column never reaches pandas: DuckDB reads it and counts its
    characters (code points, like Python's len), on every core; the abstracts of
    630,000 papers are a gigabyte of text, half a second this way, twice that with pyarrow.
    """
    replaced = LENGTH_ONLY_COLUMNS.get(table, {})
    if not replaced:
        return read_frame(paths, table)
    paths = [paths] if isinstance(paths, Path) else paths
    schema = PUBLISHED_SCHEMAS[table]
    kept = [name for name in schema.names if name not in replaced]
    frame_schema = pa.schema([schema.field(name) for name in kept] + [pa.field(helper, pa.int64()) for helper in replaced.values()])
    if not paths:
        return frame_schema.empty_table().to_pandas()
    select_list = ", ".join(
        [identifier(name) for name in kept]
        + [f"CAST(length({identifier(column)}) AS BIGINT) AS {identifier(helper)}" for column, helper in replaced.items()]
    )
    with connect() as con:
        # Files and rows in the order given (DuckDB keeps insertion order by default).
        rows = con.sql(f"SELECT {select_list} FROM read_parquet($files)", params={"files": [str(path) for path in paths]})
        return rows.to_arrow_table().cast(frame_schema).to_pandas()


def _text_lengths(text):
    return pc.utf8_length(text).cast(pa.int64())


def prepare_frame(table: str, frame, digests=None):
    """The frame with the helper columns its suite needs (a copy; the input is untouched).

    appearances needs the digests frame for each digest's entry_count. A frame that
    still has a length-only column gets its lengths instead (see read_validation_frame).
    """
    import pandas as pd

    frame = frame.copy()
    # GX compares only int64 and float64 columns with bounds vectorized; any other dtype
    # (int32: position, line, the counts) goes value by value in Python, 0.3 s at
    # 700,000 appearances.
    for column in frame.columns[frame.dtypes == "int32"]:
        frame[column] = frame[column].astype("int64")
    for column, helper in LENGTH_ONLY_COLUMNS.get(table, {}).items():
        if column in frame.columns:
            lengths = _text_lengths(pa.array(frame[column], type=pa.string()))
            frame[helper] = lengths.to_numpy(zero_copy_only=False)  # positional: any index
            frame = frame.drop(columns=[column])
    if table == "digests":
        # digest_id of the row that duplicate_of names; missing when no row has that name.
        by_name = dict(zip(frame["source_name"], frame["digest_id"]))
        frame[DUPLICATE_OF_DIGEST_ID] = [by_name.get(name) if isinstance(name, str) else None for name in frame["duplicate_of"]]
    elif table == "appearances":
        counts = pd.Series(
            {} if digests is None else dict(zip(digests["digest_id"], digests["entry_count"])), dtype="Int64"
        )
        # A digest_id with no digests row gets no bound here: the cross-table check reports it.
        frame[DIGEST_ENTRY_COUNT] = frame["digest_id"].map(counts).astype("Int64")
    elif table == "repo_links":
        two_segments = frame["url"].str.contains(_TWO_PATH_SEGMENTS, regex=True, na=False)
        frame[IS_REPOSITORY_LINK] = (frame["kind"].isin(REPOSITORY_KINDS) & two_segments).astype(bool)
    return frame


def _condition(spec: tuple | None):
    if spec is None:
        return None
    from great_expectations.expectations.row_conditions import Column

    kind, column, *values = spec
    if kind == "is_null":
        return Column(column).is_null()
    if kind == "is_not_null":
        return Column(column).is_not_null()
    if kind == "is_in":
        return Column(column).is_in(values[0])
    if kind == "is_true":
        return Column(column) == True  # noqa: E712 - builds a GX condition, not a comparison
    raise ValueError(f"unknown condition {spec!r}")


def build_suite(table: str):
    """The GX ExpectationSuite of a table."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(name=f"papertrends.{table}")
    for number, rule in enumerate(SUITE_RULES[table]):
        kwargs = dict(rule.kwargs)
        condition = _condition(rule.condition)
        if condition is not None:
            kwargs["row_condition"] = condition
        expectation = getattr(gx.expectations, rule.expectation)(**kwargs, notes=rule.text, meta={"rule": number})
        suite.add_expectation(expectation)
    return suite


def _skip_batch_fingerprints() -> None:
    """Stop GX hashing every frame under 1 GB for a batch id nothing here reads.

    The hash cost 1.5 s a build at 10,000 digests. HASH_THRESHOLD is a GX module
    constant (the version is pinned); a missing one fails here, not silently.
    """
    from great_expectations.execution_engine import pandas_execution_engine

    if not hasattr(pandas_execution_engine, "HASH_THRESHOLD"):
        raise RuntimeError("great_expectations no longer has pandas_execution_engine.HASH_THRESHOLD")
    pandas_execution_engine.HASH_THRESHOLD = 0


def _ephemeral_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    _skip_batch_fingerprints()
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,  # the network is closed and runs must not phone home
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _columns(kwargs: dict) -> list[str]:
    if "column" in kwargs:
        return [kwargs["column"]]
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    return [kwargs[key] for key in ("column_A", "column_B") if key in kwargs]


def _unexpected_rows(table: str, frame, indices) -> list[dict]:
    columns = [name for name in ROW_COLUMNS[table] if name in frame.columns]
    rows = []
    for index in list(indices or [])[:SAMPLE_SIZE]:
        label = index.get("index") if isinstance(index, dict) else index
        if label in frame.index:
            rows.append({name: plain(frame.at[label, name]) for name in columns})
    return rows


def _exception_message(info) -> str | None:
    """GX's exception_info: one {exception_message, ...} or such dicts keyed by metric."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception") or info.get("exception_message"):
        return info.get("exception_message") or "GX raised an exception"
    messages = [item.get("exception_message") for item in info.values() if isinstance(item, dict) and item.get("exception_message")]
    return "; ".join(dict.fromkeys(messages)) or None


def _outcome(table: str, frame, rule: Rule, result) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    values = details.get("partial_unexpected_list") or []
    if not values and details.get("unexpected_list"):
        values = details["unexpected_list"]
    exception = _exception_message(getattr(result, "exception_info", None))
    return ExpectationOutcome(
        expectation=config.type,
        columns=_columns(config.kwargs),
        rule=rule.text,
        success=bool(result.success),
        element_count=plain(details.get("element_count")),
        unexpected_count=plain(details.get("unexpected_count")),
        unexpected_values=[plain(value) for value in values[:SAMPLE_SIZE]],
        unexpected_rows=[] if result.success else _unexpected_rows(
            table, frame, details.get("partial_unexpected_index_list") or details.get("unexpected_index_list")
        ),
        observed_value=plain(details.get("observed_value")),
        error=exception,
    )


# GX keeps a process-wide current project (get_context sets it), so validations in
# threads take turns; reading and preparing their frames, the larger part, need not.
_GX_TURN = threading.Lock()


def validate_frame(table: str, frame, source: str = "") -> TableValidation:
    """Validate a prepared frame (see prepare_frame) against the table's suite. Thread-safe."""
    with _GX_TURN:
        return _validate_frame(table, frame, source)


def _validate_frame(table: str, frame, source: str) -> TableValidation:
    import great_expectations as gx

    context = _ephemeral_context()
    batch = (
        context.data_sources.add_pandas("papertrends")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe(table)
    )
    suite = context.suites.add(build_suite(table))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=table, data=batch, suite=suite))
    result = definition.run(
        batch_parameters={"dataframe": frame},
        # SUMMARY: the first SAMPLE_SIZE unexpected values and row indexes, which is all the
        # outcome keeps; COMPLETE lists every one (a quarter slower at 630,000 papers).
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )
    rules = SUITE_RULES[table]
    outcomes = [_outcome(table, frame, rules[item.expectation_config.meta["rule"]], item) for item in result.results]
    outcomes.sort(key=lambda outcome: [rule.text for rule in rules].index(outcome.rule))
    success = bool(result.success) and all(outcome.success for outcome in outcomes)
    return TableValidation(
        table=table,
        source=source,
        row_count=len(frame),
        success=success,
        outcomes=outcomes,
        validated_at=datetime.now().astimezone().isoformat(timespec="seconds"),
    )


def validate_table_file(table: str, paths: Path | list[Path], digests_paths: Path | list[Path] | None = None) -> TableValidation:
    """Read a table's Parquet files, add their helper columns and validate them as one frame."""
    digests = read_frame(digests_paths, "digests") if table == "appearances" and digests_paths is not None else None
    frame = prepare_frame(table, read_validation_frame(table, paths), digests=digests)
    return validate_frame(table, frame, source=describe_files(paths))
