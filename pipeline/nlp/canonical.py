"""Canonical entity names: lemmas for Ukrainian and Russian (Трампа → Трамп), text elsewhere."""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import version

import pymorphy3

from pipeline.nlp.types import ModelInfo

MORPH_LANGUAGES = ("uk", "ru")
_WORD = re.compile(r"\w+(?:['’ʼ-]\w+)*")
_POSSESSIVE = re.compile(r"(?:'s|’s)$")

INFO = ModelInfo("canonical", "pymorphy3", version("pymorphy3"))


@cache
def _analyzer(language: str) -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang=language)


@cache
def lemma(word: str, language: str) -> str:
    """Dictionary form of one word (lower case); the word itself outside uk/ru."""
    if language not in MORPH_LANGUAGES:
        return word.lower()
    return _analyzer(language).parse(word)[0].normal_form


def _restore_case(form: str, original: str) -> str:
    """The lemma in the casing of the word as written, part by part for hyphenated names."""
    parts, original_parts = form.split("-"), original.split("-")
    if len(parts) != len(original_parts):
        parts, original_parts = [form], [original]
    restored = []
    for part, written in zip(parts, original_parts, strict=True):
        if written.isupper() and len(written) > 1:
            part = part.upper()
        elif written[:1].isupper():
            part = part[:1].upper() + part[1:]
        restored.append(part)
    return "-".join(restored)


def canonical(text: str, language: str) -> str:
    """Each word of a uk/ru name in its dictionary form, in the name's own casing."""
    text = " ".join(text.split())
    if language not in MORPH_LANGUAGES:
        return _POSSESSIVE.sub("", text) or text
    return _WORD.sub(lambda m: _restore_case(lemma(m.group(), language), m.group()), text)


def lemmas(text: str, language: str) -> set[str]:
    """Content-word lemmas of a text (words of 3+ letters), for matching topics to sentences."""
    return {lemma(w, language) for w in _WORD.findall(text) if len(w) >= 3}
