"""A pytest plugin for `make mutation` only (pyproject.toml [tool.mutmut]): imports, before
any test, the modules a build imports lazily.

mutmut runs each mutant's tests in a process forked from one that has collected the tests,
and bounds its time by what those tests took when everything was imported. Without this,
every forked run that validates would import Great Expectations (seconds) again, and be
stopped as a timeout, a mutant counted as detected that no test detected.
"""

import great_expectations
import great_expectations.data_context.types.base
import great_expectations.expectations.row_conditions  # noqa: F401
import matplotlib.figure  # noqa: F401
import pandas  # noqa: F401
import polars  # noqa: F401
