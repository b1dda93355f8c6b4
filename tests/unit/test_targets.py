"""Stance queries: evidence and premise stay bounded however the text is shaped."""

from __future__ import annotations

from pipeline.nlp.targets import MAX_PREMISE_CHARS, stance_queries
from pipeline.nlp.types import Document, Entity, Span


def test_a_text_without_sentence_breaks_gives_a_bounded_premise() -> None:
    body = " ".join(["Kyiv Astana"] * 5000)  # 55,000 characters, no sentence end
    entities = [Entity(Span("body", 0, 4), "Kyiv", "LOC", 0.9, "Kyiv")]
    (query,) = stance_queries(Document("", body, "en"), entities, ())
    assert query.evidence == (Span("body", 0, len(body)),)
    assert query.premise == body[:MAX_PREMISE_CHARS]
