"""The screening number: how the screening log, SDTM and the ResearchSubject name a
screened patient without a direct identifier.

SUBJID is the screening number, "S" + 8 hexadecimal digits of SHA-256 over the protocol
id and the patient's FHIR id: the same patient gets the same number on every run and
every machine, and the number cannot be read back to a name or a medical record
number. A number the site assigned itself (the workbench numbers its screenings
SCR-0001, ...) is used instead when the result document carries it. The link
(screening number <-> MRN) is kept only on the eligibility checklist,
which the site files in the trial master file. USUBJID = STUDYID-SUBJID (SDTMIG 3.x:
unique within the submission).
"""

from __future__ import annotations

import hashlib
from typing import Any


def screening_number(doc: dict[str, Any]) -> str:
    """The number a site gave (the workbench's "SCR-0001", set in the document as
    `screening_number`), else the derived one."""
    if doc.get("screening_number"):
        return str(doc["screening_number"])
    key = f"{doc['protocol']['id']}|{doc['patient']}".encode()
    return "S" + hashlib.sha256(key).hexdigest()[:8].upper()


def usubjid(doc: dict[str, Any]) -> str:
    return f"{doc['protocol']['id']}-{screening_number(doc)}"
