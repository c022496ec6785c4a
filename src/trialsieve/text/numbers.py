"""Numbers as reports write them: decimal commas ("8,5 %"), sizes in mm or cm (to mm
through the project's units module), grades in digits or roman numerals, Karnofsky
scores as ECOG, dates in ISO, day-first or written form."""

from __future__ import annotations

import re
from datetime import date

from trialsieve.text.triggers import quick
from trialsieve.units import convert

NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
SIZE = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)?)(?:\s*(?:x|×|\*)\s*(\d+(?:[.,]\d+)?))?"
                  r"(?:\s*(?:x|×|\*)\s*(\d+(?:[.,]\d+)?))?\s*(mm|cm)\b", re.I)
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def number(text: str) -> float:
    """"8,5" and "8.5" are 8.5 (a French report writes a decimal comma)."""
    return float(text.replace(",", "."))


def sizes_mm(text: str) -> list[tuple[float, int, int]]:
    """Each size the text gives, in mm (a lesion's largest dimension when it gives
    several: "34 x 22 mm"), with its character offsets in `text`."""
    out = []
    for m in SIZE.finditer(text):
        dims = [number(g) for g in m.groups()[:3] if g]
        out.append((round(convert(max(dims), m.group(4).lower(), "mm"), 3),
                    m.start(), m.end()))
    return out


def grade(text: str) -> int | None:
    """1, 2 or 3 from "G2", "grade 2", "grade II"."""
    m = re.search(r"(?:\bG\s?|\b)([1-3]|iii|ii|i)\b(?!.*\b(?:[1-3]|iii|ii|i)\b)", text, re.I)
    if not m:
        return None
    g = m.group(1).lower()
    return int(g) if g.isdigit() else ROMAN.get(g)


# The standard ECOG-Karnofsky correspondence (Oken et al., 1982; as used by ECOG-ACRIN):
# KPS 100 is ECOG 0, 80-90 is 1, 60-70 is 2, 40-50 is 3, 10-30 is 4 (0 is dead, ECOG 5).
def karnofsky_to_ecog(score: float) -> int | None:
    if not 0 <= score <= 100 or score % 10:
        return None  # not a Karnofsky score (they go in tens)
    for floor, ecog in ((100, 0), (80, 1), (60, 2), (40, 3), (10, 4), (0, 5)):
        if score >= floor:
            return ecog
    return None


MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATES = quick(
    r"\b(?P<iso>(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2}))\b"
    r"|\b(?P<d2>\d{1,2})[/.](?P<m2>\d{1,2})[/.](?P<y2>\d{4})\b"
    rf"|\b(?P<d3>\d{{1,2}})(?:er)?\s+(?P<m3>{_MONTH})\.?\s+(?P<y3>\d{{4}})\b"
    rf"|\b(?P<m4>{_MONTH})\.?\s+(?P<d4>\d{{1,2}}),?\s+(?P<y4>\d{{4}})\b")


YEAR = re.compile(r"\d{4}")


# A date after these words is another scan's or event's date, not the one stated.
NOT_THIS_EVENT = re.compile(r"\b(?:compared (?:with|to)|comparison|versus|vs\.?|since|prior|"
                            r"previous|baseline|par rapport (?:à|au|a)|compar[ée]e? (?:à|au|a)"
                            r"|depuis|pr[ée]c[ée]dente?|r[ée]f[ée]rence|than|que)\W+(?:\w+\W+)"
                            r"{0,3}$", re.I)


def dates(text: str, day_first: bool) -> list[date]:
    """The full dates a sentence gives for its own event (not the dates it compares
    with: "compared with 2025-11-02"). A numeric d/m/y date is read day first in a
    French text; in an English one only when it cannot be read the other way (a date
    that could be either is not guessed). A month without a day is not a date."""
    out: list[date] = []
    if not YEAR.search(text):  # every date written as DATES reads them has its year
        return out
    for m in DATES.finditer(text):
        if NOT_THIS_EVENT.search(text[max(0, m.start() - 40):m.start()]):
            continue
        try:
            if m.group("iso"):
                out.append(date(int(m["y1"]), int(m["m1"]), int(m["d1"])))
            elif m.group("d2"):
                a, b, y = int(m["d2"]), int(m["m2"]), int(m["y2"])
                if not day_first and a <= 12 and b <= 12 and a != b:
                    continue  # 03/02/2026: March 2 or 3 February; not guessed
                d, mo = (a, b) if day_first or a > 12 else (b, a)
                out.append(date(y, mo, d))
            elif m.group("d3"):
                out.append(date(int(m["y3"]), MONTHS[m["m3"].lower()], int(m["d3"])))
            else:
                out.append(date(int(m["y4"]), MONTHS[m["m4"].lower()], int(m["d4"])))
        except ValueError:
            continue  # 31/02/2026: not a date
    return out
