"""Record imaging -> the pure calculators' inputs (RECIST scans, SSTR scans), and the
progression events of I3 that I4 also reads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from trialsieve.clinical.progression import (
    MarkerValue,
    SymptomObservation,
    biochemical_progression,
    clinical_progression,
)
from trialsieve.clinical.recist import LesionMeasurement, Scan, progression_events
from trialsieve.clinical.sstr import SstrLesion, SstrScan, sstr_progression
from trialsieve.codes import NET_MARKERS
from trialsieve.record import PatientRecord, Study


def recist_series(studies: list[Study]) -> dict[str, list[Scan]]:
    """CT and MRI studies with lesions, one series per modality (sizes compare within one)."""
    out: dict[str, list[Scan]] = defaultdict(list)
    for s in studies:
        if s.modality in ("CT", "MRI") and s.lesions and s.date is not None:
            out[s.modality].append(Scan(s.date, s.modality, tuple(
                LesionMeasurement(lz.lesion_id, lz.organ, lz.nodal, lz.longest_mm,
                                  lz.short_axis_mm, lz.target, lz.nontarget_status, lz.new,
                                  lz.too_small, lz.disappeared, source=lz.source)
                for lz in s.lesions), s.slice_thickness_mm, s.source))
    return dict(out)


def sstr_series(studies: list[Study]) -> list[SstrScan]:
    return [SstrScan(s.date, s.modality, tuple(
        SstrLesion(lz.lesion_id, lz.transaxial_mm, lz.krenning, lz.new, lz.source)
        for lz in s.lesions), s.source)
        for s in studies if s.modality.startswith("SSTR") and s.date is not None]


@dataclass(frozen=True)
class Progression:
    """A dated progression of one kind (a: RECIST, b: SSTR, c1: clinical, c2: biochemical)."""

    arm: str
    date: date
    text: str
    sources: tuple[str, ...]


def progressions(record: PatientRecord) -> list[Progression]:
    found: list[Progression] = []
    for scans in recist_series(record.imaging).values():
        found += [Progression("a", e.date, f"RECIST PD on {e.date}: " + "; ".join(e.reasons),
                              tuple(filter(None, [e.source]))) for e in progression_events(scans)]
    found += [Progression("b", e.date, e.reason, e.sources)
              for e in sstr_progression(sstr_series(record.imaging))]
    by_symptom = defaultdict(list)
    for s in record.symptoms:
        if s.date is not None:
            by_symptom[s.symptom].append(SymptomObservation(s.date, s.frequency, s.grade,
                                                            s.source))
    for name, obs in by_symptom.items():
        found += [Progression("c1", e.confirmed, e.reason, e.sources)
                  for e in clinical_progression(name, obs)]
    for marker in NET_MARKERS:
        values = [MarkerValue(r.date, r.std_value, r.source) for r in record.labs_of(marker)
                  if r.date is not None and r.std_value is not None]
        found += [Progression("c2", e.date, e.reason, e.sources)
                  for e in biochemical_progression(marker, values)]
    return sorted(found, key=lambda p: p.date)
