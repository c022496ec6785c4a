"""A one-sentence paragraph's entities are worked out from its tokens' offsets, not by
medspaCy's target matcher, and one with no ConText cue is read without spaCy spans,
entities or ConText (issue 21, speed: two thirds of a page's paragraphs that name a fact).
It must state exactly what the whole pipeline has it state: compared here on every
paragraph of the corpus, and on generated paragraphs made of target phrases, cue words
and filler."""

from __future__ import annotations

import re
from functools import cache

import pytest
import text_corpus as corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve.text import available, entities
from trialsieve.text.pipeline import cue_matcher, nlp, rule_file, targets_found
from trialsieve.text.reader import _read_with_medspacy, chunks, language

pytestmark = pytest.mark.skipif(not available(), reason="medspaCy not installed here")
TEXTS = [c.text for c in corpus.sentences() + corpus.reports()]


def _both(lang: str, chunk: str) -> tuple[tuple, tuple]:
    found = targets_found(chunk)
    return (_read_with_medspacy(lang, chunk, found),
            _read_with_medspacy(lang, chunk, found, short_way=False))


def _entities_both(lang: str, chunk: str):
    """The entities worked out from the tokens (None where they are not), whether ConText
    has a cue there, and the entities of the whole pipeline, medspaCy searching the text
    itself."""
    mine = nlp(lang).make_doc(chunk)
    kept = entities.matches(lang, mine, targets_found(chunk))
    doc = nlp(lang)(chunk)
    return (None if kept is None else entities.of(lang, mine, kept), bool(cue_matcher(lang)(mine)),
            [(e.label_, e.start_char, e.end_char) for e in doc.ents], doc)


def test_every_paragraph_of_the_corpus_states_what_the_pipeline_has_it_state():
    worked_out = uncued = 0
    paragraphs = [(language(t[:2000]), chunk) for t in TEXTS for _, chunk in chunks(t)]
    for lang, chunk in paragraphs:
        if not targets_found(chunk):
            continue
        fast, full = _both(lang, chunk)
        assert fast == full, chunk
        ours, cued, theirs, doc = _entities_both(lang, chunk)
        if ours is not None:
            worked_out += 1
            assert ours == theirs, chunk
            if not cued:
                uncued += 1
                assert all(not e._.modifiers for e in doc.ents), chunk
    # the test means something only if most paragraphs take the short way (of the 340
    # paragraphs with a target; the corpus is rich in cues)
    assert worked_out > 300 and uncued > 150


def test_a_cue_sends_the_paragraph_through_conText():
    lang = "en"
    for chunk, modifiers in (("No liver metastases.", ("negated",)), ("Liver metastases.", ())):
        assert entities.matches(lang, nlp(lang).make_doc(chunk), targets_found(chunk))
        fast, full = _both(lang, chunk)
        assert fast == full and fast[0][5] == modifiers


NEG = ("negated",)


@pytest.mark.parametrize(("lang", "chunk", "read"), [
    # a pseudo-cue ("no change") and a scope's end (";") give no modifier
    ("en", "Liver metastases, no change; Ki-67 8 %.", [("metastatic", ()), ("ki67", ())]),
    ("en", "Liver metastases, no new lesion but ECOG 1.",
     [("metastatic", ()), ("new_lesion", NEG), ("ecog", ())]),
    ("fr", "Métastases hépatiques sans changement ; Ki-67 8 %.",
     [("metastatic", ()), ("ki67", ())]),
    ("fr", "Pas de métastase hépatique ; ECOG 1.", [("metastatic", NEG), ("ecog", ())]),
])
def test_only_a_cue_that_gives_a_modifier_sends_the_paragraph_through_conText(
        lang, chunk, read):
    fast, full = _both(lang, chunk)
    assert fast == full
    assert [(m[0], m[5]) for m in fast] == read


@cache
def _pieces(lang: str) -> tuple[list[str], list[str]]:
    """Target phrases (every target found in the corpus texts of the language) and cue
    words (the literals of our ConText rules)."""
    targets = sorted({chunk[b:e] for t in TEXTS if language(t[:2000]) == lang
                      for _, chunk in chunks(t) for _, _, spans in targets_found(chunk)
                      for b, e in spans})
    cues = sorted({r["literal"] for r in rule_file(f"context_{lang}")["context_rules"]})
    return targets, cues


FILLER = ["the", "le", "lesion", "lésion", "in", "dans", "of", "segment", "VII", "34",
          "mm", "cm", "%", "(", ")", ",", ".", ";", ":", "-", "/", "2026-03-02", "G2",
          "liver", "foie", "pancreas", "Ki-67", "ECOG", "1", "grade", "and", "et", "x"]
JOINS = st.sampled_from([" ", " ", " ", "", ", ", "  ", "-", "/"])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_generated_paragraph_states_what_the_pipeline_has_it_state(data):
    lang = data.draw(st.sampled_from(["en", "fr"]))
    targets, cues = _pieces(lang)
    pieces = data.draw(st.lists(st.one_of(st.sampled_from(targets), st.sampled_from(targets),
                                          st.sampled_from(cues), st.sampled_from(FILLER)),
                                min_size=1, max_size=10))
    chunk = pieces[0]
    for piece in pieces[1:]:
        chunk += data.draw(JOINS) + piece
    chunk = re.sub(r"[.!?](?=\s+\S)", ",", chunk).strip()  # one sentence, as chunks() gives
    if not chunk or not targets_found(chunk):
        return
    fast, full = _both(lang, chunk)
    assert fast == full, chunk
