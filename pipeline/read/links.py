"""Code, data and project links in an abstract, in canonical form."""

import functools
import re
import sys
import unicodedata
from typing import NamedTuple
from urllib.parse import urlsplit

LINK_KINDS = (
    "github",
    "gitlab",
    "gitee",
    "bitbucket",
    "huggingface",
    "github_pages",
    "anonymous_review",
    "project_page",
    "other",
)
# Kinds whose links count as "has code" in the trend views.
CODE_KINDS = ("github", "gitlab", "gitee", "bitbucket", "huggingface")
# Where a paper's link was seen: in its abstract, or on its card (a GitHub badge, a project page).
LINK_SOURCES = ("abstract", "card")
# Hosts whose links name repositories as host/owner/repo: such a link has owner and repo.
REPOSITORY_KINDS = ("github", "gitlab", "gitee", "bitbucket")

_REPO_HOSTS = {
    "github.com": "github",
    "gitlab.com": "gitlab",
    "gitee.com": "gitee",
    "bitbucket.org": "bitbucket",
}
# Hosts that are neither code nor a project's own page: papers, videos, social, storage.
_GENERIC_HOSTS = {
    "arxiv.org", "doi.org", "dx.doi.org", "openreview.net", "paperswithcode.com",
    "youtube.com", "youtu.be", "twitter.com", "x.com", "drive.google.com",
    "docs.google.com", "colab.research.google.com", "zenodo.org", "bit.ly",
    "aclanthology.org", "kaggle.com", "figshare.com", "dropbox.com",
}
# Top-level domains accepted for a link written without a scheme ("vid2robot.github.io"),
# so that "e.g." or "Fig.3" are never read as links.
_BARE_TLDS = (
    "io|com|org|net|ai|cn|co|edu|dev|app|page|site|science|info|me|uk|de|fr|jp|kr|ch|ca|in|tech|xyz"
)


def _url_char_class() -> str:
    """The regex class of the characters a link holds.

    A link ends at whitespace or at a character never left unescaped in a URL; braces
    and backslashes end it too, which stops LaTeX such as `...README.md{here.}`. Of the
    non-ASCII characters only letters, marks and numbers (Unicode L*, M*, N*) stay, as in
    the IRI example.cn/项目: a curly quote, dash, ellipsis or zero-width space ends a link.
    Built once (it scans every code point, a noticeable fraction of a second): one class,
    unlike a check per character, keeps the regex as fast as before on every abstract.
    """
    ascii_kept = [not char.isspace() and char not in "<>\"'{}\\|^`[]" for char in map(chr, range(0x80))]
    non_ascii_kept = [unicodedata.category(chr(code))[0] in "LMN" for code in range(0x80, sys.maxunicode + 1)]
    runs = re.finditer(rb"\x01+", bytes(ascii_kept + non_ascii_kept))
    return "[" + "".join(f"\\U{run.start():08x}-\\U{run.end() - 1:08x}" for run in runs) + "]"


@functools.cache
def _url_chars() -> str:
    """_url_char_class, built once per process (link_pattern and _url_chars_only share it)."""
    return _url_char_class()


@functools.cache
def link_pattern() -> re.Pattern:
    """The regex of a link, compiled at its first use: most processes that import this
    module (the trend SQL, the checks) never look for links, and the class costs time."""
    url_chars = _url_chars()
    return re.compile(
        rf"(?:https?://{url_chars}+"
        rf"|(?<![\w@./-])www\.{url_chars}+"
        # Without a scheme, only a lower-case host counts: "works.In this" is a typo, not a link.
        rf"|(?-i:(?<![\w@./:-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_BARE_TLDS})(?![\w-]))(?:/{url_chars}*)?)",
        re.IGNORECASE,
    )


@functools.cache
def _url_chars_only() -> re.Pattern:
    """Text made of link characters only: a card's field holding anything else is no link."""
    return re.compile(_url_chars() + "+")


_TRAILING = ".,;:!?)'\"*"
# Where a lower-cased text may hold a link: "://", "www." or a dot and a top-level
# domain. Every link holds one of them. The dot test is a regex of its own: one that
# starts with a literal scans much faster than an alternation of the three.
_TLD_HINT = re.compile(rf"\.(?:{_BARE_TLDS})(?![a-z0-9])")
_WORD_END = _TRAILING + "}"
_WORD_REST = re.compile(r"\S*")
_SCHEME = re.compile(r"https?://", re.IGNORECASE)


class Link(NamedTuple):  # a named tuple: made several times faster than a frozen dataclass
    url: str  # canonical: https, lower-case host (no www. on a code host), no trailing punctuation, slash or .git
    raw_url: str  # as written in the abstract
    host: str  # lower-case, as written (www. kept)
    kind: str
    owner: str | None
    repo: str | None


def _trailing_end(text: str, end: int, opens: int, closes: int) -> tuple[int, int]:
    """End of text[:end] without sentence punctuation, keeping balanced parentheses.

    Works on an index with running counts (opens is constant: "(" is never stripped),
    so a hostile run of ")" or ".git/" costs linear, not quadratic, time.
    """
    while end:
        last = text[end - 1]
        if last == ")" and opens >= closes:
            break
        if last not in _TRAILING:
            break
        closes -= last == ")"
        end -= 1
    return end, closes


def _strip_trailing(url: str) -> str:
    """Drop sentence punctuation after a link, keeping balanced parentheses."""
    end, _ = _trailing_end(url, len(url), url.count("("), url.count(")"))
    return url[:end]


def _strip_suffixes(path: str) -> str:
    """Drop trailing slashes, ".git" and punctuation, in any mix, until none is left."""
    opens, closes = path.count("("), path.count(")")
    end = len(path)
    while True:
        before = end
        while end and path[end - 1] == "/":
            end -= 1
        if path[max(0, end - 4) : end].lower() == ".git":
            end -= 4
        end, closes = _trailing_end(path, end, opens, closes)
        if end == before:
            return path[:end]


def _classify(host: str, segments: list[str]) -> tuple[str, str | None, str | None]:
    bare_host = host.removeprefix("www.")
    first = segments[0] if segments else None
    second = segments[1] if len(segments) > 1 else None
    if bare_host in _REPO_HOSTS:
        return _REPO_HOSTS[bare_host], first, second
    if bare_host == "huggingface.co" or bare_host == "hf.co":
        if first in ("datasets", "spaces") and len(segments) > 1:
            return "huggingface", second, segments[2] if len(segments) > 2 else None
        if first in ("papers", "docs", "blog", "collections", "models", "organizations"):
            return "huggingface", None, None
        return "huggingface", first, second
    # Before the pages sites: openreview-anon.github.io is one of them.
    if bare_host.startswith("anonymous.4open.science") or bare_host == "openreview-anon.github.io":
        return "anonymous_review", None, None
    if bare_host.endswith(".github.io"):
        # owner.github.io/<path> may be served by a repo or by the owner's site: owner only.
        return "github_pages", bare_host.removesuffix(".github.io"), None
    if bare_host in _GENERIC_HOSTS:
        return "other", None, None
    return "project_page", None, None


def canonicalize(raw_url: str) -> Link | None:
    """The canonical Link for a URL as written, or None if it names no host."""
    cleaned = _strip_trailing(raw_url)
    # A link in an abstract holds link characters only; a card's field must too, or
    # `https://github.com/o/r"><script>` would be a repository named `r"><script>`.
    if not _url_chars_only().fullmatch(cleaned):
        return None
    with_scheme = cleaned if _SCHEME.match(cleaned) else "https://" + cleaned
    try:
        parts = urlsplit(with_scheme)
        host = (parts.hostname or "").lower()
        # .port raises on "x.com:99999" or "x.com:abc": such text names no usable link.
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    rest = parts.path
    if parts.query:
        rest += "?" + parts.query
    if parts.fragment:
        rest += "#" + parts.fragment
    rest = _strip_suffixes(rest)
    segments = [segment for segment in _strip_suffixes(parts.path).split("/") if segment]
    kind, owner, repo = _classify(host, segments)
    # www.github.com/o/r is github.com/o/r: one url, so one repo_links row per paper and
    # one repo_popularity row. Only on a code host, whose bare name is known to serve it.
    url_host = host.removeprefix("www.") if kind in CODE_KINDS else host
    return Link(
        url=f"https://{url_host}{port}{rest}",
        raw_url=raw_url,
        host=host,
        kind=kind,
        owner=owner or None,
        repo=repo or None,
    )


def names_repository(url: str) -> bool:
    """Whether a canonical url names a repository (owner and repo on a code host).

    The one definition the reader (which fills owner and repo by canonicalize) and the
    repo_links suite (which requires them on such a link) share.
    """
    link = canonicalize(url)
    return link is not None and link.kind in REPOSITORY_KINDS and link.owner is not None and link.repo is not None


def link_hint_positions(lowered: str) -> list[int]:
    """Sorted positions in a lower-cased text where a link may be: none means no link."""
    positions = [match.start() for match in _TLD_HINT.finditer(lowered)]
    others = [position for needle in ("://", "www.") for position in find_all(lowered, needle)]
    return sorted(positions + others) if others else positions


def find_all(text: str, needle: str):
    """Every position of needle in text, overlapping ones included."""
    position = text.find(needle)
    while position >= 0:
        yield position
        position = text.find(needle, position + 1)


def _words_at(text: str, positions: list[int]):
    """The whitespace-delimited words (as str.split() has them) holding the positions, in order."""
    word_end = -1
    for position in positions:
        if position < word_end:
            continue  # in the word already given
        word_start = position
        while word_start and not text[word_start - 1].isspace():
            word_start -= 1
        match = _WORD_REST.match(text, position)  # \S* matches at any position
        word_end = match.end() if match else position
        yield word_start, word_end


def extract_links(text: str) -> list[Link]:
    """Every distinct link in a text, in order of first appearance."""
    lowered = text.lower()
    positions = link_hint_positions(lowered)
    if not positions:
        return []
    if len(lowered) != len(text):  # lower() lengthened a character: positions differ
        return _links_in_words(text, ((match.start(), match.end()) for match in re.finditer(r"\S+", text)))
    return links_at(text, positions)


def links_at(text: str, positions: list[int]) -> list[Link]:
    """extract_links, given link_hint_positions of the text lower-cased."""
    return _links_in_words(text, _words_at(text, positions))


def _links_in_words(text: str, words) -> list[Link]:
    seen: dict[str, Link] = {}
    # A link never spans whitespace, and the regex runs only on the words that hold a
    # hint and a dot before their trailing punctuation: scanning the whole text is
    # many times slower. Its lookarounds see whitespace or the text's ends around a
    # word, as they would around the word alone.
    for start, end in words:
        if "." not in text[start:end].rstrip(_WORD_END):
            continue
        for match in link_pattern().finditer(text, start, end):
            link = canonicalize(match.group(0))
            if link and link.url not in seen:
                seen[link.url] = link
    return list(seen.values())
