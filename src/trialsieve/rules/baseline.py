"""I12: the baseline assessments other criteria rely on are dated within 28 days before D0."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from trialsieve.codes import LAB_TESTS
from trialsieve.dates import shift
from trialsieve.logic import Tri, all_of
from trialsieve.record import Ignored, PatientRecord, Study
from trialsieve.rules.base import Bound, Change, Context, Evidence, Outcome, outcome
from trialsieve.rules.labs import newest_expiry
from trialsieve.rules.reproduction import childbearing_potential, potential_changes


def _assessments(record: PatientRecord, tests: tuple[str, ...], ctx: Context
                 ) -> dict[str, list]:
    found: dict[str, list] = {LAB_TESTS[t].label: record.labs_of(t) for t in tests}
    found["ECOG performance status"] = record.ecog
    if record.patient.sex == "female" and childbearing_potential(record, ctx)[0] is not Tri.NOT_MET:
        found["serum hCG"] = record.labs_of("hcg_serum")
    found["68Ga PET/CT"] = [s for s in record.imaging if s.baseline_label == "68Ga PET/CT"]
    found["MRI/CT"] = target_lesion_scans(record)
    return found


def target_lesion_scans(record: PatientRecord) -> list[Study]:
    """The MRI/CT of I13: a CT or MRI that measures a lesion the 68Ga PET/CT measures (the
    candidate target lesions). Another scan (a chest CT with no lesion measurements, or
    with none of those lesions) does not stand in for it (protocol notes, I12)."""
    on_pet = {lz.lesion_id for s in record.imaging if s.baseline_label == "68Ga PET/CT"
              for lz in s.lesions}
    return [s for s in record.imaging if s.baseline_label == "MRI/CT"
            and any(lz.lesion_id in on_pet for lz in s.lesions)]


def _not_target_lesion_scans(record: PatientRecord) -> list[Ignored]:
    kept = target_lesion_scans(record)
    return [Ignored(s.source, f"{s.modality} of {s.date} measures no lesion of the 68Ga "
                    "PET/CT: not the MRI/CT of I13")
            for s in record.imaging if s.baseline_label == "MRI/CT" and s not in kept]


@dataclass(frozen=True)
class BaselineWithin:
    """Each required assessment has a result dated within `fresh_days` before D0.

    A stale or absent assessment is unknown, before D0 and after it alike: absence of
    a record is not evidence of absence (the criterion that needs it is unknown too).
    """

    tests: tuple[str, ...]
    fresh_days: int = 28

    def describe(self) -> str:
        names = ", ".join(LAB_TESTS[t].label for t in self.tests)
        return f"{names}, ECOG, serum hCG (if applicable) within {self.fresh_days} days before D0"

    def changes(self, record: PatientRecord, as_of: date) -> list[Change]:
        """Each assessment's newest going stale (`_one`), and whether hCG is required."""
        found = potential_changes(record, as_of)
        groups: list[list] = [record.labs_of(t) for t in self.tests] + [
            record.ecog, record.labs_of("hcg_serum"), target_lesion_scans(record),
            [s for s in record.imaging if s.baseline_label == "68Ga PET/CT"]]
        for items in groups:
            found += newest_expiry(items, self.fresh_days)
        return found

    def evaluate(self, record: PatientRecord, ctx: Context) -> Outcome:
        lo = shift(ctx.d0, -self.fresh_days)
        parts = [self._one(name, items, lo, ctx)
                 for name, items in _assessments(record, self.tests, ctx).items()]
        status = all_of(p.status for p in parts)
        late = [p.summary for p in parts if p.status is not Tri.MET]
        summary = ("all baseline assessments within 28 days before D0" if not late
                   else "; ".join(late))
        return Outcome(status, summary, tuple(e for p in parts for e in p.evidence),
                       tuple(_not_target_lesion_scans(record)),
                       tuple(m for p in parts for m in p.missing), (),
                       tuple(b for p in parts for b in p.bounds))

    def _one(self, name: str, items: list, lo, ctx: Context) -> Outcome:
        dated = [i for i in items if i.date is not None and i.date <= ctx.d0]
        miss = f"{name} dated from {lo} to {ctx.d0}"
        if not dated:
            return outcome(Tri.UNKNOWN, f"{name}: none", missing=[miss])
        last = max(dated, key=lambda i: i.date)
        bound = Bound("d0", "until", shift(last.date, self.fresh_days),
                      f"{name} of {last.date} is valid for D0 up to this date", last.source)
        ev = Evidence(last.source, last.date, name, f"{(ctx.d0 - last.date).days} days before D0")
        if last.date < lo:
            return outcome(Tri.UNKNOWN, f"{name} of {last.date} too old", missing=[miss],
                           bounds=[bound])
        return outcome(Tri.MET, f"{name} of {last.date}", evidence=[ev], bounds=[bound])
