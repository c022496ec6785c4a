"""Progression on somatostatin-receptor imaging (LuMEn criterion I3b).

Two scans are compared only when they are of the same modality
(``SSTR_PET``: 68Ga/64Cu PET/CT; ``SSTR_SPECT``: SPECT/CT), since diameters
and uptake differ between techniques; a scan is compared with the most recent
earlier scan of its modality, and not at all when that is more than 12 months
older. Progression is a new lesion (one not measured on any earlier scan), or a
lesion whose transaxial diameter grew by **more than** 30 % (the protocol's
strict bound: +30.0 % is not progression, +30.1 % is) **and** by at least 5 mm
(LuMEn protocol notes: measurement noise at small sizes).

Diameters are compared exactly (``fractions.Fraction`` of the decimal as
written), so 13.0 mm over 10.0 mm is exactly +30 %.

Krenning / Rotterdam visual uptake scale (0-4): 0 none, 1 much lower than
liver, 2 about equal to or slightly less than liver, 3 greater than liver,
4 greater than spleen.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from math import isfinite

SSTR_PET = "SSTR_PET"
SSTR_SPECT = "SSTR_SPECT"
MODALITIES = (SSTR_PET, SSTR_SPECT)

# Strictly more than +30 %: later > earlier * 13/10.
_GROWTH_RATIO = Fraction(13, 10)

KRENNING_LABELS = {
    0: "no uptake",
    1: "uptake much lower than liver",
    2: "uptake about equal to or slightly less than liver",
    3: "uptake greater than liver",
    4: "uptake greater than spleen",
}


def krenning_label(grade: int) -> str:
    """Text of a Krenning grade (0-4)."""
    if grade not in KRENNING_LABELS:
        raise ValueError(f"Krenning grade must be 0-4, got {grade!r}")
    return KRENNING_LABELS[grade]


def uptake_above_liver(grade: int | None) -> bool | None:
    """Krenning 3 or 4 (I13); None when the grade is unknown."""
    return None if grade is None else grade >= 3


def _exact(value: float) -> Fraction:
    return Fraction(value) if isinstance(value, int) else Fraction(repr(float(value)))


@dataclass(frozen=True)
class SstrLesion:
    lesion_id: str
    transaxial_diameter_mm: float | None = None
    krenning_grade: int | None = None
    new: bool = False
    source: str | None = None

    def __post_init__(self) -> None:
        if not self.lesion_id:
            raise ValueError("lesion_id must not be empty")
        diameter = self.transaxial_diameter_mm
        if diameter is not None and (not isfinite(diameter) or diameter < 0):
            raise ValueError(f"lesion {self.lesion_id}: diameter must be >= 0, got {diameter!r}")
        if self.krenning_grade is not None:
            krenning_label(self.krenning_grade)


@dataclass(frozen=True)
class SstrScan:
    date: dt.date
    modality: str
    lesions: tuple[SstrLesion, ...]
    source: str | None = None

    def __post_init__(self) -> None:
        if self.modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}, got {self.modality!r}")

    def lesion(self, lesion_id: str) -> SstrLesion | None:
        return next((les for les in self.lesions if les.lesion_id == lesion_id), None)


@dataclass(frozen=True)
class SstrProgressionEvent:
    """Progression of one lesion at ``date``, against ``earlier_date`` (same modality)."""

    date: dt.date
    modality: str
    lesion_id: str
    kind: str  # "new" or "growth"
    earlier_date: dt.date
    earlier_mm: float | None
    later_mm: float | None
    change_pct: float | None
    reason: str
    sources: tuple[str, ...] = ()


def sstr_progression(scans: list[SstrScan] | tuple[SstrScan, ...]) -> list[SstrProgressionEvent]:
    """Every progression event, by date then lesion id.

    Each scan is compared with its reference: the most recent earlier scan of the same
    modality (protocol notes, I3 b). A reference more than 12 months before the scan
    cannot place a growth within the 12 months: no event (``comparison`` says so). A new
    lesion needs a reference (new relative to what?).
    """
    events: list[SstrProgressionEvent] = []
    for later in sorted(scans, key=lambda scan: scan.date):
        comparison = compare(later, scans)
        events += comparison.events
    return events


@dataclass(frozen=True)
class SstrComparison:
    """One scan against its reference: the events found, and why it was not compared
    (``problem``: no earlier scan of the modality, or one too old) or lesions left open."""

    later: SstrScan
    reference: SstrScan | None
    events: tuple[SstrProgressionEvent, ...]
    problem: str | None = None
    open_lesions: tuple[str, ...] = ()  # "lesion X: why it cannot be compared"

    @property
    def decided(self) -> bool:
        """Compared, with every lesion compared (or a progression found)."""
        return self.reference is not None and self.problem is None and (
            bool(self.events) or not self.open_lesions)


def reference_scan(later: SstrScan, scans: list[SstrScan] | tuple[SstrScan, ...]
                   ) -> SstrScan | None:
    """The most recent earlier scan of the same modality (ties by source, for order)."""
    earlier = [s for s in scans if s.modality == later.modality and s.date < later.date]
    return max(earlier, key=lambda s: (s.date, s.source or "")) if earlier else None


def compare(later: SstrScan, scans: list[SstrScan] | tuple[SstrScan, ...]) -> SstrComparison:
    reference = reference_scan(later, scans)
    if reference is None:
        return SstrComparison(later, None, (), f"no earlier {later.modality} scan")
    if reference.date < _months_before(later.date, _MAX_GAP_MONTHS):
        return SstrComparison(later, reference, (), (
            f"{later.modality} of {later.date}: the previous one, {reference.date}, is more "
            f"than {_MAX_GAP_MONTHS} months older: a growth cannot be placed within the "
            f"{_MAX_GAP_MONTHS} months"))
    events: list[SstrProgressionEvent] = []
    open_: list[str] = []
    earlier_ids = {lz.lesion_id for s in scans if s.date < later.date for lz in s.lesions}
    for lesion in sorted(later.lesions, key=lambda les: les.lesion_id):
        event, why = _lesion_event(lesion, later, reference, earlier_ids)
        if event is not None:
            events.append(event)
        elif why:
            open_.append(f"lesion {lesion.lesion_id}: {why}")
    return SstrComparison(later, reference, tuple(events), None, tuple(open_))


# A reference more than this many calendar months before the later scan cannot place a
# growth within I3's 12 months (protocol notes, I3 b).
_MAX_GAP_MONTHS = 12
# Growth needs at least this many mm as well as > 30 % (measurement noise at small sizes).
_MIN_GROWTH_MM = Fraction(5)


def _months_before(day: dt.date, months: int) -> dt.date:
    """Calendar months back (2026-03-15 -> 2025-03-15; 29 Feb -> 28 Feb)."""
    y, m = divmod(day.month - 1 - months, 12)
    year, month = day.year + y, m + 1
    if year < dt.MINYEAR:
        return dt.date.min
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _lesion_event(
    lesion: SstrLesion, later: SstrScan, reference: SstrScan, earlier_ids: set[str]
) -> tuple[SstrProgressionEvent | None, str | None]:
    """The lesion's progression against the reference, or None with why it is open."""
    # A lesion flagged new that was measured on an earlier scan is not new (notes).
    if lesion.new and lesion.lesion_id not in earlier_ids:
        reason = (
            f"new lesion {lesion.lesion_id} on {later.modality} {later.date} "
            f"(vs {reference.date})"
        )
        return _event(lesion, later, reference, "new", None, reason), None
    found = reference.lesion(lesion.lesion_id)
    if lesion.transaxial_diameter_mm is None:
        return None, "not measured"
    if found is None or found.transaxial_diameter_mm is None:
        return None, f"not measured on the reference scan of {reference.date}"
    before = _exact(found.transaxial_diameter_mm)
    now = _exact(lesion.transaxial_diameter_mm)
    if not (now > before * _GROWTH_RATIO and now - before >= _MIN_GROWTH_MM):
        return None, None
    pct = "" if before == 0 else f": +{_pct_text((now - before) * 100 / before)} %"
    reason = (
        f"lesion {lesion.lesion_id} transaxial diameter {float(now):g} mm on {later.date} vs "
        f"{float(before):g} mm on {reference.date} ({later.modality}){pct} (> 30 % and "
        f"+{float(now - before):g} mm >= 5 mm)"
    )
    return _event(lesion, later, reference, "growth", before, reason), None


def _pct_text(ratio: Fraction) -> str:
    # a reference near zero (4.9e-324 mm) gives a ratio beyond any float
    return "> 1000000" if ratio > 10**6 else f"{float(ratio):.1f}"


def _event(
    lesion: SstrLesion,
    later: SstrScan,
    reference: SstrScan,
    kind: str,
    before: Fraction | None,
    reason: str,
) -> SstrProgressionEvent:
    now = lesion.transaxial_diameter_mm
    pct = None
    if before and now is not None and (_exact(now) - before) * 100 / before <= 10**6:
        pct = float((_exact(now) - before) * 100 / before)
    earlier_lesion = reference.lesion(lesion.lesion_id)
    sources: tuple[str | None, ...] = (later.source, lesion.source, reference.source)
    if earlier_lesion is not None:
        sources += (earlier_lesion.source,)
    return SstrProgressionEvent(
        date=later.date,
        modality=later.modality,
        lesion_id=lesion.lesion_id,
        kind=kind,
        earlier_date=reference.date,
        earlier_mm=None if before is None else float(before),
        later_mm=now,
        change_pct=pct,
        reason=reason,
        sources=tuple(s for s in sources if s),
    )
