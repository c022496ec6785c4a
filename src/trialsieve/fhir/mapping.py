"""One FHIR R4 resource -> the facts it states (or the reason it is set aside).

Each mapper returns a list of facts for the record, or raises Skip with a reason.
Field type problems raise FieldError, which the reader turns into a warning.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypedDict

from trialsieve import codes as C
from trialsieve.fhir import imaging_mapping, reference_range
from trialsieve.fhir.errors import FieldError, NotRelevant, Skip
from trialsieve.fhir.values import (
    check_status,
    codings,
    concept_text,
    effective,
    effective_spans,
    get_dict,
    get_list,
    get_number,
    get_str,
    parse_date,
    parse_date_span,
    reference_id,
    time_of,
)
from trialsieve.plausibility import LABS
from trialsieve.record import (
    Attestation,
    ConsentRecord,
    Diagnosis,
    Ecog,
    Exposure,
    Finding,
    Histology,
    Ignored,
    LabResult,
    ProcedureRecord,
)
from trialsieve.units import UnitError, convert

Fact = Any
Lookup = Callable[[str], dict | None]  # resolves a reference id to a resource in the input

VOID_STATUS = {"entered-in-error", "cancelled", "not-taken", "not-done", "refuted",
               "rejected", "revoked", "inactive-consent"}


def _src(res: dict) -> str:
    return f"{res['resourceType']}/{res.get('id', '?')}"


# --- Observation ------------------------------------------------------------------
@dataclass(frozen=True)
class IgnoredFact(Ignored):
    """A record set aside, with the fact it would have stated (a lab test key), so that the
    criterion reading that fact lists it with its reason, not only the report as a whole."""

    about: str = ""


class SkipFact(Skip):
    def __init__(self, reason: str, about: str) -> None:
        super().__init__(reason)
        self.about = about


def fact_kind(res: dict) -> str:
    """The kind of fact a resource would state, for one that cannot be read: a lab test
    key, "imaging", "symptom", "ecog", "pregnancy", "histology", "attestation",
    "medication", or its resource type (protocols.lumen.READS says who reads which)."""
    rtype = res.get("resourceType", "")
    kinds = {"DiagnosticReport": "imaging", "ImagingStudy": "imaging",
             "MedicationStatement": "medication", "MedicationAdministration": "medication",
             "MedicationRequest": "medication", "QuestionnaireResponse": "attestation"}
    if rtype != "Observation":
        return kinds.get(rtype, rtype)
    try:
        codes = set(codings(res.get("code"), "code"))
        categories = {c for cat in get_list(res, "category") for c in codings(cat, "category")}
    except FieldError:
        return rtype
    if codes & {C.TUMOR_SIZE, C.MARROW_INFILTRATION}:
        return "imaging"
    if C.NET_SYMPTOM in categories:
        return "symptom"
    lab = next((C.LAB_BY_CODE[c].key for c in codes if c in C.LAB_BY_CODE), None)
    if lab:
        return lab
    if C.ECOG in codes:
        return "ecog"
    if C.PREGNANCY_STATUS in codes:
        return "pregnancy"
    if codes & C.HISTOLOGY_OBS:
        return "histology"
    if any(s == C.PROJECT and c in C.ATTESTATIONS for s, c in codes):
        return "attestation"
    return rtype


def observation(res: dict, lookup: Lookup) -> list[Fact]:
    codes = set(codings(res.get("code"), "code"))
    try:
        check_status(res, {"entered-in-error", "cancelled", "registered"})
    except Skip as why:
        test = next((C.LAB_BY_CODE[c].key for c in codes if c in C.LAB_BY_CODE), None)
        if test is not None:
            raise SkipFact(str(why), test) from None
        raise
    if C.TUMOR_SIZE in codes:
        return imaging_mapping.tumour_size(res, lookup)
    if C.MARROW_INFILTRATION in codes:
        return imaging_mapping.marrow(res, lookup)
    categories = {c for cat in get_list(res, "category") for c in codings(cat, "category")}
    if C.NET_SYMPTOM in categories:
        return imaging_mapping.symptom(res, lookup)
    # A result is dated by its sample (effective[x]); `issued` alone does not date it
    # (notes, "Results"). Other observations keep `issued` as their date.
    sampled, _, field = effective(res, "effective")
    when = sampled or parse_date(res.get("issued"), "issued")
    for code in codes:
        if code in C.LAB_BY_CODE:
            lab = replace(_lab(res, C.LAB_BY_CODE[code], sampled, lookup),
                          time=time_of(res.get("effectiveDateTime")))
            return [_unsettled(lab, res)]
    for code in codes & C.MARKERS_NOT_READ.keys():
        raise Skip(f"{code[1]} {C.MARKERS_NOT_READ[code]}: a NET marker in a quantity "
                   "trialsieve does not compare across results; not read for I3 (c)")
    if C.ECOG in codes:
        return [_unsettled(_ecog(res, sampled), res)]
    if C.PREGNANCY_STATUS in codes:
        answer = _answer_code(res, C.PREGNANCY_ANSWERS)
        if answer is None:
            raise Skip("pregnancy status unknown")
        return [Finding(_src(res), "pregnant", answer, when, display="pregnancy status",
                        time=time_of(res.get("effectiveDateTime")))]
    if codes & C.PATHOLOGY_REPORTS:
        return [_histology(res, when, codings(res.get("valueCodeableConcept"),
                                              "valueCodeableConcept"))]
    for system, question in codes:
        if system == C.PROJECT and question in C.ATTESTATIONS:
            return [_attestation(res, question, when)]
    raise NotRelevant("not an observation the criteria read")


# Statuses of a result that is final: amended and corrected (and appended) replace an
# earlier final one. A preliminary result does not decide (notes, "Results").
FINAL_STATUS = {"final", "amended", "corrected", "appended"}


def _unsettled(fact: LabResult | Ecog, res: dict) -> LabResult | Ecog:
    """A result that cannot decide though it may be the newest: no date of the sample
    (it cannot show freshness), or preliminary. Kept with its problem, like a value that
    cannot be read, so that no older result decides in its place."""
    if fact.problem:
        return fact
    if fact.date is None:
        why = "effective[x]: no date of the sample" + (
            " (issued alone does not date it)" if "issued" in res else "")
        return replace(fact, problem=f"{why}: it cannot show freshness")
    if res.get("status") == "preliminary":
        return replace(fact, problem="status: preliminary: await the final result")
    return fact


def _lab(res: dict, test: C.LabTest, when: Any, lookup: Lookup) -> LabResult:
    src = _src(res)
    if "valueQuantity" in res:
        try:
            return _quantity(res, src, test, when, lookup)
        except FieldError as exc:
            # Kept as unreadable: when it is the newest, an older result never decides.
            return LabResult(src, test.key, when, None, "",
                             problem=f"{exc.field}: {exc} (for {test.label})")
    coded = tuple(codings(res.get("valueCodeableConcept"), "valueCodeableConcept"))
    coded += tuple(codings(res.get("interpretation", [{}])[0] if isinstance(
        res.get("interpretation"), list) and res["interpretation"] else None, "interpretation"))
    if "valueString" in res and isinstance(res["valueString"], str):
        coded += ((C.PROJECT, res["valueString"].strip().lower()),)
    if not coded:
        # A result without a value (dataAbsentReason, empty) still is the newest result
        # of its test: it must not let an older one decide.
        why = concept_text(res.get("dataAbsentReason")) or "empty"
        return LabResult(src, test.key, when, None, "", problem=f"value: no value ({why})")
    return LabResult(src, test.key, when, None, "", coded_value=coded)


COMPARATORS = ("<", "<=", ">=", ">")  # FHIR Quantity.comparator; anything else is damage


def _quantity(res: dict, src: str, test: C.LabTest, when: Any, lookup: Lookup) -> LabResult:
    """A numeric result, converted to the test's unit and checked against what is possible
    (plausibility.LABS); FieldError names the field that cannot be read."""
    q = get_dict(res, "valueQuantity")
    value = _number(q, "value", "valueQuantity")
    unit = _str(q, "code", "valueQuantity") or _str(q, "unit", "valueQuantity") or ""
    comparator = _str(q, "comparator", "valueQuantity")
    if value is None:
        raise FieldError("valueQuantity.value", "missing")
    if comparator is not None and comparator not in COMPARATORS:
        raise FieldError("valueQuantity.comparator", f"{comparator!r} is not one of "
                         f"{', '.join(COMPARATORS)}")
    std = _plausible(value, unit, test, "valueQuantity")
    high, ref_unit, ref_problem = _ref_high(res, lookup, when)
    std_high = None
    if high is not None:
        std_high = _plausible(high, ref_unit or unit, test, "referenceRange.high")
        if std_high == 0:
            raise FieldError("referenceRange.high.value", "an upper limit of normal of 0")
    return LabResult(src, test.key, when, value, unit, comparator, high, ref_unit, (), std,
                     std_high, ref_problem=ref_problem)


def _plausible(value: float, unit: str, test: C.LabTest, path: str) -> float:
    """`value` in the test's unit, if it is a value a patient can have."""
    if not unit:
        raise FieldError(f"{path}.code", "no unit")
    try:
        std = convert(value, unit, test.unit, test.molar_mass)
    except UnitError as exc:
        raise FieldError(f"{path}.code", str(exc)) from exc
    why = LABS[test.key].problem(std)
    if why:
        raise FieldError(f"{path}.value", f"{_shown(value, unit)}: {why}")
    return std


def _shown(value: float, unit: str) -> str:
    return f"{value:g} {unit[:40]}"


def _number(obj: dict, key: str, path: str) -> float | None:
    """get_number, with the error naming the full field path (valueQuantity.value)."""
    try:
        return get_number(obj, key)
    except FieldError as exc:
        raise FieldError(f"{path}.{exc.field}", str(exc)) from exc


def _str(obj: dict, key: str, path: str) -> str | None:
    """get_str, with the error naming the full field path (valueQuantity.code)."""
    try:
        return get_str(obj, key)
    except FieldError as exc:
        raise FieldError(f"{path}.{exc.field}", str(exc)) from exc


def _ref_high(res: dict, lookup: Lookup, when: date | None
              ) -> tuple[float | None, str | None, str | None]:
    """The upper limit of normal that applies to the patient, its unit, and why there is
    none when several differ: the range whose appliesTo (sex) and age match the patient,
    else the one for everyone, else the only one (notes, "Results"). Never the first of
    ranges that differ (a man's ALT limit for a woman)."""
    found = []
    for rr in get_list(res, "referenceRange"):
        if isinstance(rr, dict) and isinstance(rr.get("high"), dict):
            high, path = rr["high"], "referenceRange.high"
            found.append(((_number(high, "value", path),
                           _str(high, "code", path) or _str(high, "unit", path)), rr))
    if len({limit for limit, _ in found}) <= 1:
        return (*found[0][0], None) if found else (None, None, None)
    sex, age = _sex_and_age(res, lookup, when)
    fits = [limit for limit, rr in found if reference_range.applies(rr, sex, age) is True]
    fits = fits or [limit for limit, rr in found if reference_range.for_everyone(rr)]
    if len(set(fits)) == 1:
        return (*fits[0], None)
    return None, None, ("reference ranges differ and none is chosen for this patient "
                        "(appliesTo sex or age)")


def _sex_and_age(res: dict, lookup: Lookup, when: date | None
                 ) -> tuple[str | None, float | None]:
    """The patient's administrative gender and age in years on the result's date."""
    patient = lookup(reference_id(res.get("subject")) or "") or {}
    if patient.get("resourceType") != "Patient":
        return None, None
    sex = patient.get("gender") if isinstance(patient.get("gender"), str) else None
    try:  # the Patient's own damage is reported where the Patient is read
        born = parse_date_span(patient.get("birthDate"), "birthDate")
    except FieldError:
        born = None
    age = None
    if born and when:
        age = reference_range.age_years(born[1], when)  # the youngest it may be
    return sex, age


def _answer_code(res: dict, table: dict) -> Any:
    """The answer of a LOINC answer list (LA codes): only with the LOINC system."""
    for system, code in codings(res.get("valueCodeableConcept"), "valueCodeableConcept"):
        if system == C.LOINC and code in table:
            return table[code]
    return None


def _ecog(res: dict, when: Any) -> Ecog:
    """An ECOG whose score cannot be read is kept with its problem: when it is the newest,
    it must not let an older score decide (notes, "Dates")."""
    score = _answer_code(res, C.ECOG_ANSWERS)
    if score is not None:
        return Ecog(_src(res), when, score)
    if "valueInteger" in res:
        value = res["valueInteger"]
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 5:
            return Ecog(_src(res), when, value)
        return Ecog(_src(res), when, None, f"valueInteger: ECOG must be 0-5, found {value!r}")
    if "valueCodeableConcept" in res:
        shown = concept_text(res.get("valueCodeableConcept")) or "no code"
        return Ecog(_src(res), when, None, f"valueCodeableConcept: not an ECOG answer "
                    f"({shown})")
    why = concept_text(res.get("dataAbsentReason")) or "empty"
    return Ecog(_src(res), when, None, f"value: no ECOG value ({why})")


def _histology(res: dict, when: Any, morph: list[tuple[str, str]]) -> Histology:
    """What a pathology result proves: a neuroendocrine neoplasm only by its own morphology
    code; the WHO grade and Ki-67 from its components (mCODE Histologic Grade, LOINC)."""
    reads = [C.tumour_code(system, code) for system, code in morph]
    net = True if any(t and t.net for t in reads) else (
        False if any(s in (C.ICDO3, C.ICD10, C.ICD10CM) for s, _ in morph) else None)
    diff = next((t.differentiation for t in reads if t and t.differentiation == "poor"),
                next((t.differentiation for t in reads if t and t.differentiation), None))
    grade, ki67 = None, None
    for i, comp in enumerate(get_list(res, "component")):
        if not isinstance(comp, dict):
            raise FieldError(f"component[{i}]", "expected an object")
        codes = set(codings(comp.get("code"), f"component[{i}].code"))
        if C.HISTOLOGIC_GRADE in codes:
            value = codings(comp.get("valueCodeableConcept"), f"component[{i}].value")
            grade = next((C.WHO_GRADES[c] for c in value if c in C.WHO_GRADES), None)
        elif C.KI67 in codes:
            q = get_dict(comp, "valueQuantity")
            ki67 = _number(q, "value", f"component[{i}].valueQuantity")
            if ki67 is not None and (_str(q, "code", f"component[{i}].valueQuantity")
                                     or "%") != "%":
                raise FieldError(f"component[{i}].valueQuantity.code", "Ki-67 is a %")
    concept = res.get("valueCodeableConcept") or next(iter(get_list(res, "conclusionCode")),
                                                      None)
    return Histology(_src(res), when, diff if net else None, grade,
                     concept_text(concept) or res.get("conclusion") or "pathology result",
                     net, ki67)


def pathology_report(res: dict, lookup: Lookup) -> list[Fact]:
    """A DiagnosticReport: a pathology report (its coded conclusion) or an imaging study."""
    if set(codings(res.get("code"), "code")) & C.PATHOLOGY_REPORTS:
        check_status(res, {"entered-in-error", "cancelled", "registered"})
        when = effective(res, "effective")[0] or parse_date(res.get("issued"), "issued")
        morph = [c for i, cc in enumerate(get_list(res, "conclusionCode"))
                 for c in codings(cc, f"conclusionCode[{i}]")]
        return [_histology(res, when, morph)]
    return imaging_mapping.study(res, lookup)


def _attestation(res: dict, question: str, when: Any) -> Attestation:
    answer = res.get("valueBoolean")
    if answer is None:
        yn = {c for _, c in codings(res.get("valueCodeableConcept"), "valueCodeableConcept")}
        answer = True if yn & {"Y", "yes", "LA33-6"} else False if yn & {"N", "no",
                                                                         "LA32-8"} else None
    if not isinstance(answer, bool):
        raise FieldError("valueBoolean", "an attestation needs a yes/no answer")
    performers = get_list(res, "performer")
    by = _who(performers[0]) if performers else None
    return Attestation(_src(res), question, answer, by, when,
                       time_of(res.get("effectiveDateTime")))


def _who(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    return ref.get("display") or ref.get("reference")


# --- Condition --------------------------------------------------------------------
UNCERTAIN = frozenset({"unconfirmed", "provisional", "differential"})  # verificationStatus

class _ConditionStatus(TypedDict):
    """Condition.clinicalStatus and abatement: a Finding's status fields."""

    status: str | None
    abated: dt.date | None
    stated: dt.date | None
    time: str | None
    certain: bool


def condition(res: dict, lookup: Lookup) -> list[Fact]:
    verification = codings(res.get("verificationStatus"), "verificationStatus")
    ver = {c for _, c in verification}
    if "entered-in-error" in ver:
        raise Skip("verificationStatus entered-in-error")
    refuted = "refuted" in ver
    codes = codings(res.get("code"), "code")
    recorded = parse_date(res.get("recordedDate"), "recordedDate")
    when = effective(res, "onset")[0] or recorded
    src, text = _src(res), concept_text(res.get("code"))
    facts: list[Fact] = []
    code_set = set(codes)
    # A statement is placed by when it was made (recordedDate), not by the onset of what
    # it describes; an unconfirmed, provisional or differential one neither proves nor
    # refutes (notes, "Real records").
    status = _ConditionStatus(status=_clinical_status(res), abated=_abated(res),
                              stated=recorded,  # None: placed by its onset
                              time=time_of(res.get("recordedDate")) if recorded else None,
                              certain=not ver & UNCERTAIN)
    for fact, table in (("pregnant", C.PREGNANT), ("lactating", C.LACTATING),
                        ("brain_metastases", C.BRAIN_METASTASIS)):
        if code_set & table:
            facts.append(Finding(src, fact, not refuted, when, _controlled(res), text,
                                 **status))
    if code_set & C.NOT_PREGNANT and not refuted:
        facts.append(Finding(src, "pregnant", False, when, display=text, **status))
    if code_set & C.POSTMENOPAUSAL and not refuted:
        # "not of childbearing potential" is what is present (menopause, sterility)
        facts.append(Finding(src, "childbearing_potential", False, when, display=text,
                             **status))
    if code_set & C.METASTASIS and not refuted:
        facts.append(Finding(src, "metastatic", True, when, display=text, **status))
    if refuted:
        if facts:
            return facts  # a refuted condition is an explicit negative
        raise Skip("verificationStatus refuted")
    tumour = _tumour(res, codes, when, text)
    facts += [tumour] if tumour else []
    if not facts:
        raise NotRelevant("not a condition the criteria read")
    return facts


def _clinical_status(res: dict) -> str | None:
    """Condition.clinicalStatus (active, recurrence, relapse, inactive, remission,
    resolved), read by record.condition_present."""
    return next((c for _, c in codings(res.get("clinicalStatus"), "clinicalStatus")), None)


def _abated(res: dict) -> date | None:
    """The last possible day of Condition.abatement[x] (dateTime, possibly partial, or
    Period); abatementString/Age/Range give no date."""
    _, end, _ = effective_spans(res, "abatement")
    return end[1] if end else None


def _controlled(res: dict) -> bool | None:
    for ext in get_list(res, "extension"):
        if isinstance(ext, dict) and ext.get("url") == C.PROJECT + "/controlled":
            value = ext.get("valueBoolean")
            if not isinstance(value, bool):
                raise FieldError("extension.valueBoolean", f"expected true/false, found "
                                 f"{type(value).__name__}")
            return value
    clinical = {c for _, c in codings(res.get("clinicalStatus"), "clinicalStatus")}
    if clinical & {"remission", "inactive", "resolved"}:
        return True  # judgement: treated brain metastases in remission are controlled
    return None


def _tumour(res: dict, codes: list, when: Any, text: str) -> Diagnosis | None:
    reads = [t for t in (C.tumour_code(s, c) for s, c in codes) if t is not None]
    if not reads:
        return None
    site = next((t.site for t in reads if t.site), None)
    gep = next((t.gep for t in reads if t.gep is not None), None)
    for bs in get_list(res, "bodySite"):
        for s, c in codings(bs, "bodySite"):
            organ, is_gep = C.topography_site(s, c)
            if is_gep is not None:
                site, gep = organ, is_gep
    diff = next((t.differentiation for t in reads if t.differentiation == "poor"),
                next((t.differentiation for t in reads if t.differentiation), None))
    advanced = True if any(t.metastatic for t in reads) else None
    for stage in get_list(res, "stage"):
        if isinstance(stage, dict) and set(codings(stage.get("summary"), "stage.summary")) & (
                C.ADVANCED_STAGE):
            advanced = True
    return Diagnosis(_src(res), text, when, True, site, gep, diff, advanced)


# --- Medicines --------------------------------------------------------------------
# A drug only planned or not taken is no exposure (notes, "Exposures in time"): I4 needs a
# therapy received, and a wash-out runs from a dose given.
PLANNED_STATUS = {"intended"}


def medication(res: dict, lookup: Lookup) -> list[Fact]:
    status = check_status(res, VOID_STATUS | {"draft", "unknown"})
    concept = res.get("medicationCodeableConcept")
    med = None
    if concept is None and "medicationReference" in res:
        med = _medication(res, lookup)
        concept = med.get("code")
    codes = codings(concept, "medication[x]")
    drug_class = C.drug_class(codes)
    if drug_class is None:
        raise NotRelevant("not a drug the criteria read")
    rtype = res["resourceType"]
    if rtype == "MedicationRequest":
        # A prescription says what was planned, not what was given (notes).
        raise Skip("a prescription (MedicationRequest): planned, not shown received")
    if status in PLANNED_STATUS:
        raise Skip(f"status {status}: planned, not received")
    start_span, end_span, field = effective_spans(res, "effective")
    _check_period(start_span, end_span, field)
    one_date = not field.endswith("Period")
    single = rtype == "MedicationAdministration" and one_date
    asserted = parse_date(res.get("dateAsserted"), "dateAsserted")
    if rtype == "MedicationStatement" and status == "active":
        # Active with one date (effective[x] or only dateAsserted): taken from that date
        # up to the screening date, not a single dose (notes, "Exposures in time").
        if one_date:
            end_span = None
        if start_span is None and asserted is not None:
            start_span = (asserted, asserted)
    name = concept_text(concept) or "medicine"
    form = _ssa_form(res, med, codes, name) if drug_class == "ssa" else None
    # A partial date keeps both ends: a wash-out runs from the latest possible last dose,
    # and I4 measures its 12 weeks from the latest possible start.
    start = start_span[0] if start_span else None
    start_latest = start_span[1] if start_span and start_span[1] != start_span[0] else None
    end = end_span[0] if end_span else None
    end_latest = end_span[1] if end_span and end_span[1] != end_span[0] else None
    return [Exposure(_src(res), name, drug_class, start, end, status, form, single,
                     end_latest, asserted, start_latest)]


def _check_period(start: Any, end: Any, field: str) -> None:
    """A period that ends before it starts is damaged: set aside with a warning (the reader
    turns FieldError into one), never read as real (notes, "Exposures in time")."""
    if start is not None and end is not None and end[1] < start[0]:
        raise FieldError(f"{field}.end", f"ends ({end[0]}) before it starts ({start[0]}): "
                         "damaged period")


def _medication(res: dict, lookup: Lookup) -> dict:
    """The Medication a reference names: contained ("#id") or elsewhere in the input."""
    ref = get_dict(res, "medicationReference")
    rid = reference_id(ref) or ""
    contained = [c for c in get_list(res, "contained") if isinstance(c, dict)]
    med = next((c for c in contained if "#" + str(c.get("id")) == rid), None) or lookup(rid)
    if not isinstance(med, dict):
        raise Skip(f"medicationReference {ref.get('reference')!r} is not in the input: "
                   "the drug is unknown")
    return med


def _ssa_form(res: dict, med: dict | None, codes: list, name: str) -> str | None:
    """Long- or short-acting: project code or RxNorm product, then product name, route,
    dosing interval.

    The product name is matched by whole words ("LAR", "depot", "Autogel"), never by
    letters inside a word ("regular" is not "LAR")."""
    for code in codes:
        if code in C.SSA_FORM_CODES:
            return C.SSA_FORM_CODES[code]
        if code[0] == C.RXNORM and C.rxnorm_product_form(code[1]):
            return C.rxnorm_product_form(code[1])
    words = re.findall(r"[a-z0-9]+", name.lower())
    if any(w in C.SSA_LONG_PRODUCTS for w in words):
        return "long"
    dosages = get_list(res, "dosage") + ([res["dosage"]] if isinstance(
        res.get("dosage"), dict) else [])
    for dosage in dosages:
        if isinstance(dosage, dict) and set(codings(dosage.get("route"), "dosage.route")) & (
                C.ROUTE_INTRAMUSCULAR):
            return "long"
    for dosage in dosages:
        repeat = get_dict(get_dict(dosage, "timing"), "repeat") if isinstance(
            dosage, dict) else {}
        every = _interval_days(repeat)
        if every is not None and every >= C.SSA_LONG_INTERVAL_DAYS:
            return "long"
        if every is not None and every <= C.SSA_SHORT_INTERVAL_DAYS:
            return "short"
    return None


_UNIT_DAYS = {"s": 1 / 86400, "min": 1 / 1440, "h": 1 / 24, "d": 1, "wk": 7, "mo": 30,
              "a": 365}


def _interval_days(repeat: dict) -> float | None:
    """Days between doses of a Timing.repeat (period / frequency), None when not given."""
    # Each field is type-checked (a fuzzed periodUnit object was a TypeError here): damage
    # is a FieldError naming the field, which sets the resource aside with a warning.
    path = "dosage.timing.repeat"
    period = _number(repeat, "period", path)
    unit = _str(repeat, "periodUnit", path)
    if period is None or unit not in _UNIT_DAYS:
        return None
    frequency = _number(repeat, "frequency", path) or 1
    return period * _UNIT_DAYS[unit] / frequency


# --- Procedure --------------------------------------------------------------------
class _Performed(TypedDict):
    """When a procedure was performed: ProcedureRecord's date fields."""

    date: dt.date | None
    start: dt.date | None
    date_latest: dt.date | None
    ongoing: bool
    open_end: bool


def procedure(res: dict, lookup: Lookup) -> list[Fact]:
    status = check_status(res, VOID_STATUS | {"preparation", "unknown"})
    codes = set(codings(res.get("code"), "code"))
    cats = set(codings(res.get("category"), "category"))
    both = codes | cats
    start_span, end_span, field = effective_spans(res, "performed")
    _check_period(start_span, end_span, field)
    last = end_span or start_span  # the last day performed (a partial date: its days)
    # In progress: ongoing at the screening date, its end (if any) a planned one; the
    # engine places it in time by its start, not by that planned end.
    ongoing = status == "in-progress"
    when = _Performed(date=last[0] if last else None,
                      start=start_span[0] if start_span else None,
                      date_latest=last[1] if last and last[1] != last[0] else None,
                      ongoing=ongoing,
                      # a period with a start and no end, not in progress: ended some day
                      # from its start to the screening date (rules.timing reads it)
                      open_end=field.endswith("Period") and end_span is None
                      and start_span is not None and not ongoing)
    text = concept_text(res.get("code")) or "procedure"
    src = _src(res)
    sites = {c for bs in get_list(res, "bodySite") for c in codings(bs, "bodySite")}
    if both & C.RADIONUCLIDE_THERAPY:
        return [ProcedureRecord(src, text, "radionuclide", **when)]
    if both & C.RADIOTHERAPY:
        kidneys = _kidneys(res)
        share = None
        targets: list[str] = []
        for ext in get_list(res, "extension"):
            if isinstance(ext, dict) and ext.get("url") == C.MARROW_SHARE_EXT:
                share = get_number(ext, "valueDecimal")
            if isinstance(ext, dict) and ext.get("url") == C.TARGET_BODY_STRUCTURE_EXT:
                targets += _body_structure_ids(ext.get("valueReference"), lookup)
        named = tuple(concept_text(bs).lower() for bs in get_list(res, "bodySite")
                      if concept_text(bs))
        return [ProcedureRecord(src, text, "radiotherapy", major=None, kidneys_in_field=kidneys,
                                marrow_share=share, external_beam=True, sites=named,
                                targets=tuple(targets), site_codes=tuple(sorted(sites)),
                                **when)]
    if both & C.EMBOLISATION:
        return [ProcedureRecord(src, text, "embolisation", site_codes=tuple(sorted(sites)),
                                radioembolisation=bool(both & C.RADIOEMBOLISATION), **when)]
    if both & C.SURGERY:
        major = True if both & C.MAJOR_SURGERY else False if both & C.MINOR_SURGERY else None
        return [ProcedureRecord(src, text, "surgery", major=major, **when)]
    if both & C.ROUTINE_PROCEDURES:
        raise NotRelevant("a routine assessment, screening or test: neither surgery nor "
                          "anticancer therapy")
    # A code no table reads is not a "no": in an E2/E3 window it leaves the criterion
    # unknown, naming the record (notes, "A code the program cannot read").
    return [ProcedureRecord(src, text, "other", **when)]


def _kidneys(res: dict) -> bool | None:
    """Kidneys in the field: True when a site is a kidney, False when every site is one
    the program places outside them, None otherwise (a local code, an uncoded site, a
    region that may hold a kidney): "a site it cannot place" is not a "no" (notes)."""
    reads = []
    for bs in get_list(res, "bodySite"):
        codes = codings(bs, "bodySite")
        known = [C.kidney_site(s, c) for s, c in codes]
        reads.append(True if True in known else False if False in known else None)
    if True in reads:
        return True
    return False if reads and all(r is False for r in reads) else None


def _body_structure_ids(ref: Any, lookup: Lookup) -> list[str]:
    """The referenced BodyStructure ("BodyStructure/id") and its lesion identifier
    ("system|value"): a lesion is the same lesion only by system and value."""
    rid = reference_id(ref)
    if rid is None:
        raise FieldError("extension.valueReference", "expected a BodyStructure reference")
    identifier = imaging_mapping.lesion_identifier(lookup(rid) or {})
    return [f"BodyStructure/{rid}"] + ([identifier] if identifier else [])


# --- Consent and questionnaires ---------------------------------------------------
def consent(res: dict, lookup: Lookup) -> list[Fact]:
    """A Consent: whether it is a research consent (scope or category) and which studies
    it names: the ResearchStudy of its provision (consent-ResearchStudyContext extension,
    by the study's identifiers or the reference's own identifier), or a policy URI whose
    last path segment is a trial identifier (the registry page of the study)."""
    status = check_status(res, {"entered-in-error", "rejected", "inactive", "draft", "proposed"})
    when = parse_date(res.get("dateTime"), "dateTime")
    kinds = set(codings(res.get("scope"), "scope"))
    for i, cat in enumerate(get_list(res, "category")):
        kinds |= set(codings(cat, f"category[{i}]"))
    studies: list[str] = []
    provision = get_dict(res, "provision")
    for ext in get_list(provision, "extension"):
        if isinstance(ext, dict) and ext.get("url") == C.CONSENT_STUDY_EXT:
            studies += _study_ids(ext.get("valueReference"), lookup)
    for policy in get_list(res, "policy"):
        uri = get_str(policy, "uri") if isinstance(policy, dict) else None
        if uri:
            studies.append(uri.rstrip("/").rsplit("/", 1)[-1])
    # provision.type "deny": the patient refused what the provision names
    permit = get_str(provision, "type") != "deny"
    return [ConsentRecord(_src(res), when, status, bool(kinds & C.CONSENT_RESEARCH),
                          tuple(dict.fromkeys(studies)), permit,
                          time_of(res.get("dateTime")))]


def _study_ids(ref: Any, lookup: Lookup) -> list[str]:
    if not isinstance(ref, dict):
        raise FieldError("provision.extension.valueReference", "expected a Reference")
    ids = [ref["identifier"].get("value")] if isinstance(ref.get("identifier"), dict) else []
    study = lookup(reference_id(ref) or "") if ref.get("reference") else None
    if study:
        ids += [i.get("value") for i in get_list(study, "identifier") if isinstance(i, dict)]
    return [i for i in ids if isinstance(i, str)]


def questionnaire_response(res: dict, lookup: Lookup) -> list[Fact]:
    """The answers of a QuestionnaireResponse to the project's questions, nested items
    (groups) read like top-level ones. Answers to another study's questionnaire settle
    nothing here: one naming a questionnaire is read only when it is the project's."""
    check_status(res, {"entered-in-error", "stopped", "in-progress"})
    named = get_str(res, "questionnaire")
    if named and not named.startswith(C.PROJECT_BASE):
        raise Skip(f"answers to another questionnaire ({named}): not this study's")
    when = parse_date(res.get("authored"), "authored")
    by, at = _who(res.get("author")), time_of(res.get("authored"))
    facts = [Attestation(f"{_src(res)}#{link}", link, value, by, when, at)
             for link, value in _answers(get_list(res, "item"), "item")]
    if not facts:
        raise Skip("no attestation items")
    return facts


def _answers(items: list, path: str) -> list[tuple[str, bool]]:
    """(linkId, yes/no) of every item that asks one of the project's questions, at any
    depth (item.item, and items nested under an answer)."""
    found: list[tuple[str, bool]] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        where = f"{path}[{i}]"
        answers = get_list(item, "answer")
        if item.get("linkId") in C.ATTESTATIONS:
            value = answers[0].get("valueBoolean") if answers and isinstance(
                answers[0], dict) else None
            if not isinstance(value, bool):
                raise FieldError(f"{where}.answer.valueBoolean", "expected true or false")
            found.append((item["linkId"], value))
        found += _answers(get_list(item, "item"), f"{where}.item")
        for j, answer in enumerate(answers):
            if isinstance(answer, dict):
                found += _answers(get_list(answer, "item"), f"{where}.answer[{j}].item")
    return found


MAPPERS: dict[str, Callable[[dict, Lookup], list[Fact]]] = {
    "Observation": observation,
    "Condition": condition,
    "MedicationStatement": medication,
    "MedicationAdministration": medication,
    "MedicationRequest": medication,
    "Procedure": procedure,
    "Consent": consent,
    "QuestionnaireResponse": questionnaire_response,
    "DiagnosticReport": pathology_report,
    "ImagingStudy": imaging_mapping.study,
}
