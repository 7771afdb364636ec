"""The result of a check, in plain JSON-ready values: what the Data Docs and Dagster show."""

import datetime as dt
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Unexpected values and offending rows kept per failed rule.
SAMPLE_SIZE = 5


def plain(value: Any) -> Any:
    """A value as JSON-ready data: dates ISO, missing values None, numpy scalars as Python's."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def describe_files(paths: list[Path], root: Path | None = None) -> str:
    """Files of one directory for a person: where, and which (relative to `root` if given)."""
    if not paths:
        return "no files"
    directory = paths[0].parent
    where = directory.relative_to(root) if root is not None and directory.is_relative_to(root) else directory
    names = paths[0].name if len(paths) == 1 else f"{len(paths)} files, {paths[0].name} to {paths[-1].name}"
    return f"{where}/: {names}"


def now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class RuleResult:
    """One rule of a check: whether it holds, and a few of the values and rows that break it."""

    rule: str  # the rule in words
    check: str  # what evaluates it: a GX expectation type, or a cross-table check's name
    success: bool
    columns: list[str] = field(default_factory=list)
    evaluated: int | None = None
    unexpected_count: int | None = None
    unexpected_values: list = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    error: str | None = None  # the rule could not be evaluated


@dataclass(frozen=True)
class CheckResult:
    name: str  # the Dagster check's name, e.g. papers_expectations
    title: str
    source: str  # the files validated, for a person
    row_count: int | None  # rows of the table validated (None across tables)
    rules: list[RuleResult]
    build_key: str | None = None  # the build whose tables were validated
    validated_at: str = field(default_factory=now)

    @property
    def success(self) -> bool:
        return all(rule.success for rule in self.rules)

    @property
    def failures(self) -> list[RuleResult]:
        return [rule for rule in self.rules if not rule.success]

    def to_dict(self) -> dict:
        return {**asdict(self), "success": self.success}

    @classmethod
    def from_dict(cls, data: dict) -> "CheckResult":
        rules = [RuleResult(**rule) for rule in data["rules"]]
        return cls(
            data["name"], data["title"], data["source"], data["row_count"], rules, data["build_key"], data["validated_at"]
        )
