"""FHIR R4 ResearchStudy (with its eligibility Group) and one ResearchSubject per
screening, as a Bundle of type collection, validated with fhir.resources (R4B models,
whose ResearchStudy/ResearchSubject/Group are those of R4).

ResearchSubject.status: eligible -> "eligible", not eligible -> "ineligible",
incomplete -> "candidate" (still being screened). The subject is identified by the
screening number; `individual` references the Patient, as a site's own FHIR server
links a subject to its patient.

Every entry's fullUrl is a urn:uuid, so a relative reference ("Group/x") resolves to
nothing inside the Bundle: every reference is the fullUrl of an entry of it. The Patient
is an entry of its own that carries only the id the patient has in the site's FHIR
input (no name, no identifier: the subject is known by its screening number).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from trialsieve.output.identifiers import screening_number
from trialsieve.protocol import EXCLUSION, Protocol

STATUS = {"eligible": "eligible", "not_eligible": "ineligible", "incomplete": "candidate"}
NCT = "http://clinicaltrials.gov"
SCREENING_NUMBER = "https://trialsieve.org/fhir/sid/screening-number"
CRITERION = "https://trialsieve.org/fhir/CodeSystem/eligibility-criterion"


def _study_id(protocol: Protocol) -> str:
    return protocol.id.lower()


def eligibility_group(protocol: Protocol) -> dict[str, Any]:
    """The criteria as a Group definition: one characteristic each, exclude=true for an
    exclusion; the published text and the reading applied are in the value's text."""
    return {
        "resourceType": "Group", "id": f"{_study_id(protocol)}-eligibility",
        "type": "person", "actual": False,
        "name": f"{protocol.id} eligibility criteria, version {protocol.version}",
        "characteristic": [{
            "code": {"coding": [{"system": CRITERION, "code": c.id, "display": c.short}],
                     "text": c.short},
            "valueCodeableConcept": {"text": f"{c.text}\nReading applied: {c.reading}"},
            "exclude": c.category == EXCLUSION,
        } for c in protocol.criteria],
    }


def research_study(protocol: Protocol) -> dict[str, Any]:
    sid = _study_id(protocol)
    return {
        "resourceType": "ResearchStudy", "id": sid,
        "identifier": [{"system": NCT, "value": protocol.id}],
        "title": protocol.title, "status": "active",
        "enrollment": [{"reference": _url("Group", f"{sid}-eligibility")}],
    }


def research_subject(doc: dict[str, Any], protocol: Protocol) -> dict[str, Any]:
    number = screening_number(doc)
    return {
        "resourceType": "ResearchSubject", "id": number.lower(),
        "identifier": [{"system": SCREENING_NUMBER, "value": number}],
        "status": STATUS[doc["verdict"]],
        "period": {"start": doc["dates"]["as_of"]},
        "study": {"reference": _url("ResearchStudy", _study_id(protocol))},
        "individual": {"reference": _url("Patient", doc["patient"]), "type": "Patient"},
    }


def _url(rtype: str, rid: str) -> str:
    """A stable urn:uuid for an entry (the same resource gets the same one every run)."""
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL,
                                        f"{SCREENING_NUMBER}/{rtype}/{rid}"))


def bundle(docs: Sequence[dict[str, Any]], protocol: Protocol) -> dict[str, Any]:
    """The Bundle, checked against the FHIR models before it is returned."""
    from fhir.resources.R4B.bundle import Bundle

    patients = dict.fromkeys(d["patient"] for d in docs)  # one entry each, first seen
    resources = [research_study(protocol), eligibility_group(protocol),
                 *(research_subject(d, protocol) for d in docs),
                 *({"resourceType": "Patient", "id": p} for p in patients)]
    doc = {"resourceType": "Bundle", "type": "collection",
           "entry": [{"fullUrl": _url(r["resourceType"], r["id"]), "resource": r}
                     for r in resources]}
    Bundle.model_validate(doc)  # raises on anything R4 does not allow
    return doc
