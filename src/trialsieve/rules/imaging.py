"""Imaging rules: progression within 12 months (I3), the lesion-level target (I13),
diffuse marrow infiltration (E4)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from trialsieve.clinical.recist import is_measurable, lesion_progression
from trialsieve.imaging import Progression, progressions, recist_series
from trialsieve.logic import Tri, all_of, any_of
from trialsieve.record import PatientRecord, Study
from trialsieve.rules.base import Bound, Context, Evidence, Outcome, absent, outcome


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


def _until(d: date, months: int, what: str, source: str | None) -> Bound:
    return Bound("inclusion", "until", add_months(d, months),
                 f"{what} of {d} is within {months} months of inclusion up to this date", source)


@dataclass(frozen=True)
class ProgressionWithin:
    """I3: (a) RECIST PD on CT/MRI, (b) SSTR progression, or (c) clinical and biochemical
    progression, each dated within `months` before inclusion."""

    months: int = 12

    def describe(self) -> str:
        return (f"RECIST 1.1 PD, SSTR-imaging progression, or clinical and biochemical "
                f"progression dated within {self.months} months before inclusion")

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        start = add_months(ctx.inclusion, -self.months)
        events = [p for p in progressions(record) if start <= p.date <= ctx.inclusion]
        arms = {
            "a": self._arm(record, ctx, events, "a", "RECIST PD on CT/MRI", ("CT", "MRI")),
            "b": self._arm(record, ctx, events, "b", "SSTR-imaging progression",
                           ("SSTR_PET", "SSTR_SPECT")),
            "c": self._clinical(record, ctx, events),
        }
        status = any_of(o.status for o in arms.values())
        shown = [o for o in arms.values() if o.status is status] or list(arms.values())
        bounds = tuple(b for o in arms.values() for b in o.bounds)
        return Outcome(status, "; ".join(o.summary for o in shown),
                       tuple(e for o in shown for e in o.evidence), (),
                       () if status is Tri.MET else tuple(m for o in arms.values()
                                                         for m in o.missing),
                       (), bounds)

    def _arm(self, record: PatientRecord, ctx: Context, events: list[Progression], arm: str,
             label: str, modalities: tuple[str, ...]) -> Outcome:
        hits = [p for p in events if p.arm == arm]
        bounds = [_until(p.date, self.months, label, p.sources[0] if p.sources else None)
                  for p in hits]
        if hits:
            last = hits[-1]
            return outcome(Tri.MET, f"{label}: {last.text}", bounds=bounds, evidence=[
                Evidence(p.sources[0] if p.sources else "", p.date, label, p.text)
                for p in hits])
        scans = [s for s in record.imaging if s.modality in modalities and s.lesions
                 and s.date is not None and s.date <= ctx.inclusion]
        settle = (f"{label}: two {'/'.join(modalities)} studies with lesion measurements, "
                  f"the later dated on or after {add_months(ctx.inclusion, -self.months)}")
        same = max((sum(1 for s in scans if s.modality == m) for m in modalities), default=0)
        recent = [s for s in scans if s.date >= add_months(ctx.inclusion, -self.months)]
        if same >= 2 and recent:
            last = max(recent, key=lambda s: s.date)
            return outcome(Tri.NOT_MET, f"no {label} in {len(scans)} studies up to {last.date}",
                           evidence=[Evidence(s.source, s.date, s.modality) for s in scans],
                           bounds=[_until(last.date, self.months, "study", last.source)])
        return outcome(Tri.UNKNOWN, f"{label}: not enough imaging", missing=[settle])

    def _clinical(self, record: PatientRecord, ctx: Context, events: list[Progression]) -> Outcome:
        parts = []
        for arm, label, settle in (
            ("c1", "clinical progression", "a symptom diary (frequency or CTCAE grade) "
             "showing a rise sustained more than 14 days"),
            ("c2", "biochemical progression", "three successive NET marker results "
             "(chromogranin A, NSE, 5-HIAA)"),
        ):
            hits = [p for p in events if p.arm == arm]
            if hits:
                parts.append(outcome(Tri.MET, f"{label}: {hits[-1].text}", evidence=[
                    Evidence(p.sources[-1] if p.sources else "", p.date, label, p.text)
                    for p in hits], bounds=[_until(p.date, self.months, label, None)
                                            for p in hits]))
            else:
                parts.append(outcome(Tri.UNKNOWN, f"no {label} on record",
                                     missing=[f"{settle} within {self.months} months"]))
        status = all_of(p.status for p in parts)
        return Outcome(status, " and ".join(p.summary for p in parts),
                       tuple(e for p in parts for e in p.evidence), (),
                       tuple(m for p in parts for m in p.missing), (),
                       tuple(b for p in parts for b in p.bounds))


def baseline_pet(record: PatientRecord, ctx: Context) -> Study | None:
    pets = [s for s in record.imaging if s.modality == "SSTR_PET" and s.date is not None
            and s.date <= ctx.d0]
    return max(pets, key=lambda s: s.date) if pets else None


@dataclass(frozen=True)
class TargetLesion:
    """I13, lesion by lesion: Krenning 3-4 and >= 20 mm on the PET/CT; RECIST-measurable and
    progressive on MRI (CT when there is no MRI) within `months`; not irradiated."""

    min_transaxial_mm: float = 20
    months: int = 12

    def describe(self) -> str:
        return (f"a lesion with Krenning 3-4 and transaxial >= {self.min_transaxial_mm:g} mm on "
                f"the 68Ga PET/CT, RECIST-measurable and progressive on MRI/CT (+20 % and +5 mm,"
                f" or new, within {self.months} months), not irradiated")

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        pet = baseline_pet(record, ctx)
        if pet is None:
            return outcome(Tri.UNKNOWN, "no 68Ga PET/CT", missing=["a baseline 68Ga PET/CT "
                                                                  "with lesion measurements"])
        series = recist_series([s for s in record.imaging if s.date and s.date <= ctx.inclusion])
        scans = series.get("MRI") or series.get("CT") or []
        recent = [s for s in scans if s.date >= add_months(ctx.inclusion, -self.months)]
        verdicts = [self._lesion(lz, pet, record, scans, recent) for lz in pet.lesions]
        qualifying = [v for v in verdicts if v.status is Tri.MET]
        status = any_of(v.status for v in verdicts) if verdicts else Tri.NOT_MET
        shown = qualifying if qualifying else verdicts
        summary = (f"{len(qualifying)} qualifying lesion(s): " + ", ".join(
            v.summary for v in qualifying)) if qualifying else (
            "; ".join(v.summary for v in verdicts) or f"no lesion on the PET/CT of {pet.date}")
        return Outcome(status, summary,
                       (Evidence(pet.source, pet.date, "68Ga PET/CT"),)
                       + tuple(e for v in shown for e in v.evidence), (),
                       () if qualifying else tuple(m for v in verdicts for m in v.missing), (),
                       tuple(b for v in qualifying for b in v.bounds))

    def _lesion(self, lz, pet: Study, record: PatientRecord, scans: list,
                recent: list) -> Outcome:
        name = f"lesion {lz.lesion_id}"
        ev = [Evidence(lz.source, pet.date, name, f"Krenning {lz.krenning}, transaxial "
                       f"{lz.transaxial_mm} mm")]
        checks = [
            ("Krenning grade 3-4", None if lz.krenning is None else lz.krenning >= 3),
            (f"transaxial >= {self.min_transaxial_mm:g} mm", None if lz.transaxial_mm is None
             else lz.transaxial_mm >= self.min_transaxial_mm),
        ]
        on_scan = [s.lesion(lz.lesion_id) for s in scans if s.lesion(lz.lesion_id)]
        latest = next((s for s in reversed(scans) if s.lesion(lz.lesion_id)), None)
        measurable = None
        if latest is not None:
            m = is_measurable(latest.lesion(lz.lesion_id), latest.slice_thickness_mm)
            measurable = m.measurable
            ev.append(Evidence(latest.source or "", latest.date, f"{name} on {latest.modality}",
                               m.reason))
        prog = lesion_progression(recent, lz.lesion_id) if recent else None
        if prog is not None:
            ev.append(Evidence(prog.later_scan.source or "", prog.later_scan.date,
                               f"{name} progressive", prog.reason))
        # A measurement that does not say (None) neither confirms nor denies irradiation.
        irradiated = [x.irradiated for s in record.imaging for x in s.lesions
                      if x.lesion_id == lz.lesion_id and x.irradiated is not None]
        checks += [
            ("RECIST-measurable on MRI/CT", measurable),
            ("progressive within 12 months", True if prog else (False if len(recent) >= 2 and
                                                                 on_scan else None)),
            ("not previously irradiated", False if True in irradiated else (
                True if irradiated and all(i is False for i in irradiated) else None)),
        ]
        for label, ok in checks:
            if ok is False:
                return outcome(Tri.NOT_MET, f"{name} fails: {label}", evidence=ev)
        unknown = [label for label, ok in checks if ok is None]
        if unknown:
            return outcome(Tri.UNKNOWN, f"{name}: unknown {', '.join(unknown)}", evidence=ev,
                           missing=[f"{name}: {u}" for u in unknown])
        # Growth needs both scans within the months: the earlier one leaves first.
        ref = prog.earlier_scan or prog.later_scan
        bound = _until(ref.date, self.months, f"{name} reference scan", ref.source)
        return outcome(Tri.MET, name, evidence=ev, bounds=[bound])


@dataclass(frozen=True)
class DiffuseMarrowInfiltration:
    """E4: on the baseline 68Ga PET/CT and confirmed by MRI; PET alone is unknown."""

    def describe(self) -> str:
        return "diffuse marrow infiltration on the baseline 68Ga PET/CT confirmed by MRI"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        pet = baseline_pet(record, ctx)
        if pet is None or pet.marrow_infiltration is None:
            return absent(ctx, "no statement on marrow infiltration on a 68Ga PET/CT",
                          "the 68Ga PET/CT report's statement on diffuse marrow infiltration")
        ev = [Evidence(pet.source, pet.date, "68Ga PET/CT: diffuse marrow infiltration",
                       "yes" if pet.marrow_infiltration else "no")]
        if not pet.marrow_infiltration:
            return outcome(Tri.NOT_MET, "no diffuse marrow infiltration on the PET/CT",
                           evidence=ev)
        mris = [s for s in record.imaging if s.modality == "MRI"
                and s.marrow_infiltration is not None]
        if not mris:
            return outcome(Tri.UNKNOWN, "marrow infiltration suspected on PET/CT, MRI not done",
                           evidence=ev, missing=["an MRI confirming or excluding diffuse "
                                                 "marrow infiltration"])
        mri = max(mris, key=lambda s: s.date or date.min)
        ev.append(Evidence(mri.source, mri.date, "MRI: diffuse marrow infiltration",
                           "yes" if mri.marrow_infiltration else "no"))
        return outcome(Tri.of(bool(mri.marrow_infiltration)), "marrow infiltration on PET/CT "
                       + ("confirmed" if mri.marrow_infiltration else "not confirmed")
                       + " by MRI", evidence=ev)
