"""The alias table from data, and how well identity does on SlavicNER.

Aliases: every name form of SlavicNER's training topics (surface lemmatised as serving does, and
the corpus's own lemma) keyed as the resolver keys it, pointing to the corpus's cross-lingual
entity id; a key two ids share in more than one mention in ten is left out (a wrong merge is
worse than a missed one). First names of one person in several languages form a class
(Владимир, Володимир, Vladimir). Country and city names come from CLDR (babel).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pipeline.contracts import entity_labels
from pipeline.nlp.canonical import canonical
from pipeline.nlp.identity import AliasTable, Mention, Resolver, label_of, load_resolver
from pipeline.nlp.identity.keys import match_key, slug
from pipeline.nlp.identity.persons import person_name
from pipeline.nlp.person_gender import canonical_forms
from pipeline.train.ner_data import (
    HELD_OUT_TOPIC,
    SLAVICNER_TOPICS,
    TRAINING_TOPICS,
    GoldDocument,
    GoldMention,
    slavicner_documents,
)

MIN_SHARE = 0.9  # of a key's mentions that must belong to its id
PLACE_LANGUAGES = ("uk", "ru", "en", "be", "bg", "cs", "de", "es", "fr", "it", "kk", "pl")
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})  # ORG or not places


def entity_of(mention: GoldMention) -> tuple[str, str]:
    """(our id, display name) of a SlavicNER entity: GPE-Great-Britain → LOC:great-britain.
    The id's type is the entity's, whatever a mention of it is typed: one entity, one id."""
    kind, _, rest = mention.entity.partition("-")
    label = "LOC" if kind == "GPE" else kind
    name = rest.replace("-", " ")
    return f"{label}:{slug(name)}", name


def _forms(mention: GoldMention, lang: str) -> set[str]:
    return {canonical(mention.surface, lang, mention.label), mention.lemma}


def build_aliases(data_dir: Path, topics: Sequence[str] = TRAINING_TOPICS) -> AliasTable:
    """The alias table from the given SlavicNER topics and CLDR country names."""
    mentions = [
        (doc.lang, m)
        for t in topics
        for doc in slavicner_documents(t, data_dir)
        for m in doc.mentions
        if label_of(entity_of(m)[0]) in entity_labels()  # a few ids lack their type
    ]
    names = dict(entity_of(m) for _, m in mentions)
    given = _given_classes(mentions)
    resolver = Resolver(AliasTable({}, {}, given))
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    short: set[str] = set()  # people the corpus names by surname alone
    for lang, mention in mentions:
        entity_id = entity_of(mention)[0]
        for form in _forms(mention, lang):
            if key := resolver.key(mention.label, form, lang):
                votes[mention.label, key][entity_id] += 1
            if mention.label == "PER" and not person_name(form, lang).full:
                short.add(entity_id)
    for entity_id, name in names.items():  # the English name the id is made of
        label = label_of(entity_id)
        votes[label, resolver.key(label, name, "en")][entity_id] += 1
        if label == "PER" and entity_id in short:
            votes[label, person_name(name, "en").surname][entity_id] += 1
    keys: dict[str, dict[str, str]] = defaultdict(dict)
    for (label, key), ids in votes.items():
        entity_id, count = ids.most_common(1)[0]
        if count >= MIN_SHARE * ids.total():
            keys[label][key] = entity_id
    _add_places(keys, names)
    used = {i for by_key in keys.values() for i in by_key.values()}
    return AliasTable(
        {label: dict(sorted(k.items())) for label, k in sorted(keys.items())},
        {i: n for i, n in sorted(names.items()) if i in used},
        dict(sorted(given.items())),
    )


def _given_classes(mentions: Iterable[tuple[str, GoldMention]]) -> dict[str, str]:
    """First-name key → its class's key: the first names one person has across languages
    (and the id's English one) are one class, named by the English one."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    english: set[str] = set()
    for lang, mention in mentions:
        if mention.label != "PER":
            continue
        first = person_name(entity_of(mention)[1], "en").given
        if not first:
            continue
        english.add(first)
        for form in _forms(mention, lang):
            own = person_name(form, lang).given
            if own:
                a, b = find(own), find(first)
                if a != b:  # the English name stays the root
                    parent[a if b in english else b] = b if b in english else a
    return {key: find(key) for key in parent if find(key) != key}


def _add_places(keys: dict[str, dict[str, str]], names: dict[str, str]) -> None:
    """CLDR's country names and its time-zone cities (Київ, Киев, Kyiv, Kiew) in
    PLACE_LANGUAGES: a place's id comes from CLDR's English name (LOC:kyiv, not the corpus's
    LOC:kiev), and the corpus's names of it join it. A city named like a country is left out."""
    from babel import Locale

    locales = [Locale.parse(lang) for lang in PLACE_LANGUAGES]
    places = keys.setdefault("LOC", {})
    countries = {
        english: [loc.territories.get(code) for loc in locales]
        for code, english in locales[PLACE_LANGUAGES.index("en")].territories.items()
        if not code.isdigit() and code not in NOT_COUNTRIES
    }
    cities = {}
    for zone in locales[0].time_zones:
        if "/" not in zone or zone.startswith("Etc/"):
            continue
        english = zone.rsplit("/", 1)[1].replace("_", " ")  # CLDR omits English names it equals
        cities[english] = [
            loc.time_zones.get(zone, {}).get("city") or (english if loc.language == "en" else None)
            for loc in locales
        ]
    for kind, found in (("country", countries), ("city", cities)):
        for english, localised in found.items():
            place_keys = {match_key(n) for n in (english, *localised) if n}
            known = {places[k] for k in place_keys if k in places}
            if len(known) > 1 or (kind == "city" and match_key(english) in places):
                continue
            entity_id = f"LOC:{slug(english)}"
            if known and (corpus_id := known.pop()) != entity_id:
                _rename(keys, corpus_id, entity_id)
            names[entity_id] = english
            for key in place_keys:
                places.setdefault(key, entity_id)


def _rename(keys: dict[str, dict[str, str]], old: str, new: str) -> None:
    for by_key in keys.values():
        for key, entity_id in by_key.items():
            if entity_id == old:
                by_key[key] = new


# ---------------------------------------------------------------- evaluation


def b_cubed(predicted: Sequence[str], gold: Sequence[str]) -> dict[str, float]:
    """B-cubed precision, recall and F1 of a clustering of mentions against the gold one."""
    pairs = Counter(zip(predicted, gold, strict=True))
    sizes_p, sizes_g = Counter(predicted), Counter(gold)
    n = len(gold) or 1
    precision = sum(c * c / sizes_p[p] for (p, _), c in pairs.items()) / n
    recall = sum(c * c / sizes_g[g] for (_, g), c in pairs.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def evaluate_identity(documents: Sequence[GoldDocument], resolver: Resolver) -> dict[str, dict]:
    """On gold mentions (offsets and types from the corpus), the documents pooled: lemma
    accuracy of `canonical`, and B-cubed of the resolver's ids and of a per-language lemma id
    (the reference) against the corpus's cross-lingual ids; overall and per language."""
    rows = []  # (lang, canonical right, our id, lemma id, gold id)
    for doc in documents:
        forms = canonical_forms(
            [(m.label, doc.text, m.start, m.end) for m in doc.mentions], doc.lang
        )
        ids = resolver.resolve(
            [Mention(m.label, f) for m, f in zip(doc.mentions, forms, strict=True)], doc.lang
        )
        for m, form, entity_id in zip(doc.mentions, forms, ids, strict=True):
            rows.append(
                (doc.lang, form == m.lemma, entity_id, f"{doc.lang}:{m.label}:{m.lemma}", m.entity)
            )

    def scores(selected: list[tuple]) -> dict:
        return {
            "mentions": len(selected),
            "lemma_accuracy": round(sum(r[1] for r in selected) / max(len(selected), 1), 4),
            "b_cubed": b_cubed([r[2] for r in selected], [r[4] for r in selected]),
            "b_cubed_lemma_id": b_cubed([r[3] for r in selected], [r[4] for r in selected]),
        }

    report = scores(rows)
    report["by_language"] = {
        lang: scores([r for r in rows if r[0] == lang]) for lang in sorted({r[0] for r in rows})
    }
    return report


def evaluate_topics(
    data_dir: Path, aliases: Path | None = None, log: Callable[[str], None] = print
) -> dict[str, dict]:
    """evaluate_identity on each SlavicNER topic found under data_dir, twice: with the shipped
    alias table (`seen`: whether the topic helped build it), and with a table built from the
    other training topics only (`unseen_b_cubed`: what a topic new to the table gets)."""
    resolver = load_resolver(aliases)
    report = {}
    for topic in (HELD_OUT_TOPIC, *(t for t in SLAVICNER_TOPICS if t != HELD_OUT_TOPIC)):
        try:
            documents = slavicner_documents(topic, data_dir)
        except FileNotFoundError:
            continue  # a withheld topic
        scores = {"seen": topic in TRAINING_TOPICS, **evaluate_identity(documents, resolver)}
        if scores["seen"]:
            others = [t for t in TRAINING_TOPICS if t != topic]
            unseen = Resolver(build_aliases(data_dir, others))
            scores["unseen_b_cubed"] = evaluate_identity(documents, unseen)["b_cubed"]
        else:
            scores["unseen_b_cubed"] = scores["b_cubed"]
        report[topic] = scores
        log(
            f"{topic}: lemma accuracy {scores['lemma_accuracy']:.3f}, B-cubed F1 "
            f"{scores['b_cubed']['f1']:.3f}{' (seen)' if scores['seen'] else ''}, "
            f"unseen {scores['unseen_b_cubed']['f1']:.3f} "
            f"(per-language lemma id {scores['b_cubed_lemma_id']['f1']:.3f})"
        )
    return report
