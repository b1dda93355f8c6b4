"""`pipeline tail`: read a topic with kafka-python and print records as JSON Lines or pretty."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from kafka import KafkaConsumer
from kafka.consumer.fetcher import ConsumerRecord

from pipeline.kafka.admin import OUTPUT_MAX_BYTES
from pipeline.kafka.security import client_config
from pipeline.settings import Settings


def read_topic(
    settings: Settings,
    topic: str,
    *,
    from_beginning: bool = False,
    timeout_s: float | None = None,
) -> Iterator[ConsumerRecord]:
    """Committed records of `topic` (all partitions, no consumer group); stops after timeout_s
    seconds without a new record, or when the caller stops iterating. read_committed: records of
    a transactional producer's aborted transactions are never shown (the worker writes none)."""
    consumer = KafkaConsumer(
        topic,
        **client_config(settings),
        client_id="pipeline-tail",
        group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False,
        isolation_level="read_committed",
        consumer_timeout_ms=int(timeout_s * 1000) if timeout_s else float("inf"),
        max_partition_fetch_bytes=OUTPUT_MAX_BYTES,
        fetch_max_bytes=OUTPUT_MAX_BYTES,
    )
    try:
        yield from consumer
    finally:
        consumer.close()


def decode(record: ConsumerRecord) -> Any:
    try:
        return orjson.loads(record.value)
    except (orjson.JSONDecodeError, TypeError):
        return {"undecodable_value": repr(record.value[:200])}
