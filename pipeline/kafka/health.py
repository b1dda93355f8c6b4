"""What the worker's consumer knows about the broker: reachable or not, and how far behind."""

from __future__ import annotations

import faust
from faust.sensors.metrics import performance_metrics


def coordinator_known(app: faust.App) -> bool:
    """True while the consumer knows its group coordinator: aiokafka forgets it as soon as a
    request to the broker fails, and finds it again once the broker answers."""
    thread = getattr(app.consumer, "_thread", None)
    consumer = getattr(thread, "_consumer", None)  # aiokafka's; None before the worker starts
    coordinator = getattr(consumer, "_coordinator", None)  # None until the consumer starts
    return coordinator is not None and coordinator.coordinator_id is not None


def lag(app: faust.App, topic: str) -> dict[int, int]:
    """Messages behind the end of each partition of `topic` this worker has read or committed.

    Faust's own figure (end − last read) counts the last read message as not read yet."""
    offsets = performance_metrics(app)["consumer"]
    read = offsets["read_offsets"].get(topic, {})
    committed = offsets["committed_offsets"].get(topic, {})
    behind = {}
    for partition, end in offsets["end_offsets"].get(topic, {}).items():
        last_read = read.get(partition)
        position = last_read + 1 if last_read is not None else committed.get(partition)
        if end is not None and position is not None:
            behind[partition] = max(0, end - position)
    return behind


def progress(app: faust.App, topic: str) -> tuple[dict[int, int | None], dict[int, int]]:
    """Committed offset of each assigned partition of `topic` (the group's, read at assignment
    and moved by this worker's commits; None if the group never committed it), and each
    partition's end offset: what the stall watchdog compares."""
    consumer = app.consumer
    committed = {
        tp.partition: consumer._committed_offset.get(tp)
        for tp in consumer.assignment()
        if tp.topic == topic
    }
    return committed, dict(performance_metrics(app)["consumer"]["end_offsets"].get(topic, {}))
