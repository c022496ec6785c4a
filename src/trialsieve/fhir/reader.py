"""Read FHIR R4 input (a Bundle or resource in a JSON file, a folder of bulk NDJSON files,
a folder of either) into one PatientRecord per patient.

Written on plain JSON rather than fhir.resources models: the models reject a whole
resource for one unknown field, and screening must keep the rest of a record usable
and say exactly which file, resource and field was wrong.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from trialsieve import codes as C
from trialsieve.fhir import concept_map, confirmation, documents
from trialsieve.fhir.concept_map import ConceptMapping
from trialsieve.fhir.errors import FieldError, InputError, NotRelevant, Skip
from trialsieve.fhir.imaging_mapping import MarrowFinding
from trialsieve.fhir.limits import MAX_LINE_BYTES, parse_json, read_bytes, regular_file
from trialsieve.fhir.mapping import MAPPERS, IgnoredFact, SkipFact, fact_kind
from trialsieve.fhir.resource_types import R4_RESOURCE_TYPES
from trialsieve.fhir.values import (
    codings,
    get_list,
    get_str,
    parse_date_span,
)
from trialsieve.fhir.versions import earlier
from trialsieve.record import (
    Damaged,
    Death,
    Ignored,
    Lesion,
    Patient,
    PatientRecord,
    Warning,
    identity,
)
from trialsieve.record.identity import Identities

# Where a resource names its patient (record/identity.py resolves it).
SUBJECT_FIELDS = identity.SUBJECT_FIELDS
# The types read (the rest are counted): the ones whose versions are told apart.
# (DocumentReference: its text, read by fhir/documents.py)
READ = frozenset(MAPPERS) | {"Patient", "BodyStructure", "DocumentReference"}
# Resources that are not about one patient (directories, definitions).
# why a type read for a patient gives no fact of its own (`--verbose` names each resource)
UNUSED_TYPES = {
    "BodyStructure": "no fact of its own: read as the site of a measurement that names it",
    "DocumentReference": "no coded fact: its text is read for what it states",
}
SHARED_TYPES = {"Practitioner", "PractitionerRole", "Organization", "Location", "Medication",
                "Device", "Substance", "Questionnaire", "CodeSystem", "ValueSet"}


@dataclass
class Loaded:
    """Resources of one input, each with the file it came from."""

    resources: list[tuple[str, dict]] = field(default_factory=list)
    warnings: list[Warning] = field(default_factory=list)
    # Damaged input that was skipped (a file, an NDJSON line, a Bundle entry): the results
    # do not cover it, so the command says so in its exit status.
    skipped: list[Warning] = field(default_factory=list)
    strict: bool = False
    # where each resource read from an NDJSON file is (by id() of its dict): a warning
    # about it names the file and the line
    lines: dict[int, tuple[str, int]] = field(default_factory=dict)

    def skip(self, file: str, where: str, field: str, message: str, what: str) -> None:
        """Report damaged input (`what`: file, line, entry...) and go on without it; strict,
        stop at the first."""
        if self.strict:
            raise Stopped(file, f"{message} (strict: stopped here)", where, field)
        w = Warning(file, where, field, f"{message}: {what} skipped")
        self.skipped.append(w)
        self.warnings.append(w)


def load(path: str | Path, strict: bool = False) -> Loaded:
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        raise InputError(str(p), "no such file or folder")
    loaded = Loaded(strict=strict)
    if not p.is_dir():
        regular_file(p, str(p))
        _file(p, loaded, alone=True)
        return loaded
    files = listing(p, loaded)
    if not files and not loaded.skipped and not loaded.warnings:
        raise InputError(str(p), "no file in this folder")
    for f in files:
        try:
            _file(f, loaded, alone=False)
        except Stopped:
            raise
        except InputError as exc:
            # Input not read (STU3, damaged, a .ndjson that is not FHIR such as a bulk
            # export's log, as `prescreen` counts it): named and counted, the results do
            # not cover it.
            loaded.skip(str(f), exc.resource, exc.field, exc.message, "file")
    return loaded


def listing(folder: Path, loaded: Loaded) -> list[Path]:
    """The input files of a folder, in name order: its .json and .ndjson files, for
    `screen` and `prescreen` alike. Every other file is named in `loaded`: FHIR XML and a
    file that is not a regular one as input not read (counted: the results do not cover
    them), the rest (a README, a CSV export) as not FHIR, so that nothing goes unsaid."""
    files = []
    for f in _walk(folder, loaded):
        try:
            regular_file(f, str(f))
            if _fhir_xml(f):
                raise InputError(str(f), f"FHIR XML is not read; {READS}")
        except InputError as exc:
            loaded.skip(str(f), exc.resource, exc.field, exc.message, "file")
            continue
        if f.suffix in (".json", ".ndjson"):
            files.append(f)
        else:
            loaded.warnings.append(Warning(str(f), "", "", _NOT_INPUT.format(
                f"a {f.suffix} file" if f.suffix else "a file with no extension")))
    return files


def _walk(top: Path, loaded: Loaded) -> list[Path]:
    """The files under `top`, in name order (those not .json or .ndjson are named as not
    read by `_file`); a folder that cannot be listed is reported, not passed over in
    silence."""
    def unreadable(exc: OSError) -> None:
        loaded.skip(str(exc.filename or top), "", "", f"cannot read: {exc.strerror or exc}",
                    "folder")

    found = []
    for folder, dirs, names in os.walk(top, onerror=unreadable):
        dirs.sort()
        found += [Path(folder, n) for n in names]
    return sorted(found)


class NotFhir(InputError):
    """Valid JSON that is not a FHIR resource."""


class Stopped(InputError):
    """Damaged input met in strict mode."""


READS = "trialsieve reads FHIR R4 JSON, in .json and .ndjson files"
_NOT_INPUT = "{}, not FHIR: not read; " + READS


def _fhir_xml(f: Path) -> bool:
    """Whether a file holds FHIR in XML (its namespace in the first 4 KiB)."""
    try:
        with open(f, "rb") as fh:
            head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError:
        return False
    return head.startswith(b"<") and b"hl7.org/fhir" in head


def _file(f: Path, loaded: Loaded, alone: bool) -> None:
    if f.suffix == ".ndjson":
        _ndjson(f, loaded, alone)
        return
    if _fhir_xml(f):
        raise InputError(str(f), f"FHIR XML is not read; {READS}")
    try:
        text = read_bytes(f).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(str(f), f"cannot read: not UTF-8 ({exc.reason} at byte "
                         f"{exc.start})") from exc
    doc = _parse(str(f), text, "")
    if doc.get("resourceType") != "Bundle":
        _of_r4(str(f), [("", doc)])
        _check(str(f), doc, loaded)
        return
    bundle = f"Bundle/{doc.get('id', '?')}"
    entries = doc.get("entry") or []
    if not isinstance(entries, list):
        raise InputError(str(f), f"expected a list, found {type(entries).__name__}",
                         bundle, "entry")
    _of_r4(str(f), [("", e["resource"]) for e in entries
                    if isinstance(e, dict) and isinstance(e.get("resource"), dict)])
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict):
            loaded.skip(str(f), bundle, f"entry[{i}].resource",
                        "entry without a resource object", "entry")
        elif not isinstance(res.get("resourceType"), str):
            loaded.skip(str(f), bundle, f"entry[{i}].resource.resourceType",
                        "no resourceType (or not a string)", "entry")
        else:
            if isinstance(entry.get("fullUrl"), str):
                res = {**res, "_fullUrl": entry["fullUrl"]}
            _check(str(f), res, loaded)


def _resources(f: Path) -> Iterator[dict]:
    """The resources of one file, for population.source: the first damaged entry or line
    raises InputError."""
    loaded = Loaded(strict=True)
    regular_file(f, str(f))
    _file(f, loaded, alone=True)
    yield from (res for _, res in loaded.resources)


def _ndjson(f: Path, loaded: Loaded, alone: bool) -> None:
    """One resource per line. Lines end at "\n" only: U+2028 and the like are valid inside
    a JSON string. A bad line is reported with its number and skipped; the others are kept.
    A file of which no line is FHIR is not FHIR (a bulk export's log)."""
    good: list[tuple[int, dict]] = []
    bad: list[tuple[int, InputError]] = []
    try:
        with open(f, "rb") as fh:
            for n, raw in enumerate(_lines(fh), 1):
                if raw is None:
                    bad.append((n, InputError(str(f), f"line longer than "
                                              f"{MAX_LINE_BYTES // 2**20} MiB")))
                    continue
                if not raw.strip():
                    continue
                try:
                    good.append((n, _parse(str(f), raw.decode("utf-8"), f"line {n}")))
                except UnicodeDecodeError as exc:
                    bad.append((n, InputError(str(f), f"not UTF-8 ({exc.reason})")))
                except InputError as exc:
                    bad.append((n, exc))
    except OSError as exc:
        raise InputError(str(f), f"cannot read: {exc.strerror or exc}") from exc
    if not good and bad and all(isinstance(e, NotFhir) for _, e in bad):
        raise bad[0][1]
    if not good and bad and alone:
        raise InputError(str(f), bad[0][1].message, f"line {bad[0][0]}")
    for n, problem in bad:
        loaded.skip(str(f), f"line {n}", "", problem.message, "line")
    _of_r4(str(f), [(f"line {n}", res) for n, res in good])
    for n, res in good:
        _check(str(f), res, loaded, n)


def _of_r4(file: str, resources: list[tuple[str, dict]]) -> None:
    """Stop at the first resource of an earlier FHIR release (fhir/versions.py): the whole
    file is not read, named as what it is."""
    for where, res in resources:
        found = earlier(res)
        if found is not None:
            src = f"{res.get('resourceType')}/{res.get('id', '?')}"
            raise InputError(file, found.message, ": ".join(x for x in (where, src) if x),
                             found.field)


def _lines(fh) -> Iterator[bytes | None]:
    """The lines of a binary file split at b"\n", each at most MAX_LINE_BYTES (None for a
    longer line, whose rest is passed over without being kept)."""
    while True:
        line = fh.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = fh.readline(MAX_LINE_BYTES)
            yield None
        else:
            yield line


def _parse(file: str, text: str, where: str) -> dict:
    doc = parse_json(file, text, where)
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceType"), str):
        raise NotFhir(file, "JSON but not FHIR: no resourceType" + (f" ({where})"
                                                                     if where else ""),
                      "", "resourceType")
    return doc


def _check(file: str, res: dict, loaded: Loaded, line: int | None = None) -> None:
    rtype = res["resourceType"]
    if rtype not in R4_RESOURCE_TYPES:
        loaded.warnings.append(Warning(file, f"{rtype}/{res.get('id', '?')}", "resourceType",
                                       f"unknown FHIR R4 resource type {rtype!r}: not read",
                                       line))
        return
    if res.get("id") is not None and not isinstance(res.get("id"), str):
        loaded.skip(file, f"line {line}" if line else rtype, "id", "id must be a string",
                    "resource")
        return
    if line is not None:
        loaded.lines[id(res)] = (file, line)
    loaded.resources.append((file, res))


def identities(resources: Iterable[tuple[str, dict]]) -> Identities:
    """Who is who in the input: its Patient resources (newest versions) to
    record/identity.py."""
    patients = [(f, r) for f, r in resources if r["resourceType"] == "Patient"]
    return Identities.of(r for _, r in identity.current(patients)[0])


@dataclass
class Input:
    records: list[PatientRecord]
    warnings: list[Warning]  # about the input as a whole (files skipped, ...)
    skipped: list[Warning] = field(default_factory=list)  # damaged input not read


def records(path: str | Path, mapping: ConceptMapping = concept_map.EMPTY
            ) -> list[PatientRecord]:
    return read(path, mapping).records


def read(path: str | Path, mapping: ConceptMapping = concept_map.EMPTY,
         strict: bool = False) -> Input:
    """Every patient in the input, in the order their resources first appear; a site's
    codes are read through `mapping` (fhir/concept_map.py).

    Damaged parts (a file, an NDJSON line, a Bundle entry) are skipped and listed in
    `skipped`; with `strict` the first one stops the reading (InputError)."""
    return assemble(load(path, strict), str(path), mapping)


def group(loaded: Loaded) -> dict[str, list[tuple[str, dict]]]:
    """Each patient's resources (with their files), patients in order of first appearance;
    who is who decided by record/identity.py (any reference form, identifiers, links,
    across files). A subject that cannot be resolved is reported, its resource skipped."""
    ids = identities(loaded.resources)
    by_patient: dict[str, list[tuple[str, dict]]] = defaultdict(list)
    for file, res in loaded.resources:
        pid, where, problem = identity.owner(res, ids)
        if problem is not None:
            loaded.skip(file, f"{res['resourceType']}/{res.get('id', '?')}", where or "",
                        problem, "resource")
        elif pid is not None:
            by_patient[pid].append((file, res))
    return dict(by_patient)


def assemble(loaded: Loaded, where: str,
             mapping: ConceptMapping = concept_map.EMPTY) -> Input:
    """The records of resources already loaded (from files, or from a database)."""
    lookup = references(loaded.resources)
    by_patient = group(loaded)
    if not by_patient:
        if loaded.skipped:  # nothing readable: the first reason is the message
            w = loaded.skipped[0]
            raise InputError(w.file, f"{w.message}; nothing else to read", w.source, w.field)
        raise InputError(where, "no patient in this input (no Patient resource and no "
                         "resource with a subject)")
    out = []
    for pid, items in by_patient.items():
        rec = _record(pid, items, mapped_lookup(mapping, lookup), mapping, loaded.lines)
        rec.warnings[:0] = [w for w in loaded.warnings if w.file in {f for f, _ in items}]
        out.append(rec)
    used = {w for r in out for w in r.warnings}
    return Input(out, [w for w in loaded.warnings if w not in used], loaded.skipped)


def references(resources: list[tuple[str, dict]]) -> dict[str, dict]:
    """What a reference resolves to (a Medication, a BodyStructure), by id and by fullUrl:
    the newest version of each resource, whatever the order of the input; versions that
    cannot be ordered resolve to nothing (the reference is then unresolved, not read
    from whichever came last)."""
    newest, _ = identity.current(resources)
    by_id = {(r["resourceType"], r["id"]): r for _, r in newest if isinstance(r.get("id"), str)}
    lookup = {rid: r for (_, rid), r in by_id.items()}
    for _, r in resources:  # the fullUrl of any version names the resource
        if "_fullUrl" in r:
            rid = r.get("id")
            newer = by_id.get((r["resourceType"], rid)) if isinstance(rid, str) else r
            if newer is not None:
                lookup[r["_fullUrl"]] = newer
    return lookup


def mapped_lookup(mapping: ConceptMapping, lookup: dict[str, dict]
                  ) -> Callable[[str], dict | None]:
    """Resources looked up by reference (a Medication, a BodyStructure), read through the
    map as the patient's own resources are."""
    return lambda ref: _mapped(mapping, lookup.get(ref))


def _mapped(mapping: ConceptMapping, res: dict | None) -> dict | None:
    return concept_map.apply(mapping, res)[0] if res is not None else None


def _record(pid: str, items: list[tuple[str, dict]], lookup,
            mapping: ConceptMapping = concept_map.EMPTY,
            lines: dict[int, tuple[str, int]] | None = None) -> PatientRecord:
    """One patient's record; `lines`: where each resource of an NDJSON file is (Loaded)."""
    items, unordered = identity.current(items, READ.__contains__)
    files = sorted({f for f, _ in items} | {u.file for u in unordered})
    patient_res = next((r for _, r in items if r["resourceType"] == "Patient"), None)
    # The file that holds the Patient resource names the record (a bulk export spreads
    # one patient over a file per resource type).
    home = next((f for f, r in items if r["resourceType"] == "Patient"), files[0])
    rec = PatientRecord(patient=Patient(pid, None, None, f"Patient/{pid}"), file=home)
    at = _Places(home, {f"{r['resourceType']}/{r.get('id', '?')}": (lines or {}).get(
        id(r), (f, None)) for f, r in reversed(items)})
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"read": 0, "used": 0,
                                                             "ignored": 0})
    pending: list = []
    uses = concept_map.Uses()
    patients: list[Patient] = []
    for u in unordered:
        rec.warnings.append(Warning(u.file, u.source, "meta", u.message))
        rec.ignored.append(Damaged(u.source, u.message, fact_kind(u.resource)))
    if patient_res is None:
        rec.warnings.append(Warning(files[0], f"Patient/{pid}", "subject",
                                    "referenced patient has no Patient resource here: "
                                    "demographics unknown"))
    for file, res in items:
        rtype = res["resourceType"]
        counts[rtype]["read"] += 1
        src = f"{rtype}/{res.get('id', '?')}"
        # only the types a criterion reads: a map changes nothing in the others
        res, applied = concept_map.apply(mapping, res) if rtype in MAPPERS else (res, ())
        uses.saw(mapping, res, file)
        if rtype in documents.TEXT_TYPES:
            _texts(rec, at, res, lookup)
        if "extension" in res and (c := confirmation.confirmed(res)) is not None:
            rec.confirmations.append(c)  # a report's sentence confirmed (issue 21)
        try:
            if rtype == "Patient":
                patients.append(_patient(res))
                counts[rtype]["used"] += 1
                continue
            if rtype not in MAPPERS:
                counts[rtype]["ignored"] += 1
                rec.unused.append(Ignored(src, UNUSED_TYPES.get(
                    rtype, f"no criterion reads a {rtype}")))
                continue  # counted, not read: no criterion uses this type
            facts = MAPPERS[rtype](res, lambda ref: lookup(ref))
        except Skip as why:
            counts[rtype]["ignored"] += 1
            if isinstance(why, SkipFact):  # the criterion reading that fact lists it too
                rec.ignored.append(IgnoredFact(src, str(why), why.about))
            elif not isinstance(why, NotRelevant):
                rec.ignored.append(Ignored(src, str(why)))
            else:
                rec.unused.append(Ignored(src, str(why)))
            continue
        except FieldError as exc:
            counts[rtype]["ignored"] += 1
            rec.warnings.append(at.warning(src, exc.field, f"{exc}: resource not used"))
            rec.ignored.append(Damaged(src, f"{exc.field}: {exc}", fact_kind(res)))
            continue
        counts[rtype]["used"] += 1
        uses.used(applied, src, file)
        for fact in facts:
            _add(rec, fact, pending)
    rec.warnings += uses.warnings()
    if patients:  # linked records too (record/identity.py): this patient's own first
        patients.sort(key=lambda p: p.id != pid)
        rec.patient = replace(_one_patient(patients, rec, at), id=pid,
                              source=f"Patient/{pid}")
    _attach(rec, pending, at)
    _finish(rec, at)
    rec.counts = dict(counts)
    if rec.documents:  # the text reader (medspaCy) is loaded only for a record with text
        from trialsieve import text
        if text.available():
            rec.mentions = [m for d in rec.documents for m in text.read(d)]
        else:
            rec.warnings.append(at.warning(rec.documents[0].source.split("#")[0], "text",
                                           f"{text.UNAVAILABLE} ({len(rec.documents)} texts)"))
    return rec


def _texts(rec: PatientRecord, at: _Places, res: dict, lookup) -> None:
    """The texts of a resource into the record (issue 21); what cannot be read, said."""
    try:
        found, problems = documents.documents(res, lookup)
    except FieldError as exc:
        src = f"{res['resourceType']}/{res.get('id', '?')}"
        rec.warnings.append(at.warning(src, exc.field, f"{exc}: its text not read"))
        return
    rec.documents += found
    rec.warnings += [at.warning(src, field, message) for src, field, message in problems]


@dataclass(frozen=True)
class _Places:
    """Where each resource of a record is: a warning about one names its own file (a bulk
    export spreads a patient over a file per type) and, in NDJSON, its line."""

    home: str  # the record's file: for a source not found (a resource of another record)
    places: dict[str, tuple[str, int | None]]

    def warning(self, source: str, field: str, message: str) -> Warning:
        file, line = self.places.get(source, (self.home, None))
        return Warning(file, source, field, message, line)


def _patient(res: dict) -> Patient:
    gender = _sex(res) or get_str(res, "gender")
    system, value, mrn = _identifier(res)
    born = parse_date_span(res.get("birthDate"), "birthDate")  # 1968-05: any day of May
    return Patient(res.get("id", "?"), born[0] if born else None, gender,
                   f"Patient/{res.get('id', '?')}", value, system, mrn,
                   birth_latest=born[1] if born else None, deceased=_death(res))


def _sex(res: dict) -> str | None:
    """The recorded sex from a sex-for-clinical-use or birth-sex extension, in that order
    (notes, "Sex"); None when neither is there (the administrative gender then)."""
    found: dict[str, str] = {}
    for ext in get_list(res, "extension"):
        if not isinstance(ext, dict) or ext.get("url") not in C.SEX_EXTENSIONS:
            continue
        values = [ext] + [e for e in ext.get("extension", []) if isinstance(e, dict)
                          and e.get("url") == "value"]
        codes = [v.get("valueCode") for v in values] + [
            c for v in values for _, c in codings(v.get("valueCodeableConcept"),
                                                   "extension.valueCodeableConcept")]
        table = C.SEX_EXTENSIONS[ext["url"]]
        found[ext["url"]] = next((table[c] for c in codes if c in table), "unknown")
    return next((found[url] for url in C.SEX_EXTENSIONS if url in found), None)


def _death(res: dict) -> Death | None:
    """Patient.deceased[x]: a date (possibly partial), or true with no date."""
    if "deceasedDateTime" in res:
        span = parse_date_span(res["deceasedDateTime"], "deceasedDateTime")
        return Death(span[0], span[1]) if span else None
    flag = res.get("deceasedBoolean")
    if flag is not None and not isinstance(flag, bool):
        raise FieldError("deceasedBoolean", f"expected true or false, found {flag!r}")
    return Death(None) if flag else None


def _identifier(res: dict) -> tuple[str | None, str | None, bool]:
    """The medical record number (identifier typed MR), else the first usable identifier."""
    found = [i for i in get_list(res, "identifier")
             if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"]]

    def is_mrn(i: dict) -> bool:
        kind = i.get("type")
        codings = kind.get("coding") if isinstance(kind, dict) else None
        return isinstance(codings, list) and any(isinstance(c, dict) and c.get("code") == "MR"
                                                 for c in codings)

    best = next((i for i in found if is_mrn(i)), found[0] if found else None)
    if best is None:
        return None, None, False
    system = best.get("system")
    return (system if isinstance(system, str) else None), best["value"], is_mrn(best)


_FHIR_NAMES = {"birth_date": "birthDate", "sex": "gender", "deceased": "deceased[x]"}


def _one_patient(patients: list[Patient], rec: PatientRecord, at: _Places) -> Patient:
    """Several Patient resources with one id: a fact they disagree on is unknown (never the
    last one read), with a warning naming both values. Deaths on different days are a
    death on an unknown day between them: never "alive" (None would say so)."""
    merged = patients[0]
    if len(patients) == 1:  # nearly every record: nothing to merge (a population's hot path)
        return merged
    for f in fields(Patient):
        values = list(dict.fromkeys(getattr(p, f.name) for p in patients
                                    if getattr(p, f.name) is not None))
        change: dict[str, Any] = {}  # Patient fields, by name
        if f.name in ("id", "source") or len(values) < 2:
            if values and getattr(merged, f.name) is None:
                change[f.name] = values[0]
        else:
            shown = ", ".join(_shown(v) for v in values)
            taken = "taken as unknown"
            change[f.name] = None
            if f.name == "deceased":
                change[f.name] = _any_of_deaths(values)
                taken = f"taken as {_shown(change[f.name])}"
            elif f.name == "identifier_is_mrn":
                change[f.name] = False  # not known to be the medical record number
            rec.warnings.append(at.warning(merged.source, _FHIR_NAMES.get(f.name, f.name),
                                           f"Patient resources with this id disagree "
                                           f"({shown}): {taken}"))
        merged = replace(merged, **change)
    return merged


def _any_of_deaths(deaths: list[Death]) -> Death:
    """A death on one of the days `deaths` give: from the first possible day of any to the
    last possible day of any (no day recorded in one of them: no day known)."""
    spans = [(d.date, d.latest or d.date) for d in deaths if d.date is not None]
    if len(spans) < len(deaths):
        return Death(None)
    return Death(min(first for first, _ in spans), max(last for _, last in spans))


def _shown(value: object) -> str:
    if not isinstance(value, Death):
        return str(value)
    if value.date is None:
        return "deceased, date not recorded"
    if value.latest in (None, value.date):
        return f"deceased on {value.date}"
    return f"deceased between {value.date} and {value.latest}"


_LISTS = {"Diagnosis": "diagnoses", "Histology": "histology", "LabResult": "labs",
          "Exposure": "exposures", "ProcedureRecord": "procedures", "Finding": "findings",
          "Ecog": "ecog", "ConsentRecord": "consents", "Attestation": "attestations",
          "Study": "imaging", "Symptom": "symptoms"}


def _add(rec: PatientRecord, fact: object, pending: list) -> None:
    if isinstance(fact, Lesion | MarrowFinding):
        pending.append(fact)  # attached to its study once the whole input is read
    else:
        getattr(rec, _LISTS[type(fact).__name__]).append(fact)


def _attach(rec: PatientRecord, pending: list, at: _Places) -> None:
    """Put each lesion measurement and marrow finding on the study it was derived from."""
    studies = {s.source: s for s in rec.imaging}
    for fact in _qualified(pending):
        study = studies.get(fact.study)
        if study is None:
            rec.warnings.append(at.warning(fact.source, "derivedFrom",
                                           f"study {fact.study} not found: measurement not "
                                           "used"))
            rec.ignored.append(Ignored(fact.source, f"its study {fact.study} is not in the input"))
        elif isinstance(fact, Lesion) and any(lz.lesion_id == fact.lesion_id
                                              for lz in study.lesions):
            first = next(lz.source for lz in study.lesions if lz.lesion_id == fact.lesion_id)
            rec.warnings.append(at.warning(fact.source, "focus",
                                           f"lesion {fact.lesion_id} is already measured on "
                                           f"{fact.study} by {first}: measurement not used"))
            rec.ignored.append(Damaged(fact.source, f"lesion {fact.lesion_id} measured twice "
                                       f"on {fact.study}", "imaging"))
        elif isinstance(fact, Lesion):
            studies[fact.study] = replace(study, lesions=study.lesions + (fact,))
        else:
            studies[fact.study] = replace(study, marrow_infiltration=fact.present)
    rec.imaging = sorted(studies.values(), key=lambda s: (s.date is None, s.date))


def _qualified(pending: list) -> list:
    """Lesions are one lesion only by identifier system and value (protocol notes): where
    two systems (or none and one) use one value, each lesion's name carries its system, so
    that a PET lesion "1" never borrows an MRI lesion "1"'s measurements."""
    systems: dict[str, set[str]] = defaultdict(set)
    for fact in pending:
        if isinstance(fact, Lesion):
            systems[fact.lesion_id].add(_system(fact))
    return [replace(fact, lesion_id=f"{fact.lesion_id} ({_system(fact) or 'no system'})")
            if isinstance(fact, Lesion) and len(systems[fact.lesion_id]) > 1 else fact
            for fact in pending]


def _system(lesion: Lesion) -> str:
    """The identifier system of a lesion; one named by its BodyStructure id has its own."""
    if lesion.identifier is None:
        return lesion.body or ""
    return lesion.identifier.split("|", 1)[0]


def _finish(rec: PatientRecord, at: _Places) -> None:
    """Facts that need the whole record: same-day conflicts. (Whether metastases make a
    NET advanced is decided by I2 at the screening date, not merged here: a metastasis
    dated after it, or resolved, must not reach the rule by this path.)"""
    for e in rec.ecog:
        if e.problem:  # kept like an unreadable lab result (below)
            field, _, why = e.problem.partition(": ")
            rec.warnings.append(at.warning(e.source, field, f"{why}: the value cannot be read"))
    seen: dict[tuple, list] = defaultdict(list)
    for lab in rec.labs:
        if lab.problem:  # kept, so that it is not replaced by an older result; said here
            field, _, why = lab.problem.partition(": ")
            rec.warnings.append(at.warning(lab.source, field,
                                           f"{why}: the value cannot be read"))
        if lab.std_value is not None:
            seen[(lab.test, lab.date)].append(lab)
    for (test, when), labs in seen.items():
        if len({lab.std_value for lab in labs}) > 1:
            shown = ", ".join(f"{lab.source} {lab.shown()}" for lab in labs)
            rec.warnings.append(at.warning(labs[0].source, "value",
                                           f"{test} results of {when} disagree: {shown}"))



