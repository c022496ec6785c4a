"""The imaging readings of the protocol notes ("Imaging as radiologists read it", I3 (b),
I12, I13, E4) on PatientRecord objects built as the FHIR reader builds them. Every
expected value is worked out by hand from shared/docs/protocol-notes.md."""

from __future__ import annotations

from datetime import date

import pytest
from builders import ctx, record

from trialsieve.logic import Tri
from trialsieve.record import Lesion, PatientRecord, Study
from trialsieve.rules.imaging_criteria import TargetLesion

C = ctx(d0=date(2026, 3, 15), as_of=date(2026, 3, 10))


def lz(study: str, lid: str, **kw) -> Lesion:
    return Lesion(f"Observation/{study}-{lid}", f"DiagnosticReport/{study}", lid, **kw)


def study(sid: str, when: date, modality: str, *lesions: Lesion,
          slice_mm: float | None = None, marrow: bool | None = None) -> Study:
    return Study(f"DiagnosticReport/{sid}", when, modality, slice_mm, lesions, marrow)


def rec(*facts) -> PatientRecord:
    r = record()
    for f in facts:
        (r.imaging if isinstance(f, Study) else r.procedures if hasattr(f, "kind")
         else r.attestations).append(f)
    return r


def pet(*lesions: Lesion, when: date = date(2026, 3, 3)) -> Study:
    return study("pet", when, "SSTR_PET", *lesions)


def pet_lesion(lid: str = "L1", **kw) -> Lesion:
    values = dict(transaxial_mm=30, krenning=3, irradiated=False)
    values.update(kw)
    return lz("pet", lid, **values)


# --- I13: measurability with the slice thickness not recorded ----------------------------

@pytest.mark.parametrize(("before", "after", "slice_mm", "status"), [
    # 12 -> 18 mm: +50 % and +6 mm, progressive. The slice is not recorded: "a lesion of
    # 10-19 mm has unknown measurability" (the latest, 18 mm, is the one judged).
    (12, 18, None, Tri.UNKNOWN),
    (12, 18, 5.0, Tri.MET),  # 5 mm slices: 10 mm is the minimum
    (12, 18, 10.0, Tri.NOT_MET),  # 10 mm slices: twice the slice is 20 mm
    # 16 -> 20 mm: +25 % and +4 mm is not progressive; 15 -> 20: +33 %, +5 mm is, and
    # "one of 20 mm or more is measurable" with the slice not recorded.
    (15, 20, None, Tri.MET),
])
def test_i13_slice_thickness_not_recorded(before, after, slice_mm, status) -> None:
    def mri(sid: str, when: date, mm: float) -> Study:
        return study(sid, when, "MRI", lz(sid, "L1", organ="liver", longest_mm=mm,
                                          target=True), slice_mm=slice_mm)
    r = rec(mri("m1", date(2025, 6, 1), before), mri("m2", date(2026, 3, 1), after),
            pet(pet_lesion()))
    out = TargetLesion().evaluate(r, C)
    assert out.status is status
    if status is Tri.UNKNOWN:
        assert out.missing == ("lesion L1: RECIST-measurable on MRI/CT",)
