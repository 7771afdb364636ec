"""What produced a staged parse or a published build, derived from the code itself.

A parse is redone when the reading code changed, and a build is redone when any of
the pipeline's code changed: both are told by a hash of the source files, so no
version constant has to be remembered when the code changes. The published
`parser_version` column keeps the release's version (pipeline.PARSER_VERSION).
"""

import functools
import hashlib
from pathlib import Path

import pipeline

_PIPELINE_DIR = Path(pipeline.__file__).resolve().parent


# What a staged parse is made by, relative to pipeline/: the readers, the staged rows
# built from them (store/parse.py), which files are refused unread (store/digest_files.py)
# and the parser_version written into every row (pipeline/__init__.py).
PARSE_SOURCES = ("read", "store/parse.py", "store/digest_files.py", "__init__.py")


def _sources_hash(directory: Path, sources: tuple[str, ...] = ("",)) -> str:
    digest = hashlib.sha256()
    for source in sources:
        top = directory / source
        for path in sorted(top.rglob("*.py")) if top.is_dir() else [top]:
            digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def parser_fingerprint(pipeline_dir: Path = _PIPELINE_DIR) -> str:
    """The code that makes a staged parse (PARSE_SOURCES): a change re-parses every digest."""
    return _sources_hash(pipeline_dir, PARSE_SOURCES)


@functools.cache
def terms_fingerprint() -> str:
    """The term rules (pipeline/topics/): a change re-tokenizes every paper."""
    return _sources_hash(_PIPELINE_DIR / "topics")


@functools.cache
def code_fingerprint() -> str:
    """All of pipeline/: a change rebuilds the tables even when no digest changed."""
    return _sources_hash(_PIPELINE_DIR)
