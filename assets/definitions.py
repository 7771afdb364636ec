"""The Definitions Dagster loads: `dagster dev -m assets.definitions`."""

import dagster as dg

from assets.checks import table_checks, table_warnings
from assets.ingest import staged_digests
from assets.publish import trends_duckdb
from assets.report import trend_report
from assets.resources import WarehouseResource
from assets.sensor import digest_files_sensor
from assets.tables import consolidated_tables
from pipeline.config import Settings

ASSETS = [staged_digests, consolidated_tables, trends_duckdb, trend_report]
CHECKS = [table_checks, table_warnings]


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        sensors=[digest_files_sensor(settings.digests_dir)],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        # Runs stay in one process (the multiprocess executor starts a process per step), so
        # the warehouse resource, and its write lock, lives from first step to last.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
