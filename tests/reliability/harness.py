"""Tools of the reliability suite: paced producing, faults, and an account of every key."""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field

import orjson
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from pipeline.kafka.admin import INPUT_MAX_BYTES, OUTPUT_MAX_BYTES
from pipeline.settings import Settings

SENTENCES = (
    "Київ і Астана обговорили прямі переговори.",
    "Токаєв заявив, що Казахстан готовий бути майданчиком.",
    "Москва не відповіла на пропозицію Анкари.",
    "Kyiv and Ankara discussed a ceasefire in Istanbul.",
    "В Кремле прокомментировали заявление Токаева.",
)


def articles(prefix: str, count: int, marker: str = "") -> list[tuple[bytes, bytes]]:
    """(key, value) of `count` valid articles with unique ids; `marker` goes into every body."""
    out = []
    for i in range(count):
        article_id = f"{prefix}-{i:05d}"
        body = " ".join(SENTENCES[(i + j) % len(SENTENCES)] for j in range(3))
        article = {"id": article_id, "title": f"Новини {i}", "body": f"{body} {marker}".strip()}
        out.append((article_id.encode(), orjson.dumps(article)))
    return out


class PacedProducer(threading.Thread):
    """Sends records at `rate` per second in the background, as a news feed would; every send
    must be acknowledged by the broker (acks=all, idempotent, retried across broker restarts)."""

    def __init__(self, settings: Settings, records: Sequence[tuple[bytes, bytes]], rate: float):
        super().__init__(daemon=True)
        self.settings, self.records, self.rate = settings, records, rate
        self.errors: list[str] = []
        self.sent = 0

    def run(self) -> None:
        producer = KafkaProducer(
            bootstrap_servers=self.settings.broker,
            acks="all",
            enable_idempotence=True,
            max_request_size=INPUT_MAX_BYTES,
            delivery_timeout_ms=180_000,
            reconnect_backoff_max_ms=2_000,
        )
        futures = []
        started = time.monotonic()
        for i, (key, value) in enumerate(self.records):
            time.sleep(max(0.0, started + i / self.rate - time.monotonic()))
            futures.append(producer.send(self.settings.topic_articles, key=key, value=value))
        producer.flush()
        for future in futures:
            try:
                future.get(timeout=0)
                self.sent += 1
            except Exception as exc:  # reported and asserted by the test
                self.errors.append(repr(exc))
        producer.close()


@dataclass
class Outcome:
    """Where every produced key ended up."""

    produced: int
    enriched: int
    dead_lettered: int
    lost: list[str]
    duplicates: int  # enriched records beyond the first per key
    max_output_gap_s: float  # longest pause between enriched records: what a fault cost
    dlq_reasons: dict[str, int] = field(default_factory=dict)
    letters: dict[bytes, dict] = field(default_factory=dict, repr=False)  # key → DLQ record
    records: dict[bytes, bytes] = field(default_factory=dict, repr=False)  # key → enriched
    stamps: list[int] = field(default_factory=list, repr=False)  # enriched records' ms, sorted


def account(settings: Settings, keys: Iterable[bytes], timeout_s: float = 120) -> Outcome:
    """Read the enriched and dead-letter topics (committed records only) until every key is
    found in one of them, or after timeout_s of silence; count the lost and the duplicated."""
    wanted = set(keys)
    enriched: Counter = Counter()
    records: dict[bytes, bytes] = {}
    stamps: list[int] = []
    dead: dict[bytes, dict] = {}

    def found() -> set[bytes]:
        return set(enriched) | set(dead)

    for record in _read(
        settings, (settings.topic_enriched, settings.topic_dlq), wanted, found, timeout_s
    ):
        if record.topic == settings.topic_enriched:
            enriched[record.key] += 1
            records[record.key] = record.value
            stamps.append(record.timestamp)
        else:
            dead[record.key] = orjson.loads(record.value)
    stamps.sort()
    gaps = [(b - a) / 1000 for a, b in itertools.pairwise(stamps)]
    return Outcome(
        produced=len(wanted),
        enriched=len(wanted & set(enriched)),
        dead_lettered=len(wanted & set(dead) - set(enriched)),
        lost=sorted(k.decode() for k in wanted - found()),
        duplicates=sum(n - 1 for k, n in enriched.items() if k in wanted),
        max_output_gap_s=round(max(gaps, default=0.0), 2),
        dlq_reasons=dict(Counter(_kind(d["reason"]) for k, d in dead.items() if k in wanted)),
        letters={k: d for k, d in dead.items() if k in wanted},
        records={k: v for k, v in records.items() if k in wanted},
        stamps=stamps,
    )


def _read(
    settings: Settings,
    topics: Sequence[str],
    wanted: set[bytes],
    found: Callable[[], set[bytes]],
    timeout_s: float,
) -> Iterator[ConsumerRecord]:
    """Records of `topics` from the start; once every wanted key is found, on to the end
    offsets of that moment (so late duplicates are counted too), then stop."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.broker,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=OUTPUT_MAX_BYTES,
        fetch_max_bytes=OUTPUT_MAX_BYTES,
    )
    partitions = [
        TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning()
    ends = None
    last_news = time.monotonic()
    try:
        while time.monotonic() - last_news < timeout_s:
            for records in consumer.poll(timeout_ms=500).values():
                last_news = time.monotonic()
                yield from records
            if ends is None and wanted <= found():
                ends = consumer.end_offsets(partitions)
            if ends is not None and all(consumer.position(tp) >= ends[tp] for tp in partitions):
                return
    finally:
        consumer.close()


def _kind(reason: str) -> str:
    """The reason without its particulars: 'invalid UTF-8 at byte N', 'schema', …"""
    return re.sub(r"(?<= )\d+", "N", reason.split(":")[0])


def first_output_after(stamps_ms: list[int], since_s: float) -> float | None:
    """Seconds from `since_s` to the first enriched record written after it."""
    later = [t / 1000 - since_s for t in stamps_ms if t / 1000 >= since_s]
    return round(min(later), 1) if later else None


def save(scenario: str, outcome: Outcome, **extra: object) -> None:
    """Append the scenario's figures to .local/reliability.jsonl (for docs/RELIABILITY.md)."""
    path = Settings().data_dir / "reliability.jsonl"
    row = {"scenario": scenario, **asdict(outcome), **extra, "at": time.strftime("%FT%T")}
    row["lost"] = len(outcome.lost)
    del row["letters"], row["records"], row["stamps"]
    with path.open("a") as out:
        out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    print(f"\n{scenario}: {json.dumps(row, ensure_ascii=False, default=str)}")
