"""A population's FHIR input, read into one group of resources per patient.

Bulk NDJSON goes through DuckDB: one scan pulls, from each line, its resource type, id
and patient (the reader's own rules: the Patient's id, else the first of subject /
patient / beneficiary / individual that holds a string reference, urn:uuid or
Type/id), keeps the line's text only for the types the criteria read, and sorts by
patient on disk, so memory stays bounded whatever the population size. Resource types
no rule reads are counted, never parsed. Bundles (`.json`) are read one file at a time
with the reader's own code.

Each patient comes out as `Group(pid, rows)`, rows in input order (file, then line), so
that `fhir.reader._record` builds exactly the record `trialsieve screen` builds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from trialsieve.fhir.errors import InputError
from trialsieve.fhir.mapping import MAPPERS
from trialsieve.fhir.resource_types import R4_RESOURCE_TYPES

# Parsed per patient: what the mappers read, the Patient, and lesion BodyStructures
# (looked up by TumorSize.focus and radiotherapy sites). Parsed once for everyone: the
# resources about no one patient that the mappers look up by reference (a Medication of
# a MedicationStatement, the ResearchStudy a Consent names).
PARSED = frozenset(MAPPERS) | {"Patient", "BodyStructure"}
SHARED_PARSED = frozenset({"Medication", "ResearchStudy"})
SUBJECTS = ("subject", "patient", "beneficiary", "individual")  # = reader.SUBJECT_FIELDS


@dataclass(frozen=True)
class Row:
    """One resource of a patient: its file (index into Source.files), type, id, and the
    JSON text when its type is read (None: counted only)."""

    file: int
    rtype: str
    rid: str | None
    text: str | bytes | dict | None


@dataclass(frozen=True)
class Group:
    pid: str
    rows: list[Row]
    lookup: dict[str, dict] | None = None  # a bundle's resources, looked up by reference


@dataclass(frozen=True)
class Problem:
    """Something skipped: a file, a line, or a patient; with why."""

    file: str
    line: int | None
    reason: str
    resource: str | None = None

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "resource": self.resource,
                "reason": self.reason}


@dataclass
class Source:
    path: Path
    ndjson: list[str]
    bundles: list[str]
    problems: list[Problem] = field(default_factory=list)
    unattached: int = 0  # resources about no one patient (directories, Medication)
    shared: dict[str, dict] = field(default_factory=dict)  # id -> Medication

    @property
    def files(self) -> list[str]:
        return self.ndjson + self.bundles


def discover(path: str | Path) -> Source:
    """The files `trialsieve screen` would read, in the same order."""
    p = Path(path)
    if not p.exists():
        raise InputError(str(p), "no such file or folder")
    files = sorted(f for f in p.rglob("*") if f.suffix in (".json", ".ndjson")
                   and not f.is_dir()) if p.is_dir() else [p]
    if not files:
        raise InputError(str(p), "no .json or .ndjson file in this folder")
    return Source(p, [str(f) for f in files if f.suffix == ".ndjson"],
                  [str(f) for f in files if f.suffix == ".json"])


def _sql_list(items: object) -> str:  # a SQL list (or IN list) of string literals
    return "[" + ", ".join("'" + str(x).replace("'", "''") + "'" for x in items) + "]"


def _reference(r: str) -> str:
    """SQL for reader.reference_id of a string reference `r`."""
    return (f"CASE WHEN starts_with({r}, 'urn:uuid:') THEN {r}[10:] "
            f"ELSE string_split(rtrim({r}, '/'), '/')[-1] END")


def _string(x: str) -> str:
    """SQL: the JSON value `x` (as json_extract gives it) when it is a string, else NULL."""
    return f"CASE WHEN left({x}, 1) = '\"' THEN {x} ->> '$' END"


def load_duckdb(con, src: Source, tmp: str) -> list[int]:
    """Scan every NDJSON line once into table `res`, in input order (rowid); return the
    first rowid of each file, so that a line's number is rowid - start + 1.

    One INSERT per file: a parallel scan of several files interleaves them, while one
    file's lines keep their order. Each stage computes a value once for the next. A file
    the scan refuses (a line not UTF-8, or over DuckDB's line size) is scanned again
    from a copy in which each such line reads as its reason (`_scannable`)."""
    import duckdb

    starts, total = [], 0
    for i, f in enumerate(src.ndjson):
        into = "CREATE TABLE res AS" if i == 0 else "INSERT INTO res"
        try:
            con.execute(_scan(into, i, f))
        except duckdb.Error:  # rare: what the reader skips line by line, found in Python
            copy, longest = _scannable(f, str(Path(tmp) / f"{i}.ndjson"), src)
            con.execute(_scan(into, i, copy, copy_line_size=max(longest + 1, 2 << 20)))
        starts.append(total)
        total = con.execute("SELECT count(*) FROM res").fetchall()[0][0]
    return starts


UNREADABLE = "\x02"  # starts a line of a `_scannable` copy that stands for an unread line


def _scannable(f: str, copy: str, src: Source) -> tuple[str, int]:
    """A copy of NDJSON file `f`, line for line, in which a line that is not UTF-8 or is
    longer than the reader's limit is replaced by UNREADABLE + the reader's reason; and its
    longest line. A file that cannot be read is reported whole and scanned as empty."""
    from trialsieve.fhir.limits import MAX_LINE_BYTES
    from trialsieve.fhir.reader import _lines

    longest = 0
    with open(copy, "wb") as out:
        try:
            with open(f, "rb") as fh:
                for raw in _lines(fh):
                    why = (f"line longer than {MAX_LINE_BYTES // 2**20} MiB" if raw is None
                           else _not_utf8(raw) or ("not valid JSON"
                                                   if raw.startswith(UNREADABLE.encode())
                                                   else None))
                    line = (UNREADABLE + why).encode() + b"\n" if why else raw
                    longest = max(longest, len(line))
                    out.write(line)
        except OSError as exc:
            out.truncate(0)
            src.problems.append(Problem(f, None, f"cannot read: {exc.strerror or exc}: "
                                        "file skipped"))
    return copy, longest


def _not_utf8(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 ({exc.reason})"
    return None


def _scan(into: str, i: int, path: str, copy_line_size: int | None = None) -> str:
    """The scan of file `i`; of a `_scannable` copy when its line size is given."""
    paths = ["$.resourceType", "$.id"] + [f"$.{s}.reference" for s in SUBJECTS]
    refs = [f"r{k}" for k in range(len(SUBJECTS))]
    size, unread = "", ""
    if copy_line_size:
        size = f", max_line_size={copy_line_size}, buffer_size={2 * copy_line_size}"
        unread = f"WHEN starts_with(line, '{UNREADABLE}') THEN line[2:]"
    return f"""
        {into}
        WITH parsed AS (  -- try: NULL for a line that is not JSON (one parse per line)
            SELECT line, try(json_extract(line, {_sql_list(paths)})) AS x
            FROM read_csv({_sql_list([path])}, columns={{'line': 'VARCHAR'}},
                          header=false, delim='\x01', quote='', escape='', auto_detect=false,
                          strict_mode=false{size})),
        fields AS (
            SELECT line, x IS NOT NULL AS ok, {_string("x[1]")} AS rtype, x[2] ->> '$' AS rid,
                   x[2] IS NULL OR left(x[2], 1) = '"' AS id_ok,
                   {", ".join(f"{_string(f'x[{k + 3}]')} AS {r}" for k, r in enumerate(refs))}
            FROM parsed)
        SELECT {i} AS fi, NOT ok AND (line IS NULL OR trim(line) = '') AS blank, rtype, rid,
               CASE WHEN rtype = 'Patient' THEN rid
                    ELSE coalesce({", ".join(_reference(r) for r in refs)}) END AS pid,
               CASE WHEN rtype IN {_sql_list(sorted(PARSED | SHARED_PARSED))}
                    THEN line END AS text,
               CASE WHEN NOT ok AND (line IS NULL OR trim(line) = '') THEN NULL
                    {unread}
                    WHEN NOT ok THEN 'not valid JSON'
                    WHEN rtype IS NULL THEN 'JSON but not FHIR: no resourceType'
                    WHEN rtype NOT IN {_sql_list(sorted(R4_RESOURCE_TYPES))}
                        THEN 'unknown FHIR R4 resource type ' || rtype || ': not read'
                    WHEN NOT id_ok THEN 'id must be a string'
               END AS reason
        FROM fields"""


def duckdb_groups(src: Source, jobs: int, batch_rows: int = 20_000,
                  memory_limit: str = "512MB") -> Iterator[Group]:
    """Every patient of the NDJSON files, ordered by patient id, streamed in batches."""
    if not src.ndjson:
        return
    import duckdb

    with tempfile.TemporaryDirectory(prefix="trialsieve-") as tmp:
        con = duckdb.connect(str(Path(tmp) / "population.duckdb"))
        con.execute(f"SET threads = {max(1, jobs)}; SET memory_limit = '{memory_limit}'; "
                    f"SET temp_directory = '{tmp}'; SET preserve_insertion_order = true; "
                    "SET enable_progress_bar = false")
        starts = load_duckdb(con, src, tmp)
        for fi, rowid, reason, rtype, rid in con.execute(
                "SELECT fi, rowid, reason, rtype, rid FROM res WHERE reason IS NOT NULL "
                "ORDER BY rowid").fetchall():
            src.problems.append(Problem(src.ndjson[fi], rowid - starts[fi] + 1, reason,
                                        f"{rtype}/{rid or '?'}" if rtype else None))
        good = "reason IS NULL AND NOT blank"
        for rid, text in con.execute(f"SELECT rid, text FROM res WHERE {good} AND pid IS NULL "
                                     "AND text IS NOT NULL").fetchall():
            src.shared[rid] = orjson.loads(text)
        src.unattached = con.execute(f"SELECT count(*) FROM res WHERE {good} AND pid IS NULL"
                                     ).fetchall()[0][0]
        reader = con.sql(f"SELECT pid, fi, rtype, rid, text FROM res WHERE {good} "
                         "AND pid IS NOT NULL ORDER BY pid, rowid").to_arrow_reader(batch_rows)
        pid, rows = None, []
        for batch in reader:
            for p, fi, rtype, rid, text in zip(*(c.to_pylist() for c in batch.columns),
                                               strict=True):
                if p != pid:
                    if rows:
                        yield Group(pid, rows)
                    pid, rows = p, []
                rows.append(Row(fi, rtype, rid, text))
        if rows:
            yield Group(pid, rows)
        con.close()


def bundle_groups(src: Source) -> Iterator[Group]:
    """Patients of each bundle file, one file at a time, with the reader's own code."""
    from trialsieve.fhir.reader import NotFhir, _patient_of, _resources

    for f in src.bundles:
        fi = src.files.index(f)
        try:
            resources = list(_resources(Path(f)))
        except NotFhir as exc:
            src.problems.append(Problem(f, None, f"{exc.message}: file skipped"))
            continue
        except InputError as exc:
            src.problems.append(Problem(f, None, f"{exc}: file skipped"))
            continue
        urls = {r["_fullUrl"]: r["id"] for r in resources
                if r["resourceType"] == "Patient" and "_fullUrl" in r and "id" in r}
        groups: dict[str, list[Row]] = {}
        shared: dict[str, dict] = {}
        for res in resources:
            rtype = res["resourceType"]
            if rtype not in R4_RESOURCE_TYPES:
                src.problems.append(Problem(f, None, f"unknown FHIR R4 resource type "
                                            f"{rtype!r}: not read", rtype))
                continue
            if isinstance(res.get("id"), str):  # the reader looks up any resource of the input
                shared[res["id"]] = res
            p = _patient_of(res, urls)
            if p is None:
                src.unattached += 1
                continue
            groups.setdefault(p, []).append(Row(fi, rtype, res.get("id"), res))
        yield from (Group(p, rows, shared) for p, rows in groups.items())


def line_problem(line: bytes) -> tuple[str, str | None] | None:
    """Why one NDJSON line cannot be read (the reasons the DuckDB scan gives), or None."""
    if not line.strip():
        return None
    if why := _not_utf8(line):
        return why, None
    try:
        res = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "not valid JSON", None
    rtype = res.get("resourceType") if isinstance(res, dict) else None
    if not isinstance(rtype, str):
        return "JSON but not FHIR: no resourceType", None
    rid = res.get("id")
    where = f"{rtype}/{rid if isinstance(rid, str) and rid else '?'}"
    if rtype not in R4_RESOURCE_TYPES:
        return f"unknown FHIR R4 resource type {rtype}: not read", where
    if rid is not None and not isinstance(rid, str):
        return "id must be a string", where
    return None
