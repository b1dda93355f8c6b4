"""The pipeline's Prometheus metrics (default registry, served on /metrics beside Faust's own).

Labels are bounded sets: languages, dead-letter stage and kind, input partitions.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

ARTICLES_CONSUMED = Counter(
    "pipeline_articles_consumed", "Input messages taken by the enrich agent (valid or not)."
)
ARTICLES_ENRICHED = Counter(
    "pipeline_articles_enriched",
    "Articles enriched and acknowledged by the broker.",
    ["language"],
)
DEAD_LETTERS = Counter(
    "pipeline_dead_letters",
    "Messages sent to the dead-letter topic, by stage and kind of fault.",
    ["stage", "reason"],
)
TAGGING_SECONDS = Histogram(
    "pipeline_tagging_seconds",
    "Time the tagger took for one batch.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
BATCH_SIZE = Histogram(
    "pipeline_batch_size",
    "Messages per micro-batch.",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
LATENCY_SECONDS = Histogram(
    "pipeline_latency_seconds",
    "Input record timestamp to enriched record acknowledged, per article.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128),
)
CONSUMER_LAG = Gauge(
    "pipeline_consumer_lag",
    "Messages behind the end of each assigned input partition.",
    ["topic", "partition"],
)
STALLED_PARTITIONS = Gauge(
    "pipeline_stalled_partitions",
    "Input partitions with waiting messages and no commit for longer than the readiness limit.",
)
STALL_REREADS = Counter(
    "pipeline_stall_rereads_total",
    "Stalled input partitions read again from their committed offset (none of their messages "
    "was being worked on).",
)
LONGEST_STALL_SECONDS = Gauge(
    "pipeline_longest_stall_seconds",
    "Seconds the least recently moving input partition with waiting messages has gone "
    "without a commit.",
)
READY = Gauge(
    "pipeline_ready", "1 while /ready answers 200 (model loaded, broker, partitions, no stall)."
)
RECORDS_SENT = Counter(
    "pipeline_records_sent", "Records the broker acknowledged, by output topic.", ["topic"]
)
SEND_ERRORS = Counter(
    "pipeline_send_errors", "Records the broker did not acknowledge, by output topic.", ["topic"]
)


def declare_outputs(topics: Iterable[str]) -> None:
    """Every output topic has a series from the start: 0 errors is a value a dashboard shows."""
    for topic in topics:
        RECORDS_SENT.labels(topic)
        SEND_ERRORS.labels(topic)


def count_sent(results: Iterable[tuple[str, bool]]) -> None:
    """(topic, delivered) of each record sent: one counter update per topic, not per record."""
    for (topic, delivered), n in Tally(results).items():
        (RECORDS_SENT if delivered else SEND_ERRORS).labels(topic).inc(n)
