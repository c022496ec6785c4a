"""Time-bounded rules: wash-outs and waiting times, each exposing its bound on D0 or inclusion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from trialsieve.codes import E3_DRUG_CLASSES
from trialsieve.logic import Tri
from trialsieve.record import Exposure, Ignored, PatientRecord
from trialsieve.rules.attest import answer_evidence, latest_answer
from trialsieve.rules.base import Bound, Context, Evidence, Outcome, absent, days, outcome


@dataclass(frozen=True)
class Event:
    """A dated event a waiting time runs from (a dose, an operation, a session)."""

    source: str
    label: str
    last: date | None  # last dose / session; None when unknown
    ongoing: bool = False  # still given at the screening date
    counts: bool | None = True  # None: the record cannot say whether it is of this kind
    doubt: str = ""  # what would settle `counts` when None


def last_dose(e: Exposure) -> date | None:
    return e.start if e.single_dose or e.end is None else e.end


def _exposure_event(e: Exposure) -> Event:
    ongoing = e.end is None and not e.single_dose and e.status in ("active", "in-progress")
    return Event(e.source, f"{e.drug} ({e.drug_class})", last_dose(e), ongoing)


def surgeries(record: PatientRecord, ctx: Context) -> list[Event]:
    return [
        Event(p.source, p.display, p.date, counts=p.major,
              doubt=f"whether {p.display} ({p.source}) was major surgery")
        for p in record.procedures
        if p.kind == "surgery" and p.major is not False
    ]


def anticancer_therapies(record: PatientRecord, ctx: Context) -> list[Event]:
    drugs = [_exposure_event(e) for e in record.exposures
             if e.drug_class in E3_DRUG_CLASSES]
    kinds = ("radiotherapy", "radionuclide", "embolisation")
    sessions = [Event(p.source, f"{p.display} ({p.kind})", p.date)
                for p in record.procedures if p.kind in kinds]
    return drugs + sessions


SELECTORS: dict[str, Callable[[PatientRecord, Context], list[Event]]] = {
    "major surgery": surgeries,
    "anticancer therapy": anticancer_therapies,
}


@dataclass(frozen=True)
class EventWithin:
    """Exclusion: an event of `kind` in the `within_days` before inclusion.

    An event exactly `within_days` before inclusion is outside (the waiting time is
    complete at its bound). Each event gives the inclusion date from which it no
    longer excludes.
    """

    kind: str  # key of SELECTORS
    within_days: int
    attestation: str  # question that answers "none" explicitly

    def describe(self) -> str:
        return f"{self.kind} in the {self.within_days} days before inclusion"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        events = SELECTORS[self.kind](record, ctx)
        parts = [self._judge(e, ctx) for e in events]
        for status in (Tri.MET, Tri.UNKNOWN):
            hits = [p for p in parts if p.status is status]
            if hits:
                return _combine(status, hits, parts)
        bounds = [b for p in parts for b in p.bounds]
        a, older = latest_answer(record, self.attestation)
        if a is not None and not a.answer:
            return outcome(Tri.NOT_MET, f"no {self.kind} in the {self.within_days} days "
                           "before inclusion (attested)", evidence=[answer_evidence(a)],
                           ignored=older + [i for p in parts for i in p.ignored],
                           bounds=bounds)
        if parts:  # events on record, all old enough: the record answers
            return _combine(Tri.NOT_MET, parts, parts)
        settle = (f"the date of the last {self.kind}, or an attestation of none in the "
                  f"{self.within_days} days before inclusion")
        return absent(ctx, f"no {self.kind} on record", settle)

    def _judge(self, e: Event, ctx: Context) -> Outcome:
        ev = Evidence(e.source, e.last, e.label, "ongoing" if e.ongoing else None)
        if e.last is None:
            return outcome(Tri.UNKNOWN, f"{e.label}: date unknown", evidence=[ev],
                           missing=[f"the date of {e.label} ({e.source})"])
        if ctx.inclusion < e.last <= ctx.as_of:  # recorded after a past inclusion date
            return outcome(Tri.NOT_MET, f"{e.label} after inclusion",
                           ignored=[Ignored(e.source, "dated after the inclusion date")],
                           bounds=[Bound("inclusion", "until", e.last - days(1),
                                         f"before {e.label} of {e.last}", e.source)])
        ends = e.last + days(self.within_days)
        if e.ongoing:
            ends = max(ends, ctx.as_of + days(self.within_days))
        bound = Bound("inclusion", "from", ends,
                      f"{self.within_days} days after {e.label} of {e.last}", e.source)
        if ctx.inclusion >= ends:
            return outcome(Tri.NOT_MET, f"{e.label} on {e.last}: "
                           f"{(ctx.inclusion - e.last).days} days before inclusion",
                           ignored=[Ignored(e.source, f"more than {self.within_days} days "
                                            "before inclusion")], bounds=[bound])
        if e.counts is None:
            return outcome(Tri.UNKNOWN, f"{e.label} on {e.last}", evidence=[ev],
                           missing=[e.doubt], bounds=[bound])
        when = ("ongoing before" if e.ongoing else f"{(ctx.inclusion - e.last).days} days before"
                if e.last <= ctx.inclusion else "planned to end after")  # a course under way
        return outcome(Tri.MET, f"{e.label} on {e.last}: {when} inclusion",
                       evidence=[ev], bounds=[bound])


def _combine(status: Tri, shown: list[Outcome], parts: list[Outcome]) -> Outcome:
    return Outcome(
        status,
        "; ".join(p.summary for p in shown),
        tuple(e for p in shown for e in p.evidence),
        tuple(i for p in parts for i in p.ignored),
        tuple(m for p in shown for m in p.missing),
        (),
        tuple(b for p in parts for b in p.bounds),
    )


@dataclass(frozen=True)
class SsaWashout:
    """Last long-acting SSA >= `long_days` before D0; short-acting >= `short_days`.

    The form comes from the product, route or schedule; when it is unknown, the
    rule decides only where both forms agree.
    """

    long_days: int = 28
    short_days: int = 2  # 48 hours, on dates

    def describe(self) -> str:
        return (f"last long-acting SSA >= {self.long_days} days and short-acting SSA >= "
                f"{self.short_days} days before D0")

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        ssas = [e for e in record.exposures if e.drug_class == "ssa"]
        if not ssas:
            a, _ = latest_answer(record, "prior-net-systemic-therapy")
            if a is not None and not a.answer:
                return outcome(Tri.MET, "never received an SSA (attested)",
                               evidence=[answer_evidence(a)])
            settle = "the medication history: last SSA injection date and form, or none"
            return absent(ctx, "no somatostatin analogue on record", settle, Tri.MET)
        parts = [self._judge(e, ctx) for e in ssas]
        worst = next((s for s in (Tri.NOT_MET, Tri.UNKNOWN) if any(p.status is s for p in parts)),
                     Tri.MET)
        shown = [p for p in parts if p.status is worst]
        return _combine(worst, shown, parts)

    def _judge(self, e: Exposure, ctx: Context) -> Outcome:
        ev = _exposure_event(e)
        evidence = Evidence(e.source, ev.last, e.drug, f"{e.ssa_form or 'unknown'}-acting form",
                            "ongoing" if ev.ongoing else None)
        if ev.last is None:
            return outcome(Tri.UNKNOWN, f"{e.drug}: date unknown", evidence=[evidence],
                           missing=[f"the last dose date of {e.drug} ({e.source})"])
        start = max(ev.last, ctx.as_of) if ev.ongoing else ev.last
        need = {"long": self.long_days, "short": self.short_days}
        wait = need.get(e.ssa_form or "", self.long_days)
        ok_from = start + days(wait)
        bound = Bound("d0", "from", ok_from, f"{wait} days after the last dose of {e.drug}"
                      + (" (ongoing: if stopped at the screening date)" if ev.ongoing else ""),
                      e.source)
        gap = (ctx.d0 - start).days
        label = f"{e.drug} last dose {start}" + (" (ongoing)" if ev.ongoing else "")
        if gap >= wait:
            if ev.ongoing:
                return outcome(Tri.UNKNOWN, label, evidence=[evidence], bounds=[bound],
                               missing=[f"the date {e.drug} is stopped (on or before "
                                        f"{ctx.d0 - days(wait)})"])
            return outcome(Tri.MET, f"{label}: {gap} days before D0", evidence=[evidence],
                           bounds=[bound])
        short_ok = Bound("d0", "from", start + days(self.short_days),
                         f"{self.short_days} days after {e.drug} if short-acting", e.source)
        if e.ssa_form is None and gap >= self.short_days:
            return outcome(Tri.UNKNOWN, f"{label}: {gap} days before D0, form unknown",
                           evidence=[evidence], bounds=[bound, short_ok],
                           missing=[f"whether {e.drug} ({e.source}) is long- or short-acting"])
        # form unknown: it becomes unknown (not met) once the short-acting wait is over
        bounds = [bound, short_ok] if e.ssa_form is None else [bound]
        return outcome(Tri.NOT_MET, f"{label}: only {gap} days before D0, {wait} needed",
                       evidence=[evidence], bounds=bounds)
