"""The pure guidance the terminal, JSON, checklist and web share: what blocks, what
settles each unknown (each item once), and next steps only when they can help."""

from __future__ import annotations

from datetime import timedelta

from builders import AS_OF, D0, lab, record

from trialsieve.engine import Dates, screen
from trialsieve.output.guidance import guidance, item_key
from trialsieve.protocols.lumen import LUMEN


def test_one_item_asked_by_two_criteria_is_one_item() -> None:
    assert item_key("a serum hCG (pregnancy test) dated from 2026-11-03 to 2026-12-01") == \
        item_key("serum hCG dated from 2026-11-03 to 2026-12-01")
    assert item_key("GFR by 51Cr-EDTA result dated from X to Y") == \
        item_key("GFR by 51Cr-EDTA dated from X to Y")
    assert item_key("an ECOG performance status assessed") != item_key("serum hCG")


def test_failing_lab_is_to_be_repeated_and_nothing_else_is_asked() -> None:
    # Hb 8.9 g/dL fails >= 9 g/dL (protocol notes I7): the only step is a new Hb.
    rec = record(lab("hemoglobin", 8.9, AS_OF - timedelta(days=2)))
    g = guidance(screen(LUMEN, rec, Dates.resolve(AS_OF, d0=D0)))
    assert "INCL07" in [b.criterion for b in g.blocking]
    assert not g.final
    kinds = {s.kind for s in g.steps if "INCL07" in s.criteria}
    assert kinds == {"repeat"}
    assert not [s for s in g.steps if s.kind == "expiry"]  # no "repeat the MRI" for a fail


def test_unknowns_are_listed_once_with_every_criterion_that_waits() -> None:
    g = guidance(screen(LUMEN, record(sex="female"), Dates.resolve(AS_OF, d0=D0)))
    keys = [item_key(n.item) for n in g.needed]
    assert len(keys) == len(set(keys))
    serum = [n for n in g.needed if item_key(n.item).startswith("serum hcg")]
    assert len(serum) == 1 and serum[0].criteria == ("INCL10", "INCL12")
