"""The medspaCy pipelines (one per language): PyRuSH sentences, the target rules of
`rules/<fact>.json` and the ConText cues of `rules/context_<lang>.json`.

Built once, on first use (medspaCy takes about a second and a half to load): a record
without text never pays for it. A blank pipeline, no model from the internet.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import trialsieve.text.triggers as triggers

LANGUAGES = ("en", "fr")


def rule_file(name: str) -> dict:
    return json.loads(resources.files("trialsieve.text").joinpath(
        "rules", f"{name}.json").read_text(encoding="utf-8"))


@cache
def facts() -> tuple[str, ...]:
    """The fact families with a rule file (one file per family, `trialsieve.text.FACTS`)."""
    folder = resources.files("trialsieve.text").joinpath("rules")
    return tuple(sorted(p.name.removesuffix(".json") for p in folder.iterdir()
                        if p.name.endswith(".json")
                        and not p.name.startswith(("context_", "organs"))))


@cache
def _words() -> tuple[re.Pattern, dict[str, frozenset[str]], frozenset[str]]:
    """The words the families' targets cannot match without (`triggers`, derived from
    the patterns), as one pattern; which families each word found stands for (a word
    stands for the families of every word it begins with); the families always searched
    (a pattern that needs no fixed text)."""
    by_word: dict[str, set[str]] = {}
    always = set()
    for fact in facts():
        words = triggers.family_words(tuple(r["pattern"]
                                            for r in rule_file(fact)["target_rules"]))
        if words is None:
            always.add(fact)
        for w in words or ():
            by_word.setdefault(w, set()).add(fact)
    stands = {w: frozenset(f for v, fs in by_word.items() if w.startswith(v) for f in fs)
              for w in by_word}
    return triggers.trie_regex(by_word.keys()), stands, frozenset(always)


def families_named(text: str) -> frozenset[str]:
    """The families one of whose words is in the text: the only ones whose targets are
    looked for in it."""
    pattern, stands, always = _words()
    found = {m.group(1) for m in pattern.finditer(text.lower())}
    return always.union(*(stands[w] for w in found))


def mentions_something(text: str) -> bool:
    """Whether a text may name one of the facts (a word of any family in it): a text that
    names none is not given to medspaCy (most of a population's notes)."""
    return bool(families_named(text))


@cache
def _targets() -> dict[str, tuple[re.Pattern, ...]]:
    """Each family's target patterns, compiled as medspaCy's regex matcher compiles them
    (ignoring case)."""
    return {fact: tuple(re.compile(r["pattern"], re.I)
                        for r in rule_file(fact)["target_rules"]) for fact in facts()}


def families_stated(text: str) -> frozenset[str]:
    """The families a target of which the text holds, looked for only among the families
    it names (a trigger word alone, "new" in "newborn", is no target): a text with
    none is not given to medspaCy, and medspaCy looks only for these families' targets."""
    targets = _targets()
    return frozenset(fact for fact in families_named(text)
                     if any(p.search(text) for p in targets[fact]))


# The families medspaCy's target matcher looks for in a Doc (`Doc.user_data`).
FAMILIES = "trialsieve_families"


@cache
def nlp(language: str) -> Any:
    """The pipeline of one language. medspaCy's own English ConText cues, and ours, in
    English; only ours in French (an English cue such as "son" is a French word)."""
    from loguru import logger

    logger.remove()  # PyRuSH logs every sentence through loguru at DEBUG
    import medspacy
    import spacy
    from medspacy.context import ConTextRule
    from medspacy.target_matcher import TargetRule
    from spacy.language import Language

    pipe = medspacy.load(medspacy_enable=["medspacy_pyrush", "medspacy_target_matcher",
                                          "medspacy_context"], load_rules=False)
    if language == "fr":  # elision: "n'allaite" is "n'" (a negation cue) and "allaite"
        prefixes = [ELISION, *pipe.Defaults.prefixes]
        pipe.tokenizer.prefix_search = spacy.util.compile_prefix_regex(prefixes).search
    _register(Language)
    pipe.add_pipe("trialsieve_sentence_ends", after="medspacy_pyrush")
    # a French pipeline has no token-pattern targets: its empty matcher is no news
    warnings.filterwarnings("ignore", message=r"\[W036\]")
    with warnings.catch_warnings():  # medspaCy warns that a regex rule is a regex rule
        warnings.simplefilter("ignore")
        pipe.get_pipe("medspacy_target_matcher").add([
            TargetRule(r["literal"], r["category"], pattern=r["pattern"],
                       metadata=r.get("metadata"))
            for fact in facts() for r in rule_file(fact)["target_rules"]])
    ours = [ConTextRule(r["literal"], r["category"], direction=r["direction"],
                        pattern=r.get("pattern") or _tokens(r["literal"], language),
                        max_scope=r.get("max_scope"))
            for r in rule_file(f"context_{language}")["context_rules"]]
    # medspaCy's English cues, but ours where we say a cue otherwise (its "no" takes
    # "no new" as one cue, which then covers the target "new lesions")
    base = (ConTextRule.from_json(str(Path(medspacy.__file__).resolve().parents[1]
                                      / "resources" / "en" / "context_rules.json"))
            if language == "en" else [])
    own = {r.literal.lower() for r in ours}
    pipe.get_pipe("medspacy_context").add([r for r in base if r.literal.lower() not in own]
                                          + ours)
    _read_text_once(pipe.get_pipe("medspacy_target_matcher"), by_family=True)
    _read_text_once(pipe.get_pipe("medspacy_context"), by_family=False)
    _cues_as_phrases(pipe.get_pipe("medspacy_context"), pipe.vocab)
    return pipe


def phrases(pattern: list[dict]) -> list[tuple[str, ...]] | None:
    """The token sequences a cue's token pattern matches, when it is only words in lower
    case, each one of a list and maybe optional (medspaCy's English cues: "no",
    "(abnormal|new)?"); None otherwise. A word with a space in it is no token."""
    out: list[tuple[str, ...]] = [()]
    for token in pattern:
        value, op = token.get("LOWER"), token.get("OP")
        words = ([value] if isinstance(value, str) else value.get("IN")
                 if isinstance(value, dict) and set(value) == {"IN"} else None)
        if (set(token) - {"LOWER", "OP"} or op not in (None, "?") or not words
                or any(not isinstance(w, str) or w != w.lower() for w in words)):
            return None
        choices = [(w,) for w in words if w and not any(c.isspace() for c in w)]
        choices += [()] if op == "?" else []
        out = [a + b for a in out for b in choices]
        if len(out) > MAX_PHRASES:
            return None
    return sorted({p for p in out if p})


MAX_PHRASES = 5000


def _cues_as_phrases(component: Any, vocab: Any) -> None:
    """The ConText cues written as token patterns of words (most of medspaCy's English
    cues), matched as the phrases they stand for by a PhraseMatcher on LOWER: spaCy's
    Matcher tried each pattern at each token, most of ConText's time. The same matches:
    those of one span come in the rules' order, as the Matcher gives them
    (`tests/test_text_cue_phrases.py` compares the two on the corpus)."""
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc

    owner = next(v for k, v in vars(component).items() if k.endswith("__matcher"))
    rest, found = Matcher(vocab), PhraseMatcher(vocab, attr="LOWER")
    order: dict[int, int] = {}
    for n, (rule_id, rule) in enumerate(owner.rule_map.items()):
        if not isinstance(rule.pattern, list):
            continue
        sequences = phrases(rule.pattern)
        if sequences is None:
            rest.add(rule_id, [rule.pattern], on_match=rule.on_match)
        else:
            found.add(rule_id, [Doc(vocab, words=list(s)) for s in sequences],
                      on_match=rule.on_match)
        order[vocab.strings[rule_id]] = n
    owner._MedspacyMatcher__matcher = _PhrasesThenPatterns(found, rest, order)


class _PhrasesThenPatterns:
    """Stands for medspaCy's token Matcher: the phrase matches, those of one span in the
    rules' order, then the patterns left as patterns."""

    def __init__(self, found: Any, rest: Any, order: dict[int, int]) -> None:
        self.found, self.rest, self.order = found, rest, order

    def __call__(self, doc: Any) -> list[tuple[int, int, int]]:
        order = self.order
        out = sorted(self.found(doc), key=lambda m: (m[1], m[2], order[m[0]]))
        return out + list(self.rest(doc)) if len(self.rest) else out


def _read_text_once(component: Any, by_family: bool) -> None:
    """medspaCy's regex matcher rebuilds the document's text for each of its patterns
    (about 42 targets), and tries every pattern: most of the reader's time. The same
    matcher, the text built once, and for targets only the patterns of the families the
    text states (`FAMILIES`): the same matches in the same order."""
    owner = next(v for k, v in vars(component).items() if k.endswith("__matcher"))
    name = "_MedspacyMatcher__regex_matcher"
    matcher = getattr(owner, name)
    family = ({match_id: owner.rule_map[matcher.vocab.strings[match_id]].category
               for match_id in matcher._patterns} if by_family else {})
    setattr(owner, name, _OneTextRegexMatcher(matcher, family))


class _OneTextRegexMatcher:
    """medspaCy's `RegexMatcher.__call__` (medspacy 1.x), `doc.text_with_ws` taken once,
    a rule of a family the Doc does not state (`FAMILIES`) not tried."""

    def __init__(self, matcher: Any, family: dict[int, str]) -> None:
        self.matcher = matcher
        self.family = family

    def __getattr__(self, name: str) -> Any:
        return getattr(self.matcher, name)

    def __call__(self, doc: Any) -> list[tuple[int, int, int]]:
        from medspacy.common.util import get_token_for_char

        m = self.matcher
        text = doc.text_with_ws
        matches: list[tuple[int, int, int]] = []
        wanted = doc.user_data.get(FAMILIES) if self.family else None
        for match_id, patterns in m._patterns.items():
            if wanted is not None and self.family[match_id] not in wanted:
                continue
            on_match = m._callbacks[match_id]
            for pattern in patterns:
                for found in pattern.finditer(text):
                    span = doc.char_span(found.start(), found.end())
                    if span is None:
                        start = get_token_for_char(doc, found.start(), resolve=m.resolve_start)
                        end = get_token_for_char(doc, found.end(), resolve=m.resolve_end)
                        span = doc[start.i: len(doc) if end is None else end.i]
                    if len(span):
                        matches.append((match_id, span.start, span.end))
                    if on_match is not None:
                        on_match(m, doc, len(matches) - 1, matches)
        return matches


@cache
def _register(language: Any) -> None:
    language.component("trialsieve_sentence_ends", func=sentence_ends)


ELISION = r"(?:[nNlLdDsSjJcCmMtT]|[qQ]u)['’](?=\w)"
UNITS = {"%", "mm", "cm", "gy", "mg", "ml"}


def sentence_ends(doc: Any) -> Any:
    """A full stop after a number or a unit ends a sentence when a capital follows
    ("Ki-67 8 %. No brain metastases."): PyRuSH's rules keep such stops inside. A
    paragraph PyRuSH did not read (one sentence, the reader saw) is one sentence."""
    if len(doc) and not doc.has_annotation("SENT_START"):
        for token in doc:
            token.is_sent_start = token.i == 0
        return doc
    for i in range(1, len(doc) - 1):
        before, stop, after = doc[i - 1], doc[i], doc[i + 1]
        if (stop.text == "." and (before.like_num or before.lower_ in UNITS)
                and after.text[:1].isupper()):
            after.is_sent_start = True
    return doc


def _tokens(literal: str, language: str) -> list[dict] | None:
    """A French cue as tokens, its elisions apart as the tokenizer sets them ("absence
    d'" is "absence", "d'"): medspaCy would tokenize the cue alone otherwise."""
    if language != "fr" or not re.search(r"['’]", literal):
        return None
    words: list[str] = []
    for w in literal.lower().split():
        m = re.fullmatch(r"((?:[nldsjcmt]|qu)['’])(.+)", w)
        words += [m.group(1), m.group(2)] if m else [w]
    return [{"LOWER": w} for w in words]
