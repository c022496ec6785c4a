"""The population run on Spark (`--engine spark`): local[N] here, a cluster URL there.

Spark reads the same NDJSON files, pulls type, id and patient from each line with the
same rules as the DuckDB scan (source.py), runs the pre-screening triage's look in Spark
SQL and sets aside the same patients (a Patient resource and counts go to Python, not
their records), sorts by patient and runs the same per-patient evaluator
(evaluate.evaluate: reader, engine.screen, window) over each partition's Arrow batches
(`mapInArrow`: no pandas frame a patient); the driver streams the results back in
patient order into the same writers. Bundles (`.json`) and the line-by-line account of
bad lines are read on the driver with the same code as the DuckDB path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from trialsieve.fhir import versions
from trialsieve.fhir.resource_types import R4_RESOURCE_TYPES
from trialsieve.population.evaluate import Job, Screened
from trialsieve.population.evaluate import evaluate_or_problem as _one
from trialsieve.population.settings import Settings
from trialsieve.population.source import (
    PARSED,
    SHARED_PARSED,
    SUBJECTS,
    BundlePeople,
    Group,
    Problem,
    Row,
    Source,
    bundle_groups,
    bundle_people,
    groups_of,
    identities_of,
    line_problem,
    newest_shared,
    unresolved,
)
from trialsieve.population.triage import DATA_VALUE, JSON_BREAKS
from trialsieve.record.identity import IDENTIFIER, Identities, subject_key

if TYPE_CHECKING:
    import pyarrow as pa

    from trialsieve.population.triage import Look

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
        (F.trim("value") == "").alias("blank"), _may_be_earlier().alias("mark"))


def _may_be_earlier():
    """Whether a line may be of an earlier FHIR release (versions.line_patterns: a
    superset, told for certain on the driver by `_earlier_releases`)."""
    from pyspark.sql import functions as F

    rtype, line = F.col("c0"), F.col("value")
    return reduce(lambda a, b: a | b, (
        (rtype == t) & (line.rlike(pattern) if pattern else F.lit(True))
        for t, pattern in versions.line_patterns().items()))


def _earlier_releases(res, src: Source) -> set[int]:
    """The NDJSON files holding a line of an earlier FHIR release, not read at all (as
    `screen` and the DuckDB scan do not read them), each named by its first such line."""
    skipped = set()
    for fi in sorted(r.fi for r in res.filter("mark").select("fi").distinct().collect()):
        with open(src.ndjson[fi], "rb") as f:
            for n, line in enumerate(f, 1):
                try:
                    one = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # a bad line: named as such by `_side`
                found = versions.earlier(one) if isinstance(one, dict) else None
                if found is not None:
                    rid = one.get("id")
                    where = f"{one['resourceType']}/{rid if isinstance(rid, str) else '?'}"
                    src.problems.append(Problem(src.ndjson[fi], n,
                                                f"{found.message}: file skipped",
                                                f"{where}: {found.field}"))
                    skipped.add(fi)
                    break
    return skipped


def _screen_arrow(job: Job):
    """The Python side, one call a partition: its rows come sorted by patient as Arrow
    batches with the columns of `source.groups_of`; a patient may run on into the next
    batch. Each patient is evaluated as the DuckDB path's workers evaluate it (a patient
    set aside by the look in Spark SQL, on its Patient resource and counts only)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import pyarrow as pa
        import pyarrow.compute as pc

        carry = None
        for batch in batches:
            table = pa.Table.from_batches([batch])
            if carry is not None:
                table = pa.concat_tables([carry, table])
            if not table.num_rows:
                continue
            cut = pc.index(table["pid"], table["pid"][-1]).as_py()
            if cut:
                yield _results(groups_of(table.slice(0, cut)), job)
            carry = table.slice(cut)
        if carry is not None and carry.num_rows:
            yield _results(groups_of(carry), job)

    return run


def _results(groups: Iterable[Group], job: Job) -> pa.RecordBatch:
    import pyarrow as pa

    pids, kinds, payloads = [], [], []
    for g in groups:
        out = _one(g, job)
        pids.append(g.pid)
        if isinstance(out, Problem):
            kinds.append("problem")
            payloads.append(orjson.dumps(out.to_json()).decode())
            continue
        fields = {k: getattr(out, k) for k in Screened.__dataclass_fields__}
        fields["document"] = out.document.decode()
        kinds.append("ok")
        payloads.append(orjson.dumps(fields).decode())
    return pa.RecordBatch.from_arrays([pa.array(pids, pa.string()), pa.array(kinds, pa.string()),
                                       pa.array(payloads, pa.string())],
                                      names=["pid", "kind", "payload"])


def finds(text, look: Look):
    """Spark SQL: whether the text column `text` holds something the look finds, as
    `Look.finds` and `Look.sql` say: codes, and the words of a report or of an
    attachment's base64, decoded (Java's (?i) folds ASCII only unless told (?u), where
    Python's re and RE2 fold Unicode)."""
    from pyspark.sql import functions as F

    def java(pattern: str) -> str:
        return pattern.replace("(?i", "(?iu")

    coded = text.rlike(java(look.code)) | (
        text.contains("\\u") & text.rlike(java(look.escaped_key)))
    if not look.text:
        return coded
    # each "data" key's value as the SQL look takes it: the line cut at the keys, each
    # piece read from its start; one that does not decode might say it (kept)
    pieces = F.split(F.regexp_replace(text, JSON_BREAKS, ""), '"data"')
    values = F.transform(F.slice(pieces, 2, F.greatest(F.size(pieces), F.lit(1))),
                         lambda p: F.regexp_extract(p, DATA_VALUE, 1))

    def says(value):
        raw = F.try_to_binary(F.regexp_replace(value, r"\\/", "/"), F.lit("base64"))
        return F.coalesce(raw.cast("string").rlike(java(look.data)), F.lit(True))

    return coded | text.rlike(java(look.text)) | (
        text.contains('"data"') & F.coalesce(F.exists(values, says), F.lit(False)))


def _triaged(good, look: Look | None):
    """The rows `groups_of` reads (pid, fi, mid, rtype, rid, text, n, aside, pos, len),
    as the DuckDB scan gives them (source._patients): with the look, a patient in whose
    lines it finds nothing and who has a Patient resource is set aside: its Patient
    resource, and one row a file and type counting the others."""
    from pyspark.sql import functions as F

    n, no = F.lit(1).cast("long"), F.lit(None).cast("long")
    if look is None:
        return good.select("pid", "fi", "mid", "rtype", "rid", "text", n.alias("n"),
                           F.lit(False).alias("aside"), no.alias("pos"), no.alias("len"))
    hit = F.col("text").isNotNull() & finds(F.col("text"), look)
    flags = good.groupBy("pid").agg(
        (F.max(F.when(hit, 1).otherwise(0)) == 0).alias("none"),
        (F.max(F.when(F.col("rtype") == "Patient", 1).otherwise(0)) == 1).alias("patient"))
    rows = good.join(flags, "pid").withColumn("aside", F.col("none") & F.col("patient"))
    whole = rows.filter(~F.col("aside") | (F.col("rtype") == "Patient")).select(
        "pid", "fi", "mid", "rtype", "rid", "text", n.alias("n"), "aside")
    counted = (rows.filter(F.col("aside") & (F.col("rtype") != "Patient"))
               .groupBy("pid", "fi", "rtype")
               .agg(F.min("mid").alias("mid"), F.count("*").alias("n"))
               .select("pid", "fi", "mid", "rtype", F.lit(None).cast("string").alias("rid"),
                       F.lit(None).cast("string").alias("text"), "n",
                       F.lit(True).alias("aside")))
    return whole.unionByName(counted).select("*", no.alias("pos"), no.alias("len"))


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
    # a patient the bundles hold too is read whole with them, as the DuckDB path does
    people = bundle_people(src) if src.bundles else None
    held: dict[str, list[Row]] = {}
    try:
        if src.ndjson:
            from pyspark import StorageLevel

            # read once; on disk, not in the heap that takes the results back (in local
            # mode the driver's: with the text cached there, 2x10^4 patients ran it out)
            stored = _resources(spark, src).persist(StorageLevel.DISK_ONLY)
            res = stored
            if skipped := _earlier_releases(stored, src):
                res = stored.filter(~F.col("fi").isin(*skipped))
            known = F.col("rtype").isin(*sorted(R4_RESOURCE_TYPES))
            nobody = _resolve(res, known, src, people)
            both = sorted(people.last) if people else []  # the NDJSON's Patients joined
            _side(res, known, src, nobody)
            # Range partitions by patient: each output partition holds a range of ids,
            # sorted within, so the driver reads them back in patient order without a
            # global sort of the results.
            good = res.filter(known & F.col("pid").isNotNull())
            if nobody:
                good = good.filter(~F.col("pid").isin(*sorted(nobody)))
            moved = _moved(src.identities, nobody)
            if moved:
                pairs = [F.lit(x) for kv in sorted(moved.items()) for x in kv]
                good = good.withColumn("pid", F.coalesce(F.create_map(*pairs)[F.col("pid")],
                                                         F.col("pid")))
            if both:
                held = _held(good.filter(F.col("pid").isin(*both)))
                good = good.filter(~F.col("pid").isin(*both))
            patients = good.select("pid").distinct().count()
            parts = max(2, 4 * s.jobs, -(-patients // PATIENTS_PER_PARTITION))
            # sorted within each range of patients, patient by patient in input order:
            # the rows of groups_of, handed to Python a partition at a time as Arrow
            screened = (_triaged(good, job.triage)
                        .repartitionByRange(parts, "pid")
                        .sortWithinPartitions("pid", "fi", "mid")
                        .drop("mid")
                        .mapInArrow(_screen_arrow(job), SCHEMA))
            yield from _written_back(screened)
            stored.unpersist()
        else:
            src.shared.update(newest_shared([], src.bundle_shared))

        if people:
            for g in bundle_groups(src, people, held):
                yield _one(g, job)
    finally:
        if owned:
            spark.stop()


def _held(part) -> dict[str, list[Row]]:
    """The NDJSON rows of the patients the bundles hold too, on the driver (a few: two
    exports of one patient), in input order: as the DuckDB scan's rows, each text kept."""
    held: dict[str, list[Row]] = {}
    for r in part.orderBy("pid", "fi", "mid").collect():
        held.setdefault(r["pid"], []).append(Row(r["fi"], r["rtype"], r["rid"], r["text"]))
    return held


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


def _resolve(res, known, src: Source, people: BundlePeople | None) -> dict[str, str]:
    """As source._resolve: the identities of the Patients that hold a link or an
    identifier, and of the bundles' Patients (`people`, rekeyed), into src.identities;
    the identifier keys that resolve to no one patient (key -> reason) returned."""
    from pyspark.sql import functions as F

    idents = [r.pid for r in res.filter(known & F.col("pid").startswith(IDENTIFIER))
              .select("pid").distinct().collect()]
    patients = res.filter((F.col("rtype") == "Patient") & F.col("text").isNotNull())
    wanted = F.col("text").contains('"link"')
    if idents or (people and people.by_identifier()):
        wanted = wanted | F.col("text").contains('"identifier"')
    texts = [orjson.loads(r.text) for r in patients.filter(wanted).orderBy("fi", "mid")
             .select("text").collect()]
    if not texts and not idents and not (people and people.patients):
        return {}

    def exists(ids: list[str]) -> set[str]:
        return {r.rid for r in patients.filter(F.col("rid").isin(*ids)).select("rid")
                .distinct().collect()}

    ids = identities_of(texts, exists, idents, people)
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
    shared = []
    for r in sorted(side, key=lambda r: (r.fi, r.kind)):
        if r.kind == "bad":  # say which line and why, as the DuckDB path does
            src.problems += locate(src.ndjson[r.fi], nobody, src.identities)
        else:
            src.unattached += r.n
            shared += [(p.rid, p.text) for p in r.parsed]
    src.shared.update(newest_shared(shared, src.bundle_shared))


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
