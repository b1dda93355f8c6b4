"""Bad input on the real broker: each case dead-lettered with a precise reason and its original
bytes, the worker keeps running, valid articles around them are enriched, nothing is lost."""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

import orjson
import pytest
from kafka import KafkaProducer

from pipeline.contracts import schema_errors
from pipeline.kafka.admin import INPUT_MAX_BYTES
from pipeline.kafka.tail import collect
from pipeline.local import WorkerProcess
from pipeline.settings import Settings
from tests.conftest import free_port

pytestmark = pytest.mark.integration


def article(article_id: str, body: str = "Kyiv and Astana discussed talks.", **extra) -> bytes:
    return orjson.dumps({"id": article_id, "body": body, **extra})


# key → (value bytes, stage, words the reason must contain)
BAD = {
    "bad-json": (b'{"id": "bad-json", "body": ', "decode", "invalid JSON"),
    "bad-schema": (article("bad-schema", language="Ukrainian"), "validate", "language"),
    "bad-empty": (article("bad-empty", body=""), "validate", "body: does not match minLength"),
    "bad-no-body": (orjson.dumps({"id": "bad-no-body"}), "validate", "'body' is a required"),
    "bad-utf8": (b'{"id": "bad-utf8", "body": "\xd0"}', "decode", "invalid UTF-8 at byte 28"),
    "bad-binary": (b"\xff\xd8\xff\xe0" + os.urandom(4096), "decode", "invalid UTF-8 at byte 0"),
    "bad-empty-value": (b"", "decode", "empty message value"),
    "bad-big": (article("bad-big", body="a" * 1_500_000), "validate", "over the limit of 1000000"),
    # near the broker's 8 MB limit: it reaches the worker and is dead-lettered, not refused
    "bad-huge": (article("bad-huge", body="б" * 3_500_000), "validate", "body is 7000000 bytes"),
}


def test_bad_input_is_dead_lettered_and_nothing_is_lost(
    pipeline_settings: Settings, worker: WorkerProcess
) -> None:
    producer = KafkaProducer(
        bootstrap_servers=pipeline_settings.broker, acks="all", max_request_size=INPUT_MAX_BYTES
    )
    sent: dict[bytes, list[bytes]] = {}

    def send(key: str, value: bytes) -> None:
        producer.send(pipeline_settings.topic_articles, key=key.encode(), value=value).get(30)
        sent.setdefault(key.encode(), []).append(value)

    for i, (key, (value, _, _)) in enumerate(BAD.items()):
        send(f"good-{i}", article(f"good-{i}"))
        send(key, value)
    send("dup", article("dup", body="First version."))
    send("dup", article("dup", body="Second version."))
    producer.close()

    dlq = collect(
        pipeline_settings, pipeline_settings.topic_dlq, [k.encode() for k in BAD] + [b"dup"]
    )
    good = [f"good-{i}".encode() for i in range(len(BAD))]
    enriched = collect(pipeline_settings, pipeline_settings.topic_enriched, [*good, b"dup"])

    # every produced key is accounted for
    assert set(sent) <= set(dlq) | set(enriched)
    assert set(good) | {b"dup"} <= set(enriched)
    for key, (value, stage, reason) in BAD.items():
        (message,) = dlq[key.encode()]
        letter = orjson.loads(message.value)
        assert schema_errors("dlq", letter) == []
        assert letter["stage"] == stage
        assert reason in letter["reason"], letter["reason"]
        assert base64.b64decode(letter["value_base64"]) == value
        assert letter["source"]["topic"] == pipeline_settings.topic_articles
        assert base64.b64decode(letter["key_base64"]) == key.encode()

    # a duplicate id: the first is enriched, the second dead-lettered naming the first
    (first,) = enriched[b"dup"]
    assert orjson.loads(first.value)["body"] == "First version."
    (duplicate,) = dlq[b"dup"]
    letter = orjson.loads(duplicate.value)
    assert letter["reason"].startswith("duplicate id 'dup': first accepted at partition:offset")
    assert base64.b64decode(letter["value_base64"]) == sent[b"dup"][1]

    assert worker.ready()


def test_accepted_ids_are_remembered_across_a_restart(
    pipeline_settings: Settings, tmp_path: Path
) -> None:
    """The dedup table is restored from its changelog, which the agent writes itself: an id
    accepted before a restart is still refused after it, naming where it was first accepted."""
    settings = pipeline_settings.isolated(
        f"restart-{uuid.uuid4().hex[:8]}", web_port=free_port(), data_dir=tmp_path
    )
    producer = KafkaProducer(bootstrap_servers=settings.broker, acks="all")

    def send(body: str) -> None:
        producer.send(settings.topic_articles, key=b"again", value=article("again", body)).get(30)

    with WorkerProcess(settings).running(ready_timeout_s=240):
        send("Before the restart.")
        assert b"again" in collect(settings, settings.topic_enriched, [b"again"])
    with WorkerProcess(settings).running(ready_timeout_s=240):
        send("After the restart.")
        (letter,) = collect(settings, settings.topic_dlq, [b"again"])[b"again"]
    producer.close()

    first, second = collect(settings, settings.topic_articles, None, timeout_s=5)[b"again"]
    assert orjson.loads(letter.value)["reason"] == (
        f"duplicate id 'again': first accepted at partition:offset {first.partition}:{first.offset}"
    )
    assert orjson.loads(letter.value)["source"]["offset"] == second.offset
