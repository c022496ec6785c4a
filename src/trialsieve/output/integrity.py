"""A saved result that cannot be changed unseen: `report` and `export` file a result
saved by `screen --format json|ndjson` as it was decided, so they first check that it
still is what was decided.

Two checks. The verdict is derived again from the criteria (and a recorded death), as
the engine derives it: a verdict that disagrees with its own criteria is refused, naming
the criteria. And each result carries a seal (`integrity`): SHA-256 over each criterion
and over the decision (patient, identifier, verdict, death, protocol, dates, policy),
so a criterion edited by hand, even consistently with an edited verdict, is named. The
seal guards against mistakes and hand edits, not against forgery (anyone can compute a
SHA-256); the signed workbench result is the record that does.

Not sealed: the guidance, the window, warnings and counts (explanations, not the
decision), and the two keys the workbench adds to a signed result (`screening_number`,
`signature`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

DECISION = ("patient", "identifier", "verdict", "deceased", "protocol", "policy")
FAILING = {"inclusion": "not_met", "exclusion": "met"}


def _h(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _decision(doc: dict[str, Any]) -> dict[str, Any]:
    dates = doc.get("dates") or {}
    return {**{k: doc.get(k) for k in DECISION},
            "dates": {k: dates.get(k) for k in ("as_of", "inclusion", "d0")}}


def seal(doc: dict[str, Any]) -> dict[str, Any]:
    return {"algorithm": "sha256", "decision": _h(_decision(doc)),
            "criteria": {c["id"]: _h(c) for c in doc["criteria"]}}


def derived_verdict(doc: dict[str, Any]) -> tuple[str, list[str]]:
    """The verdict the criteria give, and the criteria (or death) that give it."""
    failing = [f"{c['id']} {'not met' if c['category'] == 'inclusion' else 'present'}"
               for c in doc["criteria"] if c["status"] == FAILING.get(c["category"])]
    death = doc.get("deceased") or ""
    if death.startswith("deceased") or failing:
        return "not_eligible", ([death] if death.startswith("deceased") else []) + failing
    unknown = [f"{c['id']} unknown" for c in doc["criteria"] if c["status"] == "unknown"]
    if unknown:
        return "incomplete", unknown
    if death:  # "possibly deceased (...)": not eligible until settled
        return "incomplete", [death]
    return "eligible", []


def problem(doc: dict[str, Any]) -> tuple[str, str] | None:
    """The field and why this saved result cannot be filed as decided; None when it can."""
    verdict, why = derived_verdict(doc)
    if doc.get("verdict") != verdict:
        said = ", ".join(why) or "every criterion met or absent"
        return "verdict", (f"{doc.get('verdict')!r}, but its criteria give {verdict!r} "
                           f"({said}): the result was changed after screening")
    sealed = doc.get("integrity")
    if not isinstance(sealed, dict):
        return None  # saved before results were sealed: the verdict check only
    now = seal(doc)
    changed = [cid for cid, h in now["criteria"].items()
               if sealed.get("criteria", {}).get(cid) != h]
    gone = [cid for cid in sealed.get("criteria", {}) if cid not in now["criteria"]]
    if changed or gone:
        return "criteria", (f"{', '.join(changed + gone)} changed after screening (no "
                            "longer matches the result's seal)")
    if sealed.get("decision") != now["decision"]:
        return "integrity", ("its patient, verdict, dates or policy changed after "
                             "screening (no longer match the result's seal)")
    return None
