"""read_gaps_again and reread_stalled on a stand-in for Faust's consumer: a first gap is read
again, not skipped; a stalled partition nobody works on is read again from its commit."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest
from faust.types import TP

from pipeline.worker.faust_patches import Rereads, read_gaps_again, reread_stalled

TP0, TP1 = TP("articles", 0), TP("articles", 1)
STUCK = 999


class FakeConsumer:
    def __init__(self) -> None:
        self.filled: list[tuple[TP, int, int]] = []
        self.delivered: list[tuple[TP, int]] = []
        self.seeks: list[tuple[TP, int]] = []
        self.assigned = {TP0, TP1}
        self._read_offset: dict[TP, int | None] = {}  # as Faust's drain loop keeps it

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        self.filled.append((tp, offset_from, offset_to))

    async def callback(self, message: SimpleNamespace) -> None:
        if message.offset == STUCK:
            await asyncio.Event().wait()  # a delivery that never finishes
        self.delivered.append((message.tp, message.offset))

    async def getmany(self, timeout: float):
        yield None

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))
        self._read_offset[tp] = offset

    def assignment(self) -> set[TP]:
        return self.assigned


def message(tp: TP, offset: int) -> SimpleNamespace:
    return SimpleNamespace(tp=tp, offset=offset)


async def deliver(consumer: FakeConsumer, tp: TP, offset: int) -> None:
    """What Faust's drain loop does with a fetched record: deliver it, then mark it read."""
    await consumer.callback(message(tp, offset))
    consumer._read_offset[tp] = offset


async def next_fetch(consumer: FakeConsumer) -> None:
    async for _ in consumer.getmany(timeout=1.0):
        pass


def test_a_first_gap_is_read_again_and_a_repeated_one_is_filled() -> None:
    consumer = FakeConsumer()
    read_gaps_again(consumer, Rereads())

    async def scenario() -> None:
        await consumer._add_gap(TP0, 135, 284)  # the fetcher jumped from 134 to 284
        await deliver(consumer, TP0, 284)  # the rest of the stale batch: held back
        await deliver(consumer, TP1, 50)  # other partitions flow on
        await consumer._add_gap(TP0, 290, 300)  # still stale: covered by the read-again
        await next_fetch(consumer)  # before the next fetch: back to the first missing offset
        await deliver(consumer, TP0, 135)
        await consumer._add_gap(TP0, 135, 137)  # the same gap again: real (transaction markers)

    asyncio.run(scenario())
    assert consumer.seeks == [(TP0, 135)]
    assert consumer.delivered == [(TP1, 50), (TP0, 135)]
    assert consumer.filled == [(TP0, 135, 137)]


@pytest.mark.parametrize("started", [True, False])
def test_an_abandoned_delivery_is_read_again(started: bool) -> None:
    consumer = FakeConsumer()
    read_gaps_again(consumer, Rereads())

    async def scenario() -> None:
        delivery = asyncio.ensure_future(consumer.callback(message(TP1, STUCK)))
        if started:
            await asyncio.sleep(0)
        delivery.cancel()  # what Faust does when the flow stops, mid-delivery or before
        await asyncio.gather(delivery, return_exceptions=True)
        consumer._read_offset[TP1] = STUCK  # Faust counts it as read all the same
        await deliver(consumer, TP1, STUCK + 1)  # held back
        await next_fetch(consumer)

    asyncio.run(scenario())
    assert consumer.delivered == []
    assert consumer.seeks == [(TP1, STUCK)]


def test_a_revoked_partition_is_not_sought() -> None:
    consumer = FakeConsumer()
    read_gaps_again(consumer, Rereads())

    async def scenario() -> None:
        await consumer._add_gap(TP0, 10, 20)
        consumer.assigned = {TP1}  # a rebalance took TP0 away
        await next_fetch(consumer)
        await deliver(consumer, TP0, 30)  # if it comes back, it flows again

    asyncio.run(scenario())
    assert consumer.seeks == []
    assert consumer.delivered == [(TP0, 30)]


def test_a_stalled_partition_is_read_again_from_its_commit_unless_its_messages_in_hand() -> None:
    consumer = FakeConsumer()
    rereads = Rereads()
    read_gaps_again(consumer, rereads)
    consumer._acked = {TP0: [43, 44, 45, 46]}  # 40..42 never came back
    consumer._gap, consumer._read_offset, consumer._paused_partitions = {}, {TP0: 46}, set()
    consumer._unacked_messages = [message(TP0, 47)]  # a batch is working on TP0

    assert reread_stalled(consumer, rereads, TP0, 40) is None
    assert rereads.pending == {}

    consumer._unacked_messages = [message(TP1, 9)]  # only another partition's
    held = reread_stalled(consumer, rereads, TP0, 40)
    assert held is not None and "committed 40, read 46, acked [43, 44, 45]… (4)" in held
    asyncio.run(next_fetch(consumer))
    assert consumer.seeks == [(TP0, 40)]


def test_a_stalled_partition_nothing_was_read_from_is_read_again_from_its_commit() -> None:
    """Records a fresh worker's fetcher skipped on a partition it never delivered from (read
    offset None, as after Faust's seek to a commit of 0 or none): the watchdog's re-read seeks
    to the commit all the same."""
    consumer = FakeConsumer()
    rereads = Rereads()
    read_gaps_again(consumer, rereads)
    consumer._acked, consumer._gap, consumer._paused_partitions = {}, {}, set()
    consumer._unacked_messages = []
    consumer._read_offset = {TP1: None}

    assert reread_stalled(consumer, rereads, TP1, None) is not None
    asyncio.run(next_fetch(consumer))
    assert consumer.seeks == [(TP1, 0)]
    asyncio.run(next_fetch(consumer))
    assert consumer.seeks == [(TP1, 0)] and rereads.from_commit == set()  # once


def test_a_read_again_never_moves_a_partition_forward_past_faust_s_own_seek() -> None:
    """A rebalance: the flow stops and a delivery is abandoned at 60 (records 40..59 were queued
    and are cleared); Faust seeks the partition back to its commit, 40. Seeking to 60 after
    that would skip 40..59 for good."""
    consumer = FakeConsumer()
    read_gaps_again(consumer, Rereads())

    async def scenario() -> None:
        delivery = asyncio.ensure_future(consumer.callback(message(TP0, 60)))
        delivery.cancel()
        await asyncio.gather(delivery, return_exceptions=True)
        consumer._read_offset[TP0] = None  # revoked: Faust forgets what it read
        consumer._read_offset[TP0] = 40  # assigned again: Faust's seek to the commit
        await next_fetch(consumer)
        await deliver(consumer, TP0, 40)

    asyncio.run(scenario())
    assert consumer.seeks == []
    assert consumer.delivered == [(TP0, 40)]
