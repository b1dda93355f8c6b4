"""The dashboard's rolling history, its top entities and the Prometheus counters behind them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from pipeline.monitor.activity import BODY_SHOWN, LATEST_KEPT, Activity, showcase
from pipeline.monitor.entities import STEP_S, WINDOW_S, mention_key, recent, top_entities
from pipeline.monitor.watchdog import Watchdog


def enriched(article_id: str, language: str = "uk", body: str = "Київ і Львів.") -> dict[str, Any]:
    return {
        "id": article_id,
        "title": "Зеленський",
        "body": body,
        "language": language,
        "entities": [
            {"field": "title", "start": 0, "end": 10, "label": "PER", "canonical": "Зеленський",
             "text": "Зеленський", "score": 0.9},
            {"field": "body", "start": 0, "end": 4, "label": "LOC", "canonical": "Київ",
             "text": "Київ", "score": 0.9},
            {"field": "body", "start": 7, "end": 12, "label": "LOC", "canonical": "Львів",
             "text": "Львів", "score": 0.9},
        ],
        "stance": [
            {"target": "Київ", "target_type": "entity", "label": "favor", "score": 0.7,
             "evidence": []},
            {"target": "переговори", "target_type": "topic", "label": "neutral", "score": 0.6,
             "evidence": []},
        ],
        "enriched_at": "2026-11-25T10:00:00.000Z",
    }  # fmt: skip


def sample_value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_sample_turns_one_interval_into_rates_and_quantiles() -> None:
    activity = Activity("articles", Watchdog(30, 300))
    before = sample_value("pipeline_dead_letters_total", stage="decode", reason="json")
    activity.record_batch(
        size=4,
        tag_seconds=0.5,
        enriched=[(time.time() - 1.0, enriched("a")), (None, enriched("b", "en"))],
        dead_letters=[("decode", "json"), ("decode", "json")],
    )
    activity.record_batch(size=2, tag_seconds=1.5, enriched=[], dead_letters=[])
    point = activity.sample({0: 3, 1: 0})

    elapsed = 6 / point["consumed_per_s"]  # the same interval divides every rate
    assert point["enriched_per_s"] * elapsed == pytest.approx(2)
    assert point["dead_letters_per_s"]["json"] * elapsed == pytest.approx(2)
    assert point["tag_p50_s"] == pytest.approx(1.0)
    assert point["batch_size_mean"] == 3.0
    assert 1.0 <= point["latency_p50_s"] < 2.0  # only the article with a timestamp
    assert point["lag"] == {"0": 3, "1": 0}
    assert point["languages"] == {"uk": 1, "en": 1}
    assert sample_value("pipeline_dead_letters_total", stage="decode", reason="json") == before + 2
    assert sample_value("pipeline_consumer_lag", topic="articles", partition="0") == 3

    empty = activity.sample({})
    assert empty["consumed_per_s"] == 0 and empty["tag_p50_s"] is None
    assert sample_value("pipeline_consumer_lag", topic="articles", partition="0") == 0
    assert activity.totals == {"enriched": 2, "dead_letters": 2}
    assert activity.languages() == {"uk": 1, "en": 1}
    assert [a["id"] for a in activity.latest] == ["b", "a"]


def test_latest_articles_are_bounded_and_newest_first() -> None:
    activity = Activity("articles", Watchdog(30, 300))
    for i in range(LATEST_KEPT + 3):
        activity.record_batch(1, 0.1, [(None, enriched(f"a{i}"))], [])
    assert len(activity.latest) == LATEST_KEPT
    assert activity.latest[0]["id"] == f"a{LATEST_KEPT + 2}"


def test_showcase_keeps_the_entities_of_the_part_shown_with_their_stance() -> None:
    long_body = "Київ " + "x" * BODY_SHOWN + " Львів"
    record = enriched("long", body=long_body)
    record["entities"][2] |= {"start": len(long_body) - 5, "end": len(long_body)}
    shown = showcase(record)
    assert len(shown["body"]) == BODY_SHOWN and shown["truncated"] is True
    assert [(e["canonical"], e["stance"]) for e in shown["entities"]] == [
        ("Зеленський", None),
        ("Київ", "favor"),
    ]
    assert shown["topics"] == [{"target": "переговори", "label": "neutral", "score": 0.6}]


def test_top_entities_rank_by_articles_and_mix_the_stances() -> None:
    events = [
        {"label": "LOC", "canonical": "Київ", "stance": {"label": "favor", "score": 0.8}},
        {"label": "LOC", "canonical": "Київ", "stance": {"label": "against", "score": 0.8}},
        {"label": "LOC", "canonical": "Київ"},
        {"label": "LOC", "canonical": "Львів", "stance": {"label": "neutral", "score": 0.8}},
        {"label": "PER", "canonical": "Тут\tтаб"},
    ]
    counts: dict[str, int] = {}
    for event in events:
        counts[mention_key(event)] = counts.get(mention_key(event), 0) + 1
    counts[mention_key({"label": "ORG", "canonical": "expired"})] = 0  # a window's default

    top = top_entities(counts.items(), per_label=1)
    assert top == {
        "LOC": [
            {
                "canonical": "Київ",
                "articles": 3,
                "stance": {"favor": 1, "against": 1, "neutral": 0, "unjudged": 1},
            }
        ],
        "PER": [
            {
                "canonical": "Тут\tтаб",
                "articles": 1,
                "stance": {"favor": 0, "against": 0, "neutral": 0, "unjudged": 1},
            }
        ],
    }


def test_recent_sums_only_windows_of_the_last_15_minutes() -> None:
    now = 10_000_000.0
    windows = [
        (("LOC\tfavor\tКиїв", (now - 60, now - 0.1)), 2),
        (("LOC\tfavor\tКиїв", (now - WINDOW_S + STEP_S, now - WINDOW_S + 2 * STEP_S)), 1),
        (("LOC\tfavor\tЛьвів", (now - WINDOW_S - STEP_S, now - WINDOW_S)), 5),  # too old
    ]
    top = top_entities(recent(windows, now))
    assert top == {"LOC": [{"canonical": "Київ", "articles": 3, "stance": {
        "favor": 3, "against": 0, "neutral": 0, "unjudged": 0}}]}  # fmt: skip
