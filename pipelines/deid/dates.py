"""Date shifting that keeps each date's format: ``03/14/2019`` stays ``MM/DD/YYYY``, ``March 14th, 2019`` stays a
month name with an ordinal.

Every date of one document moves by the same number of days, so intervals (admitted on the 3rd, discharged on
the 7th) and the order of events survive, which the clinical reading of a report needs; across documents the
shift differs, so one known date does not unlock the others. The shift is an HMAC of the document id under a
secret (:func:`shift_for`): the same secret and id give the same shift on every run, which keeps builds
idempotent, and nobody without the secret can compute it back from the id.

What counts as a date is what :data:`PATTERNS` parses into a calendar day (or a month of a year): numeric
dates in US order (day-first when the first number cannot be a month), ISO dates, ``dd.mm.yyyy``, month names
with or without a year, ``dd Month yyyy``, ``Month yyyy`` and ``mm/yyyy``. A year alone, a time of day and
relative expressions (``two weeks ago``, ``postoperative day 2``) are left: Safe Harbor allows the year, and the
others identify nobody. The same patterns feed the date recogniser of :mod:`.recognizers`.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
from datetime import date, timedelta

MAX_SHIFT_DAYS = 365
_MONTHS = ("jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
           "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_WEEKDAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
MONTH = rf"(?P<mon>(?i:{_MONTHS}))(?P<dot>\.)?"
WEEKDAY = rf"(?:(?P<wd>(?i:{_WEEKDAYS}))\.?,?\s+)?"
ORDINAL = r"(?P<ord>(?i:st|nd|rd|th))?"

# name -> regex; named groups: m (month number), d (day), y (year), mon (month name), ord, wd (weekday)
PATTERNS: dict[str, str] = {
    "month_day_year": rf"\b{WEEKDAY}{MONTH}[ \t]+(?P<d>\d{{1,2}}){ORDINAL},?[ \t]+(?P<y>\d{{4}})\b",
    "day_month_year": rf"\b{WEEKDAY}(?P<d>\d{{1,2}}){ORDINAL}(?:[ \t]+of)?[ \t-]+{MONTH},?[ \t-]+"
                      r"(?P<y>\d{4}|\d{2})\b",
    "month_year": rf"\b{MONTH},?[ \t]+(?P<y>\d{{4}})\b",
    "month_day": rf"\b{WEEKDAY}{MONTH}[ \t]+(?P<d>\d{{1,2}}){ORDINAL}\b(?![,.]?[ \t]*\d)(?!:)",
    "numeric_mdy": r"\b(?P<m>\d{1,2})(?P<sep>[/-])(?P<d>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b(?![/-]\d)",
    "numeric_ymd": r"\b(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})\b(?![-/.]\d)",
    "numeric_dmy_dots": r"\b(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})\b(?!\.\d)",
    "numeric_month_year": r"\b(?P<m>0?[1-9]|1[0-2])/(?P<y>(?:19|20)\d{2})\b(?!/)",
}
COMPILED = {name: re.compile(p) for name, p in PATTERNS.items()}
_FULL_MONTHS = [m.lower() for m in calendar.month_name[1:]]
_WEEKDAY_NAMES = [d.lower() for d in calendar.day_name]


def shift_for(secret: bytes, key: str, max_days: int = MAX_SHIFT_DAYS) -> int:
    """The document's shift in days: never 0, between ``-max_days`` and ``max_days``, fixed by secret and key."""
    digest = hmac.new(secret, key.encode("utf-8"), hashlib.sha256).digest()
    n = int.from_bytes(digest[:8], "big") % (2 * max_days)
    return n - max_days if n < max_days else n - max_days + 1


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y += 2000 if y <= 30 else 1900
    return y


def _month_number(name: str) -> int:
    low = name.lower()
    return next(i for i, m in enumerate(_FULL_MONTHS, 1) if m.startswith(low[:3]))


def _digits(old: str, value: int, pad: bool) -> str:
    if len(old) == 4:
        return f"{value:04d}"
    return f"{value:02d}" if pad else str(value)


def _same_case(old: str, new: str) -> str:
    if old.isupper() and len(old) > 1:
        return new.upper()
    if old[:1].islower():
        return new.lower()
    return new[:1].upper() + new[1:]


def _month_name(old: str, month: int) -> str:
    full = _FULL_MONTHS[month - 1]
    if old.lower() in _FULL_MONTHS:
        new = full
    elif old.lower() == "sept" and month == 9:
        new = "sept"
    else:
        new = full[:3]
    return _same_case(old, new)


def _ordinal(old: str, day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return _same_case(old, suffix)


def _weekday(old: str, d: date) -> str:
    name = _WEEKDAY_NAMES[d.weekday()]
    return _same_case(old, name if old.lower() in _WEEKDAY_NAMES else name[: len(old)])


def _parse(m: re.Match[str]) -> tuple[date, bool, bool] | None:
    """(the day, has a day, has a year) of a match, or None when it is no calendar date."""
    g = m.groupdict()
    has_day, has_year = g.get("d") is not None, g.get("y") is not None
    month = _month_number(g["mon"]) if g.get("mon") else int(g["m"])
    day = int(g["d"]) if has_day else 15  # a month of a year moves as its middle day does
    year = _year(g["y"]) if has_year else 2000  # a leap year, so that 29 February parses
    if g.get("m") is not None and has_day and month > 12 >= day:  # 25/12/2019: day first
        month, day = day, month
    if g.get("mon") and not has_year and g["mon"][:1].islower():
        return None  # "may 5": a verb more often than a date
    try:
        return date(year, month, day), has_day, has_year
    except ValueError:
        return None


def shift_match(m: re.Match[str], days: int) -> str | None:
    """The matched date moved by ``days``, every part written as before; None when it is no calendar date."""
    parsed = _parse(m)
    if parsed is None:
        return None
    old, has_day, has_year = parsed
    new = old + timedelta(days=days)
    if not has_year and (new.month, new.day) == (2, 29):
        new += timedelta(days=1)  # a date without a year cannot be 29 February in most years
    g = m.groupdict()
    swapped = g.get("m") is not None and has_day and int(g["m"]) > 12
    values = {"y": new.year if len(g.get("y") or "") != 2 else new.year % 100,
              "m": new.day if swapped else new.month, "d": new.month if swapped else new.day}
    month_name = _month_name(g["mon"], new.month) if g.get("mon") else ""
    # zero-padded when every number of the date has two digits (03/14/2019, 2019-03-14), or the day has a zero
    numbers = [g[k] for k in ("m", "d") if g.get(k)]
    pad = all(len(n) == 2 for n in numbers) if g.get("m") else (g.get("d") or "").startswith("0")
    parts: list[tuple[int, int, str]] = []
    for name, old_text in g.items():
        if old_text is None or name == "sep":
            continue
        if name in values:
            text = _digits(old_text, values[name], pad or name == "y")
        elif name == "mon":
            text = month_name
        elif name == "dot":  # "Mar." -> "May", not "May."
            text = "" if month_name.lower() in _FULL_MONTHS else old_text
        elif name == "ord":
            text = _ordinal(old_text, new.day)
        elif name == "wd":
            text = _weekday(old_text, new) if has_year else old_text
        else:
            continue
        parts.append((*m.span(name), text))
    out, pos, whole = [], m.start(), m.string
    for start, end, text in sorted(parts):
        out.append(whole[pos:start])
        out.append(text)
        pos = end
    out.append(whole[pos : m.end()])
    return "".join(out)


def find_dates(text: str) -> list[tuple[int, int, re.Match[str]]]:
    """Every calendar date in ``text``: (start, end, match), in text order, the longest of overlapping ones."""
    found = [(m.start(), m.end(), m) for rx in COMPILED.values() for m in rx.finditer(text) if _parse(m)]
    found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, re.Match[str]]] = []
    for f in found:
        if kept and f[0] < kept[-1][1]:
            continue
        kept.append(f)
    return kept


def shift_dates(text: str, days: int) -> list[tuple[int, int, str]]:
    """(start, end, shifted text) of every calendar date in ``text``; relative dates and years give nothing."""
    out = []
    for start, end, m in find_dates(text):
        shifted = shift_match(m, days)
        if shifted is not None:
            out.append((start, end, shifted))
    return out
