"""Write the example patients of examples/patients/ as FHIR R4 Bundles (type collection).

Run from the project root: `.venv/bin/python examples/build_patients.py`. Each patient is
the fully eligible man or woman of childbearing potential with one change, so that each
file shows one outcome. Screening date 2026-11-25, inclusion = D0 = 2026-12-01; the
expected result of each file is in examples/patients/README.md and tests/test_examples.py.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).parent / "patients"
D0 = date(2026, 12, 1)
LAB_DAY = "2026-11-20"  # 11 days before D0: within the 28-day baseline window
ATTEST_DAY = "2026-11-24"
INVESTIGATOR = {"display": "Dr A. Investigator (site 01)"}

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ATC = "http://www.whocc.no/atc"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
PROJECT = "https://trialsieve.org/fhir/CodeSystem/trialsieve"
COND_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
COND_CLIN = "http://terminology.hl7.org/CodeSystem/condition-clinical"
STUDY_CONTEXT = "http://hl7.org/fhir/StructureDefinition/consent-ResearchStudyContext"
# The trial the consents are given to (I11), in each bundle.
LUMEN_STUDY = {"resourceType": "ResearchStudy", "id": "lumen", "status": "active",
               "title": "LuMEn: 177Lu-octreotate treatment outcome prediction",
               "identifier": [{"system": "https://clinicaltrials.gov", "value": "NCT01842165"},
                              {"system": "https://www.clinicaltrialsregister.eu",
                               "value": "2012-003666-41"}]}


def before_d0(n: int) -> str:
    return (D0 - timedelta(days=n)).isoformat()


def cc(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    out: dict = {"coding": [coding]}
    if text:
        out["text"] = text
    return out


class Patient:
    def __init__(self, pid: str, gender: str, birth: str):
        self.pid = pid
        self.resources: list[dict] = [{
            "resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth,
        }]

    @property
    def ref(self) -> dict:
        return {"reference": f"Patient/{self.pid}"}

    def add(self, res: dict) -> dict:
        res["id"] = f"{self.pid}-{res['id']}"
        self.resources.append(res)
        return res

    def drop(self, suffix: str) -> None:
        self.resources = [r for r in self.resources if r["id"] != f"{self.pid}-{suffix}"]

    def find(self, suffix: str) -> dict:
        return next(r for r in self.resources if r["id"] == f"{self.pid}-{suffix}")

    # --- builders ---------------------------------------------------------------------
    def lab(self, rid: str, loinc: str | tuple[str, str], display: str, value: float,
            unit: str, high: float | None = None, day: str = LAB_DAY,
            status: str = "final") -> dict:
        system, code = loinc if isinstance(loinc, tuple) else (LOINC, loinc)
        res: dict = {
            "resourceType": "Observation", "id": rid, "status": status,
            "category": [cc("http://terminology.hl7.org/CodeSystem/observation-category",
                            "laboratory")],
            "code": cc(system, code, display), "subject": self.ref,
            "effectiveDateTime": day,
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }
        if high is not None:
            res["referenceRange"] = [{"high": {"value": high, "unit": unit, "system": UCUM,
                                               "code": unit}}]
        return self.add(res)

    def attest(self, question: str, answer: bool, day: str = ATTEST_DAY) -> dict:
        return self.add({
            "resourceType": "Observation", "id": f"att-{question}", "status": "final",
            "code": cc(PROJECT, question), "subject": self.ref, "effectiveDateTime": day,
            "performer": [INVESTIGATOR], "valueBoolean": answer,
        })

    def condition(self, rid: str, code: dict, onset: str, verification: str = "confirmed",
                  clinical: str | None = "active", **extra) -> dict:
        res: dict = {"resourceType": "Condition", "id": rid}
        if clinical:  # absent when refuted or entered-in-error (FHIR invariant con-5)
            res["clinicalStatus"] = cc(COND_CLIN, clinical)
        res.update({"verificationStatus": cc(COND_VER, verification), "code": code,
                    "subject": self.ref, "onsetDateTime": onset, **extra})
        return self.add(res)

    def ssa(self, rid: str, last_injection: str) -> dict:
        return self.add({
            "resourceType": "MedicationStatement", "id": rid, "status": "completed",
            "medicationCodeableConcept": cc(ATC, "H01CB03", "lanreotide",
                                            "Lanreotide autogel 120 mg (Somatuline Autogel)"),
            "subject": self.ref,
            "effectivePeriod": {"start": "2024-04-15", "end": last_injection},
            "dosage": [{"text": "120 mg deep subcutaneous every 28 days"}],
        })

    def bundle(self) -> dict:
        return {
            "resourceType": "Bundle", "id": f"bundle-{self.pid}", "type": "collection",
            "entry": [{"fullUrl": f"https://trialsieve.org/examples/{r['resourceType']}/"
                       f"{r['id']}", "resource": r} for r in self.resources],
        }


EXCLUSION_NEGATIVES = ("recent-major-surgery", "recent-anticancer-therapy",
                       "prior-rt-kidney-or-marrow", "known-brain-metastases",
                       "uncontrolled-significant-condition", "resectable-curative-intent",
                       "lactating")


def eligible(pid: str, woman: bool) -> Patient:
    """A patient meeting every criterion the program decides today (I3, I13, E4 aside)."""
    p = Patient(pid, "female" if woman else "male", "1968-05-14" if woman else "1959-02-03")
    # I2: small-intestine NET (ICD-10-CM C7A.010), ICD-O-3 8240/3 on pathology, liver mets.
    p.condition("net", cc(ICD10CM, "C7A.010", "Malignant carcinoid tumor of the duodenum",
                          "Well-differentiated NET G2 of the duodenum"), "2024-03-01")
    p.condition("liver-mets", cc(SNOMED, "94381002",
                                 "Secondary malignant neoplasm of liver"), "2024-03-01")
    p.add({"resourceType": "Observation", "id": "pathology", "status": "final",
           "code": cc(LOINC, "59847-4", "Histology and Behavior ICD-O-3 Cancer"),
           "subject": p.ref, "effectiveDateTime": "2024-03-05",
           "valueCodeableConcept": cc(ICDO3, "8240/3", "Neuroendocrine tumor, grade 1",
                                      "Well-differentiated neuroendocrine tumour")})
    # I5: lanreotide autogel, last injection 42 days before D0.
    p.ssa("ssa", before_d0(42))
    # I6-I8 on 2026-11-20.
    p.lab("gfr", (PROJECT, "gfr-51cr-edta"), "GFR by 51Cr-EDTA", 78, "mL/min/{1.73_m2}")
    p.lab("hb", "718-7", "Hemoglobin [Mass/volume] in Blood", 12.4, "g/dL")
    p.lab("anc", "751-8", "Neutrophils [#/volume] in Blood by Automated count", 3.1,
          "10*3/uL")
    p.lab("plt", "777-3", "Platelets [#/volume] in Blood by Automated count", 214,
          "10*3/uL")
    p.lab("bili", "1975-2", "Bilirubin.total [Mass/volume] in Serum or Plasma", 0.7, "mg/dL",
          high=1.2)
    p.lab("alt", "1742-6", "ALT [Enzymatic activity/volume] in Serum or Plasma", 32, "U/L",
          high=41)
    p.lab("ast", "1920-8", "AST [Enzymatic activity/volume] in Serum or Plasma", 29, "U/L",
          high=40)
    p.lab("alb", "1751-7", "Albumin [Mass/volume] in Serum or Plasma", 4.1, "g/dL")
    p.lab("pt", "5894-1", "Prothrombin time actual/normal", 96, "%")
    # I3 (a), I12, I13, E4: baseline MRI and 68Ga PET/CT with the target lesion liver-1.
    imaging(p)
    # I9
    p.add({"resourceType": "Observation", "id": "ecog", "status": "final",
           "code": cc(LOINC, "89247-1", "ECOG Performance Status score"),
           "subject": p.ref, "effectiveDateTime": LAB_DAY,
           "valueCodeableConcept": cc(LOINC, "LA9623-5", "1")})
    # I10
    if woman:
        p.attest("childbearing-potential", True)
        p.add({"resourceType": "Observation", "id": "hcg", "status": "final",
               "code": cc(LOINC, "2118-8", "Choriogonadotropin (pregnancy test) [Presence] "
                          "in Serum or Plasma"),
               "subject": p.ref, "effectiveDateTime": LAB_DAY,
               "valueCodeableConcept": cc(SNOMED, "260385009", "Negative")})
    else:
        p.attest("partner-childbearing-potential", True)
    p.attest("contraception-agreement", True)
    # I11: a research consent to this study (the ResearchStudy NCT01842165 in its provision)
    p.resources.append(LUMEN_STUDY)
    p.add({"resourceType": "Consent", "id": "consent", "status": "active",
           "scope": cc("http://terminology.hl7.org/CodeSystem/consentscope", "research"),
           "category": [cc(LOINC, "59284-0", "Patient Consent")],
           "patient": p.ref, "dateTime": "2026-11-18",
           "policyRule": cc("http://terminology.hl7.org/CodeSystem/v3-ActCode", "OPTIN"),
           "provision": {"extension": [{"url": STUDY_CONTEXT,
                                        "valueReference": {"reference":
                                                           "ResearchStudy/lumen"}}]}})
    # I4 and the explicit negatives the exclusions need under the screening policy.
    p.attest("refractory-disease", True)
    for q in EXCLUSION_NEGATIVES:
        p.attest(q, False)
    return p


def imaging(p: Patient) -> None:
    """MRI 2026-02-10 (liver-1 30 mm) and 2026-11-12 (40 mm: +33 %, +10 mm, RECIST PD
    within the 12 months before inclusion), 68Ga PET/CT 2026-11-13 (liver-1 Krenning 3,
    38 mm transaxial, not irradiated; no diffuse marrow infiltration)."""
    p.add({"resourceType": "BodyStructure", "id": "liver-1", "patient": p.ref,
           "identifier": [{"system": "https://trialsieve.org/examples/lesion",
                           "value": f"{p.pid}-liver-1"}],
           "morphology": cc(SNOMED, "94381002", "Secondary malignant neoplasm of liver"),
           "location": cc(SNOMED, "10200004", "Liver structure", "liver")})

    def study(rid: str, code: str, text: str, day: str, **extra) -> None:
        p.add({"resourceType": "DiagnosticReport", "id": rid, "status": "final",
               "code": cc(PROJECT, code, text), "subject": p.ref,
               "effectiveDateTime": day, **extra})

    def size(rid: str, study_id: str, day: str, components: list[dict]) -> None:
        p.add({"resourceType": "Observation", "id": rid, "status": "final",
               "code": cc(LOINC, "21889-1", "Size Tumor"), "subject": p.ref,
               "effectiveDateTime": day,
               "focus": [{"reference": f"BodyStructure/{p.pid}-liver-1"}],
               "derivedFrom": [{"reference": f"DiagnosticReport/{p.pid}-{study_id}"}],
               "component": components})

    def mm(system: str, code: str, value: float) -> dict:
        return {"code": cc(system, code), "valueQuantity": {"value": value, "unit": "mm",
                                                            "system": UCUM, "code": "mm"}}

    target = {"code": cc(PROJECT, "target"), "valueBoolean": True}
    study("mri-1", "mri", "MRI abdomen", "2026-02-10")
    size("size-mri-1", "mri-1", "2026-02-10", [mm(LOINC, "33728-7", 30), target])
    study("mri-2", "mri", "MRI abdomen", "2026-11-12")
    size("size-mri-2", "mri-2", "2026-11-12", [mm(LOINC, "33728-7", 40), target])
    study("pet", "sstr-pet", "68Ga-DOTATATE PET/CT", "2026-11-13",
          conclusionCode=[cc(PROJECT, "no-diffuse-marrow-infiltration",
                             "No diffuse bone marrow infiltration")])
    size("size-pet", "pet", "2026-11-13", [
        mm(PROJECT, "transaxial-diameter", 38),
        {"code": cc(PROJECT, "krenning-grade"), "valueInteger": 3},
        {"code": cc(PROJECT, "previously-irradiated"), "valueBoolean": False}])


def man(pid: str) -> Patient:
    return eligible(pid, woman=False)


def woman(pid: str) -> Patient:
    return eligible(pid, woman=True)


def relab(p: Patient, rid: str, value: float, unit: str, high: float | None = None,
          code: str | None = None) -> None:
    """Replace the value (and unit, ULN, LOINC) of the baseline result `rid`."""
    res = p.find(rid)
    res["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    if code:
        res["code"]["coding"][0]["code"] = code
    if high is not None:
        res["referenceRange"] = [{"high": {"value": high, "unit": unit, "system": UCUM,
                                           "code": unit}}]


def build() -> dict[str, Patient]:
    out: dict[str, Patient] = {}

    out["01-eligible-woman-cbp"] = woman("ex01")
    out["02-eligible-man"] = man("ex02")

    p = man("ex03")
    relab(p, "hb", 9.0, "g/dL")
    out["03-hb-9-gdl-at-bound"] = p

    p = man("ex04")
    relab(p, "hb", 90, "g/L")
    out["04-hb-90-g-per-l-at-bound"] = p

    p = man("ex05")
    relab(p, "hb", 5.5, "mmol/L")  # 5.5 / 0.6206 = 8.86 g/dL
    out["05-hb-5-5-mmol-per-l-fails"] = p

    p = man("ex06")
    relab(p, "anc", 1.5, "10*9/L")
    out["06-neutrophils-1-5-e9-per-l-at-bound"] = p

    p = man("ex07")
    relab(p, "anc", 1.4, "10*9/L")
    out["07-neutrophils-1-4-e9-per-l-fails"] = p

    p = man("ex08")
    relab(p, "plt", 100, "10*9/L")
    out["08-platelets-100-e9-per-l-at-bound"] = p

    p = man("ex09")
    relab(p, "plt", 99, "10*3/uL")
    out["09-platelets-99-fails"] = p

    p = man("ex10")
    relab(p, "bili", 34.2, "umol/L", high=17.1, code="14631-6")
    out["10-bilirubin-2-uln-umol-per-l-at-bound"] = p

    p = man("ex11")
    relab(p, "bili", 2.5, "mg/dL", high=1.2)  # bound 2.4 mg/dL
    out["11-bilirubin-past-2-uln-fails"] = p

    p = man("ex12")
    relab(p, "alt", 205, "U/L", high=41)
    relab(p, "ast", 200, "U/L", high=40)
    out["12-transaminases-5-uln-at-bound"] = p

    p = man("ex13")
    relab(p, "alt", 206, "U/L", high=41)  # bound 205 U/L
    out["13-alt-past-5-uln-fails"] = p

    p = man("ex14")
    relab(p, "ast", 201, "U/L", high=40)  # bound 200 U/L
    out["14-ast-past-5-uln-fails"] = p

    p = man("ex15")
    relab(p, "alb", 31, "g/L")
    relab(p, "pt", 71, "%")
    out["15-albumin-31-g-per-l-pt-71-pass"] = p

    p = man("ex16")
    relab(p, "alb", 30, "g/L")
    out["16-albumin-30-g-per-l-fails-strict"] = p

    p = man("ex17")
    relab(p, "pt", 70, "%")
    out["17-prothrombin-70-percent-fails-strict"] = p

    p = man("ex18")
    relab(p, "gfr", 50, "mL/min/{1.73_m2}")
    out["18-gfr-51cr-50-at-bound"] = p

    p = man("ex19")
    relab(p, "gfr", 49, "mL/min/{1.73_m2}")
    out["19-gfr-51cr-49-fails"] = p

    p = man("ex20")
    p.drop("gfr")
    p.lab("egfr", "62238-1", "eGFR CKD-EPI", 88, "mL/min/{1.73_m2}")
    out["20-egfr-only-renal-unknown"] = p

    p = woman("ex21")
    p.drop("hcg")
    p.add({"resourceType": "Observation", "id": "hcg-urine", "status": "final",
           "code": cc(LOINC, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in "
                      "Urine"),
           "subject": p.ref, "effectiveDateTime": LAB_DAY,
           "valueCodeableConcept": cc(SNOMED, "260385009", "Negative")})
    p.attest("pregnant", False)  # E8 is settled; only the test itself is missing
    out["21-urine-pregnancy-test-only"] = p

    p = man("ex22")
    p.find("ssa")["effectivePeriod"]["end"] = before_d0(20)
    out["22-lanreotide-20-days-before-d0"] = p

    p = man("ex23")
    p.find("ssa")["effectivePeriod"]["end"] = before_d0(28)
    out["23-lanreotide-28-days-before-d0-at-bound"] = p

    # E2/E3 from the record: the recorded history is attested complete, so that an old
    # enough event shows that none was recent (a record alone is not a complete history).
    for pid, name, n in (("ex24", "24-major-surgery-5-weeks-before", 35),
                         ("ex25", "25-major-surgery-42-days-before-at-bound", 42)):
        p = man(pid)
        p.drop("att-recent-major-surgery")
        p.attest("surgery-history-complete", True)
        surgery(p, "surgery", before_d0(n))
        out[name] = p

    for pid, name, n in (("ex26", "26-chemotherapy-83-days-before", 83),
                         ("ex27", "27-chemotherapy-85-days-before", 85)):
        p = man(pid)
        p.drop("att-recent-anticancer-therapy")
        p.attest("anticancer-therapy-history-complete", True)
        capecitabine(p, "capecitabine", {"start": "2026-03-02", "end": before_d0(n)})
        out[name] = p

    p = man("ex28")
    p.drop("net")
    p.drop("pathology")
    p.condition("nec", cc(ICD10CM, "C7A.1", "Malignant poorly differentiated "
                          "neuroendocrine tumors", "Small-cell neuroendocrine carcinoma of "
                          "the pancreas"), "2025-06-10",
                bodySite=[cc(ICDO3, "C25.9", "Pancreas, NOS")])
    p.add({"resourceType": "Observation", "id": "pathology", "status": "final",
           "code": cc(LOINC, "59847-4", "Histology and Behavior ICD-O-3 Cancer"),
           "subject": p.ref, "effectiveDateTime": "2025-06-12",
           "valueCodeableConcept": cc(ICDO3, "8041/3", "Small cell carcinoma, NOS",
                                      "Poorly differentiated small-cell neuroendocrine "
                                      "carcinoma")})
    out["28-neuroendocrine-carcinoma"] = p

    p = man("ex29")
    p.drop("att-known-brain-metastases")
    p.condition("brain-mets", cc(SNOMED, "94225005", "Secondary malignant neoplasm of "
                                 "brain"), "2025-09-01",
                extension=[{"url": PROJECT + "/controlled", "valueBoolean": True}],
                note=[{"text": "Treated by stereotactic radiosurgery 2025-10; stable on MRI "
                       "2026-11-10."}])
    out["29-brain-metastases-controlled"] = p

    p = man("ex30")
    p.drop("att-known-brain-metastases")
    p.condition("brain-mets", cc(SNOMED, "94225005", "Secondary malignant neoplasm of "
                                 "brain"), "2026-11-10")
    p.attest("brain-metastases-controlled", False)
    out["30-brain-metastases-uncontrolled"] = p

    p = man("ex31")
    p.lab("hb-error", "718-7", "Hemoglobin [Mass/volume] in Blood", 7.1, "g/dL",
          day="2026-11-22", status="entered-in-error")
    out["31-entered-in-error-low-hb-ignored"] = p

    p = woman("ex32")
    p.condition("pregnancy", cc(SNOMED, "77386006", "Pregnant"), "2026-11-22",
                verification="refuted", clinical=None)
    out["32-refuted-pregnancy"] = p
    out.update(no_false_eligible())
    out.update(clinical_content())
    out.update(only_in_reports())
    return out


def surgery(p: Patient, rid: str, day: str) -> dict:
    return p.add({"resourceType": "Procedure", "id": rid, "status": "completed",
                  "category": cc(PROJECT, "major-surgery", "Major surgery"),
                  "code": cc(SNOMED, "387713003", "Surgical procedure", "Right hemicolectomy"),
                  "subject": p.ref, "performedDateTime": day})


def capecitabine(p: Patient, rid: str, period: dict, status: str = "completed") -> dict:
    return p.add({"resourceType": "MedicationStatement", "id": rid, "status": status,
                  "medicationCodeableConcept": cc(ATC, "L01BC06", "capecitabine",
                                                  "Capecitabine 500 mg tablets"),
                  "subject": p.ref, "effectivePeriod": period})


def old_events(p: Patient) -> None:
    """A hemicolectomy and a capecitabine course in 2023, in place of the E2/E3 answers."""
    p.drop("att-recent-major-surgery")
    p.drop("att-recent-anticancer-therapy")
    surgery(p, "surgery-2023", "2023-04-03")
    capecitabine(p, "capecitabine-2023", {"start": "2023-01-10", "end": "2023-06-30"})


def no_false_eligible() -> dict[str, Patient]:
    """50-69: each shows a place where the record supports less than it seems (issue 7)."""
    out: dict[str, Patient] = {}

    p = man("ex50")
    old_events(p)
    out["50-old-surgery-and-chemo-do-not-show-none-recent"] = p

    p = man("ex51")
    old_events(p)
    p.attest("surgery-history-complete", True)
    p.attest("anticancer-therapy-history-complete", True)
    out["51-old-events-with-history-attested-complete"] = p

    p = man("ex52")
    p.drop("att-prior-rt-kidney-or-marrow")
    p.add({"resourceType": "Procedure", "id": "liver-sbrt", "status": "completed",
           "code": cc(SNOMED, "33195004", "External beam radiotherapy",
                      "Liver SBRT 3 x 15 Gy"),
           "bodySite": [cc(SNOMED, "10200004", "Liver structure")],
           "extension": [{"url": PROJECT + "/marrow-share", "valueDecimal": 0.02}],
           "subject": p.ref, "performedPeriod": {"start": "2022-03-01", "end": "2022-03-10"}})
    out["52-liver-sbrt-2022-without-e5-statement"] = p

    p = man("ex53")
    p.drop("att-recent-major-surgery")
    p.attest("recent-major-surgery", True)
    out["53-recent-major-surgery-attested-yes"] = p

    p = man("ex54")
    p.drop("att-recent-major-surgery")
    p.attest("recent-major-surgery", False, day=before_d0(100))
    out["54-no-surgery-answer-100-days-old-is-stale"] = p

    p = woman("ex55")
    p.drop("att-childbearing-potential")
    p.drop("att-contraception-agreement")
    p.attest("contraception-agreement", False)
    out["55-refuses-contraception-childbearing-unknown"] = p

    p = man("ex56")
    p.resources[0]["deceasedDateTime"] = "2026-10-02"
    out["56-deceased-before-screening"] = p

    p = woman("ex57")
    p.add({"resourceType": "Observation", "id": "hcg-urine", "status": "final",
           "code": cc(LOINC, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in "
                      "Urine"),
           "subject": p.ref, "effectiveDateTime": "2026-11-23",
           "valueCodeableConcept": cc(SNOMED, "10828004", "Positive")})
    out["57-positive-urine-hcg-after-negative-serum"] = p

    p = woman("ex58")
    p.drop("hcg")
    p.condition("pregnancy", cc(SNOMED, "77386006", "Pregnant"), "2026-06-01")
    out["58-pregnancy-condition-old-onset-still-active"] = p

    p = woman("ex59")
    p.drop("att-lactating")
    p.condition("breastfeeding", cc(SNOMED, "169750002", "Lactating"), "2018-06-01",
                clinical="resolved", abatementDateTime="2019-03-01")
    out["59-breastfeeding-resolved-2019-not-current"] = p

    p = woman("ex60")
    p.drop("hcg")
    p.attest("pregnant", False, day="2024-05-02")
    out["60-not-pregnant-answer-from-2024-is-stale"] = p

    p = man("ex61")
    p.drop("att-recent-anticancer-therapy")
    p.attest("anticancer-therapy-history-complete", True)
    capecitabine(p, "capecitabine", {"start": "2026-08-01"}, status="stopped")
    out["61-capecitabine-stopped-end-date-unknown"] = p

    p = man("ex62")
    ssa = p.find("ssa")
    ssa["status"] = "stopped"
    ssa["effectivePeriod"] = {"start": "2026-10-01"}
    out["62-lanreotide-stopped-end-date-unknown"] = p

    p = man("ex63")
    p.drop("att-recent-anticancer-therapy")
    p.add({"resourceType": "Procedure", "id": "liver-rt", "status": "in-progress",
           "code": cc(SNOMED, "33195004", "External beam radiotherapy",
                      "Liver radiotherapy 10 x 3 Gy"),
           "bodySite": [cc(SNOMED, "10200004", "Liver structure")],
           "extension": [{"url": PROJECT + "/marrow-share", "valueDecimal": 0.02}],
           "subject": p.ref, "performedPeriod": {"start": "2026-11-16", "end": "2026-12-10"}})
    out["63-radiotherapy-course-in-progress"] = p

    p = woman("ex64")
    p.resources[0]["birthDate"] = "1968-05"
    out["64-birth-date-1968-05-partial"] = p

    p = man("ex65")
    p.resources[0]["birthDate"] = "2008-12"
    out["65-birth-date-2008-12-may-be-under-18"] = p

    p = man("ex66")
    p.add({"resourceType": "Observation", "id": "ecog-unreadable", "status": "final",
           "code": cc(LOINC, "89247-1", "ECOG Performance Status score"),
           "subject": p.ref, "effectiveDateTime": "2026-11-24", "valueInteger": 7})
    out["66-newest-ecog-unreadable"] = p

    p = man("ex67")
    p.drop("att-recent-anticancer-therapy")
    p.attest("anticancer-therapy-history-complete", True)
    capecitabine(p, "capecitabine", {"start": "2026-03", "end": "2026-09"})
    out["67-capecitabine-ended-2026-09-partial-date"] = p
    return out


def clinical_content() -> dict[str, Patient]:
    """Examples 70-89 (issue 7, clinical content): each the eligible man with one change
    the program once read as more than the record shows. The imaging ones are built by
    build_imaging_patients.py."""
    out: dict[str, Patient] = {}

    # I2: the only pathology codes an adenocarcinoma (8140/3): it does not prove a NET.
    p = man("ex70")
    p.find("pathology")["valueCodeableConcept"] = cc(ICDO3, "8140/3", "Adenocarcinoma, NOS",
                                                     "Adenocarcinoma")
    out["70-pathology-of-adenocarcinoma-does-not-prove-net"] = p

    # I5: "octreotide regular" three times a day is short-acting ("regular" is no "LAR"):
    # stopped 20 days before D0, more than 48 hours.
    p = man("ex75")
    ssa = p.find("ssa")
    ssa["medicationCodeableConcept"] = cc(ATC, "H01CB02", "octreotide",
                                          "Octreotide regular 100 microgram/mL injection")
    ssa["effectivePeriod"]["end"] = before_d0(20)
    ssa["dosage"] = [{"text": "100 microgram subcutaneous three times a day",
                      "route": cc(SNOMED, "34206005", "Subcutaneous route"),
                      "timing": {"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}}}]
    out["75-short-acting-octreotide-regular-is-not-lar"] = p

    # I11: the only consent is a privacy consent of 2019, naming no study.
    p = man("ex76")
    consent = p.find("consent")
    consent["scope"] = cc("http://terminology.hl7.org/CodeSystem/consentscope",
                          "patient-privacy", "Privacy Consent")
    consent["dateTime"] = "2019-04-02"
    del consent["provision"]
    out["76-privacy-consent-is-not-study-consent"] = p

    # I13: a later PET/CT report without lesion measurements; the baseline PET/CT of
    # 2026-11-13 with the qualifying liver-1 is read.
    p = man("ex77")
    p.add({"resourceType": "DiagnosticReport", "id": "pet-2", "status": "final",
           "code": cc(PROJECT, "sstr-pet", "68Ga-DOTATATE PET/CT"), "subject": p.ref,
           "effectiveDateTime": "2026-11-20",
           "conclusion": "Known hepatic lesion, unchanged. No measurements."})
    out["77-later-pet-without-measurements"] = p

    # I13: no irradiation statement on the lesion, radiotherapy history attested complete,
    # the only course (2025, thoracic spine) spared the liver: not irradiated.
    p = man("ex78")
    size = p.find("size-pet")
    size["component"] = [c for c in size["component"]
                         if c["code"]["coding"][0]["code"] != "previously-irradiated"]
    p.attest("radiotherapy-history-complete", True)
    p.add({"resourceType": "Procedure", "id": "rt", "status": "completed",
           "code": cc(SNOMED, "33195004", "External beam radiation therapy procedure"),
           "subject": p.ref, "performedDateTime": "2025-02-10",
           "bodySite": [cc(SNOMED, "51185008", "Thoracic spine")],
           "extension": [{"url": PROJECT + "/marrow-share", "valueDecimal": 0.05}]})
    out["78-irradiation-read-from-complete-rt-history"] = p

    # E4: marrow infiltration on the PET/CT; the only MRI stating it is from 2023: not a
    # baseline one, so E4 is unknown (was met).
    p = man("ex79")
    p.find("pet")["conclusionCode"] = [cc(PROJECT, "diffuse-marrow-infiltration",
                                          "Diffuse bone marrow infiltration")]
    p.add({"resourceType": "DiagnosticReport", "id": "mri-spine-2023", "status": "final",
           "code": cc(PROJECT, "mri", "MRI spine"), "subject": p.ref,
           "effectiveDateTime": "2023-05-02",
           "conclusionCode": [cc(PROJECT, "diffuse-marrow-infiltration")]})
    out["79-old-mri-does-not-confirm-marrow-infiltration"] = p

    # E6: uncontrolled brain metastases in 2025, controlled since (newer statement).
    p = man("ex80")
    p.drop("att-known-brain-metastases")
    p.condition("brain-mets-2025", cc(SNOMED, "94225005", "Secondary malignant neoplasm of "
                                      "brain"), "2025-03-01",
                extension=[{"url": PROJECT + "/controlled", "valueBoolean": False}])
    p.condition("brain-mets-2026", cc(SNOMED, "94225005", "Secondary malignant neoplasm of "
                                      "brain"), "2026-10-05",
                extension=[{"url": PROJECT + "/controlled", "valueBoolean": True}],
                note=[{"text": "After radiosurgery 2025-05: stable on MRI 2026-10-05."}])
    out["80-brain-metastases-controlled-after-uncontrolled"] = p

    # I2: a NET G3 (8249/3, WHO grade 3 high, Ki-67 25 %) is well differentiated: a NET.
    p = man("ex81")
    path = p.find("pathology")
    path["valueCodeableConcept"] = cc(ICDO3, "8249/3", "Neuroendocrine tumor, grade 3",
                                      "Well-differentiated neuroendocrine tumour G3")
    path["component"] = [
        {"code": cc(LOINC, "33732-9", "Histology grade [Identifier] in Cancer specimen"),
         "valueCodeableConcept": cc(SNOMED, "1155707008", "High histologic grade")},
        {"code": cc(LOINC, "29593-1", "Ki-67 index"),
         "valueQuantity": {"value": 25, "unit": "%", "system": UCUM, "code": "%"}}]
    out["81-net-g3-with-grade-and-ki67"] = p
    return out


def letter(p: Patient, rid: str, day: str, text: str) -> dict:
    """A clinic letter as a DocumentReference (LOINC 11488-4 consult note), its text a
    base64 text/plain attachment, as an EHR exports it."""
    import base64

    return p.add({"resourceType": "DocumentReference", "id": rid, "status": "current",
                  "type": cc(LOINC, "11488-4", "Consult note"), "subject": p.ref,
                  "date": f"{day}T10:00:00+01:00",
                  "content": [{"attachment": {
                      "contentType": "text/plain; charset=utf-8", "language": "en",
                      "data": base64.b64encode(text.encode("utf-8")).decode("ascii")}}]})


def only_in_reports() -> dict[str, Patient]:
    """Issue 21: the eligible patients with a key fact written only in a report. Screened,
    each is incomplete with a suggestion to confirm (a text never decides under
    screening); once an investigator confirms it, eligible (tests/test_text_examples.py)."""
    out: dict[str, Patient] = {}
    # I2: the NET only in a French pathology report (the coded diagnosis and pathology
    # result removed; the liver metastases stay coded).
    p = woman("ex82")
    p.drop("net")
    p.drop("pathology")
    p.add({"resourceType": "DiagnosticReport", "id": "path-report", "status": "final",
           "code": cc(LOINC, "11526-1", "Pathology study"), "subject": p.ref,
           "effectiveDateTime": "2024-03-05", "issued": "2024-03-07T16:20:00+01:00",
           "conclusion": "Pancréas, biopsie : TNE bien différenciée G2, Ki-67 8 %. "
                         "Absence d'engainement périnerveux."})
    out["82-net-only-in-french-pathology-report"] = p
    # I9 (and I12, which needs a baseline ECOG): ECOG 1 only in a clinic letter.
    p = man("ex83")
    p.drop("ecog")
    letter(p, "letter", LAB_DAY, "Oncology clinic, 20 November 2026.\nSeen with his wife. "
           "He remains fully active apart from strenuous work: ECOG 1.\nPlan: PRRT "
           "work-up.")
    out["83-ecog-only-in-clinic-letter"] = p
    # E6 and E8: no brain metastases and not breastfeeding, only in a clinic letter (the
    # investigator's "no" answers removed).
    p = woman("ex84")
    p.drop("att-lactating")
    p.drop("att-known-brain-metastases")
    letter(p, "letter", LAB_DAY, "Clinic letter, 20 November 2026.\nShe is not "
           "breastfeeding.\nNo brain metastases on the staging MRI.\nECOG 1.")
    out["84-brain-and-breastfeeding-only-in-clinic-letter"] = p
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, p in build().items():
        text = json.dumps(p.bundle(), indent=2, ensure_ascii=False) + "\n"
        (OUT / f"{name}.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
