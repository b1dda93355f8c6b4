"""A person's gender as the article shows it: the words that agree with the name.

Names alone do not always tell: pymorphy3 knows Асия only as the genitive of the man's name
Асий, and Тимошенко or Карпова fit a man and a woman. Ukrainian and Russian agree a past-tense
verb and the relative pronoun with the person (Асия Биби была…, Асии Биби, которая…), so the word
right after a mention of a name in the nominative votes (after another case the word is
more often the subject's: кабинет Терезы Мэй принял); so does a woman's noun of a derived
feminine form in the same case right before the name (христианки Асии Биби, журналистка
Анна…), where a man's noun would not (президент is said of women too). The article's mentions
of one name pool their votes.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache

from pipeline.nlp.canonical import canonical, name_key
from pipeline.nlp.morph import MORPH_LANGUAGES, NAME_TAGS, analyzer, guesser

_NEXT_WORD = re.compile(r"([\s,»\"”)]*)(\w+)")
_PREVIOUS_WORD = re.compile(r"(\w+)\s+$")
# How much of the text around a mention is read: enough for the next and previous word.
_AROUND = 40
# Feminine nouns derived from a man's (христианка, активистка, героиня, помощница, лікарка).
_FEMININE_SUFFIXES = ("ка", "иня", "ыня", "ница", "иця")
_RELATIVE = frozenset({"который", "котрий", "який"})
# Votes for one gender must outnumber the other's this many times over.
_MAJORITY = 2


@cache
def _vote(word: str, language: str, clause_ended: bool) -> str | None:
    """The gender a word gives the name before it: a singular past-tense verb (была, був) or,
    also after a comma, a relative pronoun (которая, яка), in one gender only. After a comma a
    verb belongs to another clause (по поручению В.В. Путина, началась…)."""
    genders = {
        p.tag.gender
        for p in analyzer(language).parse(word)
        if p.tag.number != "plur"
        and (
            p.normal_form in _RELATIVE
            or ("VERB" in p.tag.grammemes and "past" in p.tag.grammemes and not clause_ended)
        )
    }
    genders.discard(None)
    return genders.pop() if len(genders) == 1 and genders <= {"masc", "femn"} else None


@cache
def _woman_before(word: str, name: str, language: str) -> bool:
    """Whether the word right before a name is a woman's noun of a derived feminine form in a
    case the name's first word can have (христианки Асии Биби; not жены Ивана: no shared case)."""
    first = re.findall(r"\w+", name)[:1]
    if not first:
        return False
    name_cases = {p.tag.case for p in _readings(first[0], language)}
    return any(
        {"NOUN", "anim", "femn", "sing"} <= p.tag.grammemes
        and not NAME_TAGS & p.tag.grammemes
        and p.normal_form.endswith(_FEMININE_SUFFIXES)
        and p.tag.case in name_cases
        for p in analyzer(language).parse(word)
    )


def _nominative(name: str, language: str) -> bool:
    """Whether every word of a name may be a singular nominative, by the dictionary or by its
    ending (Асия may: the woman's name the dictionary does not know)."""
    return all(_may_be_nominative(word, language) for word in re.findall(r"\w+", name))


@cache
def _may_be_nominative(word: str, language: str) -> bool:
    return any(
        p.tag.case in ("nomn", None) and p.tag.number != "plur" for p in _readings(word, language)
    )


@cache
def _readings(word: str, language: str) -> tuple:
    """A word's readings by the dictionary and by its ending alone (a name pymorphy knows in
    one gender only has the other's too)."""
    return (*analyzer(language).parse(word), *guesser(language).parse(word))


def person_genders(
    mentions: Sequence[tuple[str, str, int, int]], language: str
) -> list[str | None]:
    """For each mention of an article, given as (label, the text it is in, its start and end
    offsets), the gender ("masc", "femn") the article gives a person's
    name over all its mentions; where those do not say, the one it gives the names sharing a
    word with it (Асия alone, after Асия Биби была…); None where it does not say or says both,
    and for other labels."""
    if language not in MORPH_LANGUAGES:
        return [None] * len(mentions)
    keys = [
        name_key(text[start:end], language) if label == "PER" else ""
        for label, text, start, end in mentions
    ]
    by_name: dict[str, Counter[str]] = defaultdict(Counter)
    by_word: dict[str, Counter[str]] = defaultdict(Counter)
    for key, (_, text, start, end) in zip(keys, mentions, strict=True):
        if not key:
            continue
        before, surface = text[max(start - _AROUND, 0) : start], text[start:end]
        after = text[end : end + _AROUND]
        following, previous = _NEXT_WORD.match(after), _PREVIOUS_WORD.search(before)
        votes = []
        if following and _nominative(surface, language):
            votes.append(_vote(following.group(2), language, "," in following.group(1)))
        if previous and _woman_before(previous.group(1), surface, language):
            votes.append("femn")
        for gender in filter(None, votes):
            by_name[key][gender] += 1
            for part in set(key.split()):
                by_word[part][gender] += 1
    genders = []
    for key in keys:
        if not key:
            genders.append(None)
            continue
        shared = sum((by_word[part] for part in set(key.split())), Counter())
        genders.append(_decided(by_name[key]) or _decided(shared))
    return genders


def canonical_forms(mentions: Sequence[tuple[str, str, int, int]], language: str) -> list[str]:
    """Each mention's canonical form (mentions as `person_genders` takes them), a person's name
    read in the gender the article gives it: what the tagger writes and identity evaluation
    scores."""
    genders = person_genders(mentions, language)
    return [
        canonical(text[start:end], language, label, gender)
        for (label, text, start, end), gender in zip(mentions, genders, strict=True)
    ]


def _decided(votes: Counter[str]) -> str | None:
    """The gender with most votes, where it outnumbers the other enough."""
    if not votes:
        return None
    (first, n), *rest = votes.most_common()
    return first if not rest or n > _MAJORITY * rest[0][1] else None
