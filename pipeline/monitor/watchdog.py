"""Notice a worker that has stopped making progress while it still answers /health.

A worker can stay alive and connected and yet stop committing: a delivery or an acknowledgement
that never completes across a broker restart, a commit that never returns, a partition left
paused. Kafka would never give its partitions to another worker and a supervisor would never
restart it. The watchdog watches each assigned input partition: while messages wait behind its
committed offset and that offset does not move, the partition is stalling. Past `ready_after_s`
(or three times the slowest batch, if that is longer) /ready turns false with the reason, and a
stalled partition none of whose messages is in the worker's hands is read again from its
committed offset, once per offset (what a restart would do, without one); past `exit_after_s`
the worker exits non-zero so that its supervisor restarts it (at-least-once makes that safe).
No Kafka types: callers pass plain offsets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SLOW_BATCHES = 3  # a stall is longer than this many of the slowest batch seen
EXIT_STALLED = 75  # EX_TEMPFAIL: the worker's status when it gives up; a restart resumes


@dataclass
class Watchdog:
    ready_after_s: float
    exit_after_s: float
    slowest_batch_s: float = 0.0
    # partition → committed offset last seen and since when it has not moved, with messages
    # waiting behind it (a partition caught up is not in here)
    _since: dict[int, tuple[int | None, float]] = field(default_factory=dict)
    _reread: dict[int, int | None] = field(default_factory=dict)  # partition → offset re-read

    def batch_took(self, seconds: float) -> None:
        self.slowest_batch_s = max(self.slowest_batch_s, seconds)

    def observe(self, now: float, committed: dict[int, int | None], end: dict[int, int]) -> None:
        """One look at the assigned input partitions: their committed and end offsets."""
        since = {}
        for partition, offset in committed.items():
            if end.get(partition, 0) > (offset or 0):  # messages waiting
                seen = self._since.get(partition)
                since[partition] = seen if seen is not None and seen[0] == offset else (offset, now)
        self._since = since

    def reset(self, now: float) -> None:
        """Start counting afresh (the model is not loaded yet: nothing can move)."""
        self._since = {p: (offset, now) for p, (offset, _) in self._since.items()}

    def stalled(self, now: float) -> dict[int, float]:
        """Partitions stalling longer than the readiness limit, with for how long (seconds)."""
        limit = max(self.ready_after_s, SLOW_BATCHES * self.slowest_batch_s)
        return {
            partition: round(now - since, 1)
            for partition, (_, since) in sorted(self._since.items())
            if now - since >= limit
        }

    def longest(self, now: float) -> float:
        """Seconds the longest-stalling partition has not moved (0 if none is behind)."""
        return max((now - since for _, since in self._since.values()), default=0.0)

    def to_read_again(self, now: float) -> dict[int, int | None]:
        """Stalled partitions not yet read again at the committed offset they are stuck at,
        with that offset. Once read again (`reading_again`), a partition stuck at the same
        offset is left to the exit."""
        return {
            partition: self._since[partition][0]
            for partition in self.stalled(now)
            if self._reread.get(partition, -1) != self._since[partition][0]
        }

    def reading_again(self, partition: int, offset: int | None) -> None:
        self._reread[partition] = offset

    def must_exit(self, now: float) -> bool:
        limit = max(self.exit_after_s, 2 * SLOW_BATCHES * self.slowest_batch_s)
        return self.longest(now) >= limit
