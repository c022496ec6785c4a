"""A paragraph with no ConText cue: its targets as entities, read from its tokens without
medspaCy's spans.

ConText gives a target modifiers only from the cues of its sentence: a paragraph holding
none (two thirds of a report's paragraphs that name a fact) gets none, and ConText is not
run on it. What medspaCy's target matcher does there is arithmetic on token numbers: each
target's character span turned into tokens, the overlapping ones pruned (medspaCy's own
`prune_overlapping_matches`), the rest set as entities. Done here on the token offsets,
it spares the spaCy `Span` objects, their extensions and `Doc.ents`, which were most of
the matcher's time. Whatever this does not cover returns None, and the paragraph goes
through the whole pipeline: a cue, a paragraph PyRuSH must cut, a target not on token
boundaries, overlaps medspaCy's pruning leaves, a target matcher that is not only regular
expressions (`tests/test_text_uncued.py` compares the two readings).
"""

from __future__ import annotations

from typing import Any

from trialsieve.text.pipeline import CUES, Hits, cue_matcher, target_rules

# (family, start, end): a target's characters in the paragraph, in the paragraph's order.
Entity = tuple[str, int, int]


def entities(lang: str, doc: Any, found: Hits) -> tuple[Entity, ...] | None:
    """The entities medspaCy's target matcher sets in the one-sentence `doc` for the
    targets `found` in its text, when ConText has no cue in it to give them a modifier;
    None otherwise (the cues found are then left in the Doc, not looked for again)."""
    rules = target_rules(lang)
    if rules is None:
        return None
    cues = cue_matcher(lang)(doc)
    if cues:
        doc.user_data[CUES] = cues
        return None
    starts, ends = {}, {}
    for token in doc:
        starts[token.idx] = token.i
        ends[token.idx + len(token)] = token.i
    matches, label = [], {}
    for fact, n, spans in found:
        match_id, category = rules[(fact, n)]
        label[match_id] = category
        for begin, end in spans:
            first, last = starts.get(begin), ends.get(end)
            if first is None or last is None or last < first:
                return None  # not on token boundaries: medspaCy snaps it (`char_span`)
            matches.append((match_id, first, last + 1))
    return _pruned(matches, label, doc)


def _pruned(matches: list[tuple[int, int, int]], label: dict[int, str], doc: Any
            ) -> tuple[Entity, ...] | None:
    """The matches medspaCy's pruning keeps, as entities in the text's order; None when
    some still overlap (medspaCy then sets them one by one, dropping the later ones)."""
    from medspacy.common.util import prune_overlapping_matches

    out: list[Entity] = []
    previous_end = 0
    for match_id, first, last in sorted(prune_overlapping_matches(matches),
                                        key=lambda m: m[1]):
        if first < previous_end:
            return None
        previous_end = last
        end_token = doc[last - 1]
        out.append((label[match_id], doc[first].idx, end_token.idx + len(end_token)))
    return tuple(out)
