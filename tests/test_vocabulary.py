"""Code tables as real feeds write them: drug classes by ATC hierarchy and RxNorm clinical
drugs, tumour markers and labs by their LOINC variants, ICD-10 / ICD-O-3 tumour codes.

Expected classes come from the protocol notes (I4: SSA, everolimus, sunitinib, chemotherapy
such as capecitabine/temozolomide or streptozocin; E3: chemotherapy, mTOR inhibitor, TKI,
interferon, radionuclide) and the WHO ATC hierarchy, not from the program's output."""

from __future__ import annotations

from datetime import date

import pytest
from builders import ctx, record

from trialsieve import codes as C
from trialsieve.fhir.mapping import condition, medication, observation
from trialsieve.logic import Tri
from trialsieve.rules.disease import GepNet


def _class(system: str, code: str) -> str | None:
    return C.drug_class([(system, code)])


# --- ATC by hierarchy: the longest listed prefix decides --------------------------------
@pytest.mark.parametrize(("code", "expected"), [
    ("H01CB02", "ssa"), ("H01CB03", "ssa"), ("H01CB05", "ssa"),  # octreo-, lanreo-, pasireotide
    ("L01EG02", "mtor"), ("L01XE10", "mtor"), ("L04AA18", "mtor"),  # everolimus, old and L04
    ("L01EX01", "tki"), ("L01EX08", "tki"), ("L01EX02", "tki"),  # sunitinib, lenvatinib, sorafenib
    ("L01XE04", "tki"),  # sunitinib before 2022
    ("L01EA01", "kinase-inhibitor"),  # imatinib: a kinase inhibitor, not a NET therapy
    ("L01BC06", "chemotherapy"), ("L01AX03", "chemotherapy"), ("L01AD04", "chemotherapy"),
    ("L01AX04", "chemotherapy"),  # dacarbazine
    ("L01BC05", "antineoplastic"),  # gemcitabine: an antineoplastic, not a standard NET therapy
    ("L01CD01", "antineoplastic"),  # paclitaxel
    ("L03AB05", "interferon"), ("L03AB10", "interferon"),
    ("V10XX04", "radionuclide"),
    ("A02BC01", None), ("L02AE02", None),  # omeprazole; leuprorelin is L02, not L01
])
def test_atc_class_by_longest_prefix(code: str, expected: str | None) -> None:
    assert _class(C.ATC, code) == expected


def test_e3_counts_every_antineoplastic_i4_only_net_therapies() -> None:
    for cls in ("antineoplastic", "kinase-inhibitor", "chemotherapy", "tki", "mtor",
                "interferon", "radionuclide"):
        assert cls in C.E3_DRUG_CLASSES
    assert "antineoplastic" not in C.NET_SYSTEMIC and "kinase-inhibitor" not in C.NET_SYSTEMIC


# --- RxNorm: ingredients and clinical drugs (SCD/SBD) -------------------------------------
@pytest.mark.parametrize(("rxcui", "expected"), [
    ("1736854", "chemotherapy"),  # Cisplatin 50 MG Injection (Synthea, openFDA)
    ("309311", "chemotherapy"),  # cisplatin 1 MG/ML injection
    ("200328", "chemotherapy"),  # capecitabine tablet
    ("2555", "chemotherapy"), ("4179", "chemotherapy"), ("37776", "chemotherapy"),
    ("141704", "mtor"), ("998189", "mtor"),  # everolimus: ingredient and tablet
    ("357977", "tki"), ("616289", "tki"), ("1603296", "tki"),  # sunitinib IN/SCD, lenvatinib
    ("898589", "ssa"), ("749811", "ssa"), ("312069", "ssa"),  # octreotide LAR, lanreotide
    ("1597596", "ssa"), ("313209", "chemotherapy"), ("1604345", "tki"),  # pasireotide LAR,
    ("1731338", "chemotherapy"),  # temozolomide capsule, Lenvima, dacarbazine injection
    ("1999682", "radionuclide"),  # Lutathera
    ("583214", "antineoplastic"),  # PACLitaxel 100 MG Injection (Synthea)
    ("1597582", "antineoplastic"),  # olaparib, once listed here as cisplatin by mistake
    ("314076", None),  # lisinopril
])
def test_rxnorm_codes(rxcui: str, expected: str | None) -> None:
    assert _class(C.RXNORM, rxcui) == expected


def test_ssa_form_from_the_product_code() -> None:
    assert C.rxnorm_product_form("898589") == "long"  # Sandostatin LAR Depot kit
    assert C.rxnorm_product_form("749811") == "long"  # Somatuline Depot
    assert C.rxnorm_product_form("312069") == "short"  # octreotide injection solution
    assert C.rxnorm_product_form("1597596") == "long"  # Signifor LAR
    assert C.rxnorm_product_form("1364109") == "short"  # Signifor ampoule
    assert C.rxnorm_product_form("1736854") is None


def _med(code: str, system: str = C.RXNORM, text: str = "") -> dict:
    # A given dose: a MedicationRequest alone is no exposure (notes, "Exposures in time").
    return {"resourceType": "MedicationAdministration", "id": "m1", "status": "completed",
            "effectiveDateTime": "2026-10-01", "subject": {"reference": "Patient/p1"},
            "medicationCodeableConcept": {"coding": [{"system": system, "code": code}],
                                          "text": text}}


def test_synthea_cisplatin_is_a_chemotherapy_exposure() -> None:
    [e] = medication(_med("1736854", text="Cisplatin 50 MG Injection"), lambda _: None)
    assert e.drug_class == "chemotherapy" and e.start == date(2026, 10, 1)


def test_lar_product_code_gives_the_long_acting_form() -> None:
    [e] = medication(_med("898589", text="octreotide 30 MG kit"), lambda _: None)
    assert (e.drug_class, e.ssa_form) == ("ssa", "long")


# --- Labs and markers ------------------------------------------------------------------------
def _obs(code: str, value: float, unit: str) -> dict:
    return {"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": C.LOINC, "code": code}]},
            "effectiveDateTime": "2026-11-20",
            "valueQuantity": {"value": value, "unit": unit, "system": C.UCUM, "code": unit}}


@pytest.mark.parametrize(("code", "value", "unit", "test", "std"), [
    ("9811-1", 120, "ng/mL", "chromogranin_a", 120),
    ("25587-7", 3.1, "nmol/L", "chromogranin_a_molar", 3.1),
    ("1695-6", 12, "mg/(24.h)", "hiaa_24h", 12),
    ("1695-6", 12, "mg/d", "hiaa_24h", 12),  # the same quantity (was read as 0.5)
    # 5-HIAA 191.18 g/mol: 100 umol/24 h = 19.118 mg/24 h
    ("14573-0", 100, "umol/(24.h)", "hiaa_24h", 19.118),
    ("31203-3", 8, "mg/L", "hiaa_urine", 8),
    ("44288-9", 6.5, "mg/g", "hiaa_creatinine", 6.5),
    ("1693-1", 12, "ng/mL", "hiaa_plasma", 12),
    ("30239-8", 40, "U/L", "ast", 40),  # AST with P-5'-P
    ("88112-8", 40, "U/L", "ast", 40),  # AST without P-5'-P
    ("1744-2", 30, "U/L", "alt", 30),  # ALT without P-5'-P
    ("14682-9", 88.4, "umol/L", "creatinine", 1.0),  # 1 mg/dL = 88.4 umol/L
])
def test_lab_codes_read(code: str, value: float, unit: str, test: str, std: float) -> None:
    [lab] = observation(_obs(code, value, unit), lambda _: None)
    assert lab.test == test and lab.std_value == pytest.approx(std, rel=1e-3)


def test_every_marker_series_is_a_net_marker() -> None:
    assert set(C.NET_MARKERS) == {"chromogranin_a", "chromogranin_a_molar", "nse", "hiaa_24h",
                                  "hiaa_urine", "hiaa_creatinine", "hiaa_plasma"}


# --- ICD-10 and ICD-O-3 -------------------------------------------------------------------
def _cond(code: str, system: str = C.ICD10CM) -> dict:
    return {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p1"},
            "onsetDateTime": "2024-03-01",
            "code": {"coding": [{"system": system, "code": code}]}}


def test_c7a8_other_malignant_net_is_read() -> None:
    [d] = condition(_cond("C7A.8"), lambda _: None)
    assert d.net and d.gep is None and d.differentiation is None


@pytest.mark.parametrize("code", ["C7A.095", "C7A.096"])
def test_midgut_and_hindgut_nos_are_gep(code: str) -> None:
    [d] = condition(_cond(code), lambda _: None)
    assert d.net and d.gep is True and d.differentiation == "well"


def test_foregut_nos_is_not_known_to_be_gep() -> None:
    [d] = condition(_cond("C7A.094"), lambda _: None)
    assert d.gep is None  # foregut includes bronchus and thymus


def test_secondary_carcinoid_marks_advanced() -> None:
    [d] = condition(_cond("C7B.02"), lambda _: None)
    assert d.net and d.advanced is True


def test_secondary_merkel_cell_carcinoma_is_not_a_net_metastasis() -> None:
    from trialsieve.fhir.errors import NotRelevant

    with pytest.raises(NotRelevant):
        condition(_cond("C7B.1"), lambda _: None)


def test_minen_is_not_a_pure_net_so_i2_is_not_met() -> None:
    assert C.tumour_code(C.ICDO3, "8154/3").differentiation == "mixed"
    [d] = condition({**_cond("C7A.010"), "stage": [{"summary": {"coding": [
        {"system": C.PROJECT, "code": "metastatic"}]}}]}, lambda _: None)
    pathology = {"resourceType": "Observation", "id": "path", "status": "final",
                 "code": {"coding": [{"system": C.LOINC, "code": "59847-4"}]},
                 "effectiveDateTime": "2024-03-05", "valueCodeableConcept": {
                     "coding": [{"system": C.ICDO3, "code": "8154/3"}], "text": "MiNEN"}}
    [h] = observation(pathology, lambda _: None)
    rec = record()
    rec.diagnoses.append(d)
    rec.histology.append(h)
    out = GepNet().evaluate(rec, ctx())
    assert out.status is Tri.NOT_MET
    assert "MiNEN" in out.summary


def test_postmenopausal_codes() -> None:
    assert {(C.SNOMED, "76498008"), (C.SNOMED, "307429007")} <= C.POSTMENOPAUSAL


def test_a_contained_medication_is_read() -> None:
    res = {"resourceType": "MedicationAdministration", "id": "a", "status": "completed",
           "effectiveDateTime": "2026-10-02", "medicationReference": {"reference": "#m"},
           "contained": [{"resourceType": "Medication", "id": "m", "code": {"coding": [
               {"system": C.ATC, "code": "L01XA01", "display": "cisplatin"}]}}]}
    [e] = medication(res, lambda _: None)
    assert e.drug_class == "chemotherapy"


def test_a_medication_reference_not_in_the_input_is_listed_not_dropped() -> None:
    from trialsieve.fhir.errors import NotRelevant, Skip

    res = {"resourceType": "MedicationAdministration", "id": "a", "status": "completed",
           "effectiveDateTime": "2026-10-02", "medicationReference": {"reference":
                                                                      "Medication/gone"}}
    with pytest.raises(Skip, match="Medication/gone") as exc:
        medication(res, lambda _: None)
    assert not isinstance(exc.value, NotRelevant)


def test_every_cited_rxnorm_code_is_in_the_shipped_table() -> None:
    import csv

    from builders import REPO

    lines = (REPO / "vocab" / "rxnorm-cited.csv").read_text().splitlines()
    cited = list(csv.DictReader(x for x in lines if not x.startswith("#")))
    assert cited and all(C.rxnorm_codes()[r["rxcui"]].ingredient == r["ingredient"]
                         for r in cited)
    assert all(r["ingredient"] in C.INGREDIENT_CLASSES for r in cited)


def test_breastfeeding_observable_is_not_a_lactation_finding() -> None:
    # 413712001 "Breastfeeding (mother)" is an observable entity (the question, e.g. ISiK
    # Stillstatus), not the finding that she breastfeeds: a Condition with it says nothing.
    assert (C.SNOMED, "169750002") in C.LACTATING  # Mother currently breast-feeding
    assert (C.SNOMED, "413712001") not in C.LACTATING


@pytest.mark.parametrize("code", ["1692-3", "1694-9", "19193-2"])
def test_a_marker_in_a_quantity_not_compared_is_listed_with_its_reason(code: str) -> None:
    from trialsieve.fhir.errors import NotRelevant, Skip

    with pytest.raises(Skip, match="NET marker") as exc:
        observation(_obs(code, 5, "mg/L"), lambda _: None)
    assert not isinstance(exc.value, NotRelevant) and code in str(exc.value)


def test_the_projects_own_gep_net_code_reads_as_a_well_differentiated_gep_net() -> None:
    # docs/data-dictionary.md lists PROJECT `gep-net` as "GEP-NET, well differentiated";
    # the code was upper-cased before the comparison, so it never matched.
    cond = {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"},
            "code": {"coding": [{"system": C.PROJECT, "code": "gep-net"}]}}
    [d] = condition(cond, lambda _: None)
    assert d.net and d.gep is True and d.differentiation == "well"
