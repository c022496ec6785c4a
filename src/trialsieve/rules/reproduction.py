"""Childbearing potential, contraception, pregnancy test (I10), pregnancy/lactation (E8),
refusal of contraception (E9)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from trialsieve.codes import HCG_NEGATIVE, HCG_POSITIVE
from trialsieve.logic import Tri, all_of, any_of
from trialsieve.record import Ignored, LabResult, PatientRecord, condition_present, day
from trialsieve.rules.attest import (
    absent_unless_stale_yes,
    answer_evidence,
    latest_answer,
    settle_text,
)
from trialsieve.rules.base import Bound, Context, Evidence, Outcome, absent, days, outcome, yes_no
from trialsieve.rules.labs import lab_values

# Quantitative serum hCG below 5 IU/L is negative; 5-25 IU/L is equivocal (judgement:
# the usual laboratory cut-offs), so it neither confirms nor rules out pregnancy.
HCG_NEGATIVE_BELOW = 5.0
HCG_POSITIVE_FROM = 25.0


def childbearing_potential(record: PatientRecord,
                           on: date | None = None) -> tuple[Tri, list[Evidence], str]:
    """Whether contraception rules apply: a woman of childbearing potential, or a man
    whose partner is. Returns the status, its evidence and who it concerns. A condition
    that ends childbearing potential (menopause) counts while present on `on` (condition
    status; with no date, an abatement of any date ends it)."""
    sex = record.patient.sex
    if sex == "male":
        a, _ = latest_answer(record, "partner-childbearing-potential")
        who = "a man with a partner of childbearing potential"
        return (Tri.UNKNOWN, [], who) if a is None else (Tri.of(a.answer), [answer_evidence(a)],
                                                          who)
    if sex != "female":
        return Tri.UNKNOWN, [], "a patient of unrecorded sex"
    who = "a woman of childbearing potential"
    a, _ = latest_answer(record, "childbearing-potential")
    if a is not None:
        return Tri.of(a.answer), [answer_evidence(a)], who
    found = [f for f in record.findings_of("childbearing_potential")
             if condition_present(f.status, f.abated, on or date.max)]
    if found:
        f = max(found, key=lambda f: (f.date is not None, f.date))
        return Tri.of(f.present), [Evidence(f.source, f.date, f.display or
                                            "childbearing potential", yes_no(f.present))], who
    return Tri.UNKNOWN, [], who


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
    """A negative serum hCG within `fresh_days` before inclusion (urine does not count)."""

    fresh_days: int = 28

    def describe(self) -> str:
        return f"negative serum hCG within {self.fresh_days} days before inclusion"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        urine = [Ignored(r.source, "urine hCG: the protocol requires a serum test")
                 for r in record.labs_of("hcg_urine")]
        dated = [r for r in record.labs_of("hcg_serum")
                 if r.date is not None and r.date <= ctx.inclusion]
        lo = ctx.inclusion - days(self.fresh_days)
        settle = f"a serum hCG (pregnancy test) dated from {lo} to {ctx.inclusion}"
        if not dated:
            return outcome(Tri.UNKNOWN, "no serum pregnancy test", ignored=urine,
                           missing=[settle])
        last = max(dated, key=day)
        bound = Bound("inclusion", "until", day(last) + days(self.fresh_days),
                      f"serum hCG of {last.date} is valid for inclusion up to this date",
                      last.source)
        ev = Evidence(last.source, last.date, "serum hCG", last.shown(), **lab_values(last))
        if day(last) < lo:
            return outcome(Tri.UNKNOWN, f"serum hCG of {last.date} is too old",
                           ignored=[*urine, Ignored(last.source, "older than "
                                                    f"{self.fresh_days} days")],
                           missing=[settle], bounds=[bound])
        reading = hcg_reading(last)
        if reading is None:
            return outcome(Tri.UNKNOWN, f"serum hCG {last.shown()} equivocal", evidence=[ev],
                           ignored=urine, missing=["a repeat serum hCG"], bounds=[bound])
        return outcome(Tri.of(not reading), f"serum hCG {'positive' if reading else 'negative'}"
                       f" on {last.date}", evidence=[ev], ignored=urine, bounds=[bound])


@dataclass(frozen=True)
class ContraceptionAndPregnancyTest:
    """I10: applies to women of childbearing potential and men with such partners."""

    def describe(self) -> str:
        return ("if of childbearing potential (or partner of): contraception agreement "
                "attested; women: negative serum hCG within 28 days before inclusion; "
                "otherwise met (not applicable)")

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        applies, ev, who = childbearing_potential(record, ctx.as_of)
        if applies is Tri.NOT_MET:
            return outcome(Tri.MET, f"not applicable: not {who}", evidence=ev)
        a, older = latest_answer(record, "contraception-agreement")
        parts = [outcome(Tri.UNKNOWN, "no contraception agreement",
                         missing=["attestation of agreement to highly effective "
                                  "contraception"])
                 if a is None else
                 outcome(Tri.of(a.answer), "agrees to contraception" if a.answer else
                         "refuses contraception", evidence=[answer_evidence(a)], ignored=older)]
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


@dataclass(frozen=True)
class PregnantOrLactating:
    """E8 at the screening date (protocol notes, E8 and condition status).

    Pregnant: any positive pregnancy test (serum or urine) or pregnancy finding more
    recent than the last negative serum hCG; a pregnancy Condition counts while present
    (clinical status, abatement), whatever its onset date. Not pregnant: a negative serum
    hCG, a "not pregnant" finding or attestation within `fresh_days` before screening.
    Lactating: a lactation Condition while present, or an attestation; the most recent
    statement decides. Men and women not of childbearing potential are not concerned.
    """

    fresh_days: int = 28

    def describe(self) -> str:
        return "pregnant or lactating at screening"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        if record.patient.sex == "male":
            return outcome(Tri.NOT_MET, "not applicable: male patient")
        pregnant = self._pregnant(record, ctx)
        applies, ev, _ = childbearing_potential(record, ctx.as_of)
        if applies is Tri.NOT_MET and pregnant.status is not Tri.MET:
            # a positive test outweighs a record of menopause or sterility
            return outcome(Tri.NOT_MET, "not of childbearing potential", evidence=ev)
        parts = [pregnant, self._lactating(record, ctx)]
        status = any_of(p.status for p in parts)
        return Outcome(status, "; ".join(p.summary for p in parts),
                       tuple(e for p in parts for e in p.evidence),
                       tuple(i for p in parts for i in p.ignored),
                       () if status is not Tri.UNKNOWN else tuple(m for p in parts
                                                                 for m in p.missing),
                       tuple(a for p in parts for a in p.assumptions))

    def _pregnant(self, record: PatientRecord, ctx: Context) -> Outcome:
        lo = ctx.as_of - days(self.fresh_days)
        tests = [(r, hcg_reading(r), "serum hCG") for r in record.labs_of("hcg_serum")] + [
            (r, hcg_reading(r), "urine hCG") for r in record.labs_of("hcg_urine")]
        negatives = [r for r, reading, _ in tests
                     if reading is False and r.test == "hcg_serum" and r.date is not None]
        last_neg = max(negatives, key=day, default=None)
        neg_day = last_neg.date if last_neg else None
        positives = [(r.date, Evidence(r.source, r.date, what, r.shown(), **lab_values(r)))
                     for r, reading, what in tests if reading is True]
        positives += [(f.date, Evidence(f.source, f.date, "pregnancy", "pregnant",
                                        f.status and f"clinical status {f.status}"))
                      for f in record.findings_of("pregnant") if f.present_on(ctx.as_of)]
        a, stale = latest_answer(record, "pregnant", ctx)
        stale += _no_longer_present(record, "pregnant", ctx)
        if a is not None and a.answer:
            positives.append((a.date, answer_evidence(a)))
        # undated positives cannot be shown older than the negative test: they count
        current = [ev for when, ev in positives if neg_day is None or when is None
                   or when > neg_day]
        if current:
            return outcome(Tri.MET, "pregnant: " + ", ".join(
                f"{e.what} {e.value} ({e.date or 'undated'})" for e in current),
                evidence=current, ignored=stale)
        unread = [r for r, reading, _ in tests if reading is None and r.test == "hcg_serum"
                  and r.date is not None and (neg_day is None or r.date > neg_day)]
        if unread:  # the newest serum test cannot be read: the older one does not decide
            r = max(unread, key=day)
            return outcome(Tri.UNKNOWN, f"the newest serum hCG ({r.date}, {r.shown()}) is "
                           "equivocal or cannot be read",
                           evidence=[Evidence(r.source, r.date, "serum hCG", r.shown(),
                                              **lab_values(r))],
                           missing=[f"a repeat serum hCG in place of {r.source}"],
                           ignored=stale)
        same_day = [ev for when, ev in positives if when == neg_day]
        if same_day and last_neg is not None:
            return outcome(Tri.UNKNOWN, f"positive and negative pregnancy tests on {neg_day}",
                           evidence=[*same_day, Evidence(last_neg.source, neg_day,
                                                         "serum hCG", last_neg.shown())],
                           missing=["a repeat serum hCG"], ignored=stale)
        denials = [(f.date, Evidence(f.source, f.date, "pregnancy status", "not pregnant"))
                   for f in record.findings_of("pregnant")
                   if not f.present and f.date is not None and f.date >= lo
                   and condition_present(f.status, f.abated, ctx.as_of)]
        if last_neg is not None and day(last_neg) >= lo:
            denials.append((day(last_neg), Evidence(last_neg.source, neg_day, "serum hCG",
                                                    last_neg.shown(), **lab_values(last_neg))))
        if a is not None and not a.answer:  # a question covering 28 days: a is dated
            denials.append((day(a), answer_evidence(a)))
        if not denials:
            out = absent_unless_stale_yes(record, "pregnant", ctx,
                                          "no current pregnancy status", f"a pregnancy status "
                                          f"or serum hCG dated on or after {lo}")
            return replace(out, ignored=tuple(stale))
        _, ev = max(denials, key=lambda d: d[0])
        return outcome(Tri.NOT_MET, "not pregnant", evidence=[ev], ignored=stale)

    def _lactating(self, record: PatientRecord, ctx: Context) -> Outcome:
        lo = ctx.as_of - days(self.fresh_days)
        found = record.findings_of("lactating")
        # present ones by their status, whatever their date; denials (refuted) while fresh
        facts = [(f.date or date.max, True, Evidence(f.source, f.date, "lactation", "yes",
                                                     f.status and f"clinical status {f.status}"))
                 for f in found if f.present_on(ctx.as_of)]
        facts += [(f.date, False, Evidence(f.source, f.date, "lactation", "no"))
                  for f in found if not f.present and f.date is not None and f.date >= lo]
        ignored = _no_longer_present(record, "lactating", ctx)
        a, stale = latest_answer(record, "lactating", ctx)
        ignored += stale
        if a is not None:
            facts.append((day(a), a.answer, answer_evidence(a)))  # covers 28 days: dated
        if not facts:
            out = absent_unless_stale_yes(record, "lactating", ctx, "no current lactation "
                                          "status", settle_text("lactating", ctx))
            return replace(out, ignored=tuple(ignored))
        _, value, ev = max(facts, key=lambda f: f[0])
        return outcome(Tri.of(value), "lactating" if value else "not lactating", evidence=[ev],
                       ignored=ignored)


def _no_longer_present(record: PatientRecord, fact: str, ctx: Context) -> list[Ignored]:
    return [Ignored(f.source, f"{fact}: no longer present at screening (clinical status "
                    f"{f.status or 'not given'}, abated {f.abated or 'not recorded'})")
            for f in record.findings_of(fact) if f.present and not f.present_on(ctx.as_of)]


@dataclass(frozen=True)
class RefusesContraception:
    """E9. Applicability comes first: a refusal by a patient not known to be of
    childbearing potential (or a man with such a partner) leaves E9 unknown."""

    def describe(self) -> str:
        return "of childbearing potential (or partner of) and refusing adequate contraception"

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        applies, ev, who = childbearing_potential(record, ctx.as_of)
        if applies is Tri.NOT_MET:
            return outcome(Tri.NOT_MET, f"not applicable: not {who}", evidence=ev)
        a, older = latest_answer(record, "contraception-agreement")
        if a is None:
            return absent(ctx, "contraception not discussed on record",
                          "attestation of agreement to (or refusal of) contraception")
        evidence = [answer_evidence(a), *ev]
        if a.answer:
            return outcome(Tri.NOT_MET, "agrees to contraception", evidence=evidence,
                           ignored=older)
        if applies is Tri.MET:
            return outcome(Tri.MET, f"refuses contraception: {who}", evidence=evidence,
                           ignored=older)
        return outcome(Tri.UNKNOWN, f"refuses contraception; not known whether {who}",
                       evidence=evidence, ignored=older,
                       missing=[f"whether the patient is {who} (attestation)"])
