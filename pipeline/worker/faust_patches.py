"""Where the worker works around faust-streaming FAUST_VERSION's consumer and tables.

Another version may change the internals these touch (`Consumer._add_gap`, `callback`,
`getmany`, `_unacked_messages`, `_acked`, `_gap`, `_read_offset`, `_paused_partitions`, a
table's `data` and serialisers): `check_version` says so at start and a unit test
fails until someone has read them again against it.

Read again what Faust's consumer skipped, instead of committing past it or stalling.

When a worker starts (or rebalances), Faust resumes the input partitions, then seeks them to
their committed offsets; records fetched in between arrive after the seek. Two things then go
wrong (faust-streaming issues #216, #606):
- the consumer sees an offset jump, takes the missing offsets for a gap (as if compacted, or
  transaction markers) and counts them as acknowledged: the next commit moves past records no
  agent ever saw — lost;
- a record whose delivery is abandoned because the flow was stopped still counts as read: it is
  never delivered in this process, and the partition's commits stall behind it.
Measured with three kill -9 per run: 46, 684 and 104 of 2,000 articles never enriched in three
of nine runs.

`read_gaps_again`: a gap seen the first time, or an abandoned delivery, marks the partition to be
read again from that offset; its records are held back until the current fetch batch ends, then
the partition is sought back (never forward: after a rebalance Faust has already sought it back
to its commit, and a seek forward from there would skip records for good). A gap seen again at
the same place is real (e.g. the markers of a transactional producer) and is handled the way
Faust does.

`reread_stalled`: the last resort for a partition that stalls anyway (issue 16's hang: a broker
restart under load left records neither enriched nor dead-lettered while the worker looked
healthy; not reproduced since). The stall watchdog finds it; when none of its messages is in the
worker's hands, it is read again from its committed offset, and what the consumer held for it is
logged so that the cause can be read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from importlib.metadata import version
from typing import Any

from faust.serializers import codecs
from faust.types import TP, EventT

from pipeline.worker.admit import position
from pipeline.worker.publish import Output

log = logging.getLogger(__name__)
FAUST_VERSION = "0.15.3"  # the faust-streaming these were written and tested for


def check_version() -> None:
    """Log loudly when another faust-streaming runs these workarounds."""
    installed = version("faust-streaming")
    if installed != FAUST_VERSION:
        log.warning(
            "faust-streaming %s is installed; pipeline/worker/faust_patches.py was written for "
            "%s: check its workarounds against the new version",
            installed,
            FAUST_VERSION,
        )


@dataclass
class Rereads:
    """The state `read_gaps_again` keeps: partitions to read again from an offset at the next
    fetch, gaps already read again once, and when the fetcher last asked for records."""

    pending: dict[TP, int] = field(default_factory=dict)
    # pending partitions whose offset is their commit (the watchdog's): sought even when
    # nothing was read from them since they were assigned
    from_commit: set[TP] = field(default_factory=set)
    retried: set[tuple[TP, int]] = field(default_factory=set)
    last_fetch: float = 0.0  # time.monotonic()


def read_gaps_again(consumer: Any, rereads: Rereads) -> None:
    """Install on a Faust Consumer before its fetcher starts (it captures these methods)."""
    fill_gap, deliver, fetch = consumer._add_gap, consumer.callback, consumer.getmany
    pending, retried = rereads.pending, rereads.retried

    async def add_gap(tp: TP, offset_from: int, offset_to: int) -> None:
        if tp in pending:  # all of it is read again from the first gap
            return
        if (tp, offset_from) in retried:
            await fill_gap(tp, offset_from, offset_to)
            return
        log.warning(
            "%s/%d: offsets %d..%d skipped by the fetcher; reading them again",
            tp.topic, tp.partition, offset_from, offset_to - 1,
        )  # fmt: skip
        retried.add((tp, offset_from))
        pending[tp] = offset_from

    async def held_back_or_delivered(message: Any) -> Any:
        if message.tp in pending:
            return None  # delivered again after the seek
        return await deliver(message)

    def callback(message: Any) -> asyncio.Future:
        # A future, not a coroutine: Faust may cancel the delivery before it even starts.
        delivery = asyncio.ensure_future(held_back_or_delivered(message))

        def on_done(future: asyncio.Future) -> None:
            if future.cancelled():  # abandoned (flow stopped): read it again
                pending.setdefault(message.tp, message.offset)

        delivery.add_done_callback(on_done)
        return delivery

    async def getmany(timeout: float) -> AsyncIterator[Any]:
        rereads.last_fetch = time.monotonic()
        assigned = consumer.assignment()
        for tp, offset in list(pending.items()):
            del pending[tp]
            # Only ever back. A revoked partition is read by its next owner (maybe this worker)
            # from its commit, which no pending offset precedes: a seek from there to `offset`
            # would skip what lies between, and the commit could never pass it again.
            # A seek to the commit is what a restart does: never past anything.
            read = consumer._read_offset.get(tp)
            back = tp in rereads.from_commit or (read is not None and read >= offset)
            rereads.from_commit.discard(tp)
            if tp in assigned and back:
                await consumer.seek(tp, offset)
        async for item in fetch(timeout=timeout):
            yield item

    consumer._add_gap, consumer.callback, consumer.getmany = add_gap, callback, getmany


def reread_stalled(consumer: Any, rereads: Rereads, tp: TP, committed: int | None) -> str | None:
    """A partition the stall watchdog found stuck with messages waiting: when none of its
    messages is in the worker's hands, nothing would ever deliver them, so read it again from
    its committed offset at the next fetch (what a restart would do, without one). Returns what
    Faust's consumer held for it (why it did not move), or None when its messages are still
    being worked on (a slow or stuck batch is the exit's business, not this)."""
    if any(m.tp == tp for m in list(consumer._unacked_messages)):
        return None
    acked = sorted(consumer._acked.get(tp, ()))
    gaps = sorted((i.begin, i.end) for i in consumer._gap.get(tp, ()))
    held = (
        f"committed {committed}, read {consumer._read_offset.get(tp)}, acked "
        f"{acked[:3]}{'…' if len(acked) > 3 else ''} ({len(acked)}), gaps {gaps[:3]}, paused "
        f"{tp in consumer._paused_partitions}, pending re-read {rereads.pending.get(tp)}, last "
        f"fetch {time.monotonic() - rereads.last_fetch:.0f} s ago"
    )
    rereads.pending[tp] = committed or 0
    rereads.from_commit.add(tp)
    return held


class Redeliveries:
    """(partition, offset) of the events this worker emitted, acknowledged by the broker.
    `read_gaps_again` may deliver a record twice in one process: the second time it is
    acknowledged, not enriched again."""

    KEPT = 100_000  # offsets remembered per partition; re-deliveries come within seconds

    def __init__(self) -> None:
        self.emitted: dict[TP, set[int]] = {}

    def fresh(self, events: Iterable[EventT]) -> list[EventT]:
        return [e for e in events if e.message.offset not in self.emitted.get(e.message.tp, ())]

    def record(self, events: Iterable[EventT]) -> None:
        for event in events:
            offsets = self.emitted.setdefault(event.message.tp, set())
            offsets.add(event.message.offset)
            if len(offsets) > self.KEPT:
                for old in sorted(offsets)[: self.KEPT // 2]:
                    offsets.discard(old)


def remember(table: Any, event: EventT, article_id: str) -> Output:
    """Record an accepted id in a Faust table without Faust's own changelog write, and return
    the changelog record for the worker to deliver with the batch (it waits for its
    acknowledgement, which Faust's table write does not offer). It goes to the partition the id
    came from (the table is co-partitioned with the input), serialised as Faust's own table
    writes are, so a restarted worker restores it."""
    where = position(event)
    table.data[article_id] = where
    return Output(
        table.changelog_topic.get_topic_name(),
        codecs.dumps(table.key_serializer, article_id),
        codecs.dumps(table.value_serializer, where),
        [],
        event.message.partition,
    )
