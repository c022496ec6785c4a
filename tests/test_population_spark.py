"""`prescreen --engine spark` on local[2]: the same outputs as the DuckDB path.

One Spark session for the module (it takes 8-14 s to start) and small populations. The
driver may take at most 1 MB of results from one partition (spark.driver.maxResultSize):
a run that takes its results back through the driver's JVM in partitions that grow with
the population fails here, as it ran out of driver heap at 10^4 patients (1 GB).
Spark needs Java 17, which scripts/system-deps.sh installs (the README's test command
runs it): no skip, so that CI cannot pass without having run it.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from populations import (
    NAMED_OTHERWISE,
    screen_json,
    site_population,
    split_57_named_otherwise,
    split_export,
)

from trialsieve.output.json_result import SCHEMA_VERSION
from trialsieve.population.run import Settings, prescreen
from trialsieve.population.synth import generate

AS_OF = date(2026, 11, 25)


@pytest.fixture(scope="module")
def spark():
    from trialsieve.population.spark_job import session

    s = session("local[2]", 4, {"spark.driver.maxResultSize": "1m"})
    yield s
    s.stop()


def test_spark_writes_what_duckdb_writes(spark, tmp_path):
    folder = tmp_path / "population"
    generate(60, seed=11, out=folder)
    obs = folder / "Observation.ndjson"
    with obs.open("a") as f:  # a bad line: both engines must say where and why
        f.write('{"resourceType": "Observation", "id": "cut"\n')
    bad_line = len(obs.read_text().splitlines())
    runs = {}
    for engine in ("duckdb", "spark"):
        runs[engine] = prescreen(folder, tmp_path / engine,
                                 Settings(AS_OF, "pre-screening", engine, 2))
    for name in ("results.ndjson", "patients.csv", "candidates.csv", "funnel.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (
            tmp_path / "duckdb" / name).read_bytes(), name
    assert runs["spark"]["engine"] == {"name": "spark", "jobs": 2, "master": "local[2]"}
    for key in ("counts", "skipped", "inputs"):
        assert runs["spark"][key] == runs["duckdb"][key], key
    assert runs["spark"]["skipped"] == [{"file": str(obs), "line": bad_line, "resource": None,
                                         "reason": "not valid JSON"}]
    lines = (tmp_path / "spark" / "results.ndjson").read_text().splitlines()
    assert len(lines) == 60 and all(json.loads(x)["schema"] == SCHEMA_VERSION for x in lines)


def test_spark_reads_a_concept_map_as_screen_reads_it(spark, tmp_path):
    folder = tmp_path / "population"
    cmap = site_population(folder, 120, seed=7)
    run = prescreen(folder, tmp_path / "out", Settings(AS_OF, "pre-screening", "spark", 2,
                                                       concept_maps=(str(cmap),), full=True))
    got = [json.loads(x) for x in (tmp_path / "out" / "results.ndjson").read_text().splitlines()]
    assert {d["patient"]: d for d in got} == screen_json(folder, "pre-screening", False,
                                                         "--concept-map", str(cmap))
    assert len(got) == 121 and run["concept_maps"][0]["file"] == str(cmap)


def test_partitions_grow_with_the_population(spark, tmp_path, monkeypatch):
    """400 patients (about 30 KB of results each) in the 8 partitions that 2 jobs gave,
    taken back through toLocalIterator, were over 1 MB each; the results now come back
    through files, in 27 partitions of at most 15 patients."""
    from trialsieve.population import spark_job

    monkeypatch.setattr(spark_job, "PATIENTS_PER_PARTITION", 15)
    folder = tmp_path / "population"
    generate(400, seed=5, out=folder)
    for engine in ("spark", "duckdb"):
        run = prescreen(folder, tmp_path / engine,
                        Settings(AS_OF, "pre-screening", engine, 2, full=True))
        assert run["counts"]["patients"] == 400
    assert (tmp_path / "spark" / "results.ndjson").read_bytes() == (
        tmp_path / "duckdb" / "results.ndjson").read_bytes()


def test_spark_reads_one_patient_whatever_the_reference_form_and_files(spark, tmp_path):
    """One patient (examples/patients/02) in NDJSON files, his resources referring to him
    by _history, absolute URL, identifier and a linked record's id; an Hb whose identifier
    resolves to no one (a Problem, with its line); and a second patient in two bundle
    files: Spark, DuckDB and `screen` read two patients, alike."""
    from test_identity import every_reference_form, ex02, low_hb, write

    folder = tmp_path / "in"
    every_reference_form(folder)
    # in a file of its own: `screen` names a damaged input on the records of its file
    (folder / "Unknown.ndjson").write_text(
        "\n" + json.dumps(low_hb({"identifier": {"value": "MRN-9999"}})) + "\n")
    other = ex02()
    for e in other:
        e["resource"] = json.loads(json.dumps(e["resource"]).replace("ex02", "ex99"))
        e.pop("fullUrl", None)
    write(folder, "b1.json", other[:10])
    write(folder, "b2.json", other[10:])
    runs = {}
    for engine in ("duckdb", "spark"):
        runs[engine] = prescreen(folder, tmp_path / engine,
                                 Settings(AS_OF, "screening", engine, 2))
    for name in ("results.ndjson", "patients.csv", "candidates.csv", "funnel.csv"):
        assert (tmp_path / "spark" / name).read_bytes() == (
            tmp_path / "duckdb" / name).read_bytes(), name
    assert runs["spark"]["skipped"] == runs["duckdb"]["skipped"]
    [problem] = runs["spark"]["skipped"]
    assert problem["resource"] == "Observation/ex02-hb-new" and problem["line"] == 2
    assert "MRN-9999 matches no Patient resource" in problem["reason"]
    got = [json.loads(x) for x in (tmp_path / "spark" / "results.ndjson").read_text()
           .splitlines()]
    assert {d["patient"]: d for d in got} == screen_json(folder, "screening", False,
                                                         status=1)
    assert sorted(d["patient"] for d in got) == ["ex02", "ex99"]
    assert all(d["verdict"] == "eligible" for d in got)



def test_spark_sql_looks_as_python_looks(spark, tmp_path):
    """The triage's look in Spark SQL (Java's regular expressions) fires on exactly the
    hand-written lines on which it fires in Python and DuckDB (tests/test_triage.py):
    every code the reader reads as a NET or a pathology, none of what every record
    holds; and, under a map, site codes (one holding a quote)."""
    import test_triage as t
    from pyspark.sql import functions as F

    from trialsieve.fhir.concept_map import EMPTY, load
    from trialsieve.population.spark_job import finds
    from trialsieve.population.triage import look, might_be_net

    fire = t.test_what_the_reader_reads_as_a_net_or_a_pathology_the_look_finds
    quiet = t.test_the_look_does_not_fire_on_what_every_record_holds
    lines = [*fire.pytestmark[0].args[1], *quiet.pytestmark[0].args[1]]
    cmap = tmp_path / "map.json"
    cmap.write_text(json.dumps({"resourceType": "ConceptMap", "id": "dx", "status": "active",
                                "group": [{"source": "urn:site:dx", "target": t.C.ICD10CM,
                                           "element": [{"code": code, "target": [
                                               {"code": "C7A.010", "equivalence": "equivalent"}]}
                                               for code in ("NET-SI", 'N"1')]}]}))
    sited = [t.condition('{"system": "urn:site:dx", "code": ' + code + "}")
             for code in ('"NET-SI"', '"N\\"1"')]
    for lk, fires in ((look(EMPTY), len(fire.pytestmark[0].args[1])),
                      (look(load([str(cmap)])), len(fire.pytestmark[0].args[1]) + 2)):
        texts = lines + sited
        got = [r.hit for r in spark.createDataFrame([(x,) for x in texts], "text string")
               .select(finds(F.col("text"), lk).alias("hit")).collect()]
        assert got == [might_be_net([x], lk) for x in texts]
        assert sum(got) == fires


def test_spark_looks_at_report_text_as_python_looks(spark):
    """A NET written only in a report (a conclusion, a valueString, a note, an attachment's
    base64, an attachment at a url) keeps its patient in Spark as in Python and DuckDB
    (issue 21: never set aside); a report without one, Synthea's notes and an extension's
    url do not; an attachment that does not decode is kept. And generated attachments,
    however the JSON around their base64 is written (test_triage.attachment_lines)."""
    import test_triage as t
    from hypothesis import given, settings
    from pyspark.sql import functions as F

    from trialsieve.fhir.concept_map import EMPTY
    from trialsieve.population.spark_job import finds
    from trialsieve.population.triage import look, might_be_net

    lines = []
    for text in t.REPORT_NETS:
        for ea in (True, False):
            lines += [json.dumps({"resourceType": "Observation", "id": "o",
                                  "valueString": text}, ensure_ascii=ea),
                      json.dumps({"resourceType": "Condition", "id": "c",
                                  "note": [{"text": text}]}, ensure_ascii=ea),
                      t._attached(text, ea)]
        lines.append(t._report("conclusion", text))
    fires = len(lines)
    lines += [t._report("presentedForm", [{"contentType": "text/plain",
                                           "data": "not base64!"}]),
              t._at_url("Binary/b1"), t._at_url("urn:uuid:0b5d", "presentedForm")]
    fires += 3
    quiet = ["Hypertension, well controlled. Internet access at home.",
             "Adenocarcinoma of the colon, ONE lesion; NETWORK of care."]
    lines += [t._report("conclusion", x) for x in quiet] + [t._attached(x) for x in quiet]
    lines.append(json.dumps({"resourceType": "Observation", "id": "o", "extension": [
        {"url": "http://example.org/x", "valueString": "y"}]}))
    synthea = sorted((t.REPO.parent / "shared" / "data" / "synthea-openmrs-bundles").glob(
        "*.json"))[:2]
    lines += [json.dumps(e["resource"]) for f in synthea
              for e in json.loads(f.read_text())["entry"]
              if e["resource"]["resourceType"] == "DocumentReference"][:40]
    generated: list[tuple[str, bool]] = []

    @settings(max_examples=120, deadline=None, database=None)
    @given(t.attachment_lines())
    def collect(case):
        generated.append(case)

    collect()
    lines += [line for line, _ in generated]
    lk = look(EMPTY)
    got = [r.hit for r in spark.createDataFrame([(x,) for x in lines], "text string")
           .select(finds(F.col("text"), lk).alias("hit")).collect()]
    python = [might_be_net([x], lk) for x in lines]
    assert got == python, [x for x, a, b in zip(lines, got, python, strict=True) if a != b][:3]
    assert all(got[:fires]) and not any(got[fires:fires + 5])
    assert all(hit for hit, (_, says) in zip(got[-len(generated):], generated, strict=True)
               if says)


def test_spark_reads_a_shared_medication_in_its_newest_version(spark, tmp_path):
    """The correction (version 2, everolimus) listed before version 1 (paracetamol) in
    Medication.ndjson: Spark reads the newest version, as DuckDB and `screen` do, so E3 is
    met (worked by hand in test_population.py)."""
    from test_population import _everolimus_or_paracetamol

    folder = tmp_path / "in"
    folder.mkdir()
    pid = _everolimus_or_paracetamol(folder, newest_last=False)
    prescreen(folder, tmp_path / "spark", Settings(AS_OF, "pre-screening", "spark", 2,
                                                   full=True))
    [got] = [json.loads(x) for x in (tmp_path / "spark" / "results.ndjson").read_text()
             .splitlines()]
    assert got["patient"] == pid
    assert next(c for c in got["criteria"] if c["id"] == "EXCL03")["status"] == "met"


def test_spark_names_files_of_an_earlier_fhir_release_and_does_not_read_them(spark, tmp_path):
    """As the DuckDB scan (test_input_files.py, whose cases these are): a file whose
    second line is STU3 or DSTU2 is named by that line and not read at all, its R4 first
    line included; an R4 file with the same keys nested deeper is read."""
    from test_input_files import earlier_release_cases

    folder = tmp_path / "in"
    folder.mkdir()
    files = {"Patient": [{"resourceType": "Patient", "id": "p1", "birthDate": "1960-01-01",
                          "gender": "male"}]}
    cases = earlier_release_cases()
    for i, (_, r4, marked, _, _) in enumerate(cases):
        files[f"{i}"] = [{**r4, "id": f"r4{i}"}, marked]
    files["kept"] = [{**cases[0][1], "id": "kept", "note": [{"text": "x"}],
                      "evidence": [{"detail": [{"display": "patient"}]}],
                      "extension": [{"url": "http://x", "valueString": "context"}]}]
    for name, lines in files.items():
        (folder / f"{name}.ndjson").write_text("".join(json.dumps(x) + "\n" for x in lines))
    runs = {engine: prescreen(folder, tmp_path / engine,
                              Settings(AS_OF, "pre-screening", engine, 2, full=True))
            for engine in ("duckdb", "spark")}
    assert runs["spark"]["skipped"] == [
        {"file": str(folder / f"{i}.ndjson"), "line": 2, "resource": resource,
         "reason": f"{why}: file skipped"}
        for i, (_, _, _, resource, why) in enumerate(cases)]
    assert runs["spark"]["skipped"] == runs["duckdb"]["skipped"]
    doc = json.loads((tmp_path / "spark" / "results.ndjson").read_text())
    assert doc["resources"]["Condition"]["read"] == 1  # "kept" alone
    assert "Immunization" not in doc["resources"] and "ServiceRequest" not in doc["resources"]
    assert (tmp_path / "spark" / "results.ndjson").read_bytes() == (
        tmp_path / "duckdb" / "results.ndjson").read_bytes()


def _spark_and_screen(folder, out) -> dict[str, dict]:
    run = prescreen(folder, out, Settings(AS_OF, "pre-screening", "spark", 2))
    assert run["skipped"] == []
    docs = [json.loads(x) for x in (out / "results.ndjson").read_text().splitlines()]
    assert len(docs) == len({d["patient"] for d in docs}), "a patient screened twice"
    got = {d["patient"]: d for d in docs}
    assert got == screen_json(folder)
    return got


def test_spark_reads_a_patient_split_between_ndjson_and_a_bundle_once(spark, tmp_path):
    """As test_population.py's DuckDB tests, worked by hand there: example 57 with its
    positive urine hCG alone in a later bundle is one patient, EXCL08 met, not eligible
    (its NDJSON part alone was eligible), also when the bundle names the patient by a
    link or an identifier (test_population_split.py); example 02 with its study in a
    bundle stays eligible."""
    pid = split_export(tmp_path / "in57", "57-positive-urine-hcg-after-negative-serum.json",
                       {"ex57-hcg-urine"})
    got = _spark_and_screen(tmp_path / "in57", tmp_path / "out57")
    assert got[pid]["verdict"] == "not_eligible"
    assert next(c for c in got[pid]["criteria"] if c["id"] == "EXCL08")["status"] == "met"
    pid = split_export(tmp_path / "in02", "02-eligible-man.json", {"lumen"})
    assert _spark_and_screen(tmp_path / "in02", tmp_path / "out02")[pid]["verdict"] == "eligible"
    for how in NAMED_OTHERWISE:  # the bundle names the patient by a link, an identifier
        split_57_named_otherwise(tmp_path / how, how)
        got = _spark_and_screen(tmp_path / how, tmp_path / f"{how}-out")
        assert list(got) == ["ex57"] and got["ex57"]["verdict"] == "not_eligible", how
