"""Importing the project changes nothing outside it: no library patched, no listener registered,
no environment variable set; and pipeline/ does not depend on Dagster.

Each check runs in a fresh interpreter, so what this test process imported does not hide an effect.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.dagster

PROJECT = ("assets", "pipeline")


def _python(script: str) -> dict:
    """Run a script in a fresh interpreter of this venv; its last stdout line is JSON."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def _modules_imported_by(statement: str) -> dict:
    return _python(
        f"""
        import json, os, sys
        before, environ = set(sys.modules), dict(os.environ)
        {statement}
        print(json.dumps({{"new": [name for name in sys.modules if name not in before], "environ_same": dict(os.environ) == environ}}))
        """
    )


def test_importing_the_definitions_loads_no_great_expectations_and_sets_no_environment():
    imported = _modules_imported_by("import assets.definitions")
    assert imported["environ_same"]
    assert "assets.definitions" in imported["new"] and "dagster" in imported["new"]  # the import did happen
    assert [name for name in imported["new"] if name.split(".")[0] == "great_expectations"] == []


# The snapshot script: every module the import of assets.definitions loads (found by a first
# interpreter) is imported first, with the storages, executors and SQLAlchemy; then everything
# they define is recorded, assets.definitions imported, and compared.
_SNAPSHOT = """
import importlib, json, os, signal, sys

for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except Exception:
        pass  # a module that only loads in its importer's context: compared if it loaded

import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.event import registry
import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._core.instance import DagsterInstance
from dagster_postgres.event_log.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage.run_storage import PostgresRunStorage
from dagster_shared.record import is_record

PROJECT = ("assets", "pipeline", "__main__")
STORAGES = [SqliteEventLogStorage, SqlEventLogStorage, SqliteRunStorage, SqlRunStorage, SqliteScheduleStorage,
            DagsterSqliteStorage, DagsterInstance, PostgresEventLogStorage, PostgresRunStorage]
EXECUTORS = {"in_process": dg.in_process_executor, "multiprocess": dg.multiprocess_executor,
             "multi_or_in_process": dg.multi_or_in_process_executor}


def bindings():
    modules, classes = {}, {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] in PROJECT:
            continue
        try:
            values = dict(vars(module))
        except TypeError:
            continue
        for key, value in values.items():
            modules[(name, key)] = value
            if isinstance(value, type) and getattr(value, "__module__", None) == name:
                classes[(name, key)] = (value, dict(vars(value)))
    return modules, classes


def listeners():
    found = {}
    for (target, identifier, _), collections in list(registry._key_to_collection.items()):
        for owner, listener in list(collections.items()):
            fn = listener()
            if fn is not None:
                found[(target, identifier, id(fn))] = fn
    return found


def origin(value):
    code = getattr(getattr(value, "__func__", value), "__code__", None)
    return code.co_filename if code is not None else type(value).__module__


def jit_constructor(cls, attribute, value):
    # Dagster's @record classes compile their checked __new__ on first use (dagster_shared.record.JitCheckedNew).
    return is_record(cls) and attribute in ("__new__", "__replace_new__") and origin(value) == "<string>"


modules_before, classes_before = bindings()
listeners_before = listeners()
storages_before = {cls.__qualname__: dict(vars(cls)) for cls in STORAGES}
executors_before = {name: (e.name, e.executor_creation_fn, e.config_schema, dict(vars(e))) for name, e in EXECUTORS.items()}
environ_before = dict(os.environ)
signals_before = {int(s): signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
path_before = list(sys.path)

import assets.definitions  # the import under test

modules_after, _ = bindings()
changed = [f"{module}.{name} -> {origin(modules_after[(module, name)])}"
           for (module, name), value in modules_before.items()
           if (module, name) in modules_after and modules_after[(module, name)] is not value]
removed = [f"{module}.{name}" for (module, name) in modules_before if (module, name) not in modules_after]
class_changes, jit = [], 0
for (module, name), (cls, before) in classes_before.items():
    now = dict(vars(cls))
    for attribute in set(before) | set(now):
        if before.get(attribute, now) is not now.get(attribute, before):
            if attribute in now and jit_constructor(cls, attribute, now[attribute]):
                jit += 1
                continue
            class_changes.append(f"{module}.{name}.{attribute} -> {origin(now[attribute]) if attribute in now else 'deleted'}")
listeners_after = listeners()
engine = id(Engine)
print(json.dumps({
    "modules_compared": len({module for module, _ in modules_before}),
    "changed": changed,
    "removed": removed,
    "class_changes": class_changes,
    "jit_constructors": jit,
    "storages_changed": [cls.__qualname__ for cls in STORAGES if dict(vars(cls)) != storages_before[cls.__qualname__]],
    "storage_methods_from_the_project": sorted(
        f"{cls.__qualname__}.{name}" for cls in STORAGES for name, value in vars(cls).items()
        if str(origin(value)).startswith((sys.argv[2] + "/assets/", sys.argv[2] + "/pipeline/"))
    ),
    "executors_changed": [name for name, e in EXECUTORS.items()
                          if (e.name, e.executor_creation_fn, e.config_schema, dict(vars(e))) != executors_before[name]],
    "executor_names": {name: e.name for name, e in EXECUTORS.items()},
    "listeners_added": sorted(f"{key[1]}: {origin(fn)}" for key, fn in listeners_after.items() if key not in listeners_before),
    "listeners_removed": sorted(f"{identifier}" for (_, identifier, _) in set(listeners_before) - set(listeners_after)),
    "engine_listeners_kept": all(event.contains(Engine, identifier, fn)
                                 for (target, identifier, _), fn in listeners_before.items() if target == engine),
    "engine_listeners_after": sorted(identifier for (target, identifier, _) in listeners_after if target == engine),
    "engine_listeners_before": sorted(identifier for (target, identifier, _) in listeners_before if target == engine),
    "environ_same": dict(os.environ) == environ_before,
    "signals_same": {int(s): signal.getsignal(s) for s in signals_before} == signals_before,
    "path_same": sys.path == path_before,
}))
"""


def test_importing_the_definitions_patches_nothing():
    loaded = _modules_imported_by("import assets.definitions")["new"]
    libraries = [name for name in loaded if name.split(".")[0] not in (*PROJECT, "__main__", "__mp_main__")]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    done = subprocess.run(
        [sys.executable, "-c", _SNAPSHOT, json.dumps(libraries), str(REPO)], cwd=REPO, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["modules_compared"] > 500  # dagster, sqlalchemy and the rest were there to compare
    assert result["changed"] == [] and result["removed"] == []
    assert result["class_changes"] == []
    assert result["storages_changed"] == [] and result["storage_methods_from_the_project"] == []
    assert result["executors_changed"] == []
    assert result["executor_names"] == {"in_process": "in_process", "multiprocess": "multiprocess", "multi_or_in_process": "multi_or_in_process_executor"}
    assert result["listeners_added"] == [] and result["listeners_removed"] == []
    assert result["engine_listeners_kept"] and result["engine_listeners_after"] == result["engine_listeners_before"]
    assert result["environ_same"] and result["signals_same"] and result["path_same"]


def test_pipeline_imports_no_dagster():
    imported = _python(
        """
        import importlib, json, pkgutil, sys
        import pipeline
        names = [info.name for info in pkgutil.walk_packages(pipeline.__path__, "pipeline.")]
        for name in names:
            importlib.import_module(name)
        print(json.dumps({"pipeline": names, "dagster": sorted(name for name in sys.modules if name.split(".")[0].startswith("dagster"))}))
        """
    )
    assert {"pipeline.build", "pipeline.store.staging", "pipeline.read.reader", "pipeline.serve.trends_db"} <= set(imported["pipeline"])
    assert imported["dagster"] == []


# Modules of process, network or file-system work that reading bytes into a digest has no use for.
_NOT_FOR_READING = {
    "subprocess", "socket", "ssl", "select", "selectors", "asyncio", "multiprocessing", "concurrent", "threading",
    "shutil", "tempfile", "mmap", "fcntl", "glob", "sqlite3", "http", "urllib.request",
}  # fmt: skip


def test_pipeline_read_imports_only_the_standard_library():
    new = _modules_imported_by(
        "import pipeline.read.reader, pipeline.read.decoding, pipeline.read.dates, pipeline.read.identity, pipeline.read.links"
    )["new"]
    project = sorted(name for name in new if name.split(".")[0] == "pipeline")
    formats = ["common", "daily_json", "markdown", "markdown_cards", "markdown_links", "sample", "text_export", "unrecognized"]
    assert project == [
        "pipeline", "pipeline.read", "pipeline.read.dates", "pipeline.read.decoding",
        "pipeline.read.formats", *(f"pipeline.read.formats.{name}" for name in formats),
        "pipeline.read.identity", "pipeline.read.links", "pipeline.read.parsed", "pipeline.read.reader",
    ]  # fmt: skip
    outside = sorted({name.split(".")[0] for name in new if name.split(".")[0] not in ("pipeline", *sys.stdlib_module_names)})
    assert outside == []
    assert sorted(name for name in new if name in _NOT_FOR_READING or name.split(".")[0] in _NOT_FOR_READING - {"urllib"}) == []
