"""Imaging in FHIR: studies (DiagnosticReport or ImagingStudy), lesion measurements (mCODE
TumorSize focused on a Tumor BodyStructure), marrow findings and NET symptoms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from trialsieve import codes as C
from trialsieve.clinical.recist import NONTARGET_STATUSES
from trialsieve.fhir.errors import FieldError, NotRelevant, Skip
from trialsieve.fhir.values import (
    check_status,
    codings,
    concept_text,
    effective,
    get_dict,
    get_list,
    get_number,
    get_str,
    parse_date,
    reference_id,
)
from trialsieve.plausibility import MEASURES
from trialsieve.record import Lesion, Study, Symptom
from trialsieve.units import UnitError, convert


@dataclass(frozen=True)
class MarrowFinding:
    source: str
    study: str
    present: bool


def _src(res: dict) -> str:
    return f"{res['resourceType']}/{res.get('id', '?')}"


def study(res: dict, lookup: Any) -> list:
    """A DiagnosticReport or ImagingStudy whose code says CT, MRI or SSTR imaging."""
    check_status(res, {"entered-in-error", "cancelled", "registered"})
    found = set(codings(res.get("code"), "code"))
    series = [s for s in get_list(res, "series") if isinstance(s, dict)]
    # ImagingStudy.modality and series.modality are Codings
    for m in get_list(res, "modality") + [s.get("modality") for s in series]:
        if isinstance(m, dict) and isinstance(m.get("code"), str):
            found.add((m.get("system") or "", m["code"]))
    for pc in get_list(res, "procedureCode"):
        found |= set(codings(pc, "procedureCode"))
    # A project code (SSTR PET) wins over the DICOM modality of the same study (CT), and
    # a CT or MRI over an X-ray series of the same study (a scout view).
    kinds = sorted({C.STUDY_MODALITIES[c] for c in found if c in C.STUDY_MODALITIES},
                   key=lambda k: (not k.startswith("SSTR"), k == "XR", k))
    if not kinds:
        raise NotRelevant("not an imaging study the criteria read")
    kind = kinds[0]
    regions, unplaced = study_regions(res, series, found)
    if kind == "XR" and C.CHEST not in regions:
        raise Skip("an X-ray not recorded as of the chest (" + (", ".join(
            regions + unplaced) or "region not recorded") + "): RECIST 1.1 measures lesions "
            "on a chest X-ray only")
    when = effective(res, "effective")[0] or parse_date(res.get("started"), "started")
    thickness = None
    for ext in get_list(res, "extension"):
        if isinstance(ext, dict) and ext.get("url") == C.SLICE_THICKNESS_EXT:
            thickness = _measure(get_number(ext, "valueDecimal"), "slice_thickness_mm",
                                 "extension.valueDecimal")
    marrow = None
    conclusion = {c for cc in get_list(res, "conclusionCode")
                  for c in codings(cc, "conclusionCode")}
    if C.MARROW_INFILTRATION in conclusion:
        marrow = True
    if (C.PROJECT, "no-diffuse-marrow-infiltration") in conclusion:
        marrow = False
    tracers = sorted({C.STUDY_TRACERS[c] for c in found if c in C.STUDY_TRACERS})
    if len(tracers) > 1:
        raise FieldError("code", f"two tracers for one study: {', '.join(tracers)}")
    return [Study(_src(res), when, kind, thickness, (), marrow,
                  tracers[0] if tracers else None, regions, unplaced)]


def study_regions(res: dict, series: list[dict], found: set
                  ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The body regions a study covers (codes.STUDY_REGIONS), from its series' bodySite
    (Coding), its bodySite extension, and its own codes (procedureCode, DiagnosticReport
    code: a LOINC chest X-ray names its region); and the body-site codes that cannot be
    placed, "system|code" (the study may cover anything there)."""
    sites: set = set()
    for i, s in enumerate(series):
        site = s.get("bodySite")
        if isinstance(site, dict) and isinstance(site.get("code"), str):
            sites.add((site.get("system") or "", site["code"]))
        elif site is not None:
            raise FieldError(f"series[{i}].bodySite", "expected a Coding")
    for ext in get_list(res, "extension"):
        if isinstance(ext, dict) and ext.get("url") == C.BODY_SITE_EXT:
            sites |= set(codings(ext.get("valueCodeableConcept"),
                                 "extension.valueCodeableConcept"))
    regions = sorted({r for c in sites | found for r in C.STUDY_REGIONS.get(c, ())})
    unplaced = sorted(f"{system}|{code}" for system, code in sites
                      if (system, code) not in C.STUDY_REGIONS)
    return tuple(regions), tuple(unplaced)


def _study_ref(res: dict) -> str:
    for ref in get_list(res, "derivedFrom") + get_list(res, "partOf"):
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            rtype = ref["reference"].split("/")[-2] if "/" in ref["reference"] else ""
            return f"{rtype or 'DiagnosticReport'}/{reference_id(ref)}"
    raise FieldError("derivedFrom", "a lesion measurement must name its study (derivedFrom)")


def _mm(q: Any, field: str) -> float:
    if not isinstance(q, dict):
        raise FieldError(field, "expected a Quantity")
    value = get_number(q, "value")
    if value is None:
        raise FieldError(field + ".value", "missing")
    try:
        unit = get_str(q, "code") or get_str(q, "unit") or "mm"
    except FieldError as exc:
        raise FieldError(f"{field}.{exc.field}", str(exc)) from exc
    try:
        mm = convert(value, unit, "mm")
    except UnitError as exc:
        raise FieldError(field + ".code", str(exc)) from exc
    return _measure(mm, "diameter_mm", field + ".value")


def _suv(q: Any, field: str) -> float:
    """A standardized uptake value in g/mL. One written with an annotation only
    ("{SUVbw}") or no unit is read as g/mL: SUVbw is g/mL by definition (DICOM CID 85
    writes it "{SUVbw}g/ml")."""
    if not isinstance(q, dict):
        raise FieldError(field, "expected a Quantity")
    value = get_number(q, "value")
    if value is None:
        raise FieldError(field + ".value", "missing")
    unit = re.sub(r"^\{[^}]*\}", "", get_str(q, "code") or get_str(q, "unit") or "")
    try:
        suv = convert(value, unit, "g/mL") if unit not in ("", "1") else value
    except UnitError as exc:
        raise FieldError(field + ".code", f"{exc} (an SUV is in g/mL)") from exc
    return _measure(suv, "suv", field + ".value")


# a number, or None when the field is not given
_Number = TypeVar("_Number", bound=float | None)


def _measure(value: _Number, kind: str, field: str) -> _Number:
    """`value`, if it is a possible measurement of that kind (plausibility.MEASURES)."""
    why = None if value is None else MEASURES[kind].problem(value)
    if why:
        shown = f"{value:g}" if isinstance(value, float) else str(value)[:20]
        raise FieldError(field, f"{shown}: {why}")
    return value


def tumour_size(res: dict, lookup: Any) -> list:
    """mCODE TumorSize: the lesion is the focus BodyStructure, identified by its identifier."""
    focus = get_list(res, "focus")
    ref = reference_id(focus[0]) if focus else None
    body = lookup(ref) if ref else None
    if not body or body.get("resourceType") != "BodyStructure":
        raise FieldError("focus", "TumorSize must focus on a Tumor BodyStructure in the input")
    identifier = lesion_identifier(body)
    body_id = body.get("id") if isinstance(body.get("id"), str) and body.get("id") else None
    if identifier is None and body_id is None:
        raise FieldError("focus", "the lesion (BodyStructure) has no identifier or id")
    # without an identifier the BodyStructure id names the lesion (one resource, one lesion)
    lesion_id = identifier.split("|", 1)[1] if identifier else str(body_id)
    values: dict[str, Any] = {"organ": concept_text(body.get("location")) or "unknown",
                              "organ_codes": tuple(codings(body.get("location"), "location"))}
    for i, comp in enumerate(get_list(res, "component")):
        _component(comp, f"component[{i}]", values)
    return [Lesion(_src(res), _study_ref(res), lesion_id, identifier=identifier,
                   body=f"BodyStructure/{body_id}" if body_id else None, **values)]


def lesion_identifier(body: dict) -> str | None:
    """The first identifier of a BodyStructure with a value, as "system|value" (a lesion
    is matched across studies by system and value, never by the value alone)."""
    for i in get_list(body, "identifier"):
        if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"]:
            system = i.get("system") if isinstance(i.get("system"), str) else ""
            return f"{system}|{i['value']}"
    return None


def _component(comp: Any, field: str, values: dict) -> None:
    if not isinstance(comp, dict):
        raise FieldError(field, "expected an object")
    for system, code in codings(comp.get("code"), field + ".code"):
        if (system, code) in (C.LONGEST_DIMENSION,):
            values["longest_mm"] = _mm(comp.get("valueQuantity"), field + ".valueQuantity")
        elif (system, code) == C.OTHER_DIMENSION:
            values["short_axis_mm"] = _mm(comp.get("valueQuantity"), field + ".valueQuantity")
        elif (system, code) in C.SUV_CODES:
            values["suv_max"] = _suv(comp.get("valueQuantity"), field + ".valueQuantity")
        elif system == C.PROJECT and code in C.LESION_COMPONENTS:
            kind, name = C.LESION_COMPONENTS[code]
            values[name] = _typed(comp, kind, field)
            if name == "krenning":
                _measure(values[name], "krenning", field + ".valueInteger")
            if name == "nontarget_status" and values[name] not in NONTARGET_STATUSES:
                raise FieldError(field + ".valueCodeableConcept",
                                 f"not a non-target status: {values[name]!r}")


def _typed(comp: dict, kind: str, field: str) -> Any:
    if kind == "mm":
        return _mm(comp.get("valueQuantity"), field + ".valueQuantity")
    if kind == "int":
        v = comp.get("valueInteger")
        if not isinstance(v, int) or isinstance(v, bool):
            raise FieldError(field + ".valueInteger", f"expected an integer, found {v!r}")
        return v
    if kind == "bool":
        v = comp.get("valueBoolean")
        if not isinstance(v, bool):
            raise FieldError(field + ".valueBoolean", f"expected true/false, found {v!r}")
        return v
    code = next((c for _, c in codings(comp.get("valueCodeableConcept"), field)), None)
    return code.replace("-", "_") if code else None


def marrow(res: dict, lookup: Any) -> list:
    v = res.get("valueBoolean")
    if not isinstance(v, bool):
        raise FieldError("valueBoolean", "marrow infiltration needs true/false")
    return [MarrowFinding(_src(res), _study_ref(res), v)]


def symptom(res: dict, lookup: Any) -> list:
    """A symptom recording; over an effectivePeriod it is an episode: its end is kept (no
    end: ongoing), since "sustained more than 14 days" is read from it."""
    when, end, field = effective(res, "effective")
    values: dict[str, Any] = {}
    if field.endswith("Period"):
        if end is not None and when is not None and end < when:
            raise FieldError(field, f"the episode ends {end} before it starts {when}")
        values.update(end=end, ongoing=end is None)
    for i, comp in enumerate(get_list(res, "component")):
        field = f"component[{i}]"
        if not isinstance(comp, dict):
            raise FieldError(field, f"expected an object, found {type(comp).__name__}")
        for system, code in codings(get_dict(comp, "code"), f"{field}.code"):
            if (system, code) == (C.PROJECT, "daily-frequency"):
                q = get_dict(comp, "valueQuantity")
                values["frequency"] = _measure(get_number(q, "value"), "daily_frequency",
                                               f"{field}.valueQuantity.value")
            elif (system, code) == (C.PROJECT, "ctcae-grade"):
                values["grade"] = _measure(_typed(comp, "int", field), "ctcae_grade",
                                           f"{field}.valueInteger")
    coded = codings(res.get("code"), "code")
    name = concept_text(res.get("code")) or "symptom"
    key = f"{coded[0][0]}|{coded[0][1]}" if coded else symptom_name(name)
    return [Symptom(_src(res), name, when, key=key, **values)]


_SPELLINGS = {"flushes": "flushing", "flush": "flushing"}


def symptom_name(text: str) -> str:
    """One name whatever its spelling (notes, I3 c): lower case, the SNOMED semantic tag
    dropped, British "oe"/"ae" read as "e" (diarrhoea = diarrhea, oedema = edema)."""
    text = re.sub(r"\((finding|disorder|symptom)\)", " ", text.lower())
    words = [w.replace("oe", "e").replace("ae", "e") for w in re.findall(r"[a-z0-9]+", text)]
    return " ".join(_SPELLINGS.get(w, w) for w in words)
