"""A one-sentence paragraph's targets as medspaCy's target matcher makes them entities,
worked out on its tokens' offsets.

What medspaCy's target matcher does with the targets already found in the text
(`pipeline.targets_found`) is arithmetic on token numbers: each target's character span
turned into tokens, the overlapping ones pruned (medspaCy's own
`prune_overlapping_matches`), the rest set as entities. Done here on the tokens' offsets,
it spares medspaCy's matcher and, where ConText has no cue in the sentence to give a
target a modifier (two thirds of a report's paragraphs that name a fact), the spaCy
`Span` objects, their extensions, `Doc.ents` and ConText altogether. Whatever this does
not cover returns None, and medspaCy's matcher decides: a target not on token boundaries
(medspaCy snaps it), overlaps medspaCy's pruning leaves (it then sets them one by one), a
target matcher that is not only regular expressions (`tests/test_text_entities.py`
compares the two readings).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from trialsieve.text.pipeline import Hits, target_rules

# A match as spaCy gives them: (rule id, first token, token after the last).
Match = tuple[int, int, int]
# (family, start, end): a target's characters in the paragraph.
Entity = tuple[str, int, int]


def matches(lang: str, doc: Any, found: Hits) -> list[Match] | None:
    """The matches medspaCy's target matcher keeps in `doc` for the targets `found` in
    its text, in the text's order, none overlapping; None where it alone can say."""
    rules = target_rules(lang)
    if rules is None:
        return None
    out = []
    for fact, n, spans in found:
        match_id = rules[(fact, n)][0]
        for begin, end in spans:
            span = doc.char_span(begin, end)  # as medspaCy's regex matcher does
            if span is None or not len(span):
                return None  # not on token boundaries: medspaCy snaps it
            out.append((match_id, span.start, span.end))
    if len(out) == 1:
        return out
    kept = sorted(_prune()(out), key=_first_token)
    if any(m[1] < before[2] for before, m in zip(kept, kept[1:], strict=False)):
        return None  # still overlapping
    return kept


def _first_token(match: Match) -> int:
    return match[1]


@cache
def _prune() -> Callable[[list[Match]], list[Match]]:
    from medspacy.common.util import prune_overlapping_matches

    return prune_overlapping_matches


def of(lang: str, doc: Any, kept: list[Match]) -> list[Entity]:
    """The entities the matches make: family, first and last character."""
    label = _labels(lang)
    return [(label[match_id], doc[first].idx, doc[last - 1].idx + len(doc[last - 1]))
            for match_id, first, last in kept]


@cache
def _labels(lang: str) -> dict[int, str]:
    """A target rule's id to its family (the entity's label)."""
    return {match_id: category for match_id, category in (target_rules(lang) or {}).values()}
