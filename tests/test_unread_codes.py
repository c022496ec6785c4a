"""A code the program cannot read is not a "no" (issue 17, group 4; protocol notes "Real
records: A code the program cannot read is not a 'no'", E2, E3, E5, E6).

The bundled eligible man, edited, read through the FHIR reader, screened on 2026-11-25
for inclusion = D0 = 2026-12-01 (E2 window from 2026-10-20, E3 from 2026-09-08).
"""

from __future__ import annotations

from test_no_false_eligible import MAN, PROJECT, SNOMED, Edit, cc, st

from trialsieve.codes import ICD10, ICDO3

CPT = "http://www.ama-assn.org/go/cpt"


def procedure(rid: str, code: dict, day: str) -> dict:
    return {"resourceType": "Procedure", "id": rid, "status": "completed", "code": code,
            "performedDateTime": day}


def surgery_history_complete() -> Edit:
    return (Edit(MAN).drop("att-recent-major-surgery")
            .attest("surgery-history-complete", True))


def therapy_history_complete() -> Edit:
    return (Edit(MAN).drop("att-recent-anticancer-therapy")
            .attest("anticancer-therapy-history-complete", True))


WHIPPLE = cc(SNOMED, "116142003", "Pancreaticoduodenectomy (Whipple)")


def test_whipple_in_the_e2_window_leaves_e2_unknown_naming_it(tmp_path):
    """2026-11-10 is 21 days before inclusion; its code is in no table: whether it was
    major surgery is unknown, even with the history declared complete (was: not met)."""
    r = surgery_history_complete().add(procedure("whipple", WHIPPLE, "2026-11-10")) \
        .screen(tmp_path)
    assert st(r, "EXCL02") == "unknown"
    assert any("Procedure/whipple" in m for m in r.result("EXCL02").outcome.missing)


def test_whipple_outside_the_e2_window_is_irrelevant(tmp_path):
    r = surgery_history_complete().add(procedure("whipple", WHIPPLE, "2026-01-10")) \
        .screen(tmp_path)
    assert st(r, "EXCL02") == "not_met"


def test_tace_coded_in_cpt_in_the_e3_window_leaves_e3_unknown(tmp_path):
    tace = cc(CPT, "37243", "Transcatheter arterial chemoembolisation")
    r = therapy_history_complete().add(procedure("tace", tace, "2026-10-15")) \
        .screen(tmp_path)
    assert st(r, "EXCL03") == "unknown"
    assert any("Procedure/tace" in m for m in r.result("EXCL03").outcome.missing)


def test_routine_synthea_assessment_in_the_window_is_not_a_doubt(tmp_path):
    """Medication reconciliation (Synthea): neither surgery nor therapy."""
    rec = cc(SNOMED, "430193006", "Medication Reconciliation (procedure)")
    r = surgery_history_complete().add(procedure("medrec", rec, "2026-11-20")) \
        .screen(tmp_path)
    assert st(r, "EXCL02") == "not_met"


# --- E5: kidneys coded as the program can or cannot place them ------------------------
def rt_on(site: dict, share: float = 0.05) -> dict:
    return {"resourceType": "Procedure", "id": "rt", "status": "completed",
            "code": cc(SNOMED, "33195004", "External beam radiotherapy"),
            "bodySite": [site], "performedDateTime": "2022-03-01",
            "extension": [{"url": PROJECT + "/marrow-share", "valueDecimal": share}]}


def rt_history_complete() -> Edit:
    return (Edit(MAN).drop("att-prior-rt-kidney-or-marrow")
            .attest("radiotherapy-history-complete", True))


def test_kidney_in_icdo3_topography_is_a_kidney(tmp_path):
    """C64.9 kidney, NOS: the kidneys were in the field: E5 met (was: a coded site not in
    the SNOMED table read as "kidneys not in field", and the answer made E5 not met)."""
    r = Edit(MAN).add(rt_on(cc(ICDO3, "C64.9", "Kidney, NOS"))).screen(tmp_path)
    assert st(r, "EXCL05") == "met"


def test_renal_pelvis_c65_is_a_kidney(tmp_path):
    r = rt_history_complete().add(rt_on(cc(ICDO3, "C65.9", "Renal pelvis"))).screen(tmp_path)
    assert st(r, "EXCL05") == "met"


def test_local_site_code_cannot_be_placed(tmp_path):
    """A local code: the program cannot say the kidneys were out of the field (was: not
    in field, and with the history complete E5 not met)."""
    site = {"coding": [{"system": "urn:oid:1.2.3.4", "code": "RENAL-L"}], "text": "left"}
    r = rt_history_complete().add(rt_on(site)).screen(tmp_path)
    assert st(r, "EXCL05") == "unknown"


def test_abdominal_field_cannot_be_placed(tmp_path):
    r = rt_history_complete().add(rt_on(cc(SNOMED, "113345001", "Abdominal structure"))) \
        .screen(tmp_path)
    assert st(r, "EXCL05") == "unknown"


def test_liver_site_in_icdo3_is_not_a_kidney(tmp_path):
    r = rt_history_complete().add(rt_on(cc(ICDO3, "C22.0", "Liver"))).screen(tmp_path)
    assert st(r, "EXCL05") == "not_met"


def test_snomed_liver_site_is_not_a_kidney(tmp_path):
    r = rt_history_complete().add(rt_on(cc(SNOMED, "10200004", "Liver structure"))) \
        .screen(tmp_path)
    assert st(r, "EXCL05") == "not_met"


# --- E6: brain metastases in WHO ICD-10 ------------------------------------------------
def test_brain_metastases_in_who_icd10_are_read(tmp_path):
    """C79.3 (WHO ICD-10) active, control not stated: E6 unknown (was: unread, so the "no
    known brain metastases" answer made E6 not met)."""
    cond = {"resourceType": "Condition", "id": "brain", "code": cc(ICD10, "C79.3"),
            "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/condition-clinical",
                                 "active"), "recordedDate": "2026-11-24",
            "onsetDateTime": "2026-11-20"}
    r = Edit(MAN).add(cond).screen(tmp_path)
    assert st(r, "EXCL06") == "unknown"
    assert any(e.source == "Condition/brain" for e in r.result("EXCL06").outcome.evidence)
