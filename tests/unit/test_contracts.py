"""Parsing, validation and record shapes, checked with the real JSON Schema validator."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pipeline.contracts import (
    InvalidArticle,
    article_from_text,
    check_article,
    dead_letter,
    decode_article,
    entity_events,
    read_inputs,
    schema_errors,
)
from pipeline.settings import SEED_DIR

LIMIT = 1_000_000


def test_seed_text_and_jsonl_describe_the_same_article() -> None:
    from_text, from_jsonl = (
        list(read_inputs([SEED_DIR / "000_25d5417d1e5c359d.txt"])),
        list(read_inputs([SEED_DIR / "000_25d5417d1e5c359d.jsonl"])),
    )
    text_article, json_article = from_text[0].article, from_jsonl[0].article
    assert text_article["id"] == json_article["id"] == "000_25d5417d1e5c359d"
    assert text_article["published_at"] == "2025-09-24"
    assert text_article["title"].startswith("Президент Казахстану заявив")
    assert text_article["body"].startswith("Казахстан не є посередником")
    for key in ("title", "body", "published_at"):
        assert text_article[key] == json_article[key]
    check_article(text_article, LIMIT)
    check_article(json_article, LIMIT)


def test_plain_text_becomes_a_body() -> None:
    assert article_from_text("  Just a note.\n", "n1") == {"id": "n1", "body": "Just a note."}


def test_folders_expand_and_bad_lines_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "1", "body": "x"}\n\n{broken\n', encoding="utf-8")
    (tmp_path / "b.json").write_text('[{"id": "2", "body": "y"}, {"id": "3", "body": "z"}]')
    (tmp_path / "ignored.csv").write_text("id,body")
    records = list(read_inputs([tmp_path]))
    assert [r.origin for r in records] == [
        f"{tmp_path}/a.jsonl:1",
        f"{tmp_path}/a.jsonl:3",
        f"{tmp_path}/b.json[0]",
        f"{tmp_path}/b.json[1]",
    ]
    assert records[1].article is None and records[1].error.startswith("invalid JSON")


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"body": "text"}, "'id' is a required property"),
        ({"id": "a", "body": ""}, "body: does not match minLength"),
        ({"id": "a", "body": "   "}, "body: does not match pattern"),
        ({"id": "a", "body": "x", "language": "ukr"}, "language: does not match pattern"),
        ({"id": "a", "body": "x", "published_at": "yesterday"}, "published_at"),
        ({"id": 5, "body": "x"}, "id: does not match type"),
        ({"id": "a", "body": "x", "targets": [{"start": 0}]}, "targets/0"),
        (["not", "an", "object"], "(root): does not match type"),
    ],
)
def test_schema_violations_have_precise_reasons(record: object, reason: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        check_article(record, LIMIT)
    assert (caught.value.stage, caught.value.kind) == ("validate", "schema")
    assert reason in caught.value.reason


def test_span_targets_must_lie_inside_the_body() -> None:
    check_article({"id": "a", "body": "abc", "targets": [{"start": 0, "end": 3}]}, LIMIT)
    with pytest.raises(InvalidArticle, match="span 1:9 is not inside body") as caught:
        check_article({"id": "a", "body": "abc", "targets": [{"start": 1, "end": 9}]}, LIMIT)
    assert caught.value.kind == "target_span"


def test_body_size_limit_counts_utf8_bytes() -> None:
    body = "ї" * 600  # 1,200 bytes in UTF-8
    check_article({"id": "a", "body": body}, 1200)
    with pytest.raises(
        InvalidArticle, match="body is 1200 bytes, over the limit of 1199"
    ) as caught:
        check_article({"id": "a", "body": body}, 1199)
    assert caught.value.kind == "too_large"


@pytest.mark.parametrize(
    ("raw", "kind", "reason"),
    [
        (b"", "empty", "empty message value"),
        (b'{"id": "a", "body": "\xff"}', "utf8", "invalid UTF-8 at byte 21"),
        (b'{"id": "a", "body": ', "json", "invalid JSON"),
        (bytes(range(256)), "utf8", "invalid UTF-8"),
    ],
)
def test_undecodable_messages(raw: bytes, kind: str, reason: str) -> None:
    with pytest.raises(InvalidArticle) as caught:
        decode_article(raw, LIMIT)
    assert (caught.value.stage, caught.value.kind) == ("decode", kind)
    assert reason in caught.value.reason


@pytest.mark.parametrize("depth", [900, 1023, 5000])
def test_deeply_nested_values_are_refused_not_crashed_on(depth: int) -> None:
    raw = b'{"id": "a", "body": ' + b"[" * depth + b"]" * depth + b"}"
    with pytest.raises(InvalidArticle) as caught:
        decode_article(raw, LIMIT)
    assert caught.value.reason.startswith(("schema: ", "invalid JSON"))


def test_reasons_never_echo_a_huge_value() -> None:
    with pytest.raises(InvalidArticle) as caught:
        decode_article(orjson.dumps({"id": "a" * 100_000, "body": "x"}), LIMIT)
    assert len(caught.value.reason) <= 300


def test_dead_letter_keeps_the_original_bytes_and_matches_its_schema() -> None:
    import base64

    raw = b"\x00\xffnot json"
    record = dead_letter(
        reason="invalid UTF-8",
        stage="decode",
        key=b"k1",
        value=raw,
        topic="articles",
        partition=2,
        offset=7,
        timestamp_ms=1,
    )
    assert schema_errors("dlq", orjson.loads(orjson.dumps(record))) == []
    assert base64.b64decode(record["value_base64"]) == raw
    assert record["value_size"] == len(raw)


def test_entity_events_are_one_per_entity_id_and_match_their_schema() -> None:
    enriched = {
        "id": "a1",
        "language": "uk",
        "source": "UNIAN",
        "entities": [
            {"field": "body", "start": 0, "end": 5, "text": "Трамп", "label": "PER",
             "score": 0.9, "canonical": "Трамп", "entity_id": "PER:donald-trump"},
            {"field": "body", "start": 10, "end": 24, "text": "Дональда Трампа", "label": "PER",
             "score": 0.8, "canonical": "Дональд Трамп", "entity_id": "PER:donald-trump"},
            {"field": "title", "start": 0, "end": 4, "text": "Київ", "label": "LOC",
             "score": 0.7, "canonical": "Київ", "entity_id": "LOC:kyiv"},
        ],
        "distinct_entities": [
            {"entity_id": "PER:donald-trump", "label": "PER", "name": "Дональд Трамп",
             "forms": ["Дональда Трампа", "Трамп"], "mentions": 2},
            {"entity_id": "LOC:kyiv", "label": "LOC", "name": "Київ", "forms": ["Київ"],
             "mentions": 1},
        ],
        "stance": [
            {"target": "Дональд Трамп", "target_type": "entity", "entity_id": "PER:donald-trump",
             "label": "against", "score": 0.6, "evidence": []},
        ],
    }  # fmt: skip
    events = dict(entity_events(enriched))
    assert list(events) == ["PER:donald-trump", "LOC:kyiv"]
    trump = events["PER:donald-trump"]
    assert [m["text"] for m in trump["mentions"]] == ["Трамп", "Дональда Трампа"]
    assert (trump["name"], trump["forms"]) == ("Дональд Трамп", ["Дональда Трампа", "Трамп"])
    assert trump["stance"] == {"label": "against", "score": 0.6}
    assert "stance" not in events["LOC:kyiv"]
    for event in events.values():
        assert schema_errors("entity", event) == []
