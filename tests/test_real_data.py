"""Real FHIR R4 data nobody on this project wrote (../shared/data): every file and folder
is read without a crash, every patient comes out not eligible or incomplete for a stated
reason, and the resources are counted. Skipped when ../shared/data is absent (CI)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from builders import SHARED_DATA

from trialsieve.cli import main
from trialsieve.engine import NOT_ELIGIBLE, Dates, ScreeningResult, screen
from trialsieve.fhir.errors import InputError
from trialsieve.fhir.reader import read
from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION
from trialsieve.protocols.lumen import LUMEN

DATES = Dates.resolve(date(2026, 11, 25))
SPEC = SHARED_DATA / "fhir-r4-spec-examples"
OPENMRS = SHARED_DATA / "synthea-openmrs-bundles"
BULK = SHARED_DATA / "synthea-bulk-ndjson"
NO_PATIENT = ("hospitalInformation", "practitionerInformation")  # directories, no patient
SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "individual")

needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} absent")


def _params(paths: list[Path]) -> list:
    if not paths:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{SHARED_DATA} absent"))]
    return [pytest.param(p, id=p.name) for p in paths]


def _files(folder: Path, pattern: str = "*.json") -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


SPEC_FILES = _params(_files(SPEC))
BUNDLES = _params([p for p in _files(OPENMRS) if not p.name.startswith(NO_PATIENT)])
DIRECTORIES = _params([p for p in _files(OPENMRS) if p.name.startswith(NO_PATIENT)])
FOLDERS = _params([p for p in (sorted(BULK.glob("*-patients")) if BULK.is_dir() else [])]
                  + [p for p in (SPEC, OPENMRS, BULK, SHARED_DATA) if p.is_dir()])


def stated_reason(r: ScreeningResult) -> bool:
    """Not eligible for a criterion that says so or a recorded death, or incomplete with
    what is missing."""
    if r.verdict == NOT_ELIGIBLE and r.deceased:
        return r.deceased.startswith("deceased")
    if r.verdict == NOT_ELIGIBLE:
        return any((c.criterion.category == INCLUSION and c.status is Tri.NOT_MET)
                   or (c.criterion.category == EXCLUSION and c.status is Tri.MET)
                   for c in r.results)
    return any(c.outcome.missing for c in r.results if c.status is Tri.UNKNOWN)


def check(path: Path) -> int:
    data = read(path)
    assert data.records
    for rec in data.records:
        r = screen(LUMEN, rec, DATES)
        assert r.verdict in ("not_eligible", "incomplete"), (rec.patient.id, r.verdict)
        assert stated_reason(r), rec.patient.id
        for rtype, c in r.counts.items():
            assert c["read"] == c["used"] + c["ignored"], (rec.patient.id, rtype, c)
    return len(data.records)


@pytest.mark.parametrize("path", SPEC_FILES)
def test_spec_example(path: Path) -> None:
    assert check(path) == 1


@pytest.mark.parametrize("path", BUNDLES)
def test_synthea_bundle(path: Path) -> None:
    assert check(path) == 1


@pytest.mark.parametrize("path", DIRECTORIES)
def test_bundle_without_a_patient_is_a_clear_error(path: Path, capsys) -> None:
    with pytest.raises(InputError, match="no patient"):
        read(path)
    assert main(["screen", str(path), "--as-of", "2026-11-25"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "no patient" in err and "Traceback" not in err


@pytest.mark.parametrize("path", FOLDERS)
def test_folder(path: Path) -> None:
    assert check(path) >= 1


@pytest.mark.parametrize("path", FOLDERS)
def test_folder_through_the_cli(path: Path, capsys) -> None:
    code = main(["screen", str(path), "--as-of", "2026-11-25", "--format", "json"])
    out, err = capsys.readouterr()
    # the files beside the FHIR are named as not read: the upstream licence as not FHIR
    # (exit 0), a bulk export's log.ndjson as input not read (exit 1, as prescreen)
    others = [f for f in path.rglob("*") if f.is_file() and f.suffix not in (".json",
                                                                           ".ndjson")]
    assert code == (1 if any(path.rglob("log.ndjson")) else 0), err
    assert all(f"{f}: " in err for f in others)
    assert "Traceback" not in err
    docs = json.loads(out)["results"]
    assert docs and {d["verdict"] for d in docs} <= {"not_eligible", "incomplete"}


@needs_data
def test_bulk_folders_count_every_patient() -> None:
    for name in ("10-patients", "100-patients"):
        folder = BULK / name
        lines = (folder / "Patient.000.ndjson").read_text().splitlines()
        ids = {json.loads(line)["id"] for line in lines if line.strip()}
        assert {r.patient.id for r in read(folder).records} == ids


@needs_data
def test_bulk_log_file_is_named_in_a_warning() -> None:
    data = read(BULK / "10-patients")
    assert [Path(w.file).name for w in data.warnings] == ["log.ndjson"]


def _largest_bundle() -> Path:
    return max((p for p in _files(OPENMRS) if not p.name.startswith(NO_PATIENT)),
               key=lambda p: p.stat().st_size)


@needs_data
def test_counts_match_the_bundle() -> None:
    path = _largest_bundle()
    doc = json.loads(path.read_text(encoding="utf-8"))
    patients = {e["fullUrl"]: e["resource"]["id"] for e in doc["entry"]
                if e["resource"]["resourceType"] == "Patient"}
    assert len(patients) == 1
    [(url, pid)] = patients.items()
    expected: dict[str, int] = {}
    for e in doc["entry"]:
        res = e["resource"]
        refs = [res[f].get("reference") for f in SUBJECT_FIELDS if isinstance(res.get(f), dict)]
        if res["resourceType"] == "Patient" or any(r in (url, f"Patient/{pid}") for r in refs):
            expected[res["resourceType"]] = expected.get(res["resourceType"], 0) + 1
    [rec] = read(path).records
    r = screen(LUMEN, rec, DATES)
    assert {t: c["read"] for t, c in r.counts.items()} == expected
    assert sum(c["read"] for c in r.counts.values()) == sum(expected.values())
    assert r.counts["Patient"] == {"read": 1, "used": 1, "ignored": 0}
