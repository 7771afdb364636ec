"""The trend report: terminal summary, offline HTML, the `trend_report` asset and `papertrends report`."""

import base64
import dataclasses
import datetime as dt
import html
import re
import shutil
import xml.etree.ElementTree as ET

import dagster as dg
import duckdb
import pytest

from assets.report import trend_report
from assets.resources import WarehouseResource
from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.report import CHARTS, REPORT_FILE, ReportData, load_report_data, shorten, terminal_summary, write_report
from pipeline.report import charts as report
from pipeline.report.data import Topics
from tests.helpers import REPO, SAMPLES, run_cli
from tests.trend_corpus import SCRIPT_TITLE, build_corpus
from tests.trend_reference import (
    Tables,
    expected_daily_summary,
    expected_paper_recurrence,
    expected_repo_popularity,
    is_code_link,
)

IMAGE = re.compile(r'<img id="chart-([a-z_]+)" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def _section(text: str, heading: str) -> list[list[str]]:
    """The rows of the table under a heading of the terminal summary, split on runs of 2+ spaces."""
    lines = text.split(heading + "\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return [re.split(r"\s{2,}", line.strip()) for line in lines[2:]]


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("a\u2029b", "a b"),  # paragraph separator: whitespace, before the first control
        ("a\u202ab", "a<U+202A>b"),  # left-to-right embedding, the first
        ("Attention \u202eIs All", "Attention <U+202E>Is All"),  # right-to-left override, the last
        ("a\u202fb", "a b"),  # narrow no-break space, past them: whitespace
        ("a\u2065b", "a\u2065b"),  # unassigned, before the isolates
        ("a\u2066b", "a<U+2066>b"),  # left-to-right isolate, the first
        ("a\u2069b", "a<U+2069>b"),  # pop directional isolate, the last
        ("a\u206ab", "a\u206ab"),  # past them: kept
        ("a\u200fb", "a\u200fb"),  # a right-to-left mark reorders no line: kept
    ],
)
def test_a_title_cannot_reorder_its_terminal_line(title, shown):
    assert shorten(title, 70) == shown


def test_a_shown_control_counts_toward_the_limit():
    assert shorten("abc\u202edefgh", 10) == "abc<U+202…"


def test_terminal_summary_on_the_samples(sample_settings):
    tables = Tables.load(sample_settings)
    text = terminal_summary(load_report_data(sample_settings.layout.duckdb_path))
    assert text.startswith("papertrends report: 5 digests, 358 appearances, 298 papers (52 seen on 2+ days, ")
    days = [
        [str(d["day"]), *map(str, list(d.values())[1:]), f"{d['papers_with_code'] / d['distinct_papers']:.0%}"]
        for d in expected_daily_summary(tables)
    ]
    assert _section(text, "Per day") == days
    recurring = [p for p in expected_paper_recurrence(tables) if p["days_seen"] >= 2][:10]
    top = _section(text, "Top recurring papers (seen on 2 or more days)")
    assert [row[-1] for row in top] == [shorten(p["title"], 70) for p in recurring]
    assert [int(row[1]) for row in top] == [p["days_seen"] for p in recurring]
    repos = [r for r in expected_repo_popularity(tables) if is_code_link(r)][:10]
    assert [row[-1] for row in _section(text, "Most linked repositories")] == [r["url"] for r in repos]
    # Four days of samples: no days before them to compare topics with.
    assert text.endswith("Rising topics, 2026-03-11 to 2026-03-14\n(no papers in the days before to compare with)")


@pytest.fixture(scope="session")
def small_report(small_settings):
    return write_report(small_settings.layout)


def test_the_report_ranks_repositories_only(small_settings):
    data = load_report_data(small_settings.layout.duckdb_path)
    # Not github.com/alpha-lab (a profile), huggingface.co/papers/... nor proj.github.io.
    assert [repo["url"] for repo in data.top_repos] == [
        "https://github.com/shared/tool",
        "https://github.com/evil/repo",
        "https://gitlab.com/beta/code",
        "https://huggingface.co/datasets/hf/only",
    ]
    assert [(host["host"], host["repositories"], host["papers"]) for host in data.hosts] == [
        ("github.com", 2, 2),  # B and X, X linking both repositories: 2 papers
        ("gitlab.com", 1, 1),
        ("huggingface.co", 1, 1),
    ]


def test_html_report_is_written_whole_under_the_warehouse(small_settings, small_report):
    assert small_report.path == small_settings.layout.root / "report" / REPORT_FILE
    assert [path.name for path in small_report.path.parent.iterdir()] == [REPORT_FILE]  # no temporary left


def test_html_report_has_every_chart_as_an_offline_svg(small_report):
    page = small_report.path.read_text("utf-8")
    images = IMAGE.findall(page)
    assert [name for name, _ in images] == [name for name, _, _ in CHARTS]
    for name, data in images:
        svg = ET.fromstring(base64.b64decode(data))
        assert svg.tag == "{http://www.w3.org/2000/svg}svg", name
        assert float(svg.get("width").removesuffix("pt")) > 100 and float(svg.get("height").removesuffix("pt")) > 100
    # Nothing to fetch: no script, no external source, no stylesheet link; the policy forbids them too.
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="(?!data:)', page)
    [policy] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert html.unescape(policy) == "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def test_html_report_escapes_the_data(small_report):
    page = small_report.path.read_text("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Escaping Titles in Reports" in page
    assert SCRIPT_TITLE not in page


def test_html_report_is_the_same_for_the_same_data(small_settings, small_report):
    first = small_report.path.read_bytes()
    assert write_report(small_settings.layout).path.read_bytes() == first


def test_report_of_a_warehouse_without_dated_digests(tmp_path):
    settings = Settings(tmp_path / "warehouse", tmp_path / "raw", None)
    settings.digests_dir.mkdir()
    (settings.digests_dir / "undated.txt").write_text("new\n\nA Title Without a Date\n\n" + "An abstract. " * 40)
    from pipeline.build import build_warehouse

    build_warehouse(settings)
    report = write_report(settings.layout)
    assert report.data.days == [] and report.data.totals["papers"] == 0
    text = terminal_summary(report.data)
    assert "no dated digests yet" in text and "(no paper seen on 2 or more days)" in text and "(no repository links)" in text
    page = report.path.read_text("utf-8")
    assert len(IMAGE.findall(page)) == len(CHARTS)
    # No table of headers alone: each empty chart says why (rising topics say it in a caption).
    assert "<table>" not in page


def test_trend_report_asset_shows_its_chart_in_the_ui(small_settings):
    result = dg.materialize([trend_report], resources={"warehouse": WarehouseResource.from_settings(small_settings)})
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = event.materialization.metadata
    assert metadata["path"].value == str(small_settings.layout.report_dir / REPORT_FILE)
    chart = metadata["chart"].value
    match = re.fullmatch(r"!\[[^\]]+\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", chart)
    assert match and base64.b64decode(match.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert "&lt;script&gt;" in metadata["top_recurring"].value and "<script>" not in metadata["top_recurring"].value
    assert metadata["days"].value == 7


def test_cli_report_prints_the_summary_and_writes_the_html(tmp_path):
    settings = build_corpus(tmp_path)
    (settings.layout.report_dir / REPORT_FILE).unlink(missing_ok=True)
    completed = run_cli("report", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(settings.warehouse_dir)}, cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert [row[0] for row in _section(out, "Per day")] == [str(d["day"]) for d in expected_daily_summary(Tables.load(settings))]
    assert SCRIPT_TITLE in [row[-1] for row in _section(out, "Top recurring papers (seen on 2 or more days)")]
    assert out.rstrip().endswith(f"HTML report: {settings.layout.report_dir / REPORT_FILE}")
    assert (settings.layout.report_dir / REPORT_FILE).is_file()


def test_a_closed_output_pipe_exits_141_without_a_message(tmp_path):
    """`papertrends report | head -1`: the reader going away is no failure to report."""
    import os
    import subprocess
    import sys

    settings = build_corpus(tmp_path)
    env = {**os.environ, "PAPERTRENDS_WAREHOUSE_DIR": str(settings.warehouse_dir)}
    child = subprocess.Popen(
        [sys.executable, "-m", "assets.cli", "report"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    child.stdout.close()  # before the child writes anything
    _, stderr = child.communicate(timeout=120)
    assert (child.returncode, stderr) == (141, "")


def test_output_to_a_full_disk_is_one_line_and_exit_1(tmp_path):
    """`papertrends report > file` on a full disk (Linux's /dev/full): no traceback."""
    import os
    import subprocess
    import sys

    settings = build_corpus(tmp_path)
    env = {**os.environ, "PAPERTRENDS_WAREHOUSE_DIR": str(settings.warehouse_dir)}
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "assets.cli", "report"], cwd=REPO, env=env, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )
    assert (completed.returncode, completed.stderr) == (1, "papertrends: OSError: [Errno 28] No space left on device\n")


def test_cli_report_without_a_warehouse(tmp_path):
    completed = run_cli("report", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "none")}, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.strip() == f"papertrends: no warehouse at {tmp_path / 'none' / 'trends.duckdb'}: run `papertrends build` first"


def test_cli_report_refuses_a_report_directory_that_is_a_symbolic_link(tmp_path):
    settings = build_corpus(tmp_path)
    report_dir = settings.layout.report_dir
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.rmtree(report_dir)
    report_dir.symlink_to(elsewhere)
    completed = run_cli("report", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(settings.warehouse_dir)}, cwd=tmp_path)
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"papertrends: {report_dir} is a symbolic link: papertrends writes only inside the warehouse; remove it"
    ]
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("damage", ["not a database", "a database without the trend tables"])
def test_cli_report_on_an_unreadable_trends_db_says_so_in_one_line(tmp_path, damage):
    database = tmp_path / "warehouse" / "trends.duckdb"
    database.parent.mkdir()
    if damage == "not a database":
        database.write_bytes(b"garbage" * 1000)
    else:
        duckdb.connect(str(database)).close()
    completed = run_cli("report", env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse")}, cwd=tmp_path)
    assert completed.returncode == 1
    (line,) = completed.stderr.splitlines()
    assert line.startswith(f"papertrends: cannot read {database}: ") and line.endswith("; `papertrends build` writes it anew")


def test_html_cells_of_a_null_are_empty_and_zero_upvotes_are_shown():
    from pipeline.report.page import render_html

    paper = {"title": "Zero Upvotes", "days_seen": 2, "appearances": 2, "longest_streak_days": 2, "span_days": 2,
             "first_seen": dt.date(2026, 3, 11), "last_seen": dt.date(2026, 3, 12), "has_code": False}  # fmt: skip
    repo = {"host": "github.com", "url": "https://github.com/only/trending", "papers": 1, "appearances": 0,
            "first_seen": None, "last_seen": None}  # fmt: skip
    data = ReportData(
        days=[],
        top_papers=[{**paper, "max_upvotes": 0}, {**paper, "title": "No Upvotes Known", "max_upvotes": None}],
        top_repos=[repo],
        hosts=[{"host": "github.com", "kind": "github", "repositories": 1, "papers": 1}],
        totals={"digests": 2, "appearances": 4, "papers": 2, "recurring_papers": 2, "papers_with_code": 0,
                "first_day": dt.date(2026, 3, 11), "last_day": dt.date(2026, 3, 12)},  # fmt: skip
        topics=Topics(None, None),
    )
    page = render_html(data, {name: (b"<svg/>", None) for name, _, _ in CHARTS})
    assert "None" not in page
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    # A 0 is a count of upvotes (the column is shown); an unknown count is an empty cell.
    assert "<th>upvotes</th>" in page
    assert [row[-1] for row in cells if len(row) > 2 and row[1] in ("Zero Upvotes", "No Upvotes Known")] == ["0", ""]
    [repo_row] = [row for row in cells if "https://github.com/only/trending" in row]
    assert repo_row[-2:] == ["", ""]  # first and last seen: in no daily listing


def test_the_report_totals_count_the_daily_listings_only(tmp_path):
    """The samples and a trending capture: the cards and the first line count the daily listings
    (5 digests, 358 appearances, DESIGN.md), as the per-day rows do, not the capture's 4 appearances."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in [*SAMPLES.iterdir(), REPO / "tests" / "captures" / "trending.md"]:
        if path.is_file() and not path.name.startswith("."):
            shutil.copyfile(path, raw / path.name)
    settings = Settings(tmp_path / "warehouse", raw, None)
    build_warehouse(settings)
    data = load_report_data(settings.layout.duckdb_path)
    assert terminal_summary(data).startswith("papertrends report: 5 digests, 358 appearances, 298 papers (52 seen on 2+ days, ")
    assert (data.totals["digests"], data.totals["appearances"]) == (5, 358)
    # Every paper linking a GitHub repository counted once, among the daily listings' papers with code.
    github = next(host for host in data.hosts if host["host"] == "github.com")
    assert github["papers"] <= data.totals["papers_with_code"]
    # The repositories too: github.com/opencourt/opencourt is linked by a paper of the trending
    # capture alone, so it is in no row, and every row has papers of the daily listings.
    every = load_report_data(settings.layout.duckdb_path, top=1000)
    assert "https://github.com/opencourt/opencourt" not in [repo["url"] for repo in every.top_repos]
    assert all(repo["appearances"] > 0 and repo["first_seen"] is not None for repo in every.top_repos)
    # Counted here from the Parquet tables: the code links of papers of the daily listings.
    tables = Tables.load(settings)
    daily_papers = {row["paper_id"] for row in tables.appearances}
    code_urls = {
        link["url"]
        for link in tables.repo_links
        if is_code_link(link) and link["paper_id"] in daily_papers
    }
    assert {repo["url"] for repo in every.top_repos} == code_urls and len(every.top_repos) == len(code_urls)
    assert sum(host["repositories"] for host in every.hosts) == len(code_urls)


def _days_from_jan_1(count: int) -> ReportData:
    start = dt.date(2026, 1, 1)
    days = [
        {"day": start + dt.timedelta(days=n), "appearances": 10 + n, "new_appearances": 6, "returning_appearances": 4 + n,
         "distinct_papers": 10, "papers_with_code": 3, "code_share": 0.3}
        for n in range(count)
    ]
    return ReportData(days=days, top_papers=[], top_repos=[], hosts=[], totals={}, topics=Topics(None, None))


def test_day_charts_draw_the_latest_month_of_a_long_series():
    assert (report.CHART_DAYS, report.DAY_TICKS) == (31, 12)
    figure = report.chart_appearances(_days_from_jan_1(40))
    ax = figure.axes[0]
    assert len(ax.patches) == 2 * 31  # new and returning bars, one pair a day, Jan 10 to Feb 9
    # 31 days, at most 12 names: every third day, back from the latest.
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert labels == ["Jan 10", "Jan 13", "Jan 16", "Jan 19", "Jan 22", "Jan 25", "Jan 28", "Jan 31", "Feb 3", "Feb 6", "Feb 9"]
    assert ax.get_title(loc="left") == "the latest 31 of 40 days (every day is in the table below)"
    share = report.chart_code_share(_days_from_jan_1(40)).axes[0]
    assert len(share.patches) == 31 and [label.get_text() for label in share.get_xticklabels()] == labels


@pytest.mark.parametrize(
    ("count", "labels"),
    [
        (11, ["Jan 1", "Jan 2", "Jan 3", "Jan 4", "Jan 5", "Jan 6", "Jan 7", "Jan 8", "Jan 9", "Jan 10", "Jan 11"]),
        (12, ["Jan 1", "Jan 2", "Jan 3", "Jan 4", "Jan 5", "Jan 6", "Jan 7", "Jan 8", "Jan 9", "Jan 10", "Jan 11", "Jan 12"]),
        (13, ["Jan 1", "Jan 3", "Jan 5", "Jan 7", "Jan 9", "Jan 11", "Jan 13"]),  # every other day, back from the 13th
    ],
)
def test_every_day_is_named_up_to_twelve_days_then_every_kth(count, labels):
    ax = report.chart_appearances(_days_from_jan_1(count)).axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == labels


@pytest.mark.parametrize(("count", "figures"), [(11, True), (12, True), (13, False)])
def test_bars_carry_their_figures_up_to_twelve_days(count, figures):
    # Appearances 10, 11, ... on Jan 1, 2, ...; each day 3 of its 10 papers with code.
    assert report.LABELLED_DAYS == 12
    appearances = report.chart_appearances(_days_from_jan_1(count)).axes[0]
    share = report.chart_code_share(_days_from_jan_1(count)).axes[0]
    if figures:
        assert [text.get_text() for text in appearances.texts] == [str(10 + n) for n in range(count)]
        assert [text.get_text() for text in share.texts] == ["30%\n3 of 10"] * count
    else:
        assert list(appearances.texts) == [] and list(share.texts) == []


def test_the_top_papers_axis_has_a_few_whole_day_ticks_however_many_days():
    paper = {"title": "Seen for months", "appearances": 130, "days_seen": 120, "has_code": False}
    data = dataclasses.replace(_days_from_jan_1(0), top_papers=[paper, {**paper, "title": "Seen twice", "days_seen": 2}])
    ticks = report.chart_top_papers(data).axes[0].get_xticks()
    # Not one tick per day (121 of them): at most 11, whole numbers of days.
    assert 2 <= len(ticks) <= 11 and all(tick == int(tick) for tick in ticks)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "new"), (0.0, "0×"), (0.034, "0.034×"), (0.99, "0.99×"), (1.0, "1.0×"), (1.04, "1.0×"), (7.6, "7.6×"), (123.4, "123.4×")],
)
def test_a_lift_shows_a_decimal_and_two_digits_below_one(value, shown):
    from pipeline.report.text import lift

    assert lift(value) == shown


def test_a_term_share_has_one_decimal_so_a_small_share_is_not_zero():
    from pipeline.report.text import percent, term_share

    assert (term_share(0.004), term_share(0.0), term_share(0.3125), term_share(None)) == ("0.4%", "0.0%", "31.2%", "")
    assert (percent(0.004), percent(0.3125)) == ("0%", "31%")  # the day tables' shares stay whole
