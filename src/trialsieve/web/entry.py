"""Data entry: what the record cannot give, built as the FHIR resources of
docs/data-dictionary.md, with their author. Pure: form values in, resources out, or an
EntryError naming the field; nothing is built half-way.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from trialsieve.codes import ATTESTATIONS, LAB_TESTS, LOINC, PROJECT, UCUM
from trialsieve.units import UnitError, convert

YES_NO = (("yes", "yes"), ("no", "no"))
YES_NO_UNKNOWN = (("", "not stated"), ("yes", "yes"), ("no", "no"))
MODALITIES = (("mri", "MRI"), ("ct", "CT"), ("sstr-pet", "68Ga/64Cu SSTR PET/CT"),
              ("sstr-spect", "SSTR SPECT/CT"))
MARROW = (("", "not stated"), ("no-diffuse-marrow-infiltration", "no diffuse marrow "
          "infiltration"), ("diffuse-marrow-infiltration", "diffuse marrow infiltration"))
COMPARATORS = (("", "="), ("<", "<"), ("<=", "<="), (">=", ">="), (">", ">"))
MARKERS = ("chromogranin_a", "nse", "hiaa_24h")


class EntryError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text, number, date, time, select
    options: tuple[tuple[str, str], ...] = ()
    help: str = ""
    required: bool = True


@dataclass(frozen=True)
class EntryContext:
    patient_id: str  # FHIR Patient.id
    author: str  # "display name (role)"
    today: date
    now: datetime
    scans: tuple[tuple[str, str, date | None], ...] = ()  # (reference, label, date)
    lesions: dict[str, str] = field(default_factory=dict)  # lesion id -> BodyStructure id


@dataclass(frozen=True)
class EntryKind:
    key: str
    title: str
    permission: str
    intro: str
    fields: Callable[[EntryContext], tuple[Field, ...]]
    build: Callable[[dict[str, str], EntryContext], list[dict]]


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _date(values: dict[str, str], name: str, ctx: EntryContext) -> date:
    raw = values.get(name, "").strip()
    if not raw:
        raise EntryError(name, "a date is needed")
    try:
        d = date.fromisoformat(raw)
    except ValueError:
        raise EntryError(name, f"not a date (YYYY-MM-DD): {raw!r}") from None
    if d > ctx.today:
        raise EntryError(name, f"date in the future: {d} is after today ({ctx.today})")
    if d.year < 1900:
        raise EntryError(name, f"impossible date: {d}")
    return d


def _number(values: dict[str, str], name: str, lo: float | None = None,
            hi: float | None = None) -> float:
    v = _optional_number(values, name, lo, hi)
    if v is None:
        raise EntryError(name, "a value is needed")
    return v


def _optional_number(values: dict[str, str], name: str, lo: float | None = None,
                     hi: float | None = None) -> float | None:
    """The number typed in field `name`, None when it is left blank."""
    raw = values.get(name, "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        v = float(raw)
    except ValueError:
        raise EntryError(name, f"not a number: {raw!r}") from None
    if not math.isfinite(v):
        raise EntryError(name, f"not a number: {raw!r}")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        span = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise EntryError(name, f"impossible value {v:g}: must be {span}")
    return v


def _int(values: dict[str, str], name: str, lo: int, hi: int) -> int:
    v = _optional_int(values, name, lo, hi)
    if v is None:
        raise EntryError(name, "a value is needed")
    return v


def _optional_int(values: dict[str, str], name: str, lo: int, hi: int) -> int | None:
    v = _optional_number(values, name, lo, hi)
    if v is not None and v != int(v):
        raise EntryError(name, f"a whole number is needed, not {v:g}")
    return None if v is None else int(v)


def _choice(values: dict[str, str], name: str, options: tuple[tuple[str, str], ...]) -> str:
    v = values.get(name, "").strip()
    if v not in {k for k, _ in options}:
        raise EntryError(name, f"choose one of: {', '.join(label for _, label in options)}")
    return v


def _subject(ctx: EntryContext) -> dict:
    return {"reference": f"Patient/{ctx.patient_id}"}


def _observation(ctx: EntryContext, prefix: str, code: dict, on: date, **rest) -> dict:
    return {"resourceType": "Observation", "id": _new_id(prefix), "status": "final",
            "code": code, "subject": _subject(ctx), "effectiveDateTime": on.isoformat(),
            "issued": ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "performer": [{"display": ctx.author}], **rest}


def _quantity(value: float, unit: str) -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


# -- attestations ---------------------------------------------------------------------

QUESTIONS = tuple((q, question.text) for q, question in ATTESTATIONS.items())


def _attestation_fields(ctx: EntryContext) -> tuple[Field, ...]:
    return (Field("question", "Question", "select", QUESTIONS),
            Field("answer", "Answer", "select", YES_NO),
            Field("date", "Date the answer holds for", "date",
                  help="the day the investigator establishes it; not in the future"),
            Field("time", "Time (UTC, HH:MM)", "time", required=False,
                  help="empty: now when the date is today; it orders two answers of one "
                  "day (the later one decides)"))


def stated_at(values: dict[str, str], ctx: EntryContext, on: date) -> str:
    """When an answer is stated, as a FHIR dateTime: with the time of day typed, or the
    moment of entry when it holds for today, so that two answers entered the same day
    are ordered (the record reads the newest by when it was stated); a day in the past
    with no time typed stays a date."""
    raw = values.get("time", "").strip()
    if not raw:
        # the day is the screening's (a demo may fix it), the time the clock's
        return f"{on.isoformat()}T{ctx.now:%H:%M:%S}Z" if on == ctx.today \
            else on.isoformat()
    try:
        at = time.fromisoformat(raw)
    except ValueError:
        raise EntryError("time", f"not a time (HH:MM): {raw!r}") from None
    if on == ctx.now.date() and at > ctx.now.time():
        raise EntryError("time", f"time in the future: {raw} is after now "
                         f"({ctx.now:%H:%M} UTC)")
    return f"{on.isoformat()}T{at.strftime('%H:%M:%S')}Z"


def build_attestation(values: dict[str, str], ctx: EntryContext) -> list[dict]:
    q = _choice(values, "question", QUESTIONS)
    answer = _choice(values, "answer", YES_NO) == "yes"
    on = _date(values, "date", ctx)
    when = stated_at(values, ctx, on)
    code = {"coding": [{"system": PROJECT, "code": q, "display": ATTESTATIONS[q].text}]}
    res = _observation(ctx, "att", code, on, valueBoolean=answer)
    res["effectiveDateTime"] = when
    return [res]


# -- laboratory results and tumour markers --------------------------------------------

def _tests(keys: tuple[str, ...] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple((k, f"{t.label} ({t.unit})") for k, t in LAB_TESTS.items()
                 if (keys is None and k != "hcg_urine") or (keys and k in keys))


def _lab_fields(ctx: EntryContext, keys: tuple[str, ...] | None = None) -> tuple[Field, ...]:
    return (Field("test", "Test", "select", _tests(keys)),
            Field("date", "Date of the sample", "date"),
            Field("comparator", "Comparator", "select", COMPARATORS, required=False),
            Field("value", "Value", "number"),
            Field("unit", "Unit (UCUM)", help="e.g. g/dL, g/L, mmol/L, 10*9/L, umol/L, U/L, "
                  "%, mL/min/{1.73_m2}; converted to the unit the criterion reads"),
            Field("ref_high", "Reference range: upper limit (ULN)", "number", required=False,
                  help="needed for bilirubin, ALT and AST (the limits are multiples of it)"),
            Field("ref_unit", "Unit of the upper limit", required=False,
                  help="empty: the result's unit"))


def _convertible(name: str, unit: str, test_key: str) -> None:
    t = LAB_TESTS[test_key]
    try:
        convert(1.0, unit, t.unit, t.molar_mass)
    except UnitError as exc:
        raise EntryError(name, f"{exc} ({t.label} is read in {t.unit})") from None


def build_lab(values: dict[str, str], ctx: EntryContext,
              keys: tuple[str, ...] | None = None) -> list[dict]:
    key = _choice(values, "test", _tests(keys))
    t = LAB_TESTS[key]
    on = _date(values, "date", ctx)
    comparator = _choice(values, "comparator", COMPARATORS) if values.get("comparator") \
        else ""
    unit = values.get("unit", "").strip()
    if not unit:
        raise EntryError("unit", "a unit is needed")
    value = _number(values, "value", 0, 100 if unit == "%" else None)
    _convertible("unit", unit, key)
    q = _quantity(value, unit)
    if comparator:
        q = {"comparator": comparator, **q}
    rest: dict = {"valueQuantity": q}
    high = _optional_number(values, "ref_high", 0)
    if high is not None:
        ref_unit = values.get("ref_unit", "").strip() or unit
        _convertible("ref_unit", ref_unit, key)
        rest["referenceRange"] = [{"high": _quantity(high, ref_unit)}]
    system, code = sorted(t.codes, key=lambda c: (c[0] != LOINC, c))[0]
    return [_observation(ctx, "lab", {"coding": [{"system": system, "code": code,
                                                  "display": t.label}]}, on, **rest)]


# -- ECOG -----------------------------------------------------------------------------

def _ecog_fields(ctx: EntryContext) -> tuple[Field, ...]:
    return (Field("score", "ECOG performance status", "select",
                  tuple((str(i), str(i)) for i in range(6))),
            Field("date", "Date assessed", "date"))


def build_ecog(values: dict[str, str], ctx: EntryContext) -> list[dict]:
    score = _int(values, "score", 0, 5)
    on = _date(values, "date", ctx)
    return [_observation(ctx, "ecog", {"coding": [{"system": LOINC, "code": "89247-1"}]},
                         on, valueInteger=score)]


# -- symptom diary --------------------------------------------------------------------

def _symptom_fields(ctx: EntryContext) -> tuple[Field, ...]:
    return (Field("symptom", "Symptom", help="hormone-related, e.g. diarrhoea, flushing"),
            Field("date", "Date", "date"),
            Field("frequency", "Episodes per day", "number", required=False),
            Field("grade", "CTCAE v4.03 grade", "select",
                  (("", "not graded"),) + tuple((str(i), str(i)) for i in range(6)),
                  required=False))


def build_symptom(values: dict[str, str], ctx: EntryContext) -> list[dict]:
    name = values.get("symptom", "").strip()
    if not name:
        raise EntryError("symptom", "name the symptom")
    on = _date(values, "date", ctx)
    freq = _optional_number(values, "frequency", 0, 200)
    grade = _optional_int(values, "grade", 0, 5)
    if freq is None and grade is None:
        raise EntryError("frequency", "give the episodes per day, the grade, or both")
    comps: list[dict] = []
    if freq is not None:
        comps.append({"code": {"coding": [{"system": PROJECT, "code": "daily-frequency"}]},
                      "valueQuantity": _quantity(freq, "/d")})
    if grade is not None:
        comps.append({"code": {"coding": [{"system": PROJECT, "code": "ctcae-grade"}]},
                      "valueInteger": grade})
    category = [{"coding": [{"system": PROJECT, "code": "net-symptom"}]}]
    return [_observation(ctx, "sym", {"text": name}, on, category=category, component=comps)]


# -- imaging: scans and lesion measurements --------------------------------------------

def _scan_fields(ctx: EntryContext) -> tuple[Field, ...]:
    return (Field("modality", "Modality", "select", MODALITIES),
            Field("date", "Date of the scan", "date"),
            Field("marrow", "Conclusion on bone marrow", "select", MARROW, required=False))


def build_scan(values: dict[str, str], ctx: EntryContext) -> list[dict]:
    modality = _choice(values, "modality", MODALITIES)
    on = _date(values, "date", ctx)
    marrow = _choice(values, "marrow", MARROW) if values.get("marrow") else ""
    res = {"resourceType": "DiagnosticReport", "id": _new_id("scan"), "status": "final",
           "code": {"coding": [{"system": PROJECT, "code": modality}]},
           "subject": _subject(ctx), "effectiveDateTime": on.isoformat(),
           "issued": ctx.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
           "performer": [{"display": ctx.author}]}
    if marrow:
        res["conclusionCode"] = [{"coding": [{"system": PROJECT, "code": marrow}]}]
    return [res]


def _lesion_fields(ctx: EntryContext) -> tuple[Field, ...]:
    scans = tuple((ref, label) for ref, label, _ in ctx.scans)
    return (Field("scan", "Scan", "select", scans,
                  help="record the scan first if it is not listed"),
            Field("lesion", "Lesion identifier", help="the same identifier on every scan, "
                  "e.g. liver-1"),
            Field("organ", "Organ", required=False),
            Field("longest", "Longest diameter (mm)", "number", required=False),
            Field("short_axis", "Short axis (mm, lymph nodes)", "number", required=False),
            Field("transaxial", "Transaxial diameter on the CT of the PET/CT (mm)", "number",
                  required=False),
            Field("krenning", "Krenning uptake grade", "select",
                  (("", "not graded"),) + tuple((str(i), str(i)) for i in range(5)),
                  required=False),
            Field("target", "Target lesion (RECIST)", "select", YES_NO_UNKNOWN,
                  required=False),
            Field("nodal", "Lymph node", "select", YES_NO_UNKNOWN, required=False),
            Field("irradiated", "Previously irradiated", "select", YES_NO_UNKNOWN,
                  required=False))


def build_lesion(values: dict[str, str], ctx: EntryContext) -> list[dict]:
    scans = {ref: when for ref, _, when in ctx.scans}
    ref = values.get("scan", "")
    if ref not in scans:
        raise EntryError("scan", "choose a scan of this patient")
    lesion = values.get("lesion", "").strip()
    if not lesion or len(lesion) > 64:
        raise EntryError("lesion", "a lesion identifier (at most 64 characters) is needed")
    comps: list[dict] = []
    for name, code in (("longest", (LOINC, "33728-7")), ("short_axis", (LOINC, "33729-5")),
                       ("transaxial", (PROJECT, "transaxial-diameter"))):
        v = _optional_number(values, name, 0, 1000)
        if v is not None:
            comps.append({"code": {"coding": [{"system": code[0], "code": code[1]}]},
                          "valueQuantity": _quantity(v, "mm")})
    krenning = _optional_int(values, "krenning", 0, 4)
    if krenning is not None:
        comps.append({"code": {"coding": [{"system": PROJECT, "code": "krenning-grade"}]},
                      "valueInteger": krenning})
    for name, flag_code in (("target", "target"), ("nodal", "nodal"),
                            ("irradiated", "previously-irradiated")):
        flag = _choice(values, name, YES_NO_UNKNOWN) if values.get(name) else ""
        if flag:
            comps.append({"code": {"coding": [{"system": PROJECT, "code": flag_code}]},
                          "valueBoolean": flag == "yes"})
    if not comps:
        raise EntryError("longest", "give at least one measurement, grade or flag")
    out = []
    body_id = ctx.lesions.get(lesion)
    if body_id is None:
        body_id = _new_id("lesion")
        body = {"resourceType": "BodyStructure", "id": body_id,
                "identifier": [{"value": lesion}], "patient": _subject(ctx)}
        organ = values.get("organ", "").strip()
        if organ:
            body["location"] = {"text": organ}
        out.append(body)
    on = scans[ref] or ctx.today
    out.append(_observation(ctx, "size", {"coding": [{"system": LOINC, "code": "21889-1"}]},
                            on, focus=[{"reference": f"BodyStructure/{body_id}"}],
                            derivedFrom=[{"reference": ref}], component=comps))
    return out


KINDS: dict[str, EntryKind] = {k.key: k for k in (
    EntryKind("attestation", "Attestation", "attest",
              "An investigator's answer to a question the record cannot settle. The latest "
              "answer decides; an older one is listed as superseded.",
              _attestation_fields, build_attestation),
    EntryKind("lab", "Laboratory result", "enter",
              "One result with its unit and, where the criterion needs it, the upper limit "
              "of the laboratory's reference range.", _lab_fields, build_lab),
    EntryKind("marker", "Tumour marker", "enter",
              "A NET marker result (I3 biochemical progression: three rising measurements).",
              lambda ctx: _lab_fields(ctx, MARKERS),
              lambda values, ctx: build_lab(values, ctx, MARKERS)),
    EntryKind("ecog", "ECOG performance status", "enter", "ECOG 0-5 on a date.",
              _ecog_fields, build_ecog),
    EntryKind("symptom", "Symptom diary", "enter",
              "One day of a hormone-related symptom (I3 clinical progression).",
              _symptom_fields, build_symptom),
    EntryKind("scan", "Imaging scan", "enter",
              "A CT, MRI or SSTR PET/CT report; lesion measurements are added to it.",
              _scan_fields, build_scan),
    EntryKind("lesion", "Lesion measurement", "enter",
              "One lesion on one scan: diameters, uptake grade and flags.",
              _lesion_fields, build_lesion),
)}
