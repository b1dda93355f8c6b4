"""Canonical entity names: lemmas for Ukrainian and Russian (Трампа → Трамп), text elsewhere."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from importlib.metadata import version
from typing import Any

import pymorphy3

from pipeline.nlp.types import ModelInfo

MORPH_LANGUAGES = ("uk", "ru")
_WORD = re.compile(r"\w+(?:['’ʼ-]\w+)*")
_PHRASE_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*")  # потока-2: the word is потока
_POSSESSIVE = re.compile(r"(?:'s|’s)$")

INFO = ModelInfo("canonical", "pymorphy3", version("pymorphy3"))


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


def _restore_case(form: str, original: str) -> str:
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
    return _noun_phrase(text, language, label)


NAME_TAGS = frozenset({"Name", "Surn", "Patr"})


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


def _known(word: str, language: str) -> bool:
    """In the dictionary as a whole (Нью-Йорка) or part by part."""
    known = analyzer(language).word_is_known
    return known(word) or all(known(part) for part in word.split("-"))


def _person(text: str, language: str, gender: str | None = None) -> str:
    """The words of a name share one case: the one its known words make likeliest, a reading
    as a name counting over any other (Ангелу is Ангела in the accusative, not ангел in the
    dative; Песков is a surname, not песок), the nominative on a tie; each word is lemmatised
    read in that case. Where the article gives the person's gender, only readings in it count
    (Карпова is then Карпова, not Карпов's genitive)."""
    words = [m.group() for m in _WORD.finditer(text)]
    known = [analyzer(language).parse(w) for w in words if _known(w, language)]
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
                weight = parse.score + _is_one_persons_name(parse)
                best[parse.tag.case] = max(best.get(parse.tag.case, 0.0), weight)
        votes.update(best)
    case = max(votes, key=lambda c: (votes[c], c == "nomn")) if votes else "nomn"
    gender = gender or _gender(known, case)
    lemmas = [name_lemma(w, language, case, gender) for w in words]
    if _capitalised(words, language):
        lemmas = [f[:1].upper() + f[1:] for f in lemmas]
    forms = iter(lemmas)
    return _WORD.sub(lambda m: _restore_case(next(forms), m.group()), text)


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


def _is_one_persons_name(parse: Any) -> bool:
    """A first name, surname or patronymic in the singular (Хана in the plural is no one)."""
    return bool(NAME_TAGS & parse.tag.grammemes) and parse.tag.number != "plur"


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
_CONSONANTS = frozenset("бвгґджзйклмнпрстфхцчшщ")


def _mans_surname(word: str, language: str, case: str | None) -> str:
    word = word.lower()
    for ending in _MASCULINE_ENDINGS[language].get(case or "", ()):
        stem = word.removesuffix(ending)
        if stem != word and len(stem) > 1 and stem[-1] in _CONSONANTS:
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
    if not _known(word, language):
        stem = _mans_surname(word, language, case) if gender == "masc" else word.lower()
        if (
            stem != word.lower()
            or _undeclined(word)
            or (reading.tag.case != case or (gender and reading.tag.gender not in (gender, None)))
        ):
            return stem
    if word.islower() and _ADJECTIVE & tags:
        return reading.normal_form
    if word[:1].isupper() and all(p.tag.number == "plur" for p in analyzer(language).parse(word)):
        return word.lower()  # not one person: a surname pymorphy lacks (Мясников), a group
    if word[:1].isupper() and not {"NOUN", *_ADJECTIVE} & tags:
        return word.lower()  # a short adjective or a verb is no name's word (фон Болен)
    if word.islower() and "plur" in tags:
        inflected = reading.inflect({"nomn"})
        return inflected.word if inflected is not None else word
    if reading.tag.case == "nomn" and "plur" not in tags:
        return word.lower()
    inflected = reading.inflect({"nomn", "sing"}) or reading.inflect({"nomn"})
    return inflected.word if inflected is not None else reading.normal_form


_ADJECTIVE = frozenset({"ADJF", "PRTF"})
# The longest abbreviation in capitals left undeclined; a longer word in capitals is headline
# text (НЕВСКИХ НОВОСТЕЙ → НЕВСКИЕ НОВОСТИ).
_ABBREVIATION_LETTERS = 5


def _as_place(nouns: list[Any], label: str) -> list[Any]:
    """A place's noun readings in the order a place makes likely: the dictionary's place
    names first, people's names last (Львова is Львів, not the surname Львов; Києві is Київ,
    not Кий)."""
    if label != "LOC":
        return nouns
    return sorted(nouns, key=lambda p: ("Geox" not in p.tag.grammemes, _is_one_persons_name(p)))


def _noun_phrase(text: str, language: str, label: str) -> str:
    morph = analyzer(language)
    words = list(_PHRASE_WORD.finditer(text))
    first = words[0].group() if words else ""
    if first and not _known(first, language):
        if len(words) == 1 and (stem := _hard_stem(first, language)):
            return _replace_words(text, [stem])
        if first[:1].isupper() and not (len(words) > 1 and _ADJECTIVE & _guess(first, language)):
            return text  # a foreign name written in Cyrillic (Блю Стрим Пайплайн): as written
    adjectives: list[list[Any]] = []
    conjunctions: list[tuple[int, str]] = []  # between adjectives, kept as written
    for match in words:
        parses = morph.parse(match.group())
        if adjectives and "CONJ" in parses[0].tag.grammemes:  # Центральної та Східної Європи
            conjunctions.append((len(adjectives) + len(conjunctions), match.group()))
            continue
        nouns = _as_place([p for p in parses if "NOUN" in p.tag.grammemes], label)
        readings = [p for p in parses if _ADJECTIVE & p.tag.grammemes]
        # A place is named by a noun: the last word is one where it can be (Мінська: Мінськ).
        place = label == "LOC" and match is words[-1] and bool(nouns)
        if readings and "NOUN" not in parses[0].tag.grammemes and not place:
            adjectives.append(readings)
            continue
        if "NOUN" not in parses[0].tag.grammemes and not place:
            break
        chosen = _agreeing(nouns, adjectives)
        if chosen:
            forms = [_nominative(p, chosen[-1]) for p in chosen]
        else:  # nothing agrees: each word's likeliest reading on its own
            chosen = [*(readings[0] for readings in adjectives), nouns[0]]
            forms = [_nominative(p, p) for p in chosen]
        word = match.group()
        if word.isupper() and 1 < len(word) <= _ABBREVIATION_LETTERS:  # ПАТ, НАТО: as written
            forms[-1] = word
        elif "Geox" in chosen[-1].tag.grammemes:  # a place's name has its capital (россии)
            forms[-1] = forms[-1][:1].upper() + forms[-1][1:]
        for position, conjunction in conjunctions:
            forms.insert(position, conjunction)
        return _replace_words(text[: match.end()], forms) + text[match.end() :]
    # No noun to agree with: each word on its own.
    return _WORD.sub(lambda m: _restore_case(lemma(m.group(), language), m.group()), text)


def _guess(word: str, language: str) -> frozenset[str]:
    """The grammemes of pymorphy's likeliest reading of a word."""
    return frozenset(analyzer(language).parse(word)[0].tag.grammemes)


def _hard_stem(word: str, language: str) -> str | None:
    """A word the dictionary does not know, declined like a masculine noun with a hard stem
    (Брекзита → Брекзит, Лахоре → Лахор): pymorphy's likeliest guess that is a common noun, where
    it puts the word in an oblique case and ends its lemma in a consonant. Not an abbreviation
    (СПбПУ), not a person's name (a name is no place or event)."""
    if sum(c.isupper() for c in word) > 1:
        return None
    guesses = [
        p
        for p in analyzer(language).parse(word)
        if "NOUN" in p.tag.grammemes and not NAME_TAGS & p.tag.grammemes
    ]
    if not guesses or guesses[0].tag.case in ("nomn", None):
        return None
    stem = guesses[0].normal_form
    return stem if stem[-1:] in _CONSONANTS else None


def _replace_words(text: str, forms: list[str]) -> str:
    """Each word of text replaced by the next form, in the word's casing; the rest kept."""
    replacements = iter(forms)
    return _PHRASE_WORD.sub(lambda m: _restore_case(next(replacements), m.group()), text)


def _agreeing(nouns: list[Any], adjectives: list[list[Any]]) -> list[Any]:
    """Readings of the adjectives and the noun that agree in case, number and (singular)
    gender, the likeliest noun first (Северного потока: северный, not северное); none where
    nothing agrees."""
    for noun in nouns:
        tag = noun.tag
        wanted = {
            g for g in (tag.case, tag.number, tag.gender if tag.number != "plur" else None) if g
        }
        chosen = [
            next((a for a in readings if wanted <= a.tag.grammemes), None)
            for readings in adjectives
        ]
        if all(chosen):
            return [*chosen, noun]
    return []


def _nominative(parse: Any, noun: Any) -> str:
    """A word of a noun phrase in the nominative, in its noun's number and gender (Сполученого
    Королівства → Сполучене Королівство), looked up among the forms of the same word (not a
    participle's verb, not a comparative): Ukrainian tags a singular by its gender alone, and
    pymorphy's inflect then may give the plural."""
    plural = noun.tag.number == "plur"
    gender = None if plural else noun.tag.gender
    word = _lexical(parse)
    # Ukrainian's dictionary leaves the case off some nominatives (арбітраж: NOUN,inan masc).
    forms = [f for f in parse.lexeme if f.tag.case in ("nomn", None) and _lexical(f) == word]
    for form in forms:
        if ("plur" in form.tag.grammemes) == plural and gender in (None, form.tag.gender):
            return form.word
    return forms[0].word if forms else parse.normal_form


def _lexical(parse: Any) -> frozenset[str]:
    """What a reading's tag says of the word rather than of this form of it."""
    tag = parse.tag
    return tag.grammemes - {tag.case, tag.number, tag.gender, tag.animacy}


def name_key(text: str, language: str) -> str:
    """Every word's lemma, lower case: the mentions of one name in a text share it whatever
    their case or label (Зеленського, Зеленський → зеленський)."""
    return " ".join(lemma(w, language) for w in _WORD.findall(_POSSESSIVE.sub("", text)))


def lemmas(text: str, language: str) -> set[str]:
    """Content-word lemmas of a text (words of 3+ letters), for matching topics to sentences."""
    return {lemma(w, language) for w in _WORD.findall(text) if len(w) >= 3}
