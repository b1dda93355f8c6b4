"""The enrich agent: take a micro-batch → decode and validate → tag off the event loop → emit.

at_least_once: the events of a batch are acknowledged (so their offsets may be committed) only
after every record the batch produced — enriched, entities or dead letter — is acknowledged by
the broker. Nothing in a batch is ever dropped: what cannot be enriched goes to the DLQ.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from faust.serializers import codecs
from faust.types import TP, EventT, StreamT

from pipeline.app import (
    app,
    articles_topic,
    dlq_topic,
    enriched_topic,
    entities_read,
    entities_topic,
    entity_mentions,
    entity_names,
    seen_ids,
    settings,
)
from pipeline.contracts import (
    SCHEMA_VERSION,
    InvalidArticle,
    dead_letter,
    decode_article,
    entity_events,
)
from pipeline.enrich import Enricher
from pipeline.kafka import health
from pipeline.kafka.output import Output
from pipeline.monitor import metrics
from pipeline.monitor.activity import SAMPLE_S, Activity
from pipeline.monitor.entities import mention_key, with_names
from pipeline.monitor.watchdog import EXIT_STALLED, Watchdog
from pipeline.web import dashboard, views

log = logging.getLogger(__name__)
# One thread: the model uses its own intra-op threads; the event loop stays free for
# heartbeats, rebalances and the web view.
executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagger")
SEND_RETRY_S = 2.0
EXIT_UNEXPECTED = 70  # a bug in the agent: exit without committing, the supervisor restarts

activity = Activity(
    settings.topic_articles, Watchdog(settings.stall_ready_s, settings.stall_exit_s)
)
metrics.declare_outputs(
    t.get_topic_name()
    for t in (enriched_topic, entities_topic, dlq_topic, seen_ids.changelog_topic)
)
views.register(app, activity)
dashboard.register(app, activity, entity_mentions, entity_names)

# (partition, offset) of the events this worker emitted, acknowledged by the broker. Faust may
# deliver a record twice in one process (pipeline.kafka.gaps reads skipped offsets again): the
# second time it is acknowledged, not enriched again.
emitted: dict[TP, set[int]] = {}
EMITTED_KEPT = 100_000  # offsets remembered per partition; re-deliveries come within seconds


def _record_emitted(events: list[EventT]) -> None:
    for event in events:
        offsets = emitted.setdefault(event.message.tp, set())
        offsets.add(event.message.offset)
        if len(offsets) > EMITTED_KEPT:
            for old in sorted(offsets)[: EMITTED_KEPT // 2]:
                offsets.discard(old)


@dataclass(frozen=True)
class Letter:
    event: EventT
    stage: str
    kind: str  # short and fixed: a metrics label
    reason: str
    article_id: str | None = None


def _letter_record(letter: Letter) -> dict[str, Any]:
    message = letter.event.message
    return dead_letter(
        reason=letter.reason,
        stage=letter.stage,
        key=message.key,
        value=message.value,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(message.timestamp * 1000) if message.timestamp else None,
        article_id=letter.article_id,
    )


def _position(event: EventT) -> str:
    return f"{event.message.partition}:{event.message.offset}"


def _admit(events: list[EventT]) -> tuple[list[tuple[EventT, dict[str, Any]]], list[Letter]]:
    """Decode and validate each message; refuse ids already accepted from another offset."""
    accepted: list[tuple[EventT, dict[str, Any]]] = []
    letters: list[Letter] = []
    in_batch: dict[str, str] = {}
    for event in events:
        try:
            article = decode_article(event.message.value, settings.max_body_bytes)
        except InvalidArticle as exc:
            letters.append(Letter(event, exc.stage, exc.kind, exc.reason))
            continue
        article_id = article["id"]
        first = in_batch.get(article_id) or seen_ids.get(article_id)
        if first is not None and first != _position(event):
            reason = f"duplicate id {article_id!r}: first accepted at partition:offset {first}"
            letters.append(Letter(event, "validate", "duplicate_id", reason, article_id))
            continue
        in_batch[article_id] = _position(event)
        accepted.append((event, article))
    return accepted, letters


def _remember(event: EventT, article_id: str) -> Output:
    """Record an accepted id in the dedup table; returns the table's changelog record, which
    goes to the partition the id came from (the table is co-partitioned with the input),
    serialised as Faust's own table writes are, so a restarted worker restores it."""
    position = _position(event)
    seen_ids.data[article_id] = position
    return Output(
        seen_ids.changelog_topic.get_topic_name(),
        codecs.dumps(seen_ids.key_serializer, article_id),
        codecs.dumps(seen_ids.value_serializer, position),
        [],
        event.message.partition,
    )


def _enriched_outputs(event: EventT, record: dict[str, Any]) -> list[Output]:
    key = event.message.key if event.message.key is not None else record["id"].encode()
    headers = [("article-key", key)]
    outputs = [Output(enriched_topic.get_topic_name(), key, orjson.dumps(record), headers)]
    outputs += [
        Output(entities_topic.get_topic_name(), entity_id.encode(), orjson.dumps(entity), headers)
        for entity_id, entity in entity_events(record)
    ]
    return outputs


def _letter_output(letter: Letter) -> Output:
    key = letter.event.message.key
    headers = [("article-key", key)] if key is not None else []
    return Output(dlq_topic.get_topic_name(), key, orjson.dumps(_letter_record(letter)), headers)


async def _deliver(outputs: list[Output]) -> list[BaseException | None]:
    """Send and wait for broker acknowledgements; each send's error (None when delivered).

    Straight to the app's aiokafka producer, every record queued before any is awaited, so a
    batch leaves in a few produce requests. Faust's Topic.send passed records through its
    producer buffer one at a time: one produce request per record, the main cost of a worker
    without a model."""

    async def send(o: Output) -> Any:
        sent = await app.producer.send(o.topic, o.key, o.value, o.partition, None, o.headers)
        return await sent

    results = await asyncio.gather(*(send(o) for o in outputs), return_exceptions=True)
    errors = [r if isinstance(r, BaseException) else None for r in results]
    metrics.count_sent([(o.topic, e is None) for o, e in zip(outputs, errors, strict=True)])
    return errors


async def _emit_letters(letters: list[Letter]) -> None:
    """Dead letters must reach the broker: retry until they do (the batch is not acked)."""
    pending = letters
    while pending:
        errors = await _deliver([_letter_output(lt) for lt in pending])
        failed = [lt for lt, err in zip(pending, errors, strict=True) if err is not None]
        if failed:
            errors = [e for e in errors if e is not None]
            log.error("%d dead letters not delivered (%r); retrying", len(failed), errors[0])
            await asyncio.sleep(SEND_RETRY_S)
        pending = failed


async def _write_changelog(records: list[Output]) -> None:
    """The dedup table's changelog: a record lost here only makes a restarted worker forget
    the id (memory still has it), so it is reported, not retried."""
    errors = [e for e in await _deliver(records) if e is not None]
    if errors:
        log.warning("%d accepted ids not written to the changelog (%r)", len(errors), errors[0])


Tagged = list[tuple[EventT, dict[str, Any]]]


async def _publish(tagged: Tagged, letters: list[Letter]) -> Tagged:
    """Every enriched record and its entity events acknowledged by the broker, or the article
    dead-lettered; returns the enriched ones."""
    per_article = [_enriched_outputs(ev, rec) for ev, rec in tagged]
    errors = iter(await _deliver([o for outputs in per_article for o in outputs]))
    enriched, changelog = [], []
    for (event, record), outputs in zip(tagged, per_article, strict=True):
        error = next((e for e in [next(errors) for _ in outputs] if e is not None), None)
        if error is None:
            changelog.append(_remember(event, record["id"]))
            enriched.append((event, record))
        else:
            reason = f"could not publish the enriched record: {type(error).__name__}: {error}"
            letters.append(Letter(event, "emit", "publish_error", reason[:300], record["id"]))
    await asyncio.gather(_write_changelog(changelog), _emit_letters(letters))
    return enriched


async def process_batch(enricher: Enricher, events: list[EventT]) -> None:
    """Enrich what can be enriched, dead-letter the rest; return once all is acknowledged."""
    fresh = [e for e in events if e.message.offset not in emitted.get(e.message.tp, ())]
    accepted, letters = _admit(fresh)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    results = await loop.run_in_executor(executor, enricher.enrich_each, [a for _, a in accepted])
    tag_seconds = time.perf_counter() - started
    tagged = []
    for (event, article), result in zip(accepted, results, strict=True):
        if isinstance(result, Exception):
            reason = f"tagger failed: {type(result).__name__}: {result}"[:300]
            letters.append(Letter(event, "tag", "tagger_error", reason, article["id"]))
        else:
            tagged.append((event, result))
    enriched = await _publish(tagged, letters)
    _record_emitted(fresh)
    activity.record_batch(
        size=len(events),
        tag_seconds=tag_seconds,
        enriched=[(event.message.timestamp, record) for event, record in enriched],
        dead_letters=[(letter.stage, letter.kind) for letter in letters],
    )


@app.agent(articles_topic)
async def enrich_articles(stream: StreamT) -> None:
    """Consume `articles` in micro-batches; each batch is fully emitted before it is acked."""
    loop = asyncio.get_running_loop()
    enricher = await loop.run_in_executor(executor, Enricher.from_settings, settings)
    activity.models = [f"{m.task}={m.name}" for m in enricher.models]
    log.info("tagger ready: %s", ", ".join(activity.models))
    async for events in stream.take_events(settings.batch_size, within=settings.batch_wait):
        try:
            await process_batch(enricher, list(events))
        except asyncio.CancelledError:
            raise
        except BaseException:
            # take_events acks a batch when control leaves it, even on error: exit before the
            # next commit so the batch is consumed again after a restart instead of lost.
            log.critical("unexpected error in the enrich agent; exiting", exc_info=True)
            logging.shutdown()
            os._exit(EXIT_UNEXPECTED)


@app.agent(entities_read)
async def count_mentions(stream: StreamT) -> None:
    """Count the articles that mention each entity, by language and stance, in the windowed
    table, and keep each id's name and forms. A record that is not one of ours (or of an older
    schema, keyed by name) is left uncounted (it stays in the topic)."""
    async for raw in stream:
        try:
            event = orjson.loads(raw)
            key = mention_key(event)
            names = with_names(entity_names.get(event["entity_id"]), event)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            log.warning(
                "a record on %s is not an entity event of schema %d; not counted",
                settings.topic_entities,
                SCHEMA_VERSION,
            )
            continue
        entity_mentions[key] += 1
        if names is not None:
            entity_names[event["entity_id"]] = names


@app.timer(SAMPLE_S)
async def sample_activity() -> None:
    """One point of the dashboard's history; the lag of the input partitions this worker reads;
    the stall watchdog's look at their commits (it counts once the model is loaded)."""
    activity.sample(health.lag(app, settings.topic_articles))
    now, watchdog = time.time(), activity.watchdog
    if activity.model_ready:
        watchdog.observe(now, *health.progress(app, settings.topic_articles))
    else:
        watchdog.reset(now)
    metrics.STALLED_PARTITIONS.set(len(watchdog.stalled(now)))
    metrics.LONGEST_STALL_SECONDS.set(round(watchdog.longest(now), 1))
    views.refresh_ready_gauge(app, activity)
    if watchdog.must_exit(now):
        log.critical(
            "no commit for %.0f s on input partitions %s with messages waiting; exiting (status "
            "%d) so that a supervisor restarts the worker",
            watchdog.longest(now),
            watchdog.stalled(now),
            EXIT_STALLED,
        )
        logging.shutdown()
        os._exit(EXIT_STALLED)
