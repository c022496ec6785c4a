"""The investigator's worklist ("ask the investigator"): per patient, the questions only
an investigator may settle. These are the answers to judgement questions a criterion
still needs (E1, E2, E3 and the other attestations), the imported answers awaiting
their confirmation, and a decided screening awaiting their signature. Derived from the
screening itself, so it is never out of step with the record; a nurse asks by pointing
the investigator here."""

from __future__ import annotations

import json
from dataclasses import dataclass

from trialsieve.codes import ATTESTATIONS
from trialsieve.engine import ScreeningResult
from trialsieve.logic import Tri
from trialsieve.web import signature, store
from trialsieve.web.db import PatientRow, ResourceRow
from trialsieve.web.screening import criteria_reading, settle_links

CONFIRM, ANSWER, SIGN = "confirm", "answer", "sign"


@dataclass(frozen=True)
class Ask:
    kind: str  # CONFIRM, ANSWER or SIGN
    text: str
    href: str


def asks(p: PatientRow, rows: list[ResourceRow], result: ScreeningResult,
         signed: bool) -> tuple[Ask, ...]:
    """What this patient waits on an investigator for; `signed`: a signature stands."""
    return with_signature(before_signing(p, rows, result), p.screening_number,
                          result.verdict, signed)


def stored(items: tuple[Ask, ...]) -> str:
    """The asks of a record as the list's summary row keeps them (web.summary)."""
    return json.dumps([[a.kind, a.text, a.href] for a in items], ensure_ascii=False)


def from_stored(text: str | None) -> tuple[Ask, ...]:
    return tuple(Ask(*item) for item in json.loads(text or "[]"))


def with_signature(items: tuple[Ask, ...], number: str, verdict: str,
                   signed: bool) -> tuple[Ask, ...]:
    """The asks of the record, and a signature asked for when the screening is decided,
    nothing imported awaits confirmation and no signature stands (signatures are not
    part of the record: this is decided on every read)."""
    if verdict in signature.MEANINGS and not signed and not any(
            a.kind == CONFIRM for a in items):
        return (*items, Ask(SIGN, f"sign the screening: {signature.MEANINGS[verdict]}",
                            f"/patients/{number}#signature"))
    return items


def before_signing(p: PatientRow, rows: list[ResourceRow],
                   result: ScreeningResult) -> tuple[Ask, ...]:
    """What the record itself asks of an investigator (answers, confirmations): the same
    for as long as the record, the protocol and the dates are."""
    page = f"/patients/{p.screening_number}"
    out: list[Ask] = []
    awaiting = [a for a in store.imported_answers(p, rows) if not a.confirmed]
    for a in awaiting:
        question = ATTESTATIONS[a.question].text if a.question in ATTESTATIONS \
            else a.question
        out.append(Ask(CONFIRM, f"confirm the imported answer “{question}”: "
                       f"{'yes' if a.answer else 'no'} ({a.date or 'undated'})",
                       f"{page}#imported"))
    # criteria an awaiting answer reads: confirming it may settle them, so not asked twice
    held = {cid for a in awaiting for cid in criteria_reading(a.question)}
    for c in result.results:
        questions = [link.preset for link in settle_links(c) if link.kind == "attestation"]
        if c.status is Tri.UNKNOWN and questions and c.criterion.id not in held:
            said = " or ".join(f"“{ATTESTATIONS[q].text}”" for q in questions)
            out.append(Ask(ANSWER, f"{c.criterion.id} {c.criterion.short}: answer {said}",
                           f"{page}/entry/attestation?preset={questions[0]}"))
    return tuple(out)
