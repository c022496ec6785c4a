"""Somatostatin-receptor imaging progression (I3b)."""

from __future__ import annotations

from datetime import date

import pytest

from trialsieve.clinical.sstr import (
    SSTR_PET,
    SSTR_SPECT,
    SstrLesion,
    SstrScan,
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
        (10.0, 13.01, True),  # +30.1 %
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


def test_growth_against_the_smallest_earlier_same_modality_scan():
    # 20 (Jan) -> 16 (Jul) -> 21 (Dec): +5 % over Jan, +31.25 % over Jul.
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
