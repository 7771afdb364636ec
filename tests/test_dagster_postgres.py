"""Dagster's storage in PostgreSQL: `papertrends build` with a warehouse whose dagster.yaml names a
PostgreSQL server keeps its runs and materializations there (a throwaway server, tests/postgres.py)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.helpers import REPO
from tests.postgres import PostgresServer

pytestmark = [pytest.mark.slow, pytest.mark.dagster]

PAPERTRENDS = Path(sys.executable).with_name("papertrends")  # the installed command of this venv


def _build(warehouse: Path, digests: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    env.update(PAPERTRENDS_WAREHOUSE_DIR=str(warehouse), PAPERTRENDS_DIGESTS_DIR=str(digests))
    return subprocess.run(
        [str(PAPERTRENDS), "build"], env=env, cwd=warehouse.parent, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip


def _psql(server: PostgresServer, sql: str) -> list[list[str]]:
    done = subprocess.run(
        [server.bindir / "psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", server.url, "-c", sql],
        capture_output=True, text=True, timeout=60,
        env={name: value for name, value in os.environ.items() if not name.startswith("PG")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines() if line]


def _run_id(stdout: str) -> str:
    [line] = [line for line in stdout.splitlines() if line.startswith("papertrends: built ")]
    return line.rsplit("; run ", 1)[1].strip()


# Enough digests for two builds to differ; the storage, not the size, is under test.
DIGESTS = 10


def test_builds_keep_their_runs_and_materializations_in_postgres(postgres_server, tmp_path):
    raw, extra = tmp_path / "raw", tmp_path / "extra"
    generated = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "generate.py"), "--seed", "7", "--digests", str(DIGESTS),
         "--out", str(raw), "--extra-out", str(extra)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert generated.returncode == 0, generated.stderr
    # What the generator wrote, by its own count (not the pipeline's).
    manifest = json.loads((raw / ".manifest.json").read_text())
    assert (manifest["digests"], manifest["days"]) == (DIGESTS, DIGESTS)
    warehouse = tmp_path / "warehouse"
    home = warehouse / "dagster_home"
    home.mkdir(parents=True)
    settings = (REPO / "dagster.yaml").read_text() + "\n" + postgres_server.dagster_storage_yaml()
    (home / "dagster.yaml").write_text(settings)

    first = _build(warehouse, raw)
    assert first.returncode == 0, first.stdout + first.stderr
    target = home / "dagster.yaml"
    assert first.stdout.splitlines()[0] == f"papertrends: using {target}, which differs from the repository's dagster.yaml"
    assert (
        f"  digests: {DIGESTS}, unusable digests: 0, duplicate digests: 0, appearances: {manifest['appearances']}, "
        f"papers: {manifest['papers']}, repo links: {manifest['link_pairs']}, rejected blocks: 0"
    ) in first.stdout.splitlines()

    [added] = list(extra.iterdir())  # one more digest of the series, on a day of its own
    shutil.move(added, raw / added.name)
    second = _build(warehouse, raw)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"  digests: {DIGESTS + 1}, " in second.stdout
    assert target.read_text() == settings  # the settings were kept, not replaced by the repository's

    first_run, second_run = _run_id(first.stdout), _run_id(second.stdout)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        records = instance.get_run_records()  # newest first
        assert [(record.dagster_run.run_id, record.dagster_run.status) for record in records] == [
            (second_run, dg.DagsterRunStatus.SUCCESS),
            (first_run, dg.DagsterRunStatus.SUCCESS),
        ]
        staged = instance.fetch_materializations(dg.AssetKey("staged_digests"), limit=10).records
        assert [
            (record.run_id, *(record.asset_materialization.metadata[key].value for key in ("files", "parsed", "unchanged")))
            for record in staged
        ] == [(second_run, DIGESTS + 1, 1, DIGESTS), (first_run, DIGESTS, DIGESTS, 0)]
        assert [row.data["source_name"] for row in staged[0].asset_materialization.metadata["parsed_files"].records] == [added.name]
        trends = instance.fetch_materializations(dg.AssetKey("trends_duckdb"), limit=10).records
        assert [(record.run_id, record.asset_materialization.metadata["days"].value) for record in trends] == [
            (second_run, manifest["days"] + 1),
            (first_run, manifest["days"]),
        ]
    # Read back from the server itself: the runs are rows there, and no SQLite run storage was made.
    assert sorted(_psql(postgres_server, "SELECT run_id, status FROM runs")) == sorted(
        [[first_run, "SUCCESS"], [second_run, "SUCCESS"]]
    )
    materialized = _psql(
        postgres_server,
        "SELECT asset_key, count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        "AND asset_key IN ('[\"staged_digests\"]', '[\"trends_duckdb\"]') GROUP BY asset_key ORDER BY asset_key",
    )
    assert materialized == [['["staged_digests"]', "2"], ['["trends_duckdb"]', "2"]]
    assert not (home / "history").exists() and not (home / "schedules").exists()
