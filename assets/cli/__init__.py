"""The `papertrends` command: build the warehouse through Dagster, report on it, open the UI.

Only the standard library is imported before run() starts, and the libraries a command
loads first are imported with Ctrl-C held (interrupts_held): Ctrl-C during start-up is
then a one-line "interrupted", not a traceback from an import or an abort inside one.
"""

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.config import Settings


DESCRIPTION = """Build the papertrends warehouse through Dagster, report on it, open the Dagster UI.
The warehouse is ./warehouse and the digests its raw/ directory unless PAPERTRENDS_WAREHOUSE_DIR
and PAPERTRENDS_DIGESTS_DIR say otherwise; PAPERTRENDS_YEAR sets the year of dates written
without one (docs/usage.md)."""


def say(message: str) -> None:
    print(f"papertrends: {message}", flush=True)


def fail(message: str, code: int) -> int:
    """Say why on stderr, in one line, and give the exit status."""
    print(f"papertrends: {message}", file=sys.stderr, flush=True)
    return code


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C while libraries are imported; one pressed meanwhile is raised as the block ends.

    A KeyboardInterrupt raised inside an extension module's initialization aborts the
    process ("Critical nanobind error" from duckdb) or leaves the module half made.
    The mask is per thread, and threads started under it keep SIGINT blocked: call it from
    the main thread, which then alone takes the signal.
    """
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def report(settings: "Settings") -> int:
    """Print the trend summary and (re)write the HTML report beside it."""
    with interrupts_held():
        import duckdb

        from pipeline.build import refuse_links
        from pipeline.config import ConfigError
        from pipeline.report import terminal_summary, write_report

    path = settings.layout.duckdb_path
    if not path.exists():
        return fail(f"no warehouse at {path}: run `papertrends build` first", 2)
    try:
        refuse_links(settings.layout)  # the report is written as a build writes it: inside the warehouse
    except ConfigError as error:
        return fail(str(error), 2)
    try:
        written = write_report(settings.layout)
    except OSError as error:
        return fail(f"cannot write the report in {settings.layout.report_dir}: {error.strerror}", 1)
    except duckdb.Error as error:  # not a trends.duckdb, a damaged one, or one a writer holds locked
        reason = str(error).splitlines()[0]
        return fail(f"cannot read {path}: {reason}; `papertrends build` writes it anew", 1)
    print(terminal_summary(written.data))
    print()
    print(f"HTML report: {written.path}")
    return 0


def port(text: str) -> int:
    number = int(text)  # a ValueError is argparse's "invalid port value"
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, not {number}")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="papertrends", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build", help="materialize every asset through Dagster and print a summary")
    build_parser.add_argument("--strict", action="store_true", help="exit 1 if any digest or block is rejected")
    build_parser.add_argument("--reparse", action="append", default=[], metavar="FILE", help="parse this digest file again (repeatable)")
    build_parser.add_argument("--allow-empty", action="store_true", help="build from an empty digests directory, emptying the tables")
    commands.add_parser("report", help="print the trend summary from trends.duckdb and write the HTML report")
    ui_parser = commands.add_parser("ui", help="start the Dagster UI on this warehouse")
    ui_parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ui_parser.add_argument("--port", type=port, default=3000, help="TCP port, 1 to 65535 (default 3000)")
    args = parser.parse_args(argv)
    with interrupts_held():
        from pipeline.config import ConfigError, Settings

    try:
        settings = Settings.from_env()
    except ConfigError as error:
        return fail(str(error), 2)
    if args.command == "build":
        with interrupts_held():
            from assets.cli.build import build

        return build(settings, strict=args.strict, reparse=args.reparse, allow_empty=args.allow_empty)
    if args.command == "report":
        return report(settings)
    with interrupts_held():
        from assets.cli.ui import ui

    return ui(settings, args.host, args.port)


def run() -> None:
    """The `papertrends` command: main(), then exit with its status (130 on Ctrl-C, 141 when
    the reader of its output went away, as a process killed by SIGPIPE)."""
    try:
        code = main()
    except KeyboardInterrupt:
        code = fail("interrupted", 130)
    except ImportError as error:
        # Ctrl-C while an extension module initializes (matplotlib's ft2font, say) comes
        # out as an ImportError raised from the KeyboardInterrupt.
        if not isinstance(error.__cause__, KeyboardInterrupt):
            raise
        code = fail("interrupted", 130)
    except BrokenPipeError:
        # Python's advice: point stdout at devnull, so that the flush at exit raises nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    except OSError as error:  # e.g. the output going to a full disk: one line, not a traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = fail(f"{type(error).__name__}: {error}", 1)
    sys.exit(code)
