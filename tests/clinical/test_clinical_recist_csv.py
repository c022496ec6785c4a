"""CSV reader for RECIST measurements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from trialsieve.clinical.recist import Response, assess, progression_events
from trialsieve.clinical.recist_csv import MeasurementError, read_measurements_csv

EXAMPLE = Path(__file__).parent / "data" / "recist_example.csv"
HEADER = (
    "date,modality,slice_thickness_mm,lesion_id,organ,nodal,target,"
    "longest_diameter_mm,short_axis_mm,nontarget_status,new\n"
)


def test_example_file_reads_into_four_scans():
    scans = read_measurements_csv(EXAMPLE)
    assert [s.date for s in scans] == [
        date(2025, 1, 10),
        date(2025, 4, 10),
        date(2025, 7, 10),
        date(2025, 10, 10),
    ]
    first = scans[0]
    assert first.modality == "CT" and first.slice_thickness_mm == 2.5
    n1 = first.lesion("N1")
    assert n1 is not None and n1.nodal and n1.target and n1.short_axis_mm == 20
    assert n1.source == "Observation/ct1-N1"
    assert first.lesion("L4").nontarget_status == "present"
    assert scans[2].lesion("L2").too_small
    assert scans[3].lesion("L5").new


def test_example_file_responses():
    # Sums: 40+30+20 = 90; 30+25+15 = 70 (-22.2 %, SD); 25+5(too small)+9 = 39
    # (-56.7 %, PR); 32+8+9 = 49 (+10 mm, +25.6 % over 39: PD) and new L5.
    points = assess(read_measurements_csv(EXAMPLE))
    assert [p.sum_mm for p in points] == [90, 70, 39, 49]
    assert [p.overall for p in points[1:]] == [Response.SD, Response.PR, Response.PD]
    assert [p.nontarget for p in points[1:]] == [Response.NON_CR_NON_PD] * 3
    assert points[3].new_lesions == ("L5",)
    (event,) = progression_events(read_measurements_csv(EXAMPLE))
    assert event.date == date(2025, 10, 10)
    assert event.reasons == (
        "sum +25.6 % and +10 mm over nadir 39 mm at 2025-07-10",
        "new lesion L5",
    )


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_number_names_file_line_and_column(tmp_path):
    path = _write(
        tmp_path,
        HEADER
        + "2025-01-10,CT,2.5,L1,liver,no,yes,32,,,no\n"
        + "2025-01-10,CT,2.5,L2,liver,no,yes,3O,,,no\n",  # letter O, not zero
    )
    with pytest.raises(MeasurementError) as info:
        read_measurements_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert "line 3" in message
    assert "longest_diameter_mm" in message
    assert info.value.line == 3
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("2025-13-10,CT,2.5,L1,liver,no,yes,32,,,no", "date"),
        ("2025-01-10,CT,2.5,L1,liver,maybe,yes,32,,,no", "nodal"),
        ("2025-01-10,CT,2.5,L1,liver,no,yes,32,,bigger,no", "nontarget_status"),
        ("2025-01-10,CT,2.5,L1,liver,no,yes,-3,,,no", "longest_diameter_mm"),
        ("2025-01-10,CT,2.5,,liver,no,yes,32,,,no", "lesion_id"),
    ],
)
def test_bad_values(tmp_path, row, column):
    with pytest.raises(MeasurementError) as info:
        read_measurements_csv(_write(tmp_path, HEADER + row + "\n"))
    assert info.value.line == 2
    assert info.value.column == column


def test_missing_column_is_reported_at_the_header(tmp_path):
    with pytest.raises(MeasurementError, match=r"line 1: missing columns: new"):
        read_measurements_csv(_write(tmp_path, HEADER.replace(",new", "")))


def test_rows_of_one_date_must_agree_on_the_scan(tmp_path):
    text = (
        HEADER
        + "2025-01-10,CT,2.5,L1,liver,no,yes,32,,,no\n"
        + "2025-01-10,MRI,2.5,L2,liver,no,yes,20,,,no\n"
    )
    with pytest.raises(MeasurementError, match=r"line 3, column 'modality'"):
        read_measurements_csv(_write(tmp_path, text))


def test_repeated_lesion_on_one_date(tmp_path):
    row = "2025-01-10,CT,2.5,L1,liver,no,yes,32,,,no\n"
    with pytest.raises(MeasurementError, match=r"line 3, column 'lesion_id'"):
        read_measurements_csv(_write(tmp_path, HEADER + row + row))


def test_empty_file(tmp_path):
    with pytest.raises(MeasurementError, match="line 1"):
        read_measurements_csv(_write(tmp_path, ""))


def test_optional_split_and_merge_columns(tmp_path):
    text = (
        "date,modality,slice_thickness_mm,lesion_id,organ,nodal,target,longest_diameter_mm,"
        "short_axis_mm,nontarget_status,new,split_parts_mm,merged_into,disappeared\n"
        "2025-01-10,MRI,,L1,liver,no,yes,40,,,no,,,\n"
        "2025-01-10,MRI,,L2,liver,no,yes,20,,,no,,,\n"
        "2025-01-10,MRI,,L3,lung,no,yes,15,,,no,,,\n"
        "2025-04-10,MRI,,L1,liver,no,yes,,,,no,12;8,,\n"
        "2025-04-10,MRI,,L2,liver,no,yes,,,,no,,L1,\n"
        "2025-04-10,MRI,,L3,lung,no,yes,,,,no,,,yes\n"
    )
    scans = read_measurements_csv(_write(tmp_path, text))
    assert scans[1].lesion("L1").split_parts_mm == (12.0, 8.0)
    assert scans[1].lesion("L2").merged_into == "L1"
    # 75 at baseline; 12 + 8 + 0 (merged) + 0 (gone) = 20: -73 %, PR.
    point = assess(scans)[1]
    assert point.sum_mm == 20
    assert point.target is Response.PR
