"""The dashboard's rolling history, its top entities and the Prometheus counters behind them."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from pipeline.monitor.activity import BODY_SHOWN, LATEST_KEPT, Activity, showcase
from pipeline.monitor.entities import (
    MAX_FORMS,
    STEP_S,
    WINDOW_S,
    mention_key,
    recent,
    timeline,
    top_entities,
    with_names,
)
from pipeline.monitor.watchdog import Watchdog


def enriched(article_id: str, language: str = "uk", body: str = "Київ і Львів.") -> dict[str, Any]:
    return {
        "id": article_id,
        "title": "Зеленський",
        "body": body,
        "language": language,
        "entities": [
            {"field": "title", "start": 0, "end": 10, "label": "PER", "canonical": "Зеленський",
             "text": "Зеленський", "score": 0.9, "entity_id": "PER:zelenski"},
            {"field": "body", "start": 0, "end": 4, "label": "LOC", "canonical": "Київ",
             "text": "Київ", "score": 0.9, "entity_id": "LOC:kyiv"},
            {"field": "body", "start": 7, "end": 12, "label": "LOC", "canonical": "Львів",
             "text": "Львів", "score": 0.9, "entity_id": "LOC:lviv"},
        ],
        "stance": [
            {"target": "Київ", "target_type": "entity", "entity_id": "LOC:kyiv", "label": "favor",
             "score": 0.7, "evidence": []},
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
    # every entity of the article, also those past the part shown, for the entity view
    assert shown["entity_stance"] == {"PER:zelenski": None, "LOC:kyiv": "favor", "LOC:lviv": None}


def event(entity_id: str, language: str = "uk", stance: str | None = None) -> dict[str, Any]:
    name = entity_id.split(":")[-1]
    found = {"entity_id": entity_id, "language": language, "name": name, "forms": [name]}
    return found | ({"stance": {"label": stance, "score": 0.8}} if stance else {})


def test_top_entities_rank_ids_by_articles_and_mix_the_stances_over_languages() -> None:
    events = [
        event("LOC:kyiv", "uk", "favor"),
        event("LOC:kyiv", "ru", "against"),
        event("LOC:kyiv", "en"),
        event("LOC:lviv", "uk", "neutral"),
        event("PER:tut", "uk"),
    ]
    counts: dict[str, int] = {}
    for e in events:
        counts[mention_key(e)] = counts.get(mention_key(e), 0) + 1
    names = {"LOC:kyiv": {"name": "Київ", "forms": ["Київ", "Киев", "Kyiv"]}}
    top = top_entities([(k, 0.0, n) for k, n in counts.items()], names, per_label=1)
    zero = dict.fromkeys(("favor", "against", "neutral", "unjudged"), 0)
    assert top == {
        "LOC": [
            {
                "entity_id": "LOC:kyiv",
                "name": "Київ",
                "forms": ["Київ", "Киев", "Kyiv"],
                "articles": 3,
                "stance": zero | {"favor": 1, "against": 1, "unjudged": 1},
                "languages": {
                    "uk": zero | {"favor": 1},
                    "ru": zero | {"against": 1},
                    "en": zero | {"unjudged": 1},
                },
            }
        ],
        "PER": [  # a name not yet in the names table shows its id
            {"entity_id": "PER:tut", "name": "PER:tut", "forms": [], "articles": 1,
             "stance": zero | {"unjudged": 1}, "languages": {"uk": zero | {"unjudged": 1}}}
        ],
    }  # fmt: skip


def test_recent_keeps_only_windows_of_the_last_15_minutes_and_timeline_splits_them() -> None:
    now = 10_000_000.0
    kyiv = mention_key(event("LOC:kyiv", "uk", "favor"))
    windows = [
        ((kyiv, (now - 60, now - 0.1)), 2),
        ((mention_key(event("LOC:kyiv", "ru")), (now - 60, now - 0.1)), 1),
        ((kyiv, (now - WINDOW_S + STEP_S, now - WINDOW_S + 2 * STEP_S)), 1),
        ((mention_key(event("LOC:lviv")), (now - WINDOW_S - STEP_S, now - WINDOW_S)), 5),  # old
        ((kyiv, (now - 120, now - 60)), 0),  # a window's default
    ]
    counts = list(recent(windows, now))
    assert top_entities(counts, {})["LOC"][0]["articles"] == 4
    assert "LOC:lviv" not in str(counts)
    zero = dict.fromkeys(("favor", "against", "neutral", "unjudged"), 0)
    assert timeline(counts, "LOC:kyiv") == {
        "minutes": [now - WINDOW_S + STEP_S, now - 60],
        "languages": {
            "ru": [zero, zero | {"unjudged": 1}],
            "uk": [zero | {"favor": 1}, zero | {"favor": 2}],
        },
    }


def test_an_ids_name_stays_the_first_seen_and_its_forms_grow_bounded() -> None:
    first = with_names(
        None, event("PER:x") | {"name": "Володимир Зеленський", "forms": ["Зеленського"]}
    )
    assert first == {
        "name": "Володимир Зеленський",
        "forms": ["Володимир Зеленський", "Зеленського"],
    }
    later = with_names(
        first, event("PER:x") | {"name": "Volodymyr Zelensky", "forms": ["Zelensky"]}
    )
    assert later is not None and later["name"] == "Володимир Зеленський"
    assert later["forms"][-2:] == ["Volodymyr Zelensky", "Zelensky"]
    assert with_names(later, event("PER:x") | {"name": "Zelensky", "forms": ["Zelensky"]}) is None
    many = {"name": "a", "forms": [str(i) for i in range(MAX_FORMS)]}
    assert with_names(many, event("PER:x") | {"name": "new", "forms": ["newer"]}) is None
