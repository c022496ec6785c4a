"""The medspaCy pipelines (one per language): PyRuSH sentences, the target rules of
`rules/<fact>.json` and the ConText cues of `rules/context_<lang>.json`.

Built once, on first use (medspaCy takes about a second and a half to load): a record
without text never pays for it. A blank pipeline, no model from the internet.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import cache, lru_cache
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
def _words() -> tuple[re.Pattern, dict[str, frozenset[str]], frozenset[str],
                      dict[str, frozenset[str]]]:
    """The words the families' targets cannot match without (`triggers`, derived from
    the patterns), as one pattern; which families each word found stands for (a word
    stands for the families of every word it begins with); the families always searched
    (a pattern that needs no fixed text); the words each word begins with (itself too)."""
    by_word: dict[str, set[str]] = {}
    always = set()
    for fact in facts():
        words = triggers.family_words(tuple(r["pattern"]
                                            for r in rule_file(fact)["target_rules"]))
        if words is None:
            always.add(fact)
        for w in words or ():
            by_word.setdefault(w, set()).add(fact)
    begins = {w: frozenset(v for v in by_word if w.startswith(v)) for w in by_word}
    stands = {w: frozenset(f for v in begins[w] for f in by_word[v]) for w in by_word}
    return triggers.trie_regex(by_word.keys()), stands, frozenset(always), begins


@lru_cache(maxsize=4096)
def _found(text: str) -> frozenset[str]:
    """The longest word found at each place of the text (`_words`). Kept: the reader asks
    of each paragraph twice."""
    return frozenset(m.group(1) for m in _words()[0].finditer(text.lower()))


def families_named(text: str) -> frozenset[str]:
    """The families one of whose words is in the text: the only ones whose targets are
    looked for in it."""
    _, stands, always, _ = _words()
    return always.union(*(stands[w] for w in _found(text)))


def words_in(text: str) -> frozenset[str]:
    """Every word of `_words` in the text: a word is at a place where the longest word
    found begins with it."""
    begins = _words()[3]
    return frozenset().union(*(begins[w] for w in _found(text)))


def mentions_something(text: str) -> bool:
    """Whether a text may name one of the facts (a word of any family in it): a text that
    names none is not given to medspaCy (most of a population's notes)."""
    return bool(families_named(text))


Hits = tuple[tuple[str, int, tuple[tuple[int, int], ...]], ...]


def targets_found(text: str) -> Hits:
    """Where each target pattern matches the text, looked for only among the families it
    names (a trigger word alone, "new" in "newborn", is no target): (family, the rule's
    place in its file, the spans), in medspaCy's order (the families' files, their rules,
    each rule's matches in text order). medspaCy's regex matcher is given these instead of
    searching the text again (`TARGETS`)."""
    out = []
    for fact, n, pattern in _tried(_found(text)):  # `_quick`: the patterns as written, quicker
        spans = tuple(map(re.Match.span, pattern.finditer(text)))
        if spans:
            out.append((fact, n, spans))
    return tuple(out)


@lru_cache(maxsize=4096)
def _tried(found: frozenset[str]) -> tuple[tuple[str, int, re.Pattern], ...]:
    """The patterns worth trying on a text where these words were found (`_found`), in
    medspaCy's order: those of the families the words name (`families_named`), less those
    none of whose words is there (a pattern cannot match without one of its words).
    Kept: the paragraphs of a page name few sets of words."""
    _, stands, always, begins = _words()
    named = always.union(*(stands[w] for w in found))
    present = frozenset().union(*(begins[w] for w in found))
    return tuple((fact, n, pattern) for fact, patterns in _quick().items() if fact in named
                 for n, (pattern, need) in enumerate(zip(patterns, _needs()[fact], strict=True))
                 if need is None or not need.isdisjoint(present))


@cache
def _quick() -> dict[str, tuple[re.Pattern, ...]]:
    """Each family's target patterns, compiled as medspaCy's regex matcher compiles them
    (ignoring case), each behind a lookahead of the characters one of its matches can
    begin with (`triggers.first_class`): the same matches, the places where none can begin
    passed over at once."""
    return {fact: tuple(triggers.quick(r["pattern"])
                        for r in rule_file(fact)["target_rules"]) for fact in facts()}


@cache
def _needs() -> dict[str, tuple[frozenset[str] | None, ...]]:
    """What each target pattern cannot match without (`triggers.needed`), or None (tried
    on every text its family is looked for in): None too where one of its words is not
    among those `words_in` finds (a family always searched)."""
    known = _words()[1].keys()
    return {fact: tuple(need if need is not None and need <= known else None
                        for need in (triggers.needed(r["pattern"])
                                     for r in rule_file(fact)["target_rules"]))
            for fact in facts()}


def families_stated(text: str) -> frozenset[str]:
    """The families a target of which the text holds (`targets_found`): a text with none
    is not given to medspaCy, and medspaCy looks only for these families' targets."""
    return frozenset(fact for fact, _, _ in targets_found(text))


# The families medspaCy's target matcher looks for in a Doc (`Doc.user_data`), or the
# targets already found in its text (`targets_found`).
FAMILIES = "trialsieve_families"
TARGETS = "trialsieve_targets"


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


@cache
def steps(language: str) -> list[tuple[str, Any]]:
    """The pipeline's components in order, medspaCy's target matcher setting the Doc's
    entities at once (`_ents_at_once`)."""
    pipe = nlp(language)
    wrap = {"medspacy_target_matcher": _ents_at_once, "medspacy_context": _cues_first}
    return [(name, wrap[name](c) if name in wrap else c) for name, c in pipe.pipeline]


# ConText's cues already found in a Doc (`_cues_first`), and the target matcher's matches
# (`_ents_at_once`), in `Doc.user_data`.
CUES = "trialsieve_cues"
MATCHES = "trialsieve_matches"


def _cues_first(component: Any) -> Any:
    """ConText, its cues looked for first: a sentence without any (most of them) has no
    modifier, so ConText would link nothing to its targets; it is not run there. Where
    there are cues, ConText is given them rather than looking again."""
    name = next(k for k in vars(component) if k.endswith("__matcher"))
    matcher = getattr(component, name)
    setattr(component, name, _Given(matcher))

    def call(doc: Any) -> Any:
        cues = doc.user_data.pop(CUES, None)  # found already (`reader`)
        if cues is None:
            cues = matcher(doc)
        if not cues:
            return doc
        doc.user_data[CUES] = cues
        return component(doc)

    return call


@cache
def cue_matcher(language: str) -> Any:
    """ConText's matcher of cues (medspaCy's, its word patterns as phrases)."""
    steps(language)  # ConText's matcher is handed its cues from then on (`_Given`)
    component = nlp(language).get_pipe("medspacy_context")
    given = next(v for k, v in vars(component).items() if k.endswith("__matcher"))
    return given.matcher


def any_cue(language: str, doc: Any) -> bool:
    """Whether ConText's matcher finds a cue in the Doc (`cue_matcher`), asked of its
    matchers one by one, without sorting and pruning what they find: pruning keeps one of
    any overlapping cues, so it leaves some where there were some."""
    return any(find(doc) for find in _cue_finders(language))


@cache
def _cue_finders(language: str) -> tuple[Any, ...]:
    """The matchers ConText's matcher asks (medspaCy's `MedspacyMatcher.__call__`): its
    word patterns as phrases and the rest as patterns (`_PhrasesThenPatterns`), its
    phrase matcher, its regular expressions."""
    matcher = cue_matcher(language)
    words = matcher._MedspacyMatcher__matcher
    assert isinstance(words, _PhrasesThenPatterns)
    return (*words.found, *([words.rest] if len(words.rest) else []),
            matcher._MedspacyMatcher__phrase_matcher, matcher._MedspacyMatcher__regex_matcher)


@cache
def target_rules(language: str) -> dict[tuple[str, int], tuple[int, str]] | None:
    """Each target rule by its family and its place in the family's file
    (`targets_found`): its match id and its category (the entity's label). None when
    medspaCy's target matcher does more than run these regular expressions and prune
    (a token or phrase rule, a rule with a callback): then only it can say what it finds."""
    steps(language)
    owner = next(v for k, v in vars(nlp(language).get_pipe("medspacy_target_matcher")).items()
                 if k.endswith("__matcher"))
    regex = owner._MedspacyMatcher__regex_matcher
    plain = (owner._MedspacyMatcher__matcher is _nothing
             and owner._MedspacyMatcher__phrase_matcher is _nothing
             and owner._prune and isinstance(regex, _OneTextRegexMatcher)
             and all(on_match is None for _, on_match in regex.by_place.values()))
    if not plain:
        return None
    strings = nlp(language).vocab.strings
    return {place: (match_id, owner.rule_map[strings[match_id]].category)
            for place, (match_id, _) in regex.by_place.items()}


class _Given:
    """A matcher that returns the matches already found for the Doc (`CUES`), once."""

    def __init__(self, matcher: Any) -> None:
        self.matcher = matcher

    def __getattr__(self, name: str) -> Any:
        return getattr(self.matcher, name)

    def __call__(self, doc: Any) -> list[tuple[int, int, int]]:
        found = doc.user_data.pop(CUES, None)
        return self.matcher(doc) if found is None else found


def _ents_at_once(component: Any) -> Any:
    """medspaCy's `TargetMatcher.__call__` (medspacy 1.x, entities as results), the
    entities set at once: medspaCy adds them one by one, rebuilding every entity of the
    Doc each time. Its matches never overlap (it prunes them); if they did, or the Doc
    had entities already, one by one as medspaCy does (setting them failed, nothing
    was set)."""
    from spacy.tokens import Span

    owner = next(v for k, v in vars(component).items() if k.endswith("__matcher"))
    strings = component.nlp.vocab.strings

    def call(doc: Any) -> Any:
        spans = []
        matches = doc.user_data.pop(MATCHES, None)  # found already (`entities.matches`)
        for rule_id, start, end in owner(doc) if matches is None else matches:
            rule = owner.rule_map[strings[rule_id]]
            span = Span(doc, start=start, end=end, label=rule.category)
            span._.target_rule = rule
            for attribute, value in (rule.attributes or {}).items():
                setattr(span._, attribute, value)
            spans.append(span)
        if not doc.ents:
            try:
                doc.ents = spans
                return doc
            except ValueError:  # overlapping: one by one, the later ones skipped
                pass
        for span in spans:
            try:
                doc.ents += (span,)
            except ValueError:
                warnings.warn(f'The result ""{span}"" conflicts with a pre-existing '
                              f"entity in doc.ents. This result has been skipped.",
                              RuntimeWarning, stacklevel=2)
        return doc

    return call


def phrases(pattern: list[dict], attr: str = "LOWER") -> list[tuple[str, ...]] | None:
    """The token sequences a cue's token pattern matches, when it is only words, each one
    of a list and maybe optional (medspaCy's English cues: "no", "(abnormal|new)?"), all
    on `attr`: "LOWER" (words in lower case) or "ORTH" (the text as written, "TEXT" in a
    pattern: the French "si", "Si"); None otherwise. A word with a space in it is no token."""
    keys = {"LOWER"} if attr == "LOWER" else {"ORTH", "TEXT"}
    out: list[tuple[str, ...]] = [()]
    for token in pattern:
        key = next(iter(set(token) - {"OP"}), None)
        value, op = token.get(key) if key else None, token.get("OP")
        words = ([value] if isinstance(value, str) else value.get("IN")
                 if isinstance(value, dict) and set(value) == {"IN"} else None)
        if (key not in keys or len(set(token) - {"OP"}) != 1 or op not in (None, "?")
                or not words or any(not isinstance(w, str) for w in words)
                or (attr == "LOWER" and any(w != w.lower() for w in words))):
            return None
        choices: list[tuple[str, ...]] = [(w,) for w in words
                                          if w and not any(c.isspace() for c in w)]
        choices += [()] if op == "?" else []
        out = [a + b for a in out for b in choices]
        if len(out) > MAX_PHRASES:
            return None
    return sorted({p for p in out if p})


MAX_PHRASES = 5000


def _cues_as_phrases(component: Any, vocab: Any) -> None:
    """The ConText cues written as token patterns of words (most of medspaCy's English
    cues), matched as the phrases they stand for by a PhraseMatcher on LOWER (or ORTH):
    spaCy's Matcher tried each pattern at each token, most of ConText's time. The same
    matches: those of one span come in the rules' order, as the Matcher gives them
    (`tests/test_text_cue_phrases.py` compares the two on the corpus)."""
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc

    owner = next(v for k, v in vars(component).items() if k.endswith("__matcher"))
    rest = Matcher(vocab)
    found = {attr: PhraseMatcher(vocab, attr=attr) for attr in ("LOWER", "ORTH")}
    order: dict[int, int] = {}
    for n, (rule_id, rule) in enumerate(owner.rule_map.items()):
        if not isinstance(rule.pattern, list):
            continue
        for attr, matcher in found.items():
            sequences = phrases(rule.pattern, attr)
            if sequences is not None:
                matcher.add(rule_id, [Doc(vocab, words=list(s)) for s in sequences],
                            on_match=rule.on_match)
                break
        else:
            rest.add(rule_id, [rule.pattern], on_match=rule.on_match)
        order[vocab.strings[rule_id]] = n
    owner._MedspacyMatcher__matcher = _PhrasesThenPatterns(
        [m for m in found.values() if len(m)], rest, order)


class _PhrasesThenPatterns:
    """Stands for medspaCy's token Matcher: the phrase matches, those of one span in the
    rules' order, then the patterns left as patterns."""

    def __init__(self, found: list[Any], rest: Any, order: dict[int, int]) -> None:
        self.found, self.rest, self.order = found, rest, order

    def __call__(self, doc: Any) -> list[tuple[int, int, int]]:
        order = self.order
        out = sorted((m for matcher in self.found for m in matcher(doc)),
                     key=lambda m: (m[1], m[2], order[m[0]]))
        return out + list(self.rest(doc)) if len(self.rest) else out


def _read_text_once(component: Any, by_family: bool) -> None:
    """medspaCy's regex matcher rebuilds the document's text for each of its patterns
    (about 42 targets), and tries every pattern: most of the reader's time. The same
    matcher, the text built once, and for targets only the patterns of the families the
    text states (`FAMILIES`): the same matches in the same order. A matcher that holds
    no rule (the targets' token and phrase matchers) is not called: spaCy warns at each
    call that it is empty."""
    owner = next(v for k, v in vars(component).items() if k.endswith("__matcher"))
    name = "_MedspacyMatcher__regex_matcher"
    matcher = getattr(owner, name)
    family = ({match_id: owner.rule_map[matcher.vocab.strings[match_id]].category
               for match_id in matcher._patterns} if by_family else {})
    setattr(owner, name, _OneTextRegexMatcher(matcher, family))
    for other in ("_MedspacyMatcher__matcher", "_MedspacyMatcher__phrase_matcher"):
        if not len(getattr(owner, other)):
            setattr(owner, other, _nothing)


def _nothing(doc: Any) -> list[tuple[int, int, int]]:
    return []


class _OneTextRegexMatcher:
    """medspaCy's `RegexMatcher.__call__` (medspacy 1.x), `doc.text_with_ws` taken once,
    a rule of a family the Doc does not state (`FAMILIES`) not tried, and where the
    targets were already found in the text (`TARGETS`), those spans taken as they are."""

    def __init__(self, matcher: Any, family: dict[int, str]) -> None:
        self.matcher = matcher
        self.family = family
        # the rules in medspaCy's order: (match id, family, patterns, callback)
        self.rules = [(match_id, family.get(match_id), patterns, matcher._callbacks[match_id])
                      for match_id, patterns in matcher._patterns.items()]
        # a rule by its family and its place in the family's file (`targets_found`)
        self.by_place: dict[tuple[str | None, int], tuple[int, Any]] = {}
        for match_id, fact, patterns, on_match in self.rules:
            n = sum(1 for f, _ in self.by_place if f == fact)
            self.by_place[(fact, n)] = (match_id, on_match)
            assert len(patterns) == 1, "one pattern per target rule"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.matcher, name)

    def __call__(self, doc: Any) -> list[tuple[int, int, int]]:
        if not self.rules:  # ConText's: its cues are all phrases
            return []
        found = doc.user_data.get(TARGETS) if self.family else None
        if found is not None:
            return self._spans(doc, [(*self.by_place[(fact, n)], spans)
                                     for fact, n, spans in found])
        text = doc.text_with_ws
        wanted = doc.user_data.get(FAMILIES) if self.family else None
        return self._spans(doc, [(match_id, on_match, [f.span() for f in pattern.finditer(text)])
                                 for match_id, family, patterns, on_match in self.rules
                                 if wanted is None or family in wanted
                                 for pattern in patterns])

    def _spans(self, doc: Any, found: list) -> list[tuple[int, int, int]]:
        from medspacy.common.util import get_token_for_char

        m = self.matcher
        matches: list[tuple[int, int, int]] = []
        for match_id, on_match, spans in found:
            for begin, finish in spans:
                span = doc.char_span(begin, finish)
                if span is None:
                    start = get_token_for_char(doc, begin, resolve=m.resolve_start)
                    end = get_token_for_char(doc, finish, resolve=m.resolve_end)
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
        # at once, not token by token
        starts = _not_starts(len(doc))
        starts[0, 0] = 1
        doc.from_array(["SENT_START"], starts)
        return doc
    text, at = doc.text, doc.text.find(".")
    while at >= 0:  # only the stops, not every token
        stop = doc.char_span(at, at + 1)
        if stop is not None and 1 <= stop.start < len(doc) - 1:
            before, after = doc[stop.start - 1], doc[stop.start + 1]
            if (before.like_num or before.lower_ in UNITS) and after.text[:1].isupper():
                after.is_sent_start = True
        at = text.find(".", at + 1)
    return doc


def _not_starts(n: int) -> Any:
    """A column of n "not a sentence start" (-1, as the uint64 spaCy reads), copied from
    one made once."""
    if n > len(_NOT_STARTS[0]):
        _NOT_STARTS[0] = _column(2 * n)
    return _NOT_STARTS[0][:n].copy()


def _column(n: int) -> Any:
    import numpy  # loaded with spaCy already: imported here, not with the module

    return numpy.full((n, 1), -1, dtype="int64").astype("uint64")


_NOT_STARTS: list[Any] = [()]


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
