"""Populations for the `prescreen` tests, and what `trialsieve screen` prints for them."""

from __future__ import annotations

import csv
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

from trialsieve import codes as C
from trialsieve.cli import main
from trialsieve.population.synth import LOCAL, generate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"

AS_OF = "2026-11-25"
SITE_DRUGS = "urn:oid:1.2.250.1.999.2"  # a hospital pharmacy's own product codes


def run_cli(*argv: str) -> tuple[int, str]:
    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(list(argv))
    return code, buf.getvalue()


def screen_json(path: Path, policy: str = "pre-screening", window: bool = False,
                *more: str, status: int = 0) -> dict[str, dict]:
    """`trialsieve screen --format ndjson`: with the window when no date is given, else
    at inclusion = D0 = the screening date (as prescreen without --window); `status`, its
    expected exit status."""
    dates = [] if window else ["--d0", AS_OF]
    code, out = run_cli("screen", str(path), "--as-of", AS_OF, "--policy", policy, *dates,
                        "--format", "ndjson", *more)
    assert code == status
    docs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return {d["patient"]: d for d in docs}


def site_population(folder: Path, patients: int, seed: int) -> Path:
    """A generated population, whose neutrophil counts under the lab's local code (the
    generator's "local-code" fault) are read through a ConceptMap, plus one patient on
    lanreotide stopped 10 days ago whose Medication (shared, looked up by reference)
    carries the pharmacy's own code only. Returns the map (written beside `folder`: a
    .json inside it would be read as patient data)."""
    generate(patients, seed, folder)
    assert f'"system":"{LOCAL}","code":"NEUT"' in (folder / "Observation.ndjson").read_text()
    extra = {
        "Medication": {"resourceType": "Medication", "id": "lan-site", "code": {
            "coding": [{"system": SITE_DRUGS, "code": "LAN120"}],
            "text": "Lanreotide autogel 120 mg"}},
        "Patient": {"resourceType": "Patient", "id": "site-ssa", "gender": "male",
                    "birthDate": "1960-03-01"},
        "MedicationStatement": {"resourceType": "MedicationStatement", "id": "site-ssa-1",
                                "status": "completed", "subject": {
                                    "reference": "Patient/site-ssa"},
                                "medicationReference": {"reference": "Medication/lan-site"},
                                "effectivePeriod": {"start": "2025-01-10",
                                                    "end": "2026-11-15"}},
    }
    for rtype, res in extra.items():
        with open(folder / f"{rtype}.ndjson", "a", encoding="utf-8") as f:
            f.write(json.dumps(res) + "\n")
    cmap = folder.parent / f"{folder.name}-concept-map.json"
    cmap.write_text(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": _map("site-lab", LOCAL, C.LOINC, "NEUT", "751-8")},
        {"resource": _map("site-pharmacy", SITE_DRUGS, C.ATC, "LAN120", "H01CB03")}]}))
    return cmap


def _map(cid: str, source: str, target: str, code: str, to: str) -> dict:
    return {"resourceType": "ConceptMap", "id": cid, "status": "active", "group": [
        {"source": source, "target": target, "element": [
            {"code": code, "target": [{"code": to, "equivalence": "equivalent"}]}]}]}


NO_NET = "no neuroendocrine neoplasm on record: read as no GEP-NET (pre-screening)"
SHOWN = ("patient", "identifier", "source_file", "verdict", "deceased", "protocol", "dates",
         "policy")


def _docs(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "results.ndjson").read_text().splitlines()]


def _rows(out: Path) -> list[dict]:
    with open(out / "patients.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def assert_triage_agrees(triaged: Path, full: Path) -> tuple[int, int]:
    """`prescreen` (with the triage) against `prescreen --full` on the same input: the same
    funnel and candidates; a patient evaluated in full has the same document and row; a
    patient set aside has the verdict, INCL01 and INCL02 of its full evaluation, which
    found no neuroendocrine neoplasm (the notes' pre-screening assumption), and every one
    of its resources counted. Returns (patients set aside, patients evaluated)."""
    for name in ("funnel.csv", "candidates.csv"):
        assert (triaged / name).read_bytes() == (full / name).read_bytes(), name
    docs, fulls = _docs(triaged), _docs(full)
    assert [d["patient"] for d in docs] == [d["patient"] for d in fulls]
    aside = 0
    for d, f, r, fr in zip(docs, fulls, _rows(triaged), _rows(full), strict=True):
        if "set_aside" not in d:
            assert (d, r) == (f, fr), d["patient"]
            continue
        aside += 1
        assert f["criteria"][1]["id"] == "INCL02"
        assert f["criteria"][1]["assumptions"] == [NO_NET], d["patient"]
        assert {k: d[k] for k in SHOWN} == {k: f[k] for k in SHOWN}
        assert d["criteria"] == f["criteria"][:2]
        assert d["set_aside"]["not_evaluated"] == [c["id"] for c in f["criteria"][2:]]
        assert {t: c["read"] for t, c in d["resources"].items()} == {
            t: c["read"] for t, c in f["resources"].items()}
        decided = ("patient", "verdict", "earliest_d0", "latest_d0", "INCL01", "INCL02")
        assert {k: r[k] for k in decided} == {k: fr[k] for k in decided}
        assert {r[c["id"]] for c in f["criteria"][2:]} == {"not_evaluated"}
    return aside, len(docs) - aside


def no_net_in_full(full: Path) -> int:
    """Patients whose full evaluation found no neuroendocrine neoplasm on record."""
    return sum(d["criteria"][1]["assumptions"] == [NO_NET] for d in _docs(full))


def split_export(folder: Path, example: str, in_bundle: set[str]) -> str:
    """An example written as NDJSON (a file a type), save the resources `in_bundle`,
    which go in a bundle file of their own, as two exports of one hospital would."""
    folder.mkdir()
    bundle = json.loads((EXAMPLES / example).read_text())
    resources = [e["resource"] for e in bundle["entry"]]
    ndjson_by_type(folder, [r for r in resources if r["id"] not in in_bundle])
    (folder / "later-export.json").write_text(json.dumps({
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"resource": r} for r in resources if r["id"] in in_bundle]}))
    return next(r["id"] for r in resources if r["resourceType"] == "Patient")


NAMED_OTHERWISE = ("linked-from-the-bundle", "linked-from-the-ndjson", "by-identifier")


def split_57_named_otherwise(folder: Path, how: str) -> None:
    """Example 57 as NDJSON but for its positive urine hCG, in a bundle (a second export)
    that names the patient otherwise (`name_otherwise`)."""
    split_export(folder, "57-positive-urine-hcg-after-negative-serum.json",
                 {"ex57-hcg-urine"})
    name_otherwise(folder, how)


def name_otherwise(folder: Path, how: str) -> None:
    """The bundle of `split_export` (its Patient left in NDJSON) names the patient
    otherwise (`how`, one of NAMED_OTHERWISE): by its own Patient `<id>-b` linked
    (seealso) to the NDJSON one; by `<id>-b`, which the NDJSON Patient says it
    `replaces`; or by hospital number alone, held by the NDJSON Patient."""
    patient = json.loads((folder / "Patient.ndjson").read_text())
    pid = patient["id"]
    mrn = {"system": "https://hospital.example/mrn", "value": f"MRN-{pid}"}
    other = {**patient, "id": f"{pid}-b"}
    subject: dict = {"reference": f"Patient/{pid}-b"}
    if how == "linked-from-the-bundle":
        other["link"] = [{"other": {"reference": f"Patient/{pid}"}, "type": "seealso"}]
    elif how == "linked-from-the-ndjson":
        patient["link"] = [{"other": {"reference": f"Patient/{pid}-b"}, "type": "replaces"}]
    else:
        patient["identifier"], other, subject = [mrn], None, {"identifier": mrn}
    (folder / "Patient.ndjson").write_text(json.dumps(patient) + "\n")
    bundle = json.loads((folder / "later-export.json").read_text())
    for e in bundle["entry"]:
        for f in ("subject", "patient"):
            if e["resource"].get(f) == {"reference": f"Patient/{pid}"}:
                e["resource"][f] = subject
    if other is not None:
        bundle["entry"].append({"resource": other})
    (folder / "later-export.json").write_text(json.dumps(bundle))


def ndjson_by_type(folder: Path, resources: list[dict]) -> None:
    """The resources as NDJSON, a file a type, in their order."""
    by_type: dict[str, list[str]] = {}
    for r in resources:
        by_type.setdefault(r["resourceType"], []).append(json.dumps(r))
    for rtype, lines in by_type.items():
        (folder / f"{rtype}.ndjson").write_text("\n".join(lines) + "\n")


def prescreen_cli(path: Path, out: Path, *more: str) -> tuple[int, dict]:
    """`trialsieve prescreen PATH --out OUT --as-of AS_OF ...`: exit status, run.json."""
    code, _ = run_cli("prescreen", str(path), "--out", str(out), "--as-of", AS_OF, *more)
    return code, json.loads((out / "run.json").read_text())


def results_of(out: Path) -> dict[str, dict]:
    """results.ndjson by patient; a patient screened twice fails."""
    docs = [json.loads(line) for line in (out / "results.ndjson").read_text().splitlines()]
    assert len(docs) == len({d["patient"] for d in docs}), "a patient screened twice"
    return {d["patient"]: d for d in docs}
