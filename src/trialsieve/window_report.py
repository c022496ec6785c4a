"""The eligibility window as JSON (the `window` property of a screening result) and as
80-column text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trialsieve.output.guidance import Step
from trialsieve.window import Binding, Window
from trialsieve.wrap import chop_long_words, wrap

WIDTH = 80


def _binding(b: Binding) -> dict[str, Any]:
    return {"criterion": b.criterion, "reason": b.reason, "resource": b.source}


def window_to_json(w: Window, fastest: Sequence[Step] | None = None) -> dict[str, Any]:
    """`fastest`: the repeats that make the first D0 eligible (`window_table`); given by
    `window`, said first as its table says them (`screen` has them in its guidance)."""
    doc: dict[str, Any] = {
        "as_of": w.as_of.isoformat(),
        "first_d0": w.first.isoformat(),
        "last_d0": w.last.isoformat(),
        "inclusion_offset_days": w.inclusion_offset,
        "policy": w.policy,
        "intervals": [{"start": i.start.isoformat(), "end": i.end.isoformat(),
                       "marking": i.marking, "label": i.label,
                       "start_bound_by": [_binding(b) for b in i.start_by],
                       "end_bound_by": [_binding(b) for b in i.end_by]}
                      for i in w.intervals],
        "next_steps": [{"date": s.date.isoformat(), "criterion": s.criterion,
                        "action": s.action, "resource": s.source} for s in w.next_steps],
        "what_if": [{"criterion": x.criterion, "category": x.category, "if_met": x.if_met,
                     "if_not_met": x.if_not_met, "settles_alone": x.settles_alone,
                     "settles_with_shared": x.settles_with_shared, "shared": x.shared,
                     "missing": list(x.missing)} for x in w.what_if],
    }
    if fastest is not None:
        doc["repeat_now"] = [{"date": s.date.isoformat() if s.date else None,
                              "criterion": ", ".join(s.criteria), "action": s.text,
                              "gives": s.gives, "d0": w.first.isoformat()}
                             for s in fastest]
    return doc


def _wrap(text: str, indent: str) -> list[str]:
    return wrap(chop_long_words(text, WIDTH - len(indent) - 2), WIDTH,
                initial_indent=indent, subsequent_indent=indent + "  ")


def _by(bs: tuple[Binding, ...]) -> str:
    return "; ".join(f"{b.criterion + ': ' if b.criterion else ''}{b.reason}"
                     + (f" [{b.source}]" if b.source else "") for b in bs)


def window_table(w: Window, fastest: Sequence[Step] = ()) -> str:
    """`fastest`: the repeats that make the first D0 eligible (output/guidance.py,
    `repeats_now`), said before the window's own steps."""
    off = f", inclusion = D0 - {w.inclusion_offset} days" if w.inclusion_offset else ""
    lines = ["-" * WIDTH, f"Eligibility window for D0 from {w.first} to {w.last}{off}"]
    if not w.intervals:
        why = f" ({w.reference.deceased})" if w.reference.deceased else ""
        lines.append(f"  none: not eligible on any D0 in this period{why}")
    for i in w.intervals:
        lines.append(f"  D0 {i.start} to {i.end}: {i.label}")
        lines += _wrap("from: " + _by(i.start_by), " " * 4)
        lines += _wrap("until: " + _by(i.end_by), " " * 4)
    if w.next_steps or fastest:
        lines.append("Next steps:")
        for step in fastest:  # first: it gives an earlier D0 than any wait below
            lines += _wrap(f"{step.date} {', '.join(step.criteria)}: {step.text}", "  ")
        for s in w.next_steps:
            lines += _wrap(f"{s.date} {s.criterion}: {s.action}", "  ")
    if w.what_if:
        lines.append(f"What if (at D0 {w.reference.dates.d0}), the most decisive first:")
        for x in w.what_if:
            alone = ("settling it alone can make the patient eligible" if x.settles_alone
                     else "eligible once the criteria sharing its item are settled too"
                     if x.settles_with_shared else "not enough on its own")
            lines += _wrap(f"{x.criterion}: {alone}; if met: {x.if_met}, if not met: "
                           f"{x.if_not_met}", "  ")
    return "\n".join(lines)
