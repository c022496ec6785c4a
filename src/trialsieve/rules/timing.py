"""Time-bounded rules: wash-outs and waiting times, each exposing its bound on D0 or inclusion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from trialsieve.codes import E3_DRUG_CLASSES
from trialsieve.logic import Tri
from trialsieve.record import Exposure, Ignored, PatientRecord, ProcedureRecord
from trialsieve.rules.attest import (
    answer_bound,
    said,
    said_changes,
    settle_text,
    statement_evidence,
    undecided,
)
from trialsieve.rules.base import (
    Bound,
    Change,
    Context,
    Evidence,
    Outcome,
    absent,
    days,
    on_d0,
    on_inclusion,
    outcome,
)


@dataclass(frozen=True)
class Event:
    """A dated event a waiting time runs from (a dose, an operation, a session).

    Its last day may be known only as an interval, [last, last_latest]: a partial date, or
    a course stopped on an unknown day after its start (protocol notes, "Dates").
    """

    source: str
    label: str
    last: date | None  # last dose / session (its first possible day); None when unknown
    ongoing: bool = False  # still given at the screening date
    counts: bool | None = True  # None: the record cannot say whether it is of this kind
    doubt: str = ""  # what would settle `counts` when None
    last_latest: date | None = None  # the last possible day, when not `last` itself

    @property
    def latest(self) -> date | None:
        return self.last_latest or self.last


def last_dose_span(e: Exposure, as_of: date) -> tuple[date | None, date | None]:
    """The first and last possible day of the last dose of an exposure not ongoing.

    A single administration: its day (a month-only date: any day of that month). A
    recorded end: that day (a partial end: its days).
    A start and no end (stopped, completed...): some day from the start to the date the
    status was stated (dateAsserted), or to the screening date when that is not given.
    """
    if e.single_dose:
        return e.start, e.latest_start
    if e.end is not None:
        return e.end, e.end_latest or e.end
    if e.start is None:
        return None, None
    return e.start, max(e.start, e.status_date or as_of)


def is_ongoing(e: Exposure) -> bool:
    return e.end is None and not e.single_dose and e.status in ("active", "in-progress")


def _exposure_event(e: Exposure, as_of: date) -> Event:
    label = f"{e.drug} ({e.drug_class})"
    if is_ongoing(e):
        return Event(e.source, label, e.start, ongoing=True)
    first, last = last_dose_span(e, as_of)
    return Event(e.source, label, first, last_latest=last if last != first else None)


def surgeries(record: PatientRecord, ctx: Context) -> list[Event]:
    return [
        Event(p.source, p.display, p.date, p.ongoing, counts=p.major,
              doubt=f"whether {p.display} ({p.source}) was major surgery",
              last_latest=_session_latest(p, ctx))
        for p in record.procedures
        if p.kind == "surgery" and p.major is not False
    ] + unrecognised(record, ctx, "a major surgery")


def anticancer_therapies(record: PatientRecord, ctx: Context) -> list[Event]:
    drugs = [_exposure_event(e, ctx.as_of) for e in record.exposures
             if e.drug_class in E3_DRUG_CLASSES]
    kinds = ("radiotherapy", "radionuclide", "embolisation")
    sessions = [Event(p.source, f"{p.display} ({p.kind})", p.date or p.start, p.ongoing,
                      last_latest=_session_latest(p, ctx))
                for p in record.procedures if p.kind in kinds]
    return drugs + sessions + unrecognised(record, ctx, "an anticancer therapy")


def _session_latest(p: ProcedureRecord, ctx: Context) -> date | None:
    """The last possible day of a procedure: a course with a start and no end, completed or
    stopped, ended on an unknown day up to the screening date (notes, "Dates")."""
    if p.open_end and not p.ongoing:
        return max(p.date_latest or p.date or ctx.as_of, ctx.as_of)
    return p.date_latest


def unrecognised(record: PatientRecord, ctx: Context, kind: str) -> list[Event]:
    """Procedures whose code no table reads: in the window, whether one was `kind` is
    unknown (notes, "A code the program cannot read is not a 'no'"), even with the
    history declared complete; outside it, irrelevant."""
    return [Event(p.source, p.display, p.date or p.start, p.ongoing, counts=None,
                  doubt=f"what {p.display} ({p.source}) was: its code is not one trialsieve "
                        f"reads (was it {kind}?)", last_latest=_session_latest(p, ctx))
            for p in record.procedures if p.kind == "other"]


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

    A record is not a complete history (notes): events on record that are all old enough
    do not show that none was recent. The criterion is not met only on an explicit
    negative for the window: a "no" to `attestation`, or a "yes" to `history` (the
    history of such events on record is complete). A "yes" to `attestation` asserts
    the event. Under pre-screening the absence of a recent event is assumed, and said.
    """

    kind: str  # key of SELECTORS
    within_days: int
    attestation: str  # question: "an event of this kind in the window?"
    history: str  # question: "the history of such events on record is complete?"

    def describe(self) -> str:
        return f"{self.kind} in the {self.within_days} days before inclusion"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        """The inclusion dates `_judge` compares with (an event's day, the end of its wait
        from its first and its last possible day) and the answers going stale."""
        found = said_changes(record, self.attestation, as_of)
        found += said_changes(record, self.history, as_of)
        wait = days(self.within_days)
        for e in SELECTORS[self.kind](record, Context(as_of, as_of, as_of)):
            ends = (e.latest or as_of) + wait
            found.append(on_inclusion(max(ends, as_of + wait) if e.ongoing else ends))
            if e.last is not None:
                found += [on_inclusion(e.last), on_inclusion(e.last + wait)]
        return found

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        events = SELECTORS[self.kind](record, ctx)
        parts = [self._judge(e, ctx) for e in events]
        bounds = [b for p in parts for b in p.bounds]
        set_aside = [i for p in parts for i in p.ignored]
        met = [p for p in parts if p.status is Tri.MET]
        if met:  # a recorded recent event outweighs any statement
            return _combine(Tri.MET, met, parts)
        a = said(record, self.attestation, ctx)
        stale = list(a.ignored)
        if a.unsettled:
            return replace(undecided(a, f"{self.kind} in the {self.within_days} days before "
                                        "inclusion", settle_text(self.attestation, ctx)),
                           bounds=tuple(bounds))
        # An answer speaks up to its date: an undecided event not shown to be before it
        # (a later operation of unknown kind) is not settled by it (notes).
        unknown = [p for e, p in zip(events, parts, strict=True) if p.status is Tri.UNKNOWN
                   and (a.stated is None or e.latest is None or e.latest > a.stated)]
        if a.value is not None and (a.value or not unknown):
            status = Tri.MET if a.value else Tri.NOT_MET
            said_ = "" if a.value else "no "
            return outcome(status, f"{said_}{self.kind} in the {self.within_days} days before "
                           "inclusion (attested)", evidence=[statement_evidence(a.newest[0])],
                           ignored=set_aside + stale,
                           bounds=bounds + answer_bound(a.newest[0]))
        unknown = unknown if a.value is not None else [p for p in parts
                                                       if p.status is Tri.UNKNOWN]
        if unknown:
            out = _combine(Tri.UNKNOWN, unknown, parts)
            return replace(out, ignored=out.ignored + tuple(stale))
        h = said(record, self.history, ctx)
        stale += h.ignored
        if h.value:
            return outcome(Tri.NOT_MET, f"no {self.kind} in the {self.within_days} days "
                           "before inclusion: the history on record is declared complete",
                           evidence=[statement_evidence(h.newest[0])],
                           ignored=set_aside + stale, bounds=bounds + answer_bound(h.newest[0]))
        settle = (f"an attestation of no {self.kind} in the {self.within_days} days before "
                  f"inclusion, or that the {self.kind} history on record is complete")
        summary = (f"the {self.kind} on record is older than {self.within_days} days before "
                   "inclusion, and a record is not a complete history" if parts
                   else f"no {self.kind} on record")
        out = absent(ctx, summary, settle)
        return replace(out, ignored=tuple(set_aside + stale), bounds=tuple(bounds))

    def _judge(self, e: Event, ctx: Context) -> Outcome:
        ev = Evidence(e.source, e.last, e.label, "ongoing" if e.ongoing else (
            f"ended on an unknown day up to {e.latest}" if e.last_latest else None))
        if e.last is None and not e.ongoing:
            return outcome(Tri.UNKNOWN, f"{e.label}: date unknown", evidence=[ev],
                           missing=[f"the date of {e.label} ({e.source})"])
        # from here, one that is not ongoing has a date (e.last)
        if not e.ongoing and e.last is not None and ctx.inclusion < e.last <= ctx.as_of:
            # recorded after a past inclusion date
            return outcome(Tri.NOT_MET, f"{e.label} after inclusion",
                           ignored=[Ignored(e.source, "dated after the inclusion date")],
                           bounds=[Bound("inclusion", "until", e.last - days(1),
                                         f"before {e.label} of {e.last}", e.source)])
        latest = e.latest or ctx.as_of  # ongoing with no start: given up to the screening date
        ends = latest + days(self.within_days)
        if e.ongoing:
            ends = max(ends, ctx.as_of + days(self.within_days))
        when = e.last if not e.last_latest else f"{e.last} to {e.last_latest}"
        bounds = [Bound("inclusion", "from", ends,
                        f"{self.within_days} days after {e.label} of {when}", e.source)]
        if e.last_latest and not e.ongoing and e.last is not None:  # may no longer exclude
            bounds.insert(0, Bound("inclusion", "from", e.last + days(self.within_days),
                                   f"{self.within_days} days after the first possible day "
                                   f"of {e.label}", e.source))
        if ctx.inclusion >= ends:
            return outcome(Tri.NOT_MET, f"{e.label} on {when}: "
                           f"{(ctx.inclusion - latest).days} days before inclusion",
                           ignored=[Ignored(e.source, f"more than {self.within_days} days "
                                            "before inclusion")], bounds=bounds)
        if e.counts is None:
            return outcome(Tri.UNKNOWN, f"{e.label} on {when}", evidence=[ev],
                           missing=[e.doubt], bounds=bounds)
        if (not e.ongoing and e.last is not None
                and ctx.inclusion >= e.last + days(self.within_days)):
            return outcome(Tri.UNKNOWN, f"{e.label}: last day between {e.last} and "
                           f"{e.last_latest}, inside or outside the {self.within_days} days",
                           evidence=[ev], bounds=bounds,
                           missing=[f"the date of the last dose or session of {e.label} "
                                    f"({e.source})"])
        if e.ongoing:
            said = "ongoing before"
        elif latest <= ctx.inclusion:
            said = f"{(ctx.inclusion - latest).days} days before"
        else:
            said = "planned to end after"  # a course under way
        return outcome(Tri.MET, f"{e.label} on {when}: {said} inclusion",
                       evidence=[ev], bounds=bounds)


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

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        """Either wait counted from the first and from the latest possible last dose."""
        found = said_changes(record, "prior-net-systemic-therapy", as_of)
        for e in record.exposures:
            ev = _exposure_event(e, as_of)
            if e.drug_class != "ssa" or ev.last is None:
                continue
            start = max(ev.last, as_of) if ev.ongoing else (ev.latest or ev.last)
            found += [on_d0(d + days(w)) for d in (start, ev.last)
                      for w in (self.long_days, self.short_days)]
        return found

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        ssas = [e for e in record.exposures if e.drug_class == "ssa"]
        if not ssas:
            a = said(record, "prior-net-systemic-therapy", ctx)
            if a.value is False:
                return outcome(Tri.MET, "never received an SSA (attested)",
                               evidence=[statement_evidence(a.newest[0])])
            settle = "the medication history: last SSA injection date and form, or none"
            return absent(ctx, "no somatostatin analogue on record", settle, Tri.MET)
        parts = [self._judge(e, ctx) for e in ssas]
        worst = next((s for s in (Tri.NOT_MET, Tri.UNKNOWN) if any(p.status is s for p in parts)),
                     Tri.MET)
        shown = [p for p in parts if p.status is worst]
        return _combine(worst, shown, parts)

    def _judge(self, e: Exposure, ctx: Context) -> Outcome:
        ev = _exposure_event(e, ctx.as_of)
        evidence = Evidence(e.source, ev.last, e.drug, f"{e.ssa_form or 'unknown'}-acting form",
                            "ongoing" if ev.ongoing else (
                                f"ended on an unknown day up to {ev.latest}"
                                if ev.last_latest else None))
        if ev.last is None:
            return outcome(Tri.UNKNOWN, f"{e.drug}: date unknown", evidence=[evidence],
                           missing=[f"the last dose date of {e.drug} ({e.source})"])
        # the wash-out runs from the latest possible last dose
        start = max(ev.last, ctx.as_of) if ev.ongoing else ev.latest
        assert start is not None
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
        if ev.last_latest and not ev.ongoing:  # ended some day in [ev.last, ev.last_latest]
            could = self.short_days if e.ssa_form is None else wait
            maybe = Bound("d0", "from", ev.last + days(could), f"{could} days after the "
                          f"first possible last dose of {e.drug}", e.source)
            if (ctx.d0 - ev.last).days >= could:
                return outcome(Tri.UNKNOWN, f"{e.drug} ended on an unknown day from {ev.last} "
                               f"to {ev.last_latest}", evidence=[evidence],
                               bounds=[bound, maybe],
                               missing=[f"the date of the last dose of {e.drug} ({e.source})"])
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
