"""`papertrends`: build the warehouse through Dagster, report on it, open the UI."""

import argparse
import atexit
import os
import shutil
import sys
import threading

from pipeline.config import ConfigError, Settings


# Less free space than this under the warehouse: a failure is reported as a full disk.
_FULL_DISK_BYTES = 1 << 20


def _fail(message: str, code: int = 2) -> int:
    print(f"papertrends: {message}", file=sys.stderr)
    return code


def _innermost(error: BaseException) -> str:
    """The root cause of an error, on one line."""
    while error.__cause__ or error.__context__:
        error = error.__cause__ or error.__context__
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def _disk_hint(settings: Settings) -> str:
    try:
        free = shutil.disk_usage(settings.warehouse_dir).free
    except OSError:
        return ""
    return f" (the disk holding {settings.warehouse_dir} is full)" if free < _FULL_DISK_BYTES else ""


def build(settings: Settings, strict: bool = False) -> int:
    """Materialize every asset through Dagster on a persistent instance.

    Rejected digests and blocks are recorded, not failures: exit 0 and say how many;
    with `strict`, any rejection makes the exit status 1 (the tables are still built).
    """
    from pipeline.build import check_settings

    try:
        names = check_settings(settings)
    except ConfigError as error:
        return _fail(str(error))

    import dagster as dg

    from assets.build import materialize_warehouse
    from assets.instance import ensure_dagster_home
    from pipeline.report import REPORT_FILE
    from pipeline.summary import daily_summary_text, totals

    try:
        ensure_dagster_home(settings)
        with dg.DagsterInstance.get() as instance:
            run = materialize_warehouse(settings, instance, names, on_wait=_say_waiting)
    except Exception as error:  # e.g. Dagster's own storage on a full disk: one clear line
        return _fail(f"build failed: {_innermost(error)}{_disk_hint(settings)}", 1)
    data_docs = f"papertrends: validation results (Data Docs): {settings.layout.validation_dir / 'index.html'}"
    if not run.result.success:
        print(data_docs)
        steps = ", ".join(run.failed_steps) or "?"
        if run.failed_checks:
            steps += f" (failed checks: {', '.join(run.failed_checks)})"
        reason = f": {run.failure_message}" if run.failure_message else ""
        return _fail(
            f"build failed in step(s) {steps}{reason}{_disk_hint(settings)}; "
            f"see run {run.result.run_id} in `papertrends ui`; the previous tables are untouched",
            1,
        )

    layout = settings.layout
    print(f"papertrends: built {layout.duckdb_path} from {len(names)} digest file(s) in {settings.digests_dir}")
    print(f"  partitions: {len(run.added)} added, {len(run.removed)} removed; run {run.result.run_id}")
    for name in run.skipped:
        print(f"  skipped {name!r}: not usable as a Dagster partition key")
    counts = totals(layout.duckdb_path)
    print("  " + ", ".join(f"{label}: {count}" for label, count in counts.items()))
    print(f"  report: {layout.report_dir / REPORT_FILE} (`papertrends report` prints it as text)")
    rejected = f"rejected {counts['unusable digests']} digest(s) and {counts['rejected blocks']} block(s)"
    print(f"papertrends: {rejected} (see the digests and rejects tables)")
    print(data_docs)
    print()
    print(daily_summary_text(layout.duckdb_path))
    if strict and (counts["unusable digests"] or counts["rejected blocks"]):
        return _fail(f"--strict: {rejected}", 1)
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
    build_parser = commands.add_parser("build", help="materialize every asset through Dagster and print a summary")
    build_parser.add_argument("--strict", action="store_true", help="exit 1 if any digest or block is rejected")
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
        return build(settings, strict=args.strict)
    if args.command == "report":
        return report(settings)
    return ui(settings, args.host, args.port)


def run() -> None:
    """The `papertrends` command: main(), then exit with its status."""
    code = main()
    if any(thread.is_alive() and not thread.daemon for thread in threading.enumerate() if thread is not threading.main_thread()):
        sys.exit(code)  # a thread still working: the interpreter's exit waits for it
    # Tearing down the interpreter (collecting and freeing the objects of Dagster, GX,
    # pandas and the run) takes 0.8 s after a build. Everything it would still do for
    # us is done here instead: the exit handlers run (logging, multiprocessing, temporary
    # files) and the standard streams are flushed; every file of ours is closed already.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass  # the reader of a pipe went away (`| head`), or the stream is closed
    os._exit(code)


if __name__ == "__main__":
    run()
