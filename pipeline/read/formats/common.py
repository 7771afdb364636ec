"""What the format readers share: damaged blocks, front matter, the listing, card values."""

import datetime as dt
import re

from pipeline.read.decoding import CONTROL_CHARACTERS, REPLACEMENT, DecodedText
from pipeline.read.parsed import Block, Entries

# The characters of decoding.CONTROL_CHARACTERS, for the blocks of a text that holds one.
_CONTROL = re.compile(f"[{re.escape(CONTROL_CHARACTERS)}]")


def reject_if_damaged(block: Block, decoded: DecodedText, entries: Entries) -> bool:
    """Reject a block holding control characters or bytes the decoding replaced; True if it did."""
    # Both were found while decoding: the per-block tests run only when the text holds one.
    if decoded.has_control_characters and _CONTROL.search(block.text):
        entries.reject([block], "control_characters", "holds NUL or other control characters")
        return True
    if decoded.replaced_bytes and REPLACEMENT in block.text:
        entries.reject([block], "undecodable_bytes", f"holds bytes that are not {decoded.encoding} (shown as U+FFFD)")
        return True
    return False


# --- front matter -------------------------------------------------------------------------

_FRONT_MATTER_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(.*)$")


def front_matter(blocks: list[Block]) -> tuple[dict[str, str], int]:
    """`key: value` lines between `---` lines opening the text: the values, and the blocks they take.

    Every line between is a `key: value` line or an indented one (a YAML list or map under
    a key): a `---` that is a thematic break (markdownify's `<hr>`) opens no front matter,
    and the page after it stays the page. Only simple scalars are read (a scraper's url,
    title, retrieval time); quotes around a value are dropped. No front matter: ({}, 0).
    """
    if not blocks or blocks[0].text.partition("\n")[0] != "---":
        return {}, 0
    lines: list[str] = []
    for taken, block in enumerate(blocks, start=1):
        for number, line in enumerate(block.text.split("\n")):
            if taken == 1 and number == 0:
                continue  # the opening ---
            if line.strip() == "---":
                return _values(lines), taken
            if not _FRONT_MATTER_KEY.match(line) and not line[:1].isspace():
                return {}, 0
            lines.append(line)
    return {}, 0  # never closed: no front matter


def _values(lines: list[str]) -> dict[str, str]:
    values = {}
    for line in lines:
        if match := _FRONT_MATTER_KEY.match(line):
            values[match[1].lower()] = match[2].strip().strip("\"'")
    return values


_ISO_DAY = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
CAPTURE_DATE_KEYS = ("retrieved", "exported", "captured", "date", "scraped", "saved")


def day_in(value: str | None) -> dt.date | None:
    """The first ISO day (YYYY-MM-DD) in a value, if it names a real day."""
    for match in _ISO_DAY.finditer(value or ""):
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def capture_day(values: dict[str, str]) -> dt.date | None:
    """The day a capture states: its list's day in its URL, else when it was retrieved or exported."""
    url = values.get("url", "")
    if "/papers/date/" in url and (listed := day_in(url.split("/papers/date/", 1)[1])):
        return listed
    for key in CAPTURE_DATE_KEYS:
        if day := day_in(values.get(key)):
            return day
    return None


# --- the listing -------------------------------------------------------------------------


def listing_of(url: str | None) -> str | None:
    """daily, weekly, monthly, trending or search from a Hugging Face papers URL; None if it names none."""
    if not url:
        return None
    if "?q=" in url or "&q=" in url or "/papers/search" in url:
        return "search"
    for marker, listing in (("/papers/date/", "daily"), ("/papers/week/", "weekly"), ("/papers/month/", "monthly"), ("/papers/trending", "trending")):
        if marker in url:
            return listing
    return None


# --- values on a card ------------------------------------------------------------------------

# A paper's page: huggingface.co/papers/<arXiv id>, or arxiv.org/abs/<id>.
_PAPER_URL = re.compile(r"(?:huggingface\.co/papers/|arxiv\.org/(?:abs|pdf)/)([0-9]{4}\.[0-9]{4,5})(?![0-9])", re.IGNORECASE)


def arxiv_id_in_url(url: str) -> str | None:
    match = _PAPER_URL.search(url)
    return match[1] if match else None


_COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*([kKmM]?)$")


def count_of(text: str) -> int | None:
    """A count as a page shows it: "950", "1.32k" (1320), "2.5M"; None for anything else."""
    match = _COUNT.match(text.strip().replace(",", ""))
    if not match:
        return None
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match[2].lower()]
    return round(float(match[1]) * scale)


_MARKDOWN_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~$])")


def unescape_markdown(text: str) -> str:
    r"""Markdown's backslash escapes undone: `\_` is `_`, `\\` is `\`."""
    return _MARKDOWN_ESCAPE.sub(r"\1", text)
