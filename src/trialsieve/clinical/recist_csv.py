"""Read RECIST measurements from a simple CSV file into ``recist.Scan`` objects.

Format
------
UTF-8, comma-separated, one header row, then **one row per lesion per scan**.
Rows with the same ``date`` form one scan (time point); all rows of a date must
give the same ``modality`` and ``slice_thickness_mm``. Column order is free;
unknown columns are ignored. Line numbers in errors count the header as line 1.

Required columns:

=====================  ========================================================
date                   scan date, ISO ``YYYY-MM-DD``
modality               ``CT`` or ``MRI`` (any non-empty text is kept as given)
slice_thickness_mm     number, or empty when unknown
lesion_id              stable id of the lesion across scans (e.g. ``L1``, ``N2``)
organ                  organ or node station (e.g. ``liver``, ``mediastinum``)
nodal                  boolean: lymph node?
target                 boolean: chosen as a target lesion?
longest_diameter_mm    number or empty (used for non-nodal lesions)
short_axis_mm          number or empty (used for lymph nodes)
nontarget_status       empty, ``present``, ``absent`` or
                       ``unequivocal_progression``
new                    boolean: unequivocal new lesion?
=====================  ========================================================

Optional columns (empty = not set):

=====================  ========================================================
too_small              boolean: present but too small to measure (counts 5 mm)
disappeared            boolean: gone (counts 0 mm)
merged_into            id of the lesion this one merged into (counts 0 mm; the
                       other lesion carries the merged diameter)
split_parts_mm         diameters of the parts of a split lesion, separated by
                       ``;`` (e.g. ``12;8``), summed
bone                   a bone lesion: lytic, mixed, blastic or unknown (the kind
                       not recorded); empty: not a bone lesion
soft_tissue_mm         the soft-tissue component of a bone lesion (its measure)
equivocal              boolean: an equivocal new lesion (a later scan that flags
                       it new dates the progression from this scan)
source                 evidence id of the lesion's measurement
scan_source            evidence id of the scan (e.g. an ImagingStudy id)
=====================  ========================================================

Booleans: ``true/false``, ``yes/no``, ``y/n``, ``1/0`` (any case); empty is
false. Numbers use a decimal point and must be >= 0.

Example::

    date,modality,slice_thickness_mm,lesion_id,organ,nodal,target,longest_diameter_mm,short_axis_mm,nontarget_status,new
    2025-01-10,CT,2.5,L1,liver,no,yes,32,,,no
    2025-01-10,CT,2.5,N1,mediastinum,yes,yes,,18,,no
    2025-04-10,CT,2.5,L1,liver,no,yes,40,,,no
    2025-04-10,CT,2.5,N1,mediastinum,yes,yes,,20,,no
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from math import isfinite
from pathlib import Path

from trialsieve.clinical.recist import NONTARGET_STATUSES, LesionMeasurement, Scan
from trialsieve.fhir.errors import InputError
from trialsieve.fhir.limits import read_bytes

MAX_CSV_BYTES = 64 * 1024 * 1024

REQUIRED_COLUMNS = (
    "date",
    "modality",
    "slice_thickness_mm",
    "lesion_id",
    "organ",
    "nodal",
    "target",
    "longest_diameter_mm",
    "short_axis_mm",
    "nontarget_status",
    "new",
)
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}


class MeasurementError(ValueError):
    """Bad measurement input; the message names file, line and column."""

    def __init__(self, path: str, line: int, column: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        where = f"{path}, line {line}" + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {problem}")


@dataclass
class _Row:
    """One CSV row with its position, to report errors where they are."""

    path: str
    line: int
    values: dict[str, str]

    def error(self, column: str | None, problem: str) -> MeasurementError:
        return MeasurementError(self.path, self.line, column, problem)

    def text(self, column: str) -> str:
        return (self.values.get(column) or "").strip()

    def boolean(self, column: str) -> bool:
        value = self.text(column).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.error(column, f"expected yes/no (or true/false, 1/0), got {value!r}")

    def number(self, column: str) -> float | None:
        value = self.text(column)
        return None if not value else self._parse_number(column, value)

    def _parse_number(self, column: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise self.error(column, f"expected a number in mm, got {value!r}") from None
        if not isfinite(number) or number < 0:
            raise self.error(column, f"expected a number >= 0, got {value!r}")
        return number

    def day(self, column: str) -> date:
        value = self.text(column)
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise self.error(column, f"expected a date YYYY-MM-DD, got {value!r}") from None


def read_measurements_csv(path: str | Path) -> list[Scan]:
    """Scans (in date order) from a CSV in the format of this module's docstring."""
    return parse_measurements_csv(_text(Path(path)), str(path))


def parse_measurements_csv(text: str, name: str) -> list[Scan]:
    """Scans (in date order) from CSV text; `name` is what errors call it."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        _check_header(name, reader.fieldnames)
        rows = [_Row(name, reader.line_num, values) for values in reader]
    except csv.Error as exc:  # a field over csv.field_size_limit(), a NUL byte...
        # line_num counts the lines read before the record that failed
        raise MeasurementError(name, reader.line_num + 1, None, str(exc)) from None
    if not rows:
        raise MeasurementError(name, 1, None, "no measurement rows after the header")
    return _group_scans(rows)


def _text(path: Path) -> str:
    """The file as text: a regular file, within the size limit, UTF-8."""
    try:
        data = read_bytes(path, MAX_CSV_BYTES)
    except InputError as exc:
        raise MeasurementError(str(path), 1, None, exc.message) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise MeasurementError(str(path), line, None, f"not UTF-8 (byte {data[exc.start]:#04x} "
                               f"at offset {exc.start})") from None


def _check_header(path: str, fieldnames: Sequence[str] | None) -> None:
    if not fieldnames:
        raise MeasurementError(path, 1, None, "empty file: expected a header row")
    present = {name.strip() for name in fieldnames}
    missing = [column for column in REQUIRED_COLUMNS if column not in present]
    if missing:
        raise MeasurementError(path, 1, None, f"missing columns: {', '.join(missing)}")


def _group_scans(rows: list[_Row]) -> list[Scan]:
    groups: dict[date, list[_Row]] = {}
    for row in rows:
        row.values = {(key or "").strip(): value for key, value in row.values.items()}
        groups.setdefault(row.day("date"), []).append(row)
    return [_scan(day, group) for day, group in sorted(groups.items())]


def _scan(day: date, rows: list[_Row]) -> Scan:
    first = rows[0]
    modality = first.text("modality")
    if not modality:
        raise first.error("modality", "modality is empty")
    thickness = first.number("slice_thickness_mm")
    lesions = []
    seen: set[str] = set()
    for row in rows:
        _check_same(row, "modality", row.text("modality"), modality)
        _check_same(row, "slice_thickness_mm", row.number("slice_thickness_mm"), thickness)
        lesion = _lesion(row)
        if lesion.lesion_id in seen:
            raise row.error("lesion_id", f"lesion {lesion.lesion_id} repeated on {day}")
        seen.add(lesion.lesion_id)
        lesions.append(lesion)
    source = next((r.text("scan_source") for r in rows if r.text("scan_source")), None)
    return Scan(day, modality, tuple(lesions), thickness, source)


def _check_same(row: _Row, column: str, value: object, expected: object) -> None:
    # One date is one time point, so its rows must describe the same scan.
    if value != expected:
        raise row.error(column, f"{value!r} differs from {expected!r} on earlier rows of this date")


def _lesion(row: _Row) -> LesionMeasurement:
    lesion_id = row.text("lesion_id")
    if not lesion_id:
        raise row.error("lesion_id", "lesion_id is empty")
    status = row.text("nontarget_status").lower() or None
    if status not in NONTARGET_STATUSES:
        allowed = "present, absent, unequivocal_progression or empty"
        raise row.error("nontarget_status", f"expected {allowed}, got {status!r}")
    try:
        return _measurement(row, lesion_id, status)
    except ValueError as exc:  # the calculator's own checks (merged into itself, ...)
        if isinstance(exc, MeasurementError):
            raise
        raise row.error("merged_into" if "merged" in str(exc) else None, str(exc)) from None


def _measurement(row: _Row, lesion_id: str, status: str | None) -> LesionMeasurement:
    return LesionMeasurement(
        lesion_id=lesion_id,
        organ=row.text("organ"),
        nodal=row.boolean("nodal"),
        longest_diameter_mm=row.number("longest_diameter_mm"),
        short_axis_mm=row.number("short_axis_mm"),
        target=row.boolean("target"),
        nontarget_status=status,
        new=row.boolean("new"),
        too_small=row.boolean("too_small"),
        disappeared=row.boolean("disappeared"),
        merged_into=row.text("merged_into") or None,
        split_parts_mm=_split_parts(row),
        source=row.text("source") or None,
        equivocal=row.boolean("equivocal"),
        bone=_bone(row),
        soft_tissue_mm=row.number("soft_tissue_mm"),
    )


_BONE_KINDS = ("lytic", "mixed", "blastic", "unknown")


def _bone(row: _Row) -> str | None:
    value = row.text("bone").lower() or None
    if value not in (None, *_BONE_KINDS):
        raise row.error("bone", f"expected {', '.join(_BONE_KINDS)} or empty, got {value!r}")
    return value


def _split_parts(row: _Row) -> tuple[float, ...]:
    value = row.text("split_parts_mm")
    if not value:
        return ()
    parts = [part.strip() for part in value.split(";")]
    return tuple(row._parse_number("split_parts_mm", part) for part in parts)
