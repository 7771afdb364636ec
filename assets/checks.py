"""Blocking asset checks: the audit of write-audit-publish.

One check per table runs its Great Expectations suite over the whole table as it
would be published (the candidates, or the published table when nothing new was
consolidated); one more runs the checks across tables in DuckDB. A failed check is
an ERROR and blocking, so trends_duckdb (which publishes) does not run, and its
withdrawn approval keeps a later run from publishing those candidates either.
"""

import html
import json
import re
from collections.abc import Iterator

import dagster as dg

from assets.resources import WarehouseResource
from pipeline.build import REQUIRED_CHECKS, WARNING_CHECK_NAMES, last_result_if_current, run_check
from pipeline.validate.cross_checks import CROSS_TABLE_CHECK, WARNING_CHECKS
from pipeline.validate.docs import index_path, page_path
from pipeline.validate.results import CheckResult

# Markdown's inline syntax: a title "[Code](https://x)" must show as written, not as a link.
_MARKDOWN_SYNTAX = re.compile(r"([\\`*_\[\]()~#!])")


def _md(value: object) -> str:
    """A value for a markdown table cell: JSON-quoted (so "" shows), short, escaped as markdown and HTML."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= 160 else text[:159] + "…"
    text = _MARKDOWN_SYNTAX.sub(r"\\\1", text.replace("\n", " "))
    return html.escape(text).replace("|", "&#124;")


def failures_markdown(result: CheckResult) -> str:
    if result.success:
        return "every rule holds"
    lines = ["| rule | column(s) | unexpected | a few unexpected values | a few unexpected rows |", "|---|---|---|---|---|"]
    for rule in result.failures:
        shown = "; ".join(_md(row) for row in rule.rows) or (_md(rule.error) if rule.error else "")
        lines.append(
            f"| {html.escape(rule.rule)} (`{rule.check}`) | {html.escape(', '.join(rule.columns))} "
            f"| {rule.unexpected_count} | {'; '.join(_md(value) for value in rule.unexpected_values)} | {shown} |"
        )
    return "\n".join(lines)


def check_metadata(result: CheckResult, warehouse: WarehouseResource, reused: bool) -> dict:
    validation_dir = warehouse.layout.validation_dir
    metadata = {
        "data_docs": dg.MetadataValue.path(str(index_path(validation_dir))),
        "result_page": dg.MetadataValue.path(str(page_path(validation_dir, result.name))),
        "validated_at": result.validated_at,
        "reused": dg.MetadataValue.bool(reused),
        "rules": len(result.rules),
        "rules_failed": len(result.failures),
        "failed_rules": dg.MetadataValue.md(failures_markdown(result)),
        "files": result.source,
    }
    if result.row_count is not None:
        metadata["rows"] = result.row_count
    return metadata


def _spec(name: str) -> dg.AssetCheckSpec:
    if name == CROSS_TABLE_CHECK:
        # No additional_deps on the other tables: Dagster would then skip this check when
        # a table's own blocking check fails, and every failure should show in one run.
        return dg.AssetCheckSpec(
            name=name,
            asset="appearances",
            blocking=True,
            description=(
                "Across tables, in DuckDB: paper_ids of appearances and repo_links exist in papers, digest_ids of "
                "appearances and rejects exist in digests, appearances per digest equal its entry_count."
            ),
        )
    table = name.removesuffix("_expectations")
    return dg.AssetCheckSpec(
        name=name,
        asset=table,
        blocking=True,
        description=f"Great Expectations suite of {table} over the whole table (docs/validation.md); blocks publishing when it fails.",
    )


CHECK_SPECS = [_spec(name) for name in REQUIRED_CHECKS]
WARNING_SPECS = [
    dg.AssetCheckSpec(
        name=name,
        asset="papers",
        blocking=False,
        description=f"Warning (never blocks): {WARNING_CHECKS[name][0]}. The findings are in the metadata and the Data Docs.",
    )
    for name in WARNING_CHECK_NAMES
]


def _evaluate(
    context: dg.AssetCheckExecutionContext,
    warehouse: WarehouseResource,
    specs: list[dg.AssetCheckSpec],
    severity: dg.AssetCheckSeverity,
    reuse_passed: bool,
) -> Iterator[dg.AssetCheckResult]:
    """A result for each selected check; a check that cannot run is reported failed, and
    its error raised after the others ran, so that every problem shows in one run."""
    layout = warehouse.layout
    errors: list[Exception] = []
    for spec in specs:
        if spec.key not in context.selected_asset_check_keys:
            continue
        # Tables unchanged since their last passing validation are not validated again.
        result = last_result_if_current(layout, spec.name) if reuse_passed else None
        reused = result is not None
        try:
            result = result or run_check(layout, spec.name)
            passed, metadata = result.success, check_metadata(result, warehouse, reused)
        except Exception as error:
            errors.append(error)
            context.log.error(f"{spec.name} could not run: {error!r}")
            passed, metadata = False, {"error": dg.MetadataValue.text(f"could not run: {error!r}")}
        yield dg.AssetCheckResult(asset_key=spec.asset_key, check_name=spec.name, passed=passed, severity=severity, metadata=metadata)
    if errors:
        raise errors[0]


@dg.multi_asset_check(
    specs=CHECK_SPECS,
    can_subset=True,
    name="table_checks",
    description="The blocking checks of the tables: one Great Expectations suite each, and the checks across tables.",
)
def table_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    yield from _evaluate(context, warehouse, CHECK_SPECS, dg.AssetCheckSeverity.ERROR, reuse_passed=True)


@dg.multi_asset_check(
    specs=WARNING_SPECS,
    can_subset=True,
    name="table_warnings",
    description="Checks that warn: titles that look like markup, cards naming another arXiv id than their paper's.",
)
def table_warnings(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    yield from _evaluate(context, warehouse, WARNING_SPECS, dg.AssetCheckSeverity.WARN, reuse_passed=False)
