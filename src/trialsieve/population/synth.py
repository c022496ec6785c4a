"""A synthetic hospital population as FHIR bulk NDJSON, for tests and benchmarks.

Deterministic for a seed (one `random.Random(seed)`, no clock): the same seed, size and
anchor date give byte-identical files. Written patient by patient, so memory stays small
whatever the size. docs/synthetic-population.md describes what it holds.

Most patients look like a Synthea export (no neuroendocrine tumour; vitals, routine labs,
encounters, claims, clinical notes). A few percent have a GEP-NET with a full screening
history around the anchor date: scans with lesions, labs in several unit systems,
somatostatin analogues, attestations and consent; some sit exactly on a protocol bound,
some carry the faults real exports have (local codes, missing units, entered-in-error).
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from trialsieve import codes as C

ANCHOR = date(2026, 11, 25)  # the screening date the NET histories are built around
NET_SHARE = 0.04
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
LOCAL = "urn:oid:1.2.250.1.999.1"  # a hospital's own lab code system

Res = dict[str, Any]


def _coding(system: str, code: str, display: str | None = None) -> Res:
    c = {"system": system, "code": code}
    return c | {"display": display} if display else c


def _concept(system: str, code: str, display: str | None = None, text: str | None = None) -> Res:
    cc: Res = {"coding": [_coding(system, code, display)]}
    return cc | {"text": text} if text else cc


def _qty(value: float, unit: str | None) -> Res:
    q: Res = {"value": value}
    return q | {"unit": unit, "system": C.UCUM, "code": unit} if unit else q


class _Patient:
    """Builds one patient's resources; ids derive from the patient id."""

    def __init__(self, rng: random.Random, pid: str, anchor: date) -> None:
        self.rng, self.pid, self.anchor = rng, pid, anchor
        self.textbook = False  # every choice the passing one (options list it first)
        self.out: list[Res] = []
        self.n = 0
        # a few exports reference the patient by urn:uuid instead of Patient/id
        self.ref = {"reference": (f"urn:uuid:{pid}" if rng.random() < 0.05
                                  else f"Patient/{pid}")}

    def add(self, rtype: str, body: Res, subject: str = "subject") -> str:
        self.n += 1
        rid = f"{self.pid}-{self.n}"
        self.out.append({"resourceType": rtype, "id": rid, **body, subject: self.ref})
        return rid

    def pick(self, options: list) -> Any:
        choice = self.rng.choice(options)  # drawn either way: the stream stays the same
        return options[0] if self.textbook else choice

    def day(self, days_before: int) -> str:
        return (self.anchor - timedelta(days=days_before)).isoformat()

    def obs(self, system: str, code: str, display: str, days_before: int,
            value: Res | None = None, status: str = "final", lab: bool = True, **more: Any) -> str:
        body: Res = {"status": status, "code": _concept(system, code, display),
                     "effectiveDateTime": self.day(days_before), **more}
        if lab:
            body["category"] = [_concept("http://terminology.hl7.org/CodeSystem/"
                                         "observation-category", "laboratory")]
        if value is not None:
            body["valueQuantity"] = value
        return self.add("Observation", body)

    def condition(self, code: Res, days_before: int, status: str = "confirmed",
                  **more: Any) -> str:
        return self.add("Condition", {
            "clinicalStatus": _concept(CLINICAL, "active"),
            "verificationStatus": _concept(VERIFICATION, status),
            "code": code, "onsetDateTime": self.day(days_before), **more})


# --- the Synthea-like background ------------------------------------------------------
CHRONIC = [("38341003", "Hypertension"), ("44054006", "Diabetes mellitus type 2"),
           ("55822004", "Hyperlipidemia"), ("195662009", "Acute viral pharyngitis"),
           ("10509002", "Acute bronchitis"), ("162864005", "Body mass index 30+ - obesity")]
VITALS = [("8480-6", "Systolic blood pressure", 100, 160, "mm[Hg]"),
          ("8867-4", "Heart rate", 55, 100, "/min"), ("39156-5", "BMI", 18, 38, "kg/m2"),
          ("2339-0", "Glucose", 70, 180, "mg/dL"), ("2160-0", "Creatinine", 0.6, 1.4, "mg/dL")]
# an attachment's data is base64 (FHIR R4 Attachment.data)
NOTE = base64.b64encode(b"Patient seen for routine follow-up. Vitals stable. " * 40).decode()


def _background(p: _Patient) -> None:
    rng = p.rng
    visits = rng.randint(3, 12)
    for v in range(visits):
        back = rng.randint(1, 3650)
        enc = p.add("Encounter", {"status": "finished", "class": _coding(
            "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB"),
            "period": {"start": p.day(back), "end": p.day(back)}})
        for code, display, lo, hi, unit in rng.sample(VITALS, 3):
            p.obs(C.LOINC, code, display, back, _qty(round(rng.uniform(lo, hi), 1), unit),
                  lab=False, encounter={"reference": f"Encounter/{enc}"})
        if v % 3 == 0:  # routine blood counts, as Synthea's CBC panels
            p.obs(C.LOINC, "718-7", "Hemoglobin", back, _qty(round(rng.uniform(11, 17), 1),
                                                             "g/dL"))
            p.obs(C.LOINC, "777-3", "Platelets", back, _qty(rng.randint(150, 400), "10*3/uL"))
        p.add("Claim", {"status": "active", "use": "claim", "created": p.day(back),
                        "item": [{"sequence": 1, "productOrService": _concept(
                            C.SNOMED, "185349003", "Encounter for check up")}]},
              subject="patient")
        p.add("ExplanationOfBenefit", {"status": "active", "use": "claim",
                                       "created": p.day(back), "outcome": "complete"},
              subject="patient")
        p.add("DocumentReference", {"status": "current", "date": p.day(back) + "T10:00:00Z",
                                    "content": [{"attachment": {"contentType": "text/plain",
                                                                "data": NOTE}}]})
    for code, display in rng.sample(CHRONIC, rng.randint(0, 3)):
        p.condition(_concept(C.SNOMED, code, display), rng.randint(100, 5000))
    if rng.random() < 0.3:
        p.add("MedicationRequest", {"status": "active", "intent": "order",
                                    "medicationReference": {"reference": "Medication/metformin"},
                                    "authoredOn": p.day(rng.randint(30, 900))})
    if rng.random() < 0.3:
        p.add("Procedure", {"status": "completed", "code": _concept(
            C.SNOMED, "430193006", "Medication reconciliation"),
            "performedDateTime": p.day(rng.randint(1, 2000))})
    p.add("Immunization", {"status": "completed", "vaccineCode": _concept(
        "http://hl7.org/fhir/sid/cvx", "140", "Influenza"),
        "occurrenceDateTime": p.day(rng.randint(1, 365))}, subject="patient")


# --- GEP-NET screening histories ----------------------------------------------------------
# Haemoglobin as (value, unit): several unit systems, some exactly at the 9.0 g/dL bound.
HB = [(12.4, "g/dL"), (9.0, "g/dL"), (90, "g/L"), (8.9, "g/dL"), (7.5, "mmol/L"),
      (5.5, "mmol/L"), (124, "g/L")]
PLATELETS = [(250, "10*3/uL"), (100, "10*9/L"), (99, "10*3/uL"), (180, "10*9/L")]
NET_CODES = [_concept(C.ICD10CM, "C7A.010", text="Well-differentiated NET G2 of the duodenum"),
             _concept(C.ICD10CM, "C7A.020", text="NET of the appendix"),
             _concept(C.ICD10CM, "C25.4", text="Pancreatic NET"),
             _concept(C.ICD10CM, "C7A.1", text="Large-cell neuroendocrine carcinoma")]


FAULTS = (None, "no-unit", "entered-in-error", "local-code", None)  # cycled over NET patients
# Answers that settle the criteria favourably (exclusions: no; refractory, contraception: yes).
GOOD_ANSWERS = {q: q in ("refractory-disease", "contraception-agreement",
                         "prior-net-systemic-therapy", "informed-consent")
                for q in C.ATTESTATIONS if q not in ("childbearing-potential",
                                                     "partner-childbearing-potential",
                                                     "brain-metastases-controlled",
                                                     # E2/E3 are answered directly
                                                     "surgery-history-complete",
                                                     "anticancer-therapy-history-complete")}


def _net(p: _Patient, fault: str | None) -> None:
    rng = p.rng
    net_code = rng.choices(NET_CODES, weights=[5, 3, 4, 1])[0]
    p.condition(NET_CODES[0] if p.textbook else net_code, rng.randint(200, 1500))
    if rng.random() < 0.8 or p.textbook:
        p.condition(_concept(C.SNOMED, "94381002", "Secondary malignant neoplasm of liver"),
                    rng.randint(100, 900))
    p.obs(C.LOINC, "59847-4", "Histology and Behavior ICD-O-3 Cancer", rng.randint(200, 1500),
          lab=False, valueCodeableConcept=_concept(C.ICDO3, "8240/3", "Neuroendocrine tumor"))
    # somatostatin analogue: last dose 20-60 days ago (28 days is the bound)
    last_dose = p.pick([45, 20, 27, 28, 29, 60])
    p.add("MedicationStatement", {
        "status": "completed",
        "medicationCodeableConcept": _concept(C.ATC, "H01CB03", "lanreotide",
                                              "Lanreotide autogel 120 mg"),
        "effectivePeriod": {"start": p.day(700), "end": p.day(last_dose)}})
    labs_day = p.pick([5, 3, 10, 28, 29])  # 28 days before D0 is the freshness bound
    hb, hb_unit = p.pick(HB)
    if fault == "no-unit":  # the result typed in without its unit
        hb_unit = None
    p.obs(C.LOINC, "718-7", "Hemoglobin", labs_day, _qty(hb, hb_unit))
    if fault == "entered-in-error":  # an older low result, entered in error
        p.obs(C.LOINC, "718-7", "Hemoglobin", labs_day + 1, _qty(6.0, "g/dL"),
              status="entered-in-error")
    plt, plt_unit = p.pick(PLATELETS)
    p.obs(C.LOINC, "777-3", "Platelets", labs_day, _qty(plt, plt_unit))
    anc_code = (LOCAL, "NEUT") if fault == "local-code" else (C.LOINC, "751-8")
    p.obs(*anc_code, "Neutrophils", labs_day, _qty(p.pick([3.2, 1.5, 1.4]), "10*3/uL"))
    bili = p.pick([(12, "umol/L", 21), (42, "umol/L", 21), (0.8, "mg/dL", 1.2)])
    p.obs(C.LOINC, "1975-2", "Bilirubin total", labs_day, _qty(bili[0], bili[1]),
          referenceRange=[{"high": _qty(bili[2], bili[1])}])
    for code, name in (("1742-6", "ALT"), ("1920-8", "AST")):
        p.obs(C.LOINC, code, name, labs_day, _qty(p.pick([32, 205, 206]), "U/L"),
              referenceRange=[{"high": _qty(41, "U/L")}])
    p.obs(C.LOINC, "1751-7", "Albumin", labs_day, _qty(p.pick([40, 31, 30]), "g/L"))
    p.obs(C.LOINC, "5894-1", "Prothrombin time", labs_day, _qty(p.pick([96, 71, 70]), "%"))
    p.obs(C.PROJECT, "gfr-51cr-edta", "GFR by 51Cr-EDTA", labs_day,
          _qty(p.pick([78, 50, 49]), "mL/min/{1.73_m2}"))
    p.obs(C.LOINC, "89247-1", "ECOG", labs_day, lab=False, valueCodeableConcept=_concept(
        C.LOINC, p.pick(["LA9622-7", "LA9623-5", "LA9624-3"])))
    _scans(p)
    if rng.random() < 0.7 or p.textbook:
        p.add("Consent", {"status": "active", "scope": _concept(
            "http://terminology.hl7.org/CodeSystem/consentscope", "research"),
            "dateTime": p.day(rng.randint(1, 10))}, subject="patient")
    answers = dict.fromkeys(rng.sample(sorted(GOOD_ANSWERS), rng.randint(0, 8)))
    if p.textbook:
        answers = dict.fromkeys(GOOD_ANSWERS)
        woman = p.out[0]["gender"] == "female"
        answers["childbearing-potential" if woman else "partner-childbearing-potential"] = woman
        if woman:  # a negative serum hCG within 28 days
            p.obs(C.LOINC, "2118-8", "hCG (pregnancy test) in serum", labs_day,
                  valueCodeableConcept=_concept(C.SNOMED, "260385009", "Negative"))
    for question, answer in answers.items():
        p.obs(C.PROJECT, question, C.ATTESTATIONS[question].text, 1, lab=False,
              performer=[{"display": "Investigator (site 01)"}],
              valueBoolean=GOOD_ANSWERS[question] if answer is None else answer)
    if rng.random() < 0.1 and not p.textbook:
        p.add("Procedure", {"status": "completed", "code": _concept(
            C.PROJECT, "major-surgery", "Hemicolectomy"),
            "performedDateTime": p.day(rng.choice([35, 42, 90]))})


def _scans(p: _Patient) -> None:
    rng = p.rng
    body = p.add("BodyStructure", {"location": _concept(C.SNOMED, "10200004", "Liver",
                                                        "liver")}, subject="patient")
    first = rng.randint(20, 40)
    grow = p.pick([(30, 40), (30, 36), (30, 35), (30, 34)])  # +20 % and +5 mm is the bound
    for days, size in ((300, first), (12, first * grow[1] / grow[0])):
        mri = p.add("DiagnosticReport", {"status": "final", "code": _concept(
            C.PROJECT, "mri", "MRI abdomen"), "effectiveDateTime": p.day(days)})
        p.obs(*C.TUMOR_SIZE, "Size Tumor", days, lab=False,
              focus=[{"reference": f"BodyStructure/{body}"}],
              derivedFrom=[{"reference": f"DiagnosticReport/{mri}"}],
              component=[{"code": _concept(*C.LONGEST_DIMENSION),
                          "valueQuantity": _qty(round(size, 1), "mm")},
                         {"code": _concept(C.PROJECT, "target"), "valueBoolean": True}])
    pet_day = p.pick([8, 30])
    marrow = p.pick(["no-diffuse-marrow-infiltration", None])
    pet = p.add("DiagnosticReport", {"status": "final", "code": _concept(
        C.PROJECT, "sstr-pet", "68Ga-DOTATATE PET/CT"), "effectiveDateTime": p.day(pet_day),
        **({"conclusionCode": [_concept(C.PROJECT, marrow)]} if marrow else {})})
    p.obs(*C.TUMOR_SIZE, "Size Tumor", pet_day, lab=False,
          focus=[{"reference": f"BodyStructure/{body}"}],
          derivedFrom=[{"reference": f"DiagnosticReport/{pet}"}],
          component=[{"code": _concept(C.PROJECT, "transaxial-diameter"),
                      "valueQuantity": _qty(p.pick([38, 20, 19]), "mm")},
                     {"code": _concept(C.PROJECT, "krenning-grade"),
                      "valueInteger": p.pick([3, 4, 2])},
                     {"code": _concept(C.PROJECT, "previously-irradiated"),
                      "valueBoolean": False}])


def _person(rng: random.Random, pid: str, anchor: date, nets: int) -> tuple[list[Res], bool]:
    """One patient's resources, and whether they have a GEP-NET (`nets` so far)."""
    p = _Patient(rng, pid, anchor)
    net = rng.random() < NET_SHARE
    age_days = rng.randint(30 * 365, 85 * 365) if net else rng.randint(0, 95 * 365)
    p.out.append({"resourceType": "Patient", "id": pid,
                  "gender": rng.choice(["female", "male"]),
                  "birthDate": (anchor - timedelta(days=age_days)).isoformat()})
    _background(p)
    if net:
        p.textbook = nets % 3 == 0  # a third of the NET patients pass everything on record
        _net(p, FAULTS[nets % len(FAULTS)])
    return p.out, net


SHARED = [{"resourceType": "Medication", "id": "metformin", "code": _concept(
    C.RXNORM, "860975", "metformin hydrochloride 500 MG")}]


def generate(patients: int, seed: int, out: str | Path, anchor: date = ANCHOR,
             progress: Callable[[int], None] | None = None) -> dict[str, int]:
    """Write `patients` patients as one NDJSON file per resource type; return the counts."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files: dict[str, Any] = {}
    counts: dict[str, int] = {}

    def write(res: Res) -> None:
        rtype = res["resourceType"]
        if rtype not in files:
            files[rtype] = open(folder / f"{rtype}.ndjson", "wb")  # noqa: SIM115
        files[rtype].write(orjson.dumps(res) + b"\n")
        counts[rtype] = counts.get(rtype, 0) + 1

    try:
        for res in SHARED:
            write(res)
        nets = 0
        for i in range(patients):
            pid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            resources, net = _person(rng, pid, anchor, nets)
            nets += net
            for res in resources:
                write(res)
            if progress and (i + 1) % 1000 == 0:
                progress(i + 1)
    finally:
        for f in files.values():
            f.close()
    return counts
