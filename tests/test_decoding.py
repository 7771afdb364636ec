"""Decoding rules: which encoding a file is read in, and what the damage costs (docs/reading.md, Text and Normalization)."""

import codecs

import pytest

from pipeline.read.decoding import DecodedText, NotText, decode_digest, normalize_text
from pipeline.read.reader import parse_digest
from tests.helpers import abstract, reject_reasons

EOLS = pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["lf", "crlf", "cr"])



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
    assert reject_reasons(parsed) == [(9, "title_without_abstract"), (11, "undecodable_bytes")]


# --- Windows-1252: a byte it leaves undefined costs only its block ------------------------------


@pytest.mark.parametrize("undefined", [b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"])
def test_a_byte_windows_1252_leaves_undefined_becomes_a_replacement_character(undefined):
    decoded = decode_digest(b"Don\x92t Stop Pretraining \x96 " + undefined)  # 1 of 26 characters: under 5%
    assert isinstance(decoded, DecodedText)
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes, decoded.has_control_characters) == (
        "Don\u2019t Stop Pretraining \u2013 \ufffd",
        "cp1252",
        True,
        False,
    )


def test_an_undefined_byte_rejects_its_block_and_the_other_quotes_and_dashes_are_read():
    blocks = [
        "Mar 12",
        "Don\u2019t Stop Pretraining \u2013 Again",
        abstract("one") + " We call it \u201cgood\u201d.",
        "Second Paper Title",
        abstract("two"),
        "Third Paper Title",
        abstract("three") + " stray byte:BYTE",
    ]
    raw = "\n\n".join(blocks).encode("cp1252").replace(b"BYTE", b"\x81")
    parsed = parse_digest(raw, "d.txt")
    assert (parsed.status, parsed.encoding) == ("ok", "cp1252")
    assert [entry.title for entry in parsed.entries] == ["Don\u2019t Stop Pretraining \u2013 Again", "Second Paper Title"]
    assert parsed.entries[0].abstract.endswith(" We call it \u201cgood\u201d.")
    assert reject_reasons(parsed) == [(11, "title_without_abstract"), (13, "undecodable_bytes")]
    assert parsed.rejects[1].raw_text.endswith(" stray byte:\ufffd")


# --- Normalization: invisible characters before the first line are no content ------------------


def test_a_leading_run_of_bom_zero_width_space_and_word_joiner_is_dropped_at_the_start_only():
    assert normalize_text("\ufeff\u200b\u2060\ufeffnew\u200b\n\n\ufeffMar 12 \u2060") == "new\u200b\n\n\ufeffMar 12 \u2060"


def test_only_invisible_characters_is_empty():
    decoded = decode_digest(codecs.BOM_UTF8 * 3 + "\u200b".encode())
    assert isinstance(decoded, NotText)
    assert (decoded.reason, decoded.detail) == ("empty", "only whitespace (12 bytes)")


SAMPLE_BODY = "\n\n".join(["new", "Get trending papers in your email inbox!", "Mar 12", "Paper One Title", abstract("a"), "Paper Two Title", abstract("b")])


@pytest.mark.parametrize(
    ("lead", "encoding"),
    [("\ufeff\ufeff", "utf-8"), ("\ufeff\u200b", "utf-8"), ("\u200b", "utf-8"), ("\u2060", "utf-8"), ("\ufeff\ufeff", "utf-16-le")],
    ids=["two-boms", "bom-zwsp", "zwsp", "word-joiner", "utf16-two-boms"],
)
def test_invisible_characters_before_the_header_leave_it_a_header(lead, encoding):
    parsed = parse_digest((lead + SAMPLE_BODY).encode(encoding), "capture.txt")
    assert (parsed.status, parsed.date_line, parsed.header_block_count) == ("ok", "Mar 12", 2)
    assert [entry.title for entry in parsed.entries] == ["Paper One Title", "Paper Two Title"]
    assert parsed.rejects == []
    # The same content as the plain file: one digest.
    assert parsed.digest_id == parse_digest(SAMPLE_BODY.encode(), "plain.txt").digest_id


# --- C1 controls ---------------------------------------------------------------------------------


def test_a_c1_control_in_utf8_text_is_a_control_character():
    # U+0081 (bytes C2 81) holds no C0 byte: only the C1 test finds it, and its block is rejected.
    bad = "Mis-read \u0081 text. " + abstract("b")
    body = "\n\n".join(["new", "Mar 12", "Paper One Title", abstract("a"), "Paper Two Title", bad])
    decoded = decode_digest(body.encode())
    assert isinstance(decoded, DecodedText) and decoded.has_control_characters is True
    parsed = parse_digest(body.encode(), "capture.txt")
    assert [entry.title for entry in parsed.entries] == ["Paper One Title"]
    assert reject_reasons(parsed) == [(9, "title_without_abstract"), (11, "control_characters")]
