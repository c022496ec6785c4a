"""What the reports say, in use (issue 21): suggested under screening (never deciding),
counted "from text" under pre-screening within the rules' own time limits.

Expected results worked out from the protocol notes: under screening "a fact that no
record asserts or denies is unknown" and a text is no record that decides; under
pre-screening an affirmed mention counts as the coded fact would (issue 21)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from datetime import date
from functools import cache
from pathlib import Path

from builders import AS_OF, D0, REPO, record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.logic import Tri
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import Document, Mention, PatientRecord
from trialsieve.rules.base import PRE_SCREENING, SCREENING
from trialsieve.text import FACTS

EXAMPLES = sorted((REPO / "examples" / "patients").glob("*.json"))
DATES = Dates.resolve(AS_OF, d0=D0)
PATHOLOGY = "DiagnosticReport/path-1"
LETTER = "DocumentReference/letter-1"
PATH_TEXT = "Conclusion : TNE bien différenciée G2, Ki-67 8 %, d'origine pancréatique."
LETTER_TEXT = "Patient seen today. ECOG 1. She is not breastfeeding."


def mention(fact: str, value: object, sentence: str, *, document: str = PATHOLOGY,
            kind: str = "pathology", when: date = date(2026, 11, 2),
            modifiers: tuple[str, ...] = (), details: tuple = (), unit: str | None = None,
            start: int = 0) -> Mention:
    return Mention(fact, value, unit, document, kind, when, sentence, start,
                   start + len(sentence), modifiers, details, "fr" if kind == "pathology"
                   else "en")


def with_texts(rec: PatientRecord, *mentions: Mention) -> PatientRecord:
    docs = [Document(PATHOLOGY, "pathology", date(2026, 11, 2), PATH_TEXT),
            Document(LETTER, "clinic", date(2026, 11, 20), LETTER_TEXT)]
    return replace(rec, documents=docs, mentions=list(mentions))


NET_G2 = mention("net_diagnosis", "well", PATH_TEXT)
GRADE = mention("who_grade", "G2", PATH_TEXT)
KI67 = mention("ki67", 8.0, PATH_TEXT, unit="%")
SITE = mention("primary_site", "pancreas", PATH_TEXT)
METS = mention("metastatic", "metastatic", "Métastases hépatiques multiples.",
               kind="imaging", document="DiagnosticReport/mri-1", start=0)
ECOG1 = mention("ecog", 1, "ECOG 1.", document=LETTER, kind="clinic",
                when=date(2026, 11, 20), start=20)
NOT_BREASTFEEDING = mention("breastfeeding", None, "She is not breastfeeding.",
                            document=LETTER, kind="clinic", when=date(2026, 11, 20),
                            modifiers=("negated",), start=28)


def _evidence(result, cid):
    return result.result(cid).outcome.evidence


def test_screening_shows_the_pathology_sentence_as_a_suggestion_and_stays_unknown():
    rec = with_texts(record(), NET_G2, GRADE, KI67, SITE, METS)
    r = screen(LUMEN, rec, DATES, SCREENING)
    i2 = r.result("INCL02")
    # nothing coded names a NET: unknown, as without the report
    assert i2.status is Tri.UNKNOWN
    shown = [e for e in i2.outcome.evidence if e.text is not None]
    assert shown and all(e.text.use == "suggested" for e in shown)
    # one suggestion per sentence, saying what it states
    first, mets = shown
    assert first.what == "suggested by the pathology report of 2026-11-02"
    assert first.value == f"'{PATH_TEXT}' (confirm)"
    assert first.source == f"{PATHOLOGY}#text:0-{len(PATH_TEXT)}"
    assert first.note == "NET, well differentiated, WHO grade G2, Ki-67 8 %, primary pancreas"
    assert mets.note == "metastatic"
    assert (first.text.start, first.text.end) == (0, len(PATH_TEXT))
    # what settles it names the confirmation
    assert any(m.startswith("confirmation of what the pathology report of 2026-11-02 says")
               for m in i2.outcome.missing)


def test_screening_a_negated_breastfeeding_is_a_suggested_absence_not_a_decision():
    rec = with_texts(record(sex="female", born=date(1970, 1, 1)), NOT_BREASTFEEDING)
    r = screen(LUMEN, rec, DATES, SCREENING)
    e8 = r.result("EXCL08")
    assert e8.status is Tri.UNKNOWN
    (s,) = [e for e in e8.outcome.evidence if e.text]
    assert s.note == "absent: breastfeeding" and s.value.endswith("(confirm)")


def test_uncertain_family_and_hypothetical_mentions_are_listed_as_not_counted():
    for mod in ("uncertain", "family", "hypothetical"):
        m = mention("brain_metastases", None, "Possible brain metastases.",
                    document=LETTER, kind="clinic", modifiers=(mod,))
        for policy in (SCREENING, PRE_SCREENING):
            e6 = screen(LUMEN, with_texts(record(), m), DATES, policy).result("EXCL06")
            assert not [e for e in e6.outcome.evidence if e.text], (mod, policy)
            assert any(i.reason.startswith(f"not counted ({mod})")
                       for i in e6.outcome.ignored), (mod, policy)
            # and never support: under pre-screening E6 stays assumed absent
            assert e6.status is (Tri.UNKNOWN if policy == SCREENING else Tri.NOT_MET)


def test_pre_screening_counts_the_net_of_the_report_from_text():
    rec = with_texts(record(), NET_G2, GRADE, KI67, SITE, METS)
    plain = screen(LUMEN, record(), DATES, PRE_SCREENING).result("INCL02")
    assert plain.status is Tri.NOT_MET  # no NET anywhere: not a candidate (notes)
    i2 = screen(LUMEN, rec, DATES, PRE_SCREENING).result("INCL02")
    # well differentiated, pancreas (GEP), pathology says NET, metastatic: met
    assert i2.status is Tri.MET
    texts = [e for e in i2.outcome.evidence if e.text]
    assert texts and all(e.text.use == "from text" and "(from text)" in e.what
                         for e in texts)
    assert any("'" + PATH_TEXT + "'" in (e.value or "") for e in texts)
    assert not i2.outcome.assumptions


def test_pre_screening_a_text_ecog_counts_within_28_days_only():
    # I9: ECOG <= 1 within the 28 days before D0 (2026-12-08): from 2026-11-10
    inside = replace(ECOG1, date=date(2026, 11, 10))
    outside = replace(ECOG1, date=date(2026, 11, 9))
    for m, expected in ((inside, Tri.MET), (outside, Tri.UNKNOWN)):
        i9 = screen(LUMEN, with_texts(record(), m), DATES, PRE_SCREENING).result("INCL09")
        assert i9.status is expected, m.date
        assert screen(LUMEN, with_texts(record(), m), DATES,
                      SCREENING).result("INCL09").status is Tri.UNKNOWN


def test_pre_screening_a_negated_net_does_not_count():
    denied = replace(NET_G2, modifiers=("negated",))
    i2 = screen(LUMEN, with_texts(record(), denied), DATES, PRE_SCREENING).result("INCL02")
    assert i2.status is Tri.NOT_MET and i2.outcome.assumptions


def test_pre_screening_recent_surgery_in_a_letter_excludes_within_42_days_only():
    # E2: major surgery in the 42 days before inclusion (2026-12-08); 42 days or more
    # is a completed wait: 2026-10-28 (41 days) excludes, 2026-10-27 (42 days) does not
    for when, expected in ((date(2026, 10, 28), Tri.MET), (date(2026, 10, 27), Tri.NOT_MET)):
        m = mention("major_surgery", "Whipple", "Whipple procedure.", document=LETTER,
                    kind="clinic", when=when)
        e2 = screen(LUMEN, with_texts(record(), m), DATES, PRE_SCREENING).result("EXCL02")
        assert e2.status is expected, when


def test_a_mention_written_after_the_screening_date_is_not_shown():
    late = replace(ECOG1, date=AS_OF + dt.timedelta(days=1))
    i9 = screen(LUMEN, with_texts(record(), late), DATES, SCREENING).result("INCL09")
    assert not [e for e in i9.outcome.evidence if e.text]


# --- no text mention decides a criterion under screening ---------------------------


@cache
def _example(path: Path) -> PatientRecord:
    return read(path).records[0]


VALUES = st.one_of(st.none(), st.sampled_from(["well", "poor", "G1", "G2", "G3", "pancreas",
                                               "lung", "metastatic", "RECIST", "yes"]),
                   st.integers(0, 4), st.floats(0, 100, allow_nan=False))
MENTIONS = st.builds(
    lambda fact, value, kind, when, mods, details: Mention(
        fact, value, "%" if fact == "ki67" else None, f"DocumentReference/{kind}", kind,
        when, "some sentence.", 0, 14, mods, details),
    st.sampled_from(sorted(FACTS)), VALUES, st.sampled_from(["pathology", "imaging",
                                                            "clinic"]),
    st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2027, 1, 1))),
    st.lists(st.sampled_from(["negated", "uncertain", "historical", "family",
                              "hypothetical"]), max_size=2, unique=True).map(tuple),
    st.lists(st.tuples(st.sampled_from(["controlled", "site", "organ", "krenning"]),
                       st.sampled_from(["yes", "no", "kidney", "liver", "3"])),
             max_size=2).map(tuple))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLES), st.lists(MENTIONS, max_size=8))
def test_no_text_mention_decides_a_criterion_under_screening(path, mentions):
    rec = _example(path)
    dates = Dates.resolve(date(2026, 11, 25), d0=date(2026, 12, 8))
    plain = screen(LUMEN, rec, dates, SCREENING)
    told = screen(LUMEN, replace(rec, mentions=mentions), dates, SCREENING)
    assert told.verdict == plain.verdict
    assert [r.status for r in told.results] == [r.status for r in plain.results]
