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
from itertools import permutations, product
from math import factorial, isfinite
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


def _rise(base: _Baseline, index: int, obs: SymptomObservation) -> str | Literal[False] | None:
    """Why ``obs`` is raised (text), False when it is not, None when it cannot be told.

    Each measure the recording holds is compared with that measure's baseline; the
    recording is raised when one of them rose, not raised when each is known and none
    rose, unknown otherwise (a measure with no earlier value compares with nothing).
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
    """Sustained rises of one symptom over its baseline.

    The baseline of a rise is the last recording before it, the level it rose from (notes,
    I3 c): each measure's last value recorded before the run of raised recordings. A run
    (an unraised recording ends it and becomes the new level; one that holds nothing is
    skipped) is sustained when its last covered day is at least 15 days after its first
    (more than 14 days). A run that ends unsustained is decided; one still raised at the
    last recording, or ongoing, is undecided.
    """
    ordered = sorted(observations, key=lambda obs: obs.date)
    if len(ordered) < 2:
        return ClinicalAssessment((), (), ())
    base = _level(None, ordered[0])
    events: list[ClinicalProgressionEvent] = []
    compared: list[SymptomObservation] = []
    undecided: list[tuple[SymptomObservation, str]] = []
    run: list[tuple[SymptomObservation, str]] = []
    run_base = base
    confirmed = False
    for index, obs in enumerate(ordered[1:], start=1):
        if obs.frequency_per_day is None and obs.grade is None:
            continue
        why = _rise(run_base if run else base, index, obs)
        if why is None:
            undecided.append((obs, "no baseline to compare with"))
            if not run:
                base = _level(base, obs)
            continue
        compared.append(obs)
        if why is False:
            run, confirmed = [], False
            base = _level(base, obs)  # the level a later rise is measured from
            continue
        if not run:
            run_base = base
        run.append((obs, why))
        if not confirmed and run[-1][0].last - run[0][0].date >= timedelta(days=SUSTAINED_DAYS):
            confirmed = True
            events.append(_clinical_event(symptom, run_base, run))
    if run and not confirmed and (run[-1][0].end is None or run[-1][0].ongoing):
        undecided.append((run[-1][0], "raised at the last recording, not yet sustained "
                          "more than 14 days"))
    return ClinicalAssessment(tuple(events), tuple(compared), tuple(undecided))


def _level(base: _Baseline | None, obs: SymptomObservation) -> _Baseline:
    """The level after `obs`: each measure's last recorded value (a grade never recorded
    stays unknown, never grade 0)."""
    frequency = (_exact(obs.frequency_per_day) if obs.frequency_per_day is not None
                 else base.frequency if base else None)
    grade = obs.grade if obs.grade is not None else base.grade if base else None
    return _Baseline(obs.date, frequency, None, grade, None)


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
    time: str | None = None  # time of day as written ("08:15:00"): orders one day's values

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
    that can be read must still rise, or the triple is decided False).

    Values of one day are ordered by their time of day when each has its own; otherwise
    they have no order (the file position is not one, notes "Same day"): a triple that
    takes one of them is decided only when every order of that day's values decides the
    triples at that place the same way, else None."""
    ordered = sorted(values, key=lambda item: (item.date, item.time or ""))
    out = [(triple, _rose(triple)) for triple in _triples(ordered)]
    days = _unordered_days(ordered)
    if not days:
        return out
    # In any other order of a day's values, could a triple taking that day rise?
    could = {d for order in _orders(ordered, days) for triple in _triples(order)
             for d in {item.date for item in triple} & days if _rose(triple) is not False}
    return [(triple, rose if not ({item.date for item in triple} & days) else
             (None if {item.date for item in triple} & could else False))
            for triple, rose in out]


def _triples(ordered: list[MarkerValue]) -> list[Triple]:
    return list(zip(ordered, ordered[1:], ordered[2:], strict=False))


def _rose(triple: Triple) -> bool | None:
    known = [_exact(item.value) for item in triple if item.value is not None]
    rising = all(a < b for a, b in zip(known, known[1:], strict=False))
    return rising if len(known) == 3 or not rising else None


def _unordered_days(ordered: list[MarkerValue]) -> set[dt.date]:
    """Days with two values that differ (equal values: their order changes nothing) and
    that their times of day do not order (one has none, or two share one)."""
    by_day: dict[dt.date, list[MarkerValue]] = {}
    for item in ordered:
        by_day.setdefault(item.date, []).append(item)
    return {d for d, items in by_day.items() if len({i.value for i in items}) > 1
            and not _timed_apart(items)}


def _timed_apart(items: list[MarkerValue]) -> bool:
    times = [i.time for i in items]
    return all(times) and len(set(times)) == len(times)


_MAX_ORDERS = 720  # beyond this many orders of same-day values, every one is open


def _orders(ordered: list[MarkerValue], days: set[dt.date]) -> list[list[MarkerValue]]:
    groups = [[item for item in ordered if item.date == d] for d in sorted(days)]
    count = 1
    for g in groups:
        count *= factorial(len(g))
    if count > _MAX_ORDERS:  # too many to try: any triple on those days may rise
        return [ordered, [MarkerValue(item.date, None, item.source) if item.date in days
                          else item for item in ordered]]
    orders = []
    for choice in product(*(permutations(g) for g in groups)):
        chosen = dict(zip(sorted(days), choice, strict=True))
        order: list[MarkerValue] = []
        used: set[dt.date] = set()
        for item in ordered:
            if item.date in chosen:
                if item.date not in used:
                    order += chosen[item.date]
                    used.add(item.date)
            else:
                order.append(item)
        orders.append(order)
    return orders


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
