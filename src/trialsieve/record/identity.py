"""Which resources are one patient, and which version of each resource is read.

Protocol notes, "One patient, one record": references resolve whatever their form; one
that cannot be resolved is a warning, never a silent drop or a second patient; the newest
version of a resource replaces the older; patients linked in the input are one person; a
patient spread over several files is one patient. Everything that groups resources by
patient asks this module, before anything is grouped: the reader (`fhir.reader.group`,
`assemble`, `_record`) for `screen` and the workbench, and the population sources (the
DuckDB scan and Spark compute `reference_key` in SQL, then apply `Identities.aliases`).

A subject is first reduced to a *key* (`subject_key`), which needs nothing but the
resource itself, so that SQL can compute it line by line:

- a reference `Patient/x`, `Patient/x/_history/2`, `https://host/fhir/Patient/x` (or its
  `_history` form): the key is `x`;
- `urn:uuid:u` (a Bundle's fullUrl): the key is `u`;
- a logical reference by identifier only (`{"identifier": {"system": s, "value": v}}`):
  the key is `identifier|s|v` (`identifier||v` when the reference gives no system).

Then `Identities`, built from the input's Patient resources, maps a key to the patient
(`pid`): a Patient's id is itself; a Bundle fullUrl of a Patient whose id differs is
that Patient; an identifier key is the one Patient holding that identifier (none, or
several different patients: unresolved); patients joined by `Patient.link` (any type:
replaced-by, replaces, refer, seealso) are one, named by the id of the one not replaced
(the smallest such id, so that file order never decides).

Versions (`current`): resources of one type and id are versions of one resource. The
newest replaces the others (so an entered-in-error or inactive newest version withdraws
the resource: the mappers set it aside by its status). Newest is the highest
`meta.versionId` when every version has a numeric one, else the latest
`meta.lastUpdated` when every version has one and one is latest. Exact duplicates are
one. Versions that differ and cannot be ordered so: none is read, a warning names them,
and the kind of fact they state is recorded as damaged (a criterion reading it cannot
come out in the patient's favour on the rest of the record). Several Patient resources
with one id that cannot be ordered are all kept: the reader merges them, a value they
disagree on taken as unknown.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Where a resource names its patient, in the order they are tried.
SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "individual")
LINK_TYPES = ("replaced-by", "replaces", "refer", "seealso")
IDENTIFIER = "identifier|"  # starts the key of a logical reference by identifier
HISTORY = re.compile(r"/_history/[^/]*/*$")


def reference_key(r: str) -> str:
    """The key of a string reference: its id, whatever the form (relative, versioned,
    absolute URL, urn:uuid). The SQL of population/source.py and spark_job.py computes
    the same (tests/test_identity.py and test_population_spark.py read one patient
    referred to in every form through screen, DuckDB and Spark)."""
    if r.startswith("urn:uuid:"):
        return r[len("urn:uuid:"):]
    return HISTORY.sub("", r.rstrip("/")).rstrip("/").split("/")[-1]


def identifier_key(system: object, value: str) -> str:
    return f"{IDENTIFIER}{system if isinstance(system, str) else ''}|{value}"


def reference_of(ref: Any) -> str | None:
    """The key of one Reference element (a dict), or None when it names nothing."""
    if not isinstance(ref, dict):
        return None
    if isinstance(ref.get("reference"), str):
        return reference_key(ref["reference"])
    ident = ref.get("identifier")
    if isinstance(ident, dict) and isinstance(ident.get("value"), str) and ident["value"]:
        return identifier_key(ident.get("system"), ident["value"])
    return None


def subject_key(res: dict) -> tuple[str | None, str | None]:
    """(key, field) of the patient a resource is about: a Patient's own id, else the first
    subject field that holds a reference or an identifier; (None, None) for a resource
    about no one patient (a Medication, a Practitioner)."""
    if res.get("resourceType") == "Patient":
        rid = res.get("id")
        return (rid if isinstance(rid, str) else None), "id"
    for f in SUBJECT_FIELDS:
        key = reference_of(res.get(f))
        if key is not None:
            return key, f
    return None, None


def _identifiers(res: dict) -> Iterable[str]:
    for i in res.get("identifier") or []:
        if isinstance(i, dict) and isinstance(i.get("value"), str) and i["value"]:
            yield identifier_key(i.get("system"), i["value"])
            if isinstance(i.get("system"), str):
                yield identifier_key(None, i["value"])  # a reference may omit the system


@dataclass
class Identities:
    """Keys to patients, from the input's Patient resources (see the module's doc)."""

    aliases: dict[str, str] = field(default_factory=dict)  # key -> pid, where not itself
    ambiguous: set[str] = field(default_factory=set)  # identifier keys of several patients

    @classmethod
    def of(cls, patients: Iterable[dict], others: Collection[str] = ()) -> Identities:
        """From Patient resources (with `_fullUrl` when read from a Bundle); `others`: ids
        of further Patients in the input, which a link may name."""
        patients = [p for p in patients if isinstance(p.get("id"), str)]
        ids = {p["id"] for p in patients} | set(others)
        parent = {i: i for i in ids}

        def root(i: str) -> str:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        replaced: set[str] = set()
        url: dict[str, str] = {}
        for p in patients:
            if isinstance(p.get("_fullUrl"), str):
                k = reference_key(p["_fullUrl"])
                if k != p["id"] and k not in ids:
                    url[k] = p["id"]
        for p in patients:
            for link in p.get("link") or []:
                if not isinstance(link, dict) or link.get("type") not in LINK_TYPES:
                    continue
                other = reference_of(link.get("other"))
                other = url.get(other, other) if other else None
                if other is None or other not in parent or other == p["id"]:
                    continue  # a patient not in the input (or a RelatedPerson): no one
                parent[root(p["id"])] = root(other)
                if link["type"] == "replaced-by":
                    replaced.add(p["id"])
                elif link["type"] == "replaces":
                    replaced.add(other)
        members: dict[str, list[str]] = defaultdict(list)
        for i in ids:
            members[root(i)].append(i)
        pid: dict[str, str] = {}
        for group in members.values():
            kept = [i for i in group if i not in replaced] or group
            pid.update(dict.fromkeys(group, min(kept)))
        out = cls({k: v for k, v in pid.items() if k != v})
        out.aliases.update({k: pid[v] for k, v in url.items()})
        owners: dict[str, set[str]] = defaultdict(set)
        for p in patients:
            for k in _identifiers(p):
                owners[k].add(pid[p["id"]])
        for k, who in owners.items():
            if len(who) == 1:
                out.aliases[k] = next(iter(who))
            else:
                out.ambiguous.add(k)
        return out

    def pid(self, key: str) -> str | None:
        """The patient of a key; None for an identifier no one (or several) holds."""
        if key.startswith(IDENTIFIER):
            return self.aliases.get(key)
        return self.aliases.get(key, key)

    def why_not(self, key: str) -> str:
        """Why a key resolves to no patient (pid gave None)."""
        _, system, value = key.split("|", 2)
        shown = f"{system}|{value}" if system else value
        if key in self.ambiguous:
            return f"identifier {shown} is held by several patients"
        return f"identifier {shown} matches no Patient resource of the input"


def owner(res: dict, ids: Identities) -> tuple[str | None, str | None, str | None]:
    """(pid, field, problem): the patient a resource belongs to, or the reason its subject
    cannot be resolved (pid None, field named); (None, None, None): about no patient."""
    key, f = subject_key(res)
    if key is None:
        return None, None, None
    pid = ids.pid(key)
    if pid is None:
        return None, f, f"reference cannot be resolved: {ids.why_not(key)}"
    return pid, f, None


# --- versions ---------------------------------------------------------------------------
def _content(res: dict) -> str:
    return json.dumps({k: v for k, v in res.items() if k != "_fullUrl"}, sort_keys=True,
                      default=str)


def _meta(res: dict, key: str) -> Any:
    meta = res.get("meta")
    return meta.get(key) if isinstance(meta, dict) else None


def _version(res: dict) -> int | None:
    v = _meta(res, "versionId")
    return int(v) if isinstance(v, str) and v.isdigit() else None


def _updated(res: dict) -> datetime | None:
    v = _meta(res, "lastUpdated")
    if not isinstance(v, str):
        return None
    try:
        t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def newest(versions: list[dict]) -> dict | None:
    """The newest of several differing versions of one resource, or None when they
    cannot be ordered (see the module's doc)."""
    numbers = [_version(v) for v in versions]
    if all(n is not None for n in numbers) and len(set(numbers)) == len(numbers):
        return versions[numbers.index(max(n for n in numbers if n is not None))]
    times = [_updated(v) for v in versions]
    if all(t is not None for t in times):
        last = max(t for t in times if t is not None)
        if times.count(last) == 1:
            return versions[times.index(last)]
    return None


@dataclass(frozen=True)
class Unordered:
    """Versions of one resource that differ and cannot be ordered."""

    file: str
    source: str  # Type/id
    resource: dict  # one of them (for the kind of fact it states)
    count: int

    @property
    def message(self) -> str:
        return (f"{self.count} differing versions of {self.source} with no meta.versionId "
                "or meta.lastUpdated that orders them: none is read")


def current(items: list[tuple[str, dict]], versioned: Callable[[str], bool] = lambda t: True
            ) -> tuple[list[tuple[str, dict]], list[Unordered]]:
    """`items` (file, resource) with each resource of a type `versioned` accepts reduced
    to its newest version, kept at the place of its first version (order-free: the same
    whatever the order of the input); and the resources whose versions cannot be ordered
    (left out, save Patient resources, which are all kept)."""
    by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, (_, res) in enumerate(items):
        rid = res.get("id")
        if isinstance(rid, str) and versioned(res["resourceType"]):
            by_key[(res["resourceType"], rid)].append(n)
    drop: set[int] = set()
    put: dict[int, tuple[str, dict]] = {}
    unordered = []
    for (rtype, rid), where in by_key.items():
        if len(where) < 2:
            continue
        distinct: dict[str, int] = {}
        for n in where:
            distinct.setdefault(_content(items[n][1]), n)
        chosen = list(distinct.values())
        # identical copies are one: the first file holding it names it (sorted: order-free)
        first_file = {c: min(items[n][0] for n in where
                             if _content(items[n][1]) == c) for c in distinct}
        if len(chosen) == 1:
            best = chosen[0]
        else:
            versions = [items[n][1] for n in chosen]
            pick = newest(versions)
            if pick is None:
                if rtype == "Patient":
                    continue  # all kept: the reader merges them (values they disagree on unknown)
                drop.update(where)
                shown = sorted(distinct)[0]
                unordered.append(Unordered(first_file[shown], f"{rtype}/{rid}",
                                           json.loads(shown), len(distinct)))
                continue
            best = chosen[versions.index(pick)]
        content = _content(items[best][1])
        drop.update(where)
        put[where[0]] = (first_file[content], items[best][1])
    out = [put.get(n, item) for n, item in enumerate(items) if n not in drop or n in put]
    return out, unordered
