"""Great Expectations (1.x) suites for the tables, and their validation.

The suites are built from the project's own constants, so a new reject reason or
link kind changes the rule with the code. Validation runs through an ephemeral GX
context on a pandas frame of a whole table; the result is a plain `TableValidation`
that the Dagster checks and the Data Docs read.

Rules that depend on other rows or another table use a helper column computed before
validation (names start with `_`, see `prepare_frame`), or a GX row condition where the
rule applies to a subset of rows. GX is imported inside the functions: importing it
takes seconds, and a build with nothing to validate never pays them.
"""

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.read.dates import DATE_SOURCES
from pipeline.read.identity import ARXIV_ID_PATTERN
from pipeline.read.links import LINK_KINDS, LINK_SOURCES, REPOSITORY_KINDS, names_repository
from pipeline.read.parsed import (
    ABSTRACT_MAX_CHARS,
    DIGEST_STATUSES,
    FORMATS,
    LETTER_OR_DIGIT_PATTERN,
    LISTINGS,
    REJECT_REASONS,
    TITLE_MAX_CHARS,
    WHITESPACE_CLASS,
)
from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES
from pipeline.topics import MAX_TERM_CHARS, MIN_WORD_CHARS
from pipeline.validate.results import SAMPLE_SIZE, CheckResult, RuleResult, describe_files, plain

# Abstract length bounds. The reader accepts any block after a title as its abstract,
# even a short one (`_pair_entries`), so the lower bound is "not empty". arXiv caps
# abstracts at 1,920 characters (the samples span 1,347-1,916); an abstract over
# ABSTRACT_MAX_CHARS means blocks were merged or the capture is not a digest.
ABSTRACT_MIN_CHARS = 1
TITLE_MIN_CHARS = 1

DIGEST_ID_PATTERN = r"^[0-9a-f]{64}\Z"  # \Z: $ would also match before a final newline
# WHITESPACE_CLASS, not \s: pandas runs a regex holding \s or \S through Python's re one
# value at a time, because RE2's \s is ASCII only; spelled out, the same set runs in
# pyarrow (RE2) without that loop.
NOT_BLANK_PATTERN = f"[^{WHITESPACE_CLASS}]"
# A host: not empty, so none of the characters that end one or start what follows it.
HTTPS_HOST_PATTERN = f"^https://[^{WHITESPACE_CLASS}/?#@:]+"
# Statuses of a digest whose text was read, so it has a date.
READ_STATUSES = ("ok", "duplicate")

# Helper columns added by prepare_frame, never part of a published table.
DUPLICATE_OF_DIGEST_ID = "_duplicate_of_digest_id"
DIGEST_ENTRY_COUNT = "_digest_entry_count"
IS_REPOSITORY_LINK = "_is_repository_link"
ABSTRACT_CHARS = "_abstract_chars"

# Columns the suites check only by length, validated as their lengths (the helper
# column) without the text: GX filters the whole frame once per expectation, and the
# abstracts are most of a table's bytes.
LENGTH_ONLY_COLUMNS = {"papers": {"abstract": ABSTRACT_CHARS}}
# Columns shown with the unexpected rows of a failed expectation: enough to find the row.
ROW_COLUMNS = {
    "digests": ["source_name", "digest_id", "status", "duplicate_of"],
    "papers": ["paper_id", "title"],
    "appearances": ["digest_id", "paper_id", "position"],
    "repo_links": ["paper_id", "url", "kind"],
    "rejects": ["source_name", "line", "reason"],
    "repo_stars": ["url", "day", "stars"],
    "paper_terms": ["paper_id", "term"],
}


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite: its GX type, arguments and the rule in words."""

    expectation: str  # GX class name, e.g. "ExpectColumnValuesToBeUnique"
    kwargs: dict
    text: str
    condition: tuple | None = None  # ("is_null", column) | ("is_in", column, values) | ("is_true", column)


# The rules of each table, in the order the Data Docs show them. A module constant, not
# built by a function: mutation testing then mutates the code that applies them.
SUITE_RULES: dict[str, list[Rule]] = {
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
            "duplicate_of, where set, is the source_name of another row with the same digest_id, one that is no copy (its duplicate_of is null)",
            ("is_not_null", "duplicate_of"),
        ),
        Rule("ExpectColumnValuesToBeInSet", {"column": "format", "value_set": list(FORMATS)}, "format is one of " + ", ".join(FORMATS)),
        Rule("ExpectColumnValuesToBeInSet", {"column": "listing", "value_set": list(LISTINGS)}, "listing is one of " + ", ".join(LISTINGS)),
        Rule("ExpectColumnValuesToBeBetween", {"column": "entry_block_count", "min_value": 0}, "entry_block_count is not negative"),
        Rule(
            "ExpectColumnValuesToNotBeNull",
            {"column": "date_source"},
            "date_source is set where the digest was read (status ok or duplicate)",
            ("is_in", "status", list(READ_STATUSES)),
        ),
    ],
    "papers": [
        Rule("ExpectColumnValuesToNotBeNull", {"column": "paper_id"}, "paper_id is set"),
        Rule("ExpectColumnValuesToBeUnique", {"column": "paper_id"}, "paper_id is unique (the key)"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "title"}, "title is set"),
        Rule(
            "ExpectColumnValuesToMatchRegex",
            {"column": "title", "regex": LETTER_OR_DIGIT_PATTERN},
            "title holds a letter or a digit (not blank, not only punctuation or invisible characters)",
        ),
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
            "last_seen_date >= first_seen_date",
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
        Rule("ExpectColumnValuesToBeBetween", {"column": "upvotes", "min_value": 0}, "upvotes, where set, is not negative"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "comments", "min_value": 0}, "comments, where set, is not negative"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "arxiv_id", "regex": ARXIV_ID_PATTERN}, "arxiv_id, where set, is an arXiv id (2303.12345)"),
    ],
    "repo_links": [
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["paper_id", "url"]}, "(paper_id, url) is unique"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "url", "regex": HTTPS_HOST_PATTERN}, "url starts with https:// and a host"),
        Rule("ExpectColumnValuesToBeInSet", {"column": "kind", "value_set": list(LINK_KINDS)}, "kind is one of " + ", ".join(LINK_KINDS)),
        Rule(
            "ExpectColumnValuesToNotBeNull",
            {"column": "owner"},
            "owner is set where the url names a repository (" + "/".join(REPOSITORY_KINDS) + " host/owner/repo...)",
            ("is_true", IS_REPOSITORY_LINK),
        ),
        Rule(
            "ExpectColumnValuesToNotBeNull",
            {"column": "repo"},
            "repo is set where the url names a repository (" + "/".join(REPOSITORY_KINDS) + " host/owner/repo...)",
            ("is_true", IS_REPOSITORY_LINK),
        ),
        Rule("ExpectColumnValuesToBeInSet", {"column": "source", "value_set": list(LINK_SOURCES)}, "source is one of " + ", ".join(LINK_SOURCES)),
    ],
    "rejects": [
        Rule("ExpectColumnValuesToBeInSet", {"column": "reason", "value_set": list(REJECT_REASONS)}, "reason is one of " + ", ".join(REJECT_REASONS)),
        Rule("ExpectColumnValuesToBeBetween", {"column": "line", "min_value": 1}, "line is at least 1"),
    ],
    "repo_stars": [
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["url", "day"]}, "(url, day) is unique (the key)"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "url", "regex": HTTPS_HOST_PATTERN}, "url starts with https:// and a host"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "day"}, "day is set"),
        Rule("ExpectColumnValuesToBeBetween", {"column": "stars", "min_value": 0}, "stars is not negative"),
    ],
    "paper_terms": [
        Rule("ExpectCompoundColumnsToBeUnique", {"column_list": ["paper_id", "term"]}, "(paper_id, term) is unique (the key)"),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "term"}, "term is set"),
        Rule("ExpectColumnValuesToMatchRegex", {"column": "term", "regex": NOT_BLANK_PATTERN}, "term is not blank"),
        Rule(
            "ExpectColumnValueLengthsToBeBetween",
            {"column": "term", "min_value": MIN_WORD_CHARS, "max_value": MAX_TERM_CHARS},
            f"term is {MIN_WORD_CHARS} to {MAX_TERM_CHARS} characters (the term rules' bounds)",
        ),
        Rule("ExpectColumnValuesToNotBeNull", {"column": "in_title"}, "in_title is set"),
    ],
}

if set(SUITE_RULES) != set(TABLES):
    raise RuntimeError("every table needs a suite, and every suite a table")


def read_table(paths: list[Path], table: str, columns: list[str] | None = None) -> pa.Table:
    """A table's Parquet files as one Arrow table, in the order given (no files: no rows)."""
    schema = PUBLISHED_SCHEMAS[table]
    if columns is not None:
        schema = pa.schema([schema.field(name) for name in columns])
    if not paths:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(path, columns=columns) for path in paths])


def _text_lengths(text):
    """Characters per value (code points, as Python's len counts them)."""
    return pc.utf8_length(text).cast(pa.int64())


def read_frame(paths: list[Path], table: str):
    """A table's files as the pandas frame its suite validates: length-only columns as their lengths.

    The abstracts are most of the papers' bytes and the suite checks them only by
    length: they never reach pandas.
    """
    arrow = read_table(paths, table)
    for column, helper in LENGTH_ONLY_COLUMNS.get(table, {}).items():
        lengths = _text_lengths(arrow[column])
        arrow = arrow.drop_columns([column]).append_column(helper, lengths)
    return arrow.to_pandas()


def prepare_frame(table: str, frame, digests):
    """The frame (from read_frame) with the helper columns its suite needs (a copy; the input is untouched).

    appearances needs the digests frame for each digest's entry_count; other tables ignore it.
    """
    frame = frame.copy()
    # GX compares only int64 and float64 columns with bounds vectorized; any other dtype
    # (int32: position, line, the counts) goes value by value in Python.
    for column in frame.columns[frame.dtypes == "int32"]:
        frame[column] = frame[column].astype("int64")
    if table == "digests":
        # digest_id of the row that duplicate_of names, when that row is no copy itself;
        # missing otherwise (no such row, a copy of a copy, a row naming itself).
        originals = frame[frame["duplicate_of"].isna()]
        by_name = originals.set_index("source_name")["digest_id"].to_dict()
        frame[DUPLICATE_OF_DIGEST_ID] = [by_name.get(name) for name in frame["duplicate_of"]]
    elif table == "appearances":
        # Only the copy that counts (duplicate_of null) gives a digest's entries; a copy
        # of the same content may hold another entry_count (an undated copy: 0).
        counts = digests[digests["duplicate_of"].isna()].set_index("digest_id")["entry_count"].to_dict()
        # A digest_id with no digests row gets no bound here: the cross-table check reports it.
        # Int64 keeps the counts whole numbers beside that gap (a failed rule shows them).
        frame[DIGEST_ENTRY_COUNT] = frame["digest_id"].map(counts).astype("Int64")
    elif table == "repo_links":
        # The reader's own definition (one for both): a repository link has owner and repo.
        frame[IS_REPOSITORY_LINK] = [isinstance(url, str) and names_repository(url) for url in frame["url"]]
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
        # The rule's number, to find its result; its words are in SUITE_RULES, not in GX.
        expectation = getattr(gx.expectations, rule.expectation)(**kwargs, meta={"rule": number})
        suite.add_expectation(expectation)
    return suite


def _ephemeral_context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

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
    """The identifying columns of the rows GX names by their labels in the frame it validated."""
    columns = [name for name in ROW_COLUMNS[table] if name in frame.columns]
    return [{name: plain(frame.at[label, name]) for name in columns} for label in indices or []]


def _exception_message(info) -> str | None:
    """GX's exception_info: one {raised_exception, exception_message, ...} or such dicts keyed by metric.

    GX's flat form (ExceptionInfo) sets raised_exception whenever it holds an error.
    """
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return info.get("exception_message") or "GX raised an exception"
    messages = [str(item["exception_message"]) for item in info.values() if isinstance(item, dict) and item.get("exception_message")]
    return "; ".join(dict.fromkeys(messages)) or None


def _rule_result(table: str, frame, rule: Rule, result) -> RuleResult:
    config = result.expectation_config
    details = result.result or {}
    # SUMMARY results (validate_frame) hold the partial lists only.
    values = details.get("partial_unexpected_list") or []
    indices = details.get("partial_unexpected_index_list")
    return RuleResult(
        rule=rule.text,
        check=config.type,
        success=bool(result.success),
        columns=_columns(config.kwargs),
        evaluated=plain(details.get("element_count")),
        unexpected_count=plain(details.get("unexpected_count")),
        unexpected_values=[plain(value) for value in values],
        rows=_unexpected_rows(table, frame, indices),  # none for a rule that holds (no rule has `mostly`)
        error=_exception_message(result.exception_info),
    )


def suite_check_name(table: str) -> str:
    return f"{table}_expectations"


def validate_frame(table: str, frame, source: str) -> CheckResult:
    """Validate a prepared frame (see prepare_frame) against the table's suite."""
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
        # SUMMARY: the first SAMPLE_SIZE unexpected values and row indexes, all a result keeps.
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_SIZE},
    )
    rules = SUITE_RULES[table]
    by_number = {item.expectation_config.meta["rule"]: item for item in result.results}
    return CheckResult(
        name=suite_check_name(table),
        title=f"Expectation suite for {table}",
        source=source,
        row_count=len(frame),
        rules=[_rule_result(table, frame, rule, by_number[number]) for number, rule in enumerate(rules)],
    )


def validate_table_files(table: str, paths: list[Path], digests_paths: list[Path]) -> CheckResult:
    """Read a whole table's files, add their helper columns and validate them as one frame.

    appearances needs the digests table's files for each digest's entry_count.
    """
    digests = read_table(digests_paths, "digests").to_pandas() if table == "appearances" else None
    frame = prepare_frame(table, read_frame(paths, table), digests=digests)
    return validate_frame(table, frame, source=describe_files(paths))
