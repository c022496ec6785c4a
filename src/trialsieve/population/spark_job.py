"""The population run on Spark (`--engine spark`): local[N] here, a cluster URL there.

Spark reads the same NDJSON files, pulls type, id and patient from each line with the
same rules as the DuckDB scan (source.py), groups by patient and runs the same
per-patient evaluator (evaluate.evaluate: reader, engine.screen, window) inside
`applyInPandas`; the driver streams the results back in patient order into the same
writers. Bundles (`.json`) and the line-by-line account of bad lines are read on the
driver with the same code as the DuckDB path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from functools import reduce
from pathlib import Path

import orjson

from trialsieve.fhir.resource_types import R4_RESOURCE_TYPES
from trialsieve.population.evaluate import Job, Screened
from trialsieve.population.evaluate import evaluate_or_problem as _one
from trialsieve.population.settings import Settings
from trialsieve.population.source import (
    PARSED,
    SHARED_PARSED,
    SUBJECTS,
    Group,
    Problem,
    Row,
    Source,
    bundle_groups,
    identities_of,
    line_problem,
    unresolved,
)
from trialsieve.record.identity import IDENTIFIER, Identities, subject_key

SCHEMA = "pid string, kind string, payload string"
# The driver takes the results back one partition at a time, about 30 KB a patient: a
# partition count fixed by --jobs alone made partitions grow with the population, until
# the driver's heap (1 GB by default) ran out at 10^4 patients.
PATIENTS_PER_PARTITION = 200


def session(master: str, partitions: int, conf: dict[str, str] | None = None):
    """A Spark session; the workers must run this interpreter (it has trialsieve)."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(master).appName("trialsieve-prescreen")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(partitions))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.showConsoleProgress", "false")
            .config(map={**(conf or {})})  # a copy typed as Spark's settings
            .getOrCreate())


def _reference(col):
    """identity.reference_of of a subject field's JSON: the key of its reference (the id,
    whatever the form), else of its identifier."""
    from pyspark.sql import functions as F

    r = F.get_json_object(col, "$.reference")
    bare = F.regexp_replace(F.regexp_replace(F.regexp_replace(r, "/+$", ""),
                                             "/_history/[^/]*$", ""), "/+$", "")
    system = F.get_json_object(col, "$.identifier.system")
    value = F.get_json_object(col, "$.identifier.value")
    return (F.when(r.startswith("urn:uuid:"), F.substring(r, 10, 1 << 30))
            .when(r.isNotNull(), F.element_at(F.split(bare, "/"), -1))
            .when(value.isNotNull() & (value != ""),
                  F.concat(F.lit(IDENTIFIER), F.coalesce(system, F.lit("")), F.lit("|"),
                           value)))


def _resources(spark, src: Source):
    """One row per NDJSON line: file index, order, type, id, patient, text (read types)."""
    from pyspark.sql import functions as F

    frames = [spark.read.text(f).withColumn("fi", F.lit(i)) for i, f in enumerate(src.ndjson)]
    df = reduce(lambda a, b: a.unionByName(b), frames).withColumn(
        "mid", F.monotonically_increasing_id())  # increasing in file, then line, order
    j = df.select("fi", "mid", "value", F.json_tuple("value", "resourceType", "id",
                                                     *SUBJECTS))
    subject = F.coalesce(*(_reference(F.col(f"c{i + 2}")) for i in range(len(SUBJECTS))))
    return j.select(
        "fi", "mid", F.col("c0").alias("rtype"), F.col("c1").alias("rid"),
        F.when(F.col("c0") == "Patient", F.col("c1")).otherwise(subject).alias("pid"),
        F.when(F.col("c0").isin(*sorted(PARSED | SHARED_PARSED)), F.col("value"))
        .alias("text"),
        (F.trim("value") == "").alias("blank"))


def _screen_pandas(job: Job):
    def run(pdf):
        import pandas as pd

        pdf = pdf.sort_values(["fi", "mid"])
        rows = [Row(int(fi), rtype, rid, text) for fi, rtype, rid, text in zip(
            pdf["fi"], pdf["rtype"], pdf["rid"].where(pdf["rid"].notna(), None),
            pdf["text"].where(pdf["text"].notna(), None), strict=True)]
        pid = pdf["pid"].iloc[0]
        out = _one(Group(pid, rows), job)
        if isinstance(out, Problem):
            return pd.DataFrame({"pid": [pid], "kind": ["problem"],
                                 "payload": [orjson.dumps(out.to_json()).decode()]})
        fields = {k: getattr(out, k) for k in Screened.__dataclass_fields__}
        fields["document"] = out.document.decode()
        return pd.DataFrame({"pid": [pid], "kind": ["ok"],
                             "payload": [orjson.dumps(fields).decode()]})

    return run


def _decode(kind: str, payload: str) -> Screened | Problem:
    d = orjson.loads(payload)
    if kind == "problem":
        return Problem(d["file"], d["line"], d["reason"], d["resource"])
    return Screened(d["pid"], d["verdict"], tuple(d["statuses"]), d["earliest_d0"],
                    d["latest_d0"], tuple(d["missing"]), d["document"].encode(),
                    d.get("deceased"))


def spark_screen(src: Source, s: Settings, job: Job) -> Iterator[Screened | Problem]:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    owned = SparkSession.getActiveSession() is None
    spark = session(s.master or f"local[{s.jobs}]", max(2, 4 * s.jobs))
    try:
        if src.ndjson:
            from pyspark import StorageLevel

            # read once; on disk, not in the heap that takes the results back (in local
            # mode the driver's: with the text cached there, 2x10^4 patients ran it out)
            res = _resources(spark, src).persist(StorageLevel.DISK_ONLY)
            known = F.col("rtype").isin(*sorted(R4_RESOURCE_TYPES))
            nobody = _resolve(res, known, src)
            _side(res, known, src, nobody)
            # Range partitions by patient: each applyInPandas output partition holds a
            # range of ids, sorted within, so the driver reads them back in patient order
            # without a global sort of the results.
            good = res.filter(known & F.col("pid").isNotNull())
            if nobody:
                good = good.filter(~F.col("pid").isin(*sorted(nobody)))
            moved = _moved(src.identities, nobody)
            if moved:
                pairs = [F.lit(x) for kv in sorted(moved.items()) for x in kv]
                good = good.withColumn("pid", F.coalesce(F.create_map(*pairs)[F.col("pid")],
                                                         F.col("pid")))
            patients = good.select("pid").distinct().count()
            parts = max(2, 4 * s.jobs, -(-patients // PATIENTS_PER_PARTITION))
            screened = (good.select("pid", "fi", "mid", "rtype", "rid", "text")
                        .repartitionByRange(parts, "pid")
                        .groupBy("pid")
                        .applyInPandas(_screen_pandas(job), SCHEMA)
                        .sortWithinPartitions("pid"))
            yield from _written_back(screened)
            res.unpersist()

        for g in bundle_groups(src):
            yield _one(g, job)
    finally:
        if owned:
            spark.stop()


def _written_back(screened) -> Iterator[Screened | Problem]:
    """The results, written by the executors one Parquet file a partition and read back
    here one file at a time, in partition (= patient) order. Not through toLocalIterator:
    the driver's JVM kept about 25 KB of every patient it served, and ran out of heap
    after some 15,000 patients. With a cluster, TMPDIR must be a folder that the driver
    and the executors share."""
    import tempfile

    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="trialsieve-spark-") as tmp:
        screened.write.parquet(str(Path(tmp) / "results"))
        for part in sorted((Path(tmp) / "results").glob("part-*.parquet")):
            table = pq.read_table(part, columns=["kind", "payload"])
            for kind, payload in zip(*(c.to_pylist() for c in table.columns), strict=True):
                yield _decode(kind, payload)


def _resolve(res, known, src: Source) -> dict[str, str]:
    """As source._resolve: the identities of the Patients that hold a link or an
    identifier, into src.identities; the identifier keys that resolve to no one patient
    (key -> reason) returned."""
    from pyspark.sql import functions as F

    idents = [r.pid for r in res.filter(known & F.col("pid").startswith(IDENTIFIER))
              .select("pid").distinct().collect()]
    patients = res.filter((F.col("rtype") == "Patient") & F.col("text").isNotNull())
    wanted = F.col("text").contains('"link"')
    if idents:
        wanted = wanted | F.col("text").contains('"identifier"')
    texts = [orjson.loads(r.text) for r in patients.filter(wanted).orderBy("fi", "mid")
             .select("text").collect()]
    if not texts and not idents:
        return {}

    def exists(ids: list[str]) -> set[str]:
        return {r.rid for r in patients.filter(F.col("rid").isin(*ids)).select("rid")
                .distinct().collect()}

    ids = identities_of(texts, exists, idents)
    src.identities.aliases.update(ids.aliases)
    src.identities.ambiguous.update(ids.ambiguous)
    return {k: ids.why_not(k) for k in idents if ids.pid(k) is None}


def _moved(ids: Identities, nobody: dict[str, str]) -> dict[str, str]:
    """Keys the scan gave that name another patient id (a linked one, an identifier)."""
    return {k: v for k, v in ids.aliases.items() if k not in nobody}


def _side(res, known, src: Source, nobody: dict[str, str]) -> None:
    """One pass for what is not a patient's: files with bad lines or subjects that resolve
    to no one, shared Medication, resources about no patient."""
    from pyspark.sql import functions as F

    kind = (F.when(~F.col("blank") & (F.col("rtype").isNull() | ~known), "bad")
            .when(known & F.col("pid").isin(*sorted(nobody or {""})), "bad")
            .when(known & F.col("pid").isNull(), "shared"))
    side = (res.select("fi", kind.alias("kind"), "rid", "text").filter(F.col("kind").isNotNull())
            .groupBy("fi", "kind")
            .agg(F.count("*").alias("n"),
                 F.collect_list(F.when(F.col("text").isNotNull(),
                                       F.struct("rid", "text"))).alias("parsed"))
            .collect())
    for r in sorted(side, key=lambda r: (r.fi, r.kind)):
        if r.kind == "bad":  # say which line and why, as the DuckDB path does
            src.problems += locate(src.ndjson[r.fi], nobody, src.identities)
        else:
            src.unattached += r.n
            src.shared.update({p.rid: orjson.loads(p.text) for p in r.parsed})


def locate(file: str, nobody: dict[str, str] | None = None,
           ids: Identities | None = None) -> list[Problem]:
    """Every bad line of one NDJSON file, numbered as an editor numbers them, and every
    line whose subject resolves to no one patient (`nobody`: its keys)."""
    out = []
    with open(Path(file), "rb") as f:
        for n, line in enumerate(f, 1):
            why = line_problem(line)
            if why:
                out.append(Problem(file, n, *why))
            elif nobody and ids is not None and line.strip():
                res = orjson.loads(line)
                key = subject_key(res)[0]
                if key in nobody:
                    read = res["resourceType"] in PARSED | SHARED_PARSED
                    out.append(Problem(file, n, unresolved(key, ids, res if read else None),
                                       f"{res['resourceType']}/{res.get('id') or '?'}"))
    return out
