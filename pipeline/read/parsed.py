"""What reading a digest gives, whatever its format: a parsed digest, its entries and rejects.

Every reader (pipeline/read/formats/) builds its entries through `Entries`, so that one
set of rules decides what an entry is, in every format: a title of 1 to TITLE_MAX_CHARS
characters that is no markup, an abstract of 1 to ABSTRACT_MAX_CHARS, each holding a
letter or a digit, a paper once per digest. Every block of a file is accounted for: a
header (page chrome and card metadata), the date line, part of an entry, or a reject
with its reason.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from pipeline.read.identity import find_arxiv_id, paper_id
from pipeline.read.links import Link, extract_links

FORMATS = ("sample", "markdown", "markdown-ref", "text-export", "trending", "daily-papers-json", "unrecognized")
LISTINGS = ("daily", "weekly", "monthly", "trending", "search", "unknown")
DIGEST_STATUSES = ("ok", "duplicate", "empty", "binary", "undated", "unreadable", "unrecognized")
REJECT_REASONS = (
    "binary_file",  # the file is not text: one reject holds its first bytes
    "control_characters",  # a block holding NUL or other control characters
    "abstract_without_title",  # an abstract-shaped block where a title was due, or a title with no letter or digit
    "title_without_abstract",  # a title followed by another title, or by nothing, or an abstract with no letter or digit
    "truncated_entry",  # the last title and a short last block: a capture cut off
    "invalid_date",  # a date line naming no real date (Feb 30)
    "extra_date_line",  # a second date line
    "undated_digest",  # no usable date for the digest: its entries cannot be dated
    "repeated_entry",  # the same paper again in one digest
    "oversized_entry",  # a title over TITLE_MAX_CHARS or an abstract over ABSTRACT_MAX_CHARS
    "undecodable_bytes",  # a block holding bytes its file's encoding cannot read (shown as U+FFFD)
    "unrecognized_format",  # a block of a file in no format papertrends reads
    "markup_title",  # a title that is markup or a link: what a reader of another format would leave
    "invalid_item",  # an item of a daily-papers JSON array that is not a paper
)
# Titles in the samples are at most 174 characters and abstracts at least 1,347;
# arXiv caps abstracts at 1,920. A title is one line of at most TITLE_MAX_CHARS.
TITLE_MAX_CHARS = 300
# No real abstract comes near this; a longer one means merged blocks or a file that
# is no digest. Its entry is rejected, so the papers table keeps to the bound its
# checks enforce (pipeline.validate.suites).
ABSTRACT_MAX_CHARS = 5_000
# Upvotes, comments and stars are int32 columns: a larger or negative "count" is no count
# (left out, the entry kept).
MAX_COUNT = 2**31 - 1

# Markup or a link where a title should be: a markdown link (inline or by reference), a
# link definition, a heading, a URL. One definition for the readers (which reject such
# titles) and the checks (which look for them). "[MASK] Tokens ..." is a title.
# The patterns are RE2's syntax as much as Python's: the checks run them in DuckDB.
# Python's whitespace (str.isspace, and so re's \s), spelled out: RE2's \s is ASCII only.
# Literal characters, as pandas (the suites) would send a \u escape to Python's re.
WHITESPACE_CLASS = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE = f"[{WHITESPACE_CLASS}]"
MARKUP_TITLE_PATTERN = rf"(?i)\]\(|\]\[[0-9]+\]|https?://|^{_SPACE}*#+{_SPACE}|^{_SPACE}*\[[0-9]+\]:{_SPACE}"
# What the warning check also shows: any title opening with "[" or "#" ("#InsTag" is a real title).
LOOKS_LIKE_MARKUP_PATTERN = rf"(?i)\]\(|https?://|^{_SPACE}*[\[#]"
_MARKUP_TITLE = re.compile(MARKUP_TITLE_PATTERN)


def is_markup_title(title: str) -> bool:
    return _MARKUP_TITLE.search(title) is not None


# A letter or a digit (re's \w without the underscore: str.isalnum, code point for code
# point). One definition for the readers and the papers suite (pandas runs \W through
# Python's re wherever a value is not ASCII: RE2's \W is ASCII only).
LETTER_OR_DIGIT_PATTERN = r"[^\W_]"
_LETTER_OR_DIGIT = re.compile(LETTER_OR_DIGIT_PATTERN)


def has_letter_or_digit(text: str) -> bool:
    """What a text of only whitespace, punctuation or invisible characters (U+200B) lacks."""
    return _LETTER_OR_DIGIT.search(text) is not None


class Block(NamedTuple):
    line: int  # 1-based line of the block's first line
    text: str
    offset: int = 0  # index of the block's first character in the digest's text


class Entry(NamedTuple):
    position: int  # 1-based rank in the digest
    line: int  # 1-based line of the title
    title: str
    abstract: str
    paper_id: str
    arxiv_id: str | None
    links: tuple[Link, ...]  # links in the abstract
    upvotes: int | None = None  # what the card showed that day
    comments: int | None = None
    authors: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    card_links: tuple[Link, ...] = ()  # the card's own links: its GitHub repo, its project page
    stars: int | None = None  # the stars the card showed for its GitHub repo


class Reject(NamedTuple):
    line: int
    reason: str
    raw_text: str
    detail: str


@dataclass
class ParsedDigest:
    source_name: str
    digest_id: str
    status: str  # one of DIGEST_STATUSES ("duplicate" is set later, across digests)
    encoding: str | None
    byte_size: int
    format: str = "unrecognized"
    listing: str = "unknown"
    date_line: str | None = None
    digest_date: date | None = None
    date_source: str | None = None
    error: str | None = None
    block_count: int = 0
    header_block_count: int = 0
    entry_block_count: int = 0
    entries: list[Entry] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def accounted_blocks(self) -> int:
        """Header + date line + entry blocks + rejected blocks: equals block_count."""
        return self.header_block_count + (self.date_line is not None) + self.entry_block_count + len(self.rejects)


def split_blocks(text: str) -> list[Block]:
    """Runs of non-blank lines of a normalized text (decoding.normalize_text).

    Normalized, a blank line is an empty one, so blocks are what lies between runs
    of two or more newlines: one str.split, not a loop over lines.
    """
    blocks: list[Block] = []
    line, offset = 1, 0
    for piece in text.split("\n\n"):
        # An odd run of newlines leaves one at the start of the next piece.
        body = piece.lstrip("\n")
        if body:
            skipped = len(piece) - len(body)
            blocks.append(Block(line + skipped, body, offset + skipped))
        line += piece.count("\n") + 2
        offset += len(piece) + 2
    return blocks


def _count(value: int | None) -> int | None:
    return value if value is not None and 0 <= value <= MAX_COUNT else None


class Entries:
    """The entries of one digest, built by the same rules in every format."""

    def __init__(self, parsed: ParsedDigest):
        self.parsed = parsed
        self.seen_papers: set[str] = set()

    def reject(self, blocks: list[Block], reason: str, detail: str) -> None:
        self.parsed.rejects.extend(Reject(block.line, reason, block.text, detail) for block in blocks)

    def add(
        self,
        blocks: list[Block],
        title: str,
        abstract: str,
        *,
        line: int | None = None,
        arxiv_id: str | None = None,
        links: tuple[Link, ...] | None = None,
        upvotes: int | None = None,
        comments: int | None = None,
        authors: tuple[str, ...] = (),
        keywords: tuple[str, ...] = (),
        card_links: tuple[Link, ...] = (),
        stars: int | None = None,
    ) -> bool:
        """An entry from `blocks` (every block of its card), or their rejection with the reason.

        `arxiv_id` and `links`, when the reader knows them (from a card's URL, from a
        faster scan), replace the search of the title and abstract.
        """
        title, abstract = title.strip(), abstract.strip()
        problem = self._problem(title, abstract)
        if problem is not None:
            self.reject(blocks, *problem)
            return False
        key = paper_id(title)
        if key in self.seen_papers:
            self.reject(blocks, "repeated_entry", f"paper {key} already listed in this digest")
            return False
        self.seen_papers.add(key)
        self.parsed.entries.append(
            Entry(
                position=len(self.parsed.entries) + 1,
                line=blocks[0].line if line is None else line,
                title=title,
                abstract=abstract,
                paper_id=key,
                arxiv_id=arxiv_id if arxiv_id is not None else find_arxiv_id(title, abstract),
                links=tuple(extract_links(abstract)) if links is None else links,
                upvotes=_count(upvotes),
                comments=_count(comments),
                authors=authors,
                keywords=keywords,
                card_links=card_links,
                stars=_count(stars),
            )
        )
        self.parsed.entry_block_count += len(blocks)
        return True

    @staticmethod
    def _problem(title: str, abstract: str) -> tuple[str, str] | None:
        # Nothing to read (punctuation, zero-width characters) is no title: it would key a
        # paper on no words.
        if not has_letter_or_digit(title):
            return "abstract_without_title", "a title with no letter or digit" if title else "an entry with no title"
        if not has_letter_or_digit(abstract):
            return "title_without_abstract", "an abstract with no letter or digit" if abstract else "an entry with no abstract"
        if "\n" in title or len(title) > TITLE_MAX_CHARS:
            return "oversized_entry", f"a title of {len(title):,} characters or several lines (one line of at most {TITLE_MAX_CHARS} is a title)"
        if len(abstract) > ABSTRACT_MAX_CHARS:
            return "oversized_entry", f"abstract of {len(abstract):,} characters, over {ABSTRACT_MAX_CHARS:,}"
        if is_markup_title(title):
            return "markup_title", "the title is markup or a link, not a title"
        return None
