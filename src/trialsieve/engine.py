"""screen(protocol, record, dates, policy) -> result. Pure: no files, no clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION, Criterion, Protocol
from trialsieve.record import Ignored, Patient, PatientRecord, Warning
from trialsieve.rules.base import PRE_SCREENING, SCREENING, Context, Outcome

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


def visible_record(record: PatientRecord, as_of: date) -> tuple[PatientRecord, list[Ignored]]:
    """The record as it stood on the screening date: later facts are set aside."""
    later: list[Ignored] = []

    def keep(items: list) -> list:
        kept = []
        for item in items:
            when = getattr(item, "date", None) or getattr(item, "start", None)
            if when is not None and when > as_of:
                later.append(Ignored(item.source, f"dated {when}, after the screening "
                                     f"date {as_of}"))
            else:
                kept.append(item)
        return kept

    fields = ("diagnoses", "histology", "labs", "exposures", "procedures", "findings", "ecog",
              "consents", "attestations", "imaging", "symptoms")
    view = replace(record, **{f: keep(getattr(record, f)) for f in fields})
    return view, later


def screen(protocol: Protocol, record: PatientRecord, dates: Dates,
           policy: str = SCREENING) -> ScreeningResult:
    if policy not in (SCREENING, PRE_SCREENING):
        raise ValueError(f"unknown policy {policy!r}")
    view, later = visible_record(record, dates.as_of)
    ctx = Context(dates.as_of, dates.inclusion, dates.d0, policy)
    results = tuple(CriterionResult(c, c.rule.evaluate(view, ctx)) for c in protocol.criteria)
    warnings = [*record.warnings, *(Warning(record.file, i.source, "date", i.reason)
                                    for i in later)]
    return ScreeningResult(protocol, record.patient.id, dates, policy, verdict(results),
                           results, tuple(warnings), tuple(record.ignored + later),
                           _counts(record.counts, view, later), record.patient, record.file)


def _counts(counts: dict, view: PatientRecord, later: list[Ignored]) -> dict:
    """The reader's counts, with resources set aside as dated after as-of moved from used
    to ignored (a resource still counts as used while any fact it gave is in view)."""
    kept = {getattr(item, "source", "").split("#")[0]
            for name, items in vars(view).items() if name not in ("ignored", "warnings")
            and isinstance(items, list) for item in items}
    out = {t: dict(c) for t, c in counts.items()}
    for source in dict.fromkeys(i.source.split("#")[0] for i in later):
        c = out.get(source.split("/")[0])
        if source not in kept and c is not None and c.get("used", 0) > 0:
            c["used"] -= 1
            c["ignored"] = c.get("ignored", 0) + 1
    return out
