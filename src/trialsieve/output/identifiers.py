"""The screening number: how the screening log, SDTM and the ResearchSubject name a
screened patient without a direct identifier.

SUBJID is the screening number, "S" + 8 hexadecimal digits of SHA-256 over the protocol
id and the patient's FHIR id: the same patient gets the same number on every run and
every machine, and the number cannot be read back to a name or a medical record
number. The link (screening number <-> MRN) is kept only on the eligibility checklist,
which the site files in the trial master file. USUBJID = STUDYID-SUBJID (SDTMIG 3.x:
unique within the submission).
"""

from __future__ import annotations

import hashlib
from typing import Any


def screening_number(doc: dict[str, Any]) -> str:
    key = f"{doc['protocol']['id']}|{doc['patient']}".encode()
    return "S" + hashlib.sha256(key).hexdigest()[:8].upper()


def usubjid(doc: dict[str, Any]) -> str:
    return f"{doc['protocol']['id']}-{screening_number(doc)}"
