"""The Dagster instance of a warehouse: DAGSTER_HOME inside the warehouse directory."""

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from pipeline.config import Settings

# The repository's dagster.yaml: the instance settings every warehouse gets.
INSTANCE_SETTINGS = Path(__file__).resolve().parent.parent / "dagster.yaml"


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
