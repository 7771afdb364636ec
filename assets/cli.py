"""`papertrends`: build the warehouse through Dagster, report on it, open the UI."""

import argparse
import os
import sys
import warnings

from pipeline.config import ConfigError, Settings

_QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _fail(message: str, code: int = 2) -> int:
    print(f"papertrends: {message}", file=sys.stderr)
    return code


def _changed_partition_range(settings: Settings, keys: list[str]) -> tuple[str, str] | None:
    """First and last partition (in partition order) whose digest is new or changed."""
    from pipeline.build import needs_parse
    from pipeline.decoding import sha256_hex
    from pipeline.staging import read_digest_bytes, staged_source_names

    staged = staged_source_names(settings.layout)
    changed = []
    for index, key in enumerate(keys):
        try:
            raw_sha256 = sha256_hex(read_digest_bytes(settings.digests_dir, key))
        except OSError:
            raw_sha256 = sha256_hex(b"")
        if needs_parse(staged.get(key), raw_sha256, settings.year):
            changed.append(index)
    if not changed:
        return None
    return keys[min(changed)], keys[max(changed)]


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

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from assets.definitions import ALL_ASSETS
    from assets.partitions import DIGEST_PARTITIONS, sync_digest_partitions
    from assets.resources import WarehouseResource
    from pipeline.summary import daily_summary_text, totals

    with dg.DagsterInstance.get() as instance:
        added, removed = sync_digest_partitions(instance, names)
        keys = list(instance.get_dynamic_partitions(DIGEST_PARTITIONS.name))
        skipped = sorted(set(names) - set(keys))
        changed = _changed_partition_range(settings, keys)
        tags = {}
        selection = [key for asset in ALL_ASSETS for key in asset.keys]
        if changed:
            tags = {
                "dagster/asset_partition_range_start": changed[0],
                "dagster/asset_partition_range_end": changed[1],
            }
        else:
            selection = [key for key in selection if key.to_user_string() != "parsed_digest"]
        result = dg.materialize(
            ALL_ASSETS,
            selection=selection,
            instance=instance,
            resources={"warehouse": WarehouseResource.from_settings(settings)},
            tags=tags,
            run_config=_QUIET_LOGS,
            raise_on_error=False,
        )
        if not result.success:
            failed = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
            return _fail(f"build failed in step(s) {', '.join(failed) or '?'}; see run {result.run_id} in `papertrends ui`", 1)

    layout = settings.layout
    print(f"papertrends: built {layout.duckdb_path} from {len(names)} digest file(s) in {settings.digests_dir}")
    print(f"  partitions: {len(added)} added, {len(removed)} removed; run {result.run_id}")
    for name in skipped:
        print(f"  skipped {name!r}: not usable as a Dagster partition key")
    print("  " + ", ".join(f"{label}: {count}" for label, count in totals(layout.duckdb_path).items()))
    print()
    print(daily_summary_text(layout.duckdb_path))
    return 0


def report(settings: Settings) -> int:
    from pipeline.summary import daily_summary_text

    path = settings.layout.duckdb_path
    if not path.exists():
        return _fail(f"no warehouse at {path}: run `papertrends build` first")
    print(daily_summary_text(path))
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
    os.execv(sys.executable, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="papertrends", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="materialize every asset through Dagster and print a summary")
    commands.add_parser("report", help="print the trend summary from trends.duckdb")
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
