"""screen(protocol, record, dates, policy) -> result. Pure: no files, no clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION, Criterion, Protocol
from trialsieve.record import Ignored, Mention, Patient, PatientRecord, Warning
from trialsieve.record.from_text import with_text_facts
from trialsieve.rules.base import PRE_SCREENING, SCREENING, Change, Context, Outcome, changes_of
from trialsieve.rules.text_evidence import visible, with_text

ELIGIBLE = "eligible"
NOT_ELIGIBLE = "not_eligible"
INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class Dates:
    as_of: date
    inclusion: date
    d0: date
    assumed: tuple[str, ...] = ()  # which of them were not given and defaulted

    @staticmethod
    def resolve(as_of: date, inclusion: date | None = None, d0: date | None = None) -> Dates:
        """Inclusion defaults to D0, D0 to inclusion, both to the screening date."""
        assumed = []
        if d0 is None:
            d0 = inclusion or as_of
            assumed.append("d0")
        if inclusion is None:
            inclusion = d0
            assumed.append("inclusion")
        if inclusion > d0:
            raise ValueError(f"inclusion date {inclusion} is after D0 {d0}")
        return Dates(as_of, inclusion, d0, tuple(assumed))


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    outcome: Outcome

    @property
    def status(self) -> Tri:
        return self.outcome.status


@dataclass(frozen=True)
class ScreeningResult:
    protocol: Protocol
    patient_id: str
    dates: Dates
    policy: str
    verdict: str
    results: tuple[CriterionResult, ...]
    warnings: tuple[Warning, ...]
    ignored: tuple[Ignored, ...]  # records not read at all (status, date after as-of)
    counts: dict
    patient: Patient | None = None  # demographics and the site's identifier (MRN)
    file: str = ""  # the input file the record came from
    # "deceased on DATE" when the record shows a death on or before the screening date
    # (the verdict is then not eligible, whatever the criteria say); "possibly deceased
    # ..." when a partial date of death straddles it (the verdict cannot be eligible).
    deceased: str | None = None
    # Pre-screening triage (population runs): why the criteria after the last of
    # `results` were not evaluated; None when every criterion was.
    set_aside: str | None = None
    # resources read and of no use to any criterion, with why (fhir/reader.py)
    unused: tuple[Ignored, ...] = ()

    def result(self, criterion_id: str) -> CriterionResult:
        return next(r for r in self.results if r.criterion.id == criterion_id)


def verdict(results: tuple[CriterionResult, ...]) -> str:
    """Eligible: every inclusion met, no exclusion met or unknown."""
    inc = [r.status for r in results if r.criterion.category == INCLUSION]
    exc = [r.status for r in results if r.criterion.category == EXCLUSION]
    if Tri.NOT_MET in inc or Tri.MET in exc:
        return NOT_ELIGIBLE
    if Tri.UNKNOWN in inc or Tri.UNKNOWN in exc:
        return INCOMPLETE
    return ELIGIBLE


def death(patient: Patient, as_of: date) -> tuple[bool | None, str | None]:
    """Whether the patient died on or before the screening date, and how to say it."""
    dead = patient.deceased_by(as_of)
    d = patient.deceased
    if d is None or dead is False:
        return False, None
    if d.date is None:
        return True, "deceased (date not recorded)"
    when = str(d.date) if (d.latest or d.date) == d.date else f"{d.date} to {d.latest}"
    return dead, f"deceased on {when}" if dead else f"possibly deceased ({when})"


def final_verdict(results: tuple[CriterionResult, ...], dead: bool | None) -> str:
    """A deceased patient is not a candidate (notes); one possibly deceased is not eligible
    until that is settled."""
    v = verdict(results)
    if dead:
        return NOT_ELIGIBLE
    return INCOMPLETE if dead is None and v == ELIGIBLE else v


def visible_record(record: PatientRecord, as_of: date) -> tuple[PatientRecord, list[Ignored]]:
    """The record as it stood on the screening date: later facts are set aside."""
    later: list[Ignored] = []

    def keep(items: list) -> list:
        kept = []
        for item in items:
            # A course is placed in time by its start: one under way at the screening
            # date (planned end after it) is ongoing, not "dated in the future".
            # A statement is placed by when it was made (a Condition recorded after
            # the screening date is not yet said, whatever its onset); a fact with
            # neither start nor date (an exposure with only an end) by its end: nothing
            # dated after the screening date reaches a rule.
            when = (getattr(item, "stated", None) or getattr(item, "start", None)
                    or getattr(item, "date", None) or getattr(item, "end", None))
            if when is not None and when > as_of:
                later.append(Ignored(item.source, f"dated {when}, after the screening "
                                     f"date {as_of}"))
            else:
                kept.append(item)
        return kept

    view = replace(
        record, diagnoses=keep(record.diagnoses), histology=keep(record.histology),
        labs=keep(record.labs), exposures=keep(record.exposures),
        procedures=keep(record.procedures), findings=keep(record.findings),
        ecog=keep(record.ecog), consents=keep(record.consents),
        attestations=keep(record.attestations), imaging=keep(record.imaging),
        symptoms=keep(record.symptoms))
    return view, later


def prepared(record: PatientRecord, as_of: date, policy: str
             ) -> tuple[PatientRecord, list[Ignored], list[Mention]]:
    """What the criteria read on `as_of`: the record as it stood then (visible_record),
    the facts dated after it, and the report mentions that may be shown. What the reports
    say counts as coded facts under pre-screening only (issue 21); under screening it is
    shown beside the criteria it informs, never read by them."""
    counted = with_text_facts(record) if policy == PRE_SCREENING else record
    view, later = visible_record(counted, as_of)
    return view, later, visible(record, as_of)


def evaluate(c: Criterion, view: PatientRecord, mentions: list[Mention], ctx: Context
             ) -> CriterionResult:
    """One criterion on a prepared record: `screen` and the window's partial screenings
    evaluate through this one function."""
    return CriterionResult(c, with_text(c.id, c.rule.evaluate(view, ctx), view, mentions,
                                        ctx.policy))


def screen(protocol: Protocol, record: PatientRecord, dates: Dates,
           policy: str = SCREENING, until: str | None = None) -> ScreeningResult:
    """`until`: evaluate the criteria in protocol order up to this one only (population
    triage, see population/triage.py); the verdict is then that of those criteria."""
    if policy not in (SCREENING, PRE_SCREENING):
        raise ValueError(f"unknown policy {policy!r}")
    view, later, mentions = prepared(record, dates.as_of, policy)
    ctx = Context(dates.as_of, dates.inclusion, dates.d0, policy)
    ids = [c.id for c in protocol.criteria]
    criteria = protocol.criteria[:ids.index(until) + 1] if until else protocol.criteria
    results = tuple(evaluate(c, view, mentions, ctx) for c in criteria)
    warnings = [*record.warnings, *(Warning(record.file, i.source, "date", i.reason)
                                    for i in later)]
    dead, deceased = death(record.patient, dates.as_of)
    return ScreeningResult(protocol, record.patient.id, dates, policy,
                           final_verdict(results, dead), results, tuple(warnings),
                           tuple(record.ignored + later), _counts(record.counts, view, later),
                           record.patient, record.file, deceased,
                           unused=tuple(record.unused))


def criterion_changes(protocol: Protocol, view: PatientRecord, as_of: date
                      ) -> list[set[Change]] | None:
    """Where each criterion's status can change (rules.base.Change), in protocol order,
    for inclusion and D0 on or after `as_of`; `view`: the record as it stood on `as_of`
    (visible_record). None when a criterion cannot say (then every date can)."""
    found = []
    for c in protocol.criteria:
        named = changes_of(c.rule, view, as_of)
        if named is None:
            return None
        found.append(set(named))
    return found


def change_dates(protocol: Protocol, record: PatientRecord, as_of: date,
                 policy: str = SCREENING) -> set[Change] | None:
    """Where any criterion's status can change; None when a criterion cannot say."""
    each = criterion_changes(protocol, prepared(record, as_of, policy)[0], as_of)
    return None if each is None else set().union(*each)


def _counts(counts: dict, view: PatientRecord, later: list[Ignored]) -> dict:
    """The reader's counts, with resources set aside as dated after as-of moved from used
    to ignored (a resource still counts as used while any fact it gave is in view)."""
    kept = {getattr(item, "source", "").split("#")[0]
            for name, items in vars(view).items() if name not in ("ignored", "warnings", "unused")
            and isinstance(items, list) for item in items}
    out = {t: dict(c) for t, c in counts.items()}
    for source in dict.fromkeys(i.source.split("#")[0] for i in later):
        c = out.get(source.split("/")[0])
        if source not in kept and c is not None and c.get("used", 0) > 0:
            c["used"] -= 1
            c["ignored"] = c.get("ignored", 0) + 1
    return out
