"""A person's name in parts: first name, initial, surname, from its dictionary form.

Ukrainian and Russian words are typed by pymorphy3's name tags (Name, Surn, Patr); a word it
does not know, and every word in other languages, by position (the last is the surname).
Patronymics are dropped: Владимир Владимирович Путин and Владимир Путин are one name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.nlp.canonical import name_reading
from pipeline.nlp.identity.keys import match_key
from pipeline.nlp.morph import MORPH_LANGUAGES

_WORD = re.compile(r"\w+(?:['’ʼ-]\w+)*\.?")


@dataclass(frozen=True, slots=True)
class PersonName:
    """Match keys of a name's parts; `initial` is the first name's first letter (or the
    written initial), in the name's own script."""

    given: str = ""
    initial: str = ""
    surname: str = ""

    @property
    def full(self) -> bool:
        """A first name and a surname: a name that can stand for its person on its own."""
        return bool(self.surname and self.given)


def _kind(word: str, language: str) -> str:
    letters = word.rstrip(".")
    if len(letters) == 1:
        return "initial"
    if language not in MORPH_LANGUAGES:
        return "word"
    tags = name_reading(letters, language).tag.grammemes
    for tag, kind in (("Patr", "patronymic"), ("Surn", "surname"), ("Name", "given")):
        if tag in tags:
            return kind
    return "word"


def person_name(canonical: str, language: str) -> PersonName:
    """The parts of a person's name in its canonical (nominative) form."""
    words = [(w.group(), _kind(w.group(), language)) for w in _WORD.finditer(canonical)]
    words = [(w, k) for w, k in words if k != "patronymic"]
    kinds = [k for _, k in words]
    if "surname" not in kinds:
        # Without a word the dictionary knows as a surname, the last word is the surname
        # (Тереза Мей, Азия Биби, Theresa May); a lone known first name stays a first name.
        named = [i for i, k in enumerate(kinds) if k in ("word", "given")]
        if named and (len(named) > 1 or kinds[named[0]] == "word"):
            kinds[named[-1]] = "surname"
    given = [w for (w, _), k in zip(words, kinds, strict=True) if k in ("given", "word")]
    surname = [w for (w, _), k in zip(words, kinds, strict=True) if k == "surname"]
    initials = [w for (w, _), k in zip(words, kinds, strict=True) if k == "initial"]
    first = given[0] if given else (initials[0] if initials else "")
    return PersonName(
        given=match_key(" ".join(given)),
        initial=first[:1].lower(),
        surname=match_key(" ".join(surname)),
    )
