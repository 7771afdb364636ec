"""papertrends' Dagster layer: assets, checks, sensors and the Definitions.

Thin by design: every asset calls into `pipeline/`.
"""
