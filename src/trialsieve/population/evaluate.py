"""One patient of a population: the same reader, engine and window as `trialsieve screen`.

Nothing here decides a criterion: the group's resources become a PatientRecord through
`fhir.reader._record`, are screened by `engine.screen` with the LuMEn protocol and the
eligibility window is `window.eligibility_window`, exactly as the one-patient command
does when no D0 is given; the JSON document is the one `screen --format json` prints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date

import orjson

from trialsieve.engine import ELIGIBLE, INCOMPLETE, Dates, ScreeningResult, screen
from trialsieve.fhir.concept_map import EMPTY, ConceptMapping
from trialsieve.fhir.limits import MAX_DEPTH, MAX_STRING, check_shape, parse_json
from trialsieve.fhir.reader import _record, mapped_lookup
from trialsieve.logic import Tri
from trialsieve.output.json_result import to_json
from trialsieve.population import triage
from trialsieve.population.source import Group, Problem, Row, Span, read_span
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record.identity import Identities, owner
from trialsieve.window import eligibility_window

CRITERIA = tuple(c.id for c in LUMEN.criteria)
NOT_EVALUATED = "not_evaluated"  # a set-aside patient's criteria after triage.LAST_EVALUATED


@dataclass(frozen=True)
class Job:
    """What every patient of a run is screened with (sent once to each worker)."""

    files: list[str]
    shared: dict[str, dict]  # id -> resource about no one patient (a Medication)
    as_of: date
    policy: str
    window: bool = False  # each patient's D0 window (about 180 screenings)
    mapping: ConceptMapping = EMPTY  # --concept-map: the site's own codes
    triage: triage.Look | None = None  # set aside who cannot be a candidate; None: nobody
    # keys the scan resolved beyond a reference's id (identifiers, links): filled by it
    identities: Identities = field(default_factory=Identities)


@dataclass(frozen=True)
class Screened:
    """What the outputs need of one patient (small: the full document is kept as text)."""

    pid: str
    verdict: str
    statuses: tuple[str, ...]  # per criterion, protocol order
    earliest_d0: str | None
    latest_d0: str | None
    missing: tuple[str, ...]
    document: bytes  # one line of results.ndjson
    # "deceased on DATE" when a death on or before the screening date decides (the
    # funnel's first step); None otherwise, "possibly deceased" included
    deceased: str | None = None
    # the criteria decided by what a report says (pre-screening counts it, issue 21)
    from_text: tuple[str, ...] = ()

    @property
    def unknowns(self) -> int:
        return self.statuses.count("unknown")


def _resource(text: str | bytes, file: str, pid: str, ids: Identities) -> dict:
    """A line's resource as the reader reads it: orjson where it reads the line (NaN and
    the like, which it refuses, go to the reader's own parse), within the reader's limits
    on depth and string length, and the patient the reader gives it must be the one the
    scan gave it (DuckDB takes the first of two duplicated keys, the reader the last).
    Else an error (InputError, ValueError): the patient is not screened, rather than
    screened on a resource `screen` would have read otherwise."""
    s = text if isinstance(text, str) else text.decode()
    try:
        res = orjson.loads(s)
    except orjson.JSONDecodeError:
        res = parse_json(file, s, "")
    else:
        # walked only when the text could break a limit (a walk of every resource cost
        # twice the parse): no string is longer than the text, no nesting deeper than
        # its opening brackets
        if len(s) > MAX_STRING or s.count("{") + s.count("[") > MAX_DEPTH:
            check_shape(file, res, "")
    whose = owner(res, ids)[0]
    if whose != pid:
        raise ValueError(f"{res['resourceType']}/{res.get('id', '?')}: the reader reads it "
                         f"as Patient {whose}'s, the scan as Patient {pid}'s (a duplicated "
                         "key?)")
    return res


def items(rows: list[Row], files: list[str], pid: str, ids: Identities | None = None
          ) -> list[tuple[str, dict]]:
    """(file, resource) pairs as the reader holds them; a type no rule reads stays a stub
    (its type and id are all `_record` looks at, to count it)."""
    out = []
    opened: dict[int, int] = {}  # file -> descriptor, for the texts read by Span
    try:
        for r in rows:
            if isinstance(r.text, dict):
                res = r.text
            elif isinstance(r.text, Span):
                if r.file not in opened:
                    opened[r.file] = os.open(files[r.file], os.O_RDONLY)
                res = _resource(read_span(opened[r.file], r.text), files[r.file], pid,
                                ids or Identities())
            elif r.text is not None:
                res = _resource(r.text, files[r.file], pid, ids or Identities())
            else:
                res = {"resourceType": r.rtype, "id": r.rid} if r.rid is not None else {
                    "resourceType": r.rtype}
            out.append((files[r.file], res))
    finally:
        for fd in opened.values():
            os.close(fd)
    return out


def _at_screening_date(ref: ScreeningResult, as_of: date) -> ScreeningResult | None:
    """The window's own screening at inclusion = D0 = as_of, when that is its reference:
    the rules read the dates only, not whether they were given, so it is `screen` with
    no dates given, save for the `assumed` note (proven equal by the differential test)."""
    d = ref.dates
    if (d.as_of, d.inclusion, d.d0) != (as_of, as_of, as_of):
        return None
    return replace(ref, dates=Dates.resolve(as_of))


def evaluate(group: Group, job: Job) -> Screened:
    """The patient screened at inclusion = D0 = the screening date. Its document is what
    `screen PATH --as-of AS_OF --d0 AS_OF --format ndjson` prints; with the window
    (about 180 screenings, one per D0 of the horizon) what `screen PATH --as-of AS_OF
    --format ndjson` prints; the site's codes read through `job.mapping` (--concept-map).
    A patient the triage sets aside is screened on the criteria up to INCL02 only."""
    if job.triage is not None and _set_aside(group, job.triage):
        return _screened_set_aside(group, job)
    pid, as_of, policy = group.pid, job.as_of, job.policy
    pairs = items(group.rows, job.files, pid, job.identities)
    own = {res["id"]: res for row, (_, res) in zip(group.rows, pairs, strict=True)
           if row.text is not None and isinstance(res.get("id"), str)}  # parsed, not stubs
    lookup = {**job.shared, **(group.lookup or {}), **own}
    record = _record(pid, pairs, mapped_lookup(job.mapping, lookup), job.mapping)
    if not job.window:
        result = screen(LUMEN, record, Dates.resolve(as_of, None, as_of), policy)
        doc = to_json(result)
        spans = []
    else:
        window = eligibility_window(LUMEN, record, as_of, policy=policy)
        result = _at_screening_date(window.reference, as_of) or screen(
            LUMEN, record, Dates.resolve(as_of), policy)
        doc = to_json(result, window)
        # D0 range of the best marking the window reaches: eligible if it ever is, else
        # "eligible once the missing items are settled"
        best = ELIGIBLE if any(i.marking == ELIGIBLE for i in window.intervals) else INCOMPLETE
        spans = [i for i in window.intervals if i.marking == best]
    return Screened(
        pid, result.verdict, tuple(c.status.value for c in result.results),
        spans[0].start.isoformat() if spans else None,
        spans[-1].end.isoformat() if spans else None,
        tuple(doc["missing"]), orjson.dumps(doc), _dead(result), _from_text(result))


def _from_text(result: ScreeningResult) -> tuple[str, ...]:
    return tuple(c.criterion.id for c in result.results if c.status is not Tri.UNKNOWN
                 and any(e.text and e.text.use == "from text" for e in c.outcome.evidence))


def _dead(result: ScreeningResult) -> str | None:
    return result.deceased if (result.deceased or "").startswith("deceased") else None


def evaluate_or_problem(g: Group, job: Job) -> Screened | Problem:
    """`evaluate`, or the Problem that names the patient when its data stops it: one
    patient's bad data must not stop the run (both engines, in their workers)."""
    try:
        return evaluate(g, job)
    except Exception as exc:  # noqa: BLE001 - one patient's bad data must not stop the run
        f = job.files[g.rows[0].file] if g.rows else ""
        return Problem(f, None, f"patient not screened: {type(exc).__name__}: {exc}",
                       f"Patient/{g.pid}")


def _set_aside(group: Group, look: triage.Look) -> bool:
    """As decided by the DuckDB scan (group.aside), else by the same look here. A patient
    with no Patient resource is never set aside: the reader warns of it, in full."""
    if group.aside is not None:
        return group.aside
    if not any(r.rtype == "Patient" for r in group.rows):
        return False
    return not triage.might_be_net((orjson.dumps(r.text) if isinstance(r.text, dict)
                                    else r.text for r in group.rows
                                    if isinstance(r.text, str | bytes | dict)), look)


def _screened_set_aside(group: Group, job: Job) -> Screened:
    """The criteria up to triage.LAST_EVALUATED, on the Patient resource alone; each other
    resource is counted by type as read and not evaluated."""
    pairs = items([r for r in group.rows if r.rtype == "Patient"], job.files, group.pid,
                  job.identities)
    # read only: the shared resources as they are unless the patient brings its own,
    # rather than a copy of every one of them for each patient set aside
    lookup = {**job.shared, **group.lookup} if group.lookup else job.shared
    record = _record(group.pid, pairs, mapped_lookup(job.mapping, lookup), job.mapping)
    counts = {t: dict(c) for t, c in record.counts.items()}
    for r in group.rows:
        if r.rtype != "Patient":
            c = counts.setdefault(r.rtype, {"read": 0, "used": 0, "ignored": 0,
                                            NOT_EVALUATED: 0})
            c["read"] += r.n
            c[NOT_EVALUATED] += r.n
    result = replace(triage.screen_set_aside(record, job.as_of, job.policy), counts=counts)
    doc = to_json(result)
    statuses = tuple(c.status.value for c in result.results)
    return Screened(group.pid, result.verdict,
                    statuses + (NOT_EVALUATED,) * (len(CRITERIA) - len(statuses)),
                    None, None, tuple(doc["missing"]), orjson.dumps(doc), _dead(result))
