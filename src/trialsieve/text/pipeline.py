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
def _triggers() -> tuple[tuple[str, ...], re.Pattern]:
    """Every family's triggers: words (lower case) any of its targets contains, and
    patterns ("re:...") for the rest. Cheap to look for, unlike the targets."""
    words: list[str] = []
    patterns: list[str] = []
    for fact in facts():
        for t in rule_file(fact)["triggers"]:
            (patterns.append(t[3:]) if t.startswith("re:") else words.append(t))
    return tuple(words), re.compile("|".join(f"(?:{p})" for p in patterns), re.I)


def mentions_something(text: str) -> bool:
    """Whether a text may name one of the facts (a trigger of any family in it): a text
    that names none is not given to medspaCy (most of a population's notes)."""
    words, patterns = _triggers()
    low = text.lower()
    return any(w in low for w in words) or patterns.search(text) is not None


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
    return pipe


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
