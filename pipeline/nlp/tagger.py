"""The Tagger: a NER backend and a stance backend behind one `tag(documents)` call."""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import islice

from pipeline.nlp import canonical
from pipeline.nlp.identity import Resolver
from pipeline.nlp.person_gender import canonical_forms
from pipeline.nlp.spans import consistent_labels
from pipeline.nlp.targets import LemmaOverlap, TopicMatcher, judged, stance_queries
from pipeline.nlp.types import (
    FIELDS,
    Document,
    Entity,
    EntityRecognizer,
    EntitySpan,
    ModelInfo,
    Span,
    Stance,
    StanceClassifier,
    Tagging,
)


class ModelTagger:
    """Runs NER on every title and body, identifies the entities, then judges stance toward
    each entity (once, all its mentions as evidence), topic and span target.

    Either backend may be None (no entities / no stance): the `null` tagger has neither.
    """

    def __init__(
        self,
        ner: EntityRecognizer | None,
        stance: StanceClassifier | None,
        topics: Sequence[str] = (),
        matcher: TopicMatcher | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.ner = ner
        self.stance = stance
        self.topics = tuple(topics)
        self.matcher = matcher or LemmaOverlap()
        self.resolver = resolver
        self.models: list[ModelInfo] = [m.info for m in (ner, stance) if m is not None]
        if ner is not None:
            self.models.append(canonical.INFO)
        if ner is not None and resolver is not None:
            self.models.append(resolver.info)

    def tag(self, docs: Sequence[Document]) -> list[Tagging]:
        results = [Tagging() for _ in docs]
        started = time.perf_counter()
        all_entities = self._entities(docs)
        ner_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        if self.resolver is not None:
            all_entities = [
                self.resolver.identify(e, d.language)
                for d, e in zip(docs, all_entities, strict=True)
            ]
        identity_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        queries = [
            stance_queries(d, e, self.topics, self.matcher)
            for d, e in zip(docs, all_entities, strict=True)
        ]
        flat = [q for qs in queries for q in qs]
        scores = []
        if self.stance is not None:
            probs = self.stance.distributions([i for q in flat for i in q.inputs])
            scores = judged(probs, flat, self.stance.labels)
        stance_ms = (time.perf_counter() - started) * 1000
        answers = iter(scores)
        for result, entities, doc_queries in zip(results, all_entities, queries, strict=True):
            result.entities = entities
            if self.stance is not None:
                result.stance = [
                    Stance(
                        q.target, q.target_type, s.label, s.score, q.evidence, q.span, q.entity_id
                    )
                    for q, s in zip(doc_queries, islice(answers, len(doc_queries)), strict=True)
                ]
            # A batch's model time is shared evenly: what one article cost is not observable.
            result.timings_ms = {
                "ner": ner_ms / len(docs),
                "identity": identity_ms / len(docs),
                "stance": stance_ms / len(docs),
            }
        return results

    def _entities(self, docs: Sequence[Document]) -> list[list[Entity]]:
        if self.ner is None:
            return [[] for _ in docs]
        where = [(i, f) for i, doc in enumerate(docs) for f in FIELDS if doc.text(f).strip()]
        predictions = self.ner.predict([docs[i].text(f) for i, f in where])
        mentions: list[list[tuple[str, EntitySpan]]] = [[] for _ in docs]
        for (i, field_name), spans in zip(where, predictions, strict=True):
            mentions[i] += [(field_name, s) for s in spans]
        return [to_entities(doc, spans) for doc, spans in zip(docs, mentions, strict=True)]


def to_entities(doc: Document, mentions: Sequence[tuple[str, EntitySpan]]) -> list[Entity]:
    """The spans found in a document's fields as entities: one type per name (the likeliest
    over its mentions), each with its lemma; ids come later, from the resolver."""
    surfaces = [doc.text(f)[s.start : s.end] for f, s in mentions]
    labels = consistent_labels(
        [s.label for _, s in mentions],
        [s.score for _, s in mentions],
        [canonical.name_key(surface, doc.language) for surface in surfaces],
    )
    forms = canonical_forms(
        [
            (label, doc.text(f), s.start, s.end)
            for (f, s), label in zip(mentions, labels, strict=True)
        ],
        doc.language,
    )
    return [
        Entity(Span(f, s.start, s.end), surface, label, s.score, form)
        for (f, s), surface, label, form in zip(mentions, surfaces, labels, forms, strict=True)
    ]
