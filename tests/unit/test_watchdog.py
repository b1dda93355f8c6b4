"""The stall watchdog: a partition with waiting messages whose commit does not move."""

from __future__ import annotations

from pipeline.monitor.watchdog import Watchdog


def test_a_partition_behind_whose_commit_stops_moving_is_stalled_then_fatal() -> None:
    dog = Watchdog(ready_after_s=30, exit_after_s=300)
    dog.observe(0, {0: 10, 1: 5}, {0: 20, 1: 5})
    dog.observe(20, {0: 12, 1: 5}, {0: 20, 1: 5})  # 0 moves; 1 is caught up
    dog.observe(49, {0: 12, 1: 5}, {0: 20, 1: 5})
    assert dog.stalled(49) == {}
    dog.observe(50, {0: 12, 1: 5}, {0: 20, 1: 5})
    assert dog.stalled(50) == {0: 30.0}  # no commit for 30 s with 8 messages waiting
    assert not dog.must_exit(50)
    assert dog.must_exit(320) and dog.longest(320) == 300
    dog.observe(321, {0: 13, 1: 5}, {0: 20, 1: 5})  # it moved: all clear
    assert dog.stalled(330) == {} and not dog.must_exit(330)


def test_an_idle_or_never_committed_empty_partition_never_stalls() -> None:
    dog = Watchdog(ready_after_s=30, exit_after_s=300)
    for now in (0, 100, 1000):
        dog.observe(now, {0: 7, 1: None}, {0: 7, 1: 0})
    assert dog.stalled(1000) == {} and not dog.must_exit(1000)
    dog.observe(1001, {0: 7, 1: None}, {0: 7, 1: 3})  # messages arrive on the new partition
    assert dog.stalled(1040) == {1: 39.0}


def test_slow_batches_stretch_the_limits() -> None:
    dog = Watchdog(ready_after_s=30, exit_after_s=300)
    dog.batch_took(20)  # a real model on long articles: three batches make 60 s
    dog.observe(0, {0: 1}, {0: 9})
    assert dog.stalled(59) == {} and dog.stalled(60) == {0: 60.0}
    dog.batch_took(60)
    assert not dog.must_exit(300) and dog.must_exit(360)


def test_a_revoked_partition_is_forgotten_and_a_reset_restarts_the_count() -> None:
    dog = Watchdog(ready_after_s=30, exit_after_s=300)
    dog.observe(0, {0: 1, 1: 1}, {0: 9, 1: 9})
    dog.observe(40, {1: 1}, {0: 9, 1: 9})  # partition 0 went to another worker
    assert dog.stalled(40) == {1: 40.0}
    dog.reset(40)  # the model is reloading: nothing could move
    assert dog.stalled(60) == {}


def test_a_stalled_partition_is_offered_for_reading_again_once_per_offset() -> None:
    dog = Watchdog(ready_after_s=30, exit_after_s=300)
    dog.observe(0, {0: 12, 1: 5}, {0: 20, 1: 9})
    assert dog.to_read_again(29) == {}
    dog.observe(30, {0: 12, 1: 5}, {0: 20, 1: 9})
    assert dog.to_read_again(30) == {0: 12, 1: 5}
    dog.reading_again(0, 12)  # partition 1's messages were in hand: not read again
    assert dog.to_read_again(40) == {1: 5}
    dog.observe(50, {0: 15, 1: 5}, {0: 20, 1: 9})  # 0 moved, then stalls again further on
    dog.observe(80, {0: 15, 1: 5}, {0: 20, 1: 9})
    assert dog.to_read_again(80) == {0: 15, 1: 5}
