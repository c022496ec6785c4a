"""What an imaging study covers, the chest X-ray and the SUV, read from FHIR (issue 22: E4's
confirming MRI, the chest X-ray as a FHIR code, SUV reading). Each case is example 02
(eligible man: MRI 2026-02-10 liver lesion 30 mm, MRI 2026-11-12 40 mm, 68Ga PET/CT
2026-11-13 Krenning 3, 38 mm, no marrow infiltration) with one change. Expected statuses
worked out by hand from shared/docs/protocol-notes.md."""

from __future__ import annotations

import json

import pytest
from builders import REPO
from test_imaging_fhir import PROJECT, SNOMED, cc, run

from trialsieve.cli import main

DICOM = "http://dicom.nema.org/resources/ontology/DCM"
LOINC = "http://loinc.org"
SUBJECT = {"reference": "Patient/ex02"}
LUMBAR_SPINE = (SNOMED, "122496007")
PELVIS = (SNOMED, "816092008")
WHOLE_BODY = (SNOMED, "38266002")
CHEST = (SNOMED, "816094009")
ABDOMEN = (SNOMED, "818981001")
LOCAL = ("https://pacs.example.org/region", "ABD-SP")


def _pet_suspects_marrow(res) -> None:
    res["ex02-pet"]["conclusionCode"] = [cc(PROJECT, "diffuse-marrow-infiltration")]


def mri_report(rid: str, when: str, marrow: bool, *sites: tuple[str, str]) -> dict:
    """An MRI DiagnosticReport stating the marrow, its body sites in the bodySite
    extension (R4 DiagnosticReport has no bodySite element)."""
    res = {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
           "code": cc(PROJECT, "mri", "MRI"), "subject": SUBJECT, "effectiveDateTime": when,
           "conclusionCode": [cc(PROJECT, "diffuse-marrow-infiltration" if marrow
                                 else "no-diffuse-marrow-infiltration")]}
    if sites:
        res["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/bodySite",
                             "valueCodeableConcept": {"coding": [
                                 {"system": s, "code": c} for s, c in sites]}}]
    return res


def imaging_study(rid: str, when: str, modality: str, *sites: tuple[str, str]) -> dict:
    """An ImagingStudy with one series per body site (series.bodySite is a Coding)."""
    return {"resourceType": "ImagingStudy", "id": rid, "status": "available",
            "subject": SUBJECT, "started": when,
            "modality": [{"system": DICOM, "code": modality}],
            "series": [{"uid": f"1.2.3.{i}", "modality": {"system": DICOM, "code": modality},
                        "bodySite": {"system": s, "code": c}}
                       for i, (s, c) in enumerate(sites)]}


def marrow_finding(rid: str, study: str, when: str, present: bool) -> dict:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": cc(PROJECT, "diffuse-marrow-infiltration"), "subject": SUBJECT,
            "effectiveDateTime": when, "derivedFrom": [{"reference": study}],
            "valueBoolean": present}


# --- E4: "The confirming MRI must cover marrow (spine, pelvis or whole body); a body
# region not recorded leaves it unknown." The PET/CT of 2026-11-13 suspects diffuse
# marrow infiltration; D0 2026-12-01, so an MRI from 2026-11-03 is a baseline one. -------

@pytest.mark.parametrize(("mris", "expected"), [
    # an MRI of the lumbar spine confirms: E4 met (PET and MRI both)
    ([mri_report("mri-m", "2026-11-20", True, LUMBAR_SPINE)], "met"),
    # a pelvis MRI excludes it: not met
    ([mri_report("mri-m", "2026-11-20", False, PELVIS)], "not_met"),
    # a whole-body MRI confirms
    ([mri_report("mri-m", "2026-11-20", True, WHOLE_BODY)], "met"),
    # an abdomen-and-spine MRI: the spine is covered
    ([mri_report("mri-m", "2026-11-20", True, ABDOMEN, LUMBAR_SPINE)], "met"),
    # a liver MRI cannot exclude diffuse marrow infiltration: unknown, not "not met"
    ([mri_report("mri-m", "2026-11-20", False, (SNOMED, "10200004"))], "unknown"),
    # a chest MRI neither (the notes name spine, pelvis or whole body)
    ([mri_report("mri-m", "2026-11-20", False, CHEST)], "unknown"),
    # the region not recorded: unknown whichever way the MRI reads
    ([mri_report("mri-m", "2026-11-20", False)], "unknown"),
    ([mri_report("mri-m", "2026-11-20", True)], "unknown"),
    # a region code that cannot be placed: unknown (it may or may not be the spine)
    ([mri_report("mri-m", "2026-11-20", False, LOCAL)], "unknown"),
    # a spine MRI decides though a newer liver MRI says nothing of the marrow's extent
    ([mri_report("mri-m", "2026-11-10", True, LUMBAR_SPINE),
      mri_report("mri-l", "2026-11-20", False, (SNOMED, "10200004"))], "met"),
    # a newer MRI of unknown region that reads otherwise: unknown
    ([mri_report("mri-m", "2026-11-10", True, LUMBAR_SPINE),
      mri_report("mri-u", "2026-11-20", False)], "unknown"),
    # an older MRI of unknown region does not stand against the spine MRI
    ([mri_report("mri-u", "2026-11-05", False),
      mri_report("mri-m", "2026-11-10", True, LUMBAR_SPINE)], "met"),
    # an ImagingStudy whose series cover the liver and the whole body, its finding an
    # Observation derived from it
    ([imaging_study("is-m", "2026-11-20", "MR", (SNOMED, "10200004"), WHOLE_BODY),
      marrow_finding("is-m-marrow", "ImagingStudy/is-m", "2026-11-20", False)], "not_met"),
    # the same with the liver series only: unknown
    ([imaging_study("is-m", "2026-11-20", "MR", (SNOMED, "10200004")),
      marrow_finding("is-m-marrow", "ImagingStudy/is-m", "2026-11-20", False)], "unknown"),
])
def test_e4_the_confirming_mri_must_cover_the_marrow(tmp_path, mris, expected) -> None:
    def change(res):
        _pet_suspects_marrow(res)
        return mris
    _, r = run(change, tmp_path=tmp_path)
    o = r.result("EXCL04").outcome
    assert o.status.value == expected
    if expected == "unknown":
        assert any("spine, pelvis or whole body" in m for m in o.missing)


def test_e4_names_the_mri_that_does_not_cover_the_marrow(tmp_path) -> None:
    def change(res):
        _pet_suspects_marrow(res)
        return [mri_report("mri-l", "2026-11-20", False, (SNOMED, "10200004"))]
    _, r = run(change, tmp_path=tmp_path)
    o = r.result("EXCL04").outcome
    (why,) = [i.reason for i in o.ignored if i.source == "DiagnosticReport/mri-l"]
    assert "liver" in why and "not the marrow" in why


# --- the chest X-ray as a FHIR code: RECIST 1.1 "on a chest X-ray the minimum is 20 mm" ---

def _x_ray_bundle(tmp_path, first_mm: float, later_mm: float, *sites) -> str:
    """Two chest X-rays (DICOM DX, the series' body site the chest) measuring lung lesion
    N1, flagged target on the first."""
    sites = sites or (CHEST,)
    entries = [imaging_study("xr-1", "2026-03-02", "DX", *sites),
               imaging_study("xr-2", "2026-09-01", "DX", *sites),
               {"resourceType": "BodyStructure", "id": "lung-1", "patient": SUBJECT,
                "identifier": [{"system": "https://pacs.example.org/lesion", "value": "N1"}],
                "location": cc(SNOMED, "39607008", "Lung structure")}]
    for study, mm in (("xr-1", first_mm), ("xr-2", later_mm)):
        comps = [{"code": cc(LOINC, "33728-7"),
                  "valueQuantity": {"value": mm, "system": "http://unitsofmeasure.org",
                                    "code": "mm"}}]
        if study == "xr-1":
            comps.append({"code": cc(PROJECT, "target"), "valueBoolean": True})
        entries.append({"resourceType": "Observation", "id": f"size-{study}", "status": "final",
                        "code": cc(LOINC, "21889-1"), "subject": SUBJECT,
                        "effectiveDateTime": "2026-03-02" if study == "xr-1" else "2026-09-01",
                        "focus": [{"reference": "BodyStructure/lung-1"}],
                        "derivedFrom": [{"reference": f"ImagingStudy/{study}"}],
                        "component": comps})
    path = tmp_path / "xr.json"
    bundle = json.loads((REPO / "examples" / "patients" / "02-eligible-man.json").read_text())
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Patient"] + [
        {"resource": r} for r in entries]
    path.write_text(json.dumps(bundle))
    return str(path)


def _recist_json(capsys, path: str) -> dict:
    assert main(["recist", path, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_chest_x_ray_target_under_20_mm_shows_no_progression(tmp_path, capsys) -> None:
    # N1 15 mm -> 21 mm (+40 %, +6 mm): PD by the sum, but a 15 mm lesion is not measurable
    # on a chest X-ray (RECIST 1.1: 20 mm), so the target set breaks RECIST: "A target set
    # that breaks these rules does not show progression (unknown, naming the rule)": NE.
    got = _recist_json(capsys, _x_ray_bundle(tmp_path, 15, 21))
    (points,) = got.values()
    assert list(got) == ["ex02 XR"]
    assert [p["overall"] for p in points] == ["NA", "NE"]
    assert any("15 mm < 20 mm (chest X-ray)" in n for n in points[0]["notes"])


def test_a_chest_x_ray_target_of_20_mm_shows_progression(tmp_path, capsys) -> None:
    # N1 20 mm (measurable on a chest X-ray, exactly at the minimum) -> 25 mm: +25 % and
    # +5 mm over the nadir of 20 mm: PD.
    got = _recist_json(capsys, _x_ray_bundle(tmp_path, 20, 25))
    (points,) = got.values()
    assert [p["overall"] for p in points] == ["NA", "PD"]


def test_an_x_ray_not_of_the_chest_is_set_aside_and_named(tmp_path, capsys) -> None:
    # RECIST 1.1 measures lesions on a chest X-ray only: an abdomen X-ray is not read
    path = _x_ray_bundle(tmp_path, 20, 25, ABDOMEN)
    assert main(["recist", path]) == 2
    assert "no CT, MRI or chest X-ray lesion measurements" in capsys.readouterr().err
    from trialsieve.fhir.reader import records
    (rec,) = records(tmp_path / "xr.json")
    (why,) = [i.reason for i in rec.ignored if i.source == "ImagingStudy/xr-1"]
    assert "chest X-ray only" in why


def test_a_chest_x_ray_by_its_loinc_code_is_a_chest_x_ray(tmp_path, capsys) -> None:
    # a DiagnosticReport coded LOINC 36643-5 (XR Chest 2 Views) names modality and region
    path = _x_ray_bundle(tmp_path, 15, 21)
    bundle = json.loads(open(path).read())
    for e in bundle["entry"]:
        r = e["resource"]
        if r["resourceType"] == "ImagingStudy":
            e["resource"] = {"resourceType": "DiagnosticReport", "id": r["id"],
                             "status": "final", "code": cc(LOINC, "36643-5"),
                             "subject": SUBJECT, "effectiveDateTime": r["started"]}
        elif r["resourceType"] == "Observation":
            ref = r["derivedFrom"][0]["reference"].replace("ImagingStudy", "DiagnosticReport")
            r["derivedFrom"] = [{"reference": ref}]
    open(path, "w").write(json.dumps(bundle))
    (points,) = _recist_json(capsys, path).values()
    assert [p["overall"] for p in points] == ["NA", "NE"]


def test_a_chest_x_ray_progression_is_not_i3a(tmp_path) -> None:
    # I3 (a) is "RECIST 1.1 progressive disease on MRI or CT": a chest X-ray PD within the
    # 12 months does not make (a) met. Example 02's own MRI PD is removed (40 -> 30 mm).
    def change(res):
        res["ex02-size-mri-2"]["component"][0]["valueQuantity"]["value"] = 30
        bundle = json.loads(open(_x_ray_bundle(tmp_path, 20, 25)).read())
        return [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] != "Patient"]
    rec, r = run(change, tmp_path=tmp_path)
    assert any(s.modality == "XR" for s in rec.imaging)  # read, with its lesion
    o = r.result("INCL03").outcome
    assert not any(e.source in ("ImagingStudy/xr-2", "ImagingStudy/xr-1") for e in o.evidence)
    assert "RECIST PD" not in o.summary


# --- SUV: "Uptake is read as the Krenning / Rotterdam grade; an SUV alone does not give one
# (unknown)." ---------------------------------------------------------------------------

def _suv(res, value, unit="{SUVbw}g/ml", code=(DICOM, "126401"), keep_krenning=True) -> None:
    comps = res["ex02-size-pet"]["component"]
    if not keep_krenning:
        comps[:] = [c for c in comps if c["code"]["coding"][0]["code"] != "krenning-grade"]
    comps.append({"code": cc(*code), "valueQuantity": {"value": value, "unit": unit,
                                                       "code": unit}})


def test_i13_an_suv_alone_gives_no_krenning_grade(tmp_path) -> None:
    _, r = run(lambda res: _suv(res, 14.2, keep_krenning=False), tmp_path=tmp_path)
    o = r.result("INCL13").outcome
    assert o.status.value == "unknown"
    assert any("SUVmax 14.2 g/mL" in (e.value or "") for e in o.evidence)
    assert any("Krenning grade 3-4 (an SUV alone gives none)" in m for m in o.missing)


def test_i13_the_suv_is_shown_beside_the_krenning_grade(tmp_path) -> None:
    # Krenning 3 decides (met, as example 02); the SUVmax in kg/L is shown in g/mL
    _, r = run(lambda res: _suv(res, 9.5, "kg/L", (PROJECT, "suv-max")), tmp_path=tmp_path)
    o = r.result("INCL13").outcome
    assert o.status.value == "met"
    assert any(e.value == "Krenning 3, transaxial 38.0 mm, SUVmax 9.5 g/mL (not a grade)"
               for e in o.evidence)


def test_an_suv_in_a_unit_that_is_not_a_concentration_is_named(tmp_path) -> None:
    rec, r = run(lambda res: _suv(res, 9.5, "mm"), tmp_path=tmp_path)
    (warning,) = [w for w in rec.warnings if "ex02-size-pet" in str(w)]
    assert "valueQuantity" in str(warning) and "g/mL" in str(warning)
    assert r.result("INCL13").status.value != "met"
