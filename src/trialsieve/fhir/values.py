"""Typed access to FHIR JSON fields: each getter checks the type and names the field."""

from __future__ import annotations

import calendar
import re
from datetime import date
from math import isfinite
from typing import Any

from trialsieve.dates import EARLIEST, LATEST, in_range
from trialsieve.fhir.errors import FieldError, Skip
from trialsieve.record.identity import reference_key

_DATE = re.compile(r"^(\d{4})(-(\d{2})(-(\d{2}))?)?")


def get_str(res: dict, field: str) -> str | None:
    v = res.get(field)
    if v is not None and not isinstance(v, str):
        raise FieldError(field, f"expected a string, found {type(v).__name__}")
    return v


def get_list(res: dict, field: str) -> list:
    v = res.get(field, [])
    if not isinstance(v, list):
        raise FieldError(field, f"expected a list, found {type(v).__name__}")
    return v


def get_dict(res: dict, field: str) -> dict:
    v = res.get(field, {})
    if not isinstance(v, dict):
        raise FieldError(field, f"expected an object, found {type(v).__name__}")
    return v


def get_number(obj: dict, field: str) -> float | None:
    v = obj.get(field)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise FieldError(field, f"expected a number, found {_short(v)}")
    try:
        number = float(v)
    except OverflowError:
        raise FieldError(field, f"a number of {len(str(v))} digits is not finite") from None
    if not isfinite(number):
        raise FieldError(field, f"{number} is not a finite number")
    return number


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_date(value: Any, field: str) -> date | None:
    """A FHIR date/dateTime/instant as a calendar date (the day it happened, as written).

    A partial date (year or year-month) has no day, so it is rejected: guessing the
    day could move a result across a 28-day bound.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"expected a date string, found {type(value).__name__}")
    m = _DATE.match(value)
    if not m:
        raise FieldError(field, f"not a FHIR date: {value!r}")
    if m.group(5) is None:
        raise FieldError(field, f"partial date {value!r}: the day is needed")
    try:
        d = date(int(m.group(1)), int(m.group(3)), int(m.group(5)))
    except ValueError as exc:
        raise FieldError(field, f"not a valid date: {value!r}") from exc
    if not in_range(d):
        raise FieldError(field, f"date {d} is outside {EARLIEST} to {LATEST}")
    return d


_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2})(?::(\d{2}))?")


def time_of(value: Any) -> str | None:
    """The time of day of a FHIR dateTime as written ("16:40:00"), None when it has none.

    Only orders statements of one day: no time-zone conversion (notes, "Calendar")."""
    m = _TIME.match(value) if isinstance(value, str) else None
    return f"{m.group(1)}:{m.group(2)}:{m.group(3) or '00'}" if m else None


Span = tuple[date, date]  # the first and last day a (possibly partial) date may be


def parse_date_span(value: Any, field: str) -> Span | None:
    """A FHIR date, dateTime or partial date as the interval of days it may be: "1968-05"
    is 1968-05-01 to 1968-05-31, "1968" the whole year, a full date one day (notes)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"expected a date string, found {type(value).__name__}")
    m = _DATE.match(value)
    if not m:
        raise FieldError(field, f"not a FHIR date: {value!r}")
    if m.group(5) is not None:
        day = parse_date(value, field)
        return (day, day) if day else None
    year = int(m.group(1))
    try:
        if m.group(3) is None:
            return date(year, 1, 1), date(year, 12, 31)
        month = int(m.group(3))
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except ValueError as exc:  # month 13, year 0
        raise FieldError(field, f"not a valid date: {value!r}") from exc


def effective_spans(res: dict, prefix: str) -> tuple[Span | None, Span | None, str]:
    """(start, end, field) of effective[x] / performed[x], each date as a Span, so that a
    partial date stays an interval of days."""
    for suffix in ("DateTime", "Instant", "Date"):
        f = prefix + suffix
        if f in res:
            d = parse_date_span(res[f], f)
            return d, d, f
    f = prefix + "Period"
    if f in res:
        period = get_dict(res, f)
        end = None if _no_end(period) else parse_date_span(period.get("end"), f + ".end")
        return parse_date_span(period.get("start"), f + ".start"), end, f
    return None, None, prefix + "[x]"


def effective(res: dict, prefix: str) -> tuple[date | None, date | None, str]:
    """(start, end, field) of effective[x] / performed[x] / occurrence[x]."""
    for suffix in ("DateTime", "Instant", "Date"):
        f = prefix + suffix
        if f in res:
            d = parse_date(res[f], f)
            return d, d, f
    f = prefix + "Period"
    if f in res:
        period = get_dict(res, f)
        return parse_date(period.get("start"), f + ".start"), _end(period, f + ".end"), f
    return None, None, prefix + "[x]"


def _end(period: dict, field: str) -> date | None:
    """A period's end; one after the last plausible date (9999-12-31 is the common "no
    end" sentinel) is no end: the period is ongoing."""
    return None if _no_end(period) else parse_date(period.get("end"), field)


def _no_end(period: dict) -> bool:
    """An end after the last plausible date (9999-12-31, the common "no end" sentinel)."""
    end = period.get("end")
    return isinstance(end, str) and bool(_DATE.match(end)) and int(end[:4]) > LATEST.year


def codings(concept: Any, field: str) -> list[tuple[str, str]]:
    """(system, code) pairs of a CodeableConcept."""
    if concept is None:
        return []
    if not isinstance(concept, dict):
        raise FieldError(field, f"expected a CodeableConcept, found {type(concept).__name__}")
    out = []
    coding = concept.get("coding", [])
    if not isinstance(coding, list):
        raise FieldError(field + ".coding", f"expected a list, found {type(coding).__name__}")
    for i, c in enumerate(coding):
        if not isinstance(c, dict):
            raise FieldError(field + ".coding", "expected a Coding object")
        if c.get("system") is not None and not isinstance(c["system"], str):
            raise FieldError(f"{field}.coding[{i}].system",
                             f"expected a string, found {type(c['system']).__name__}")
        if isinstance(c.get("code"), str):
            out.append((c.get("system") or "", c["code"]))
    return out


def concept_text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if isinstance(concept.get("text"), str):
        return concept["text"]
    for c in concept.get("coding", []) or []:
        if isinstance(c, dict) and isinstance(c.get("display"), str):
            return c["display"]
    for c in concept.get("coding", []) or []:
        if isinstance(c, dict) and isinstance(c.get("code"), str):
            return c["code"]
    return ""


def reference_id(ref: Any) -> str | None:
    """'Patient/123', 'urn:uuid:123', an absolute URL or a versioned reference
    ('Medication/m1/_history/2'), as the id it points to (the newest version of it is
    what the input's lookup holds: record/identity.py)."""
    if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
        return None
    return reference_key(ref["reference"])


def check_status(res: dict, void: set[str]) -> str:
    """The resource's status, or Skip when that status means it must not count."""
    status = get_str(res, "status") or ""
    if status in void:
        raise Skip(f"status {status}")
    return status
