"""A screening result as text a coordinator reads in ten seconds, every line <= 80 columns.

First block: who, the verdict, what blocks (with the reason), what is unknown (with what
settles it), the D0 window and the next steps. Then one row per criterion, exclusions
read as present / absent / unknown. Evidence is never cut silently: at most
`EVIDENCE_SHOWN` records for a criterion that needs attention, then "+N more" (all with
`verbose`); for the others only the count, which `verbose` opens.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from trialsieve.engine import ELIGIBLE, INCOMPLETE, CriterionResult, ScreeningResult
from trialsieve.logic import Tri
from trialsieve.output.guidance import (
    Guidance,
    diagnosis_first,
    guidance,
    is_blocking,
    status_word,
)
from trialsieve.output.units_display import ascii_text, readable
from trialsieve.record import Patient
from trialsieve.rules.base import Evidence
from trialsieve.window import Window
from trialsieve.wrap import chop_long_words, wrap

WIDTH = 80
NOT_ASSESSED = "\u2014"  # the status of a row of a deceased patient (ASCII: "-")
EVIDENCE_SHOWN = 3
COLOURS = {"red": "31", "green": "32", "yellow": "33", "bold": "1", "dim": "2"}
VERDICT_COLOUR = {ELIGIBLE: "green", INCOMPLETE: "yellow"}


@dataclass(frozen=True)
class Style:
    """How the terminal can show text: colour (a TTY without NO_COLOR) and Unicode."""

    colour: bool = False
    ascii_only: bool = False

    @staticmethod
    def of(stream: TextIO) -> Style:
        tty = hasattr(stream, "isatty") and stream.isatty()
        encoding = (getattr(stream, "encoding", None) or "ascii").lower().replace("-", "")
        return Style(colour=tty and "NO_COLOR" not in os.environ and
                     os.environ.get("TERM") != "dumb",
                     ascii_only=encoding not in ("utf8", "utf16", "utf32"))

    def paint(self, text: str, colour: str) -> str:
        return f"\033[{COLOURS[colour]}m{text}\033[0m" if self.colour else text

    def text(self, text: str) -> str:
        return readable(text, self.ascii_only)

    def encode(self, text: str) -> str:
        """The finished text, in ASCII when the terminal cannot show the rest."""
        return ascii_text(text) if self.ascii_only else text


def _wrap(text: str, indent: str, hang: str = "  ") -> list[str]:
    text = chop_long_words(text, WIDTH - len(indent) - len(hang))  # linear on a 1 MB id
    return wrap(text, WIDTH, initial_indent=indent,
                subsequent_indent=" " * len(indent) + hang,
                break_on_hyphens=False) or [indent.rstrip()]


def _verdict_word(verdict: str) -> str:
    return verdict.upper().replace("_", " ")


def who(p: Patient | None, patient_id: str, file: str) -> str:
    """The patient as staff find them: identifier (MRN), FHIR id, source file."""
    ident = (f"{'MRN' if p.identifier_is_mrn else 'identifier'} {p.identifier}"
             if p and p.identifier else "(no identifier on record)")
    return f"Patient {ident}, Patient/{patient_id}, file {file or 'unknown'}"


def who_lines(p: Patient | None, patient_id: str, file: str, tail: str = "") -> list[str]:
    """`who` wrapped at 80 columns, with what follows it on the line."""
    return _wrap(who(p, patient_id, file) + tail, "")


def headline(r: ScreeningResult, g: Guidance, style: Style, verbose: bool = False
             ) -> list[str]:
    d = r.dates
    given = ("dates not given: inclusion and D0 taken as the screening date"
             if len(d.assumed) == 2 else f"inclusion {d.inclusion}"
             + (" (not given: taken as D0)" if "inclusion" in d.assumed else "")
             + (" (D0 not given: taken as the inclusion date)" if d.assumed == ("d0",)
                else ""))
    verdict = _wrap(f"{_verdict_word(r.verdict)} at D0 {d.d0}: {_why(r, g)}", "")
    word = _verdict_word(r.verdict)
    verdict[0] = style.paint(word, VERDICT_COLOUR.get(r.verdict, "red")) + \
        verdict[0][len(word):]
    lines = [*who_lines(r.patient, r.patient_id, r.file), *verdict,
             *_wrap(f"As of {d.as_of}, {given}; policy {r.policy}; protocol "
                    f"{r.protocol.id} v{r.protocol.version}", "")]
    if r.deceased:  # a death decides whatever the criteria say (notes)
        lines += _wrap(f"{r.deceased}: not a candidate, whatever the criteria say", "")
    if g.blocking:
        lines.append("Blocking:")
        for b in g.blocking:
            lines += _wrap(style.text(f"{b.criterion} {b.short}: {b.reason}"), "  ")
    unknown = [c.criterion.id for c in r.results if c.status is Tri.UNKNOWN]
    if g.final and unknown:
        lines += _wrap(f"Unknown, not worth settling: {', '.join(unknown)}", "")
    first = None if verbose else diagnosis_first(r, g.needed)
    if first is not None:  # no tumour on record: the rest is moot until there is one
        lines.append("Unknown, and what settles it first:")
        lines += _wrap(style.text(f"{', '.join(first.criteria)}: {first.item} (no "
                                  "neuroendocrine tumour on record)"), "  ")
        rest = len(g.needed) - 1
        if rest:
            lines += _wrap(f"other criteria are moot until the diagnosis is established: "
                           f"{rest} {'item' if rest == 1 else 'items'} (--verbose)", "  ")
    elif g.needed:
        lines.append("Unknown, and what settles it:")
        for n in g.needed:
            lines += _wrap(style.text(f"{', '.join(n.criteria)}: {n.item}"), "  ")
    if g.window is not None:
        lines += _wrap(_window_text(g, d.d0), "")
    if g.final:
        fixed = ", ".join(b.criterion for b in g.blocking if not b.changeable)
        lines.append("Next steps: none, this record cannot become eligible"
                     + (f" ({fixed})." if fixed else "."))
    elif [s for s in g.steps if s.kind != "obtain"]:
        lines.append("Next steps" + (" (besides settling the unknowns):" if g.needed else ":"))
        for s in g.steps:
            if s.kind == "obtain":
                continue  # said above
            lines += _wrap(style.text(f"{', '.join(s.criteria)}: {s.text}"), "  - ")
    return lines


def _why(r: ScreeningResult, g: Guidance) -> str:
    """The criteria that decide the verdict, for the verdict line."""
    if r.deceased:
        return "deceased"
    if g.blocking:
        return "blocked by " + ", ".join(b.criterion for b in g.blocking)
    unknown = [c.criterion.id for c in r.results if c.status is Tri.UNKNOWN]
    return "unknown " + ", ".join(unknown) if unknown else "every criterion holds"


def _window_text(g: Guidance, d0: date) -> str:
    w = g.window
    assert w is not None
    if w.eligible:
        spans = "; ".join(f"{a} to {b}" for a, b in w.eligible)
        return f"Eligible for D0 {spans} (earliest D0 {w.earliest})."
    if w.incomplete and g.verdict == INCOMPLETE:
        a, b = w.incomplete[0]
        return (f"No D0 up to {w.last} is eligible on this record; D0 {a} to {b} once the "
                "unknowns are settled.")
    now = [s for s in g.steps if s.kind == "repeat" and s.gives == ELIGIBLE]
    if now:  # a repeat done now beats waiting for the failing result to expire
        return (f"No D0 up to {w.last} is eligible on this record as it stands; a newer "
                f"result meeting {', '.join(now[0].criteria)} makes the patient eligible "
                f"at D0 {d0} (next steps).")
    if w.incomplete and not g.final:  # what blocks ends, but the baseline is too old by then
        a, b = w.incomplete[0]
        return (f"No D0 up to {w.last} is eligible on this record; D0 {a} to {b} could be, "
                "with new results.")
    return f"No D0 up to {w.last} is eligible on this record."


def _evidence_line(e: Evidence, style: Style) -> str:
    value = f": {e.value}" if e.value else ""
    note = f" ({e.note})" if e.note else ""
    if e.text is not None and e.text.use in ("suggested", "confirmed"):  # "of DATE" says it
        return style.text(f"{e.note}: {e.what}: {e.value} [{e.source}]")
    return style.text(f"{e.date or 'undated'} {e.what}{value}{note} [{e.source}]")


def criterion_rows(c: CriterionResult, style: Style, verbose: bool,
                   deceased: str | None = None) -> list[str]:
    """One criterion: a row, its summary (two lines at most unless it needs attention or
    `verbose`, cut visibly), then evidence, records set aside and assumptions.
    `deceased` ("deceased on DATE"): the row is marked not assessed, and says what the
    record gives only with `verbose`."""
    o = c.outcome
    attention = (is_blocking(c) or c.status is Tri.UNKNOWN) and not deceased
    colour = "yellow" if c.status is Tri.UNKNOWN else "red" if attention else None
    word = f"{status_word(c) if not deceased else NOT_ASSESSED:<8}"
    pad = " " * (7 + 8 + 1)
    limit = len(o.evidence) if verbose else min(len(o.evidence),
                                                EVIDENCE_SHOWN if attention else 0)
    hidden = len(o.evidence) - limit
    count = f" [{hidden}]" if hidden and not limit else ""
    text = style.text(f"{c.criterion.short}: {o.summary}") + count
    if deceased:  # a met row must not pass for a candidate's
        text = (f"{c.criterion.short}: not assessed (deceased)" if not verbose
                else style.text(f"{c.criterion.short}: not assessed; the record gives "
                                f"{status_word(c)}: {o.summary}"))
    text = chop_long_words(text, WIDTH - len(pad) - 2)  # linear on a 1 MB id
    body = wrap(text, WIDTH - len(pad), break_on_hyphens=False)
    body = body[:1] + wrap(" ".join(body[1:]), WIDTH - len(pad) - 2, break_on_hyphens=False)
    if not (attention or verbose) and len(body) > 2:
        cut = " ... (--verbose)" + count
        body = [body[0], textwrap.shorten(" ".join(body[1:]), WIDTH - len(pad) - 2,
                                          placeholder=cut)]
    lines = [f"{c.criterion.id:<7}{style.paint(word, colour) if colour else word} {body[0]}"]
    lines += [pad + "  " + x for x in body[1:]]
    for e in o.evidence[:limit]:
        lines += _wrap(_evidence_line(e, style), pad + "- ")
    if hidden and limit:
        lines.append(f"{pad}+{hidden} more {'record' if hidden == 1 else 'records'} "
                     "(--verbose)")
    if attention or verbose:
        for i in o.ignored:
            lines += _wrap(style.text(f"set aside: {i.source}: {i.reason}"), pad + "x ")
        for a in o.assumptions:
            lines += _wrap(style.text(f"assumed: {a}"), pad + "~ ")
    return lines


def render(r: ScreeningResult, window: Window | None = None, *, style: Style | None = None,
           verbose: bool = False) -> str:
    style = style or Style()
    g = guidance(r, window)
    lines = headline(r, g, style, verbose)
    lines += ["-" * WIDTH, f"{'ID':<7}{'STATUS':<8} CRITERION: summary [records behind it: "
              "--verbose]"]
    # a death decides: rows reading "met" must not pass for a candidate's
    dead = r.deceased if r.deceased and not r.deceased.startswith("possibly") else None
    if dead:
        lines += _wrap(f"(patient {dead}: no criterion is assessed"
                       + ("; each row says what the record gives)" if verbose
                          else "; --verbose: what the record gives)"), "")
    elif r.deceased:
        lines += _wrap(f"({r.deceased}: the criteria below are as evaluated; they do not "
                       "decide)", "")
    for c in r.results:
        lines += criterion_rows(c, style, verbose, dead)
    if r.warnings:
        lines += ["-" * WIDTH, "Warnings:"]
        lines += [x for w in r.warnings for x in _wrap(style.text(str(w)), "  ! ")]
    used = sum(v["used"] for v in r.counts.values())
    read = sum(v["read"] for v in r.counts.values())
    lines += ["-" * WIDTH, f"Resources: {read} read, {used} used, {read - used} not used "
              f"({len(r.ignored)} set aside with a reason)"]
    unused = [f"{t} {v['read'] - v['used']}" for t, v in sorted(r.counts.items())
              if v["read"] > v["used"]]
    if unused:  # which ones: the count alone leaves a reader guessing
        lines += _wrap("Not used, by type: " + ", ".join(unused)
                       + ("" if verbose else " (--verbose: each, with why)"), "  ")
    if verbose:
        for i in _not_used(r):
            lines += _wrap(style.text(f"{i.source}: {i.reason}"), "  - ")
    return style.encode("\n".join(lines))


def _not_used(r: ScreeningResult) -> list:
    """Each resource read and not used, once, with why: of no use to any criterion, or set
    aside (a status, a date after the screening date, a damaged field)."""
    seen: dict[str, object] = {}
    for i in (*r.unused, *r.ignored):
        seen.setdefault(i.source.split("#")[0], i)
    return list(seen.values())
