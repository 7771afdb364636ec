"""What produced a staged parse or a published build, derived from the code itself.

A parse is redone when the reading code changed, and a build is redone when any of
the pipeline's code changed: both are told by a hash of the source files, so no
version constant has to be remembered when the code changes. The hash also holds the
versions of what runs that code (Python, whose Unicode database decides NFKC, casefold
and isalnum; the libraries named), so an upgrade redoes what it may change as a code
change does. The published `parser_version` column keeps the release's version
(pipeline.PARSER_VERSION).
"""

import functools
import hashlib
import importlib.metadata
import platform
from pathlib import Path

import pipeline

_PIPELINE_DIR = Path(pipeline.__file__).resolve().parent


# What a staged parse is made by, relative to pipeline/: the readers, the staged rows
# built from them (store/parse.py), which files are refused unread (store/digest_files.py)
# and the parser_version written into every row (pipeline/__init__.py).
PARSE_SOURCES = ("read", "store/parse.py", "store/digest_files.py", "__init__.py")


def runtime(*libraries: str) -> str:
    """Python's version and each library's installed version, e.g. "python 3.11.9 polars 2.1.0"."""
    return " ".join(
        [f"python {platform.python_version()}", *(f"{name} {importlib.metadata.version(name)}" for name in libraries)]
    )


def _sources_hash(directory: Path, sources: tuple[str, ...], runs_on: str) -> str:
    digest = hashlib.sha256(runs_on.encode() + b"\0")
    for source in sources:
        top = directory / source
        for path in sorted(top.rglob("*.py")) if top.is_dir() else [top]:
            digest.update(path.relative_to(directory).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def parser_fingerprint(pipeline_dir: Path = _PIPELINE_DIR, runs_on: str | None = None) -> str:
    """The code that makes a staged parse (PARSE_SOURCES), and Python (the readers use only
    its standard library): a change re-parses every digest."""
    return _sources_hash(pipeline_dir, PARSE_SOURCES, runs_on or runtime())


@functools.cache
def terms_fingerprint(runs_on: str | None = None) -> str:
    """The term rules (pipeline/topics/) and polars, which applies them: a change re-tokenizes every paper."""
    return _sources_hash(_PIPELINE_DIR / "topics", ("",), runs_on or runtime("polars"))


@functools.cache
def code_fingerprint(runs_on: str | None = None) -> str:
    """All of pipeline/ and the engines that make the tables: a change rebuilds the tables even
    when no digest changed."""
    return _sources_hash(_PIPELINE_DIR, ("",), runs_on or runtime("duckdb", "pyarrow", "polars"))
