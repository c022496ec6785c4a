"""Rules on the person: age, performance status, consent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.dates import shift
from trialsieve.logic import Tri
from trialsieve.record import ConsentRecord, Ignored, PatientRecord, day
from trialsieve.record.statements import about, from_consent, newest
from trialsieve.rules.attest import statement_evidence, undecided
from trialsieve.rules.base import (
    Bound,
    Change,
    Context,
    Evidence,
    Outcome,
    Quantity,
    on_inclusion,
    outcome,
)
from trialsieve.rules.labs import newest_expiry


def birthday(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # born on 29 February: the birthday is 1 March in common years
        return date(born.year + years, 3, 1)


@dataclass(frozen=True)
class AgeAtLeast:
    years: int

    def describe(self) -> str:
        return f"age >= {self.years} years on the inclusion date"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        p = record.patient
        if p.birth_date is None:
            return []
        return [on_inclusion(birthday(p.birth_date, self.years)),
                on_inclusion(birthday(p.birth_latest or p.birth_date, self.years))]

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        p = record.patient
        if p.birth_date is None:
            return outcome(Tri.UNKNOWN, "birth date unknown", missing=["the birth date"])
        # A partial birth date is an interval of days: decided only where every day of it
        # decides the same way (notes). The criterion surely holds from the latest day's
        # birthday; before the earliest day's, it surely does not.
        first, last = p.birth_date, p.birth_latest or p.birth_date
        earliest_turn, turns = birthday(first, self.years), birthday(last, self.years)
        age = _age(last, ctx.inclusion)
        shown = str(first) if first == last else f"between {first} and {last}"
        ev = Evidence(p.source, first, "birth date", f"age {age} at inclusion" if first == last
                      else f"born {shown}: age {age}-{_age(first, ctx.inclusion)} at inclusion",
                      quantity=Quantity(age, "a") if first == last else None)
        bound = Bound("inclusion", "from", turns, f"{self.years}th birthday"
                      + ("" if first == last else " (latest possible)"), p.source)
        bounds = [bound] if first == last else [
            Bound("inclusion", "from", earliest_turn, f"{self.years}th birthday (earliest "
                  "possible)", p.source), bound]
        if ctx.inclusion >= turns:
            return outcome(Tri.MET, f"age {age} on {ctx.inclusion}", evidence=[ev],
                           bounds=bounds)
        if ctx.inclusion < earliest_turn:
            return outcome(Tri.NOT_MET, f"age {_age(first, ctx.inclusion)} on "
                           f"{ctx.inclusion}", evidence=[ev], bounds=bounds)
        return outcome(Tri.UNKNOWN, f"born {shown}: {self.years} on {ctx.inclusion} or not",
                       evidence=[ev], bounds=bounds,
                       missing=[f"the exact birth date (partial: {shown})"])


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass(frozen=True)
class EcogAtMost:
    score: int
    fresh_days: int = 28

    def describe(self) -> str:
        return f"latest ECOG within {self.fresh_days} days before D0 <= {self.score}"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return newest_expiry(record.ecog, self.fresh_days)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        dated = [e for e in record.ecog if e.date is not None and e.date <= ctx.d0]
        lo = shift(ctx.d0, -self.fresh_days)
        settle = f"an ECOG performance status assessed from {lo} to {ctx.d0}"
        undated = [e for e in record.ecog if e.date is None]
        if undated:  # it may be the newest: no dated score decides in its place (notes)
            names = ", ".join(e.source for e in undated)
            return outcome(Tri.UNKNOWN, f"ECOG with no date ({names}): it cannot show "
                           "freshness", ignored=[Ignored(e.source, e.problem or "no date")
                                                 for e in undated],
                           missing=[f"the assessment date of {names}, or {settle}"])
        if not dated:
            return outcome(Tri.UNKNOWN, "no ECOG performance status", missing=[settle])
        # the newest; of several that day, an unreadable one first (it must not be hidden)
        last = max(dated, key=lambda e: (day(e), e.score is None or bool(e.problem)))
        bound = Bound("d0", "until", shift(day(last), self.fresh_days),
                      f"ECOG of {last.date} is valid for D0 up to this date", last.source)
        ignored = [Ignored(e.source, f"older than the ECOG of {last.date}")
                   for e in dated if e is not last]
        if day(last) < lo:
            return outcome(Tri.UNKNOWN, f"ECOG of {last.date} is older than "
                           f"{self.fresh_days} days before D0", missing=[settle],
                           ignored=[*ignored, Ignored(last.source, "too old")], bounds=[bound])
        if last.score is None or last.problem:  # the newest cannot decide (unreadable,
            # preliminary): no older score decides in its place
            return outcome(Tri.UNKNOWN, f"the newest ECOG ({last.date}) cannot be read",
                           ignored=[*ignored, Ignored(last.source, f"{last.problem}: the "
                                                      "value cannot be read")],
                           missing=[f"a readable ECOG in place of {last.source} "
                                    f"({last.problem})"], bounds=[bound])
        # an unreadable score that day would be `last` (read above): these are all numbers
        same_day = {e.score for e in dated if e.date == last.date and e.score is not None
                    and not e.problem}
        ev = Evidence(last.source, last.date, "ECOG performance status", str(last.score),
                      quantity=Quantity(last.score, "{score}"))
        if len(same_day) > 1:
            return outcome(Tri.UNKNOWN, f"ECOG scores of {last.date} disagree: "
                           f"{sorted(same_day)}", evidence=[ev], bounds=[bound],
                           missing=[f"which ECOG of {last.date} is valid"])
        return outcome(Tri.of(last.score <= self.score), f"ECOG {last.score} on {last.date}",
                       evidence=[ev], ignored=ignored, bounds=[bound])


@dataclass(frozen=True)
class ConsentBeforeInclusion:
    """Written informed consent to this study: a research consent naming the study (one
    of `study_ids`) that permits, dated on or before the inclusion date; or an answer.

    Consents and answers are statements of one fact: the newest decides (a newer "consent
    withdrawn / not obtained" outweighs a signed Consent; a Consent that denies is no
    consent). Consents of another kind or study, or undated, are not about it."""

    study_ids: tuple[str, ...] = ()

    def describe(self) -> str:
        return (f"research consent (active) naming the study ({' / '.join(self.study_ids)}) "
                "dated on or before inclusion, or attested; the newest statement decides")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        # statements are read up to min(as_of, inclusion): the screening date, for every
        # inclusion on or after it; no answer to this question ages
        return []

    def _why_not(self, c: ConsentRecord) -> str | None:
        if not c.research:
            return "not a research consent (scope/category research)"
        if not set(c.studies) & set(self.study_ids):
            named = f" (names {', '.join(c.studies)})" if c.studies else ""
            return f"does not name this study{named}"
        if c.date is None:
            return "consent without a date"
        return None

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        why = {c.source: self._why_not(c) for c in record.consents}
        other = [Ignored(c.source, why[c.source] or "") for c in record.consents
                 if why[c.source]]
        statements = [from_consent(c) for c in record.consents if why[c.source] is None]
        statements += about(record, "informed-consent", ctx.as_of)
        s = newest(statements, min(ctx.as_of, ctx.inclusion))
        ignored = [*other, *s.ignored]
        settle = (f"signed informed consent to this study ({self.study_ids[0]}) dated on or "
                  f"before {ctx.inclusion}")
        if s.unsettled:
            out = undecided(s, "informed consent", settle)
            return replace(out, ignored=tuple(ignored))
        if s.value is None:
            return outcome(Tri.UNKNOWN, "no written informed consent to this study on record",
                           ignored=ignored, missing=[settle])
        last = s.newest[0]
        ev = [statement_evidence(x) for x in s.newest]
        if not s.value:
            return outcome(Tri.NOT_MET, f"consent refused, withdrawn or not obtained "
                           f"({last.source}, {last.stated or 'undated'})", evidence=ev,
                           ignored=ignored)
        if last.origin == "Consent":
            return outcome(Tri.MET, f"written consent to this study dated {last.stated}",
                           evidence=ev, ignored=ignored,
                           bounds=[Bound("inclusion", "from", last.stated or ctx.inclusion,
                                         "consent date", last.source)])
        return outcome(Tri.MET, "consent attested", evidence=ev, ignored=ignored)
