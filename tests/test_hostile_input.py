"""Hostile and broken input: every case ends as entries, rejects or a digest-level error.

All cases live side by side in one digests directory and are built once (through
pipeline/ and through Dagster): one bad file never stops the others. Each case is
generated here, so the expected entries are the ones the test wrote.
"""

import contextlib
import functools
import io
import os
import pwd
import random
import struct
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assets import cli
from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.read.links import extract_links
from pipeline.read.parsed import DIGEST_STATUSES, REJECT_REASONS
from pipeline.read.reader import parse_digest
from pipeline.schemas import TABLES
from pipeline.serve.trends_db import connect_readonly
from pipeline.store.digest_files import list_digest_files
from tests.helpers import HEADER, REPO, abstract, read_table, rows

SEED = 7


@dataclass
class Case:
    name: str  # file name in the digests directory
    raw: bytes
    status: str
    entries: list[tuple[str, str]] = field(default_factory=list)  # (title, abstract) as stored
    reasons: list[str] = field(default_factory=list)  # reject reasons, in line order
    blocks: int = 0  # blocks the test wrote
    encoding: str | None = None
    lines: list[int] | None = None  # expected line of each entry's title


@functools.cache
def ten_mb_line() -> str:
    """One line of 10 MB with a link every 5,000 words."""
    words = (f"word{n} see https://github.com/big-owner/repo{n}." if n % 5000 == 0 else f"word{n}" for n in range(2_000_000))
    return " ".join(words)[: 10 * 2**20].rstrip()


def _entries(tag: str, count: int = 3) -> list[tuple[str, str]]:
    return [(f"{tag} paper {n}: robust parsing of captures", abstract(f"{tag} {n}")) for n in range(count)]


def _digest(tag: str, entries=None, date_line: str | None = "Mar 12", header=None, tail=(), separator="\n\n"):
    """Text of a digest, its block count, and its entries."""
    entries = _entries(tag) if entries is None else entries
    blocks = list(HEADER if header is None else header)
    if date_line is not None:
        blocks.append(date_line)
    for title, text in entries:
        blocks += [title, text]
    blocks += list(tail)
    return separator.join(blocks), len(blocks), entries


def _text_case(name, tag, encoding="utf-8", newline="\n", prefix=b"", expected_encoding=None, **kwargs) -> Case:
    text, blocks, entries = _digest(tag, **kwargs)
    raw = prefix + text.replace("\n", newline).encode(encoding)
    return Case(name, raw, "ok", entries, [], blocks, expected_encoding or encoding)


def _png() -> bytes:
    """A real 2x2 PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(pixels))
        + chunk(b"IEND", b"")
    )


HOSTILE_TITLES = [
    "'; DROP TABLE papers; --",
    "<script>alert(1)</script> & <b>bold</b>",
    "\u202bRight-to-left \u05e9\u05dc\u05d5\u05dd marks\u200f and \u200eback",
    "Emoji \U0001f680\U0001f525 paper \U0001f469\u200d\U0001f52c with flags \U0001f1eb\U0001f1f7",
    'Quotes "double" \'single\' and a backslash \\ and $dollar $1',
]


def build_cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = [
        Case("empty.txt", b"", "empty"),
        Case("random.txt", bytes(rng.getrandbits(8) for _ in range(20_000)), "binary", reasons=["binary_file"], blocks=1),
        Case("image.png", _png(), "binary", reasons=["binary_file"], blocks=1),
        _text_case("latin1.txt", "Latin-1 caf\u00e9 na\u00efve \u00e0 la r\u00e9sum\u00e9 \u00a9", "latin-1", expected_encoding="cp1252"),
        _text_case("cp1252.txt", "Windows \u201csmart\u201d quotes \u2013 dash \u2026 \u20ac", "cp1252"),
        _text_case("utf16.txt", "UTF-16 \u00fcber \u4e2d\u6587", "utf-16", expected_encoding="utf-16-le-bom"),
        _text_case("utf8bom.txt", "UTF-8 BOM \u00e9t\u00e9", prefix=b"\xef\xbb\xbf", expected_encoding="utf-8-bom"),
        _text_case("crlf.txt", "CRLF", newline="\r\n"),
        _text_case("cr.txt", "CR-only", newline="\r"),
        _text_case("blank-runs.txt", "Blank runs", separator="\n" * 6),
        _text_case("no-header.txt", "No header", header=[]),
        _text_case("hostile-titles.txt", "", entries=[(title, abstract(f"hostile {n}")) for n, title in enumerate(HOSTILE_TITLES)]),
    ]
    # CR-only and blank runs: the title lines are those of the LF text the test wrote.
    for case in cases:
        if case.name in ("crlf.txt", "cr.txt", "blank-runs.txt"):
            separator_lines = 6 if case.name == "blank-runs.txt" else 2
            case.lines = [1 + separator_lines * (5 + 2 * n) for n in range(len(case.entries))]

    # NUL bytes in one title: that block and its orphaned abstract are rejected.
    nul_entries = _entries("NUL")
    text, blocks, _ = _digest("NUL", entries=[nul_entries[0], ("NUL\x00 paper in the middle", abstract("nul")), nul_entries[1]])
    cases.append(Case("nul.txt", text.encode(), "ok", nul_entries[:2], ["control_characters", "abstract_without_title"], blocks, "utf-8"))

    # Header only: no date, no entries.
    text, blocks, _ = _digest("Header only", entries=[], date_line=None)
    cases.append(Case("header-only.txt", text.encode(), "undated", [], [], blocks, "utf-8"))

    # No date line: every entry block is kept in rejects, not dropped.
    text, blocks, entries = _digest("No date", date_line=None)
    cases.append(Case("no-date.txt", text.encode(), "undated", [], ["undated_digest"] * 2 * len(entries), blocks, "utf-8"))

    # Feb 30: the date line itself is rejected, and the digest is undated.
    text, blocks, entries = _digest("Feb 30", date_line="Feb 30")
    cases.append(Case("feb30.txt", text.encode(), "undated", [], ["invalid_date"] + ["undated_digest"] * 2 * len(entries), blocks, "utf-8"))

    # A title with no abstract at the end of the file.
    text, blocks, entries = _digest("Last title", tail=["Last title paper with no abstract"])
    cases.append(Case("no-abstract-at-end.txt", text.encode(), "ok", entries, ["title_without_abstract"], blocks, "utf-8"))

    # A truncated last abstract: the capture was cut off mid-sentence.
    text, blocks, entries = _digest("Truncated", tail=["Truncated paper cut off", "We study how captures are cut o"])
    cases.append(Case("truncated.txt", text.encode(), "ok", entries, ["truncated_entry"] * 2, blocks, "utf-8"))

    # Documented normalization: NFC, trailing whitespace stripped, title trimmed.
    text, blocks, entries = _digest("Normal", entries=[("  Cafe\u0301 normalization paper   ", abstract("nfd") + "   ")])
    cases.append(Case("normalization.txt", text.encode(), "ok", [("Caf\u00e9 normalization paper", abstract("nfd"))], [], blocks, "utf-8"))

    # A single 10 MB line where an abstract is due (with links inside, for the link reader):
    # over the abstract bound, so its entry is rejected whole, the line kept in rejects.
    line = ten_mb_line()
    after = _entries("After the big line", 1)
    text, blocks, _ = _digest("Big", entries=[("Ten megabyte line paper", line), *after])
    cases.append(Case("ten-mb-line.txt", text.encode(), "ok", after, ["oversized_entry"] * 2, blocks, "utf-8"))

    # File names: spaces, non-ASCII, leading dashes.
    for name in ("with spaces in name.txt", "caf\u00e9 \u2013 \u00fcml\u00e4ut \u4e2d.txt", "-rf --help.txt", "--.txt"):
        cases.append(_text_case(name, f"Named {name}"))
    return cases


# Written outside the digests directory, reached only through a symbolic link.
OUTSIDE_TITLE = "Secret outside paper that must not be read"
# A file name whose bytes are not UTF-8: listed with \xNN, recorded as unreadable.
NON_UTF8_NAME = b"latin1-name-\xe9.txt"


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    digests = root / "raw"
    digests.mkdir()
    cases = build_cases()
    for case in cases:
        (digests / case.name).write_bytes(case.raw)
    outside_text, _, _ = _digest("Outside", entries=[(OUTSIDE_TITLE, abstract("outside"))])
    (root / "outside.txt").write_text(outside_text)
    (digests / "outside-link.txt").symlink_to(root / "outside.txt")
    with open(os.path.join(os.fsencode(digests), NON_UTF8_NAME), "wb") as handle:
        handle.write(_digest("Non-UTF-8 name")[0].encode())
    settings = Settings(root / "warehouse", digests, None)
    build_warehouse(settings)
    return settings, {case.name: case for case in cases}


@pytest.fixture(scope="session")
def hostile_cli(hostile):
    """`papertrends build` (Dagster) in this process on the same files, then with --strict."""
    settings, _ = hostile
    cli_settings = Settings(settings.warehouse_dir.parent / "cli-warehouse", settings.digests_dir, None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PAPERTRENDS_WAREHOUSE_DIR", str(cli_settings.warehouse_dir))
        patch.setenv("PAPERTRENDS_DIGESTS_DIR", str(cli_settings.digests_dir))
        # Unset, so the CLI makes <warehouse>/dagster_home; set then deleted, so it is unset again after.
        patch.setenv("DAGSTER_HOME", "")
        patch.delenv("DAGSTER_HOME")
        outputs, tables = [], []
        for argv in (["build"], ["build", "--strict"]):
            stdout, stderr = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                code = cli.main(argv)
            outputs.append((code, stdout.getvalue(), stderr.getvalue()))
            tables.append({table: read_table(cli_settings.layout, table) for table in TABLES})
    return cli_settings, outputs, tables


def _digest_rows(settings) -> dict[str, dict]:
    return {row["source_name"]: row for row in rows(settings.layout, "digests")}


def _entries_of(settings, source_name) -> list[dict]:
    """Title, abstract and line of each appearance of a digest, in position order."""
    with connect_readonly(settings.layout.duckdb_path) as con:
        cursor = con.execute(
            """
            SELECT p.title, p.abstract, a.line
            FROM appearances a JOIN papers p USING (paper_id) JOIN digests d USING (digest_id)
            WHERE d.source_name = $name
            ORDER BY a.position
            """,
            {"name": source_name},
        )
        return [dict(zip(("title", "abstract", "line"), row, strict=False)) for row in cursor.fetchall()]


def _rejects_of(settings, source_name) -> list[dict]:
    return [row for row in rows(settings.layout, "rejects") if row["source_name"] == source_name]


@pytest.mark.parametrize("name", [case.name for case in build_cases()])
def test_each_case_gives_its_entries_rejects_and_status(hostile, name):
    settings, cases = hostile
    case = cases[name]
    digest = _digest_rows(settings)[name]
    assert digest["status"] == case.status
    assert digest["encoding"] == case.encoding
    assert digest["byte_size"] == len(case.raw)
    assert digest["block_count"] == case.blocks
    assert digest["entry_count"] == len(case.entries)
    # Byte for byte: what the test wrote is what the tables hold.
    stored = _entries_of(settings, name)
    assert [(entry["title"], entry["abstract"]) for entry in stored] == case.entries
    if case.lines:
        assert [entry["line"] for entry in stored] == case.lines
    assert [reject["reason"] for reject in _rejects_of(settings, name)] == case.reasons
    assert (digest["error"] is None) == (case.status == "ok")


def test_binary_files_keep_their_first_bytes_in_rejects(hostile):
    settings, cases = hostile
    for name in ("random.txt", "image.png"):
        (reject,) = _rejects_of(settings, name)
        raw = cases[name].raw
        assert reject["raw_text"].encode("latin-1") == raw[:4096]
        assert reject["line"] == 1 and reject["detail"] == f"first {min(len(raw), 4096)} of {len(raw)} bytes, as Latin-1"


def test_rejected_blocks_keep_their_text(hostile):
    """No date or an impossible one: every title and abstract is in rejects, word for word."""
    settings, _ = hostile
    for name, tag, date_line in (("no-date.txt", "No date", None), ("feb30.txt", "Feb 30", "Feb 30")):
        expected = [text for entry in _entries(tag) for text in entry]
        if date_line:
            expected.insert(0, date_line)
        assert [reject["raw_text"] for reject in _rejects_of(settings, name)] == expected
    nul = [reject["raw_text"] for reject in _rejects_of(settings, "nul.txt")]
    assert nul == ["NUL\x00 paper in the middle", abstract("nul")]
    truncated = [reject["raw_text"] for reject in _rejects_of(settings, "truncated.txt")]
    assert truncated == ["Truncated paper cut off", "We study how captures are cut o"]


def test_every_block_of_every_digest_is_accounted_for(hostile):
    settings, _ = hostile
    digests = rows(settings.layout, "digests")
    rejects = Counter(row["source_name"] for row in rows(settings.layout, "rejects"))
    appearances = Counter(row["digest_id"] for row in rows(settings.layout, "appearances"))
    assert {row["status"] for row in digests} <= set(DIGEST_STATUSES)
    assert set(rejects) <= {row["source_name"] for row in digests}
    assert {row["reason"] for row in rows(settings.layout, "rejects")} <= set(REJECT_REASONS)
    for digest in digests:
        dated = digest["date_line"] is not None
        accounted = digest["header_block_count"] + dated + 2 * digest["entry_count"] + digest["reject_count"]
        assert accounted == digest["block_count"], digest["source_name"]
        assert rejects[digest["source_name"]] == digest["reject_count"]
        assert appearances[digest["digest_id"]] == digest["entry_count"]
    for name in list_digest_files(settings.digests_dir):
        path = settings.digests_dir / name
        if "\\x" not in name and path.stat().st_size < 2**20:  # the non-UTF-8 name is never read
            parsed = parse_digest(path.read_bytes(), name)
            assert parsed.accounted_blocks == parsed.block_count


def test_a_10_mb_line_is_kept_whole_in_rejects_and_its_links_are_read(hostile):
    settings, _ = hostile
    line = ten_mb_line()
    kept = [row["raw_text"] for row in rows(settings.layout, "rejects") if row["source_name"] == "ten-mb-line.txt"]
    assert kept == ["Ten megabyte line paper", line]
    expected = sorted({word.rstrip(".") for word in line.split() if word.startswith("https://")})
    assert len(expected) > 150
    assert sorted(link.url for link in extract_links(line)) == expected


def test_the_run_goes_on_past_every_bad_file(hostile):
    settings, cases = hostile
    digests = _digest_rows(settings)
    assert set(digests) == {*cases, "outside-link.txt", NON_UTF8_NAME.decode("utf-8", "backslashreplace")}
    good = [name for name, case in cases.items() if case.status == "ok"]
    assert sum(len(cases[name].entries) for name in good) == len(rows(settings.layout, "appearances"))


def test_a_symlink_leading_outside_is_refused_and_recorded(hostile):
    settings, _ = hostile
    digest = _digest_rows(settings)["outside-link.txt"]
    assert digest["status"] == "unreadable"
    assert "symbolic link leads outside the digests directory" in digest["error"]
    assert digest["entry_count"] == 0 and digest["byte_size"] == 0
    for table in TABLES:
        assert OUTSIDE_TITLE not in str(rows(settings.layout, table))


def test_a_file_name_that_is_not_utf8_is_recorded_unreadable(hostile):
    settings, _ = hostile
    digest = _digest_rows(settings)["latin1-name-\\xe9.txt"]
    assert digest["status"] == "unreadable"
    assert "not valid UTF-8" in digest["error"]


def test_hostile_titles_are_data_in_sql_and_parquet(hostile):
    settings, _ = hostile
    with connect_readonly(settings.layout.duckdb_path) as con:
        for title in HOSTILE_TITLES:
            found = con.execute("SELECT title FROM papers WHERE title = $title", {"title": title}).fetchall()
            assert found == [(title,)]
        # The "DROP TABLE" title dropped nothing: every view still answers.
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == len(rows(settings.layout, "papers"))


def test_papertrends_build_gives_the_same_tables_on_hostile_input(hostile, hostile_cli):
    settings, _ = hostile
    cli_settings, _, _ = hostile_cli
    for table in TABLES:
        expected = read_table(settings.layout, table)
        got = read_table(cli_settings.layout, table)
        if "ingested_at" in expected.column_names:
            expected, got = expected.drop_columns(["ingested_at"]), got.drop_columns(["ingested_at"])
        assert got.equals(expected), table


def test_papertrends_build_reports_rejections_and_strict_fails(hostile, hostile_cli):
    settings, cases = hostile
    _, [(code, stdout, stderr), (strict_code, strict_stdout, strict_stderr)], _ = hostile_cli
    digests = rows(settings.layout, "digests")
    bad_digests = sum(row["status"] not in ("ok", "duplicate") for row in digests)
    bad_blocks = len(rows(settings.layout, "rejects"))
    assert bad_digests == sum(case.status != "ok" for case in cases.values()) + 2  # + the link and the non-UTF-8 name
    message = f"rejected {bad_digests} digest(s) and {bad_blocks} block(s)"
    assert code == 0 and stderr == ""
    assert f"papertrends: {message} (see the digests and rejects tables)" in stdout.splitlines()
    assert strict_code == 1
    assert f"papertrends: {message}" in strict_stdout
    assert strict_stderr.strip() == f"papertrends: --strict: {message}"


def test_a_second_papertrends_build_leaves_identical_tables(hostile_cli):
    """Idempotency through Dagster: same contents, ingested_at and row order."""
    _, _, (first, second) = hostile_cli
    for table in TABLES:
        assert second[table].equals(first[table]), table


def test_papertrends_build_strict_passes_on_clean_input(tmp_path, monkeypatch, capsys):
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "clean.txt").write_text(_digest("Clean")[0])
    monkeypatch.setenv("PAPERTRENDS_WAREHOUSE_DIR", str(tmp_path / "warehouse"))
    monkeypatch.setenv("PAPERTRENDS_DIGESTS_DIR", str(digests))
    monkeypatch.setenv("DAGSTER_HOME", "")
    monkeypatch.delenv("DAGSTER_HOME")
    assert cli.main(["build", "--strict"]) == 0
    assert "papertrends: rejected 0 digest(s) and 0 block(s)" in capsys.readouterr().out


@pytest.mark.slow
def test_a_50_mb_digest(tmp_path):
    entries = [(f"Fifty megabyte digest paper {n}", abstract(f"big {n}", 30)) for n in range(26_000)]
    text, blocks, _ = _digest("Fifty", entries=entries)
    raw = text.encode()
    assert len(raw) > 50 * 10**6
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "fifty-mb.txt").write_bytes(raw)
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    (digest,) = rows(settings.layout, "digests")
    assert (digest["status"], digest["entry_count"], digest["block_count"]) == ("ok", 26_000, blocks)
    papers = read_table(settings.layout, "papers").sort_by("paper_id")
    expected = sorted(entries)
    assert sorted(zip(papers["title"].to_pylist(), papers["abstract"].to_pylist(), strict=False)) == expected


_UNREADABLE_BUILD = """
import os, sys
from pathlib import Path
from pipeline.build import build_warehouse
from pipeline.config import Settings
warm_up, warehouse, digests, uid, gid = sys.argv[1:]
if uid:
    # The interpreter lives under /root, which `nobody` cannot read: a warm-up build as
    # root loads every module first, then the process drops to `nobody` for good.
    build_warehouse(Settings(Path(warm_up), Path(digests) / "warm-up", None))
    os.setgroups([])
    os.setgid(int(gid))
    os.setuid(int(uid))
    assert os.getuid() == int(uid) and os.geteuid() == int(uid)
build_warehouse(Settings(Path(warehouse), Path(digests), None))
"""


@pytest.mark.slow
def test_a_file_without_read_permission_is_recorded_unreadable():
    """chmod 000 stops no one as root: as root, the build drops to `nobody` (for real)."""
    uid = gid = ""
    if os.geteuid() == 0:
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root and no `nobody` user to drop to")
        uid, gid = str(nobody.pw_uid), str(nobody.pw_gid)
    # Not pytest's tmp_path: that is private to its owner, and `nobody` must reach the files.
    with tempfile.TemporaryDirectory(prefix="papertrends-permission-") as directory:
        root = Path(directory)
        root.chmod(0o755)
        digests = root / "raw"
        (digests / "warm-up").mkdir(parents=True)
        (digests / "warm-up" / "warm-up.txt").write_text(_digest("Warm-up")[0])
        (digests / "readable.txt").write_text(_digest("Readable")[0])
        locked = digests / "locked.txt"
        locked.write_text(_digest("Locked")[0])
        locked.chmod(0o000)
        warehouse = root / "warehouse"
        warehouse.mkdir()
        warehouse.chmod(0o777)
        command = [sys.executable, "-c", _UNREADABLE_BUILD, str(root / "warm-up-warehouse"), str(warehouse), str(digests), uid, gid]
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
        assert completed.returncode == 0, completed.stderr
        settings = Settings(warehouse, digests, None)
        digests_rows = _digest_rows(settings)
        # The sub-directory is an entry of the digests directory too: recorded, not read.
        assert set(digests_rows) == {"readable.txt", "locked.txt", "warm-up"}
        assert digests_rows["warm-up"]["status"] == "unreadable" and "a directory" in digests_rows["warm-up"]["error"]
        assert (digests_rows["readable.txt"]["status"], digests_rows["readable.txt"]["entry_count"]) == ("ok", 3)
        locked_row = digests_rows["locked.txt"]
        assert locked_row["status"] == "unreadable"
        assert "Permission denied" in locked_row["error"]
        assert len(rows(settings.layout, "appearances")) == 3
