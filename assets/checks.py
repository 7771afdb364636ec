"""Blocking asset checks: the audit of write-audit-publish.

One check per table runs its Great Expectations suite on the parts of the table
that consolidated_tables wrote (the candidates, not yet published; the unchanged
parts passed when they were written); one more runs the checks across tables in
DuckDB, over each table as it would be published (candidate parts where written,
published parts elsewhere). Without candidates, the published tables are checked.
A failed check is an ERROR and blocking, so trends_duckdb (which publishes the
candidates) does not run: the published tables and trends.duckdb stay as they were.

The six checks are one step (a multi-asset check; each can still run alone from
the UI). After a large parse, the tables are validated in the worker process that
started importing GX when the parse ended (pipeline.validation_pool), while this
process runs the checks across tables. Otherwise two threads run them here, so that
one check's DuckDB and Arrow reads, which release the GIL, overlap another's GX work.
"""

import html
import json
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import dagster as dg

from assets.resources import WarehouseResource
from pipeline import validation_pool
from pipeline.config import Layout
from pipeline.cross_checks import run_cross_checks
from pipeline.publish import record_check
from pipeline.schemas import TABLES
from pipeline.table_parts import candidate_table_files, read_plan, written_files
from pipeline.validation_docs import cross_table_result, index_path, write_result

CROSS_TABLE_CHECK = "cross_table_integrity"


def parts_to_validate(layout: Layout, table: str) -> list[Path]:
    """The candidate parts awaiting publication if there are candidates, else the published table."""
    plan = read_plan(layout)
    return written_files(layout, plan)[table] if plan is not None else layout.table_files(table)


def _md(value: object) -> str:
    """A value for a markdown table cell: JSON-quoted (so "" shows), short, escaped."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text if len(text) <= 160 else text[:159] + "…"
    return html.escape(text.replace("\n", " ")).replace("|", "&#124;")


def _failures_markdown(items: list[dict]) -> str:
    failed = [item for item in items if not item["success"]]
    if not failed:
        return "every rule holds"
    lines = ["| rule | column(s) | unexpected | a few unexpected values | a few unexpected rows |", "|---|---|---|---|---|"]
    for item in failed:
        lines.append(
            f"| {html.escape(item['rule'])} (`{item['check']}`) | {html.escape(', '.join(item['columns']))} "
            f"| {item['unexpected_count']} | {'; '.join(_md(value) for value in item['unexpected_values'])} "
            f"| {'; '.join(_md(row) for row in item['rows']) or (_md(item['error']) if item['error'] else '')} |"
        )
    return "\n".join(lines)


def _check_metadata(result: dict, page: Path, layout: Layout) -> dict:
    failures = [
        {
            "rule": item["rule"],
            "check": item["check"],
            "columns": item["columns"],
            "unexpected_count": item["unexpected_count"],
            "unexpected_values": item["unexpected_values"],
            "unexpected_rows": item["rows"],
            "error": item["error"],
        }
        for item in result["items"]
        if not item["success"]
    ]
    metadata = {
        "data_docs": dg.MetadataValue.path(str(index_path(layout.validation_dir))),
        "result_page": dg.MetadataValue.path(str(page)),
        "rules": len(result["items"]),
        "rules_failed": len(failures),
        "failed_expectations": dg.MetadataValue.md(_failures_markdown(result["items"])),
        "failures": dg.MetadataValue.json(failures),
    }
    if result["row_count"] is not None:
        metadata["rows"] = result["row_count"]
        metadata["file"] = dg.MetadataValue.path(result["source"])
    return metadata


def _cross_check(layout: Layout) -> dict:
    files = {table: candidate_table_files(layout, table) for table in TABLES}
    return cross_table_result(run_cross_checks(files), files, datetime.now().astimezone().isoformat(timespec="seconds"))


CROSS_TABLE_SPEC = dg.AssetCheckSpec(
    name=CROSS_TABLE_CHECK,
    asset="appearances",
    blocking=True,
    # No additional_deps on the other tables: Dagster would then skip this check when a
    # table's own blocking check fails, and every failure should be reported in one run.
    # The five tables come from one step (consolidated_tables), so all are written by now.
    description=(
        "Across tables, in DuckDB: paper_ids of appearances and repo_links exist in papers, "
        "digest_ids of appearances and rejects exist in digests, appearances per digest equal its entry_count."
    ),
)


def _table_spec(table: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        name=f"{table}_expectations",
        asset=table,
        blocking=True,
        description=f"Great Expectations suite of {table} (see the README, Validation); blocks publishing when it fails.",
    )


# Largest tables first: with two threads, the two longest checks overlap.
CHECK_SPECS = [
    *map(_table_spec, ("papers", "appearances", "repo_links")),
    CROSS_TABLE_SPEC,
    *map(_table_spec, ("digests", "rejects")),
]
assert {spec.asset_key.path[-1] for spec in CHECK_SPECS} == set(TABLES)


def _submit_checks(
    layout: Layout, specs: list[dg.AssetCheckSpec], threads: ThreadPoolExecutor, worker: ProcessPoolExecutor | None
) -> list[tuple[dg.AssetCheckSpec, Future]]:
    """Each check with its result to come: the tables' suites in the worker if there is one.

    A table whose files cannot be listed (a damaged plan.json) fails its own check.
    """
    jobs, unlisted = {}, {}
    for spec in specs:
        table = spec.asset_key.path[-1]
        if spec.name != CROSS_TABLE_CHECK:
            try:
                jobs[table] = (parts_to_validate(layout, table), candidate_table_files(layout, "digests"))
            except Exception as error:  # noqa: BLE001 - reported as this check's failure
                unlisted[table] = Future()
                unlisted[table].set_exception(error)
    suites = validation_pool.validate_tables(jobs, threads, worker) | unlisted
    return [
        (spec, threads.submit(_cross_check, layout) if spec.name == CROSS_TABLE_CHECK else suites[spec.asset_key.path[-1]])
        for spec in specs
    ]


@dg.multi_asset_check(
    specs=CHECK_SPECS,
    can_subset=True,
    name="table_checks",
    description="The blocking checks of the five tables: one Great Expectations suite each, and the checks across tables.",
)
def table_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[dg.AssetCheckResult]:
    layout = warehouse.layout
    selected = [spec for spec in CHECK_SPECS if spec.key in context.selected_asset_check_keys]
    errors: list[Exception] = []
    worker = validation_pool.take()
    if worker is not None:
        context.log.info("the tables' suites run in the worker that imported Great Expectations as the parse ended")
    threads = ThreadPoolExecutor(validation_pool.THREADS, thread_name_prefix="check")
    try:
        futures = _submit_checks(layout, selected, threads, worker)
        # Results are written and reported here, one at a time: the data docs index
        # and the approvals are files that two threads must not write at once.
        for spec, future in futures:
            try:
                result = future.result()
                page = write_result(layout.validation_dir, result)
                record_check(layout, spec.name, result["success"])
                passed, metadata = result["success"], _check_metadata(result, page, layout)
            except Exception as error:  # noqa: BLE001 - reported as this check's failure, raised after the others
                errors.append(error)
                context.log.error(f"{spec.name} could not run: {error!r}")
                _forget_approval(layout, spec.name)
                passed, metadata = False, {"error": dg.MetadataValue.text(f"could not run: {error!r}")}
            yield dg.AssetCheckResult(
                asset_key=spec.asset_key,
                check_name=spec.name,
                passed=passed,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=metadata,
            )
    finally:
        # On an interrupted step, the checks not started yet are dropped, not run.
        threads.shutdown(wait=True, cancel_futures=True)
        if worker is not None:
            worker.shutdown(wait=True, cancel_futures=True)
    if errors:
        raise errors[0]


def _forget_approval(layout: Layout, check: str) -> None:
    """Remove a check's approval, so that trends_duckdb does not publish on an earlier pass."""
    try:
        record_check(layout, check, passed=False)
    except OSError:
        pass  # an approval that cannot be removed cannot be read either


ALL_TABLE_CHECKS = [table_checks]
# The checks a candidate must have passed, as it is, before trends_duckdb publishes it.
REQUIRED_CHECKS = [*(f"{table}_expectations" for table in TABLES), CROSS_TABLE_CHECK]
