"""Numbers as reports write them (issue 21): decimal commas, cm to mm through the units
module, grades, the ECOG-Karnofsky correspondence, dates in three forms."""

from __future__ import annotations

from datetime import date

import pytest

from trialsieve.text import numbers


def test_decimal_comma() -> None:
    assert numbers.number("8,5") == numbers.number("8.5") == 8.5


def test_sizes_in_mm() -> None:
    assert [s for s, _, _ in numbers.sizes_mm("3,4 cm and 22 x 18 mm, 1.2 x 0.8 cm")] == [
        34.0, 22.0, 12.0]


@pytest.mark.parametrize("kps, ecog", [(100, 0), (90, 1), (80, 1), (70, 2), (60, 2),
                                       (50, 3), (40, 3), (30, 4), (20, 4), (10, 4),
                                       (0, 5), (85, None), (110, None)])
def test_karnofsky_to_ecog(kps: int, ecog: int | None) -> None:
    assert numbers.karnofsky_to_ecog(kps) == ecog


@pytest.mark.parametrize("text, day_first, found", [
    ("on 2026-03-02", False, [date(2026, 3, 2)]),
    ("le 02/03/2026", True, [date(2026, 3, 2)]),
    ("on 03/02/2026", False, []),  # March 2 or 3 February: not guessed
    ("on 25/02/2026", False, [date(2026, 2, 25)]),  # only one reading
    ("on 3 March 2025", False, [date(2025, 3, 3)]),
    ("le 1er mars 2025", True, [date(2025, 3, 1)]),
    ("on March 3, 2025", False, [date(2025, 3, 3)]),
    ("en mars 2025", True, []),  # no day: not a date
    ("compared with 2025-11-02", False, []),  # another scan's date
    ("le 31/02/2026", True, []),
])
def test_dates(text: str, day_first: bool, found: list[date]) -> None:
    assert numbers.dates(text, day_first) == found
