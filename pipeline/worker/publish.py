"""Publish a batch: every enriched record with its entity events acknowledged by the broker, or
the article dead-lettered; dead letters retried until they are acknowledged. `send` is the only
way out, so this runs without a broker in tests."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from faust.types import EventT

from pipeline.contracts import dead_letter, entity_events
from pipeline.monitor import metrics
from pipeline.worker.admit import Accepted, Letter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Output:
    """A record the worker writes, already serialised: enriched, entity, dead-letter and
    changelog records alike."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int | None = None  # None: by key, as Faust and Kafka clients choose


@dataclass(frozen=True, slots=True)
class Topics:
    enriched: str
    entities: str
    dlq: str


def enriched_outputs(event: EventT, record: dict[str, Any], topics: Topics) -> list[Output]:
    """The enriched record under the input key, and one event per entity id, with the input key
    in an `article-key` header."""
    key = event.message.key if event.message.key is not None else record["id"].encode()
    headers = [("article-key", key)]
    outputs = [Output(topics.enriched, key, orjson.dumps(record), headers)]
    outputs += [
        Output(topics.entities, entity_id.encode(), orjson.dumps(entity), headers)
        for entity_id, entity in entity_events(record)
    ]
    return outputs


def letter_output(letter: Letter, topics: Topics) -> Output:
    """A dead letter with the original bytes and where they came from, under the input key."""
    message = letter.event.message
    record = dead_letter(
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
    headers = [("article-key", message.key)] if message.key is not None else []
    return Output(topics.dlq, message.key, orjson.dumps(record), headers)


Send = Callable[[Output], Awaitable[Any]]  # returns once the broker acknowledged the record
Remember = Callable[[EventT, str], Output]  # records an accepted id; its changelog record


class Publisher:
    """Delivers a batch's outputs through `send`, all queued before any is awaited."""

    def __init__(
        self, send: Send, topics: Topics, remember: Remember, retry_s: float = 2.0
    ) -> None:
        self.send = send
        self.topics = topics
        self.remember = remember
        self.retry_s = retry_s

    async def deliver(self, outputs: Sequence[Output]) -> list[BaseException | None]:
        """Each record's error, None where the broker acknowledged it."""
        results = await asyncio.gather(*(self.send(o) for o in outputs), return_exceptions=True)
        errors = [r if isinstance(r, BaseException) else None for r in results]
        metrics.count_sent([(o.topic, e is None) for o, e in zip(outputs, errors, strict=True)])
        return errors

    async def publish(self, records: Accepted, letters: list[Letter]) -> Accepted:
        """Every enriched record and its entity events acknowledged, or the article
        dead-lettered; then the accepted ids' changelog and the letters. Returns what was
        published."""
        per_article = [enriched_outputs(ev, rec, self.topics) for ev, rec in records]
        errors = iter(await self.deliver([o for outputs in per_article for o in outputs]))
        published, changelog = [], []
        for (event, record), outputs in zip(records, per_article, strict=True):
            error = next((e for e in [next(errors) for _ in outputs] if e is not None), None)
            if error is None:
                changelog.append(self.remember(event, record["id"]))
                published.append((event, record))
            else:
                reason = f"could not publish the enriched record: {type(error).__name__}: {error}"
                letters.append(Letter(event, "emit", "publish_error", reason[:300], record["id"]))
        await asyncio.gather(self._write_changelog(changelog), self._emit_letters(letters))
        return published

    async def _emit_letters(self, letters: list[Letter]) -> None:
        """Dead letters must reach the broker: retry until they do (the batch is not acked)."""
        pending = letters
        while pending:
            errors = await self.deliver([letter_output(lt, self.topics) for lt in pending])
            failed = [lt for lt, err in zip(pending, errors, strict=True) if err is not None]
            if failed:
                first = next(e for e in errors if e is not None)
                log.error("%d dead letters not delivered (%r); retrying", len(failed), first)
                await asyncio.sleep(self.retry_s)
            pending = failed

    async def _write_changelog(self, records: list[Output]) -> None:
        """The dedup table's changelog: a record lost here only makes a restarted worker
        forget the id (memory still has it), so it is reported, not retried."""
        errors = [e for e in await self.deliver(records) if e is not None]
        if errors:
            log.warning("%d accepted ids not written to the changelog (%r)", len(errors), errors[0])
