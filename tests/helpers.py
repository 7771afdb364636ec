"""Small builders for test digests and table readers."""

from pathlib import Path

import pyarrow as pa

from pipeline.config import Layout, Settings
from pipeline.validate.suites import read_table as read_files

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "warehouse" / "raw"
# paper_terms rows of the samples: the plain-Python tokenizer of benchmarks/terms_baseline.py
# gives as many (test_topics_build checks the rows themselves).
SAMPLE_PAPER_TERMS = 46_272
# The samples are one month (March 2026): one candidate (and published) file per table.
SAMPLE_TABLE_FILES = [
    "digests/part-0.parquet",
    "papers/2026-03.parquet",
    "appearances/2026-03.parquet",
    "repo_links/2026-03.parquet",
    "rejects/part-0.parquet",
    "repo_stars/part-0.parquet",
    "paper_terms/2026-03.parquet",
]
HEADER = ["new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community"]

# A time of the approval or the publication: UTC, to the second.
UTC_SECONDS = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"


def abstract(seed: str, sentences: int = 12) -> str:
    """An abstract-shaped block: several sentences, well over a title's length."""
    return " ".join(f"Sentence {n} about {seed} shows a clear and repeatable effect." for n in range(sentences))


def reject_reasons(parsed) -> list[tuple[int, str]]:
    """(line, reason) of each reject of a parsed digest."""
    return [(reject.line, reject.reason) for reject in parsed.rejects]


def links_by_definition(text: str) -> list:
    """Every distinct link of every whitespace-delimited word: what extract_links must give
    while it reads only the words its hints point at."""
    from pipeline.read.links import canonicalize, link_pattern

    found: dict[str, object] = {}
    for word in text.split():
        for match in link_pattern().finditer(word):
            link = canonicalize(match.group(0))
            if link:
                found.setdefault(link.url, link)
    return list(found.values())


def render(date_line: str | None, entries: list[tuple[str, str]], header: list[str] | None = None) -> str:
    """A digest in the layout of DESIGN.md: blocks separated by one blank line."""
    blocks = list(HEADER if header is None else header)
    if date_line is not None:
        blocks.append(date_line)
    for title, text in entries:
        blocks += [title, text]
    return "\n\n".join(blocks)


def read_table(layout: Layout, table: str) -> pa.Table:
    """A published table, its files in name order."""
    return read_files(layout.table_files(table), table)


def one_step_failure(result):
    """The one STEP_FAILURE event of a Dagster run's result (fails on none or several)."""
    failures = [event for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1, failures
    return failures[0]


def rows(layout: Layout, table: str) -> list[dict]:
    return read_table(layout, table).to_pylist()


def run_cli(*args: str, env_extra: dict[str, str] | None = None, cwd: Path | None = None):
    """`papertrends ARGS` in a subprocess, with only the given PAPERTRENDS_ and DAGSTER_HOME settings."""
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "assets.cli", *args], capture_output=True, text=True, env=env, cwd=cwd or REPO, timeout=300
    )


def publish_unchecked(settings: Settings) -> None:
    """Stage, consolidate and publish, the candidates approved as a passing check approves them
    (record_check) without running the checks: for tests of what the store makes of digests."""
    from pipeline.build import REQUIRED_CHECKS, consolidate_tables, publish, stage
    from pipeline.store.publish import read_manifest, record_check

    stage(settings)
    assert consolidate_tables(settings) is not None
    manifest = read_manifest(settings.layout)
    assert manifest is not None
    for check in REQUIRED_CHECKS:
        record_check(settings.layout, check, manifest.sha256)
    assert publish(settings)


_HOLD_LOCK = (
    "import sys; from pathlib import Path; from pipeline.store.lock import warehouse_lock\n"
    "with warehouse_lock(Path(sys.argv[1]) / '.papertrends.lock'):\n"
    "    print('held', flush=True); sys.stdin.read()\n"
)


def start_lock_holder(warehouse_dir: Path):
    """Another process holding the warehouse's write lock until its stdin is closed (or it is killed)."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(warehouse_dir)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder
