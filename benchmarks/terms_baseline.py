"""The plain-Python baseline of the terms of a paper: the rules of pipeline.topics.terms with `re` and loops.

What one would write first: one paper at a time, one word at a time. It gives the same
rows as `extract_terms` (tests/test_terms.py checks it), so a benchmark can compare the
two. It shares only the stop words and bounds with the module: the patterns are
written again here in Python's `re` dialect, which has no `\\p{L}`, so the word
characters come from `unicodedata` (Python's Unicode version, which may trail the one
polars' regex engine uses by a few new characters).

    .venv/bin/python benchmarks/terms_baseline.py --papers 20000

times both on generated abstracts.
"""

import argparse
import random
import re
import sys
import time
import unicodedata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

from pipeline.topics.terms import MAX_PHRASE_WORDS, MAX_TERM_CHARS, MIN_WORD_CHARS, STOP_WORDS  # noqa: E402


def _category_class(categories: tuple[str, ...]) -> str:
    """The inside of a `[...]` class matching every character whose category starts with one of `categories`."""
    ranges = []
    start = None
    for code in range(sys.maxunicode + 2):
        inside = code <= sys.maxunicode and unicodedata.category(chr(code)).startswith(categories)
        if inside and start is None:
            start = code
        elif not inside and start is not None:
            ranges.append(re.escape(chr(start)) + ("-" + re.escape(chr(code - 1)) if code - 1 > start else ""))
            start = None
    return "".join(ranges)


_WORD_CHARS = _category_class(("L", "M", "N"))
# A word character as the `\b` of polars' regex engine reads it: Unicode's `\w`, letters,
# letter numbers, marks, decimal digits, connector punctuation and the two join controls
# (it also counts a few symbols that are Other_Alphabetic, such as circled letters).
_REGEX_WORD_CHARS = _category_class(("L", "Nl", "M", "Nd", "Pc")) + "\u200c\u200d"
_WORD_START = re.compile(f"[{_WORD_CHARS}]")
_LETTER = re.compile(f"[{_category_class(('L',))}]")
_PIECE = re.compile(f"[{_WORD_CHARS}]+(?:-[{_WORD_CHARS}]+)*|[^ \t{_WORD_CHARS}]")
_BREAK = "\n"
_LINE_BREAKS = "\n\x0b\x0c\r\x85\u2028\u2029"
# Whitespace as the regex engine of polars reads `\s`: the Unicode White_Space property.
# Python's `\s` also takes the separators U+001C to U+001F, so it is not used.
_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_MARKUP = [
    (re.compile(r"\\[\"'`^~=.](?:([a-z])|\{([a-z])\})"), lambda match: match.group(1) or match.group(2)),
    (re.compile(r"\$\$[^$]*\$\$"), _BREAK),
    (re.compile(rf"\$[^${_LINE_BREAKS}]+\$"), _BREAK),
    (re.compile(r"\\[a-z]+(?:\{[^{}]*\})*"), _BREAK),
    (re.compile(rf"\[([^\[\]{_LINE_BREAKS}]*)\]\([^(){_SPACE}]*\)"), _BREAK + r"\1" + _BREAK),
    (re.compile(rf"</?[a-z][a-z0-9]*(?:[{_SPACE}][^<>]*)?/?>"), _BREAK),
    (re.compile(rf"(?:https?://|www\.)[^{_SPACE}]*"), _BREAK),
    (
        re.compile(rf"(?<![{_REGEX_WORD_CHARS}])[a-z0-9](?:[a-z0-9-]*\.)+(?:com|org|net|io|ai|co|edu)(?:/[^{_SPACE}]*|([^{_WORD_CHARS}_])|\Z)"),
        _BREAK + r"\1",
    ),
    (re.compile(r"&(?:[a-z][a-z0-9]*|#[0-9]+|#x[0-9a-f]+);"), _BREAK),
]


def fold_plural(word: str) -> str:
    if len(word) >= 5 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) >= 5 and word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if len(word) >= 4 and word.endswith("s") and not word.endswith(("ss", "us", "is", "-s")):
        return word[:-1]
    return word


def text_terms(text: str) -> set[str]:
    text = text.lower()
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    terms = set()
    run: list[str] = []  # the kept words since the last break
    for piece in _PIECE.findall(text):
        word = fold_plural(piece)
        if (
            not _WORD_START.match(piece)
            or len(piece) < MIN_WORD_CHARS
            or not _LETTER.search(word)
            or piece in STOP_WORDS
            or word in STOP_WORDS
        ):
            run = []
            continue
        run.append(word)
        for length in range(1, min(len(run), MAX_PHRASE_WORDS) + 1):
            term = " ".join(run[-length:])
            if len(term) <= MAX_TERM_CHARS:
                terms.add(term)
    return terms


def python_terms(paper_id: str, title: str | None, abstract: str | None) -> list[tuple[str, str, bool]]:
    """The (paper_id, term, in_title) rows of one paper, sorted by term."""
    title_terms = text_terms(title or "")
    every_term = title_terms | text_terms(abstract or "")
    return [(paper_id, term, term in title_terms) for term in sorted(every_term)]


def generated_papers(count: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """(paper_id, title, abstract) of `count` papers: sentences of the sample digests recombined, about 1,500 characters each."""
    from generate import load_text

    sentences, fragments = load_text()
    rng = random.Random(seed)
    papers = []
    for number in range(count):
        abstract: list[str] = []
        while sum(len(sentence) + 1 for sentence in abstract) < 1500:
            abstract.append(rng.choice(sentences))
        papers.append((f"p{number:07d}", rng.choice(fragments), " ".join(abstract)))
    return papers


def _best_seconds(run, repeats: int):
    """The result of `run()` and its shortest wall-clock time over `repeats` runs."""
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return result, best


def main(argv: list[str] | None = None) -> int:
    import polars as pl

    from pipeline.topics.terms import extract_terms

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=1, help="time each side this many times, keep the best")
    arguments = parser.parse_args(argv)
    papers = generated_papers(arguments.papers)
    frame = pl.DataFrame(papers, schema=["paper_id", "title", "abstract"], orient="row")

    polars_rows, polars_seconds = _best_seconds(lambda: extract_terms(frame), arguments.repeats)
    python_rows, python_seconds = _best_seconds(
        lambda: [row for paper in papers for row in python_terms(*paper)], arguments.repeats
    )

    print(f"{len(papers)} papers, {frame['abstract'].str.len_chars().sum()} abstract characters, {len(python_rows)} rows")
    print(f"extract_terms (polars): {polars_seconds:.2f} s, {len(papers) / polars_seconds:,.0f} papers/s")
    print(f"python_terms (re and loops): {python_seconds:.2f} s, {len(papers) / python_seconds:,.0f} papers/s")
    print(f"polars throughput / python throughput: {python_seconds / polars_seconds:.1f}")
    print(f"same rows: {polars_rows.rows() == python_rows}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
