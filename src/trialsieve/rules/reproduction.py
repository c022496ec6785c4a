"""Childbearing potential, contraception, pregnancy test (I10), pregnancy/lactation (E8),
refusal of contraception (E9)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.codes import HCG_NEGATIVE, HCG_POSITIVE
from trialsieve.logic import Tri, all_of, any_of
from trialsieve.record import Ignored, LabResult, PatientRecord, day
from trialsieve.record.statements import (
    Statement,
    about,
    from_result,
    newest,
    no_longer_present,
)
from trialsieve.rules.attest import (
    absent_unless_stale_yes,
    said,
    said_changes,
    settle_text,
    statement_evidence,
    undecided,
)
from trialsieve.rules.base import (
    Bound,
    Change,
    Context,
    Evidence,
    Outcome,
    absent,
    days,
    on_inclusion,
    outcome,
    stale_from,
)
from trialsieve.rules.labs import lab_values

# Quantitative serum hCG below 5 IU/L is negative; 5-25 IU/L is equivocal (judgement:
# the usual laboratory cut-offs), so it neither confirms nor rules out pregnancy.
HCG_NEGATIVE_BELOW = 5.0
HCG_POSITIVE_FROM = 25.0


def childbearing_potential(record: PatientRecord, ctx: Context
                           ) -> tuple[Tri, list[Evidence], str]:
    """Whether contraception rules apply: a woman of childbearing potential, or a man
    whose partner is. Returns the status, its evidence and who it concerns. The newest
    statement decides: an answer, or a Condition that ends childbearing potential
    (menopause, sterility) while present; an uncertain one (provisional) decides nothing."""
    question = potential_question(record)
    if question is None:
        return Tri.UNKNOWN, [], "a patient of unrecorded sex"
    who = ("a man with a partner of childbearing potential" if record.patient.sex == "male"
           else "a woman of childbearing potential")
    s = said(record, question, ctx)
    return Tri.of(s.value), [statement_evidence(x) for x in s.newest], who


def potential_question(record: PatientRecord) -> str | None:
    """The question that says whether contraception rules apply, by the patient's sex."""
    return {"male": "partner-childbearing-potential",
            "female": "childbearing-potential"}.get(record.patient.sex or "")


def potential_changes(record: PatientRecord, as_of: date) -> list[Change]:
    """Where `childbearing_potential` can change: its answers going stale."""
    question = potential_question(record)
    return said_changes(record, question, as_of) if question else []


def hcg_reading(r: LabResult) -> bool | None:
    """True positive, False negative, None equivocal or unreadable."""
    codes = set(r.coded_value)
    if codes & HCG_NEGATIVE:
        return False
    if codes & HCG_POSITIVE:
        return True
    if r.std_value is None or r.problem:
        return None
    # A value with a comparator is an interval: it reads negative (positive) only when
    # every value it may stand for does; "> 4" may be 40 (notes, "Results").
    v, c = r.std_value, r.comparator
    if {None: v < HCG_NEGATIVE_BELOW, "<": v <= HCG_NEGATIVE_BELOW,
            "<=": v < HCG_NEGATIVE_BELOW}.get(c, False):
        return False
    return True if c in (None, ">", ">=") and v >= HCG_POSITIVE_FROM else None



@dataclass(frozen=True)
class SerumPregnancyTest:
    """A negative serum hCG within `fresh_days` before inclusion (urine does not count).

    The newest serum test decides; two of one day that disagree leave it unknown, and an
    undated one cannot show freshness (no older dated test decides in its place)."""

    fresh_days: int = 28

    def describe(self) -> str:
        return f"negative serum hCG within {self.fresh_days} days before inclusion"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        # the newest serum test (none is after the screening date, so none after
        # inclusion) going stale: the older ones are stale before it
        dated = [r.date for r in record.labs_of("hcg_serum") if r.date is not None]
        return [on_inclusion(stale_from(max(dated), self.fresh_days))] if dated else []

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        urine = [Ignored(r.source, "urine hCG: the protocol requires a serum test")
                 for r in record.labs_of("hcg_urine")]
        serum = record.labs_of("hcg_serum")
        lo = ctx.inclusion - days(self.fresh_days)
        settle = f"a serum hCG (pregnancy test) dated from {lo} to {ctx.inclusion}"
        undated = [r for r in serum if r.date is None]
        if undated:
            return outcome(Tri.UNKNOWN, "a serum hCG is undated: its freshness cannot be "
                           "shown", ignored=[*urine, *(Ignored(r.source, "undated") for r
                                                       in undated)], missing=[settle])
        tests = [from_result(r, "pregnant", hcg_reading(r), "serum hCG") for r in serum]
        s = newest(tests, ctx.inclusion)
        if not s.newest:
            return outcome(Tri.UNKNOWN, "no serum pregnancy test", ignored=urine,
                           missing=[settle])
        last = next(r for r in serum if r.source == s.newest[0].source)
        bound = Bound("inclusion", "until", day(last) + days(self.fresh_days),
                      f"serum hCG of {last.date} is valid for inclusion up to this date",
                      last.source)
        evidence = [Evidence(r.source, r.date, "serum hCG", r.shown(), **lab_values(r))
                    for r in serum if any(x.source == r.source for x in s.newest)]
        if day(last) < lo:
            return outcome(Tri.UNKNOWN, f"serum hCG of {last.date} is too old",
                           ignored=[*urine, Ignored(last.source, "older than "
                                                    f"{self.fresh_days} days")],
                           missing=[settle], bounds=[bound])
        if s.conflict:
            return outcome(Tri.UNKNOWN, f"serum hCG results of {last.date} disagree",
                           evidence=evidence, ignored=urine, bounds=[bound],
                           missing=["a repeat serum hCG"])
        if s.value is None:
            return outcome(Tri.UNKNOWN, f"serum hCG {last.shown()} equivocal",
                           evidence=evidence, ignored=urine, bounds=[bound],
                           missing=["a repeat serum hCG"])
        reading = "positive" if s.value else "negative"
        return outcome(Tri.of(not s.value), f"serum hCG {reading} on {last.date}",
                       evidence=evidence, ignored=urine, bounds=[bound])


@dataclass(frozen=True)
class ContraceptionAndPregnancyTest:
    """I10: applies to women of childbearing potential and men with such partners."""

    def describe(self) -> str:
        return ("if of childbearing potential (or partner of): contraception agreement "
                "attested within the 28 days before inclusion; women: negative serum hCG "
                "within 28 days before inclusion; otherwise met (not applicable)")

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return (potential_changes(record, as_of)
                + said_changes(record, "contraception-agreement", as_of)
                + SerumPregnancyTest().changes(record, as_of))

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        applies, ev, who = childbearing_potential(record, ctx)
        if applies is Tri.NOT_MET:
            return outcome(Tri.MET, f"not applicable: not {who}", evidence=ev)
        parts = [_agreement(record, ctx)]
        if record.patient.sex != "male":
            parts.append(SerumPregnancyTest().evaluate(record, ctx))
        status = all_of(p.status for p in parts)
        if applies is Tri.UNKNOWN:
            # Met either way when the requirements are met; otherwise we must know.
            status = Tri.MET if status is Tri.MET else Tri.UNKNOWN
            parts.append(outcome(Tri.UNKNOWN, f"whether the patient is {who}", missing=[
                f"whether the patient is {who} (attestation)"]))
        return Outcome(status, "; ".join(p.summary for p in parts),
                       tuple(ev) + tuple(e for p in parts for e in p.evidence),
                       tuple(i for p in parts for i in p.ignored),
                       () if status is Tri.MET else tuple(m for p in parts for m in p.missing),
                       (), tuple(b for p in parts for b in p.bounds))


def _agreement(record: PatientRecord, ctx: Context) -> Outcome:
    s = said(record, "contraception-agreement", ctx)
    settle = settle_text("contraception-agreement", ctx)
    if s.unsettled:
        return undecided(s, "contraception agreement", settle)
    if s.value is None:
        return outcome(Tri.UNKNOWN, "no contraception agreement", missing=[settle],
                       ignored=s.ignored)
    return outcome(Tri.of(s.value), "agrees to contraception" if s.value else
                   "refuses contraception", evidence=[statement_evidence(s.newest[0])],
                   ignored=s.ignored)


# A positive pregnancy test or finding older than 42 weeks says nothing about now (notes).
PREGNANCY_DAYS = 42 * 7


@dataclass(frozen=True)
class PregnantOrLactating:
    """E8 at the screening date (protocol notes, E8 and "Real records").

    Every statement on pregnancy (serum and urine tests, pregnancy Conditions while
    present, pregnancy-status Observations, answers) is one statement of one fact: the
    newest by when it was made decides (a Condition recorded after a negative test is
    newer, whatever its onset). A negative serum test, a "not pregnant" statement or
    answer decides only within `fresh_days` before screening; a urine test shows a
    pregnancy, never its absence; a positive older than 42 weeks says nothing about now.
    Lactation likewise. Men and women not of childbearing potential are not concerned.
    """

    fresh_days: int = 28

    def describe(self) -> str:
        return "pregnant or lactating at screening"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        # read at the screening date, but for whether the patient is concerned at all
        return potential_changes(record, as_of)

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        if record.patient.sex == "male":
            return outcome(Tri.NOT_MET, "not applicable: male patient")
        pregnant = self._current(record, ctx, "pregnant", self._tests(record))
        applies, ev, _ = childbearing_potential(record, ctx)
        if applies is Tri.NOT_MET and pregnant.status is not Tri.MET:
            # a positive test outweighs a record of menopause or sterility
            return outcome(Tri.NOT_MET, "not of childbearing potential", evidence=ev)
        parts = [pregnant, self._current(record, ctx, "lactating", [])]
        status = any_of(p.status for p in parts)
        return Outcome(status, "; ".join(p.summary for p in parts),
                       tuple(e for p in parts for e in p.evidence),
                       tuple(i for p in parts for i in p.ignored),
                       () if status is not Tri.UNKNOWN else tuple(m for p in parts
                                                                 for m in p.missing),
                       tuple(a for p in parts for a in p.assumptions))

    @staticmethod
    def _tests(record: PatientRecord) -> list[Statement]:
        serum = [from_result(r, "pregnant", hcg_reading(r), "serum hCG")
                 for r in record.labs_of("hcg_serum")]
        urine = [from_result(r, "pregnant", True, "urine hCG")
                 for r in record.labs_of("hcg_urine") if hcg_reading(r) is True]
        return serum + urine

    def _current(self, record: PatientRecord, ctx: Context, fact: str,
                 tests: list[Statement]) -> Outcome:
        lo = ctx.as_of - days(self.fresh_days)
        ignored = no_longer_present(record, fact, ctx.as_of)
        kept = []
        for x in about(record, fact, ctx.as_of) + tests:
            begun = x.onset or x.stated
            if x.origin == "answer" and (x.stated is None or x.stated < lo):
                ignored.append(Ignored(x.source, f"stale: answered {x.stated or 'undated'}, "
                                       f"before the period the question covers (from {lo})"))
            elif x.value and begun is not None and begun < ctx.as_of - days(PREGNANCY_DAYS):
                ignored.append(Ignored(x.source, f"{fact} stated {begun}: more than 42 weeks "
                                       "before screening, says nothing about now"))
            else:
                kept.append(x)
        s = newest(kept, ctx.as_of)
        ignored += s.ignored
        shown = [statement_evidence(x) for x in s.newest]
        text = "pregnant" if fact == "pregnant" else "lactating"
        settle = (f"a pregnancy status or serum hCG dated on or after {lo}" if fact == "pregnant"
                  else settle_text("lactating", ctx))
        if s.value:
            return outcome(Tri.MET, f"{text}: " + ", ".join(
                f"{e.what} {e.value} ({e.date or 'undated'})" for e in shown),
                evidence=shown, ignored=ignored)
        if s.unsettled:
            return replace(undecided(s, text, settle), ignored=tuple(ignored))
        if s.value is False and s.stated is not None and s.stated >= lo:
            return outcome(Tri.NOT_MET, f"not {text}", evidence=shown, ignored=ignored)
        if s.value is False:
            ignored.append(Ignored(s.newest[0].source, f"stale: stated {s.stated}, before "
                                   f"{lo}"))
        out = absent_unless_stale_yes(record, fact, ctx, f"no current {text} status", settle)
        return replace(out, ignored=tuple(ignored))


@dataclass(frozen=True)
class RefusesContraception:
    """E9. Applicability comes first: a refusal by a patient not known to be of
    childbearing potential (or a man with such a partner) leaves E9 unknown."""

    def describe(self) -> str:
        return "of childbearing potential (or partner of) and refusing adequate contraception"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        return (potential_changes(record, as_of)
                + said_changes(record, "contraception-agreement", as_of))

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        applies, ev, who = childbearing_potential(record, ctx)
        if applies is Tri.NOT_MET:
            return outcome(Tri.NOT_MET, f"not applicable: not {who}", evidence=ev)
        s = said(record, "contraception-agreement", ctx)
        settle = "attestation of agreement to (or refusal of) contraception"
        if s.unsettled:
            return undecided(s, "contraception agreement", settle)
        if s.value is None:
            return replace(absent(ctx, "contraception not discussed on record", settle),
                           ignored=s.ignored)
        evidence = [statement_evidence(s.newest[0]), *ev]
        if s.value:
            return outcome(Tri.NOT_MET, "agrees to contraception", evidence=evidence,
                           ignored=s.ignored)
        if applies is Tri.MET:
            return outcome(Tri.MET, f"refuses contraception: {who}", evidence=evidence,
                           ignored=s.ignored)
        return outcome(Tri.UNKNOWN, f"refuses contraception; not known whether {who}",
                       evidence=evidence, ignored=s.ignored,
                       missing=[f"whether the patient is {who} (attestation)"])
