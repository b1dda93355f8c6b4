"""The worker's Faust agents: take a micro-batch → admit → tag off the event loop → publish →
acknowledge; count entity events for the dashboard; sample activity and watch for stalls (and
read a stalled partition again from its commit).

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
from typing import Any

import faust
import orjson
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
from pipeline.contracts import SCHEMA_VERSION
from pipeline.enrich import Enricher
from pipeline.kafka import health
from pipeline.monitor import metrics
from pipeline.monitor.activity import SAMPLE_S, Activity
from pipeline.monitor.entities import mention_key, with_names
from pipeline.monitor.watchdog import EXIT_STALLED, Watchdog
from pipeline.web import dashboard, views
from pipeline.worker.admit import admit, tagged
from pipeline.worker.faust_patches import (
    Redeliveries,
    Rereads,
    check_version,
    read_gaps_again,
    remember,
    reread_stalled,
)
from pipeline.worker.publish import Output, Publisher, Topics

log = logging.getLogger(__name__)
# One thread: the model uses its own intra-op threads; the event loop stays free for
# heartbeats, rebalances and the web view.
executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagger")
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
# What the consumer reads again, shared by the fetch hook and the watchdog.
rereads = Rereads()


@app.on_worker_init.connect
def patch_consumer(sender: faust.App, **kwargs: Any) -> None:
    """The consumer reads skipped records again instead of committing past them (Faust's
    workarounds, written for one faust-streaming version: checked here)."""
    check_version()
    read_gaps_again(sender.consumer, rereads)


async def _send(o: Output) -> Any:
    """Straight to the app's aiokafka producer: Faust's Topic.send passed records through its
    producer buffer one at a time (one produce request per record, the main cost of a worker
    without a model); returns once the broker acknowledged the record."""
    sent = await app.producer.send(o.topic, o.key, o.value, o.partition, None, o.headers)
    return await sent


redeliveries = Redeliveries()
publisher = Publisher(
    _send,
    Topics(*(t.get_topic_name() for t in (enriched_topic, entities_topic, dlq_topic))),
    lambda event, article_id: remember(seen_ids, event, article_id),
)


async def process_batch(enricher: Enricher, events: list[EventT]) -> None:
    """Enrich what can be enriched, dead-letter the rest; return once all is acknowledged."""
    fresh = redeliveries.fresh(events)
    accepted, letters = admit(fresh, seen_ids, settings.max_body_bytes)
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    results = await loop.run_in_executor(executor, enricher.enrich_each, [a for _, a in accepted])
    tag_seconds = time.perf_counter() - started
    records, failed = tagged(accepted, results)
    letters += failed
    enriched = await publisher.publish(records, letters)  # adds the records it could not publish
    redeliveries.record(fresh)
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
    for partition, committed in watchdog.to_read_again(now).items():
        tp = TP(settings.topic_articles, partition)
        held = reread_stalled(app.consumer, rereads, tp, committed)
        if held is not None:
            watchdog.reading_again(partition, committed)
            metrics.STALL_REREADS.inc()
            log.warning(
                "input partition %d: no commit for %.0f s with messages waiting and none of them "
                "being worked on; reading it again from offset %s. The consumer held: %s",
                partition, watchdog.stalled(now)[partition], committed, held,
            )  # fmt: skip
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
