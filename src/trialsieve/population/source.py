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

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import orjson

from trialsieve.fhir import versions
from trialsieve.fhir.errors import InputError
from trialsieve.fhir.reader import READ, references
from trialsieve.fhir.resource_types import R4_RESOURCE_TYPES
from trialsieve.population.sql import literal as _literal
from trialsieve.population.sql import string_list as _sql_list
from trialsieve.record.identity import IDENTIFIER, SUBJECT_FIELDS, Identities, owner, subject_key

# Parsed per patient: what the mappers read, the Patient, and lesion BodyStructures
# (looked up by TumorSize.focus and radiotherapy sites). Parsed once for everyone: the
# resources about no one patient that the mappers look up by reference (a Medication of
# a MedicationStatement, the ResearchStudy a Consent names).
PARSED = READ  # what the reader reads of a patient (fhir/reader.py), documents too
# about no one patient: a Medication, a study, a Binary a document points to
SHARED_PARSED = frozenset({"Medication", "ResearchStudy", "Binary"})
if TYPE_CHECKING:
    import pyarrow as pa

    from trialsieve.population.triage import Look

SUBJECTS = SUBJECT_FIELDS


class Span(NamedTuple):
    """Where a line's text is in its file: read by the worker that evaluates the patient
    (the scan's second pass), so that the scan keeps no text but what it needs itself."""

    at: int  # byte offset of the line
    length: int  # bytes, without the line's end


class Row(NamedTuple):  # a tuple: made hundreds of times a patient
    """One resource of a patient: its file (index into Source.files), type, id, and the
    JSON text when its type is read, or where that text is (None: counted only)."""

    file: int
    rtype: str
    rid: str | None
    text: str | bytes | dict | Span | None
    n: int = 1  # of a set-aside patient: the resources of this type in this file


@dataclass(frozen=True)
class Group:
    pid: str
    rows: list[Row]
    lookup: dict[str, dict] | None = None  # a bundle's resources, looked up by reference
    # set aside by the triage (population/triage.py) in the scan: rows are the Patient
    # resource and a count a type and file; None: not decided in the scan
    aside: bool | None = None


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
    scanned: float | None = None  # time.monotonic() when the NDJSON scan was done
    # of the NDJSON patients, as the scan found them: how many, and how many of them are
    # evaluated in full (not set aside by the triage); None before the scan
    patients: int | None = None
    evaluated: int | None = None
    # who is who beyond a reference's id (identifiers, links): filled by the scan
    identities: Identities = field(default_factory=Identities)
    # files of the folder that are not input (a README, a CSV export): named, not counted
    notes: list[str] = field(default_factory=list)
    # the bundles' resources about no one patient, with their files (`bundle_people`),
    # read into `shared` with the NDJSON ones: a patient of one file may name a
    # Medication of another
    bundle_shared: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return self.ndjson + self.bundles


def discover(path: str | Path) -> Source:
    """The files `trialsieve screen` would read, in the same order (the reader's own
    listing): a folder's other files are named as `screen` names them, FHIR XML (and a
    file that is not a regular one) as a problem, a README or a CSV in `notes`."""
    from trialsieve.fhir.reader import Loaded, listing

    p = Path(path)
    if not p.exists():
        raise InputError(str(p), "no such file or folder")
    listed = Loaded()
    files = listing(p, listed) if p.is_dir() else [p]
    if not files and not listed.skipped and not listed.warnings:
        raise InputError(str(p), "no .json or .ndjson file in this folder")
    src = Source(p, [str(f) for f in files if f.suffix == ".ndjson"],
                 [str(f) for f in files if f.suffix != ".ndjson"])
    src.notes = [str(w) for w in listed.warnings]
    src.problems = [Problem(w.file, None, w.message,
                            ": ".join(x for x in (w.source, w.field) if x) or None)
                    for w in listed.skipped]
    return src


def _reference(r: str) -> str:
    """SQL for identity.reference_key of a string reference `r` (the id, whatever the
    form: relative, _history, absolute URL, urn:uuid)."""
    bare = f"regexp_replace(rtrim({r}, '/'), '/_history/[^/]*$', '')"
    return (f"CASE WHEN starts_with({r}, 'urn:uuid:') THEN {r}[10:] "
            f"ELSE string_split(rtrim({bare}, '/'), '/')[-1] END")


def _subject(r: str, system: str, value: str) -> str:
    """SQL for identity.reference_of: the key of a reference, else of an identifier."""
    return (f"CASE WHEN {r} IS NOT NULL THEN {_reference(r)} "
            f"WHEN {value} IS NOT NULL AND {value} <> '' THEN "
            f"'{IDENTIFIER}' || coalesce({system}, '') || '|' || {value} END")


def _string(x: str) -> str:
    """SQL: the JSON value `x` (as json_extract gives it) when it is a string, else NULL."""
    return f"CASE WHEN left({x}, 1) = '\"' THEN {x} ->> '$' END"


def _first_type(path: str) -> object:
    """The resourceType of the file's first line (None when it cannot be read so)."""
    with open(path, "rb") as f:
        line = f.readline(1 << 20)
    try:
        res = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return res.get("resourceType") if isinstance(res, dict) else None


REFS = [f"r{i}" for i in range(len(SUBJECTS))]
SYSTEMS = [f"s{i}" for i in range(len(SUBJECTS))]  # subject.identifier.system, .value
VALUES = [f"v{i}" for i in range(len(SUBJECTS))]
READ = frozenset(PARSED | SHARED_PARSED)
# bytes.strip()'s whitespace: a line of these alone is blank to the reader
WHITESPACE = " \t\n\r\x0b\x0c"
# text: a line's text, kept only where the scan needs it itself (a Patient, a resource
# about no one patient, a subject by identifier) or where no Span can stand for it (a
# scanned copy); len: the line's bytes (a Span's length, its offset a sum of them); hit:
# the triage's look found something in the line
RES = ("CREATE TABLE res (fi INTEGER, blank BOOLEAN, rtype VARCHAR, rid VARCHAR, pid VARCHAR, "
       "text VARCHAR, reason VARCHAR, len BIGINT, hit BOOLEAN)")


def _in(col: str, types: frozenset[str], first: object) -> str:
    """SQL: `col` IN `types`. A file's lines are mostly of its first line's type: that one
    is answered by one comparison, the list (over a hundred R4 types, scanned in order
    since IN lists must not become joins) only for the other rows."""
    whole = f"{col} IN {_sql_list(sorted(types))}"
    if not isinstance(first, str):
        return whole
    return f"CASE WHEN {col} = {_literal(first)} THEN {first in types} ELSE {whole} END"


def _pid() -> str:
    """SQL: the line's patient key (identity.subject_key) from `rtype`, `rid`, r0.. (the
    subject fields' references when strings, else NULL), s0.. and v0.. (their
    identifier's system and value). Keys that are not the patient's id (an identifier,
    a linked patient) are replaced after the scan (`resolve`)."""
    keys = (_subject(r, sy, v) for r, sy, v in zip(REFS, SYSTEMS, VALUES, strict=True))
    return f"CASE WHEN rtype = 'Patient' THEN rid ELSE coalesce({', '.join(keys)}) END"


def _rows(i: int, fields: str, first: object, unread: str = "", keep: bool = True,
          found: Look | None = None) -> str:
    """SQL: the `res` rows of file `i` from `fields` (line, ok, rtype, rid, id_ok, r0..);
    `unread`, the reason clause of a `_scannable` copy's lines; `keep`: the text of every
    line of a type read (else only what the scan reads itself: the second pass fetches
    the rest by Span); `found`: the triage's look, run on each line of a type read."""
    blank = f"CASE WHEN ok THEN false ELSE line IS NULL OR trim(line, '{WHITESPACE}') = '' END"
    read = _in("rtype", READ, first)
    kept = "" if keep else (f"AND (rtype = 'Patient' OR pid IS NULL "
                            f"OR starts_with(pid, '{IDENTIFIER}'))")
    hit = f"CASE WHEN {read} THEN {found.sql('line')} END" if found else "NULL"
    return f"""
        SELECT {i} AS fi, {blank} AS blank, rtype, rid, pid,
               CASE WHEN {read} {kept} THEN line END AS text,
               CASE WHEN {blank} THEN NULL
                    {unread}
                    WHEN earlier IS NOT NULL THEN earlier
                    WHEN NOT ok THEN 'not valid JSON'
                    WHEN rtype IS NULL THEN 'JSON but not FHIR: no resourceType'
                    WHEN NOT {_in("rtype", R4_RESOURCE_TYPES, first)}
                        THEN 'unknown FHIR R4 resource type ' || rtype || ': not read'
                    WHEN NOT id_ok THEN 'id must be a string'
               END AS reason,
               strlen(line) AS len, {hit} AS hit
        FROM (SELECT *, {_pid()} AS pid FROM {fields})"""


def _line_by_line(i: int, f: str, first: object, copy_line_size: int | None = None,
                  parallel: bool = True, found: Look | None = None) -> str:
    """SQL: every line of file `i` kept as text, parsed once (try: NULL when not JSON); of
    a `_scannable` copy when its longest line is given. Lines end at "\n" (its "\r" kept
    off the text) as the reader's do: DuckDB's default would end one at the "\r" of a
    CRLF blank line in a file of "\n" too. A lone "\r" ends a line in either way: such a
    file is read from a copy (`_lone_cr`)."""
    paths = (["$.resourceType", "$.id"] + [f"$.{s}.reference" for s in SUBJECTS]
             + [f"$.{s}.identifier.{k}" for s in SUBJECTS for k in ("system", "value")])
    # the marks of an earlier FHIR release (fhir/versions.py): a line that may hold one
    # (a regular expression on its keys) is parsed for it
    earlier = versions.sql("rtype", lambda name: f"json_extract(line, '$.{name}')", first,
                           line="line")
    size, unread = "", ""
    if copy_line_size:
        size = f", max_line_size={copy_line_size}, buffer_size={2 * copy_line_size}"
        unread = f"WHEN starts_with(line, '{UNREADABLE}') THEN line[2:]"
    if not parallel:
        size += ", parallel=false"
    return f"""
        INSERT INTO res
        WITH parsed AS (
            SELECT line, try(json_extract(line, {_sql_list(paths)})) AS x
            FROM read_csv({_sql_list([f])}, columns={{'line': 'VARCHAR'}},
                          header=false, delim='\x01', quote='', escape='', auto_detect=false,
                          strict_mode=false, new_line='\\r\\n'{size})),
        fields AS (
            SELECT line, x IS NOT NULL AS ok, {_string("x[1]")} AS rtype, x[2] ->> '$' AS rid,
                   x[2] IS NULL OR left(x[2], 1) = '"' AS id_ok,
                   {", ".join(f"{_string(f'x[{k + 3}]')} AS {r}" for k, r in enumerate(REFS))},
                   {", ".join(f"{_string(f'x[{2 * k + 7}]')} AS {sy}, "
                              f"{_string(f'x[{2 * k + 8}]')} AS {v}"
                              for k, (sy, v) in enumerate(zip(SYSTEMS, VALUES, strict=True)))}
            FROM parsed),
        marked AS (SELECT *, CASE WHEN ok THEN {earlier} END AS earlier FROM fields)
        {_rows(i, "marked", first, unread, bool(copy_line_size), found)}"""


def _projected(con, i: int, f: str, first: object) -> bool:
    """A file of a type no rule reads (a bulk export writes one type a file: Claim,
    Encounter...) needs no text: DuckDB's JSON reader projects the few fields straight
    into `res`, at a fraction of the cost of keeping each line. True when that stands for
    the file: every line a resource of a type no rule reads, taken as the reader takes it.
    A line that is not one JSON object (bad, cut, two on a line, one over two lines, an
    array...) fails the read; any other odd line (no or an unknown resourceType, a type a
    rule reads, an id not a string) fails the statement through error(); a failed
    statement leaves nothing in `res`, and the file goes line by line. Blank lines, which
    the reader skips, leave no row: no line of such a file is named by its number."""
    import duckdb

    if not isinstance(first, str) or first not in R4_RESOURCE_TYPES or first in READ:
        return False
    columns = {"resourceType": "VARCHAR", "id": "JSON"} | {
        s: "STRUCT(reference JSON, identifier STRUCT(system JSON, value JSON))"
        for s in SUBJECTS}
    # the elements that mark an earlier FHIR release in a type no rule reads (an STU3
    # Immunization.notGiven): such a line goes line by line too, where it is named
    marks = versions.elements(UNREAD_TYPES)
    columns |= {name: "JSON" for name in marks}
    earlier = versions.sql("rtype", lambda name: f'"m_{name}"', first, UNREAD_TYPES)
    # a resourceType that is not a JSON string (5, {...}) reads as a VARCHAR naming no type
    odd = (f"rtype IS NULL OR NOT {_in('rtype', R4_RESOURCE_TYPES, first)} "
           f"OR {_in('rtype', READ, first)} OR NOT id_ok OR {earlier} IS NOT NULL")
    try:
        con.execute(f"""
            INSERT INTO res
            WITH fields AS (
                SELECT resourceType AS rtype, id ->> '$' AS rid,
                       id IS NULL OR left(id, 1) = '"' AS id_ok,
                       {", ".join(f"{_string(f'{s}.reference')} AS {r}, "
                                  f"{_string(f'{s}.identifier.system')} AS {sy}, "
                                  f"{_string(f'{s}.identifier.value')} AS {v}"
                                  for s, r, sy, v in zip(SUBJECTS, REFS, SYSTEMS, VALUES,
                                                         strict=True))}
                       {"".join(f', "{name}" AS "m_{name}"' for name in marks)}
                FROM read_json({_sql_list([f])}, format='newline_delimited', records=true,
                               columns={columns!r}, ignore_errors=false))
            SELECT {i} AS fi, false AS blank, rtype, rid, {_pid()} AS pid,
                   NULL AS text, NULL AS reason, NULL AS len, NULL AS hit
            FROM fields
            WHERE CASE WHEN {odd} THEN error('a line to read line by line') ELSE true END""")
    except duckdb.Error:
        return False
    return True


# R4 types no rule reads (their files are projected)
UNREAD_TYPES = R4_RESOURCE_TYPES - READ

LONE_CR = re.compile(rb"\r(?!\n)")


def _lone_cr(path: str, chunk_bytes: int = 1 << 24) -> bool:
    """Whether the file holds a carriage return not followed by a newline: DuckDB's CSV
    reader, which splits the lines of a file read line by line, ends a line there too,
    the reader at "\n" only. Read a chunk at a time: a memory map of the whole file
    counted in the process's resident memory (1.4 GB of Observations at 10^5 patients)."""
    after_cr = False  # the previous chunk ended with a carriage return
    with open(path, "rb") as f:
        while chunk := f.read(chunk_bytes):
            if after_cr and not chunk.startswith(b"\n"):
                return True
            after_cr = chunk.endswith(b"\r")
            body = chunk[:-1] if after_cr else chunk
            if b"\r" in body and LONE_CR.search(body):
                return True
    return after_cr  # the file's last byte


def load_duckdb(con, src: Source, tmp: str, found: Look | None = None
                ) -> tuple[list[int], set[int]]:
    """Scan every NDJSON line once into table `res`, in input order (rowid); return the
    first rowid of each file, so that a line's number is rowid - start + 1, and the files
    whose lines' offsets are the sums of the lengths before them (`spans`).

    One INSERT per file: a parallel scan of several files interleaves them, while one
    file's lines keep their order. Each stage computes a value once for the next. A file
    the scan refuses (a line not UTF-8, or over DuckDB's line size) or would split
    otherwise than the reader (a lone carriage return) is scanned from a copy in which
    each such line reads as the reader reads it (`_scannable`), whose text is kept.
    `found`: the triage's look, run on each line of a type read."""
    import duckdb

    # Input order is the record's order and gives line numbers: an IN list made into a
    # hash join would scramble a file's rows across threads.
    con.execute("SET preserve_insertion_order = true; SET disabled_optimizers = 'in_clause'")
    con.execute(RES)
    starts, total, summed, length = [], 0, set(), 0
    for i, f in enumerate(src.ndjson):
        first, scanned, projected = None, False, False
        try:
            first = _first_type(f)
            projected = _projected(con, i, f, first)
            scanned = projected or (not _lone_cr(f)
                                    and _insert_lines(con, i, f, first, found=found))
        except (duckdb.Error, OSError):  # a line not UTF-8 or over DuckDB's size; unreadable
            pass
        if not scanned:  # rare: what the reader reads otherwise, line by line in Python
            copy, longest = _scannable(f, str(Path(tmp) / f"{i}.ndjson"), src)
            _insert_lines(con, i, copy, first, max(longest + 1, 2 << 20), found=found)
        starts.append(total)
        before = length
        total, length = con.execute("SELECT count(*), coalesce(sum(coalesce(len, 0) + 1), 0) "
                                    "FROM res").fetchall()[0]
        if scanned and not projected and _summed(f, length - before):
            summed.add(i)
    return starts, summed


def _earlier_releases(con, src: Source, starts: list[int]) -> None:
    """A file holding a line of an earlier FHIR release (fhir/versions.py) is not read at
    all, as `screen` does not read it: named once, by its first such line, and its rows
    left out of every patient as blank lines are (their line numbers stand)."""
    mark = versions.SQL_MARK
    for fi, rowid, reason, rtype, rid in con.execute(
            "SELECT fi, min(rowid), arg_min(reason, rowid), arg_min(rtype, rowid), "
            "arg_min(rid, rowid) FROM res WHERE starts_with(reason, ?) GROUP BY fi "
            "ORDER BY fi", [mark]).fetchall():
        element, message = reason[1:].split(mark, 1)
        src.problems.append(Problem(src.ndjson[fi], rowid - starts[fi] + 1,
                                    f"{message}: file skipped",
                                    f"{rtype}/{rid or '?'}: {element}"))
        con.execute("UPDATE res SET blank = true, reason = NULL, pid = NULL, text = NULL, "
                    "hit = NULL WHERE fi = ?", [fi])


def _summed(path: str, lines: int) -> bool:
    """Whether a file read line by line ends where its lines' lengths, each with one
    newline, say it ends: then every line's offset is the sum of those before it. Not so
    when a line ended in CRLF (DuckDB keeps its "\r" off the text), or the scan took a
    line otherwise (a byte order mark): such a file's offsets are found by reading it
    (`_offsets`)."""
    size = Path(path).stat().st_size
    if not size:
        return lines == 0
    with open(path, "rb") as f:
        f.seek(size - 1)
        last = f.read(1)
    return size == (lines if last == b"\n" else lines - 1)


def newest_shared(rows: list[tuple[str, str]], more: Iterable[tuple[str, dict]] = ()
                  ) -> dict[str, dict]:
    """The resources no patient owns (a Medication, a BodyStructure), by id, each in its
    newest version whatever the order of the lines, as `screen` reads them
    (`reader.references`): differing versions that cannot be ordered resolve to nothing.
    `more`: those of the bundle files, parsed."""
    return references([(rid, orjson.loads(text)) for rid, text in rows] + list(more))


def _insert_lines(con, i: int, f: str, first: object, copy_line_size: int | None = None,
                  found: Look | None = None) -> bool:
    """`_line_by_line` into `res`. DuckDB's parallel CSV reader gives up on some very
    large files read with new_line='\\r\\n' ("does not support a full read on this file":
    13.7 GB of Observations at 10^6 patients); then the file is read on one thread."""
    import duckdb

    try:
        con.execute(_line_by_line(i, f, first, copy_line_size, found=found))
    except duckdb.NotImplementedException:  # a failed statement leaves no row
        con.execute(_line_by_line(i, f, first, copy_line_size, parallel=False, found=found))
    return True


UNREADABLE = "\x02"  # starts a line of a `_scannable` copy that stands for an unread line


def _scannable(f: str, copy: str, src: Source) -> tuple[str, int]:
    """A copy of NDJSON file `f`, line for line, in which a line that is not UTF-8 or is
    longer than the reader's limit is replaced by UNREADABLE + the reader's reason, and a
    line with a lone carriage return is made one DuckDB reads as the reader does; and its
    longest line. A file that cannot be read is reported whole and scanned as empty."""
    from trialsieve.fhir.limits import MAX_LINE_BYTES
    from trialsieve.fhir.reader import _lines as reader_lines

    longest = 0
    with open(copy, "wb") as out:
        try:
            with open(f, "rb") as fh:
                for raw in reader_lines(fh):
                    why = (f"line longer than {MAX_LINE_BYTES // 2**20} MiB" if raw is None
                           else _not_utf8(raw) or ("not valid JSON"
                                                   if raw.startswith(UNREADABLE.encode())
                                                   else None))
                    if not why and raw is not None and LONE_CR.search(raw):
                        raw, why = _without_lone_cr(raw)
                    line = (raw if raw is not None and not why
                            else f"{UNREADABLE}{why}".encode() + b"\n")
                    longest = max(longest, len(line))
                    out.write(line)
        except OSError as exc:
            out.truncate(0)
            src.problems.append(Problem(f, None, f"cannot read: {exc.strerror or exc}: "
                                        "file skipped"))
    return copy, longest


def _without_lone_cr(raw: bytes) -> tuple[bytes, str | None]:
    """A line holding a lone carriage return, made one that DuckDB ends at "\n" only:
    to the reader the CR is whitespace (of a blank line, or between JSON tokens: a space
    reads the same) or makes the line invalid JSON (a control character in a string)."""
    if raw.strip():
        try:
            json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return raw, "not valid JSON"
    return LONE_CR.sub(b" ", raw), None


def _not_utf8(raw: bytes) -> str | None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 ({exc.reason})"
    return None


def identities_of(patients: Iterable[dict], exists: Callable[[list[str]], set[str]],
                  idents: Collection[str], people: BundlePeople | None = None) -> Identities:
    """Identities (record/identity.py) from the NDJSON Patient resources that hold a link
    or an identifier, and the bundles' Patients (`people`: whose identities become the
    joint ones, so that a patient linked, or named by identifier, across the two forms is
    one patient, as `screen` reads the folder); `exists`: which of some Patient ids the
    NDJSON holds (a link names one); of the identifier keys, only those the scan met
    (`idents`) are kept in what is returned."""
    from trialsieve.record.identity import current, reference_of

    patients = [r for _, r in current([("", p) for p in [*patients, *(
        people.patients if people else [])]])[0]]
    targets = {k for p in patients for link in (p.get("link") or []) if isinstance(link, dict)
               and (k := reference_of(link.get("other"))) is not None}
    ids = Identities.of(patients, exists(sorted(targets)) if targets else set())
    if people is not None:
        people.rekey(ids)
    return Identities({k: v for k, v in ids.aliases.items()
                       if not k.startswith(IDENTIFIER) or k in idents},
                      ids.ambiguous & set(idents))


def unresolved(key: str, ids: Identities, res: dict | None) -> str:
    """The Problem's reason for a resource whose subject key resolves to no patient."""
    where = subject_key(res)[1] if res is not None else None
    return (f"{where or 'subject'}: reference cannot be resolved: {ids.why_not(key)}: "
            "resource not read")


def _resolve(con, src: Source, people: BundlePeople | None = None) -> None:
    """Replace the keys the scan gave that are not the patient's id: a linked patient's
    id, a fullUrl, an identifier (record/identity.py), the bundles' Patients (`people`)
    counted; a resource whose identifier resolves to no one patient becomes a Problem.
    Rare: most inputs need nothing here."""
    good = "reason IS NULL AND NOT blank"
    idents = [k for (k,) in con.execute(
        f"SELECT DISTINCT pid FROM res WHERE {good} AND starts_with(pid, '{IDENTIFIER}')"
    ).fetchall()]
    wanted = "contains(text, '\"identifier\"') OR " if idents or (
        people and people.by_identifier()) else ""
    texts = [orjson.loads(t) for (t,) in con.execute(
        f"SELECT text FROM res WHERE {good} AND rtype = 'Patient' AND text IS NOT NULL "
        f"AND ({wanted}contains(text, '\"link\"')) ORDER BY rowid").fetchall()]
    if not texts and not idents and not (people and people.patients):
        return

    def exists(ids: list[str]) -> set[str]:
        return {r for (r,) in con.execute(
            f"SELECT DISTINCT rid FROM res WHERE {good} AND rtype = 'Patient' "
            f"AND rid IN (SELECT unnest({_sql_list(ids)}))").fetchall()}

    ids = identities_of(texts, exists, idents, people)
    src.identities.aliases.update(ids.aliases)
    src.identities.ambiguous.update(ids.ambiguous)
    moved = [(k, v) for k, v in ids.aliases.items() if not k.startswith(IDENTIFIER)]
    moved += [(k, v) for k in idents if (v := ids.pid(k)) is not None]
    if moved:
        con.execute("CREATE TEMP TABLE alias (k VARCHAR, pid VARCHAR)")
        con.executemany("INSERT INTO alias VALUES (?, ?)", moved)
        con.execute("UPDATE res SET pid = alias.pid FROM alias WHERE res.pid = alias.k")
    for k in idents:
        if ids.pid(k) is None:
            for rowid, text in con.execute(f"SELECT rowid, text FROM res WHERE {good} "
                                           "AND pid = ?", [k]).fetchall():
                reason = unresolved(k, ids, orjson.loads(text) if text else None)
                con.execute("UPDATE res SET reason = ?, pid = NULL WHERE rowid = ?",
                            [reason, rowid])


def duckdb_batches(src: Source, jobs: int, batch_rows: int = 8192,
                   memory_limit: str = "512MB", triage: Look | None = None,
                   people: BundlePeople | None = None) -> Iterator[pa.Table]:
    """Every patient of the NDJSON files, ordered by patient id, as Arrow tables of about
    `batch_rows` rows (pid, fi, rtype, rid, text, n, aside, pos, len: `_patients`) that
    never split a patient: a
    worker process turns one into Groups (`groups_of`) itself, so this process only cuts.
    `triage`: the look of population/triage.py, run here on every line's text; `people`:
    who is who in the bundles, whose patients (the NDJSON's joined) are never set aside
    here (the bundles hold more of them)."""
    if not src.ndjson:
        src.shared.update(newest_shared([], src.bundle_shared))
        return
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    with tempfile.TemporaryDirectory(prefix="trialsieve-") as tmp:
        # In memory, spilling to `tmp` past the memory limit: a database file would write
        # (and compress) every row once more, which doubled the scan.
        con = duckdb.connect(":memory:")
        con.execute(f"SET threads = {max(1, jobs)}; SET memory_limit = '{memory_limit}'; "
                    f"SET temp_directory = '{tmp}'; SET enable_progress_bar = false")
        starts, summed = load_duckdb(con, src, tmp, triage)
        _earlier_releases(con, src, starts)
        _resolve(con, src, people)
        for fi, rowid, reason, rtype, rid in con.execute(
                "SELECT fi, rowid, reason, rtype, rid FROM res WHERE reason IS NOT NULL "
                "ORDER BY rowid").fetchall():
            src.problems.append(Problem(src.ndjson[fi], rowid - starts[fi] + 1, reason,
                                        f"{rtype}/{rid or '?'}" if rtype else None))
        good = "reason IS NULL AND NOT blank"
        src.shared.update(newest_shared(con.execute(
            f"SELECT rid, text FROM res WHERE {good} AND pid IS NULL AND text IS NOT NULL"
        ).fetchall(), src.bundle_shared))
        src.unattached = con.execute(f"SELECT count(*) FROM res WHERE {good} AND pid IS NULL"
                                     ).fetchall()[0][0]
        src.scanned = time.monotonic()
        whole = sorted(people.last) if people else []
        query = _patients(con, good, triage, src, starts, summed, whole)
        mine = "true" if triage is None else "pid IN (SELECT pid FROM evaluated)"
        src.patients, src.evaluated = con.execute(
            f"SELECT count(DISTINCT pid), count(DISTINCT pid) FILTER (WHERE {mine}) "
            f"FROM res WHERE {good} AND pid IS NOT NULL").fetchall()[0]
        reader = con.sql(query).to_arrow_reader(batch_rows)
        carry = None
        for batch in reader:
            table = pa.Table.from_batches([batch])
            if carry is not None:
                table = pa.concat_tables([carry, table])
            # rows come sorted by patient: the last patient may go on in the next batch
            cut = pc.index(table["pid"], table["pid"][-1]).as_py()
            if cut:
                yield table.slice(0, cut)
            carry = table.slice(cut)
        if carry is not None and carry.num_rows:
            yield carry
        con.close()


def _patients(con, good: str, triage: Look | None, src: Source, starts: list[int],
              summed: set[int], whole: Collection[str] = ()) -> str:
    """SQL: each patient's rows in input order, patients by id, a line's text or where it
    is (pos, len: `_spans`). With the triage, a patient set aside (nothing the look found,
    and a Patient resource) keeps its Patient resource only, and its other resources come
    as one count a file and type. The split runs on narrow columns: the scan kept no text
    but the Patients' (carrying every row's text through a join to sort out the few kept
    cost 15 times the split itself)."""
    kept = f"FROM res WHERE {good} AND pid IS NOT NULL"
    mine = ""
    if triage is not None:
        con.execute(f"""
            CREATE TEMP TABLE evaluated AS
            SELECT DISTINCT pid {kept} AND hit
            UNION
            SELECT pid {kept} GROUP BY pid HAVING NOT bool_or(rtype = 'Patient')
            UNION
            SELECT unnest({_sql_list(sorted(whole))}::VARCHAR[])""")
        mine = "AND pid IN (SELECT pid FROM evaluated)"
    _spans(con, f"{good} AND pid IS NOT NULL {mine}", src, starts, summed)
    evaluated = f"""
        SELECT e.*, s.pos, s.len FROM (
            SELECT pid, fi, rtype, rid, text, 1 AS n, false AS aside, rowid AS k
            {kept} {mine}) e
        LEFT JOIN spans s ON s.k = e.k"""
    if triage is None:
        return (f"SELECT pid, fi, rtype, rid, text, n, aside, pos, len FROM ({evaluated}) "
                "ORDER BY pid, k")
    aside = "pid NOT IN (SELECT pid FROM evaluated)"
    return f"""
        SELECT pid, fi, rtype, rid, text, n, aside, pos, len FROM (
            {evaluated}
            UNION ALL
            SELECT pid, fi, rtype, rid, text, 1, true, rowid, NULL, NULL {kept}
            AND rtype = 'Patient' AND {aside}
            UNION ALL
            SELECT pid, fi, rtype, NULL, NULL, count(*), true, min(rowid), NULL, NULL {kept}
            AND rtype <> 'Patient' AND {aside} GROUP BY pid, fi, rtype)
        ORDER BY pid, k"""


def _spans(con, evaluated: str, src: Source, starts: list[int], summed: set[int]) -> None:
    """Table `spans` (k: rowid, pos, len): where the text of each line the evaluated
    patients need and the scan did not keep is in its file, for the worker to read
    (`read_span`). A line's offset is the sum of the lengths before it, each with its
    newline, when the file ends there (`_summed`), else found by reading the file."""
    need = f"{evaluated} AND text IS NULL AND {_in('rtype', READ, None)}"
    con.execute("CREATE TEMP TABLE spans (k BIGINT, pos BIGINT, len BIGINT)")
    files = {fi for (fi,) in con.execute(f"SELECT DISTINCT fi FROM res WHERE {need}"
                                         ).fetchall()}
    if files & summed:
        con.execute(f"""
            INSERT INTO spans
            SELECT k, pos, len FROM (
                SELECT *, rowid AS k, sum(coalesce(len, 0) + 1) OVER (
                    PARTITION BY fi ORDER BY rowid ROWS UNBOUNDED PRECEDING)
                    - coalesce(len, 0) - 1 AS pos
                FROM res WHERE fi IN (SELECT unnest({sorted(files & summed)})))
            WHERE {need}""")
    for fi in sorted(files - summed):  # rare: a file with a CRLF line, say
        ks = [k for (k,) in con.execute(f"SELECT rowid FROM res WHERE fi = {fi} AND {need} "
                                        "ORDER BY rowid").fetchall()]
        found = _offsets(src.ndjson[fi], [k - starts[fi] for k in ks])
        con.executemany("INSERT INTO spans VALUES (?, ?, ?)",
                        [(k, at, n) for k, (at, n) in zip(ks, found, strict=True)])


def _offsets(path: str, lines: list[int]) -> list[tuple[int, int]]:
    """(offset, bytes without the newline) of each of the lines numbered (from 0, in
    order) `lines` of a file, split at b"\n" as the reader splits it."""
    out: list[tuple[int, int]] = []
    wanted = iter(lines)
    nxt = next(wanted, None)
    at = 0
    with open(path, "rb") as f:
        for n, raw in enumerate(f):
            if n == nxt:
                out.append((at, len(raw) - raw.endswith(b"\n")))
                nxt = next(wanted, None)
                if nxt is None:
                    break
            at += len(raw)
    return out


def read_span(fd: int, span: Span) -> bytes:
    """The text of a line at `span` of the file open as `fd`, checked to be a whole line
    still (the file was not changed since the scan)."""
    data = os.pread(fd, span.length + 1, span.at)
    if len(data) < span.length or data[span.length:] not in (b"", b"\n"):
        raise ValueError(f"the line at byte {span.at} changed since the scan")
    return data[:span.length]


def groups_of(table: pa.Table) -> Iterator[Group]:
    """The patients of one `duckdb_batches` table, rows in input order."""
    pid, rows, aside = "", list[Row](), False
    for p, fi, rtype, rid, text, n, a, at, length in zip(
            *(c.to_pylist() for c in table.columns), strict=True):
        if p != pid and rows:
            yield Group(pid, rows, aside=aside)
            rows = []
        pid, aside = p, a
        rows.append(Row(fi, rtype, rid, text if at is None else Span(at, length), n))
    if rows:
        yield Group(pid, rows, aside=aside)


def duckdb_groups(src: Source, jobs: int, triage: Look | None = None) -> Iterator[Group]:
    """Every patient of the NDJSON files, ordered by patient id, streamed."""
    for table in duckdb_batches(src, jobs, triage=triage):
        yield from groups_of(table)


@dataclass
class BundlePeople:
    """Who is who in the bundle files (their first pass): the files that parse, the
    patient keys each names, the Problems of the files that do not parse (told when the
    bundles are read), their Patients; then the identities of those Patients and each
    patient's last file, until the NDJSON's Patients join them (`rekey`)."""

    readable: list[str]
    keys: dict[str, set[str]]
    problems: list[Problem]
    patients: list[dict]  # the bundles' Patient resources, newest versions
    ids: Identities = field(init=False)
    last: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.rekey(Identities.of(self.patients))

    def rekey(self, ids: Identities) -> None:
        """Take the identities of the whole input (the NDJSON Patients too): a bundle
        patient linked to an NDJSON one is then the same patient, held back with it."""
        self.ids = ids
        self.last = {}
        for f in self.readable:
            for k in self.keys[f]:
                if (pid := ids.pid(k)) is not None:
                    self.last[pid] = f

    def by_identifier(self) -> bool:
        """Whether a bundle resource names its patient by identifier only."""
        return any(k.startswith(IDENTIFIER) for keys in self.keys.values() for k in keys)


def bundle_people(src: Source) -> BundlePeople:
    """The first pass over the bundles; their resources about no one patient go to
    `src.bundle_shared`."""
    from trialsieve.fhir.reader import _resources
    from trialsieve.record.identity import current

    patients: list[tuple[str, dict]] = []
    keys: dict[str, set[str]] = {}
    readable, problems = [], []
    for f in src.bundles:
        try:
            resources = list(_resources(Path(f)))
        except InputError as exc:  # the file is the Problem's own field: not repeated
            where = ": ".join(x for x in (exc.resource, exc.field) if x)
            problems.append(Problem(f, None, f"{exc.message}: file skipped", where or None))
            continue
        readable.append(f)
        patients += [(f, r) for r in resources if r["resourceType"] == "Patient"]
        keys[f] = {k for r in resources if (k := subject_key(r)[0]) is not None}
        src.bundle_shared += [(f, r) for r in resources
                              if r["resourceType"] in PARSED | SHARED_PARSED
                              and r["resourceType"] != "Patient" and subject_key(r)[0] is None]
    return BundlePeople(readable, keys, problems, [r for _, r in current(patients)[0]])


def held_back(table: pa.Table, pids: pa.Array | None, held: dict[str, list[Row]]
              ) -> pa.Table:
    """The scanned table without the patients `pids` (those the bundles hold too, as one
    Arrow array made once for the run), whose rows go to `held`, to be read with their
    bundle rows as one patient (`bundle_groups`)."""
    if pids is None or not table.num_rows:
        return table
    import pyarrow.compute as pc

    mask = pc.is_in(table["pid"], pids)
    if not pc.any(mask).as_py():
        return table
    for g in groups_of(table.filter(mask)):
        held.setdefault(g.pid, []).extend(g.rows)
    return table.filter(pc.invert(mask))


def _one_patient(src: Source, ndjson: list[Row], bundle: list[Row]) -> list[Row]:
    """A patient's NDJSON and bundle rows in the order `screen` reads them: file by file
    in the listing's name order (fhir.reader.listing sorts Paths), each file's own order
    kept (a stable sort)."""
    order = {fi: Path(src.files[fi]) for fi in {r.file for r in ndjson + bundle}}
    return sorted(ndjson + bundle, key=lambda r: order[r.file])


def bundle_groups(src: Source, people: BundlePeople | None = None,
                  held: dict[str, list[Row]] | None = None) -> Iterator[Group]:
    """Patients of the bundle files, with the reader's own code and its identities
    (record/identity.py): a patient whose resources are in several files is one group,
    and so is a patient whose NDJSON rows were `held` back from the scan (evaluated in
    full: the triage's look saw no part of them whole). Two passes: the first reads who
    is who (`bundle_people`), the second yields each patient once its last file is read,
    so that only the patients spread over files not yet read are held."""
    from trialsieve.fhir.reader import _resources

    people = people or bundle_people(src)
    held = held if held is not None else {}
    src.problems += people.problems
    ids, last = people.ids, people.last
    rows: dict[str, list[Row]] = {}
    lookups: dict[str, dict[str, dict]] = {}  # a patient's files' resources, by reference
    for f in people.readable:
        fi = src.files.index(f)
        resources = list(_resources(Path(f)))
        here = {r["id"]: r for r in resources if isinstance(r.get("id"), str)}
        here.update({r["_fullUrl"]: r for r in resources if "_fullUrl" in r})
        for res in resources:
            rtype = res["resourceType"]
            if rtype not in R4_RESOURCE_TYPES:
                src.problems.append(Problem(f, None, f"unknown FHIR R4 resource type "
                                            f"{rtype!r}: not read", rtype))
                continue
            whose, named, problem = owner(res, ids)
            if problem is not None:
                src.problems.append(Problem(f, None, f"{named}: {problem}: resource not read",
                                            f"{rtype}/{res.get('id', '?')}"))
            elif whose is None:
                src.unattached += 1
            else:
                if whose not in lookups:
                    lookups[whose] = here  # shared, not copied: most patients are in one file
                elif rows[whose][-1].file != fi:
                    lookups[whose] = {**lookups[whose], **here}
                rows.setdefault(whose, []).append(Row(fi, rtype, res.get("id"), res))
        for p in [p for p in rows if last.get(p) == f]:
            if p in held:
                yield Group(p, _one_patient(src, held.pop(p), rows.pop(p)), lookups.pop(p),
                            aside=False)
            else:
                yield Group(p, rows.pop(p), lookups.pop(p))
    for p, left in held.items():  # held for a bundle file that no longer reads
        yield Group(p, left, aside=False)


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
