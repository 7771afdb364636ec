"""Dagster's SQLite event log: a batch of asset events stored in one transaction per database.

A single-run backfill of N digest partitions ends with N materialization events.
Dagster hands them to the storage as batches when DAGSTER_EVENT_BATCH_SIZE is set,
but its SQLite storage then stores them one at a time: a new SQLAlchemy engine,
connection and transaction on the run's database and on the index database for
every event, about 15 ms each here (150 s at 10,000 partitions).
`store_asset_events_at_once` writes a batch of asset events as the same rows as
SqliteEventLogStorage.store_event, with one executemany in one transaction on each
database. It is installed on Dagster's class when assets/ is imported (the CLI, the
code location of `dagster dev`, its run workers), so every instance of a warehouse,
opened by path or by DAGSTER_HOME, keeps Dagster's own storage layout. A Dagster internal: the
version is pinned, and tests/test_dagster.py checks the stored partition events.
"""

import os
from collections.abc import Sequence

from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.event_api import EventLogEntry
from dagster._core.events import ASSET_EVENTS
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable

# Events of one step output handed over at once (Dagster's buffer per batch).
EVENT_BATCH_SIZE = 1000
_store_one_at_a_time = SqliteEventLogStorage.store_event_batch


def store_asset_events_at_once(self: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    run_ids = {event.run_id for event in events}
    event_types = {event.dagster_event_type if event.is_dagster_event else None for event in events}
    # One run and one asset event type (a step's materializations): the asset key row
    # shortcut below holds only then. Anything else goes Dagster's way.
    if len(run_ids) != 1 or len(event_types) != 1 or not event_types <= set(ASSET_EVENTS):
        _store_one_at_a_time(self, events)
        return
    run_id = run_ids.pop()
    # The rows prepare_insert_event would insert one statement each, inserted as one
    # executemany per database (SQLAlchemy's "insertmanyvalues"); ids come back in row order.
    rows = [self._event_to_row(event) for event in events]
    insert = SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True)
    with self.run_connection(run_id) as conn:
        run_event_ids = [event_id for (event_id,) in conn.execute(insert, rows)]
    try:
        _index_asset_events(self, events, rows, insert)
    except Exception:
        # Dagster answers a failed batch by storing each event on its own: take the rows
        # back from the run database first, so that no event is stored twice.
        with self.run_connection(run_id) as conn:
            conn.execute(SqlEventLogStorageTable.delete().where(SqlEventLogStorageTable.c.id.in_(run_event_ids)))
        raise


def _index_asset_events(self: SqliteEventLogStorage, events: Sequence[EventLogEntry], rows: list[dict], insert) -> None:
    """Mirror asset events in the index database, as SqliteEventLogStorage.store_event does."""
    with self.index_transaction() as conn:
        event_ids = [event_id for (event_id,) in conn.execute(insert, rows)]
        if len(event_ids) != len(events) or None in event_ids:
            raise DagsterInvariantViolationError("Cannot store asset event tags for null event id.")
        self._store_asset_event_tags(conn, events, event_ids)
        # The asset key row holds the latest event of its asset (each update overwrites the
        # last): writing it once per asset, for its last event, leaves it as N updates would.
        latest = {event.dagster_event.asset_key: (event, event_id) for event, event_id in zip(events, event_ids)}
        for event, event_id in latest.values():
            self._store_asset_event(conn, event, event_id)


def install() -> None:
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))
    SqliteEventLogStorage.store_event_batch = store_asset_events_at_once
