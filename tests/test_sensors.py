"""digest_files_sensor on a temporary digests directory, and the runs it asks for."""

import os
import shutil
import time

import dagster as dg
import pytest

from assets import sensors
from assets.build import materialize_warehouse
from assets.definitions import ALL_ASSETS, ALL_CHECKS
from assets.partitions import DIGEST_PARTITIONS
from assets.resources import WarehouseResource
from assets.sensors import PARTITION_RANGE_END, PARTITION_RANGE_START, digest_files_sensor
from pipeline.config import Settings
from pipeline.incremental import read_index
from pipeline.staging import STAGED_KINDS, batch_file, list_digest_files, read_batch_rows
from tests.helpers import SAMPLES, abstract, read_table, render

SAMPLE_NAMES = list_digest_files(SAMPLES)
# Long enough ago that the sensor takes the files as complete on its first tick.
_SETTLED = time.time() - 3600


def _set_mtime(path, seconds):
    os.utime(path, (seconds, seconds))


@pytest.fixture
def warehouse(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in SAMPLE_NAMES:
        shutil.copyfile(SAMPLES / name, raw / name)
        _set_mtime(raw / name, _SETTLED)
    return Settings(tmp_path / "warehouse", raw, None)


class Ticker:
    """Evaluates the sensor as the daemon does: its cursor kept, its partition requests applied."""

    def __init__(self, instance, settings):
        self.instance = instance
        self.settings = settings
        self.cursor = None

    def evaluate(self, cursor=None):
        context = dg.build_sensor_context(
            instance=self.instance,
            cursor=self.cursor if cursor is None else cursor,
            resources={"warehouse": WarehouseResource.from_settings(self.settings)},
        )
        return digest_files_sensor(context)

    def tick(self):
        result = self.evaluate()
        for request in result.dynamic_partitions_requests:
            if isinstance(request, dg.AddDynamicPartitionsRequest):
                self.instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
            else:
                for key in request.partition_keys:
                    self.instance.delete_dynamic_partition(request.partitions_def_name, key)
        self.cursor = result.cursor
        return result

    def partitions(self):
        return list(self.instance.get_dynamic_partitions(DIGEST_PARTITIONS.name))

    def run(self, request):
        """Execute a run request in process, as the daemon's run would."""
        selection = request.asset_selection or [key for asset in ALL_ASSETS for key in asset.keys]
        result = dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            selection=selection,
            instance=self.instance,
            resources={"warehouse": WarehouseResource.from_settings(self.settings)},
            tags=request.tags,
        )
        assert result.success
        return result


def _partition_range(request):
    return request.tags.get(PARTITION_RANGE_START), request.tags.get(PARTITION_RANGE_END)


def _parsed_partitions(result):
    return sorted(
        event.partition
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("parsed_digest")
    )


def test_sensor_ticks_on_new_unchanged_changed_and_removed_files(warehouse):
    raw = warehouse.digests_dir
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)

        first = ticker.tick()
        assert [list(request.partition_keys) for request in first.dynamic_partitions_requests] == [SAMPLE_NAMES]
        assert len(first.run_requests) == 1
        assert _partition_range(first.run_requests[0]) == (SAMPLE_NAMES[0], SAMPLE_NAMES[-1])
        assert first.run_requests[0].asset_selection is None  # the parse and everything downstream

        # The same tick evaluated again (a cursor update lost) asks for the same run key.
        assert ticker.evaluate(cursor="").run_requests[0].run_key == first.run_requests[0].run_key

        second = ticker.tick()
        assert second.run_requests == [] and second.dynamic_partitions_requests == []
        assert second.skip_reason is not None

        # Saved again with the same bytes: nothing to do.
        _set_mtime(raw / SAMPLE_NAMES[1], _SETTLED + 60)
        assert ticker.tick().run_requests == []

        changed = raw / SAMPLE_NAMES[2]
        original = changed.read_bytes()
        changed.write_bytes(original + b"\n\nOne more title\n\n" + abstract("more").encode())
        _set_mtime(changed, _SETTLED + 120)
        third = ticker.tick()
        assert third.dynamic_partitions_requests == []
        assert _partition_range(third.run_requests[0]) == (SAMPLE_NAMES[2], SAMPLE_NAMES[2])

        # Changed back to bytes that ran before: they are not what the warehouse holds now.
        changed.write_bytes(original)
        _set_mtime(changed, _SETTLED + 180)
        back = ticker.tick()
        assert _partition_range(back.run_requests[0]) == (SAMPLE_NAMES[2], SAMPLE_NAMES[2])
        assert back.run_requests[0].run_key not in {first.run_requests[0].run_key, third.run_requests[0].run_key}

        (raw / SAMPLE_NAMES[0]).unlink()
        removed = ticker.tick()
        [delete] = removed.dynamic_partitions_requests
        assert isinstance(delete, dg.DeleteDynamicPartitionsRequest)
        assert list(delete.partition_keys) == [SAMPLE_NAMES[0]]
        assert ticker.partitions() == SAMPLE_NAMES[1:]
        rebuild = removed.run_requests[0]
        assert _partition_range(rebuild) == (None, None)
        assert {key.to_user_string() for key in rebuild.asset_selection} == {
            key.to_user_string() for asset in ALL_ASSETS for key in asset.keys
        } - {"parsed_digest"}
        assert ticker.tick().run_requests == []


def test_sensor_waits_for_a_file_being_written(warehouse, monkeypatch):
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)
        ticker.tick()
        # Files just written are not yet settled by age, whatever the machine's speed.
        monkeypatch.setattr(sensors, "SETTLE_SECONDS", 10**9)
        growing = warehouse.digests_dir / "005_growing.txt"
        text = render("Mar 15", [(f"Growing title {n}", abstract(f"growing {n}")) for n in range(3)])
        growing.write_text(text[:200])
        assert ticker.tick().run_requests == []
        growing.write_text(text)
        _set_mtime(growing, time.time() + 5)  # a later write, whatever the clock's resolution
        assert ticker.tick().run_requests == []
        assert "005_growing.txt" not in ticker.partitions()
        # Same size and mtime as on the previous tick: complete.
        done = ticker.tick()
        assert [list(request.partition_keys) for request in done.dynamic_partitions_requests] == [["005_growing.txt"]]
        assert _partition_range(done.run_requests[0]) == ("005_growing.txt", "005_growing.txt")
        # Hidden and temporary names are never digests.
        (warehouse.digests_dir / ".005_hidden.txt").write_text(text)
        (warehouse.digests_dir / "006.txt.part").write_text(text)
        assert ticker.tick().run_requests == [] and ticker.tick().run_requests == []


def test_sensor_runs_add_one_digest_incrementally_and_remove_one(warehouse):
    raw = warehouse.digests_dir
    layout = warehouse.layout
    newest = SAMPLE_NAMES[-1]
    shutil.move(raw / newest, raw.parent / newest)
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)
        first = ticker.run(ticker.tick().run_requests[0])
        assert _parsed_partitions(first) == SAMPLE_NAMES[:-1]
        staged_before = {name: [_stat(path) for path in _staged_files(layout, name)] for name in SAMPLE_NAMES[:-1]}

        shutil.move(raw.parent / newest, raw / newest)
        added = ticker.run(ticker.tick().run_requests[0])
        # Only the new digest is parsed; the others' staged parses are the same files, untouched.
        assert _parsed_partitions(added) == [newest]
        for name, stats in staged_before.items():
            assert [_stat(path) for path in _staged_files(layout, name)] == stats
        assert read_table(layout, "appearances").num_rows == 358
        assert read_table(layout, "papers").num_rows == 298

        gone = SAMPLE_NAMES[1]
        gone_rows = read_batch_rows(layout, "digests", {gone: read_index(layout)[gone]["batch"]}).to_pylist()[0]
        (raw / gone).unlink()
        removed = ticker.run(ticker.tick().run_requests[0])
        assert _parsed_partitions(removed) == []
        # Its staging is forgotten: the index no longer names it (its rows in a shared batch are dead).
        assert gone not in read_index(layout) and len(read_index(layout)) == len(SAMPLE_NAMES) - 1
        digests = read_table(layout, "digests").to_pylist()
        assert gone not in {row["source_name"] for row in digests}
        assert read_table(layout, "appearances").num_rows == 358 - gone_rows["entry_count"]
        assert gone_rows["digest_id"] not in set(read_table(layout, "appearances").column("digest_id").to_pylist())


def _staged_files(layout, name):
    """The files of the batch holding a digest's current parse."""
    batch = read_index(layout)[name]["batch"]
    return [batch_file(layout, kind, batch) for kind in STAGED_KINDS]


def test_build_parses_only_the_added_digest(warehouse):
    """`papertrends build`'s path (materialize_warehouse): N digests plus one parses one."""
    raw, layout = warehouse.digests_dir, warehouse.layout
    newest = SAMPLE_NAMES[-1]
    shutil.move(raw / newest, raw.parent / newest)
    with dg.instance_for_test() as instance:
        assert materialize_warehouse(warehouse, instance, list_digest_files(raw)).result.success
        staged_before = {name: [_stat(path) for path in _staged_files(layout, name)] for name in SAMPLE_NAMES[:-1]}
        shutil.move(raw.parent / newest, raw / newest)
        run = materialize_warehouse(warehouse, instance, list_digest_files(raw))
        assert run.result.success and run.added == [newest] and run.parsed_range == (newest, newest)
        assert _parsed_partitions(run.result) == [newest]
        assert {name: [_stat(path) for path in _staged_files(layout, name)] for name in SAMPLE_NAMES[:-1]} == staged_before
        assert read_table(layout, "appearances").num_rows == 358


def _stat(path):
    return path.stat().st_ino, path.stat().st_mtime_ns


def test_first_tick_after_papertrends_build_starts_no_run_for_what_the_warehouse_holds(warehouse):
    raw = warehouse.digests_dir
    with dg.instance_for_test() as instance:
        assert materialize_warehouse(warehouse, instance, SAMPLE_NAMES).result.success
        ticker = Ticker(instance, warehouse)  # no cursor yet: the sensor never ticked
        first = ticker.tick()
        assert first.run_requests == [] and first.dynamic_partitions_requests == []
        assert "no digest file added, changed or removed" in first.skip_reason
        # The cursor now knows every file: a change to one runs that one.
        changed = raw / SAMPLE_NAMES[3]
        changed.write_bytes(changed.read_bytes() + b"\n\nOne more title\n\n" + abstract("more").encode())
        _set_mtime(changed, _SETTLED + 60)
        second = ticker.tick()
        assert _partition_range(second.run_requests[0]) == (SAMPLE_NAMES[3], SAMPLE_NAMES[3])
