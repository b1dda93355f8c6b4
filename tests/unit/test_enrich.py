"""enrich() with the null tagger, a fake tagger, and the real hf backend on tiny models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from pipeline.contracts import entity_events, read_inputs, schema_errors
from pipeline.enrich import WARM_UP, Enricher
from pipeline.nlp import load_tagger
from pipeline.nlp.morph import MORPH_LANGUAGES
from pipeline.nlp.types import Document, EntitySpan, ModelInfo
from pipeline.settings import SEED_DIR, Settings
from tests.fake_taggers import FakeTagger

LANGUAGES = ("uk", "ru", "en")
TOPIC = "прямі переговори між Україною та Росією"


def seed_article() -> dict:
    return next(iter(read_inputs([SEED_DIR / "000_25d5417d1e5c359d.jsonl"]))).article


def assert_valid_enriched(record: dict, article: dict) -> None:
    assert schema_errors("enriched", orjson.loads(orjson.dumps(record))) == []
    for key, value in article.items():
        assert record[key] == value
    for ent in record["entities"]:
        assert record[ent["field"]][ent["start"] : ent["end"]] == ent["text"]
    for stance in record["stance"]:
        for span in stance["evidence"]:
            assert 0 <= span["start"] < span["end"] <= len(record[span["field"]])


def test_null_tagger_detects_language_and_keeps_every_field() -> None:
    article = seed_article()
    (record,) = Enricher(load_tagger("null"), LANGUAGES).enrich([article])
    assert_valid_enriched(record, article)
    assert (record["language"], record["language_source"]) == ("uk", "detected")
    assert record["language_confidence"] > 0.9
    assert record["entities"] == [] and record["stance"] == []


def test_given_language_is_kept() -> None:
    article = {"id": "x", "body": "Kyiv is the capital.", "language": "en"}
    (record,) = Enricher(load_tagger("null"), LANGUAGES).enrich([article])
    assert (record["language"], record["language_source"]) == ("en", "given")
    assert "language_confidence" not in record


def test_undeterminable_language_is_und() -> None:
    article = {"id": "n", "body": "12345 67890 !!!"}
    (record,) = Enricher(load_tagger("null"), LANGUAGES).enrich([article])
    assert_valid_enriched(record, article)
    assert (record["language"], record["language_confidence"]) == ("und", 0.0)


def test_enrich_each_isolates_the_failing_article() -> None:
    articles = [{"id": str(i), "body": "POISON" if i == 5 else f"text {i}"} for i in range(8)]
    results = Enricher(FakeTagger(), LANGUAGES).enrich_each(articles)
    assert [isinstance(r, Exception) for r in results] == [i == 5 for i in range(8)]
    assert [r["id"] for r in results if isinstance(r, dict)] == ["0", "1", "2", "3", "4", "6", "7"]


def test_entity_mentions_are_capped_with_a_warning() -> None:
    body = " ".join(["Kyiv Astana Ankara"] * 10)
    (capped, full) = [
        Enricher(FakeTagger(), LANGUAGES, max_entities=limit).enrich([{"id": "x", "body": body}])[0]
        for limit in (7, 30)
    ]
    assert [e["text"] for e in capped["entities"]] == [e["text"] for e in full["entities"][:7]]
    assert capped["warnings"] == [
        "entities: 30 mentions found, the first 7 kept (PIPELINE_MAX_ENTITIES)"
    ]
    assert "warnings" not in full and len(full["entities"]) == 30
    assert sum(len(e["mentions"]) for _, e in entity_events(capped)) == 7


def test_a_tagger_can_be_any_module_callable() -> None:
    tagger = load_tagger("tests.fake_taggers:from_env")
    assert isinstance(tagger, FakeTagger)
    with pytest.raises(ValueError, match=r"no callable 'nope' in tests\.fake_taggers"):
        load_tagger("tests.fake_taggers:nope")


def test_unknown_tagger_and_missing_models_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown tagger 'spacy'"):
        load_tagger("spacy")
    with pytest.raises(ValueError, match="PIPELINE_NER_MODEL"):
        load_tagger("hf")


def test_hf_backend_on_tiny_models(tiny_models: dict[str, Path]) -> None:
    tagger = load_tagger(
        "hf",
        ner_model=str(tiny_models["ner"]),
        stance_model=str(tiny_models["nli"]),
        topics=["peace talks"],
    )
    article = seed_article()
    long_article = {"id": "long", "body": " ".join([article["body"]] * 5), "language": "uk"}
    records = Enricher(tagger, LANGUAGES).enrich([article, long_article])
    for record, source in zip(records, [article, long_article], strict=True):
        assert_valid_enriched(record, source)
        assert {m["task"] for m in record["models"]} == {
            "ner",
            "stance",
            "langid",
            "canonical",
            "identity",
        }
    # a random model still predicts some labels; every span covers whole words
    entities = records[0]["entities"] + records[1]["entities"]
    assert entities, "a random 9-label model should tag something in ~1,500 words"
    for record in records:
        for ent in record["entities"]:
            text = record[ent["field"]]
            assert not (ent["start"] > 0 and text[ent["start"] - 1].isalnum())
            assert not (ent["end"] < len(text) and text[ent["end"]].isalnum())
    # the long body (> 64-token windows) has mentions beyond the first window
    assert max((e["end"] for e in records[1]["entities"]), default=0) > len(article["body"])
    targets = {(s["target_type"], s["target"]) for s in records[0]["stance"]}
    assert ("topic", TOPIC) in targets and ("topic", "peace talks") in targets
    assert all(s["label"] in {"favor", "against", "neutral"} for s in records[0]["stance"])
    topic = next(s for s in records[0]["stance"] if s["target"] == TOPIC)
    evidence = [records[0][e["field"]][e["start"] : e["end"]] for e in topic["evidence"]]
    assert any("прямих переговорів" in sentence for sentence in evidence)


class LastSentence:
    """A topic matcher that always picks the last sentence."""

    def select(self, topic: str, texts: Sequence[str], language: str) -> list[int]:
        return [len(texts) - 1]


def test_the_tagger_asks_its_topic_matcher(tiny_models: dict[str, Path]) -> None:
    from pipeline.nlp.hf import HFNliStance
    from pipeline.nlp.tagger import ModelTagger

    tagger = ModelTagger(None, HFNliStance(str(tiny_models["nli"])), ["talks"], LastSentence())
    body = "Kyiv hosted talks. Astana offered to host the next round."
    (record,) = Enricher(tagger, LANGUAGES).enrich([{"id": "m", "body": body}])
    (stance,) = record["stance"]
    assert stance["evidence"] == [{"field": "body", "start": 19, "end": len(body)}]


def test_span_targets_are_judged_with_their_sentence(tiny_models: dict[str, Path]) -> None:
    tagger = load_tagger("hf", stance_model=str(tiny_models["nli"]))
    body = "Kyiv hosted talks. Astana offered to host the next round."
    start = body.index("Astana")
    article = {"id": "s", "body": body, "targets": [{"start": start, "end": start + 6}]}
    (record,) = Enricher(tagger, LANGUAGES).enrich([article])
    (stance,) = record["stance"]
    assert (stance["target"], stance["target_type"]) == ("Astana", "span")
    assert (stance["start"], stance["end"]) == (start, start + 6)
    assert stance["evidence"] == [{"field": "body", "start": 19, "end": len(body)}]


class ScriptedNer:
    """A NER backend that finds, in each known text, the given (word, label, score) names."""

    info = ModelInfo("ner", "scripted", "1")

    def __init__(self, names: dict[str, list[tuple[str, str, float]]]) -> None:
        self.names = names

    def predict(self, texts: Sequence[str]) -> list[list[EntitySpan]]:
        return [
            sorted(
                (
                    EntitySpan(m.start(), m.end(), label, score)
                    for word, label, score in self.names[text]
                    for m in re.finditer(rf"\b{word}\b", text)
                ),
                key=lambda span: span.start,
            )
            for text in texts
        ]


def test_a_name_keeps_one_type_across_title_and_body_unless_a_mention_is_sure() -> None:
    from pipeline.nlp.tagger import ModelTagger

    title, body = "Брексіт і Мей", "Після Брексіту Мей поїхала."
    ner = ScriptedNer(
        {
            title: [("Брексіт", "EVT", 0.97), ("Мей", "PER", 0.99)],
            body: [("Брексіту", "ORG", 0.55), ("Мей", "ORG", 0.95)],
        }
    )
    (tagging,) = ModelTagger(ner, None).tag([Document(title, body, "uk")])
    found = [(e.span.field, e.text, e.label) for e in tagging.entities]
    assert found == [
        ("title", "Брексіт", "EVT"),
        ("title", "Мей", "PER"),
        ("body", "Брексіту", "EVT"),  # an unsure inflected form takes the title's type
        ("body", "Мей", "ORG"),  # a sure mention keeps its own
    ]


def test_the_warm_up_reads_every_language_with_dictionaries_before_serving() -> None:
    """Each dictionary language's analysers load in the warm-up, not on a live batch."""
    enricher = Enricher(load_tagger("null"), Settings().languages)
    assert set(MORPH_LANGUAGES) <= {record["language"] for record in enricher.enrich(WARM_UP)}
