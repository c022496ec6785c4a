"""UCUM codes as people write them: mL/min/1.73 m², ×10⁹/L, µmol/L (ASCII when needed).

UCUM stays in JSON and exports; only text for people is rewritten.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import cache

# UCUM code -> (Unicode, ASCII). Longest codes are matched first.
READABLE: dict[str, tuple[str, str]] = {
    "mL/min/{1.73_m2}": ("mL/min/1.73 m²", "mL/min/1.73 m2"),
    "mL/min/1.73.m2": ("mL/min/1.73 m²", "mL/min/1.73 m2"),
    "10*3/uL": ("×10³/µL", "x10^3/uL"),
    "10*9/L": ("×10⁹/L", "x10^9/L"),
    "10*12/L": ("×10¹²/L", "x10^12/L"),
    "10*6/uL": ("×10⁶/µL", "x10^6/uL"),
    "{cells}/uL": ("cells/µL", "cells/uL"),
    "umol/L": ("µmol/L", "umol/L"),
    "ug/L": ("µg/L", "ug/L"),
    "[IU]/L": ("IU/L", "IU/L"),
    "m[IU]/mL": ("mIU/mL", "mIU/mL"),
    "mg/(24.h)": ("mg/24 h", "mg/24 h"),
}


def readable_unit(code: str, ascii_only: bool = False) -> str:
    """One UCUM code in readable form; an unknown code is shown as it is."""
    pair = READABLE.get(code)
    return (pair[1] if ascii_only else pair[0]) if pair else code


@cache
def _pattern() -> re.Pattern[str]:
    codes = sorted(READABLE, key=len, reverse=True)
    alternatives = "|".join(re.escape(c) for c in codes)
    return re.compile(rf"(?<![\w*{{\[/.])({alternatives})(?![\w*}}\]])")


def readable(text: str, ascii_only: bool = False) -> str:
    """Every UCUM code in a sentence rewritten readably ("78 mL/min/{1.73_m2}" ->
    "78 mL/min/1.73 m²")."""
    return _pattern().sub(lambda m: readable_unit(m.group(1), ascii_only), text)


# Signs with a conventional ASCII spelling; other letters lose their accents (NFKD), and
# what is left becomes "?". Superscript runs become "^digits" (x10³ -> x10^3).
ASCII_SIGNS = {"×": "x", "µ": "u", "μ": "u", "≥": ">=", "≤": "<=", "≠": "!=", "–": "-",
               "—": "-", "−": "-", "·": ".", "’": "'", "‘": "'", "“": '"', "”": '"',
               "…": "...", "°": " deg", "•": "*", "±": "+/-", "→": "->"}
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def ascii_text(text: str) -> str:
    """Text for a terminal that is not UTF-8, without losing what a sign means."""
    text = re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "^" + m.group().translate(SUPERSCRIPTS),
                  text)
    text = "".join(ASCII_SIGNS.get(ch, ch) for ch in text)
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))
    return text.encode("ascii", "replace").decode("ascii")


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return ascii_text(exc.object[exc.start:exc.end]), exc.end


codecs.register_error("trialsieve-ascii", _ascii_fallback)
