"""The imaging readings of the protocol notes ("Imaging as radiologists read it", I3 (b),
I12, I13, E4) on PatientRecord objects built as the FHIR reader builds them. Every
expected value is worked out by hand from shared/docs/protocol-notes.md."""

from __future__ import annotations

import json
from datetime import date

import pytest
from builders import ctx, record

from trialsieve.cli import main
from trialsieve.logic import Tri
from trialsieve.record import Lesion, PatientRecord, Study
from trialsieve.rules.imaging_criteria import (
    DiffuseMarrowInfiltration,
    ProgressionWithin,
    TargetLesion,
)
from trialsieve.rules.progression_evidence import progression_facts

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


# --- I3 (b): the reference is the most recent earlier scan of the modality ----------------

def _i3(r: PatientRecord):
    return ProgressionWithin().evaluate(r, C)  # inclusion 2026-03-15: from 2025-03-15


def _sstr(sid: str, when: date, mm: float, modality: str = "SSTR_PET", **kw) -> Study:
    return study(sid, when, modality, lz(sid, "L1", transaxial_mm=mm, **kw))


def test_i3b_growth_over_a_reference_more_than_12_months_older_is_unknown() -> None:
    # 20 mm on 2024-01-10, 30 mm on 2026-02-01 (+50 %, +10 mm): the reference is 25 months
    # older. The notes (I3 b): "when it is more than 12 months before the later scan, the
    # growth cannot be placed within the 12 months (unknown, not met)".
    out = _i3(rec(_sstr("p1", date(2024, 1, 10), 20), _sstr("p2", date(2026, 2, 1), 30)))
    assert out.status is Tri.UNKNOWN
    assert "more than 12 months older" in out.summary


@pytest.mark.parametrize(("earlier", "status"), [
    (date(2025, 2, 1), Tri.MET),  # exactly 12 months before the later scan
    (date(2025, 1, 31), Tri.UNKNOWN),
])
def test_i3b_reference_gap_boundary(earlier: date, status: Tri) -> None:
    out = _i3(rec(_sstr("p1", earlier, 20), _sstr("p2", date(2026, 2, 1), 30)))
    assert out.status is status


def test_i3b_a_later_smaller_scan_is_the_reference() -> None:
    # 14 mm (2025-04-01), 20 mm (2025-09-01), 24 mm (2026-03-01). The growth of 2025-09-01
    # (+42.9 %, +6 mm) is progression within the 12 months: met, dated 2025-09-01; the
    # 2026-03-01 scan against its reference (20 mm) is +20 %, none.
    out = _i3(rec(_sstr("p1", date(2025, 4, 1), 14), _sstr("p2", date(2025, 9, 1), 20),
                  _sstr("p3", date(2026, 3, 1), 24)))
    assert out.status is Tri.MET
    assert [e.date for e in out.evidence] == [date(2025, 9, 1)]


@pytest.mark.parametrize(("before", "after", "status"), [
    (16, 21, Tri.MET),  # +31.25 % and exactly +5 mm
    (15, 19.9, Tri.UNKNOWN),  # +32.7 % but +4.9 mm: not progression; (a), (c) no data
])
def test_i3b_growth_needs_5_mm(before: float, after: float, status: Tri) -> None:
    out = _i3(rec(_sstr("p1", date(2025, 6, 2), before), _sstr("p2", date(2026, 3, 2), after)))
    assert out.status is status


def test_i3b_a_lesion_flagged_new_but_measured_before_is_not_new() -> None:
    # "A lesion flagged "new" that was measured on an earlier scan is not new."
    out = _i3(rec(_sstr("p1", date(2025, 6, 2), 20),
                  _sstr("p2", date(2026, 3, 2), 21, new=True)))
    assert out.status is Tri.UNKNOWN  # (b) not met, (a) and (c) no data
    assert not any("SSTR" in m for m in out.missing)


# --- issue 22 item 5: the recist table restarts the series after a PD, as screen does ---

def test_recist_command_restarts_after_pd(tmp_path, capsys) -> None:
    # 20 -> 25 mm (PD: +25 %, +5 mm), then 25 and 26 mm. After the PD the series restarts
    # at 25 mm (notes, I3 a): 25 is SD, 26 (+4 %, +1 mm) is SD; against the old nadir of
    # 20 mm they would print PD again.
    rows = ["date,modality,slice_thickness_mm,lesion_id,organ,nodal,target,"
            "longest_diameter_mm,short_axis_mm,nontarget_status,new"]
    rows += [f"{d},CT,5,L1,liver,no,yes,{mm},,,no" for d, mm in (
        ("2025-01-01", 20), ("2025-04-01", 25), ("2025-07-01", 25), ("2025-10-01", 26))]
    path = tmp_path / "m.csv"
    path.write_text("\n".join(rows) + "\n")
    assert main(["recist", str(path), "--format", "json"]) == 0
    points = json.loads(capsys.readouterr().out)["measurements"]
    assert [p["overall"] for p in points] == ["NA", "PD", "SD", "SD"]


# --- E4: the newest baseline PET decides (issue 22 item 15) -------------------------------

def test_e4_the_newest_pet_silent_on_marrow_is_unknown() -> None:
    # PET of 2026-03-01 "no diffuse marrow infiltration"; the newer PET of 2026-03-05 says
    # nothing about the marrow. The notes: "E4: the newest baseline PET decides; when it
    # says nothing about the marrow, E4 is unknown (an older PET does not speak for it)."
    r = rec(study("pet-1", date(2026, 3, 1), "SSTR_PET", marrow=False),
            study("pet-2", date(2026, 3, 5), "SSTR_PET"))
    out = DiffuseMarrowInfiltration().evaluate(r, C)
    assert out.status is Tri.UNKNOWN
    assert "DiagnosticReport/pet-1" in {i.source for i in out.ignored}
    # the newest PET that says "no" decides as before
    r = rec(study("pet-1", date(2026, 3, 1), "SSTR_PET"),
            study("pet-2", date(2026, 3, 5), "SSTR_PET", marrow=False))
    assert DiffuseMarrowInfiltration().evaluate(r, C).status is Tri.NOT_MET


# --- I13: the MRI/CT is chosen per lesion (issue 22 item 13) -----------------------------

def test_i13_a_lung_lesion_followed_on_ct_while_the_liver_is_on_mri() -> None:
    # Liver lesion L1 on MRI (25 -> 31 mm: +24 %, +6 mm); lung lesion P1 on CT (20 -> 26
    # mm: +30 %, +6 mm), with an old MRI of it (2024, 18 mm). The notes: "I13's MRI/CT is
    # MRI where the lesion's organ is followed by MRI, CT otherwise (per lesion, not per
    # patient)": P1 is read on CT and qualifies like L1.
    def scan(sid, when, modality, lid, organ, mm):
        return study(sid, when, modality, lz(sid, lid, organ=organ, longest_mm=mm,
                                             target=True), slice_mm=5.0)
    r = rec(scan("m0", date(2024, 5, 1), "MRI", "P1", "lung", 18),
            scan("m1", date(2025, 6, 1), "MRI", "L1", "liver", 25),
            scan("m2", date(2026, 3, 1), "MRI", "L1", "liver", 31),
            scan("c1", date(2025, 6, 2), "CT", "P1", "lung", 20),
            scan("c2", date(2026, 3, 2), "CT", "P1", "lung", 26),
            pet(pet_lesion("L1"), pet_lesion("P1")))
    out = TargetLesion().evaluate(r, C)
    assert (out.status, out.summary) == (Tri.MET, "2 qualifying lesion(s): lesion L1, lesion P1")


def test_i13_a_lesion_flagged_new_but_measured_before_is_not_new() -> None:
    # L1 measured at 22 mm on 2025-06-01, flagged new at 24 mm on 2026-03-01: "A lesion
    # flagged "new" that was measured on an earlier scan is not new"; +2 mm is no growth:
    # not progressive, so L1 fails.
    r = rec(study("m1", date(2025, 6, 1), "MRI", lz("m1", "L1", longest_mm=22), slice_mm=5.0),
            study("m2", date(2026, 3, 1), "MRI", lz("m2", "L1", longest_mm=24, new=True),
                  slice_mm=5.0),
            pet(pet_lesion()))
    out = TargetLesion().evaluate(r, C)
    assert (out.status, out.summary) == (Tri.NOT_MET,
                                         "lesion L1 fails: progressive within 12 months")


# --- new lesions: equivocal first appearance, another modality (issue 22 items 7, 9) -----

def _ct(sid: str, when: date, *lesions: Lesion, modality: str = "CT") -> Study:
    return study(sid, when, modality, *lesions, slice_mm=5.0)


def test_i3a_an_equivocal_new_lesion_dates_from_its_first_appearance() -> None:
    # X1 equivocal on 2025-03-01, confirmed new on 2025-06-01. The notes: "An equivocal new
    # lesion confirmed later dates the progression at its first appearance": 2025-03-01,
    # before the 12 months that start 2025-03-15, so (a) is not met ((b), (c): no data).
    target = {"organ": "liver", "target": True}
    r = rec(_ct("c1", date(2024, 12, 1), lz("c1", "L1", longest_mm=30, **target)),
            _ct("c2", date(2025, 3, 1), lz("c2", "L1", longest_mm=30, **target),
                lz("c2", "X1", longest_mm=6, nontarget_status="present", equivocal=True)),
            _ct("c3", date(2025, 6, 1), lz("c3", "L1", longest_mm=30, **target),
                lz("c3", "X1", longest_mm=14, nontarget_status="present", new=True)))
    facts = progression_facts(r, C.as_of)
    assert [(p.arm, p.date) for p in facts.events] == [("a", date(2025, 3, 1))]
    out = _i3(r)
    assert out.status is Tri.UNKNOWN
    assert not any("RECIST" in m for m in out.missing)  # (a) decided: not met


def test_i3a_a_new_lesion_on_the_first_scan_of_another_modality() -> None:
    # Abdominal MRI since 2024 (L1 stable 30 mm); a first chest CT on 2026-01-10 shows an
    # unequivocal new lung lesion P1. "A new lesion counts whatever the modality of the
    # scan that shows it": RECIST PD on 2026-01-10, within the 12 months: I3 met.
    target = {"organ": "liver", "target": True}
    r = rec(_ct("m1", date(2024, 6, 1), lz("m1", "L1", longest_mm=30, **target),
                modality="MRI"),
            _ct("m2", date(2025, 6, 1), lz("m2", "L1", longest_mm=30, **target),
                modality="MRI"),
            _ct("c1", date(2026, 1, 10), lz("c1", "P1", organ="lung", longest_mm=14,
                                             nontarget_status="present", new=True)))
    out = _i3(r)
    assert out.status is Tri.MET
    assert [e.date for e in out.evidence] == [date(2026, 1, 10)]


# --- bone lesions are measured by their soft-tissue component (issue 22 item 11) ---------

def test_i13_a_bone_lesion_without_soft_tissue_component_is_not_measured_by_size() -> None:
    # A vertebral metastasis (placed in bone by its SNOMED code), 25 -> 35 mm (+40 %,
    # +10 mm) by size, no soft-tissue component recorded. The notes: "a lytic or mixed bone
    # lesion is measurable only by its soft-tissue component >= 10 mm, a blastic one
    # never": measurability and progression unknown, so I13 unknown (not met by size).
    spine = {"organ": "spine", "organ_codes": (("http://snomed.info/sct", "421060004"),)}
    r = rec(study("m1", date(2025, 6, 1), "MRI", lz("m1", "B1", longest_mm=25, target=True,
                                                  **spine), slice_mm=5.0),
            study("m2", date(2026, 3, 1), "MRI", lz("m2", "B1", longest_mm=35, target=True,
                                                  **spine), slice_mm=5.0),
            pet(pet_lesion("B1", **spine)))
    out = TargetLesion().evaluate(r, C)
    assert out.status is Tri.UNKNOWN
    assert out.missing == ("lesion B1: RECIST-measurable on MRI/CT",
                           "lesion B1: progressive within 12 months")
    # with its soft-tissue component recorded (lytic, 15 -> 21 mm: +40 %, +6 mm): met
    r = rec(study("m1", date(2025, 6, 1), "MRI", lz("m1", "B1", longest_mm=25, target=True,
                                                  bone_type="lytic", soft_tissue_mm=15,
                                                  **spine), slice_mm=5.0),
            study("m2", date(2026, 3, 1), "MRI", lz("m2", "B1", longest_mm=35, target=True,
                                                  bone_type="lytic", soft_tissue_mm=21,
                                                  **spine), slice_mm=5.0),
            pet(pet_lesion("B1", **spine)))
    assert TargetLesion().evaluate(r, C).status is Tri.MET
