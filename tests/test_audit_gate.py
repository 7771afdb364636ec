"""The write-audit-publish gate: only candidates that every required check approved, as they are now, are published.

Each test works on a copy of the hand-made history's warehouse (tests/history_corpus.py:
small, two months, every table with rows). A copy's files have new inodes, so its published
record no longer matches them and consolidation writes candidates again; the checks'
approvals are recorded as a passing check records them (pipeline.store.publish.record_check),
except where a test says the checks themselves run.
"""

import hashlib
import json
import os
import re
import shutil

import duckdb
import pytest

from pipeline.build import REQUIRED_CHECKS, consolidate_tables, publish, stage, validate
from pipeline.config import Settings
from pipeline.serve.trends_db import built_from
from pipeline.store.publish import (
    UncheckedCandidates,
    check_publishable,
    published_record,
    read_manifest,
    record_check,
    unapproved,
)
from tests.helpers import UTC_SECONDS
from tests.history_corpus import history_rows
from tests.rule_texts import REQUIRED_CHECK_NAMES

CHECKS = REQUIRED_CHECK_NAMES
# The history spans March and April 2026: a file per month of the tables split by month
# (April has one paper, with no link), one part-0 file of the others.
CANDIDATE_FILES = [
    "digests/part-0.parquet",
    "papers/2026-03.parquet",
    "papers/2026-04.parquet",
    "appearances/2026-03.parquet",
    "appearances/2026-04.parquet",
    "repo_links/2026-03.parquet",
    "rejects/part-0.parquet",
    "repo_stars/part-0.parquet",
    "paper_terms/2026-03.parquet",
    "paper_terms/2026-04.parquet",
]
# A file of each table is changed in turn: every file is approved the same way, through its
# signature in the manifest (the April files as the March ones).
CHANGED_FILES = [name for name in CANDIDATE_FILES if "2026-04" not in name]
NO_MANIFEST = "there are no candidate tables (or their manifest is unreadable): consolidate first"


def _not_current(check: str) -> str:
    return f"{check} did not pass on the current candidates"


def _not_passed(check: str) -> str:
    return f"{check} has not passed"


@pytest.fixture
def warehouse(history, tmp_path) -> Settings:
    """A copy of the history's warehouse with its tables consolidated as candidates (no approvals yet)."""
    target = tmp_path / "warehouse"
    shutil.copytree(history.warehouse_dir, target, ignore=shutil.ignore_patterns(".papertrends.lock"), symlinks=True)
    # A candidate left by a run that crashed: consolidating starts from an empty candidates directory.
    leftover = target / "staging" / "candidates" / "papers" / "2020-01.parquet"
    leftover.parent.mkdir(parents=True, exist_ok=True)
    leftover.write_bytes(b"left by a crashed run")
    settings = Settings(target, history.digests_dir, None)
    candidates = consolidate_tables(settings)
    assert candidates is not None, "the copy should have been consolidated anew"
    assert sorted(f"{table}/{path.name}" for table, paths in candidates.files.items() for path in paths) == sorted(CANDIDATE_FILES)
    # Rows summed over each table's files (papers and appearances: one per month).
    assert candidates.rows == history_rows(candidates.files["paper_terms"])
    directory = settings.layout.candidates_dir
    assert sorted(str(path.relative_to(directory)) for path in directory.glob("*/*.parquet")) == sorted(CANDIDATE_FILES)
    return settings


def _approve_all(settings: Settings) -> None:
    # The manifest's bytes as they are, readable or not.
    manifest_sha256 = hashlib.sha256(_manifest_file(settings).read_bytes()).hexdigest()
    for check in CHECKS:
        record_check(settings.layout, check, manifest_sha256)


def _manifest_file(settings: Settings):
    return settings.layout.root / "staging" / "candidates" / "manifest.json"


def _approval_file(settings: Settings, check: str):
    return settings.layout.root / "staging" / "candidates" / "approvals" / f"{check}.json"


def _file_state(path):
    stat = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns, stat.st_ino


def _published_state(settings: Settings) -> dict:
    """Every published file (parquet/ with its published record, trends.duckdb) with its bytes and signature."""
    root = settings.layout.root
    files = sorted((root / "parquet").rglob("*")) + [root / "trends.duckdb"]
    state = {str(path.relative_to(root)): _file_state(path) if path.is_file() else "directory" for path in files}
    state["root entries"] = sorted(path.name for path in root.iterdir())
    return state


def _assert_refused(settings: Settings, before: dict, named: str) -> None:
    with pytest.raises(UncheckedCandidates, match="refusing to publish") as refused:
        publish(settings)
    assert named in str(refused.value)
    assert _published_state(settings) == before, "nothing may be published"
    assert _manifest_file(settings).is_file()  # the candidates wait where they were


def test_the_required_checks_are_the_eight():
    assert REQUIRED_CHECKS == CHECKS


def test_a_passing_check_approves_the_manifest_by_its_sha256_at_a_utc_time(warehouse):
    manifest_sha256 = hashlib.sha256(_manifest_file(warehouse).read_bytes()).hexdigest()
    record_check(warehouse.layout, CHECKS[0], manifest_sha256)
    approval = json.loads(_approval_file(warehouse, CHECKS[0]).read_text())
    assert sorted(approval) == ["approved_at", "manifest_sha256"]
    assert approval["manifest_sha256"] == manifest_sha256
    assert re.fullmatch(UTC_SECONDS, approval["approved_at"]), approval


@pytest.mark.whole_build  # every check, GX's included
def test_after_every_check_passes_publishing_works(warehouse):
    layout = warehouse.layout
    manifest_bytes = _manifest_file(warehouse).read_bytes()
    manifest = json.loads(manifest_bytes)
    candidates = {name: _file_state(layout.root / "staging" / "candidates" / name)[0] for name in CANDIDATE_FILES}
    assert unapproved(layout, CHECKS) == [_not_passed(check) for check in CHECKS]

    results = validate(warehouse)
    # A warning never blocks: the history gives one paper two arXiv ids (2603.00001, then 2603.00002).
    assert [(result.name, result.success) for result in results] == [
        *((check, True) for check in CHECKS), ("markup_titles", True), ("arxiv_id_conflicts", False)
    ]
    for check in CHECKS:  # the approval file's form: test_a_passing_check_approves_the_manifest_by_its_sha256_at_a_utc_time
        approval = json.loads(_approval_file(warehouse, check).read_text())
        assert approval["manifest_sha256"] == hashlib.sha256(manifest_bytes).hexdigest()
    assert unapproved(layout, CHECKS) == []

    assert publish(warehouse) is True
    expected = history_rows(layout.table_files("paper_terms"))
    assert expected["paper_terms"] > 0
    published = {f"{path.parent.name}/{path.name}": _file_state(path)[0] for path in sorted((layout.root / "parquet").rglob("*.parquet"))}
    assert published == candidates  # exactly the approved files, unchanged
    assert not (layout.root / "staging" / "candidates").exists()
    record = published_record(layout)
    assert (record.build_key, record.rows) == (manifest["build_key"], expected)
    assert re.fullmatch(UTC_SECONDS, record.published_at), record
    assert built_from(layout.root / "trends.duckdb")[0] == manifest["build_key"]
    with duckdb.connect(str(layout.root / "trends.duckdb"), read_only=True) as con:
        counts = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in expected}
    assert counts == expected


# --- a candidate changed after its checks passed ------------------------------------------------


def _rewrite_same_size(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    with open(path, "r+b") as file:  # in place: the same inode
        file.write(data)


def _append_a_byte(path):
    with open(path, "ab") as file:
        file.write(b"\0")


def _replace_by_rename(path):
    other = path.with_name(f".{path.name}.other")
    other.write_bytes(path.read_bytes())  # the same bytes, another file
    os.replace(other, path)


def _utime(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 1_000_000_000))  # as a copy keeping times would


TAMPERS = {
    "rewritten, same size": _rewrite_same_size,
    "a byte appended": _append_a_byte,
    "replaced by rename": _replace_by_rename,
    "utime": _utime,
}


@pytest.mark.parametrize("tamper", TAMPERS)
@pytest.mark.parametrize("name", CHANGED_FILES)
def test_a_candidate_changed_after_approval_is_refused(warehouse, name, tamper):
    layout = warehouse.layout
    _approve_all(warehouse)
    assert unapproved(layout, CHECKS) == []
    before = _published_state(warehouse)
    path = layout.root / "staging" / "candidates" / name
    old = _file_state(path)

    TAMPERS[tamper](path)
    new = _file_state(path)
    # The tamper did what it says (state: sha256, size, mtime, inode).
    expected_differences = {
        "rewritten, same size": (True, False, None, False),
        "a byte appended": (True, True, None, False),
        "replaced by rename": (False, False, None, True),
        "utime": (False, False, True, False),
    }[tamper]
    for index, differs in enumerate(expected_differences):
        if differs is not None:
            assert (old[index] != new[index]) is differs, (tamper, old, new)

    assert unapproved(layout, CHECKS) == [f"candidate {name} changed after it was written"]
    _assert_refused(warehouse, before, name)


@pytest.mark.parametrize("name", CHANGED_FILES)
def test_a_candidate_deleted_after_approval_is_refused(warehouse, name):
    _approve_all(warehouse)
    before = _published_state(warehouse)
    (warehouse.layout.root / "staging" / "candidates" / name).unlink()
    assert unapproved(warehouse.layout, CHECKS) == [f"candidate {name} changed after it was written"]
    _assert_refused(warehouse, before, name)


# --- the manifest changed after approval ---------------------------------------------------------


def _add_a_file(settings, manifest):
    extra = settings.layout.root / "staging" / "candidates" / "papers" / "2026-05.parquet"
    shutil.copyfile(extra.with_name("2026-03.parquet"), extra)
    stat = extra.stat()
    manifest["files"]["papers"]["2026-05.parquet"] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
    return json.dumps(manifest, indent=1, sort_keys=True)


def _remove_a_file(settings, manifest):
    del manifest["files"]["repo_links"]["2026-03.parquet"]
    return json.dumps(manifest, indent=1, sort_keys=True)


def _reformat(settings, manifest):
    return json.dumps(manifest, indent=4)  # the same content, other bytes


def _change_rows(settings, manifest):
    manifest["rows"]["papers"] = 10
    return json.dumps(manifest, indent=1, sort_keys=True)


MANIFEST_CHANGES = {
    "a file added": _add_a_file,
    "a file removed": _remove_a_file,
    "reformatted": _reformat,
    "rows changed": _change_rows,
}


@pytest.mark.parametrize("change", MANIFEST_CHANGES)
def test_a_manifest_changed_after_approval_is_refused(warehouse, change):
    _approve_all(warehouse)
    before = _published_state(warehouse)
    manifest_path = _manifest_file(warehouse)
    manifest = json.loads(manifest_path.read_text())
    text = MANIFEST_CHANGES[change](warehouse, manifest)
    assert text.encode() != manifest_path.read_bytes()
    manifest_path.write_text(text)
    assert read_manifest(warehouse.layout) is not None  # a valid manifest, just not the approved one
    assert unapproved(warehouse.layout, CHECKS) == [_not_current(check) for check in CHECKS]
    _assert_refused(warehouse, before, "did not pass on the current candidates")
    assert not (warehouse.layout.root / "parquet" / "papers" / "2026-05.parquet").exists()


# --- a check missing, failed, or approving other candidates -------------------------------------


@pytest.mark.parametrize("check", CHECKS)
def test_a_missing_approval_is_refused(warehouse, check):
    _approve_all(warehouse)
    before = _published_state(warehouse)
    _approval_file(warehouse, check).unlink()
    assert unapproved(warehouse.layout, CHECKS) == [_not_passed(check)]
    _assert_refused(warehouse, before, check)


@pytest.mark.parametrize("check", CHECKS)
def test_a_failed_check_is_refused(warehouse, check):
    _approve_all(warehouse)
    before = _published_state(warehouse)
    record_check(warehouse.layout, check, None)
    assert not _approval_file(warehouse, check).exists()  # its earlier approval is withdrawn
    assert unapproved(warehouse.layout, CHECKS) == [_not_passed(check)]
    _assert_refused(warehouse, before, check)


def test_every_problem_is_named_in_one_refusal(warehouse):
    _approve_all(warehouse)
    for check in ("papers_expectations", "rejects_expectations"):
        record_check(warehouse.layout, check, None)
    with pytest.raises(UncheckedCandidates) as refused:
        check_publishable(warehouse.layout, CHECKS)
    assert str(refused.value) == "refusing to publish: papers_expectations has not passed; rejects_expectations has not passed"


def test_a_check_approves_only_the_manifest_there_is(warehouse):
    layout = warehouse.layout
    check = "papers_expectations"
    record_check(layout, check, None)  # withdrawing an approval never given is no error
    record_check(layout, check, "0" * 64)  # a manifest that is not the candidates'
    assert not _approval_file(warehouse, check).exists()
    _manifest_file(warehouse).unlink()
    record_check(layout, check, hashlib.sha256(b"").hexdigest())  # no manifest at all
    assert not _approval_file(warehouse, check).exists()


@pytest.mark.parametrize("check", CHECKS)
def test_an_approval_of_an_older_manifest_is_refused(warehouse, check):
    _approve_all(warehouse)
    old_manifest = _manifest_file(warehouse).read_bytes()
    old_approval = _approval_file(warehouse, check).read_bytes()
    assert consolidate_tables(warehouse) is not None  # the same tables written again: new files, new manifest
    assert _manifest_file(warehouse).read_bytes() != old_manifest
    _approve_all(warehouse)
    before = _published_state(warehouse)
    _approval_file(warehouse, check).write_bytes(old_approval)
    assert unapproved(warehouse.layout, CHECKS) == [_not_current(check)]
    _assert_refused(warehouse, before, check)


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", _not_passed),
        (b"not json", _not_passed),
        (b"[]", _not_current),
        (b'{"manifest_sha256": null}', _not_current),
        (b'{"manifest_sha256": "' + b"0" * 64 + b'"}', _not_current),
    ],
    ids=["empty", "not json", "a list", "null", "another sha256"],
)
def test_an_approval_that_is_not_one_is_refused(warehouse, content, reason):
    _approve_all(warehouse)
    before = _published_state(warehouse)
    _approval_file(warehouse, "rejects_expectations").write_bytes(content)
    assert unapproved(warehouse.layout, CHECKS) == [reason("rejects_expectations")]
    _assert_refused(warehouse, before, "rejects_expectations")


# --- files the manifest does not name ------------------------------------------------------------


@pytest.mark.whole_build  # every check, GX's included
def test_a_candidate_file_not_in_the_manifest_is_never_published(warehouse):
    layout = warehouse.layout
    papers = layout.root / "staging" / "candidates" / "papers"
    shutil.copyfile(papers / "2026-03.parquet", papers / "2026-02.parquet")  # a readable table file, dropped in
    results = validate(warehouse)  # the checks read the manifest's files, and pass
    assert all(result.success for result in results if result.name in CHECKS)
    assert "2026-02" not in {result.source for result in results if result.name == "papers_expectations"}.pop()
    assert publish(warehouse) is True
    assert sorted(path.name for path in (layout.root / "parquet" / "papers").iterdir()) == ["2026-03.parquet", "2026-04.parquet"]
    with duckdb.connect(str(layout.root / "trends.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] == 9


@pytest.mark.parametrize(
    "name, target",
    [
        ("../../x.parquet", "warehouse/staging/x.parquet"),  # inside the warehouse, outside the candidates
        ("../../../../outside.parquet", "outside.parquet"),  # outside the warehouse
        ("ABSOLUTE", "absolute.parquet"),  # an absolute path (pathlib joins it as itself)
        ("sub/2026-05.parquet", "warehouse/staging/candidates/papers/sub/2026-05.parquet"),
        ("2026-04.parquet/../../../../../outside.parquet", "outside.parquet"),
        ("2026-13-01.parquet", "warehouse/staging/candidates/papers/2026-13-01.parquet"),  # a name, but no part's
    ],
)
def test_a_manifest_naming_a_path_is_refused_and_nothing_outside_is_touched(warehouse, tmp_path, name, target):
    layout = warehouse.layout
    target = tmp_path / target
    name = str(target) if name == "ABSOLUTE" else name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(layout.root / "staging" / "candidates" / "papers" / "2026-03.parquet", target)  # a real table file
    stat = target.stat()
    manifest = json.loads(_manifest_file(warehouse).read_text())
    # Named with its true signature, so only the name itself can be refused.
    manifest["files"]["papers"][name] = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
    _manifest_file(warehouse).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    _approve_all(warehouse)  # even approved as it is
    before = _published_state(warehouse)
    outside_before = sorted(path.name for path in tmp_path.iterdir())
    target_before = _file_state(target)

    assert read_manifest(layout) is None
    assert unapproved(layout, CHECKS) == [NO_MANIFEST]
    with pytest.raises(UncheckedCandidates):
        check_publishable(layout, CHECKS)
    try:
        published = publish(warehouse)
    except (UncheckedCandidates, FileNotFoundError):  # refused, or nothing taken as candidates
        published = False
    assert published is False
    assert _published_state(warehouse) == before
    assert _file_state(target) == target_before
    assert sorted(path.name for path in tmp_path.iterdir()) == outside_before
    assert not (layout.root / "parquet" / "papers" / target.name).exists()


def test_a_candidate_changed_while_trends_duckdb_is_built_is_refused(warehouse, monkeypatch):
    """The approval holds for the files as they are renamed into place, not only as publishing starts."""
    import pipeline.build

    _approve_all(warehouse)
    before = _published_state(warehouse)
    candidate = warehouse.layout.root / "staging" / "candidates" / "papers" / "2026-03.parquet"
    build = pipeline.build.build_trends_db

    def build_then_tamper(*args, **kwargs):
        build(*args, **kwargs)
        _append_a_byte(candidate)  # after trends.duckdb read it, before the renames

    monkeypatch.setattr(pipeline.build, "build_trends_db", build_then_tamper)
    with pytest.raises(UncheckedCandidates, match="papers/2026-03.parquet"):
        publish(warehouse)
    assert _published_state(warehouse) == before


def test_approved_candidates_of_digests_that_changed_since_are_refused(warehouse, tmp_path):
    """Checked and approved, then a digest removed: publishing them would bring its rows back."""
    _approve_all(warehouse)
    before = _published_state(warehouse)
    digests = tmp_path / "digests"
    shutil.copytree(warehouse.digests_dir, digests)
    removed = sorted(path for path in digests.iterdir() if path.is_file())[-1]
    removed.unlink()
    changed = Settings(warehouse.warehouse_dir, digests, None)
    stage(changed)
    _assert_refused(changed, before, "consolidated from digests that have changed since")
