"""The Dagster instance of a warehouse: DAGSTER_HOME inside the warehouse directory."""

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from assets import event_storage
from pipeline.config import Settings

# The repository's dagster.yaml: the instance settings every warehouse gets.
INSTANCE_SETTINGS = Path(__file__).resolve().parent.parent / "dagster.yaml"

# A single-run backfill of N partitions stores one "materialization planned" event
# per asset with the partition subset, instead of N events (at 10,000 partitions:
# minutes of SQLite inserts before the first step). Dagster's documented price: a
# failed run does not mark its partitions failed; they stay unmaterialized, and the
# next run (sensor or `papertrends build`) parses them. Runs started by `dagster dev`
# inherit it from this process's environment.
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")
# The per-partition materializations of a run, stored in one transaction (see there).
event_storage.install()


def ensure_dagster_home(settings: Settings) -> Path:
    """Use $DAGSTER_HOME if set; else <warehouse>/dagster_home with the repo's dagster.yaml."""
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"]).resolve()
        home.mkdir(parents=True, exist_ok=True)
        return home
    home = settings.layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != INSTANCE_SETTINGS.read_bytes():
        shutil.copyfile(INSTANCE_SETTINGS, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@event.listens_for(Engine, "connect")
def _sqlite_commit_without_fsync(dbapi_connection, _record) -> None:
    """Dagster's SQLite storages run in WAL mode; synchronous=NORMAL drops the fsync per commit.

    Dagster stores an event per partition materialized, in two transactions: with an
    fsync each (~15 ms on this kind of disk) a run of 10,000 partitions spent minutes
    in fsync. In WAL mode NORMAL stays consistent after a crash; a power loss may
    lose the last events of the run log, never the warehouse (its files are fsynced).
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
