"""A record the worker writes, already serialised: enriched, entity, dead-letter and
changelog records alike."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Output:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int | None = None  # None: by key, as Faust and Kafka clients choose
