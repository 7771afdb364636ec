"""The report's charts, drawn with matplotlib: the same data gives the same SVG."""

import io
import warnings
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator
from matplotlib.typing import RcKeyType

from pipeline.report.data import ReportData
from pipeline.report.text import percent, shorten

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

_STYLE: dict[RcKeyType, Any] = {
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


# Days drawn in the per-day charts: the latest month (every day is in the table below).
CHART_DAYS = 31
# Up to this many days, each bar carries its figures; past it they would run into each
# other, and the table gives them.
LABELLED_DAYS = 12
# At most this many day names on the axis: every k-th day, counted back from the latest.
DAY_TICKS = 12


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _day_label(day) -> str:
    return day.strftime("%b %d").replace(" 0", " ")


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color=NO_CODE_COLOR, fontsize=12)
    ax.set_xticks([])
    ax.set_yticks([])


def _new_figure(height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(9, height))
    figure.set_layout_engine(ConstrainedLayoutEngine(w_pad=0.12, h_pad=0.08))  # inches: labels keep off the edge
    return figure, figure.add_subplot()


def _day_chart(data: ReportData, height: float) -> tuple[Figure, Axes, list[dict]]:
    """A figure for one bar per day (bar i at x = i): the latest CHART_DAYS days, named on the axis.

    Years of days would be thousands of unreadable bars (and minutes of drawing);
    the per-day table of the report lists every day. With no days, an explanatory
    empty chart.
    """
    figure, ax = _new_figure(height)
    if not data.days:
        _empty(ax, "No dated digests yet")
        return figure, ax, []
    days = data.days[-CHART_DAYS:]
    if len(days) < len(data.days):
        ax.set_title(f"the latest {len(days)} of {len(data.days)} days (every day is in the table below)", loc="left")
    step = -(-len(days) // DAY_TICKS)  # ceil: at most DAY_TICKS names
    named = range(len(days) - 1, -1, -step)[::-1]  # the latest day always named
    ax.set_xticks(list(named), [_day_label(days[index]["day"]) for index in named])
    ax.set_xlim(-0.6, len(days) - 0.4)
    return figure, ax, days


def chart_appearances(data: ReportData) -> Figure:
    figure, ax, days = _day_chart(data, 4.2)
    if not days:
        return figure
    positions = range(len(days))
    new = [d["new_appearances"] for d in days]
    returning = [d["returning_appearances"] for d in days]
    ax.bar(positions, new, color=NEW_COLOR, label="new (first day seen)", width=0.6)
    ax.bar(positions, returning, bottom=new, color=RETURNING_COLOR, label="returning (seen before)", width=0.6)
    if len(days) <= LABELLED_DAYS:
        for index, d in enumerate(days):
            ax.annotate(str(d["appearances"]), (index, d["appearances"]), xytext=(0, 4), textcoords="offset points", ha="center", fontweight="bold")
    ax.set_ylabel("appearances")
    ax.set_ylim(0, max(d["appearances"] for d in days) * 1.15 or 1)
    ax.yaxis.grid(True, color=GRID_COLOR)
    ax.set_axisbelow(True)
    figure.legend(loc="outside upper right", ncols=2)
    return figure


def chart_code_share(data: ReportData) -> Figure:
    figure, ax, days = _day_chart(data, 3.6)
    if not days:
        return figure
    shares = [100 * (d["code_share"] or 0) for d in days]
    ax.bar(range(len(days)), shares, color=CODE_COLOR, width=0.6)
    if len(days) <= LABELLED_DAYS:
        for index, d in enumerate(days):
            text = f"{percent(d['code_share']) or '–'}\n{d['papers_with_code']} of {d['distinct_papers']}"
            ax.annotate(text, (index, shares[index]), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=9)
    ax.set_ylabel("papers with a repository link (%)")
    # Room above the tallest bar for its figures, even at 100%; no share tick past 100%.
    ax.set_ylim(0, max(shares) * 1.35 or 10)
    ax.set_yticks([tick for tick in ax.get_yticks() if 0 <= tick <= 100])
    ax.yaxis.grid(True, color=GRID_COLOR)
    ax.set_axisbelow(True)
    return figure


def _ranked_bars(ax, values: list, labels: list[str], notes: list[str], colors: list[str]) -> None:
    """Horizontal bars, rank 1 at the top, each with a note just past its end."""
    positions = list(range(len(values)))[::-1]
    ax.barh(positions, values, color=colors, height=0.65)
    ax.set_yticks(positions, labels)
    for position, value, note in zip(positions, values, notes, strict=True):
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
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("distinct days seen")
    figure.legend(
        handles=[Patch(color=CODE_COLOR, label="links a repository"), Patch(color=NO_CODE_COLOR, label="no repository link")],
        loc="outside upper right", ncols=2,
    )
    return figure


def host_colors(data: ReportData) -> dict[str, str]:
    return {row["host"]: KIND_COLORS.get(row["kind"], NO_CODE_COLOR) for row in data.hosts}


def chart_repositories(data: ReportData) -> Figure:
    repos = data.top_repos
    figure, ax = _new_figure(1.4 + 0.42 * max(len(repos), 2))
    if not repos:
        _empty(ax, "No repository links yet")
        return figure
    colors = host_colors(data)
    _ranked_bars(
        ax,
        values=[r["appearances"] for r in repos],
        labels=[shorten(f"{r['owner']}/{r['repo']}" if r["owner"] and r["repo"] else r["url"].removeprefix("https://"), 45) for r in repos],
        notes=[f"{_count(r['papers'], 'paper')}, {_count(r['appearances'], 'appearance')}" for r in repos],
        colors=[colors[r["host"]] for r in repos],
    )
    ax.set_xlim(0, max(r["appearances"] for r in repos) * 1.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("appearances of the papers linking the repository")
    # The legend is the by-host breakdown: every repository host with its papers.
    handles = [Patch(color=colors[h["host"]], label=f"{h['host']}: {_count(h['papers'], 'paper')}") for h in data.hosts]
    figure.legend(handles=handles, loc="outside upper right", ncols=min(3, len(handles)), title="papers linking a repository, by host", alignment="right")
    return figure


# One color per rising term, in rank order (matplotlib's tab10, which reads apart in print too).
TERM_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def chart_rising_topics(data: ReportData) -> Figure:
    series = data.topics.weekly_share
    figure, ax = _new_figure(3.8)
    if not series:
        _empty(ax, "No rising term yet: too few papers, or too short a history")
        return figure
    for (term, weeks), color in zip(series.items(), TERM_COLORS, strict=False):
        ax.plot(
            [_day_label(week["week"]) for week in weeks],
            [100 * week["share"] for week in weeks],
            marker="o", color=color, label=shorten(term, 40),
        )
    ax.set_ylabel("papers of the week with the term (%)")
    ax.set_ylim(bottom=0)
    ax.set_xlabel("week (its Monday)")
    ax.yaxis.grid(True, color=GRID_COLOR)
    ax.set_axisbelow(True)
    figure.legend(loc="outside upper right", ncols=min(3, len(series)))
    return figure


CHARTS = (
    ("appearances", chart_appearances, "Stacked bars: each day's appearances, split into those of papers new that day and of papers seen on an earlier day."),
    ("code_share", chart_code_share, "Bars: the share of the day's distinct papers that link a repository."),
    ("top_papers", chart_top_papers, "Horizontal bars: the papers seen on the most distinct days."),
    ("repositories", chart_repositories, "Horizontal bars: the repositories linked by the most papers (then the most appearances of those papers), colored by host."),
    ("rising_topics", chart_rising_topics, "Lines: each week's share of papers carrying the top rising terms, over the last twelve weeks."),
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
