"""I3, I13 and E4 on PatientRecord objects built directly, and the `trialsieve recist` CLI.
Expected values come from shared/docs/protocol-notes.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from builders import REPO, ctx, lab, record

from trialsieve.cli import main
from trialsieve.logic import Tri
from trialsieve.record import Lesion, PatientRecord, Study, Symptom
from trialsieve.rules.imaging_criteria import (
    DiffuseMarrowInfiltration,
    ProgressionWithin,
    TargetLesion,
)

INCLUSION = date(2026, 3, 15)  # the notes' example: the 12 months start 2025-03-15
C = ctx(d0=date(2026, 3, 15), as_of=date(2026, 3, 10))


def lz(study: str, lid: str, **kw) -> Lesion:
    return Lesion(f"Observation/{study}-{lid}", f"DiagnosticReport/{study}", lid, **kw)


def study(sid: str, when: date, modality: str, *lesions: Lesion,
          marrow: bool | None = None) -> Study:
    return Study(f"DiagnosticReport/{sid}", when, modality, None, lesions, marrow)


def mri(sid: str, when: date, **sizes: float) -> Study:
    return study(sid, when, "MRI", *(lz(sid, k, organ="liver", longest_mm=v, target=True)
                                    for k, v in sizes.items()))


def rec(*facts) -> PatientRecord:
    r = record()
    for f in facts:
        {Study: r.imaging, Symptom: r.symptoms}.get(type(f), r.labs).append(f)
    return r


def i3(r: PatientRecord, c=C):
    return ProgressionWithin().evaluate(r, c)


# --- I3 (a): the 12-month boundary and the RECIST series ---------------------------

@pytest.mark.parametrize(("pd_date", "status"), [
    (date(2025, 3, 15), Tri.MET),  # exactly 12 calendar months before inclusion
    (date(2025, 3, 14), Tri.UNKNOWN),  # one day more: not within; (b), (c) unknown
])
def test_recist_pd_12_month_boundary(pd_date: date, status: Tri) -> None:
    r = rec(mri("m1", date(2024, 11, 1), L1=20), mri("m2", pd_date, L1=25))
    out = i3(r)
    assert out.status is status
    if status is Tri.MET:
        assert [e.date for e in out.evidence] == [pd_date]


def test_12_month_window_on_a_leap_day() -> None:
    c = ctx(d0=date(2028, 2, 29), as_of=date(2028, 2, 20))
    r = rec(mri("m1", date(2026, 11, 1), L1=20), mri("m2", date(2027, 2, 28), L1=25))
    assert i3(r, c).status is Tri.MET


@pytest.mark.parametrize(("later", "status"), [(30, Tri.MET), (29.9, Tri.UNKNOWN)])
def test_recist_pd_needs_20_percent_and_5_mm_over_nadir(later: float, status: Tri) -> None:
    r = rec(mri("m1", date(2025, 6, 1), L1=25), mri("m2", date(2026, 3, 1), L1=later))
    assert i3(r).status is status


def test_plus_20_percent_but_4_mm_is_not_pd() -> None:
    r = rec(mri("m1", date(2025, 6, 1), L1=20), mri("m2", date(2026, 3, 1), L1=24),
            study("p1", date(2025, 6, 2), "SSTR_PET", lz("p1", "L1", transaxial_mm=20)),
            study("p2", date(2026, 3, 2), "SSTR_PET", lz("p2", "L1", transaxial_mm=21)))
    out = i3(r)
    assert out.status is Tri.UNKNOWN  # (a) and (b) not met, (c) no data
    assert not any("RECIST" in m or "SSTR" in m for m in out.missing)


def test_growth_from_nadir_not_baseline() -> None:
    r = rec(mri("m1", date(2025, 4, 1), L1=40), mri("m2", date(2025, 8, 1), L1=25),
            mri("m3", date(2026, 2, 1), L1=30))
    out = i3(r)
    assert out.status is Tri.MET
    assert "nadir 25 mm at 2025-08-01" in out.summary


def test_series_restarts_after_a_pd() -> None:
    # PD on 2025-02-15 (13 months before); later scans stable against the new baseline of 30
    # mm, though 32 mm is +60 % over the old nadir of 20 mm.
    scans = [mri("m1", date(2024, 9, 1), L1=20), mri("m2", date(2025, 2, 15), L1=30),
             mri("m3", date(2025, 8, 1), L1=31), mri("m4", date(2026, 3, 1), L1=32)]
    out = i3(rec(*scans))
    assert out.status is Tri.UNKNOWN
    assert not any("RECIST" in m for m in out.missing)
    # a second PD against the new baseline (30 -> 36 mm) does count
    scans[-1] = mri("m4", date(2026, 3, 1), L1=36)
    out = i3(rec(*scans))
    assert out.status is Tri.MET
    assert [e.date for e in out.evidence] == [date(2026, 3, 1)]


# --- I3 (b) and (c) ------------------------------------------------------------------

@pytest.mark.parametrize(("later", "status"), [(26.1, Tri.MET), (26.0, Tri.UNKNOWN)])
def test_sstr_growth_strictly_over_30_percent(later: float, status: Tri) -> None:
    r = rec(study("p1", date(2025, 6, 2), "SSTR_PET", lz("p1", "L1", transaxial_mm=20)),
            study("p2", date(2026, 3, 2), "SSTR_PET", lz("p2", "L1", transaxial_mm=later)))
    assert i3(r).status is status


def test_sstr_compares_the_same_modality_only() -> None:
    r = rec(study("s1", date(2025, 6, 2), "SSTR_SPECT", lz("s1", "L1", transaxial_mm=20)),
            study("p2", date(2026, 3, 2), "SSTR_PET", lz("p2", "L1", transaxial_mm=30)))
    assert i3(r).status is Tri.UNKNOWN


def _symptoms(days_sustained: int) -> list[Symptom]:
    start = date(2025, 10, 1)
    return [Symptom("Observation/s0", "diarrhoea", date(2025, 9, 1), frequency=4),
            Symptom("Observation/s1", "diarrhoea", start, frequency=6),
            Symptom("Observation/s2", "diarrhoea", date.fromordinal(start.toordinal()
                                                                     + days_sustained),
                    frequency=6)]


CGA = [lab("chromogranin_a", v, d) for v, d in
       ((100, date(2025, 8, 1)), (150, date(2025, 11, 1)), (210, date(2026, 2, 1)))]


@pytest.mark.parametrize(("days", "status"), [(15, Tri.MET), (14, Tri.UNKNOWN)])
def test_clinical_and_biochemical(days: int, status: Tri) -> None:
    assert i3(rec(*_symptoms(days), *CGA)).status is status


def test_clinical_alone_is_not_enough() -> None:
    out = i3(rec(*_symptoms(20), *CGA[:2]))
    assert out.status is Tri.UNKNOWN
    assert any("NET marker" in m for m in out.missing)


# --- I13, lesion by lesion -----------------------------------------------------------

def _i13_record(**pet_kw) -> PatientRecord:
    base = dict(transaxial_mm=30, krenning=3, irradiated=False)
    base.update(pet_kw)
    return rec(mri("m1", date(2025, 6, 1), L1=25), mri("m2", date(2026, 3, 1), L1=31),
               study("pet", date(2026, 3, 3), "SSTR_PET", lz("pet", "L1", **base)))


@pytest.mark.parametrize(("pet_kw", "status", "summary"), [
    ({}, Tri.MET, "1 qualifying lesion(s): lesion L1"),
    ({"krenning": 2}, Tri.NOT_MET, "lesion L1 fails: Krenning grade 3-4"),
    ({"transaxial_mm": 19}, Tri.NOT_MET, "lesion L1 fails: transaxial >= 20 mm"),
    ({"transaxial_mm": 20}, Tri.MET, "1 qualifying lesion(s): lesion L1"),
    ({"irradiated": True}, Tri.NOT_MET, "lesion L1 fails: not previously irradiated"),
    # the first failing condition is named: Krenning before transaxial before irradiation
    ({"krenning": 2, "transaxial_mm": 19, "irradiated": True}, Tri.NOT_MET,
     "lesion L1 fails: Krenning grade 3-4"),
    ({"transaxial_mm": 19, "irradiated": True}, Tri.NOT_MET,
     "lesion L1 fails: transaxial >= 20 mm"),
    ({"irradiated": None}, Tri.UNKNOWN, "lesion L1: unknown not previously irradiated"),
    ({"krenning": None}, Tri.UNKNOWN, "lesion L1: unknown Krenning grade 3-4"),
])
def test_i13_lesion_conditions(pet_kw: dict, status: Tri, summary: str) -> None:
    out = TargetLesion().evaluate(_i13_record(**pet_kw), C)
    assert (out.status, out.summary) == (status, summary)


def test_i13_irradiation_stated_on_the_pet_only() -> None:
    # MRI measurements say nothing about irradiation (None): the PET's "no" decides.
    out = TargetLesion().evaluate(_i13_record(), C)
    assert out.status is Tri.MET and not out.missing


def test_i13_not_progressive_and_not_measurable() -> None:
    r = rec(mri("m1", date(2025, 6, 1), L1=25), mri("m2", date(2026, 3, 1), L1=29),
            study("pet", date(2026, 3, 3), "SSTR_PET",
                  lz("pet", "L1", transaxial_mm=30, krenning=3, irradiated=False)))
    assert TargetLesion().evaluate(r, C).summary == "lesion L1 fails: progressive within 12 months"
    r = rec(mri("m1", date(2025, 6, 1), L1=4), mri("m2", date(2026, 3, 1), L1=9),
            study("pet", date(2026, 3, 3), "SSTR_PET",
                  lz("pet", "L1", transaxial_mm=30, krenning=3, irradiated=False)))
    assert TargetLesion().evaluate(r, C).summary == "lesion L1 fails: RECIST-measurable on MRI/CT"


def test_i13_lists_every_qualifying_lesion() -> None:
    r = rec(mri("m1", date(2025, 6, 1), A=25, B=20), mri("m2", date(2026, 3, 1), A=31, B=26),
            study("pet", date(2026, 3, 3), "SSTR_PET",
                  lz("pet", "A", transaxial_mm=30, krenning=3, irradiated=False),
                  lz("pet", "B", transaxial_mm=22, krenning=4, irradiated=False)))
    out = TargetLesion().evaluate(r, C)
    assert out.summary == "2 qualifying lesion(s): lesion A, lesion B"
    assert {"lesion A", "lesion B"} <= {e.what for e in out.evidence}


@pytest.mark.parametrize(("first", "status"), [
    (date(2025, 3, 15), Tri.MET),  # both scans within the 12 months (bound included)
    (date(2025, 3, 14), Tri.UNKNOWN),  # one day more: only one scan within the 12 months
])
def test_i13_progression_12_month_boundary(first: date, status: Tri) -> None:
    r = rec(mri("m1", first, L1=25), mri("m2", date(2026, 3, 1), L1=31),
            study("pet", date(2026, 3, 3), "SSTR_PET",
                  lz("pet", "L1", transaxial_mm=30, krenning=3, irradiated=False)))
    out = TargetLesion().evaluate(r, C)
    assert out.status is status
    if status is Tri.UNKNOWN:
        assert out.missing == ("lesion L1: progressive within 12 months",)


def test_i13_old_growth_then_stable_is_not_progressive() -> None:
    r = rec(mri("m1", date(2024, 6, 1), L1=25), mri("m2", date(2025, 3, 14), L1=31),
            mri("m3", date(2025, 9, 1), L1=31), mri("m4", date(2026, 3, 1), L1=32),
            study("pet", date(2026, 3, 3), "SSTR_PET",
                  lz("pet", "L1", transaxial_mm=30, krenning=3, irradiated=False)))
    assert TargetLesion().evaluate(r, C).status is Tri.NOT_MET


# --- E4 --------------------------------------------------------------------------------

def _pet(marrow: bool | None) -> Study:
    return study("pet", date(2026, 3, 3), "SSTR_PET", marrow=marrow)


def _spine_mri(marrow: bool) -> Study:
    return replace(study("m", date(2026, 3, 5), "MRI", marrow=marrow), regions=("spine",))


@pytest.mark.parametrize(("facts", "status"), [
    ([_pet(True)], Tri.UNKNOWN),  # PET-suspected, MRI not done
    ([_pet(True), mri("m1", date(2026, 3, 1), L1=20)], Tri.UNKNOWN),  # MRI says nothing
    ([_pet(False)], Tri.NOT_MET),
    ([_pet(True), _spine_mri(True)], Tri.MET),
    ([_pet(True), _spine_mri(False)], Tri.NOT_MET),
    # "The confirming MRI must cover marrow (spine, pelvis or whole body); a body region
    # not recorded leaves it unknown."
    ([_pet(True), study("m", date(2026, 3, 5), "MRI", marrow=True)], Tri.UNKNOWN),
    ([_pet(True), study("m", date(2026, 3, 5), "MRI", marrow=False)], Tri.UNKNOWN),
    ([_pet(None)], Tri.UNKNOWN),  # screening policy: no statement is unknown
    ([], Tri.UNKNOWN),
])
def test_e4(facts: list, status: Tri) -> None:
    out = DiffuseMarrowInfiltration().evaluate(rec(*facts), C)
    assert out.status is status
    if facts and facts[0].marrow_infiltration and status is Tri.UNKNOWN:
        (missing,) = out.missing
        assert missing.startswith("an MRI of the spine, pelvis or whole body confirming or "
                                  "excluding diffuse marrow infiltration")


# --- the recist command ------------------------------------------------------------------

def test_recist_cli_csv(capsys) -> None:
    assert main(["recist", str(REPO / "tests" / "clinical" / "data" / "recist_example.csv")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("measurements")
    for day in ("2025-01-10", "2025-04-10", "2025-07-10", "2025-10-10"):
        assert day in out
    assert "PD" in out


def test_recist_cli_fhir_example(capsys) -> None:
    path = REPO / "examples" / "patients" / "40-recist-pd-20-percent-5-mm-at-bound.json"
    assert main(["recist", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Patient/ex40" in out and "; MRI" in " ".join(out.split())
    assert "2026-01-15" in out and "2026-11-10" in out
    assert "PD" in out


def test_recist_cli_malformed_csv(tmp_path, capsys) -> None:
    src = (REPO / "tests" / "clinical" / "data" / "recist_example.csv").read_text().splitlines()
    src[3] = src[3].replace("2025-01-10", "2025-13-45")  # line 4 of the file
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(src) + "\n")
    assert main(["recist", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "trialsieve: error:" in captured.err
    assert "line 4" in captured.err
