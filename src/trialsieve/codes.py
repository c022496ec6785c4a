"""Code lists: one table per code list, matched by (system, code).

Every code here was confirmed against a source named beside it (docs/vocabulary-sources.md
lists them); codes that could not be confirmed were dropped. Large tables are package data
(trialsieve/vocab/*.csv), loaded once. A site adds its own codes with a FHIR ConceptMap
(fhir/concept_map.py), never by editing this file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
UCUM = "http://unitsofmeasure.org"
# Facts with no standard code (51Cr-EDTA GFR, attestations, SSA form, ...).
PROJECT_BASE = "https://trialsieve.org/fhir/"  # the project's canonical URLs
PROJECT = PROJECT_BASE + "CodeSystem/trialsieve"

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


# LOINC codes: domain reference; the tumour-marker and 5-HIAA codes confirmed in the mCODE
# TumorMarkerTestVS (hl7.org/fhir/us/mcode/STU1) and the Onconova tumour-marker value set;
# AST/ALT with and without P-5'-P in the tx.fhir.org LOINC 2.82 expansion of the
# Lithuanian laboratory IG (ast-method, alt-method value sets).
LAB_TESTS: dict[str, LabTest] = {
    t.key: t
    for t in (
        # Hb monomer 16 114.5 g/mol gives 1 g/dL = 0.6206 mmol/L.
        LabTest("hemoglobin", "haemoglobin", _loinc("718-7"), "g/dL", 16114.5),
        LabTest("neutrophils", "neutrophils (absolute)", _loinc("751-8", "26499-4"), "10*3/uL"),
        LabTest("platelets", "platelets", _loinc("777-3", "26515-7"), "10*3/uL"),
        # 584.66 g/mol gives 1 mg/dL = 17.1 umol/L.
        LabTest("bilirubin", "total bilirubin", _loinc("1975-2", "14631-6"), "mg/dL", 584.66),
        # 1742-6 any method, 1743-4 with and 1744-2 without pyridoxal 5'-phosphate.
        LabTest("alt", "ALT", _loinc("1742-6", "1743-4", "1744-2"), "U/L"),
        # 1920-8 any method, 30239-8 with and 88112-8 without pyridoxal 5'-phosphate.
        LabTest("ast", "AST", _loinc("1920-8", "30239-8", "88112-8"), "U/L"),
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
        # Context for I6 only. 113.12 g/mol gives 1 mg/dL = 88.4 umol/L.
        LabTest("creatinine", "serum creatinine", _loinc("2160-0", "14682-9"), "mg/dL", 113.12),
        LabTest("hcg_serum", "serum hCG", _loinc("2118-8", "21198-7", "19080-1"), "[IU]/L"),
        LabTest("hcg_urine", "urine hCG", _loinc("2106-3"), "[IU]/L"),
        # Tumour markers (I3 c). A marker measured in two kinds of quantity is two series:
        # immunoassays are calibrated differently, so a rise is only read within one kind.
        LabTest("chromogranin_a", "chromogranin A", _loinc("9811-1"), "ug/L"),
        LabTest("chromogranin_a_molar", "chromogranin A (moles)", _loinc("25587-7"), "nmol/L"),
        LabTest("nse", "neuron-specific enolase", _loinc("15060-7"), "ug/L"),
        # 5-HIAA, C10H9NO3, 191.18 g/mol: 1695-6 mass/time and 14573-0 moles/time in 24 h
        # urine are one quantity; 31203-3 (concentration) and 44288-9 (per creatinine) are
        # others. The rule unit is mg/d, not mg/(24.h): a numeric factor in the unit a value
        # is converted to is lost by the converter (12 mg/d would read as 0.5 mg/(24.h)).
        LabTest("hiaa_24h", "5-HIAA (24 h urine)", _loinc("1695-6", "14573-0"), "mg/d", 191.18),
        LabTest("hiaa_urine", "5-HIAA (24 h urine, concentration)", _loinc("31203-3"),
                "mg/L", 191.18),
        LabTest("hiaa_creatinine", "5-HIAA/creatinine (24 h urine)", _loinc("44288-9"), "mg/g"),
        LabTest("hiaa_plasma", "5-HIAA (serum/plasma)", _loinc("1693-1"), "ng/mL", 191.18),
        LabTest("ki67", "Ki-67", _loinc("29593-1"), "%"),
    )
}
# The series I3 (c) reads as NET markers (protocol: chromogranin A, NSE, urinary 5-HIAA).
NET_MARKERS = ("chromogranin_a", "chromogranin_a_molar", "nse", "hiaa_24h", "hiaa_urine",
               "hiaa_creatinine", "hiaa_plasma")
LAB_BY_CODE: dict[Code, LabTest] = {c: t for t in LAB_TESTS.values() for c in t.codes}
# NET markers in a quantity no series above holds (same value sets as above): not read,
# but listed with this reason rather than passed over as unrelated.
MARKERS_NOT_READ: dict[Code, str] = {
    (LOINC, "1692-3"): "5-HIAA in cerebrospinal fluid",
    (LOINC, "1694-9"): "5-HIAA in a urine sample (not 24 h)",
    (LOINC, "72820-4"): "5-HIAA in urine by confirmatory method",
    (LOINC, "19193-2"): "NSE in units/volume",
}

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
# 169750002 Mother currently breast-feeding (finding). Not 413712001 "Breastfeeding
# (mother)": an observable entity (the question, whose answer says yes or no).
LACTATING = {(SNOMED, "169750002"), (PROJECT, "lactating")}
# WHO ICD-10 codes brain metastases as C79.3 ("of brain and cerebral meninges"); C79.31 is
# ICD-10-CM's (notes, "A code the program cannot read is not a 'no'").
BRAIN_METASTASIS = {(SNOMED, "94225005"), (ICD10, "C79.3"), (ICD10, "C79.31"),
                    (ICD10CM, "C79.31")}
# 76498008 Postmenopausal (NZ HTS canshare-menopause-status value set), 307429007 After
# menopause (HL7 ICHOM breast cancer IG, MenopausalStatusVS).
# The recorded sex I10/E8/E9 read (notes, "Sex"): these extensions over the
# administrative gender, each value mapped to female / male / unknown.
SEX_EXTENSIONS: dict[str, dict[str, str]] = {
    "http://hl7.org/fhir/StructureDefinition/patient-sexParameterForClinicalUse": {
        "female-typical": "female", "male-typical": "male", "specified": "unknown"},
    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex": {
        "F": "female", "M": "male", "UNK": "unknown", "OTH": "other"},
}
POSTMENOPAUSAL = {(SNOMED, "76498008"), (SNOMED, "307429007")}
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
    if system == PROJECT and code == "gep-net":  # the project's own code: as written
        return TumourCode(True, None, True, "well")
    code = code.upper()
    if system in (ICD10, ICD10CM):
        return _icd10_net(code)
    if system == ICDO3:
        return _icdo3_morphology(code)
    return None


# Every ICD-10 code _icd10_net reads as a NET starts so (dots removed): the population
# triage looks for them (population/triage.py).
NET_ICD10_PREFIXES = ("C7A", "C7B", "C254")


def _icd10_net(code: str) -> TumourCode | None:
    c = code.replace(".", "")
    if c.startswith(("C7A01", "C7A02")):
        site = "small intestine" if c.startswith("C7A01") else "appendix/colon/rectum"
        return TumourCode(True, site, True, "well")
    if c.startswith("C7A092"):
        return TumourCode(True, "stomach", True, "well")
    if c.startswith(("C7A090", "C7A091", "C7A093")):
        return TumourCode(True, "bronchus/thymus/kidney", False, "well")
    if c.startswith(("C7A095", "C7A096")):  # midgut / hindgut NOS: gut, so GEP by definition
        return TumourCode(True, "midgut" if c.startswith("C7A095") else "hindgut", True, "well")
    if c.startswith("C7A0"):  # unspecified, foregut NOS (bronchus too), other sites
        return TumourCode(True, None, None, "well")
    if c.startswith("C7A1"):  # malignant poorly differentiated NET: a carcinoma
        return TumourCode(True, None, None, "poor")
    if c.startswith("C7A8"):  # other malignant NET: neither site nor differentiation fixed
        return TumourCode(True, None, None, None)
    if c.startswith("C254"):
        return TumourCode(True, "pancreas", True, None)
    if c.startswith("C7B1"):  # secondary Merkel cell carcinoma: a skin cancer, not a NET
        return None
    if c.startswith("C7B"):  # secondary carcinoid (C7B.0x) or other secondary NET (C7B.8)
        return TumourCode(True, None, None, None, metastatic=True)
    return None


# ICD-O-3 morphology: NET G1/G2/G3 are well differentiated; NEC (large/small cell) poorly.
ICDO3_WELL = {"8240/3", "8241/3", "8242/3", "8249/3", "8150/3", "8151/3", "8152/3", "8153/3",
              "8155/3", "8156/3"}  # fmt: skip
ICDO3_POOR = {"8246/3", "8013/3", "8041/3"}
# Mixed neuroendocrine-non-neuroendocrine neoplasm (MiNEN): not a pure NET (I2 not met).
ICDO3_MIXED = {"8154/3"}


def _icdo3_morphology(code: str) -> TumourCode | None:
    for table, diff in ((ICDO3_WELL, "well"), (ICDO3_POOR, "poor"), (ICDO3_MIXED, "mixed")):
        if code in table:
            return TumourCode(True, None, None, diff)
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
# Drug classes the criteria speak of. "ssa": somatostatin analogue. I4 reads the standard
# NET therapies (NET_SYSTEMIC); E3 every anticancer drug (E3_DRUG_CLASSES): an
# antineoplastic or kinase inhibitor that is not a standard NET therapy counts for E3 only.
# ATC is a hierarchy: a code takes the class of its longest prefix listed here. Codes from
# the domain reference and the WHO ATC index as listed in the PanCareSurPass IG value set
# "Antineoplastic and immunostimulating agents" (build.fhir.org/ig/hl7-eu/pcsp).
ATC_CLASSES: dict[str, str] = {
    "H01CB": "ssa",  # somatostatin and analogues: octreotide, lanreotide, pasireotide
    "L01": "antineoplastic",  # antineoplastic agents not listed more precisely below
    "L01E": "kinase-inhibitor", "L01XE": "kinase-inhibitor",  # protein kinase inhibitors
    "L01EG": "mtor", "L01XE10": "mtor", "L04AA18": "mtor",  # everolimus (L04AA18: transplant)
    "L01EX01": "tki", "L01EX02": "tki", "L01EX03": "tki", "L01EX07": "tki", "L01EX08": "tki",
    "L01XE04": "tki", "L01XE11": "tki", "L01XE26": "tki",  # sunitinib, pazopanib, cabozantinib
    "L01BC06": "chemotherapy", "L01BC02": "chemotherapy",  # capecitabine, fluorouracil
    "L01AX03": "chemotherapy", "L01AX04": "chemotherapy",  # temozolomide, dacarbazine
    "L01AD04": "chemotherapy", "L01DB01": "chemotherapy",  # streptozocin, doxorubicin
    "L01CB01": "chemotherapy",  # etoposide
    "L01XA01": "chemotherapy", "L01XA02": "chemotherapy", "L01XA03": "chemotherapy",  # -platin
    "L03AB": "interferon",
    "V10XX04": "radionuclide",  # lutetium (177Lu) oxodotreotide
}  # fmt: skip
# RxNorm ingredients (and the clinical drugs of trialsieve/vocab/rxnorm_products.csv) take
# the class of their ingredient.
INGREDIENT_CLASSES: dict[str, str] = {
    "octreotide": "ssa", "lanreotide": "ssa", "pasireotide": "ssa",
    "everolimus": "mtor", "temsirolimus": "mtor",
    "sunitinib": "tki", "pazopanib": "tki", "cabozantinib": "tki", "lenvatinib": "tki",
    "sorafenib": "tki",
    "capecitabine": "chemotherapy", "temozolomide": "chemotherapy",
    "streptozocin": "chemotherapy", "fluorouracil": "chemotherapy",
    "dacarbazine": "chemotherapy", "doxorubicin": "chemotherapy", "etoposide": "chemotherapy",
    "cisplatin": "chemotherapy", "carboplatin": "chemotherapy", "oxaliplatin": "chemotherapy",
    "gemcitabine": "antineoplastic", "paclitaxel": "antineoplastic",
    "cyclophosphamide": "antineoplastic", "olaparib": "antineoplastic",
    "imatinib": "kinase-inhibitor", "dasatinib": "kinase-inhibitor",
    "axitinib": "kinase-inhibitor",
    "peginterferon alfa-2a": "interferon", "ropeginterferon alfa-2b": "interferon",
    "lutetium Lu 177 dotatate": "radionuclide",
}  # fmt: skip
PROJECT_CLASSES: dict[str, str] = {
    "investigational": "investigational",
    "ssa": "ssa",
    "chemotherapy": "chemotherapy",
}
# Standard systemic NET therapies for I4 (refractoriness).
NET_SYSTEMIC = {"ssa", "mtor", "tki", "chemotherapy"}
# E3: therapies that need 12 weeks before inclusion.
E3_DRUG_CLASSES = {"chemotherapy", "mtor", "tki", "interferon", "investigational", "radionuclide",
                   "antineoplastic", "kinase-inhibitor"}


@dataclass(frozen=True)
class RxNormCode:
    """An RxNorm code the project reads: its ingredient and, for SSA products, the form."""

    rxcui: str
    ingredient: str
    form: str | None  # "long" / "short" for SSA products whose form the product fixes
    source: str


@cache
def rxnorm_codes() -> dict[str, RxNormCode]:
    """RxNorm ingredients and clinical drugs (SCD/SBD), from the generated package table."""
    text = resources.files("trialsieve.vocab").joinpath("rxnorm_products.csv").read_text(
        encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["rxcui"]: RxNormCode(r["rxcui"], r["ingredient"], r["form"] or None, r["source"])
            for r in rows}


def atc_class(code: str) -> str | None:
    """The class of an ATC code: that of its longest prefix in ATC_CLASSES."""
    for n in range(len(code), 0, -1):
        if code[:n] in ATC_CLASSES:
            return ATC_CLASSES[code[:n]]
    return None


def drug_class(codes: list[Code]) -> str | None:
    """The class of a medicine from its codings (the first coding that has one)."""
    for system, code in codes:
        if system == ATC:
            found = atc_class(code.upper())
        elif system == RXNORM:
            rx = rxnorm_codes().get(code)
            found = INGREDIENT_CLASSES.get(rx.ingredient) if rx else None
        else:
            found = PROJECT_CLASSES.get(code) if system == PROJECT else None
        if found:
            return found
    return None


def rxnorm_product_form(rxcui: str) -> str | None:
    rx = rxnorm_codes().get(rxcui)
    return rx.form if rx else None


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
# Selective internal radiation therapy (TARE/SIRT, Y-90 radio-embolisation): an
# embolisation (E3) that irradiates the lesions of the treated liver (I13).
# No international code was found for it (domain reference): project codes.
RADIOEMBOLISATION = {(PROJECT, "tare"), (PROJECT, "sirt")}
EMBOLISATION |= RADIOEMBOLISATION

# Body sites as codes -> a place in the body, "organ" or "organ/part" (a part lies in its
# organ). A radiotherapy site and a lesion's organ (BodyStructure.location) are compared
# by these places, never by words (protocol notes). SNOMED CT body structures; ICD-O-3
# topography by its three-character category (C22.0 -> C22).
BODY_SITES: dict[Code, str] = {
    (SNOMED, "10200004"): "liver", (SNOMED, "72481006"): "liver/right lobe",
    (SNOMED, "41801008"): "liver/left lobe", (PROJECT, "liver"): "liver",
    (SNOMED, "51185008"): "thorax", (SNOMED, "39607008"): "thorax/lung",
    (SNOMED, "15776009"): "pancreas",
    (SNOMED, "64033007"): "kidney", (SNOMED, "18639004"): "kidney/left",
    (SNOMED, "9846003"): "kidney/right", (PROJECT, "kidney"): "kidney",
    (SNOMED, "421060004"): "bone/spine",
    (SNOMED, "272673000"): "bone", (SNOMED, "12921003"): "bone/pelvis",
    (SNOMED, "59441001"): "lymph node", (SNOMED, "69695003"): "stomach",
    (SNOMED, "30315005"): "small intestine", (SNOMED, "71854001"): "colon",
    (SNOMED, "34402009"): "rectum", (SNOMED, "12738006"): "brain",
    (SNOMED, "78961009"): "spleen", (SNOMED, "23451007"): "adrenal gland",
    (SNOMED, "15425007"): "peritoneum",
}  # fmt: skip
ICDO3_TOPOGRAPHY_SITES: dict[str, str] = {
    "C15": "oesophagus", "C16": "stomach", "C17": "small intestine", "C18": "colon",
    "C19": "rectum", "C20": "rectum", "C22": "liver", "C25": "pancreas", "C34": "thorax/lung",
    "C40": "bone", "C41": "bone", "C42": "bone marrow", "C48": "peritoneum",
    "C64": "kidney", "C65": "kidney/renal pelvis", "C71": "brain", "C74": "adrenal gland",
    "C77": "lymph node",
}  # fmt: skip


def body_site(system: str, code: str) -> str | None:
    """The place a body-site code names, or None when it cannot be placed."""
    if system == ICDO3:
        return ICDO3_TOPOGRAPHY_SITES.get(code.replace(".", "").upper()[:3])
    return BODY_SITES.get((system, code))


KIDNEY_SITES = frozenset(c for c, place in BODY_SITES.items()
                         if place.split("/")[0] == "kidney")
# Fields that may hold a kidney without saying so (abdomen, retroperitoneum, whole body):
# E5 cannot place the kidneys in or out of them.
KIDNEY_REGIONS = {(SNOMED, "113345001"), (SNOMED, "818983003"), (SNOMED, "82849001"),
                  (SNOMED, "52731004"), (SNOMED, "38266002"), (PROJECT, "abdomen")}
_KIDNEY_TOPOGRAPHY = ("C64", "C65")  # ICD-O-3 kidney, renal pelvis
_KIDNEY_REGION_TOPOGRAPHY = ("C48", "C76", "C80")  # retroperitoneum, ill-defined, unknown


def kidney_site(system: str, code: str) -> bool | None:
    """Whether a radiotherapy body site is a kidney: True, False, or None when the program
    cannot place it (a local code, a region that may hold a kidney): E5 is then unknown.
    Kidneys are read by SNOMED or by ICD-O-3 topography C64/C65 (notes, E5), placed by
    the one table of body sites (`body_site`)."""
    topography = system in (ICDO3, ICD10) and re.fullmatch(r"C\d\d(\.\d)?", code.upper())
    if (system, code) in KIDNEY_REGIONS or (
            topography and code.upper()[:3] in _KIDNEY_REGION_TOPOGRAPHY):
        return None
    place = body_site(system, code)
    if place is not None:
        return place.split("/")[0] == "kidney"
    if topography:
        return code.upper()[:3] in _KIDNEY_TOPOGRAPHY
    return False if system == SNOMED else None


# Procedures that are assessments, screenings, tests or care regimes (Synthea's routine
# ones): neither surgery nor anticancer therapy, so not "a procedure the program cannot
# read". Any other unrecognised Procedure in an E2/E3 window leaves it unknown.
ROUTINE_PROCEDURES = {(SNOMED, c) for c in (
    "430193006", "710824005", "171207006", "454711000124102", "428211000124100",
    "710841007", "763302001", "713106006", "866148006", "715252007", "868187001",
    "762993000", "5880005", "386516004", "315639002", "370789001", "117015009",
    "252160004", "185087000", "310417005", "398171003", "392091000", "23426006",
    "370995009", "428191000124101", "162673000", "104091002", "103750000")}
# Project code for the share of bone marrow in a radiotherapy field (Procedure extension).
MARROW_SHARE_EXT = PROJECT + "/marrow-share"

# --- attestations ----------------------------------------------------------------
# Questions an investigator answers yes/no; the code is the Observation.code (project
# CodeSystem) or the QuestionnaireResponse item linkId.
@dataclass(frozen=True)
class Question:
    """An attestation question: its text and the period its answer covers.

    `covers_days` is the period the question speaks of, ending on the date the question is
    about (`about`: "inclusion" or "as_of", the screening date); an answer dated before
    that period began is stale and settles nothing (protocol notes). None: the answer
    does not age (a history, an agreement, an identity).
    """

    text: str
    covers_days: int | None = None
    about: str = "as_of"
    # An answer on events up to its date (E2/E3) speaks up to its date and this many days
    # after it (judgement in the notes: the screening-to-inclusion interval, "confirm at
    # inclusion"); a later inclusion needs a fresh answer. None: not such a question.
    speaks_days_after: int | None = None


# Judgement: a statement on a current state (pregnancy, lactation, the investigator's
# opinion on an uncontrolled condition) covers the 28 days before screening, the baseline
# window of I12; the E2/E3 questions cover their own window before inclusion.
ATTESTATIONS: dict[str, Question] = {
    "refractory-disease": Question("Disease refractory to SSAs and/or standard systemic "
                                   "therapy"),
    "prior-net-systemic-therapy": Question("Patient ever received an SSA or standard "
                                           "systemic NET therapy"),
    "contraception-agreement": Question("Agrees to highly effective contraception up to 6 "
                                        "months after the end of treatment", 28,
                                        "inclusion"),
    "childbearing-potential": Question("Woman of childbearing potential"),
    "partner-childbearing-potential": Question("Man with a partner of childbearing "
                                               "potential"),
    "informed-consent": Question("Written informed consent obtained before any study "
                                 "procedure"),
    "resectable-curative-intent": Question("Resectable tumour, surgery with curative intent "
                                           "intended", 28),
    "recent-major-surgery": Question("Major surgery in the 6 weeks before inclusion", 42,
                                     "inclusion", 7),
    "recent-anticancer-therapy": Question("Radiotherapy, chemotherapy, embolisation, mTOR "
                                          "inhibitor, TKI, interferon or investigational "
                                          "therapy in the 12 weeks before inclusion", 84,
                                          "inclusion", 7),
    # "The recorded history is complete": an explicit negative for every event of that
    # kind not on record (notes: a record is not a complete history unless said so).
    "surgery-history-complete": Question("The surgical history on record is complete (no "
                                         "surgery other than recorded)", 42, "inclusion", 7),
    "anticancer-therapy-history-complete": Question(
        "The history of radiotherapy, chemotherapy, embolisation, mTOR inhibitor, TKI, "
        "interferon and investigational therapy on record is complete (none other than "
        "recorded)", 84, "inclusion", 7),
    "radiotherapy-history-complete": Question("The radiotherapy history on record is "
                                              "complete (no radiotherapy other than "
                                              "recorded)"),
    "prior-rt-kidney-or-marrow": Question("Prior external beam radiotherapy on the kidneys "
                                          "or on more than 25 % of the bone marrow"),
    "known-brain-metastases": Question("Known brain metastases"),
    "brain-metastases-controlled": Question("Brain metastases controlled (treated and "
                                            "stable)"),
    "uncontrolled-significant-condition": Question(
        "Significant medical, neuro-psychiatric or surgical condition uncontrolled by "
        "treatment that may interfere with the study", 28),
    "sstr-tracer-accepted": Question("The investigator accepts the baseline SSTR PET/CT "
                                     "made with another tracer than 68Ga-DOTATATE for I13 "
                                     "and E4"),
    "pregnant": Question("Pregnant", 28),
    "lactating": Question("Lactating", 28),
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
# The SSTR tracer of a PET/CT, as a coding of its study code. I13 and E4 read the
# 68Ga-octreotate (DOTATATE) PET/CT; another tracer leaves them unknown until the
# investigator accepts the scan (protocol notes). The generic P#sstr-pet names no tracer.
DOTATATE = "68Ga-DOTATATE"
STUDY_TRACERS: dict[Code, str] = {
    (PROJECT, "ga68-dotatate"): DOTATATE, (PROJECT, "ga68-dotatoc"): "68Ga-DOTATOC",
    (PROJECT, "ga68-dotanoc"): "68Ga-DOTANOC", (PROJECT, "cu64-dotatate"): "64Cu-DOTATATE",
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
    "equivocal-new-lesion": ("bool", "equivocal"),
    "bone-lesion-type": ("code", "bone_type"),  # lytic / mixed / blastic
    "soft-tissue-component": ("mm", "soft_tissue_mm"),
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
# GEP-NET: G1 low, G2 intermediate, G3 high grade) or the older SNOMED G1-G3 grade findings
# 54102005 / 1663004 / 61026006 (both sets confirmed in public IG value sets and the MII
# oncology grading ConceptMap; docs/vocabulary-sources.md).
HISTOLOGIC_GRADE = (LOINC, "33732-9")
WHO_GRADES: dict[Code, int] = {
    (SNOMED, "1155708003"): 1, (SNOMED, "1286893008"): 2, (SNOMED, "1155707008"): 3,
    (SNOMED, "54102005"): 1, (SNOMED, "1663004"): 2, (SNOMED, "61026006"): 3,
    (PROJECT, "G1"): 1, (PROJECT, "G2"): 2, (PROJECT, "G3"): 3,
}  # fmt: skip
KI67 = (LOINC, "29593-1")  # Ki-67 index, % of tumour cells

# --- texts (issue 21): the kind of report a text is -----------------------------------
# DocumentReference.type / DiagnosticReport.code (LOINC document and report codes), then
# the category (HL7 v2-0074 diagnostic service sections), decide the kind of a text:
# "pathology", "imaging" (radiology and nuclear medicine) or "clinic" (notes, letters).
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
DOCUMENT_KINDS: dict[Code, str] = {
    (LOINC, "11526-1"): "pathology",  # Pathology study
    (LOINC, "60568-3"): "pathology",  # Pathology Synoptic report
    (LOINC, "60567-5"): "pathology",  # Comprehensive pathology report panel
    (LOINC, "22637-3"): "pathology",  # Pathology report final diagnosis
    (LOINC, "18748-4"): "imaging",  # Diagnostic imaging study
    (LOINC, "18726-0"): "imaging",  # Radiology studies (set)
    (LOINC, "44136-0"): "imaging",  # PET scan study
    (LOINC, "49118-3"): "imaging",  # Nuclear medicine study
    (LOINC, "11506-3"): "clinic",  # Progress note
    (LOINC, "34117-2"): "clinic",  # History and physical note
    (LOINC, "11488-4"): "clinic",  # Consult note
    (LOINC, "18842-5"): "clinic",  # Discharge summary
    (LOINC, "51847-2"): "clinic",  # Evaluation + Plan note
    (V2_0074, "PAT"): "pathology", (V2_0074, "SP"): "pathology",
    (V2_0074, "CP"): "pathology", (V2_0074, "LAB"): "pathology",
    (V2_0074, "RAD"): "imaging", (V2_0074, "NMR"): "imaging", (V2_0074, "NMS"): "imaging",
    (V2_0074, "CT"): "imaging", (V2_0074, "RX"): "imaging", (V2_0074, "US"): "imaging",
}  # fmt: skip

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

# --- what a site's ConceptMap may map to ------------------------------------------------
CODE_SYSTEMS = {LOINC, SNOMED, ATC, RXNORM, ICD10, ICD10CM, ICDO3, PROJECT, DICOM}


@cache
def _concepts() -> frozenset[Code]:
    """Every (system, code) a criterion reads, from the tables above."""
    found: set[Code] = set(LAB_BY_CODE) | {ECOG, PREGNANCY_STATUS, TUMOR_SIZE,
                                           LONGEST_DIMENSION, OTHER_DIMENSION,
                                           MARROW_INFILTRATION, NET_SYMPTOM,
                                           HISTOLOGIC_GRADE, KI67}
    found |= {(LOINC, a) for a in ECOG_ANSWERS} | {(LOINC, a) for a in PREGNANCY_ANSWERS}
    for table in (HISTOLOGY_OBS, HCG_NEGATIVE, HCG_POSITIVE, PREGNANT, NOT_PREGNANT, LACTATING,
                  BRAIN_METASTASIS, POSTMENOPAUSAL, METASTASIS, ADVANCED_STAGE, SURGERY,
                  MAJOR_SURGERY, MINOR_SURGERY, RADIOTHERAPY, RADIONUCLIDE_THERAPY,
                  EMBOLISATION, KIDNEY_SITES, ROUTE_INTRAMUSCULAR, STUDY_MODALITIES,
                  BODY_SITES, STUDY_TRACERS,
                  SSA_FORM_CODES, PATHOLOGY_REPORTS, WHO_GRADES, CONSENT_RESEARCH):
        found |= set(table)
    found |= {(PROJECT, c) for c in (*ATTESTATIONS, *PROJECT_CLASSES, *LESION_COMPONENTS,
                                     "gep-net")}
    return frozenset(found)


def is_concept(system: str, code: str) -> bool:
    """Whether trialsieve reads this code (a ConceptMap target must be one)."""
    if (system, code) in _concepts():
        return True
    if system == ATC:
        return atc_class(code) is not None
    if system == RXNORM:
        return code in rxnorm_codes()
    if system in (ICD10, ICD10CM, ICDO3):
        return tumour_code(system, code) is not None
    return False
