"""A pytest plugin for `make mutation` only (pyproject.toml [tool.mutmut]).

It imports, before any test, the modules a build imports lazily. mutmut runs each
mutant's tests in a process forked from one that has collected the tests, and bounds its
time by what those tests took when everything was imported. Without this, every forked
run that validates would import Great Expectations (seconds) again, and be stopped as a
timeout, a mutant counted as detected that no test detected.

It also runs a mutant's tests fastest first. mutmut stops at the first failure (-x) but
passes the tests in no set order, so a mutant that one quick test kills could first sit
through every slow test of its function.
"""

import json
from pathlib import Path

import great_expectations
import great_expectations.data_context.types.base
import great_expectations.expectations.row_conditions  # noqa: F401
import matplotlib.figure  # noqa: F401
import pandas  # noqa: F401
import polars  # noqa: F401

# Written by mutmut in the directory the tests run in (mutants/), once it has timed every
# test; absent during that first timing run, when the order does not matter.
_STATS = Path("mutmut-stats.json")


def pytest_collection_modifyitems(items):
    try:
        seconds = json.loads(_STATS.read_text("utf-8"))["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: seconds.get(item.nodeid, 0.0))
