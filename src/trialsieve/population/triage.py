"""Pre-screening triage: the patients a population run sets aside without building their
record.

Under pre-screening, a record with no diagnosis of a neuroendocrine neoplasm and no
pathology result reads as "no GEP-NET": I2 not met, an assumption (protocol notes,
"Policies"), so that a population search sets aside the patients who are plainly not
candidates. A hospital population is mostly such patients, and reading and screening their
whole record (hundreds of results each) was most of a run's time. So, before the reader,
a look over the raw JSON text of each patient's resources asks whether anything in them
could make a neuroendocrine diagnosis or a pathology result: a Coding whose code the
reader could read so (an ICD-10 code starting C7A, C7B or C25.4, with any dots; an ICD-O-3
neuroendocrine morphology; the project's `gep-net`; a pathology report's LOINC code; any
code a --concept-map maps), or a code or key written with a JSON escape that could spell
one. A patient with none is
set aside: the criteria up to I2 in protocol order are evaluated by the same engine on the
patient's Patient resource alone (I1 reads nothing else; I2 is then not met, as on the
whole record), and the document names the criteria not evaluated.

The look is wider than the reader (any key "code" in any resource a rule reads, any code
system, any case), so it can only send a patient to the full evaluation for nothing,
never set aside one whose full evaluation finds a neuroendocrine neoplasm or a pathology
result. `tests/test_triage.py` proves that for codes as written by hand and as generated,
and the differential tests compare every set-aside patient with `prescreen --full`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import NamedTuple

from trialsieve import codes as C
from trialsieve.engine import Dates, ScreeningResult, screen
from trialsieve.fhir.concept_map import ConceptMapping
from trialsieve.population.sql import literal as sql_literal
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import PatientRecord

LAST_EVALUATED = "INCL02"  # the criterion whose pre-screening reading sets the patient aside
REASON = ("set aside in bulk (pre-screening): no code of a neuroendocrine neoplasm and no "
          "pathology result anywhere in the record, so INCL02 is not met; the criteria after "
          "it were not evaluated (prescreen --full evaluates them)")


def _as_pattern(code: str) -> str:
    """`code` as a pattern that Python's re and DuckDB's RE2 both read as itself."""
    out = []
    for ch in code:
        if ch.isalnum() or ord(ch) > 127:
            out.append(ch)
        elif 32 < ord(ch) < 127:
            out.append("\\" + ch)  # escaped punctuation is itself in both
        else:
            out.append(f"\\x{ord(ch):02x}")
    return "".join(out)


class Look(NamedTuple):
    """The look as regular expressions that Python's re and DuckDB's RE2 read alike:
    a key "code" whose value could name a NET or a pathology (it starts with a literal,
    which RE2 finds fast), and a key written with a \\uXXXX escape (run only on a text
    holding one: together in one expression, the two ran three times slower).
    And the texts (issue 21): a word that could name a NET in a text the text reader
    reads (`text`), and in an attachment's base64 `data`, decoded (`data`, run only on a
    text holding a "data" key)."""

    code: str
    escaped_key: str
    text: str = ""
    data: str = ""

    def sql(self, column: str) -> str:
        """SQL: whether the text in `column` holds something the look finds."""
        return (f"(regexp_matches({column}, {sql_literal(self.code)}) OR "
                f"(contains({column}, '\\u') AND "
                f"regexp_matches({column}, {sql_literal(self.escaped_key)}))"
                + self._text_sql(column) + ")")

    def _text_sql(self, column: str) -> str:
        if not self.text:
            return ""
        # an attachment that does not decode is looked at as one that might say it
        decoded = (f"coalesce(regexp_matches(CAST(TRY(from_base64(replace(s, '\\/', '/'))) "
                   f"AS VARCHAR), {sql_literal(self.data)}), true)")
        # each "data" key's value: the text cut at the keys, then a match anchored at the
        # start of each piece (RE2 extracting every match of the whole line with its group
        # took most of the scan's time for a population with notes); a piece that is no
        # key's value gives '', which decodes to nothing
        values = (f"list_transform(string_split(regexp_replace({column}, "
                  f"{sql_literal(JSON_BREAKS)}, '', 'g'), '\"data\"')[2:], "
                  f"lambda p: regexp_extract(p, {sql_literal(DATA_VALUE)}, 1))")
        return (f" OR regexp_matches({column}, {sql_literal(self.text)}) OR "
                f"(contains({column}, '\"data\"') AND coalesce(list_bool_or(list_transform("
                f"{values}, lambda s: {decoded})), false))")

    def finds(self, text: str) -> bool:
        return bool(_compiled(self.code).search(text)) or (
            "\\u" in text and bool(_compiled(self.escaped_key).search(text))) or (
            bool(self.text) and (bool(_compiled(self.text).search(text)) or (
                '"data"' in text and _data_says(text, self.data))))


def look(mapping: ConceptMapping) -> Look:
    """The look for this map's site codes too."""
    # ICD-10: the reader drops the dots and reads any case, then takes a prefix
    prefixes = ["[.]*" + "[.]*".join(_as_pattern(ch) for ch in p) for p in C.NET_ICD10_PREFIXES]
    exact = {*C.ICDO3_WELL, *C.ICDO3_POOR, *C.ICDO3_MIXED, "gep-net",
             *(code for _, code in C.PATHOLOGY_REPORTS)}
    site = {code for _, code in mapping.targets}
    # a site code holding a quote or a backslash is written escaped in JSON
    site |= {json.dumps(code, ensure_ascii=False)[1:-1] for code in site}
    codes = "|".join([*prefixes, "(?:" + "|".join(map(_as_pattern, sorted(exact | site))) + ')"'])
    # Escapes could spell a code another way: in the value of a "code" (\uXXXX, or \/ in
    # 8240\/3), or in the key itself (a key holding \uXXXX). Those elsewhere (an escaped
    # quote in a narrative's HTML, an accent in a name) do not count. The key is read as
    # written ("code", as the reader reads it), the codes in any case.
    escaped_value = r'[^"]*\\[u/]'
    return Look(rf'"code"\s*:\s*"(?i:{codes}|{escaped_value})',
                r'(?i)\\u[0-9a-f]{4}[^"]*"\s*:', TEXT, WORDS)


# --- the texts (issue 21) --------------------------------------------------------------
# A word that could name a neuroendocrine neoplasm in a report, wider than the text
# reader's net_diagnosis rules (text/rules/net_diagnosis.json): "neuroendocrine" in any
# case and spelling (a hyphen, an escaped one), "carcinoid"/"carcinoïde" (the ï as
# written, escaped in JSON, or as the bytes DuckDB shows of a decoded attachment), and the
# short names written in capitals (NET, NEC, NEN, pNET, TNE, CNE) between non-letters.
_BOUNDARY = r'(?:[^A-Za-z0-9_"\\]|\\[^u]|\\u[0-9a-fA-F]{4})'
_LONG = (r"(?i:neuro.{0,16}endocrin|carcino(?:[iï]|\\u00[ceCE][fF]|\\x[cC]3\\x[aA8][fF])d)")
_SHORT = r"(?:P|p|GEP-|SI-)?(?:NE[TCN]|[TC]NE)s?(?:[^A-Za-z0-9_]|$)"
# in a JSON string the text reader reads: a report's conclusion, an Observation's
# valueString, a note's text (and any other "text": wider, never narrower)
# And an attachment whose text is elsewhere, at a `url` (a Binary of the input, which the
# reader follows): looked at as one that might say it, as an attachment that does not
# decode is (the Binary is another line, about no one patient, by the time each line is
# looked at).
URL = r'"(?:attachment|presentedForm)"\s*:\s*[\[{][^\]}]*"url"\s*:'
TEXT = (r'"(?:conclusion|valueString|text)"\s*:\s*"(?:[^"\\]|\\.)*?(?:' + _LONG
        + "|" + _BOUNDARY + _SHORT + ")" + r'|"(?:conclusion|valueString|text)"\s*:\s*"'
        + _SHORT + "|" + URL)
# in a decoded attachment (plain text or HTML; DuckDB shows non-ASCII bytes and control
# characters, a line break included, as \xHH)
WORDS = _LONG + r"|(?:^|[^A-Za-z0-9_]|\\x[0-9A-Fa-f]{2})" + _SHORT
# what follows a key "data" when it is an attachment's base64: JSON's spaces (and \f), a
# colon, the string (the same class in Python's re and DuckDB's RE2)
DATA_VALUE = r'^[ \t\n\r\f]*:[ \t\n\r\f]*"([^"]*)"'
JSON_BREAKS = r"\\[rn]"  # line breaks an exporter may write inside base64


def _data_says(text: str, words: str) -> bool:
    """Whether an attachment's base64 `data` in the JSON text holds a NET word; one that
    does not decode might: it is looked at as one that does (as in the SQL look)."""
    for data in _data_values(text):
        try:
            raw = base64.b64decode(data.replace("\\/", "/"), validate=True)
        except (binascii.Error, ValueError):
            return True
        if _compiled(words).search(raw.decode("ascii", "backslashreplace")):
            return True
    return False


def _data_values(text: str) -> Iterator[str]:
    """The value of each key "data" in the JSON text, as the SQL look takes them: the
    text cut at each "data" (left to right), each piece read from its start."""
    for piece in re.sub(JSON_BREAKS, "", text).split('"data"')[1:]:
        m = _compiled(DATA_VALUE).match(piece)
        if m:
            yield m.group(1)


@lru_cache(maxsize=8)
def _compiled(p: str) -> re.Pattern[str]:
    return re.compile(p)


def might_be_net(texts: Iterable[str | bytes], look: Look) -> bool:
    """Whether any of a patient's resources (JSON text) could give a neuroendocrine
    diagnosis or a pathology result: if not, the patient is set aside."""
    return any(look.finds(t if isinstance(t, str) else t.decode("utf-8", "replace"))
               for t in texts)


def screen_set_aside(record: PatientRecord, as_of: date, policy: str) -> ScreeningResult:
    """The set-aside patient's result: the criteria up to LAST_EVALUATED, screened by the
    engine on `record` (its Patient resource), at inclusion = D0 = as_of."""
    return replace(screen(LUMEN, record, Dates.resolve(as_of, None, as_of), policy,
                          until=LAST_EVALUATED), set_aside=REASON)
