"""Next steps name the fastest route: when a repeat test would make the patient eligible
sooner than waiting, they say so, with the D0 it gives. Example 05: Hb 5.5 mmol/L
(8.86 g/dL) on 2026-11-20 fails >= 9 g/dL; everything else holds at D0 2026-12-01
(examples/patients/README.md). The table said "No D0 up to 2027-05-24 is eligible ...
D0 2026-12-19 to 2027-05-24 could be, with new results": wait for the bad Hb to expire.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from builders import REPO

from trialsieve.cli import main

EX05 = REPO / "examples" / "patients" / "05-hb-5-5-mmol-per-l-fails.json"
DATES = ["--as-of", "2026-11-25", "--d0", "2026-12-01"]


def run(*argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(argv)) == 0
    return out.getvalue()


def flat(text: str) -> str:
    return " ".join(text.split())


def test_a_failing_lab_says_a_repeat_now_gives_this_d0(tmp_path):
    table = flat(run("screen", str(EX05), *DATES))
    assert ("INCL07: repeat it now: a newer result that meets it makes the patient "
            "eligible at D0 2026-12-01, the fastest route") in table
    assert "a newer result meeting INCL07 makes the patient eligible at D0 2026-12-01" \
        in table
    assert "could be, with new results" not in table
    doc = json.loads(run("screen", str(EX05), *DATES, "--format", "json"))["results"][0]
    [step] = [s for s in doc["guidance"]["next_steps"] if s["criteria"] == ["INCL07"]]
    assert step["kind"] == "repeat" and "eligible at D0 2026-12-01" in step["text"]


def test_the_advice_is_true_a_repeat_hb_makes_it_eligible(tmp_path: Path):
    """The repeat the step asks for, added to the record: Hb 9.6 g/dL on 2026-11-24."""
    bundle = json.loads(EX05.read_text())
    hb = json.loads(json.dumps(next(e for e in bundle["entry"]
                                    if e["resource"].get("id") == "ex05-hb")))
    hb["fullUrl"] = hb["fullUrl"].replace("ex05-hb", "ex05-hb-repeat")
    hb["resource"] |= {"id": "ex05-hb-repeat", "effectiveDateTime": "2026-11-24",
                       "valueQuantity": {"value": 9.6, "unit": "g/dL",
                                         "system": "http://unitsofmeasure.org",
                                         "code": "g/dL"}}
    bundle["entry"].append(hb)
    path = tmp_path / "05-with-repeat-hb.json"
    path.write_text(json.dumps(bundle))
    doc = json.loads(run("screen", str(path), *DATES, "--format", "json"))["results"][0]
    assert doc["verdict"] == "eligible"


def test_no_such_promise_when_another_criterion_blocks_too(tmp_path: Path):
    """Example 05 with its GFR at 40 too (INCL06 fails as well): no single repeat makes
    the patient eligible, and none is promised."""
    bundle = json.loads(EX05.read_text())
    gfr = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "ex05-gfr")
    gfr["valueQuantity"]["value"] = 40
    path = tmp_path / "05-and-low-gfr.json"
    path.write_text(json.dumps(bundle))
    doc = json.loads(run("screen", str(path), *DATES, "--format", "json"))["results"][0]
    assert [b["criterion"] for b in doc["guidance"]["blocking"]] == ["INCL06", "INCL07"]
    texts = [s["text"] for s in doc["guidance"]["next_steps"]]
    assert texts and not any("makes the patient eligible" in t for t in texts)


def test_the_window_command_names_the_repeat_first(tmp_path: Path):
    """`window` read the record as it stands: its only route for example 05 was D0
    2026-12-19, once the Hb of 2026-11-20 has expired (28 days, notes I12). A repeat Hb
    done now gives the window's first D0 (the screening date, offset 0; 2026-11-30 with
    an inclusion offset of 5 days), and is said before the other steps."""
    table = run("window", str(EX05), "--as-of", "2026-11-25")
    steps = flat(table.split("Next steps:")[1])
    assert steps.startswith("2026-11-25 INCL07: repeat it now: a newer result that meets "
                            "it makes the patient eligible at D0 2026-11-25, the fastest "
                            "route")
    table = run("window", str(EX05), "--as-of", "2026-11-25", "--inclusion-offset", "5")
    assert "makes the patient eligible at D0 2026-11-30" in flat(table)
    # another blocker too (a GFR of 40): no repeat is promised in the window either
    bundle = json.loads(EX05.read_text())
    gfr = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "ex05-gfr")
    gfr["valueQuantity"]["value"] = 40
    path = tmp_path / "05-and-low-gfr.json"
    path.write_text(json.dumps(bundle))
    assert "repeat it now" not in run("window", str(path), "--as-of", "2026-11-25")


def test_the_window_json_names_the_repeat_the_table_names(tmp_path):
    """`window --format json` had the wait only (next_steps from 2026-12-19): the repeat
    the table says first is `repeat_now`, with the D0 it gives (the window's first:
    the screening date, or 5 days later with an inclusion offset of 5), and the schema
    holds it."""
    import jsonschema

    doc = json.loads(run("window", str(EX05), "--as-of", "2026-11-25", "--format", "json"))
    [window] = doc["windows"]
    [repeat] = window["repeat_now"]
    assert (repeat["date"], repeat["criterion"], repeat["gives"], repeat["d0"]) == (
        "2026-11-25", "INCL07", "eligible", "2026-11-25")
    assert repeat["action"].startswith("repeat it now: a newer result that meets it makes "
                                       "the patient eligible at D0 2026-11-25")
    schema = json.loads((REPO / "docs" / "screening-result.schema.json").read_text())
    jsonschema.validate({k: v for k, v in window.items() if k != "patient"},
                        {"$schema": schema["$schema"], "$defs": schema["$defs"],
                         "$ref": "#/$defs/window"})
    doc = json.loads(run("window", str(EX05), "--as-of", "2026-11-25", "--format", "json",
                         "--inclusion-offset", "5"))
    assert doc["windows"][0]["repeat_now"][0]["d0"] == "2026-11-30"
    # no repeat gives the first D0 when another result fails too (a GFR of 40)
    bundle = json.loads(EX05.read_text())
    gfr = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "ex05-gfr")
    gfr["valueQuantity"]["value"] = 40
    path = tmp_path / "05-and-low-gfr.json"
    path.write_text(json.dumps(bundle))
    doc = json.loads(run("window", str(path), "--as-of", "2026-11-25", "--format", "json"))
    assert doc["windows"][0]["repeat_now"] == []
