"""`papertrends`: build the warehouse through Dagster, report on it, open the UI."""

import argparse
import os
import sys

from pipeline.config import ConfigError, Settings


def _fail(message: str, code: int = 2) -> int:
    print(f"papertrends: {message}", file=sys.stderr)
    return code


def build(settings: Settings) -> int:
    """Materialize every asset through Dagster on a persistent instance."""
    from pipeline.build import check_settings

    try:
        names = check_settings(settings)
    except ConfigError as error:
        return _fail(str(error))

    from assets.instance import ensure_dagster_home

    ensure_dagster_home(settings)
    import dagster as dg

    from assets.build import materialize_warehouse
    from pipeline.report import REPORT_FILE
    from pipeline.summary import daily_summary_text, totals

    with dg.DagsterInstance.get() as instance:
        run = materialize_warehouse(settings, instance, names, on_wait=_say_waiting)
    print(f"papertrends: validation results (Data Docs): {settings.layout.validation_dir / 'index.html'}")
    if not run.result.success:
        steps = ", ".join(run.failed_steps) or "?"
        return _fail(f"build failed in step(s) {steps}; see run {run.result.run_id} in `papertrends ui`", 1)

    layout = settings.layout
    print(f"papertrends: built {layout.duckdb_path} from {len(names)} digest file(s) in {settings.digests_dir}")
    print(f"  partitions: {len(run.added)} added, {len(run.removed)} removed; run {run.result.run_id}")
    for name in run.skipped:
        print(f"  skipped {name!r}: not usable as a Dagster partition key")
    print("  " + ", ".join(f"{label}: {count}" for label, count in totals(layout.duckdb_path).items()))
    print(f"  report: {layout.report_dir / REPORT_FILE} (`papertrends report` prints it as text)")
    print()
    print(daily_summary_text(layout.duckdb_path))
    return 0


def _say_waiting(holder: str) -> None:
    print(f"papertrends: waiting for another run on this warehouse to finish (pid {holder or '?'})", flush=True)


def report(settings: Settings) -> int:
    """Print the trend summary and (re)write the HTML report beside it."""
    from pipeline.report import terminal_summary, write_report

    path = settings.layout.duckdb_path
    if not path.exists():
        return _fail(f"no warehouse at {path}: run `papertrends build` first")
    try:
        written = write_report(settings.layout)
    except OSError as error:
        return _fail(f"cannot write the report in {settings.layout.report_dir}: {error.strerror}")
    print(terminal_summary(written.data))
    print()
    print(f"HTML report: {written.path}")
    return 0


def ui(settings: Settings, host: str, port: int) -> int:
    """Replace this process with `dagster dev` on the warehouse's instance."""
    from assets.instance import ensure_dagster_home

    try:
        settings.layout.root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _fail(f"cannot create the warehouse directory: {error.strerror}")
    ensure_dagster_home(settings)
    os.environ["PAPERTRENDS_WAREHOUSE_DIR"] = str(settings.warehouse_dir)
    os.environ["PAPERTRENDS_DIGESTS_DIR"] = str(settings.digests_dir)
    command = [sys.executable, "-m", "dagster", "dev", "-m", "assets.definitions", "--host", host, "--port", str(port)]
    print(f"papertrends: Dagster UI on http://{host}:{port} (DAGSTER_HOME={os.environ['DAGSTER_HOME']})", flush=True)
    # Run from DAGSTER_HOME, so dagster dev does not warn about the repository's own
    # dagster.yaml (it reads the copy in DAGSTER_HOME).
    os.chdir(os.environ["DAGSTER_HOME"])
    os.execv(sys.executable, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="papertrends", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="materialize every asset through Dagster and print a summary")
    commands.add_parser("report", help="print the trend summary from trends.duckdb and write the HTML report")
    ui_parser = commands.add_parser("ui", help="start the Dagster UI on this warehouse")
    ui_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ui_parser.add_argument("--port", type=int, default=3000)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        return _fail(str(error))
    if args.command == "build":
        return build(settings)
    if args.command == "report":
        return report(settings)
    return ui(settings, args.host, args.port)


if __name__ == "__main__":
    sys.exit(main())
