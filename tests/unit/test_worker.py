"""The worker's logic without a broker: admitting a batch and publishing what it produced."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from types import SimpleNamespace
from typing import Any

import orjson

from pipeline.contracts import schema_errors
from pipeline.worker.admit import Letter, admit, tagged
from pipeline.worker.faust_patches import FAUST_VERSION
from pipeline.worker.publish import Output, Publisher, Topics

TOPICS = Topics("articles.enriched", "articles.entities", "articles.dlq")


def event(offset: int, value: bytes, key: bytes | None = b"k") -> Any:
    message = SimpleNamespace(
        key=key, value=value, topic="articles", partition=0, offset=offset, timestamp=1.5,
        tp=("articles", 0),
    )  # fmt: skip
    return SimpleNamespace(message=message)


def article(article_id: str) -> bytes:
    return orjson.dumps({"id": article_id, "body": "Київ"})


def test_admit_refuses_bad_messages_and_ids_seen_at_another_offset() -> None:
    events = [
        event(0, article("a")),
        event(1, b"{not json"),
        event(2, article("a")),  # the same id again in the batch
        event(3, article("b")),  # accepted before at 0:3: a replay, not a duplicate
        event(4, article("c")),  # accepted before elsewhere
    ]
    accepted, letters = admit(events, {"b": "0:3", "c": "1:7"}, max_body_bytes=1000)
    assert [a["id"] for _, a in accepted] == ["a", "b"]
    assert [(lt.stage, lt.kind) for lt in letters] == [
        ("decode", "json"),
        ("validate", "duplicate_id"),
        ("validate", "duplicate_id"),
    ]
    assert "first accepted at partition:offset 1:7" in letters[2].reason


def test_articles_the_tagger_failed_on_become_letters() -> None:
    accepted = [(event(0, b""), {"id": "a"}), (event(1, b""), {"id": "b"})]
    records, letters = tagged(accepted, [{"id": "a", "x": 1}, RuntimeError("model failure")])
    assert [r for _, r in records] == [{"id": "a", "x": 1}]
    assert [(lt.kind, lt.article_id) for lt in letters] == [("tagger_error", "b")]
    assert "RuntimeError: model failure" in letters[0].reason


def enriched(article_id: str, entity_ids: list[str]) -> dict[str, Any]:
    return {
        "id": article_id,
        "language": "uk",
        "entities": [
            {"field": "body", "start": 0, "end": 4, "text": "Київ", "score": 0.9, "label": "LOC",
             "canonical": "Київ", "entity_id": i}
            for i in entity_ids
        ],
        "distinct_entities": [
            {"entity_id": i, "label": "LOC", "name": "Київ", "forms": ["Київ"], "mentions": 1}
            for i in entity_ids
        ],
        "stance": [],
    }  # fmt: skip


class Broker:
    """Acknowledges every record, except those of a topic and key it is told to refuse (the
    first `refusals` times)."""

    def __init__(self, refuse: tuple[str, bytes] | None = None, refusals: int = 1) -> None:
        self.refuse, self.refusals = refuse, refusals
        self.written: list[Output] = []

    async def send(self, output: Output) -> None:
        if self.refuse == (output.topic, output.key) and self.refusals > 0:
            self.refusals -= 1
            raise ConnectionError("broker went away")
        self.written.append(output)


def publish(broker: Broker, records: list, letters: list[Letter]) -> tuple[list, list[str]]:
    remembered: list[str] = []

    def remember(ev: Any, article_id: str) -> Output:
        remembered.append(article_id)
        return Output("article-ids-changelog", article_id.encode(), b"0:0", [], 0)

    publisher = Publisher(broker.send, TOPICS, remember, retry_s=0)
    return asyncio.run(publisher.publish(records, letters)), remembered


def test_an_article_is_published_with_its_entity_events_or_dead_lettered() -> None:
    broker = Broker(refuse=("articles.entities", b"LOC:lviv"))
    records = [
        (event(0, article("a"), key=b"a"), enriched("a", ["LOC:kyiv"])),
        (event(1, article("b"), key=b"b"), enriched("b", ["LOC:lviv"])),
    ]
    letters = [Letter(event(2, b"{", key=b"c"), "decode", "json", "not JSON")]
    published, remembered = publish(broker, records, letters)
    assert [r["id"] for _, r in published] == ["a"] and remembered == ["a"]
    by_topic: dict[str, list[Output]] = {}
    for output in broker.written:
        by_topic.setdefault(output.topic, []).append(output)
    assert [o.key for o in by_topic["articles.enriched"]] == [b"a", b"b"]
    assert [o.key for o in by_topic["articles.entities"]] == [b"LOC:kyiv"]
    assert all(
        dict(o.headers)["article-key"] in (b"a", b"b") for o in by_topic["articles.entities"]
    )
    dead = [orjson.loads(o.value) for o in by_topic["articles.dlq"]]
    assert [(d["stage"], d["article_id"]) for d in dead] == [("decode", None), ("emit", "b")]
    assert all(schema_errors("dlq", d) == [] for d in dead)
    assert [lt.kind for lt in letters] == ["json", "publish_error"]  # publish adds its own


def test_dead_letters_are_retried_until_the_broker_takes_them() -> None:
    broker = Broker(refuse=("articles.dlq", b"c"), refusals=3)
    letters = [Letter(event(2, b"{", key=b"c"), "decode", "json", "not JSON")]
    publish(broker, [], letters)
    assert [o.key for o in broker.written if o.topic == "articles.dlq"] == [b"c"]
    assert broker.refusals == 0


def test_the_faust_workarounds_were_written_for_the_installed_faust() -> None:
    assert version("faust-streaming") == FAUST_VERSION, "re-read pipeline/worker/faust_patches.py"
