"""Admit a batch: decode and validate each message, refuse an id already accepted from another
offset, and turn what the tagger could not enrich into dead letters. No Kafka client, no model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types import EventT

from pipeline.contracts import InvalidArticle, decode_article

Accepted = list[tuple[EventT, dict[str, Any]]]


@dataclass(frozen=True)
class Letter:
    """Why a message goes to the dead-letter topic."""

    event: EventT
    stage: str
    kind: str  # short and fixed: a metrics label
    reason: str
    article_id: str | None = None


def position(event: EventT) -> str:
    """Where a message was read: "partition:offset"."""
    return f"{event.message.partition}:{event.message.offset}"


def admit(
    events: Sequence[EventT], seen: Mapping[str, str], max_body_bytes: int
) -> tuple[Accepted, list[Letter]]:
    """Articles to tag and letters for the rest. `seen`: id → position of the message first
    accepted with it; the same position again is a replay after a crash, not a duplicate."""
    accepted: Accepted = []
    letters: list[Letter] = []
    in_batch: dict[str, str] = {}
    for event in events:
        try:
            article = decode_article(event.message.value, max_body_bytes)
        except InvalidArticle as exc:
            letters.append(Letter(event, exc.stage, exc.kind, exc.reason))
            continue
        article_id = article["id"]
        first = in_batch.get(article_id) or seen.get(article_id)
        if first is not None and first != position(event):
            reason = f"duplicate id {article_id!r}: first accepted at partition:offset {first}"
            letters.append(Letter(event, "validate", "duplicate_id", reason, article_id))
            continue
        in_batch[article_id] = position(event)
        accepted.append((event, article))
    return accepted, letters


def tagged(
    accepted: Accepted, results: Sequence[dict[str, Any] | Exception]
) -> tuple[Accepted, list[Letter]]:
    """Enriched records paired with their events, and a letter for each article the tagger
    failed on (`Enricher.enrich_each` isolates failures per article)."""
    records: Accepted = []
    letters: list[Letter] = []
    for (event, article), result in zip(accepted, results, strict=True):
        if isinstance(result, Exception):
            reason = f"tagger failed: {type(result).__name__}: {result}"[:300]
            letters.append(Letter(event, "tag", "tagger_error", reason, article["id"]))
        else:
            records.append((event, result))
    return records, letters
