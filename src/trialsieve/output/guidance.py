"""What a coordinator acts on, read from one screening result: the criteria that block,
what settles each unknown one, the D0 dates that work, and the next steps. Pure.

Shared by every rendering (terminal, JSON, checklist, web): `guidance(result, window)`.

Next steps are kept to what can change the verdict:
- a criterion that blocks and that no date or new result can change (a NEC histology,
  attested uncontrolled brain metastases: no bound on it) means the patient cannot
  become eligible on this record: no next steps at all;
- a wait (a bound "from") gives the earliest D0 or inclusion;
- a failing result that a newer one would replace (a bound "until") is to be repeated;
- an unknown criterion lists what settles it, each item once even when several
  criteria wait for it (the serum hCG of I10 and I12), unless the patient cannot
  become eligible (a death, a NEC): then nothing is worth obtaining;
- the freshness limits that end the current window are said once, grouped by date;
  nothing else asks for a new scan or test.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from trialsieve.engine import (
    ELIGIBLE,
    INCOMPLETE,
    NOT_ELIGIBLE,
    CriterionResult,
    ScreeningResult,
    verdict,
)
from trialsieve.logic import Tri
from trialsieve.protocol import EXCLUSION
from trialsieve.rules.attest import CONFIRM
from trialsieve.rules.base import Bound
from trialsieve.window import Window


@dataclass(frozen=True)
class Blocking:
    criterion: str
    short: str
    reason: str
    changeable: bool  # a wait or a new result could change it


@dataclass(frozen=True)
class Needed:
    """One item that settles one or more unknown criteria."""

    item: str
    criteria: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    kind: str  # wait / repeat / obtain / expiry
    text: str
    criteria: tuple[str, ...]
    date: dt.date | None = None
    # a repeat: the verdict at the D0 screened once a newer result meets the criterion
    gives: str | None = None


@dataclass(frozen=True)
class WindowSummary:
    eligible: tuple[tuple[date, date], ...]  # D0 intervals with the verdict eligible
    incomplete: tuple[tuple[date, date], ...]  # ... eligible once the unknowns are settled
    last: date  # the end of the horizon looked at

    @property
    def earliest(self) -> date | None:
        return self.eligible[0][0] if self.eligible else None


@dataclass(frozen=True)
class Guidance:
    verdict: str
    blocking: tuple[Blocking, ...]
    needed: tuple[Needed, ...]
    steps: tuple[Step, ...]
    window: WindowSummary | None
    final: bool  # not eligible, and nothing on this record can change that


def status_word(c: CriterionResult) -> str:
    """Inclusions read met / not met; exclusions read as the condition: present / absent."""
    if c.criterion.category == EXCLUSION:
        return {Tri.MET: "present", Tri.NOT_MET: "absent"}.get(c.status, "unknown")
    return {Tri.MET: "met", Tri.NOT_MET: "not met"}.get(c.status, "unknown")


def is_blocking(c: CriterionResult) -> bool:
    bad = Tri.MET if c.criterion.category == EXCLUSION else Tri.NOT_MET
    return c.status is bad


def blocking(r: ScreeningResult) -> tuple[Blocking, ...]:
    return tuple(Blocking(c.criterion.id, c.criterion.short, c.outcome.summary,
                          bool(c.outcome.bounds))
                 for c in r.results if is_blocking(c))


@functools.lru_cache(maxsize=4096)  # the same few items recur for every patient of a run
def item_key(missing: str) -> str:
    """What a missing item asks for, without articles, glosses and dates: 'a serum hCG
    (pregnancy test) dated from X to Y' and 'serum hCG dated from X to Y' are one item, as
    are 'an ECOG performance status assessed from X' and 'ECOG performance status dated'."""
    text = re.split(r" (?:result )?(?:dated|assessed) ", missing)[0]
    text = re.sub(r"\([^)]*\)", "", text)
    text = re.sub(r"^(?:an?|the) ", "", text.strip(), flags=re.I)
    return re.sub(r"\s+", " ", text).strip().lower()


def settles(c: CriterionResult) -> tuple[str, ...]:
    """What would settle one unknown criterion (its missing items, each once)."""
    return tuple(dict.fromkeys(c.outcome.missing))


def needed(r: ScreeningResult) -> tuple[Needed, ...]:
    """Every missing item of the unknown criteria, once, with the criteria it settles."""
    found: dict[str, tuple[str, list[str]]] = {}
    for c in r.results:
        if c.status is not Tri.UNKNOWN:
            continue
        for m in settles(c):
            text, cids = found.setdefault(item_key(m), (m, []))
            if c.criterion.id not in cids:
                cids.append(c.criterion.id)
    return tuple(Needed(text, tuple(cids)) for text, cids in found.values())


def diagnosis_first(r: ScreeningResult, items: tuple[Needed, ...]) -> Needed | None:
    """The diagnosis, when the record holds no neuroendocrine tumour at all: then it is
    the one item that matters (a 51Cr-EDTA GFR for a patient with no cancer is moot)."""
    from trialsieve.rules.disease import NO_DIAGNOSIS

    # the diagnosis criterion (GepNet) lacks the diagnosis itself, not a detail of it
    if not any(c.status is Tri.UNKNOWN and c.outcome.missing == (NO_DIAGNOSIS,)
               for c in r.results):
        return None
    return next((n for n in items if n.item == NO_DIAGNOSIS), None)


def _d0_of(b: Bound, offset: int) -> date:
    """The D0 a bound speaks of (inclusion = D0 - offset)."""
    return b.date + timedelta(days=offset) if b.on == "inclusion" else b.date


def _bounds(c: CriterionResult, side: str) -> list[Bound]:
    return [b for b in c.outcome.bounds if b.side == side]


def _when(b: Bound, offset: int) -> str:
    if b.on == "inclusion":
        return f"inclusion on or after {b.date}" + (
            f" (D0 on or after {_d0_of(b, offset)})" if offset else "")
    return f"D0 on or after {b.date}"


def _offset(r: ScreeningResult) -> int:
    return (r.dates.d0 - r.dates.inclusion).days


def next_steps(r: ScreeningResult) -> tuple[Step, ...]:
    """The actions that can change the verdict, in the order a coordinator takes them."""
    blocks = [c for c in r.results if is_blocking(c)]
    if any(not c.outcome.bounds for c in blocks) or (r.verdict == NOT_ELIGIBLE and not blocks):
        return ()  # cannot become eligible on this record (or not by its criteria)
    off = _offset(r)
    steps: list[Step] = []
    for c in blocks:
        waits = _bounds(c, "from")
        if waits:
            b = max(waits, key=lambda x: _d0_of(x, off))
            why = b.reason.replace("this date", str(b.date))
            steps.append(Step("wait", f"{_when(b, off)} ({why})", (c.criterion.id,),
                              _d0_of(b, off)))
        else:
            steps.append(_repeat(r, c, blocks))
    steps += [Step("obtain", f"obtain {n.item}", n.criteria, r.dates.as_of) for n in needed(r)]
    if not blocks:
        steps += expiries(r)
    return tuple(steps)


SCANS = ("DiagnosticReport/", "ImagingStudy/")


def repeats_now(r: ScreeningResult) -> tuple[Step, ...]:
    """The repeats of a failing result that, done now, make `r`'s D0 eligible (or leave
    it to the unknowns). The window reads the record as it stands, so it reaches such a
    D0 only once the failing result has expired ("D0 2026-12-19 ... with new results"),
    while a repeat Hb done now gives D0 2026-12-01: `window` says it first, as `screen`."""
    return tuple(s for s in next_steps(r) if s.kind == "repeat" and s.gives)


def _repeat(r: ScreeningResult, c: CriterionResult,
            blocks: list[CriterionResult]) -> Step:
    """A failing result a newer one replaces. Done now, it can decide this very D0,
    which the window (reading the record as it is) only reaches once the failing result
    has expired: say what a newer result that meets it gives at this D0, when that is
    better than not eligible (a low Hb repeated at 9.6 g/dL: eligible at this D0)."""
    fixed = tuple(replace(x, outcome=replace(x.outcome, status=Tri.MET)) if x is c else x
                  for x in r.results)
    gives = verdict(fixed) if len(blocks) == 1 else NOT_ELIGIBLE
    if gives == ELIGIBLE:
        text = (f"repeat it now: {_newer(c)} that meets it makes the patient eligible at "
                f"D0 {r.dates.d0}, the fastest route (the latest decides; now: "
                f"{c.outcome.summary})")
    elif gives == INCOMPLETE:
        text = (f"repeat it now: {_newer(c)} that meets it leaves D0 {r.dates.d0} to the "
                f"unknowns (the latest decides; now: {c.outcome.summary})")
    else:
        text = f"{_newer(c)}, the latest decides: {c.outcome.summary}"
    return Step("repeat", text, (c.criterion.id,), r.dates.as_of,
                gives if gives != NOT_ELIGIBLE else None)


def _newer(c: CriterionResult) -> str:
    """What would replace the records a failing criterion rests on: a newer result, scan
    or attestation, named after those records (never a scan for a lab value)."""
    sources = {b.source for b in _bounds(c, "until") if b.source}
    records = [e for e in c.outcome.evidence if e.source in sources] or c.outcome.evidence
    kinds = dict.fromkeys("attestation" if e.what.startswith("attestation") else
                          "scan" if e.source.startswith(SCANS) else "result" for e in records)
    return "a newer " + " or ".join(kinds or ["record"])


def expiries(r: ScreeningResult) -> tuple[Step, ...]:
    """When the records the result rests on stop being fresh enough: D0 must come before
    the first of these dates, or those records be repeated. Each record once (one
    haemoglobin result bounds I7 and I12), grouped by date; only the dates within the
    28 days after the first one, since past those the baseline is to be repeated anyway."""
    off = _offset(r)
    by_date: dict[date, dict[str, tuple[str, list[str]]]] = {}
    past: dict[str, str] = {}  # record name -> what a later date needs (no repeat gives it)
    for c in r.results:
        for b in _bounds(c, "until"):
            last = _d0_of(b, off)
            if last < r.dates.d0:
                continue  # already past: the criterion says so itself
            _, cids = by_date.setdefault(last, {}).setdefault(b.source or b.reason,
                                                              (_record_name(b), []))
            cids.append(c.criterion.id)
            if b.after:
                past[_record_name(b)] = b.after
    if not by_date:
        return ()
    dates = sorted(by_date)
    first = dates[0]

    def ids(*days: date) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cid for d in days for _, cids in by_date[d].values()
                                   for cid in cids))

    names = ", ".join(name for name, _ in by_date[first].values())
    # an answer on events up to its date (E2/E3) is to be given again at inclusion
    confirm = any(CONFIRM in b.reason for c in r.results for b in _bounds(c, "until")
                  if _d0_of(b, off) == first)
    steps = [Step("expiry", f"D0 no later than {first}: after it the {names} "
                  f"{'is' if len(by_date[first]) == 1 else 'are'} too old"
                  + (f" ({CONFIRM})" if confirm else ""), ids(first), first)]
    later = [d for d in dates[1:] if d <= first + timedelta(days=28)]
    repeated = [(d, kept) for d in later if (kept := [
        _short(n) for n, _ in by_date[d].values() if n not in past])]
    if repeated:
        shown = "; ".join(f"{d} {', '.join(kept)}" for d, kept in repeated)
        steps.append(Step("expiry", f"a later D0 needs them repeated, by: {shown}",
                          ids(*later), later[0]))
    for d in later:  # past evidence (a reference scan) is not "repeated"
        for n, cids in by_date[d].values():
            if n in past:
                steps.append(Step("expiry", f"{n}, counts up to D0 {d}; {past[n]}",
                                  tuple(cids), d))
    return tuple(steps)


# the names the criteria's own short titles use ("Hb, ANC, platelets"): a baseline of
# eleven results named in full took six lines at 80 columns
_SHORT_NAMES = {"haemoglobin": "Hb", "neutrophils (absolute)": "ANC",
                "total bilirubin": "bilirubin", "serum albumin": "albumin",
                "prothrombin time (%)": "PT", "GFR by 51Cr-EDTA": "GFR"}


def _short(name: str) -> str:
    """'haemoglobin of 2026-11-20' -> 'Hb' (the date is the step's own)."""
    name = re.sub(r" of \d{4}-\d{2}-\d{2}$", "", name)
    return _SHORT_NAMES.get(name, name)


def _record_name(b: Bound) -> str:
    """'GFR by 51Cr-EDTA of 2026-11-20' from 'GFR by 51Cr-EDTA of 2026-11-20 is valid...'."""
    return re.split(r" (?:is valid|is within)", b.reason)[0]


def window_summary(w: Window) -> WindowSummary:
    def spans(marking: str) -> tuple[tuple[date, date], ...]:
        return tuple((i.start, i.end) for i in w.intervals if i.marking == marking)

    return WindowSummary(spans(ELIGIBLE), spans("incomplete"), w.last)


def guidance(r: ScreeningResult, w: Window | None = None) -> Guidance:
    blocks = blocking(r)
    final = r.verdict == NOT_ELIGIBLE and (any(not b.changeable for b in blocks)
                                           or not blocks)
    # Nothing settles an unknown into eligibility when the record cannot become eligible.
    return Guidance(r.verdict, blocks, () if final else needed(r), next_steps(r),
                    window_summary(w) if w else None, final)
