"""Security: no SQL pasted from data, no path escaping its directory, servers on 127.0.0.1."""

import ast
import hashlib
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from assets import cli
from assets.metadata import markdown_preview
from pipeline.build import build_warehouse
from pipeline.config import ConfigError, Layout, Settings, part_file_name
from pipeline.schemas import TABLES
from pipeline.serve.trends_db import connect_readonly
from pipeline.sql import identifier, string_list_literal, string_literal
from pipeline.store.digest_files import UNREACHABLE, ListedFile, read_digest_bytes
from pipeline.store.parse import ParseSettings, parse_files
from pipeline.store.staging import ChangePlan, apply_changes, open_staging
from tests.helpers import REPO, SAMPLES, abstract, render, rows

SOURCE_DIRS = ("pipeline", "assets")
_SQL_VERBS = ("SELECT", "CREATE", "INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "COPY", "ATTACH", "SET", "PRAGMA", "WITH", "INSTALL", "LOAD")
# The only values an f-string may put into SQL: checked names, escaped literals, integers.
_SAFE_CALLS = {"identifier", "string_literal", "string_list_literal", "int"}
# SQL text that is code, not data (file, expression as written).
_CODE_CONSTANTS = {
    ("pipeline/serve/trends_db.py", "query"),  # a trend table's or view's SELECT, from trends_sql.py
    ("pipeline/serve/trends_db.py", "signature"),  # macro parameter names, each through identifier()
    ("pipeline/serve/trends_db.py", "DATABASE"),  # a fixed name
    ("pipeline/serve/trends_db.py", "BUILD_INFO"),  # a fixed name
    ("pipeline/serve/trends_sql.py", "HAS_CODE"),  # a fixed condition on link kinds and columns
    ("pipeline/report/data.py", "HAS_CODE"),  # the same condition, from trends_sql.py
    ("pipeline/serve/trends_sql.py", "REPO_FIGURES"),  # a fixed select list of a repository's figures
    ("pipeline/report/data.py", "REPO_FIGURES"),  # the same list, from trends_sql.py
    ("pipeline/report/text.py", "', '.join(DAILY_COLUMNS)"),  # a fixed tuple of column names
    ("pipeline/validate/cross_checks.py", "query"),  # a cross-table check's SELECT, from CROSS_CHECKS
    ("pipeline/store/consolidate.py", "_PREVIOUS_INGESTIONS"),  # a fixed name
    ("pipeline/store/consolidate.py", "_ORDER_STEP"),  # a fixed integer: 2**31
    ("pipeline/store/consolidate.py", "WHOLE_PART"),  # a fixed part name

    ("pipeline/store/consolidate.py", "_MONTH.format(column='f.first_seen_date')"),  # a fixed expression
    ("pipeline/store/consolidate.py", "_MONTH.format(column='digest_date')"),
    ("pipeline/store/consolidate.py", "_LINK_ORDER"),  # a fixed expression: an entry's order, the abstract before the card
    ("pipeline/store/consolidate.py", "_MONTH.format(column='first_seen_date')"),
    ("pipeline/store/consolidate.py", "_MONTH.format(column='p.first_seen_date')"),
    # Fixed expressions of the window's days and weeks, and the fixed conditions and
    # orders of the two macros _term_changes builds.
    *(("pipeline/serve/topics_sql.py", name) for name in ("_WEEK", "_START", "_END", "_BASELINE_START", "_FIRST_SIGHTING_FLAGS", "kept", "order", "_WORDS")),
}


def _sql_fstrings(tree: ast.AST):
    """f-strings that are SQL: passed to execute/sql, or starting with an SQL verb."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("execute", "sql") and node.args:
            first = node.args[0]
            pasted = isinstance(first, (ast.JoinedStr, ast.BinOp))
            formatted = isinstance(first, ast.Call) and getattr(first.func, "attr", "") == "format"
            if pasted or formatted:
                yield first
        starts_with_a_verb = (
            isinstance(node, ast.JoinedStr)
            and node.values
            and isinstance(node.values[0], ast.Constant)
            and str(node.values[0].value).lstrip().upper().startswith(_SQL_VERBS)
        )
        if starts_with_a_verb:
            yield node


def _unsafe_parts(relative: str, node: ast.AST) -> list[str]:
    if not isinstance(node, ast.JoinedStr):
        return [f"SQL built with {type(node).__name__}: {ast.unparse(node)}"]
    unsafe = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            value = part.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in _SAFE_CALLS:
                continue
            if (relative, ast.unparse(value)) in _CODE_CONSTANTS:
                continue
            unsafe.append(ast.unparse(value))
    return unsafe


def test_no_sql_is_built_by_pasting_values():
    problems = []
    checked = 0
    for directory in SOURCE_DIRS:
        for path in sorted((REPO / directory).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            for node in _sql_fstrings(ast.parse(path.read_text(), filename=relative)):
                checked += 1
                problems += [f"{relative}:{node.lineno}: {part}" for part in _unsafe_parts(relative, node)]
    assert problems == []
    assert checked >= 4  # the DDL of the views, at least: the scan does find SQL


@pytest.mark.parametrize("name", ["", "Papers", "papers; DROP TABLE x", 'x"y', "1papers", "papers--", "pap\u00e9rs", "a b"])
def test_unsafe_identifiers_are_refused(name):
    with pytest.raises(ValueError, match="not a safe SQL identifier"):
        identifier(name)


def test_string_literals_escape_quotes_and_refuse_nul():
    assert string_literal("it's") == "'it''s'"
    assert string_list_literal(["a", "it's"]) == "['a', 'it''s']"
    with pytest.raises(ValueError):
        string_literal("a\0b")


def test_a_warehouse_path_with_a_question_mark_is_refused_before_anything_is_written(tmp_path):
    warehouse = tmp_path / "wh?mode=x"
    with pytest.raises(ConfigError, match="may not contain '\\?'"):
        build_warehouse(Settings(warehouse, SAMPLES, None))
    assert not warehouse.exists()


def test_a_warehouse_path_full_of_sql_works_and_injects_nothing(tmp_path):
    """Paths are the one value pasted into DDL (DuckDB takes no parameters there)."""
    warehouse = tmp_path / "o'brien'); DROP VIEW papers; --" / "wh [1]*"  # SQL and glob characters
    settings = Settings(warehouse, SAMPLES, None)
    build_warehouse(settings)
    with connect_readonly(settings.layout.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM appearances").fetchone()[0] == 358
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == 298


@pytest.mark.parametrize("pattern", ["wh*", "wh[12]", "wh{1,2}"])  # "?" is refused (see above)
def test_glob_characters_in_the_warehouse_path_match_nothing_else(sample_settings, tmp_path, pattern):
    """Next to directories the pattern would match, the build reads its own files only."""
    one_digest = tmp_path / "raw"
    one_digest.mkdir()
    shutil.copy(SAMPLES / sorted(os.listdir(SAMPLES))[0], one_digest)
    for twin in ("wh1", "wh2", "whX"):  # warehouses of all five samples
        shutil.copytree(sample_settings.warehouse_dir, tmp_path / twin, symlinks=True)
    settings = Settings(tmp_path / pattern, one_digest, None)
    build_warehouse(settings)
    with connect_readonly(settings.layout.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM digests").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM appearances").fetchone()[0] == 81
    assert len(rows(settings.layout, "appearances")) == 81


@pytest.mark.parametrize("name", ["../../etc/passwd", "..", "a/b.txt", "/etc/passwd", "x\0y", "..\\..\\x"])
def test_digest_names_are_data_never_paths(tmp_path, name):
    """A name is read as a file inside the digests directory or refused; staging writes one database."""
    layout = Layout(tmp_path / "warehouse")
    (tmp_path / "raw").mkdir()
    listed = ListedFile(name, UNREACHABLE)
    settings = ParseSettings(None, "test", "test", __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc))
    with open_staging(layout.staging_db) as con:
        apply_changes(con, ChangePlan(parse=[listed]), parse_files(tmp_path / "raw", [listed], settings))
        staged = con.execute("SELECT source_name, status FROM staged_files").fetchall()
    assert staged == [(name, "unreadable")]
    written = sorted(path.name for path in tmp_path.rglob("*") if path.is_file())
    assert written == ["staging.duckdb"]


@pytest.mark.parametrize("name", ["../outside.txt", "..", ".", "", "sub/inner.txt", "/etc/passwd", "x\0y"])
def test_reading_refuses_names_that_leave_the_digests_dir(tmp_path, name):
    digests = tmp_path / "raw"
    (digests / "sub").mkdir(parents=True)
    (digests / "sub" / "inner.txt").write_text("inner")
    (tmp_path / "outside.txt").write_text("outside")
    with pytest.raises(PermissionError, match="not a file name inside the digests directory"):
        read_digest_bytes(digests, name)


def test_symbolic_links_out_of_the_digests_dir_are_refused_even_through_a_chain(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    (tmp_path / "secret.txt").write_text("secret")
    (digests / "inside.txt").write_text("inside")
    (digests / "hop.txt").symlink_to(tmp_path / "secret.txt")
    (digests / "chain.txt").symlink_to("hop.txt")  # inside -> inside -> outside
    (digests / "dotdot.txt").symlink_to("../secret.txt")
    (digests / "fine.txt").symlink_to("inside.txt")
    for name in ("hop.txt", "chain.txt", "dotdot.txt"):
        with pytest.raises(PermissionError, match="leads outside the digests directory"):
            read_digest_bytes(digests, name)
    assert read_digest_bytes(digests, "fine.txt") == b"inside"


def test_unknown_table_names_cannot_become_paths(tmp_path):
    layout = Layout(tmp_path)
    for table in ("../../etc", "papers/../../x", "PAPERS"):
        with pytest.raises(ValueError, match="unknown table"):
            layout.table_dir(table)
        with pytest.raises(ValueError, match="unknown table"):
            layout.candidate_dir(table)
    for part in ("../x", "2026-03/../../y", "", "part-0.parquet", "/etc/passwd", "2026-3", "part-1"):
        with pytest.raises(ValueError, match="not a table part"):
            part_file_name(part)
    assert (part_file_name("2026-03"), part_file_name("part-0")) == ("2026-03.parquet", "part-0.parquet")


def test_configured_paths_are_absolute_and_the_layout_stays_inside_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"PAPERTRENDS_WAREHOUSE_DIR": "a/../wh", "PAPERTRENDS_DIGESTS_DIR": "./raw/../in"})
    assert settings.warehouse_dir == tmp_path.resolve() / "wh"
    assert settings.digests_dir == tmp_path.resolve() / "in"
    layout = settings.layout
    paths = [layout.parquet_dir, layout.staging_dir, layout.staging_db, layout.duckdb_path, layout.dagster_home, layout.lock_path]
    paths += [layout.table_dir(table) for table in TABLES] + [layout.candidate_dir(table) for table in TABLES]
    for path in paths:
        assert path.is_absolute() and path.resolve().is_relative_to(settings.warehouse_dir), path


def _tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        for path in sorted(directory.rglob("*"))
    }


def test_a_build_writes_only_inside_the_warehouse(tmp_path):
    """Hostile digest file names: everything written lands under the warehouse directory."""
    digests = tmp_path / "raw"
    digests.mkdir()
    for number, name in enumerate(["a....txt", "~x", "$HOME.txt", "`touch pwned`.txt", "a\\..\\b.txt", "%2e%2e%2fx.txt", "-n"]):
        (digests / name).write_text(render("Mar 12", [(f"Paper {number} with a hostile file name", abstract(str(number)))]))
    (tmp_path / "sibling").mkdir()
    before_digests, before_sibling = _tree_digest(digests), _tree_digest(tmp_path / "sibling")
    before_top = sorted(path.name for path in tmp_path.iterdir())
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    assert _tree_digest(digests) == before_digests
    assert _tree_digest(tmp_path / "sibling") == before_sibling
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*before_top, "warehouse"])
    assert not (Path.cwd() / "pwned").exists()
    assert sorted(row["source_name"] for row in rows(settings.layout, "digests")) == sorted(os.listdir(digests))
    assert len(rows(settings.layout, "appearances")) == 7


def test_the_ui_binds_127_0_0_1_unless_asked(tmp_path, monkeypatch):
    """`papertrends ui` hands dagster dev --host 127.0.0.1 by default, another host only if given."""
    launched = []

    def fake_popen(command, **kwargs):
        launched.append(command)
        raise SystemExit(0)

    import assets.cli.ui

    monkeypatch.setattr(assets.cli.ui.subprocess, "Popen", fake_popen)
    monkeypatch.setenv("PAPERTRENDS_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("PAPERTRENDS_DIGESTS_DIR", str(SAMPLES))
    monkeypatch.setenv("DAGSTER_HOME", "")
    monkeypatch.delenv("DAGSTER_HOME")  # restored (unset) after the test, though ui sets it
    for argv, host in ((["ui"], "127.0.0.1"), (["ui", "--host", "0.0.0.0"], "0.0.0.0")):
        with pytest.raises(SystemExit):
            cli.main(argv)
        command = launched[-1]
        assert command[command.index("--host") + 1] == host


def test_no_code_binds_all_interfaces_by_default():
    offenders = []
    for directory in SOURCE_DIRS:
        for path in sorted((REPO / directory).rglob("*.py")):
            if "0.0.0.0" in path.read_text() or '"::"' in path.read_text():
                offenders.append(path.relative_to(REPO).as_posix())
    for name in ("Makefile", "dagster.yaml"):
        if "0.0.0.0" in (REPO / name).read_text():
            offenders.append(name)
    assert offenders == []


def test_titles_are_escaped_in_dagster_metadata():
    table = pa.table({"title": ["<script>alert(1)</script>", "a | b"]})
    preview = markdown_preview(table)
    assert "<script>" not in preview
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview
    assert "a &#124; b" in preview
