"""The screening number: how the screening log, SDTM and the ResearchSubject name a
screened patient without a direct identifier.

SUBJID is the screening number, "S" + 8 hexadecimal digits of SHA-256 over the protocol
id and the patient's FHIR id (`derived`): the same patient gets the same number on every
run and every machine, from the command line and in the workbench alike (which numbers
the patients it imports by this rule), so that the two screening logs reconcile; the
number cannot be read back to a name or a medical record number. A number set in the
result document (`screening_number`, as the workbench's signed results carry) is used
as it is. The link
(screening number <-> MRN) is kept only on the eligibility checklist,
which the site files in the trial master file. USUBJID = STUDYID-SUBJID (SDTMIG 3.x:
unique within the submission).
"""

from __future__ import annotations

import hashlib
from typing import Any


def derived(protocol_id: str, patient_id: str) -> str:
    """The screening number of a FHIR patient id under a protocol: one rule for the
    command line and the workbench."""
    key = f"{protocol_id}|{patient_id}".encode()
    return "S" + hashlib.sha256(key).hexdigest()[:8].upper()


def screening_number(doc: dict[str, Any]) -> str:
    """The number set in the document (`screening_number`), else the derived one."""
    if doc.get("screening_number"):
        return str(doc["screening_number"])
    return derived(doc["protocol"]["id"], doc["patient"])


def usubjid(doc: dict[str, Any]) -> str:
    return f"{doc['protocol']['id']}-{screening_number(doc)}"
