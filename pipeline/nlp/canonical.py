"""Canonical entity names: lemmas for Ukrainian and Russian (Трампа → Трамп), text elsewhere."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from importlib.metadata import version
from typing import Any

import pymorphy3

from pipeline.nlp.morph import (
    ADJECTIVE,
    CONSONANTS,
    MORPH_LANGUAGES,
    NAME_TAGS,
    WORD,
    analyzer,
    guesser,
    in_dictionary,
    is_one_persons_name,
    lemma,
    restore_case,
)
from pipeline.nlp.noun_phrases import noun_phrase
from pipeline.nlp.types import ModelInfo

_POSSESSIVE = re.compile(r"(?:'s|’s)$")

INFO = ModelInfo("canonical", "pymorphy3", version("pymorphy3"))


def canonical(text: str, language: str, label: str = "PER", gender: str | None = None) -> str:
    """A uk/ru name in its dictionary form, in the name's own casing.

    Every part of a person's name is lemmatised, the parts agreeing in case (Олександра
    Новака → Олександр Новак, Навальной → Навальная). Other names are a noun phrase: the
    adjectives and the first noun go to the nominative, agreeing in gender and number, and what
    follows the noun stays as written (Верховної Ради України → Верховна Рада України,
    «Северного потока-2» → «Северный поток-2»). A word the dictionary does not know stays as
    written unless the known words show its case. The writer's spelling is kept: е for ё where
    they wrote е, capitals where they wrote them (МИДа → МИД); a noun all in capitals is an
    abbreviation and stays as written (ПАТ «Газпром», not ПАТи). `gender` is a person's as
    the article shows it (`person_gender`), where the name alone may not (Асии Биби → Асия).
    """
    text = " ".join(text.split())
    if language not in MORPH_LANGUAGES:
        return _POSSESSIVE.sub("", text) or text
    if label == "PER":
        return _person(text, language, gender)
    return noun_phrase(text, language, label)


def _rank(parse: Any) -> tuple:
    """Name readings first; of equally likely ones a singular, non-neuter, nominative one
    (Юлія is a nominative woman's name, not the genitive of Юлій)."""
    tags = parse.tag.grammemes
    return (
        not NAME_TAGS & tags,
        -round(parse.score, 2),
        "plur" in tags,
        "neut" in tags,
        parse.tag.case != "nomn",
    )


def name_reading(
    word: str,
    language: str,
    case: str | None = None,
    gender: str | None = None,
    reader: pymorphy3.MorphAnalyzer | None = None,
) -> Any:
    """The likeliest reading of a word inside a person's name (in `case` and `gender` where it
    has one), by the dictionary or another `reader`."""
    parses = (reader or analyzer(language)).parse(word)
    in_case = [p for p in parses if p.tag.case == case] or parses
    agreeing = [p for p in in_case if gender and p.tag.gender == gender and p.tag.number != "plur"]
    return min(agreeing or in_case, key=_rank)


def _person(text: str, language: str, gender: str | None = None) -> str:
    """The words of a name share one case: the one its known words make likeliest, a reading
    as a name counting over any other (Ангелу is Ангела in the accusative, not ангел in the
    dative; Песков is a surname, not песок), the nominative on a tie; each word is lemmatised
    read in that case. Where the article gives the person's gender, only readings in it count
    (Карпова is then Карпова, not Карпов's genitive)."""
    words = [m.group() for m in WORD.finditer(text)]
    known = [analyzer(language).parse(w) for w in words if in_dictionary(w, language)]
    if not known and not any(_undeclined(w) for w in words):
        # pymorphy's guesses decide where none can be a nominative (Медведчуку, Зеленского)
        guesses = [
            [p for p in analyzer(language).parse(w) if p.tag.number != "plur"] for w in words
        ]
        if not any(_nominative_singular(parses) for parses in guesses):
            known = guesses
    if gender:
        known = [[p for p in parses if _in_gender(p, gender)] for parses in known]
    votes: Counter[str] = Counter()
    for parses in known:
        best: dict[str, float] = {}
        for parse in parses:
            if parse.tag.case:
                weight = parse.score + is_one_persons_name(parse)
                best[parse.tag.case] = max(best.get(parse.tag.case, 0.0), weight)
        votes.update(best)
    case = max(votes, key=lambda c: (votes[c], c == "nomn")) if votes else "nomn"
    gender = gender or _gender(known, case)
    lemmas = [name_lemma(w, language, case, gender) for w in words]
    if _capitalised(words, language):
        lemmas = [f[:1].upper() + f[1:] for f in lemmas]
    forms = iter(lemmas)
    return WORD.sub(lambda m: restore_case(next(forms), m.group()), text)


def _capitalised(words: list[str], language: str) -> bool:
    """Whether a name written in lower case is a person's first name and more (татьяна голикова
    → Татьяна Голикова), not a group or its adjective (россияне, московская)."""
    return (
        len(words) > 1
        and all(w.islower() for w in words)
        and "Name" in name_reading(words[0], language).tag.grammemes
    )


def _undeclined(word: str) -> bool:
    """A foreign name ending in a vowel is mostly left undeclined (Барклі, Монтедуро, Фаучі),
    an adjective's genitive aside (Зеленского)."""
    word = word.lower()
    return word[-1:] in "іиоеэ" and not word.endswith(("ого", "его"))


def _nominative_singular(parses: list[Any]) -> bool:
    """Whether a word may be a nominative singular (or cannot be declined at all): a word
    without a singular reading is no evidence either way."""
    singular = [p for p in parses if p.tag.number != "plur"]
    return not singular or any(p.tag.case in ("nomn", None) for p in singular)


def _in_gender(parse: Any, gender: str) -> bool:
    """A singular reading in `gender`, or one that has none (Ukrainian's plurals have none)."""
    return parse.tag.gender == gender or (parse.tag.gender is None and parse.tag.number != "plur")


def _gender(known: list[list[Any]], case: str) -> str | None:
    """The gender the dictionary gives a name's known first name or surname (the readings of
    its known words) read in `case` (None where it knows neither, or a surname has both:
    Тимошенко)."""
    for tag in ("Name", "Surn"):
        for parses in known:
            genders = {
                p.tag.gender for p in parses if p.tag.case == case and tag in p.tag.grammemes
            }
            if genders:
                return genders.pop() if len(genders) == 1 else None
    return None


# How a man's foreign surname unknown to the dictionary is declined, like a noun with a hard stem
# (Доминика Рааба → Рааб); one that ends otherwise is taken as indeclinable (Стівена Барклі).
_MASCULINE_ENDINGS = {
    "ru": {"gent": ("а",), "accs": ("а",), "datv": ("у",), "ablt": ("ом", "ем"), "loct": ("е",)},
    "uk": {
        "gent": ("а",),
        "accs": ("а",),
        "datv": ("ові", "у"),
        "ablt": ("ом", "ем"),
        "loct": ("ові",),
    },
}


def _mans_surname(word: str, language: str, case: str | None) -> str:
    word = word.lower()
    for ending in _MASCULINE_ENDINGS[language].get(case or "", ()):
        stem = word.removesuffix(ending)
        if stem != word and len(stem) > 1 and stem[-1] in CONSONANTS:
            return stem
    return word


@cache
def name_lemma(word: str, language: str, case: str | None = None, gender: str | None = None) -> str:
    """A word of a person's name, read in `case` (and the first name's `gender`), in the
    nominative keeping its gender (Навальной → навальная, Зеленським → зеленський); lower case.
    A word the dictionary does not know stays as written unless it has a reading in `case`
    and `gender`, or is a man's surname declined like a noun (Рааба → рааб); one ending in a
    vowel always (Рамзи). A first name the dictionary has only in the other gender is read
    by its ending (Асии, the article showing a woman → асия). Hyphenated names
    part by part (Касим-Жомарта → касим-жомарт; Ростова-на-Дону is one word). A group in
    lower case stays plural (россиян → россияне), its adjective is its lemma (китайской →
    китайский)."""
    reading = name_reading(word, language, case, gender)
    if gender and reading.tag.gender not in (gender, None) and word[:1].isupper():
        guess = name_reading(word, language, case, gender, guesser(language))
        reading = (
            guess if guess.tag.gender == gender and NAME_TAGS & guess.tag.grammemes else reading
        )
    tags = reading.tag.grammemes
    parts = word.split("-")
    if len(parts) > 1 and all(p[:1].isupper() for p in parts) and not NAME_TAGS & tags:
        return "-".join(name_lemma(part, language, case, gender) for part in parts)
    if not in_dictionary(word, language):
        stem = _mans_surname(word, language, case) if gender == "masc" else word.lower()
        if (
            stem != word.lower()
            or _undeclined(word)
            or (reading.tag.case != case or (gender and reading.tag.gender not in (gender, None)))
        ):
            return stem
    if word.islower() and ADJECTIVE & tags:
        return reading.normal_form
    if word[:1].isupper() and all(p.tag.number == "plur" for p in analyzer(language).parse(word)):
        return word.lower()  # not one person: a surname pymorphy lacks (Мясников), a group
    if word[:1].isupper() and not {"NOUN", *ADJECTIVE} & tags:
        return word.lower()  # a short adjective or a verb is no name's word (фон Болен)
    if word.islower() and "plur" in tags:
        inflected = reading.inflect({"nomn"})
        return inflected.word if inflected is not None else word
    if reading.tag.case == "nomn" and "plur" not in tags:
        return word.lower()
    inflected = reading.inflect({"nomn", "sing"}) or reading.inflect({"nomn"})
    return inflected.word if inflected is not None else reading.normal_form


def name_key(text: str, language: str) -> str:
    """Every word's lemma, lower case: the mentions of one name in a text share it whatever
    their case or label (Зеленського, Зеленський → зеленський)."""
    return " ".join(lemma(w, language) for w in WORD.findall(_POSSESSIVE.sub("", text)))


def lemmas(text: str, language: str) -> set[str]:
    """Content-word lemmas of a text (words of 3+ letters), for matching topics to sentences."""
    return {lemma(w, language) for w in WORD.findall(text) if len(w) >= 3}
