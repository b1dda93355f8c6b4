"""A worker that stops making progress while it still answers /health: the watchdog turns
/ready false with the reason, then makes the worker exit for its supervisor; a restarted worker
loses nothing."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from pipeline.local import WorkerProcess
from pipeline.monitor.activity import SAMPLE_S
from pipeline.monitor.watchdog import EXIT_STALLED
from pipeline.settings import Settings
from tests.reliability.harness import PacedProducer, account, articles

pytestmark = pytest.mark.integration
ARTICLES = 40
READY_AFTER_S, EXIT_AFTER_S = 5.0, 20.0


def test_a_stuck_worker_turns_unready_then_exits_and_a_restart_drains(
    scenario_settings: Settings,
    start_worker: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_TAGGER_HANG_ON", "STUCK")  # tagging these never comes back
    stuck = start_worker(stall_ready_s=READY_AFTER_S, stall_exit_s=EXIT_AFTER_S)
    records = articles("stall", ARTICLES, marker="STUCK")
    producer = PacedProducer(scenario_settings, records, rate=200)
    producer.start()
    producer.join(timeout=60)
    assert producer.errors == [] and producer.sent == ARTICLES

    sent_at, unready = time.monotonic(), None
    while unready is None and time.monotonic() < sent_at + 30:
        readiness = stuck.readiness() or {}
        if readiness.get("not_stalled") is False:
            unready = readiness
        time.sleep(0.5)
    assert unready is not None, f"/ready never said stalled; see {stuck.log_file}"
    noticed_s = time.monotonic() - sent_at
    print(f"\nstalled worker unready {noticed_s:.1f} s after its input arrived")
    assert noticed_s <= READY_AFTER_S + 2 * SAMPLE_S + 1  # the limit, one look late at most
    assert unready["ready"] is False and unready["broker_connected"] is True
    assert unready["stalled_partitions"] and all(
        s >= READY_AFTER_S for s in unready["stalled_partitions"].values()
    )
    assert stuck.wait_exit(timeout_s=EXIT_AFTER_S + 20) == EXIT_STALLED
    assert "no commit for" in stuck.log_file.read_text(encoding="utf-8")

    monkeypatch.delenv("FAKE_TAGGER_HANG_ON")
    restarted = start_worker(stall_ready_s=READY_AFTER_S)  # what a supervisor does
    outcome = account(scenario_settings, (k for k, _ in records))
    assert outcome.lost == [] and outcome.dead_lettered == 0
    time.sleep(3 * READY_AFTER_S)  # caught up and idle: committed, nothing waiting, no stall
    assert restarted.ready(), restarted.readiness()
