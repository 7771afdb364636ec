"""Dagster's SQLite event log: a batch of asset events stored in one transaction per database.

A single-run backfill of N digest partitions ends with N materialization events.
Dagster hands them to the storage as batches when DAGSTER_EVENT_BATCH_SIZE is set,
but its SQLite storage then stores them one at a time: a new SQLAlchemy engine,
connection and transaction on the run's database and on the index database for
every event, about 15 ms each here (150 s at 10,000 partitions).
`store_asset_events_at_once` writes a batch of asset events as the same rows as
SqliteEventLogStorage.store_event, with one executemany in one transaction on each
database. It is
installed on Dagster's class when assets/ is imported (the CLI, the code location
of `dagster dev`, its run workers), so every instance of a warehouse, opened by path
or by DAGSTER_HOME, keeps Dagster's own storage layout. A Dagster internal: the
version is pinned, and tests/test_dagster.py checks the stored partition events.
"""

import os
from collections.abc import Sequence

from dagster._core.event_api import EventLogEntry
from dagster._core.events import ASSET_EVENTS
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable

# Events of one step output handed over at once (Dagster's buffer per batch).
EVENT_BATCH_SIZE = 1000
_store_one_at_a_time = SqliteEventLogStorage.store_event_batch


def store_asset_events_at_once(self: SqliteEventLogStorage, events: Sequence[EventLogEntry]) -> None:
    run_ids = {event.run_id for event in events}
    if len(run_ids) != 1 or not all(event.is_dagster_event and event.dagster_event_type in ASSET_EVENTS for event in events):
        _store_one_at_a_time(self, events)
        return
    # The rows prepare_insert_event would insert one statement each, inserted as one
    # executemany per database (SQLAlchemy's "insertmanyvalues").
    rows = [self._event_to_row(event) for event in events]
    with self.run_connection(run_ids.pop()) as conn:
        conn.execute(SqlEventLogStorageTable.insert(), rows)
    # Asset events are mirrored in the index database, as in SqliteEventLogStorage.store_event;
    # their ids there, in the order of the rows, key the tags and the asset key row.
    insert = SqlEventLogStorageTable.insert().returning(SqlEventLogStorageTable.c.id, sort_by_parameter_order=True)
    with self.index_transaction() as conn:
        event_ids = [event_id for (event_id,) in conn.execute(insert, rows)]
        self._store_asset_event_tags(conn, events, event_ids)
        # The asset key row holds the latest event of its asset (each update overwrites the
        # last): writing it once per asset, for its last event, leaves it as N updates would.
        latest = {event.dagster_event.asset_key: (event, event_id) for event, event_id in zip(events, event_ids)}
        for event, event_id in latest.values():
            self._store_asset_event(conn, event, event_id)


def install() -> None:
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", str(EVENT_BATCH_SIZE))
    SqliteEventLogStorage.store_event_batch = store_asset_events_at_once
