"""Stance queries: evidence and premise stay bounded however the text is shaped."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.nlp.targets import MAX_PREMISE_CHARS, stance_queries
from pipeline.nlp.types import Document, Entity, Span


def test_a_text_without_sentence_breaks_gives_a_bounded_premise() -> None:
    body = " ".join(["Kyiv Astana"] * 5000)  # 55,000 characters, no sentence end
    entities = [Entity(Span("body", 0, 4), "Kyiv", "LOC", 0.9, "Kyiv")]
    (query,) = stance_queries(Document("", body, "en"), entities, ())
    assert query.evidence == (Span("body", 0, len(body)),)
    assert query.premise == body[:MAX_PREMISE_CHARS]


class RecordingMatcher:
    """Chooses the last sentence and remembers what it was shown."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def select(self, topic: str, texts: Sequence[str], language: str) -> list[int]:
        self.texts = list(texts)
        return [len(texts) - 1]


def test_a_topic_matcher_sees_each_sentence_alone() -> None:
    body = "Talks start today. " + "Kyiv and Lviv " * 200 + "are cities. Peace talks failed."
    matcher = RecordingMatcher()
    (query,) = stance_queries(Document("Title", body, "en"), [], ["peace talks"], matcher)
    assert matcher.texts[0] == "Title"
    assert matcher.texts[1] == "Talks start today."
    assert len(matcher.texts[2]) == MAX_PREMISE_CHARS  # a huge sentence is cut
    assert matcher.texts[3] == "Peace talks failed."
    assert query.premise == "Peace talks failed."


def test_every_mention_of_an_entity_is_located_in_its_premise() -> None:
    title, body = "Tokayev in Kyiv", "Kyiv is calm. Rain fell. Tokayev met Zelensky in Kyiv."
    doc = Document(title, body, "en")
    spans = [Span("title", 11, 15), Span("body", 0, 4), Span("body", 49, 53)]
    entities = [Entity(s, "Kyiv", "LOC", 0.9, "Kyiv", "LOC:kyiv") for s in spans]
    (query,) = stance_queries(doc, entities, ())
    assert query.premise == "Tokayev in Kyiv Kyiv is calm. Tokayev met Zelensky in Kyiv."
    assert [query.premise[s:e] for s, e in query.mentions] == ["Kyiv"] * 3
    assert query.mentions[0] == (11, 15) and query.as_input().mentions == query.mentions


def test_a_topic_has_no_mentions_to_mark() -> None:
    doc = Document("", "Peace talks failed.", "en")
    (query,) = stance_queries(doc, [], ["peace talks"])
    assert query.mentions == () and query.premise == "Peace talks failed."
