"""Laboratory rules: the most recent result within a freshness window against a limit."""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from datetime import date

from trialsieve.codes import LAB_TESTS
from trialsieve.dates import shift
from trialsieve.logic import Tri
from trialsieve.record import Damaged, Ignored, LabResult, PatientRecord, day, newest_of_day
from trialsieve.rules.base import (
    Bound,
    Change,
    Context,
    Evidence,
    Outcome,
    Quantity,
    fmt_num,
    on_d0,
    outcome,
    stale_from,
    unless_damaged,
)

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


def fresh_results(
    record: PatientRecord, test: str, ctx: Context, fresh_days: int
) -> tuple[list[LabResult], LabResult | None]:
    """Results of `test` dated within `fresh_days` before D0, and the latest one overall.

    A result exactly `fresh_days` before D0 is fresh (a limit holds at its bound).
    """
    dated = [r for r in record.labs_of(test) if r.date is not None and r.date <= ctx.d0]
    last = max(dated, key=day, default=None)
    lo = shift(ctx.d0, -fresh_days)
    return [r for r in dated if day(r) >= lo], last


def newest_expiry(items: list, fresh_days: int) -> list[Change]:
    """Where a freshness window on D0 changes its reading: the newest dated item going
    stale. Every item of the view is dated on or before the screening date, so on or
    before D0: the newest is the one read while it is fresh, and once it is stale every
    older one is too (the ones of its day leave with it)."""
    dated = [i.date for i in items if i.date is not None]
    return [on_d0(stale_from(max(dated), fresh_days))] if dated else []


def _same_time_conflict(newest: list[LabResult]) -> list[LabResult]:
    """The newest results, when they disagree (same day with no time to order them, or
    the same time)."""
    same = [r for r in newest if r.std_value is not None]
    return same if len({r.std_value for r in same}) > 1 else []


def _when(r: LabResult) -> str:
    return f"{r.date} {r.time}" if r.time else str(r.date)


def _compare(value: float, comparator: str | None, op: str, limit: float) -> Tri:
    """Compare a result that may be censored ("< 9" means some value below 9) against a
    limit: met when every value it may stand for meets it, not met when none does."""
    if comparator is None:
        return Tri.of(OPS[op](value, limit))
    below = comparator in ("<", "<=")  # the result is a bound: the value is on this side
    strict = comparator in ("<", ">")
    # Values that meet `op limit` lie above the limit for >=, > and below it for <=, <.
    wants_above = op in (">=", ">")
    if below == wants_above:
        # e.g. "< 9" against ">= 9": none meets when the bound does not pass the limit.
        none = OPS[op](value, limit) is False or (strict and value == limit)
        return Tri.NOT_MET if none else Tri.UNKNOWN
    # e.g. "> 200" against ">= 100": all meet when the bound itself meets the limit
    # (a strict bound equal to a strict limit meets it too: "> 70" is "> 70").
    every = OPS[op](value, limit) or (strict and value == limit)
    return Tri.MET if every else Tri.UNKNOWN


@dataclass(frozen=True)
class LabThreshold:
    """The latest `test` result within `fresh_days` before D0 satisfies `op limit`.

    With `uln=True` the limit is a multiple of the upper limit of normal reported with
    that same result. `context` tests are shown but cannot satisfy the rule (eGFR for
    a 51Cr-EDTA GFR).
    """

    test: str
    op: str
    limit: float
    uln: bool = False
    fresh_days: int = 28
    context: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return LAB_TESTS[self.test].label

    def limit_text(self) -> str:
        unit = "x ULN" if self.uln else LAB_TESTS[self.test].unit
        return f"{self.op} {fmt_num(self.limit)} {unit}"

    def describe(self) -> str:
        return (f"latest {self.label} within {self.fresh_days} days before D0 "
                f"{self.limit_text()}")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return newest_expiry(record.labs_of(self.test), self.fresh_days)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        out = self._evaluate(record, ctx)
        # Results of this test set aside by the reader (entered-in-error, cancelled): listed
        # here with their reason, so the user sees why they did not count.
        void = tuple(i for i in record.ignored if getattr(i, "about", None) == self.test)
        out = replace(out, ignored=out.ignored + void) if void else out
        # A result of this test that could not be read at all (its date, its code) might
        # be the newest: the rule is not met on the others.
        return unless_damaged(out, [i for i in void if isinstance(i, Damaged)], Tri.MET)

    def _evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        fresh, last = fresh_results(record, self.test, ctx, self.fresh_days)
        ctx_ev = [_context_evidence(r) for t in self.context for r in record.labs_of(t)]
        settle = (f"{self.label} result dated from {shift(ctx.d0, -self.fresh_days)} "
                  f"to {ctx.d0}")
        undated = [r for r in record.labs_of(self.test) if r.date is None]
        if undated:  # it may be the newest: no dated result decides in its place (notes)
            names = ", ".join(r.source for r in undated)
            return outcome(Tri.UNKNOWN, f"{self.label} with no date of the sample "
                           f"({names}): it cannot show freshness", evidence=ctx_ev,
                           ignored=[Ignored(r.source, r.problem or "no date") for r in undated],
                           missing=[f"the sample date of {names}, or a {settle}"])
        if not fresh:
            return self._stale(last, settle, ctx_ev)
        # the newest: of one day, the latest by time of day when each has one
        newest = newest_of_day(fresh)
        pick = min(newest, key=lambda r: r.source)
        ignored = [Ignored(r.source, f"older than the {self.label} of {_when(pick)}")
                   for r in fresh if r not in newest]
        bound = Bound("d0", "until", shift(day(pick), self.fresh_days),
                      f"{self.label} of {pick.date} is valid for D0 up to this date",
                      pick.source)
        unreadable = [r for r in newest if r.problem]
        if unreadable:
            return self._unreadable(unreadable, [r for r in fresh if r not in newest], bound,
                                    ctx_ev)
        conflict = _same_time_conflict(newest)
        if conflict:
            shown = " and ".join(r.shown() for r in conflict)
            return outcome(Tri.UNKNOWN, f"{self.label}: two results on {pick.date} disagree",
                           evidence=[_evidence(r) for r in conflict] + ctx_ev,
                           missing=[f"which {self.label} of {pick.date} is valid ({shown})"],
                           bounds=[bound])
        return self._judge(pick, bound, ignored, ctx_ev)

    def _unreadable(self, bad: list[LabResult], older: list[LabResult], bound: Bound,
                    ctx_ev: list) -> Outcome:
        """The newest result cannot be read: unknown, naming it. An older result never
        decides in its place (it may be older for a reason: the newest was repeated)."""
        when = _when(bad[0])
        ignored = [Ignored(r.source, f"newest {self.label} ({when}) cannot be read: "
                           f"{r.problem}") for r in bad]
        ignored += [Ignored(r.source, f"older than the unreadable {self.label} of {when}")
                    for r in older]
        names = ", ".join(r.source for r in bad)
        return outcome(Tri.UNKNOWN, f"newest {self.label} ({when}) cannot be read: "
                       f"{bad[0].problem}", evidence=ctx_ev, ignored=ignored, bounds=[bound],
                       missing=[f"a readable {self.label} (or a correction of {names})"])

    def _stale(self, last: LabResult | None, settle: str, ctx_ev: list) -> Outcome:
        if last is None:
            return outcome(Tri.UNKNOWN, f"no {self.label} result", missing=[settle],
                           evidence=ctx_ev)
        return outcome(
            Tri.UNKNOWN,
            f"{self.label} of {last.date} is older than {self.fresh_days} days before D0",
            ignored=[Ignored(last.source, f"dated {last.date}: more than "
                             f"{self.fresh_days} days before D0")],
            missing=[settle],
            evidence=ctx_ev,
            bounds=[Bound("d0", "until", shift(day(last), self.fresh_days),
                          f"{self.label} of {last.date} is valid for D0 up to this date",
                          last.source)],
        )

    def _judge(self, r: LabResult, bound: Bound, ignored: list, ctx_ev: list) -> Outcome:
        ev = _evidence(r)
        if r.std_value is None:
            return outcome(Tri.UNKNOWN, f"{self.label} {r.shown()}: unit not convertible",
                           evidence=[ev], missing=[f"a {self.label} in a convertible unit"])
        limit = self.limit
        if self.uln:
            if r.std_ref_high is None:
                why = r.ref_problem or "has no reference range"
                return outcome(Tri.UNKNOWN, f"{self.label} {r.shown()}: {why}",
                               evidence=[ev, *ctx_ev], ignored=ignored, bounds=[bound],
                               missing=[f"the upper limit of normal of {r.source}"])
            limit = self.limit * r.std_ref_high
        status = _compare(r.std_value, r.comparator, self.op, limit)
        verb = {Tri.MET: "meets", Tri.NOT_MET: "fails", Tri.UNKNOWN: "cannot be judged against"}
        summary = (f"{self.label} {_as_recorded_and_converted(r)} on {r.date} "
                   f"{verb[status]} {self.limit_text()}")
        missing = [] if status is not Tri.UNKNOWN else [f"an uncensored {self.label} value"]
        return outcome(status, summary, evidence=[ev, *ctx_ev], ignored=ignored,
                       bounds=[bound], missing=missing)


def _as_recorded_and_converted(r: LabResult) -> str:
    """The value as recorded and, in another unit than the limit's, as compared: "5.5
    mmol/L fails >= 9 g/dL" left the reader to convert."""
    unit = LAB_TESTS[r.test].unit
    if r.std_value is None or r.unit == unit:
        return r.shown()
    return f"{r.shown()} (= {r.comparator or ''}{r.std_value:.4g} {unit})"


def _evidence(r: LabResult) -> Evidence:
    unit = LAB_TESTS[r.test].unit
    note = None
    if r.std_value is not None and r.unit != unit:
        note = f"= {r.std_value:.4g} {unit}"
    if r.ref_high is not None:
        note = (note + "; " if note else "") + f"ULN {r.ref_high:g} {r.ref_unit or r.unit}"
    return Evidence(r.source, r.date, LAB_TESTS[r.test].label, r.shown(), note,
                    **lab_values(r))


def _context_evidence(r: LabResult) -> Evidence:
    return Evidence(r.source, r.date, LAB_TESTS[r.test].label, r.shown(),
                    "context only: does not satisfy this criterion", **lab_values(r))


def lab_values(r: LabResult) -> dict:
    """A lab result's value as data (Evidence.quantity / uln / code)."""
    return {
        "quantity": Quantity(r.value, r.unit, r.comparator) if r.value is not None else None,
        "uln": Quantity(r.ref_high, r.ref_unit or r.unit) if r.ref_high is not None else None,
        "code": r.coded_value[0] if r.coded_value else None,
    }
