"""Code lists: one table per code list, matched by (system, code).

Sources and caveats are in ../../shared/docs/domain-reference.md and in
docs/data-dictionary.md. Codes marked "(check)" there are standard but were not
confirmed against the primary source.
"""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
# Facts with no standard code (51Cr-EDTA GFR, attestations, SSA form, ...).
PROJECT = "https://trialsieve.org/fhir/CodeSystem/trialsieve"

Code = tuple[str, str]


@dataclass(frozen=True)
class LabTest:
    """A laboratory test a criterion reads: its codes, the unit rules compare in."""

    key: str
    label: str
    codes: frozenset[Code]
    unit: str
    molar_mass: float | None = None  # g/mol, for molar <-> mass units


def _loinc(*codes: str) -> frozenset[Code]:
    return frozenset((LOINC, c) for c in codes)


LAB_TESTS: dict[str, LabTest] = {
    t.key: t
    for t in (
        # Hb monomer 16 114.5 g/mol gives 1 g/dL = 0.6206 mmol/L.
        LabTest("hemoglobin", "haemoglobin", _loinc("718-7"), "g/dL", 16114.5),
        LabTest("neutrophils", "neutrophils (absolute)", _loinc("751-8", "26499-4"), "10*3/uL"),
        LabTest("platelets", "platelets", _loinc("777-3", "26515-7"), "10*3/uL"),
        # 584.66 g/mol gives 1 mg/dL = 17.1 umol/L.
        LabTest("bilirubin", "total bilirubin", _loinc("1975-2", "14631-6"), "mg/dL", 584.66),
        LabTest("alt", "ALT", _loinc("1742-6", "1743-4"), "U/L"),
        LabTest("ast", "AST", _loinc("1920-8"), "U/L"),
        LabTest("albumin", "serum albumin", _loinc("1751-7"), "g/dL"),
        LabTest("pt_percent", "prothrombin time (%)", _loinc("5894-1"), "%"),
        LabTest(
            "gfr_51cr",
            "GFR by 51Cr-EDTA",
            frozenset({(PROJECT, "gfr-51cr-edta")}),
            "mL/min/{1.73_m2}",
        ),
        LabTest(
            "egfr",
            "estimated GFR",
            _loinc("62238-1", "98979-8", "33914-3", "48642-3", "48643-1", "69405-9"),
            "mL/min/{1.73_m2}",
        ),
        LabTest("creatinine_clearance", "creatinine clearance", _loinc("2164-2"), "mL/min"),
        LabTest("hcg_serum", "serum hCG", _loinc("2118-8", "21198-7", "19080-1"), "[IU]/L"),
        LabTest("hcg_urine", "urine hCG", _loinc("2106-3"), "[IU]/L"),
        LabTest("chromogranin_a", "chromogranin A", _loinc("9811-1"), "ug/L"),
        LabTest("nse", "neuron-specific enolase", _loinc("15060-7"), "ug/L"),
        LabTest("hiaa_24h", "5-HIAA (24 h urine)", _loinc("1695-6"), "mg/(24.h)"),
        LabTest("ki67", "Ki-67", _loinc("29593-1"), "%"),
    )
}
LAB_BY_CODE: dict[Code, LabTest] = {c: t for t in LAB_TESTS.values() for c in t.codes}

ECOG = (LOINC, "89247-1")
ECOG_ANSWERS: dict[str, int] = {
    "LA9622-7": 0, "LA9623-5": 1, "LA9624-3": 2, "LA9625-0": 3, "LA9626-8": 4, "LA9627-6": 5,
}  # fmt: skip
PREGNANCY_STATUS = (LOINC, "82810-3")
PREGNANCY_ANSWERS: dict[str, bool | None] = {
    "LA15173-0": True, "LA26683-5": False, "LA4489-6": None,
}  # fmt: skip
# An hCG qualitative result: positive / negative (SNOMED) or a LOINC answer.
HCG_NEGATIVE = {(SNOMED, "260385009"), (LOINC, "LA6577-6"), (PROJECT, "negative")}
HCG_POSITIVE = {(SNOMED, "10828004"), (LOINC, "LA6576-8"), (PROJECT, "positive")}
# What a coded result says, for people: a report shows "negative", never "260385009".
CODED_VALUE_DISPLAY: dict[Code, str] = {
    (SNOMED, "260385009"): "negative", (SNOMED, "10828004"): "positive",
    (LOINC, "LA6577-6"): "negative", (LOINC, "LA6576-8"): "positive",
    (SNOMED, "260373001"): "detected", (SNOMED, "260415000"): "not detected",
}  # fmt: skip
SYSTEM_NAMES = {SNOMED: "SNOMED CT", LOINC: "LOINC", ATC: "ATC", RXNORM: "RxNorm",
                ICD10: "ICD-10", ICD10CM: "ICD-10-CM", ICDO3: "ICD-O-3", UCUM: "UCUM"}


def coded_display(code: Code) -> str:
    """'negative (SNOMED CT 260385009)'; a project code or free text shows as itself."""
    system, value = code
    if system == PROJECT:
        return value
    name = CODED_VALUE_DISPLAY.get(code)
    where = f"{SYSTEM_NAMES.get(system, system)} {value}"
    return f"{name} ({where})" if name else where


HISTOLOGY_OBS = {(LOINC, "59847-4"), (LOINC, "31205-8"), (LOINC, "22637-3")}

# --- conditions (SNOMED, ICD-10) ------------------------------------------------
PREGNANT = {(SNOMED, "77386006")}
NOT_PREGNANT = {(SNOMED, "60001007")}
LACTATING = {(SNOMED, "169750002"), (SNOMED, "413712001"), (PROJECT, "lactating")}
BRAIN_METASTASIS = {(SNOMED, "94225005"), (ICD10, "C79.31"), (ICD10CM, "C79.31")}
POSTMENOPAUSAL = {(SNOMED, "76498008")}  # (check)
# Secondary malignancy codes that make a NET "advanced" (metastatic).
METASTASIS = {
    (SNOMED, "94225005"), (SNOMED, "94381002"), (SNOMED, "94222008"),
    (SNOMED, "128462008"), (PROJECT, "advanced"),
}  # fmt: skip
ADVANCED_STAGE = {(PROJECT, "advanced"), (PROJECT, "metastatic"), (PROJECT, "unresectable")}


@dataclass(frozen=True)
class TumourCode:
    """What a diagnosis code says about a neuroendocrine tumour (None: the code does not say)."""

    net: bool
    site: str | None = None  # organ, when the code fixes it
    gep: bool | None = None
    differentiation: str | None = None  # "well" (NET) or "poor" (NEC)
    metastatic: bool = False


_GEP_TOPOGRAPHY = {
    "C16": "stomach", "C17": "small intestine", "C18": "colon", "C19": "rectosigmoid",
    "C20": "rectum", "C21": "anal canal", "C25": "pancreas",
}  # fmt: skip


def tumour_code(system: str, code: str) -> TumourCode | None:
    """Read a Condition code as a neuroendocrine tumour, or None when it is not one."""
    code = code.upper()
    if system in (ICD10, ICD10CM):
        return _icd10_net(code)
    if system == ICDO3:
        return _icdo3_morphology(code)
    if system == PROJECT and code == "gep-net":
        return TumourCode(True, None, True, "well")
    return None


def _icd10_net(code: str) -> TumourCode | None:
    c = code.replace(".", "")
    if c.startswith(("C7A01", "C7A02")):
        site = "small intestine" if c.startswith("C7A01") else "appendix/colon/rectum"
        return TumourCode(True, site, True, "well")
    if c.startswith("C7A092"):
        return TumourCode(True, "stomach", True, "well")
    if c.startswith(("C7A090", "C7A091", "C7A093")):
        return TumourCode(True, "bronchus/thymus/kidney", False, "well")
    if c.startswith("C7A0"):  # unspecified or foregut/midgut/hindgut NOS
        return TumourCode(True, None, None, "well")
    if c.startswith("C7A1"):  # malignant poorly differentiated NET: a carcinoma
        return TumourCode(True, None, None, "poor")
    if c.startswith("C254"):
        return TumourCode(True, "pancreas", True, None)
    if c.startswith("C7B"):  # secondary neuroendocrine tumour
        return TumourCode(True, None, None, None, metastatic=True)
    return None


# ICD-O-3 morphology: NET G1/G2/G3 are well differentiated; NEC (large/small cell) poorly.
ICDO3_WELL = {"8240/3", "8241/3", "8242/3", "8249/3", "8150/3", "8151/3", "8152/3", "8153/3",
              "8155/3", "8156/3"}  # fmt: skip
ICDO3_POOR = {"8246/3", "8013/3", "8041/3", "8154/3"}


def _icdo3_morphology(code: str) -> TumourCode | None:
    if code in ICDO3_WELL:
        return TumourCode(True, None, None, "well")
    if code in ICDO3_POOR:
        return TumourCode(True, None, None, "poor")
    return None


def topography_site(system: str, code: str) -> tuple[str | None, bool | None]:
    """Organ and whether it is gastro-entero-pancreatic, from an ICD-O-3 topography code."""
    if system != ICDO3 and not (system == ICD10 and code.upper().startswith("C")):
        return None, None
    prefix = code.upper()[:3]
    if prefix in _GEP_TOPOGRAPHY:
        return _GEP_TOPOGRAPHY[prefix], True
    return prefix, False


# --- medicines -----------------------------------------------------------------
# Drug classes the criteria speak of. "ssa": somatostatin analogue.
ATC_CLASSES: dict[str, str] = {
    "H01CB02": "ssa", "H01CB03": "ssa", "H01CB05": "ssa",
    "L01EG02": "mtor", "L01XE10": "mtor",
    "L01EX01": "tki", "L01EX03": "tki", "L01EX07": "tki",
    "L01XE04": "tki", "L01XE11": "tki", "L01XE26": "tki",
    "L03AB04": "interferon", "L03AB05": "interferon", "L03AB10": "interferon",
    "L03AB11": "interferon",
    "L01AX03": "chemotherapy", "L01AD04": "chemotherapy", "L01BC06": "chemotherapy",
    "L01BC02": "chemotherapy", "L01DB01": "chemotherapy", "L01CB01": "chemotherapy",
    "L01XA01": "chemotherapy", "L01XA02": "chemotherapy", "L01XA03": "chemotherapy",
    "V10XX04": "radionuclide",
}  # fmt: skip
# RxNorm ingredient codes (check) for the same drugs, as US data and Synthea use RxNorm.
RXNORM_CLASSES: dict[str, str] = {
    "7617": "ssa",  # octreotide
    "141704": "mtor",  # everolimus
    "357977": "tki",  # sunitinib
    "714438": "tki",  # pazopanib
    "1363268": "tki",  # cabozantinib
    "194000": "chemotherapy",  # capecitabine
    "37776": "chemotherapy",  # temozolomide
    "4492": "chemotherapy",  # fluorouracil
    "3639": "chemotherapy",  # doxorubicin
    "4179": "chemotherapy",  # etoposide
    "2555": "chemotherapy",  # cisplatin
    "40048": "chemotherapy",  # carboplatin
    "32592": "chemotherapy",  # oxaliplatin
    "1597582": "chemotherapy",  # Synthea: cisplatin 50 MG Injection (check)
}
PROJECT_CLASSES: dict[str, str] = {
    "investigational": "investigational",
    "ssa": "ssa",
    "chemotherapy": "chemotherapy",
}
# Standard systemic NET therapies for I4 (refractoriness).
NET_SYSTEMIC = {"ssa", "mtor", "tki", "chemotherapy"}
# E3: therapies that need 12 weeks before inclusion.
E3_DRUG_CLASSES = {"chemotherapy", "mtor", "tki", "interferon", "investigational", "radionuclide"}

# SSA forms: ATC cannot tell them apart (domain reference), the product or route can.
SSA_FORM_CODES: dict[Code, str] = {
    (PROJECT, "ssa-long-acting"): "long",
    (PROJECT, "ssa-short-acting"): "short",
}
# Whole words of a product name that mean a long-acting form (Sandostatin LAR, Signifor
# LAR, Somatuline Autogel / Depot, lanreotide depot).
SSA_LONG_PRODUCTS = frozenset({"lar", "depot", "autogel", "somatuline"})
# Dosing interval: long-acting forms are given every 2-8 weeks, short-acting ones 2-3
# times a day; in between the schedule does not tell.
SSA_LONG_INTERVAL_DAYS = 14
SSA_SHORT_INTERVAL_DAYS = 1
ROUTE_INTRAMUSCULAR = {(SNOMED, "78421000"), ("http://standardterms.edqm.eu", "20035000")}

# --- procedures ----------------------------------------------------------------
SURGERY = {(SNOMED, "387713003"), (PROJECT, "major-surgery"), (PROJECT, "minor-surgery")}
MAJOR_SURGERY = {(PROJECT, "major-surgery")}
MINOR_SURGERY = {(PROJECT, "minor-surgery")}
RADIOTHERAPY = {(SNOMED, "33195004"), (SNOMED, "108290001"), (PROJECT, "external-beam-rt")}
RADIONUCLIDE_THERAPY = {(SNOMED, "399315003"), (PROJECT, "prrt")}
EMBOLISATION = {(PROJECT, "embolisation"), (PROJECT, "tace"), (PROJECT, "tare")}
KIDNEY_SITES = {(SNOMED, "64033007"), (SNOMED, "18639004"), (SNOMED, "9846003"),
                (PROJECT, "kidney")}  # fmt: skip
# Project code for the share of bone marrow in a radiotherapy field (Procedure extension).
MARROW_SHARE_EXT = PROJECT + "/marrow-share"

# --- attestations ----------------------------------------------------------------
# Questions an investigator answers yes/no; the code is the Observation.code (project
# CodeSystem) or the QuestionnaireResponse item linkId.
ATTESTATIONS: dict[str, str] = {
    "refractory-disease": "Disease refractory to SSAs and/or standard systemic therapy",
    "prior-net-systemic-therapy": "Patient ever received an SSA or standard systemic NET therapy",
    "contraception-agreement": "Agrees to highly effective contraception up to 6 months after "
    "the end of treatment",
    "childbearing-potential": "Woman of childbearing potential",
    "partner-childbearing-potential": "Man with a partner of childbearing potential",
    "informed-consent": "Written informed consent obtained before any study procedure",
    "resectable-curative-intent": "Resectable tumour, surgery with curative intent intended",
    "recent-major-surgery": "Major surgery in the 6 weeks before inclusion",
    "recent-anticancer-therapy": "Radiotherapy, chemotherapy, embolisation, mTOR inhibitor, "
    "TKI, interferon or investigational therapy in the 12 weeks before inclusion",
    "prior-rt-kidney-or-marrow": "Prior external beam radiotherapy on the kidneys or on more "
    "than 25 % of the bone marrow",
    "known-brain-metastases": "Known brain metastases",
    "brain-metastases-controlled": "Brain metastases controlled (treated and stable)",
    "uncontrolled-significant-condition": "Significant medical, neuro-psychiatric or surgical "
    "condition uncontrolled by treatment that may interfere with the study",
    "pregnant": "Pregnant",
    "lactating": "Lactating",
    "radiotherapy-history-complete": "No radiotherapy other than recorded",
}

# --- imaging (mCODE TumorSize and project codes) -----------------------------------
DICOM = "http://dicom.nema.org/resources/ontology/DCM"
TUMOR_SIZE = (LOINC, "21889-1")
LONGEST_DIMENSION = (LOINC, "33728-7")
OTHER_DIMENSION = (LOINC, "33729-5")
# Study codes (DiagnosticReport.code, ImagingStudy.modality / procedureCode) -> modality.
STUDY_MODALITIES: dict[Code, str] = {
    (PROJECT, "ct"): "CT", (PROJECT, "mri"): "MRI", (PROJECT, "sstr-pet"): "SSTR_PET",
    (PROJECT, "sstr-spect"): "SSTR_SPECT", (DICOM, "CT"): "CT", (DICOM, "MR"): "MRI",
}  # fmt: skip
SLICE_THICKNESS_EXT = PROJECT + "/slice-thickness-mm"
MARROW_INFILTRATION = (PROJECT, "diffuse-marrow-infiltration")
NET_SYMPTOM = (PROJECT, "net-symptom")  # Observation.category of a hormone-related symptom
# TumorSize components with project codes: (value kind, Lesion field).
LESION_COMPONENTS: dict[str, tuple[str, str]] = {
    "short-axis": ("mm", "short_axis_mm"),
    "transaxial-diameter": ("mm", "transaxial_mm"),
    "krenning-grade": ("int", "krenning"),
    "nodal": ("bool", "nodal"),
    "target": ("bool", "target"),
    "new-lesion": ("bool", "new"),
    "previously-irradiated": ("bool", "irradiated"),
    "too-small": ("bool", "too_small"),
    "disappeared": ("bool", "disappeared"),
    "nontarget-status": ("code", "nontarget_status"),
}

# --- pathology: WHO grade and Ki-67 (I2) ---------------------------------------------
# A pathology result: Observation.code / DiagnosticReport.code. Its morphology is the
# valueCodeableConcept (Observation) or conclusionCode (DiagnosticReport).
PATHOLOGY_REPORTS = HISTOLOGY_OBS | {(LOINC, "60567-5"), (LOINC, "11526-1")}
# mCODE Histologic Grade: LOINC 33732-9, values from mcode-histologic-grade-vs (WHO 2019
# GEP-NET: G1 low, G2 intermediate, G3 high grade) or the older SNOMED G1-G3 (check).
HISTOLOGIC_GRADE = (LOINC, "33732-9")
WHO_GRADES: dict[Code, int] = {
    (SNOMED, "1155708003"): 1, (SNOMED, "1286893008"): 2, (SNOMED, "1155707008"): 3,
    (SNOMED, "54102005"): 1, (SNOMED, "1663004"): 2, (SNOMED, "61026006"): 3,
    (PROJECT, "G1"): 1, (PROJECT, "G2"): 2, (PROJECT, "G3"): 3,
}  # fmt: skip
KI67 = (LOINC, "29593-1")  # Ki-67 index, % of tumour cells

# --- consent (I11) -------------------------------------------------------------------
# A research consent: Consent.scope (consentscope) or Consent.category.
CONSENT_RESEARCH = {
    ("http://terminology.hl7.org/CodeSystem/consentscope", "research"),
    ("http://terminology.hl7.org/CodeSystem/consentcategorycodes", "research"),
    ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "RESEARCH"),
}
# Consent.provision extension naming the ResearchStudy the consent is for (FHIR core
# extension, valueReference(ResearchStudy)).
CONSENT_STUDY_EXT = "http://hl7.org/fhir/StructureDefinition/consent-ResearchStudyContext"

# Procedure extension (FHIR core) naming the BodyStructure a procedure targeted: a
# radiotherapy course on a lesion (I13 "not previously irradiated").
TARGET_BODY_STRUCTURE_EXT = ("http://hl7.org/fhir/StructureDefinition/"
                             "procedure-targetBodyStructure")
