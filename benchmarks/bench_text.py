"""The text reader on the hand-annotated corpus (tests/data/text): precision and recall
per fact family, the negated/uncertain/family/hypothetical mentions read as affirmed,
and the time per report as a ratio to a floor measured in the same run.

    .venv/bin/python benchmarks/bench_text.py [--runs N]

Floors, measured in the same run on the same texts: tokenising them with a blank spaCy
English pipeline (what any spaCy reading of them costs at least), and `str.split` (what
touching every character costs in Python). The load average is printed beside the
times: on a shared machine the ratios are what compare; each line is repeated in the
thread's CPU time, which the machine's other work distorts less than the wall clock.
Time: the median over the 40 whole reports of one `trialsieve.text.read` each, the
paragraph cache emptied before each report (a cold read), after one warm-up pass that
loads medspaCy; and per page, the
reports end to end cut into pages of at least 3,000 characters.
Targets: precision >= 0.97 and recall >= 0.90 per family, zero misread, <= 10 ms a page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import text_corpus as corpus  # noqa: E402

from trialsieve.text import FACTS, read  # noqa: E402
from trialsieve.text import reader as text_reader  # noqa: E402

PAGE_CHARS = 3000
TARGET_MS_PER_PAGE = 10.0


def per_report_ms(docs, fn, runs: int, clock=time.perf_counter) -> list[float]:
    """Each report's median time over `runs`, in ms (wall clock, or `clock`: the
    thread's CPU time, which other work on a shared machine distorts less)."""
    out = []
    for d in docs:
        times = []
        for _ in range(runs):
            text_reader._read_chunk.cache_clear()
            start = clock()
            fn(d)
            times.append((clock() - start) * 1000)
        out.append(statistics.median(times))
    return out


def _pages(docs):
    """The reports end to end, cut into pages of at least PAGE_CHARS characters."""
    from trialsieve.record import Document

    pages, text = [], ""
    for d in docs:
        text += d.text + "\n\n"
        if len(text) >= PAGE_CHARS:
            pages.append(Document(f"DocumentReference/page{len(pages)}", "clinic", d.date, text))
            text = ""
    return pages


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=5)
    args = p.parse_args()
    sentences, reports = corpus.sentences(), corpus.reports()
    cases = sentences + reports
    start = time.perf_counter()
    score = corpus.score(cases, read)  # also the warm-up: medspaCy loaded here
    print(f"corpus: {len(sentences)} sentences, {len(reports)} reports "
          f"(first pass, medspaCy loading included: {time.perf_counter() - start:.1f} s)")
    print(f"{'fact family':22} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}")
    failed = []
    for fact in FACTS:
        pr, rc = score.precision(fact), score.recall(fact)
        mark = "" if pr >= corpus.TARGET_PRECISION and rc >= corpus.TARGET_RECALL else "  <"
        failed += [fact] if mark else []
        print(f"{fact:22} {pr:9.3f} {rc:7.3f} {score.tp[fact]:4} {score.fp[fact]:4} "
              f"{score.fn[fact]:4}{mark}")
    misread = sum(score.misread.values())
    print(f"negated/uncertain/family/hypothetical mentions read as affirmed: {misread}")

    import spacy
    blank = spacy.blank("en")
    docs = [corpus.document(c) for c in reports]
    pages = _pages(docs)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'what':34} {'ours ms':>8} {'spaCy tok':>10} {'ratio':>6} {'str.split':>10} "
          f"{'ratio':>7}")
    per_page = 0.0
    for label, items in ((f"report (median of {len(docs)}, "
                          f"{statistics.median(len(d.text) for d in docs):.0f} ch)", docs),
                         (f"page ({len(pages)} of >= {PAGE_CHARS} ch)", pages)):
        ours = statistics.median(per_report_ms(items, read, args.runs))
        tok = statistics.median(per_report_ms(items, lambda d: blank(d.text), args.runs))
        split = statistics.median(per_report_ms(items, lambda d: d.text.split(), args.runs))
        print(f"{label:34} {ours:8.2f} {tok:10.3f} {ours / tok:5.1f}x {split:10.4f} "
              f"{ours / split:6.0f}x")
        cpu = statistics.median(per_report_ms(items, read, args.runs, time.thread_time))
        tok_cpu = statistics.median(per_report_ms(items, lambda d: blank(d.text), args.runs,
                                                  time.thread_time))
        print(f"{'  the same, CPU time':34} {cpu:8.2f} {tok_cpu:10.3f} {cpu / tok_cpu:5.1f}x")
        per_page = ours
    missed = "" if per_page <= TARGET_MS_PER_PAGE else "  < target missed"
    print(f"time per page {per_page:.1f} ms (target <= {TARGET_MS_PER_PAGE:.0f} ms on one "
          f"core){missed}; load average {os.getloadavg()[0]:.2f}")
    for line in score.errors:
        print("  " + line)
    return 1 if failed or misread else 0


if __name__ == "__main__":
    sys.exit(main())
