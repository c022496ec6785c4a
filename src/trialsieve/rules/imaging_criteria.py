"""Imaging rules: progression within 12 months (I3), the lesion-level target (I13),
diffuse marrow infiltration (E4)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.clinical.recist import (
    Response,
    Scan,
    is_measurable,
    lesion_diameter,
    lesion_progression,
)
from trialsieve.codes import DOTATATE, MARROW_REGIONS
from trialsieve.logic import Tri, all_of, any_of
from trialsieve.record import Ignored, PatientRecord, Study, day
from trialsieve.record.statements import Statement
from trialsieve.rules.attest import deciding, said_changes
from trialsieve.rules.base import (
    Bound,
    Change,
    Context,
    Evidence,
    Outcome,
    absent,
    add_months,
    days,
    leaves_months,
    on_d0,
    on_inclusion,
    outcome,
    stale_from,
)
from trialsieve.rules.irradiation import lesion_irradiation, systemic_note
from trialsieve.rules.progression_evidence import (
    Progression,
    ProgressionFacts,
    progression_facts,
    recist_series,
)


def _months_changes(dates: list[date], months: int) -> list[Change]:
    """Where `start <= d <= inclusion` (start: `months` before inclusion) flips for each d."""
    return [c for d in set(dates) for c in (on_inclusion(d),
                                            on_inclusion(leaves_months(d, months)))]


def _baseline_changes(studies: list[Study], fresh_days: int) -> list[Change]:
    """Where `D0 - fresh_days <= s.date <= D0` flips for each study (each may be read)."""
    return [on_d0(stale_from(d, fresh_days))
            for d in {s.date for s in studies if s.date is not None}]


def _until(d: date, months: int, what: str, source: str | None, need: str,
           past: str = "past evidence, not a test to repeat") -> Bound:
    """`what` of date `d` counts for an inclusion up to `months` after it; past evidence
    (`past`: what it is), never "repeated": a later inclusion needs `need` within the
    months before it."""
    return Bound("inclusion", "until", add_months(d, months),
                 f"{what} of {d} is within {months} months of inclusion up to this date", source,
                 f"{past}: a later inclusion needs {need} within the {months} months before it")


@dataclass(frozen=True)
class ProgressionWithin:
    """I3: (a) RECIST PD on CT/MRI, (b) SSTR progression, or (c) clinical and biochemical
    progression, each dated within `months` before inclusion.

    An arm is not met only when the record decides it: (a) follow-up CT/MRI within the
    months, each evaluable and none PD; (b) SSTR scans within the months compared with an
    earlier scan of the same modality, none showing progression; (c) when either part is
    not met: symptom recordings within the months compared with their baseline showing no
    sustained rise (none left open), or three successive results of a NET marker within
    the months that did not rise twice (none left open by a result that cannot be read).
    No scans, no symptom and no marker at all: unknown.
    """

    months: int = 12

    def describe(self) -> str:
        return (f"RECIST 1.1 PD, SSTR-imaging progression, or clinical and biochemical "
                f"progression dated within {self.months} months before inclusion")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        """Every date `within` is asked of (the facts themselves are fixed by as_of)."""
        f = progression_facts(record, as_of)
        dates = [p.date for p in f.events] + [p.date for p in f.followups]
        dates += [c.later.date for c in f.sstr_compared]
        dates += [d for a in f.symptoms
                  for o in (*a.compared, *(o for o, _ in a.undecided))
                  for d in (o.date, o.last)]
        dates += [m.triple[2].date for m in f.markers]
        return _months_changes(dates, self.months)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        facts = progression_facts(record, ctx.as_of)
        start = add_months(ctx.inclusion, -self.months)

        def within(d: date) -> bool:
            return start <= d <= ctx.inclusion

        events = [p for p in facts.events if within(p.date)]
        arms = {
            "a": self._recist(facts, events, within, start),
            "b": self._sstr(facts, events, within, start),
            "c": all_of_parts("clinical and biochemical progression", [
                self._clinical(facts, events, within), self._biochemical(facts, events,
                                                                         within)]),
        }
        status = any_of(o.status for o in arms.values())
        shown = [o for o in arms.values() if o.status is status] or list(arms.values())
        bounds = tuple(b for o in arms.values() for b in o.bounds)
        return Outcome(status, "; ".join(o.summary for o in shown),
                       tuple(e for o in shown for e in o.evidence),
                       tuple(i for o in shown for i in o.ignored),
                       () if status is Tri.MET else tuple(m for o in arms.values()
                                                         for m in o.missing),
                       (), bounds)

    def _met(self, events: list[Progression], arm: str, label: str) -> Outcome | None:
        hits = [p for p in events if p.arm == arm]
        if not hits:
            return None
        # the record dated at the event: the later scan (a, b), the last recording or
        # the third marker result (c)
        at = -1 if arm.startswith("c") else 0
        return outcome(Tri.MET, f"{label}: {hits[-1].text}", evidence=[
            Evidence(p.sources[at] if p.sources else "", p.date, label, p.text) for p in hits],
            bounds=[_until(p.date, self.months, label, p.sources[at] if p.sources else None,
                           "a progression shown")
                    for p in hits])

    def _recist(self, facts: ProgressionFacts, events: list[Progression], within,
                start: date) -> Outcome:
        label = "RECIST PD on CT/MRI"
        met = self._met(events, "a", label)
        if met:
            return met
        points = [p for p in facts.followups if within(p.date)]
        open_ = [p for p in points if p.overall in (Response.NE, Response.NA)]
        if not points or open_:
            why = (f"follow-up {', '.join(f'{p.source} ({p.date})' for p in open_)} not "
                   "evaluable" if open_ else f"no follow-up CT/MRI within {self.months} months")
            return outcome(Tri.UNKNOWN, f"{label}: {why}", missing=[
                f"{label}: a follow-up CT/MRI with every target measured, dated on or "
                f"after {start}"])
        last = points[-1]
        return outcome(Tri.NOT_MET, f"no {label}: follow-up(s) "
                       + ", ".join(f"{p.date} {p.overall.value}" + (
                           f" (progression dated {p.progression_date}, its first "
                           "appearance)" if p.progression_date not in (None, p.date) else "")
                           for p in points),
                       evidence=[Evidence(p.source or "", p.date, label, p.overall.value)
                                 for p in points],
                       bounds=[_until(last.date, self.months, "follow-up CT/MRI",
                                      last.source, "a follow-up CT/MRI")])

    def _sstr(self, facts: ProgressionFacts, events: list[Progression], within,
              start: date) -> Outcome:
        label = "SSTR-imaging progression"
        met = self._met(events, "b", label)
        if met:
            return met
        compared = [c for c in facts.sstr_compared if within(c.later.date)]
        open_ = [f"{c.problem}" if c.problem else
                 f"{'; '.join(c.open_lesions)} on {c.later.source or c.later.date}"
                 for c in compared if not c.decided]
        if not compared or open_:
            return outcome(Tri.UNKNOWN, f"{label}: " + (
                "; ".join(open_) if open_ else
                f"no SSTR scan within {self.months} months compared with an earlier one"),
                missing=[
                f"{label}: two SSTR PET/CT (or SPECT/CT) studies with lesion measurements, "
                f"the later dated on or after {start} and the earlier at most "
                f"{self.months} months before it"])
        scans = [c.later for c in compared]
        last = scans[-1]
        return outcome(Tri.NOT_MET, f"no {label} on " + ", ".join(
            f"{s.modality} {s.date} (vs {c.reference.date if c.reference else '-'})"
            for s, c in zip(scans, compared, strict=True)), evidence=[
            Evidence(s.source or "", s.date, label,
                     "no new lesion, no growth > 30 % and >= 5 mm") for s in scans],
            bounds=[_until(last.date, self.months, "SSTR study", last.source,
                           "an SSTR study compared with an earlier one")])

    def _clinical(self, facts: ProgressionFacts, events: list[Progression],
                  within) -> Outcome:
        label = "clinical progression"
        met = self._met(events, "c1", label)
        if met:
            return met
        settle = (f"a symptom diary (frequency or CTCAE grade) within {self.months} months "
                  "showing whether a rise was sustained more than 14 days")
        open_ = [(o, why) for a in facts.symptoms for o, why in a.undecided
                 if within(o.date) or within(o.last)]
        compared = [o for a in facts.symptoms for o in a.compared
                    if within(o.date) or within(o.last)]
        if open_:
            return outcome(Tri.UNKNOWN, f"{label}: undecided: " + ", ".join(
                f"{o.source} ({why})" for o, why in open_), missing=[settle])
        if not compared:
            return outcome(Tri.UNKNOWN, f"no symptom recording within {self.months} months",
                           missing=[settle])
        return outcome(Tri.NOT_MET, f"no sustained symptom rise in {len(compared)} "
                       "recording(s)", evidence=[
                           Evidence(o.source or "", o.date, "symptom recording",
                                    "not a sustained rise") for o in compared])

    def _biochemical(self, facts: ProgressionFacts, events: list[Progression],
                     within) -> Outcome:
        label = "biochemical progression"
        met = self._met(events, "c2", label)
        if met:
            return met
        settle = (f"three successive NET marker results (chromogranin A, NSE, 5-HIAA) "
                  f"within {self.months} months")
        triples = [m for m in facts.markers if within(m.triple[2].date)]
        open_ = [m for m in triples if m.rose is None]
        if open_:
            problems = [p for m in open_ for p in m.problems]
            return outcome(Tri.UNKNOWN, f"{label}: cannot be read: " + "; ".join(
                dict.fromkeys(problems)), missing=[settle], ignored=[
                Ignored(p.split(": ", 1)[0], p.split(": ", 1)[1]) for p in problems])
        if not triples:
            return outcome(Tri.UNKNOWN, f"fewer than three results of any NET marker "
                           f"within {self.months} months", missing=[settle])
        shown = dict.fromkeys(v for m in triples for v in m.triple)
        return outcome(Tri.NOT_MET, "no NET marker rose at two successive measurements: "
                       + "; ".join(f"{m.marker} " + ", ".join(
                           "unreadable" if v.value is None else f"{v.value:g}"
                           for v in m.triple) for m in triples),
                       evidence=[Evidence(v.source or "", v.date, "NET marker",
                                          "unreadable" if v.value is None else f"{v.value:g}")
                                 for v in shown])


def tracer_not_accepted(record: PatientRecord, pet: Study) -> Outcome | None:
    """I13 and E4 read the 68Ga-octreotate (DOTATATE) PET/CT: "another SSTR tracer
    (68Ga-DOTATOC/NOC, 64Cu-DOTATATE) leaves them unknown until the investigator accepts
    the scan (attestation)". None when the tracer is DOTATATE, not recorded, or accepted."""
    if pet.tracer in (None, DOTATATE):
        return None
    answer = deciding(record, "sstr-tracer-accepted")
    if answer is not None and answer.value and (answer.stated is None or pet.date is None
                                                 or answer.stated >= pet.date):
        return None
    return outcome(Tri.UNKNOWN, f"the PET/CT of {pet.date} uses {pet.tracer}, not "
                   "68Ga-DOTATATE: the investigator has not accepted it", evidence=[
                       Evidence(pet.source, pet.date, "SSTR PET/CT tracer", pet.tracer or "")],
                   missing=[f"the investigator's acceptance of the {pet.tracer} PET/CT of "
                            f"{pet.date} (attestation sstr-tracer-accepted)"])


def measured_on(scans: list[Scan], lesion_id: str) -> list[Scan]:
    """The scans that give the lesion a RECIST measure (merged lesions have none)."""
    return [s for s in scans if (m := s.lesion(lesion_id)) is not None
            and not m.merged_into and lesion_diameter(m) is not None]


def followed_by(series: dict[str, list[Scan]], lesion_id: str) -> list[Scan]:
    """I13's MRI/CT of one lesion: "MRI where the lesion's organ is followed by MRI, CT
    otherwise (per lesion, not per patient)". Read as: the modality of the lesion's most
    recent CT/MRI measurement (MRI on a tie); no measurement at all: the MRI series,
    else the CT one (which then does not measure it)."""
    latest = {m: max((s.date for s in scans if s.lesion(lesion_id)), default=None)
              for m, scans in series.items() if m in ("MRI", "CT")}
    dated = [(d, m == "MRI", m) for m, d in latest.items() if d is not None]
    if not dated:
        return series.get("MRI") or series.get("CT") or []
    return series[max(dated)[2]]


def all_of_parts(label: str, parts: list[Outcome]) -> Outcome:
    """Both parts needed: met when both are, not met when either is not."""
    status = all_of(p.status for p in parts)
    deciding = [p for p in parts if p.status is status] or parts
    return Outcome(status, f"{label}: " + " and ".join(p.summary for p in deciding),
                   tuple(e for p in deciding for e in p.evidence),
                   tuple(i for p in parts for i in p.ignored),
                   () if status is Tri.NOT_MET else tuple(m for p in parts for m in p.missing),
                   (), tuple(b for p in parts for b in p.bounds))


@dataclass(frozen=True)
class TargetLesion:
    """I13, lesion by lesion: Krenning 3-4 and >= 20 mm on the PET/CT; RECIST-measurable and
    progressive on MRI (CT when there is no MRI) within `months`; not irradiated.

    The PET/CT read is "the 68Ga-octreotate PET/CT" of the baseline (I12: within
    `fresh_days` before D0): the latest such PET that carries lesion measurements (a later
    one without measurements is named and set aside). Not irradiated: see
    rules.irradiation (a course on the lesion, a TARE/SIRT of its liver, a statement on
    the lesion not outdated by a later course on its site, or the radiotherapy history
    declared complete with no course on the lesion or its site, sites matched by code).
    """

    min_transaxial_mm: float = 20
    months: int = 12
    fresh_days: int = 28

    def describe(self) -> str:
        return (f"a lesion with Krenning 3-4 and transaxial >= {self.min_transaxial_mm:g} mm on "
                f"the baseline 68Ga PET/CT, RECIST-measurable and progressive on MRI/CT (+20 % "
                f"and +5 mm, or new, within {self.months} months), not irradiated")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        """The baseline PET/CTs leaving D0's window, the scans leaving the months before
        inclusion, and the radiotherapy-history answer going stale."""
        pets = [s for s in record.imaging if s.modality == "SSTR_PET"]
        return (_baseline_changes(pets, self.fresh_days)
                + _months_changes([s.date for s in record.imaging if s.date is not None],
                                  self.months)
                + said_changes(record, "radiotherapy-history-complete", as_of))

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        lo = ctx.d0 - days(self.fresh_days)
        pets = sorted((s for s in record.imaging if s.modality == "SSTR_PET"
                       and s.date is not None and lo <= s.date <= ctx.d0),
                      key=day)
        measured = [s for s in pets if s.lesions]
        pet = measured[-1] if measured else None
        later = [Ignored(s.source, f"68Ga PET/CT of {s.date} has no lesion measurements: "
                         f"the PET/CT of {pet.date} is read") for s in pets
                 if pet is not None and not s.lesions and day(s) >= day(pet)]
        if pet is None:
            return outcome(Tri.UNKNOWN, "no baseline 68Ga PET/CT with lesion measurements",
                           ignored=[Ignored(s.source, "no lesion measurements") for s in pets],
                           missing=[f"a baseline 68Ga PET/CT with lesion measurements dated "
                                    f"from {lo} to {ctx.d0}"])
        unaccepted = tracer_not_accepted(record, pet)
        if unaccepted:
            return unaccepted
        series = recist_series([s for s in record.imaging if s.date and s.date <= ctx.inclusion])
        since = add_months(ctx.inclusion, -self.months)
        history = deciding(record, "radiotherapy-history-complete", ctx)
        verdicts = []
        for lz in pet.lesions:
            scans = followed_by(series, lz.lesion_id)
            recent = [s for s in scans if s.date >= since]
            verdicts.append(self._lesion(lz, pet, record, scans, recent, history))
        qualifying = [v for v in verdicts if v.status is Tri.MET]
        status = any_of(v.status for v in verdicts) if verdicts else Tri.NOT_MET
        shown = qualifying if qualifying else verdicts
        read = (f" (read on the 68Ga PET/CT of {pet.date}: the one of "
                + ", ".join(str(s.date) for s in pets if day(s) >= day(pet) and not s.lesions)
                + " has no lesion measurements)") if later else ""
        summary = ((f"{len(qualifying)} qualifying lesion(s): " + ", ".join(
            v.summary for v in qualifying)) if qualifying else (
            "; ".join(v.summary for v in verdicts) or f"no lesion on the PET/CT of {pet.date}"))
        valid = Bound("d0", "until", day(pet) + days(self.fresh_days),
                      f"68Ga PET/CT of {pet.date} is a baseline one for D0 up to this date",
                      pet.source)
        # With a qualifying lesion the others are not needed, but are said with why
        # (the lesion table of the eligibility checklist lists every lesion).
        others = [Ignored(v.evidence[0].source, f"{v.summary} ({v.evidence[0].value})")
                  for v in verdicts if qualifying and v.status is not Tri.MET and v.evidence]
        prrt = [Ignored(src, why) for src, why in systemic_note(record)]
        return Outcome(status, summary + read,
                       (Evidence(pet.source, pet.date, "68Ga PET/CT"),)
                       + tuple(e for v in shown for e in v.evidence),
                       tuple(later + others + prrt),
                       () if qualifying else tuple(m for v in verdicts for m in v.missing), (),
                       (valid,) + tuple(b for v in shown for b in v.bounds))

    def _lesion(self, lz, pet: Study, record: PatientRecord, scans: list,
                recent: list, history: Statement | None) -> Outcome:
        name = f"lesion {lz.lesion_id}"
        # "Uptake is read as the Krenning / Rotterdam grade; an SUV alone does not give
        # one (unknown)": an SUVmax is shown, and decides nothing.
        suv = "" if lz.suv_max is None else f", SUVmax {lz.suv_max:g} g/mL (not a grade)"
        ev = [Evidence(lz.source, pet.date, name, f"Krenning {lz.krenning}, transaxial "
                       f"{lz.transaxial_mm} mm{suv}")]
        grade = "Krenning grade 3-4" + (" (an SUV alone gives none)"
                                        if lz.krenning is None and suv else "")
        checks = [
            (grade, None if lz.krenning is None else lz.krenning >= 3),
            (f"transaxial >= {self.min_transaxial_mm:g} mm", None if lz.transaxial_mm is None
             else lz.transaxial_mm >= self.min_transaxial_mm),
        ]
        latest = next((s for s in reversed(scans) if s.lesion(lz.lesion_id)), None)
        measurable = None
        if latest is not None:
            m = is_measurable(latest.lesion(lz.lesion_id), latest.slice_thickness_mm,
                              latest.modality)
            measurable = m.measurable
            ev.append(Evidence(latest.source or "", latest.date, f"{name} on {latest.modality}",
                               m.reason))
        prog = lesion_progression(recent, lz.lesion_id) if recent else None
        if prog is not None:
            ev.append(Evidence(prog.later_scan.source or "", prog.later_scan.date,
                               f"{name} progressive", prog.reason))
        irradiation = lesion_irradiation(lz, record, history)
        not_irradiated = irradiation.spared
        if irradiation.source:
            ev.append(Evidence(irradiation.source, irradiation.date, f"{name}: irradiation",
                               irradiation.text))
        checks += [
            ("RECIST-measurable on MRI/CT", measurable),
            # not progressive only when measured on two scans of the months (a bone lesion
            # with no soft-tissue component has no measure: unknown)
            ("progressive within 12 months", True if prog else (
                False if len(measured_on(recent, lz.lesion_id)) >= 2 else None)),
            ("not previously irradiated", not_irradiated),
        ]
        for label, ok in checks:
            if ok is False:
                # not progressive between the scans of the months: once the earliest of
                # them leaves the months, the lesion is undecided
                first = [_until(recent[0].date, self.months, f"{name}: earliest scan",
                                recent[0].source, "the lesion measured on two scans")
                         ] if label.startswith("progressive") else []
                return outcome(Tri.NOT_MET, f"{name} fails: {label}", evidence=ev,
                               bounds=first)
        unknown = [label for label, ok in checks if ok is None]
        if unknown:
            return outcome(Tri.UNKNOWN, f"{name}: unknown {', '.join(unknown)}", evidence=ev,
                           missing=[f"{name}: {u}" for u in unknown])
        # the growth needs both scans within the months: the earlier one leaves first
        assert prog is not None  # every check held, "progressive" too
        ref = prog.earlier_scan or prog.later_scan
        return outcome(Tri.MET, name, evidence=ev, bounds=[
            _until(ref.date, self.months, f"{name} reference scan", ref.source,
                   "its growth shown on two scans",
                   "it is the reference the growth is measured from, not a scan to repeat")])


@dataclass(frozen=True)
class DiffuseMarrowInfiltration:
    """E4: on the baseline 68Ga PET/CT and confirmed by MRI; PET alone is unknown. Both are
    baseline assessments: dated within `fresh_days` before D0 (I12)."""

    fresh_days: int = 28

    def describe(self) -> str:
        return (f"diffuse marrow infiltration on the baseline 68Ga PET/CT confirmed by a "
                f"baseline MRI (both within {self.fresh_days} days before D0)")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return _baseline_changes([s for s in record.imaging
                                  if s.modality in ("SSTR_PET", "MRI")], self.fresh_days)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        lo = ctx.d0 - days(self.fresh_days)

        def baseline(modality: str) -> Study | None:
            found = [s for s in record.imaging if s.modality == modality and s.date is not None
                     and lo <= s.date <= ctx.d0 and s.marrow_infiltration is not None]
            return max(found, key=lambda s: (day(s), s.source)) if found else None

        pets = [s for s in record.imaging if s.modality == "SSTR_PET" and s.date is not None
                and lo <= s.date <= ctx.d0]
        newest = max(pets, key=lambda s: (day(s), s.source)) if pets else None
        if newest is not None and newest.marrow_infiltration is None:
            # "the newest baseline PET decides; when it says nothing about the marrow, E4
            # is unknown (an older PET does not speak for it)"
            out = absent(ctx, f"the newest baseline 68Ga PET/CT ({newest.date}) says nothing "
                         "about marrow infiltration", "the marrow statement of the 68Ga "
                         f"PET/CT of {newest.date}, or a newer baseline 68Ga PET/CT")
            return replace(out, ignored=tuple(
                Ignored(s.source, f"68Ga PET/CT of {s.date}: older than the newest baseline "
                        f"PET/CT of {newest.date}, which decides") for s in pets
                if s is not newest and s.marrow_infiltration is not None))
        pet = baseline("SSTR_PET")
        unaccepted = tracer_not_accepted(record, pet) if pet is not None else None
        if unaccepted:
            return unaccepted
        if pet is None:
            return absent(ctx, "no statement on marrow infiltration on a baseline 68Ga "
                          "PET/CT", "the baseline 68Ga PET/CT report's statement on diffuse "
                          f"marrow infiltration, dated from {lo} to {ctx.d0}")
        valid = Bound("d0", "until", day(pet) + days(self.fresh_days),
                      f"68Ga PET/CT of {pet.date} is a baseline one for D0 up to this date",
                      pet.source)
        ev = [Evidence(pet.source, pet.date, "68Ga PET/CT: diffuse marrow infiltration",
                       "yes" if pet.marrow_infiltration else "no")]
        if not pet.marrow_infiltration:
            return outcome(Tri.NOT_MET, "no diffuse marrow infiltration on the PET/CT",
                           evidence=ev, bounds=[valid])
        mris = sorted((s for s in record.imaging if s.modality == "MRI" and s.date is not None
                       and lo <= s.date <= ctx.d0 and s.marrow_infiltration is not None),
                      key=lambda s: (day(s), s.source))
        older = [Ignored(s.source, f"MRI of {s.date}: not a baseline one (from {lo} to "
                         f"{ctx.d0})") for s in record.imaging if s.modality == "MRI"
                 and s.marrow_infiltration is not None and s not in mris]
        mri, doubts = marrow_mri(mris)
        elsewhere = [Ignored(s.source, f"MRI of {s.date} covers {s.shown_regions()}: not the "
                             "marrow (spine, pelvis or whole body)") for s in mris
                     if s.covers(MARROW_REGIONS) is False]
        if mri is None or doubts:
            why = ("the body region of the baseline MRI not recorded" if doubts
                   else "no baseline MRI covering the marrow")
            return outcome(Tri.UNKNOWN, f"marrow infiltration suspected on PET/CT, {why}",
                           evidence=ev, ignored=older + doubts + elsewhere,
                           missing=[f"an MRI of the spine, pelvis or whole body confirming or "
                                    f"excluding diffuse marrow infiltration, dated from {lo} "
                                    f"to {ctx.d0}"])
        ev.append(Evidence(mri.source, mri.date, "MRI: diffuse marrow infiltration",
                           ("yes" if mri.marrow_infiltration else "no")
                           + f" ({mri.shown_regions()})"))
        return outcome(Tri.of(bool(mri.marrow_infiltration)), "marrow infiltration on PET/CT "
                       + ("confirmed" if mri.marrow_infiltration else "not confirmed")
                       + " by MRI", evidence=ev, ignored=older + elsewhere, bounds=[valid, Bound(
                           "d0", "until", day(mri) + days(self.fresh_days),
                           f"MRI of {mri.date} is a baseline one for D0 up to this date",
                           mri.source)])


def marrow_mri(mris: list[Study]) -> tuple[Study | None, list[Ignored]]:
    """E4's confirming MRI among the baseline MRIs that state the marrow (in date order):
    "The confirming MRI must cover marrow (spine, pelvis or whole body); a body region not
    recorded leaves it unknown." The newest MRI covering the marrow decides; an MRI whose
    region is unknown cannot, and when it is that newest one or newer and says otherwise,
    it leaves E4 unknown (the doubts, named)."""
    covering = [s for s in mris if s.covers(MARROW_REGIONS)]
    chosen = covering[-1] if covering else None
    doubts = [Ignored(s.source, f"MRI of {s.date}: body region {s.shown_regions()}, so it "
                      "cannot be told to cover the marrow") for s in mris
              if s.covers(MARROW_REGIONS) is None and (
                  chosen is None or (day(s), s.source) >= (day(chosen), chosen.source)
                  and s.marrow_infiltration != chosen.marrow_infiltration)]
    return chosen, doubts
