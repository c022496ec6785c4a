"""Progression on somatostatin-receptor imaging (LuMEn criterion I3b).

Two scans are compared only when they are of the same modality
(``SSTR_PET``: 68Ga/64Cu PET/CT; ``SSTR_SPECT``: SPECT/CT), since diameters
and uptake differ between techniques. Progression is a new lesion, or a
lesion whose transaxial diameter grew by **more than** 30 % over an earlier
scan (the protocol's strict bound: +30.0 % is not progression, +30.1 % is).

Diameters are compared exactly (``fractions.Fraction`` of the decimal as
written), so 13.0 mm over 10.0 mm is exactly +30 %.

Krenning / Rotterdam visual uptake scale (0-4): 0 none, 1 much lower than
liver, 2 about equal to or slightly less than liver, 3 greater than liver,
4 greater than spleen.
"""

from __future__ import annotations

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

    A new lesion needs an earlier scan of the same modality (new relative to
    what?). Growth is tested against every earlier scan of the same modality
    and reported against the one with the smallest diameter (the most
    favourable comparison).
    """
    events: list[SstrProgressionEvent] = []
    ordered = sorted(scans, key=lambda scan: scan.date)
    for index, later in enumerate(ordered):
        earlier = [
            s for s in ordered[:index] if s.modality == later.modality and s.date < later.date
        ]
        if not earlier:
            continue
        for lesion in sorted(later.lesions, key=lambda les: les.lesion_id):
            event = _lesion_event(lesion, later, earlier)
            if event is not None:
                events.append(event)
    return events


def _lesion_event(
    lesion: SstrLesion, later: SstrScan, earlier: list[SstrScan]
) -> SstrProgressionEvent | None:
    if lesion.new:
        previous = earlier[-1]
        reason = (
            f"new lesion {lesion.lesion_id} on {later.modality} {later.date} (vs {previous.date})"
        )
        return _event(lesion, later, previous, "new", None, reason)
    if lesion.transaxial_diameter_mm is None:
        return None
    references = [
        (scan, _exact(found.transaxial_diameter_mm))
        for scan in earlier
        if (found := scan.lesion(lesion.lesion_id)) is not None
        and found.transaxial_diameter_mm is not None
        and found.transaxial_diameter_mm > 0
    ]
    if not references:
        return None
    reference, before = min(references, key=lambda item: (item[1], item[0].date))
    now = _exact(lesion.transaxial_diameter_mm)
    if now <= before * _GROWTH_RATIO:
        return None
    pct = (now - before) * 100 / before
    reason = (
        f"lesion {lesion.lesion_id} transaxial diameter {float(now):g} mm on {later.date} vs "
        f"{float(before):g} mm on {reference.date} ({later.modality}): +{float(pct):.1f} % (> 30 %)"
    )
    return _event(lesion, later, reference, "growth", before, reason)


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
    if before is not None and now is not None:
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
