"""Properties of "one fact, all its statements" (issue 17), on generated statements.

Statements about one fact come from answers and Conditions with random dates, times of
day, certainties and values. Whatever they are:
- a newer contrary statement changes the answer (the newest by when it was stated
  decides, not the onset of what it describes);
- an uncertain or unattributable statement never turns a criterion in the patient's
  favour;
- the order of the resources never changes a result;
- nothing stated after the screening date changes a result.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from builders import AS_OF, ctx, record
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialsieve.engine import Dates, screen
from trialsieve.logic import Tri
from trialsieve.protocols.lumen import LUMEN
from trialsieve.record import Attestation, Finding, PatientRecord
from trialsieve.rules.disease import UncontrolledBrainMetastases
from trialsieve.rules.reproduction import PregnantOrLactating

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DAY = timedelta(days=1)
times = st.one_of(st.none(), st.sampled_from(["08:15:00", "12:00:00", "16:40:00"]))
values = st.booleans()


@st.composite
def answers(draw, question: str, span: int = 40) -> Attestation:
    n = draw(st.integers(0, 10_000))
    return Attestation(f"Observation/a{n}", question, draw(values),
                       draw(st.sampled_from(["Dr A", "Dr B", None])),
                       AS_OF - draw(st.integers(0, span)) * DAY, draw(times))


@st.composite
def conditions(draw, fact: str, span: int = 40) -> Finding:
    """A Condition stated (recorded) on one day about a fact whose onset is earlier."""
    n = draw(st.integers(0, 10_000))
    stated = AS_OF - draw(st.integers(0, span)) * DAY
    onset = stated - draw(st.integers(0, 200)) * DAY
    return Finding(f"Condition/c{n}", fact, draw(values), onset,
                   controlled=draw(st.one_of(st.none(), values)) if fact ==
                   "brain_metastases" else None, stated=stated, time=draw(times),
                   certain=draw(st.booleans()))


def pregnancy_statements():
    return st.lists(st.one_of(answers("pregnant"), conditions("pregnant"),
                              answers("lactating"), conditions("lactating")), max_size=6)


def brain_statements():
    return st.lists(st.one_of(answers("known-brain-metastases"),
                              answers("brain-metastases-controlled"),
                              conditions("brain_metastases")), max_size=6)


def woman(facts: list) -> PatientRecord:
    rec = record(*facts, sex="female")
    rec.attestations.append(Attestation("Observation/cbp", "childbearing-potential", True,
                                        "Dr A", AS_OF - 60 * DAY))
    return rec


def man(facts: list) -> PatientRecord:
    return record(*facts)


E8, E6 = PregnantOrLactating(), UncontrolledBrainMetastases()
CASES = [(E8, pregnancy_statements, woman), (E6, brain_statements, man)]


def status(rule, facts: list, build=man) -> Tri:
    return rule.evaluate(build(list(facts)), ctx()).status


def earlier(f: Attestation | Finding) -> Attestation | Finding:
    """The same statement one day earlier (the newest one is made on the screening day)."""
    if isinstance(f, Finding):
        return replace(f, stated=(f.stated or f.date) - DAY, date=f.date - DAY)
    return replace(f, date=f.date - DAY) if f.date else f


@SETTINGS
@given(st.data())
def test_a_newer_contrary_statement_decides(data) -> None:
    rule, strategy, build = data.draw(st.sampled_from(CASES))
    facts = [earlier(f) for f in data.draw(strategy())]
    value = data.draw(values)
    # a Condition recorded on the screening date, after every other statement, whose
    # onset is older than all of them: newer by when it was stated
    if rule is E8:
        newer = Finding("Condition/newest", "pregnant", value, AS_OF - 200 * DAY,
                        stated=AS_OF, time="23:59:59")
        expected = Tri.MET if value else None
        facts = [f for f in facts if getattr(f, "question", "") != "lactating"
                 and getattr(f, "fact", "") != "lactating"]
    else:
        newer = Finding("Condition/newest", "brain_metastases", value, AS_OF - 300 * DAY,
                        controlled=False, stated=AS_OF, time="23:59:59")
        expected = Tri.MET if value else Tri.NOT_MET
    got = status(rule, [*facts, newer], build)
    if expected is not None:
        assert got is expected
    else:  # "not pregnant" on the screening date: not pregnant, lactation aside
        assert got is not Tri.MET


@SETTINGS
@given(st.data())
def test_an_uncertain_or_unattributable_statement_never_favours_the_patient(data) -> None:
    rule, strategy, build = data.draw(st.sampled_from(CASES))
    facts = data.draw(strategy())
    before = status(rule, facts, build)
    fact = "pregnant" if rule is E8 else "brain_metastases"
    doubtful = data.draw(st.sampled_from([
        Finding("Condition/doubt", fact, False, AS_OF - 2 * DAY, stated=AS_OF, certain=False),
        Attestation("Observation/anon", "pregnant" if rule is E8 else
                    "known-brain-metastases", False, None, None),
    ]))
    after = status(rule, [*facts, doubtful], build)
    # an exclusion is in the patient's favour when not met
    assert after is not Tri.NOT_MET or before is Tri.NOT_MET


@SETTINGS
@given(st.data())
def test_the_order_of_resources_never_changes_a_result(data) -> None:
    # statements within a few days of each other: many made on one day
    facts = data.draw(st.lists(st.one_of(
        answers("pregnant", 3), conditions("pregnant", 3), answers("known-brain-metastases", 3),
        answers("brain-metastases-controlled", 3), conditions("brain_metastases", 3),
        answers("recent-major-surgery", 3), answers("informed-consent", 3)), max_size=8))
    shuffled = data.draw(st.permutations(facts))
    dates = Dates.resolve(AS_OF, None, AS_OF + 6 * DAY)
    one = screen(LUMEN, woman(facts), dates)
    other = screen(LUMEN, woman(list(shuffled)), dates)
    assert [r.status for r in one.results] == [r.status for r in other.results]


@SETTINGS
@given(st.data())
def test_nothing_stated_after_the_screening_date_changes_a_result(data) -> None:
    facts = data.draw(brain_statements())
    later = [replace(f, stated=AS_OF + DAY) if isinstance(f, Finding)
             else replace(f, date=AS_OF + DAY) for f in data.draw(brain_statements())]
    dates = Dates.resolve(AS_OF, None, AS_OF + 6 * DAY)
    one = screen(LUMEN, record(*facts), dates)
    other = screen(LUMEN, record(*facts, *later), dates)
    assert one.result("EXCL06").status is other.result("EXCL06").status


def test_one_pregnancy_statement_of_each_kind_on_one_day_cannot_be_ordered() -> None:
    """The worked case behind the order property: a "not pregnant" answer and a pregnancy
    Condition recorded the same day with no time: unknown, not the last one read."""
    day = AS_OF - DAY
    facts = [Attestation("Observation/no", "pregnant", False, "Dr A", day),
             Finding("Condition/yes", "pregnant", True, day - 30 * DAY, stated=day)]
    assert status(E8, facts, woman) is Tri.UNKNOWN
    assert status(E8, facts[::-1], woman) is Tri.UNKNOWN
    assert date(2026, 11, 24) == day
