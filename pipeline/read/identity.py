"""Stable keys: a paper is its normalized title."""

import hashlib
import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")
# For ASCII, NFKC changes nothing, casefold is lower(), and the word characters are
# letters and digits: a translate and a split do what the regex does, faster.
_ASCII_NOT_WORD_TO_SPACE = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})
# ASCII digits only ([0-9], never \d): an id in fullwidth or Arabic-Indic digits is no arXiv id.
# The reader finds ids with ARXIV_ID; the papers suite checks them with ARXIV_ID_PATTERN.
ARXIV_ID = re.compile(r"(?:arxiv\.org/(?:abs|pdf)/|arXiv:\s?)([0-9]{4}\.[0-9]{4,5})(?:v[0-9]+)?(?![0-9])", re.IGNORECASE)
ARXIV_ID_PATTERN = r"^[0-9]{4}\.[0-9]{4,5}\Z"  # \Z: $ would also match before a final newline


def _collapse(match: re.Match[str]) -> str:
    """One space for a run of \\W or _, keeping the combining marks in it.

    re counts a combining mark (Unicode Mn, Mc, Me: a vowel sign such as Devanagari
    U+093F) as \\W, yet it is part of its word: as a space, मूल and मिल would be one title.
    """
    run = match[0]
    if run.isascii():  # no mark: the common case
        return " "
    kept: list[str] = []
    for char in run:
        if unicodedata.category(char)[0] == "M":
            kept.append(char)
        elif not kept or kept[-1] != " ":
            kept.append(" ")
    return "".join(kept)


def normalize_title(title: str) -> str:
    """NFKC, casefold, and every run of punctuation, underscores or whitespace as one space."""
    if title.isascii():
        return " ".join(title.lower().translate(_ASCII_NOT_WORD_TO_SPACE).split())
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NOT_WORD.sub(_collapse, folded).strip()


def paper_id(title: str) -> str:
    """First 16 hex digits of the sha256 of the normalized title."""
    key = normalize_title(title) or title  # a title of punctuation only keys on itself
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def find_arxiv_id(*texts: str) -> str | None:
    for text in texts:
        # Every match holds "arx" in some case (no non-ASCII letter matches a, r or x
        # under IGNORECASE): the substring test skips the slow regex scan.
        if "arx" in text.lower() and (match := ARXIV_ID.search(text)):
            return match[1]
    return None
