"""Screening results as JSON (documented by docs/screening-result.schema.json) and as an
80-column text table."""

from __future__ import annotations

import re
import textwrap
from datetime import date
from typing import Any

from trialsieve.engine import ScreeningResult
from trialsieve.protocol import Protocol
from trialsieve.rules.base import Evidence, Outcome

SCHEMA_VERSION = "1"


def _d(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _evidence(e: Evidence) -> dict[str, Any]:
    return {"resource": e.source, "date": _d(e.date), "what": e.what, "value": e.value,
            "note": e.note}


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


def to_json(r: ScreeningResult) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "patient": r.patient_id,
        "verdict": r.verdict,
        "protocol": {"id": r.protocol.id, "version": r.protocol.version, "hash": r.protocol.hash},
        "dates": {"as_of": _d(r.dates.as_of), "inclusion": _d(r.dates.inclusion),
                  "d0": _d(r.dates.d0), "assumed": list(r.dates.assumed)},
        "policy": r.policy,
        "criteria": [
            {"id": c.criterion.id, "category": c.criterion.category, "text": c.criterion.text,
             "reading": c.criterion.reading, **_outcome(c.outcome)}
            for c in r.results
        ],
        "missing": sorted({m for c in r.results for m in c.outcome.missing}),
        "warnings": [{"file": w.file, "resource": w.source, "field": w.field,
                      "message": w.message} for w in r.warnings],
        "ignored": [{"resource": i.source, "reason": i.reason} for i in r.ignored],
        "resources": r.counts,
    }


STATUS_MARK = {"met": "MET", "not_met": "NOT MET", "unknown": "UNKNOWN"}
WIDTH = 80


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(chop_long_words(text, WIDTH - len(indent) - 2), WIDTH,
                         initial_indent=indent, subsequent_indent=indent + "  ")


def chop_long_words(text: str, size: int) -> str:
    """Words longer than a line cut into line-sized pieces first: textwrap alone takes
    time quadratic in a word's length (a 1 MB id took seconds)."""
    if size < 1 or len(text) <= size or not re.search(rf"\S{{{size + 1}}}", text):
        return text
    def cut(m: re.Match) -> str:
        word = m[0]
        return " ".join(word[i:i + size] for i in range(0, len(word), size))

    return re.sub(rf"\S{{{size + 1},}}", cut, text)


def _assumed_text(assumed: tuple[str, ...]) -> str:
    """What the dates not given were set to (engine.Dates.resolve): D0 and inclusion
    default to each other, both to the screening date only when neither is given."""
    if "d0" in assumed and "inclusion" in assumed:
        return "inclusion and D0 = screening date"
    return "inclusion = D0" if "inclusion" in assumed else "D0 = inclusion date"


def table(r: ScreeningResult) -> str:
    d = r.dates
    assumed = f" (assumed: {_assumed_text(d.assumed)})" if d.assumed else ""
    lines = [
        f"Patient {r.patient_id}: {r.verdict.upper().replace('_', ' ')}",
        f"Protocol {r.protocol.id} v{r.protocol.version} ({r.protocol.hash}), policy {r.policy}",
        *_wrap(f"As of {d.as_of}, inclusion {d.inclusion}, D0 {d.d0}{assumed}", ""),
        "-" * WIDTH,
        f"{'ID':<7} {'STATUS':<8} CRITERION / summary, - evidence, ? missing, ~ assumed",
    ]
    for c in r.results:
        o = c.outcome
        lines.append(f"{c.criterion.id:<7} {STATUS_MARK[o.status.value]:<8} {c.criterion.short}")
        lines += _wrap(o.summary, " " * 8)
        for e in o.evidence[:4]:
            shown = " ".join(x for x in (e.what + ":", e.value or "", f"({e.note})" if e.note
                                         else "") if x)
            lines += _wrap(f"{e.source} {_d(e.date) or 'undated'} {shown}", " " * 8 + "- ")
        for m in o.missing:
            lines += _wrap(f"missing: {m}", " " * 8 + "? ")
        for a in o.assumptions:
            lines += _wrap(f"assumed: {a}", " " * 8 + "~ ")
    if r.warnings:
        lines += ["-" * WIDTH, "Warnings:"]
        lines += [x for w in r.warnings for x in _wrap(str(w), "  ! ")]
    used = sum(v["used"] for v in r.counts.values())
    read = sum(v["read"] for v in r.counts.values())
    lines += ["-" * WIDTH, f"Resources: {read} read, {used} used, {read - used} not used "
              f"({len(r.ignored)} set aside with a reason)"]
    return "\n".join(lines)


def criteria_table(p: Protocol) -> str:
    lines = [f"{p.title}", f"Protocol {p.id} v{p.version} ({p.hash})", "-" * WIDTH]
    for c in p.criteria:
        lines.append(f"{c.id:<7} {c.category:<9} {c.short}")
        lines += _wrap("reading: " + c.reading, " " * 8)
    return "\n".join(lines)
