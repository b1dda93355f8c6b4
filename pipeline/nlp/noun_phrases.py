"""Names that are noun phrases (places, organisations, events, products) in their dictionary
form: the adjectives and the first noun in the nominative, agreeing, the rest as written."""

from __future__ import annotations

import re
from typing import Any

from pipeline.nlp.morph import (
    ADJECTIVE,
    CONSONANTS,
    NAME_TAGS,
    WORD,
    analyzer,
    in_dictionary,
    is_one_persons_name,
    lemma,
    restore_case,
)

_PHRASE_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ-][^\W\d_]+)*")  # потока-2: the word is потока
# The longest abbreviation in capitals left undeclined; a longer word in capitals is headline
# text (НЕВСКИХ НОВОСТЕЙ → НЕВСКИЕ НОВОСТИ).
_ABBREVIATION_LETTERS = 5


def _as_place(nouns: list[Any], label: str) -> list[Any]:
    """A place's noun readings in the order a place makes likely: the dictionary's place
    names first, people's names last (Львова is Львів, not the surname Львов; Києві is Київ,
    not Кий)."""
    if label != "LOC":
        return nouns
    return sorted(nouns, key=lambda p: ("Geox" not in p.tag.grammemes, is_one_persons_name(p)))


def noun_phrase(text: str, language: str, label: str) -> str:
    morph = analyzer(language)
    words = list(_PHRASE_WORD.finditer(text))
    first = words[0].group() if words else ""
    if first and not in_dictionary(first, language):
        if len(words) == 1 and (stem := _hard_stem(first, language)):
            return _replace_words(text, [stem])
        if first[:1].isupper() and not (len(words) > 1 and ADJECTIVE & _guess(first, language)):
            return text  # a foreign name written in Cyrillic (Блю Стрим Пайплайн): as written
    adjectives: list[list[Any]] = []
    conjunctions: list[tuple[int, str]] = []  # between adjectives, kept as written
    for match in words:
        parses = morph.parse(match.group())
        if adjectives and "CONJ" in parses[0].tag.grammemes:  # Центральної та Східної Європи
            conjunctions.append((len(adjectives) + len(conjunctions), match.group()))
            continue
        nouns = _as_place([p for p in parses if "NOUN" in p.tag.grammemes], label)
        readings = [p for p in parses if ADJECTIVE & p.tag.grammemes]
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
    return WORD.sub(lambda m: restore_case(lemma(m.group(), language), m.group()), text)


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
    return stem if stem[-1:] in CONSONANTS else None


def _replace_words(text: str, forms: list[str]) -> str:
    """Each word of text replaced by the next form, in the word's casing; the rest kept."""
    replacements = iter(forms)
    return _PHRASE_WORD.sub(lambda m: restore_case(next(replacements), m.group()), text)


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
