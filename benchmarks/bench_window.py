"""Time to compute the eligibility window for the largest example record, as a ratio to
a floor measured in the same run: one screening of that record at one D0.

Two windows are timed: by change points (what `screen` and `window` compute: the first
D0 of each stretch over which no criterion can change status, and the day before a
verdict change) and day by day (`every_day=True`: every D0 of the horizon, 181 for 180
days; what the window computed before change points, kept as the reference the tests
compare with). Each figure is the median of --repeat runs, interleaved so that the load
of a shared machine falls on all of them alike. Target: window <= 5x one screening.

    .venv/bin/python benchmarks/bench_window.py [--as-of 2026-11-25] [--repeat 21]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.protocols.lumen import LUMEN
from trialsieve.window import eligibility_window, stretch_starts

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"
HORIZON = 180
TARGET_RATIO = 5.0


def timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 25))
    p.add_argument("--repeat", type=int, default=21)
    args = p.parse_args()
    files = sorted(EXAMPLES.glob("*.json"), key=lambda f: f.stat().st_size)
    if not files:
        raise SystemExit(f"no example patients in {EXAMPLES}")
    path = files[-1]
    record = read(str(path)).records[0]
    dates = Dates.resolve(args.as_of)
    fast = eligibility_window(LUMEN, record, args.as_of, HORIZON)
    assert fast == eligibility_window(LUMEN, record, args.as_of, HORIZON, every_day=True)
    floor, window, daily = [], [], []
    for k in range(args.repeat):
        floor.append(timed(lambda: screen(LUMEN, record, dates)))
        window.append(timed(lambda: eligibility_window(LUMEN, record, args.as_of, HORIZON)))
        if k % 3 == 0:  # the slow reference: a third as many runs
            daily.append(timed(lambda: eligibility_window(LUMEN, record, args.as_of, HORIZON,
                                                          every_day=True)))
    base, w, d = (statistics.median(x) for x in (floor, window, daily))
    stretches = stretch_starts(LUMEN, record, args.as_of, args.as_of,
                               args.as_of + timedelta(days=HORIZON), 0)
    print(f"{path.name}: {len(record.labs)} labs, {len(record.imaging)} imaging studies; "
          f"{len(fast.intervals)} interval(s), {len(fast.next_steps)} next steps; "
          f"{len(stretches)} stretches of the {HORIZON + 1} D0s")
    print(f"medians of {args.repeat} runs ({len(daily)} for the day-by-day window)")
    print(f"{'what':<34} {'median':>10} {'x floor':>8}")
    for what, t in (("floor: one screening", base),
                    ("window by change points", w),
                    ("window day by day (before)", d)):
        print(f"{what:<34} {t * 1000:>7.2f} ms {t / base:>8.1f}")
    print(f"target: window <= {TARGET_RATIO:g}x one screening: "
          f"{'yes' if w / base <= TARGET_RATIO else 'NO'}")


if __name__ == "__main__":
    main()
