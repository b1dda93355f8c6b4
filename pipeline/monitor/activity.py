"""The worker's recent activity: readiness, totals, 15 minutes of history, the latest articles.

The enrich agent reports each batch here; a timer closes an interval every SAMPLE_S into one
point of history. /health, /ready, /metrics and the dashboard read from it. No Kafka types:
callers pass plain values.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.monitor import metrics
from pipeline.monitor.watchdog import Watchdog

SAMPLE_S = 2.0
HISTORY_S = 15 * 60
LATEST_KEPT = 8
BODY_SHOWN = 1_500  # characters of each latest article kept for the dashboard


@dataclass
class _Interval:
    consumed: int = 0
    enriched: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    tag_seconds: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)


def _quantile(values: list[float], q: float) -> float | None:
    return round(float(np.quantile(values, q)), 4) if values else None


def showcase(record: dict[str, Any]) -> dict[str, Any]:
    """An enriched record cut down for display: the start of its body, the entities inside
    that part (with the article's stance toward each) and its topic stances."""
    body = record["body"][:BODY_SHOWN]
    stance = {s["entity_id"]: s["label"] for s in record["stance"] if s["target_type"] == "entity"}
    entities = [
        {k: e[k] for k in ("field", "start", "end", "label", "canonical", "entity_id")}
        | {"stance": stance.get(e["entity_id"])}
        for e in record["entities"]
        if e["field"] == "title" or e["end"] <= len(body)
    ]
    shown = {
        k: record[k] for k in ("id", "language", "title", "published_at", "source") if k in record
    }
    return shown | {
        "body": body,
        "truncated": len(record["body"]) > len(body),
        "entities": entities,
        # Every entity of the article (not only those in the shown part) and its stance.
        "entity_stance": {e["entity_id"]: stance.get(e["entity_id"]) for e in record["entities"]},
        "topics": [
            {"target": s["target"], "label": s["label"], "score": s["score"]}
            for s in record["stance"]
            if s["target_type"] == "topic"
        ],
        "enriched_at": record["enriched_at"],
    }


class Activity:
    """Counts and samples of what the enrich agent did; updated on the event loop only."""

    def __init__(self, input_topic: str, watchdog: Watchdog) -> None:
        self.input_topic = input_topic
        self.watchdog = watchdog
        self.models: list[str] = []  # set once the tagger is loaded and warmed up
        self.batches = 0
        self.last_batch_at: float | None = None
        self.totals: Counter[str] = Counter(enriched=0, dead_letters=0)
        self.history: deque[dict[str, Any]] = deque(maxlen=int(HISTORY_S / SAMPLE_S))
        self.latest: deque[dict[str, Any]] = deque(maxlen=LATEST_KEPT)
        self._interval = _Interval()
        self._interval_start = time.time()

    @property
    def model_ready(self) -> bool:
        return bool(self.models)

    def record_batch(
        self,
        size: int,
        tag_seconds: float,
        enriched: list[tuple[float | None, dict[str, Any]]],
        dead_letters: list[tuple[str, str]],
    ) -> None:
        """One finished batch: `enriched` holds (input timestamp, record) of the articles
        acknowledged by the broker, `dead_letters` (stage, kind) of each dead letter."""
        now = time.time()
        interval = self._interval
        interval.consumed += size
        interval.batch_sizes.append(size)
        interval.tag_seconds.append(tag_seconds)
        metrics.ARTICLES_CONSUMED.inc(size)
        metrics.BATCH_SIZE.observe(size)
        metrics.TAGGING_SECONDS.observe(tag_seconds)
        self.watchdog.batch_took(tag_seconds)
        for timestamp, record in enriched:
            interval.languages[record["language"]] += 1
            metrics.ARTICLES_ENRICHED.labels(record["language"]).inc()
            if timestamp is not None:
                interval.latencies.append(now - timestamp)
                metrics.LATENCY_SECONDS.observe(now - timestamp)
        for stage, kind in dead_letters:
            interval.dead_letters[kind] += 1
            metrics.DEAD_LETTERS.labels(stage, kind).inc()
        interval.enriched += len(enriched)
        self.latest.extendleft(showcase(record) for _, record in enriched[-LATEST_KEPT:])
        self.totals["enriched"] += len(enriched)
        self.totals["dead_letters"] += len(dead_letters)
        self.batches += 1
        self.last_batch_at = now

    def sample(self, lag: dict[int, int]) -> dict[str, Any]:
        """Close the current interval into one point of history; `lag` is the consumer lag
        of each assigned input partition."""
        now = time.time()
        interval, self._interval = self._interval, _Interval()
        elapsed = max(now - self._interval_start, 1e-3)
        self._interval_start = now
        metrics.CONSUMER_LAG.clear()
        for partition, behind in lag.items():
            metrics.CONSUMER_LAG.labels(self.input_topic, str(partition)).set(behind)
        point = {
            "t": round(now, 3),
            "consumed_per_s": interval.consumed / elapsed,
            "enriched_per_s": interval.enriched / elapsed,
            "dead_letters_per_s": {k: n / elapsed for k, n in interval.dead_letters.items()},
            "languages": dict(interval.languages),
            "tag_p50_s": _quantile(interval.tag_seconds, 0.5),
            "tag_p95_s": _quantile(interval.tag_seconds, 0.95),
            "latency_p50_s": _quantile(interval.latencies, 0.5),
            "latency_p95_s": _quantile(interval.latencies, 0.95),
            "batch_size_mean": float(np.mean(interval.batch_sizes))
            if interval.batch_sizes
            else None,
            "lag": {str(partition): behind for partition, behind in sorted(lag.items())},
        }
        self.history.append(point)
        return point

    def languages(self) -> dict[str, int]:
        """Articles enriched per language over the history (15 minutes), most frequent first."""
        counts: Counter[str] = Counter()
        for point in self.history:
            counts.update(point["languages"])
        counts.update(self._interval.languages)
        return dict(counts.most_common())
