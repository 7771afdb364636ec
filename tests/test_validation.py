"""Validation: GX suites, cross-table checks, blocking asset checks and the Data Docs site."""

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
import sys

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import assets.build
import assets.checks
import assets.ingest
import assets.tables
from assets.build import materialize_warehouse
from assets.checks import CROSS_TABLE_CHECK
from pipeline import expectations, validation_pool
from pipeline.atomic import write_parquet
from pipeline.config import Settings
from pipeline.consolidate import consolidate
from pipeline.cross_checks import CROSS_CHECKS, run_cross_checks
from pipeline.publish import approval_file
from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES
from pipeline.staging import list_digest_files
from pipeline.table_parts import read_plan, written_files
from tests.browser import browser  # noqa: F401
from tests.helpers import REPO, SAMPLES, read_table

TABLE_CHECKS = {f"{table}_expectations" for table in TABLES}
SCRIPT_TITLE = "<script>alert(1)</script> Attention Is All You Need"


def _rows(paths):
    paths = paths if isinstance(paths, list) else [paths]
    return [row for path in paths for row in pq.read_table(path).to_pylist()]


def _full_consolidation(layout, source_names, **kwargs):
    """consolidate as on a first build: without the published manifest, every part is written."""
    layout.published_manifest_path.unlink(missing_ok=True)
    counts = consolidate(layout, source_names, **kwargs)
    return counts, {table: _only(files) for table, files in written_files(layout, read_plan(layout)).items()}


def _only(files):
    assert len(files) == 1, files  # the samples are one month: one part per table
    return files[0]


def _write(path, table, rows):
    write_parquet(pa.Table.from_pylist(rows, schema=PUBLISHED_SCHEMAS[table]), path)


def _sha256(paths):
    digest = hashlib.sha256()
    for path in paths if isinstance(paths, list) else [paths]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _published_state(layout):
    return {table: _sha256(layout.table_files(table)) for table in TABLES} | {"trends.duckdb": _sha256(layout.duckdb_path)}


# Each break edits one candidate table as a faulty consolidation would, and returns the
# value that must show up in the failing check's metadata.
def _duplicate_paper_id(rows):
    rows[1]["paper_id"] = rows[0]["paper_id"]
    return rows[0]["paper_id"]


def _bad_duplicate_of(rows):
    rows[1]["duplicate_of"], rows[1]["status"] = rows[0]["source_name"], "duplicate"
    return rows[1]["source_name"]  # the row, whose digest_id differs from the one it names


def _duplicate_position(rows):
    assert rows[0]["digest_id"] == rows[1]["digest_id"]
    rows[1]["position"] = rows[0]["position"]
    return rows[0]["position"]


def _http_url(rows):
    rows[0]["url"] = rows[0]["url"].replace("https://", "http://", 1)
    return rows[0]["url"]


def _bad_reason(rows):
    # The samples have no rejects: add one as a broken reader would.
    rows.append({"digest_id": "0" * 64, "source_name": "x.txt", "line": 3, "reason": "looks_odd", "raw_text": "t", "detail": "d"})
    return "looks_odd"


def _orphan_paper_id(rows):
    rows[0]["paper_id"] = "ffffffffffffffff"
    return "ffffffffffffffff"


def _wrong_entry_count(rows):
    rows[0]["entry_count"] += 1
    return rows[0]["entry_count"]


def _script_title(rows):
    rows[0]["title"], rows[0]["abstract"] = SCRIPT_TITLE, ""
    return SCRIPT_TITLE


# case -> (table broken, how, the checks that must fail, the failing rule: GX type or cross-check name)
BREAKS = {
    "papers_duplicate_key": ("papers", _duplicate_paper_id, {"papers_expectations", CROSS_TABLE_CHECK}, "expect_column_values_to_be_unique"),
    "digests_bad_duplicate_of": ("digests", _bad_duplicate_of, {"digests_expectations"}, "expect_column_pair_values_to_be_equal"),
    "appearances_duplicate_position": ("appearances", _duplicate_position, {"appearances_expectations"}, "expect_compound_columns_to_be_unique"),
    "repo_links_http_url": ("repo_links", _http_url, {"repo_links_expectations"}, "expect_column_values_to_match_regex"),
    "rejects_bad_reason": ("rejects", _bad_reason, {"rejects_expectations", CROSS_TABLE_CHECK}, "expect_column_values_to_be_in_set"),
    "appearances_orphan_paper_id": ("appearances", _orphan_paper_id, {CROSS_TABLE_CHECK}, "appearances_paper_in_papers"),
    "digests_wrong_entry_count": ("digests", _wrong_entry_count, {CROSS_TABLE_CHECK}, "appearance_count_is_entry_count"),
}


def _shown(failure: dict) -> list:
    """Every value a failure shows: its unexpected values and the values of its rows."""
    return failure["unexpected_values"] + [value for row in failure["unexpected_rows"] for value in row.values()]


# --- pipeline/: the suites and cross-checks on frames and files, no Dagster -------------


@pytest.mark.parametrize("table", TABLES)
def test_every_suite_passes_on_the_samples(sample_settings, table):
    layout = sample_settings.layout
    result = expectations.validate_table_file(table, layout.table_files(table), layout.table_files("digests"))
    assert result.success, [outcome for outcome in result.failures]
    assert result.row_count == read_table(layout, table).num_rows
    assert len(result.outcomes) == len(expectations.SUITE_RULES[table])


def test_conditional_rules_apply_to_their_rows_only(sample_settings):
    layout = sample_settings.layout
    digests = expectations.read_frame(layout.table_files("digests"))
    # A duplicate copy: same digest_id as the row it names, so both rules hold.
    copy = digests.iloc[[0]].copy()
    copy["source_name"], copy["duplicate_of"], copy["status"] = "zzz-copy.txt", digests.loc[0, "source_name"], "duplicate"
    # An empty file: no date, which is allowed when the digest was not read.
    empty = digests.iloc[[1]].copy()
    empty["source_name"], empty["digest_date"], empty["status"], empty["digest_id"] = "zzz-empty.txt", None, "empty", "e" * 64
    import pandas as pd

    frame = pd.concat([digests, copy, empty], ignore_index=True)
    assert expectations.validate_frame("digests", expectations.prepare_frame("digests", frame)).success
    frame.loc[len(digests), "duplicate_of"] = None  # now two rows with no duplicate_of share a digest_id
    frame.loc[len(digests) + 1, "status"] = "ok"  # a read digest without a date
    failures = expectations.validate_frame("digests", expectations.prepare_frame("digests", frame)).failures
    assert {(failure.expectation, tuple(failure.columns)) for failure in failures} == {
        ("expect_column_values_to_be_unique", ("digest_id",)),
        ("expect_column_values_to_not_be_null", ("digest_date",)),
    }
    unique = next(failure for failure in failures if failure.expectation == "expect_column_values_to_be_unique")
    assert unique.unexpected_values[0] == digests.loc[0, "digest_id"]
    assert {row["source_name"] for row in unique.unexpected_rows} == {digests.loc[0, "source_name"], "zzz-copy.txt"}


def test_papers_and_links_rules_report_their_values(sample_settings):
    layout = sample_settings.layout
    papers = expectations.read_frame(layout.table_files("papers"))
    papers.loc[0, "arxiv_id"] = "2303.1"
    papers.loc[1, "abstract"] = "x" * (expectations.ABSTRACT_MAX_CHARS + 1)
    papers.loc[2, "first_seen_date"] = papers.loc[2, "last_seen_date"] + dt.timedelta(days=1)
    papers.loc[3, "title"] = " \t "
    prepared = expectations.prepare_frame("papers", papers)
    assert "abstract" not in prepared.columns  # validated as its lengths
    failures = {failure.columns[0]: failure for failure in expectations.validate_frame("papers", prepared).failures}
    assert set(failures) == {"arxiv_id", expectations.ABSTRACT_CHARS, "last_seen_date", "title"}
    assert failures["arxiv_id"].unexpected_values == ["2303.1"]
    assert (failures["title"].rule, failures["title"].unexpected_values) == ("title is not blank", [" \t "])
    abstract = failures[expectations.ABSTRACT_CHARS]
    assert (abstract.rule, abstract.unexpected_values) == ("abstract is 1 to 5,000 characters", [expectations.ABSTRACT_MAX_CHARS + 1])
    assert abstract.unexpected_rows == [{"paper_id": papers.loc[1, "paper_id"], "title": papers.loc[1, "title"]}]

    links = expectations.read_frame(layout.table_files("repo_links"))
    github = links.index[links["kind"] == "github"][0]
    pages = links.index[links["kind"] == "github_pages"][0]
    links.loc[github, "repo"] = None  # a github.com/owner/repo link must name its repo
    links.loc[pages, "repo"] = None  # github.io links have no repo: allowed (it is null already)
    links.loc[pages, "kind"] = "gitlub"
    failures = expectations.validate_frame("repo_links", expectations.prepare_frame("repo_links", links)).failures
    assert {(failure.columns[0], tuple(failure.unexpected_values)) for failure in failures} == {("repo", (None,)), ("kind", ("gitlub",))}


def test_papers_are_validated_with_abstract_lengths_not_text(sample_settings):
    files = sample_settings.layout.table_files("papers")
    papers = expectations.read_frame(files)
    frame = expectations.read_validation_frame("papers", files)
    assert "abstract" not in frame.columns
    assert frame[expectations.ABSTRACT_CHARS].tolist() == [len(text) for text in papers["abstract"]]
    assert frame.drop(columns=[expectations.ABSTRACT_CHARS]).equals(papers.drop(columns=["abstract"]))
    # Read from the files or prepared from a frame with the text: the same frame.
    assert expectations.prepare_frame("papers", papers).equals(expectations.prepare_frame("papers", frame))
    empty = expectations.read_validation_frame("papers", [])
    assert (len(empty), expectations.ABSTRACT_CHARS in empty.columns, "abstract" in empty.columns) == (0, True, False)


def test_a_table_of_many_parts_is_read_in_order(sample_settings, tmp_path):
    papers = pq.read_table(sample_settings.layout.table_files("papers"))
    thirds = [papers.slice(start, 100) for start in (0, 100, 200)]
    files = []
    for number, part in enumerate(thirds):
        files.append(tmp_path / f"part-{number}.parquet")
        pq.write_table(part, files[-1])
    files = [files[2], files[0], files[1]]  # the order given, not the names' order
    frame = expectations.read_validation_frame("papers", files)
    expected = pa.concat_tables([thirds[2], thirds[0], thirds[1]])
    assert frame["paper_id"].tolist() == expected["paper_id"].to_pylist()
    assert frame[expectations.ABSTRACT_CHARS].tolist() == [len(text) for text in expected["abstract"].to_pylist()]


def test_the_spelled_out_whitespace_is_pythons_and_pyarrow_reads_it_so():
    characters = [chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    python_blank = [character.isspace() for character in characters]
    assert [not re.search(expectations.NOT_BLANK_PATTERN, character) for character in characters] == python_blank
    # pandas hands these patterns to pyarrow (RE2), where it sent \S to Python's re one value
    # at a time (pandas is pinned; _needs_python_regex is its own test for that)...
    strings = pd.Series(["a"], dtype="str").array
    assert strings._needs_python_regex(r"\S") and not strings._needs_python_regex(expectations.NOT_BLANK_PATTERN)
    assert not strings._needs_python_regex(expectations.HTTPS_HOST_PATTERN)
    # ...and RE2 must agree with Python's re.
    matched = pc.match_substring_regex(pa.array(characters), expectations.NOT_BLANK_PATTERN).to_pylist()
    assert [not match for match in matched] == python_blank
    urls = ["https://github.com/a/b", "https://\u3000github.com", "https://\x0bx", "https:///a", "http://x.org"]
    assert pc.match_substring_regex(pa.array(urls), expectations.HTTPS_HOST_PATTERN).to_pylist() == [True, False, False, False, False]


def test_a_title_of_unicode_spaces_is_blank_and_a_url_must_name_a_host(sample_settings):
    layout = sample_settings.layout
    papers = expectations.read_frame(layout.table_files("papers"))
    papers.loc[5, "title"] = "\u3000\u2029\x1c"  # whitespace to Python, not to RE2's \s
    failures = expectations.validate_frame("papers", expectations.prepare_frame("papers", papers)).failures
    assert [(failure.rule, failure.unexpected_values) for failure in failures] == [("title is not blank", ["\u3000\u2029\x1c"])]
    links = expectations.read_frame(layout.table_files("repo_links"))
    links.loc[0, "url"] = "https://\u00a0github.com/a/b"
    failures = expectations.validate_frame("repo_links", expectations.prepare_frame("repo_links", links)).failures
    assert [(failure.rule, failure.unexpected_values) for failure in failures] == [
        ("url starts with https:// and a host", ["https://\u00a0github.com/a/b"])
    ]


def test_appearances_keys_read_as_categories_still_find_duplicates_across_parts(sample_settings, tmp_path):
    appearances = pq.read_table(sample_settings.layout.table_files("appearances"))
    first, second = appearances.slice(0, 200), appearances.slice(200)
    # The second part repeats the first row's (digest_id, paper_id) at another position.
    repeated = first.slice(0, 1).set_column(3, first.schema.field("position"), pa.array([999], pa.int32()))
    files = [tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"]
    pq.write_table(first, files[0])
    pq.write_table(pa.concat_tables([second, repeated]), files[1])
    frame = expectations.read_validation_frame("appearances", files)
    assert str(frame["digest_id"].dtype) == "category"
    assert frame["digest_id"].astype(str).tolist() == appearances["digest_id"].to_pylist() + [first["digest_id"][0].as_py()]
    result = expectations.validate_table_file("appearances", files, sample_settings.layout.table_files("digests"))
    failures = [(failure.rule, failure.unexpected_rows) for failure in result.failures]
    duplicate = {"digest_id": first["digest_id"][0].as_py(), "paper_id": first["paper_id"][0].as_py()}
    assert [rule for rule, _ in failures] == ["(digest_id, paper_id) is unique: a paper once per digest", "position is at most the digest's entry_count"]
    assert all(row["digest_id"] == duplicate["digest_id"] and row["paper_id"] == duplicate["paper_id"] for row in failures[0][1])
    assert len(failures[0][1]) == 2


def test_validation_does_not_fingerprint_the_frame(sample_settings, monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    hashed = []
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", lambda frame: hashed.append(len(frame)) or "0")
    result = expectations.validate_table_file("papers", sample_settings.layout.table_files("papers"))
    assert (result.success, result.row_count, hashed) == (True, 298, [])


def test_a_missing_column_fails_its_rule_with_the_error(sample_settings):
    papers = expectations.read_frame(sample_settings.layout.table_files("papers")).drop(columns=["arxiv_id"])
    failures = expectations.validate_frame("papers", expectations.prepare_frame("papers", papers)).failures
    assert [(failure.columns, failure.success) for failure in failures] == [(["arxiv_id"], False)]
    assert 'column "arxiv_id"' in failures[0].error and "does not exist" in failures[0].error


def test_position_is_bounded_by_the_digest_entry_count(sample_settings):
    layout = sample_settings.layout
    digests = expectations.read_frame(layout.table_files("digests"))
    appearances = expectations.read_frame(layout.table_files("appearances"))
    last = appearances["position"].idxmax()
    entry_count = int(digests.set_index("digest_id").loc[appearances.loc[last, "digest_id"], "entry_count"])
    assert appearances.loc[last, "position"] == entry_count  # the bound is tight on the samples
    appearances.loc[last, "position"] = entry_count + 1
    failures = expectations.validate_frame("appearances", expectations.prepare_frame("appearances", appearances, digests)).failures
    assert [(failure.expectation, failure.unexpected_values) for failure in failures] == [
        ("expect_column_pair_values_a_to_be_greater_than_b", [[entry_count, entry_count + 1]])
    ]


def test_cross_checks_pass_on_the_samples_and_report_orphans(sample_settings, tmp_path):
    layout = sample_settings.layout
    files = {table: layout.table_files(table) for table in TABLES}
    assert all(outcome.success for outcome in run_cross_checks(files))

    links = _rows(files["repo_links"])
    for row in links[:7]:
        row["paper_id"] = "0000000000000000"
    files["repo_links"] = tmp_path / "repo_links.parquet"
    _write(files["repo_links"], "repo_links", links)
    failed = {outcome.name: outcome for outcome in run_cross_checks(files) if not outcome.success}
    assert set(failed) == {"repo_links_paper_in_papers"}
    assert failed["repo_links_paper_in_papers"].offending_count == 7
    assert len(failed["repo_links_paper_in_papers"].offending_rows) == expectations.SAMPLE_SIZE
    assert {row["paper_id"] for row in failed["repo_links_paper_in_papers"].offending_rows} == {"0000000000000000"}


# --- Dagster: blocking checks in write-audit-publish -------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The samples built through Dagster once; the break tests rebuild it, each with one fault."""
    settings = Settings(tmp_path_factory.mktemp("validated"), SAMPLES, None)
    with dg.instance_for_test() as instance:
        run = materialize_warehouse(settings, instance, list_digest_files(SAMPLES))
        yield settings, instance, run


def _evaluations(result):
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def _materialized(result):
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def test_every_check_passes_on_the_samples(warehouse):
    settings, _, run = warehouse
    assert run.result.success
    evaluations = _evaluations(run.result)
    assert set(evaluations) == TABLE_CHECKS | {CROSS_TABLE_CHECK}
    assert all(evaluation.passed for evaluation in evaluations.values())
    assert "trends_duckdb" in _materialized(run.result)
    index = settings.layout.validation_dir / "index.html"
    for evaluation in evaluations.values():
        assert evaluation.metadata["data_docs"].value == str(index)
        assert evaluation.metadata["rules_failed"].value == 0
    assert evaluations["papers_expectations"].metadata["rows"].value == 298
    assert index.exists() and "FAILED" not in index.read_text()


def test_a_large_parse_starts_the_worker_that_the_checks_then_use(tmp_path, monkeypatch):
    taken = []
    take = validation_pool.take
    monkeypatch.setattr(validation_pool, "take", lambda: taken.append(take()) or taken[-1])
    monkeypatch.setattr(assets.ingest, "PARALLEL_MIN_DIGESTS", len(list_digest_files(SAMPLES)))  # the samples count as large
    monkeypatch.setattr(validation_pool, "worth_starting", lambda: True)  # GX is imported here already
    settings = Settings(tmp_path / "warehouse", SAMPLES, None)
    with dg.instance_for_test() as instance:
        run = materialize_warehouse(settings, instance, list_digest_files(SAMPLES))
        logged = [entry.user_message for entry in instance.all_logs(run.result.run_id)]
    assert run.result.success and taken[0] is not None and validation_pool.take() is None
    assert any("worker that imported Great Expectations" in message for message in logged)
    evaluations = _evaluations(run.result)
    assert set(evaluations) == TABLE_CHECKS | {CROSS_TABLE_CHECK} and all(evaluation.passed for evaluation in evaluations.values())
    assert evaluations["appearances_expectations"].metadata["rows"].value == 358


def _materialize(warehouse, selection):
    """Materialize `selection` of the project's assets and checks on the warehouse fixture, as the CLI does."""
    settings, instance, _ = warehouse
    return assets.build._materialize(settings, instance, selection, tags=None, quiet=False)


def test_one_check_runs_alone(warehouse):
    """The six checks share a step, but the UI can still run one of them."""
    result = _materialize(warehouse, dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey("repo_links"), "repo_links_expectations")))
    assert result.success
    evaluations = _evaluations(result)
    assert set(evaluations) == {"repo_links_expectations"}
    assert evaluations["repo_links_expectations"].passed and evaluations["repo_links_expectations"].metadata["rows"].value == 86


def test_a_check_that_cannot_run_fails_after_the_others_report(warehouse, monkeypatch):
    settings = warehouse[0]
    _full_consolidation(settings.layout, list_digest_files(SAMPLES))  # candidates to approve
    assert _materialize(warehouse, dg.AssetSelection.all_asset_checks()).success
    approval = approval_file(settings.layout, CROSS_TABLE_CHECK)
    assert approval.exists()

    def unreadable(layout):
        raise OSError("the parts cannot be read")

    monkeypatch.setattr(assets.checks, "_cross_check", unreadable)
    result = _materialize(warehouse, dg.AssetSelection.all_asset_checks())
    assert not result.success
    evaluations = _evaluations(result)
    assert {name for name, evaluation in evaluations.items() if evaluation.passed} == TABLE_CHECKS
    assert "the parts cannot be read" in evaluations[CROSS_TABLE_CHECK].metadata["error"].value
    assert not approval.exists()  # an earlier pass no longer counts
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert "the parts cannot be read" in str(failure.event_specific_data.error)
    monkeypatch.undo()  # readable again: the checks pass and the candidates are published
    assert _materialize(warehouse, dg.AssetSelection.assets("trends_duckdb") | dg.AssetSelection.all_asset_checks()).success
    assert read_plan(settings.layout) is None


def test_a_damaged_plan_fails_each_check_with_its_error_not_the_step_alone(warehouse):
    settings = warehouse[0]
    _full_consolidation(settings.layout, list_digest_files(SAMPLES))
    plan = json.loads(settings.layout.plan_path.read_text())
    settings.layout.plan_path.write_text(json.dumps({table: {"parts": "?"} for table in plan}))  # the right tables, wrong fields
    result = _materialize(warehouse, dg.AssetSelection.all_asset_checks())
    assert not result.success
    evaluations = _evaluations(result)
    assert set(evaluations) == TABLE_CHECKS | {CROSS_TABLE_CHECK}
    assert not any(evaluation.passed for evaluation in evaluations.values())
    assert all("could not run: ValueError(\"not a table part" in evaluation.metadata["error"].value for evaluation in evaluations.values())
    _full_consolidation(settings.layout, list_digest_files(SAMPLES))  # a good plan again: the checks pass, and publish
    assert _materialize(warehouse, dg.AssetSelection.assets("trends_duckdb") | dg.AssetSelection.all_asset_checks()).success
    assert read_plan(settings.layout) is None


@pytest.fixture(scope="module", params=["validated here", "validated in a worker started ahead"])
def broken_run(request, warehouse, tmp_path_factory):
    """One materialize_warehouse run whose consolidation writes every table broken (all BREAKS at once).

    The tables' suites run in this process, or in the worker a large parse starts
    ahead (pipeline.validation_pool), which reads the broken files itself.
    """
    settings, instance, _ = warehouse
    layout = settings.layout
    before = _published_state(layout)
    broken_values = {}

    def faulty_consolidate(layout_, source_names, **kwargs):
        counts, candidates = _full_consolidation(layout_, source_names, **kwargs)
        for table in TABLES:
            rows = _rows(candidates[table])
            for case, (broken_table, breaker, _, _) in BREAKS.items():
                if broken_table == table:
                    broken_values[case] = breaker(rows)
            _write(candidates[table], table, rows)
        return counts

    taken = []
    take = validation_pool.take
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assets.tables, "consolidate", faulty_consolidate)
        patch.setattr(validation_pool, "take", lambda: taken.append(take()) or taken[-1])
        if request.param == "validated in a worker started ahead":
            patch.setattr(validation_pool, "worth_starting", lambda: True)  # GX is imported here already
            validation_pool.start_ahead()
        run = materialize_warehouse(settings, instance, list_digest_files(SAMPLES))
    assert len(taken) == 1 and (taken[0] is not None) == (request.param != "validated here")
    return run, before, _published_state(layout), broken_values


@pytest.mark.parametrize("case", BREAKS)
def test_a_broken_table_fails_the_right_check_with_the_value_in_its_metadata(broken_run, case):
    run, _, _, broken_values = broken_run
    _, _, failing_checks, failing_rule = BREAKS[case]
    evaluations = _evaluations(run.result)
    check = next(iter(failing_checks - {CROSS_TABLE_CHECK}), CROSS_TABLE_CHECK)
    assert not evaluations[check].passed
    failure = next(item for item in evaluations[check].metadata["failures"].value if item["check"] == failing_rule)
    assert broken_values[case] in _shown(failure)


def test_a_failed_check_blocks_publishing_and_trends_duckdb(broken_run, warehouse):
    run, before, after, _ = broken_run
    layout = warehouse[0].layout
    assert not run.result.success
    evaluations = _evaluations(run.result)
    assert set(evaluations) == TABLE_CHECKS | {CROSS_TABLE_CHECK}  # every check ran and reported
    assert not any(evaluation.passed for evaluation in evaluations.values())
    assert run.failed_steps == ["table_checks"]
    assert run.failed_checks == sorted(TABLE_CHECKS | {CROSS_TABLE_CHECK})  # what `papertrends build` names
    assert "trends_duckdb" not in _materialized(run.result)
    assert after == before  # the previous Parquet tables and trends.duckdb stay in place
    plan = read_plan(layout)  # nothing was published: every candidate part still waits
    assert all(path.exists() for paths in written_files(layout, plan).values() for path in paths)
    index = (layout.validation_dir / "index.html").read_text()
    assert index.count("FAILED") == len(evaluations)


@pytest.mark.parametrize("case", BREAKS)
def test_each_break_fails_only_its_own_checks(sample_settings, tmp_path, case):
    """The same breaks, one at a time, through the functions the checks call (no Dagster run)."""
    table, breaker, failing_checks, failing_rule = BREAKS[case]
    layout = sample_settings.layout
    files = {name: layout.table_files(name) for name in TABLES}
    rows = _rows(files[table])
    value = breaker(rows)
    files[table] = tmp_path / f"{table}.parquet"
    _write(files[table], table, rows)
    failed = {}
    # Only a changed file can change a suite's result (appearances reads digests too);
    # the unchanged tables pass, as test_every_suite_passes_on_the_samples shows.
    for name in {table} | ({"appearances"} if table == "digests" else set()):
        result = expectations.validate_table_file(name, files[name], files["digests"])
        if not result.success:
            failed[f"{name}_expectations"] = [outcome.to_dict() for outcome in result.failures]
    crossed = [outcome for outcome in run_cross_checks(files) if not outcome.success]
    if crossed:
        failed[CROSS_TABLE_CHECK] = [
            {"check": outcome.name, "unexpected_values": [], "unexpected_rows": outcome.offending_rows} for outcome in crossed
        ]
    assert set(failed) == failing_checks
    check = next(iter(failing_checks - {CROSS_TABLE_CHECK}), CROSS_TABLE_CHECK)
    failure = next(item for item in failed[check] if item.get("check", item.get("expectation")) == failing_rule)
    assert value in _shown(failure)


@pytest.fixture(scope="module")
def script_title_docs(warehouse, tmp_path_factory):
    """dg.materialize of the checks and trends_duckdb on a hand-broken candidate: a title with markup.

    Returns a copy of the Data Docs site as that run left it.
    """
    settings, _, _ = warehouse
    layout = settings.layout
    _, candidates = _full_consolidation(layout, list_digest_files(SAMPLES))
    rows = _rows(candidates["papers"])
    _script_title(rows)
    _write(candidates["papers"], "papers", rows)
    before = _published_state(layout)
    result = _materialize(warehouse, dg.AssetSelection.assets("trends_duckdb") | dg.AssetSelection.all_asset_checks())
    site = tmp_path_factory.mktemp("docs") / "validation"
    shutil.copytree(layout.validation_dir, site)
    return result, before, _published_state(layout), site, rows[0]["paper_id"]


def test_dg_materialize_blocks_trends_duckdb_on_a_failed_check(script_title_docs):
    result, before, after, _, paper_id = script_title_docs
    assert not result.success
    evaluations = _evaluations(result)
    assert {name for name, evaluation in evaluations.items() if not evaluation.passed} == {"papers_expectations"}
    failure = evaluations["papers_expectations"].metadata["failures"].value[0]
    assert (failure["check"], failure["columns"], failure["unexpected_values"]) == ("expect_column_values_to_be_between", [expectations.ABSTRACT_CHARS], [0])
    assert failure["unexpected_rows"] == [{"paper_id": paper_id, "title": SCRIPT_TITLE}]
    assert "&lt;script&gt;" in evaluations["papers_expectations"].metadata["failed_expectations"].value
    assert "trends_duckdb" not in _materialized(result)
    assert after == before


def test_trends_duckdb_alone_later_still_refuses_the_failed_candidates(warehouse, script_title_docs):
    """A later run of trends_duckdb without the checks must not publish what failed them."""
    settings, _, _ = warehouse
    _, _, after_failed_run, _, _ = script_title_docs
    result = _materialize(warehouse, dg.AssetSelection.assets("trends_duckdb"))
    assert not result.success and "trends_duckdb" not in _materialized(result)
    failure = next(event for event in result.all_events if event.event_type_value == "STEP_FAILURE")
    assert "refusing to publish: papers_expectations has not passed" in str(failure.event_specific_data.error)
    assert _published_state(settings.layout) == after_failed_run


def test_data_docs_escape_titles(script_title_docs):
    *_, site, _ = script_title_docs
    page = (site / "papers.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; Attention" in page
    results = json.loads((site / "results" / "papers.json").read_text())
    assert results["success"] is False and results["name"] == "papers"


@pytest.mark.browser
def test_data_docs_open_in_a_browser_and_run_no_script(script_title_docs, browser, tmp_path):  # noqa: F811
    *_, site, _ = script_title_docs
    page = browser.new_page()
    dialogs, console = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: console.append(message.text))
    page.goto((site / "index.html").as_uri())
    assert page.title() == "papertrends validation"
    output = REPO / "test-output"
    output.mkdir(exist_ok=True)
    page.screenshot(path=str(tmp_path / "data-docs-index.png"), full_page=True)
    shutil.copyfile(tmp_path / "data-docs-index.png", output / "data-docs-index.png")
    row = page.locator("tr", has=page.locator("a", has_text="papers"))
    assert row.locator(".failed").inner_text() == "FAILED"
    row.locator("a", has_text="papers").click()
    page.wait_for_load_state()
    assert page.url.endswith("/papers.html")
    cell = page.get_by_text(SCRIPT_TITLE, exact=True)
    assert cell.is_visible()
    assert page.get_by_text("abstract is 1 to 5,000 characters").is_visible()
    page.screenshot(path=str(tmp_path / "data-docs-papers.png"), full_page=True)
    shutil.copyfile(tmp_path / "data-docs-papers.png", output / "data-docs-papers.png")
    assert dialogs == [] and not any("alert" in text for text in console)
    page.close()


def test_readme_lists_every_rule():
    readme = " ".join((REPO / "README.md").read_text().split())
    for table, rules in expectations.SUITE_RULES.items():
        for rule in rules:
            assert f"- {rule.text}" in readme, (table, rule.text)
    for rule, _ in CROSS_CHECKS.values():
        assert rule in readme
