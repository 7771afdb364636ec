"""Deterministic synthetic digest corpus for the benchmark.

    python benchmarks/generate.py --seed 7 --digests 10000 --out benchmarks/corpus/10000

Digests follow the real layout (header blocks, a date line, title/abstract pairs,
blocks separated by one blank line, no trailing newline). Abstracts are recombined
sentences of the sample digests in warehouse/raw/, so the text is realistic and the
generator needs no network. Links take the awkward forms the samples show. Dates
spread over four years: the year comes from an ISO date in the file name or from the
date line. Recurrence has a long tail: most papers appear once, a few on many days.

The same seed and size give the same bytes. A hidden `.manifest.json` (hidden names
are never digests) states what was generated, so a build can be checked against it.
"""

import argparse
import datetime as dt
import itertools
import json
import random
import re
from collections import deque
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES_DIR = REPO / "warehouse" / "raw"
MANIFEST_NAME = ".manifest.json"

HEADER = ("new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community")
START_DATE = dt.date(2022, 1, 3)
SPAN_DAYS = 4 * 365
ENTRIES_PER_DIGEST = (62, 78)  # about 70
ABSTRACT_CHARS = (1300, 1900)
RETURNING_SHARE = 0.12  # share of a digest's entries that are papers seen before
RECENT_DIGESTS = 40  # returning papers come from the papers first seen this recently
LINK_SHARE = 0.28  # the samples: 84 of 298 papers carry a link
SECOND_LINK_SHARE = 0.03

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"][:64]
# Sample sentences that could read as a link or carry LaTeX are left out: the
# generator adds links itself, so it knows what a build should find.
_LINKISH = re.compile(
    r"://|www\.|[{}\\]|arxiv|\.(?:io|com|org|net|ai|cn|co|edu|dev|app|page|site|science|info|me|uk|de|fr|jp|kr|ch|ca|in|tech|xyz)(?![a-z0-9])",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def _name(number: int, capitalize: bool = True) -> str:
    """A pronounceable word unique to `number` (fixed-width syllables, so no collisions)."""
    digits = []
    number += 64  # at least two syllables
    while number:
        number, digit = divmod(number, 64)
        digits.append(_SYLLABLES[digit])
    word = "".join(reversed(digits))
    return word.capitalize() if capitalize else word


def load_text(samples_dir: Path = SAMPLES_DIR) -> tuple[list[str], list[str]]:
    """Sentences of the sample abstracts and fragments of the sample titles."""
    sentences: set[str] = set()
    fragments: set[str] = set()
    for path in sorted(samples_dir.glob("*.txt")):
        blocks = path.read_text(encoding="utf-8").split("\n\n")
        for block in blocks:
            if len(block) > 300:
                for sentence in _SENTENCE_END.split(block.strip()):
                    if 40 <= len(sentence) <= 400 and not _LINKISH.search(sentence):
                        sentences.add(sentence)
            elif 20 <= len(block) <= 180 and "\n" not in block and not _LINKISH.search(block):
                fragment = block.split(":", 1)[-1].strip()
                if len(fragment) >= 15:
                    fragments.add(fragment)
    return sorted(sentences), sorted(fragments)


# The awkward forms of the samples: (as written, canonical), formatted per link.
_LINK_FORMS = [
    *[("https://{github}.", "https://{github}")] * 4,
    ("https://{github}).", "https://{github}"),
    ("https://{github}.git.", "https://{github}"),
    ("https://{github}/tree/master/{sub}.", "https://{github}/tree/master/{sub}"),
    ("https://gitee.com/{lower}/models/tree/master/research/cv/{repo}.", "https://gitee.com/{lower}/models/tree/master/research/cv/{repo}"),
    ("http://{github}.", "https://{github}"),
    ("{sub}{paper}.github.io.", "https://{sub}{paper}.github.io"),
    ("https://{lower}.github.io/{sub}/.", "https://{lower}.github.io/{sub}"),
    ("http://www.{sub}{paper}.cn/}}.", "https://www.{sub}{paper}.cn"),
    ("https://anonymous.4open.science/r/{repo}-{paper}/README.md{{here.}}", "https://anonymous.4open.science/r/{repo}-{paper}/README.md"),
    ("https://huggingface.co/datasets/{owner}/{sub}-{paper}", "https://huggingface.co/datasets/{owner}/{sub}-{paper}"),
    ("https://gitlab.com/{owner}/{repo}.", "https://gitlab.com/{owner}/{repo}"),
    ("https://{github}", "https://{github}"),
]


def _link(rng: random.Random, paper: int) -> tuple[str, str]:
    """(as written, canonical) for one link, in one of the forms the samples show."""
    owner = _name(rng.randrange(4000) if rng.random() < 0.3 else 4000 + paper)
    repo = _name(paper * 7 + rng.randrange(7)) + rng.choice(["", "-Net", "_v2", "Bench", "-LLM"])
    sub = _name(rng.randrange(500), capitalize=False)
    form = rng.randrange(16)
    github = f"github.com/{owner}/{repo}"
    raw, url = _LINK_FORMS[form]
    values = {"owner": owner, "lower": owner.lower(), "repo": repo, "sub": sub, "paper": paper, "github": github}
    return raw.format(**values), url.format(**values)


class Corpus:
    """Papers are numbered; a paper's title, abstract and links depend only on (seed, number)."""

    def __init__(self, seed: int, samples_dir: Path = SAMPLES_DIR):
        self.seed = seed
        self.sentences, self.fragments = load_text(samples_dir)

    def paper(self, number: int) -> tuple[str, str, list[str]]:
        """Title, abstract and canonical links of paper `number`."""
        rng = random.Random(self.seed * 1_000_003 + number)
        name = _name(number)
        fragment = rng.choice(self.fragments)
        title = f"{name}: {fragment}" if rng.random() < 0.7 else f"{fragment} with {name}"
        links = []
        if rng.random() < LINK_SHARE:
            links.append(_link(rng, number))
            if rng.random() < SECOND_LINK_SHARE / LINK_SHARE:
                second = _link(rng, number)
                if second[1] != links[0][1]:
                    links.append(second)
        link_text = " ".join(
            rng.choice(["Code is available at {}", "Our code: {}", "Project page: {}", "See {}", "Data and models: {}"]).format(raw)
            for raw, _ in links
        )
        target = rng.randint(ABSTRACT_CHARS[0] + 20, ABSTRACT_CHARS[1] - 40 - len(link_text))
        parts: list[str] = []
        length = 0
        while length < target:
            sentence = rng.choice(self.sentences)
            parts.append(sentence)
            length += len(sentence) + 1
        abstract = " ".join(parts)
        limit = ABSTRACT_CHARS[1] - len(link_text) - 2
        if len(abstract) > limit:
            abstract = abstract[: abstract.rfind(" ", 0, limit - 1)].rstrip(",;:") + "."
        if link_text:
            abstract = f"{abstract} {link_text}"
        return title, abstract, [url for _, url in links]


def digest_date(index: int, count: int) -> dt.date:
    return START_DATE + dt.timedelta(days=index * SPAN_DAYS // max(count, 1))


def digest_file_name(index: int, day: dt.date, year_in_line: bool) -> str:
    return f"d{index:05d}.txt" if year_in_line else f"{day.isoformat()}_{index:05d}.txt"


def generate(seed: int, count: int, out: Path, extra_out: Path | None = None) -> dict:
    """Write `count` digests into `out` (and one more into `extra_out`); returns the manifest."""
    corpus = Corpus(seed)
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    recent: deque[list[tuple[int, float]]] = deque(maxlen=RECENT_DIGESTS)
    next_paper = 0
    appeared: set[int] = set()
    days_seen: dict[int, set[dt.date]] = {}
    link_pairs: set[tuple[int, str]] = set()
    appearances = 0
    total_bytes = 0
    years: dict[int, int] = {}
    for index in range(count + (extra_out is not None)):
        day = digest_date(index, count)
        entries = rng.randint(*ENTRIES_PER_DIGEST)
        returning = int(entries * RETURNING_SHARE * rng.random() * 2)
        candidates = [pair for batch in recent for pair in batch]
        chosen: list[int] = []
        if candidates:
            weights = list(itertools.accumulate(weight for _, weight in candidates))
            picked = {candidates[i][0] for i in _weighted_indices(rng, weights, returning)}
            chosen.extend(sorted(picked))
        new_batch = []
        while len(chosen) < entries:
            # Pareto popularity: most papers are never picked again, a few return often.
            new_batch.append((next_paper, rng.paretovariate(1.2) - 1.0))
            chosen.append(next_paper)
            next_paper += 1
        rng.shuffle(chosen)
        recent.append(new_batch)

        year_in_line = rng.random() < 0.3
        date_line = f"{day:%b} {day.day}" + (f", {day.year}" if year_in_line else "")
        blocks = [*HEADER, date_line]
        for number in chosen:
            title, abstract, urls = corpus.paper(number)
            blocks.extend((title, abstract))
            if index < count:
                appeared.add(number)
                days_seen.setdefault(number, set()).add(day)
                link_pairs.update((number, url) for url in urls)
        data = "\n\n".join(blocks).encode("utf-8")
        name = digest_file_name(index, day, year_in_line)
        if index == count:
            extra_out.mkdir(parents=True, exist_ok=True)
            (extra_out / name).write_bytes(data)
            continue
        (out / name).write_bytes(data)
        appearances += len(chosen)
        total_bytes += len(data)
        years[day.year] = years.get(day.year, 0) + 1

    recurring = sorted((len(days) for days in days_seen.values()), reverse=True)
    manifest = {
        "seed": seed,
        "digests": count,
        "appearances": appearances,
        "papers": len(appeared),
        "days": len({digest_date(index, count) for index in range(count)}),
        "papers_seen_on_2_or_more_days": sum(1 for days in recurring if days >= 2),
        "most_days_seen": recurring[0] if recurring else 0,
        "link_pairs": len(link_pairs),
        "papers_with_links": len({number for number, _ in link_pairs}),
        "bytes": total_bytes,
        "digests_per_year": {str(year): n for year, n in sorted(years.items())},
    }
    (out / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _weighted_indices(rng: random.Random, cumulative: list[float], k: int) -> list[int]:
    import bisect

    total = cumulative[-1] if cumulative else 0.0
    if total <= 0 or k <= 0:
        return []
    return [min(bisect.bisect(cumulative, rng.random() * total), len(cumulative) - 1) for _ in range(k)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--digests", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--extra-out", type=Path, help="write one more digest (the next in the series) here")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty")
    manifest = generate(args.seed, args.digests, args.out, args.extra_out)
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
