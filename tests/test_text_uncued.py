"""A one-sentence paragraph with no ConText cue is read from its tokens alone, without
medspaCy's spans, entities or ConText (issue 21, speed: two thirds of a page's paragraphs
that name a fact). It must state exactly what the whole pipeline has it state: compared
here on every paragraph of the corpus, its reports and its pages, and on generated
paragraphs made of target phrases, cue words and filler."""

from __future__ import annotations

import re
from functools import cache

import pytest
import text_corpus as corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve.text import available
from trialsieve.text.pipeline import nlp, rule_file, targets_found
from trialsieve.text.reader import _read_with_medspacy, chunks, language
from trialsieve.text.uncued import entities

pytestmark = pytest.mark.skipif(not available(), reason="medspaCy not installed here")
TEXTS = [c.text for c in corpus.sentences() + corpus.reports()]


def _both(lang: str, chunk: str) -> tuple[tuple, tuple]:
    found = targets_found(chunk)
    return (_read_with_medspacy(lang, chunk, found),
            _read_with_medspacy(lang, chunk, found, uncued_too=False))


def _entities_both(lang: str, chunk: str):
    """The entities read from the tokens (None where they are not) and the pipeline's."""
    found = targets_found(chunk)
    ours = entities(lang, nlp(lang).make_doc(chunk), found)
    doc = nlp(lang)(chunk)  # the whole pipeline, medspaCy searching the text itself
    return ours, tuple((e.label_, e.start_char, e.end_char) for e in doc.ents), doc


def test_every_paragraph_of_the_corpus_states_what_the_pipeline_has_it_state():
    read_uncued = 0
    paragraphs = [(language(t[:2000]), chunk) for t in TEXTS for _, chunk in chunks(t)]
    for lang, chunk in paragraphs:
        if not targets_found(chunk):
            continue
        fast, full = _both(lang, chunk)
        assert fast == full, chunk
        ours, theirs, doc = _entities_both(lang, chunk)
        if ours is not None:
            read_uncued += 1
            assert ours == theirs, chunk
            assert all(not e._.modifiers for e in doc.ents), chunk
    # the test means something only if most paragraphs take the short way
    assert read_uncued > 150  # of 340 paragraphs with a target (the corpus is rich in cues)


def test_a_cue_sends_the_paragraph_through_conText():
    lang, chunk = "en", "No liver metastases."
    assert entities(lang, nlp(lang).make_doc(chunk), targets_found(chunk)) is None
    fast, full = _both(lang, chunk)
    assert fast == full and fast[0][5] == ("negated",)
    chunk = "Liver metastases."
    assert entities(lang, nlp(lang).make_doc(chunk), targets_found(chunk)) is not None


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
