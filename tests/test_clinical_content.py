"""Clinical content read from FHIR (issue 7): what a pathology proves (I2), the SSA form
(I5), the research consent (I11), the baseline MRI of E4, the newest E6 statement, the PET
I13 reads and the radiotherapy history. Each case is example 02 (eligible man) with one
change; expected statuses worked out by hand from shared/docs/protocol-notes.md."""

from __future__ import annotations

import copy
import json
from datetime import date

import pytest
from builders import REPO

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import records
from trialsieve.protocols.lumen import LUMEN

EX02 = json.loads((REPO / "examples" / "patients" / "02-eligible-man.json").read_text())
AS_OF, D0 = date(2026, 11, 25), date(2026, 12, 1)
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
PROJECT = "https://trialsieve.org/fhir/CodeSystem/trialsieve"


def cc(system: str, code: str, text: str | None = None) -> dict:
    out: dict = {"coding": [{"system": system, "code": code}]}
    if text:
        out["text"] = text
    return out


def bundle(change) -> dict:
    b = copy.deepcopy(EX02)
    res = {e["resource"]["id"]: e["resource"] for e in b["entry"]}
    extra = change(res) or []
    b["entry"] = [{"resource": r} for r in res.values() if r.get("resourceType")] + [
        {"resource": r} for r in extra]
    return b


def run(tmp_path, change, d0: date = D0):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(bundle(change)))
    (rec,) = records(path)
    return rec, screen(LUMEN, rec, Dates.resolve(AS_OF, d0, d0))


def status(result, cid: str) -> str:
    return result.result(cid).status.value


# --- I2: the pathology must itself say NET ---------------------------------------------

def _pathology(value: dict, rid: str = "ex02-pathology", code: str = "59847-4",
               **extra) -> dict:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": cc(LOINC, code), "subject": {"reference": "Patient/ex02"},
            "effectiveDateTime": "2024-03-05", "valueCodeableConcept": value, **extra}


@pytest.mark.parametrize("value", [
    cc(ICDO3, "8140/3", "Adenocarcinoma, NOS"),  # another tumour
    {"text": "well-differentiated neuroendocrine tumour"},  # not coded
])
def test_a_pathology_that_does_not_say_net_does_not_prove_i2(tmp_path, value):
    def change(res):
        res["ex02-pathology"] = _pathology(value)
    rec, r = run(tmp_path, change)
    assert status(r, "INCL02") == "unknown"
    assert r.verdict != "eligible"
    o = r.result("INCL02").outcome
    assert any("pathology" in m for m in o.missing)
    assert "Observation/ex02-pathology" in {i.source for i in o.ignored}


def test_grade_and_ki67_are_read_from_the_pathology(tmp_path):
    # A NET G3 (8249/3, WHO grade 3, Ki-67 25 %) is a NET, not a NEC: I2 met.
    def change(res):
        res["ex02-pathology"] = _pathology(
            cc(ICDO3, "8249/3", "Neuroendocrine tumor, grade 3"),
            component=[{"code": cc(LOINC, "33732-9"),
                        "valueCodeableConcept": cc(SNOMED, "1155707008")},
                       {"code": cc(LOINC, "29593-1"),
                        "valueQuantity": {"value": 25, "unit": "%",
                                          "system": "http://unitsofmeasure.org",
                                          "code": "%"}}])
    rec, r = run(tmp_path, change)
    (h,) = rec.histology
    assert (h.grade, h.ki67, h.net, h.differentiation) == (3, 25.0, True, "well")
    assert status(r, "INCL02") == "met"
    ev = next(e for e in r.result("INCL02").outcome.evidence if e.what == "histology")
    assert "G3" in (ev.note or "") and "Ki-67 25 %" in (ev.note or "")


def test_a_pathology_report_with_a_coded_conclusion_proves_i2(tmp_path):
    def change(res):
        del res["ex02-pathology"]
        return [{"resourceType": "DiagnosticReport", "id": "ex02-path-report",
                 "status": "final", "code": cc(LOINC, "22637-3"),
                 "subject": {"reference": "Patient/ex02"}, "effectiveDateTime": "2024-03-05",
                 "conclusionCode": [cc(ICDO3, "8240/3")]}]
    _, r = run(tmp_path, change)
    assert status(r, "INCL02") == "met"


# --- I5: the SSA form from whole words of the product, then route, then schedule ------

def _ssa(name: str, dosage: list | None = None, atc: str = "H01CB02"):
    def change(res):
        ssa = res["ex02-ssa"]
        ssa["medicationCodeableConcept"] = {"coding": [{"system": "http://www.whocc.no/atc",
                                                         "code": atc}], "text": name}
        ssa["dosage"] = dosage or []
    return change


def _timing(frequency: int, period: float, unit: str) -> list:
    return [{"timing": {"repeat": {"frequency": frequency, "period": period,
                                   "periodUnit": unit}}}]


SC = {"route": cc(SNOMED, "34206005")}  # subcutaneous
IM = {"route": cc(SNOMED, "78421000")}  # intramuscular


@pytest.mark.parametrize(("name", "dosage", "form"), [
    ("Sandostatin LAR 30 mg", None, "long"),
    ("Somatuline Autogel 120 mg", None, "long"),
    ("lanreotide depot 120 mg", None, "long"),
    ("Sandostatin-LAR", None, "long"),
    # "regular" holds the letters "lar": it is no product word; the schedule decides
    ("octreotide regular 100 microgram", _timing(3, 1, "d"), "short"),
    ("octreotide regular 100 microgram", None, None),
    ("octreotide s.c. tid", [{**SC, **_timing(3, 1, "d")[0]}], "short"),
    ("octreotide 30 mg", [IM], "long"),
    ("lanreotide 120 mg", _timing(1, 28, "d"), "long"),  # every 28 days
    ("lanreotide 120 mg", _timing(1, 4, "wk"), "long"),
    ("lanreotide 120 mg", _timing(1, 5, "d"), None),  # neither pattern: unknown
])
def test_ssa_form(tmp_path, name, dosage, form):
    rec, _ = run(tmp_path, _ssa(name, dosage))
    (ssa,) = [e for e in rec.exposures if e.drug_class == "ssa"]
    assert ssa.ssa_form == form


def test_regular_octreotide_stopped_20_days_before_is_not_read_as_long_acting(tmp_path):
    # short-acting octreotide tid, last dose 20 days before D0: >= 48 h, I5 met (it was
    # "long" by the letters "lar" in "regular": 20 < 28 days, not met)
    def change(res):
        _ssa("octreotide regular 100 microgram", _timing(3, 1, "d"))(res)
        res["ex02-ssa"]["effectivePeriod"]["end"] = "2026-11-11"
    _, r = run(tmp_path, change)
    assert status(r, "INCL05") == "met"


# --- I11: a research consent for this study -------------------------------------------

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
STUDY_CONTEXT = "http://hl7.org/fhir/StructureDefinition/consent-ResearchStudyContext"
# not the example's own ResearchStudy/lumen: two differing copies of one resource with
# nothing to order them are not read (record/identity.py), whichever refers to them
LUMEN_STUDY = {"resourceType": "ResearchStudy", "id": "lumen-registered", "status": "active",
               "identifier": [{"system": "https://clinicaltrials.gov", "value": "NCT01842165"}]}


def _consent(scope: str = "research", study: dict | None = None, day: str = "2026-11-18",
             policy: list | None = None) -> dict:
    res = {"resourceType": "Consent", "id": "ex02-consent", "status": "active",
           "scope": cc(CONSENT_SCOPE, scope), "category": [cc(LOINC, "59284-0")],
           "patient": {"reference": "Patient/ex02"}, "dateTime": day}
    if study is not None:
        res["provision"] = {"extension": [{"url": STUDY_CONTEXT, "valueReference": study}]}
    if policy is not None:
        res["policy"] = policy
    return res


@pytest.mark.parametrize(("consent", "extra", "expected"), [
    # a privacy consent from 2019 is no consent to this study
    (_consent("patient-privacy", day="2019-04-02"), [], "unknown"),
    # a research consent naming no study, or another study
    (_consent(), [], "unknown"),
    (_consent(study={"identifier": {"value": "NCT00000000"}}), [], "unknown"),
    # a research consent for this study: by the ResearchStudy it references ...
    (_consent(study={"reference": "ResearchStudy/lumen-registered"}), [LUMEN_STUDY], "met"),
    # ... or by the trial's identifier in the reference (EudraCT number), or its
    # registry page as the policy
    (_consent(study={"identifier": {"value": "2012-003666-41"}}), [], "met"),
    (_consent(policy=[{"uri": "https://clinicaltrials.gov/study/NCT01842165"}]), [], "met"),
])
def test_i11_needs_a_research_consent_for_this_study(tmp_path, consent, extra, expected):
    def change(res):
        res["ex02-consent"] = consent
        return extra
    _, r = run(tmp_path, change)
    o = r.result("INCL11").outcome
    assert o.status.value == expected
    if expected == "unknown":
        assert "Consent/ex02-consent" in {i.source for i in o.ignored}


def test_i11_consent_signed_after_inclusion_does_not_count(tmp_path):
    def change(res):
        res["ex02-consent"] = _consent(study={"reference": "ResearchStudy/lumen-registered"})
        return [LUMEN_STUDY]
    _, r = run(tmp_path, change, d0=date(2026, 11, 17))  # consent 2026-11-18
    o = r.result("INCL11").outcome
    assert o.status.value == "unknown"
    assert "after" in {i.source: i.reason for i in o.ignored}["Consent/ex02-consent"]


# --- I13: the PET read, and the radiotherapy history ----------------------------------

def _pet_report(rid: str, day: str) -> dict:
    return {"resourceType": "DiagnosticReport", "id": rid, "status": "final",
            "code": cc(PROJECT, "sstr-pet"), "subject": {"reference": "Patient/ex02"},
            "effectiveDateTime": day}


def test_i13_reads_the_latest_baseline_pet_that_has_lesion_measurements(tmp_path):
    # a second PET on 2026-11-20 with no lesion measurements: the PET of 2026-11-13 (its
    # liver-1 qualifies) is read, and the report says so
    def change(res):
        return [_pet_report("ex02-pet-2", "2026-11-20")]
    _, r = run(tmp_path, change)
    o = r.result("INCL13").outcome
    assert o.status.value == "met"
    assert "2026-11-13" in o.summary and "2026-11-20" in o.summary


def test_i13_unknown_when_no_baseline_pet_has_measurements(tmp_path):
    # the PET with measurements is 29 days before D0: not a baseline one (I12)
    def change(res):
        for rid in ("ex02-pet", "ex02-size-pet"):
            res[rid]["effectiveDateTime"] = "2026-11-02"
        return [_pet_report("ex02-pet-2", "2026-11-20")]
    _, r = run(tmp_path, change)
    o = r.result("INCL13").outcome
    assert o.status.value == "unknown"
    assert any("PET/CT" in m for m in o.missing)


def _no_irradiation_flag(res):
    size = res["ex02-size-pet"]
    size["component"] = [c for c in size["component"]
                         if c["code"]["coding"][0]["code"] != "previously-irradiated"]


def _rt_complete(answer: bool = True) -> dict:
    return {"resourceType": "Observation", "id": "ex02-att-rt-complete", "status": "final",
            "code": cc(PROJECT, "radiotherapy-history-complete"),
            "subject": {"reference": "Patient/ex02"}, "effectiveDateTime": "2026-11-24",
            "performer": [{"display": "Dr A. Investigator (site 01)"}],
            "valueBoolean": answer}


def _rt_course(**extra) -> dict:
    return {"resourceType": "Procedure", "id": "ex02-rt", "status": "completed",
            "code": cc(SNOMED, "33195004", "External beam radiation therapy procedure"),
            "subject": {"reference": "Patient/ex02"}, "performedDateTime": "2025-02-10",
            "extension": [{"url": PROJECT + "/marrow-share", "valueDecimal": 0.05}], **extra}


BONE = {"bodySite": [cc(SNOMED, "51185008", "Thoracic spine")]}
LIVER = {"bodySite": [cc(SNOMED, "10200004", "Liver structure")]}
TARGET_LESION = {"bodySite": [cc(SNOMED, "10200004", "Liver structure")],
                 "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/"
                                "procedure-targetBodyStructure",
                                "valueReference": {"reference": "BodyStructure/ex02-liver-1"}},
                               {"url": PROJECT + "/marrow-share", "valueDecimal": 0.05}]}


@pytest.mark.parametrize(("extra", "expected"), [
    ([], "unknown"),  # flag missing, history not declared complete
    ([_rt_complete()], "met"),  # complete history, no course at all
    ([_rt_complete(), _rt_course(**BONE)], "met"),  # a course elsewhere
    ([_rt_complete(), _rt_course(**LIVER)], "unknown"),  # a course on the lesion's organ
    ([_rt_complete(), _rt_course(**TARGET_LESION)], "not_met"),  # on that lesion
    ([_rt_complete(), _rt_course()], "unknown"),  # a course whose site is not recorded
    ([_rt_complete(False)], "unknown"),
])
def test_i13_irradiation_from_a_complete_radiotherapy_history(tmp_path, extra, expected):
    def change(res):
        _no_irradiation_flag(res)
        return extra
    _, r = run(tmp_path, change)
    assert status(r, "INCL13") == expected
