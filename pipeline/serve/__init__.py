"""Serving: trends.duckdb, one self-contained file of the tables, trend tables, views and macros."""
