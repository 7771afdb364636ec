"""The JSON array the Hub's daily-papers API returns (https://huggingface.co/api/daily_papers), one item per paper.

A "block" of a JSON digest is one item of the array: `block_count` is the number of
items, each item becomes an entry (one entry block) or one reject, whose `line` is the
item's 1-based index in the array and whose `raw_text` is the item's JSON, shortened.

- The file is refused whole (`unrecognized`) when it is not valid JSON, is nested deeper
  than MAX_DEPTH, is not an array (the API's error object), is an empty array, or holds
  no item that is an object with a `paper` object.
- An item of the wrong shape (not an object, no `paper`, no `paper.id`, an id that is no
  arXiv id, no title, a title or summary that is not a string) is rejected alone as
  `invalid_item`; the good items are kept. A title or summary holding control characters
  (even escaped, "\\u0000") is rejected as `control_characters`; one holding half of a
  UTF-16 surrogate pair (a lone escape such as "\\ud83d": an emoji cut in two), which is no
  character, as `undecodable_bytes`. Then Entries applies the
  shared rules (no summary: `title_without_abstract`; a paper twice: `repeated_entry` ...).
- Titles and summaries come as arXiv wrapped them: line breaks and the spaces around them
  become one space. Authors (`paper.authors[].name`), `ai_keywords`, `githubRepo` and
  `projectPage` are optional: a value of the wrong type, or holding control characters or
  half a surrogate pair, is left out, the item kept. A reject's raw text writes such a half
  as its JSON escape, so that it is UTF-8 text.
- The digest date is the list's day, from `paper.submittedOnDailyAt` (midnight UTC, so
  its date part): the most common day of the well-shaped items (ties: the earliest), date
  source "capture". Items of another day are entries of this digest all the same: the
  file is one list the API returned. `publishedAt` is the arXiv date, never the digest's.
- Counts (`paper.upvotes`, `numComments` on the item, `paper.githubStars`) are used when
  they are JSON integers from 0 to MAX_COUNT; anything else (a bool, a negative, a float,
  a string) is dropped from the entry, which is kept: one bad counter does not cost the paper.
"""

import datetime as dt
import json
import re
from collections import Counter
from itertools import accumulate
from typing import NamedTuple

from pipeline.read import dates
from pipeline.read.decoding import CONTROL_CHARACTERS, REPLACEMENT, DecodedText
from pipeline.read.formats.unrecognized import read_unrecognized
from pipeline.read.identity import ARXIV_ID_PATTERN
from pipeline.read.links import Link, canonicalize
from pipeline.read.parsed import MAX_COUNT, Block, Entries, ParsedDigest

# Real items are about six levels deep (array, item, paper, authors, author, user);
# json.loads raises RecursionError near 1,000. A file deeper than this is no API answer.
MAX_DEPTH = 64
# An item's JSON kept in a reject: enough to see what was wrong.
RAW_TEXT_MAX_CHARS = 4_000

_ARXIV_ID = re.compile(ARXIV_ID_PATTERN)
_CONTROL = re.compile(f"[{re.escape(CONTROL_CHARACTERS)}]")
# json.loads turns an escape like "\ud83d" with no partner into a str that UTF-8 (so
# Parquet) cannot encode: it must not leave the reader.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# For the nesting check: a string once escapes are gone, the bytes to drop, and what
# each byte does to the depth.
_JSON_STRING = re.compile(rb'"[^"]*"')
_NOT_QUOTE_OR_BRACKET = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_DEPTH_STEP = [{ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}.get(byte, 0) for byte in range(256)]
_LINE_BREAK = re.compile(r"\s*\n\s*")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])")


class _Paper(NamedTuple):
    """A well-shaped item, before the digest's rules (Entries) decide on it."""

    number: int  # 1-based index in the array
    item: dict
    title: str
    abstract: str
    arxiv_id: str
    upvotes: int | None
    comments: int | None
    stars: int | None
    authors: tuple[str, ...]
    keywords: tuple[str, ...]
    card_links: tuple[Link, ...]
    day: dt.date | None  # the list's day, from submittedOnDailyAt


class _Invalid(NamedTuple):
    block: Block
    reason: str  # invalid_item, control_characters or undecodable_bytes
    detail: str


def read_daily_json(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None) -> None:
    """Fill `parsed` from the daily-papers API's JSON array."""
    items, why = _load_items(decoded.text)
    if why is not None:
        read_unrecognized(parsed, decoded, why=why)
        return
    parsed.listing = "daily"
    parsed.block_count = len(items)
    entries = Entries(parsed)
    papers: list[_Paper] = []
    for index, item in enumerate(items, start=1):
        read = _read_item(index, item, decoded.replaced_bytes)
        if isinstance(read, _Invalid):
            entries.reject([read.block], read.reason, read.detail)
        else:
            papers.append(read)

    resolved = dates.resolve_date(None, parsed.source_name, config_year, capture_day=_list_day(papers))
    parsed.digest_date, parsed.date_source = resolved.date, resolved.source
    if resolved.date is None:
        parsed.status = "undated"
        parsed.error = "no submittedOnDailyAt in any item and no ISO date in the file name"
        for paper in papers:
            entries.reject([Block(paper.number, _raw_text(paper.item))], "undated_digest", "the digest has no usable date")
        return
    for paper in papers:
        added = entries.add(
            [Block(paper.number, "")],
            paper.title,
            paper.abstract,
            arxiv_id=paper.arxiv_id,
            upvotes=paper.upvotes,
            comments=paper.comments,
            authors=paper.authors,
            keywords=paper.keywords,
            card_links=paper.card_links,
            stars=paper.stars,
        )
        if not added:
            # The item's JSON is made only for a reject: in a large file most items are entries.
            parsed.rejects[-1] = parsed.rejects[-1]._replace(raw_text=_raw_text(paper.item))


# --- the file as a whole ---------------------------------------------------------------------


def _load_items(text: str) -> tuple[list, str | None]:
    """The array's items, or why the file is no daily-papers array."""
    if _too_deep(text):
        return [], f"JSON nested more than {MAX_DEPTH} levels deep: not a daily-papers array"
    try:
        # strict=False: a raw control character inside a string costs its item
        # (control_characters), not the whole file.
        value = json.loads(text, strict=False)
    except RecursionError:
        return [], "JSON nested too deeply to read: not a daily-papers array"
    except ValueError as error:  # JSONDecodeError, or an integer of over 4,300 digits
        return [], f"not valid JSON: {error}"
    if not isinstance(value, list):
        return [], _not_an_array(value)
    if not value:
        return [], "an empty JSON array: no papers"
    if not any(isinstance(item, dict) and isinstance(item.get("paper"), dict) for item in value):
        return [], "a JSON array with no daily-papers item (no object with a `paper` object)"
    return value, None


def is_json(text: str) -> bool:
    """Whether the text is JSON as this reader reads it, so that detection can tell it by parsing.

    Nested past MAX_DEPTH counts as JSON (the reader refuses it as such): json.loads's own
    limit would make the answer depend on how deep the caller's stack is.
    """
    if _too_deep(text):
        return True
    try:
        # parse_int=str: an integer too long for int() is still JSON (the reader refuses it).
        json.loads(text, strict=False, parse_int=str)
    except (RecursionError, ValueError):
        return False
    return True


def _too_deep(text: str) -> bool:
    """True if the JSON's brackets, outside strings, nest deeper than MAX_DEPTH.

    Checked before parsing, so that the limit does not depend on the interpreter's
    recursion limit or on how deep the caller's stack is. On bytes, with C-speed
    replace, translate and one regex: a quarter of json.loads's time on 100,000 items.
    """
    # Escaped backslashes first (a run pairs up from the left), then escaped quotes:
    # what is left of the quotes delimits the strings, whose brackets are text.
    data = text.encode("utf-8", "replace").replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = _JSON_STRING.sub(b"", data.translate(None, _NOT_QUOTE_OR_BRACKET))
    return max(accumulate(map(_DEPTH_STEP.__getitem__, structure)), default=0) > MAX_DEPTH


def _not_an_array(value: object) -> str:
    if isinstance(value, dict) and isinstance(value.get("error"), str):
        return f"the API's error object, not the array of papers: {value['error'][:200]!r}"
    return f"JSON {_kind(value)}, not the daily-papers array of items"


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    kinds = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number"}
    return kinds.get(type(value), "null")


def _list_day(papers: list[_Paper]) -> dt.date | None:
    """The day most items were submitted on (ties: the earliest); None if no item says."""
    days = Counter(paper.day for paper in papers if paper.day is not None)
    if not days:
        return None
    return max(days, key=lambda day: (days[day], -day.toordinal()))


# --- one item ------------------------------------------------------------------------------


def _raw_text(item: object) -> str:
    """The item's JSON as a reject shows it, cut at RAW_TEXT_MAX_CHARS."""
    try:
        # A lone surrogate is inside a JSON string, where backslashreplace writes its escape.
        text = json.dumps(item, ensure_ascii=False).encode("utf-8", "backslashreplace").decode("utf-8")
    except (RecursionError, ValueError):  # unreachable below MAX_DEPTH; never crash on it
        text = f"{_kind(item)} that cannot be shown"
    if len(text) > RAW_TEXT_MAX_CHARS:
        return f"{text[:RAW_TEXT_MAX_CHARS]}… ({len(text):,} characters in all)"
    return text


def _read_item(index: int, item: object, replaced_bytes: bool) -> _Paper | _Invalid:
    problem = _shape_problem(item, replaced_bytes)
    if problem is not None:
        return _Invalid(Block(index, _raw_text(item)), *problem)
    assert isinstance(item, dict)  # _shape_problem checked it, and the rest below
    paper = item["paper"]
    title, summary = paper["title"], paper.get("summary") or ""
    return _Paper(
        number=index,
        item=item,
        # arXiv wraps titles and abstracts; the page shows them as one line, one paragraph.
        title=" ".join(title.split()),
        abstract=_LINE_BREAK.sub(" ", summary.strip()) if "\n" in summary else summary.strip(),
        arxiv_id=paper["id"],
        upvotes=_count(paper.get("upvotes")),
        comments=_count(item.get("numComments")),
        stars=_count(paper.get("githubStars")),
        authors=_names(paper.get("authors")),
        keywords=_strings(paper.get("ai_keywords")),
        card_links=_card_links(paper.get("githubRepo"), paper.get("projectPage")),
        day=_day(paper.get("submittedOnDailyAt")),
    )


def _shape_problem(item: object, replaced_bytes: bool) -> tuple[str, str] | None:
    """(reason, detail) if the item is no paper item papertrends can read, else None."""
    if not isinstance(item, dict):
        return "invalid_item", f"{_kind(item)}, not an object"
    paper = item.get("paper")
    if not isinstance(paper, dict):
        return "invalid_item", "no `paper` object" if paper is None else f"`paper` is {_kind(paper)}, not an object"
    arxiv_id = paper.get("id")
    if arxiv_id is None:
        return "invalid_item", "no `paper.id`"
    if not isinstance(arxiv_id, str) or not _ARXIV_ID.fullmatch(arxiv_id):
        return "invalid_item", f"`paper.id` {str(arxiv_id)[:40]!r} is not an arXiv id (NNNN.NNNNN, ASCII digits)"
    title, summary = paper.get("title"), paper.get("summary")
    if title is None:
        return "invalid_item", "no `paper.title`"
    for name, value in (("title", title), ("summary", summary)):
        if value is not None and not isinstance(value, str):
            return "invalid_item", f"`paper.{name}` is {_kind(value)}, not a string"
    # Escaped in the JSON ("\u0000"), such characters were not seen when the file was decoded.
    text = title + (summary or "")
    if _CONTROL.search(text):
        return "control_characters", "title or summary holds NUL or other control characters"
    if _SURROGATE.search(text):
        return "undecodable_bytes", "title or summary holds half of a UTF-16 surrogate pair (a lone \\ud800-\\udfff escape)"
    if replaced_bytes and REPLACEMENT in text:
        return "undecodable_bytes", "title or summary holds bytes the file's encoding cannot read (shown as U+FFFD)"
    return None


def _day(value: object) -> dt.date | None:
    """The day of an API time ("2026-03-09T03:00:00.000Z"): the list's day, midnight UTC."""
    if not isinstance(value, str) or not _ISO_DAY.match(value):
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:  # 2026-02-30
        return None


def _count(value: object) -> int | None:
    """A count the API sent as a JSON integer in range; None for anything else (kept out, entry kept)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT:
        return value
    return None


def _clean(value: object) -> str | None:
    """A one-line string with no control characters or surrogates, or None."""
    if not isinstance(value, str) or _CONTROL.search(value) or _SURROGATE.search(value):
        return None
    return " ".join(value.split()) or None


def _strings(values: object) -> tuple[str, ...]:
    if not isinstance(values, list):
        return ()
    return tuple(text for value in values if (text := _clean(value)) is not None)


def _names(authors: object) -> tuple[str, ...]:
    """The authors' names; an author with no string name is left out."""
    if not isinstance(authors, list):
        return ()
    return _strings([author.get("name") for author in authors if isinstance(author, dict)])


def _card_links(*urls: object) -> tuple[Link, ...]:
    """The GitHub repo and project page, canonical, each once."""
    links: dict[str, Link] = {}
    for url in urls:
        text = _clean(url)
        # A URL is one word: "see our repo" is no link.
        if text is not None and " " not in text and (link := canonicalize(text)) is not None:
            links.setdefault(link.url, link)
    return tuple(links.values())
