"""Cost of a site concept map: reading the shared OpenMRS bundles with the shipped map,
as a ratio to reading them without one, measured in the same run (the floor).

    .venv/bin/python benchmarks/bench_concept_map.py [--runs N]

Inputs: ../shared/data/synthea-openmrs-bundles (25 patients, 7381 resources) and
docs/examples/openmrs-concept-map.json. Times are the median of N runs after a warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from trialsieve.fhir import concept_map
from trialsieve.fhir.reader import read

REPO = Path(__file__).resolve().parent.parent
BUNDLES = REPO.parent / "shared" / "data" / "synthea-openmrs-bundles"
MAP = REPO / "docs" / "examples" / "openmrs-concept-map.json"
TARGET_RATIO = 1.5  # a map may cost at most half again the plain read


def median_s(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    if not BUNDLES.is_dir():
        print(f"{BUNDLES} absent: nothing to measure")
        return 0
    mapping = concept_map.load([MAP])
    load_s = median_s(lambda: concept_map.load([MAP]), args.runs)
    plain = median_s(lambda: read(BUNDLES), args.runs)
    mapped = median_s(lambda: read(BUNDLES, mapping), args.runs)
    ratio = mapped / plain
    print(f"load map {load_s * 1000:.1f} ms; read {plain:.3f} s plain, {mapped:.3f} s with "
          f"the map: ratio {ratio:.2f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
