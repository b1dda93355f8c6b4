"""Entity ids for the mentions of one article: names joined in the article, then identified.

In the article: the mentions of one person join the fullest form of the name (Зеленський,
В. Зеленський → Володимир Зеленський) when exactly one full name fits; other names join by
their key, and an acronym joins the one name in the article it abbreviates (ЄС ↔ Європейський
Союз). Across articles and languages: a group takes the shipped alias table's id for one of its
names, else an id made from its spelling-independent key. Both are pure functions of the
article and the package, so every worker, restart and machine gives the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipeline.nlp.identity.aliases import AliasTable
from pipeline.nlp.identity.keys import match_key, script
from pipeline.nlp.identity.persons import PersonName, person_name
from pipeline.nlp.types import Entity, ModelInfo

_FUNCTION_WORDS = frozenset(
    ["і", "й", "та", "и", "в", "у", "з", "of", "the", "and", "for", "de", "la", "le", "der", "und"]
)


@dataclass(frozen=True, slots=True)
class Mention:
    """What the resolver reads of one entity mention."""

    label: str
    canonical: str


class Resolver:
    """Mentions of one article → an entity id for each."""

    def __init__(self, aliases: AliasTable) -> None:
        self.aliases = aliases
        self.info = ModelInfo("identity", "aliases", aliases.version)

    def key(self, label: str, name: str, language: str) -> str:
        """The key a name of this type is looked up by: for a person, first-name class and
        surname; for others, the spelling-independent key of the whole name."""
        if label == "PER":
            return self.person_key(person_name(name, language))
        return match_key(name)

    def person_key(self, name: PersonName) -> str:
        """A person's key: first-name class and surname (the surname alone without one)."""
        given = self.aliases.given_class(name.given) if name.given else ""
        return " ".join(filter(None, (given, name.surname)))

    def identify(self, entities: Sequence[Entity], language: str) -> list[Entity]:
        """The entities of one article, each with its entity id."""
        ids = self.resolve([Mention(e.label, e.canonical) for e in entities], language)
        return [replace(e, entity_id=i) for e, i in zip(entities, ids, strict=True)]

    def resolve(self, mentions: Sequence[Mention], language: str) -> list[str]:
        ids = [""] * len(mentions)
        by_label: dict[str, list[int]] = {}
        for i, mention in enumerate(mentions):
            by_label.setdefault(mention.label, []).append(i)
        for label, indices in by_label.items():
            group = self._people if label == "PER" else self._names
            for members in group([mentions[i].canonical for i in indices], language):
                forms = [mentions[indices[m]].canonical for m in members]
                entity_id = self._id(label, forms, language)
                for m in members:
                    ids[indices[m]] = entity_id
        return ids

    # ------------------------------------------------------------ joining in one article

    def _people(self, names: Sequence[str], language: str) -> list[list[int]]:
        parsed = [person_name(n, language) for n in names]
        groups: dict[tuple[str, str], list[int]] = {}
        for i, name in enumerate(parsed):
            if name.full:
                key = (self.aliases.given_class(name.given), name.surname)
                groups.setdefault(key, []).append(i)
        full = list(groups)
        for i, name in enumerate(parsed):
            if name.full:
                continue
            # A partial name joins the one full name it fits; none or several: its own group.
            fits = [
                key
                for key in full
                if (not name.surname or key[1] == name.surname)
                and (not name.given or key[0] == self.aliases.given_class(name.given))
                and (not name.initial or _initial(parsed, groups[key]) == name.initial)
            ]
            if not fits and name.given and not name.surname:
                # A lone word read as a first name may be the surname of the article's one
                # full name (Биби after Асия Биби).
                fits = [key for key in full if key[1] == name.given]
            own = ("", name.surname or name.given)
            groups.setdefault(fits[0] if len(fits) == 1 else own, []).append(i)
        return list(groups.values())

    def _names(self, names: Sequence[str], language: str) -> list[list[int]]:
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            groups.setdefault(match_key(name) or name, []).append(i)
        firsts = {key: names[members[0]] for key, members in groups.items()}
        for key, name in firsts.items():
            if not _is_acronym(name):
                continue
            expansions = [k for k, n in firsts.items() if k != key and _initials(n) == name]
            if len(expansions) == 1:
                groups[expansions[0]] += groups.pop(key)
        return list(groups.values())

    # ------------------------------------------------------------ ids

    def _id(self, label: str, forms: Sequence[str], language: str) -> str:
        ranked = by_fullness(forms)
        if label == "PER":
            # A full name is looked up by itself only: a surname alone may be someone else's.
            names = [person_name(f, language) for f in ranked]
            if any(n.full for n in names):
                ranked = [f for f, n in zip(ranked, names, strict=True) if n.full]
                names = [n for n in names if n.full]
            keys = [self.person_key(n) for n in names]
        else:
            keys = [self.key(label, f, language) for f in ranked]
        for key in keys:
            if (known := self.aliases.lookup(label, key)) is not None:
                return known
        fullest = ranked[0]
        if script(fullest) == "other" or not keys[0]:
            digest = hashlib.blake2s(fullest.encode(), digest_size=5).hexdigest()
            return f"{label}:{language}:{'-'.join(keys[0].split()) or digest}"
        return f"{label}:{'-'.join(keys[0].split())}"


def label_of(entity_id: str) -> str:
    """An id's type, its prefix: PER:volodymyr-zelensky → PER."""
    return entity_id.split(":", 1)[0]


def by_fullness(forms: Iterable[str]) -> list[str]:
    """Distinct name forms, the fullest first (most words, then longest): the first is the
    name an entity is shown by."""
    return sorted(set(forms), key=lambda f: (-len(f.split()), -len(f), f))


def _initial(parsed: Sequence[PersonName], members: Sequence[int]) -> str:
    return next((parsed[m].initial for m in members if parsed[m].initial), "")


def _is_acronym(name: str) -> bool:
    letters = name.replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w.lower() not in _FUNCTION_WORDS]
    return "".join(w[0] for w in words if w[:1].isalpha()).upper()
