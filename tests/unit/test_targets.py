"""Stance queries: evidence and premise stay bounded however the text is shaped."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.nlp.targets import MAX_PREMISE_CHARS, judged, stance_queries
from pipeline.nlp.types import Document, Entity, Span, StanceScore


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


def test_an_entity_is_judged_in_each_sentence_with_its_mentions_there_located() -> None:
    title, body = "Tokayev in Kyiv", "Kyiv is calm. Rain fell. Tokayev met Zelensky in Kyiv."
    doc = Document(title, body, "en")
    spans = [Span("title", 11, 15), Span("body", 0, 4), Span("body", 49, 53)]
    entities = [Entity(s, "Kyiv", "LOC", 0.9, "Kyiv", "LOC:kyiv") for s in spans]
    (query,) = stance_queries(doc, entities, ())
    texts = [i.text for i in query.inputs]
    assert texts == ["Tokayev in Kyiv", "Kyiv is calm.", "Tokayev met Zelensky in Kyiv."]
    assert [i.mentions for i in query.inputs] == [((11, 15),), ((0, 4),), ((24, 28),)]
    assert query.premise == "Tokayev in Kyiv Kyiv is calm. Tokayev met Zelensky in Kyiv."


def test_a_topic_is_judged_on_its_sentences_joined_with_no_mention() -> None:
    doc = Document("", "Peace talks failed. Peace talks resume.", "en")
    (query,) = stance_queries(doc, [], ["peace talks"])
    (single,) = query.inputs
    assert single.mentions == () and single.text == "Peace talks failed. Peace talks resume."


def test_a_querys_judgement_is_the_mean_of_its_inputs() -> None:
    doc = Document("", "Kyiv is calm. Kyiv is loud.", "en")
    entities = [
        Entity(Span("body", s, s + 4), "Kyiv", "LOC", 0.9, "Kyiv", "LOC:kyiv") for s in (0, 14)
    ]
    (query,) = stance_queries(doc, entities, ())
    probs = np.array([[0.5, 0.1, 0.4], [0.1, 0.1, 0.8]])
    (score,) = judged(probs, [query], ["favor", "against", "neutral"])
    assert score == StanceScore("neutral", 0.6)
