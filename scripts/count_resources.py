"""Resources read / used / ignored per data set, and the facts they gave (labs,
exposures, diagnoses), as the reader sees them: the before/after figure for vocabulary
changes. Usage: python scripts/count_resources.py PATH... [--concept-map FILE]"""

from __future__ import annotations

import argparse
import json
from collections import Counter


def counts(path: str, maps: list[str]) -> dict:
    from trialsieve.fhir.reader import read

    if maps:
        from trialsieve.fhir import concept_map

        data = read(path, concept_map.load(maps))
    else:
        data = read(path)
    total: Counter = Counter()
    for rec in data.records:
        for c in rec.counts.values():
            total.update(c)
        total["labs"] += len(rec.labs)
        total["exposures"] += len(rec.exposures)
        total["diagnoses"] += len(rec.diagnoses)
        total["warnings"] += len(rec.warnings)
    return {"patients": len(data.records), **total}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("paths", nargs="+")
    p.add_argument("--concept-map", action="append", default=[])
    args = p.parse_args()
    for path in args.paths:
        print(json.dumps({"path": path, **counts(path, args.concept_map)}))


if __name__ == "__main__":
    main()
