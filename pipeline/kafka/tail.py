"""`pipeline tail`: read a topic with kafka-python and print records as JSON Lines or pretty."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterable
from contextlib import closing
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
) -> Generator[ConsumerRecord, None, None]:
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


def collect(
    settings: Settings,
    topic: str,
    keys: Iterable[bytes] | None,
    timeout_s: float = 120,
    pass_s: float = 15,
) -> dict[bytes, list[ConsumerRecord]]:
    """Records of `topic` by key, from the beginning, until every wanted key was seen or
    timeout_s passed (keys=None: everything there is, until timeout_s of silence). A reader that
    has not seen a wanted key within pass_s of silence gives way to a fresh one, so that a reader
    that missed a partition's records is not waited on for the rest of the timeout."""
    if keys is None:
        return _by_key(read_topic(settings, topic, from_beginning=True, timeout_s=timeout_s))
    wanted, found = set(keys), {}
    deadline = time.monotonic() + timeout_s
    while not wanted <= found.keys() and (left := deadline - time.monotonic()) > 0:
        records = read_topic(settings, topic, from_beginning=True, timeout_s=min(pass_s, left))
        found.update(_by_key(records, until=wanted))  # a later pass sees at least as much
    return found


def _by_key(
    records: Generator[ConsumerRecord, None, None], until: set[bytes] | None = None
) -> dict[bytes, list[ConsumerRecord]]:
    """Records by key; the reader is closed as soon as every key of `until` was seen."""
    found: dict[bytes, list[ConsumerRecord]] = {}
    with closing(records):
        for record in records:
            found.setdefault(record.key, []).append(record)
            if until is not None and until <= found.keys():
                break
    return found


def decode(record: ConsumerRecord) -> Any:
    try:
        return orjson.loads(record.value)
    except (orjson.JSONDecodeError, TypeError):
        return {"undecodable_value": repr(record.value[:200])}
