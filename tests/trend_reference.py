"""The trend figures in plain Python, from the published tables, never through the views."""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from pipeline.read.links import CODE_KINDS
from tests.helpers import rows


@dataclass
class Tables:
    digests: list[dict]
    all_appearances: list[dict]  # of every listing
    papers: dict[str, dict]
    repo_links: list[dict]
    repo_stars: list[dict]

    @classmethod
    def load(cls, settings):
        layout = settings.layout
        papers = {row["paper_id"]: row for row in rows(layout, "papers")}
        return cls(rows(layout, "digests"), rows(layout, "appearances"), papers, rows(layout, "repo_links"), rows(layout, "repo_stars"))

    @property
    def appearances(self) -> list[dict]:
        """The appearances the trends count: those of daily listings."""
        daily = {row["digest_id"] for row in self.digests if row["listing"] == "daily"}
        return [row for row in self.all_appearances if row["digest_id"] in daily]

    def days_of(self, start=dt.date.min, end=dt.date.max) -> dict[str, list[dt.date]]:
        """paper -> the day of each of its appearances within [start, end], sorted."""
        days = defaultdict(list)
        for row in self.appearances:
            if start <= row["digest_date"] <= end:
                days[row["paper_id"]].append(row["digest_date"])
        return {paper: sorted(seen) for paper, seen in days.items()}

    def coded(self) -> set[str]:
        return {row["paper_id"] for row in self.repo_links if is_code_link(row)}


def is_code_link(row: dict) -> bool:
    """A repo_links (or repo_popularity) row that is code: a code host's link naming a repository."""
    return row["kind"] in CODE_KINDS and row["repo"] is not None


def longest_streak(days: list[dt.date]) -> int:
    best = run = 0
    previous = None
    for day in sorted(set(days)):
        run = run + 1 if previous is not None and day - previous == dt.timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def expected_daily_summary(t: Tables) -> list[dict]:
    digests_per_day = Counter(
        row["digest_date"] for row in t.digests if row["status"] == "ok" and row["duplicate_of"] is None and row["listing"] == "daily"
    )
    first_seen = {paper: days[0] for paper, days in t.days_of().items()}
    seen_on = defaultdict(list)
    for row in t.appearances:
        seen_on[row["digest_date"]].append(row["paper_id"])
    coded = t.coded()
    summary = []
    for day in sorted(digests_per_day):
        distinct = set(seen_on[day])
        summary.append(
            {
                "day": day,
                "digests": digests_per_day[day],
                "appearances": len(seen_on[day]),
                "distinct_papers": len(distinct),
                "new_papers": sum(first_seen[paper] == day for paper in distinct),
                "returning_papers": sum(first_seen[paper] < day for paper in distinct),
                "papers_with_code": len(distinct & coded),
            }
        )
    return summary


def expected_recurrence_by_day(t: Tables) -> list[dict]:
    result = []
    for paper, days in t.days_of().items():
        per_day = Counter(days)
        appearances_to_date = 0
        for days_to_date, day in enumerate(sorted(per_day), start=1):
            appearances_to_date += per_day[day]
            result.append(
                {
                    "day": day,
                    "paper_id": paper,
                    "title": t.papers[paper]["title"],
                    "appearances": per_day[day],
                    "is_first_seen": day == days[0],
                    "days_seen_to_date": days_to_date,
                    "appearances_to_date": appearances_to_date,
                }
            )
    return sorted(result, key=lambda row: (row["day"], row["paper_id"]))


def _upvotes(t: Tables) -> dict[str, tuple[int, int]]:
    """paper -> (highest, latest) upvotes any card showed, in captures of any listing."""
    shown = defaultdict(list)
    for row in t.all_appearances:
        if row["upvotes"] is not None:
            shown[row["paper_id"]].append(((row["digest_date"], row["digest_id"], row["position"]), row["upvotes"]))
    return {paper: (max(votes for _, votes in seen), max(seen)[1]) for paper, seen in shown.items()}


def expected_paper_recurrence(t: Tables) -> list[dict]:
    coded = t.coded()
    upvotes = _upvotes(t)
    result = [
        {
            "paper_id": paper,
            "title": t.papers[paper]["title"],
            "first_seen": days[0],
            "last_seen": days[-1],
            "days_seen": len(set(days)),
            "appearances": len(days),
            "span_days": (days[-1] - days[0]).days + 1,
            "longest_streak_days": longest_streak(days),
            "has_code": paper in coded,
            "max_upvotes": upvotes.get(paper, (None, None))[0],
            "latest_upvotes": upvotes.get(paper, (None, None))[1],
        }
        for paper, days in t.days_of().items()
    ]
    return sorted(result, key=lambda row: (-row["days_seen"], -row["appearances"], row["first_seen"], row["paper_id"]))


def expected_repo_popularity(t: Tables) -> list[dict]:
    days = t.days_of()
    latest_stars = {}
    for row in sorted(t.repo_stars, key=lambda row: row["day"]):
        latest_stars[row["url"]] = row["stars"]
    by_url = defaultdict(list)
    for row in t.repo_links:
        by_url[row["url"]].append(row)
    result = []
    for url, links in by_url.items():
        papers = {link["paper_id"] for link in links}
        seen = [day for paper in papers for day in days.get(paper, [])]
        result.append(
            {
                "url": url,
                "host": links[0]["host"],
                "kind": links[0]["kind"],
                "owner": links[0]["owner"],
                "repo": links[0]["repo"],
                "papers": len(papers),
                "appearances": len(seen),
                "first_seen": min(seen, default=None),
                "last_seen": max(seen, default=None),
                "latest_stars": latest_stars.get(url),
            }
        )
    return sorted(result, key=lambda row: (-row["papers"], -row["appearances"], row["url"]))


def expected_daily_appearances(t: Tables) -> list[dict]:
    return sorted(t.appearances, key=lambda row: (row["digest_date"], row["digest_id"], row["position"]))


EXPECTED_VIEWS = {
    "daily_appearances": expected_daily_appearances,
    "recurrence_by_day": expected_recurrence_by_day,
    "daily_summary": expected_daily_summary,
    "paper_recurrence": expected_paper_recurrence,
    "repo_popularity": expected_repo_popularity,
}


def expected_top_recurring(t: Tables, start: dt.date, end: dt.date, n: int) -> list[dict]:
    coded = t.coded()
    ranked = sorted(
        t.days_of(start, end).items(),
        key=lambda item: (-len(set(item[1])), -len(item[1]), item[1][0], item[0]),
    )
    return [
        {
            "rank": rank,
            "paper_id": paper,
            "title": t.papers[paper]["title"],
            "days_seen": len(set(days)),
            "appearances": len(days),
            "first_seen": days[0],
            "last_seen": days[-1],
            "has_code": paper in coded,
        }
        for rank, (paper, days) in enumerate(ranked[:n], start=1)
    ]


def expected_rising(t: Tables, window_a: tuple, window_b: tuple, n: int) -> list[dict]:
    seen_a, seen_b = t.days_of(*window_a), t.days_of(*window_b)
    changes = []
    for paper, days_b in seen_b.items():
        days_a = seen_a.get(paper, [])
        rise = len(set(days_b)) - len(set(days_a))
        if rise > 0:
            changes.append(
                {
                    "paper_id": paper,
                    "title": t.papers[paper]["title"],
                    "days_a": len(set(days_a)),
                    "days_b": len(set(days_b)),
                    "rise": rise,
                    "appearances_a": len(days_a),
                    "appearances_b": len(days_b),
                    "first_seen": t.days_of()[paper][0],  # in the daily listings
                }
            )
    changes.sort(key=lambda row: (-row["rise"], -row["days_b"], -row["appearances_b"], row["paper_id"]))
    return [{"rank": rank, **row} for rank, row in enumerate(changes[:n], start=1)]
