"""The hand-annotated corpus (tests/data/text, issue 21) read by trialsieve.text: per fact
family precision >= 0.97 and recall >= 0.90, and no negated, uncertain, family or
hypothetical mention read as affirmed. Counts only; the time is benchmarks/bench_text.py's."""

from __future__ import annotations

import pytest
import text_corpus as corpus

from trialsieve.text import FACTS, read


@pytest.fixture(scope="module")
def score() -> corpus.Score:
    return corpus.score(corpus.sentences() + corpus.reports(), read)


def test_the_corpus_is_what_the_issue_asks() -> None:
    sentences, reports = corpus.sentences(), corpus.reports()
    assert len(sentences) >= 200 and len(reports) >= 40
    names = [c.name for c in sentences] + [c.name for c in reports]
    assert any("_fr" in n or n.startswith("fr-") for n in names)
    assert any("_en" in n or n.startswith("en-") for n in names)
    expected = [e for c in sentences + reports for e in c.expected]
    assert {e.fact for e in expected} == set(FACTS)  # every family annotated
    for modifier in ("negated", "uncertain", "historical", "family", "hypothetical"):
        assert sum(modifier in e.modifiers for e in expected) >= 5, modifier


@pytest.mark.parametrize("fact", sorted(FACTS))
def test_each_family_meets_its_targets(score: corpus.Score, fact: str) -> None:
    assert score.tp[fact] + score.fn[fact] > 0
    assert score.precision(fact) >= corpus.TARGET_PRECISION, score.errors
    assert score.recall(fact) >= corpus.TARGET_RECALL, score.errors


def test_no_unsaid_mention_is_read_as_affirmed(score: corpus.Score) -> None:
    assert sum(score.misread.values()) == 0, score.errors
