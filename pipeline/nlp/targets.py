"""Stance targets of a document and the sentences that serve as evidence for each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from pipeline.nlp.canonical import lemmas
from pipeline.nlp.identity import by_fullness
from pipeline.nlp.text import sentences
from pipeline.nlp.types import FIELDS, Document, Entity, Span, StanceInput, StanceScore

MAX_ENTITY_TARGETS = 16  # the most mentioned entities of an article
MAX_EVIDENCE = 3  # sentences per target
# What a model reads of the evidence: ~512 tokens. Text without sentence breaks (a list of
# names) is one huge "sentence"; tokenising all of it for each target cost 640 MB.
MAX_PREMISE_CHARS = 2000
MIN_TOPIC_OVERLAP = 0.5  # share of a topic's content lemmas a sentence must contain


@dataclass(frozen=True, slots=True)
class StanceQuery:
    """One stance judgement to make. An entity or span is judged in each evidence sentence
    alone, from its mentions there, and the judgements averaged: the stance head learned from
    single sentences. A topic is judged on its sentences joined."""

    target: str
    target_type: str
    evidence: tuple[Span, ...]
    inputs: tuple[StanceInput, ...]
    span: Span | None = None
    entity_id: str | None = None

    @property
    def premise(self) -> str:
        return " ".join(i.text for i in self.inputs)


def _sentence_spans(doc: Document) -> list[Span]:
    return [Span(f, s, e) for f in FIELDS for s, e in sentences(doc.text(f))]


def _containing(spans: Sequence[Span], mention: Span) -> Span | None:
    for span in spans:
        if span.field == mention.field and span.start <= mention.start < span.end:
            return span
    return None


def _query(
    doc: Document,
    target: str,
    kind: str,
    evidence: Sequence[Span],
    mentions: Sequence[Span] = (),
    **kw,
) -> StanceQuery:
    """The first evidence sentences, each with the target's mentions in it located."""
    chosen = tuple(sorted(set(evidence), key=lambda s: (FIELDS.index(s.field), s.start)))
    chosen = chosen[:MAX_EVIDENCE]
    texts = [doc.text(s.field)[s.start : s.end][:MAX_PREMISE_CHARS] for s in chosen]
    if not mentions or not chosen:  # a topic; or nothing to read, judged all the same
        inputs = (StanceInput(target, " ".join(texts)[:MAX_PREMISE_CHARS]),)
    else:
        inputs = tuple(
            StanceInput(target, text, tuple(
                (m.start - s.start, m.end - s.start) for m in mentions
                if m.field == s.field and s.start <= m.start < m.end <= s.start + len(text)
            ))
            for s, text in zip(chosen, texts, strict=True)
        )  # fmt: skip
    return StanceQuery(target, kind, chosen, inputs, **kw)


def judged(
    probs: np.ndarray, queries: Sequence[StanceQuery], labels: Sequence[str]
) -> list[StanceScore]:
    """Each query's label and score: the mean of its inputs' probabilities (rows of probs, in
    the order of the queries' inputs)."""
    scores, at = [], 0
    for query in queries:
        mean = probs[at : at + len(query.inputs)].mean(0)
        at += len(query.inputs)
        best = int(mean.argmax())
        scores.append(StanceScore(labels[best], round(float(mean[best]), 4)))
    return scores


class TopicMatcher(Protocol):
    """Chooses the sentences that discuss a topic (indices, best first; empty for none)."""

    def select(self, topic: str, texts: Sequence[str], language: str) -> list[int]: ...


class LemmaOverlap:
    """Sentences containing at least half of the topic's content lemmas, most first."""

    def select(self, topic: str, texts: Sequence[str], language: str) -> list[int]:
        wanted = lemmas(topic, language)
        scored = []
        for i, text in enumerate(texts):
            overlap = len(wanted & lemmas(text, language)) / max(len(wanted), 1)
            if overlap >= MIN_TOPIC_OVERLAP:
                scored.append((-overlap, i))
        return [i for _, i in sorted(scored)[:MAX_EVIDENCE]]


def _topic_evidence(
    doc: Document, topic: str, spans: Sequence[Span], matcher: TopicMatcher
) -> list[Span]:
    """The matcher's sentences; the lead when it finds none."""
    texts = [doc.text(s.field)[s.start : min(s.end, s.start + MAX_PREMISE_CHARS)] for s in spans]
    chosen = matcher.select(topic, texts, doc.language)[:MAX_EVIDENCE]
    return [spans[i] for i in chosen] if chosen else list(spans[:2])


def stance_queries(
    doc: Document,
    entities: Sequence[Entity],
    topics: Sequence[str],
    matcher: TopicMatcher | None = None,
) -> list[StanceQuery]:
    """One query per judged entity (by entity id: all its mentions' sentences are evidence,
    its fullest name the target), topic and explicit span target."""
    spans = _sentence_spans(doc)
    if not spans:
        return []
    queries = []
    mentions: dict[str, list[Entity]] = {}
    for ent in entities:  # every type: stance toward Brexit or Sputnik V is news too
        mentions.setdefault(ent.entity_id or ent.canonical, []).append(ent)
    ranked = sorted(mentions.items(), key=lambda item: -len(item[1]))[:MAX_ENTITY_TARGETS]
    for entity_id, of_entity in ranked:
        evidence = [s for m in of_entity if (s := _containing(spans, m.span)) is not None]
        name = by_fullness(m.canonical for m in of_entity)[0]
        spans_of = [m.span for m in of_entity]
        queries.append(_query(doc, name, "entity", evidence, spans_of, entity_id=entity_id))
    for target in dict.fromkeys((*doc.targets, *topics)):  # each target once, in order
        if isinstance(target, Span):
            text = doc.body[target.start : target.end]
            evidence = [s for s in [_containing(spans, target)] if s is not None]
            queries.append(_query(doc, text, "span", evidence, [target], span=target))
        else:
            evidence = _topic_evidence(doc, target, spans, matcher or LemmaOverlap())
            queries.append(_query(doc, target, "topic", evidence))
    return queries
