"""The Dagster layer: materializing the assets gives the tables of `papertrends build`."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from assets import event_storage
from assets.build import materialize_warehouse
from assets.metadata import markdown_preview
from assets.definitions import ALL_ASSETS, build_definitions
from assets.partitions import DIGEST_PARTITIONS
from pipeline.table_parts import read_published
from pipeline.config import Settings
from pipeline.schemas import TABLES
from pipeline.staging import list_digest_files
from tests.helpers import REPO, SAMPLES, read_table

# ingested_at is when a warehouse first saw the content: it differs between two warehouses.
_PER_WAREHOUSE = {"ingested_at"}


def _comparable(layout, table):
    data = read_table(layout, table)
    return data.drop_columns([name for name in _PER_WAREHOUSE if name in data.column_names]).to_pylist()


def run_cli(*args, env_extra=None, cwd=None):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args], capture_output=True, text=True, env=env, cwd=cwd or REPO, timeout=300
    )


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    settings = Settings(tmp_path_factory.mktemp("materialized"), SAMPLES, None)
    with dg.instance_for_test() as instance:
        run = materialize_warehouse(settings, instance, list_digest_files(SAMPLES))
        assert run.result.success
        yield settings, instance, run


@pytest.fixture(scope="module")
def cli_built(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("cli")
    completed = run_cli("build", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(warehouse), "PAPERTRENDS_DIGESTS_DIR": str(SAMPLES)})
    assert completed.returncode == 0, completed.stderr
    return Settings(warehouse, SAMPLES, None), completed


def test_every_asset_materialized_in_one_run(materialized):
    _, _, run = materialized
    keys = {event.asset_key.to_user_string() for event in run.result.get_asset_materialization_events()}
    assert keys == {"parsed_digest", "trends_duckdb", "trend_report", *TABLES}
    partitions = {
        event.partition
        for event in run.result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("parsed_digest")
    }
    assert partitions == set(list_digest_files(SAMPLES))


def test_each_partition_has_its_own_metadata(materialized):
    settings, _, run = materialized
    digests = {row["source_name"]: row for row in read_table(settings.layout, "digests").to_pylist()}
    events = [event for event in run.result.get_asset_materialization_events() if event.asset_key == dg.AssetKey("parsed_digest")]
    assert len(events) == len(digests) == 5
    for event in events:
        metadata = event.materialization.metadata
        row = digests[event.partition]
        assert metadata["digest_date"].value == row["digest_date"].isoformat()
        assert metadata["entry_count"].value == row["entry_count"] and metadata["reject_count"].value == row["reject_count"]
        assert metadata["dagster/row_count"].value == row["entry_count"]
        assert metadata["parse"].value == "parsed"
        first_paper = {
            (appearance["digest_id"], appearance["position"]): appearance["paper_id"]
            for appearance in read_table(settings.layout, "appearances").to_pylist()
        }[(row["digest_id"], 1)]
        assert first_paper in metadata["preview"].value


@pytest.mark.parametrize("table", TABLES)
def test_each_table_reports_its_row_count_and_first_rows(materialized, table):
    settings, _, run = materialized
    [event] = [event for event in run.result.get_asset_materialization_events() if event.asset_key == dg.AssetKey(table)]
    metadata = event.materialization.metadata
    rows = read_table(settings.layout, table).to_pylist()
    assert metadata["dagster/row_count"].value == len(rows)
    # The preview is the first rows of the table's first part, five at most.
    first_part = pq.read_table(settings.layout.table_files(table)[0])
    assert metadata["preview"].value == markdown_preview(first_part.slice(0, 5))
    assert metadata["preview"].value.count("\n") == 1 + min(5, len(first_part))


@pytest.mark.parametrize("table", TABLES)
def test_materialize_gives_the_tables_of_papertrends_build(materialized, cli_built, sample_settings, table):
    dagster_settings, _, _ = materialized
    cli_settings, _ = cli_built
    expected = _comparable(cli_settings.layout, table)
    assert _comparable(dagster_settings.layout, table) == expected
    assert _comparable(sample_settings.layout, table) == expected  # and of pipeline/ alone


def test_build_stores_each_partition_through_the_batching_event_log(cli_built):
    settings, _ = cli_built
    digests = {row["source_name"]: row for row in read_table(settings.layout, "digests").to_pylist()}
    with dg.DagsterInstance.from_config(str(settings.layout.dagster_home)) as instance:
        assert type(instance.event_log_storage).store_event_batch is event_storage.store_asset_events_at_once
        assert set(instance.get_materialized_partitions(dg.AssetKey("parsed_digest"))) == set(digests)
        records = instance.fetch_materializations(dg.AssetKey("parsed_digest"), limit=100).records
        assert len(records) == len(digests) == 5
        for record in records:
            row = digests[record.partition_key]
            assert record.asset_materialization.metadata["entry_count"].value == row["entry_count"]
        # Tables and the DuckDB file are recorded too (the unpartitioned assets of the same run).
        for asset in (*TABLES, "trends_duckdb"):
            assert instance.get_latest_materialization_event(dg.AssetKey(asset)) is not None, asset


def test_a_failed_index_write_leaves_each_partition_event_stored_once(tmp_path, monkeypatch):
    """Dagster stores a failed batch again one event at a time: the batch's rows must not stay behind."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    failed = []
    store_tags = SqliteEventLogStorage._store_asset_event_tags

    def fail_the_first_batch(self, conn, events, event_ids):
        if len(events) > 1 and not failed:
            failed.append(len(events))
            raise OSError("disk full")
        return store_tags(self, conn, events, event_ids)

    monkeypatch.setattr(SqliteEventLogStorage, "_store_asset_event_tags", fail_the_first_batch)
    names = list_digest_files(SAMPLES)
    with dg.instance_for_test() as instance:
        assert type(instance.event_log_storage).store_event_batch is event_storage.store_asset_events_at_once
        run = materialize_warehouse(Settings(tmp_path, SAMPLES, None), instance, names)
        assert run.result.success and failed == [len(names)]
        key = dg.AssetKey("parsed_digest")
        in_run = instance.all_logs(run.result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        assert sorted(event.dagster_event.partition for event in in_run if event.dagster_event.asset_key == key) == sorted(names)
        indexed = instance.fetch_materializations(key, limit=100).records
        assert sorted(record.partition_key for record in indexed) == sorted(names)


def test_build_prints_the_per_day_summary(cli_built):
    _, completed = cli_built
    lines = completed.stdout.splitlines()
    header = next(line for line in lines if line.split()[:2] == ["day", "digests"])
    assert header.split() == ["day", "digests", "appearances", "distinct_papers", "new_papers", "returning_papers"]
    body = [line.split() for line in lines[lines.index(header) + 2 :] if line.strip()]
    assert body == [
        ["2026-03-11", "2", "113", "112", "112", "0"],
        ["2026-03-12", "1", "81", "81", "71", "10"],
        ["2026-03-13", "1", "69", "69", "42", "27"],
        ["2026-03-14", "1", "95", "95", "73", "22"],
    ]


def test_build_prints_the_data_docs_path(cli_built):
    settings, completed = cli_built
    index = settings.layout.validation_dir / "index.html"
    assert f"papertrends: validation results (Data Docs): {index}" in completed.stdout.splitlines()
    assert index.exists() and "papers.html" in index.read_text()


def test_build_keeps_its_instance_in_the_warehouse(cli_built):
    settings, completed = cli_built
    home = settings.layout.dagster_home
    assert (home / "dagster.yaml").read_text() == (REPO / "dagster.yaml").read_text()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert sorted(instance.get_dynamic_partitions(DIGEST_PARTITIONS.name)) == list_digest_files(SAMPLES)
        assert len(instance.get_run_records()) == 1


def test_rebuild_parses_nothing_and_keeps_the_tables(materialized):
    settings, instance, _ = materialized
    before = {table: read_published(settings.layout, table) for table in TABLES}
    run = materialize_warehouse(settings, instance, list_digest_files(SAMPLES))
    assert run.result.success and run.parsed_range is None and run.added == []
    for table in TABLES:
        assert read_published(settings.layout, table).equals(before[table])


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAPERTRENDS_DIGESTS_DIR": "/nonexistent/digests"}, "digests directory not found: /nonexistent/digests"),
        ({"PAPERTRENDS_YEAR": "soon"}, "PAPERTRENDS_YEAR must be a year"),
    ],
)
def test_build_refuses_bad_settings_in_one_line(tmp_path, env, message):
    completed = run_cli("build", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "w"), **env})
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [f"papertrends: {completed.stderr.split(': ', 1)[1].strip()}"]
    assert message in completed.stderr


def test_the_installed_command_exits_with_the_status_of_main(tmp_path):
    """`papertrends` is assets.cli:run: main(), then a fast exit with main's status."""
    script = Path(sys.executable).parent / "papertrends"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    env.update({"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "w"), "PAPERTRENDS_DIGESTS_DIR": str(tmp_path / "none")})
    completed = subprocess.run([str(script), "build"], capture_output=True, text=True, env=env, timeout=120)
    assert (completed.returncode, completed.stderr.strip()) == (2, f"papertrends: digests directory not found: {tmp_path / 'none'}")


def test_build_refuses_an_empty_digests_directory(tmp_path):
    (tmp_path / "raw").mkdir()
    completed = run_cli("build", env_extra={"PAPERTRENDS_DIGESTS_DIR": str(tmp_path / "raw"), "PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "w")})
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"papertrends: no digest files in {tmp_path / 'raw'}"


def test_build_refuses_an_unwritable_warehouse(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    completed = run_cli("build", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(blocker / "w"), "PAPERTRENDS_DIGESTS_DIR": str(SAMPLES)})
    assert completed.returncode == 2
    assert completed.stderr.startswith("papertrends: cannot create the warehouse directory")


def test_definitions_load():
    definitions = build_definitions(Settings(REPO / "warehouse", SAMPLES, None))
    graph = definitions.resolve_asset_graph()
    assert {key.to_user_string() for key in graph.get_all_asset_keys()} == {"parsed_digest", "trends_duckdb", "trend_report", *TABLES}
    assert len(ALL_ASSETS) == 4


def test_build_writes_the_html_report(cli_built):
    settings, completed = cli_built
    report = settings.layout.report_dir / "index.html"
    assert report.is_file() and "<title>papertrends report: 2026-03-11 to 2026-03-14</title>" in report.read_text("utf-8")
    assert f"  report: {report} " in completed.stdout
