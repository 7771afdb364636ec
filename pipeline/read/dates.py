"""The digest date: a date line with no year, plus the rule that finds the year."""

import calendar
import datetime as dt
import re
from dataclasses import dataclass

# With no year in the date line, the file name or PAPERTRENDS_YEAR, the year is
# REFERENCE_YEAR: a constant, so a rebuild on another day or machine gives the same
# dates. Feb 29 takes the latest leap year at or before it.
REFERENCE_YEAR = 2026

DATE_SOURCES = ("date_line", "capture", "file_name", "config", "reference_year")

_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_MONTHS.update({name.lower(): number for number, name in enumerate(calendar.month_name) if name})
_MONTHS["sept"] = 9

_MONTH_DAY = re.compile(
    r"(?P<month>[A-Za-z]{3,9})\.?\s+(?P<day>[0-9]{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<year>[0-9]{4}))?"
)
_DAY_MONTH = re.compile(r"(?P<day>[0-9]{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?(?:,?\s+(?P<year>[0-9]{4}))?")
_ISO = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")
# Not glued to other digits: 12026-03-12 names no date.
_ISO_IN_NAME = re.compile(r"(?<![0-9])([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")


@dataclass(frozen=True)
class DateLine:
    """A block shaped like a date line: month and day, maybe a year."""

    month: int
    day: int
    year: int | None


def parse_date_line(block: str) -> DateLine | None:
    """The date a block states, or None when the block is not shaped like a date.

    A block shaped like a date with an impossible value (Feb 30, month 13) still
    returns a DateLine: the caller rejects it as an invalid date.
    """
    text = block.strip()
    if len(text) > 40 or "\n" in text:
        return None
    if match := _ISO.fullmatch(text):
        return DateLine(int(match["month"]), int(match["day"]), int(match["year"]))
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        if (match := pattern.fullmatch(text)) and match["month"].lower() in _MONTHS:
            year = int(match["year"]) if match["year"] else None
            return DateLine(_MONTHS[match["month"].lower()], int(match["day"]), year)
    return None


def iso_date_in_name(source_name: str) -> dt.date | None:
    for match in _ISO_IN_NAME.finditer(source_name):
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            continue
    return None


def _reference_year_for(month: int, day: int) -> int:
    year = REFERENCE_YEAR
    if (month, day) == (2, 29):
        while not calendar.isleap(year):
            year -= 1
    return year


@dataclass(frozen=True)
class ResolvedDate:
    date: dt.date | None
    source: str | None  # one of DATE_SOURCES, None when unresolved
    error: str | None = None


def _nearest_year(month: int, day: int, capture_day: dt.date) -> int:
    """The year that puts month/day nearest the capture's day (a Dec 31 list captured on Jan 1)."""
    candidates = []
    for year in (capture_day.year - 1, capture_day.year, capture_day.year + 1):
        try:
            candidates.append((abs((dt.date(year, month, day) - capture_day).days), year))
        except ValueError:  # Feb 29 in a year that has none
            continue
    return min(candidates)[1] if candidates else capture_day.year


def resolve_date(
    line: DateLine | None, source_name: str, config_year: int | None, capture_day: dt.date | None = None
) -> ResolvedDate:
    """Apply the year rule (docs/contract.md): date line, capture, file name, configuration, reference year.

    `capture_day` is the day the capture itself states (a list's URL, a retrieval time,
    the JSON's submittedOnDailyAt), when it states one.
    """
    name_date = iso_date_in_name(source_name)
    if line is None:
        if capture_day is not None:
            return ResolvedDate(capture_day, "capture")
        if name_date:
            return ResolvedDate(name_date, "file_name")
        return ResolvedDate(None, None, "no date line and no ISO date in the file name")
    if line.year is not None:
        year, source = line.year, "date_line"
    elif capture_day is not None:
        year, source = _nearest_year(line.month, line.day, capture_day), "capture"
    elif name_date:
        year, source = name_date.year, "file_name"
    elif config_year is not None:
        year, source = config_year, "config"
    else:
        year, source = _reference_year_for(line.month, line.day), "reference_year"
    try:
        return ResolvedDate(dt.date(year, line.month, line.day), source)
    except ValueError:
        return ResolvedDate(None, None, f"no such date: {year:04d}-{line.month:02d}-{line.day:02d}")
