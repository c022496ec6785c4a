"""Clinical (symptom) and biochemical (marker) progression (I3c)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trialsieve.clinical.progression import (
    MarkerValue,
    SymptomObservation,
    biochemical_progression,
    clinical_progression,
)

D0 = date(2025, 3, 1)


def obs(day: int, frequency: float | None = None, grade: int | None = None):
    return SymptomObservation(D0 + timedelta(days=day), frequency, grade, f"Obs/{day}")


# ---------------------------------------------------------------- clinical


def test_sustained_15_days_is_progression():
    # baseline 4 stools/day; 6/day (+50 %) on day 30, still 6/day on day 45.
    events = clinical_progression("diarrhoea", [obs(0, 4), obs(30, 6), obs(45, 6)])
    (event,) = events
    assert event.start == D0 + timedelta(days=30)
    assert event.confirmed == D0 + timedelta(days=45)
    assert event.baseline_frequency == 4
    assert "frequency 6/day vs baseline 4/day, +50 %" in event.reason
    assert "sustained 15 days" in event.reason
    assert event.sources == ("Obs/30", "Obs/45")


def test_sustained_14_days_is_not_enough():
    assert clinical_progression("diarrhoea", [obs(0, 4), obs(30, 6), obs(44, 6)]) == []


def test_rise_below_50_percent_is_not_progression():
    # 4 -> 5.9 is +47.5 %.
    assert clinical_progression("diarrhoea", [obs(0, 4), obs(30, 5.9), obs(60, 5.9)]) == []


def test_an_unraised_measurement_breaks_the_run():
    # Raised on day 30, back to baseline on day 40, raised again 50 and 66.
    series = [obs(0, 4), obs(30, 8), obs(40, 4), obs(50, 8), obs(66, 8)]
    (event,) = clinical_progression("diarrhoea", series)
    assert event.start == D0 + timedelta(days=50)
    assert event.confirmed == D0 + timedelta(days=66)


def test_grade_rise_of_one_counts_and_missing_baseline_grade_is_zero():
    # No grade at baseline (frequency only) = grade 0; flushing grade 1 from day 10.
    series = [obs(0, frequency=2), obs(10, grade=1), obs(20, grade=1), obs(25, grade=1)]
    (event,) = clinical_progression("flushing", series)
    assert event.baseline_grade == 0
    assert (event.start, event.confirmed) == (D0 + timedelta(days=10), D0 + timedelta(days=25))
    assert "CTCAE grade 1 vs baseline grade 0" in event.reason


def test_same_grade_as_baseline_is_not_a_rise():
    series = [obs(0, grade=2), obs(10, grade=2), obs(40, grade=2)]
    assert clinical_progression("diarrhoea", series) == []


def test_observation_without_data_does_not_break_the_run():
    series = [obs(0, 4), obs(30, 6), obs(35), obs(45, 6)]
    assert len(clinical_progression("diarrhoea", series)) == 1


def test_grade_validation():
    with pytest.raises(ValueError):
        SymptomObservation(D0, grade=6)


# ---------------------------------------------------------------- biochemical


def marker(*values: float) -> list[MarkerValue]:
    return [
        MarkerValue(D0 + timedelta(days=30 * i), v, f"Obs/cga{i}") for i, v in enumerate(values)
    ]


def test_two_successive_rises_are_progression():
    (event,) = biochemical_progression("chromogranin A", marker(100, 120, 150))
    assert event.date == D0 + timedelta(days=60)
    assert event.values == (100, 120, 150)
    assert event.sources == ("Obs/cga0", "Obs/cga1", "Obs/cga2")
    assert "chromogranin A rose at two successive measurements" in event.reason


def test_equal_value_is_not_a_rise():
    assert biochemical_progression("NSE", marker(10, 12, 12)) == []


def test_one_rise_then_fall_is_not_progression():
    assert biochemical_progression("NSE", marker(10, 12, 11, 13)) == []


def test_every_run_of_three_is_reported_in_date_order():
    values = marker(10, 11, 12, 13)
    events = biochemical_progression("5-HIAA", list(reversed(values)))
    assert [e.date for e in events] == [values[2].date, values[3].date]
