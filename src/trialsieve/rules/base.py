"""What every rule returns, the evaluation context, and the combinators.

A rule is a frozen dataclass with `evaluate(record, ctx) -> Outcome` and
`describe() -> str`. It is pure: the record and the dates in, the outcome out.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from trialsieve.logic import Tri, all_of, any_of
from trialsieve.record import Confirmation, Damaged, Ignored, PatientRecord

SCREENING = "screening"
PRE_SCREENING = "pre-screening"


@dataclass(frozen=True)
class Context:
    """The dates of one evaluation and the policy for absent records."""

    as_of: date
    inclusion: date
    d0: date
    policy: str = SCREENING


@dataclass(frozen=True)
class Evidence:
    """A record a result rests on: which resource, when, what it says."""

    source: str
    date: dt.date | None
    what: str
    value: str | None = None  # as a person reads it
    note: str | None = None
    # The value as data, for JSON and exports: a number with its UCUM unit as recorded,
    # the upper limit of normal reported with it, and a coded value (system, code).
    quantity: Quantity | None = None
    uln: Quantity | None = None
    code: tuple[str, str] | None = None
    # The sentence of a report it comes from (issue 21): a suggestion to confirm
    # (screening) or a fact counted "from text" (pre-screening).
    text: Quote | None = None


@dataclass(frozen=True)
class Quote:
    """Where in a report a text fact is written, and how it is used."""

    document: str  # Document.source
    kind: str  # pathology, imaging, clinic
    date: dt.date | None  # the report's date
    sentence: str
    start: int  # character offsets of the sentence in the document's text
    end: int
    modifiers: tuple[str, ...]  # ConText
    use: str  # "suggested" (to confirm), "confirmed", "from text" (counted)
    confirmed: Confirmation | None = None  # who confirmed it, when, in which resource


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str  # UCUM
    comparator: str | None = None


@dataclass(frozen=True)
class Bound:
    """A date at which a criterion changes for D0 or inclusion.

    side "from": the criterion holds (met for an inclusion, not met for an exclusion)
    for dates on or after `date`; side "until": it holds up to `date` included.
    """

    on: str  # "d0" or "inclusion"
    side: str  # "from" or "until"
    date: dt.date
    reason: str
    source: str | None = None
    # what a later date needs instead, when the record is past evidence that no repeat
    # can give again (a reference scan, a progression): None, the record is repeated
    after: str | None = None


@dataclass(frozen=True)
class Outcome:
    status: Tri
    summary: str
    evidence: tuple[Evidence, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    missing: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    bounds: tuple[Bound, ...] = ()


class Rule(Protocol):
    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome: ...

    def describe(self) -> str: ...


# Where a rule's result can change, for the eligibility window (window.py): a rule may
# define `changes(record, as_of) -> Iterable[Change]`, the dates at which its status or
# its bounds may differ from the day before: ("d0", t) when D0 moves from t - 1 to t,
# ("inclusion", t) likewise for the inclusion date (its summary may still say how many
# days: the window reads only status and bounds between these dates). `record` is the
# view on `as_of` (engine.visible_record: nothing dated after it), and only inclusion
# and D0 on or after `as_of` are asked about.
# A date too many costs one screening; a date left out makes the window wrong, so a rule
# that cannot name its dates defines no `changes` and the window screens every day.
Change = tuple[str, date]


def on_d0(d: date) -> Change:
    return ("d0", d)


def on_inclusion(d: date) -> Change:
    return ("inclusion", d)


def changes_of(rule: Rule, record: PatientRecord, as_of: date) -> list[Change] | None:
    """The rule's change dates, or None when it cannot name them (screen every day)."""
    named = getattr(rule, "changes", None)
    return None if named is None else list(named(record, as_of))


def changes_of_all(rules: Iterable[Rule], record: PatientRecord, as_of: date
                   ) -> list[Change] | None:
    found: list[Change] = []
    for r in rules:
        part = changes_of(r, record, as_of)
        if part is None:
            return None
        found += part
    return found


def stale_from(d: date, fresh_days: int) -> date:
    """The first date more than `fresh_days` after `d` (a result of `d` no longer fresh)."""
    try:
        return d + timedelta(days=fresh_days + 1)
    except OverflowError:
        return date.max


def leaves_months(d: date, months: int) -> date:
    """The first inclusion date whose `months` before it no longer reach back to `d`:
    the least i with add_months(i, -months) > d (add_months never decreases)."""
    i = add_months(d, months)
    if i == date.max:
        return date.max
    i -= timedelta(days=min(3, (i - date.min).days))
    while add_months(i, -months) <= d:
        i += timedelta(days=1)
    return i


def outcome(status: Tri, summary: str, **kw: Sequence) -> Outcome:
    return Outcome(status, summary, **{k: tuple(v) for k, v in kw.items()})


def absent(ctx: Context, summary: str, settle: str, assumed: Tri = Tri.NOT_MET) -> Outcome:
    """No record asserts or denies an event: the policy decides.

    Screening: unknown, and `settle` says what would decide. Pre-screening: the event
    is taken as absent (`assumed` is the status that gives), marked as an assumption.
    """
    if ctx.policy == PRE_SCREENING:
        return outcome(assumed, summary, assumptions=[f"{summary}: assumed absent"])
    return outcome(Tri.UNKNOWN, summary, missing=[settle])


def _merge(status: Tri, summary: str, parts: Sequence[Outcome]) -> Outcome:
    def cat(attr: str) -> tuple:
        seen: dict = {}
        for p in parts:
            for item in getattr(p, attr):
                seen.setdefault(item, None)
        return tuple(seen)

    return Outcome(
        status,
        summary,
        cat("evidence"),
        cat("ignored"),
        cat("missing"),
        cat("assumptions"),
        cat("bounds"),
    )


@dataclass(frozen=True)
class AllOf:
    rules: tuple[Rule, ...]

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        parts = [r.evaluate(record, ctx) for r in self.rules]
        status = all_of(p.status for p in parts)
        # A criterion not met names what fails, not the parts that are met.
        deciding = [p for p in parts if p.status is Tri.NOT_MET] or parts
        return _merge(status, "; ".join(p.summary for p in deciding), parts)

    def describe(self) -> str:
        return "all of: " + "; ".join(r.describe() for r in self.rules)

    def changes(self, record: PatientRecord, as_of: date) -> list[Change] | None:
        return changes_of_all(self.rules, record, as_of)


@dataclass(frozen=True)
class AnyOf:
    rules: tuple[Rule, ...]

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        parts = [r.evaluate(record, ctx) for r in self.rules]
        status = any_of(p.status for p in parts)
        deciding = [p for p in parts if p.status is status] or parts
        summary = "; ".join(p.summary for p in deciding)
        if status is Tri.MET:  # what was missing elsewhere no longer matters
            return replace(_merge(status, summary, parts), missing=(), bounds=_bounds(parts))
        return _merge(status, summary, parts)

    def describe(self) -> str:
        return "any of: " + "; ".join(r.describe() for r in self.rules)

    def changes(self, record: PatientRecord, as_of: date) -> list[Change] | None:
        return changes_of_all(self.rules, record, as_of)


def _bounds(parts: Sequence[Outcome]) -> tuple[Bound, ...]:
    return tuple(dict.fromkeys(b for p in parts for b in p.bounds))


@dataclass(frozen=True)
class NotImplemented:
    """A placeholder that says so: unknown, never a guess."""

    what: str

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        return outcome(Tri.UNKNOWN, f"rule not implemented: {self.what}",
                       missing=[f"rule not implemented: {self.what} (decide by hand)"])

    def describe(self) -> str:
        return f"not implemented: {self.what}"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return []  # unknown on every date


@dataclass(frozen=True)
class Undamaged:
    """`rule`, except that it cannot come out `favourable` (met for an inclusion, not met
    for an exclusion) while a record of a kind it reads was set aside as damaged: the
    missing record might have changed it. Then it is unknown and names the record.
    `reads`: kinds of fact (record.Damaged.about: "imaging", "symptom", lab test keys)."""

    rule: Rule
    reads: tuple[str, ...]
    favourable: Tri = Tri.MET

    def describe(self) -> str:
        return self.rule.describe()

    def changes(self, record: PatientRecord, as_of: date) -> list[Change] | None:
        # what is damaged is fixed by the record: only the wrapped rule moves with dates
        return changes_of(self.rule, record, as_of)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        out = self.rule.evaluate(record, ctx)
        damaged: list[Ignored] = [i for i in record.ignored
                                  if isinstance(i, Damaged) and i.about in self.reads]
        damaged += [Ignored(r.source, f"cannot be read: {r.problem}") for r in record.labs
                    if r.test in self.reads and r.problem]
        return unless_damaged(out, damaged, self.favourable)


def unless_damaged(out: Outcome, damaged: Sequence[Ignored], favourable: Tri) -> Outcome:
    """`out`, or unknown naming the damaged records when it was `favourable`."""
    if out.status is not favourable or not damaged:
        return out
    names = ", ".join(dict.fromkeys(d.source for d in damaged))
    return replace(out, status=Tri.UNKNOWN,
                   summary=f"{out.summary}; but {names} could not be read",
                   ignored=out.ignored + tuple(d for d in damaged if d not in out.ignored),
                   missing=out.missing + (f"a correction of {names}",))


def days(n: int) -> timedelta:
    return timedelta(days=n)


def add_months(d: date, months: int) -> date:
    """Calendar months: 2026-03-15 - 12 months = 2025-03-15 (29 Feb -> 28 Feb); held at
    the ends of the calendar (date.min, date.max) instead of leaving it."""
    y, m = divmod(d.month - 1 + months, 12)
    year = d.year + y
    if year < date.min.year:
        return date.min
    if year > date.max.year:
        return date.max
    return date(year, m + 1, min(d.day, calendar.monthrange(year, m + 1)[1]))


def fmt_num(value: float) -> str:
    return f"{value:g}"


def yes_no(value: bool | None) -> str:
    return "unknown" if value is None else "yes" if value else "no"
