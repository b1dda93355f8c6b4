"""The enrich agent: take a micro-batch → decode and validate → tag off the event loop → emit.

At-least-once: the events of a batch are acknowledged (so their offsets may be committed) only
after every record the batch produced — enriched, entities or dead letter — is acknowledged by
the broker. Nothing in a batch is ever dropped: what cannot be enriched goes to the DLQ.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from faust.streams import _current_event
from faust.types import EventT, StreamT

from pipeline.app import (
    app,
    articles_topic,
    dlq_topic,
    enriched_topic,
    entities_topic,
    seen_ids,
    settings,
)
from pipeline.contracts import InvalidArticle, dead_letter, decode_article, entity_events
from pipeline.enrich import Enricher
from pipeline.web import views

log = logging.getLogger(__name__)
# One thread: the model uses its own intra-op threads; the event loop stays free for
# heartbeats, rebalances and the web view.
executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagger")
SEND_RETRY_S = 2.0
EXIT_UNEXPECTED = 70  # a bug in the agent: exit without committing, the supervisor restarts


@dataclass
class WorkerState:
    """What /health reports."""

    model_ready: bool = False
    batches: int = 0
    last_batch_at: float | None = None
    counts: dict[str, int] = field(default_factory=lambda: {"enriched": 0, "dead_letters": 0})


state = WorkerState()
views.register(app, state)


@dataclass(frozen=True)
class Letter:
    event: EventT
    stage: str
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
            letters.append(Letter(event, exc.stage, exc.reason))
            continue
        article_id = article["id"]
        first = in_batch.get(article_id) or seen_ids.get(article_id)
        if first is not None and first != _position(event):
            reason = f"duplicate id {article_id!r}: first accepted at partition:offset {first}"
            letters.append(Letter(event, "validate", reason, article_id))
            continue
        in_batch[article_id] = _position(event)
        accepted.append((event, article))
    return accepted, letters


def _remember(event: EventT, article_id: str) -> None:
    """Record an accepted id. A batch has no current event, so set the one this id came from:
    Faust writes the table's changelog to that event's partition."""
    token = _current_event.set(weakref.ref(event))
    try:
        seen_ids[article_id] = _position(event)
    finally:
        _current_event.reset(token)


async def _deliver(sends: list[Awaitable[Any]]) -> list[BaseException | None]:
    """Wait for broker acknowledgements; return each send's error (None when delivered)."""
    results = await asyncio.gather(*sends, return_exceptions=True)
    return [r if isinstance(r, BaseException) else None for r in results]


async def _send(topic: Any, key: bytes | None, value: Any, article_key: bytes | None) -> Any:
    headers = {"article-key": article_key} if article_key is not None else None
    future = await topic.send(key=key, value=value, headers=headers)
    return await future


async def _emit_enriched(event: EventT, record: dict[str, Any]) -> BaseException | None:
    key = event.message.key if event.message.key is not None else record["id"].encode()
    sends = [_send(enriched_topic, key, record, key)]
    sends += [
        _send(entities_topic, canonical.encode(), entity, key)
        for canonical, entity in entity_events(record)
    ]
    errors = [e for e in await _deliver(sends) if e is not None]
    return errors[0] if errors else None


async def _emit_letters(letters: list[Letter]) -> None:
    """Dead letters must reach the broker: retry until they do (the batch is not acked)."""
    pending = letters
    while pending:
        sends = [
            _send(dlq_topic, lt.event.message.key, _letter_record(lt), lt.event.message.key)
            for lt in pending
        ]
        errors = await _deliver(sends)
        failed = [lt for lt, err in zip(pending, errors, strict=True) if err is not None]
        if failed:
            log.error("%d dead letters not delivered (%r); retrying", len(failed), errors[0])
            await asyncio.sleep(SEND_RETRY_S)
        pending = failed
    state.counts["dead_letters"] += len(letters)


async def process_batch(enricher: Enricher, events: list[EventT]) -> None:
    """Enrich what can be enriched, dead-letter the rest; return once all is acknowledged."""
    accepted, letters = _admit(events)
    loop = asyncio.get_running_loop()
    results = await loop.run_in_executor(executor, enricher.enrich_each, [a for _, a in accepted])
    tagged = []
    for (event, article), result in zip(accepted, results, strict=True):
        if isinstance(result, Exception):
            reason = f"tagger failed: {type(result).__name__}: {result}"[:300]
            letters.append(Letter(event, "tag", reason, article["id"]))
        else:
            tagged.append((event, result))
    errors = await asyncio.gather(*(_emit_enriched(event, record) for event, record in tagged))
    for (event, record), error in zip(tagged, errors, strict=True):
        if error is None:
            _remember(event, record["id"])
        else:
            reason = f"could not publish the enriched record: {type(error).__name__}: {error}"
            letters.append(Letter(event, "emit", reason[:300], record["id"]))
    await _emit_letters(letters)
    state.counts["enriched"] += len(tagged) - sum(e is not None for e in errors)
    state.batches += 1
    state.last_batch_at = time.time()


@app.agent(articles_topic)
async def enrich_articles(stream: StreamT) -> None:
    """Consume `articles` in micro-batches; each batch is fully emitted before it is acked."""
    loop = asyncio.get_running_loop()
    enricher = await loop.run_in_executor(executor, Enricher.from_settings, settings)
    state.model_ready = True
    log.info("tagger ready: %s", ", ".join(f"{m.task}={m.name}" for m in enricher.models))
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
