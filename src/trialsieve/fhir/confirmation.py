"""A suggestion confirmed: what a report's sentence states, as the coded FHIR the reader
reads (issue 21).

An investigator who confirms a sentence records, in their name, the coded fact it
states: a Condition with the tumour's ICD-O-3 morphology and ICD-10 site, a pathology
Observation with its WHO grade and Ki-67, an ECOG Observation, a pregnancy, lactation or
brain-metastases Condition (refuted when the sentence denies it), a postmenopausal
Condition, or a major operation or external-beam radiotherapy Procedure on its date. Each
points to the document (Observation.derivedFrom; Condition.evidence.detail; a Procedure
only through the span) and carries the sentence's
span (the extension TEXT_SPAN), so that the suggestion is shown confirmed; from then on
it decides like any entry, read by the same reader.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from trialsieve import codes as C
from trialsieve.record import Confirmation, Mention

TEXT_SPAN = C.PROJECT_BASE + "StructureDefinition/text-span"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
# The ICD-10 code of a NET by its primary site, where one says both (codes._icd10_net).
ICD10_NET_SITE = {"pancreas": "C25.4", "small intestine": "C7A.019", "ileum": "C7A.012",
                  "jejunum": "C7A.011", "duodenum": "C7A.010", "appendix": "C7A.020",
                  "caecum": "C7A.021", "colon": "C7A.029", "rectum": "C7A.026",
                  "stomach": "C7A.092"}
ECOG_ANSWER = {v: k for k, v in C.ECOG_ANSWERS.items()}
# The families a confirmation records; the others are settled by hand (an entry form).
CONFIRMABLE = frozenset({"net_diagnosis", "who_grade", "ki67", "primary_site",
                         "metastatic", "ecog", "pregnant", "breastfeeding",
                         "brain_metastases", "major_surgery", "radiotherapy",
                         "postmenopausal"})


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def span(m: Mention, stamp: str | None = None) -> dict:
    """The sentence a confirmed fact was read from: document, offsets, words; and when it
    was confirmed (a Condition's recordedDate is the fact's date, not the click's)."""
    return {"url": TEXT_SPAN, "extension": [
        {"url": "document", "valueReference": {"reference": m.document.split("#")[0]}},
        {"url": "part", "valueString": m.document},
        {"url": "start", "valueInteger": m.start}, {"url": "end", "valueInteger": m.end},
        {"url": "sentence", "valueString": m.sentence},
        *([{"url": "confirmed", "valueDateTime": stamp}] if stamp else [])]}


def _confirmed_at(res: dict) -> str | None:
    for ext in res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == TEXT_SPAN:
            return next((e.get("valueDateTime") for e in ext.get("extension") or []
                         if isinstance(e, dict) and e.get("url") == "confirmed"), None)
    return None


def confirmed_span(res: dict) -> str | None:
    """"DiagnosticReport/r1#text:0-56" of a resource a confirmation recorded, else None."""
    for ext in res.get("extension") or []:
        if isinstance(ext, dict) and ext.get("url") == TEXT_SPAN:
            parts = {e.get("url"): e for e in ext.get("extension") or [] if isinstance(e, dict)}
            try:
                return (f"{parts['part']['valueString']}#text:{parts['start']['valueInteger']}"
                        f"-{parts['end']['valueInteger']}")
            except (KeyError, TypeError):
                return None
    return None


def confirmed(res: dict) -> Confirmation | None:
    """The confirmation a resource records (a sentence's span, who, when), else None; a
    resource entered in error confirms nothing."""
    span_ = confirmed_span(res)
    if span_ is None or res.get("status") == "entered-in-error" or any(
            c.get("code") == "entered-in-error" for c in
            (res.get("verificationStatus") or {}).get("coding") or [] if isinstance(c, dict)):
        return None
    people = [res.get("recorder"), *(res.get("performer") or []), res.get("asserter")]
    by = next((p.get("display") or p.get("reference") for p in people
               if isinstance(p, dict) and (p.get("display") or p.get("reference"))), None)
    on = _confirmed_at(res) or next((res[k] for k in ("issued", "recordedDate")
                                     if isinstance(res.get(k), str)), None)
    return Confirmation(span_, f"{res.get('resourceType')}/{res.get('id', '?')}",
                        by if isinstance(by, str) else None, on)


def _value(ms: list[Mention], fact: str) -> object:
    return next((m.value for m in ms if m.fact == fact and m.affirmed
                 and m.value not in (None, "")), None)


def resources(mentions: list[Mention], patient_id: str, author: str, today: date,
              now: datetime) -> list[dict]:
    """The FHIR resources recording what one sentence's mentions state; [] when it
    states nothing this can record."""
    ms = [m for m in mentions if m.fact in CONFIRMABLE
          and (m.affirmed or set(m.modifiers) == {"negated"})]
    if not ms:
        return []
    first = ms[0]
    on = first.date if first.date and first.date <= today else today
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    base = {"subject": {"reference": f"Patient/{patient_id}"},
            "extension": [span(first, stamp)]}
    doc = {"reference": first.document.split("#")[0]}
    out: list[dict] = []

    def condition(prefix: str, code: dict, refuted: bool = False, **rest) -> dict:
        return {"resourceType": "Condition", "id": _id(prefix), **base,
                "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
                "verificationStatus": {"coding": [{"system": VERIFICATION, "code":
                                                   "refuted" if refuted else "confirmed"}]},
                "code": code, "recordedDate": on.isoformat(),
                "recorder": {"display": author}, "evidence": [{"detail": [doc]}], **rest}

    def observation(prefix: str, code: tuple[str, str], **rest) -> dict:
        return {"resourceType": "Observation", "id": _id(prefix), "status": "final", **base,
                "code": {"coding": [{"system": code[0], "code": code[1]}]},
                "effectiveDateTime": on.isoformat(), "issued": stamp,
                "performer": [{"display": author}], "derivedFrom": [doc], **rest}

    net = next((m for m in ms if m.fact == "net_diagnosis" and m.affirmed), None)
    if net is not None:
        out += _tumour(ms, net, condition, observation)
    for m in ms:
        denied = not m.affirmed
        if m.fact == "ecog" and not denied and isinstance(m.value, int | float) \
                and int(m.value) in ECOG_ANSWER:
            out.append(observation("ecog", C.ECOG, valueCodeableConcept={"coding": [
                {"system": C.LOINC, "code": ECOG_ANSWER[int(m.value)]}]}))
        elif m.fact in ("pregnant", "breastfeeding", "brain_metastases"):
            table = {"pregnant": C.PREGNANT, "breastfeeding": C.LACTATING,
                     "brain_metastases": C.BRAIN_METASTASIS}[m.fact]
            system, code = sorted(c for c in table if c[0] == C.SNOMED)[0]
            out.append(condition(m.fact.replace("_", "-"), {"coding": [
                {"system": system, "code": code}], "text": m.fact.replace("_", " ")},
                refuted=denied))
        elif m.fact in ("major_surgery", "radiotherapy") and not denied:
            out.append(_procedure(m, on, base, author))
        elif m.fact == "postmenopausal" and not denied:
            system, code = sorted(C.POSTMENOPAUSAL)[0]
            out.append(condition("postmenopausal", {"coding": [
                {"system": system, "code": code}], "text": m.sentence}))
        elif m.fact == "metastatic" and not denied and net is None:
            out.append(condition("metastatic", {"coding": [
                {"system": C.PROJECT, "code": "advanced"}], "text": str(m.value or
                                                                       "metastatic")}))
    return out


def _procedure(m: Mention, on: date, base: dict, author: str) -> dict:
    """A major operation or a course of external-beam radiotherapy, on the date the
    sentence gives (else the report's), its site as written."""
    site = next((v for k, v in m.details if k == "site"), None)
    code = ((C.PROJECT, "major-surgery") if m.fact == "major_surgery"
            else (C.PROJECT, "external-beam-rt"))
    return {"resourceType": "Procedure", "id": _id(m.fact.replace("_", "-")), **base,
            "status": "completed",
            "code": {"coding": [{"system": code[0], "code": code[1]}], "text": m.sentence},
            "performedDateTime": on.isoformat(), "recorder": {"display": author},
            **({"bodySite": [{"text": site}]} if site else {})}  # the document: in the span


def _tumour(ms: list[Mention], net: Mention, condition, observation) -> list[dict]:
    """The NET a pathology sentence names: the diagnosis (morphology, site, stage) and,
    from a pathology report, the pathology result with its grade and Ki-67."""
    grade = str(_value(ms, "who_grade") or "").upper()
    morph = ("8246/3" if net.value == "poor" else "8249/3" if grade == "G3" else "8240/3"
             if net.value == "well" or grade in ("G1", "G2") else "8240/3")
    morphology = {"system": C.ICDO3, "code": morph}
    site = str(_value(ms, "primary_site") or "").lower()
    codings = [morphology] + ([{"system": C.ICD10, "code": ICD10_NET_SITE[site]}]
                              if site in ICD10_NET_SITE else [])
    extra: dict = {}
    if _value(ms, "metastatic") is not None:
        extra["stage"] = [{"summary": {"coding": [
            {"system": c[0], "code": c[1]} for c in sorted(C.ADVANCED_STAGE)][:1]}}]
    out = [condition("net", {"coding": codings, "text": net.sentence}, **extra)]
    if net.kind == "pathology":
        components: list[dict[str, Any]] = []
        if grade in ("G1", "G2", "G3"):
            components.append({"code": {"coding": [{"system": C.HISTOLOGIC_GRADE[0], "code":
                                                    C.HISTOLOGIC_GRADE[1]}]},
                               "valueCodeableConcept": {"coding": [
                                   {"system": C.PROJECT, "code": grade}]}})
        ki67 = _value(ms, "ki67")
        if isinstance(ki67, int | float):
            components.append({"code": {"coding": [{"system": C.KI67[0], "code": C.KI67[1]}]},
                               "valueQuantity": {"value": float(ki67), "unit": "%",
                                                 "system": "http://unitsofmeasure.org",
                                                 "code": "%"}})
        out.append(observation("path", ("http://loinc.org", "59847-4"),
                               valueCodeableConcept={"coding": [morphology],
                                                     "text": net.sentence},
                               **({"component": components} if components else {})))
    return out
