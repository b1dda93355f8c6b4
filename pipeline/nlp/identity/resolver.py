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

from pipeline.nlp.canonical import canonical
from pipeline.nlp.identity.aliases import AliasTable
from pipeline.nlp.identity.keys import match_key, script
from pipeline.nlp.identity.persons import PersonName, person_name
from pipeline.nlp.types import Entity, ModelInfo

# Legal forms and the words for a company, as keys: what may stand around a company's name.
_LEGAL_FORMS = frozenset(match_key(form) for form in [
    "AG", "SE", "NV", "BV", "B.V.", "GmbH", "Inc", "Ltd", "LLC", "PLC", "SA", "Company", "Co",
    "Corporation", "Group", "ПАО", "ПАТ", "ПрАТ", "ОАО", "ВАТ", "АО", "АТ", "ООО", "ТОВ", "ЗАО",
    "НАК", "компания", "компанія", "корпорация", "корпорація", "группа", "група",
])  # fmt: skip
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
            names = [mentions[i].canonical for i in indices]
            groups = (
                self._people(names, language) if label == "PER" else self._names(names, language)
            )
            for members in groups:
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
        for key in sorted(groups, key=len):
            longer = [
                k
                for k in groups
                if k != key and self._qualified(names[groups[k][0]], k, key, language)
            ]
            if len(longer) == 1:
                groups[longer[0]] += groups.pop(key)
        return list(groups.values())

    def _qualified(self, name: str, key: str, short: str, language: str) -> bool:
        """Whether `name` (its key `key`) is the name keyed `short` with only legal forms
        before it and legal forms or a place the alias table knows after it: a shorter name
        joins the one such longer name in an article (Нафтогаз → НАК «Нафтогаз України»,
        Nord Stream 2 → Nord Stream 2 AG), not another name it begins (Газпром нефть)."""
        words, inner = key.split(), short.split()
        start = _start(words, inner)
        if start is None:
            return False
        before, after = words[:start], words[start + len(inner) :]
        if not (before or after) or any(w not in _LEGAL_FORMS for w in before):
            return False
        if all(w in _LEGAL_FORMS for w in after):
            return True
        written = name.replace("-", " ").split()[-len(after) :]
        place = canonical(" ".join(written), language, "LOC")
        return self.aliases.lookup("LOC", match_key(place)) is not None

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
        # Unknown to the table: the id of the name the others extend (Нафтогаз, not Нафтогаз
        # України, which other articles may leave out), else of the fullest; a company's
        # legal form left out (Nord Stream AG: nord-stream).
        cores = [_without_legal_form(k) for k in keys]
        fullest, key = next(
            (
                (f, k)
                for f, k in reversed(list(zip(ranked, cores, strict=True)))
                if k and all(_contains(other, k) for other in cores)
            ),
            (ranked[0], cores[0]),
        )
        if script(fullest) == "other" or not key:
            digest = hashlib.blake2s(fullest.encode(), digest_size=5).hexdigest()
            return f"{label}:{language}:{'-'.join(key.split()) or digest}"
        return f"{label}:{'-'.join(key.split())}"


def label_of(entity_id: str) -> str:
    """An id's type, its prefix: PER:volodymyr-zelensky → PER."""
    return entity_id.split(":", 1)[0]


def by_fullness(forms: Iterable[str]) -> list[str]:
    """Distinct name forms, the fullest first (most words, then longest): the first is the
    name an entity is shown by."""
    return sorted(set(forms), key=lambda f: (-len(f.split()), -len(f), f))


def _without_legal_form(key: str) -> str:
    """A key without the legal forms at its ends (НАК Нафтогаз, Nord Stream 2 AG), unless
    that is all it is."""
    words = key.split()
    while len(words) > 1 and words[0] in _LEGAL_FORMS:
        words.pop(0)
    while len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def _start(words: list[str], part: list[str]) -> int | None:
    """Where `part` first stands in `words`, in a row; None where it does not."""
    return next((i for i in range(len(words)) if words[i : i + len(part)] == part), None)


def _contains(key: str, inner: str) -> bool:
    """Whether a key has another's words, in a row."""
    return _start(key.split(), inner.split()) is not None


def _initial(parsed: Sequence[PersonName], members: Sequence[int]) -> str:
    return next((parsed[m].initial for m in members if parsed[m].initial), "")


def _is_acronym(name: str) -> bool:
    letters = name.replace(".", "")
    return 2 <= len(letters) <= 6 and letters.isalpha() and letters.isupper()


def _initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w.lower() not in _FUNCTION_WORDS]
    return "".join(w[0] for w in words if w[:1].isalpha()).upper()
