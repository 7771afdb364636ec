"""The Definitions Dagster loads: `dagster dev -m assets.definitions`."""

import dagster as dg

import assets.instance  # noqa: F401  (registers the SQLite commit setting; see there)
from assets.checks import ALL_TABLE_CHECKS
from assets.executor import warehouse_locked_executor
from assets.ingest import parsed_digest
from assets.report import trend_report
from assets.resources import WarehouseResource
from assets.sensors import digest_files_sensor
from assets.tables import consolidated_tables
from assets.warehouse import trends_duckdb
from pipeline.config import Settings

ALL_ASSETS = [
    parsed_digest,
    consolidated_tables,
    trends_duckdb,
    trend_report,
]
ALL_CHECKS: list = [*ALL_TABLE_CHECKS]
ALL_SENSORS: list = [digest_files_sensor]


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        sensors=ALL_SENSORS,
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        # Runs stay in one process (the multiprocess executor costs seconds a step here)
        # and hold the warehouse's write lock from first step to last (assets/executor.py).
        executor=warehouse_locked_executor(settings.layout.root),
    )


defs = build_definitions(Settings.from_env())
