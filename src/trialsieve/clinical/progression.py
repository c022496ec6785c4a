"""Clinical and biochemical progression (LuMEn criterion I3c).

Clinical: a hormone-related symptom (diarrhoea, flushing, ...) whose daily
frequency rose by >= 50 % over its baseline, or whose CTCAE v4.03 grade rose
by >= 1 grade, sustained for **more than 14 days** (the episode's end minus its
start; an episode with no end is ongoing on the screening date). A grade or a
frequency with no baseline value of its own is unknown, never read as grade 0.

Biochemical: a NET marker (chromogranin A, NSE, urinary 5-HIAA, ...) that rose
at two successive measurements: three measurements, each higher than the one
before. Values must already be in one common unit (convert before calling).

Both return every event found; the caller applies the 12-month window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from math import isfinite
from typing import Literal

# "More than 14 days": end - start of the raised episode >= 15 days.
SUSTAINED_DAYS = 15


def _exact(value: float) -> Fraction:
    return Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))


def _fmt(value: float | Fraction) -> str:
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


# --------------------------------------------------------------------------
# Clinical progression
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SymptomObservation:
    """One recording of a symptom: daily frequency and/or CTCAE v4.03 grade.

    A recording on one day has no ``end``; an episode (effectivePeriod) runs from
    ``date`` to ``end``; one with no end is ongoing, and the caller gives the screening
    date as its ``end`` with ``ongoing`` set.
    """

    date: dt.date
    frequency_per_day: float | None = None
    grade: int | None = None
    source: str | None = None
    end: dt.date | None = None
    ongoing: bool = False

    def __post_init__(self) -> None:
        freq = self.frequency_per_day
        if freq is not None and (not isfinite(freq) or freq < 0):
            raise ValueError(f"frequency must be a finite number >= 0, got {freq!r}")
        if self.grade is not None and not 0 <= self.grade <= 5:
            raise ValueError(f"CTCAE grade must be 0-5, got {self.grade!r}")
        if self.end is not None and self.end < self.date:
            raise ValueError(f"episode ends {self.end} before it starts {self.date}")

    @property
    def last(self) -> dt.date:
        """The last day the recording covers."""
        return self.end or self.date


@dataclass(frozen=True)
class ClinicalProgressionEvent:
    symptom: str
    start: date  # first raised recording
    confirmed: date  # first day the rise has lasted more than 14 days
    baseline_date: date
    baseline_frequency: float | None
    baseline_grade: int | None
    reason: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClinicalAssessment:
    """What one symptom's recordings show: the sustained rises, and the recordings that
    leave a rise undecided (a grade or frequency with no baseline to compare with, or a
    rise still open at the last recording, not yet sustained more than 14 days)."""

    events: tuple[ClinicalProgressionEvent, ...]
    compared: tuple[SymptomObservation, ...]  # recordings decided raised or not
    undecided: tuple[tuple[SymptomObservation, str], ...]


@dataclass(frozen=True)
class _Baseline:
    date: dt.date
    frequency: Fraction | None
    frequency_index: int | None  # the observation that gave the frequency baseline
    grade: int | None
    grade_index: int | None


def _baseline(observations: list[SymptomObservation]) -> _Baseline:
    # Each measure's baseline is its first recorded value. A grade never recorded is
    # unknown, not grade 0: a later grade has nothing to be compared with.
    fi, frequency = next(((i, o.frequency_per_day) for i, o in enumerate(observations)
                          if o.frequency_per_day is not None), (None, None))
    gi, grade = next(((i, o.grade) for i, o in enumerate(observations) if o.grade is not None),
                     (None, None))
    return _Baseline(
        observations[0].date,
        None if frequency is None else _exact(frequency),
        fi,
        grade,
        gi,
    )


def _rise(base: _Baseline, index: int, obs: SymptomObservation) -> str | Literal[False] | None:
    """Why ``obs`` is raised (text), False when it is not, None when it cannot be told.

    Each measure the recording holds is compared with that measure's baseline; the
    recording is raised when one of them rose, not raised when each is known and none
    rose, unknown otherwise (the recording that gives a baseline compares with nothing).
    """
    reasons, unknown = [], False
    if obs.frequency_per_day is not None:
        if base.frequency is None or index == base.frequency_index:
            unknown = True
        else:
            freq = _exact(obs.frequency_per_day)
            # >= +50 % and an actual increase (from a baseline of 0, any rise counts).
            if freq * 2 >= base.frequency * 3 and freq > base.frequency:
                pct = ("" if base.frequency == 0
                       else f", +{_fmt((freq / base.frequency - 1) * 100)} %")
                reasons.append(f"frequency {_fmt(freq)}/day vs baseline "
                               f"{_fmt(base.frequency)}/day{pct}")
    if obs.grade is not None:
        if base.grade is None or index == base.grade_index:
            unknown = True
        elif obs.grade - base.grade >= 1:
            reasons.append(f"CTCAE grade {obs.grade} vs baseline grade {base.grade}")
    if reasons:
        return " and ".join(reasons)
    return None if unknown else False


def assess_symptom(
    symptom: str, observations: list[SymptomObservation] | tuple[SymptomObservation, ...]
) -> ClinicalAssessment:
    """Sustained rises of one symptom over its baseline (the first recordings).

    A run of raised recordings (an unraised one ends it; one that holds nothing is
    skipped) is sustained when its last covered day is at least 15 days after its first
    (more than 14 days). A run that ends unsustained is decided; one still raised at the
    last recording, or ongoing, is undecided.
    """
    ordered = sorted(observations, key=lambda obs: obs.date)
    if len(ordered) < 2:
        return ClinicalAssessment((), (), ())
    base = _baseline(ordered)
    events: list[ClinicalProgressionEvent] = []
    compared: list[SymptomObservation] = []
    undecided: list[tuple[SymptomObservation, str]] = []
    run: list[tuple[SymptomObservation, str]] = []
    confirmed = False
    for index, obs in enumerate(ordered[1:], start=1):
        if obs.frequency_per_day is None and obs.grade is None:
            continue
        why = _rise(base, index, obs)
        if why is None:
            undecided.append((obs, "no baseline to compare with"))
            continue
        compared.append(obs)
        if why is False:
            run, confirmed = [], False
            continue
        run.append((obs, why))
        if not confirmed and run[-1][0].last - run[0][0].date >= timedelta(days=SUSTAINED_DAYS):
            confirmed = True
            events.append(_clinical_event(symptom, base, run))
    if run and not confirmed and (run[-1][0].end is None or run[-1][0].ongoing):
        undecided.append((run[-1][0], "raised at the last recording, not yet sustained "
                          "more than 14 days"))
    return ClinicalAssessment(tuple(events), tuple(compared), tuple(undecided))


def clinical_progression(
    symptom: str, observations: list[SymptomObservation] | tuple[SymptomObservation, ...]
) -> list[ClinicalProgressionEvent]:
    """The sustained rises of one symptom (see ``assess_symptom``)."""
    return list(assess_symptom(symptom, observations).events)


def _clinical_event(
    symptom: str, base: _Baseline, run: list[tuple[SymptomObservation, str]]
) -> ClinicalProgressionEvent:
    start, why = run[0]
    end = run[-1][0]
    sustained = start.date + timedelta(days=SUSTAINED_DAYS)
    days = (end.last - start.date).days
    reason = (
        f"{symptom}: {why} from {start.date}, sustained {days} days "
        f"(to {end.last}, over {len(run)} recording(s))"
    )
    return ClinicalProgressionEvent(
        symptom=symptom,
        start=start.date,
        confirmed=max(end.date, sustained),
        baseline_date=base.date,
        baseline_frequency=None if base.frequency is None else float(base.frequency),
        baseline_grade=base.grade,
        reason=reason,
        sources=tuple(obs.source for obs, _ in run if obs.source),
    )


# --------------------------------------------------------------------------
# Biochemical progression
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkerValue:
    """One measurement of a marker, in the unit common to the series (None: the result
    cannot be read; it still takes its place in the series)."""

    date: dt.date
    value: float | None
    source: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None and not isfinite(self.value):
            raise ValueError(f"marker value must be finite, got {self.value!r}")


@dataclass(frozen=True)
class BiochemicalProgressionEvent:
    marker: str
    date: dt.date  # date of the third measurement
    dates: tuple[dt.date, dt.date, dt.date]
    values: tuple[float, float, float]
    reason: str
    sources: tuple[str, ...] = ()


def biochemical_progression(
    marker: str, values: list[MarkerValue] | tuple[MarkerValue, ...]
) -> list[BiochemicalProgressionEvent]:
    """Every run of three successive measurements, each strictly higher.

    Measurements are taken in date order (ties keep the given order); an
    equal value is not a rise.
    """
    return [_biochemical_event(marker, triple) for triple, rose in marker_triples(values)
            if rose]


Triple = tuple[MarkerValue, MarkerValue, MarkerValue]


def marker_triples(values: list[MarkerValue] | tuple[MarkerValue, ...]
                   ) -> list[tuple[Triple, bool | None]]:
    """Every three successive measurements in date order, and whether each rose twice:
    True, False, or None when a value that cannot be read leaves it open (the values
    that can be read must still rise, or the triple is decided False)."""
    ordered = sorted(values, key=lambda item: item.date)
    out: list[tuple[Triple, bool | None]] = []
    for triple in zip(ordered, ordered[1:], ordered[2:], strict=False):
        known = [_exact(item.value) for item in triple if item.value is not None]
        rising = all(a < b for a, b in zip(known, known[1:], strict=False))
        out.append((triple, rising if len(known) == 3 or not rising else None))
    return out


def _biochemical_event(
    marker: str, triple: tuple[MarkerValue, MarkerValue, MarkerValue]
) -> BiochemicalProgressionEvent:
    first, second, third = (item.value for item in triple)
    if first is None or second is None or third is None:
        raise ValueError(f"{marker}: a rise needs three values that can be read")
    steps = " < ".join(f"{_fmt(value)} ({item.date})"
                       for value, item in zip((first, second, third), triple, strict=True))
    return BiochemicalProgressionEvent(
        marker=marker,
        date=triple[2].date,
        dates=(triple[0].date, triple[1].date, triple[2].date),
        values=(first, second, third),
        reason=f"{marker} rose at two successive measurements: {steps}",
        sources=tuple(item.source for item in triple if item.source),
    )
