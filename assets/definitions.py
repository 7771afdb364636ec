"""The Definitions Dagster loads: `dagster dev -m assets.definitions`."""

import warnings

import dagster as dg

from assets.ingest import parsed_digest
from assets.resources import WarehouseResource
from assets.tables import consolidated_tables
from assets.warehouse import trends_duckdb
from pipeline.config import Settings

# backfill_policy is marked beta; the single-run policy is what we want.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

ALL_ASSETS = [parsed_digest, consolidated_tables, trends_duckdb]


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        # Runs stay in one process: the multiprocess executor costs seconds a step here.
        executor=dg.in_process_executor,
    )


defs = build_definitions(Settings.from_env())
