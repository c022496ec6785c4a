"""The patient record, in three layers the criteria depend on:

- `facts`: what each resource states, free of FHIR (lab results, exposures, lesions...);
- `statements`: every statement about one fact, from whichever resource type, each with
  when it was stated, the interval it places the fact in, its certainty and its source;
- `identity`: which resources are one patient (references, versions, links, files).

Rules ask `statements` "what does the record say about X for the period P" and never
read resources themselves.
"""

from trialsieve.record.facts import (
    NO_LONGER_PRESENT,
    Attestation,
    Confirmation,
    ConsentRecord,
    Damaged,
    Dated,
    Death,
    Diagnosis,
    Document,
    Ecog,
    Exposure,
    Finding,
    Histology,
    Ignored,
    LabResult,
    Lesion,
    Mention,
    Patient,
    PatientRecord,
    ProcedureRecord,
    Study,
    Symptom,
    Warning,
    condition_present,
    day,
    newest_of_day,
)

__all__ = [
    "Confirmation",
    "Dated",
    "day",
    "newest_of_day",
    "Death",
    "Patient",
    "condition_present",
    "Diagnosis",
    "Document",
    "Histology",
    "LabResult",
    "Exposure",
    "ProcedureRecord",
    "Finding",
    "Ecog",
    "ConsentRecord",
    "Attestation",
    "Lesion",
    "Mention",
    "Study",
    "Symptom",
    "Ignored",
    "Damaged",
    "Warning",
    "PatientRecord",
    "NO_LONGER_PRESENT",
]
