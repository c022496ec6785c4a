"""Small builders shared by the RECIST tests."""

from __future__ import annotations

from datetime import date, timedelta

from trialsieve.clinical.recist import LesionMeasurement, Scan

DAY0 = date(2025, 1, 1)


def target(lesion_id: str, mm: float | None, organ: str = "liver", **extra) -> LesionMeasurement:
    """A non-nodal target lesion measured at ``mm`` (longest diameter)."""
    return LesionMeasurement(lesion_id, organ, longest_diameter_mm=mm, target=True, **extra)


def node(lesion_id: str, mm: float | None, station: str = "mediastinum", **extra):
    """A nodal target lesion with short axis ``mm``."""
    return LesionMeasurement(lesion_id, station, nodal=True, short_axis_mm=mm, target=True, **extra)


def nontarget(lesion_id: str, status: str | None = "present", organ: str = "bone", **extra):
    return LesionMeasurement(lesion_id, organ, nontarget_status=status, **extra)


def new(lesion_id: str, organ: str = "liver") -> LesionMeasurement:
    return LesionMeasurement(lesion_id, organ, new=True, nontarget_status="present")


def scan(index: int, *lesions: LesionMeasurement, modality: str = "CT") -> Scan:
    """Scan number ``index``, 90 days apart, 2.5 mm slices."""
    return Scan(DAY0 + timedelta(days=90 * index), modality, tuple(lesions), 2.5)


def single_target_series(*sums: float) -> list[Scan]:
    """One target lesion L1 whose diameter is each of ``sums`` in turn."""
    return [scan(i, target("L1", mm)) for i, mm in enumerate(sums)]
