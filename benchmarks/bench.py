"""The benchmark harness: `make bench` runs it and writes benchmarks/RESULTS.md.

For each corpus size: the full build through pipeline/ alone and through Dagster
(`papertrends build`), each in a child process whose time and peak memory are
measured; then, at each size from 1,000 on, a rebuild with one digest added and a
rebuild with nothing new, on both paths (and the proof that no other digest was
re-parsed). At the largest size: `papertrends build` with the Dagster instance in
PostgreSQL, and the latency of every table, view and macro of trends.duckdb from a
fresh read-only connection. Then the reader's throughput against two baselines
measured in the same run: a floor that only reads and splits each file, and the
pandas implementation in baseline_pandas.py. Last, the lines of code.

    python benchmarks/bench.py                      # 100, 1,000 and 10,000 digests
    python benchmarks/bench.py --sizes 100 --out /tmp/RESULTS.md --work /tmp/work
"""

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path[:0] = [str(REPO), str(BENCH_DIR)]

import generate  # noqa: E402  (benchmarks/ is not a package)

DEFAULT_SIZES = (100, 1000, 10000)
HISTORY = BENCH_DIR / "HISTORY.md"
_SAMPLE_SECONDS = 0.05


# ---------------------------------------------------------------- measuring a child


@dataclass
class ChildRun:
    command: list[str]
    seconds: float
    cpu_seconds: float  # user + system of the child and its children
    max_rss_mb: float  # the largest single process (wait4's ru_maxrss)
    peak_tree_rss_mb: float  # the largest sum over the process tree, sampled
    returncode: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        for line in reversed(self.stdout.splitlines()):
            if line.startswith("{"):
                return json.loads(line)
        return {}


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, in KB (0 once it has exited)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_child(command: list[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run a command; its wall time, CPU time and peak memory (wait4 and sampling)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO
    )
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(_SAMPLE_SECONDS):
            peak[0] = max(peak[0], _tree_rss_kb(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: list[str] = []
    err_chunks: list[str] = []
    readers = [
        threading.Thread(target=lambda: out_chunks.append(process.stdout.read()), daemon=True),
        threading.Thread(target=lambda: err_chunks.append(process.stderr.read()), daemon=True),
    ]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return ChildRun(
        command=command,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        peak_tree_rss_mb=max(peak[0], usage.ru_maxrss) / 1024,
        returncode=process.returncode,
        stdout="".join(out_chunks),
        stderr="".join(err_chunks),
    )


def _checked(run: ChildRun, what: str) -> ChildRun:
    if run.returncode != 0:
        raise RuntimeError(f"{what} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    return run


# ---------------------------------------------------------------- child commands


def child_pipeline_build(warehouse: Path, digests: Path) -> None:
    from pipeline.build import build_warehouse
    from pipeline.config import Settings

    result = build_warehouse(Settings(warehouse.resolve(), digests.resolve(), None))
    print(json.dumps({"parsed": len(result.stage.parsed), "published": result.published}))


def dagster_env(warehouse: Path, digests: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_"))}
    env["PAPERTRENDS_WAREHOUSE_DIR"] = str(warehouse.resolve())
    env["PAPERTRENDS_DIGESTS_DIR"] = str(digests.resolve())
    return env


def papertrends_command() -> list[str]:
    script = Path(sys.executable).parent / "papertrends"
    return [str(script)] if script.exists() else [sys.executable, "-m", "assets.cli"]


# ---------------------------------------------------------------- measurements


def ensure_corpus(corpus_dir: Path, size: int, seed: int) -> tuple[Path, Path, dict]:
    """The corpus of `size` digests (generated once, kept) and its one extra digest."""
    digests = corpus_dir / str(size)
    extra = corpus_dir / f"{size}-extra"
    manifest_path = digests / generate.MANIFEST_NAME
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("seed") == seed and manifest.get("digests") == size and extra.is_dir():
            return digests, extra, manifest
    shutil.rmtree(digests, ignore_errors=True)
    shutil.rmtree(extra, ignore_errors=True)
    started = time.perf_counter()
    manifest = generate.generate(seed, size, digests, extra)
    print(f"  generated {size} digests in {time.perf_counter() - started:.1f} s", flush=True)
    return digests, extra, manifest


def warehouse_counts(duckdb_path: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        def count(sql: str) -> int:
            return con.execute(sql).fetchone()[0]

        return {
            "digests": count("SELECT count(*) FROM digests"),
            "appearances": count("SELECT count(*) FROM appearances"),
            "papers": count("SELECT count(*) FROM papers"),
            "link_pairs": count("SELECT count(*) FROM repo_links"),
            "papers_with_links": count("SELECT count(DISTINCT paper_id) FROM repo_links"),
            "rejects": count("SELECT count(*) FROM rejects"),
        }


def parsed_since(warehouse: Path, since: dt.datetime) -> int:
    """Digests whose staged parse was written after `since`: the digests parsed by a run."""
    import duckdb

    with duckdb.connect(str(warehouse / "staging" / "staging.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM staged_files WHERE parsed_at > $since", {"since": since}).fetchone()[0]


def published_mtimes(warehouse: Path) -> dict[str, int]:
    """Every published file and trends.duckdb, by path: a build with nothing new must leave them all."""
    files = [*sorted((warehouse / "parquet").rglob("*.parquet")), warehouse / "trends.duckdb"]
    return {str(path): path.stat().st_mtime_ns for path in files}


def bench_build(size: int, digests: Path, work: Path, manifest: dict, skip_dagster: bool, repeats: int = 1) -> dict:
    """Full builds from scratch, `repeats` times each, pipeline/ and Dagster alternating
    (so both meet the same machine); the fastest run of each counts, all are kept."""
    result: dict = {"size": size, "bytes": manifest["bytes"], "appearances": manifest["appearances"]}
    runs: dict[str, list[ChildRun]] = {"pipeline": [], "dagster": []}
    for _ in range(repeats):
        run, result["counts"] = _pipeline_full_build(size, digests, work, manifest)
        runs["pipeline"].append(run)
        if not skip_dagster:
            runs["dagster"].append(_dagster_full_build(size, digests, work, result["counts"]))
    for path, path_runs in runs.items():
        if path_runs:
            result[path] = min(path_runs, key=lambda run: run.seconds)
            result[f"{path}_runs"] = path_runs
    return result


def _pipeline_full_build(size: int, digests: Path, work: Path, manifest: dict) -> tuple[ChildRun, dict]:
    """One pipeline/ build from scratch, checked against the manifest: the run and the warehouse's counts."""
    pipeline_wh = work / f"pipeline-{size}"
    shutil.rmtree(pipeline_wh, ignore_errors=True)
    command = [sys.executable, str(Path(__file__).resolve()), "_pipeline_build", str(pipeline_wh), str(digests)]
    run = _checked(run_child(command), f"pipeline build of {size} digests")
    counts = warehouse_counts(pipeline_wh / "trends.duckdb")
    expected = {key: manifest[key] for key in ("digests", "appearances", "papers", "link_pairs", "papers_with_links")}
    mismatched = {key: (counts[key], value) for key, value in expected.items() if counts[key] != value}
    if mismatched or counts["rejects"]:
        raise RuntimeError(f"the warehouse of {size} digests does not match the manifest: {mismatched}, {counts}")
    print(f"  pipeline: {run.seconds:.1f} s, {run.peak_tree_rss_mb:.0f} MB", flush=True)
    return run, counts


def _dagster_full_build(size: int, digests: Path, work: Path, counts: dict) -> ChildRun:
    dagster_wh = work / f"dagster-{size}"
    shutil.rmtree(dagster_wh, ignore_errors=True)
    run = _checked(run_child([*papertrends_command(), "build"], dagster_env(dagster_wh, digests)), f"papertrends build of {size} digests")
    dagster_counts = warehouse_counts(dagster_wh / "trends.duckdb")
    if dagster_counts != counts:
        raise RuntimeError(f"Dagster and pipeline/ disagree at {size}: {dagster_counts} != {counts}")
    print(f"  dagster: {run.seconds:.1f} s, {run.peak_tree_rss_mb:.0f} MB", flush=True)
    return run


def _rebuild(path: str, size: int, digests: Path, work: Path) -> tuple[ChildRun, int]:
    """Rebuild one path's warehouse as the full build did; the run and how many digests it parsed."""
    warehouse = work / f"{path}-{size}"
    since = dt.datetime.now(dt.UTC)
    if path == "pipeline":
        command = [sys.executable, str(Path(__file__).resolve()), "_pipeline_build", str(warehouse), str(digests)]
        run = _checked(run_child(command), f"pipeline rebuild of {size} digests")
    else:
        run = _checked(run_child([*papertrends_command(), "build"], dagster_env(warehouse, digests)), f"papertrends rebuild of {size} digests")
    return run, parsed_since(warehouse, since)


def bench_incremental(size: int, digests: Path, extra: Path, work: Path, skip_dagster: bool) -> dict:
    """Add the next digest of the series to the built warehouses, then rebuild with nothing new; both paths."""
    added = sorted(extra.iterdir())
    assert len(added) == 1, added
    target = digests / added[0].name
    shutil.copy2(added[0], target)
    result: dict = {"size": size, "added": added[0].name, "rows": []}
    try:
        for path in ["pipeline"] + ([] if skip_dagster else ["dagster"]):
            run, parsed = _rebuild(path, size, digests, work)
            result["rows"].append({"path": path, "change": "+1 digest", "run": run, "parsed": parsed, "untouched": None})
            print(f"  {size}: +1 digest, {path}: {run.seconds:.2f} s, parsed {parsed}", flush=True)
            before = published_mtimes(work / f"{path}-{size}")
            run, parsed = _rebuild(path, size, digests, work)
            untouched = published_mtimes(work / f"{path}-{size}") == before
            result["rows"].append({"path": path, "change": "nothing new", "run": run, "parsed": parsed, "untouched": untouched})
            print(f"  {size}: nothing new, {path}: {run.seconds:.2f} s, parsed {parsed}, files untouched: {untouched}", flush=True)
    finally:
        target.unlink(missing_ok=True)
    return result


def bench_postgres(size: int, digests: Path, work: Path) -> dict | None:
    """`papertrends build` from scratch with the warehouse's Dagster instance in a throwaway PostgreSQL."""
    try:
        from tests.postgres import throwaway_postgres
    except ImportError:
        return None
    warehouse = work / f"dagster-postgres-{size}"
    shutil.rmtree(warehouse, ignore_errors=True)
    home = warehouse / "dagster_home"
    home.mkdir(parents=True)
    try:
        with throwaway_postgres(work / "postgres") as server:
            settings = (REPO / "dagster.yaml").read_text() + "\n" + server.dagster_storage_yaml()
            (home / "dagster.yaml").write_text(settings)
            run = _checked(run_child([*papertrends_command(), "build"], dagster_env(warehouse, digests)), "papertrends build on PostgreSQL")
    except (OSError, RuntimeError) as error:
        print(f"  PostgreSQL build not measured: {error}", flush=True)
        return {"size": size, "error": str(error).splitlines()[0]}
    print(f"  dagster on PostgreSQL: {run.seconds:.1f} s", flush=True)
    return {"size": size, "run": run}


def lines_of_code(root: Path = REPO) -> dict[str, int]:
    """Lines of the production code (pipeline/, assets/) and of the tests."""
    def count(directory: str) -> int:
        return sum(len(path.read_text(encoding="utf-8").splitlines()) for path in (root / directory).rglob("*.py"))

    return {"production": count("pipeline") + count("assets"), "tests": count("tests")}


def _macro_arguments(parameters: list[str], days: tuple[dt.date, dt.date], term: str | None) -> list[object]:
    """Plausible arguments for a macro, by parameter name (a term: the most common one)."""
    first, last = days
    start = max(first, last - dt.timedelta(days=89))
    # Two-window macros (rising): window a is the first half of the last 90 days, b the second.
    middle = start + (last - start) / 2
    window_bounds = {"_a": (start, middle), "_b": (middle + dt.timedelta(days=1), last)}
    arguments: list[object] = []
    for name in parameters:
        lowered = name.lower()
        window_start, window_end = window_bounds.get(lowered[-2:], (start, last))
        if lowered.startswith("term"):
            arguments.append(term)
        elif any(word in lowered for word in ("start", "from", "begin", "since", "first")):
            arguments.append(window_start)
        elif any(word in lowered for word in ("end", "until", "to_", "last", "stop")) or lowered in ("to", "day", "date", "as_of"):
            arguments.append(window_end)
        elif any(word in lowered for word in ("days", "window", "weeks")):
            arguments.append(30)
        elif lowered.startswith("min"):
            arguments.append(2)
        else:
            arguments.append(10)
    return arguments


def bench_queries(duckdb_path: Path, repeats: int = 5) -> list[dict]:
    """Every view and macro of trends.duckdb, each timed on fresh read-only connections."""
    import duckdb

    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        views = [row[0] for row in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND database_name = current_database() "
            "UNION ALL SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() ORDER BY 1"
        ).fetchall()]
        macros = con.execute(
            "SELECT function_name, function_type, parameters FROM duckdb_functions() "
            "WHERE NOT internal AND database_name = current_database() "
            "AND function_type IN ('macro', 'table_macro') ORDER BY function_name"
        ).fetchall()
        days = con.execute("SELECT min(digest_date), max(digest_date) FROM digests").fetchone()
        common_term = con.execute("SELECT term FROM paper_terms GROUP BY term ORDER BY count(*) DESC, term LIMIT 1").fetchone()
    queries = [(f"table or view {view}", f'SELECT * FROM "{view}"', []) for view in views]
    for name, kind, parameters in macros:
        arguments = _macro_arguments(list(parameters), days, common_term[0] if common_term else None)
        placeholders = ", ".join("?" for _ in arguments)
        sql = f'SELECT * FROM "{name}"({placeholders})' if kind == "table_macro" else f'SELECT "{name}"({placeholders})'
        queries.append((f"macro {name}({', '.join(parameters)})", sql, arguments))
    results = []
    for label, sql, arguments in queries:
        timings, rows, error = [], None, None
        for _ in range(repeats):
            started = time.perf_counter()
            try:
                with duckdb.connect(str(duckdb_path), read_only=True) as fresh:
                    fresh.execute("SET enable_progress_bar = false")
                    rows = fresh.sql(sql, params=arguments or None).to_arrow_table().num_rows
            except duckdb.Error as failure:
                error = str(failure).splitlines()[0]
                break
            timings.append(time.perf_counter() - started)
        results.append({
            "query": label,
            "arguments": ", ".join(str(argument) for argument in arguments),
            "rows": rows,
            "first_ms": timings[0] * 1000 if timings else None,
            "median_ms": statistics.median(timings) * 1000 if timings else None,
            "error": error,
        })
    return results


def bench_reader(digests: Path) -> dict:
    """MB/s of the reader and the two baselines, one process each, on the same files."""
    import baseline_pandas

    from pipeline.read.decoding import sha256_hex
    from pipeline.read.formats.sample import is_title_shaped
    from pipeline.read.identity import paper_id
    from pipeline.read.reader import parse_digest

    paths = sorted(path for path in digests.iterdir() if not path.name.startswith("."))
    megabytes = sum(path.stat().st_size for path in paths) / 1e6
    for path in paths:  # a warm page cache for all three
        path.read_bytes()

    def timed(function, repeats: int = 2) -> float:
        """The fastest of `repeats` runs."""
        best = math.inf
        for _ in range(repeats):
            started = time.perf_counter()
            function()
            best = min(best, time.perf_counter() - started)
        return best

    def floor() -> None:
        for path in paths:
            path.read_bytes().decode("utf-8").split("\n\n")

    def identities() -> None:
        # The floor plus the two hashes DESIGN.md asks of any reader: the digest id
        # (sha256 of the text) and each title's paper id (NFKC, casefold, sha256).
        for path in paths:
            text = path.read_bytes().decode("utf-8")
            sha256_hex(text.encode("utf-8"))
            for block in text.split("\n\n"):
                if is_title_shaped(block):
                    paper_id(block)

    def reader() -> None:
        for path in paths:
            parse_digest(path.read_bytes(), path.name)

    entries = 0

    def pandas_parse() -> None:
        nonlocal entries
        entries = len(baseline_pandas.parse(paths)["appearances"])

    seconds = {"floor": timed(floor), "identities": timed(identities), "reader": timed(reader), "pandas": timed(pandas_parse)}
    return {
        "files": len(paths),
        "megabytes": megabytes,
        "pandas_appearances": entries,
        "mb_per_s": {name: megabytes / value for name, value in seconds.items()},
    }


# Papers the plain-Python tokenizer is timed on (it takes minutes on a whole large corpus).
TERMS_BASELINE_PAPERS = 20_000


def bench_terms(builds: list[dict], work: Path) -> list[dict]:
    """Term extraction on each build's papers: polars against plain Python, and its share of the full build."""
    import polars as pl
    import terms_baseline

    from pipeline.topics.terms import extract_terms

    results = []
    for build in builds:
        size = build["size"]
        papers = pl.read_parquet(work / f"pipeline-{size}" / "parquet" / "papers" / "*.parquet", columns=["paper_id", "title", "abstract"])
        started = time.perf_counter()
        terms = extract_terms(papers)
        polars_seconds = time.perf_counter() - started
        sample = papers.head(TERMS_BASELINE_PAPERS)
        started = time.perf_counter()
        extract_terms(sample)
        polars_sample = time.perf_counter() - started
        started = time.perf_counter()
        for paper_id, title, abstract in sample.iter_rows():
            terms_baseline.python_terms(paper_id, title, abstract)
        python_sample = time.perf_counter() - started
        results.append({
            "size": size,
            "papers": papers.height,
            "terms": terms.height,
            "polars_s": polars_seconds,
            "sample": sample.height,
            "polars_sample_s": polars_sample,
            "python_sample_s": python_sample,
            "build_s": build["pipeline"].seconds,
        })
    return results


def bench_json_reader(items: int = 100_000) -> dict:
    """The daily-papers JSON reader on one large capture (linear, not quadratic, in its items)."""
    from pipeline.read.reader import parse_digest

    def capture(count: int) -> bytes:
        return json.dumps([
            {
                "paper": {
                    "id": f"2603.{number % 100_000:05d}",
                    "title": f"Scaling Study Number {number}",
                    "summary": f"We train model {number} and report what we find about it.",
                    "upvotes": number % 97,
                    "submittedOnDailyAt": "2026-03-09T03:00:00.000Z",
                    "authors": [{"name": "Ada Lovelace"}],
                },
                "numComments": number % 5,
            }
            for number in range(count)
        ]).encode()

    seconds = {}
    for count in (items // 10, items):
        raw = capture(count)
        started = time.perf_counter()
        parsed = parse_digest(raw, "big.json")
        seconds[count] = time.perf_counter() - started
        if len(parsed.entries) != count:
            raise RuntimeError(f"the JSON reader read {len(parsed.entries)} of {count} items")
    return {"seconds": seconds}


# ---------------------------------------------------------------- the report


def machine() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory_kb = next(
            int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal:")
        )
    except (OSError, StopIteration):
        memory_kb = 0
    import dagster
    import duckdb
    import pyarrow

    return {
        "cpu": model,
        "cores": len(os.sched_getaffinity(0)),
        "memory_gb": memory_kb / 1024 / 1024,
        "python": platform.python_version(),
        "versions": f"duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}, dagster {dagster.__version__}",
        "load": os.getloadavg(),
    }


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def _seconds_cell(build: dict, path: str) -> str:
    """The fastest run's seconds, then the other runs' in parentheses."""
    best: ChildRun = build[path]
    others = [run for run in build.get(f"{path}_runs", [best]) if run is not best]
    return f"{best.seconds:.1f}" + (f" ({', '.join(f'{run.seconds:.1f}' for run in others)})" if others else "")


def _peak_cell(build: dict, path: str) -> str:
    """The largest peaks of all runs (tree / process)."""
    runs: list[ChildRun] = build.get(f"{path}_runs", [build[path]])
    return f"{_mb(max(run.peak_tree_rss_mb for run in runs))} / {_mb(max(run.max_rss_mb for run in runs))}"


def render(report: dict) -> str:
    host = report["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` (benchmarks/bench.py) on {report['date']}, commit {report['commit']}, "
        f"{report['seconds']:.0f} s in all. Seed {report['seed']}.",
        "",
        f"- Machine: {host['cpu']}, {host['cores']} cores, {host['memory_gb']:.1f} GB memory; Python {host['python']}; "
        f"{host['versions']}.",
        f"- Load average (1, 5, 15 min) at the start: {', '.join(f'{value:.1f}' for value in host['load'])}; "
        f"at the end: {', '.join(f'{value:.1f}' for value in report['load_end'])}. A load above the core count "
        "means other work shared the machine, and the times are that much pessimistic.",
        "- Peak memory: `tree` is the largest sum of the RSS of the build process and its children "
        "(sampled every 50 ms; shared pages of forked workers count twice); `process` is the largest "
        "single process (wait4 ru_maxrss).",
        "",
        "## Full build",
        "",
        f"Each build runs {report['repeats']} time(s), pipeline/ and Dagster alternating; the fastest run "
        "of each is shown and gives the ratio, the other runs' times follow in parentheses; the peaks are "
        "the largest of all runs. `Dagster adds` is the difference of the two times: what Dagster's own "
        "work costs (events, checks, report, start), which the ratio hides as pipeline/ gets faster.",
        "",
        "| digests | MB | appearances | pipeline/ s | pipeline/ peak (tree / process) | Dagster s | Dagster peak (tree / process) | Dagster / pipeline | Dagster adds |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for build in report["builds"]:
        pipeline_run: ChildRun = build["pipeline"]
        dagster_run: ChildRun | None = build.get("dagster")
        dagster_cells = (
            f"{_seconds_cell(build, 'dagster')} | {_peak_cell(build, 'dagster')} | "
            f"{dagster_run.seconds / pipeline_run.seconds:.2f}x | {dagster_run.seconds - pipeline_run.seconds:.1f} s"
            if dagster_run else "not run | | | "
        )
        lines.append(
            f"| {build['size']:,} | {build['bytes'] / 1e6:,.0f} | {build['appearances']:,} | {_seconds_cell(build, 'pipeline')} | "
            f"{_peak_cell(build, 'pipeline')} | {dagster_cells} |"
        )
    lines += [
        "",
        "Every build is checked against the generator's manifest (digests, appearances, papers, "
        "(paper, link) pairs, papers with links) and the Dagster warehouse against the pipeline/ one.",
        "",
    ]
    for incremental in report.get("incremental", []):
        lines += [
            f"## Rebuilding the {incremental['size']:,}-digest warehouse",
            "",
            f"The next digest of the series (`{incremental['added']}`) is copied into the digests directory and "
            "each warehouse is rebuilt by the same command as the full build; then rebuilt again with nothing "
            "new. `parsed` counts the staged parses written by the run (parsed_at after its start): 1 means no "
            "other digest was re-parsed. `files untouched`: every published Parquet file and trends.duckdb kept "
            "its mtime.",
            "",
            "| path | change | wall s | CPU s (user + system) | peak (tree) | parsed | files untouched |",
            "|---|---|---:|---:|---:|---:|---|",
        ]
        for row in incremental["rows"]:
            run: ChildRun = row["run"]
            label = "pipeline/ (`build_warehouse`)" if row["path"] == "pipeline" else "Dagster (`papertrends build`)"
            untouched = "" if row["untouched"] is None else ("yes" if row["untouched"] else "NO")
            lines.append(
                f"| {label} | {row['change']} | {run.seconds:.2f} | {run.cpu_seconds:.2f} | {_mb(run.peak_tree_rss_mb)} | {row['parsed']} | {untouched} |"
            )
        lines.append("")
    postgres = report.get("postgres")
    if postgres:
        lines += [f"## Dagster's instance in PostgreSQL ({postgres['size']:,} digests)", ""]
        if "run" in postgres:
            run = postgres["run"]
            sqlite = next(build["dagster"] for build in report["builds"] if build["size"] == postgres["size"] and "dagster" in build)
            lines += [
                "`papertrends build` from scratch with the warehouse's dagster_home/dagster.yaml pointing at a "
                "throwaway PostgreSQL server on 127.0.0.1 (tests/postgres.py), beside the same build on SQLite.",
                "",
                "| instance storage | wall s | peak (tree) |",
                "|---|---:|---:|",
                f"| SQLite (default) | {sqlite.seconds:.1f} | {_mb(sqlite.peak_tree_rss_mb)} |",
                f"| PostgreSQL | {run.seconds:.1f} | {_mb(run.peak_tree_rss_mb)} |",
                "",
            ]
        else:
            lines += [f"Not measured: {postgres['error']}", ""]
    queries = report.get("queries")
    if queries:
        lines += [
            f"## Query latency at {report['query_size']:,} digests",
            "",
            "Each query runs on a new read-only connection (open, run, fetch the whole result as Arrow, close), "
            "five times; the first run and the median.",
            "",
            "| query | arguments | rows | first ms | median ms |",
            "|---|---|---:|---:|---:|",
        ]
        for query in queries:
            if query["error"]:
                lines.append(f"| {query['query']} | {query['arguments']} | error: {query['error']} | | |")
            else:
                lines.append(
                    f"| {query['query']} | {query['arguments']} | {query['rows']:,} | {query['first_ms']:.0f} | {query['median_ms']:.0f} |"
                )
        lines.append("")
    reader = report.get("reader")
    if reader:
        rates = reader["mb_per_s"]
        lines += [
            f"## Reader throughput ({reader['files']:,} digests, {reader['megabytes']:,.0f} MB, one process, warm page cache)",
            "",
            "| implementation | MB/s | papertrends reader vs it | vs the floor |",
            "|---|---:|---:|---:|",
            f"| floor: read each file, decode, split on blank lines | {rates['floor']:,.1f} | {rates['reader'] / rates['floor']:.2f}x | 1.00x |",
            f"| floor and the contract's two hashes only: sha256 of each digest, paper id (NFKC, casefold, sha256) of each title-shaped block | {rates['identities']:,.1f} | {rates['reader'] / rates['identities']:.2f}x | {rates['identities'] / rates['floor']:.2f}x |",
            f"| papertrends reader: `pipeline.read.reader.parse_digest` (decode, normalize, digest id, blocks, dates, entries, paper ids, links) | {rates['reader']:,.1f} | 1.00x | {rates['reader'] / rates['floor']:.2f}x |",
            f"| pandas baseline (benchmarks/baseline_pandas.py: parse and the appearances, papers, repo_links tables) | {rates['pandas']:,.1f} | {rates['reader'] / rates['pandas']:.2f}x | {rates['pandas'] / rates['floor']:.2f}x |",
            "",
            f"Each is the fastest of two runs. The pandas baseline found {reader['pandas_appearances']:,} appearances on these files.",
            "",
        ]
    terms = report.get("terms")
    if terms:
        lines += [
            "## Term extraction (paper_terms)",
            "",
            "`pipeline.topics.terms.extract_terms` (polars) on every paper of each full build, in one process; "
            f"against the plain-Python tokenizer of the same rules (benchmarks/terms_baseline.py) on the first "
            f"{TERMS_BASELINE_PAPERS:,} papers. Share: the polars time over the pipeline/ full build (which "
            "tokenizes every paper once).",
            "",
            "| digests | papers | terms | polars s (all papers) | share of the full build | polars s / plain Python s (sample) | speed-up |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in terms:
            lines.append(
                f"| {row['size']:,} | {row['papers']:,} | {row['terms']:,} | {row['polars_s']:.2f} | "
                f"{row['polars_s'] / row['build_s']:.0%} | {row['polars_sample_s']:.2f} / {row['python_sample_s']:.2f} "
                f"({row['sample']:,} papers) | {row['python_sample_s'] / row['polars_sample_s']:.1f}x |"
            )
        lines.append("")
    json_reader = report.get("json_reader")
    if json_reader:
        (small, small_s), (large, large_s) = sorted(json_reader["seconds"].items())
        lines += [
            "## Daily-papers JSON reader",
            "",
            "`parse_digest` on one generated JSON capture of each size (items of the real API's shape).",
            "",
            "| items | s | s per 10,000 items |",
            "|---:|---:|---:|",
            f"| {small:,} | {small_s:.2f} | {small_s / small * 10_000:.2f} |",
            f"| {large:,} | {large_s:.2f} | {large_s / large * 10_000:.2f} |",
            "",
        ]
    code = report.get("lines_of_code")
    if code:
        lines += [
            "## Lines of code",
            "",
            "Lines of the `.py` files (blank and comment lines included) at this commit.",
            "",
            "| production (pipeline/, assets/) | tests |",
            "|---:|---:|",
            f"| {code['production']:,} | {code['tests']:,} |",
            "",
        ]
    if HISTORY.exists():
        lines += [HISTORY.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_pipeline_build":
        child_pipeline_build(Path(argv[1]), Path(argv[2]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated corpus sizes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=BENCH_DIR / "corpus", help="where corpora are generated and kept")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / "work", help="where the warehouses are built")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "RESULTS.md")
    parser.add_argument("--reader-size", type=int, default=1000, help="corpus size for the reader throughput")
    parser.add_argument("--skip-dagster", action="store_true")
    parser.add_argument("--json-items", type=int, default=100_000, help="items of the large JSON capture read")
    parser.add_argument("--repeats", type=int, default=2, help="full builds of each size and path (the fastest counts)")
    parser.add_argument("--skip-postgres", action="store_true", help="no build with the Dagster instance in PostgreSQL")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    started = time.perf_counter()
    report: dict = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "seed": args.seed,
        "machine": machine(),
        "builds": [],
        "repeats": args.repeats,
    }
    corpora = {}
    for size in sizes:
        print(f"{size} digests", flush=True)
        digests, extra, manifest = ensure_corpus(args.corpus, size, args.seed)
        corpora[size] = digests
        report["builds"].append(bench_build(size, digests, args.work, manifest, args.skip_dagster, args.repeats))
    largest = sizes[-1]
    rebuilt = [size for size in sizes if size >= 1000] or [largest]
    report["incremental"] = [
        bench_incremental(size, corpora[size], args.corpus / f"{size}-extra", args.work, args.skip_dagster) for size in rebuilt
    ]
    if not (args.skip_dagster or args.skip_postgres):
        report["postgres"] = bench_postgres(largest, corpora[largest], args.work)
    report["query_size"] = largest
    report["queries"] = bench_queries(args.work / f"pipeline-{largest}" / "trends.duckdb")
    reader_size = max((size for size in sizes if size <= args.reader_size), default=sizes[0])
    print(f"reader throughput on {reader_size} digests", flush=True)
    report["reader"] = bench_reader(corpora[reader_size])
    print("term extraction and the JSON reader", flush=True)
    report["terms"] = bench_terms(report["builds"], args.work)
    report["json_reader"] = bench_json_reader(args.json_items)
    report["lines_of_code"] = lines_of_code()
    report["load_end"] = os.getloadavg()
    report["seconds"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(report), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
