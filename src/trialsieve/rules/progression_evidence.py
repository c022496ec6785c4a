"""The record's imaging, symptoms and NET markers as the pure calculators' series, and
what they show about progression at any date: the events of I3's arms, and the
assessments that let I3 decide an arm not met. I4 reads the same events (a progression
by I3's definitions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from trialsieve.clinical.progression import (
    ClinicalAssessment,
    MarkerValue,
    SymptomObservation,
    Triple,
    assess_symptom,
    biochemical_progression,
    marker_triples,
)
from trialsieve.clinical.recist import LesionMeasurement, Response, Scan, TimePoint, assess
from trialsieve.clinical.sstr import SstrComparison, SstrLesion, SstrScan, compare
from trialsieve.codes import NET_MARKERS
from trialsieve.fhir.imaging_mapping import symptom_name
from trialsieve.record import LabResult, Lesion, PatientRecord, Study, Symptom, day
from trialsieve.rules.base import add_months
from trialsieve.rules.body_sites import lesion_place

# I3 (a) is "RECIST 1.1 progressive disease on MRI or CT" (protocol notes): a chest
# X-ray series is assessed (by `recist`, 20 mm minimum) but shows no I3 progression.
I3_MODALITIES = ("CT", "MRI")
RECIST_MODALITIES = ("CT", "MRI", "XR")


def recist_series(studies: list[Study], modalities: tuple[str, ...] = I3_MODALITIES
                  ) -> dict[str, list[Scan]]:
    """Studies of `modalities` with lesions, one series per modality (sizes compare within
    one): CT and MRI, and for the `recist` command the chest X-ray too."""
    out: dict[str, list[Scan]] = defaultdict(list)
    for s in studies:
        if s.modality in modalities and s.lesions and s.date is not None:
            out[s.modality].append(Scan(s.date, s.modality, tuple(
                LesionMeasurement(lz.lesion_id, lz.organ, lz.nodal, lz.longest_mm,
                                  lz.short_axis_mm, lz.target, lz.nontarget_status, lz.new,
                                  lz.too_small, lz.disappeared, source=lz.source,
                                  equivocal=lz.equivocal, bone=bone_kind(lz),
                                  soft_tissue_mm=lz.soft_tissue_mm)
                for lz in s.lesions), s.slice_thickness_mm, s.source))
    return dict(out)


def new_on_another_modality(studies: tuple[Study, ...] | list[Study]) -> list[Progression]:
    """An unequivocal new lesion on the first scan of a modality (a first chest CT after
    years of abdominal MRI): "A new lesion counts whatever the modality of the scan that
    shows it, against the patient's earlier imaging of any modality covering the region"
    (notes). That scan is the baseline of its modality's series, so it is read here.
    Reading: the region a study covers is not recorded, so any earlier CT/MRI with lesion
    measurements stands for the earlier imaging. A lesion on an earlier scan is not new;
    one seen there only as equivocal dates the progression from its first appearance."""
    scans = sorted((s for s in studies if s.modality in ("CT", "MRI") and s.lesions
                    and s.date is not None), key=lambda s: (day(s), s.source))
    first: dict[str, dt.date] = {}
    for s in scans:
        first.setdefault(s.modality, day(s))
    found: list[Progression] = []
    for s in scans:
        earlier = [e for e in scans if day(e) < day(s)]
        if day(s) != first[s.modality] or not earlier:
            continue
        measured = {lz.lesion_id for e in earlier for lz in e.lesions if not lz.equivocal}
        new = [lz for lz in s.lesions if lz.new and lz.lesion_id not in measured]
        if not new:
            continue
        when = min([day(e) for e in earlier for lz in e.lesions if lz.equivocal
                    and lz.lesion_id in {n.lesion_id for n in new}] + [day(s)])
        names = ", ".join(lz.lesion_id for lz in new)
        found.append(Progression("a", when, f"RECIST PD on {s.date}: new lesion {names} on "
                                 f"the first {s.modality} (against the earlier imaging of "
                                 "another modality)", (s.source,)))
    return found


def bone_kind(lesion: Lesion) -> str | None:
    """A bone lesion's kind (RECIST measures it by its soft-tissue component only): as
    recorded, or "unknown" for a lesion placed in bone by its codes; None: not bone."""
    if lesion.bone_type in ("lytic", "mixed", "blastic"):
        return lesion.bone_type
    place = lesion_place(lesion)
    return "unknown" if lesion.bone_type or (place and place.startswith("bone")) else None


def sstr_series(studies: list[Study]) -> list[SstrScan]:
    return [SstrScan(s.date, s.modality, tuple(
        SstrLesion(lz.lesion_id, lz.transaxial_mm, lz.krenning, lz.new, lz.source)
        for lz in s.lesions), s.source)
        for s in studies if s.modality.startswith("SSTR") and s.date is not None]


@dataclass(frozen=True)
class Progression:
    """A dated progression of one kind (a: RECIST, b: SSTR, c1: clinical, c2: biochemical,
    c: clinical and biochemical together)."""

    arm: str
    date: dt.date
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class MarkerReading:
    """Three successive results of one NET marker: rose twice (True), not (False), or
    open (None: a result that cannot be read)."""

    marker: str
    triple: Triple
    rose: bool | None
    problems: tuple[str, ...]  # "Observation/x: why it cannot be read"


@dataclass(frozen=True)
class ProgressionFacts:
    """What the record shows about progression, at every date."""

    events: tuple[Progression, ...]  # a, b, c1, c2, by date
    followups: tuple[TimePoint, ...]  # RECIST follow-up time points (series restart at PD)
    sstr_compared: tuple[SstrComparison, ...]  # SSTR scans with an earlier one of their modality
    symptoms: tuple[ClinicalAssessment, ...]
    markers: tuple[MarkerReading, ...]


def progression_facts(record: PatientRecord, as_of: date) -> ProgressionFacts:
    """Pure, and the same for every D0 of a window: computed once per record content."""
    markers = tuple(r for r in record.labs if r.test in NET_MARKERS)
    return _facts(tuple(record.imaging), tuple(record.symptoms), markers, as_of)


def progressions(record: PatientRecord, as_of: date) -> list[Progression]:
    return list(progression_facts(record, as_of).events)


@lru_cache(maxsize=512)
def _facts(imaging: tuple[Study, ...], symptoms: tuple[Symptom, ...],
           markers: tuple[LabResult, ...], as_of: date) -> ProgressionFacts:
    found: list[Progression] = []
    followups: list[TimePoint] = []
    for scans in recist_series(list(imaging)).values():
        for point in assess(scans, restart_after_pd=True):
            if point.is_baseline:
                continue
            followups.append(point)
            if point.overall is Response.PD:
                when = point.progression_date or point.date
                since = "" if when == point.date else f" (dated {when}: first seen then)"
                found.append(Progression("a", when, f"RECIST PD on {point.date}{since}: "
                                         + "; ".join(point.reasons),
                                         tuple(filter(None, [point.source]))))
    found += new_on_another_modality(imaging)
    sstr = sstr_series(list(imaging))
    comparisons = [compare(s, sstr) for s in sorted(sstr, key=lambda s: s.date)]
    found += [Progression("b", e.date, e.reason, e.sources)
              for c in comparisons for e in c.events]
    compared = tuple(c for c in comparisons if c.reference is not None)
    assessed = _symptoms(symptoms, as_of)
    for a in assessed:
        found += [Progression("c1", e.confirmed, e.reason, e.sources) for e in a.events]
    readings: list[MarkerReading] = []
    for marker in NET_MARKERS:
        values, why = _marker_values(marker, markers)
        found += [Progression("c2", e.date, e.reason, e.sources)
                  for e in biochemical_progression(marker, values)]
        readings += [MarkerReading(marker, triple, rose,
                                   tuple(f"{v.source}: {why[v.source]}" for v in triple
                                         if v.source in why))
                     for triple, rose in marker_triples(values)]
    return ProgressionFacts(tuple(sorted(found, key=lambda p: p.date)),
                            tuple(sorted(followups, key=lambda p: p.date)), compared,
                            tuple(assessed), tuple(readings))


def _symptoms(symptoms: tuple[Symptom, ...], as_of: date) -> list[ClinicalAssessment]:
    # One symptom is one code, or one name whatever its spelling (notes, I3 c): a
    # recording named only joins the coded one of that name.
    coded = {symptom_name(s.symptom): s.key for s in symptoms if "|" in s.key}
    by_symptom = defaultdict(list)
    for s in symptoms:
        if s.date is not None:
            # an episode with no end is ongoing on the screening date
            end = as_of if s.ongoing else s.end
            key = s.key or symptom_name(s.symptom)
            by_symptom[coded.get(key, key)].append(SymptomObservation(
                s.date, s.frequency, s.grade, s.source, max(end, s.date) if end else None,
                s.ongoing))
    names = {s.key or symptom_name(s.symptom): s.symptom for s in symptoms}
    return [assess_symptom(names.get(key, key), obs) for key, obs in by_symptom.items()]


def _marker_values(marker: str, labs: tuple[LabResult, ...]
                   ) -> tuple[list[MarkerValue], dict[str | None, str]]:
    """The marker's results in date order, those that cannot be read kept as None (with
    why): they hold their place in the series, so no older result decides in theirs."""
    dated = [r for r in labs if r.test == marker and r.date is not None]
    why: dict[str | None, str] = {r.source: r.problem or f"no numeric value ({r.shown()})"
                                  for r in dated if r.std_value is None or r.problem}
    # A result that cannot decide (unreadable, preliminary) or a censored one ("> 700": an
    # interval) shows no rise: it holds its place as a value unknown (notes, "Results").
    for r in dated:
        if r.comparator and r.source not in why:
            why[r.source] = f"censored value {r.shown()}: shows no rise"
    return [MarkerValue(day(r), None if r.source in why else r.std_value, r.source, r.time)
            for r in dated], why


def i3_progressions(facts: ProgressionFacts, months: int) -> list[Progression]:
    """Progressions by I3's own definitions at any date: (a), (b), and (c) when a clinical
    and a biochemical progression lie within `months` of each other (dated at the later)."""
    out = [p for p in facts.events if p.arm in ("a", "b")]
    clinical = [p for p in facts.events if p.arm == "c1"]
    for bio in (p for p in facts.events if p.arm == "c2"):
        for cli in clinical:
            first, later = sorted((cli, bio), key=lambda p: p.date)
            if add_months(later.date, -months) <= first.date:
                out.append(Progression("c", later.date, f"{cli.text}; {bio.text}",
                                       cli.sources + bio.sources))
    return sorted(out, key=lambda p: p.date)
