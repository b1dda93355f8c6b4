"""`pipeline produce`: validate articles from files and send them, keyed by id, with acks=all."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from kafka import KafkaProducer
from tqdm import tqdm

from pipeline.contracts import InputRecord, InvalidArticle, check_article, read_inputs
from pipeline.kafka.admin import INPUT_MAX_BYTES, ensure_topics
from pipeline.kafka.security import client_config
from pipeline.settings import Settings


@dataclass
class ProduceReport:
    sent: int = 0
    invalid: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.invalid or self.failed)


def produce_files(
    paths: Iterable[Path], settings: Settings, progress: bool = True
) -> ProduceReport:
    """Send every valid article of the input files to the articles topic; report the rest."""
    return produce_records(read_inputs(paths), settings, progress)


def produce_records(
    records: Iterable[InputRecord], settings: Settings, progress: bool = True
) -> ProduceReport:
    """Send every valid article to the articles topic, keyed by id; report the rest."""
    ensure_topics(settings)
    report = ProduceReport()
    started = time.perf_counter()
    producer = KafkaProducer(
        **client_config(settings),
        client_id="pipeline-produce",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=INPUT_MAX_BYTES,
    )
    pending = []
    bar = tqdm(unit=" articles", disable=not progress or not sys.stderr.isatty(), leave=False)
    try:
        for record in records:
            if record.error is not None:
                report.invalid.append((record.origin, record.error))
                continue
            try:
                article = check_article(record.article, settings.max_body_bytes)
            except InvalidArticle as exc:
                report.invalid.append((record.origin, exc.reason))
                continue
            future = producer.send(
                settings.topic_articles,
                key=article["id"].encode("utf-8"),
                value=orjson.dumps(article),
            )
            pending.append((record.origin, future))
            bar.update()
        producer.flush()
        for origin, future in pending:
            try:
                future.get(timeout=0)
                report.sent += 1
            except Exception as exc:  # any delivery error is reported per record
                report.failed.append((origin, f"{type(exc).__name__}: {exc}"))
    finally:
        bar.close()
        producer.close()
    report.seconds = time.perf_counter() - started
    return report
