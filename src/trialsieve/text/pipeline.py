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
def target_patterns() -> dict[str, list[tuple[re.Pattern, dict]]]:
    """Each fact family's compiled patterns with their rule's metadata, as medspaCy's
    regex matcher compiles them (case folded unless a pattern says otherwise)."""
    out: dict[str, list[tuple[re.Pattern, dict]]] = {}
    for fact in facts():
        out[fact] = [(re.compile(r["pattern"], re.IGNORECASE), r.get("metadata") or {})
                     for r in rule_file(fact)["target_rules"]]
    return out


def mentions_something(text: str) -> bool:
    """Whether any target rule matches the text at all: a text that names none of the
    facts is not given to medspaCy (most of a population's notes)."""
    return any(p.search(text) for rules in target_patterns().values() for p, _ in rules)


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
                                          "medspacy_context"],
                         load_rules=language == "en")
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
    context = pipe.get_pipe("medspacy_context")
    known = {rule.literal.lower() for rule in context.rules} if language == "en" else set()
    context.add([ConTextRule(r["literal"], r["category"], direction=r["direction"],
                             pattern=r.get("pattern"), max_scope=r.get("max_scope"))
                 for r in rule_file(f"context_{language}")["context_rules"]
                 if r["literal"].lower() not in known])
    return pipe


@cache
def _register(language: Any) -> None:
    language.component("trialsieve_sentence_ends", func=sentence_ends)


ELISION = r"(?:[nNlLdDsSjJcCmMtT]|[qQ]u)['’](?=\w)"
UNITS = {"%", "mm", "cm", "gy", "mg", "ml"}


def sentence_ends(doc: Any) -> Any:
    """A full stop after a number or a unit ends a sentence when a capital follows
    ("Ki-67 8 %. No brain metastases."): PyRuSH's rules keep such stops inside."""
    for i in range(1, len(doc) - 1):
        before, stop, after = doc[i - 1], doc[i], doc[i + 1]
        if (stop.text == "." and (before.like_num or before.lower_ in UNITS)
                and after.text[:1].isupper()):
            after.is_sent_start = True
    return doc
