"""Table wrapping of very long words (a 1 MB resource id): the report's wrapper against
textwrap alone (what the table used before issue 8), at growing word lengths.

    .venv/bin/python benchmarks/bench_wrap.py

Linear time shows as a ratio near 10 between one length and ten times it; textwrap alone
is quadratic in a word's length (ratio near 100).
"""

from __future__ import annotations

import textwrap
import time

from trialsieve.report import _wrap  # the criteria table; the screen table wraps alike


def _seconds(fn, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    return time.perf_counter() - start


def main() -> None:
    plain = lambda t: textwrap.wrap(t, 80, initial_indent="  - ",  # noqa: E731
                                    subsequent_indent="    ")
    ours = lambda t: _wrap(t, "  - ")  # noqa: E731
    print(f"{'word length':>12} {'textwrap s':>11} {'report s':>9}")
    rows = []
    for n in (10_000, 100_000, 1_000_000):
        text = f"Observation/{'x' * n} 2026-11-20"
        rows.append((n, _seconds(plain, text), _seconds(ours, text)))
        print(f"{n:>12} {rows[-1][1]:>11.3f} {rows[-1][2]:>9.3f}")
    for (a, pa, oa), (b, pb, ob) in zip(rows, rows[1:], strict=False):
        print(f"x{b // a} length: textwrap x{pb / pa:.0f}, report x{ob / oa:.0f}")


if __name__ == "__main__":
    main()
