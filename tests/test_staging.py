"""The staging database: what is parsed again, one transaction per build, healing, the parse pool."""

import datetime as dt
import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

import pipeline.build
import pipeline.store.digest_files
import pipeline.store.parse
import pipeline.store.versions
from pipeline.build import consolidate_tables, stage
from pipeline.config import ConfigError, Settings
from pipeline.store.digest_files import list_with_signatures
from pipeline.store.parse import ParseSettings, parse_files
from pipeline.store.staging import STAGED_TABLES, StagingUnusable, content_identity, open_staging, read_staging
from tests.helpers import REPO, abstract, publish_unchecked, read_table, render, rows

FIRST = [("Paper One", abstract("one")), ("Paper Two", abstract("two"))]


def _names(result) -> list[str]:
    return [row["source_name"] for row in result.parsed]


def _staged(settings: Settings) -> dict[str, list]:
    with duckdb.connect(str(settings.layout.staging_db), read_only=True) as con:
        return {table: con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() for table in STAGED_TABLES}


@pytest.fixture
def settings(tmp_path, digests_dir) -> Settings:
    (digests_dir / "a.txt").write_text(render("Mar 12", FIRST))
    (digests_dir / "b.txt").write_text(render("Mar 13", FIRST[:1]))
    return Settings(tmp_path / "warehouse", digests_dir)


def test_only_changed_content_is_parsed_again(settings):
    assert _names(stage(settings)) == ["a.txt", "b.txt"]
    assert _names(stage(settings)) == []
    a = settings.digests_dir / "a.txt"
    # Touched, and rewritten with the same bytes: a new signature, same content: not parsed.
    os.utime(a, (1, 1))
    result = stage(settings)
    assert _names(result) == [] and [listed.source_name for listed in result.plan.resign] == ["a.txt"]
    a.write_bytes(a.read_bytes())
    assert _names(stage(settings)) == []
    # The new signature is remembered: nothing to re-sign next time.
    assert stage(settings).plan.resign == []
    a.write_text(render("Mar 14", FIRST))
    assert _names(stage(settings)) == ["a.txt"]
    (settings.digests_dir / "b.txt").unlink()
    result = stage(settings)
    assert _names(result) == [] and result.plan.remove == ["b.txt"]
    assert [row[0] for row in _staged(settings)["staged_files"]] == ["a.txt"]


def test_unchanged_files_are_counted_and_a_configured_year_kept_is_no_change(settings):
    configured = Settings(settings.warehouse_dir, settings.digests_dir, 2024)
    assert _names(stage(configured)) == ["a.txt", "b.txt"]
    again = stage(configured)
    assert (_names(again), again.plan.unchanged, again.plan.resign, again.plan.remove) == ([], 2, [], [])


def test_read_staging_opens_only_a_staging_database_of_this_layout(settings, tmp_path):
    path = settings.layout.staging_db
    assert read_staging(path) is None  # none yet
    stage(settings)
    con = read_staging(path)
    assert con is not None
    with con:
        assert con.execute("SELECT source_name FROM staged_files ORDER BY source_name").fetchall() == [("a.txt",), ("b.txt",)]
        with pytest.raises(duckdb.InvalidInputException, match="read-only"):  # a reader never locks out a build
            con.execute("DELETE FROM staged_files")
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()  # a DuckDB file, of no layout
    assert read_staging(other) is None
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"this is no database" * 100)
    assert read_staging(garbage) is None


def test_other_reading_code_or_year_parses_everything_again(settings, monkeypatch):
    stage(settings)
    monkeypatch.setattr(pipeline.store.versions, "parser_fingerprint", lambda: "other reader")
    monkeypatch.setattr(pipeline.build, "parser_fingerprint", lambda: "other reader")
    assert _names(stage(settings)) == ["a.txt", "b.txt"]
    assert _names(stage(Settings(settings.warehouse_dir, settings.digests_dir, 2024))) == ["a.txt", "b.txt"]


def test_reparse_names_files_to_read_again(settings):
    stage(settings)
    assert _names(stage(settings, reparse=["b.txt"])) == ["b.txt"]


def test_reparse_of_a_name_that_is_no_digest_file_is_refused_before_any_parse(settings):
    stage(settings)
    before = _staged(settings)
    # "b" is no file name (b.txt is); refused in one line, nothing parsed or staged.
    with pytest.raises(ConfigError) as refused:
        stage(settings, reparse=["b.txt", "b", "nope.txt"])
    assert str(refused.value) == f"reparse: no digest file named b, nope.txt in {settings.digests_dir}"
    assert _staged(settings) == before


def test_an_error_while_parsing_rolls_the_whole_stage_back(settings, monkeypatch):
    stage(settings)
    before = _staged(settings)
    (settings.digests_dir / "a.txt").write_text(render("Mar 20", FIRST))
    (settings.digests_dir / "c.txt").write_text(render("Mar 21", FIRST))
    real_parse_files = pipeline.build.parse_files

    def failing(*args, **kwargs):
        for _number, chunk in enumerate(real_parse_files(*args, **kwargs)):
            yield chunk  # the first chunk is inserted, then the parse fails
        raise RuntimeError("the parse failed after its first chunk")

    monkeypatch.setattr(pipeline.store.parse, "CHUNK_FILES", 1)
    monkeypatch.setattr(pipeline.build, "parse_files", failing)
    with pytest.raises(RuntimeError, match="after its first chunk"):
        stage(settings)
    assert _staged(settings) == before
    monkeypatch.setattr(pipeline.build, "parse_files", real_parse_files)
    assert _names(stage(settings)) == ["a.txt", "c.txt"]


def test_the_staging_database_spills_beside_itself_past_a_gigabyte(tmp_path):
    with open_staging(tmp_path / "staging" / "staging.duckdb") as con:
        settings = con.execute("SELECT current_setting('temp_directory'), current_setting('memory_limit')").fetchone()
    assert settings == (f"{tmp_path}/staging/duckdb_spill", "953.6 MiB")  # 1 GB, as DuckDB shows it


def test_a_staging_database_open_in_another_process_is_never_deleted(settings):
    stage(settings)
    path = settings.layout.staging_db
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(StagingUnusable) as unusable:
            open_staging(path)
        assert str(unusable.value).startswith(f"the staging database {path} is open in another process: ")
    finally:
        holder.kill()
        holder.communicate()
    assert _names(stage(settings)) == []  # the same database, every file still staged


def test_a_staging_database_that_cannot_be_created_is_one_clear_error(tmp_path):
    path = tmp_path / "staging.duckdb"
    Path(f"{path}.wal").mkdir()  # where DuckDB must write its log
    with pytest.raises(StagingUnusable) as unusable:
        open_staging(path)
    message = str(unusable.value)
    assert message.startswith(f"cannot create the staging database {path} (") and message.endswith("); remove it and rerun")
    assert "Is a directory" in message


class _CommitFails:
    """A staging connection whose COMMIT fails as on a full disk: DuckDB has then ended the
    transaction, so a ROLLBACK after it finds none."""

    def __init__(self, con):
        self.con = con

    def execute(self, sql, *args):
        if sql == "COMMIT":
            self.con.execute("ROLLBACK")
            raise duckdb.IOException("could not write the database file: no space left on device")
        return self.con.execute(sql, *args)

    def register(self, *args):
        return self.con.register(*args)

    def unregister(self, *args):
        return self.con.unregister(*args)


def test_a_failed_commit_raises_its_own_error_and_leaves_the_staging_as_it_was(settings, monkeypatch):
    stage(settings)
    before = _staged(settings)
    (settings.digests_dir / "a.txt").write_text(render("Mar 20", FIRST))
    apply_changes = pipeline.build.apply_changes
    monkeypatch.setattr(pipeline.build, "apply_changes", lambda con, plan, parsed: apply_changes(_CommitFails(con), plan, parsed))
    with pytest.raises(duckdb.IOException, match="no space left on device"):
        stage(settings)
    assert _staged(settings) == before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_layout"])
def test_a_damaged_staging_database_is_rebuilt_from_the_digests(settings, damage, caplog):
    publish_unchecked(settings)
    tables = {table: read_table(settings.layout, table) for table in ("digests", "papers", "appearances")}
    path = settings.layout.staging_db
    if damage == "garbage":
        path.write_bytes(b"this is no database" * 100)
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:5000])
    else:
        with duckdb.connect(str(path)) as con:
            con.execute("UPDATE staging_layout SET schema_id = 'another'")
    assert sorted(_names(stage(settings))) == ["a.txt", "b.txt"]
    [warning] = [record.getMessage() for record in caplog.records if record.name == "pipeline.store.staging"]
    if damage == "other_layout":
        assert warning == f"the staging database {path} is of another layout: rebuilding it from the digests"
    else:
        assert warning.startswith(f"the staging database {path} cannot be opened (")
        assert warning.endswith("): rebuilding it from the digests") and "(None)" not in warning
    # The same staged content as before: the published tables are current, nothing to write.
    assert consolidate_tables(settings) is None
    for table, before in tables.items():
        # ingested_at too: the published digests table keeps each digest's first ingestion.
        assert read_table(settings.layout, table).equals(before), table


def test_an_unreadable_file_is_read_again_once_its_signature_changes(settings):
    link = settings.digests_dir / "link.txt"
    link.symlink_to("not-yet.txt")  # dangling: unreadable
    stage(settings)
    assert _names(stage(settings)) == []  # unchanged, not read again
    (settings.digests_dir / "not-yet.txt").write_text(render("Mar 15", FIRST))
    assert sorted(_names(stage(settings))) == ["link.txt", "not-yet.txt"]


class _FailingOpen:
    """The os module of pipeline.store.digest_files, with open() failing for the names in `failing`."""

    def __init__(self, failing: dict[str, int]):
        self.failing = failing

    def __getattr__(self, name):
        return getattr(os, name)

    def open(self, path, flags, *args):
        code = self.failing.get(Path(path).name)
        if code is not None:
            raise OSError(code, os.strerror(code))
        return os.open(path, flags, *args)


def test_a_read_error_that_passes_is_read_again_with_the_signature_unchanged(settings, monkeypatch):
    failing = _FailingOpen({"b.txt": errno.EIO})  # a network mount, say, failing for a moment
    monkeypatch.setattr(pipeline.store.digest_files, "os", failing)
    publish_unchecked(settings)
    assert [(row["source_name"], row["status"], row["error"]) for row in rows(settings.layout, "digests")] == [
        ("a.txt", "ok", None),
        ("b.txt", "unreadable", "cannot read the file: Input/output error"),
    ]
    # Still failing the same way: nothing to stage again.
    still = stage(settings)
    assert (_names(still), still.plan.unchanged) == ([], 2)
    # Failing for another reason: staged again, with that reason.
    failing.failing["b.txt"] = errno.EMFILE
    assert _names(stage(settings)) == ["b.txt"]
    assert _names(stage(settings)) == []
    # Readable again, its size, times and inode as they were all along: read and published.
    signatures = list_with_signatures(settings.digests_dir)
    failing.failing.clear()
    assert list_with_signatures(settings.digests_dir) == signatures
    assert _names(stage(settings)) == ["b.txt"]
    publish_unchecked(settings)
    assert [(row["source_name"], row["status"], row["entry_count"]) for row in rows(settings.layout, "digests")] == [
        ("a.txt", "ok", 2),
        ("b.txt", "ok", 1),
    ]
    # b.txt shows Paper One again on Mar 13.
    papers = {row["title"]: (str(row["first_seen_date"]), str(row["last_seen_date"])) for row in rows(settings.layout, "papers")}
    assert papers == {"Paper One": ("2026-03-12", "2026-03-13"), "Paper Two": ("2026-03-12", "2026-03-12")}


def test_the_content_identity_tells_fields_apart_whatever_a_file_name_holds():
    # Two stagings whose fields, joined with control characters, would read the same.
    stagings = [
        [("a\x1fsha-x", "sha-y", "fp", None, "ok", None)],
        [("a", "sha-x\x1fsha-y", "fp", None, "ok", None)],
        [("a", "sha-x", "fp", None, "ok", None), ("b\x1esha", "sha-z", "fp", None, "ok", None)],
        [("a", "sha-x", "fp", None, "ok", None), ("b", "sha\x1esha-z", "fp", None, "ok", None)],
        [("a", "sha-x", "fp", None, "unreadable", "")],
        [("a", "sha-x", "fp", None, "unreadable", None)],
    ]
    identities = []
    for staged in stagings:
        with duckdb.connect() as con:
            con.execute(
                "CREATE TABLE staged_files (source_name VARCHAR, raw_sha256 VARCHAR, parser_fingerprint VARCHAR, "
                "config_year INTEGER, status VARCHAR, error VARCHAR)"
            )
            con.executemany("INSERT INTO staged_files VALUES (?, ?, ?, ?, ?, ?)", staged)
            identities.append(content_identity(con))
    assert len(set(identities)) == len(stagings)


def test_an_unreadable_file_that_becomes_an_empty_one_is_read_again(settings):
    # An unreadable file is staged with the sha256 of no bytes: the empty file it becomes has
    # the same, yet it was never read, so it is parsed, not merely re-signed.
    link = settings.digests_dir / "link.txt"
    link.symlink_to("not-yet.txt")
    stage(settings)
    (settings.digests_dir / "not-yet.txt").write_bytes(b"")
    assert sorted(_names(stage(settings))) == ["link.txt", "not-yet.txt"]
    with duckdb.connect(str(settings.layout.staging_db), read_only=True) as con:
        statuses = con.execute("SELECT source_name, status FROM staged_files ORDER BY source_name").fetchall()
    assert statuses == [("a.txt", "ok"), ("b.txt", "ok"), ("link.txt", "empty"), ("not-yet.txt", "empty")]


def test_many_files_parse_in_worker_processes_to_the_same_rows(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    for number in range(70):
        (digests / f"{number:03d}.txt").write_text(render(f"Mar {1 + number % 28}", [(f"Paper {number}", abstract(str(number)))]))
    settings = ParseSettings(None, "v", "f", dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    listing = list_with_signatures(digests)
    serial = list(parse_files(digests, listing, settings, workers=1))
    parallel = list(parse_files(digests, listing, settings, workers=2))
    for attribute in ("files", "entries", "links", "rejects"):
        assert pa.concat_tables([getattr(rows, attribute) for rows in parallel]).equals(
            pa.concat_tables([getattr(rows, attribute) for rows in serial])
        )


_PARSE_FOREVER = """
import sys, time
from pathlib import Path
import pipeline.store.parse as parse
from pipeline.store.digest_files import list_with_signatures

def slow(args):
    time.sleep(3600)

parse._parse_chunk = slow
settings = parse.ParseSettings(None, "v", "f", __import__("datetime").datetime(2026, 1, 1))
digests = Path(sys.argv[1])
print("parsing", flush=True)
list(parse.parse_files(digests, list_with_signatures(digests), settings, workers=2))
"""


def _children_of(pid: int) -> set[int]:
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                children.add(int(entry))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_worker_processes_end_when_the_build_is_killed(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    for number in range(70):
        (digests / f"{number:03d}.txt").write_text(render("Mar 1", [(f"Paper {number}", abstract(str(number)))]))
    build = subprocess.Popen([sys.executable, "-c", _PARSE_FOREVER, str(digests)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert build.stdout.readline().strip() == "parsing"
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        # The fork server is the build's child; the workers are the fork server's.
        workers = {worker for server in _children_of(build.pid) for worker in _children_of(server)}
        time.sleep(0.2)
    servers = _children_of(build.pid)
    assert len(workers) >= 2, "the pool never started its workers"
    build.send_signal(signal.SIGKILL)
    build.wait()
    # A guard against processes left forever, not a speed check.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers | servers):
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers | servers)


# Typed in: the files whose change must re-parse every digest, and some that must not.
MAKES_A_PARSE = ["read/reader.py", "read/formats/daily_json.py", "store/parse.py", "store/digest_files.py", "__init__.py"]
MAKES_NO_PARSE = ["store/publish.py", "store/consolidate.py", "topics/terms.py", "serve/trends_sql.py", "build.py"]


@pytest.mark.parametrize("source", MAKES_A_PARSE + MAKES_NO_PARSE)
def test_the_parser_fingerprint_changes_with_the_code_that_makes_a_parse_alone(tmp_path, source):
    copy = tmp_path / "pipeline"
    shutil.copytree(REPO / "pipeline", copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = pipeline.store.versions.parser_fingerprint.__wrapped__(copy)
    (copy / source).write_text((copy / source).read_text() + "\n# changed\n")
    after = pipeline.store.versions.parser_fingerprint.__wrapped__(copy)
    assert (after != before) == (source in MAKES_A_PARSE)


def test_each_fingerprint_holds_the_versions_of_what_runs_its_code():
    """An upgrade of Python (its Unicode database) or of an engine redoes what it may change."""
    import platform

    import polars
    import pyarrow

    versions = pipeline.store.versions
    python = f"python {platform.python_version()}"
    engines = f"{python} duckdb {duckdb.__version__} pyarrow {pyarrow.__version__} polars {polars.__version__}"
    parse, terms, code = (
        versions.parser_fingerprint.__wrapped__,
        versions.terms_fingerprint.__wrapped__,
        versions.code_fingerprint.__wrapped__,
    )
    assert versions.parser_fingerprint() == parse(REPO / "pipeline", python)
    assert versions.terms_fingerprint() == terms(f"{python} polars {polars.__version__}")
    assert versions.code_fingerprint() == code(engines)
    assert parse(REPO / "pipeline", python) != parse(REPO / "pipeline", python + ".1")
    assert terms(f"{python} polars {polars.__version__}") != terms(f"{python} polars 0.0.1")
    assert code(engines) != code(engines.replace(f"duckdb {duckdb.__version__}", "duckdb 1.5.6"))
