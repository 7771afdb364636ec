"""The capture formats papertrends reads, and how a file's format is told from its content.

Each reader takes the decoded text and fills a ParsedDigest (pipeline.read.parsed), so
every format gives the same structure. A file whose content matches no reader is
`unrecognized`: its blocks go to rejects, never into entries.
"""

import re
from collections.abc import Callable

from pipeline.read.decoding import DecodedText
from pipeline.read.formats.daily_json import is_json, read_daily_json
from pipeline.read.formats.markdown import read_markdown, read_markdown_ref, read_trending
from pipeline.read.formats.sample import read_sample
from pipeline.read.formats.text_export import read_text_export
from pipeline.read.parsed import ParsedDigest

Reader = Callable[[ParsedDigest, DecodedText, int | None], None]
READERS: dict[str, Reader] = {
    "sample": read_sample,
    "markdown": read_markdown,
    "markdown-ref": read_markdown_ref,
    "text-export": read_text_export,
    "trending": read_trending,
    "daily-papers-json": read_daily_json,
}

# JSON: what opens the API's answer (an array of objects) or its error object marks JSON even
# cut off or broken, which the JSON reader refuses saying why. Any other text opening with "["
# is JSON only if it is valid JSON: a markdown capture may open with a link ("[57](https://...",
# "[6]: https://..."), a text export with its " [-] 57" upvote button.
_JSON_OPENING = re.compile(r"\s*(?:\[\s*\{|\{\s*[\"}])")
_ARRAY_OPENING = re.compile(r"\s*\[")
_MARKUP = re.compile(r"<(?:!doctype\s+html|html|head|body|\?xml|svg)\b", re.IGNORECASE)
# A scraper's markdown of a Hugging Face page links to it (cards, upvote buttons, the
# menu); an abstract that happens to hold a markdown link does not make a file markdown.
_INLINE_LINK = re.compile(r"\]\((?:https?://(?:www\.)?huggingface\.co/|/papers/)", re.IGNORECASE)
# Reference style: link definitions opening lines, or headings whose link is a reference.
_REFERENCE_LINK = re.compile(r"^\[[0-9]+\]:\s*https?://|^#{1,6} \[[^\]\n]+\]\[[0-9]+\]\s*$", re.MULTILINE)
_BARE_PAPER_URL = re.compile(r"^https://huggingface\.co/papers/[0-9]{4}\.[0-9]{4,5}\S*$", re.MULTILINE)
# The page's own heading ("# Daily Papers", "# Trending Papers", ...): the first one in
# the file is the page's; a later one may be a line of an abstract.
_PAGE_HEADING = re.compile(r"^#{1,6} (Daily|Weekly|Monthly|Trending) Papers\b", re.MULTILINE | re.IGNORECASE)
# A URL of a papers page (/papers, /papers/date/..., /papers/trending), on any host.
_PAPERS_PAGE = re.compile(r"/papers(?:[/?#]|$)", re.IGNORECASE)
_FRONT_MATTER_URL = re.compile(r"\A---\n(?:(?!---\n).*\n)*?url:\s*(\S*)", re.IGNORECASE)


def _is_trending(text: str) -> bool:
    """The front matter's URL of a papers page, else the first page heading, names the trending page."""
    url = _FRONT_MATTER_URL.match(text)
    if url and _PAPERS_PAGE.search(url.group(1)):
        return "/papers/trending" in url.group(1).lower()
    heading = _PAGE_HEADING.search(text)
    return heading is not None and heading.group(1).lower() == "trending"


def _starts_as_markdown(text: str) -> bool:
    """Front matter, or the page's heading as the first line with text."""
    first_line = text.lstrip().partition("\n")[0]
    return text.startswith("---\n") or _PAGE_HEADING.match(first_line) is not None


# The line-anchored patterns above try every position of a text; a substring every match
# holds, looked for first, spares that scan of the texts without one (most of them).
def _has_reference_link(text: str) -> bool:
    return ("]:" in text or "][" in text) and _REFERENCE_LINK.search(text) is not None


def _bare_paper_urls(text: str) -> int:
    return len(_BARE_PAPER_URL.findall(text)) if "https://huggingface.co/papers/" in text else 0


def detect_format(text: str) -> str:
    """The format of a decoded, normalized text (docs/reading.md says what marks each)."""
    if _JSON_OPENING.match(text) or (_ARRAY_OPENING.match(text) and is_json(text)):
        return "daily-papers-json"
    if _MARKUP.search(text[:4096]):
        return "unrecognized"
    inline_link = _INLINE_LINK.search(text) is not None
    if inline_link or _has_reference_link(text):
        if _is_trending(text):
            return "trending"
        return "markdown" if inline_link else "markdown-ref"
    if _bare_paper_urls(text) >= 2:
        return "text-export"
    if _starts_as_markdown(text):
        return "trending" if _is_trending(text) else "markdown"
    return "sample"
