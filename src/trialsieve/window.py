"""The eligibility window: for which D0 dates the patient would be eligible. Pure.

The window is found by screening, not by a second copy of the limits: D0s of the
horizon are screened with the same engine as `screen --d0`, so the two cannot disagree,
and adjacent days with the same verdict form one interval. Not every day needs it: each
rule names the dates its status or bounds can change on (rules.base.Change: a wash-out
ending, a result going stale, a birthday, an answer going stale...), and between two of
them the rule keeps both, so at the first D0 of each such stretch only the criteria that
name it are evaluated again, and the screening the window shows (`reference`) is one
whole screening. A rule that cannot name its dates makes the window screen every day.
What ends an interval is read from the bounds the rules name (`Outcome.bounds`): the
bounds that fall on that day of the criteria that change there, or the criterion itself
when it names none. The code knows nothing of any protocol.

D0 runs over [as_of + inclusion_offset, as_of + horizon_days]: inclusion is D0 minus
the offset and cannot be before the screening date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from trialsieve.dates import shift
from trialsieve.engine import (
    ELIGIBLE,
    INCOMPLETE,
    NOT_ELIGIBLE,
    CriterionResult,
    Dates,
    ScreeningResult,
    criterion_changes,
    death,
    evaluate,
    final_verdict,
    prepared,
    screen,
    verdict,
)
from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, Protocol
from trialsieve.record import PatientRecord
from trialsieve.rules.base import SCREENING, Bound, Context

ONE = timedelta(days=1)
LABELS = {ELIGIBLE: "eligible", INCOMPLETE: "eligible once the missing items are settled"}


@dataclass(frozen=True)
class Binding:
    """What fixes one end of an interval: a criterion's bound, or the horizon."""

    criterion: str | None  # None: the end of the horizon / the screening date
    reason: str
    source: str | None = None
    bound: Bound | None = None


@dataclass(frozen=True)
class Interval:
    start: date
    end: date  # included
    marking: str  # "eligible" or "incomplete"
    start_by: tuple[Binding, ...]
    end_by: tuple[Binding, ...]

    @property
    def label(self) -> str:
        return LABELS[self.marking]


@dataclass(frozen=True)
class Step:
    date: dt.date  # when it matters (ordering key)
    criterion: str
    action: str
    source: str | None = None


@dataclass(frozen=True)
class WhatIf:
    criterion: str
    category: str
    if_met: str  # verdict if the criterion were met
    if_not_met: str
    settles_alone: bool  # the favourable answer alone makes the patient eligible
    settles_with_shared: bool  # ... together with the criteria waiting for the same items
    missing: tuple[str, ...]
    shared: int  # how many unknown criteria wait for one of these items (max)


@dataclass(frozen=True)
class Window:
    as_of: date
    first: date  # first D0 considered
    last: date  # last D0 considered
    inclusion_offset: int
    policy: str
    intervals: tuple[Interval, ...]
    next_steps: tuple[Step, ...]
    what_if: tuple[WhatIf, ...]
    reference: ScreeningResult  # the screening the next steps and what-if read

    def marking(self, d0: date) -> str:
        """The verdict the window predicts for this D0."""
        for i in self.intervals:
            if i.start <= d0 <= i.end:
                return i.marking
        return NOT_ELIGIBLE


def breakpoint(b: Bound, offset: int) -> date:
    """The first D0 of the segment a bound starts."""
    d = b.date + (ONE if b.side == "until" else timedelta(0))
    return d + timedelta(days=offset) if b.on == "inclusion" else d


# The criteria's results on one D0 (those the window reads: statuses and bounds).
Results = tuple[CriterionResult, ...]


def _bounds(r: Results) -> list[tuple[str, Bound]]:
    return [(c.criterion.id, b) for c in r for b in c.outcome.bounds]


def eligibility_window(protocol: Protocol, record: PatientRecord, as_of: date,
                       horizon_days: int = 180, inclusion_offset: int = 0,
                       policy: str = SCREENING, every_day: bool = False) -> Window:
    """`every_day`: screen every D0 of the horizon, whatever the rules name (the
    reference the change points are tested against)."""
    first = as_of + timedelta(days=inclusion_offset)
    last = as_of + timedelta(days=horizon_days)
    if last < first:
        raise ValueError("the horizon is shorter than the inclusion offset")
    off = timedelta(days=inclusion_offset)
    screened: dict[date, ScreeningResult] = {}

    def at(d0: date) -> ScreeningResult:
        if d0 not in screened:
            screened[d0] = screen(protocol, record, Dates.resolve(as_of, d0 - off, d0),
                                  policy)
        return screened[d0]

    view, _, mentions = prepared(record, as_of, policy)
    dead = death(record.patient, as_of)[0]
    plan = _plan(protocol, view, as_of, first, last, inclusion_offset, every_day)
    starts = list(plan)
    # The criteria's results standing for every day of each stretch: at its first D0
    # only the criteria that name it are evaluated again; the others keep their status
    # and bounds (rules.base.Change), all the bookkeeping below reads of them.
    heads: list[Results] = []
    for d0, moved in plan.items():
        if moved is None:
            heads.append(at(d0).results)
            continue
        ctx = Context(as_of, d0 - off, d0, policy)
        now = list(heads[-1])
        for i in moved:
            c = protocol.criteria[i]
            now[i] = evaluate(c, view, mentions, ctx)
        heads.append(tuple(now))
    verdicts = [final_verdict(h, dead) for h in heads]
    # the days where some criterion changes: the results the next steps read
    turns = [h for k, h in enumerate(heads) if k == 0 or _statuses(h) != _statuses(heads[k - 1])]
    runs: list[list] = []  # [start, end, stretch of the start, stretch of the end]
    for k, (d0, v) in enumerate(zip(starts, verdicts, strict=True)):
        end = starts[k + 1] - ONE if k + 1 < len(starts) else last
        if runs and verdicts[runs[-1][2]] == v:
            runs[-1][1], runs[-1][3] = end, k
        else:
            runs.append([d0, end, k, k])
    intervals = tuple(
        Interval(s, e, verdicts[a],
                 _binding(heads[a - 1] if a else None, heads[a], s, inclusion_offset),
                 _binding(heads[b], heads[runs[k + 1][2]], e + ONE, inclusion_offset)
                 if k + 1 < len(runs) else (Binding(None, "end of the horizon"),))
        for k, (s, e, a, b) in enumerate(runs) if verdicts[a] != NOT_ELIGIBLE)
    ref = at(intervals[0].start) if intervals else at(first)
    if ref.deceased is not None:  # a death decides whatever the criteria say
        return Window(as_of, first, last, inclusion_offset, policy, intervals, (), (), ref)
    return Window(as_of, first, last, inclusion_offset, policy, intervals,
                  next_steps(turns, ref, first, last, inclusion_offset),
                  what_if(ref.results), ref)


def stretch_starts(protocol: Protocol, record: PatientRecord, as_of: date, first: date,
                   last: date, offset: int, every_day: bool = False,
                   policy: str = SCREENING) -> list[date]:
    """The first D0 of each stretch of the horizon over which no criterion can change
    status: `first`, and the change dates the rules name that fall after it, an
    inclusion date read as the D0 `offset` days later. Every D0 when a rule names none."""
    return list(_plan(protocol, prepared(record, as_of, policy)[0], as_of, first, last,
                      offset, every_day))


def _plan(protocol: Protocol, view: PatientRecord, as_of: date, first: date, last: date,
          offset: int, every_day: bool) -> dict[date, list[int] | None]:
    """stretch_starts, each with the criteria (indices) that may change status there;
    None: any may (every day is screened whole)."""
    named = None if every_day else criterion_changes(protocol, view, as_of)
    if named is None:
        return {first + timedelta(days=i): None for i in range((last - first).days + 1)}
    plan: dict[date, list[int] | None] = {first: None}
    for i, changes in enumerate(named):
        for d in {d if on == "d0" else shift(d, offset) for on, d in changes}:
            if first < d <= last:
                moved = plan.setdefault(d, [])
                assert moved is not None
                moved.append(i)
    return dict(sorted(plan.items()))


def _statuses(r: Results) -> tuple[Tri, ...]:
    return tuple(c.status for c in r)


def _binding(before: Results | None, after: Results | None, at: date,
             offset: int) -> tuple[Binding, ...]:
    """What makes the verdict change between the day before `at` and `at`: the bounds
    falling on `at` of the criteria that change there (a criterion that changes without
    naming a bound is named all the same)."""
    if before is None:
        why = "screening date" + (" + inclusion offset" if offset else "")
        return (Binding(None, f"first D0 considered ({why})"),)
    if after is None:
        return (Binding(None, "end of the horizon"),)
    changed = {c.criterion.id: (c.status, d.status)
               for c, d in zip(before, after, strict=True)
               if c.status is not d.status}
    found = {(cid, b): None for r in (before, after) for cid, b in _bounds(r)
             if breakpoint(b, offset) == at}
    shown = [Binding(cid, _dated(b), b.source, b) for cid, b in found if cid in changed]
    named = {b.criterion for b in shown}
    shown += [Binding(cid, f"{cid} turns from {old.value} to {new.value} on D0 {at}")
              for cid, (old, new) in changed.items() if cid not in named]
    return tuple(shown) or tuple(Binding(cid, _dated(b), b.source, b) for cid, b in found)


def _dated(b: Bound) -> str:
    text = b.reason.replace("this date", str(b.date))
    if str(b.date) in text:
        return text
    return f"{b.reason}: {b.on} {'on or after' if b.side == 'from' else 'up to'} {b.date}"


def next_steps(results: list[Results], ref: ScreeningResult, first: date,
               last: date, offset: int) -> tuple[Step, ...]:
    """Dated actions: waits still to run, results that expire in the horizon, missing items."""
    steps: dict[tuple, Step] = {}
    for r in results:
        for cid, b in _bounds(r):
            d = breakpoint(b, offset)
            key = (cid, b.on, b.side, b.date, b.reason)
            if b.side == "from" and d > first:
                d0 = f"D0 on or after {d}" if b.on == "d0" else (
                    f"inclusion on or after {b.date}" + (f" (D0 on or after {d})" if offset
                                                        else ""))
                steps.setdefault(key, Step(b.date, cid, f"{_wait(b)}, so {d0}", b.source))
            elif b.side == "until" and d <= last:
                later = "D0" if b.on == "d0" else "inclusion"
                steps.setdefault(key, Step(b.date, cid, f"{_dated(b)}: "
                                           + (b.after or f"repeat it for a later {later}"),
                                           b.source))
    for c in ref.results:
        if c.status is Tri.UNKNOWN:
            for m in c.outcome.missing:
                steps.setdefault((c.criterion.id, m), Step(ref.dates.as_of, c.criterion.id,
                                                           f"needed: {m}"))
    merged: dict[tuple, Step] = {}  # one step per record and date, naming every criterion
    for (cid, *rest), st in steps.items():
        key = tuple(rest) if len(rest) == 4 else (cid, *rest)
        old = merged.get(key)
        merged[key] = st if old is None else replace(old, criterion=f"{old.criterion}, {cid}")
    return tuple(sorted(merged.values(), key=lambda s: (s.date, s.criterion, s.action)))


def _wait(b: Bound) -> str:
    if "ongoing" in b.reason:
        return f"stop it: {b.reason}"
    return b.reason


def what_if(results: tuple[CriterionResult, ...]) -> tuple[WhatIf, ...]:
    """For each unknown criterion: the verdict if it were met, and if it were not."""
    unknown = [c for c in results if c.status is Tri.UNKNOWN]

    def setting(cid: str, status: Tri) -> str:
        return verdict(tuple(replace(c, outcome=replace(c.outcome, status=status))
                             if c.criterion.id == cid else c for c in results))

    def good(c: CriterionResult) -> Tri:
        return Tri.NOT_MET if c.criterion.category == EXCLUSION else Tri.MET

    waiting: dict[str, set[str]] = {}  # item -> criteria waiting for it
    for c in unknown:
        for m in c.outcome.missing:
            waiting.setdefault(item(m), set()).add(c.criterion.id)
    out = []
    for c in unknown:
        cid = c.criterion.id
        met, not_met = setting(cid, Tri.MET), setting(cid, Tri.NOT_MET)
        alone = (met if good(c) is Tri.MET else not_met) == ELIGIBLE
        group = set().union({cid}, *(waiting[item(m)] for m in c.outcome.missing))
        together = verdict(tuple(replace(x, outcome=replace(x.outcome, status=good(x)))
                                 if x.criterion.id in group else x for x in results))
        shared = max((len(waiting[item(m)]) for m in c.outcome.missing), default=1)
        out.append(WhatIf(cid, c.criterion.category, met, not_met, alone,
                          together == ELIGIBLE, c.outcome.missing, shared))
    return tuple(sorted(out, key=lambda w: (not w.settles_alone, not w.settles_with_shared,
                                            -w.shared, w.criterion)))


def item(missing: str) -> str:
    """What a missing item asks for, without its dates: 'GFR by 51Cr-EDTA result dated
    from X to Y' and 'GFR by 51Cr-EDTA dated from X to Y' ask for the same test."""
    return re.split(r" (?:result )?dated ", missing)[0].strip().lower()
