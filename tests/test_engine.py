"""The engine knows nothing of LuMEn: a small second protocol built from the same rule
pieces is screened by the same `engine.screen`. Protocol hash and criterion ids."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta

import pytest
from builders import AS_OF, answer, ctx, lab, record, surgery

from trialsieve.engine import (
    ELIGIBLE,
    INCOMPLETE,
    NOT_ELIGIBLE,
    Dates,
    screen,
    visible_record,
)
from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION, INCLUSION, Criterion, Protocol
from trialsieve.rules.base import PRE_SCREENING, SCREENING
from trialsieve.rules.labs import LabThreshold
from trialsieve.rules.patient import AgeAtLeast
from trialsieve.rules.timing import EventWithin

D0 = date(2026, 12, 1)
DATES = Dates.resolve(AS_OF, D0, D0)


def geriatric(hb_text: str = "Haemoglobin >= 10 g/dL.", hb_limit: float = 10) -> Protocol:
    return Protocol(
        id="GERI-1",
        title="A made-up geriatric study",
        version="1",
        criteria=(
            Criterion("AGE65", INCLUSION, "Age 65 or over.", "age >= 65 on inclusion",
                      AgeAtLeast(65)),
            Criterion("HB10", INCLUSION, hb_text, "latest Hb within 28 days >= 10 g/dL",
                      LabThreshold("hemoglobin", ">=", hb_limit)),
            Criterion("SURG30", EXCLUSION, "Major surgery in the last 30 days.",
                      "major surgery in the 30 days before inclusion",
                      EventWithin("major surgery", 30, "recent-major-surgery",
                                  "surgery-history-complete")),
        ),
    )


GERI = geriatric()
OLD = date(1950, 1, 1)
HB_OK = lab("hemoglobin", 10, AS_OF - timedelta(days=3))
NO_SURGERY = answer("recent-major-surgery", False)


def run(*facts, born: date = OLD, policy: str = SCREENING, dates: Dates = DATES):
    return screen(GERI, record(*facts, born=born), dates, policy)


def test_second_protocol_eligible() -> None:
    r = run(HB_OK, NO_SURGERY)
    assert r.verdict == ELIGIBLE
    assert [c.criterion.id for c in r.results] == ["AGE65", "HB10", "SURG30"]
    assert [c.status for c in r.results] == [Tri.MET, Tri.MET, Tri.NOT_MET]
    assert r.protocol is GERI


def test_second_protocol_not_eligible_on_an_inclusion() -> None:
    r = run(HB_OK, NO_SURGERY, born=date(1962, 1, 1))  # 64 at inclusion
    assert r.verdict == NOT_ELIGIBLE
    assert r.result("AGE65").status is Tri.NOT_MET


def test_second_protocol_not_eligible_on_an_exclusion() -> None:
    r = run(HB_OK, surgery(D0 - timedelta(days=29)))
    assert r.verdict == NOT_ELIGIBLE
    assert r.result("SURG30").status is Tri.MET
    # an old operation settles it only with the history declared complete
    old = surgery(D0 - timedelta(days=30))
    assert run(HB_OK, old).verdict == INCOMPLETE
    assert run(HB_OK, old, answer("surgery-history-complete", True)).verdict == ELIGIBLE


def test_second_protocol_incomplete() -> None:
    r = run(NO_SURGERY)  # no haemoglobin
    assert r.verdict == INCOMPLETE
    assert r.result("HB10").outcome.missing


def test_unknown_exclusion_makes_it_incomplete_not_eligible() -> None:
    assert run(HB_OK).verdict == INCOMPLETE  # screening: surgery unknown
    r = run(HB_OK, policy=PRE_SCREENING)  # pre-screening: assumed absent, and said so
    assert r.verdict == ELIGIBLE
    assert r.result("SURG30").outcome.assumptions
    assert r.policy == PRE_SCREENING


def test_not_met_wins_over_unknown() -> None:
    r = run(born=date(1990, 1, 1))  # young, nothing else known
    assert r.verdict == NOT_ELIGIBLE


def test_engine_does_not_import_lumen() -> None:
    code = ("import sys, trialsieve.engine, trialsieve.report; "
            "print('trialsieve.protocols.lumen' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_unknown_policy_raises() -> None:
    with pytest.raises(ValueError, match="policy"):
        run(policy="guess")


# --- dates -------------------------------------------------------------------------
def test_dates_defaults() -> None:
    d = Dates.resolve(AS_OF)
    assert (d.inclusion, d.d0, d.assumed) == (AS_OF, AS_OF, ("d0", "inclusion"))
    d = Dates.resolve(AS_OF, inclusion=D0)
    assert (d.inclusion, d.d0, d.assumed) == (D0, D0, ("d0",))
    d = Dates.resolve(AS_OF, d0=D0)
    assert (d.inclusion, d.d0, d.assumed) == (D0, D0, ("inclusion",))


def test_inclusion_after_d0_raises() -> None:
    with pytest.raises(ValueError, match="after D0"):
        Dates.resolve(AS_OF, inclusion=D0 + timedelta(days=1), d0=D0)


def test_facts_after_the_screening_date_are_set_aside() -> None:
    future = lab("hemoglobin", 12, AS_OF + timedelta(days=1), source="Observation/future")
    view, later = visible_record(record(future), AS_OF)
    assert view.labs == [] and [i.source for i in later] == ["Observation/future"]
    rec = record(future, NO_SURGERY)
    rec.counts = {"Observation": {"read": 2, "used": 2, "ignored": 0}}
    r = screen(GERI, rec, DATES)
    assert r.result("HB10").status is Tri.UNKNOWN
    assert [(w.source, w.field) for w in r.warnings] == [("Observation/future", "date")]
    assert r.counts["Observation"] == {"read": 2, "used": 1, "ignored": 1}
    assert rec.counts["Observation"]["used"] == 2  # the record itself is left alone


def test_screen_is_pure() -> None:
    rec = record(HB_OK, NO_SURGERY)
    assert screen(GERI, rec, DATES) == screen(GERI, rec, DATES)


def test_rules_read_the_context() -> None:
    # The same record, with D0 later: the haemoglobin is no longer fresh.
    later = Dates.resolve(AS_OF, D0 + timedelta(days=30), D0 + timedelta(days=30))
    assert run(HB_OK, NO_SURGERY, dates=later).result("HB10").status is Tri.UNKNOWN
    assert ctx().policy == SCREENING


# --- protocol hash -------------------------------------------------------------------
def test_hash_is_stable_for_equal_content() -> None:
    assert geriatric().hash == geriatric().hash
    assert GERI.hash.startswith("sha256:")


def test_hash_changes_with_a_criterion_text() -> None:
    assert geriatric(hb_text="Haemoglobin at least 10 g/dL.").hash != GERI.hash


def test_hash_changes_with_a_rule() -> None:
    assert geriatric(hb_limit=11).hash != GERI.hash


def test_hash_changes_with_a_reading_or_the_version() -> None:
    crit = replace(GERI.criteria[0], reading="age >= 65 on D0")
    other = replace(GERI, criteria=(crit, *GERI.criteria[1:]))
    assert other.hash != GERI.hash
    assert replace(GERI, version="2").hash != GERI.hash


def test_to_dict_lists_the_criteria() -> None:
    d = GERI.to_dict()
    assert d["hash"] == GERI.hash
    assert [c["id"] for c in d["criteria"]] == ["AGE65", "HB10", "SURG30"]
    assert d["criteria"][1]["rule"] == GERI.criteria[1].rule.describe()


# --- criterion ids: CDISC IETESTCD --------------------------------------------------------
@pytest.mark.parametrize("cid", ["INCL01", "EXCL09", "AGE65", "A", "_X1", "ABCDEFGH"])
def test_valid_ids(cid: str) -> None:
    assert Criterion(cid, INCLUSION, "t", "r", AgeAtLeast(18)).id == cid


@pytest.mark.parametrize("cid", ["incl01", "1INCL", "INCL-01", "INCL 01", "ABCDEFGHI", "",
                                 "INCLÜ1"])
def test_invalid_ids_raise(cid: str) -> None:
    with pytest.raises(ValueError, match="IETESTCD"):
        Criterion(cid, INCLUSION, "t", "r", AgeAtLeast(18))


def test_bad_category_and_duplicate_ids_raise() -> None:
    with pytest.raises(ValueError, match="category"):
        Criterion("INCL01", "maybe", "t", "r", AgeAtLeast(18))
    c = Criterion("INCL01", INCLUSION, "t", "r", AgeAtLeast(18))
    with pytest.raises(ValueError, match="duplicate"):
        Protocol("X", "x", "1", (c, c))


def test_lumen_ids_are_valid_and_ordered() -> None:
    from trialsieve.protocols.lumen import LUMEN

    ids = [c.id for c in LUMEN.criteria]
    assert ids == [f"INCL{i:02d}" for i in range(1, 14)] + [f"EXCL{i:02d}" for i in range(1, 10)]
