"""Time to compute the eligibility window for the largest example record, as a ratio to
a floor measured in the same run: one screening of that record at one D0. The window
screens every D0 of its horizon (181 for 180 days), so the ratio is about 181.

    .venv/bin/python benchmarks/bench_window.py [--as-of 2026-11-25] [--repeat 20]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from trialsieve.engine import Dates, screen
from trialsieve.fhir.reader import read
from trialsieve.protocols.lumen import LUMEN
from trialsieve.window import eligibility_window

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "patients"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 25))
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args()
    files = sorted(EXAMPLES.glob("*.json"), key=lambda f: f.stat().st_size)
    if not files:
        raise SystemExit(f"no example patients in {EXAMPLES}")
    path = files[-1]
    record = read(str(path)).records[0]
    times, floor = [], []
    dates = Dates.resolve(args.as_of)
    for _ in range(args.repeat):
        t = time.perf_counter()
        screen(LUMEN, record, dates)
        floor.append(time.perf_counter() - t)
        t = time.perf_counter()
        w = eligibility_window(LUMEN, record, args.as_of)
        times.append(time.perf_counter() - t)
    times.sort()
    floor.sort()
    median, base = times[len(times) // 2], floor[len(floor) // 2]
    print(f"{path.name}: {len(record.labs)} labs, {len(record.imaging)} imaging studies; "
          f"{len(w.intervals)} interval(s), {len(w.next_steps)} next steps")
    print(f"window (180-day horizon): median {median * 1000:.1f} ms, "
          f"min {times[0] * 1000:.1f} ms over {args.repeat} runs")
    print(f"floor (one screening): median {base * 1000:.2f} ms; "
          f"window / floor = {median / base:.0f}")


if __name__ == "__main__":
    main()
