"""pymorphy3 for Ukrainian and Russian names: the analyser, a guesser, and the writer's
spelling kept on a lemma. Shared by canonical names, noun phrases and a person's gender."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pymorphy3

MORPH_LANGUAGES = ("uk", "ru")
WORD = re.compile(r"\w+(?:['’ʼ-]\w+)*")
NAME_TAGS = frozenset({"Name", "Surn", "Patr"})
ADJECTIVE = frozenset({"ADJF", "PRTF"})
CONSONANTS = frozenset("бвгґджзйклмнпрстфхцчшщ")


@cache
def analyzer(language: str) -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang=language)


@cache
def guesser(language: str) -> pymorphy3.MorphAnalyzer:
    """pymorphy3 reading every word by its ending alone, as it reads words not in its
    dictionary: a woman's name it knows only as a man's (Асии: Асий) gets her readings."""
    units = [pymorphy3.units.KnownSuffixAnalyzer(), pymorphy3.units.UnknAnalyzer()]
    return pymorphy3.MorphAnalyzer(lang=language, units=units)


@cache
def lemma(word: str, language: str) -> str:
    """Dictionary form of one word (lower case); the word itself outside uk/ru."""
    if language not in MORPH_LANGUAGES:
        return word.lower()
    return analyzer(language).parse(word)[0].normal_form


def in_dictionary(word: str, language: str) -> bool:
    """In the dictionary as a whole (Нью-Йорка) or part by part."""
    lookup = analyzer(language).word_is_known
    return lookup(word) or all(lookup(part) for part in word.split("-"))


def is_one_persons_name(parse: Any) -> bool:
    """A first name, surname or patronymic in the singular (Хана in the plural is no one)."""
    return bool(NAME_TAGS & parse.tag.grammemes) and parse.tag.number != "plur"


def restore_case(form: str, original: str) -> str:
    """The lemma spelt as the writer wrote the word, part by part for hyphenated names: letter
    by letter where the two run side by side, each letter in the writer's case and е/ё
    (МИДа → МИД, easyJet, О'Лірі, Шрёдера → Шрёдер); a word written all in capitals keeps them
    to its end (НОВОСТЕЙ → НОВОСТИ)."""
    if "ё" not in original.lower():
        form = form.replace("ё", "е").replace("Ё", "Е")
    parts, original_parts = form.split("-"), original.split("-")
    if len(parts) != len(original_parts):
        parts, original_parts = [form], [original]
    return "-".join(
        _spelt_as(part, written) for part, written in zip(parts, original_parts, strict=True)
    )


def _spelt_as(form: str, written: str) -> str:
    if len(written) > 1 and written.isupper():
        return form.upper()
    letters = list(form)
    for i, (letter, as_written) in enumerate(zip(form, written, strict=False)):
        if as_written.isupper():
            letters[i] = letter.upper()
        if letter.lower() == "ё" and as_written.lower() == "е":
            letters[i] = as_written
    return "".join(letters)
