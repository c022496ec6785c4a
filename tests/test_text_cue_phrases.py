"""ConText's cues written as token patterns of words are matched as the phrases they stand
for (issue 21, speed: spaCy's Matcher tried medspaCy's 55 English cue patterns at every
token, most of ConText's time). The phrases must find exactly what the patterns found:
compared here with medspaCy's own matcher, built from the same rules, on every corpus
text and on generated word sequences made of the cues' own words."""

from __future__ import annotations

import copy
from functools import cache

import pytest
import text_corpus as corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from trialsieve.text import available
from trialsieve.text.pipeline import any_cue, nlp, phrases
from trialsieve.text.reader import chunks, language

pytestmark = pytest.mark.skipif(not available(), reason="medspaCy not installed here")
TEXTS = [c.text for c in corpus.sentences() + corpus.reports()]


def _ours(lang: str):
    component = nlp(lang).get_pipe("medspacy_context")
    return next(v for k, v in vars(component).items() if k.endswith("__matcher"))


@cache
def _medspacys(lang: str):
    """medspaCy's matcher as medspaCy builds it, from copies of the same rules in the same
    order (so the same rule ids)."""
    from medspacy.common.medspacy_matcher import MedspacyMatcher

    matcher = MedspacyMatcher(nlp(lang), prune=True)
    matcher.add([copy.copy(r) for r in _ours(lang).rules])
    return matcher


def _named(matcher, doc) -> list[tuple[str, str, int, int]]:
    return [(matcher.rule_map[doc.vocab.strings[i]].literal,
             matcher.rule_map[doc.vocab.strings[i]].category, s, e)
            for i, s, e in matcher(doc)]


def test_a_word_pattern_is_the_phrases_it_stands_for():
    assert phrases([{"LOWER": "no"}, {"LOWER": {"IN": ["abnormal", "new"]}, "OP": "?"}]) == [
        ("no",), ("no", "abnormal"), ("no", "new")]
    assert phrases([{"LOWER": {"IN": ["risks of", "risk"]}}]) == [("risk",)]
    assert phrases([{"TEXT": {"IN": ["si", "Si"]}}]) is None  # not on LOWER
    assert phrases([{"TEXT": {"IN": ["si", "Si"]}}], "ORTH") == [("Si",), ("si",)]
    assert phrases([{"LOWER": "no"}, {"TEXT": "X"}], "ORTH") is None  # one attribute
    assert phrases([{"LOWER": "x", "OP": "*"}]) is None
    assert phrases([{"LOWER": "No"}]) is None  # never matches as a pattern


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_cues_found_in_the_corpus_are_medspacys(lang):
    ours, theirs, pipe = _ours(lang), _medspacys(lang), nlp(lang)
    texts = [t for t in TEXTS if language(t) == lang]
    assert len(texts) > 50
    for text in texts:
        for _, chunk in chunks(text):
            doc = pipe.make_doc(chunk)
            assert _named(ours, doc) == _named(theirs, doc), chunk
            assert any_cue(lang, doc) == bool(_named(theirs, doc)), chunk


def _words(lang: str) -> list[str]:
    words = {w for r in _ours(lang).rules if isinstance(r.pattern, list)
             for attr in ("LOWER", "ORTH") for s in (phrases(r.pattern, attr) or ())
             for w in s}
    words |= {w for r in _ours(lang).rules for w in r.literal.lower().split()}
    return sorted(words) + ["lesion", "metastases", ".", "tumour", "liver"]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_cues_found_in_any_sequence_of_cue_words_are_medspacys(data):
    lang = data.draw(st.sampled_from(["en", "fr"]))
    words = data.draw(st.lists(st.sampled_from(_words(lang)), min_size=1, max_size=14))
    doc = nlp(lang).make_doc(" ".join(words))
    assert _named(_ours(lang), doc) == _named(_medspacys(lang), doc)
    assert any_cue(lang, doc) == bool(_named(_medspacys(lang), doc))
