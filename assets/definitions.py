"""The Definitions Dagster loads: `dagster dev -m assets.definitions`."""

import dagster as dg

import assets.instance  # noqa: F401  (registers the SQLite commit setting; see there)
from assets.ingest import parsed_digest
from assets.resources import WarehouseResource
from assets.tables import consolidated_tables
from assets.warehouse import trends_duckdb
from pipeline.config import Settings

ALL_ASSETS = [
    parsed_digest,
    consolidated_tables,
    trends_duckdb,
]
ALL_CHECKS: list = []
ALL_SENSORS: list = []


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        asset_checks=ALL_CHECKS,
        sensors=ALL_SENSORS,
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        # Runs stay in one process: the multiprocess executor costs seconds a step here.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
