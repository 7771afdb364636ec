"""papertrends domain core: digests in, Parquet tables and a DuckDB file out.

Plain Python with no Dagster import, so it can be tested and reused alone.
"""

PARSER_VERSION = "1.0.0"
