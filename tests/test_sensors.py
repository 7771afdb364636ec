"""digest_files_sensor: what a tick sees in the digests directory, and the runs it asks for."""

import errno
import hashlib
import os
import shutil
import time

import dagster as dg
import duckdb
import pytest

from assets import sensor
from assets.definitions import ASSETS, CHECKS
from assets.resources import WarehouseResource
from assets.sensor import Cursor, digest_files_sensor, plan_tick
from pipeline.config import Settings
from tests.helpers import SAMPLES, abstract, read_table, render

pytestmark = pytest.mark.dagster

SAMPLE_NAMES = sorted(path.name for path in SAMPLES.iterdir())
# A fixed clock for plan_tick: files get mtimes relative to it, so no test depends on the real time.
NOW = 1_800_000_000.0
LONG_AGO = NOW - 3600


def _set_mtime(path, seconds: float) -> None:
    ns = int(round(seconds * 1e9))
    os.utime(path, ns=(ns, ns))


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest(title_seed: str, day: str = "Mar 20", count: int = 2) -> str:
    return render(day, [(f"{title_seed} paper {n}", abstract(f"{title_seed} {n}")) for n in range(count)])


@pytest.fixture
def raw(tmp_path):
    directory = tmp_path / "raw"
    directory.mkdir()
    return directory


# --- plan_tick: one tick's view of the directory -------------------------------------------------


def test_settle_seconds_is_the_documented_ten():
    assert sensor.SETTLE_SECONDS == 10


def test_new_settled_files_are_changed_and_remembered_with_their_sha256(raw):
    for name in ("a.txt", "b.txt"):
        (raw / name).write_text(_digest(name))
        _set_mtime(raw / name, LONG_AGO)
    plan = plan_tick(raw, Cursor(), NOW)
    assert (plan.changed, plan.removed, plan.run_needed) == (["a.txt", "b.txt"], [], True)
    assert plan.cursor.pending == {}
    for name in ("a.txt", "b.txt"):
        entry = plan.cursor.files[name]
        assert entry[-1] == _sha256(raw / name)
        stat = (raw / name).stat()
        assert entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns and entry[3] == stat.st_ino


def test_an_empty_directory_needs_no_run(raw):
    plan = plan_tick(raw, Cursor(), NOW)
    assert (plan.changed, plan.removed, plan.run_needed, plan.cursor.files) == ([], [], False, {})


def test_unchanged_files_are_not_read_again(raw, monkeypatch):
    (raw / "a.txt").write_text(_digest("a"))
    _set_mtime(raw / "a.txt", LONG_AGO)
    first = plan_tick(raw, Cursor(), NOW)

    def no_reading(*args):
        raise AssertionError(f"read {args}")

    monkeypatch.setattr(sensor, "read_digest_bytes", no_reading)
    second = plan_tick(raw, Cursor.load(first.cursor.dump()), NOW + 30)
    assert (second.changed, second.removed, second.run_needed) == ([], [], False)
    assert second.cursor.files == first.cursor.files


def test_a_file_that_could_not_be_read_is_tried_each_tick_and_changed_once_read(raw, monkeypatch):
    (raw / "a.txt").write_text(_digest("a"))
    _set_mtime(raw / "a.txt", LONG_AGO)
    real_read = sensor.read_digest_bytes
    readable = False

    def read_failing_until_readable(directory, name):
        if not readable:
            raise OSError(errno.EIO, "Input/output error")  # a network mount failing for a while
        return real_read(directory, name)

    monkeypatch.setattr(sensor, "read_digest_bytes", read_failing_until_readable)
    first = plan_tick(raw, Cursor(), NOW)
    assert (first.changed, first.run_needed, first.cursor.files["a.txt"][-1]) == (["a.txt"], True, "")  # its run records why
    # Still unreadable, the signature unchanged: no new run.
    still = plan_tick(raw, first.cursor, NOW + 30)
    assert (still.changed, still.run_needed, still.cursor.files) == ([], False, first.cursor.files)
    # Readable again, nothing about the file changed: a run, to read it.
    readable = True
    read = plan_tick(raw, still.cursor, NOW + 60)
    assert (read.changed, read.run_needed, read.cursor.files["a.txt"][-1]) == (["a.txt"], True, _sha256(raw / "a.txt"))
    assert read.cursor.files["a.txt"][:-1] == first.cursor.files["a.txt"][:-1]
    assert plan_tick(raw, read.cursor, NOW + 90).run_needed is False


def test_a_file_touched_with_the_same_bytes_needs_no_run(raw):
    (raw / "a.txt").write_text(_digest("a"))
    _set_mtime(raw / "a.txt", LONG_AGO)
    first = plan_tick(raw, Cursor(), NOW)
    _set_mtime(raw / "a.txt", LONG_AGO + 60)  # saved again, same bytes
    touched = plan_tick(raw, first.cursor, NOW)
    assert (touched.changed, touched.removed, touched.run_needed) == ([], [], False)
    # Its new signature is remembered, with the same sha256: the next tick does not read it.
    assert touched.cursor.files["a.txt"][1] == (raw / "a.txt").stat().st_mtime_ns
    assert touched.cursor.files["a.txt"][-1] == first.cursor.files["a.txt"][-1]
    # Copied back over itself (a new inode, the same bytes): no run either.
    shutil.copyfile(raw / "a.txt", raw / "copy.tmp")
    os.replace(raw / "copy.tmp", raw / "a.txt")
    _set_mtime(raw / "a.txt", LONG_AGO + 120)
    assert plan_tick(raw, touched.cursor, NOW).run_needed is False


def test_a_changed_file_is_changed(raw):
    for name in ("a.txt", "b.txt"):
        (raw / name).write_text(_digest(name))
        _set_mtime(raw / name, LONG_AGO)
    first = plan_tick(raw, Cursor(), NOW)
    (raw / "b.txt").write_text(_digest("b", count=3))
    _set_mtime(raw / "b.txt", LONG_AGO + 60)
    changed = plan_tick(raw, first.cursor, NOW)
    assert (changed.changed, changed.removed) == (["b.txt"], [])
    assert changed.cursor.files["b.txt"][-1] == _sha256(raw / "b.txt") != first.cursor.files["b.txt"][-1]
    assert changed.cursor.files["a.txt"] == first.cursor.files["a.txt"]


def test_a_removed_file_is_removed(raw):
    for name in ("a.txt", "b.txt"):
        (raw / name).write_text(_digest(name))
        _set_mtime(raw / name, LONG_AGO)
    first = plan_tick(raw, Cursor(), NOW)
    (raw / "a.txt").unlink()
    removed = plan_tick(raw, first.cursor, NOW)
    assert (removed.changed, removed.removed, removed.run_needed) == ([], ["a.txt"], True)
    assert list(removed.cursor.files) == ["b.txt"]
    # Forgotten once removed: the next tick has nothing to do.
    assert plan_tick(raw, removed.cursor, NOW).run_needed is False


def test_hidden_and_temporary_names_are_never_digests(raw):
    for name in (".hidden.txt", "c.txt.part", "d.txt.tmp", "e.txt.partial", "f.txt.crdownload", "g.txt~"):
        (raw / name).write_text(_digest(name))
        _set_mtime(raw / name, LONG_AGO)
    plan = plan_tick(raw, Cursor(), NOW)
    assert (plan.changed, plan.cursor.files, plan.cursor.pending) == ([], {}, {})


@pytest.mark.parametrize(
    ("age", "settled"),
    [(sensor.SETTLE_SECONDS - 0.001, False), (sensor.SETTLE_SECONDS, True), (sensor.SETTLE_SECONDS + 0.001, True)],
    ids=["just before", "at", "just past"],
)
def test_a_file_is_read_once_untouched_for_settle_seconds(raw, age, settled):
    (raw / "a.txt").write_text(_digest("a"))
    _set_mtime(raw / "a.txt", NOW - 100)
    plan = plan_tick(raw, Cursor(), NOW - 100 + age)
    assert plan.changed == (["a.txt"] if settled else [])
    assert ("a.txt" in plan.cursor.pending) is not settled
    assert ("a.txt" in plan.cursor.files) is settled


def test_a_file_still_being_written_is_read_when_its_signature_holds_for_a_tick(raw):
    growing = raw / "a.txt"
    text = _digest("growing", count=3)
    growing.write_text(text[:200])
    _set_mtime(growing, NOW)  # just written
    first = plan_tick(raw, Cursor(), NOW + 1)
    assert (first.changed, first.run_needed, list(first.cursor.pending)) == ([], False, ["a.txt"])
    growing.write_text(text)  # still being written: a new signature
    _set_mtime(growing, NOW + 2)
    second = plan_tick(raw, Cursor.load(first.cursor.dump()), NOW + 3)
    assert (second.changed, second.run_needed, list(second.cursor.pending)) == ([], False, ["a.txt"])
    # The same signature on the next tick, still younger than SETTLE_SECONDS: complete.
    third = plan_tick(raw, Cursor.load(second.cursor.dump()), NOW + 4)
    assert (third.changed, third.cursor.pending) == (["a.txt"], {})
    assert third.cursor.files["a.txt"][-1] == _sha256(growing)


def test_a_changed_file_still_being_written_keeps_its_last_content_and_is_not_removed(raw):
    (raw / "a.txt").write_text(_digest("a"))
    _set_mtime(raw / "a.txt", LONG_AGO)
    first = plan_tick(raw, Cursor(), NOW)
    (raw / "a.txt").write_text(_digest("a", count=4))
    _set_mtime(raw / "a.txt", NOW)
    writing = plan_tick(raw, first.cursor, NOW + 1)
    assert (writing.changed, writing.removed, writing.run_needed) == ([], [], False)
    assert writing.cursor.files["a.txt"] == first.cursor.files["a.txt"]  # what the warehouse holds
    assert "a.txt" in writing.cursor.pending
    done = plan_tick(raw, Cursor.load(writing.cursor.dump()), NOW + 2)
    assert (done.changed, done.removed) == (["a.txt"], [])


def test_a_new_file_removed_while_still_being_written_was_never_there(raw):
    (raw / "a.txt").write_text(_digest("a"))
    _set_mtime(raw / "a.txt", NOW)
    first = plan_tick(raw, Cursor(), NOW + 1)
    (raw / "a.txt").unlink()
    gone = plan_tick(raw, first.cursor, NOW + 2)
    assert (gone.changed, gone.removed, gone.run_needed, gone.cursor.pending) == ([], [], False, {})


def test_a_damaged_or_old_cursor_starts_over():
    assert Cursor.load(None) == Cursor() and Cursor.load("") == Cursor() and Cursor.load("{not json") == Cursor()
    assert Cursor.load('{"version": 1, "files": {"a.txt": [1, "x"]}, "pending": {}}') == Cursor()
    cursor = Cursor({"a.txt": [1, 2, 3, 4, 5, 6, 7, 8, "ab"]}, {"b.txt": [1, 2, 3, 4, 5, 6, 7, 8]})
    assert Cursor.load(cursor.dump()) == cursor


# --- run keys -----------------------------------------------------------------------------------


def test_the_same_change_twice_is_a_change_each_time(raw):
    """A file removed and put back, twice over: four changes, each needing its run (the
    warehouse holds the content in between, not the earlier one)."""
    for name in ("a.txt", "b.txt"):
        (raw / name).write_text(_digest(name))
        _set_mtime(raw / name, LONG_AGO)
    plan = plan_tick(raw, Cursor(), NOW)
    moved = (raw / "a.txt").read_bytes()
    for round_ in range(2):
        (raw / "a.txt").unlink()
        plan = plan_tick(raw, plan.cursor, NOW)
        assert (plan.changed, plan.removed) == ([], ["a.txt"])
        (raw / "a.txt").write_bytes(moved)
        _set_mtime(raw / "a.txt", LONG_AGO + 60 * (round_ + 1))
        plan = plan_tick(raw, plan.cursor, NOW)
        assert (plan.changed, plan.removed) == (["a.txt"], [])


# --- the sensor as the daemon evaluates it -------------------------------------------------------


@pytest.fixture
def warehouse(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in SAMPLE_NAMES:
        shutil.copyfile(SAMPLES / name, raw / name)
        _set_mtime(raw / name, time.time() - 3600)  # long finished, as files in place before a tick are
    return Settings(tmp_path / "warehouse", raw, None)


class Ticker:
    """Evaluates the sensor as the daemon does: the cursor kept between ticks."""

    def __init__(self, instance, settings):
        self.instance = instance
        self.settings = settings
        self.cursor = None

    def evaluate(self, cursor=None):
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursor if cursor is None else cursor)
        return digest_files_sensor(self.settings.digests_dir)(context)

    def tick(self):
        result = self.evaluate()
        self.cursor = result.cursor
        return result

    def launch(self, result):
        """Run the tick's one request in process, as the daemon's run would."""
        [request] = result.run_requests
        # No run_key: the daemon skips a request whose key an earlier run used, and the same
        # change can come twice (a file removed and put back, then removed again).
        assert request.run_key is None
        run = dg.materialize(
            [*ASSETS, *CHECKS],
            instance=self.instance,
            resources={"warehouse": WarehouseResource.from_settings(self.settings)},
            tags=request.tags,
        )
        assert run.success
        return run


def _parsed(run) -> list[str]:
    [event] = [event for event in run.get_asset_materialization_events() if event.asset_key == dg.AssetKey("staged_digests")]
    return [record.data["source_name"] for record in event.materialization.metadata["parsed_files"].records]


def _daily_summary(settings) -> dict[str, tuple[int, int]]:
    """day -> (digests, appearances), read from trends.duckdb read-only."""
    with duckdb.connect(str(settings.layout.duckdb_path), read_only=True) as con:
        return {str(day): (digests, appearances) for day, digests, appearances in con.execute("SELECT day, digests, appearances FROM daily_summary ORDER BY day").fetchall()}


def test_a_tick_with_nothing_new_skips(warehouse):
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)
        ticker.tick()
        again = ticker.tick()
        assert again.run_requests == []
        assert again.skip_reason is not None and "no digest file added, changed or removed" in again.skip_reason.skip_message


def test_a_missing_or_empty_digests_directory_skips(tmp_path):
    with dg.instance_for_test() as instance:
        missing = Ticker(instance, Settings(tmp_path / "warehouse", tmp_path / "none", None)).tick()
        assert missing.run_requests == [] and f"digests directory not found: {tmp_path / 'none'}" in missing.skip_reason.skip_message
        (tmp_path / "empty").mkdir()
        empty = Ticker(instance, Settings(tmp_path / "warehouse", tmp_path / "empty", None)).tick()
        assert empty.run_requests == [] and empty.skip_reason is not None


def test_new_digests_give_one_run_request_of_every_asset(warehouse):
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)
        first = ticker.tick()
        [request] = first.run_requests  # five new files, one run
        assert request.asset_selection is None  # the sensor's target: every asset
        assert request.tags["papertrends/reason"] == "5 file(s) new or changed, 0 removed"
        assert ticker.tick().run_requests == []
        new = warehouse.digests_dir / "005_new.txt"
        new.write_text(_digest("new"))
        _set_mtime(new, time.time() - 3600)
        [one] = ticker.tick().run_requests
        assert one.tags["papertrends/reason"] == "1 file(s) new or changed, 0 removed"


def test_every_file_removed_starts_no_run_and_says_how_to_empty_the_tables(warehouse):
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)
        ticker.tick()
        kept = ticker.cursor
        moved = warehouse.digests_dir.parent / "moved"
        warehouse.digests_dir.rename(moved)
        warehouse.digests_dir.mkdir()
        for _ in range(2):  # said on every tick, the cursor kept
            empty = ticker.tick()
            assert empty.run_requests == [] and empty.cursor == kept
            assert empty.skip_reason.skip_message == (
                f"every digest file was removed from {warehouse.digests_dir}; the tables keep them. To empty the "
                "tables, launch every asset with staged_digests config {allow_empty: true}"
            )
        # The same files back: nothing changed for the warehouse, no run.
        warehouse.digests_dir.rmdir()
        moved.rename(warehouse.digests_dir)
        back = ticker.tick()
        assert back.run_requests == [] and "no digest file added, changed or removed" in back.skip_reason.skip_message
        # One file removed of several is a change, as before.
        (warehouse.digests_dir / SAMPLE_NAMES[0]).unlink()
        [request] = ticker.tick().run_requests
        assert request.tags["papertrends/reason"] == "0 file(s) new or changed, 1 removed"


@pytest.mark.slow
def test_sensor_runs_add_a_digest_remove_one_and_put_it_back(warehouse):
    raw = warehouse.digests_dir
    held_back, removed = "001_9c5fc94d0d78b2e4.txt", "004_6cac52fbde9842e0.txt"  # Mar 14 (95), Mar 13 (69)
    shutil.move(raw / held_back, raw.parent / held_back)
    with dg.instance_for_test() as instance:
        ticker = Ticker(instance, warehouse)
        first = ticker.launch(ticker.tick())
        assert _parsed(first) == [name for name in SAMPLE_NAMES if name != held_back]
        assert _daily_summary(warehouse) == {"2026-03-11": (2, 113), "2026-03-12": (1, 81), "2026-03-13": (1, 69)}
        assert ticker.tick().run_requests == []

        # A digest dropped in: one run, which parses only it; its day appears.
        shutil.move(raw.parent / held_back, raw / held_back)
        added = ticker.launch(ticker.tick())
        assert _parsed(added) == [held_back]
        assert _daily_summary(warehouse) == {"2026-03-11": (2, 113), "2026-03-12": (1, 81), "2026-03-13": (1, 69), "2026-03-14": (1, 95)}
        assert read_table(warehouse.layout, "appearances").num_rows == 358

        # A digest removed: its rows are gone from every table.
        [gone] = [row for row in read_table(warehouse.layout, "digests").to_pylist() if row["source_name"] == removed]
        shutil.move(raw / removed, raw.parent / removed)
        after_removal = ticker.launch(ticker.tick())
        assert _parsed(after_removal) == []
        assert _daily_summary(warehouse) == {"2026-03-11": (2, 113), "2026-03-12": (1, 81), "2026-03-14": (1, 95)}
        assert removed not in {row["source_name"] for row in read_table(warehouse.layout, "digests").to_pylist()}
        appearances = read_table(warehouse.layout, "appearances")
        assert appearances.num_rows == 358 - 69 and gone["digest_id"] not in set(appearances.column("digest_id").to_pylist())

        # Put back: the same content the second run had, but not what the warehouse holds now.
        shutil.move(raw.parent / removed, raw / removed)
        ticker.launch(ticker.tick())
        assert _daily_summary(warehouse)["2026-03-13"] == (1, 69)
