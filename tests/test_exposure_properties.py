"""Properties of the principles of issue 17, groups 3-4 (derandomised hypothesis tests).

Each property states a principle of the protocol notes; the comment above it names the
undo (the one-line change to the code) that makes it fail, checked by hand.

(1) An exposure's uncertain end never shortens a wash-out (E3, I5): a course with a start
    and no end is decided only as every end from its start to the screening date decides.
(2) A partial therapy start decides I4's 12 weeks only as every day of it does.
(3) An undated or preliminary newest result never turns I7 in the patient's favour.
(4) A value with a comparator decides hCG only as its whole interval does; a censored
    marker value never shows a rise.
(5) Reordering resources never changes a result: same-day marker values, reference ranges.
(6) A period that ends before it starts is never read as real.
"""

from __future__ import annotations

from datetime import date, timedelta

from builders import AS_OF, answer, ctx, lab, record
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve.clinical.progression import MarkerValue, marker_triples
from trialsieve.codes import ATC
from trialsieve.fhir.errors import FieldError
from trialsieve.fhir.mapping import _ref_high, medication, observation
from trialsieve.logic import Tri
from trialsieve.record import Exposure, LabResult, ProcedureRecord
from trialsieve.rules.disease import after_12_weeks
from trialsieve.rules.labs import LabThreshold
from trialsieve.rules.reproduction import hcg_reading
from trialsieve.rules.timing import EventWithin, SsaWashout

PROPERTY = settings(derandomize=True, max_examples=120, deadline=None)
E3 = EventWithin("anticancer therapy", 84, "recent-anticancer-therapy",
                 "anticancer-therapy-history-complete")
COMPLETE = answer("anticancer-therapy-history-complete", True, AS_OF)
FAVOURS = {"E3": Tri.NOT_MET, "I5": Tri.MET}

days_before = st.integers(min_value=0, max_value=400)
ahead = st.integers(min_value=0, max_value=200)


def _status(rule, fact, d0: date) -> Tri:
    return rule.evaluate(record(fact, COMPLETE), ctx(d0=d0)).status


# (1) Undo: rules.timing.last_dose_span returning (e.start, e.start) for a start with no
# end (or _session_latest returning p.date_latest) makes it fail.
@PROPERTY
@given(start=days_before, d0=ahead, end=st.floats(min_value=0, max_value=1),
       procedure=st.booleans())
def test_an_uncertain_end_never_shortens_a_washout(start, d0, end, procedure):
    begun = AS_OF - timedelta(days=start)
    when = AS_OF + timedelta(days=d0)
    known_end = begun + timedelta(days=round(start * end))  # some day up to the screening
    if procedure:
        open_ = ProcedureRecord("Procedure/rt", "RT", "radiotherapy", begun, start=begun,
                                open_end=True)
        closed = ProcedureRecord("Procedure/rt", "RT", "radiotherapy", known_end,
                                 start=begun)
        pairs = [("E3", E3, open_, closed)]
    else:
        def course(cls: str, last: date | None) -> Exposure:
            return Exposure("MedicationStatement/m", "drug", cls, begun, last, "completed",
                            "long" if cls == "ssa" else None)
        pairs = [("E3", E3, course("chemotherapy", None), course("chemotherapy", known_end)),
                 ("I5", SsaWashout(), course("ssa", None), course("ssa", known_end))]
    for name, rule, uncertain, certain in pairs:
        if _status(rule, uncertain, when) is FAVOURS[name]:
            assert _status(rule, certain, when) is FAVOURS[name], (name, known_end)


# (2) Undo: after_12_weeks measuring from e.start instead of e.latest_start.
@PROPERTY
@given(year=st.integers(2020, 2026), month=st.integers(1, 12),
       gap=st.integers(min_value=0, max_value=200), month_only=st.booleans())
def test_a_partial_start_decides_i4_only_as_every_day_of_it(year, month, gap, month_only):
    first = date(year, month, 1)
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)) if month_only \
        else date(year, 12, 31)
    first = first if month_only else date(year, 1, 1)
    partial = Exposure("MedicationStatement/e", "everolimus", "mtor", first, None,
                       "completed", start_latest=last)
    progression = first + timedelta(days=gap)
    verdict = after_12_weeks(partial, progression)
    each = {after_12_weeks(Exposure("x", "e", "mtor", first + timedelta(days=i), None,
                                    "completed"), progression)
            for i in range((last - first).days + 1)}
    if verdict is not None:
        assert each == {verdict}
    else:
        assert each == {True, False}


# (3) Undo: mapping._unsettled returning the fact unchanged (or LabThreshold's undated
# check removed) makes it fail.
HB_CODE = {"coding": [{"system": "http://loinc.org", "code": "718-7"}]}


@PROPERTY
@given(status=st.sampled_from(["final", "preliminary", "amended", "corrected"]),
       dated=st.booleans(), issued=st.booleans(),
       value=st.floats(min_value=1, max_value=25), older=st.floats(min_value=9, max_value=20))
def test_an_undated_or_preliminary_newest_hb_never_favours(status, dated, issued, value,
                                                           older):
    res = {"resourceType": "Observation", "id": "hb-new", "status": status, "code": HB_CODE,
           "valueQuantity": {"value": value, "unit": "g/dL", "code": "g/dL"}}
    if dated:
        res["effectiveDateTime"] = "2026-11-24"
    if issued:
        res["issued"] = "2026-11-24T09:00:00Z"
    [newest] = observation(res, lambda _: None)
    rec = record(lab("hemoglobin", older, date(2026, 11, 20)), newest)
    out = LabThreshold("hemoglobin", ">=", 9).evaluate(rec, ctx(d0=date(2026, 12, 1)))
    if status == "preliminary" or not dated:
        assert out.status is Tri.UNKNOWN
    else:
        assert out.status is Tri.of(value >= 9)


# (4a) Undo: hcg_reading ignoring the comparator (reading "> 4" as 4) makes it fail.
@PROPERTY
@given(value=st.floats(min_value=0, max_value=60), comparator=st.sampled_from(
    [None, "<", "<=", ">", ">="]), spread=st.floats(min_value=0, max_value=1000))
def test_a_censored_hcg_decides_only_as_its_whole_interval(value, comparator, spread):
    def reading(v: float, c: str | None) -> bool | None:
        return hcg_reading(LabResult("Observation/h", "hcg_serum", date(2026, 11, 24), v,
                                     "[IU]/L", c, std_value=v))
    said = reading(value, comparator)
    if said is None:
        return
    inside = {None: [value], "<": [max(value - 1e-6, 0), value * (1 - min(spread, 1))],
              "<=": [value, value * (1 - min(spread, 1))],
              ">": [value + 1e-6, value + spread], ">=": [value, value + spread]}[comparator]
    assert all(reading(v, None) is said for v in inside), inside


# (4b) Undo: imaging._marker_values keeping a censored value (no `why` for a comparator).
@PROPERTY
@given(values=st.lists(st.tuples(st.integers(0, 300), st.floats(1, 1000),
                                 st.sampled_from([None, None, ">", "<"])), min_size=3,
                       max_size=7))
def test_a_censored_marker_value_never_shows_a_rise(values):
    from trialsieve.rules.progression_evidence import progression_facts
    labs = [LabResult(f"Observation/c{i}", "chromogranin_a", AS_OF - timedelta(days=d), v,
                      "ug/L", c, std_value=v) for i, (d, v, c) in enumerate(values)]
    censored = {r.source for r in labs if r.comparator}
    facts = progression_facts(record(*labs), AS_OF)
    for e in facts.events:
        assert not set(e.sources) & censored


# (5a) Undo: marker_triples without the same-day check (plain sort: file order decides).
@PROPERTY
@given(values=st.lists(st.tuples(st.integers(0, 6), st.integers(1, 9)), min_size=3,
                       max_size=7), data=st.data())
def test_same_day_marker_values_are_read_whatever_their_order(values, data):
    series = [MarkerValue(date(2026, 1, 1) + timedelta(days=30 * d), float(v), f"O/{i}")
              for i, (d, v) in enumerate(values)]
    shuffled = data.draw(st.permutations(series))

    def rises(s: list[MarkerValue]) -> set:
        return {(tuple(sorted(x.source or "" for x in t)), rose)
                for t, rose in marker_triples(s) if rose is not False}
    # whatever the file order, the same triples can rise (True or open)
    assert {r for _, r in rises(series)} <= {True, None}
    assert any(r for _, r in rises(series)) == any(r for _, r in rises(shuffled))
    assert {k for k, r in rises(series) if r} == {k for k, r in rises(shuffled) if r}


# (5b) Undo: _ref_high taking the first range that has a high.
@PROPERTY
@given(highs=st.lists(st.tuples(st.integers(10, 60), st.sampled_from([None, "male",
                                                                     "female"])),
                      min_size=1, max_size=4), sex=st.sampled_from(["male", "female"]),
       data=st.data())
def test_the_uln_does_not_depend_on_the_order_of_reference_ranges(highs, sex, data):
    codes = {"male": "248153007", "female": "248152002"}

    def rr(high: int, who: str | None) -> dict:
        out: dict = {"high": {"value": high, "unit": "U/L", "code": "U/L"}}
        if who:
            out["appliesTo"] = [{"coding": [{"system": "http://snomed.info/sct",
                                             "code": codes[who]}]}]
        return out
    patient = {"resourceType": "Patient", "id": "p1", "gender": sex,
               "birthDate": "1960-01-01"}
    ranges = [rr(h, w) for h, w in highs]
    order = data.draw(st.permutations(ranges))

    def uln(rrs: list) -> tuple:
        res = {"resourceType": "Observation", "subject": {"reference": "Patient/p1"},
               "referenceRange": rrs}
        return _ref_high(res, lambda ref: patient if ref == "p1" else None,
                         date(2026, 11, 24))[:2]
    assert uln(ranges) == uln(order)
    chosen = uln(ranges)[0]
    if chosen is not None:
        fitting = {h for h, w in highs if w == sex} or {h for h, w in highs if w is None} \
            or {h for h, _ in highs}
        assert chosen in fitting


# (6) Undo: mapping._check_period removed.
@PROPERTY
@given(start=st.integers(0, 800), length=st.integers(-400, 400))
def test_a_period_ending_before_it_starts_is_never_read(start, length):
    begun = date(2024, 1, 1) + timedelta(days=start)
    ends = begun + timedelta(days=length)
    res = {"resourceType": "MedicationStatement", "id": "m", "status": "completed",
           "medicationCodeableConcept": {"coding": [{"system": ATC, "code": "L01BC06"}]},
           "effectivePeriod": {"start": begun.isoformat(), "end": ends.isoformat()}}
    try:
        [e] = medication(res, lambda _: None)
    except FieldError:
        assert length < 0
        return
    assert length >= 0 and e.end is not None and e.start is not None and e.end >= e.start
