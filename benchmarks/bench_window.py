"""Time to compute the eligibility window for the largest example record.

    .venv/bin/python benchmarks/bench_window.py [--as-of 2026-11-25] [--repeat 20]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

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
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        w = eligibility_window(LUMEN, record, args.as_of)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"{path.name}: {len(record.labs)} labs, {len(record.imaging)} imaging studies; "
          f"{len(w.intervals)} interval(s), {len(w.next_steps)} next steps")
    print(f"window (180-day horizon): median {times[len(times) // 2] * 1000:.1f} ms, "
          f"min {times[0] * 1000:.1f} ms over {args.repeat} runs")


if __name__ == "__main__":
    main()
