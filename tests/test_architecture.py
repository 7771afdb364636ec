"""The tree tells the architecture: imports point one way, modules stay small."""

import ast
from pathlib import Path

import pytest

from tests.helpers import REPO

PIPELINE = REPO / "pipeline"
SOURCES = sorted([*PIPELINE.rglob("*.py"), *(REPO / "assets").rglob("*.py")])
# What the reading package may not import: anything that touches files, processes,
# the network or a database, and the layers above it.
NOT_FOR_READING = {
    "os", "pathlib", "shutil", "tempfile", "glob", "io", "fcntl", "mmap", "sqlite3", "subprocess",
    "socket", "urllib.request", "http", "multiprocessing", "concurrent", "duckdb", "pyarrow", "pandas", "polars",
    "dagster", "assets", "pipeline.store", "pipeline.serve", "pipeline.validate", "pipeline.report", "pipeline.build",
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _is_within(name: str, packages: set[str]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def test_pipeline_never_imports_dagster_or_assets():
    offenders = [
        f"{_relative(path)}: {name}"
        for path in PIPELINE.rglob("*.py")
        for name in _imports(path)
        if _is_within(name, {"dagster", "assets", "dagster_postgres", "dagster_webserver"})
    ]
    assert offenders == []


def test_reading_touches_no_file_system_and_no_database():
    offenders = [
        f"{_relative(path)}: {name}"
        for path in (PIPELINE / "read").rglob("*.py")
        for name in _imports(path)
        if _is_within(name, NOT_FOR_READING)
    ]
    # And no builtin open() either.
    for path in (PIPELINE / "read").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
                offenders.append(f"{_relative(path)}:{node.lineno}: open()")
    assert offenders == []


def test_the_rule_is_not_vacuous():
    """The scan sees imports: pipeline/read/reader.py imports its siblings."""
    assert "pipeline.read.decoding" in _imports(PIPELINE / "read" / "reader.py")
    assert _is_within("pipeline.store.staging", NOT_FOR_READING) and not _is_within("pipeline.storex", {"pipeline.store"})


@pytest.mark.parametrize("path", SOURCES, ids=_relative)
def test_no_module_over_450_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 450


@pytest.mark.parametrize("path", SOURCES, ids=_relative)
def test_no_module_level_assert(path):
    """An invariant at import time is an exception with a message, not an assert (python -O drops those)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [node.lineno for node in tree.body if isinstance(node, ast.Assert)]
