"""Canonical entity names: lemmas for Ukrainian and Russian (Трампа → Трамп), text elsewhere."""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import version
from typing import Any

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


def canonical(text: str, language: str, label: str = "PER") -> str:
    """A uk/ru name in its dictionary form, in the name's own casing.

    Every part of a person's name is lemmatised (Володимира Зеленського → Володимир
    Зеленський). Other names are a noun phrase: the adjectives and the first noun go to the
    nominative, agreeing in gender and number, and what follows the noun stays as written
    (Верховної Ради України → Верховна Рада України, Сполучених Штатів → Сполучені Штати).
    """
    text = " ".join(text.split())
    if language not in MORPH_LANGUAGES:
        return _POSSESSIVE.sub("", text) or text
    if label == "PER":
        return _WORD.sub(lambda m: _restore_case(name_lemma(m.group(), language), m.group()), text)
    return _noun_phrase(text, language)


NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


def name_reading(word: str, language: str) -> Any:
    """The reading of a word inside a person's name: a first name, surname or patronymic where
    the dictionary has one; of equally likely readings a singular, non-neuter, nominative one
    (Юлія is a nominative woman's name, not the genitive of Юлій)."""

    def rank(parse: Any) -> tuple:
        tags = parse.tag.grammemes
        return (
            not NAME_TAGS & tags,
            -round(parse.score, 2),
            "plur" in tags,
            "neut" in tags,
            parse.tag.case != "nomn",
        )

    return min(_analyzer(language).parse(word), key=rank)


@cache
def name_lemma(word: str, language: str) -> str:
    """A word of a person's name in the nominative, keeping its gender (Навальной →
    навальная, Зеленським → зеленський); lower case. Hyphenated names part by part
    (Касим-Жомарта → касим-жомарт)."""
    reading = name_reading(word, language)
    if "-" in word and not NAME_TAGS & reading.tag.grammemes:
        return "-".join(name_lemma(part, language) for part in word.split("-"))
    if reading.tag.case == "nomn" and "plur" not in reading.tag.grammemes:
        return reading.word
    inflected = reading.inflect({"nomn", "sing"}) or reading.inflect({"nomn"})
    return inflected.word if inflected is not None else reading.normal_form


def _noun_phrase(text: str, language: str) -> str:
    analyzer = _analyzer(language)
    words = list(_WORD.finditer(text))
    adjectives: list[Any] = []
    for index, match in enumerate(words):
        parses = analyzer.parse(match.group())
        if {"ADJF", "PRTF"} & parses[0].tag.grammemes:
            adjectives.append(parses[0])
            continue
        if "NOUN" not in parses[0].tag.grammemes:
            break
        head = _agreeing(parses, adjectives[-1] if adjectives else None)
        forms = [_nominative(p) for p in [*adjectives, head]]
        end = match.end()
        phrase = [
            _restore_case(f, w.group()) for f, w in zip(forms, words[: index + 1], strict=True)
        ]
        return " ".join(phrase) + text[end:]
    # No noun to agree with: each word on its own.
    return _WORD.sub(lambda m: _restore_case(lemma(m.group(), language), m.group()), text)


def _agreeing(parses: list[Any], adjective: Any) -> Any:
    """The noun reading that agrees with the adjective before it (Верховної Ради: рада, not
    рад), else the most likely one."""
    if adjective is not None:
        wanted = {g for g in (adjective.tag.case, adjective.tag.number, adjective.tag.gender) if g}
        for parse in parses:
            if "NOUN" in parse.tag.grammemes and wanted <= parse.tag.grammemes:
                return parse
    return parses[0]


def _nominative(parse: Any) -> str:
    inflected = parse.inflect({"nomn"})
    return inflected.word if inflected is not None else parse.normal_form


def name_key(text: str, language: str) -> str:
    """Every word's lemma, lower case: the mentions of one name in a text share it whatever
    their case or label (Зеленського, Зеленський → зеленський)."""
    return " ".join(lemma(w, language) for w in _WORD.findall(_POSSESSIVE.sub("", text)))


def lemmas(text: str, language: str) -> set[str]:
    """Content-word lemmas of a text (words of 3+ letters), for matching topics to sentences."""
    return {lemma(w, language) for w in _WORD.findall(text) if len(w) >= 3}
