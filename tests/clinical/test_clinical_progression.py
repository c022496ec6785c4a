"""Clinical (symptom) and biochemical (marker) progression (I3c)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trialsieve.clinical.progression import (
    MarkerValue,
    SymptomObservation,
    assess_symptom,
    biochemical_progression,
    clinical_progression,
    marker_triples,
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


def test_grade_with_no_baseline_grade_is_unknown_not_a_rise():
    # The baseline has a frequency and no grade: the grade is unknown, not grade 0, so a
    # later grade 1 is not a rise; the first grade recorded is the grade baseline.
    series = [obs(0, frequency=2), obs(10, grade=1), obs(20, grade=1), obs(25, grade=1)]
    assert clinical_progression("flushing", series) == []
    found = assess_symptom("flushing", series)
    assert [o.date for o, _ in found.undecided] == [D0 + timedelta(days=10)]


def test_grade_rise_over_the_first_recorded_grade():
    series = [obs(0, frequency=2), obs(5, grade=1), obs(10, grade=2), obs(25, grade=2)]
    (event,) = clinical_progression("flushing", series)
    assert event.baseline_grade == 1
    assert (event.start, event.confirmed) == (D0 + timedelta(days=10), D0 + timedelta(days=25))
    assert "CTCAE grade 2 vs baseline grade 1" in event.reason


def episode(start: int, end: int | None, frequency: float, ongoing_until: int | None = None):
    """A recording over a period (effectivePeriod), ongoing when it has no end."""
    last = end if end is not None else ongoing_until
    return SymptomObservation(D0 + timedelta(days=start), frequency, None, f"Obs/{start}",
                              None if last is None else D0 + timedelta(days=last),
                              ongoing=end is None)


@pytest.mark.parametrize(("length", "sustained"), [(14, False), (15, True)])
def test_an_episode_is_sustained_when_end_minus_start_exceeds_14_days(length, sustained):
    # 4/day at baseline, then an episode of 6/day from day 30 to day 30 + length.
    found = assess_symptom("diarrhoea", [obs(0, 4), episode(30, 30 + length, 6)])
    assert bool(found.events) is sustained
    assert found.undecided == ()  # the episode ended: decided either way
    if sustained:
        assert found.events[0].confirmed == D0 + timedelta(days=45)
        assert "sustained 15 days" in found.events[0].reason


def test_an_ongoing_episode_runs_to_the_screening_date():
    # No end: ongoing on the screening date (day 50, 20 days after its start).
    (event,) = clinical_progression("diarrhoea", [obs(0, 4), episode(30, None, 6, 50)])
    assert event.confirmed == D0 + timedelta(days=45)
    short = assess_symptom("diarrhoea", [obs(0, 4), episode(30, None, 6, 40)])
    assert short.events == () and len(short.undecided) == 1  # still open: undecided


def test_a_rise_at_the_last_recording_is_undecided_one_that_ended_is_not():
    open_rise = assess_symptom("diarrhoea", [obs(0, 4), obs(30, 6), obs(44, 6)])
    assert open_rise.events == () and len(open_rise.undecided) == 1
    ended = assess_symptom("diarrhoea", [obs(0, 4), obs(30, 6), obs(44, 6), obs(60, 4)])
    assert ended.events == () and ended.undecided == ()


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


def test_an_unreadable_value_leaves_a_rise_open_unless_the_others_already_fall():
    values = [MarkerValue(D0, 100), MarkerValue(D0 + timedelta(days=30), 150),
              MarkerValue(D0 + timedelta(days=60), None)]
    assert [rose for _, rose in marker_triples(values)] == [None]
    falling = [MarkerValue(D0, 200), MarkerValue(D0 + timedelta(days=30), 150),
               MarkerValue(D0 + timedelta(days=60), None)]
    assert [rose for _, rose in marker_triples(falling)] == [False]
    assert biochemical_progression("CgA", values) == []
