"""Validating: the Great Expectations suites of the tables, the checks across tables, the Data Docs."""
