"""A screening result as JSON, described by docs/screening-result.schema.json.

`document(results)` is what `screen --format json` prints: always one object, whatever
the number of patients, with the results in `results`; `--format ndjson` prints
`to_json(result)` one per line. Numbers are numbers, with their UCUM unit beside.
The schema version changes when a property is removed or changes meaning.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from trialsieve.codes import coded_display
from trialsieve.engine import ScreeningResult
from trialsieve.output.guidance import guidance, status_word
from trialsieve.output.integrity import seal
from trialsieve.record import Warning
from trialsieve.rules.base import Evidence, Outcome, Quantity, Quote
from trialsieve.window import Window
from trialsieve.window_report import window_to_json

SCHEMA_VERSION = "2"


def _d(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _quantity(q: Quantity | None) -> dict[str, Any] | None:
    if q is None:
        return None
    return {"value": q.value, "unit": q.unit, "comparator": q.comparator}


def _evidence(e: Evidence) -> dict[str, Any]:
    code = ({"system": e.code[0], "code": e.code[1], "display": coded_display(e.code)}
            if e.code else None)
    return {"resource": e.source, "date": _d(e.date), "what": e.what, "value": e.value,
            "note": e.note, "quantity": _quantity(e.quantity), "uln": _quantity(e.uln),
            "code": code, **({"text": _quote(e.text)} if e.text else {})}


def _quote(q: Quote) -> dict[str, Any]:
    """The sentence of a report a suggestion or a fact "from text" rests on."""
    return {"use": q.use, "document": q.document, "kind": q.kind, "date": _d(q.date),
            "sentence": q.sentence, "start": q.start, "end": q.end,
            "modifiers": list(q.modifiers),
            **({"confirmed": {"by": q.confirmed.by, "on": q.confirmed.on,
                              "resource": q.confirmed.resource}} if q.confirmed else {})}


def _outcome(o: Outcome) -> dict[str, Any]:
    return {
        "status": o.status.value,
        "summary": o.summary,
        "evidence": [_evidence(e) for e in o.evidence],
        "ignored": [{"resource": i.source, "reason": i.reason} for i in o.ignored],
        "missing": list(o.missing),
        "assumptions": list(o.assumptions),
        "bounds": [{"on": b.on, "side": b.side, "date": _d(b.date), "reason": b.reason,
                    "resource": b.source} for b in o.bounds],
    }


def warning_to_json(w: Warning) -> dict[str, str]:
    return {"file": w.file, "resource": w.source, "field": w.field, "message": w.message}


def _guidance(r: ScreeningResult, w: Window | None) -> dict[str, Any]:
    g = guidance(r, w)
    return {
        "blocking": [{"criterion": b.criterion, "reason": b.reason, "changeable": b.changeable}
                     for b in g.blocking],
        "needed": [{"item": n.item, "criteria": list(n.criteria)} for n in g.needed],
        "next_steps": [{"kind": s.kind, "text": s.text, "criteria": list(s.criteria),
                        "date": _d(s.date)} for s in g.steps],
        "final": g.final,
    }


def to_json(r: ScreeningResult, window: Window | None = None) -> dict[str, Any]:
    p = r.patient
    doc = {
        "schema": SCHEMA_VERSION,
        "patient": r.patient_id,
        "identifier": ({"system": p.identifier_system, "value": p.identifier,
                        "mrn": p.identifier_is_mrn} if p and p.identifier else None),
        "source_file": r.file,
        "verdict": r.verdict,
        "deceased": r.deceased,
        "protocol": {"id": r.protocol.id, "title": r.protocol.title, "version": r.protocol.version,
                     "hash": r.protocol.hash},
        "dates": {"as_of": _d(r.dates.as_of), "inclusion": _d(r.dates.inclusion),
                  "d0": _d(r.dates.d0), "assumed": list(r.dates.assumed)},
        "policy": r.policy,
        "criteria": [
            {"id": c.criterion.id, "category": c.criterion.category, "text": c.criterion.text,
             "reading": c.criterion.reading, "short": c.criterion.short,
             "shown_as": status_word(c), **_outcome(c.outcome)}
            for c in r.results
        ],
        "missing": sorted({m for c in r.results for m in c.outcome.missing}),
        "guidance": _guidance(r, window),
        "warnings": [warning_to_json(w) for w in r.warnings],
        "ignored": [{"resource": i.source, "reason": i.reason} for i in r.ignored],
        "resources": r.counts,
    }
    if r.set_aside is not None:
        done = {c.criterion.id for c in r.results}
        doc["set_aside"] = {"reason": r.set_aside, "not_evaluated": [
            c.id for c in r.protocol.criteria if c.id not in done]}
    if window is not None:
        doc["window"] = window_to_json(window)
    doc["integrity"] = seal(doc)  # report and export check it (integrity.py)
    return doc


def document(results: Sequence[dict[str, Any]], warnings: Sequence[Warning] = ()) -> dict:
    """The one top-level object of `screen --format json`."""
    from trialsieve import __version__

    return {"schema": SCHEMA_VERSION, "generator": f"trialsieve {__version__}",
            "warnings": [warning_to_json(w) for w in warnings], "results": list(results)}
