"""The build, step by step: stage, consolidate, validate, publish (with trends.duckdb), report.

These functions are the steps. The Dagster assets (assets/) call them one per asset
and check; `build_warehouse` calls them in the same order for tests, benchmarks and
use without Dagster. Every path publishes only tables that passed every check.
"""

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from pipeline import PARSER_VERSION
from pipeline.config import ConfigError, Layout, Settings
from pipeline.schemas import TABLES
from pipeline.serve.trends_db import build_trends_db, built_from
from pipeline.store.atomic import atomic_path, remove_stale_temporaries
from pipeline.store.consolidate import Candidates, build_key, consolidate, remove_candidates
from pipeline.store.digest_files import list_with_signatures
from pipeline.store.lock import warehouse_lock
from pipeline.store.parse import ParseSettings, parse_files
from pipeline.store.publish import (
    Manifest,
    UncheckedCandidates,
    check_publishable,
    manifest_path,
    move_into_place,
    published_record,
    read_manifest,
    record_check,
    remove_unpublished_builds,
    settle_published,
)
from pipeline.store.staging import ChangePlan, apply_changes, open_staging, plan_changes, read_staging, staged_files
from pipeline.store.versions import parser_fingerprint
from pipeline.validate.cross_checks import CROSS_TABLE_CHECK, WARNING_CHECKS, run_cross_checks, run_warning_check
from pipeline.validate.results import CheckResult, RuleResult, describe_files
from pipeline.validate.suites import suite_check_name

# The checks whose approval publishing requires, every one of them.
REQUIRED_CHECKS = (*(suite_check_name(table) for table in TABLES), CROSS_TABLE_CHECK)
# Checks that warn: their findings are shown, and publish anyway.
WARNING_CHECK_NAMES = tuple(WARNING_CHECKS)


class ChecksFailed(RuntimeError):
    def __init__(self, failed: list[CheckResult]):
        self.failed = failed
        super().__init__("checks failed: " + ", ".join(result.name for result in failed))


class PartialPublish(RuntimeError):
    """The tables were published but trends.duckdb was not replaced: the message says what holds what."""


def _is_inside(path: Path, directory: Path) -> bool:
    return path == directory or path.is_relative_to(directory)


def check_settings(settings: Settings) -> None:
    """Raise ConfigError with a one-line reason when the settings cannot be built from."""
    digests_dir, warehouse = settings.digests_dir.resolve(), settings.warehouse_dir.resolve()
    if not digests_dir.is_dir():
        what = "is not a directory" if digests_dir.exists() else "not found"
        raise ConfigError(f"digests directory {what}: {digests_dir}")
    try:
        os.listdir(digests_dir)
    except OSError as error:
        raise ConfigError(f"cannot list the digests directory {digests_dir}: {error.strerror}") from None
    if "?" in str(warehouse):
        # DuckDB reads a '?' in a database path as the start of connection options.
        raise ConfigError(f"the warehouse path may not contain '?' (DuckDB cannot open a file there): {warehouse}")
    # warehouse/raw is the default digests directory: only the generated directories may not hold digests.
    layout = Layout(warehouse)
    for generated in [*layout.written_dirs, *layout.replaced_in_root, layout.dagster_home]:
        if _is_inside(digests_dir, generated):
            raise ConfigError(f"the digests directory is inside the warehouse's generated files: {digests_dir}")
    if _is_inside(warehouse, digests_dir):
        raise ConfigError(f"the warehouse may not be inside the digests directory (it would read its own output): {warehouse}")
    try:
        warehouse.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the warehouse directory {warehouse}: {error.strerror}") from None
    if not os.access(warehouse, os.W_OK | os.X_OK):
        raise ConfigError(f"the warehouse directory is not writable: {warehouse}")
    refuse_links(layout)


def refuse_links(layout: Layout) -> None:
    """A build writes only inside the warehouse: a symbolic link where it writes is refused.

    (The lock file is opened without following links, and files replaced by a rename,
    parquet/ among them, replace a link itself, never its target.)
    """
    written = [
        layout.builds_dir,
        layout.staging_dir,
        layout.staging_db,
        layout.staging_dir / "duckdb_spill",
        layout.candidates_dir,
        *(layout.candidate_dir(table) for table in TABLES),
        layout.validation_dir,
        layout.validation_dir / "results",
        layout.report_dir,
        layout.dagster_home,
    ]
    for path in written:
        if path.is_symlink():
            raise ConfigError(f"{path} is a symbolic link: papertrends writes only inside the warehouse; remove it")


# --- stage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageResult:
    plan: ChangePlan
    listed: int
    parsed: list[dict]  # the staged row of each file parsed: source_name, status, digest_date, counts, error


_PARSED_SQL = """
SELECT source_name, status, digest_date, date_source, entry_count, reject_count, error
FROM staged_files
WHERE source_name IN (SELECT unnest($names))
ORDER BY source_name
"""


def plan_stage(settings: Settings, reparse: Collection[str] = ()) -> ChangePlan:
    """What staging would do, without doing it (nothing is written)."""
    listing = list_with_signatures(settings.digests_dir)
    con = read_staging(settings.layout.staging_db)
    staged = {} if con is None else staged_files(con)
    if con is not None:
        con.close()
    return plan_changes(settings.digests_dir, listing, staged, settings.year, parser_fingerprint(), reparse)


def refuse_digest_request(
    listed: Collection[str], digests_dir: Path, reparse: Collection[str], allow_empty: bool, reparse_option: str = "reparse"
) -> None:
    """What a build is asked to read, against the digest files listed: an empty directory
    empties the tables only when allowed, and a name to parse again that is no digest
    file is a typo, refused rather than ignored."""
    if not listed and not allow_empty:
        raise ConfigError(f"no digest files in {digests_dir}; to empty the tables, build with --allow-empty")
    unknown = sorted(set(reparse) - set(listed))
    if unknown:
        raise ConfigError(f"{reparse_option}: no digest file named {', '.join(unknown)} in {digests_dir}")


def stage(settings: Settings, reparse: Collection[str] = (), allow_empty: bool = False) -> StageResult:
    """Parse the new and changed digest files into the staging database, in one transaction."""
    listing = list_with_signatures(settings.digests_dir)
    refuse_digest_request([listed.source_name for listed in listing], settings.digests_dir, reparse, allow_empty)
    parse_settings = ParseSettings(settings.year, PARSER_VERSION, parser_fingerprint(), dt.datetime.now(dt.UTC))
    with open_staging(settings.layout.staging_db) as con:
        plan = plan_changes(settings.digests_dir, listing, staged_files(con), settings.year, parse_settings.parser_fingerprint, reparse)
        apply_changes(con, plan, parse_files(settings.digests_dir, plan.parse, parse_settings))
        names = [listed.source_name for listed in plan.parse]
        cursor = con.execute(_PARSED_SQL, {"names": names})
        columns = [column[0] for column in cursor.description]
        parsed = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return StageResult(plan, len(listing), parsed)


_UNUSABLE_SQL = """
SELECT source_name, status, error
FROM staged_files
WHERE status NOT IN ('ok')
ORDER BY source_name
"""


def unusable_digests(layout: Layout) -> list[dict]:
    """The staged files that gave no entries: their name, status and why."""
    con = read_staging(layout.staging_db)
    if con is None:
        return []
    with con:
        return [dict(zip(("source_name", "status", "error"), row, strict=True)) for row in con.execute(_UNUSABLE_SQL).fetchall()]


# --- consolidate --------------------------------------------------------------------------


def current_build_key(layout: Layout) -> str | None:
    con = read_staging(layout.staging_db)
    if con is None:
        return None
    try:
        return build_key(con)
    finally:
        con.close()


def is_current(layout: Layout) -> bool:
    """The published tables and trends.duckdb are those of the staging as it is."""
    key = current_build_key(layout)
    record = published_record(layout)
    built = built_from(layout.duckdb_path)
    return key is not None and record is not None and record.build_key == key and built is not None and built[0] == key


def consolidate_tables(settings: Settings) -> Candidates | None:
    """Write the candidate tables; None when the published tables are already those of the staging."""
    layout = settings.layout
    with open_staging(layout.staging_db) as con:
        record = published_record(layout)
        if record is not None and record.build_key == build_key(con):
            remove_candidates(layout)
            return None
        return consolidate(layout, con)


# --- validate -----------------------------------------------------------------------------


def _files_checked(layout: Layout, manifest: Manifest | None) -> dict[str, list[Path]]:
    """The candidate tables when there are candidates, else the published ones."""
    if manifest is not None:
        return manifest.paths(layout)
    return {table: layout.table_files(table) for table in TABLES}


def _key_checked(layout: Layout, manifest: Manifest | None) -> str | None:
    if manifest is not None:
        return manifest.build_key
    record = published_record(layout)
    return record.build_key if record is not None else None


def run_check(layout: Layout, check: str) -> CheckResult:
    """One blocking check over whole tables; records its approval (or withdraws it) and its Data Docs page."""
    from pipeline.validate.docs import write_result
    from pipeline.validate.suites import validate_table_files

    # Read once: the approval names the manifest whose files the check read, never a newer one.
    manifest = read_manifest(layout)
    files = _files_checked(layout, manifest)
    key = _key_checked(layout, manifest)
    try:
        if check == CROSS_TABLE_CHECK:
            result = run_cross_checks(files)
        elif check in WARNING_CHECKS:
            result = run_warning_check(check, files)
        else:
            table = check.removesuffix("_expectations")
            result = validate_table_files(table, files[table], files["digests"])
    except BaseException as error:
        record_check(layout, check, None)
        write_result(layout.validation_dir, _could_not_run(layout, check, files, key, error))
        raise
    result = dataclasses.replace(result, build_key=key, source=_subject(layout, check, files))
    if check in REQUIRED_CHECKS:
        record_check(layout, check, manifest.sha256 if result.success and manifest is not None else None)
    write_result(layout.validation_dir, result)
    return result


def last_result_if_current(layout: Layout, check: str) -> CheckResult | None:
    """The check's last result, when it passed on the published tables as they are and nothing awaits publishing."""
    from pipeline.validate.docs import read_page

    if read_manifest(layout) is not None:
        return None
    record = published_record(layout)
    page = read_page(layout.validation_dir, check)
    if record is None or page is None or not page.latest.success or page.latest.build_key != record.build_key:
        return None
    return page.latest


def _subject(layout: Layout, check: str, files: dict[str, list[Path]]) -> str:
    """What a check validated, for a person: candidates or published files, relative to the warehouse."""
    kind = "candidates" if read_manifest(layout) is not None else "published"
    tables = [check.removesuffix("_expectations")] if check.endswith("_expectations") else list(TABLES)
    return f"{kind}: " + "; ".join(describe_files(files.get(table, []), layout.root) for table in tables)


def _could_not_run(layout: Layout, check: str, files: dict[str, list[Path]], key: str | None, error: BaseException) -> CheckResult:
    """A check that raised, as a failed result: its Data Docs page must not keep showing an earlier pass."""
    rule = RuleResult(rule="the check runs", check=check, success=False, error=f"{type(error).__name__}: {error}")
    source = _subject(layout, check, files)
    return CheckResult(name=check, title=f"{check} (could not run)", source=source, row_count=None, rules=[rule], build_key=key)


def validate(settings: Settings) -> list[CheckResult]:
    """Every check, the blocking ones and the warnings (which never hold the tables back).

    A check that cannot run is recorded as failed on its page and the others still run,
    so one build reports every problem; its error is raised after them.
    """
    results, errors = [], []
    for check in (*REQUIRED_CHECKS, *WARNING_CHECK_NAMES):
        try:
            results.append(run_check(settings.layout, check))
        except Exception as error:
            errors.append(error)
    if errors:
        raise errors[0]
    return results


# --- publish ------------------------------------------------------------------------------


def _built_at(path: Path) -> str:
    built = built_from(path)
    return built[1].isoformat(timespec="seconds") if built else "no build (it is missing)"


def publish(settings: Settings) -> bool:
    """Publish the approved candidates with a new trends.duckdb; returns False when there was nothing new.

    trends.duckdb is written under a temporary name first, then the tables are published
    (parquet/ switched to them in one rename), then trends.duckdb is renamed into place:
    a failure leaves either everything as it was, or the tables published and
    trends.duckdb of the previous build (PartialPublish says so).
    """
    layout = settings.layout
    remove_unpublished_builds(layout)  # left by a build killed while publishing
    if read_manifest(layout) is None:
        if manifest_path(layout).exists():
            raise UncheckedCandidates(f"refusing to publish: the candidates' manifest {manifest_path(layout)} cannot be read")
        record = published_record(layout)
        if record is None:
            raise FileNotFoundError("no candidate tables and no published tables: consolidate first")
        built = built_from(layout.duckdb_path)
        if built is not None and built[0] == record.build_key:
            return False
        # Published tables whose trends.duckdb is missing or older (a build cut short): rebuild it.
        with atomic_path(layout.duckdb_path) as tmp:
            build_trends_db(tmp, {table: layout.table_files(table) for table in TABLES}, record.build_key)
        return True
    manifest = check_publishable(layout, REQUIRED_CHECKS)
    if manifest.build_key != current_build_key(layout):
        # Approved, but of an earlier staging: the digests changed since (a removed digest would come back).
        raise UncheckedCandidates("refusing to publish: the candidates were consolidated from digests that have changed since; build again")
    previous = _built_at(layout.duckdb_path)
    moved = False
    try:
        with atomic_path(layout.duckdb_path) as tmp:
            build_trends_db(tmp, manifest.paths(layout), manifest.build_key)
            # Again, just before the renames: a candidate changed while trends.duckdb was built is refused too.
            if check_publishable(layout, REQUIRED_CHECKS) != manifest:
                raise UncheckedCandidates("refusing to publish: the candidates changed while trends.duckdb was built")
            move_into_place(layout, manifest)
            moved = True  # the tables are published: a failure from here on leaves trends.duckdb behind them
            settle_published(layout)
    except Exception as error:
        if moved:
            raise PartialPublish(
                f"tables published; trends.duckdb still holds the build of {previous}; "
                f"rerun to finish ({type(error).__name__}: {error})"
            ) from error
        raise
    remove_candidates(layout)
    return True


# --- report -------------------------------------------------------------------------------


def report_path(layout: Layout) -> Path:
    from pipeline.report import REPORT_FILE

    return layout.report_dir / REPORT_FILE


def write_report(settings: Settings):
    from pipeline.report import write_report as write

    return write(settings.layout)


def write_report_or_warn(settings: Settings) -> list[str]:
    """The report after a publish: a failure to write it is a warning, the tables being published."""
    try:
        write_report(settings)
    except OSError as error:
        return [f"the report could not be written ({error.strerror or error}); the tables and trends.duckdb are published"]
    return []


# --- all of it ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildResult:
    stage: StageResult
    published: bool
    results: list[CheckResult]
    warnings: list[str] = dataclasses.field(default_factory=list)


def build_warehouse(
    settings: Settings,
    reparse: Collection[str] = (),
    allow_empty: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> BuildResult:
    """Every step in order, under the warehouse lock; raises ChecksFailed when a check fails."""
    check_settings(settings)
    layout = settings.layout
    with warehouse_lock(layout.lock_path, on_wait):
        remove_stale_temporaries(layout.written_dirs, beside=layout.replaced_in_root)
        staged = stage(settings, reparse, allow_empty)
        if is_current(layout):
            remove_candidates(layout)  # of another staging (a build cut short, then its digest removed): never to publish
            warnings = [] if report_path(layout).is_file() else write_report_or_warn(settings)
            return BuildResult(staged, published=False, results=[], warnings=warnings)
        consolidate_tables(settings)
        results = validate(settings)
        failed = [result for result in results if not result.success and result.name in REQUIRED_CHECKS]
        if failed:
            raise ChecksFailed(failed)
        published = publish(settings)
        warnings = write_report_or_warn(settings)
    return BuildResult(staged, published, results, warnings)
