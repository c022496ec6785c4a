"""Results of one day ordered by their time of day (issue 17's leftover, notes "Same day":
"Statements are ordered by their full timestamp when they have one; two that disagree with
no way to order them (same day, no time) leave the fact unknown."). Examples 01 (eligible
woman) and 02 (eligible man) with one change; expected statuses worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest
from test_no_false_eligible import LOINC, MAN, SNOMED, WOMAN, Edit, cc, st

from trialsieve.clinical.progression import MarkerValue, marker_triples

UCUM = "http://unitsofmeasure.org"


def hb(rid: str, when: str, g_dl: float) -> dict:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": cc(LOINC, "718-7"), "effectiveDateTime": when,
            "valueQuantity": {"value": g_dl, "unit": "g/dL", "system": UCUM, "code": "g/dL"}}


def serum_hcg(rid: str, when: str, positive: bool) -> dict:
    answer = ("10828004", "Positive") if positive else ("260385009", "Negative")
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": cc(LOINC, "2118-8"), "effectiveDateTime": when,
            "valueCodeableConcept": cc(SNOMED, *answer)}


# I7: Hb >= 9 g/dL, the most recent value within the 28 days before D0 (2026-12-01).
@pytest.mark.parametrize(("first", "second", "expected"), [
    # 8.5 g/dL at 08:15, repeated 10.2 g/dL at 14:30: the later one is the newest
    (("2026-11-20T08:15:00", 8.5), ("2026-11-20T14:30:00", 10.2), "met"),
    # the other way round: the newest is 8.5 g/dL
    (("2026-11-20T08:15:00", 10.2), ("2026-11-20T14:30:00", 8.5), "not_met"),
    # no time on either: they cannot be ordered, and disagree
    (("2026-11-20", 8.5), ("2026-11-20", 10.2), "unknown"),
    # a time on one only: still no order
    (("2026-11-20T14:30:00", 10.2), ("2026-11-20", 8.5), "unknown"),
    # the same time: no order
    (("2026-11-20T14:30:00", 10.2), ("2026-11-20T14:30:00", 8.5), "unknown"),
    # a time with a zone is compared as written (no conversion, notes "Calendar")
    (("2026-11-20T09:00:00+01:00", 8.5), ("2026-11-20T10:00:00-05:00", 10.2), "met"),
])
@pytest.mark.parametrize("reverse", [False, True])
def test_i7_two_hb_of_one_day_are_ordered_by_their_time(tmp_path, first, second, expected,
                                                        reverse) -> None:
    edit = Edit(MAN).drop("hb")
    added = [hb("hb-a", *first), hb("hb-b", *second)]
    for res in reversed(added) if reverse else added:  # the file order does not matter
        edit.add(res)
    assert st(edit.screen(tmp_path), "INCL07") == expected


def test_i7_names_the_earlier_result_of_the_day_as_older(tmp_path) -> None:
    r = (Edit(MAN).drop("hb").add(hb("hb-a", "2026-11-20T08:15:00", 8.5))
         .add(hb("hb-b", "2026-11-20T14:30:00", 10.2)).screen(tmp_path))
    o = r.result("INCL07").outcome
    reasons = [i.reason for i in o.ignored if i.source == "Observation/hb-a"]
    assert any("2026-11-20 14:30:00" in why for why in reasons)


# I10 (serum hCG negative) and E8 (pregnant): the newest serum test decides.
@pytest.mark.parametrize(("negative_at", "positive_at", "i10", "e8"), [
    # negative in the morning, positive in the afternoon: pregnant
    ("2026-11-20T08:00:00", "2026-11-20T16:00:00", "not_met", "met"),
    # positive first, repeated negative later: the negative is the newest
    ("2026-11-20T16:00:00", "2026-11-20T08:00:00", "met", "not_met"),
    # no times: unknown (closing note of issue 17: "I10 and E8 are unknown")
    ("2026-11-20", "2026-11-20", "unknown", "unknown"),
])
def test_two_serum_hcg_of_one_day_are_ordered_by_their_time(tmp_path, negative_at,
                                                            positive_at, i10, e8) -> None:
    r = (Edit(WOMAN).drop("hcg").add(serum_hcg("hcg-neg", negative_at, False))
         .add(serum_hcg("hcg-pos", positive_at, True)).screen(tmp_path))
    assert (st(r, "INCL10"), st(r, "EXCL08")) == (i10, e8)


# I3 (c) biochemical: three successive values, each higher than the one before.
D1, D2 = date(2026, 5, 4), date(2026, 8, 3)


@pytest.mark.parametrize(("am", "pm", "rose"), [
    (120, 150, True),  # 100 < 120 (08:00) < 150 (16:00): rose twice
    (150, 120, False),  # 100 < 150 (08:00), then 120 (16:00): no second rise
])
def test_marker_values_of_one_day_are_ordered_by_their_time(am, pm, rose) -> None:
    values = [MarkerValue(D1, 100, "a"), MarkerValue(D2, pm, "c", "16:00:00"),
              MarkerValue(D2, am, "b", "08:00:00")]
    assert [r for _, r in marker_triples(values)] == [rose]


def test_marker_values_of_one_day_without_times_are_open() -> None:
    # 100, then 120 and 150 on one day with no time: in one order they rose twice, in the
    # other not: undecided
    values = [MarkerValue(D1, 100, "a"), MarkerValue(D2, 150, "c"),
              MarkerValue(D2, 120, "b")]
    assert [r for _, r in marker_triples(values)] == [None]
