"""Read again what Faust's consumer skipped, instead of committing past it or stalling.

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
the partition is sought back. A gap seen again at the same place is real (e.g. the markers of a
transactional producer) and is handled the way Faust does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from faust.types import TP

log = logging.getLogger(__name__)


def read_gaps_again(consumer: Any) -> None:
    """Install on a Faust Consumer before its fetcher starts (it captures these methods)."""
    fill_gap, deliver, fetch = consumer._add_gap, consumer.callback, consumer.getmany
    pending: dict[TP, int] = {}  # partition → first offset to read again
    retried: set[tuple[TP, int]] = set()

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
        assigned = consumer.assignment()
        for tp, offset in list(pending.items()):
            del pending[tp]
            if tp in assigned:  # a revoked one is read by its new owner from the commit
                await consumer.seek(tp, offset)
        async for item in fetch(timeout=timeout):
            yield item

    consumer._add_gap, consumer.callback, consumer.getmany = add_gap, callback, getmany
