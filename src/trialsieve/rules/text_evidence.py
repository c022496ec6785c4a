"""What the reports say, shown beside each criterion they inform (issue 21).

Suggested, never assumed: under screening a mention never decides. The criterion keeps
the status the coded data give it, and its evidence shows "suggested by the pathology
report of 2026-03-02: '...TNE bien différenciée G2...' (confirm)". Under pre-screening
an affirmed mention of a family with a coded counterpart was counted as that fact
(record.from_text): its evidence is marked "from text"; the others stay suggestions.

A negated mention of an exclusion's fact ("absence de métastase cérébrale") is shown as
a suggestion of its absence, to confirm like any; an uncertain, family or hypothetical
one, or a negated one of another fact, is listed as not counted, never as support.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from trialsieve.logic import Tri
from trialsieve.record import Confirmation, Document, Ignored, Mention, PatientRecord
from trialsieve.record.from_text import counted, is_text_source, text_source
from trialsieve.rules.base import PRE_SCREENING, Evidence, Outcome, Quote
from trialsieve.text import FACTS

# The criteria each family informs: FACTS names the main one; some inform more.
ALSO = {"postmenopausal": ("EXCL08", "EXCL09"), "sterilised": ("EXCL08", "EXCL09"),
        "radiotherapy": ("EXCL05", "INCL13"), "progression": ("INCL04",),
        "new_lesion": ("INCL04",)}
# Facts an exclusion turns on: their denial is worth confirming (E4, E6, E8).
DENIABLE = frozenset({"marrow_infiltration", "brain_metastases", "pregnant",
                      "breastfeeding"})
KIND_NAME = {"pathology": "pathology report", "imaging": "imaging report",
             "clinic": "clinic note"}
QUOTE_CHARS = 110


def informs(fact: str) -> tuple[str, ...]:
    main = FACTS.get(fact)
    return ((main,) if main else ()) + ALSO.get(fact, ())


def quoted(sentence: str) -> str:
    """The sentence in quotes, cut (visibly) when long."""
    text = " ".join(sentence.split())
    if len(text) > QUOTE_CHARS:
        text = text[:QUOTE_CHARS - 3].rstrip() + "..."
    return f"'{text}'"


def reading(m: Mention) -> str:
    """What the mention says, in a few words: "ECOG 1", "Ki-67 8 %", "WHO grade G2"."""
    value = m.value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = "" if value in (None, "") else f"{value}{' ' + m.unit if m.unit else ''}"
    said = {"ecog": f"ECOG {shown}", "ki67": f"Ki-67 {value} %",
            "who_grade": f"WHO grade {shown}", "primary_site": f"primary {shown}",
            "metastatic": shown or "metastatic",
            "net_diagnosis": "NET" + (f", {shown} differentiated" if shown else ""),
            }.get(m.fact) or " ".join(filter(None, [m.fact.replace("_", " "), shown]))
    details = ", ".join(f"{k} {v}" for k, v in m.details)
    return said + (f" ({details})" if details else "")


def _document(record: PatientRecord, m: Mention) -> Document | None:
    return next((d for d in record.documents if d.source == m.document), None)


def _report(record: PatientRecord, m: Mention) -> tuple[str, date | None]:
    """"the pathology report of 2026-03-02", and that date."""
    doc = _document(record, m)
    when = doc.date if doc and doc.date else m.date
    kind = KIND_NAME.get(m.kind, f"{m.kind} text")
    return f"the {kind} of {when or 'no date'}", when


def quote(record: PatientRecord, m: Mention, use: str) -> Quote:
    return Quote(m.document, m.kind, _report(record, m)[1], m.sentence, m.start, m.end,
                 m.modifiers, use)


def suggestion(record: PatientRecord, ms: list[Mention]) -> Evidence:
    """One sentence's suggestion: what it says (each mention of it), to confirm; or,
    once an investigator confirmed it, who did, when and in which resource."""
    m = ms[0]
    report, when = _report(record, m)
    note = ", ".join(dict.fromkeys(
        f"{'absent: ' if 'negated' in x.modifiers else ''}{reading(x)}" for x in ms))
    done = next((c for c in record.confirmations if c.span == text_source(m)), None)
    if done is not None:
        return Evidence(text_source(m), when, f"confirmed from {report}",
                        f"{quoted(m.sentence)} {confirmed_words(done)}", note,
                        text=replace(quote(record, m, "confirmed"), confirmed=done))
    return Evidence(text_source(m), when, f"suggested by {report}",
                    f"{quoted(m.sentence)} (confirm)", note,
                    text=quote(record, m, "suggested"))


def confirmed_words(c: Confirmation) -> str:
    """"(confirmed by Dr A on 2026-11-25T09:30:00Z: Condition/net-1)"."""
    by = f" by {c.by}" if c.by else ""
    on = f" on {c.on}" if c.on else ""
    return f"(confirmed{by}{on}: {c.resource})"


def _by_sentence(ms: list[Mention]) -> list[list[Mention]]:
    groups: dict[str, list[Mention]] = {}
    for m in ms:
        groups.setdefault(text_source(m), []).append(m)
    return list(groups.values())


def _shown(m: Mention) -> bool:
    """Shown as a suggestion: affirmed, or a denial of an exclusion's fact."""
    return m.affirmed or (m.fact in DENIABLE and set(m.modifiers) == {"negated"})


def visible(record: PatientRecord, as_of: date) -> list[Mention]:
    """The mentions a screening on `as_of` may show: none written after it."""
    return [m for m in record.mentions if m.date is None or m.date <= as_of]


def with_text(cid: str, out: Outcome, record: PatientRecord, mentions: list[Mention],
              policy: str) -> Outcome:
    """`out` with the mentions informing criterion `cid`: suggestions, facts counted
    from text marked, mentions not counted listed. Never a change of status."""
    if not record.mentions:  # no text: no suggestion, and no fact counted from one
        return out
    mine = [m for m in mentions if cid in informs(m.fact)]
    by_source = {text_source(m): m for m in mentions}
    evidence = [_marked(e, record, by_source) if is_text_source(e.source) else e
                for e in out.evidence]
    used = {e.source for e in evidence}
    # counted as a fact under pre-screening: shown by the rule where it read it
    open_ = [m for m in mine if _shown(m) and text_source(m) not in used
             and not (policy == PRE_SCREENING and counted(m))]
    suggested = [suggestion(record, ms) for ms in _by_sentence(open_)]
    ignored = list(out.ignored) + [
        _not_counted(record, m) for m in mine if not _shown(m)]
    if not mine and evidence == list(out.evidence):
        return out
    # what settles an unknown criterion: among others, confirming what a report says
    missing = out.missing + tuple(dict.fromkeys(
        f"confirmation of what {e.what.removeprefix('suggested by ')} says ({e.note})"
        for e in suggested if e.text and e.text.use == "suggested")
    ) if out.status is Tri.UNKNOWN else out.missing
    return replace(out, evidence=tuple(evidence + suggested), ignored=tuple(ignored),
                   missing=missing)


def _marked(e: Evidence, record: PatientRecord, by_source: dict[str, Mention]) -> Evidence:
    """A fact counted from a sentence: said so, with the sentence."""
    m = by_source.get(e.source)
    if m is None:
        return replace(e, what=f"{e.what} (from text)")
    report, _ = _report(record, m)
    return replace(e, what=f"{e.what} (from text)",
                   value=f"{reading(m)}: {report}: {quoted(m.sentence)}",
                   text=quote(record, m, "from text"))


def _not_counted(record: PatientRecord, m: Mention) -> Ignored:
    report, _ = _report(record, m)
    mods = ", ".join(x for x in m.modifiers) or "not affirmed"
    return Ignored(text_source(m), f"not counted ({mods}): {report} says "
                   f"{quoted(m.sentence)}")
