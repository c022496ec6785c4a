"""Somatostatin-receptor imaging progression (I3b)."""

from __future__ import annotations

from datetime import date

import pytest

from trialsieve.clinical.sstr import (
    SSTR_PET,
    SSTR_SPECT,
    SstrLesion,
    SstrScan,
    compare,
    krenning_label,
    sstr_progression,
    uptake_above_liver,
)

JAN, JUL, DEC = date(2025, 1, 15), date(2025, 7, 15), date(2025, 12, 15)


def pet(day: date, *lesions: SstrLesion, modality: str = SSTR_PET) -> SstrScan:
    return SstrScan(day, modality, lesions, source=f"ImagingStudy/{day}")


def lesion(lesion_id: str, mm: float | None, grade: int | None = 3, new: bool = False):
    return SstrLesion(lesion_id, mm, grade, new)


@pytest.mark.parametrize(
    ("before", "after", "progressive"),
    [
        (20.0, 26.0, False),  # +30.0 % exactly: not progression (strict bound)
        (20.0, 26.02, True),  # +30.1 %
        (10.0, 13.0, False),  # +30.0 %
        # +30.1 % but +3.01 mm. Was progression; the notes now say: "SSTR-imaging growth
        # (I3 b) is per lesion, > 30 % **and** at least 5 mm".
        (10.0, 13.01, False),
        (16.0, 21.0, True),  # +31.25 % and exactly +5 mm
        (15.0, 19.9, False),  # +32.7 % but +4.9 mm
        (10.0, 20.0, True),
        (20.0, 15.0, False),
    ],
)
def test_growth_must_exceed_30_percent(before, after, progressive):
    events = sstr_progression([pet(JAN, lesion("L1", before)), pet(JUL, lesion("L1", after))])
    assert bool(events) is progressive


def test_growth_event_fields():
    events = sstr_progression([pet(JAN, lesion("L1", 20)), pet(JUL, lesion("L1", 27))])
    (event,) = events
    assert event.date == JUL and event.earlier_date == JAN
    assert event.kind == "growth" and event.lesion_id == "L1"
    assert event.earlier_mm == 20 and event.later_mm == 27
    assert event.change_pct == pytest.approx(35.0)
    assert "+35.0 %" in event.reason
    assert event.sources == (f"ImagingStudy/{JUL}", f"ImagingStudy/{JAN}")


def test_new_lesion_is_progression():
    events = sstr_progression(
        [pet(JAN, lesion("L1", 20)), pet(JUL, lesion("L1", 20), lesion("L2", 12, new=True))]
    )
    (event,) = events
    assert (event.kind, event.lesion_id, event.earlier_date) == ("new", "L2", JAN)
    assert "new lesion L2" in event.reason


def test_only_scans_of_the_same_modality_are_compared():
    # A SPECT lesion of 10 mm and a PET lesion of 20 mm: never compared.
    scans = [
        pet(JAN, lesion("L1", 10), modality=SSTR_SPECT),
        pet(JUL, lesion("L1", 20)),
        pet(DEC, lesion("L1", 20, new=False)),
    ]
    assert sstr_progression(scans) == []
    # A "new" flag on the first scan of a modality has nothing to compare with.
    assert sstr_progression([pet(JAN, lesion("L1", 10, new=True), modality=SSTR_SPECT)]) == []


def test_growth_against_the_most_recent_earlier_same_modality_scan():
    # 20 (Jan) -> 16 (Jul) -> 21 (Dec): the reference of Dec is Jul: +31.25 %, +5 mm.
    scans = [pet(JAN, lesion("L1", 20)), pet(JUL, lesion("L1", 16)), pet(DEC, lesion("L1", 21))]
    (event,) = sstr_progression(scans)
    assert (event.date, event.earlier_date) == (DEC, JUL)


def test_krenning_scale():
    assert uptake_above_liver(3) and uptake_above_liver(4)
    assert not uptake_above_liver(2)
    assert uptake_above_liver(None) is None
    assert krenning_label(4) == "uptake greater than spleen"
    with pytest.raises(ValueError):
        SstrLesion("L1", 10, krenning_grade=5)


def test_unknown_modality_is_rejected():
    with pytest.raises(ValueError):
        SstrScan(JAN, "FDG_PET", ())


def test_reference_is_the_most_recent_earlier_scan_of_the_modality():
    # 14 (Jan) -> 20 (Jul) -> 24 (Dec). Against Jan, Dec would be +71 %; the notes: "The
    # reference is the most recent earlier scan of that modality": Dec vs Jul is +20 %,
    # not progression. Jul vs Jan is +42.9 % and +6 mm: progression on Jul.
    scans = [pet(JAN, lesion("L1", 14)), pet(JUL, lesion("L1", 20)), pet(DEC, lesion("L1", 24))]
    assert [(e.date, e.earlier_date) for e in sstr_progression(scans)] == [(JUL, JAN)]


@pytest.mark.parametrize(
    ("earlier", "compared"),
    [
        (date(2024, 12, 15), True),  # exactly 12 months before Dec 2025
        (date(2024, 12, 14), False),  # one day more: "unknown, not met"
    ],
)
def test_a_reference_over_12_months_older_places_nothing(earlier, compared):
    # 20 -> 30 mm (+50 %, +10 mm) is progression only when the reference is at most 12
    # months older than the later scan (notes, I3 b).
    scans = [pet(earlier, lesion("L1", 20)), pet(DEC, lesion("L1", 30))]
    assert bool(sstr_progression(scans)) is compared
    comparison = compare(scans[1], scans)
    assert comparison.decided is compared
    if not compared:
        assert "more than 12 months older" in (comparison.problem or "")


def test_a_lesion_flagged_new_but_measured_before_is_not_new():
    # L2 (14 mm in Jan) flagged new in Jul at 15 mm: "A lesion flagged "new" that was
    # measured on an earlier scan is not new"; +1 mm is no growth either.
    scans = [pet(JAN, lesion("L2", 14)), pet(JUL, lesion("L2", 15, new=True))]
    assert sstr_progression(scans) == []


def test_smallest_positive_reference_does_not_overflow():
    # Issue 17 item 9's shape on SSTR imaging: 4.9e-324 mm then 10 mm is growth.
    (event,) = sstr_progression([pet(JAN, lesion("L1", 4.9e-324)), pet(JUL, lesion("L1", 10))])
    assert event.kind == "growth" and event.change_pct is None
