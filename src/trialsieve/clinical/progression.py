"""Clinical and biochemical progression (LuMEn criterion I3c).

Clinical: a hormone-related symptom (diarrhoea, flushing, ...) whose daily
frequency rose by >= 50 % over its baseline, or whose CTCAE v4.03 grade rose
by >= 1 grade, sustained for **more than 14 days**.

Biochemical: a NET marker (chromogranin A, NSE, urinary 5-HIAA, ...) that rose
at two successive measurements: three measurements, each higher than the one
before. Values must already be in one common unit (convert before calling).

Both return every event found; the caller applies the 12-month window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from math import isfinite

# "More than 14 days": the rise must still hold at a measurement >= 15 days
# after the first raised one.
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
    """One recording of a symptom: daily frequency and/or CTCAE v4.03 grade."""

    date: date
    frequency_per_day: float | None = None
    grade: int | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        freq = self.frequency_per_day
        if freq is not None and (not isfinite(freq) or freq < 0):
            raise ValueError(f"frequency must be a finite number >= 0, got {freq!r}")
        if self.grade is not None and not 0 <= self.grade <= 5:
            raise ValueError(f"CTCAE grade must be 0-5, got {self.grade!r}")


@dataclass(frozen=True)
class ClinicalProgressionEvent:
    symptom: str
    start: date  # first raised measurement
    confirmed: date  # first raised measurement >= 15 days after start, all between raised
    baseline_date: date
    baseline_frequency: float | None
    baseline_grade: int
    reason: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Baseline:
    date: date
    frequency: Fraction | None
    frequency_index: int | None  # the observation that gave the frequency baseline
    grade: int


def _baseline(observations: list[SymptomObservation]) -> _Baseline:
    # Grade baseline: the first observation's grade, none recorded = grade 0
    # (CTCAE: no symptom). Frequency baseline: the first recorded frequency.
    first = observations[0]
    index = next(
        (i for i, obs in enumerate(observations) if obs.frequency_per_day is not None), None
    )
    frequency = None if index is None else _exact(observations[index].frequency_per_day)
    return _Baseline(first.date, frequency, index, first.grade or 0)


def _rise(base: _Baseline, index: int, obs: SymptomObservation) -> str | None | bool:
    """Why ``obs`` is raised (text), False when it is not, None when it says nothing."""
    if obs.frequency_per_day is None and obs.grade is None:
        return None
    reasons = []
    if obs.frequency_per_day is not None and base.frequency is not None:
        freq = _exact(obs.frequency_per_day)
        # >= +50 % and an actual increase (from a baseline of 0, any rise counts).
        if (
            index != base.frequency_index
            and freq * 2 >= base.frequency * 3
            and freq > base.frequency
        ):
            pct = "" if base.frequency == 0 else f", +{_fmt((freq / base.frequency - 1) * 100)} %"
            reasons.append(
                f"frequency {_fmt(freq)}/day vs baseline {_fmt(base.frequency)}/day{pct}"
            )
    if obs.grade is not None and obs.grade - base.grade >= 1:
        reasons.append(f"CTCAE grade {obs.grade} vs baseline grade {base.grade}")
    return " and ".join(reasons) if reasons else False


def clinical_progression(
    symptom: str, observations: list[SymptomObservation] | tuple[SymptomObservation, ...]
) -> list[ClinicalProgressionEvent]:
    """Sustained rises of one symptom over its baseline (the first observation).

    A rise is confirmed when it holds at every observation from the first
    raised one up to one at least 15 days later (> 14 days sustained). An
    observation that is not raised ends the run; one with neither frequency
    nor grade is skipped (it says nothing). One event per confirmed run.
    """
    ordered = sorted(observations, key=lambda obs: obs.date)
    if len(ordered) < 2:
        return []
    base = _baseline(ordered)
    events: list[ClinicalProgressionEvent] = []
    run: list[tuple[SymptomObservation, str]] = []
    confirmed = False
    for index, obs in enumerate(ordered[1:], start=1):
        why = _rise(base, index, obs)
        if why is None:
            continue
        if why is False:
            run, confirmed = [], False
            continue
        run.append((obs, why))
        if not confirmed and obs.date - run[0][0].date >= timedelta(days=SUSTAINED_DAYS):
            confirmed = True
            events.append(_clinical_event(symptom, base, run))
    return events


def _clinical_event(
    symptom: str, base: _Baseline, run: list[tuple[SymptomObservation, str]]
) -> ClinicalProgressionEvent:
    start, why = run[0]
    end = run[-1][0]
    days = (end.date - start.date).days
    reason = (
        f"{symptom}: {why} from {start.date}, sustained {days} days "
        f"(to {end.date}, over {len(run)} measurements)"
    )
    return ClinicalProgressionEvent(
        symptom=symptom,
        start=start.date,
        confirmed=end.date,
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
    """One measurement of a marker, in the unit common to the series."""

    date: date
    value: float
    source: str | None = None

    def __post_init__(self) -> None:
        if not isfinite(self.value):
            raise ValueError(f"marker value must be finite, got {self.value!r}")


@dataclass(frozen=True)
class BiochemicalProgressionEvent:
    marker: str
    date: date  # date of the third measurement
    dates: tuple[date, date, date]
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
    ordered = sorted(values, key=lambda item: item.date)
    events = []
    for first, second, third in zip(ordered, ordered[1:], ordered[2:], strict=False):
        if _exact(first.value) < _exact(second.value) < _exact(third.value):
            events.append(_biochemical_event(marker, (first, second, third)))
    return events


def _biochemical_event(
    marker: str, triple: tuple[MarkerValue, MarkerValue, MarkerValue]
) -> BiochemicalProgressionEvent:
    steps = " < ".join(f"{_fmt(item.value)} ({item.date})" for item in triple)
    return BiochemicalProgressionEvent(
        marker=marker,
        date=triple[2].date,
        dates=(triple[0].date, triple[1].date, triple[2].date),
        values=(triple[0].value, triple[1].value, triple[2].value),
        reason=f"{marker} rose at two successive measurements: {steps}",
        sources=tuple(item.source for item in triple if item.source),
    )
