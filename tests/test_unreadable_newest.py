"""The newest result of a test decides; when it cannot be read, the criterion is unknown
and names it: an older result never decides in its place (protocol notes, "Dates")."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import records
from trialsieve.protocols.lumen import LUMEN

EXAMPLE = Path(__file__).resolve().parent.parent / "examples/patients/02-eligible-man.json"
DATES = Dates.resolve(date(2026, 11, 25), date(2026, 12, 1), date(2026, 12, 1))


def _screen_with_newer_anc(tmp_path: Path, quantity: dict | None, **extra) -> object:
    bundle = json.loads(EXAMPLE.read_text())
    anc = next(e for e in bundle["entry"] if e["resource"].get("id") == "ex02-anc")
    newer = copy.deepcopy(anc)
    newer["resource"]["id"] = "ex02-anc-newer"
    newer["fullUrl"] = anc["fullUrl"] + "-newer"
    newer["resource"]["effectiveDateTime"] = "2026-11-24"
    del newer["resource"]["valueQuantity"]
    if quantity is not None:
        newer["resource"]["valueQuantity"] = quantity
    newer["resource"].update(extra)
    bundle["entry"].append(newer)
    path = tmp_path / "p.json"
    path.write_text(json.dumps(bundle))
    (rec,) = records(path)
    return rec, screen(LUMEN, rec, DATES)


@pytest.mark.parametrize("quantity, extra", [
    ({"value": 0.8, "unit": "furlong", "code": "furlong"}, {}),  # unit not convertible
    ({"unit": "10*3/uL", "code": "10*3/uL"}, {}),  # value missing
    (None, {"dataAbsentReason": {"text": "sample haemolysed"}}),  # no value at all
])
def test_unreadable_newest_anc_makes_i7_unknown_not_met(tmp_path, quantity, extra):
    rec, result = _screen_with_newer_anc(tmp_path, quantity, **extra)
    i7 = result.result("INCL07")
    assert i7.status.value == "unknown"  # the older ANC 3.1 (met) must not decide
    assert result.verdict != "eligible"
    ignored = {i.source: i.reason for i in i7.outcome.ignored}
    assert "cannot be read" in ignored["Observation/ex02-anc-newer"]
    assert "Observation/ex02-anc" in ignored  # the older one, listed with why it is not used
    assert any("ex02-anc-newer" in m for m in i7.outcome.missing)
    assert any(w.source == "Observation/ex02-anc-newer" for w in rec.warnings)


def test_readable_newest_anc_still_decides(tmp_path):
    _, result = _screen_with_newer_anc(
        tmp_path, {"value": 0.8, "unit": "10*3/uL", "code": "10*3/uL",
                   "system": "http://unitsofmeasure.org"})
    assert result.result("INCL07").status.value == "not_met"
