"""Plain-text summaries of a built warehouse, for the command line."""

import datetime as dt
from pathlib import Path

from pipeline.report.data import ReportData
from pipeline.serve.trends_db import connect_readonly
from pipeline.sql import scalar

DAILY_COLUMNS = ("day", "digests", "appearances", "distinct_papers", "new_papers", "returning_papers")


def format_table(header: tuple[str, ...], rows: list[tuple], left: frozenset[int] | set[int] = frozenset()) -> str:
    """Columns padded to width: text columns (indexes in `left`) to the left, numbers right."""
    cells = [list(header)] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(header))]

    def line(row):
        padded = [cell.ljust(width) if index in left else cell.rjust(width) for index, (cell, width) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(padded).rstrip()

    return "\n".join([line(cells[0]), line(["-" * width for width in widths])] + [line(row) for row in cells[1:]])


# Days printed after a build: years of digests would print thousands of lines.
SUMMARY_DAYS = 14


def daily_summary_text(duckdb_path: Path, days: int = SUMMARY_DAYS) -> str:
    """The latest `days` rows of daily_summary as a text table, oldest first."""
    with connect_readonly(duckdb_path) as con:
        total = scalar(con, "SELECT count(*) FROM daily_summary")
        rows = con.execute(
            f"SELECT {', '.join(DAILY_COLUMNS)} FROM (SELECT * FROM daily_summary ORDER BY day DESC LIMIT ?) ORDER BY day",
            [days],
        ).fetchall()
    text = format_table(DAILY_COLUMNS, rows)
    if total > len(rows):
        text += f"\n(the latest {len(rows)} of {total:,} days; all of them: SELECT * FROM daily_summary)"
    return text


_TOTALS_SQL = """
SELECT
    (SELECT count(*) FROM digests) AS "digests",
    (SELECT count(*) FROM digests WHERE status NOT IN ('ok', 'duplicate')) AS "unusable digests",
    (SELECT count(*) FROM digests WHERE duplicate_of IS NOT NULL) AS "duplicate digests",
    (SELECT count(*) FROM appearances) AS "appearances",
    (SELECT count(*) FROM papers) AS "papers",
    (SELECT count(*) FROM repo_links) AS "repo links",
    (SELECT count(*) FROM rejects) AS "rejected blocks"
"""


def totals(duckdb_path: Path) -> dict[str, int]:
    with connect_readonly(duckdb_path) as con:
        cursor = con.execute(_TOTALS_SQL)
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchall()[0], strict=True))


# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) act
# until a terminator: on a terminal, one in a title reorders the rest of its line.
_BIDI_CONTROLS_SHOWN = {code: f"<U+{code:04X}>" for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, its bidirectional controls shown as code points."""
    text = " ".join(text.split()).translate(_BIDI_CONTROLS_SHOWN)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def percent(share: float | None, decimals: int = 0) -> str:
    return "" if share is None else f"{share:.{decimals}%}"


def term_share(share: float | None) -> str:
    """A term's share of papers, a few percent at most: one decimal, so 0.4% is not 0%."""
    return percent(share, 1)


def lift(value: float | None, times: str = "×") -> str:
    """A ratio of shares: one decimal, two significant digits below 1 (0.03, not 0.0); new when none."""
    if value is None:
        return "new"
    return f"{value:.1f}{times}" if value >= 1 else f"{value:.2g}{times}"


def span(first_day: dt.date | None, last_day: dt.date | None) -> str:
    if first_day is None:
        return "no dated digests yet"
    return f"{first_day} to {last_day}"


def terminal_summary(data: ReportData, title_chars: int = 70) -> str:
    t = data.totals
    parts = [
        f"papertrends report: {t['digests']} digests, {t['appearances']} appearances, "
        f"{t['papers']} papers ({t['recurring_papers']} seen on 2+ days, {t['papers_with_code']} with code), {span(t['first_day'], t['last_day'])}",
        "",
        "Per day",
        format_table(
            ("day", "digests", "appearances", "distinct_papers", "new_papers", "returning_papers", "papers_with_code", "code_share"),
            [
                (d["day"], d["digests"], d["appearances"], d["distinct_papers"], d["new_papers"], d["returning_papers"], d["papers_with_code"], percent(d["code_share"]))
                for d in data.days
            ],
        ),
        "",
        "Top recurring papers (seen on 2 or more days)",
        _top_papers_table(data, title_chars) if data.top_papers else "(no paper seen on 2 or more days)",
        "",
        "Most linked repositories",
        format_table(
            ("rank", "papers", "appearances", "host", "url"),
            [(rank, r["papers"], r["appearances"], r["host"], r["url"]) for rank, r in enumerate(data.top_repos, start=1)],
            left={3, 4},
        )
        if data.top_repos
        else "(no repository links)",
        "",
        *_topics_text(data, title_chars),
    ]
    return "\n".join(parts)


def _topics_text(data: ReportData, title_chars: int) -> list[str]:
    """The HTML report's topic sections: rising, new this period and fading terms."""
    topics = data.topics
    period = span(topics.start_day, topics.end_day)
    if not topics.baseline_papers:
        return [f"Rising topics, {period}", "(no papers in the days before to compare with)"]
    parts = []
    for title, rows in (("Rising topics", topics.rising), ("New this period", topics.new), ("Fading", topics.fading)):
        parts += [f"{title}, {period}", _terms_table(rows, title_chars) if rows else "(none)", ""]
    return parts[:-1]


def _terms_table(rows: list[dict], title_chars: int) -> str:
    header = ("rank", "term", "papers", "share", "before", "lift", "for example")
    return format_table(
        header,
        [
            (
                rank, t["term"], t["papers"], term_share(t["share"]), term_share(t["baseline_share"]),
                lift(t["lift"], "x"), shorten(t["examples"][0], title_chars) if t["examples"] else "",
            )
            for rank, t in enumerate(rows, start=1)
        ],
        left={1, len(header) - 1},
    )


def _top_papers_table(data: ReportData, title_chars: int) -> str:
    # Upvotes only where a capture showed them (the sample layout shows none).
    upvotes = any(p.get("max_upvotes") is not None for p in data.top_papers)
    header = ("rank", "days_seen", "appearances", "streak", "first_seen", "last_seen", "code", *(("upvotes",) if upvotes else ()), "title")
    rows = [
        (
            rank, p["days_seen"], p["appearances"], p["longest_streak_days"], p["first_seen"], p["last_seen"],
            "yes" if p["has_code"] else "", *((p.get("max_upvotes"),) if upvotes else ()), shorten(p["title"], title_chars),
        )
        for rank, p in enumerate(data.top_papers, start=1)
    ]
    return format_table(header, rows, left={6, len(header) - 1})
