"""Stance targets of a document and the sentences that serve as evidence for each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pipeline.nlp.canonical import lemmas
from pipeline.nlp.identity import by_fullness
from pipeline.nlp.text import sentences
from pipeline.nlp.types import FIELDS, Document, Entity, Span, StanceInput

MAX_ENTITY_TARGETS = 16  # the most mentioned entities of an article
MAX_EVIDENCE = 3  # sentences per target
# What a model reads of the evidence: ~512 tokens. Text without sentence breaks (a list of
# names) is one huge "sentence"; tokenising all of it for each target cost 640 MB.
MAX_PREMISE_CHARS = 2000
MIN_TOPIC_OVERLAP = 0.5  # share of a topic's content lemmas a sentence must contain


@dataclass(frozen=True, slots=True)
class StanceQuery:
    target: str
    target_type: str
    evidence: tuple[Span, ...]
    premise: str
    mentions: tuple[tuple[int, int], ...] = ()  # the target's mentions in premise
    span: Span | None = None
    entity_id: str | None = None

    def as_input(self) -> StanceInput:
        return StanceInput(self.target, self.premise, self.mentions)


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
    """The evidence sentences joined into one premise, the target's mentions located in it."""
    chosen = tuple(sorted(set(evidence), key=lambda s: (FIELDS.index(s.field), s.start)))
    chosen = chosen[:MAX_EVIDENCE]
    texts, located, at = [], [], 0
    for sentence in chosen:
        for m in mentions:
            if m.field == sentence.field and sentence.start <= m.start < m.end <= sentence.end:
                located.append((at + m.start - sentence.start, at + m.end - sentence.start))
        texts.append(doc.text(sentence.field)[sentence.start : sentence.end])
        at += len(texts[-1]) + 1
    premise = " ".join(texts)[:MAX_PREMISE_CHARS]
    inside = tuple(sorted((s, e) for s, e in located if e <= len(premise)))
    return StanceQuery(target, kind, chosen, premise, inside, **kw)


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
