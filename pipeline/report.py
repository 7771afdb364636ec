"""The trend report: a terminal summary and a self-contained HTML page of charts.

Reads trends.duckdb read-only. The HTML holds its charts as SVG data URIs and its
styles inline, and forbids scripts and fetches by its content security policy, so it
opens offline from file:// and a title holding markup stays text.
"""

import base64
import html
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from pipeline.atomic import atomic_path
from pipeline.config import Layout
from pipeline.read.links import CODE_KINDS
from pipeline.summary import format_table
from pipeline.warehouse_db import connect_readonly

TOP = 10
REPORT_FILE = "index.html"
OVERVIEW_TITLE = "Appearances per day: new and returning papers"

# One color per meaning, the same in every chart and in the page.
NEW_COLOR = "#3b6fb6"
RETURNING_COLOR = "#f29e4c"
CODE_COLOR = "#2f9e72"
NO_CODE_COLOR = "#9aa5b1"
TEXT_COLOR = "#1f2933"
GRID_COLOR = "#e4e7eb"
# Repository hosts in their own brand colors, apart from the day charts' blue and amber.
KIND_COLORS = {"github": "#24292f", "gitlab": "#e24329", "gitee": "#8c1c24", "bitbucket": "#2684ff", "huggingface": "#e8a317"}

_STYLE = {
    "font.family": "DejaVu Sans",  # ships with matplotlib: the same on every machine
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.titlelocation": "left",
    "axes.titlepad": 10,
    "axes.labelsize": 11,
    "axes.edgecolor": GRID_COLOR,
    "axes.labelcolor": TEXT_COLOR,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": TEXT_COLOR,
    "ytick.color": TEXT_COLOR,
    "text.color": TEXT_COLOR,
    "legend.frameon": False,
    # Titles are data: "$x$" must print as written, not as mathtext.
    "text.parse_math": False,
    # Fixed ids and no date: the same data gives the same file.
    "svg.hashsalt": "papertrends",
}


# Days drawn in the per-day charts: the latest month, each bar readable with its label.
CHART_DAYS = 31


@dataclass(frozen=True)
class ReportData:
    days: list[dict]  # daily_summary rows, plus new/returning appearances and code share
    top_papers: list[dict]  # paper_recurrence rows of papers seen on 2 or more days
    top_repos: list[dict]  # repo_popularity rows of repositories (CODE_KINDS)
    hosts: list[dict]  # per repository host: repositories and papers linking them
    totals: dict


@dataclass(frozen=True)
class Report:
    path: Path
    data: ReportData
    overview_png: bytes  # the per-day chart, for places that show a picture (Dagster UI)


_DAYS_SQL = """
SELECT
    s.*,
    coalesce(r.new_appearances, 0) AS new_appearances,
    coalesce(r.returning_appearances, 0) AS returning_appearances,
    CASE WHEN s.distinct_papers > 0 THEN s.papers_with_code / s.distinct_papers END AS code_share
FROM daily_summary s
LEFT JOIN (
    SELECT day,
           sum(appearances) FILTER (WHERE is_first_seen) AS new_appearances,
           sum(appearances) FILTER (WHERE NOT is_first_seen) AS returning_appearances
    FROM recurrence_by_day
    GROUP BY day
) r USING (day)
ORDER BY s.day
"""
# The views' own orders, spelled out: an outer query need not keep a view's order.
_TOP_PAPERS_SQL = """
SELECT * FROM paper_recurrence WHERE days_seen >= 2
ORDER BY days_seen DESC, appearances DESC, first_seen, paper_id
LIMIT $n
"""
_TOP_REPOS_SQL = """
SELECT * FROM repo_popularity WHERE list_contains($kinds, kind)
ORDER BY papers DESC, appearances DESC, url
LIMIT $n
"""
_HOSTS_SQL = """
SELECT host, min(kind) AS kind, count(*) AS repositories, sum(papers) AS papers
FROM repo_popularity
WHERE list_contains($kinds, kind)
GROUP BY host
ORDER BY papers DESC, repositories DESC, host
"""
_TOTALS_SQL = """
SELECT
    (SELECT count(*) FROM digests WHERE status = 'ok' AND duplicate_of IS NULL) AS digests,
    (SELECT count(*) FROM appearances) AS appearances,
    (SELECT count(*) FROM paper_recurrence) AS papers,
    (SELECT count(*) FROM paper_recurrence WHERE days_seen >= 2) AS recurring_papers,
    (SELECT count(*) FROM paper_recurrence WHERE has_code) AS papers_with_code,
    (SELECT min(day) FROM daily_summary) AS first_day,
    (SELECT max(day) FROM daily_summary) AS last_day
"""


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def load_report_data(duckdb_path: Path, top: int = TOP) -> ReportData:
    kinds = list(CODE_KINDS)
    with connect_readonly(duckdb_path) as con:
        return ReportData(
            days=_dicts(con.execute(_DAYS_SQL)),
            top_papers=_dicts(con.execute(_TOP_PAPERS_SQL, {"n": top})),
            top_repos=_dicts(con.execute(_TOP_REPOS_SQL, {"kinds": kinds, "n": top})),
            hosts=_dicts(con.execute(_HOSTS_SQL, {"kinds": kinds})),
            totals=_dicts(con.execute(_TOTALS_SQL))[0],
        )


# --- text -------------------------------------------------------------------------------


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _percent(share: float | None) -> str:
    return "" if share is None else f"{share:.0%}"


def _span(totals: dict) -> str:
    if totals["first_day"] is None:
        return "no dated digests yet"
    return f"{totals['first_day']} to {totals['last_day']}"


def terminal_summary(data: ReportData, title_chars: int = 70) -> str:
    t = data.totals
    parts = [
        f"papertrends report: {t['digests']} digests, {t['appearances']} appearances, "
        f"{t['papers']} papers ({t['recurring_papers']} seen on 2+ days, {t['papers_with_code']} with code), {_span(t)}",
        "",
        "Per day",
        format_table(
            ("day", "digests", "appearances", "distinct_papers", "new_papers", "returning_papers", "papers_with_code", "code_share"),
            [
                (d["day"], d["digests"], d["appearances"], d["distinct_papers"], d["new_papers"], d["returning_papers"], d["papers_with_code"], _percent(d["code_share"]))
                for d in data.days
            ],
        ),
        "",
        "Top recurring papers (seen on 2 or more days)",
        format_table(
            ("rank", "days_seen", "appearances", "streak", "first_seen", "last_seen", "code", "title"),
            [
                (rank, p["days_seen"], p["appearances"], p["longest_streak_days"], p["first_seen"], p["last_seen"], "yes" if p["has_code"] else "", shorten(p["title"], title_chars))
                for rank, p in enumerate(data.top_papers, start=1)
            ],
            left={6, 7},
        )
        if data.top_papers
        else "(no paper seen on 2 or more days)",
        "",
        "Most linked repositories",
        format_table(
            ("rank", "papers", "appearances", "host", "url"),
            [(rank, r["papers"], r["appearances"], r["host"], r["url"]) for rank, r in enumerate(data.top_repos, start=1)],
            left={3, 4},
        )
        if data.top_repos
        else "(no repository links)",
    ]
    return "\n".join(parts)


# --- charts -----------------------------------------------------------------------------


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _day_label(day) -> str:
    return day.strftime("%b %d").replace(" 0", " ")


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=NO_CODE_COLOR, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def _new_figure(height: float) -> tuple[Figure, object]:
    figure = Figure(figsize=(9, height), layout="constrained")
    figure.get_layout_engine().set(w_pad=0.12, h_pad=0.08)  # inches: labels keep off the edge
    return figure, figure.add_subplot()


def _day_chart(data: ReportData, height: float) -> tuple[Figure, object, list[dict], list[str]]:
    """A figure for one bar per day: the latest CHART_DAYS days and their labels.

    Years of days would be thousands of unreadable bars (and minutes of drawing);
    the per-day table of the report lists every day. With no days, an explanatory
    empty chart.
    """
    figure, ax = _new_figure(height)
    if not data.days:
        _empty(ax, "No dated digests yet")
        return figure, ax, [], []
    days = data.days[-CHART_DAYS:]
    if len(days) < len(data.days):
        ax.set_title(f"the latest {len(days)} of {len(data.days)} days (every day is in the table below)", loc="left")
    return figure, ax, days, [_day_label(d["day"]) for d in days]


def chart_appearances(data: ReportData) -> Figure:
    figure, ax, days, labels = _day_chart(data, 4.2)
    if not labels:
        return figure
    new = [d["new_appearances"] for d in days]
    returning = [d["returning_appearances"] for d in days]
    ax.bar(labels, new, color=NEW_COLOR, label="new (first day seen)", width=0.6)
    ax.bar(labels, returning, bottom=new, color=RETURNING_COLOR, label="returning (seen before)", width=0.6)
    for index, d in enumerate(days):
        ax.annotate(str(d["appearances"]), (index, d["appearances"]), xytext=(0, 4), textcoords="offset points", ha="center", fontweight="bold")
    ax.set_ylabel("appearances")
    ax.set_ylim(0, max(d["appearances"] for d in days) * 1.15 or 1)
    ax.yaxis.grid(True, color=GRID_COLOR)
    ax.set_axisbelow(True)
    figure.legend(loc="outside upper right", ncols=2)
    return figure


def chart_code_share(data: ReportData) -> Figure:
    figure, ax, days, labels = _day_chart(data, 3.6)
    if not labels:
        return figure
    shares = [100 * (d["code_share"] or 0) for d in days]
    ax.bar(labels, shares, color=CODE_COLOR, width=0.6)
    for index, d in enumerate(days):
        text = f"{_percent(d['code_share']) or '–'}  ({d['papers_with_code']} of {d['distinct_papers']})"
        ax.annotate(text, (index, shares[index]), xytext=(0, 4), textcoords="offset points", ha="center")
    ax.set_ylabel("papers with a repository link (%)")
    ax.set_ylim(0, min(100, max(shares) * 1.3) or 10)
    ax.yaxis.grid(True, color=GRID_COLOR)
    ax.set_axisbelow(True)
    return figure


def _ranked_bars(ax, values: list, labels: list[str], notes: list[str], colors: list[str]) -> None:
    """Horizontal bars, rank 1 at the top, each with a note just past its end."""
    positions = list(range(len(values)))[::-1]
    ax.barh(positions, values, color=colors, height=0.65)
    ax.set_yticks(positions, labels)
    for position, value, note in zip(positions, values, notes):
        ax.annotate(note, (value, position), xytext=(5, 0), textcoords="offset points", va="center", fontsize=9)
    ax.xaxis.grid(True, color=GRID_COLOR)
    ax.set_axisbelow(True)


def chart_top_papers(data: ReportData) -> Figure:
    papers = data.top_papers
    figure, ax = _new_figure(1.2 + 0.42 * max(len(papers), 2))
    if not papers:
        _empty(ax, "No paper seen on 2 or more days yet")
        return figure
    _ranked_bars(
        ax,
        values=[p["days_seen"] for p in papers],
        labels=[shorten(p["title"], 60) for p in papers],
        notes=[_count(p["appearances"], "appearance") for p in papers],
        colors=[CODE_COLOR if p["has_code"] else NO_CODE_COLOR for p in papers],
    )
    most = max(p["days_seen"] for p in papers)
    ax.set_xlim(0, most * 1.45)
    ax.set_xticks(range(0, most + 1))
    ax.set_xlabel("distinct days seen")
    figure.legend(
        handles=[Patch(color=CODE_COLOR, label="links a repository"), Patch(color=NO_CODE_COLOR, label="no repository link")],
        loc="outside upper right", ncols=2,
    )
    return figure


def _host_colors(data: ReportData) -> dict[str, str]:
    return {row["host"]: KIND_COLORS.get(row["kind"], NO_CODE_COLOR) for row in data.hosts}


def chart_repositories(data: ReportData) -> Figure:
    repos = data.top_repos
    figure, ax = _new_figure(1.4 + 0.42 * max(len(repos), 2))
    if not repos:
        _empty(ax, "No repository links yet")
        return figure
    colors = _host_colors(data)
    _ranked_bars(
        ax,
        values=[r["appearances"] for r in repos],
        labels=[shorten(f"{r['owner']}/{r['repo']}" if r["owner"] and r["repo"] else r["url"].removeprefix("https://"), 45) for r in repos],
        notes=[f"{_count(r['papers'], 'paper')}, {_count(r['appearances'], 'appearance')}" for r in repos],
        colors=[colors[r["host"]] for r in repos],
    )
    ax.set_xlim(0, max(r["appearances"] for r in repos) * 1.6)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("appearances of the papers linking the repository")
    # The legend is the by-host breakdown: every repository host with its papers.
    handles = [Patch(color=colors[h["host"]], label=f"{h['host']}: {_count(h['papers'], 'paper')}") for h in data.hosts]
    figure.legend(handles=handles, loc="outside upper right", ncols=min(4, len(handles)), title="papers linking a repository, by host", alignment="right")
    return figure


CHARTS = (
    ("appearances", chart_appearances, "Stacked bars: each day's appearances, split into papers new that day and papers seen on an earlier day."),
    ("code_share", chart_code_share, "Bars: the share of the day's distinct papers that link a repository."),
    ("top_papers", chart_top_papers, "Horizontal bars: the papers seen on the most distinct days."),
    ("repositories", chart_repositories, "Horizontal bars: the repositories linked by the most papers (then the most appearances of those papers), colored by host."),
)


def _save(figure: Figure, fmt: str) -> bytes:
    buffer = io.BytesIO()
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    figure.savefig(buffer, format=fmt, metadata=metadata, dpi=110, facecolor="white")
    return buffer.getvalue()


def render_charts(data: ReportData) -> dict[str, tuple[bytes, bytes | None]]:
    """Chart name -> (SVG, PNG of the first chart only)."""
    rendered = {}
    with matplotlib.rc_context(_STYLE), warnings.catch_warnings():
        # A title in a script DejaVu Sans lacks draws boxes; a warning per glyph helps no one.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        for index, (name, draw, _) in enumerate(CHARTS):
            figure = draw(data)
            svg = _save(figure, "svg")
            png = None
            if index == 0:
                # Alone (in the Dagster UI) the picture needs the title the page gives it.
                figure.axes[0].set_title(OVERVIEW_TITLE, fontweight="bold")
                png = _save(figure, "png")
            rendered[name] = (svg, png)
    return rendered


# --- HTML -------------------------------------------------------------------------------

_CSS = f"""
:root {{ color-scheme: light; }}
body {{ margin: 0; background: #f5f7fa; color: {TEXT_COLOR};
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }}
main {{ max-width: 1000px; margin: 0 auto; padding: 32px 24px 48px; }}
h1 {{ margin: 0 0 4px; font-size: 28px; }}
.subtitle {{ margin: 0 0 24px; color: #52606d; }}
.cards {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 24px; }}
.card {{ background: white; border-radius: 10px; padding: 14px 16px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }}
.card .value {{ font-size: 26px; font-weight: 700; }}
.card .label {{ color: #52606d; font-size: 13px; }}
section {{ background: white; border-radius: 10px; padding: 20px; margin-bottom: 20px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }}
h2 {{ margin: 0 0 4px; font-size: 19px; }}
.caption {{ margin: 0 0 12px; color: #52606d; font-size: 14px; }}
figure {{ margin: 0 0 12px; }}
figure img {{ display: block; width: 100%; height: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }}
th, td {{ padding: 6px 8px; border-bottom: 1px solid {GRID_COLOR}; text-align: right; vertical-align: top; }}
th {{ color: #52606d; font-weight: 600; }}
td.text, th.text {{ text-align: left; }}
td {{ white-space: nowrap; }}
td.title {{ text-align: left; white-space: normal; overflow-wrap: anywhere; }}
.dot {{ display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; }}
footer {{ color: #7b8794; font-size: 13px; text-align: center; }}
"""

# No script, no fetch: only inline styles and data: images may load.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _cell(value: object, css: str = "") -> str:
    text = "" if value is None else str(value)
    attribute = f' class="{css}"' if css else ""
    return f"<td{attribute}>{html.escape(text)}</td>"


def _html_table(header: list[tuple[str, str]], rows: list[list[str]]) -> str:
    head = "".join(f'<th class="{css}">{html.escape(name)}</th>' if css else f"<th>{html.escape(name)}</th>" for name, css in header)
    body = "".join("<tr>" + "".join(row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(name: str, svg: bytes, alt: str) -> str:
    source = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return f'<figure><img id="chart-{html.escape(name)}" src="{source}" alt="{html.escape(alt)}"></figure>'


def render_html(data: ReportData, charts: dict[str, tuple[bytes, bytes | None]]) -> str:
    t = data.totals
    esc = html.escape
    cards = [
        (t["digests"], "digests"),
        (t["appearances"], "appearances"),
        (t["papers"], "papers"),
        (t["recurring_papers"], "seen on 2+ days"),
        (t["papers_with_code"], "papers with code"),
    ]
    card_html = "".join(f'<div class="card"><div class="value">{esc(str(value))}</div><div class="label">{esc(label)}</div></div>' for value, label in cards)
    captions = {name: caption for name, _, caption in CHARTS}

    day_rows = [
        [
            _cell(d["day"], "text"), _cell(d["digests"]), _cell(d["appearances"]), _cell(d["distinct_papers"]),
            _cell(d["new_papers"]), _cell(d["returning_papers"]), _cell(d["papers_with_code"]), _cell(_percent(d["code_share"])),
        ]
        for d in data.days
    ]
    day_table = _html_table(
        [("day", "text"), ("digests", ""), ("appearances", ""), ("distinct papers", ""), ("new", ""), ("returning", ""), ("with code", ""), ("code share", "")],
        day_rows,
    )
    paper_rows = [
        [
            _cell(rank), _cell(p["title"], "title"), _cell(p["days_seen"]), _cell(p["appearances"]), _cell(p["longest_streak_days"]),
            _cell(p["span_days"]), _cell(p["first_seen"], "text"), _cell(p["last_seen"], "text"), _cell("yes" if p["has_code"] else "no"),
        ]
        for rank, p in enumerate(data.top_papers, start=1)
    ]
    paper_table = _html_table(
        [("#", ""), ("title", "text"), ("days", ""), ("appearances", ""), ("streak", ""), ("span", ""), ("first seen", "text"), ("last seen", "text"), ("code", "")],
        paper_rows,
    )
    colors = _host_colors(data)
    repo_rows = [
        [
            _cell(rank),
            f'<td class="text"><span class="dot" style="background:{colors[r["host"]]}"></span>{esc(r["host"])}</td>',
            _cell(r["url"], "title"), _cell(r["papers"]), _cell(r["appearances"]), _cell(r["first_seen"], "text"), _cell(r["last_seen"], "text"),
        ]
        for rank, r in enumerate(data.top_repos, start=1)
    ]
    repo_table = _html_table(
        [("#", ""), ("host", "text"), ("url", "text"), ("papers", ""), ("appearances", ""), ("first seen", "text"), ("last seen", "text")],
        repo_rows,
    )

    def section(heading: str, name: str, table: str) -> str:
        svg, _ = charts[name]
        return (
            f'<section id="{esc(name)}"><h2>{esc(heading)}</h2><p class="caption">{esc(captions[name])}</p>'
            f"{_figure(name, svg, heading)}{table}</section>"
        )

    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{esc(_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>papertrends report: {esc(_span(t))}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>papertrends report</h1>
<p class="subtitle">Hugging Face Daily Papers digests, {esc(_span(t))}</p>
<div class="cards">{card_html}</div>
{section("Appearances per day", "appearances", day_table)}
{section("Papers with code", "code_share", "")}
{section("Top recurring papers", "top_papers", paper_table)}
{section("Most linked repositories", "repositories", repo_table)}
<footer>Generated from trends.duckdb by papertrends. Views: daily_summary, recurrence_by_day, paper_recurrence, repo_popularity.</footer>
</main>
</body>
</html>
"""


def write_report(layout: Layout, top: int = TOP) -> Report:
    """Write <warehouse>/report/index.html from trends.duckdb (atomically)."""
    data = load_report_data(layout.duckdb_path, top)
    charts = render_charts(data)
    path = layout.report_dir / REPORT_FILE
    with atomic_path(path) as tmp:
        tmp.write_text(render_html(data, charts), encoding="utf-8")
    return Report(path=path, data=data, overview_png=charts[CHARTS[0][0]][1])
