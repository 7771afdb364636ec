"""No input can fail a build; every directory entry gets a row; the build writes only inside the warehouse."""

import os
import signal
import socket
import stat
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.build import REQUIRED_CHECKS, build_warehouse
from pipeline.config import ConfigError, Settings
from pipeline.read.identity import find_arxiv_id
from pipeline.read.reader import parse_digest
from pipeline.schemas import TABLES
from tests.helpers import abstract, render, rows, run_cli

# --- the principle: no input fails a build ----------------------------------------------------

ODD_LINKS = [
    "https://github.com/owner/.#L10",
    "https://github.com/owner/..",
    "github.com/owner",
    "https://gitlab.com/group/sub/project.git.",
    "https://huggingface.co/datasets/x",
    "http://WWW.GitHub.com:443/Owner/Repo/",
    "https://x.com:99999/a",
    "arXiv:２３０３.１２３４５",
    "arXiv:2303.123456",
    "arxiv.org/abs/2303.12345v2",
]
NAMES = ["a.txt", "b b.txt", "ü.txt", "x...y.txt", "-n", "new\nline.txt", "tab\t.txt", "2026-03-12.txt", "12026-03-12.txt"]


@st.composite
def digest_bytes(draw) -> bytes:
    kind = draw(st.sampled_from(["digest", "digest", "digest", "empty", "binary", "random", "utf16", "broken"]))
    if kind == "empty":
        return draw(st.sampled_from([b"", b"   \n\n  "]))
    if kind == "binary":
        return b"\x89PNG\r\n\x1a\n" + draw(st.binary(max_size=64))
    if kind == "random":
        return draw(st.binary(max_size=400))
    entries = []
    for number in range(draw(st.integers(0, 4))):
        title = draw(st.text(alphabet=string.ascii_letters + " éü:-_[]#*", min_size=1, max_size=60)).strip() or "T"
        text = abstract(f"{number}") + " " + " ".join(draw(st.lists(st.sampled_from(ODD_LINKS), max_size=3)))
        entries.append((title, text))
    date_line = draw(st.sampled_from(["Mar 12", "Feb 30", "2026-03-12", "Sept 3", None]))
    text = render(date_line, entries)
    if kind == "utf16":
        return b"\xff\xfe" + text.encode("utf-16-le") + draw(st.sampled_from([b"", b"\x00"]))
    raw = text.encode("utf-8")
    if kind == "broken" and raw:
        position = draw(st.integers(0, len(raw) - 1))
        raw = raw[:position] + b"\xff" + raw[position:]
    return raw


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(files=st.lists(st.tuples(st.sampled_from(NAMES), digest_bytes()), min_size=1, max_size=6), copies=st.integers(0, 2))
def test_no_digest_directory_fails_a_build(tmp_path_factory, files, copies):
    root = tmp_path_factory.mktemp("any")
    digests = root / "raw"
    digests.mkdir()
    for name, raw in files:
        (digests / name).write_bytes(raw)
    written = sorted(os.listdir(digests))
    for number in range(copies):  # byte-identical copies, of whatever the first file is
        (digests / f"copy{number}-{written[0]}").write_bytes((digests / written[0]).read_bytes())
    settings_ = Settings(root / "warehouse", digests)
    result = build_warehouse(settings_)  # ChecksFailed would mean an input failed the build
    # Warnings may fire (a title "#x" looks like markup); every check that gates holds.
    assert all(check.success for check in result.results if check.name in REQUIRED_CHECKS)
    assert {check.name for check in result.results} == {*REQUIRED_CHECKS, "markup_titles", "arxiv_id_conflicts"}
    assert sorted(row["source_name"] for row in rows(settings_.layout, "digests")) == sorted(os.listdir(digests))


def test_arxiv_ids_are_ascii_digits_in_the_reader_and_the_suite():
    assert find_arxiv_id("see arXiv:2303.12345") == "2303.12345"
    assert find_arxiv_id("see arXiv:２３０３.１２３４５") is None  # fullwidth digits
    assert find_arxiv_id("see arXiv:٢٣٠٣.١٢٣٤٥") is None  # Arabic-Indic digits
    assert find_arxiv_id("see arXiv:2303.1234") == "2303.1234"  # 4 digits: an old-style id
    assert find_arxiv_id("see arXiv:2303.123456") is None  # 6 digits: no id


# --- every directory entry gets a row -----------------------------------------------------------


def test_every_entry_of_the_digests_directory_gets_a_row_with_why(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    good = render("Mar 12", [("A Good Paper", abstract("good"))])
    for name in ("good.txt", "dots...txt", "new\nline.txt", "tab\t.txt"):
        (digests / name).write_text(good)
    os.mkfifo(digests / "fifo")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(digests / "sock"))
        os.mknod(digests / "device", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # as /dev/null
        (digests / "subdir").mkdir()
        settings_ = Settings(tmp_path / "warehouse", digests)
        build_warehouse(settings_)
    found = {row["source_name"]: (row["status"], row["error"]) for row in rows(settings_.layout, "digests")}
    # The four copies hold the same text: the first name ("dots...txt" < "good.txt") counts.
    assert found == {
        "dots...txt": ("ok", None),
        "good.txt": ("duplicate", None),
        "new\nline.txt": ("duplicate", None),
        "tab\t.txt": ("duplicate", None),
        "fifo": ("unreadable", "cannot read the file: a FIFO, not a regular file"),
        "sock": ("unreadable", "cannot read the file: a socket, not a regular file"),
        "device": ("unreadable", "cannot read the file: a character device, not a regular file"),
        "subdir": ("unreadable", "cannot read the file: a directory, not a regular file"),
    }


@pytest.mark.slow
def test_strict_counts_every_unusable_entry_and_the_summary_agrees_with_the_tables(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "good.txt").write_text(render("Mar 12", [("A Good Paper", abstract("good"))]))
    os.mkfifo(digests / "fifo")
    (digests / "empty.txt").write_bytes(b"")
    env = {"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "PAPERTRENDS_DIGESTS_DIR": str(digests)}
    completed = run_cli("build", "--strict", env_extra=env)
    assert completed.returncode == 1
    assert "digests: 3, unusable digests: 2," in completed.stdout
    assert completed.stderr.strip().splitlines()[-1] == "papertrends: --strict: rejected 2 digest(s) and 0 block(s)"


# --- decoding per line ------------------------------------------------------------------------


ENTRIES = [("Café au lait: a paper", abstract("one")), ("Second paper", abstract("two")), ("Third paper", abstract("three"))]


def test_a_utf8_file_with_a_broken_byte_keeps_its_utf8_and_rejects_that_block():
    raw = render("Mar 12", ENTRIES).encode("utf-8").replace(b"Second paper", b"Second \xff paper")
    parsed = parse_digest(raw, "a.txt")
    assert (parsed.status, parsed.encoding) == ("ok", "utf-8")
    assert [entry.title for entry in parsed.entries] == ["Café au lait: a paper", "Third paper"]
    # The broken title's block, and its abstract left with no title.
    assert [reject.reason for reject in parsed.rejects] == ["undecodable_bytes", "abstract_without_title"]
    assert parsed.rejects[0].raw_text == "Second \ufffd paper"


def test_a_utf16_file_with_a_stray_byte_is_read_not_binary():
    raw = b"\xff\xfe" + render("Mar 12", ENTRIES).encode("utf-16-le") + b"\x00"
    parsed = parse_digest(raw, "a.txt")
    assert (parsed.status, parsed.encoding) == ("ok", "utf-16-le-bom")
    assert [entry.title for entry in parsed.entries] == ["Café au lait: a paper", "Second paper"]
    assert [reject.reason for reject in parsed.rejects] == ["title_without_abstract", "undecodable_bytes"]


def test_c1_control_characters_reject_their_block():
    # U+0081 written in UTF-8 (0xC2 0x81): a C1 control, never text.
    raw = render("Mar 12", ENTRIES).replace("Third paper", "Third \x81paper").encode()
    parsed = parse_digest(raw, "a.txt")
    assert parsed.encoding == "utf-8"
    assert [entry.title for entry in parsed.entries] == ["Café au lait: a paper", "Second paper"]
    assert parsed.rejects[0].reason == "control_characters" and "\x81" in parsed.rejects[0].raw_text


# --- the build writes only inside the warehouse -------------------------------------------------


@pytest.mark.parametrize("where", ["parquet-builds", "staging", "staging/candidates", "validation", "report", "dagster_home", "staging/staging.duckdb"])
def test_a_symbolic_link_in_the_warehouse_is_refused_and_its_target_untouched(tmp_path, where):
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep me")
    link = tmp_path / "warehouse" / where
    link.parent.mkdir(parents=True)
    link.symlink_to(outside)
    with pytest.raises(ConfigError, match="is a symbolic link"):
        build_warehouse(Settings(tmp_path / "warehouse", digests))
    assert sorted(os.listdir(outside)) == ["keep.txt"] and (outside / "keep.txt").read_text() == "keep me"


@pytest.mark.parametrize("layout", ["warehouse inside digests", "digests inside parquet", "same directory"])
def test_a_warehouse_and_a_digests_directory_inside_each_other_are_refused(tmp_path, layout):
    if layout == "warehouse inside digests":
        digests, warehouse = tmp_path / "raw", tmp_path / "raw" / "warehouse"
    elif layout == "digests inside parquet":
        warehouse, digests = tmp_path / "warehouse", tmp_path / "warehouse" / "parquet" / "raw"
    else:
        warehouse = digests = tmp_path / "both"
    digests.mkdir(parents=True)
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    with pytest.raises(ConfigError, match="inside"):
        build_warehouse(Settings(warehouse, digests))


@pytest.mark.parametrize("name", ["raw*", "raw?", "raw[1]", "raw{1,2}"])
def test_glob_characters_in_the_digests_path_are_data(tmp_path, name):
    digests = tmp_path / name
    digests.mkdir()
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    twin = tmp_path / "raw1"  # what the pattern would match
    twin.mkdir()
    (twin / "b.txt").write_text(render("Mar 13", [("Another Paper", abstract("b"))]))
    settings_ = Settings(tmp_path / "warehouse", digests)
    build_warehouse(settings_)
    assert [row["source_name"] for row in rows(settings_.layout, "digests")] == ["a.txt"]


# --- empty directories and the allow-empty switch ---------------------------------------------


def test_deleting_every_digest_keeps_the_tables_unless_asked(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    settings_ = Settings(tmp_path / "warehouse", digests)
    build_warehouse(settings_)
    (digests / "a.txt").unlink()
    with pytest.raises(ConfigError, match="--allow-empty"):
        build_warehouse(settings_)
    assert len(rows(settings_.layout, "papers")) == 1
    build_warehouse(settings_, allow_empty=True)
    assert all(rows(settings_.layout, table) == [] for table in TABLES)


def _cli_env_with_one_digest(tmp_path: Path) -> dict[str, str]:
    """The environment of a `papertrends build` of one digest into tmp_path/warehouse."""
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    env = {**os.environ, "PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "PAPERTRENDS_DIGESTS_DIR": str(digests)}
    env.pop("DAGSTER_HOME", None)
    return env


def _papertrends_after(tmp_path: Path, setup: str, command: str = "build"):
    """`papertrends COMMAND` on one digest, in a child that first runs the Python of `setup`."""
    import subprocess
    import sys

    script = f"{setup}\nimport sys\nsys.argv = ['papertrends', {command!r}]\nimport assets.cli\nassets.cli.run()\n"
    env = _cli_env_with_one_digest(tmp_path)
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)


def test_ctrl_c_during_start_up_is_one_line_not_a_traceback(tmp_path):
    """SIGINT at several moments of a build's first second: never a traceback."""
    import subprocess
    import sys
    import time

    env = _cli_env_with_one_digest(tmp_path)
    for delay in (0.2, 0.6, 1.5):
        process = subprocess.Popen(
            [sys.executable, "-m", "assets.cli", "build"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        if process.returncode == 0:
            continue  # finished before the signal
        assert "Traceback" not in stderr, stderr
        assert process.returncode in (1, 130, -signal.SIGINT), (delay, process.returncode, stderr)


_INTERRUPT_AS_IMPORT_BEGINS = """
import atexit, importlib.abc, os, signal, sys

class InterruptAsImportBegins(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == LIBRARY:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptAsImportBegins())
atexit.register(lambda: print("imported whole" if LIBRARY in sys.modules else "import cut"))
"""


@pytest.mark.parametrize(
    ("command", "library"),
    [("build", "pyarrow"), ("build", "duckdb"), ("build", "dagster"), ("report", "matplotlib"), ("ui", "duckdb")],
)
def test_ctrl_c_inside_a_library_import_lets_it_finish_then_says_interrupted(tmp_path, command, library):
    # A KeyboardInterrupt raised inside duckdb's initialization aborts the process
    # ("Critical nanobind error"): the import must finish before the interrupt is raised.
    done = _papertrends_after(tmp_path, f"LIBRARY = {library!r}\n" + _INTERRUPT_AS_IMPORT_BEGINS, command)
    assert (done.returncode, done.stdout, done.stderr) == (130, "imported whole\n", "papertrends: interrupted\n")
    assert not (tmp_path / "warehouse" / "parquet").exists()


# Ctrl-Cs that Dagster does not turn into an interrupted run, each sent by the build itself.
_CTRL_C_THE_RUN_DOES_NOT_ACT_ON = {
    # Python cannot raise from a garbage-collector callback: it prints "Exception ignored"
    # and the step goes on (dagster issue 2919).
    "in a garbage-collector callback": """
import os, signal, weakref
import pipeline.build

stage = pipeline.build.stage

def stage_with_garbage(*args, **kwargs):
    class Garbage:
        pass

    def collected(_):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # Python runs the signal handler here, in the callback
            pass

    garbage = Garbage()
    ref = weakref.ref(garbage, collected)
    del garbage
    return stage(*args, **kwargs)

pipeline.build.stage = stage_with_garbage
""",
    # Between steps Dagster only records a Ctrl-C; after the last one it forgets it.
    "after the last step": """
import os, signal
import dagster as dg

handle_new_event = dg.DagsterInstance.handle_new_event

def handle_and_interrupt(self, event, *args, **kwargs):
    if event.dagster_event is not None and event.dagster_event.event_type == dg.DagsterEventType.RUN_SUCCESS:
        os.kill(os.getpid(), signal.SIGINT)
    return handle_new_event(self, event, *args, **kwargs)

dg.DagsterInstance.handle_new_event = handle_and_interrupt
""",
}


@pytest.mark.parametrize("when", sorted(_CTRL_C_THE_RUN_DOES_NOT_ACT_ON))
def test_a_ctrl_c_the_run_does_not_act_on_still_ends_as_interrupted(tmp_path, when):
    # The run publishes everything, but the user asked to stop: a script that runs
    # `papertrends build && next` must not go on to `next`.
    done = _papertrends_after(tmp_path, _CTRL_C_THE_RUN_DOES_NOT_ACT_ON[when])
    assert (done.returncode, done.stderr) == (130, "papertrends: interrupted; the tables and trends.duckdb were published\n")


_CTRL_C_IN_A_DUCKDB_QUERY = """
import os, signal, threading, duckdb
import pipeline.store.consolidate

consolidate = pipeline.store.consolidate.consolidate

def consolidate_after_a_long_query(*args, **kwargs):
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
    duckdb.sql("SELECT count(*) FROM range(1_000_000_000) t(x) WHERE x % 7 = 3").fetchall()  # seconds
    return consolidate(*args, **kwargs)

pipeline.store.consolidate.consolidate = consolidate_after_a_long_query
"""


def test_a_ctrl_c_inside_a_duckdb_query_ends_as_interrupted(tmp_path):
    # DuckDB stops the query and raises its own RuntimeError("Query interrupted").
    done = _papertrends_after(tmp_path, _CTRL_C_IN_A_DUCKDB_QUERY)
    expected = "papertrends: interrupted; nothing was published (no build has published tables here yet)\n"
    assert (done.returncode, done.stderr) == (130, expected)


@pytest.mark.parametrize("blocked_before", [set(), {signal.SIGINT}])
def test_interrupts_held_gives_back_the_mask_it_found(blocked_before):
    from assets.cli import interrupts_held

    found = signal.pthread_sigmask(signal.SIG_SETMASK, blocked_before)
    try:
        with interrupts_held():
            assert signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())
        assert signal.pthread_sigmask(signal.SIG_BLOCK, set()) == blocked_before
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, found)


@pytest.mark.parametrize("cause", [KeyboardInterrupt(), None])
def test_ctrl_c_while_an_extension_module_initializes_is_interrupted_not_a_traceback(monkeypatch, capsys, cause):
    # What matplotlib's ft2font raises when SIGINT lands in its initialization; any other
    # ImportError stays a traceback (it is a broken install, not the user's Ctrl-C).
    import assets.cli

    def main():
        raise ImportError("initialization failed") from cause

    monkeypatch.setattr(assets.cli, "main", main)
    if cause is None:
        with pytest.raises(ImportError, match="initialization failed"):
            assets.cli.run()
        return
    with pytest.raises(SystemExit) as exited:
        assets.cli.run()
    assert (exited.value.code, capsys.readouterr().err) == (130, "papertrends: interrupted\n")


@pytest.mark.parametrize("damaged", ["papers part truncated", "digests part garbage", "trends.duckdb garbage", "published record gone"])
def test_a_damaged_published_file_is_rebuilt_by_the_next_build(sample_settings, tmp_path, damaged):
    import shutil

    from pipeline.serve.trends_db import built_from
    from tests.helpers import read_table

    warehouse = tmp_path / "warehouse"
    shutil.copytree(sample_settings.warehouse_dir, warehouse, symlinks=True)
    settings_ = Settings(warehouse, sample_settings.digests_dir)
    layout = settings_.layout
    before = {table: read_table(layout, table) for table in TABLES}
    if damaged == "papers part truncated":
        [path] = layout.table_files("papers")
        path.write_bytes(path.read_bytes()[:1000])
    elif damaged == "digests part garbage":
        [path] = layout.table_files("digests")
        path.write_bytes(b"not parquet at all")
    elif damaged == "trends.duckdb garbage":
        layout.duckdb_path.write_bytes(b"not a database")
    else:
        layout.published_record.unlink()
    result = build_warehouse(settings_)
    assert result.published
    for table in TABLES:
        got = read_table(layout, table)
        if damaged == "digests part garbage" and table == "digests":
            # Its first ingestion times were in the damaged file: the staged parse times stand in.
            got, expected = got.drop_columns(["ingested_at"]), before[table].drop_columns(["ingested_at"])
        else:
            expected = before[table]
        assert got.equals(expected), table
    assert built_from(layout.duckdb_path) is not None


@pytest.mark.slow
def test_a_report_that_cannot_be_written_after_a_full_publish_is_a_warning(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "a.txt").write_text(render("Mar 12", [("A Paper", abstract("a"))]))
    blocker = tmp_path / "warehouse" / "report" / "index.html"
    blocker.mkdir(parents=True)  # a directory where the report's file goes
    env = {"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "PAPERTRENDS_DIGESTS_DIR": str(digests)}
    completed = run_cli("build", env_extra=env)
    assert completed.returncode == 0, completed.stderr
    warning = [line for line in completed.stdout.splitlines() if line.startswith("papertrends: warning:")]
    assert len(warning) == 1 and "the tables and trends.duckdb are published" in warning[0]
    assert len(rows(Settings(tmp_path / "warehouse", digests).layout, "papers")) == 1
    # Without Dagster, the same: published, and the warning in the result.
    result = build_warehouse(Settings(tmp_path / "other", digests))
    assert result.warnings == []
    (tmp_path / "other" / "report" / "index.html").unlink()
    (tmp_path / "other" / "report" / "index.html").mkdir()
    (digests / "b.txt").write_text(render("Mar 13", [("B Paper", abstract("b"))]))
    result = build_warehouse(Settings(tmp_path / "other", digests))
    assert result.published and len(result.warnings) == 1
