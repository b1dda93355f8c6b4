"""Stance targets of a document and the sentences that serve as evidence for each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.nlp.canonical import lemmas
from pipeline.nlp.text import sentences
from pipeline.nlp.types import FIELDS, Document, Entity, Span

STANCE_LABELS = ("PER", "ORG", "LOC")  # entity types whose treatment is judged
MAX_ENTITY_TARGETS = 16  # the most mentioned entities of an article
MAX_EVIDENCE = 3  # sentences per target
MIN_TOPIC_OVERLAP = 0.5  # share of a topic's content lemmas a sentence must contain


@dataclass(frozen=True, slots=True)
class StanceQuery:
    target: str
    target_type: str
    evidence: tuple[Span, ...]
    premise: str
    span: Span | None = None


def _sentence_spans(doc: Document) -> list[Span]:
    return [Span(f, s, e) for f in FIELDS for s, e in sentences(doc.text(f))]


def _containing(spans: Sequence[Span], mention: Span) -> Span | None:
    for span in spans:
        if span.field == mention.field and span.start <= mention.start < span.end:
            return span
    return None


def _query(doc: Document, target: str, kind: str, evidence: Sequence[Span], **kw) -> StanceQuery:
    chosen = tuple(sorted(set(evidence), key=lambda s: (FIELDS.index(s.field), s.start)))
    chosen = chosen[:MAX_EVIDENCE]
    premise = " ".join(doc.text(s.field)[s.start : s.end] for s in chosen)
    return StanceQuery(target, kind, chosen, premise, **kw)


def _topic_evidence(doc: Document, topic: str, spans: Sequence[Span]) -> list[Span]:
    """Sentences sharing most content lemmas with the topic; the lead when none does."""
    wanted = lemmas(topic, doc.language)
    scored = []
    for span in spans:
        found = lemmas(doc.text(span.field)[span.start : span.end], doc.language)
        overlap = len(wanted & found) / max(len(wanted), 1)
        if overlap >= MIN_TOPIC_OVERLAP:
            scored.append((-overlap, span.start, span))
    if not scored:
        return list(spans[:2])
    return [span for *_, span in sorted(scored, key=lambda t: t[:2])[:MAX_EVIDENCE]]


def stance_queries(
    doc: Document, entities: Sequence[Entity], topics: Sequence[str]
) -> list[StanceQuery]:
    """One query per judged entity (by canonical name), topic and explicit span target."""
    spans = _sentence_spans(doc)
    if not spans:
        return []
    queries = []
    mentions: dict[str, list[Span]] = {}
    for ent in entities:
        if ent.label in STANCE_LABELS:
            mentions.setdefault(ent.canonical, []).append(ent.span)
    ranked = sorted(mentions.items(), key=lambda item: -len(item[1]))[:MAX_ENTITY_TARGETS]
    for name, spans_of_name in ranked:
        evidence = [s for m in spans_of_name if (s := _containing(spans, m)) is not None]
        queries.append(_query(doc, name, "entity", evidence))
    for target in dict.fromkeys((*doc.targets, *topics)):  # each target once, in order
        if isinstance(target, Span):
            text = doc.body[target.start : target.end]
            evidence = [s for s in [_containing(spans, target)] if s is not None]
            queries.append(_query(doc, text, "span", evidence, span=target))
        else:
            queries.append(_query(doc, target, "topic", _topic_evidence(doc, target, spans)))
    return queries
