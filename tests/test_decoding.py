"""Decoding rules: which encoding a file is read in, and what the damage costs (docs/reading.md, Text and Normalization)."""

import pytest

from pipeline.read.decoding import DecodedText, decode_digest
from pipeline.read.reader import parse_digest

EOLS = pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])


def abstract(topic: str) -> str:
    return " ".join(f"Sentence {n} about {topic} shows a clear and repeatable effect." for n in range(8))


def reasons(parsed) -> list[tuple[int, str]]:
    return [(reject.line, reject.reason) for reject in parsed.rejects]


# --- UTF-8 or Windows-1252: the non-ASCII lines vote, whatever ends a line ---------------------

VALID = ["café".encode(), "naïve".encode()]  # UTF-8 lines
BROKEN = [b"\xe9t\xe9", b"d\xe9j\xe0"]  # Windows-1252 lines: no UTF-8


@EOLS
def test_a_tie_between_utf8_and_broken_lines_is_utf8(eol):
    decoded = decode_digest(eol.join([VALID[0], BROKEN[0]]))
    assert isinstance(decoded, DecodedText)
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("café\n\ufffdt\ufffd", "utf-8", True)


@EOLS
def test_one_more_utf8_line_than_broken_ones_is_utf8(eol):
    decoded = decode_digest(eol.join([VALID[0], VALID[1], BROKEN[0]]))
    assert isinstance(decoded, DecodedText)
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("café\nnaïve\n\ufffdt\ufffd", "utf-8", True)


@EOLS
def test_one_more_broken_line_than_utf8_ones_is_windows_1252(eol):
    decoded = decode_digest(eol.join([VALID[0], BROKEN[0], BROKEN[1]]))
    assert isinstance(decoded, DecodedText)
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("cafÃ©\nété\ndéjà", "cp1252", False)


@EOLS
def test_a_utf8_digest_with_one_broken_byte_keeps_its_utf8_in_any_line_ending(eol):
    blocks = ["new", "Mar 12", "Méthodes Über Alles: Cross-Lingual Retrieval", abstract("one"), "Second Paper Title", abstract("two") + " broken BYTE here"]
    raw = (eol + eol).join(block.encode() for block in blocks).replace(b"BYTE", b"\xff")
    parsed = parse_digest(raw, "d.txt")
    assert parsed.encoding == "utf-8"
    assert [entry.title for entry in parsed.entries] == ["Méthodes Über Alles: Cross-Lingual Retrieval"]
    assert reasons(parsed) == [(9, "title_without_abstract"), (11, "undecodable_bytes")]
