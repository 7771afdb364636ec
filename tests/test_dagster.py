"""The Dagster layer: every asset and check in one run, the metadata each shows, and
`papertrends build` (which materializes them on the warehouse's own instance)."""

import contextlib
import fcntl
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from assets.cli.build import build
from assets.definitions import ASSETS, CHECKS, build_definitions, defs
from assets.resources import WarehouseResource
from pipeline.build import check_settings, is_current
from pipeline.config import ConfigError, Settings
from pipeline.schemas import TABLES
from tests.helpers import REPO, SAMPLE_PAPER_TERMS, SAMPLES, abstract, one_step_failure, read_table, render, start_lock_holder

pytestmark = pytest.mark.dagster

PAPERTRENDS = Path(sys.executable).with_name("papertrends")  # the installed command of this venv

# --- facts written out by hand (DESIGN.md and the sample files themselves) ---------------------

ASSET_KEYS = {
    "staged_digests", "digests", "papers", "appearances", "repo_links", "repo_stars", "rejects", "paper_terms",
    "trends_duckdb", "term_trends", "trend_report",
}  # fmt: skip
CHECK_TARGETS = {
    "digests_expectations": "digests",
    "papers_expectations": "papers",
    "appearances_expectations": "appearances",
    "repo_links_expectations": "repo_links",
    "repo_stars_expectations": "repo_stars",
    "rejects_expectations": "rejects",
    "paper_terms_expectations": "paper_terms",
    "cross_table_integrity": "appearances",
}
# Checks that warn and never block, on papers.
WARNING_TARGETS = {"markup_titles": "papers", "arxiv_id_conflicts": "papers"}
# Each sample file: its date line's day, and its entries ((blocks - 4 header - 1 date line) / 2).
SAMPLE_FILES = {
    "000_5909103161d329a2.txt": ("2026-03-12", 81),
    "001_9c5fc94d0d78b2e4.txt": ("2026-03-14", 95),
    "002_2ed32dea21e7b0f5.txt": ("2026-03-11", 57),
    "003_b18b7ed4e5679936.txt": ("2026-03-11", 56),
    "004_6cac52fbde9842e0.txt": ("2026-03-13", 69),
}
ROW_COUNTS = {"digests": 5, "papers": 298, "appearances": 358, "repo_links": 86, "repo_stars": 0, "rejects": 0, "paper_terms": SAMPLE_PAPER_TERMS}
# day, digests, appearances, distinct_papers, new_papers, returning_papers
DAILY_SUMMARY = [
    ("2026-03-11", 2, 113, 112, 112, 0),
    ("2026-03-12", 1, 81, 81, 71, 10),
    ("2026-03-13", 1, 69, 69, 42, 27),
    ("2026-03-14", 1, 95, 95, 73, 22),
]
EMPTY_FILE = "005_empty.txt"
BINARY_FILE = "006_binary.bin"
REPARSED = "001_9c5fc94d0d78b2e4.txt"
# ingested_at is when a warehouse first saw a digest's content: it differs between warehouses.
_PER_WAREHOUSE = {"ingested_at"}


def _records(value: dg.TableMetadataValue) -> list[dict]:
    return [record.data for record in value.records]


def _materializations(result) -> dict[str, dict]:
    """Each asset's materialization metadata in a run (an asset materializes once per run)."""
    found: dict[str, dict] = {}
    for event in result.get_asset_materialization_events():
        key = event.asset_key.to_user_string()
        assert key not in found, f"{key} materialized twice in one run"
        found[key] = event.materialization.metadata
    return found


def _comparable(layout, table) -> list[dict]:
    data = read_table(layout, table)
    return data.drop_columns([name for name in _PER_WAREHOUSE if name in data.column_names]).to_pylist()


def _copy_samples(raw: Path) -> None:
    raw.mkdir(parents=True)
    for name in SAMPLE_FILES:
        shutil.copyfile(SAMPLES / name, raw / name)


def _env(**settings) -> dict:
    """The caller's environment without papertrends or Dagster settings, plus `settings`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    return {**env, **settings}


def _run_installed(*args: str, warehouse: Path, digests: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PAPERTRENDS), *args],
        env=_env(PAPERTRENDS_WAREHOUSE_DIR=str(warehouse), PAPERTRENDS_DIGESTS_DIR=str(digests)),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _build_captured(settings: Settings, **options) -> SimpleNamespace:
    """assets.cli.build.build in this process, its output captured, with no DAGSTER_HOME set."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.delenv("DAGSTER_HOME", raising=False)
        code = build(settings, **options)
    return SimpleNamespace(code=code, stdout=out.getvalue(), stderr=err.getvalue())


def _summary_rows(stdout: str) -> list[list[str]]:
    lines = stdout.splitlines()
    header = next(line for line in lines if line.split()[:2] == ["day", "digests"])
    assert header.split() == ["day", "digests", "appearances", "distinct_papers", "new_papers", "returning_papers"]
    return [line.split() for line in lines[lines.index(header) + 2 :] if line.strip()]


def _file_times(layout) -> dict[str, int]:
    """mtime_ns of every file under parquet/ and of trends.duckdb."""
    times = {str(path.relative_to(layout.root)): path.stat().st_mtime_ns for path in layout.parquet_dir.rglob("*") if path.is_file()}
    times["trends.duckdb"] = layout.duckdb_path.stat().st_mtime_ns
    return times


# --- one Dagster run of everything, then two more on the same warehouse --------------------------


@pytest.fixture(scope="session")
def runs(tmp_path_factory):
    """The samples materialized through Dagster; then an empty and a binary file added; then one
    file re-parsed by run config. The published tables are read after the first run."""
    root = tmp_path_factory.mktemp("materialized")
    raw = root / "raw"
    _copy_samples(raw)
    settings = Settings(root / "warehouse", raw, None)
    resources = {"warehouse": WarehouseResource.from_settings(settings)}
    with dg.instance_for_test() as instance:

        def run(run_config=None):
            result = dg.materialize([*ASSETS, *CHECKS], instance=instance, resources=resources, run_config=run_config or {})
            assert result.success
            return result

        first = run()
        tables = {table: _comparable(settings.layout, table) for table in TABLES}
        heads = {table: pq.read_table(settings.layout.table_files(table)[0]).slice(0, 5) for table in TABLES}
        report_exists = (settings.layout.report_dir / "index.html").is_file()
        (raw / EMPTY_FILE).write_bytes(b"")
        (raw / BINARY_FILE).write_bytes(bytes(range(256)) * 4)
        unusable = run()
        reparsed = run({"ops": {"staged_digests": {"config": {"reparse": [REPARSED]}}}})
        yield SimpleNamespace(
            settings=settings, first=first, tables=tables, heads=heads, report_exists=report_exists,
            unusable=unusable, reparsed=reparsed,
        )  # fmt: skip


@pytest.mark.slow
def test_one_run_materializes_every_asset_and_runs_every_check(runs):
    assert set(_materializations(runs.first)) == ASSET_KEYS
    evaluations = {evaluation.check_name: evaluation for evaluation in runs.first.get_asset_check_evaluations()}
    assert {name: evaluation.asset_key.to_user_string() for name, evaluation in evaluations.items()} == CHECK_TARGETS | WARNING_TARGETS
    assert all(evaluation.passed for evaluation in evaluations.values())
    for evaluation in evaluations.values():
        metadata = evaluation.metadata
        assert metadata["rules_failed"].value == 0 and metadata["rules"].value > 0
        assert Path(metadata["data_docs"].value).is_file() and Path(metadata["result_page"].value).is_file()
    # Every check but the warnings blocks: a failure keeps trends_duckdb (the publishing step) from running.
    specs = {spec.name: spec for check in CHECKS for spec in check.check_specs}
    assert set(specs) == set(CHECK_TARGETS) | set(WARNING_TARGETS)
    assert {name for name, spec in specs.items() if spec.blocking} == set(CHECK_TARGETS)
    severities = {evaluation.check_name: evaluation.severity for evaluation in evaluations.values()}
    assert {name for name, severity in severities.items() if severity == dg.AssetCheckSeverity.WARN} == set(WARNING_TARGETS)


@pytest.mark.slow
def test_staged_digests_lists_each_parsed_file(runs):
    metadata = _materializations(runs.first)["staged_digests"]
    assert (metadata["files"].value, metadata["parsed"].value, metadata["unchanged"].value) == (5, 5, 0)
    parsed = [
        {key: row[key] for key in ("source_name", "status", "digest_date", "entry_count", "reject_count")}
        for row in _records(metadata["parsed_files"])
    ]
    assert parsed == [
        {"source_name": name, "status": "ok", "digest_date": day, "entry_count": entries, "reject_count": 0}
        for name, (day, entries) in SAMPLE_FILES.items()
    ]
    assert _records(metadata["unusable_files"]) == []


@pytest.mark.slow
def test_staged_digests_lists_the_unusable_files(runs):
    metadata = _materializations(runs.unusable)["staged_digests"]
    assert (metadata["files"].value, metadata["parsed"].value, metadata["unchanged"].value) == (7, 2, 5)
    parsed = {row["source_name"]: row for row in _records(metadata["parsed_files"])}
    assert list(parsed) == [EMPTY_FILE, BINARY_FILE]
    assert [(row["status"], row["entry_count"], row["reject_count"]) for row in parsed.values()] == [("empty", 0, 0), ("binary", 0, 1)]
    unusable = _records(metadata["unusable_files"])
    assert [(row["source_name"], row["status"]) for row in unusable] == [(EMPTY_FILE, "empty"), (BINARY_FILE, "binary")]
    assert "0 bytes" in unusable[0]["error"] and "1024 bytes" in unusable[1]["error"]
    # The binary file's one block is kept as a reject; the empty file has none.
    assert _materializations(runs.unusable)["rejects"]["dagster/row_count"].value == 1
    assert _materializations(runs.unusable)["digests"]["dagster/row_count"].value == 7


@pytest.mark.parametrize(("listed", "noted"), [(2, False), (1, True)])
def test_file_lists_beyond_their_bound_say_how_many_files_there_are(tmp_path, monkeypatch, listed, noted):
    import assets.ingest

    monkeypatch.setattr(assets.ingest, "LISTED_FILES", listed)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / EMPTY_FILE).write_bytes(b"")
    (raw / BINARY_FILE).write_bytes(bytes(range(256)) * 4)
    resources = {"warehouse": WarehouseResource.from_settings(Settings(tmp_path / "warehouse", raw, None))}
    with dg.instance_for_test() as instance:
        result = dg.materialize([assets.ingest.staged_digests], instance=instance, resources=resources)
    metadata = _materializations(result)["staged_digests"]
    assert len(_records(metadata["parsed_files"])) == len(_records(metadata["unusable_files"])) == listed
    notes = {key: metadata[key].value for key in ("parsed_files_note", "unusable_files_note") if key in metadata}
    the_first = "the first 1 of 2; every file is in the digests table"
    assert notes == ({"parsed_files_note": the_first, "unusable_files_note": the_first} if noted else {})


@pytest.mark.slow
def test_reparse_by_run_config_parses_that_file_only(runs):
    metadata = _materializations(runs.reparsed)["staged_digests"]
    assert (metadata["files"].value, metadata["parsed"].value, metadata["unchanged"].value) == (7, 1, 6)
    assert [row["source_name"] for row in _records(metadata["parsed_files"])] == [REPARSED]
    # The same bytes parsed again give the same tables: nothing new is consolidated.
    tables = _materializations(runs.reparsed)
    assert {table: tables[table]["unchanged"].value for table in TABLES} == dict.fromkeys(TABLES, True)


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_each_table_reports_its_row_count_schema_and_first_rows(runs, table):
    metadata = _materializations(runs.first)[table]
    assert metadata["dagster/row_count"].value == ROW_COUNTS[table]
    assert metadata["unchanged"].value is False
    # Where readers find it: the published directory, not the candidates (gone after publishing).
    assert Path(metadata["path"].value) == runs.settings.warehouse_dir / "parquet" / table
    head = runs.heads[table]
    assert [column.name for column in metadata["dagster/column_schema"].schema.columns] == head.column_names
    lines = metadata["preview"].value.splitlines()
    assert lines[0] == "| " + " | ".join(head.column_names) + " |"
    assert len(lines) == 2 + min(5, ROW_COUNTS[table])
    for line, row in zip(lines[2:], head.to_pylist(), strict=True):
        assert line.startswith("| " + str(row[head.column_names[0]])[:20])


@pytest.mark.slow
def test_trends_duckdb_and_the_report_explain_themselves(runs):
    materialized = _materializations(runs.first)
    trends = materialized["trends_duckdb"]
    assert trends["dagster/row_count"].value == trends["days"].value == len(DAILY_SUMMARY)
    assert Path(trends["path"].value) == runs.settings.layout.duckdb_path
    summary = trends["daily_summary"].value.splitlines()
    for line, row in zip(summary[2:], DAILY_SUMMARY, strict=True):
        assert line.startswith("| " + " | ".join(str(value) for value in row) + " |")
    assert "| repo_popularity | view | 86 |" in trends["contents"].value
    report = materialized["trend_report"]
    assert Path(report["path"].value) == runs.settings.layout.report_dir / "index.html" and runs.report_exists
    assert (report["days"].value, report["papers"].value) == (4, 298)
    assert report["chart"].value.startswith("![") and "data:image/png;base64," in report["chart"].value


@pytest.mark.slow
@pytest.mark.parametrize("table", TABLES)
def test_materialize_gives_the_tables_of_build_warehouse(runs, sample_settings, table):
    assert runs.tables[table] == _comparable(sample_settings.layout, table)
    assert len(runs.tables[table]) == ROW_COUNTS[table]


def test_definitions_run_in_one_process_and_the_sensor_takes_no_resource(tmp_path):
    settings = Settings(tmp_path / "warehouse", SAMPLES, None)
    for definitions in (defs, build_definitions(settings)):
        job = definitions.resolve_implicit_global_asset_job_def()
        # One process: the warehouse resource, with its write lock, lives from the first step to the last.
        assert job.executor_def is dg.in_process_executor
        # The resource takes the lock wherever it is made: a sensor tick with it would wait for a build.
        assert definitions.resolve_sensor_def("digest_files_sensor").required_resource_keys == set()
    graph = build_definitions(settings).resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == ASSET_KEYS


def test_a_run_holds_the_lock_of_the_warehouse_its_run_config_names_from_first_step_to_last(tmp_path):
    """The launchpad can name another warehouse than the one the code location was loaded with:
    the run then waits for that warehouse's lock before its first step, holds it in its last,
    and writes that warehouse only."""

    @dg.asset(deps=["trend_report"])
    def lock_probe(warehouse: WarehouseResource) -> dg.MaterializeResult:
        fd = os.open(warehouse.layout.lock_path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # conflicts with any other open of the file, in this process too
            held = False
        except BlockingIOError:
            held = True
        finally:
            os.close(fd)
        return dg.MaterializeResult(metadata={"held": held})

    loaded, named = tmp_path / "loaded", tmp_path / "named"
    definitions = dg.Definitions.merge(build_definitions(Settings(loaded, SAMPLES, None)), dg.Definitions(assets=[lock_probe]))
    job = definitions.resolve_implicit_global_asset_job_def()
    run_config = {"resources": {"warehouse": {"config": {"warehouse_dir": str(named), "digests_dir": str(SAMPLES)}}}}
    holder = start_lock_holder(named)
    try:
        with dg.instance_for_test() as instance:
            outcome = {}
            run = threading.Thread(target=lambda: outcome.update(result=job.execute_in_process(run_config=run_config, instance=instance)))
            run.start()
            waiting = f"waiting for the warehouse lock held by another run (pid {holder.pid})"
            deadline = time.monotonic() + 120
            while not any(waiting in entry.user_message for entry in _all_logs(instance)):
                assert run.is_alive() and time.monotonic() < deadline, "the run did not wait for the named warehouse's lock"
                time.sleep(0.1)
            assert [path.name for path in named.iterdir()] == [".papertrends.lock"]  # no step has run
            holder.stdin.close()  # the holder exits, and with it the lock
            run.join(300)
            result = outcome["result"]
            assert result.success
    finally:
        holder.kill()
        holder.wait()
    [probe] = [event for event in result.get_asset_materialization_events() if event.asset_key == dg.AssetKey("lock_probe")]
    assert probe.materialization.metadata["held"].value is True
    with duckdb.connect(str(named / "trends.duckdb"), read_only=True) as con:
        days = con.sql("SELECT day::VARCHAR, digests, appearances, distinct_papers, new_papers, returning_papers FROM daily_summary ORDER BY day").fetchall()
    assert days == DAILY_SUMMARY
    assert not loaded.exists()


def _all_logs(instance) -> list:
    return [entry for record in instance.get_run_records() for entry in instance.all_logs(record.dagster_run.run_id)]


def test_trends_duckdb_and_term_trends_are_materialized_together(tmp_path):
    # One step writes trends.duckdb, which holds both: selecting one alone would leave the
    # other's recorded metadata stale, so Dagster refuses it before any run.
    settings = Settings(tmp_path / "warehouse", tmp_path / "raw")
    resources = {"warehouse": WarehouseResource.from_settings(settings)}
    for alone in ("trends_duckdb", "term_trends"):
        with pytest.raises(dg.DagsterInvalidDefinitionError) as raised:
            dg.materialize([*ASSETS, *CHECKS], selection=[alone], resources=resources, instance=dg.DagsterInstance.ephemeral())
        assert isinstance(raised.value.__cause__, dg.DagsterInvalidSubsetError)
        assert "does not support subsetting" in str(raised.value.__cause__)
    assert not (tmp_path / "warehouse").exists()


@pytest.mark.slow
def test_dagster_definitions_validate(tmp_path):
    raw = tmp_path / "raw"
    _copy_samples(raw)
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-m", "assets.definitions"],
        env=_env(DAGSTER_HOME=str(tmp_path), PAPERTRENDS_WAREHOUSE_DIR=str(tmp_path / "warehouse"), PAPERTRENDS_DIGESTS_DIR=str(raw)),
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "All code locations passed validation" in completed.stdout + completed.stderr


# --- `papertrends build`: the installed command --------------------------------------------------


@pytest.fixture(scope="session")
def cli_built(tmp_path_factory):
    """`papertrends build --strict` on the samples, as installed, from an unrelated directory."""
    root = tmp_path_factory.mktemp("cli")
    raw = root / "raw"
    _copy_samples(raw)
    settings = Settings(root / "warehouse", raw, None)
    completed = _run_installed("build", "--strict", warehouse=settings.warehouse_dir, digests=raw, cwd=root)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return settings, completed


@pytest.fixture(scope="session")
def rebuilt(cli_built):
    """Two more builds with nothing new: the installed command, then build() in a fresh interpreter."""
    settings, _ = cli_built
    before = _file_times(settings.layout)
    again = _run_installed("build", warehouse=settings.warehouse_dir, digests=settings.digests_dir, cwd=settings.warehouse_dir.parent)
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from assets.cli.build import build\n"
        "from pipeline.config import Settings\n"
        f"code = build(Settings(Path({str(settings.warehouse_dir)!r}), Path({str(settings.digests_dir)!r})))\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] in ('dagster', 'dagster_shared', 'dagster_pipes'))\n"
        "print(json.dumps({'code': code, 'dagster_modules': loaded}))\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script], env=_env(), cwd=REPO, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300
    )
    return SimpleNamespace(before=before, again=again, fresh=fresh, after=_file_times(settings.layout))


@pytest.mark.slow
def test_build_prints_the_per_day_summary(cli_built):
    _, completed = cli_built
    assert _summary_rows(completed.stdout) == [[str(value) for value in row] for row in DAILY_SUMMARY]
    assert "  digests: 5, unusable digests: 0, duplicate digests: 0, appearances: 358, papers: 298, repo links: 86, rejected blocks: 0" in completed.stdout.splitlines()


@pytest.mark.slow
def test_build_prints_the_data_docs_path(cli_built):
    settings, completed = cli_built
    index = settings.layout.validation_dir / "index.html"
    assert f"papertrends: validation results (Data Docs): {index}" in completed.stdout.splitlines()
    assert index.is_file() and "papers_expectations" in index.read_text("utf-8")
    report = settings.layout.report_dir / "index.html"
    assert f"  report: {report} (`papertrends report` prints it as text)" in completed.stdout.splitlines()
    assert report.is_file()


@pytest.mark.slow
def test_build_keeps_its_instance_in_the_warehouse(cli_built):
    settings, completed = cli_built
    home = settings.layout.dagster_home
    assert (home / "dagster.yaml").read_bytes() == (REPO / "dagster.yaml").read_bytes()
    assert "differs" not in completed.stdout  # a fresh copy is the repository's: no note
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records()
        assert [record.dagster_run.status for record in records] == [dg.DagsterRunStatus.SUCCESS]
        assert records[0].dagster_run.run_id in completed.stdout
        for asset in ASSET_KEYS:
            assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None, asset
    # Nothing of the instance outside the warehouse: not in the directory the command ran from.
    assert sorted(path.name for path in settings.warehouse_dir.parent.iterdir()) == ["raw", "warehouse"]


@pytest.mark.slow
def test_second_build_with_nothing_new_touches_nothing(cli_built, rebuilt):
    settings, _ = cli_built
    again = rebuilt.again
    assert again.returncode == 0, again.stderr
    first_line = again.stdout.splitlines()[0]
    assert first_line.startswith(f"papertrends: nothing new in {settings.digests_dir} since the build of ")
    assert first_line.endswith(f": the tables and {settings.layout.duckdb_path} are unchanged")
    assert _summary_rows(again.stdout) == [[str(value) for value in row] for row in DAILY_SUMMARY]
    assert f"papertrends: validation results (Data Docs): {settings.layout.validation_dir / 'index.html'}" in again.stdout
    assert rebuilt.after == rebuilt.before  # same files, same mtime_ns
    assert any(name.startswith("parquet/papers/") for name in rebuilt.after)
    with dg.DagsterInstance.from_config(str(settings.layout.dagster_home)) as instance:
        assert len(instance.get_run_records()) == 1  # no Dagster run for nothing new


@pytest.mark.slow
def test_build_with_nothing_new_does_not_import_dagster(cli_built, rebuilt):
    settings, _ = cli_built
    fresh = rebuilt.fresh
    assert fresh.returncode == 0, fresh.stderr
    *printed, last = fresh.stdout.splitlines()
    assert json.loads(last) == {"code": 0, "dagster_modules": []}
    assert printed[0].startswith(f"papertrends: nothing new in {settings.digests_dir}")


def test_nothing_new_writes_a_report_older_than_trends_db_again(tmp_path, capsys):
    """trends_duckdb materialized alone (from the UI) publishes without writing the report."""
    from pipeline.build import build_warehouse

    warehouse = tmp_path / "warehouse"
    build_warehouse(Settings(warehouse, SAMPLES))  # current: `papertrends build` finds nothing new
    layout = Settings(warehouse, SAMPLES).layout
    report = layout.report_dir / "index.html"
    published = layout.duckdb_path.stat().st_mtime_ns
    os.utime(report, ns=(published, published))  # as old as trends.duckdb: current
    assert build(Settings(warehouse, SAMPLES)) == 0
    assert report.stat().st_mtime_ns == published
    os.utime(report, ns=(published - 1, published - 1))  # older: written again
    assert build(Settings(warehouse, SAMPLES)) == 0
    assert "nothing new" in capsys.readouterr().out
    assert report.stat().st_mtime_ns > published


def test_a_closed_output_pipe_is_no_build_failure(tmp_path, monkeypatch, capsys):
    from pipeline.build import build_warehouse

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    settings = Settings(tmp_path / "warehouse", SAMPLES)
    build_warehouse(settings)  # current: `papertrends build` prints its summary and stops
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    with pytest.raises(BrokenPipeError):  # up to run(), which exits 141
        build(settings)
    assert capsys.readouterr().err == ""  # no "build failed" for it


def test_a_summary_that_cannot_be_written_is_no_build_failure(tmp_path, monkeypatch, capsys):
    class FullDisk(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    settings = Settings(tmp_path / "warehouse", SAMPLES)
    monkeypatch.setattr(sys, "stdout", FullDisk())
    line = "papertrends: the warehouse is built, but its summary could not be written: OSError: [Errno 28] No space left on device\n"
    for _ in ("built", "nothing new"):
        assert build(settings) == 1
        assert capsys.readouterr().err == line
        assert is_current(settings.layout)


@pytest.mark.parametrize(
    ("signum", "module", "function", "outcome"),
    [
        (signal.SIGINT, "assets.checks", "run_check", "nothing was published (no build has published tables here yet)"),
        (
            signal.SIGINT,
            "assets.report",
            "write_report",
            "the tables and trends.duckdb were published; the report was not written (a rerun writes it)",
        ),
        # Dagster handles SIGTERM as SIGINT while it runs.
        (signal.SIGTERM, "assets.checks", "run_check", "nothing was published (no build has published tables here yet)"),
    ],
)
def test_ctrl_c_during_a_build_says_what_it_left_and_exits_130(tmp_path, monkeypatch, capsys, signum, module, function, outcome):
    """Dagster catches the signal inside a step and fails the run; the build says so, as Ctrl-C anywhere else."""
    import importlib

    def interrupted(*args, **kwargs):
        os.kill(os.getpid(), signum)
        time.sleep(5)  # the handler raises before this ends
        raise AssertionError("the signal did not arrive")

    monkeypatch.setattr(importlib.import_module(module), function, interrupted)
    assert build(Settings(tmp_path / "warehouse", SAMPLES)) == 130
    assert capsys.readouterr().err.splitlines()[-1] == f"papertrends: interrupted; {outcome}"


def test_a_failed_build_names_the_failed_blocking_checks_not_the_warnings(tmp_path, monkeypatch, capsys):
    import dataclasses

    import assets.checks
    from pipeline.validate.docs import read_page

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text(render("Mar 12", [("#InsTag: A Title Like Markup", abstract("a")), ("A Plain Title", abstract("b"))]))
    real = assets.checks.run_check

    def papers_suite_fails(layout, check):
        result = real(layout, check)
        if check == "papers_expectations":
            result.rules[0] = dataclasses.replace(result.rules[0], success=False)
        return result

    monkeypatch.setattr(assets.checks, "run_check", papers_suite_fails)
    assert build(Settings(tmp_path / "warehouse", raw)) == 1
    printed = capsys.readouterr()
    # One line, no Dagster log or stack trace before it, and no Dagster class after the checks.
    [failure] = printed.err.splitlines()
    assert failure.startswith("papertrends: build failed in table_checks (failed checks: papers_expectations); nothing was published")
    # The warning did fail (the title looks like markup), but blocks nothing.
    page = read_page(tmp_path / "warehouse" / "validation", "markup_titles")
    assert page is not None and not page.latest.success


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing digests directory", "digests directory not found: {digests}"),
        ("digests directory is a file", "digests directory is not a directory: {digests}"),
        ("empty digests directory", "no digest files in {digests}; to empty the tables, build with --allow-empty"),
        ("warehouse is the digests directory", "the warehouse may not be inside the digests directory (it would read its own output): {warehouse}"),
        ("warehouse inside the digests directory", "the warehouse may not be inside the digests directory (it would read its own output): {warehouse}"),
        ("digests directory is warehouse/parquet", "the digests directory is inside the warehouse's generated files: {digests}"),
        ("digests directory inside warehouse/parquet", "the digests directory is inside the warehouse's generated files: {digests}"),
        ("digests directory inside warehouse/staging", "the digests directory is inside the warehouse's generated files: {digests}"),
    ],
)
def test_build_refuses_bad_settings_in_one_line(tmp_path, case, message):
    warehouse, digests = {
        "missing digests directory": (tmp_path / "w", tmp_path / "none"),
        "digests directory is a file": (tmp_path / "w", tmp_path / "raw.txt"),
        "empty digests directory": (tmp_path / "w", tmp_path / "raw"),
        "warehouse is the digests directory": (tmp_path / "raw", tmp_path / "raw"),
        "warehouse inside the digests directory": (tmp_path / "raw" / "w", tmp_path / "raw"),
        "digests directory is warehouse/parquet": (tmp_path / "w", tmp_path / "w" / "parquet"),
        "digests directory inside warehouse/parquet": (tmp_path / "w", tmp_path / "w" / "parquet" / "digests"),
        "digests directory inside warehouse/staging": (tmp_path / "w", tmp_path / "w" / "staging" / "digests"),
    }[case]
    if case == "digests directory is a file":
        digests.write_text(render("Mar 15", [("A paper about settings", abstract("settings"))]))
    elif case != "missing digests directory":
        digests.mkdir(parents=True)
        if case != "empty digests directory":
            (digests / "000_digest.txt").write_text(render("Mar 15", [("A paper about settings", abstract("settings"))]))
    built = _build_captured(Settings(warehouse, digests, None))
    assert built.code == 2
    assert built.stderr.splitlines() == ["papertrends: " + message.format(digests=digests, warehouse=warehouse)]
    assert built.stdout == ""
    assert not (warehouse / "staging" / "staging.duckdb").exists() and not (warehouse / "trends.duckdb").exists()


def test_reparse_of_a_file_not_in_the_digests_directory_is_refused_in_one_line(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "000_digest.txt").write_text(render("Mar 15", [("A paper about settings", abstract("settings"))]))
    built = _build_captured(Settings(tmp_path / "w", raw, None), reparse=["000_digest.txt", "no_such.txt", "000_digest"])
    assert built.code == 2 and built.stdout == ""
    assert built.stderr.splitlines() == [f"papertrends: --reparse: no digest file named 000_digest, no_such.txt in {raw}"]
    assert not (tmp_path / "w" / "staging").exists()


def test_the_report_alone_before_any_publish_fails_in_one_line(tmp_path):
    settings = Settings(tmp_path / "w", tmp_path / "raw", None)
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        selection=["trend_report"],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success and _materializations(result) == {}
    failure = one_step_failure(result)
    assert failure.step_failure_data.user_failure_data.description == (
        f"no {settings.layout.duckdb_path} to report on: materialize trends_duckdb first"
    )
    assert not settings.layout.report_dir.exists()


def test_reparse_by_run_config_of_a_name_that_is_no_digest_file_fails_the_run_in_one_line(tmp_path):
    # As the UI's launchpad gives it: a typo fails staged_digests, it is not a run that parses nothing.
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "000_digest.txt").write_text(render("Mar 15", [("A paper about settings", abstract("settings"))]))
    settings = Settings(tmp_path / "w", raw, None)
    result = dg.materialize(
        [*ASSETS, *CHECKS],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        run_config={"ops": {"staged_digests": {"config": {"reparse": ["000_digest"]}}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success and _materializations(result) == {}
    failure = one_step_failure(result)
    assert failure.step_key == "staged_digests"
    error = failure.step_failure_data.error
    while error.cause:
        error = error.cause
    assert error.message.strip() == f"pipeline.config.ConfigError: reparse: no digest file named 000_digest in {raw}"
    assert not (tmp_path / "w" / "staging" / "staging.duckdb").exists()


@pytest.mark.parametrize(
    "where",
    ["warehouse/raw (the default)", "a sibling whose name starts like the warehouse's", "a sibling of parquet/ named parquet-old"],
)
def test_digests_beside_the_generated_directories_are_accepted(tmp_path, where):
    """The other side of the bounds above: only the generated directories and the warehouse's own
    ancestors are refused, not names that merely start alike."""
    warehouse = tmp_path / "w"
    digests = {
        "warehouse/raw (the default)": warehouse / "raw",
        "a sibling whose name starts like the warehouse's": tmp_path / "w-digests",
        "a sibling of parquet/ named parquet-old": warehouse / "parquet-old",
    }[where]
    digests.mkdir(parents=True)
    check_settings(Settings(warehouse, digests, None))  # raises ConfigError when refused
    with pytest.raises(ConfigError):
        check_settings(Settings(warehouse, warehouse / "parquet", None))


def test_installed_command_refuses_a_missing_digests_directory(tmp_path):
    completed = _run_installed("build", warehouse=tmp_path / "w", digests=tmp_path / "none", cwd=tmp_path)
    assert (completed.returncode, completed.stderr.splitlines(), completed.stdout) == (
        2, [f"papertrends: digests directory not found: {tmp_path / 'none'}"], "",
    )  # fmt: skip


# --- --strict, --allow-empty and the instance's settings, over builds of one warehouse ------------

_CLEAN = "010_clean.txt"
_REPEATED = "011_repeated.txt"
_CLEAN_TITLES = ["Sparse adapters for long documents", "Graph priors for retrieval", "A benchmark of tiny agents"]


@pytest.fixture(scope="session")
def story(tmp_path_factory):
    """One warehouse built five times by assets.cli.build.build:
    1. a clean digest and one repeating an entry, --strict;
    2. its dagster.yaml edited by a person, the repeated digest removed, --strict;
    3. every digest removed, no --allow-empty;  4. the same with --allow-empty."""
    root = tmp_path_factory.mktemp("story")
    raw = root / "raw"
    raw.mkdir()
    (raw / _CLEAN).write_text(render("Mar 15", [(title, abstract(title)) for title in _CLEAN_TITLES]))
    repeated = "An entry listed twice"
    (raw / _REPEATED).write_text(render("Mar 16", [(repeated, abstract(repeated)), (repeated, abstract(repeated))]))
    settings = Settings(root / "warehouse", raw, None)
    steps = SimpleNamespace(settings=settings)
    steps.rejected = _build_captured(settings, strict=True)
    steps.rejects_after_rejected = [(row["source_name"], row["reason"]) for row in read_table(settings.layout, "rejects").to_pylist()]
    steps.yaml_created = (settings.layout.dagster_home / "dagster.yaml").read_bytes()
    edited = steps.yaml_created + b"# kept: my own setting\n"
    (settings.layout.dagster_home / "dagster.yaml").write_bytes(edited)
    steps.edited = edited
    (raw / _REPEATED).unlink()
    steps.clean = _build_captured(settings, strict=True)
    steps.yaml_after = (settings.layout.dagster_home / "dagster.yaml").read_bytes()
    steps.rows_after_clean = {table: read_table(settings.layout, table).num_rows for table in TABLES}
    (raw / _CLEAN).unlink()
    steps.empty_refused = _build_captured(settings)
    steps.rows_after_refused = {table: read_table(settings.layout, table).num_rows for table in TABLES}
    steps.emptied = _build_captured(settings, allow_empty=True)
    steps.rows_after_emptied = {table: read_table(settings.layout, table).num_rows for table in TABLES}
    with duckdb.connect(str(settings.layout.duckdb_path), read_only=True) as con:
        steps.days_after_emptied = con.execute("SELECT count(*) FROM daily_summary").fetchone()[0]
    return steps


@pytest.mark.slow
def test_strict_exits_1_when_a_block_is_rejected(story):
    assert story.rejected.code == 1
    # The repeated entry's title and abstract are two rejected blocks; the tables are still built.
    assert story.rejects_after_rejected == [(_REPEATED, "repeated_entry"), (_REPEATED, "repeated_entry")]
    assert story.rejected.stderr.splitlines() == ["papertrends: --strict: rejected 0 digest(s) and 2 block(s)"]
    assert "papertrends: rejected 0 digest(s) and 2 block(s) (see the digests and rejects tables)" in story.rejected.stdout


@pytest.mark.slow
def test_strict_exits_0_on_clean_input(story):
    assert (story.clean.code, story.clean.stderr) == (0, "")
    assert _summary_rows(story.clean.stdout) == [["2026-03-15", "1", "3", "3", "3", "0"]]
    # Terms by hand (docs/topics.md): each abstract adds sentence, clear, repeatable, effect and
    # "repeatable effect" to its title's: sparse, adapter, long, document and the two phrases
    # "sparse adapter", "long document" (6); graph, prior, "graph prior", retrieval (4);
    # benchmark, tiny, agent, "tiny agent" (4). 11 + 9 + 9.
    assert story.rows_after_clean == {
        "digests": 1, "papers": 3, "appearances": 3, "repo_links": 0, "repo_stars": 0, "rejects": 0, "paper_terms": 29,
    }  # fmt: skip


@pytest.mark.slow
def test_instance_settings_are_created_once_and_an_edit_is_kept(story):
    target = story.settings.layout.dagster_home / "dagster.yaml"
    assert story.yaml_created == (REPO / "dagster.yaml").read_bytes()
    assert "differs" not in story.rejected.stdout
    assert story.yaml_after == story.edited  # never overwritten
    notes = [line for line in story.clean.stdout.splitlines() if "dagster.yaml" in line]
    assert notes == [f"papertrends: using {target}, which differs from the repository's dagster.yaml"]


@pytest.mark.slow
def test_allow_empty_empties_the_tables_and_nothing_else_does(story):
    assert story.empty_refused.code == 2
    assert story.empty_refused.stderr.splitlines() == [
        f"papertrends: no digest files in {story.settings.digests_dir}; to empty the tables, build with --allow-empty"
    ]
    assert story.rows_after_refused == story.rows_after_clean
    assert (story.emptied.code, story.emptied.stderr) == (0, "")
    assert story.rows_after_emptied == dict.fromkeys(TABLES, 0)
    assert story.days_after_emptied == 0


@pytest.mark.parametrize("target_exists", [True, False], ids=["link to a file", "dangling link"])
def test_a_symbolic_link_for_the_instance_settings_is_refused(tmp_path, target_exists):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / _CLEAN).write_text(render("Mar 15", [(title, abstract(title)) for title in _CLEAN_TITLES]))
    settings = Settings(tmp_path / "warehouse", raw, None)
    home = settings.layout.dagster_home
    home.mkdir(parents=True)
    target = tmp_path / "elsewhere.yaml"
    if target_exists:
        target.write_text("# someone else's file\n")
        stamp = target.stat().st_mtime_ns
    (home / "dagster.yaml").symlink_to(target)
    built = _build_captured(settings)
    assert built.code != 0
    [line] = built.stderr.splitlines()
    assert line.startswith("papertrends: ") and f"{home / 'dagster.yaml'} is a symbolic link, refused" in line
    assert (home / "dagster.yaml").is_symlink()
    if target_exists:
        assert target.read_text() == "# someone else's file\n" and target.stat().st_mtime_ns == stamp
    else:
        assert not target.exists() and not os.path.lexists(target)
    assert not settings.layout.duckdb_path.exists()
