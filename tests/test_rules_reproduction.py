"""I10 (contraception, serum hCG), E8 (pregnant or lactating), E9 (refusal)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from builders import answer, ctx, lab, record

from trialsieve.logic import Tri
from trialsieve.record import Finding, LabResult
from trialsieve.rules.base import PRE_SCREENING, SCREENING
from trialsieve.rules.reproduction import (
    ContraceptionAndPregnancyTest,
    PregnantOrLactating,
    RefusesContraception,
    SerumPregnancyTest,
    hcg_reading,
)

INCLUSION = date(2026, 12, 1)
I10 = ContraceptionAndPregnancyTest()
E8 = PregnantOrLactating()
E9 = RefusesContraception()


def woman(*facts):
    return record(*facts, sex="female", born=date(1990, 1, 1))


def hcg(value: float, when: date, test: str = "hcg_serum", comparator: str | None = None):
    return lab(test, value, when, "[IU]/L", comparator=comparator, source=f"Observation/{test}")


def c(policy: str = SCREENING):
    return ctx(d0=INCLUSION, as_of=date(2026, 11, 25), policy=policy)


def test_man_without_partner_of_childbearing_potential_is_not_concerned() -> None:
    rec = record(answer("partner-childbearing-potential", False), sex="male")
    assert I10.evaluate(rec, c()).status is Tri.MET
    assert "not applicable" in I10.evaluate(rec, c()).summary
    assert E9.evaluate(rec, c()).status is Tri.NOT_MET
    assert E8.evaluate(rec, c()).status is Tri.NOT_MET


def test_man_with_partner_needs_the_agreement_only() -> None:
    rec = record(answer("partner-childbearing-potential", True),
                 answer("contraception-agreement", True), sex="male")
    assert I10.evaluate(rec, c()).status is Tri.MET
    rec = record(answer("partner-childbearing-potential", True),
                 answer("contraception-agreement", False), sex="male")
    assert I10.evaluate(rec, c()).status is Tri.NOT_MET
    assert E9.evaluate(rec, c()).status is Tri.MET


def test_postmenopausal_woman_is_not_concerned() -> None:
    rec = woman(Finding("Condition/meno", "childbearing_potential", False, date(2020, 1, 1)))
    assert I10.evaluate(rec, c()).status is Tri.MET
    assert E8.evaluate(rec, c()).status is Tri.NOT_MET


def test_woman_of_childbearing_potential_needs_a_fresh_negative_serum_test() -> None:
    base = [answer("childbearing-potential", True), answer("contraception-agreement", True)]
    fresh = hcg(1, INCLUSION - timedelta(days=28))  # exactly 28 days before: fresh
    assert I10.evaluate(woman(*base, fresh), c()).status is Tri.MET
    stale = hcg(1, INCLUSION - timedelta(days=29))
    out = I10.evaluate(woman(*base, stale), c())
    assert out.status is Tri.UNKNOWN
    assert any("serum hCG" in m for m in out.missing)
    assert I10.evaluate(woman(*base), c()).status is Tri.UNKNOWN


def test_urine_test_does_not_satisfy_i10() -> None:
    base = [answer("childbearing-potential", True), answer("contraception-agreement", True)]
    out = I10.evaluate(woman(*base, hcg(1, INCLUSION, "hcg_urine")), c())
    assert out.status is Tri.UNKNOWN
    assert [i.source for i in out.ignored] == ["Observation/hcg_urine"]


def test_positive_serum_test_fails_i10_and_meets_e8() -> None:
    base = [answer("childbearing-potential", True), answer("contraception-agreement", True)]
    rec = woman(*base, hcg(300, date(2026, 11, 23)))  # before screening (notes)
    assert I10.evaluate(rec, c()).status is Tri.NOT_MET
    assert E8.evaluate(rec, c()).status is Tri.MET


@pytest.mark.parametrize(
    ("value", "comparator", "expected"),
    [(4.9, None, False), (5, "<", False), (5, None, None), (24.9, None, None),
     (25, None, True)],
)
def test_hcg_cut_offs(value: float, comparator: str | None, expected: bool | None) -> None:
    assert hcg_reading(hcg(value, INCLUSION, comparator=comparator)) is expected


def test_qualitative_hcg() -> None:
    from trialsieve.codes import HCG_NEGATIVE

    neg = LabResult("Observation/q", "hcg_serum", INCLUSION, None, "",
                    coded_value=tuple(sorted(HCG_NEGATIVE))[:1])
    assert hcg_reading(neg) is False
    out = SerumPregnancyTest().evaluate(woman(neg), c())
    assert out.status is Tri.MET


def test_serum_test_bound() -> None:
    out = SerumPregnancyTest().evaluate(woman(hcg(1, date(2026, 11, 20))), c())
    assert [(b.on, b.side, b.date) for b in out.bounds] == [
        ("inclusion", "until", date(2026, 12, 18))]


def test_e8_without_records_follows_the_policy() -> None:
    rec = woman(answer("childbearing-potential", True))
    out = E8.evaluate(rec, c(SCREENING))
    assert out.status is Tri.UNKNOWN and out.missing and not out.assumptions
    out = E8.evaluate(rec, c(PRE_SCREENING))
    assert out.status is Tri.NOT_MET and out.assumptions and not out.missing


def test_e8_lactating() -> None:
    rec = woman(answer("childbearing-potential", True), answer("lactating", True),
                hcg(1, date(2026, 11, 20)))
    assert E8.evaluate(rec, c()).status is Tri.MET
    rec = woman(answer("childbearing-potential", True), answer("lactating", False),
                hcg(1, date(2026, 11, 20)))
    assert E8.evaluate(rec, c()).status is Tri.NOT_MET


def test_e9_without_answer_is_unknown() -> None:
    rec = woman(answer("childbearing-potential", True))
    out = E9.evaluate(rec, c())
    assert out.status is Tri.UNKNOWN and out.missing
