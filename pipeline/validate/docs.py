"""Data Docs: a small static HTML site of the latest validation of each table, and a short history.

<warehouse>/validation/index.html lists every check; each check has a page
(<name>.html) and its data as JSON (results/<name>.json: the latest result and the
recent runs). A check's page is rewritten only when the check runs, so it always
describes the last validation of its table as a whole. Pages come from Jinja2
templates with autoescape on: titles and abstracts may hold markup. (GX's own Data
Docs insert unexpected values unescaped and load scripts from CDNs, so they are not used.)
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pipeline.store.atomic import write_text
from pipeline.validate.cross_checks import WARNING_CHECKS
from pipeline.validate.results import CheckResult

# Runs kept in a check's history.
HISTORY_RUNS = 20
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_SHOWN_CHARS = 300


def _shorten(value: object) -> str:
    text = "null" if value is None else str(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 1] + "…"


def _json(value: object) -> str:
    # JSON-quoted, so an empty string or a value with spaces at its ends shows as such.
    return json.dumps(value, ensure_ascii=False, default=str)


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.validate"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)
_TEMPLATES.filters.update(shorten=_shorten, json=_json)


@dataclass(frozen=True)
class CheckPage:
    latest: CheckResult
    history: list[dict]  # newest first: validated_at, success, row_count, rules_failed


def page_path(validation_dir: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a check name: {name!r}")
    return validation_dir / f"{name}.html"


def index_path(validation_dir: Path) -> Path:
    return validation_dir / "index.html"


def _data_path(validation_dir: Path, name: str) -> Path:
    return validation_dir / "results" / page_path(validation_dir, name).with_suffix(".json").name


def read_page(validation_dir: Path, name: str) -> CheckPage | None:
    try:
        data = json.loads(_data_path(validation_dir, name).read_text(encoding="utf-8"))
        return CheckPage(CheckResult.from_dict(data["latest"]), list(data["history"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def render_check_page(page: CheckPage) -> str:
    return _TEMPLATES.get_template("check.html").render(latest=page.latest, history=page.history, warnings=set(WARNING_CHECKS))


def render_index(pages: list[CheckPage]) -> str:
    return _TEMPLATES.get_template("index.html").render(pages=pages, warnings=set(WARNING_CHECKS))


def write_result(validation_dir: Path, result: CheckResult) -> Path:
    """Record a check's result: its JSON and page, then the index. Returns the page's path."""
    previous = read_page(validation_dir, result.name)
    run = {
        "validated_at": result.validated_at,
        "success": result.success,
        "row_count": result.row_count,
        "rules_failed": len(result.failures),
    }
    page = CheckPage(result, [run, *(previous.history if previous else [])][:HISTORY_RUNS])
    write_text(_data_path(validation_dir, result.name), json.dumps({"latest": result.to_dict(), "history": page.history}, indent=1, ensure_ascii=False))
    path = page_path(validation_dir, result.name)
    write_text(path, render_check_page(page))
    write_index(validation_dir)
    return path


def write_index(validation_dir: Path) -> Path:
    names = sorted(path.stem for path in (validation_dir / "results").glob("*.json") if _NAME.fullmatch(path.stem))
    pages = [page for page in (read_page(validation_dir, name) for name in names) if page is not None]
    # The tables' suites first, the checks across tables last.
    pages.sort(key=lambda page: (page.latest.row_count is None, page.latest.name))
    target = index_path(validation_dir)
    write_text(target, render_index(pages))
    return target
