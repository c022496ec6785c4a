"""One-click confirmation of a major operation, a radiotherapy course and menopause
(issue 21): the sentence confirmed is stored as the coded FHIR the reader reads (a
Procedure, a Condition) and then decides like an entry. Before, the text only suggests.

Expectations by hand (protocol notes; inclusion = D0 = 2026-12-01, screened 2026-11-25):
- E2, major surgery within the 42 days before inclusion: 2026-10-21 is 41 days before,
  so it excludes; 2026-10-20 is 42 days before, outside, and an older surgery is no
  explicit negative for the window (notes: "a record is not a complete history"): unknown.
- E3, radiotherapy within the 84 days before inclusion: 2026-10-01 is 61 days: excludes.
- I10, a woman not of childbearing potential (postmenopausal): met, not applicable; E8
  and E9 then not met.
Each case is an eligible example with the attestation that settled the criterion
removed, and the fact written only in a clinic letter."""

from __future__ import annotations

import base64
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from trialsieve.engine import Dates, screen
from trialsieve.fhir import confirmation
from trialsieve.fhir.reader import read
from trialsieve.logic import Tri
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record.from_text import text_source
from trialsieve.rules.base import SCREENING

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"
DATES = Dates.resolve(date(2026, 11, 25), d0=date(2026, 12, 1))
MAN, WOMAN = "02-eligible-man.json", "01-eligible-woman-cbp.json"
U, M, N = Tri.UNKNOWN, Tri.MET, Tri.NOT_MET

# name -> (example, attestations removed, the letter, {criterion: (before, after)},
#          verdict after)
CASES = {
    "surgery 41 days before inclusion": (
        MAN, {"ex02-att-recent-major-surgery"}, "Right hemicolectomy on 21 October 2026.",
        {"EXCL02": (U, M)}, "not_eligible"),
    "surgery 42 days before inclusion": (
        MAN, {"ex02-att-recent-major-surgery"}, "Right hemicolectomy on 20 October 2026.",
        {"EXCL02": (U, U)}, "incomplete"),
    "radiotherapy 61 days before inclusion": (
        MAN, {"ex02-att-recent-anticancer-therapy"},
        "Palliative radiotherapy to the liver completed on 1 October 2026.",
        {"EXCL03": (U, M)}, "not_eligible"),
    "postmenopausal": (
        WOMAN, {"ex01-att-childbearing-potential", "ex01-hcg",
                "ex01-att-contraception-agreement"},
        "She is postmenopausal since 2015.",
        {"INCL10": (U, M), "EXCL08": (U, N), "EXCL09": (U, N)}, "eligible"),
}


def _letter(pid: str, text: str) -> dict:
    return {"resourceType": "DocumentReference", "id": f"{pid}-letter", "status": "current",
            "subject": {"reference": f"Patient/{pid}"}, "date": "2026-11-20T10:00:00Z",
            "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
            "content": [{"attachment": {"contentType": "text/plain",
                                        "data": base64.b64encode(text.encode()).decode()}}]}


def _screen(bundle: dict, folder: Path):
    path = folder / "patient.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    (rec,) = read(path).records
    return rec, screen(LUMEN, rec, DATES, SCREENING)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_confirmed_sentence_decides_like_an_entry(name, tmp_path):
    example, drop, text, expected, verdict = CASES[name]
    bundle = json.loads((EXAMPLES / example).read_text(encoding="utf-8"))
    pid = bundle["entry"][0]["resource"]["id"]
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") not in drop]
    bundle["entry"].append({"resource": _letter(pid, text)})
    rec, before = _screen(bundle, tmp_path)
    assert {c: before.result(c).status for c in expected} == \
        {c: b for c, (b, _) in expected.items()}
    (source,) = {text_source(m) for m in rec.mentions}
    built = confirmation.resources([m for m in rec.mentions if text_source(m) == source],
                                   pid, "Dr B. Investigator", date(2026, 11, 25),
                                   datetime(2026, 11, 25, 9, 30))
    assert len(built) == 1 and confirmation.confirmed_span(built[0]) == source
    bundle["entry"].append({"resource": built[0]})
    _, after = _screen(bundle, tmp_path)
    assert {c: after.result(c).status for c in expected} == \
        {c: a for c, (_, a) in expected.items()}
    assert after.verdict == verdict


def test_a_procedure_confirmed_carries_the_date_the_sentence_gives():
    from trialsieve.record import Mention

    m = Mention("major_surgery", "whipple procedure", None, "DocumentReference/d", "clinic",
                date(2026, 10, 21), "Whipple procedure on 21 October 2026.", 0, 37)
    (proc,) = confirmation.resources([m], "p", "Dr B", date(2026, 11, 25),
                                     datetime(2026, 11, 25, 9, 30))
    assert proc["resourceType"] == "Procedure" and proc["status"] == "completed"
    assert proc["performedDateTime"] == "2026-10-21"
    assert proc["code"]["coding"][0]["code"] == "major-surgery"


def test_a_negated_or_uncertain_operation_records_nothing():
    from trialsieve.record import Mention

    for mods in (("negated",), ("uncertain",), ("hypothetical",)):
        m = Mention("major_surgery", "resection", None, "DocumentReference/d", "clinic",
                    date(2026, 10, 21), "No resection planned.", 0, 21, mods)
        assert confirmation.resources([m], "p", "Dr B", date(2026, 11, 25),
                                      datetime(2026, 11, 25, 9, 30)) == []
