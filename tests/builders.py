"""Small builders shared by the rule, engine and CLI tests: PatientRecord objects built
directly (no FHIR), and paths to the project and the shared data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from trialsieve.codes import LAB_TESTS
from trialsieve.record import (
    Attestation,
    Ecog,
    Exposure,
    Finding,
    LabResult,
    Patient,
    PatientRecord,
    ProcedureRecord,
)
from trialsieve.rules.base import SCREENING, Context
from trialsieve.units import convert

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
BAD = Path(__file__).resolve().parent / "data" / "bad"

AS_OF = date(2026, 11, 25)
D0 = date(2026, 12, 8)


def ctx(d0: date = D0, inclusion: date | None = None, as_of: date = AS_OF,
        policy: str = SCREENING) -> Context:
    return Context(as_of, inclusion or d0, d0, policy)


def record(*facts: object, born: date | None = date(1960, 5, 1), sex: str | None = "male",
           pid: str = "p1") -> PatientRecord:
    """A record for patient `pid` holding `facts` (LabResult, Exposure, ...)."""
    rec = PatientRecord(Patient(pid, born, sex, f"Patient/{pid}"), file="test.json")
    lists = {LabResult: rec.labs, Exposure: rec.exposures, ProcedureRecord: rec.procedures,
             Finding: rec.findings, Ecog: rec.ecog, Attestation: rec.attestations}
    for f in facts:
        lists[type(f)].append(f)
    return rec


_n = iter(range(1, 1_000_000))


def lab(test: str, value: float, when: date, unit: str | None = None, *,
        comparator: str | None = None, uln: float | None = None,
        source: str | None = None) -> LabResult:
    """A numeric result, converted to the rule's unit as the FHIR reader does."""
    t = LAB_TESTS[test]
    unit = unit or t.unit
    std = convert(value, unit, t.unit, t.molar_mass)
    std_high = convert(uln, unit, t.unit, t.molar_mass) if uln is not None else None
    return LabResult(source or f"Observation/{test}-{next(_n)}", test, when, value, unit,
                     comparator, uln, unit if uln is not None else None, (), std, std_high)


def surgery(when: date | None, major: bool | None = True, source: str = "Procedure/s1"
            ) -> ProcedureRecord:
    return ProcedureRecord(source, "hemicolectomy", "surgery", when, major)


def drug(drug_class: str, last: date | None, *, name: str = "capecitabine",
         form: str | None = None, start: date | None = None, status: str = "completed",
         source: str = "MedicationAdministration/m1") -> Exposure:
    """A single administration on `last` (or a course from `start` to `last`)."""
    if start is not None:
        return Exposure(source, name, drug_class, start, last, status, form)
    return Exposure(source, name, drug_class, last, None, status, form, single_dose=True)


def answer(question: str, yes: bool, when: date = date(2026, 11, 24),
           source: str | None = None) -> Attestation:
    return Attestation(source or f"Observation/att-{question}", question, yes, "Dr Test", when)
