"""The calendar a record or a command may use, and date arithmetic that stays inside it."""

from __future__ import annotations

from datetime import date, timedelta

# Dates a record or a command may hold. Far enough apart for any real patient, and far
# enough inside date.min/date.max that no window or wait can leave the calendar.
EARLIEST = date(1800, 1, 1)
LATEST = date(2199, 12, 31)


def in_range(d: date) -> bool:
    return EARLIEST <= d <= LATEST


def shift(d: date, n: int) -> date:
    """`d` plus `n` days, held at the ends of the calendar instead of overflowing."""
    try:
        return d + timedelta(days=n)
    except OverflowError:
        return date.max if n > 0 else date.min
