"""A corpus with planted term trends, for the term-trend tables and macros.

About six months of weekday digests, NEW_PER_DAY new papers a day, each listed on 1 to 3
consecutive digest days. Three made-up phrases are planted by a weekly quota of the
week's new papers, counted back from the last week:
- `quantum origami` rises: a paper in three scattered weeks (about 1% of those weeks'
  papers), then 30% of the new papers in each of the last RISE_WEEKS weeks;
- `sparse lattice` stays flat: 10% of the new papers every week;
- `glacial parsing` fades: 30% at first, falling over FADE_WEEKS weeks to none in the
  last RISE_WEEKS weeks.
The other papers carry filler terms only. Every paper also has FILLERS_PER_PAPER filler
terms from FILLER_TERMS, drawn at random (seeded, so every build is the same corpus).

The rows are those of the tables the topic SQL reads: papers, recurrence_by_day (one
appearance a day: every paper is listed once in each of its days' single digest) and
paper_terms. write_digests writes the same corpus as digest text files in the sample
layout, with the same paper_id (the hash of the title) as the pipeline gives them.
"""

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.read.identity import paper_id as paper_id_of
from tests.helpers import render

RISING, FLAT, FADING = "quantum origami", "sparse lattice", "glacial parsing"
PLANTED = (RISING, FLAT, FADING)

FIRST_DAY = dt.date(2026, 1, 5)  # a Monday
LAST_DAY = dt.date(2026, 6, 28)  # a Sunday: 25 whole weeks
NEW_PER_DAY = 10
RISE_WEEKS = 4
FADE_WEEKS = 4
FILLERS_PER_PAPER = 3
SEED = 23

# Ten new papers a day on five days: each quota is out of 50 papers a week.
FLAT_PER_WEEK = 5
PEAK_PER_WEEK = 15
# Weeks (counted back from the last, which is 1) with a lone quantum origami paper.
EARLY_RISING_WEEKS = (22, 15, 7)

# fmt: off
FILLER_TERMS = (
    "language model", "diffusion", "benchmark", "reinforcement learning", "retrieval",
    "vision transformer", "instruction tuning", "reasoning", "speech", "robotics",
    "graph network", "code generation", "mixture of experts", "quantization", "video",
    "agents", "alignment", "multimodal", "distillation", "tokenizer",
    "world model", "protein", "3d reconstruction", "evaluation", "long context",
    "in-context learning", "sparse attention", "data curation", "safety", "optimization",
)

_OPENINGS = ("Towards", "Rethinking", "Scaling", "Understanding", "Revisiting", "Learning", "Measuring", "Taming")
_OPENING_SENTENCES = (
    "We study {topic} and ask what limits current systems in practice.",
    "Progress on {topic} has stalled, and we ask why.",
    "This work revisits {topic} from first principles.",
    "Little is known about {topic} at scale.",
)
_METHODS = ("a simple recipe", "a unified framework", "an efficient method", "a careful study", "a new dataset", "a strong baseline")
# fmt: on


@dataclass
class TopicCorpus:
    """Rows of papers, recurrence_by_day and paper_terms, and each day's digest entries."""

    papers: list[tuple] = field(default_factory=list)
    recurrence_by_day: list[tuple] = field(default_factory=list)
    paper_terms: list[tuple] = field(default_factory=list)
    # digest day -> its (title, abstract) entries in listing order
    digests: dict[dt.date, list[tuple[str, str]]] = field(default_factory=dict)

    def digest_text(self, day: dt.date) -> str:
        return render(f"{day:%b} {day.day}, {day.year}", self.digests[day])


def recurrence_rows(paper_id: str, title: str, days: list[dt.date]) -> list[tuple]:
    """The recurrence_by_day rows of a paper listed once on each of `days` (in order, distinct):
    day, paper_id, title, appearances, is_first_seen, days_seen_to_date, appearances_to_date."""
    return [(day, paper_id, title, 1, seen == 1, seen, seen) for seen, day in enumerate(days, start=1)]


def _weekdays(first: dt.date, last: dt.date) -> list[dt.date]:
    days = (first + dt.timedelta(days=offset) for offset in range((last - first).days + 1))
    return [day for day in days if day.weekday() < 5]


def _planted_quota(term: str, weeks_to_end: int) -> int:
    """How many of the week's new papers carry the planted term (weeks_to_end: 1 is the last week)."""
    if term == FLAT:
        return FLAT_PER_WEEK
    if term == RISING:
        if weeks_to_end <= RISE_WEEKS:
            return PEAK_PER_WEEK
        return 1 if weeks_to_end in EARLY_RISING_WEEKS else 0
    if weeks_to_end <= RISE_WEEKS:
        return 0
    fading_week = RISE_WEEKS + FADE_WEEKS + 1 - weeks_to_end  # 1 .. FADE_WEEKS while it fades
    if fading_week <= 0:
        return PEAK_PER_WEEK
    return round(PEAK_PER_WEEK * (FADE_WEEKS + 1 - fading_week) / (FADE_WEEKS + 1))


def _title(serial: int, planted: str | None, fillers: list[str], rng: random.Random) -> str:
    # The serial keeps titles (so paper ids) unique; a planted phrase is in about half the titles.
    topic = planted if planted and rng.random() < 0.5 else fillers[0]
    return f"{rng.choice(_OPENINGS)} {topic.title()} with {rng.choice(_METHODS)}: Study {serial:05d}"


def _abstract(planted: str | None, fillers: list[str], rng: random.Random) -> str:
    # Every term of the paper is in its abstract, so a tokenizer run on the digests finds them.
    topics = [planted, *fillers] if planted else fillers
    sentences = [
        # Several openings: no longer phrase (say "study quantum origami") carries every
        # paper of a planted term, so the term itself is the topic the report names.
        rng.choice(_OPENING_SENTENCES).format(topic=topics[0]),
        f"Our approach combines ideas from {' and '.join(topics[1:]) or topics[0]} in a single model.",
        f"Experiments on {rng.randint(3, 12)} public datasets show consistent gains over strong baselines.",
        "We analyse the failure cases in detail and discuss what they reveal about the problem.",
        f"The method runs {rng.randint(2, 9)} times faster than prior work at the same accuracy.",
        "We release the evaluation protocol so that others can reproduce every result reported here.",
    ]
    return " ".join(sentences)


def build_topic_corpus(
    first_day: dt.date = FIRST_DAY, last_day: dt.date = LAST_DAY, new_per_day: int = NEW_PER_DAY, seed: int = SEED
) -> TopicCorpus:
    """The corpus over the weekdays first_day .. last_day (first_day a Monday, last_day a Sunday).

    Quotas are out of 50 new papers a week; with another new_per_day they scale with it.
    """
    rng = random.Random(seed)
    days = _weekdays(first_day, last_day)
    weeks = (last_day - first_day).days // 7 + 1
    scale = new_per_day * 5 / 50
    listed: dict[dt.date, list[str]] = {day: [] for day in days}
    entries: dict[str, tuple[str, str]] = {}
    serial = 0
    corpus = TopicCorpus()
    for week in range(weeks):
        week_days = days[week * 5 : week * 5 + 5]
        slots = len(week_days) * new_per_day
        planted: list[str | None] = [None] * slots
        free = rng.sample(range(slots), slots)  # slots in random order, taken in turn
        for term in PLANTED:
            for _ in range(min(round(_planted_quota(term, weeks - week) * scale), len(free))):
                planted[free.pop()] = term
        for slot in range(slots):
            serial += 1
            fillers = rng.sample(FILLER_TERMS, FILLERS_PER_PAPER)
            title = _title(serial, planted[slot], fillers, rng)
            abstract = _abstract(planted[slot], fillers, rng)
            paper = paper_id_of(title)
            entries[paper] = (title, abstract)
            first = days.index(week_days[slot // new_per_day])
            seen = days[first : first + rng.randint(1, 3)]  # consecutive digest days
            for day in seen:
                listed[day].append(paper)
            corpus.papers.append((paper, title, abstract, None, seen[0], seen[-1], None, None))
            corpus.recurrence_by_day += recurrence_rows(paper, title, seen)
            terms = [planted[slot], *fillers] if planted[slot] else fillers
            corpus.paper_terms += [(paper, term, term in title.lower()) for term in terms]
    for day in days:
        rng.shuffle(listed[day])
        corpus.digests[day] = [entries[paper] for paper in listed[day]]
    return corpus


def write_digests(corpus: TopicCorpus, directory: Path) -> list[Path]:
    """The corpus as digest files `YYYY-MM-DD.txt`, one per day, in the sample layout."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for day in corpus.digests:
        path = directory / f"{day.isoformat()}.txt"
        path.write_text(corpus.digest_text(day), encoding="utf-8")
        paths.append(path)
    return paths
