"""The vocabularies and the site map on real data nobody on this project wrote
(../shared/data): the OpenMRS bundles with and without the shipped map, the Synthea bulk
export's clinical-drug codes, the FHIR specification examples. Skipped when ../shared/data
is absent (a fresh clone); tests/data/openmrs keeps the map test running there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from builders import REPO, SHARED_DATA

from trialsieve.fhir import concept_map
from trialsieve.fhir.reader import read

OPENMRS = SHARED_DATA / "synthea-openmrs-bundles"
BULK = SHARED_DATA / "synthea-bulk-ndjson" / "10-patients"
SPEC = SHARED_DATA / "fhir-r4-spec-examples"
OPENMRS_MAP = REPO / "docs" / "examples" / "openmrs-concept-map.json"
needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} absent")


def _bundles() -> list[Path]:
    return [p for p in sorted(OPENMRS.glob("*.json"))
            if not p.name.startswith(("hospital", "practitioner"))] if OPENMRS.is_dir() else []


def _not_loinc(rec) -> list:
    return [w for w in rec.warnings if "not LOINC codes" in w.message]


@needs_data
def test_openmrs_bundles_name_their_non_loinc_codes_without_the_map() -> None:
    for path in _bundles():
        [rec] = read(path).records
        [warn] = _not_loinc(rec)
        assert "AAAAAAAA" in warn.message and "--concept-map" in warn.message, path.name


@needs_data
def test_openmrs_bundles_with_the_map_declare_every_code_and_count_the_same() -> None:
    mapping = concept_map.load([OPENMRS_MAP])
    for path in _bundles():
        [before] = read(path).records
        [after] = read(path, mapping).records
        assert _not_loinc(after) == [], path.name
        # The 25 bundles hold vital signs and HIV care only: no lab a criterion reads, so
        # the map declares their codes (unmatched) and changes no count.
        assert after.labs == [] and after.counts == before.counts, path.name


@needs_data
def test_synthea_clinical_drug_codes_are_read_as_their_ingredient() -> None:
    """Synthea states its drugs as MedicationRequests: read by their ingredient's class, and
    then set aside as prescriptions, since a MedicationRequest alone is no exposure
    (protocol notes, "Exposures in time": "A planned or not-taken drug (MedicationRequest
    alone, ...) is no exposure")."""
    import json

    from trialsieve.codes import drug_class
    from trialsieve.fhir.values import codings
    requests = [json.loads(line) for f in sorted(BULK.glob("MedicationRequest*.ndjson"))
                for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    classes = {(r["medicationCodeableConcept"].get("text"),
                drug_class(codings(r["medicationCodeableConcept"], "medication")))
               for r in requests if "medicationCodeableConcept" in r}
    assert ("Cisplatin 50 MG Injection", "chemotherapy") in classes
    assert ("PACLitaxel 100 MG Injection", "antineoplastic") in classes
    recs = read(BULK).records
    assert not [e for r in recs for e in r.exposures]
    cisplatin = {f"MedicationRequest/{r['id']}" for r in requests
                 if r.get("medicationCodeableConcept", {}).get("text") ==
                 "Cisplatin 50 MG Injection"}
    prescriptions = {i.source for r in recs for i in r.ignored
                     if i.reason.startswith("a prescription")}
    assert cisplatin and cisplatin <= prescriptions


@needs_data
def test_spec_examples_still_read() -> None:
    for path in sorted(SPEC.glob("*.json")):
        assert read(path).records, path.name


@needs_data
def test_rxnorm_table_is_generated_from_its_sources() -> None:
    script = REPO / "scripts" / "build_rxnorm_table.py"
    done = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
